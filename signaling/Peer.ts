// One socket.io connection: a camera publishing or a viewer watching one or more cameras.
// Every request is parsed, then checked against the caller's grant, before it reaches the SFU.
import type { types } from 'mediasoup';
import type { Socket } from 'socket.io';
import type { z } from 'zod';
import type { CameraRoom } from '../sfu/index.ts';
import type { Claims } from './auth.ts';
import { accessOfClaims } from './access.ts';
import { assertSessionActive, auditEvent } from './middleware.ts';
import type { Deps } from './context.ts';
import { ApiError, forbidden, notFound, toErrorBody, tokenExpired } from './errors.ts';
import type { Connection } from './Hub.ts';
import type { Change } from './store/index.ts';
import {
  MAX_MESSAGE_BYTES,
  eventSchemas,
  replyEnvelopeOf,
  replySchemas,
  requestSchema,
  type DeniedCode,
  type EventName,
  type IceServer,
  type Method,
  type Notification,
  type Reply,
  type ReplyData,
  type Request,
} from './protocol.ts';
import { checkAnswer, describeIssues } from './wire/index.ts';
import { clientAddress, trustedProxies } from './clientAddress.ts';

interface Joined {
  room: CameraRoom;
  role: 'camera' | 'viewer';
  /** The camera's epoch this connection took (a camera's join). */
  epoch?: number;
  /** Removes this peer's listeners from the room. */
  detach: () => void;
}

/** Token bucket: a misbehaving client cannot flood the SFU with requests. */
const RATE = { perSecond: 50, burst: 200 };

type RequestData<M extends Method> = Extract<Request, { method: M }>['data'];
/** One handler per request method, each held by the compiler to its method's documented reply. */
type RequestHandlers = { [M in Method]: (data: RequestData<M>) => Promise<ReplyData<M>> };

/** What an ack of each method may carry, built once: with MIMAMORI_CHECK_ANSWERS=1 every ok reply is checked against it. */
const REPLY_ENVELOPES = new Map<string, z.ZodType>(Object.entries(replySchemas).map(([method, data]) => [method, replyEnvelopeOf(data)]));

export class Peer implements Connection {
  readonly id: string;
  readonly #socket: Socket;
  readonly #deps: Deps;
  readonly #claims: Claims;
  readonly #expiresAtMs: number;
  readonly #joined = new Map<string, Joined>();
  /**
   * The latest join of each camera under way or done, by a number unique to this connection: a
   * leave (or a newer join) that arrives while a join awaits the cluster or the room makes that
   * join give up instead of attaching after its viewer left.
   */
  readonly #intents = new Map<string, number>();
  #intentSeq = 0;
  #tokens = RATE.burst;
  #lastRefill = Date.now();
  #closed = false;

  constructor(socket: Socket, deps: Deps, claims: Claims, expiresAtMs: number) {
    this.id = socket.id;
    this.#socket = socket;
    this.#deps = deps;
    this.#claims = claims;
    this.#expiresAtMs = expiresAtMs;
  }

  get userId(): string | undefined {
    return this.#claims.typ === 'user' ? this.#claims.sub : undefined;
  }
  get sessionId(): string | undefined {
    return this.#claims.typ === 'user' ? this.#claims.sid : undefined;
  }
  get principal(): string | undefined {
    const c = this.#claims;
    return c.typ === 'share' ? `s:${c.sub}` : c.typ === 'kiosk' ? `k:${c.sub}` : c.typ === 'apikey' ? `a:${c.sub}` : undefined;
  }

  revoke(code: DeniedCode, reason: string): void {
    for (const cameraId of [...this.#joined.keys()]) {
      this.#leave(cameraId);
      this.#emit('denied', { cameraId, code, reason });
    }
    this.#emit('denied', { cameraId: '', code, reason });
    this.close();
    this.#socket.disconnect(true);
  }
  joinedCameras(): Iterable<string> {
    return this.#joined.keys();
  }

  /** Only a viewer's connection: a camera page's is told to move, camera by camera. */
  leaving(reason: string): boolean {
    if (this.#closed || [...this.#joined.values()].some((j) => j.role === 'camera')) return false;
    this.#emit('leaving', { reason });
    return true;
  }

  async handle(raw: unknown, ack: unknown): Promise<void> {
    const answer = typeof ack === 'function' ? (ack as (r: Reply) => void) : () => undefined;
    let method: Method | undefined;
    try {
      const request = this.#parse(raw);
      method = request.method;
      answer(await this.#run(request.method, request.data));
    } catch (err) {
      // A reply that breaks its documented schema (AnswerContractError, in tests) lands here too:
      // `internal`, logged, as a REST route answers 500.
      const { status, body } = toErrorBody(err);
      if (status >= 500) this.#deps.log.error({ err, peer: this.id, method }, 'signaling request failed');
      answer({ ok: false, error: body.error });
    }
  }

  dropCamera(cameraId: string, code: DeniedCode | 'media_reset', reason: string): void {
    if (!this.#leave(cameraId)) return;
    if (code === 'media_reset') {
      this.#notify({ method: 'rejoin', data: { cameraId, reason } });
      return;
    }
    this.#notify({ method: 'cameraOffline', data: { cameraId } });
    this.#emit('denied', { cameraId, code, reason });
  }

  /** The socket disconnected: release everything. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const cameraId of [...this.#joined.keys()]) this.#leave(cameraId);
    this.#intents.clear();
  }

  #parse(raw: unknown): Request {
    if (this.#closed) throw new ApiError(409, 'closed', 'this connection is closing; reconnect');
    this.#takeToken();
    if (JSON.stringify(raw ?? null).length > MAX_MESSAGE_BYTES) {
      throw new ApiError(413, 'message_too_large', `signaling messages are limited to ${MAX_MESSAGE_BYTES} bytes`);
    }
    const parsed = requestSchema.safeParse(raw);
    if (!parsed.success) throw new ApiError(400, 'invalid_request', `malformed request: ${describeIssues(parsed.error)}`);
    // A user's connection lives as long as its session family, not its 10-minute access token, so
    // a viewer keeps watching without re-authenticating the socket; signing out ends the family,
    // which this check (and Hub.userSessionsRevoked, at once) turns into the end of the connection.
    if (this.#claims.typ === 'user') assertSessionActive(this.#deps, this.#claims);
    else if (Date.now() >= this.#expiresAtMs) throw tokenExpired();
    return parsed.data;
  }

  /** Runs one request: its ok reply, checked against the method's schema when MIMAMORI_CHECK_ANSWERS=1. */
  async #run<M extends Method>(method: M, data: RequestData<M>): Promise<Reply<ReplyData<M>>> {
    const handler: RequestHandlers[M] = this.#handlers[method];
    const reply = { ok: true as const, data: await handler(data) };
    checkAnswer(REPLY_ENVELOPES.get(method)!, reply, `the socket.io request ${method}`);
    return reply;
  }

  readonly #handlers: RequestHandlers = {
    join: async ({ cameraId, role }) => {
      try {
        this.#authorize(cameraId, role);
      } catch (err) {
        if (role === 'viewer') this.#auditView(cameraId, 'refused', { code: toErrorBody(err).body.error.code });
        throw err;
      }
      this.#leave(cameraId);
      const intent = ++this.#intentSeq;
      this.#intents.set(cameraId, intent);
      // The camera's new session: this node takes it (another node that held it lets go); a
      // viewer's node relays the camera in when another node holds it.
      if (role === 'camera') this.#deps.cluster.assertTakingCameras();
      const epoch = role === 'camera' ? (await this.#deps.cluster.claim(cameraId)).epoch : undefined;
      if (role === 'viewer') await this.#deps.relays?.ensure(cameraId);
      const room = await this.#deps.sfu.room(cameraId);
      if (this.#closed || this.#intents.get(cameraId) !== intent) {
        throw new ApiError(409, 'join_cancelled', `a leave or a newer join of camera ${cameraId} came while this join was under way; join again if you still want it`);
      }
      this.#attach(cameraId, room, role, epoch);
      if (role === 'viewer') this.#auditView(cameraId, 'ok', { via: 'socket', live: room.live });
      return { routerRtpCapabilities: room.rtpCapabilities, iceServers: this.#iceServers(), live: room.live };
    },
    leave: async ({ cameraId }) => {
      this.#intents.delete(cameraId);
      this.#leave(cameraId);
      return {};
    },
    createTransport: async ({ cameraId, direction }) => {
      const joined = this.#assertJoined(cameraId);
      if (direction === 'send' && joined.role !== 'camera') throw forbidden('only the camera itself may publish');
      const transport = await joined.room.createTransport(this.id, direction);
      // A leave (a tile closed right after it opened) or a newer join that came while the transport
      // was being made closed what this peer had then, not this one: it would stay, counted as a
      // viewer, until the connection ends.
      if (this.#joined.get(cameraId) !== joined) {
        joined.room.closeTransport(this.id, transport.id);
        throw new ApiError(409, 'not_joined', `camera ${cameraId} was left while its transport was being made; join again if you still want it`);
      }
      return transport;
    },
    connectTransport: async ({ cameraId, transportId, dtlsParameters }) => {
      const { room } = this.#assertJoined(cameraId);
      await room.connectTransport(this.id, transportId, dtlsParameters as unknown as types.DtlsParameters);
      return {};
    },
    restartIce: async ({ cameraId, transportId }) => {
      const { room } = this.#assertJoined(cameraId);
      return { iceParameters: await room.restartIce(this.id, transportId) };
    },
    produce: async ({ cameraId, transportId, kind, rtpParameters }) => {
      const { room, role } = this.#assertJoined(cameraId);
      if (role !== 'camera') throw forbidden('only the camera itself may publish');
      // Another connection of this camera (maybe on another node) took it since this one joined.
      const joinedEpoch = this.#joined.get(cameraId)?.epoch ?? 0;
      if ((this.#deps.store.owner(cameraId)?.epoch ?? joinedEpoch) > joinedEpoch) {
        throw new ApiError(409, 'publish_superseded', 'another connection of this camera took over since this one joined; join again if this camera is the only one');
      }
      return { id: await room.produce(this.id, transportId, kind, rtpParameters as unknown as types.RtpParameters) };
    },
    closeProducer: async ({ cameraId, producerId }) => {
      const { room } = this.#assertJoined(cameraId);
      room.closeProducer(this.id, producerId);
      return {};
    },
    consume: async ({ cameraId, transportId, rtpCapabilities }) => {
      const { room } = this.#assertJoined(cameraId);
      return { consumers: await room.consume(this.id, transportId, rtpCapabilities as unknown as types.RtpCapabilities) };
    },
    resumeConsumer: async ({ cameraId, consumerId }) => {
      const { room } = this.#assertJoined(cameraId);
      await room.resumeConsumer(this.id, consumerId);
      return {};
    },
    setPreferredLayers: async ({ cameraId, consumerId, spatialLayer, temporalLayer }) => {
      const { room } = this.#assertJoined(cameraId);
      await room.setPreferredLayers(this.id, consumerId, spatialLayer, temporalLayer);
      return {};
    },
  };

  #authorize(cameraId: string, role: 'camera' | 'viewer'): void {
    const { store } = this.#deps;
    if (role === 'camera') {
      if (this.#claims.typ !== 'camera' || this.#claims.sub !== cameraId) {
        throw forbidden('publishing needs this camera\'s publish token');
      }
      if (!store.camera(cameraId)) throw notFound('camera', cameraId);
      return;
    }
    const access = this.#claims.typ === 'playback' ? undefined : accessOfClaims(this.#deps, this.#claims);
    if (!access) throw forbidden('a camera token cannot watch cameras; sign in as a user');
    access.require(cameraId, 'live');
  }

  #assertJoined(cameraId: string): Joined {
    const joined = this.#joined.get(cameraId);
    if (!joined || joined.room.closed) throw new ApiError(409, 'not_joined', `join camera ${cameraId} first`);
    // Grants are checked on every request, so a revoked viewer stops at once.
    this.#authorize(cameraId, joined.role);
    return joined;
  }

  #attach(cameraId: string, room: CameraRoom, role: 'camera' | 'viewer', epoch?: number): void {
    const onLive = () => this.#notify({ method: 'cameraLive', data: { cameraId } });
    const onOffline = () => this.#notify({ method: 'cameraOffline', data: { cameraId } });
    const onNewProducers = () => this.#notify({ method: 'newProducers', data: { cameraId } });
    const onConsumerClosed = (owner: string, consumerId: string) => {
      if (owner === this.id) this.#notify({ method: 'consumerClosed', data: { cameraId, consumerId } });
    };
    const onReplaced = (owner: string) => {
      if (owner === this.id) this.dropCamera(cameraId, 'replaced', 'this camera connected again elsewhere');
    };
    const onClosed = (reason: string) => {
      if (this.#joined.get(cameraId)?.room === room) {
        this.#joined.get(cameraId)?.detach();
        this.#joined.delete(cameraId);
        if (reason !== 'camera deleted') this.#notify({ method: 'rejoin', data: { cameraId, reason } });
      }
    };
    // A camera asked to move (its node drains): told once, while this session is its latest.
    let toldMove = false;
    const onChange = (change: Change) => {
      if (toldMove || change.table !== 'owners' || change.key !== cameraId || !change.after) return;
      if (change.after.epoch === epoch && change.after.moveRequestedEpoch === epoch) {
        toldMove = true;
        this.#notify({ method: 'move', data: { cameraId } });
      }
    };
    if (role === 'camera' && epoch !== undefined) this.#deps.store.on('change', onChange);
    if (role === 'viewer') {
      room.on('live', onLive);
      room.on('offline', onOffline);
      room.on('newProducers', onNewProducers);
      room.on('consumerClosed', onConsumerClosed);
    } else {
      room.on('publisherReplaced', onReplaced);
    }
    room.on('closed', onClosed);
    const detach = () => {
      room.off('live', onLive);
      room.off('offline', onOffline);
      room.off('newProducers', onNewProducers);
      room.off('consumerClosed', onConsumerClosed);
      room.off('publisherReplaced', onReplaced);
      room.off('closed', onClosed);
      this.#deps.store.off('change', onChange);
    };
    this.#joined.set(cameraId, { room, role, detach, ...(epoch !== undefined ? { epoch } : {}) });
  }

  #leave(cameraId: string): boolean {
    const joined = this.#joined.get(cameraId);
    if (!joined) return false;
    this.#joined.delete(cameraId);
    joined.detach();
    joined.room.closeOwner(this.id);
    return true;
  }

  /** STUN, then TURN over UDP, TCP, TLS, with TURN credentials naming this connection's caller. */
  #iceServers(): IceServer[] {
    const c = this.#claims;
    return this.#deps.turn.iceServers(`${c.typ}:${c.sub}`);
  }

  /** Live viewing is audited per camera join (who, which camera, from where). */
  #auditView(cameraId: string, outcome: 'ok' | 'refused', detail: Record<string, unknown>): void {
    const c = this.#claims;
    const { headers } = this.#socket.handshake;
    const forwarded = headers['x-forwarded-for'];
    const address = clientAddress(this.#socket.handshake.address, Array.isArray(forwarded) ? forwarded.join(',') : forwarded, trustedProxies(this.#deps.config.trustedProxies));
    const user = c.typ === 'user' ? this.#deps.store.userById(c.sub) : undefined;
    auditEvent(this.#deps, { ip: address, requestId: `socket:${this.id}`, userAgent: headers['user-agent'], ...(user ? { user } : {}) }, { actor: `${c.typ[0]}:${c.sub}`, action: 'live.view', cameraId, outcome, detail });
  }

  #notify(notification: Notification): void {
    this.#emit('notification', notification);
  }

  /**
   * Every event this connection sends goes through here, typed by its documented schema. With
   * MIMAMORI_CHECK_ANSWERS=1 it is checked too: one that breaks its schema is a contract violation,
   * logged and not sent (the client would refuse it), so the test waiting for it fails.
   */
  #emit<E extends EventName>(event: E, payload: z.input<(typeof eventSchemas)[E]>): void {
    try {
      checkAnswer(eventSchemas[event], payload, `the socket.io event ${event}`);
    } catch (err) {
      this.#deps.log.error({ err, peer: this.id, event }, 'signaling event breaks its documented schema (contract violation); not sent');
      return;
    }
    this.#socket.emit(event, payload);
  }

  #takeToken(): void {
    const now = Date.now();
    this.#tokens = Math.min(RATE.burst, this.#tokens + ((now - this.#lastRefill) / 1000) * RATE.perSecond);
    this.#lastRefill = now;
    if (this.#tokens < 1) throw new ApiError(429, 'rate_limited', 'too many requests on this connection; slow down');
    this.#tokens -= 1;
  }
}
