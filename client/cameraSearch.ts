// Finding a camera by name as it is typed, in Japanese or English, over the list already loaded:
// names are normalised once per list (NFKC folds half-width kana and full-width letters, then lower
// case, then katakana to hiragana, so カメラ, かめら and ｶﾒﾗ are one word), and each keystroke is
// a substring test per camera — a thousand cameras take well under a millisecond.
import type { Camera } from './api.ts';

/** What a camera needs to be found and filtered. */
export type SearchCamera = Pick<Camera, 'id' | 'name' | 'live'> & { state?: CameraState };
export type CameraState = 'live' | 'offline' | 'not_recording';

/** The live view's filters: each narrows the list to cameras in that condition (several: any of them). */
export type CameraFilter = 'offline' | 'notRecording' | 'alerts';
export const CAMERA_FILTERS: readonly CameraFilter[] = ['offline', 'notRecording', 'alerts'];

const KATAKANA_FIRST = 0x30a1; // ァ
const KATAKANA_LAST = 0x30f6; // ヶ
const KANA_OFFSET = 0x60; // ァ (U+30A1) − ぁ (U+3041)

/** The form names are compared in: NFKC, lower case, katakana as hiragana, runs of spaces as one. */
export function normaliseName(text: string): string {
  const folded = text.normalize('NFKC').toLowerCase();
  let out = '';
  for (const ch of folded) {
    const code = ch.codePointAt(0)!;
    out += code >= KATAKANA_FIRST && code <= KATAKANA_LAST ? String.fromCodePoint(code - KANA_OFFSET) : ch;
  }
  return out.replace(/\s+/g, ' ').trim();
}

/** A camera's state as the lists show it: the server's when it sends one, else from `live`. */
export function stateOf(camera: SearchCamera): CameraState {
  return camera.state ?? (camera.live ? 'live' : 'offline');
}

/** The loaded cameras with their names normalised once; query() narrows them per keystroke. */
export class CameraIndex<C extends SearchCamera> {
  readonly #entries: { camera: C; key: string }[];

  constructor(cameras: readonly C[]) {
    this.#entries = cameras.map((camera) => ({ camera, key: normaliseName(camera.name) }));
  }

  get size(): number {
    return this.#entries.length;
  }

  /**
   * Cameras whose name holds every word of `text` (in any order), and that pass `filters`
   * (`alerting`: ids the recorder raised an alert for). Names starting with the first word come first.
   */
  query(text: string, filters: ReadonlySet<CameraFilter> = new Set(), alerting: ReadonlySet<string> = new Set()): C[] {
    const words = normaliseName(text).split(' ').filter(Boolean);
    const first = words[0] ?? '';
    const starts: C[] = [];
    const contains: C[] = [];
    for (const { camera, key } of this.#entries) {
      if (!words.every((w) => key.includes(w))) continue;
      if (!passes(camera, filters, alerting)) continue;
      (first && key.startsWith(first) ? starts : contains).push(camera);
    }
    return starts.concat(contains);
  }
}

/** Whether a camera passes the filters (none chosen: every camera does). */
export function passes(camera: SearchCamera, filters: ReadonlySet<CameraFilter>, alerting: ReadonlySet<string>): boolean {
  if (filters.size === 0) return true;
  const state = stateOf(camera);
  return (
    (filters.has('offline') && state === 'offline') ||
    (filters.has('notRecording') && state === 'not_recording') ||
    (filters.has('alerts') && (state === 'not_recording' || alerting.has(camera.id)))
  );
}
