// `window.__mimamori`: a small read-only view of the page's state for end-to-end tests and for
// support ("what does the page think?"), e.g. `__mimamori.tiles()` in the browser console.
export function exposeHook(hook: object): void {
  Object.defineProperty(window, '__mimamori', { value: hook, configurable: true, enumerable: false });
}
