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
import { describe, reply, validate, type ErrorCode } from '../wire/index.ts';

const cameraParam = z.object({ cameraId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a camera id') });
const sessionParam = cameraParam.extend({ sessionId: z.string().regex(SESSION_ID, 'not a session id').describe('From the Location of the POST answer: <random>.<node id>') });
const MAX_SDP_BYTES = 64 * 1024;
const moveQuery = z.object({ epoch: z.coerce.number().int().min(0).describe('The session\'s epoch: the X-Mimamori-Epoch of the POST /whip answer') });
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
const eventsQuery = z.object({ epoch: z.coerce.number().int().min(0).describe('The camera\'s epoch when the session started, as the subscription\'s Location gives it') });
/** A quiet event stream still sends a comment this often (HAProxy cuts an HTTP connection idle for 30 s). */
const SSE_KEEPALIVE_MS = 15_000;
/** How often an event stream looks at the database's view of nodes and holders. */
const SSE_CHECK_MS = 200;
/** A new WHEP session waits at most this long for the camera's media from its current holder. */
const CURRENT_MEDIA_WAIT_MS = 3000;

// --- The contract (OpenAPI) --------------------------------------------------------------------

const tag = 'Live (WHIP/WHEP)';
const MoveAnswer = z.object({
  move: z.boolean().describe('true: this node wants the camera elsewhere (a drain): publish again through the load balancer, then DELETE this session. false: nothing to do now (the poll timed out after 20 s, or the service is stopping): ask again'),
  superseded: z.literal(true).optional().describe('Present when another session of this camera started since (a newer epoch than the one asked about): this session no longer publishes; stop asking'),
});
type MoveAnswer = z.infer<typeof MoveAnswer>;
const RECONNECT_REASONS = ['node_draining', 'node_gone', 'camera_moved'] as const;
type ReconnectReason = (typeof RECONNECT_REASONS)[number];
/** The data of a WHEP `reconnect` event (JSON in the event's data line). */
const ReconnectEvent = z.object({ url: z.string(), reason: z.enum(RECONNECT_REASONS) });

const SDP_BODY = `Content-Type: application/sdp (any other type: 415 \`unsupported_media_type\`), at most ${MAX_SDP_BYTES} bytes (larger: 413 \`sdp_too_large\`). It must start with "v=0", carry a=ice-ufrag/a=ice-pwd and a DTLS a=fingerprint (sha-1 … sha-512); otherwise 400 \`bad_sdp\`. Trickle ICE is not used: the offer may carry no candidates, the answer carries all of the server's (it is ICE-lite).`;
const WHIP_OFFER_EXAMPLE = [
  'v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1',
  'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:8hhY', 'a=ice-pwd:asd88fgpdd777uzjYhagZg1s',
  'a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F',
  'a=setup:actpass', 'a=mid:0', 'a=sendonly', 'a=rtcp-mux', 'a=rtpmap:96 H264/90000', 'a=rtcp-fb:96 nack', 'a=rtcp-fb:96 nack pli',
  'a=fmtp:96 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f', 'a=ssrc:2231627014 cname:c_7QxV2mR9',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=mid:1', 'a=sendonly', 'a=rtcp-mux', 'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1', 'a=ssrc:3376815327 cname:c_7QxV2mR9', '',
].join('\r\n');
const WHEP_OFFER_EXAMPLE = [
  'v=0', 'o=- 5228595038118931041 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 102', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:EsAw', 'a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y',
  'a=fingerprint:sha-256 0F:74:31:25:CB:A2:13:EC:28:6F:6D:2C:61:FF:5D:C2:BC:B9:DB:3D:98:14:8D:1A:BB:EA:33:0C:A4:60:A8:8E',
  'a=setup:actpass', 'a=mid:0', 'a=recvonly', 'a=rtcp-mux', 'a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 nack', 'a=rtcp-fb:96 nack pli',
  'a=rtpmap:102 H264/90000', 'a=rtcp-fb:102 nack', 'a=rtcp-fb:102 nack pli', 'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=mid:1', 'a=recvonly', 'a=rtcp-mux', 'a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10;useinbandfec=1', '',
].join('\r\n');
const SDP_ANSWER_LINES = {
  head: ['v=0', 'o=mimamori 1796587922164 1 IN IP4 0.0.0.0', 's=-', 't=0 0', 'a=ice-lite',
  'a=fingerprint:sha-256 7F:1C:92:0A:13:7E:4B:8C:59:22:D0:3A:61:EE:C4:2B:91:07:5D:A6:3C:B8:F2:19:4E:70:AD:62:93:15:C8:0B',
  'a=msid-semantic: WMS *', 'a=group:BUNDLE 0 1',],
  candidates: ['a=ice-ufrag:ih8smmsyyv3nfxl7', 'a=ice-pwd:6ib1cz3tvmwnw3dsvppyx0q3ndtq4mdn',
    'a=candidate:udpcandidate 1 udp 1076302079 203.0.113.10 40012 typ host', 'a=candidate:tcpcandidate 1 tcp 1076276479 203.0.113.10 40014 typ host tcptype passive', 'a=end-of-candidates', 'a=rtcp-mux', 'a=rtcp-rsize',],
};
const WHIP_ANSWER_EXAMPLE = [
  ...SDP_ANSWER_LINES.head,
  'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=rtpmap:96 H264/90000', 'a=rtcp-fb:96 nack', 'a=rtcp-fb:96 nack pli',
  'a=fmtp:96 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f', 'a=setup:passive', 'a=mid:0', 'a=recvonly', ...SDP_ANSWER_LINES.candidates,
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10;useinbandfec=1', 'a=setup:passive', 'a=mid:1', 'a=recvonly',
  ...SDP_ANSWER_LINES.candidates, '',
].join('\r\n');
const WHEP_ANSWER_EXAMPLE = [
  ...SDP_ANSWER_LINES.head,
  'm=video 9 UDP/TLS/RTP/SAVPF 102', 'c=IN IP4 0.0.0.0', 'a=rtpmap:102 H264/90000', 'a=rtcp-fb:102 nack', 'a=rtcp-fb:102 nack pli',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f', 'a=setup:passive', 'a=mid:0', 'a=msid:c_7QxV2mR9 video-0', 'a=sendonly',
  ...SDP_ANSWER_LINES.candidates, 'a=ssrc:1349612170 cname:c_7QxV2mR9',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10;useinbandfec=1', 'a=setup:passive', 'a=mid:1', 'a=msid:c_7QxV2mR9 audio-1', 'a=sendonly',
  ...SDP_ANSWER_LINES.candidates, 'a=ssrc:2784413906 cname:c_7QxV2mR9', '',
].join('\r\n');
const ICE_SERVER_LINKS = 'One `<url>; rel="ice-server"` per ICE server (RFC 9725 §4.4): the STUN servers, then TURN over UDP, TCP and TLS with this caller\'s time-limited username, credential and credential-type="password" (when a TURN relay is set up), for the client\'s ICE (TURN when direct paths are blocked) and its next session.';

/** What WHIP's authentication can refuse, beyond `unauthorized`/`token_expired`. */
const WHIP_AUTH_ERRORS = ['camera_not_found', 'forbidden', 'session_revoked', 'invalid_api_key', 'api_key_revoked', 'api_key_expired'] as const satisfies readonly ErrorCode[];
/** What WHEP's authentication can refuse, beyond `unauthorized`/`token_expired` (API keys: also the rate limit). */
const WHEP_AUTH_ERRORS = ['camera_not_found', 'right_missing', 'forbidden', 'session_revoked', 'invalid_api_key', 'api_key_revoked', 'api_key_expired', 'rate_limited'] as const satisfies readonly ErrorCode[];
/** A request about a session of this or another node of the cluster. */
const SESSION_ERRORS = ['session_not_found', 'node_unreachable'] as const satisfies readonly ErrorCode[];
const WHIP_AUTH = 'A camera: `Authorization: Bearer` its publish token (POST /api/cameras/{id}/publish-token) or its secret itself (encoders such as OBS and ffmpeg keep one static bearer; during a secret rotation\'s grace period the previous secret works too). User tokens and API keys are refused (403 `forbidden`).';
const WHEP_AUTH = 'A user with the "live" right on the camera, or an API key whose scope ("live") and camera group allow live view of it (`Authorization: Bearer`). Camera, share-link and kiosk tokens are refused (403 `forbidden`). API keys are rate-limited per key (429 `rate_limited` with Retry-After).';

/** mediasoup refuses parameters it cannot take (DTLS fingerprints, codecs) with a TypeError: the offer's fault (400). */
function refusedOffer(err: unknown): void {
  if (err instanceof Error && err.name === 'TypeError') throw new SdpError(`the offer's media parameters were refused: ${err.message}`);
}

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
    if (claims.typ === 'apikey') {
      // An API key whose scope and group allow live view of this camera.
      accessOf(deps, `a:${claims.sub}`).require(cameraId, 'live');
      return { kind: 'apikey', keyId: claims.sub };
    }
    if (claims.typ !== 'user') throw forbidden('WHEP needs a user token or an API key');
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
    const roomClosed = () => session.close();
    // Its peer is gone without a DELETE (never connected, ICE or DTLS lost): the session ends too.
    const lost = (owner: string) => owner === session.id && session.close();
    const session = new HttpMediaSession(sessions.newId(), room, caller, direction, epoch, (s) => {
      sessions.remove(s);
      deps.hub.remove(s);
      room.off('closed', roomClosed);
      room.off('transportLost', lost);
    });
    sessions.add(session);
    deps.hub.add(session);
    room.once('closed', roomClosed);
    room.on('transportLost', lost);
    return session;
  }

  function created(c: Context<AppEnv>, kind: 'whip' | 'whep', cameraId: string, session: HttpMediaSession, answer: string) {
    c.header('Location', `/${kind}/${cameraId}/${session.id}`);
    c.header('Content-Type', 'application/sdp');
    c.header('ETag', `"${session.id}"`);
    // RFC 9725 §4.4: the ICE servers (STUN, then TURN over UDP, TCP, TLS) with this caller's
    // time-limited TURN credentials, for the client's ICE restarts or its next session.
    const caller = session.caller;
    for (const server of deps.turn.iceServers(caller.kind === 'camera' ? `camera:${caller.cameraId}` : caller.kind === 'apikey' ? `apikey:${caller.keyId}` : `user:${caller.userId}`)) {
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
  function reconnectReason(cameraId: string, sessionId: string, epoch: number): ReconnectReason | undefined {
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

  app.post('/whip/:cameraId', describe({
    summary: 'Publish a camera (WHIP)',
    description: [
      'WHIP (RFC 9725) ingest: POST the encoder\'s SDP offer, get the SDP answer (201); media then flows over WebRTC (DTLS-SRTP) and is recorded. Sections that send H.264 (packetization-mode=1), VP8 or Opus are accepted; other m= sections are answered inactive (port 0); an offer with none of them is refused (400 `bad_sdp`).',
      'This node takes the camera: the newest session of a camera wins, so a previous session of it (here or on another node) stops publishing. The answer\'s `X-Mimamori-Epoch` is the session\'s epoch: a camera that can move asks GET /whip/{cameraId}/move?epoch=N whether to. End the session with DELETE on its Location. Trickle ICE and ICE restarts (PATCH) are not supported: the answer carries all candidates.',
    ].join('\n\n'),
    tag, auth: ['camera'], access: WHIP_AUTH,
    requestBody: { mediaType: 'application/sdp', description: `The encoder's SDP offer (sendonly or sendrecv). ${SDP_BODY}`, example: WHIP_OFFER_EXAMPLE },
    answer: {
      status: 201, mediaType: 'application/sdp', description: 'The session was created: the body is the SDP answer (ICE-lite, DTLS passive unless the offer insists, every candidate and a=end-of-candidates).',
      example: WHIP_ANSWER_EXAMPLE,
      headers: {
        Location: 'The session: /whip/{cameraId}/{sessionId} (DELETE it to stop publishing). The session id ends with the id of the node that serves it.',
        ETag: 'The session id in quotes ("{sessionId}").',
        Link: ICE_SERVER_LINKS,
        'X-Mimamori-Epoch': 'The camera\'s epoch for this session (an integer): ask GET /whip/{cameraId}/move?epoch=N whether to move.',
      },
    },
    errors: ['sdp_too_large', 'unsupported_media_type', 'bad_sdp', ...WHIP_AUTH_ERRORS, 'node_draining', 'publish_superseded', 'not_publisher', 'publisher_replaced', 'camera_closed', 'transport_not_found'],
  }), limit, validate('param', cameraParam), async (c) => {
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
      const transport = await room.createTransport(session.id, 'send', undefined, true);
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
      refusedOffer(err);
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
  app.get('/whip/:cameraId/move', describe({
    summary: 'Ask whether the camera should publish elsewhere (long poll)',
    description: 'For a camera that can follow a drain: asks, through the load balancer (any node answers), whether the node that holds the camera under `epoch` (the POST /whip answer\'s X-Mimamori-Epoch) wants it elsewhere. Answers as soon as it does, or when another session of the camera took over, else `{ "move": false }` after 20 s (or at once when the service stops): then ask again.',
    tag, auth: ['camera'], access: WHIP_AUTH,
    answer: { description: 'Whether to move now', schema: MoveAnswer, example: { move: true } },
    errors: WHIP_AUTH_ERRORS,
  }), validate('param', cameraParam), validate('query', moveQuery), async (c) => {
    const { cameraId } = c.req.valid('param');
    const { epoch } = c.req.valid('query');
    await fresh(deps, () => authenticate(c, cameraId, 'whip'));
    const answer = (): MoveAnswer | undefined => {
      const owner = deps.store.owner(cameraId);
      if (owner && owner.epoch > epoch) return { move: false, superseded: true };
      if (owner && owner.epoch === epoch && owner.moveRequestedEpoch === epoch) return { move: true };
      return undefined;
    };
    const now = answer();
    if (now) return reply(c, MoveAnswer, now);
    const later = await new Promise<MoveAnswer>((resolve) => {
      const done = (value: MoveAnswer) => {
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
    return reply(c, MoveAnswer, later);
  });

  app.post('/whep/:cameraId', describe({
    summary: 'Watch a camera live (WHEP)',
    description: [
      'WHEP playback: POST the player\'s SDP offer (recvonly or sendrecv sections), get the SDP answer (201) carrying the camera\'s video and audio, one track of each kind, the first matching section of each. RTX is not offered; a player that cannot decode the camera\'s codec is refused (400 `no_common_codec` or `cannot_consume`). The camera must be live (409 `camera_offline`); in a cluster the node relays it in from the node that holds it.',
      'Every view is audited (`live.view`, outcome ok, with the session id), and so is a caller refused by this route (outcome refused, with the error code). Subscribe to `reconnect` events (the Link with rel="urn:ietf:params:whep:ext:core:server-sent-events") to learn when to open a new session (drain, moved camera). End the session with DELETE on its Location. Trickle ICE and ICE restarts (PATCH) are not supported.',
    ].join('\n\n'),
    tag, auth: ['user', 'apiKey'], access: WHEP_AUTH,
    requestBody: { mediaType: 'application/sdp', description: `The player's SDP offer. ${SDP_BODY}`, example: WHEP_OFFER_EXAMPLE },
    answer: {
      status: 201, mediaType: 'application/sdp', description: 'The session was created: the body is the SDP answer (ICE-lite, sendonly sections with the camera id as msid, every candidate and a=end-of-candidates).',
      example: WHEP_ANSWER_EXAMPLE,
      headers: {
        Location: 'The session: /whep/{cameraId}/{sessionId} (DELETE it to stop). The session id ends with the id of the node that serves it.',
        ETag: 'The session id in quotes ("{sessionId}").',
        Link: `${ICE_SERVER_LINKS} Then \`</whep/{cameraId}/{sessionId}/sse>; rel="${SSE_REL}"; events="${SSE_EVENTS.join(',')}"\`: where to subscribe to the session's events.`,
      },
    },
    errors: ['sdp_too_large', 'unsupported_media_type', 'bad_sdp', ...WHEP_AUTH_ERRORS, 'node_draining', 'camera_offline', 'camera_closed', 'no_common_codec', 'cannot_consume', 'transport_not_found', 'consumer_not_found'],
  }), limit, validate('param', cameraParam), async (c) => {
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
      const transport = await room.createTransport(session.id, 'recv', caps, true);
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
      if (caller.kind !== 'camera') audit(deps, c, { actor: caller.kind === 'user' ? `u:${caller.userId}` : `a:${caller.keyId}`, action: 'live.view', cameraId, outcome: 'ok', detail: { via: 'whep', session: session.id } });
      return created(c, 'whep', cameraId, session, buildAnswer(offer, transport, sections));
    } catch (err) {
      session.close();
      refusedOffer(err);
      throw err;
    }
  });

  for (const kind of ['whip', 'whep'] as const) {
    app.delete(`/${kind}/:cameraId/:sessionId`, describe(kind === 'whip' ? {
      summary: 'Stop publishing (end a WHIP session)',
      description: 'Ends the session and its media, on whichever node of the cluster serves it (the session id names it): the camera goes offline (its recording stops until it publishes again). Only the camera itself may end its session.',
      tag, auth: ['camera'], access: WHIP_AUTH,
      answer: { description: 'The session ended (an empty body)', empty: true },
      errors: [...WHIP_AUTH_ERRORS, ...SESSION_ERRORS],
    } : {
      summary: 'Stop watching (end a WHEP session)',
      description: 'Ends the session and its media, on whichever node of the cluster serves it (the session id names it). Only the user or API key that opened the session may end it; another caller gets 404.',
      tag, auth: ['user', 'apiKey'], access: WHEP_AUTH,
      answer: { description: 'The session ended (an empty body)', empty: true },
      errors: [...WHEP_AUTH_ERRORS, ...SESSION_ERRORS],
    }), validate('param', sessionParam), async (c) => {
      const { cameraId, sessionId } = c.req.valid('param');
      const caller = await fresh(deps, () => authenticate(c, cameraId, kind));
      await sessions.act({ op: 'delete', kind, cameraId, sessionId, caller });
      return c.body(null, 200);
    });
    // Trickle ICE and ICE restarts are not offered: the SFU is ICE-lite with all candidates in the answer.
    app.patch(`/${kind}/:cameraId/:sessionId`, describe({
      summary: `Trickle ICE or restart ICE (${kind.toUpperCase()}): not supported`,
      description: 'Always answers 405 `not_supported` (no credentials are checked): the server is ICE-lite and gives all its candidates in the answer to the POST. A client whose connection fails opens a new session.',
      tag, auth: ['none'], access: 'anyone (the answer is always 405)',
      answer: [],
      errors: ['not_supported'],
    }), (c) =>
      c.json({ error: { code: 'not_supported', message: 'trickle ICE is not supported; all candidates are in the answer' } }, 405),
    );
  }
  // WHEP events, step 1 (the draft's): the player subscribes with a JSON array of event names and
  // gets the stream's URL. The session's node learns that its player follows (a drain waits for it).
  app.post('/whep/:cameraId/:sessionId/sse', describe({
    summary: 'Subscribe to a WHEP session\'s events',
    description: 'The WHEP server-sent events extension, step 1: send the event names wanted; the answer\'s Location is the event stream (GET it with the same bearer). The session\'s node notes that its player follows: a drain then waits for the player to reconnect by itself instead of ending its media.',
    tag, auth: ['user', 'apiKey'], access: `${WHEP_AUTH} Only the caller that opened the session (another caller gets 404).`,
    requestBody: { mediaType: 'application/json', description: `A JSON array of 1 to 8 event names (each at most 32 characters), parsed by the handler: a body that is not such an array answers 400 \`invalid_request\`, an unknown name 400 \`unsupported_event\`. Offered: ${SSE_EVENTS.join(', ')}.`, schema: sseSubscription, example: ['reconnect'] },
    answer: {
      status: 201, description: 'Subscribed (an empty body)', empty: true,
      headers: { Location: 'The event stream: /whep/{cameraId}/{sessionId}/sse/events?epoch=N (N: the camera\'s epoch when the session started).' },
    },
    errors: [...WHEP_AUTH_ERRORS, 'unsupported_event', ...SESSION_ERRORS],
  }), validate('param', sessionParam), async (c) => {
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
  app.get('/whep/:cameraId/:sessionId/sse/events', describe({
    summary: 'A WHEP session\'s event stream',
    description: [
      'Step 2 (the Location of step 1): a text/event-stream that stays open. One event is sent: `reconnect`, whose data is JSON `{ "url": "/whep/{cameraId}", "reason": "node_draining" | "node_gone" | "camera_moved" }`: POST a new offer to `url` (through the load balancer), and DELETE this session once the new one plays. The stream ends after it. Sent when the session\'s node drains or is gone, or when the camera moved to a newer epoch than `epoch`. A comment (`: keep-alive`) comes every 15 s while nothing happens.',
      'Any node of a cluster answers (the reasons are all in the database). A single-node service never sends `reconnect`. The session itself is not looked up: only the caller\'s live right on the camera is checked.',
    ].join('\n\n'),
    tag, auth: ['user', 'apiKey'], access: WHEP_AUTH,
    answer: {
      description: 'The event stream',
      mediaType: 'text/event-stream',
      example: 'event: reconnect\ndata: {"url":"/whep/c_7QxV2mR9","reason":"node_draining"}\n\n',
    },
    errors: WHEP_AUTH_ERRORS,
  }), validate('param', sessionParam), validate('query', eventsQuery), async (c) => {
    const { cameraId, sessionId } = c.req.valid('param');
    const { epoch } = c.req.valid('query');
    await fresh(deps, () => authenticate(c, cameraId, 'whep'));
    return streamSSE(c, async (stream) => {
      const stopped = AbortSignal.any([c.req.raw.signal, deps.hub.stopping]);
      let quietSince = Date.now();
      while (!stopped.aborted && !stream.aborted) {
        const reason = reconnectReason(cameraId, sessionId, epoch);
        if (reason) {
          await stream.writeSSE({ event: 'reconnect', data: JSON.stringify({ url: `/whep/${cameraId}`, reason } satisfies z.input<typeof ReconnectEvent>) });
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
