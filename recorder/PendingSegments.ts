// Segments on the spool that the index does not list yet: the one being written (its fragments
// so far) and finished ones waiting for upload. Playback reads them from the spool, so a viewer
// reaches the live edge instead of stopping where the last upload ended.

import type { SegmentEntry } from './RecordingIndex.ts';

export interface PendingSegment {
  cameraId: string;
  /** Where the bytes are now; `.part` while written, `.seg` once finished. */
  file: string;
  entry: SegmentEntry;
  /** Still being written: more fragments will follow. */
  open: boolean;
}

interface Source {
  cameraId: string;
  file: string;
  snapshot: () => SegmentEntry;
  open: boolean;
}

export class PendingSegments {
  readonly #byKey = new Map<string, Source>();

  opened(cameraId: string, key: string, file: string, snapshot: () => SegmentEntry): void {
    this.#byKey.set(key, { cameraId, file, snapshot, open: true });
  }

  finished(cameraId: string, file: string, entry: SegmentEntry): void {
    this.#byKey.set(entry.key, { cameraId, file, snapshot: () => entry, open: false });
  }

  /** Uploaded (the index has it now), dropped or discarded. */
  removed(key: string): void {
    this.#byKey.delete(key);
  }

  /** The camera's pending segments, oldest first. */
  list(cameraId: string): PendingSegment[] {
    const out: PendingSegment[] = [];
    for (const s of this.#byKey.values()) {
      if (s.cameraId !== cameraId) continue;
      const entry = s.snapshot();
      if (entry.fragments.length > 0) out.push({ cameraId, file: s.file, entry, open: s.open });
    }
    return out.sort((a, b) => a.entry.startMs - b.entry.startMs);
  }

  /**
   * Every camera's pending segments in one pass (the health page reads all cameras at once;
   * `list` per camera would walk every camera's segments each time), oldest first.
   */
  byCamera(): Map<string, PendingSegment[]> {
    const out = new Map<string, PendingSegment[]>();
    for (const s of this.#byKey.values()) {
      const entry = s.snapshot();
      if (entry.fragments.length === 0) continue;
      let list = out.get(s.cameraId);
      if (!list) out.set(s.cameraId, (list = []));
      list.push({ cameraId: s.cameraId, file: s.file, entry, open: s.open });
    }
    for (const list of out.values()) list.sort((a, b) => a.entry.startMs - b.entry.startMs);
    return out;
  }

  get(key: string): PendingSegment | undefined {
    const s = this.#byKey.get(key);
    return s ? { cameraId: s.cameraId, file: s.file, entry: s.snapshot(), open: s.open } : undefined;
  }

  dropCamera(cameraId: string): void {
    for (const [key, s] of this.#byKey) if (s.cameraId === cameraId) this.#byKey.delete(key);
  }
}
