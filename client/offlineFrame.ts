// The last recorded frame of an offline camera, so its tile shows where it looked rather than
// black: the timeline gives the newest recorded instant (and when the camera went offline), a
// playback window's token serves the one-frame MP4 preview of the keyframe at or before it
// (client/preview.ts decodes the same for the timeline's hover), and a hidden <video> outside the
// page decodes it onto a canvas. Only for cameras the user may play back; one decode at a time,
// each camera's result kept for a while (an offline camera's last frame does not change).
import { api } from './api.ts';

/** What an offline tile shows: the frame and when it was recorded, and since when the camera is offline (when known). */
export interface LastFrame {
  canvas: HTMLCanvasElement;
  atMs: number;
  offlineSinceMs?: number;
}

/** How far back the newest recording is looked for (the timeline's longest range is 31 days). */
const LOOK_BACK_MS = 30 * 24 * 3600_000;
/**
 * A frame found is kept this long (it cannot change while the camera stays offline; a camera seen
 * live again is forgotten at once); "none" is asked again sooner. Each lookup opens a playback
 * window, which the audit log records, so it is not repeated needlessly.
 */
const KEEP_FRAME_MS = 30 * 60_000;
const KEEP_NONE_MS = 5 * 60_000;
const DECODE_TIMEOUT_MS = 8_000;
const MAX_WIDTH = 640;

export class LastFrames {
  readonly #results = new Map<string, { at: number; found: boolean; frame: Promise<LastFrame | null> }>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** The camera's last recorded frame, or null when none is known (nothing recorded, no right, an error). */
  get(cameraId: string): Promise<LastFrame | null> {
    const kept = this.#results.get(cameraId);
    if (kept && performance.now() - kept.at < (kept.found ? KEEP_FRAME_MS : KEEP_NONE_MS)) return kept.frame;
    // Decodes run one after another: a wall of offline cameras does not start 25 at once.
    const frame = this.#queue.then(() => (this.#closed ? null : this.#load(cameraId))).catch((err: unknown) => {
      console.debug(`no last frame for camera ${cameraId}`, err);
      return null;
    });
    this.#queue = frame;
    const entry = { at: performance.now(), found: false, frame };
    this.#results.set(cameraId, entry);
    void frame.then((f) => (entry.found = f !== null));
    return frame;
  }

  /** The camera was seen live: its next offline spell has a newer last frame. */
  forget(cameraId: string): void {
    this.#results.delete(cameraId);
  }

  close(): void {
    this.#closed = true;
    this.#results.clear();
  }

  async #load(cameraId: string): Promise<LastFrame | null> {
    const now = Date.now();
    const timeline = await api.timeline(cameraId, now - LOOK_BACK_MS, now);
    const lastMs = timeline.liveEdgeMs ?? timeline.spans.at(-1)?.toMs;
    if (lastMs === undefined) return null;
    // "Offline since": the newest camera-offline event, unless it came online again after it.
    const lastEvent = timeline.events.filter((e) => e.kind === 'camera-offline' || e.kind === 'camera-online').at(-1);
    const offlineSinceMs = lastEvent?.kind === 'camera-offline' ? lastEvent.atMs : undefined;
    const window = await api.playback(cameraId, Math.max(0, lastMs - 60_000));
    const base = window.url.replace(/\/[^/]*$/, '');
    const res = await fetch(`${base}/preview.mp4?at=${Math.floor(lastMs)}`, { cache: 'force-cache', credentials: 'same-origin' });
    if (!res.ok) return null;
    const atMs = Number(res.headers.get('x-preview-at')) || lastMs;
    const canvas = await decode(await res.blob());
    if (!canvas) return null;
    return { canvas, atMs, ...(offlineSinceMs !== undefined ? { offlineSinceMs } : {}) };
  }
}

/** The first frame of a one-frame MP4 on a canvas (null: it did not decode). */
function decode(mp4: Blob): Promise<HTMLCanvasElement | null> {
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.preload = 'auto';
  const url = URL.createObjectURL(mp4);
  return new Promise<HTMLCanvasElement | null>((resolve) => {
    const finish = (canvas: HTMLCanvasElement | null) => {
      clearTimeout(timer);
      video.removeAttribute('src');
      video.load();
      URL.revokeObjectURL(url);
      resolve(canvas);
    };
    const timer = setTimeout(() => finish(null), DECODE_TIMEOUT_MS);
    video.addEventListener('error', () => finish(null), { once: true });
    video.addEventListener(
      'loadeddata',
      () => {
        if (!video.videoWidth) return finish(null);
        const scale = Math.min(1, MAX_WIDTH / video.videoWidth);
        const canvas = document.createElement('canvas');
        canvas.width = Math.round(video.videoWidth * scale);
        canvas.height = Math.round(video.videoHeight * scale);
        canvas.getContext('2d')?.drawImage(video, 0, 0, canvas.width, canvas.height);
        finish(canvas);
      },
      { once: true },
    );
    video.src = url;
  });
}
