// The REST API of the signaling server, and the signed-in session (token kept in sessionStorage).
// Responses are checked for the fields the pages use; errors become ApiError with the server's
// `{ error: { code, message } }` (status 0 for network failures and time-outs).
import { session } from './storage.ts';

export type Role = 'admin' | 'viewer';
export interface User {
  id: string;
  username: string;
  role: Role;
}
export interface UserWithGrants extends User {
  cameraIds: string[];
}
export interface Camera {
  id: string;
  name: string;
  live: boolean;
  recording: { enabled: boolean; retentionDays: number };
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    /** HTTP status; 0 when the server was not reached. */
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Codes that mean "the session is gone: sign in again". */
export const isAuthFailure = (code: string): boolean => code === 'unauthorized' || code === 'token_expired';

// --- Wire checks --------------------------------------------------------------------------------

class ShapeError extends ApiError {
  constructor(what: string) {
    super(0, 'bad_response', `unexpected answer from the server (${what})`);
  }
}
function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ShapeError(what);
  return v as Record<string, unknown>;
}
function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new ShapeError(what);
  return v;
}
function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new ShapeError(what);
  return v;
}
function parseRole(v: unknown): Role {
  if (v !== 'admin' && v !== 'viewer') throw new ShapeError('role');
  return v;
}
function parseUser(v: unknown): User {
  const o = obj(v, 'user');
  return { id: str(o.id, 'user.id'), username: str(o.username, 'user.username'), role: parseRole(o.role) };
}
function parseCamera(v: unknown): Camera {
  const o = obj(v, 'camera');
  const r = o.recording === undefined ? {} : obj(o.recording, 'camera.recording');
  return {
    id: str(o.id, 'camera.id'),
    name: str(o.name, 'camera.name'),
    live: o.live === true,
    recording: { enabled: r.enabled !== false, retentionDays: typeof r.retentionDays === 'number' ? r.retentionDays : 30 },
  };
}

// --- Session ------------------------------------------------------------------------------------

const TOKEN_KEY = 'mimamori.token';
const USER_KEY = 'mimamori.user';

export const auth = {
  token(): string | null {
    return session.get(TOKEN_KEY);
  },
  user(): User | null {
    try {
      const raw = session.get(USER_KEY);
      return raw ? parseUser(JSON.parse(raw)) : null;
    } catch {
      return null;
    }
  },
  save(token: string, user: User): void {
    session.set(TOKEN_KEY, token);
    session.set(USER_KEY, JSON.stringify(user));
  },
  clear(): void {
    session.remove(TOKEN_KEY);
    session.remove(USER_KEY);
  },
};

let unauthorizedHandler: ((err: ApiError) => void) | undefined;
/** Called when a request made with the session token is refused with 401 (expired, revoked). */
export function onUnauthorized(handler: (err: ApiError) => void): void {
  unauthorizedHandler = handler;
}

// --- Requests -----------------------------------------------------------------------------------

const TIMEOUT_MS = 15_000;

interface RequestOptions {
  body?: unknown;
  /** 'session' (default): the signed-in user's token; 'none': no Authorization header. */
  auth?: 'session' | 'none';
}

async function request(method: string, path: string, { body, auth: mode = 'session' }: RequestOptions = {}): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const token = mode === 'session' ? auth.token() : null;
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
      cache: 'no-store',
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'TimeoutError') throw new ApiError(0, 'timeout', `${method} ${path} timed out`);
    throw new ApiError(0, 'network', `${method} ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (res.status === 204) return undefined;
  let data: unknown;
  try {
    data = await res.json();
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const e = typeof data === 'object' && data !== null ? (data as { error?: { code?: unknown; message?: unknown } }).error : undefined;
    const err = new ApiError(
      res.status,
      typeof e?.code === 'string' ? e.code : `http_${res.status}`,
      typeof e?.message === 'string' ? e.message : `${method} ${path} failed with HTTP ${res.status}`,
    );
    if (res.status === 401 && token) unauthorizedHandler?.(err);
    throw err;
  }
  return data;
}

export interface PublishToken {
  token: string;
  expiresAt: Date;
}
function parsePublishToken(v: unknown): PublishToken {
  const o = obj(v, 'publish token');
  const expiresAt = new Date(str(o.expiresAt, 'expiresAt'));
  return { token: str(o.token, 'token'), expiresAt };
}

const enc = encodeURIComponent;

export const api = {
  async login(username: string, password: string): Promise<{ token: string; user: User }> {
    const o = obj(await request('POST', '/api/auth/login', { body: { username, password }, auth: 'none' }), 'login');
    return { token: str(o.token, 'token'), user: parseUser(o.user) };
  },
  async me(): Promise<User> {
    return parseUser(obj(await request('GET', '/api/me'), 'me').user);
  },
  async cameras(): Promise<Camera[]> {
    return arr(obj(await request('GET', '/api/cameras'), 'cameras').cameras, 'cameras').map(parseCamera);
  },
  async createCamera(name: string): Promise<{ camera: Camera; secret: string }> {
    const o = obj(await request('POST', '/api/cameras', { body: { name } }), 'camera');
    return { camera: parseCamera(o.camera), secret: str(o.secret, 'secret') };
  },
  async deleteCamera(id: string): Promise<void> {
    await request('DELETE', `/api/cameras/${enc(id)}`);
  },
  async updateRecording(id: string, recording: { enabled: boolean; retentionDays: number }): Promise<Camera> {
    return parseCamera(obj(await request('PATCH', `/api/cameras/${enc(id)}`, { body: { recording } }), 'camera').camera);
  },
  async rotateSecret(id: string): Promise<string> {
    return str(obj(await request('POST', `/api/cameras/${enc(id)}/secret`), 'secret').secret, 'secret');
  },
  /** A camera exchanges its secret for a publish token (no user session needed). */
  async publishTokenWithSecret(id: string, secret: string): Promise<PublishToken> {
    return parsePublishToken(await request('POST', `/api/cameras/${enc(id)}/publish-token`, { body: { secret }, auth: 'none' }));
  },
  /** A signed-in administrator gets a publish token for any camera. */
  async publishTokenAsAdmin(id: string): Promise<PublishToken> {
    return parsePublishToken(await request('POST', `/api/cameras/${enc(id)}/publish-token`, { body: {} }));
  },
  async users(): Promise<UserWithGrants[]> {
    return arr(obj(await request('GET', '/api/users'), 'users').users, 'users').map((u) => ({
      ...parseUser(u),
      cameraIds: arr(obj(u, 'user').cameraIds ?? [], 'cameraIds').map((c) => str(c, 'cameraId')),
    }));
  },
  async createUser(username: string, password: string, role: Role): Promise<User> {
    return parseUser(obj(await request('POST', '/api/users', { body: { username, password, role } }), 'user').user);
  },
  async grant(cameraId: string, userId: string): Promise<void> {
    await request('PUT', `/api/cameras/${enc(cameraId)}/grants/${enc(userId)}`);
  },
  async revoke(cameraId: string, userId: string): Promise<void> {
    await request('DELETE', `/api/cameras/${enc(cameraId)}/grants/${enc(userId)}`);
  },
};

/** The link a camera device opens to publish (the secret travels in the fragment, never to a server log). */
export function cameraPageLink(id: string, secret: string): string {
  return new URL(`camera.html#id=${enc(id)}&secret=${enc(secret)}`, location.href).href;
}
