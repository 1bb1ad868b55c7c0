// A camera that keeps publishing, as `mimamori camera` runs it: exchange the secret for a publish
// token, publish one Camera session, and when that session ends by itself (the server fell
// silent: it was killed, restarted, or its node died behind the load balancer) publish again at
// once, retrying with a short full-jitter backoff until the service answers. One Camera per
// attempt, at most one at a time; a wrong id or secret stops it, since retrying cannot help.
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Backoff, RECONNECT_BACKOFF, type BackoffOptions } from '../client/backoff.ts';
import { Camera, type CameraClosedInfo, type CameraOptions } from './Camera.ts';
import { FixtureError, WhipError } from './errors.ts';
import { pollMove, requestPublishToken } from './whip.ts';

export interface PublisherOptions {
  /** The service (through the load balancer, if there is one), e.g. `https://cams.example.com`. */
  url: string;
  cameraId: string;
  secret: string;
  /** Settings of every session; the WHIP URL, the token and the remaining seconds are filled in. */
  camera?: Omit<CameraOptions, 'whipUrl' | 'token' | 'seconds'>;
  /** Publish for this long in all (wall clock from create()), then close with 'ended'. Default Infinity. */
  seconds?: number;
  /** Delays between attempts. Default RECONNECT_BACKOFF: the first within 250 ms, doubling to 2 s, full jitter. */
  backoff?: BackoffOptions;
  /** Limit for the publish-token request. Default 5000. */
  requestTimeoutMs?: number;
}

export type PublisherState = 'connecting' | 'live' | 'retrying' | 'closed';

export interface PublisherClosedInfo {
  /**
   * 'closed': close() was called; 'ended': `seconds` are over; 'refused': retrying cannot help
   * (wrong camera id or secret, camera deleted, no ffmpeg for the fixtures); 'failed': a bug
   * (an event listener threw). `error` says which.
   */
  reason: 'closed' | 'ended' | 'refused' | 'failed';
  error?: Error;
}

export interface PublisherEvents {
  /** A session is up: the first one, or a new one after a loss. */
  live: [camera: Camera];
  /** The service asked the camera to move (a drain): this new session is live, the old one ends. */
  moved: [camera: Camera];
  /** The session closed by itself (the server is gone or unreachable); publishing again now. */
  lost: [info: CameraClosedInfo];
  /** An attempt failed; the next one starts after `delayMs`. */
  retry: [error: Error, delayMs: number];
  closed: [info: PublisherClosedInfo];
}

/** A moved camera's old session is ended here if its node has not ended it by then. */
const RETIRE_AFTER_MS = 15_000;

/** A session that lasted this long starts the backoff from the beginning again. */
const STABLE_MS = 10_000;

/** 4xx answers other than timeouts and rate limits will not change by retrying; nor will a missing ffmpeg. */
function isRefusal(err: unknown): boolean {
  if (err instanceof WhipError) return err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429;
  return err instanceof FixtureError || err instanceof TypeError;
}

export class Publisher extends EventEmitter<PublisherEvents> {
  readonly #options: PublisherOptions;
  readonly #endAt: number;
  /** Old sessions after a move, until their node ends them. */
  readonly #retiring = new Set<Camera>();
  readonly #backoff: Backoff;
  readonly #requestTimeoutMs: number;
  readonly #done: Promise<PublisherClosedInfo>;
  #state: PublisherState = 'connecting';
  #camera: Camera | undefined;
  #sessions = 0;
  /** Set by close(): the loop ends at its next step. */
  #stop: PublisherClosedInfo | undefined;
  /** Cuts the current wait (backoff or session) short. */
  #wake: () => void = () => undefined;

  /** Starts publishing at once; see the events for how it goes. */
  static create(options: PublisherOptions): Publisher {
    if (typeof options?.url !== 'string' || !URL.canParse(options.url)) throw new TypeError('url must be an absolute URL');
    if (typeof options.cameraId !== 'string' || !options.cameraId) throw new TypeError('cameraId must be a non-empty string');
    if (typeof options.secret !== 'string' || !options.secret) throw new TypeError('secret must be a non-empty string');
    if (options.seconds !== undefined && !(options.seconds > 0)) throw new TypeError(`seconds must be > 0 or Infinity (got ${options.seconds})`);
    return new Publisher(options);
  }

  private constructor(options: PublisherOptions) {
    super();
    this.#options = options;
    this.#endAt = Date.now() + (options.seconds ?? Infinity) * 1000;
    this.#backoff = new Backoff(options.backoff ?? RECONNECT_BACKOFF);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.#done = this.#run();
  }

  get state(): PublisherState {
    return this.#state;
  }

  /** The live session, if there is one (closing it yourself counts as a loss: a new one follows). */
  get camera(): Camera | undefined {
    return this.#camera;
  }

  /** Sessions that went live so far. */
  get sessions(): number {
    return this.#sessions;
  }

  /** Resolves (never rejects) once the publisher has closed, with the reason. */
  finished(): Promise<PublisherClosedInfo> {
    return this.#done;
  }

  /** Stops publishing: closes the live session (DELETE) or ends the wait. Idempotent; never throws. */
  async close(): Promise<void> {
    this.#stop ??= { reason: 'closed' };
    this.#wake();
    await this.#done;
  }

  async #run(): Promise<PublisherClosedInfo> {
    let info: PublisherClosedInfo;
    try {
      info = await this.#loop();
    } catch (err) {
      info = { reason: 'failed', error: err instanceof Error ? err : new Error(String(err)) };
    }
    await this.#camera?.close();
    this.#camera = undefined;
    await Promise.all([...this.#retiring].map((c) => c.close()));
    this.#state = 'closed';
    this.emit('closed', info);
    return info;
  }

  async #loop(): Promise<PublisherClosedInfo> {
    const o = this.#options;
    const whipUrl = `${o.url.replace(/\/+$/, '')}/whip/${encodeURIComponent(o.cameraId)}`;
    while (!this.#stop) {
      const remainingMs = this.#endAt - Date.now();
      if (remainingMs <= 0) return { reason: 'ended' };
      let camera: Camera;
      try {
        const token = await requestPublishToken(o.url, o.cameraId, o.secret, this.#requestTimeoutMs);
        if (this.#stop) break;
        camera = await Camera.create({ ...o.camera, whipUrl, token, seconds: remainingMs / 1000 });
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        if (isRefusal(error)) return { reason: 'refused', error };
        const delayMs = this.#backoff.next();
        this.#state = 'retrying';
        this.emit('retry', error, delayMs);
        await this.#sleep(delayMs);
        continue;
      }
      if (this.#stop) {
        await camera.close();
        break;
      }

      this.#camera = camera;
      this.#sessions += 1;
      this.#state = 'live';
      this.emit('live', camera);
      const startedAt = performance.now();
      let end: { kind: 'lost'; info: CameraClosedInfo } | { kind: 'ended' | 'stop' | 'move' };
      for (;;) {
        const current: Camera = camera;
        const watching = new AbortController();
        end = await new Promise<typeof end>((resolve) => {
          current.once('closed', (info) => resolve({ kind: 'lost', info }));
          current.once('ended', () => resolve({ kind: 'ended' }));
          this.#wake = () => resolve({ kind: 'stop' });
          void this.#watchMove(whipUrl, current, watching.signal).then((move) => move && resolve({ kind: 'move' }));
        });
        watching.abort();
        this.#wake = () => undefined;
        if (end.kind !== 'move' || this.#stop) break;
        // Make-before-break: the new session goes live (through the load balancer, on another
        // node) while this one still publishes; then this one ends.
        const next = await this.#publishAgain(whipUrl).catch((error: unknown) => {
          this.emit('retry', error instanceof Error ? error : new Error(String(error)), 0);
          return undefined;
        });
        if (!next) {
          // Keep this session; ask again in a moment (the node ends it itself when it must).
          await this.#sleep(1000);
          continue;
        }
        camera = next;
        this.#camera = next;
        this.#sessions += 1;
        this.emit('moved', next);
        // The old node ends the old session itself once the new node records (from a keyframe
        // that may be a second away): ending it here first would leave that second unrecorded.
        this.#retiring.add(current);
        const retire = setTimeout(() => void current.close(), RETIRE_AFTER_MS);
        current.once('closed', () => {
          clearTimeout(retire);
          this.#retiring.delete(current);
        });
      }
      if (end.kind !== 'lost') {
        await camera.close();
        this.#camera = undefined;
        if (end.kind === 'ended') return { reason: 'ended' };
        break;
      }
      this.#camera = undefined;
      if (performance.now() - startedAt >= STABLE_MS) this.#backoff.reset();
      this.#state = 'retrying';
      this.emit('lost', end.info);
      // Publish again at once, spread over the first backoff window (many cameras lost this node).
      await this.#sleep(this.#backoff.next());
    }
    return this.#stop ?? { reason: 'closed' };
  }

  /** A new session of the camera (after a move request), or throws. */
  async #publishAgain(whipUrl: string): Promise<Camera> {
    const o = this.#options;
    const token = await requestPublishToken(o.url, o.cameraId, o.secret, this.#requestTimeoutMs);
    return Camera.create({ ...o.camera, whipUrl, token, seconds: Math.max(1, (this.#endAt - Date.now()) / 1000) });
  }

  /**
   * Resolves true when the service asks this session to move (its node drains); false when the
   * session is gone or was superseded. Polls through the load balancer, so any node answers.
   */
  async #watchMove(whipUrl: string, camera: Camera, signal: AbortSignal): Promise<boolean> {
    const epoch = camera.epoch;
    if (epoch === undefined) return false; // a server that does not move cameras
    while (!signal.aborted) {
      try {
        const answer = await pollMove(whipUrl, this.#options.secret, epoch, signal);
        if (answer.move) return true;
        if (answer.superseded) return false;
      } catch {
        if (signal.aborted) return false;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    return false;
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stop) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      this.#wake = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    }).then(() => {
      this.#wake = () => undefined;
    });
  }
}
