// The socket.io connection to the signaling server (protocol: signaling/protocol.ts).
// It keeps itself connected: a lost connection (the server restarted, its node died, the network
// went away) or a failed attempt is retried here, with a fresh token each time and the short
// full-jitter RECONNECT_BACKOFF, so a page is back within about 2 s of the service answering
// again; a refused token goes to the page (sign in again, or fetch a fresh camera token); a
// request left unanswered means the connection is dead and it is replaced. Every (re)connection is
// a new peer on the server, so each 'connected' event means "join your cameras again"; requests
// never wait in a buffer for a future connection.
import { io, type Socket } from 'socket.io-client';
import { z } from 'zod';
import {
  deniedSchema,
  leavingSchema,
  notificationSchema,
  replyEnvelopeOf,
  replySchemas,
  type Denied,
  type DeniedCode,
  type ErrorBody,
  type Method,
  type Notification,
  type ReplyData,
  type Request,
} from '../signaling/protocol.ts';
import { isAuthFailure } from './api.ts';
import { Backoff, RECONNECT_BACKOFF, Timer } from './backoff.ts';
import { Emitter } from './emitter.ts';

export type RequestData<M extends Method> = Extract<Request, { method: M }>['data'];

export class SignalingError extends Error {
  override name = 'SignalingError';
  constructor(
    /** The server's error code, or 'disconnected' / 'timeout' / 'bad_reply' for local failures. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type SignalingState = 'connecting' | 'connected' | 'disconnected' | 'stopped';

export interface SignalingEvents {
  state: [SignalingState];
  /** A new connection is up: join every camera again. */
  connected: [];
  /**
   * The node of the connection is leaving and a new connection (another node) is up: join every
   * camera on it while what plays on the old one goes on; the old connection ends RETIRE_MS later.
   */
  switched: [];
  /** The connection is gone (every camera joined on it is gone on the server too). */
  disconnected: [reason: string];
  notification: [Notification];
  /**
   * The server removed this connection from a camera and asks not to retry (grant revoked, camera
   * deleted, camera connected elsewhere), or ended a kiosk display's or share link's access as a
   * whole (`kiosk_revoked`, `share_revoked`, `share_expired`; cameraId may then be '').
   */
  denied: [ClientDenied];
}

/** Codes that end a whole kiosk or share connection rather than one camera. */
export type AccessEndedCode = 'kiosk_revoked' | 'share_revoked' | 'share_expired';
export type ClientDenied = Omit<Denied, 'code'> & { code: DeniedCode | AccessEndedCode };

export interface SignalingOptions {
  /** The token for the next connection (a page may fetch a fresh one here). */
  getToken: () => string | Promise<string>;
  /**
   * The server refused the token. Return true to connect again with a fresh getToken()
   * (after backoff), false to stop (the page signs the user out).
   */
  onAuthFailure: (error: ErrorBody) => boolean | Promise<boolean>;
  requestTimeoutMs?: number;
}

/** A connection that lasted this long starts the backoff from the beginning again when it is lost. */
const STABLE_MS = 10_000;
/** After a switch, the old connection (and what still plays on it) ends this much later. */
const RETIRE_MS = 6_000;

/** The first field of a server message that breaks its schema, as the REST client words it. */
function unexpected(error: z.ZodError, what: string): string {
  const issue = error.issues[0];
  const field = issue?.path.length ? `${what}.${issue.path.map(String).join('.')}` : what;
  return `unexpected answer from the server (${field}: ${issue?.message ?? 'invalid'})`;
}

/**
 * A 'denied' this client cannot read (a newer server's code): the server took the camera away all
 * the same, so it counts as a revoked grant.
 */
const someDenied = z.object({ cameraId: z.string() });

/** connect_error messages from the server's auth middleware are JSON `{code, message}`. */
function parseConnectError(err: Error): ErrorBody | undefined {
  try {
    const body: unknown = JSON.parse(err.message);
    if (typeof body === 'object' && body !== null && typeof (body as ErrorBody).code === 'string') {
      return { code: (body as ErrorBody).code, message: String((body as ErrorBody).message ?? '') };
    }
  } catch {
    // A transport error ("xhr poll error", "websocket error", "timeout"): retried after the backoff.
  }
  return undefined;
}

export class Signaling extends Emitter<SignalingEvents> {
  #socket: Socket;
  /** The connection being made to another node while the current one's node leaves. */
  #next: Socket | undefined;
  readonly #retiring = new Set<Socket>();
  readonly #options: SignalingOptions;
  readonly #backoff = new Backoff(RECONNECT_BACKOFF);
  readonly #retry = new Timer();
  #state: SignalingState = 'disconnected';
  #connectedAt = 0;
  #stopped = false;
  /** Bumped by every own connection attempt, so a slow getToken() of an older one is ignored. */
  #generation = 0;
  readonly #onOnline = () => this.reconnectNow();

  constructor(options: SignalingOptions) {
    super();
    this.#options = options;
    this.#socket = this.#open();
    window.addEventListener('online', this.#onOnline);
  }

  /** A socket.io connection; its events count only while it is the current one (or the next). */
  #open(): Socket {
    const s = io({
      path: '/socket.io',
      // One websocket from the start: long-polling first and an upgrade later are two requests
      // that a load balancer without stickiness sends to two nodes (the second is refused).
      transports: ['websocket'],
      autoConnect: false,
      // Reconnecting is ours (#scheduleConnect): socket.io's own waits grow to 10 s, reuse the
      // last token and spread by only ±50 %, so a restarted service saw its pages come back over
      // the next 5–10 s.
      reconnection: false,
      // An attempt the far end never answers (a node cut off, not refusing) gives up this soon.
      timeout: 5_000,
      // A second connection while the first still runs (a switch): socket.io must not share one.
      forceNew: true,
    });
    s.on('connect', () => {
      if (s === this.#next) {
        this.#promote(s);
        return;
      }
      if (s !== this.#socket) return;
      this.#connectedAt = Date.now();
      this.#setState('connected');
      this.emit('connected');
    });
    s.on('disconnect', (reason) => {
      this.#retiring.delete(s);
      if (s === this.#next) this.#next = undefined;
      if (this.#stopped || s !== this.#socket) return;
      if (Date.now() - this.#connectedAt >= STABLE_MS) this.#backoff.reset();
      this.#setState('disconnected');
      this.emit('disconnected', reason);
      // 'io client disconnect' is ours: whoever disconnected decides what comes next. Anything
      // else (the server closed, restarted or died, the network went) is retried at once, spread
      // over the first backoff window: every page of a dead node is coming back at the same time.
      if (reason !== 'io client disconnect') this.#scheduleConnect();
    });
    s.on('connect_error', (err) => {
      if (s === this.#next) {
        // No other node took us: stay where we are; when this node goes, we connect again as usual.
        console.warn('could not connect to another node before this one leaves', err.message);
        this.#next = undefined;
        s.disconnect();
        return;
      }
      if (s === this.#socket) void this.#onConnectError(err);
    });
    s.on('notification', (raw: unknown) => {
      if (s !== this.#socket) return; // the old node's news: what plays there is about to end
      const n = notificationSchema.safeParse(raw);
      if (n.success) this.emit('notification', n.data);
      else console.warn(`ignored a notification: ${unexpected(n.error, 'notification')}`, raw);
    });
    s.on('denied', (raw: unknown) => {
      if (s !== this.#socket) return;
      const d = deniedSchema.safeParse(raw);
      if (d.success) {
        this.emit('denied', d.data);
        return;
      }
      console.warn(`denied: ${unexpected(d.error, 'denied')}`, raw);
      const some = someDenied.safeParse(raw);
      if (some.success) this.emit('denied', { cameraId: some.data.cameraId, code: 'grant_revoked', reason: '' });
    });
    s.on('leaving', (raw: unknown) => {
      if (s !== this.#socket) return;
      // Only the event counts (its reason is for logs): moving to a node that stays is always right.
      const leaving = leavingSchema.safeParse(raw);
      if (!leaving.success) console.warn(`leaving: ${unexpected(leaving.error, 'leaving')}`, raw);
      void this.#switch();
    });
    return s;
  }

  /** Make-before-break: a second connection through the load balancer (to a node that stays). */
  async #switch(): Promise<void> {
    if (this.#stopped || this.#next) return;
    const generation = this.#generation;
    let token: string;
    try {
      token = await this.#options.getToken();
    } catch (err) {
      console.warn('could not get a token to move to another node; staying until this one goes', err);
      return;
    }
    if (this.#stopped || generation !== this.#generation || !this.#socket.connected) return;
    const next = this.#open();
    this.#next = next;
    next.auth = { token };
    next.connect();
  }

  #promote(next: Socket): void {
    const old = this.#socket;
    this.#next = undefined;
    this.#socket = next;
    this.#retiring.add(old);
    this.#connectedAt = Date.now();
    setTimeout(() => {
      if (this.#retiring.has(old)) old.disconnect();
    }, RETIRE_MS);
    this.emit('switched');
  }

  get state(): SignalingState {
    return this.#state;
  }
  get connected(): boolean {
    return this.#socket.connected;
  }

  start(): void {
    if (this.#stopped) return;
    void this.#connect();
  }

  /** Drops the current connection (if any) and connects at once, e.g. when the network returns. */
  reconnectNow(): void {
    if (this.#stopped) return;
    this.#retry.clear();
    this.#backoff.reset();
    this.#next?.disconnect();
    this.#next = undefined;
    if (this.#socket.active) this.#socket.disconnect();
    void this.#connect();
  }

  /** Ends the connection for good (sign-out, page teardown). Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#generation += 1;
    this.#retry.clear();
    window.removeEventListener('online', this.#onOnline);
    this.#socket.disconnect();
    this.#next?.disconnect();
    for (const old of this.#retiring) old.disconnect();
    this.#setState('stopped');
    this.emit('disconnected', 'stopped');
    this.removeAllListeners();
  }

  /** Sends a request; resolves with its reply parsed with the method's schema (extra fields dropped). */
  request<M extends Method>(method: M, data: RequestData<M>, timeoutMs = this.#options.requestTimeoutMs ?? 10_000): Promise<ReplyData<M>> {
    const s = this.#socket;
    if (!s.connected) return Promise.reject(new SignalingError('disconnected', `${method}: not connected to the server`));
    return new Promise((resolve, reject) => {
      s.timeout(timeoutMs).emit('request', { method, data }, (err: Error | null, raw: unknown) => {
        if (err) {
          const alive = s.connected;
          reject(new SignalingError(alive ? 'timeout' : 'disconnected', `${method}: ${err.message}`));
          // The server answers every request: one left unanswered means the other end is gone
          // (a node cut off keeps a socket open until its pings time out, 45 s). Connect again,
          // through the load balancer to a node that answers.
          if (alive) {
            console.warn(`${method} got no answer in ${timeoutMs} ms; connecting again`);
            this.reconnectNow();
          }
          return;
        }
        // Transport and RTP parameters stay opaque here: mediasoup-client validates them when used.
        const reply = replyEnvelopeOf(replySchemas[method]).safeParse(raw);
        if (!reply.success) {
          reject(new SignalingError('bad_reply', `${method}: ${unexpected(reply.error, 'reply')}`));
        } else if (reply.data.ok) {
          // Parsed with `method`'s own schema; TypeScript cannot follow a generic key into the map.
          resolve(reply.data.data as ReplyData<M>);
        } else {
          const e = new SignalingError(reply.data.error.code, reply.data.error.message);
          if (isAuthFailure(e.code)) void this.#onAuthFailure(reply.data.error);
          reject(e);
        }
      });
    });
  }

  #setState(state: SignalingState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.emit('state', state);
  }

  async #connect(): Promise<void> {
    if (this.#stopped || this.#socket.connected) return;
    const generation = ++this.#generation;
    this.#retry.clear();
    this.#setState('connecting');
    let token: string;
    try {
      // A token at hand connects now, before the caller goes on to build its page and send its
      // other requests: on a cold start the socket's handshake is what the first video waits for.
      const got = this.#options.getToken();
      token = typeof got === 'string' ? got : await got;
    } catch (err) {
      if (generation !== this.#generation || this.#stopped) return;
      console.warn('could not get a token to connect with; retrying', err);
      this.#setState('disconnected');
      this.#scheduleConnect();
      return;
    }
    if (generation !== this.#generation || this.#stopped) return;
    this.#socket.auth = { token };
    this.#socket.connect();
  }

  #scheduleConnect(): void {
    if (this.#stopped || this.#retry.pending) return;
    this.#retry.set(this.#backoff.next(), () => void this.#connect());
  }

  async #onConnectError(err: Error): Promise<void> {
    if (this.#stopped) return;
    const body = parseConnectError(err);
    if (body && isAuthFailure(body.code)) {
      await this.#onAuthFailure(body);
    } else {
      // The service is down or unreachable, or its middleware refused us for another reason.
      this.#setState('disconnected');
      this.#scheduleConnect();
    }
  }

  async #onAuthFailure(body: ErrorBody): Promise<void> {
    // Drop the connection (or the attempt) with the refused token before asking the page.
    const generation = ++this.#generation;
    this.#socket.disconnect();
    let retry = false;
    try {
      retry = await this.#options.onAuthFailure(body);
    } catch (err) {
      console.error('onAuthFailure failed', err);
    }
    if (this.#stopped || generation !== this.#generation) return;
    if (retry) {
      this.#setState('disconnected');
      this.#scheduleConnect();
    } else {
      this.stop();
    }
  }
}
