// A WHEP viewer that follows the camera: it listens to its session's server-sent events (the WHEP
// extension, with the `reconnect` event proposed for it) and, told to reconnect (its node drains,
// the camera moved to another node), opens a second session through the same endpoint while the
// first still plays, switches at the new one's first whole frame and only then ends the old one:
// make-before-break, no frozen picture. A session that ends or stalls without a word is replaced too.
import { EventEmitter } from 'node:events';
import { CameraError } from './errors.ts';
import { Viewer, type ReceivedFrame, type ViewerOptions } from './Viewer.ts';

export interface FollowingViewerEvents {
  frame: [frame: ReceivedFrame];
  /** Now playing a new session; `ms` from the hint (or the old session's end) to its first frame. */
  switched: [info: { reason: string; ms: number }];
}

/** How long a new session has for its first whole frame before another is tried. */
const FIRST_FRAME_MS = 5000;
/**
 * A session without a frame this long is replaced even without a hint: a server that cannot
 * tell (an older release, a node that died) may end a session in a way the peer connection
 * does not notice for many seconds.
 */
const STALL_MS = 2000;
const ATTEMPTS = 5;
/** Each step of a new session (gathering, the POST, ICE and DTLS) at most this long. */
const RECONNECT_TIMEOUT_MS = 3000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class FollowingViewer extends EventEmitter<FollowingViewerEvents> {
  readonly #options: ViewerOptions;
  #current: Viewer;
  #listening: AbortController | undefined;
  #switching = false;
  #closed = false;
  #switches = 0;
  #lastFrameAt = Date.now();
  readonly #watchdog: NodeJS.Timeout;

  /** Opens the first session (as Viewer.create) and starts listening for `reconnect`. */
  static async create(options: ViewerOptions): Promise<FollowingViewer> {
    return new FollowingViewer(options, await Viewer.create(options));
  }

  private constructor(options: ViewerOptions, first: Viewer) {
    super();
    this.#options = options;
    this.#current = first;
    this.#adopt(first);
    this.#watchdog = setInterval(() => {
      if (!this.#switching && !this.#closed && Date.now() - this.#lastFrameAt > STALL_MS) void this.#reconnect('stalled');
    }, 250);
    this.#watchdog.unref();
  }

  /** The session playing now. */
  get viewer(): Viewer {
    return this.#current;
  }

  /** Sessions it moved to since the first. */
  get switches(): number {
    return this.#switches;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#watchdog);
    this.#listening?.abort();
    await this.#current.close();
  }

  #adopt(viewer: Viewer): void {
    this.#current = viewer;
    this.#lastFrameAt = Date.now();
    viewer.on('frame', (frame) => {
      if (this.#current !== viewer) return;
      this.#lastFrameAt = Date.now();
      this.emit('frame', frame);
    });
    viewer.once('closed', () => {
      if (this.#current === viewer && !this.#closed) void this.#reconnect('session_ended');
    });
    this.#listening?.abort();
    const listening = new AbortController();
    this.#listening = listening;
    void this.#listen(viewer, listening.signal);
  }

  /** Subscribes to the session's events (when offered) and waits for `reconnect`. */
  async #listen(viewer: Viewer, signal: AbortSignal): Promise<void> {
    const events = viewer.events;
    if (!events?.offered.includes('reconnect')) return;
    const auth = { authorization: `Bearer ${this.#options.token}` };
    let stream: string | undefined;
    let pause = 500;
    while (!signal.aborted) {
      try {
        if (!stream) {
          const res = await fetch(events.url, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '["reconnect"]', signal });
          await res.arrayBuffer();
          const location = res.headers.get('location');
          if (res.status !== 201 || !location) return; // not offered after all: no hints, the session's end is the signal
          stream = new URL(location, events.url).toString();
        }
        const res = await fetch(stream, { headers: { ...auth, accept: 'text/event-stream' }, signal });
        if (res.status === 404) return; // the session is gone
        if (!res.ok || !res.body) throw new CameraError('events_failed', `GET ${stream} answered ${res.status}`);
        pause = 500;
        for await (const event of serverSentEvents(res.body)) {
          if (event.event !== 'reconnect') continue;
          const data = JSON.parse(event.data || '{}') as { url?: unknown; reason?: unknown };
          const url = typeof data.url === 'string' ? new URL(data.url, events.url).toString() : undefined;
          void this.#reconnect(typeof data.reason === 'string' ? data.reason : 'reconnect', url);
          return;
        }
        // The stream ended without a word (the node serving it stopped): listen again, elsewhere.
      } catch {
        if (signal.aborted) return;
      }
      await sleep(pause);
      pause = Math.min(pause * 2, 5000);
    }
  }

  /** Make-before-break: a new session plays before the current one ends. */
  async #reconnect(reason: string, url?: string): Promise<void> {
    if (this.#switching || this.#closed) return;
    this.#switching = true;
    const startedAt = Date.now();
    try {
      for (let attempt = 0; attempt < ATTEMPTS && !this.#closed; attempt++) {
        let next: Viewer | undefined;
        try {
          // A node that is going away may take the offer and never connect: give up on it soon.
          next = await Viewer.create({ ...this.#options, whepUrl: url ?? this.#options.whepUrl, connectTimeoutMs: Math.min(this.#options.connectTimeoutMs ?? RECONNECT_TIMEOUT_MS, RECONNECT_TIMEOUT_MS) });
          await next.waitForFrames(1, FIRST_FRAME_MS);
        } catch {
          await next?.close('no_first_frame');
          await sleep(250 * (attempt + 1));
          continue;
        }
        if (this.#closed) {
          await next.close();
          return;
        }
        const old = this.#current;
        this.#adopt(next);
        this.#switches += 1;
        this.emit('switched', { reason, ms: Date.now() - startedAt });
        void old.close('moved');
        return;
      }
    } finally {
      this.#switching = false;
    }
  }
}

/** The events of a text/event-stream body (comments and fields other than event/data ignored). */
async function* serverSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length || event !== 'message') yield { event, data: data.join('\n') };
    }
  }
}
