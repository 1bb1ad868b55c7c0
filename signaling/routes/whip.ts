// WHIP (RFC 9725) ingest and WHEP playback, so OBS, GStreamer, ffmpeg and any WebRTC player can
// be cameras and viewers without our SDK. One HTTP session = one owner id in the camera's room.
import crypto from 'node:crypto';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { types } from 'mediasoup';
import { z } from 'zod';
import type { CameraRoom } from '../../sfu/index.ts';
import { accessOf, cameraSecretAccepted } from '../access.ts';
import type { AppEnv, Deps } from '../context.ts';
import { ApiError, forbidden, notFound, toErrorBody, unauthorized } from '../errors.ts';
import type { Connection } from '../Hub.ts';
import { audit, bearerToken, fresh, verifiedToken } from '../middleware.ts';
import { buildAnswer, chooseCodec, cnameOf, parseOffer, playerCapabilities, producerParameters, SdpError, type AnswerSection } from '../sdp.ts';
import { validate } from '../validate.ts';

const cameraParam = z.object({ cameraId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a camera id') });
const sessionParam = cameraParam.extend({ sessionId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a session id') });
const MAX_SDP_BYTES = 64 * 1024;
const moveQuery = z.object({ epoch: z.coerce.number().int().min(0) });
/** A move poll is answered at the latest after this long (below HAProxy's and the nodes' timeouts). */
const MOVE_POLL_MS = 20_000;

/** Who is behind a WHIP/WHEP request. */
type Caller = { kind: 'camera'; cameraId: string } | { kind: 'user'; userId: string };

class HttpMediaSession implements Connection {
  readonly id = `http_${crypto.randomBytes(12).toString('base64url')}`;
  #closed = false;
  constructor(
    readonly room: CameraRoom,
    readonly caller: Caller,
    readonly direction: 'whip' | 'whep',
    private readonly onClose: (s: HttpMediaSession) => void,
  ) {}
  get userId(): string | undefined {
    return this.caller.kind === 'user' ? this.caller.userId : undefined;
  }
  joinedCameras(): Iterable<string> {
    return [this.room.cameraId];
  }
  dropCamera(): void {
    this.close();
  }
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.room.closeOwner(this.id);
    this.onClose(this);
  }
}

export function whipRoutes(deps: Deps) {
  const sessions = new Map<string, HttpMediaSession>();

  function authenticate(c: Context<AppEnv>, cameraId: string, want: 'whip' | 'whep'): Caller {
    const token = bearerToken(c.req.header('authorization'));
    if (!token) throw unauthorized('send "Authorization: Bearer <token>" (a publish token or the camera secret for WHIP, a user token for WHEP)');
    const cam = deps.store.camera(cameraId);
    if (want === 'whip' && !token.includes('.')) {
      // Encoders (OBS, ffmpeg) keep one static bearer: the camera secret is accepted as one. (A
      // camera this node does not know yet may have been added on another node a moment ago.)
      if (!cam) throw notFound('camera', cameraId);
      if (cameraSecretAccepted(cam, token)) return { kind: 'camera', cameraId };
    }
    const { claims } = verifiedToken(deps, token);
    if (want === 'whip') {
      if (claims.typ !== 'camera' || claims.sub !== cameraId) throw forbidden('WHIP needs this camera\'s publish token or secret');
      if (!cam) throw notFound('camera', cameraId);
      return { kind: 'camera', cameraId };
    }
    if (claims.typ !== 'user') throw forbidden('WHEP needs a user token');
    accessOf(deps, `u:${claims.sub}`).require(cameraId, 'live');
    return { kind: 'user', userId: claims.sub };
  }

  async function readOffer(c: Context<AppEnv>) {
    const type = c.req.header('content-type') ?? '';
    if (!/^application\/sdp\b/i.test(type)) {
      throw new ApiError(415, 'unsupported_media_type', `send the SDP offer as Content-Type: application/sdp (got "${type || 'none'}")`);
    }
    return parseOffer(await c.req.text());
  }

  function open(room: CameraRoom, caller: Caller, direction: 'whip' | 'whep'): HttpMediaSession {
    const session = new HttpMediaSession(room, caller, direction, (s) => {
      sessions.delete(s.id);
      deps.hub.remove(s);
    });
    sessions.set(session.id, session);
    deps.hub.add(session);
    room.once('closed', () => session.close());
    return session;
  }

  function created(c: Context<AppEnv>, kind: 'whip' | 'whep', cameraId: string, session: HttpMediaSession, answer: string) {
    c.header('Location', `/${kind}/${cameraId}/${session.id}`);
    c.header('Content-Type', 'application/sdp');
    c.header('ETag', `"${session.id}"`);
    // RFC 9725 §4.4: the ICE servers (STUN, then TURN over UDP, TCP, TLS) with this caller's
    // time-limited TURN credentials, for the client's ICE restarts or its next session.
    const caller = session.caller;
    for (const server of deps.turn.iceServers(caller.kind === 'camera' ? `camera:${caller.cameraId}` : `user:${caller.userId}`)) {
      const auth = server.username && server.credential ? `; username="${server.username}"; credential="${server.credential}"; credential-type="password"` : '';
      for (const url of server.urls) c.header('Link', `<${url}>; rel="ice-server"${auth}`, { append: true });
    }
    return c.body(answer, 201);
  }

  const limit = bodyLimit({
    maxSize: MAX_SDP_BYTES,
    onError: () => {
      throw new ApiError(413, 'sdp_too_large', `SDP offers are limited to ${MAX_SDP_BYTES} bytes`);
    },
  });

  const app = new Hono<AppEnv>();

  app.post('/whip/:cameraId', limit, validate('param', cameraParam), async (c) => {
    const { cameraId } = c.req.valid('param');
    const caller = await fresh(deps, () => authenticate(c, cameraId, 'whip'));
    const offer = await readOffer(c);
    // A new publishing session: this node takes the camera (another node that held it lets go).
    deps.cluster.assertTakingCameras();
    const claim = await deps.cluster.claim(cameraId);
    const room = await deps.sfu.room(cameraId);
    const plan = offer.media.map((media) => {
      const sending = media.direction === 'sendonly' || media.direction === 'sendrecv';
      const codec = sending && media.kind !== ('application' as types.MediaKind) ? chooseCodec(media.section, room.rtpCapabilities) : undefined;
      return { media, codec };
    });
    if (!plan.some((p) => p.codec)) {
      throw new SdpError('no m= section sends H.264 (packetization-mode=1), VP8 or Opus');
    }
    const session = open(room, caller, 'whip');
    try {
      const transport = await room.createTransport(session.id, 'send');
      await room.connectTransport(session.id, transport.id, offer.dtls);
      const sections: AnswerSection[] = [];
      for (const { media, codec } of plan) {
        if (!codec) {
          sections.push({ media, direction: 'recvonly' });
          continue;
        }
        const rtp = producerParameters(media, codec, cnameOf(media.section));
        await room.produce(session.id, transport.id, media.kind, rtp);
        sections.push({ media, rtp, direction: 'recvonly' });
      }
      // Another session of the camera took it while this one was set up (the news may have come
      // before this one was the room's publisher, when there was nothing to let go yet).
      if ((deps.store.owner(cameraId)?.epoch ?? claim.epoch) > claim.epoch) throw new Error('superseded');
      deps.log.info({ event: 'whip_started', cameraId, session: session.id }, 'WHIP publish started');
      // The session's epoch: the camera asks GET /whip/:cameraId/move?epoch=N whether to move.
      c.header('X-Mimamori-Epoch', String(claim.epoch));
      return created(c, 'whip', cameraId, session, buildAnswer(offer, transport, sections));
    } catch (err) {
      session.close();
      if (err instanceof Error && err.name === 'TypeError') throw new SdpError(`the offer's media parameters were refused: ${err.message}`);
      const now = deps.store.owner(cameraId);
      if (now && now.epoch > claim.epoch) {
        throw new ApiError(409, 'publish_superseded', `another session of this camera started at the same moment${now.nodeId !== claim.nodeId ? ' on another node' : ''} and took over; this one was closed (a camera with one encoder can retry)`);
      }
      throw err;
    }
  });

  // A camera that can follow a move (`mimamori camera`) asks here, through the load balancer, whether
  // its node wants it elsewhere (a drain): the answer comes as soon as it does, else after 20 s.
  // Any node answers: the request is in the database, which every node follows.
  app.get('/whip/:cameraId/move', validate('param', cameraParam), validate('query', moveQuery), async (c) => {
    const { cameraId } = c.req.valid('param');
    const { epoch } = c.req.valid('query');
    await fresh(deps, () => authenticate(c, cameraId, 'whip'));
    const answer = (): { move: boolean; superseded?: true } | undefined => {
      const owner = deps.store.owner(cameraId);
      if (owner && owner.epoch > epoch) return { move: false, superseded: true };
      if (owner && owner.epoch === epoch && owner.moveRequestedEpoch === epoch) return { move: true };
      return undefined;
    };
    const now = answer();
    if (now) return c.json(now);
    const later = await new Promise<{ move: boolean; superseded?: true }>((resolve) => {
      const done = (value: { move: boolean; superseded?: true }) => {
        clearTimeout(timer);
        deps.store.off('change', onChange);
        c.req.raw.signal.removeEventListener('abort', onAbort);
        deps.hub.stopping.removeEventListener('abort', onAbort);
        resolve(value);
      };
      const onChange = (change: { table: string; key: string }) => {
        if (change.table !== 'owners' || change.key !== cameraId) return;
        const value = answer();
        if (value) done(value);
      };
      const onAbort = () => done({ move: false });
      const timer = setTimeout(() => done({ move: false }), MOVE_POLL_MS);
      deps.store.on('change', onChange);
      c.req.raw.signal.addEventListener('abort', onAbort);
      // The service stops: answer now (the camera asks again, through the load balancer, elsewhere).
      if (deps.hub.stopping.aborted) onAbort();
      else deps.hub.stopping.addEventListener('abort', onAbort);
    });
    return c.json(later);
  });

  app.post('/whep/:cameraId', limit, validate('param', cameraParam), async (c) => {
    const { cameraId } = c.req.valid('param');
    let caller: Caller;
    try {
      caller = await fresh(deps, () => authenticate(c, cameraId, 'whep'));
    } catch (err) {
      audit(deps, c, { actor: 'anonymous', action: 'live.view', cameraId, outcome: 'refused', detail: { via: 'whep', code: toErrorBody(err).body.error.code } });
      throw err;
    }
    const offer = await readOffer(c);
    await deps.relays?.ensure(cameraId);
    const room = await deps.sfu.room(cameraId);
    if (!room.live) throw new ApiError(409, 'camera_offline', 'the camera is not live now; try again when it is');
    // RTX is left out: the player's own router would number it differently from the offer.
    const all = playerCapabilities(offer);
    const caps = { ...all, codecs: (all.codecs ?? []).filter((c) => !/\/rtx$/i.test(c.mimeType)) };
    const session = open(room, caller, 'whep');
    try {
      const transport = await room.createTransport(session.id, 'recv', caps);
      await room.connectTransport(session.id, transport.id, offer.dtls);
      const mids: Partial<Record<types.MediaKind, string>> = {};
      for (const m of offer.media) {
        if ((m.kind === 'audio' || m.kind === 'video') && !mids[m.kind] && (m.direction === 'recvonly' || m.direction === 'sendrecv')) mids[m.kind] = m.mid;
      }
      const consumers = await room.consume(session.id, transport.id, caps, mids);
      const unused = [...consumers];
      const sections: AnswerSection[] = offer.media.map((media) => {
        const receiving = media.direction === 'recvonly' || media.direction === 'sendrecv';
        const i = receiving ? unused.findIndex((x) => x.kind === media.kind) : -1;
        if (i < 0) return { media, direction: 'sendonly' };
        const consumer = unused.splice(i, 1)[0]!;
        return { media, direction: 'sendonly', rtp: consumer.rtpParameters, msid: cameraId };
      });
      for (const consumer of consumers) {
        if (!unused.includes(consumer)) await room.resumeConsumer(session.id, consumer.id);
      }
      deps.log.info({ event: 'whep_started', cameraId, session: session.id }, 'WHEP playback started');
      if (caller.kind === 'user') audit(deps, c, { actor: `u:${caller.userId}`, action: 'live.view', cameraId, outcome: 'ok', detail: { via: 'whep', session: session.id } });
      return created(c, 'whep', cameraId, session, buildAnswer(offer, transport, sections));
    } catch (err) {
      session.close();
      throw err;
    }
  });

  for (const kind of ['whip', 'whep'] as const) {
    app.delete(`/${kind}/:cameraId/:sessionId`, validate('param', sessionParam), async (c) => {
      const { cameraId, sessionId } = c.req.valid('param');
      const caller = await fresh(deps, () => authenticate(c, cameraId, kind));
      const session = sessions.get(sessionId);
      const same = session && session.direction === kind && session.room.cameraId === cameraId &&
        (caller.kind === 'camera' ? session.caller.kind === 'camera' : session.caller.kind === 'user' && session.caller.userId === caller.userId);
      if (!session || !same) throw notFound('session', sessionId);
      session.close();
      return c.body(null, 200);
    });
    // Trickle ICE and ICE restarts are not offered: the SFU is ICE-lite with all candidates in the answer.
    app.patch(`/${kind}/:cameraId/:sessionId`, (c) =>
      c.json({ error: { code: 'not_supported', message: 'trickle ICE is not supported; all candidates are in the answer' } }, 405),
    );
  }
  return app;
}
