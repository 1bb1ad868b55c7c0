// WHIP (RFC 9725) ingest and WHEP playback, so OBS, GStreamer, ffmpeg and any WebRTC player can
// be cameras and viewers without our SDK. One HTTP session = one owner id in the camera's room.
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import type { types } from 'mediasoup';
import { z } from 'zod';
import type { CameraRoom } from '../../sfu/index.ts';
import { accessOf, cameraSecretAccepted } from '../access.ts';
import type { AppEnv, Deps } from '../context.ts';
import { ApiError, forbidden, notFound, toErrorBody, unauthorized } from '../errors.ts';
import { HttpMediaSession, SESSION_ID, type Caller } from '../HttpSessions.ts';
import { audit, bearerToken, fresh, verifiedToken } from '../middleware.ts';
import { buildAnswer, chooseCodec, cnameOf, parseOffer, playerCapabilities, producerParameters, SdpError, type AnswerSection } from '../sdp.ts';
import { validate } from '../validate.ts';

const cameraParam = z.object({ cameraId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a camera id') });
const sessionParam = cameraParam.extend({ sessionId: z.string().regex(SESSION_ID, 'not a session id') });
const MAX_SDP_BYTES = 64 * 1024;
const moveQuery = z.object({ epoch: z.coerce.number().int().min(0) });
/** A move poll is answered at the latest after this long (below HAProxy's and the nodes' timeouts). */
const MOVE_POLL_MS = 20_000;
/**
 * WHEP's server-sent events extension (draft-ietf-wish-whep), with the `reconnect` event proposed
 * for it: the player opens a new session (through the load balancer) and closes this one once the
 * new one plays. Sent when the session's node drains or is gone, or when the camera moved (this
 * session's media is about to end). Any node answers: the reasons are all in the database.
 */
const SSE_REL = 'urn:ietf:params:whep:ext:core:server-sent-events';
const SSE_EVENTS = ['reconnect'] as const;
const sseSubscription = z.array(z.string().max(32)).min(1).max(8);
const eventsQuery = z.object({ epoch: z.coerce.number().int().min(0) });
/** A quiet event stream still sends a comment this often (HAProxy cuts an HTTP connection idle for 30 s). */
const SSE_KEEPALIVE_MS = 15_000;
/** How often an event stream looks at the database's view of nodes and holders. */
const SSE_CHECK_MS = 200;
/** A new WHEP session waits at most this long for the camera's media from its current holder. */
const CURRENT_MEDIA_WAIT_MS = 3000;

export function whipRoutes(deps: Deps) {
  const sessions = deps.httpSessions;

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
    const epoch = deps.store.owner(room.cameraId)?.epoch ?? 0;
    const session = new HttpMediaSession(sessions.newId(), room, caller, direction, epoch, (s) => {
      sessions.remove(s);
      deps.hub.remove(s);
    });
    sessions.add(session);
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
    if (kind === 'whep') c.header('Link', `</whep/${cameraId}/${session.id}/sse>; rel="${SSE_REL}"; events="${SSE_EVENTS.join(',')}"`, { append: true });
    return c.body(answer, 201);
  }

  /**
   * A camera that just moved: a new player (one that reconnects because of it) must take the
   * media of the camera's new holder, not that of the one about to let it go. Waits a moment for
   * it (the camera's new session produces, the relay from its new holder opens).
   */
  async function currentMedia(room: CameraRoom): Promise<void> {
    if (!deps.cluster.clustered) return;
    const current = () => {
      const owner = deps.store.owner(room.cameraId);
      const producers = [...room.producers.values()].filter((p) => !p.closed);
      if (!owner || producers.length === 0) return true; // offline, or nothing to choose from yet
      const here = owner.nodeId === deps.cluster.nodeId;
      const relayId = here ? undefined : deps.relays?.currentRelay(room.cameraId);
      if (!here && relayId === undefined) return true; // not relayed in from its holder (a dead one): as it is
      // Every kind the room has, from the current source.
      return producers.every((p) => producers.some((q) => q.kind === p.kind && q.appData.relay === relayId));
    };
    for (const until = Date.now() + CURRENT_MEDIA_WAIT_MS; !current() && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
  }

  /** Why a WHEP session's player should reconnect now, if it should. */
  function reconnectReason(cameraId: string, sessionId: string, epoch: number): 'node_draining' | 'node_gone' | 'camera_moved' | undefined {
    const cluster = deps.cluster;
    if (!cluster.clustered) return undefined;
    const nodeId = sessions.nodeOf(sessionId) ?? cluster.nodeId;
    if (nodeId === cluster.nodeId) {
      if (cluster.draining) return 'node_draining';
    } else {
      const node = cluster.nodes().find((n) => n.id === nodeId);
      if (!node || !node.alive || node.state === 'stopped') return 'node_gone';
      if (node.state === 'draining') return 'node_draining';
    }
    const owner = deps.store.owner(cameraId);
    return owner && owner.epoch > epoch ? 'camera_moved' : undefined;
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
    if (deps.cluster.draining && deps.cluster.targets().length > 0) {
      throw new ApiError(503, 'node_draining', 'this node is leaving the cluster (a drain): send the offer again through the load balancer, another node serves the camera');
    }
    await deps.relays?.ensure(cameraId);
    const room = await deps.sfu.room(cameraId);
    await currentMedia(room);
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
      await sessions.act({ op: 'delete', kind, cameraId, sessionId, caller });
      return c.body(null, 200);
    });
    // Trickle ICE and ICE restarts are not offered: the SFU is ICE-lite with all candidates in the answer.
    app.patch(`/${kind}/:cameraId/:sessionId`, (c) =>
      c.json({ error: { code: 'not_supported', message: 'trickle ICE is not supported; all candidates are in the answer' } }, 405),
    );
  }
  // WHEP events, step 1 (the draft's): the player subscribes with a JSON array of event names and
  // gets the stream's URL. The session's node learns that its player follows (a drain waits for it).
  app.post('/whep/:cameraId/:sessionId/sse', validate('param', sessionParam), async (c) => {
    const { cameraId, sessionId } = c.req.valid('param');
    const caller = await fresh(deps, () => authenticate(c, cameraId, 'whep'));
    const parsed = sseSubscription.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) throw new ApiError(400, 'invalid_request', `send a JSON array of event names, e.g. ["reconnect"] (offered: ${SSE_EVENTS.join(', ')})`);
    const unknown = parsed.data.filter((e) => !(SSE_EVENTS as readonly string[]).includes(e));
    if (unknown.length) throw new ApiError(400, 'unsupported_event', `no such event: ${unknown.join(', ')} (offered: ${SSE_EVENTS.join(', ')})`);
    const { epoch } = await sessions.act({ op: 'follow', kind: 'whep', cameraId, sessionId, caller });
    c.header('Location', `/whep/${cameraId}/${sessionId}/sse/events?epoch=${epoch}`);
    return c.body(null, 201);
  });

  // Step 2: the event stream (text/event-stream; the same bearer). `reconnect` carries the WHEP
  // endpoint to POST to and why; the stream ends after it.
  app.get('/whep/:cameraId/:sessionId/sse/events', validate('param', sessionParam), validate('query', eventsQuery), async (c) => {
    const { cameraId, sessionId } = c.req.valid('param');
    const { epoch } = c.req.valid('query');
    await fresh(deps, () => authenticate(c, cameraId, 'whep'));
    return streamSSE(c, async (stream) => {
      const stopped = AbortSignal.any([c.req.raw.signal, deps.hub.stopping]);
      let quietSince = Date.now();
      while (!stopped.aborted && !stream.aborted) {
        const reason = reconnectReason(cameraId, sessionId, epoch);
        if (reason) {
          await stream.writeSSE({ event: 'reconnect', data: JSON.stringify({ url: `/whep/${cameraId}`, reason }) });
          return;
        }
        if (Date.now() - quietSince >= SSE_KEEPALIVE_MS) {
          await stream.write(': keep-alive\n\n');
          quietSince = Date.now();
        }
        await stream.sleep(SSE_CHECK_MS);
      }
    });
  });
  return app;
}
