// Preview frames for the timeline's hover: `<play url base>/preview.mp4?at=ms` is a one-frame MP4,
// decoded in a hidden <video> and copied to a small canvas. Frames are cached by snapped time (a
// bounded LRU, so hovering for hours does not grow memory), one decode runs at a time and only the
// newest request waits behind it (moving the pointer quickly skips what it passed).
import { Timer } from './backoff.ts';

export const PREVIEW_WIDTH = 160;
export const PREVIEW_HEIGHT = 90;
const CACHE_SIZE = 120;
const DECODE_TIMEOUT_MS = 6_000;
/** At most one preview request starts per this interval. */
const THROTTLE_MS = 120;

/** A decoded frame, or null when nothing is recorded there. */
export type PreviewFrame = HTMLCanvasElement | null;

interface Pending {
  key: number;
  atMs: number;
  base: string;
  done: (frame: PreviewFrame) => void;
}

export class PreviewFrames {
  readonly #cache = new Map<number, PreviewFrame>();
  readonly #video: HTMLVideoElement;
  readonly #throttle = new Timer();
  readonly #timeout = new Timer();
  #busy = false;
  #queued: Pending | null = null;
  #lastStart = 0;
  #closed = false;
  #decoded = 0;

  constructor() {
    this.#video = document.createElement('video');
    this.#video.muted = true;
    this.#video.playsInline = true;
    this.#video.preload = 'auto';
  }

  /** Frames decoded so far (for tests). */
  get decoded(): number {
    return this.#decoded;
  }

  /** A cached frame (undefined: not asked yet). */
  cached(atMs: number, snapMs: number): PreviewFrame | undefined {
    return this.#cache.get(Math.floor(atMs / snapMs) * snapMs);
  }

  /**
   * The frame near `atMs` (snapped down to `snapMs`), from the cache or decoded from `base`.
   * `done` runs once, unless a newer request replaced this one before it started.
   */
  request(base: string, atMs: number, snapMs: number, done: (frame: PreviewFrame) => void): void {
    if (this.#closed) return;
    const key = Math.floor(atMs / snapMs) * snapMs;
    if (this.#cache.has(key)) {
      const frame = this.#cache.get(key) ?? null;
      // Most recently used goes to the end.
      this.#cache.delete(key);
      this.#cache.set(key, frame);
      done(frame);
      return;
    }
    this.#queued = { key, atMs: key, base, done };
    this.#pump();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queued = null;
    this.#throttle.clear();
    this.#timeout.clear();
    this.#video.removeAttribute('src');
    this.#video.load();
    this.#cache.clear();
  }

  #pump(): void {
    if (this.#busy || this.#throttle.pending || !this.#queued || this.#closed) return;
    const wait = this.#lastStart + THROTTLE_MS - performance.now();
    if (wait > 0) {
      this.#throttle.set(wait, () => this.#pump());
      return;
    }
    const job = this.#queued;
    this.#queued = null;
    this.#busy = true;
    this.#lastStart = performance.now();
    void this.#decode(job).then((frame) => {
      this.#busy = false;
      if (this.#closed) return;
      if (frame !== undefined) {
        this.#remember(job.key, frame);
        job.done(frame);
      }
      this.#pump();
    });
  }

  /** undefined: failed for a reason worth trying again later (time-out, network). */
  #decode(job: Pending): Promise<PreviewFrame | undefined> {
    const video = this.#video;
    return new Promise((resolve) => {
      const finish = (frame: PreviewFrame | undefined) => {
        video.removeEventListener('loadeddata', onData);
        video.removeEventListener('error', onError);
        this.#timeout.clear();
        resolve(frame);
      };
      const onData = () => {
        const canvas = document.createElement('canvas');
        canvas.width = PREVIEW_WIDTH;
        canvas.height = PREVIEW_HEIGHT;
        const ctx = canvas.getContext('2d');
        if (ctx && video.videoWidth > 0) {
          // Letterboxed into 16:9.
          const scale = Math.min(PREVIEW_WIDTH / video.videoWidth, PREVIEW_HEIGHT / video.videoHeight);
          const w = video.videoWidth * scale;
          const hgt = video.videoHeight * scale;
          ctx.fillStyle = '#000';
          ctx.fillRect(0, 0, PREVIEW_WIDTH, PREVIEW_HEIGHT);
          ctx.drawImage(video, (PREVIEW_WIDTH - w) / 2, (PREVIEW_HEIGHT - hgt) / 2, w, hgt);
          this.#decoded += 1;
          finish(canvas);
        } else finish(undefined);
      };
      // A 404 (no recording there) and an undecodable file both end here: remembered as "none".
      const onError = () => finish(null);
      video.addEventListener('loadeddata', onData);
      video.addEventListener('error', onError);
      this.#timeout.set(DECODE_TIMEOUT_MS, () => finish(undefined));
      video.src = `${job.base}/preview.mp4?at=${Math.floor(job.atMs)}`;
      video.currentTime = 0;
    });
  }

  #remember(key: number, frame: PreviewFrame): void {
    this.#cache.set(key, frame);
    while (this.#cache.size > CACHE_SIZE) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#cache.delete(oldest);
    }
  }
}
