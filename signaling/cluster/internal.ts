// The nodes' internal API: what one node asks of another (a relay of a camera's media), on its own
// listener at MIMAMORI_INTERNAL_URL, never behind the public load balancer. Every call carries the
// cluster's shared secret (generated once into the database) and every body is validated like a
// public one; what a call claims (that a camera is held here, that a relay is ours) is checked
// against this node's own state, never taken on trust.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { z } from 'zod';
import { ApiError, toErrorBody } from '../errors.ts';
import type { Logger } from '../log.ts';

const ID = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * The internal API's version: every call says which it speaks (`mimamori-protocol`; none: 1, the
 * releases before it), and so does every heartbeat. Nodes of two releases run side by side in a
 * rolling upgrade: a node answers every version from OLDEST_INTERNAL_PROTOCOL on, and a change a
 * node of the release before could not answer raises OLDEST_INTERNAL_PROTOCOL only once no such
 * release can still be running. 2: the header itself (the messages are those of 1).
 */
export const INTERNAL_PROTOCOL = 2;
export const OLDEST_INTERNAL_PROTOCOL = 1;
const PROTOCOL_HEADER = 'mimamori-protocol';
const srtp = z.object({ cryptoSuite: z.enum(['AEAD_AES_256_GCM', 'AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32']), keyBase64: z.string().min(1).max(256) });
export const relayEnd = z.object({ ip: z.string().min(1).max(64), port: z.number().int().min(1).max(65535), srtpParameters: srtp });
export const relayedProducer = z.object({
  id: z.string().regex(ID),
  kind: z.enum(['audio', 'video']),
  // mediasoup checks the parameters themselves when it produces the copy.
  rtpParameters: z.object({ codecs: z.array(z.record(z.string(), z.unknown())).min(1).max(8) }).passthrough(),
  paused: z.boolean(),
});

export const openRelayBody = z.object({ cameraId: z.string().regex(ID), node: z.string().regex(ID), relayId: z.string().regex(ID), end: relayEnd }).strict();
export const openRelayReply = z.object({ relayId: z.string().regex(ID), end: relayEnd, producers: z.array(relayedProducer).max(16) });
export const producersBody = z.object({ cameraId: z.string().regex(ID), producers: z.array(relayedProducer).min(1).max(16) }).strict();
export const relayParam = z.object({ relayId: z.string().regex(ID) });
export const producerParam = relayParam.extend({ producerId: z.string().regex(ID) });
export const cameraQuery = z.object({ cameraId: z.string().regex(ID) });
/** Which of these cameras the node publishes now (a camera status page asks the holders). */
export const LIVE_CAMERAS_PER_CALL = 1000;
export const liveCamerasBody = z.object({ cameraIds: z.array(z.string().regex(ID)).max(LIVE_CAMERAS_PER_CALL) }).strict();
export const liveCamerasReply = z.object({ live: z.array(z.string().regex(ID)).max(LIVE_CAMERAS_PER_CALL) });

export type OpenRelayBody = z.infer<typeof openRelayBody>;
export type OpenRelayReply = z.infer<typeof openRelayReply>;
export type RelayedProducerWire = z.infer<typeof relayedProducer>;

/** The internal listener: the routes of `app`, behind the shared secret. */
export async function startInternalServer(o: { url: string; secret: string; app: Hono; log: Logger }): Promise<http.Server> {
  const outer = new Hono();
  outer.use(async (c, next) => {
    const given = /^Bearer (\S+)$/.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
    if (!sameSecret(given, o.secret)) throw new ApiError(401, 'unauthorized', 'internal calls carry the cluster secret');
    const spoken = c.req.header(PROTOCOL_HEADER);
    const version = spoken === undefined ? 1 : /^[1-9][0-9]{0,3}$/.test(spoken) ? Number(spoken) : NaN;
    if (!(version >= OLDEST_INTERNAL_PROTOCOL)) {
      throw new ApiError(426, 'protocol_unsupported', `the calling node speaks internal protocol ${spoken ?? '1'}; this node answers ${OLDEST_INTERNAL_PROTOCOL} to ${INTERNAL_PROTOCOL}: upgrade the calling node (mimamori rolling-restart)`);
    }
    c.header(PROTOCOL_HEADER, String(INTERNAL_PROTOCOL));
    await next();
  });
  outer.route('/', o.app);
  outer.notFound((c) => c.json({ error: { code: 'not_found', message: `no internal route ${c.req.method} ${c.req.path}` } }, 404));
  outer.onError((err, c) => {
    const { status, body } = toErrorBody(err);
    if (status >= 500) o.log.error({ event: 'internal_call_failed', err, path: c.req.path }, 'an internal call failed');
    return c.json(body, status as 400);
  });
  const { hostname, port } = new URL(o.url);
  const server = http.createServer(getRequestListener(outer.fetch));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen for the other nodes on ${hostname}:${port} (${(err as NodeJS.ErrnoException).code}); check MIMAMORI_INTERNAL_URL (this machine's own internal address and a free port)`)));
    server.listen(Number(port) || 80, hostname.replace(/^\[|\]$/g, ''), () => resolve());
  });
  o.log.info({ event: 'internal_listening', port: (server.address() as AddressInfo).port }, 'listening for the other nodes');
  return server;
}

export class InternalCallError extends Error {
  override name = 'InternalCallError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A call to another node's internal API; its answer parsed with `reply` (a node trusts no shape). */
export async function callNode<T>(o: { url: string; secret: string; method: 'POST' | 'DELETE'; path: string; body?: unknown; reply?: z.ZodType<T>; timeoutMs?: number }): Promise<T> {
  let res: Response;
  try {
    res = await fetch(new URL(o.path, o.url), {
      method: o.method,
      headers: { authorization: `Bearer ${o.secret}`, [PROTOCOL_HEADER]: String(INTERNAL_PROTOCOL), ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
      signal: AbortSignal.timeout(o.timeoutMs ?? 3000),
    });
  } catch (error) {
    throw new InternalCallError(503, 'node_unreachable', `the node at ${o.url} did not answer (${(error as Error).message})`);
  }
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new InternalCallError(res.status, e?.code ?? 'internal_error', e?.message ?? `the node at ${o.url} answered ${res.status}`);
  }
  if (!o.reply) return undefined as T;
  const parsed = o.reply.safeParse(json);
  if (!parsed.success) throw new InternalCallError(502, 'bad_reply', `the node at ${o.url} answered something this node does not understand`);
  return parsed.data;
}

function sameSecret(given: string, want: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(want);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}
