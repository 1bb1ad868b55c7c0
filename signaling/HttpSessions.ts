// WHIP and WHEP sessions (one HTTP resource each) of every node. A session lives on the node that
// answered its POST, but the load balancer sends its later requests (DELETE, the WHEP events
// subscription) to any node: a session's id names its node, and a node passes a request for
// another node's session on over the internal API, after checking the caller itself.
import crypto from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import type { CameraRoom } from '../sfu/index.ts';
import { notFound } from './errors.ts';
import type { Connection } from './Hub.ts';
import { validate } from './wire/index.ts';

/** Who is behind a WHIP/WHEP request (checked by the node the request reached). */
export type Caller = { kind: 'camera'; cameraId: string } | { kind: 'user'; userId: string } | { kind: 'apikey'; keyId: string };
export type SessionKind = 'whip' | 'whep';

/** `<random>.<node id>`: unguessable, and any node knows where the session lives. */
export const SESSION_ID = /^[A-Za-z0-9_-]{16,64}(\.[A-Za-z0-9._-]{1,64})?$/;

export class HttpMediaSession implements Connection {
  #closed = false;
  /** The player listens for `reconnect` (WHEP events): a drain waits for it to move. */
  followed = false;
  constructor(
    readonly id: string,
    readonly room: CameraRoom,
    readonly caller: Caller,
    readonly direction: SessionKind,
    /** The camera's epoch when the session started (0: no holder known). */
    readonly epoch: number,
    private readonly onClose: (s: HttpMediaSession) => void,
  ) {}
  get userId(): string | undefined {
    return this.caller.kind === 'user' ? this.caller.userId : undefined;
  }
  /** An API key's player stops when the key is revoked (Hub.principalRevoked). */
  get principal(): string | undefined {
    return this.caller.kind === 'apikey' ? `a:${this.caller.keyId}` : undefined;
  }
  /** The API key behind it was revoked or expired: the session ends (a WHEP player sees its connection close). */
  revoke(): void {
    this.close();
  }
  joinedCameras(): Iterable<string> {
    return [this.room.cameraId];
  }
  dropCamera(): void {
    this.close();
  }
  /** A player that listens for `reconnect` moves by itself (it learns of the drain from the database). */
  leaving(): boolean {
    return this.followed && !this.#closed;
  }
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.room.closeOwner(this.id);
    this.onClose(this);
  }
}

/** What a request about one session asks, once its caller is known. */
export interface SessionCall {
  op: 'delete' | 'follow';
  kind: SessionKind;
  cameraId: string;
  sessionId: string;
  caller: Caller;
}

const callBody = z
  .object({
    op: z.enum(['delete', 'follow']),
    kind: z.enum(['whip', 'whep']),
    cameraId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    sessionId: z.string().regex(SESSION_ID),
    caller: z.union([
      z.object({ kind: z.literal('camera'), cameraId: z.string().max(64) }).strict(),
      z.object({ kind: z.literal('user'), userId: z.string().max(128) }).strict(),
      z.object({ kind: z.literal('apikey'), keyId: z.string().max(128) }).strict(),
    ]),
  })
  .strict();
export const sessionCallReply = z.object({ epoch: z.number().int().min(0) });

export interface HttpSessionsOptions {
  nodeId: string;
  /** Passes a call on to the node that holds the session (a cluster); undefined: this node only. */
  forward?: (nodeId: string, call: SessionCall) => Promise<unknown>;
}

export class HttpSessions {
  readonly #o: HttpSessionsOptions;
  readonly #local = new Map<string, HttpMediaSession>();

  constructor(o: HttpSessionsOptions) {
    this.#o = o;
  }

  get size(): number {
    return this.#local.size;
  }

  newId(): string {
    return `${crypto.randomBytes(16).toString('base64url')}.${this.#o.nodeId}`;
  }

  /** The node a session lives on (sessions of releases before 0.2.1 have no node in their id). */
  nodeOf(sessionId: string): string | undefined {
    const dot = sessionId.indexOf('.');
    return dot < 0 ? undefined : sessionId.slice(dot + 1);
  }

  add(session: HttpMediaSession): void {
    this.#local.set(session.id, session);
  }

  remove(session: HttpMediaSession): void {
    this.#local.delete(session.id);
  }

  /**
   * Does what the call asks, here or on the session's node; the camera's epoch when the session
   * started. 404 when no such session of this caller exists (anywhere it could be).
   */
  async act(call: SessionCall): Promise<{ epoch: number }> {
    const node = this.nodeOf(call.sessionId);
    if (node !== undefined && node !== this.#o.nodeId && this.#o.forward) {
      return sessionCallReply.parse(await this.#o.forward(node, call));
    }
    return this.#here(call);
  }

  #here(call: SessionCall): { epoch: number } {
    const session = this.#local.get(call.sessionId);
    const same =
      session &&
      session.direction === call.kind &&
      session.room.cameraId === call.cameraId &&
      sameCaller(call.caller, session.caller);
    if (!session || !same) throw notFound('session', call.sessionId);
    if (call.op === 'delete') session.close();
    else session.followed = true;
    return { epoch: session.epoch };
  }

  /** The internal API: another node passes on a call about a session here (its caller already checked). */
  routes(): Hono {
    return new Hono().post('/internal/http-sessions', validate('json', callBody), (c) => c.json(this.#here(c.req.valid('json'))));
  }
}

/** Whether a request's caller may act on a session: the camera itself, the same user, the same API key. */
function sameCaller(asking: Caller, owner: Caller): boolean {
  switch (asking.kind) {
    case 'camera':
      return owner.kind === 'camera';
    case 'user':
      return owner.kind === 'user' && owner.userId === asking.userId;
    case 'apikey':
      return owner.kind === 'apikey' && owner.keyId === asking.keyId;
  }
}
