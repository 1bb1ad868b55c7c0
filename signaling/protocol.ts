// The socket.io signaling protocol between browsers/Node clients and the signaling server.
// Every inbound payload is parsed with these schemas before dispatch; the types are inferred from
// them, so the wire format and the code cannot drift apart.
//
// Transport: the client connects with `io(url, { auth: { token } })` where token is a user JWT
// (viewer) or a camera publish token. Requests are `socket.emit('request', Request, ack)`; the ack
// receives `Reply` = `{ ok: true, data }` or `{ ok: false, error: { code, message } }`.
// The server pushes `socket.on('notification', Notification)`.
import { z } from 'zod';

const id = z.string().min(1).max(100);
const cameraId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'camera id: 1–64 of A–Z a–z 0–9 _ -');
// mediasoup validates the inner structure of these objects itself; we bound their size.
const opaque = z.record(z.string(), z.unknown());

export const requestSchema = z.discriminatedUnion('method', [
  // Enter a camera's room as its publisher ('camera') or a viewer ('viewer').
  z.object({ method: z.literal('join'), data: z.object({ cameraId, role: z.enum(['camera', 'viewer']) }) }),
  z.object({ method: z.literal('leave'), data: z.object({ cameraId }) }),
  z.object({
    method: z.literal('createTransport'),
    data: z.object({ cameraId, direction: z.enum(['send', 'recv']) }),
  }),
  z.object({
    method: z.literal('connectTransport'),
    data: z.object({ cameraId, transportId: id, dtlsParameters: opaque }),
  }),
  z.object({ method: z.literal('restartIce'), data: z.object({ cameraId, transportId: id }) }),
  z.object({
    method: z.literal('produce'),
    data: z.object({ cameraId, transportId: id, kind: z.enum(['audio', 'video']), rtpParameters: opaque }),
  }),
  z.object({ method: z.literal('closeProducer'), data: z.object({ cameraId, producerId: id }) }),
  // Ask for consumers of every current producer of the camera (the server pushes
  // `newProducers` later for producers that appear afterwards).
  z.object({
    method: z.literal('consume'),
    data: z.object({ cameraId, transportId: id, rtpCapabilities: opaque }),
  }),
  z.object({ method: z.literal('resumeConsumer'), data: z.object({ cameraId, consumerId: id }) }),
  // Simulcast layer choice: grid tiles ask for layer 0, the single view for the highest.
  z.object({
    method: z.literal('setPreferredLayers'),
    data: z.object({
      cameraId,
      consumerId: id,
      spatialLayer: z.number().int().min(0).max(3),
      temporalLayer: z.number().int().min(0).max(3).optional(),
    }),
  }),
]);

export type Request = z.infer<typeof requestSchema>;
export type Method = Request['method'];

export interface ErrorBody {
  code: string;
  message: string;
}
export type Reply<T = unknown> = { ok: true; data: T } | { ok: false; error: ErrorBody };

export interface JoinReply {
  routerRtpCapabilities: unknown;
  iceServers: IceServer[];
  /** Whether the camera currently publishes (viewers render 'offline' otherwise). */
  live: boolean;
}
export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}
export interface TransportReply {
  id: string;
  iceParameters: unknown;
  iceCandidates: unknown[];
  dtlsParameters: unknown;
}
export interface ConsumerInfo {
  id: string;
  producerId: string;
  kind: 'audio' | 'video';
  rtpParameters: unknown;
  /** Number of simulcast layers the producer sends (1 = no simulcast). */
  spatialLayers: number;
}

// Server → client notifications.
export type Notification =
  | { method: 'cameraLive'; data: { cameraId: string } }
  | { method: 'cameraOffline'; data: { cameraId: string } }
  /** New producers of a camera the viewer consumes: call `consume` again. */
  | { method: 'newProducers'; data: { cameraId: string } }
  | { method: 'consumerClosed'; data: { cameraId: string; consumerId: string } }
  /** The media server state for this camera was lost (worker restart): join again from scratch. */
  | { method: 'rejoin'; data: { cameraId: string; reason: string } }
  /**
   * To a camera: its node is leaving (a drain). Publish again through the load balancer (another
   * node) while this session goes on; this node ends it once the new one records.
   */
  | { method: 'move'; data: { cameraId: string } };

/**
 * socket.io event 'leaving': this connection's node is leaving (a drain). Connect again through the
 * load balancer (another node), join every camera there, and close this connection once the new
 * one plays: the node ends it after a while anyway.
 */
export interface Leaving {
  reason: string;
}

/** Why the server took a camera away from this connection (socket.io event 'denied'). */
export type DeniedCode = 'grant_revoked' | 'camera_deleted' | 'replaced' | 'kiosk_revoked' | 'share_revoked' | 'session_revoked';
export interface Denied {
  cameraId: string;
  code: DeniedCode;
  /** English detail for logs; clients show their own text for `code`. */
  reason: string;
}

/** Largest accepted socket.io message in bytes; bigger ones are refused by the server. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
