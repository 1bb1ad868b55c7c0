// localStorage / sessionStorage that never throw (storage can be disabled or full, e.g. in some
// private browsing modes); settings then simply last for this page only.
function safe(kind: 'localStorage' | 'sessionStorage') {
  const area = (): Storage | undefined => {
    try {
      return window[kind];
    } catch {
      return undefined;
    }
  };
  return {
    get(key: string): string | null {
      try {
        return area()?.getItem(key) ?? null;
      } catch {
        return null;
      }
    },
    set(key: string, value: string): void {
      try {
        area()?.setItem(key, value);
      } catch {
        // Not remembered; the setting still applies to this page.
      }
    },
    remove(key: string): void {
      try {
        area()?.removeItem(key);
      } catch {
        // Nothing stored to remove.
      }
    },
  };
}

/** Remembered settings (language, time zone, grid layout). */
export const storage = safe('localStorage');
/** The signed-in session (per browser tab, gone when the tab closes). */
export const session = safe('sessionStorage');
