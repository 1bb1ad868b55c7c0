// The OpenAPI 3.1 document, built from the routes the app serves: each route's `describe()` doc,
// the schemas its `validate()` middlewares check, and the error table; and the socket.io messages
// of signaling/protocol.ts (wire/socket.ts). Nothing is written twice.
import type { z } from 'zod';
import { ERROR_CODES, ErrorBody, statusOf, type ErrorCode } from './errors.ts';
import { requestSchemaOf, routeDocOf, type Answer, type Auth, type RequestTarget, type RouteDoc } from './describe.ts';
import { jsonSchema } from './jsonSchema.ts';
import { SOCKET_IO_DESCRIPTION, socketIoContract } from './socket.ts';

/** What Hono's `app.routes` lists: one row per handler (middlewares included). */
export interface ServedRoute {
  method: string;
  path: string;
  handler: unknown;
}

export interface RouteEntry {
  method: string;
  /** Hono's path ('/api/cameras/:id'). */
  path: string;
  doc: RouteDoc | undefined;
  requests: { target: RequestTarget; schema: z.ZodType }[];
}

/** Every route the app answers, with its doc and request schemas ('ALL' middlewares left out). */
export function routeTable(served: readonly ServedRoute[]): RouteEntry[] {
  const byKey = new Map<string, RouteEntry>();
  for (const r of served) {
    if (r.method === 'ALL') continue;
    const key = `${r.method} ${r.path}`;
    let entry = byKey.get(key);
    if (!entry) byKey.set(key, (entry = { method: r.method, path: r.path, doc: undefined, requests: [] }));
    entry.doc ??= routeDocOf(r.handler);
    const request = requestSchemaOf(r.handler);
    if (request) entry.requests.push(request);
  }
  return [...byKey.values()];
}

/** '/api/cameras/:id{[a-z]+}' → '/api/cameras/{id}'; a trailing '/*' (anything below) → '/{path}'. */
export const openApiPath = (honoPath: string): string => honoPath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}').replace(/\/\*$/, '/{path}');

const SECURITY: Record<Exclude<Auth, 'none'>, object> = {
  user: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A signed-in user\'s access token (10 minutes by default), from POST /api/auth/login or /api/auth/refresh.' },
  apiKey: { type: 'http', scheme: 'bearer', bearerFormat: 'mk_<id>_<secret>', description: 'An organisation\'s API key for integrations, created by an organisation administrator; limited by its scope and camera group, rate-limited per key.' },
  refreshCookie: { type: 'apiKey', in: 'cookie', name: 'mimamori_refresh', description: 'The browser\'s HttpOnly session cookie (path /api/auth), sent with the X-Mimamori-Client: 1 header. API clients send { refreshToken } in the body instead.' },
  camera: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A camera\'s publish token: POST the camera secret to /api/cameras/{id}/publish-token.' },
  kiosk: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A wall display\'s token, from POST /api/kiosk/session with the kiosk link\'s token.' },
  share: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An opened share link\'s token, from POST /api/shares/{id}/open.' },
  playback: { type: 'apiKey', in: 'query', name: 'token', description: 'A playback token, carried in the path (/api/play/{token}/…) as players cannot send headers; from POST /api/cameras/{id}/playback.' },
  cluster: { type: 'http', scheme: 'bearer', description: 'The cluster\'s shared secret: node to node only.' },
};

/** An object schema's properties as OpenAPI parameters (path, query, header, cookie). */
function parameters(target: RequestTarget, schema: z.ZodType): object[] {
  const where = target === 'param' ? 'path' : target;
  const json = jsonSchema(schema, 'input');
  const properties = (json.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return { name, in: where, required: where === 'path' || required.has(name), ...(description ? { description } : {}), schema: rest };
  });
}

function answerObject(answer: Answer): object {
  const mediaType = answer.mediaType ?? 'application/json';
  const content = answer.schema
    ? { [mediaType]: { schema: jsonSchema(answer.schema, 'output'), ...(answer.example !== undefined ? { example: answer.example } : {}) } }
    : answer.status === 204 || answer.empty
      ? undefined
      : { [mediaType]: { schema: mediaType.startsWith('application/json') ? {} : /^(text\/|application\/(sdp|javascript|x-mpegurl|vnd\.apple\.mpegurl))/.test(mediaType) ? { type: 'string' } : { type: 'string', contentMediaType: mediaType }, ...(answer.example !== undefined ? { example: answer.example } : {}) } };
  return {
    description: answer.description,
    ...(answer.headers ? { headers: Object.fromEntries(Object.entries(answer.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }])) } : {}),
    ...(content ? { content } : {}),
  };
}

/** A request body the route reads itself (an SDP offer…): as its doc describes it. */
function unvalidatedBody(body: NonNullable<RouteDoc['requestBody']>): object {
  const { mediaType } = body;
  const schema = body.schema
    ? jsonSchema(body.schema, 'input')
    : mediaType.startsWith('application/json') ? {} : /^(text\/|application\/(sdp|javascript|x-mpegurl|vnd\.apple\.mpegurl))/.test(mediaType) ? { type: 'string' } : { type: 'string', contentMediaType: mediaType };
  return { required: true, description: body.description, content: { [mediaType]: { schema, ...(body.example !== undefined ? { example: body.example } : {}) } } };
}

/** The error codes a route may answer with, and their statuses: its own, and those its auth and validation imply. */
export function errorsOf(entry: RouteEntry): { code: ErrorCode; status: number }[] {
  const doc = entry.doc!;
  const codes = new Map<ErrorCode, number>();
  for (const e of doc.errors ?? []) {
    if (typeof e === 'string') codes.set(e, statusOf(e));
    else codes.set(e.code, e.status);
  }
  const implied = (code: ErrorCode) => {
    if (!codes.has(code)) codes.set(code, statusOf(code));
  };
  if (entry.requests.length) implied('invalid_request');
  if (doc.auth.includes('user') || doc.auth.includes('kiosk') || doc.auth.includes('share') || doc.auth.includes('camera')) {
    implied('unauthorized');
    implied('token_expired');
  }
  // Any bearer that looks like an API key is checked (and rate-limited) before the route runs.
  if (doc.auth.includes('apiKey') || doc.auth.includes('user')) {
    for (const code of ['unauthorized', 'invalid_api_key', 'api_key_revoked', 'api_key_expired', 'rate_limited'] as const) implied(code);
    if (!doc.auth.includes('apiKey')) implied('api_key_not_allowed');
  }
  implied('internal');
  return [...codes].map(([code, status]) => ({ code, status }));
}

export interface OpenApiInfo {
  title: string;
  version: string;
  description: string;
}

/** The document. Throws when a served route has no doc: every route is documented, or none is served. */
export function openApiDocument(served: readonly ServedRoute[], info: OpenApiInfo, options: { ignore?: (method: string, path: string) => boolean } = {}): Record<string, unknown> {
  const table = routeTable(served).filter((e) => !options.ignore?.(e.method, e.path));
  const missing = table.filter((e) => !e.doc).map((e) => `${e.method} ${e.path}`);
  if (missing.length) throw new Error(`routes served without describe(): ${missing.join(', ')}`);
  const paths: Record<string, Record<string, unknown>> = {};
  const tags = new Set<string>();
  for (const entry of table) {
    const doc = entry.doc!;
    if (doc.internal) continue;
    tags.add(doc.tag);
    const parameterList = entry.requests.filter((r) => r.target !== 'json' && r.target !== 'form').flatMap((r) => parameters(r.target, r.schema));
    // Path parameters Hono matches but no schema validates are still parameters.
    if (entry.path.endsWith('/*')) parameterList.push({ name: 'path', in: 'path', required: true, description: 'Any path below', schema: { type: 'string' } });
    for (const name of [...entry.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!)) {
      if (!parameterList.some((p) => (p as { name: string; in: string }).name === name && (p as { in: string }).in === 'path')) parameterList.push({ name, in: 'path', required: true, schema: { type: 'string' } });
    }
    const body = entry.requests.find((r) => r.target === 'json');
    const responses: Record<string, object> = {};
    for (const answer of Array.isArray(doc.answer) ? doc.answer : [doc.answer as Answer]) responses[String(answer.status ?? 200)] = answerObject(answer);
    const byStatus = new Map<number, ErrorCode[]>();
    for (const { code, status } of errorsOf(entry)) byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
    for (const [status, codes] of [...byStatus].sort((a, b) => a[0] - b[0])) {
      // An answer documented at this status already (a 405 with its Allow header) keeps its words and headers.
      const documented = responses[String(status)] as { description?: string; headers?: object } | undefined;
      responses[String(status)] = {
        ...(documented?.headers ? { headers: documented.headers } : {}),
        description: [documented?.description, ...codes.map((code) => `\`${code}\`: ${ERROR_CODES[code][1]}`)].filter(Boolean).join('\n\n'),
        content: {
          'application/json': {
            schema: { allOf: [{ $ref: '#/components/schemas/Error' }, { properties: { error: { properties: { code: { enum: codes } } } } }] },
            example: { error: { code: codes[0], message: ERROR_CODES[codes[0]!][1] } },
          },
        },
      };
    }
    const security = doc.auth.filter((a) => a !== 'none').map((a) => ({ [a]: [] }));
    if (doc.auth.includes('none') && security.length) security.push({});
    (paths[openApiPath(entry.path)] ??= {})[entry.method.toLowerCase()] = {
      summary: doc.summary,
      description: [doc.description, `**Who may call it:** ${doc.access}`].filter(Boolean).join('\n\n'),
      operationId: operationId(entry.method, openApiPath(entry.path)),
      tags: [doc.tag],
      ...(parameterList.length ? { parameters: parameterList } : {}),
      ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(body.schema, 'input'), ...(doc.example !== undefined ? { example: doc.example } : {}) } } } } : doc.requestBody ? { requestBody: unvalidatedBody(doc.requestBody) } : {}),
      responses,
      security,
      'x-access': doc.access,
    };
  }
  // The live signaling is no HTTP route: its messages are components, indexed by `x-socket-io`.
  const socketIo = socketIoContract();
  return {
    openapi: '3.1.0',
    info: { ...info, description: [info.description, SOCKET_IO_DESCRIPTION].join('\n\n') },
    servers: [{ url: '/', description: 'this service' }],
    tags: [...tags].sort().map((name) => ({ name })),
    paths,
    components: {
      schemas: { Error: jsonSchema(ErrorBody, 'output'), ...socketIo.schemas },
      securitySchemes: SECURITY,
    },
    'x-socket-io': socketIo.extension,
  };
}

/** 'GET /api/cameras/{id}/timeline' → 'getCamerasIdTimeline'; '/api/audit/{path}' → '…AuditPath': stable, unique per route. */
function operationId(method: string, path: string): string {
  const words = path
    .replace(/^\/api\//, '/')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1));
  return method.toLowerCase() + words.join('');
}
