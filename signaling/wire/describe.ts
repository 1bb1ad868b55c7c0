// A route's documentation, carried by the route itself: `describe({...})` is a no-op middleware
// whose marker the OpenAPI builder finds in Hono's route table, beside the `validate()` markers
// of its request schemas. So the document can only describe routes that exist, with the schemas
// that really validate them.
import type { MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import type { ErrorCode } from './errors.ts';

/**
 * How a caller proves who it is (the document's security schemes):
 * - `user`: a signed-in user's access token (`Authorization: Bearer`), from /api/auth/login;
 * - `apiKey`: an organisation's API key (`Authorization: Bearer mk_…`), where it is accepted;
 * - `refreshCookie`: the browser's HttpOnly session cookie, on /api/auth only;
 * - `camera`: a camera's publish token, got with its secret at POST /api/cameras/{id}/publish-token;
 * - `kiosk`: a wall display's token; `share`: an opened share link's token;
 * - `playback`: a playback token, in the path (/api/play/{token}/…): nothing else is needed;
 * - `cluster`: the cluster's shared secret (node to node only);
 * - `none`: anyone.
 */
export type Auth = 'user' | 'apiKey' | 'refreshCookie' | 'camera' | 'kiosk' | 'share' | 'playback' | 'cluster' | 'none';

export interface Answer {
  /** 200 unless said. */
  status?: number;
  description: string;
  /** A JSON answer's schema (what the handler's `c.json` is typed by); absent for other media. */
  schema?: z.ZodType;
  /** Defaults to application/json; e.g. 'application/sdp', 'video/mp4', 'text/csv'. */
  mediaType?: string;
  example?: unknown;
  /** Response headers worth naming (Location, Retry-After, ETag…), with what they carry. */
  headers?: Record<string, string>;
  /** The answer has no body (as a 204 never has), whatever its status. */
  empty?: true;
}

export interface RouteDoc {
  /** One line, imperative ("List cameras"). */
  summary: string;
  description?: string;
  /** The documentation page's section. */
  tag: string;
  /** Accepted credentials, any one of them. */
  auth: readonly Auth[];
  /** Who may call it, in words: the role or the right on the camera it needs. */
  access: string;
  answer: Answer | readonly Answer[];
  /**
   * Error codes beyond those every such route has: `invalid_request` comes with a validated
   * request, `unauthorized`/`token_expired` with user auth, `internal` always. A code this route
   * answers with another status than its usual one is given with that status.
   */
  errors?: readonly (ErrorCode | { code: ErrorCode; status: number })[];
  /** An example request body (a JSON route). */
  example?: unknown;
  /**
   * A request body no `validate('json')` checks (an SDP offer, a body the handler parses itself):
   * its media type, what it is (limits included), optionally its schema and an example. Ignored
   * when the route validates a JSON body.
   */
  requestBody?: { mediaType: string; description: string; schema?: z.ZodType; example?: unknown };
  /** Node-to-node, or kept out of the public document for another reason given here. */
  internal?: string;
}

export const ROUTE_DOC = Symbol('mimamori.routeDoc');
export const REQUEST_SCHEMA = Symbol('mimamori.requestSchema');

export type RequestTarget = 'param' | 'query' | 'json' | 'header' | 'cookie' | 'form';

export type Described = MiddlewareHandler & { [ROUTE_DOC]: RouteDoc };

/** Documents the route it is put on; does nothing when a request passes. */
export function describe(doc: RouteDoc): Described {
  const handler: MiddlewareHandler = async (_c, next) => {
    await next();
  };
  return Object.assign(handler, { [ROUTE_DOC]: doc });
}

export function routeDocOf(handler: unknown): RouteDoc | undefined {
  return typeof handler === 'function' ? (handler as Partial<Described>)[ROUTE_DOC] : undefined;
}

export function requestSchemaOf(handler: unknown): { target: RequestTarget; schema: z.ZodType } | undefined {
  return typeof handler === 'function' ? (handler as { [REQUEST_SCHEMA]?: { target: RequestTarget; schema: z.ZodType } })[REQUEST_SCHEMA] : undefined;
}
