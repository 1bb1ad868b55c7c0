// The socket.io signaling protocol between browsers/Node clients and the signaling server, both
// ways: the server parses every request with these schemas before dispatch, its replies,
// notifications and events are typed (and in tests checked) by them, and the browser parses what
// it receives with them. The types are inferred from the schemas, so the wire format and the code
// cannot drift apart; the OpenAPI document (/api/openapi.json) publishes them as JSON Schema.
// It imports only zod: the browser bundles it.
//
// Transport: the client connects with `io(url, { auth: { token } })` where token is a user JWT
// (viewer) or a camera publish token. Requests are `socket.emit('request', Request, ack)`; the ack
// receives `Reply` = `{ ok: true, data }` or `{ ok: false, error: { code, message } }`.
// The server pushes 'notification' (Notification), 'leaving' and 'denied' events.
import { z } from 'zod';

const id = z.string().min(1).max(100);
const cameraId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'camera id: 1–64 of A–Z a–z 0–9 _ -');
// mediasoup validates the inner structure of these objects itself; we bound their size.
const opaque = z.record(z.string(), z.unknown());

export const requestSchema = z.discriminatedUnion('method', [
  z
    .object({ method: z.literal('join'), data: z.object({ cameraId, role: z.enum(['camera', 'viewer']) }) })
    .describe("Enter a camera's room as its publisher ('camera', with its publish token) or a viewer ('viewer'): the router's RTP capabilities, ICE servers and whether it is live."),
  z.object({ method: z.literal('leave'), data: z.object({ cameraId }) }).describe("Leave a camera's room: this connection's transports there close."),
  z
    .object({ method: z.literal('createTransport'), data: z.object({ cameraId, direction: z.enum(['send', 'recv']) }) })
    .describe("A WebRTC transport in the camera's room: 'send' for the camera itself, 'recv' for a viewer."),
  z
    .object({ method: z.literal('connectTransport'), data: z.object({ cameraId, transportId: id, dtlsParameters: opaque }) })
    .describe("The client's DTLS parameters for a transport (mediasoup-client's 'connect' event)."),
  z.object({ method: z.literal('restartIce'), data: z.object({ cameraId, transportId: id }) }).describe('New ICE parameters for a transport, after a network change.'),
  z
    .object({ method: z.literal('produce'), data: z.object({ cameraId, transportId: id, kind: z.enum(['audio', 'video']), rtpParameters: opaque }) })
    .describe('The camera publishes a track on its send transport.'),
  z.object({ method: z.literal('closeProducer'), data: z.object({ cameraId, producerId: id }) }).describe('The camera stops publishing a track.'),
  z
    .object({ method: z.literal('consume'), data: z.object({ cameraId, transportId: id, rtpCapabilities: opaque }) })
    .describe('Consumers (paused) of every current producer of the camera; the server notifies `newProducers` for those that appear later.'),
  z.object({ method: z.literal('resumeConsumer'), data: z.object({ cameraId, consumerId: id }) }).describe("Start a consumer's media."),
  z
    .object({
      method: z.literal('setPreferredLayers'),
      data: z.object({
        cameraId,
        consumerId: id,
        spatialLayer: z.number().int().min(0).max(3),
        temporalLayer: z.number().int().min(0).max(3).optional(),
      }),
    })
    // Grid tiles ask for layer 0, the single view for the highest.
    .describe('The simulcast layer a video consumer should receive.'),
]);

export type Request = z.infer<typeof requestSchema>;
export type Method = Request['method'];

/** A refused request: branch on `code` (the REST API's error codes); `message` says what to do. */
export const errorBodySchema = z.object({ code: z.string(), message: z.string() });
export type ErrorBody = z.infer<typeof errorBodySchema>;

const iceServerSchema = z.object({
  urls: z.array(z.string()).max(16),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export type IceServer = z.infer<typeof iceServerSchema>;

export const consumerInfoSchema = z.object({
  id,
  producerId: id,
  kind: z.enum(['audio', 'video']),
  rtpParameters: opaque,
  spatialLayers: z.number().int().min(1).max(16).describe('Number of simulcast layers the producer sends (1 = no simulcast)'),
});
export type ConsumerInfo = z.infer<typeof consumerInfoSchema>;

/** Requests that answer nothing but success. */
const done = z.object({});

/** What each request answers: the `data` of its ok reply. */
export const replySchemas = {
  join: z.object({
    routerRtpCapabilities: opaque,
    iceServers: z.array(iceServerSchema).max(16),
    live: z.boolean().describe('Whether the camera currently publishes (viewers render "offline" otherwise)'),
  }),
  leave: done,
  createTransport: z.object({ id, iceParameters: opaque, iceCandidates: z.array(opaque).max(64), dtlsParameters: opaque }),
  connectTransport: done,
  restartIce: z.object({ iceParameters: opaque }),
  produce: z.object({ id: id.describe('The new producer') }),
  closeProducer: done,
  consume: z.object({ consumers: z.array(consumerInfoSchema).max(64).describe('Paused consumers of the producers this transport did not consume yet; resume each with resumeConsumer') }),
  resumeConsumer: done,
  setPreferredLayers: done,
} satisfies { [M in Method]: z.ZodType };
export type ReplyData<M extends Method> = z.infer<(typeof replySchemas)[M]>;
export type JoinReply = ReplyData<'join'>;
export type TransportReply = ReplyData<'createTransport'>;

/** The ack of a request: `{ ok: true, data }` with the method's reply, or `{ ok: false, error }`. */
export const replyEnvelopeOf = <S extends z.ZodType>(data: S) =>
  z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), data }), z.object({ ok: z.literal(false), error: errorBodySchema })]);
export type Reply<T = unknown> = { ok: true; data: T } | { ok: false; error: ErrorBody };

const cameraNotification = <M extends string>(method: M, description: string) =>
  z.object({ method: z.literal(method), data: z.object({ cameraId }) }).describe(description);

/** Server → client, socket.io event 'notification'. */
export const notificationSchema = z.discriminatedUnion('method', [
  cameraNotification('cameraLive', 'The camera started publishing: consume it.'),
  cameraNotification('cameraOffline', 'The camera stopped publishing.'),
  cameraNotification('newProducers', 'New producers of a camera the viewer consumes: call `consume` again.'),
  z.object({ method: z.literal('consumerClosed'), data: z.object({ cameraId, consumerId: id }) }).describe('A consumer of this connection ended (its producer closed).'),
  z
    .object({ method: z.literal('rejoin'), data: z.object({ cameraId, reason: z.string() }) })
    .describe('The media server state for this camera was lost (worker restart, the node leaving): join again from scratch.'),
  cameraNotification('move', 'To a camera: its node is leaving (a drain). Publish again through the load balancer while this session goes on; this node ends it once the new one records.'),
]);
export type Notification = z.infer<typeof notificationSchema>;

/**
 * socket.io event 'leaving': this connection's node is leaving (a drain). Connect again through the
 * load balancer (another node), join every camera there, and close this connection once the new
 * one plays: the node ends it after a while anyway.
 */
export const leavingSchema = z
  .object({ reason: z.string() })
  .describe('This node is leaving: connect again through the load balancer, join every camera there, then close this connection.');
export type Leaving = z.infer<typeof leavingSchema>;

export const deniedCodeSchema = z.enum(['grant_revoked', 'camera_deleted', 'replaced', 'kiosk_revoked', 'share_revoked', 'session_revoked']);
export type DeniedCode = z.infer<typeof deniedCodeSchema>;
/** Why the server took a camera away from this connection (socket.io event 'denied'). */
export const deniedSchema = z
  .object({
    cameraId: cameraId.or(z.literal('')).describe("The camera taken away; '' when the whole connection's access ended (it closes next)"),
    code: deniedCodeSchema,
    reason: z.string().describe('English detail for logs; clients show their own text for `code`'),
  })
  .describe('The server took a camera (or, with cameraId "", all of them) away from this connection: do not join it again.');
export type Denied = z.infer<typeof deniedSchema>;

/** The events the server emits besides the acks of requests, by socket.io event name. */
export const eventSchemas = { notification: notificationSchema, leaving: leavingSchema, denied: deniedSchema };
export type EventName = keyof typeof eventSchemas;

/** Largest accepted socket.io message in bytes; bigger ones are refused by the server. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
