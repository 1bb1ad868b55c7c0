// The REST API of the signaling server, and the signed-in session (see Session below).
// Responses are checked for the fields the pages use; errors become ApiError with the server's
// `{ error: { code, message } }` (status 0 for network failures and time-outs).
import { session } from './storage.ts';

import { ROLES, type Role } from '../signaling/wire/domain.ts';

export type { Role };
export interface User {
  id: string;
  username: string;
  role: Role;
}
export interface UserWithGrants extends User {
  cameraIds: string[];
}
export interface AccountInfo {
  user: User;
  totpEnabled: boolean;
  sessions: { id: string; createdAtMs: number; lastUsedAtMs: number; userAgent?: string }[];
}
export interface Camera {
  id: string;
  name: string;
  live: boolean;
  recording: { enabled: boolean; retentionDays: number };
  /** What the signed-in user may do with it (live, playback, export, share, manage). */
  rights: string[];
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

/**
 * Codes that mean "this token is gone": sign in again (user session), or stop (a revoked kiosk
 * display, an expired or revoked share link). Each page decides in its onAuthFailure.
 */
const AUTH_FAILURES = new Set(['unauthorized', 'token_expired', 'session_revoked', 'session_expired', 'refresh_reused', 'kiosk_revoked', 'share_expired', 'share_revoked']);
export const isAuthFailure = (code: string): boolean => AUTH_FAILURES.has(code);

// --- Wire checks (also used by adminApi.ts) ------------------------------------------------------

export class ShapeError extends ApiError {
  constructor(what: string) {
    super(0, 'bad_response', `unexpected answer from the server (${what})`);
  }
}
export function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ShapeError(what);
  return v as Record<string, unknown>;
}
export function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new ShapeError(what);
  return v;
}
export function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ShapeError(what);
  return v;
}
function optNum(v: unknown, what: string): number | undefined {
  return v === undefined || v === null ? undefined : num(v, what);
}
/** ms since the epoch from a number or an ISO string. */
export function ms(v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw new ShapeError(what);
  return t;
}
export function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new ShapeError(what);
  return v;
}
function parseRole(v: unknown): Role {
  if (!ROLES.includes(v as Role)) throw new ShapeError('role');
  return v as Role;
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
    rights: Array.isArray(o.rights) ? o.rights.filter((x): x is string => typeof x === 'string') : [],
  };
}

// --- Session ------------------------------------------------------------------------------------
//
// The access token (10 minutes) is kept in memory and mirrored in sessionStorage: tab-scoped, gone
// with the tab, and it lets a move between the signed-in pages (live ↔ playback) go on without a
// round-trip. The refresh token never reaches page scripts: it lives in an HttpOnly, SameSite=Strict
// cookie scoped to /api/auth. A new tab or a reload without a usable access token resumes the
// session through POST /api/auth/refresh (cookie + X-Mimamori-Client header). The access token is
// refreshed ahead of its expiry, and a request refused with token_expired is refreshed and retried once.

const TOKEN_KEY = 'mimamori.token';
const USER_KEY = 'mimamori.user';
const EXPIRES_KEY = 'mimamori.tokenExpires';
/** Sent with every request: cookie-carrying auth routes refuse requests without it (CSRF). */
const CLIENT_HEADER = 'x-mimamori-client';
/** Refresh this long before the access token expires (and never sooner than REFRESH_MIN_MS from now). */
const REFRESH_AHEAD_MS = 90_000;
const REFRESH_MIN_MS = 5_000;

let memoryToken: string | null = session.get(TOKEN_KEY);
let memoryExpiresAt: number = Number(session.get(EXPIRES_KEY) ?? 0) || 0;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;

export const auth = {
  token(): string | null {
    return memoryToken;
  },
  user(): User | null {
    try {
      const raw = session.get(USER_KEY);
      return raw ? parseUser(JSON.parse(raw)) : null;
    } catch {
      return null;
    }
  },
  /** `expiresAt` (ms) schedules the refresh ahead of expiry; without it the token is used until refused. */
  save(token: string, user: User, expiresAt?: number): void {
    memoryToken = token;
    memoryExpiresAt = expiresAt ?? 0;
    session.set(TOKEN_KEY, token);
    session.set(USER_KEY, JSON.stringify(user));
    if (expiresAt) session.set(EXPIRES_KEY, String(expiresAt));
    else session.remove(EXPIRES_KEY);
    scheduleRefresh();
  },
  clear(): void {
    memoryToken = null;
    memoryExpiresAt = 0;
    clearTimeout(refreshTimer);
    session.remove(TOKEN_KEY);
    session.remove(USER_KEY);
    session.remove(EXPIRES_KEY);
  },
};

function scheduleRefresh(): void {
  clearTimeout(refreshTimer);
  if (!memoryExpiresAt || typeof window === 'undefined') return;
  const delay = Math.max(REFRESH_MIN_MS, memoryExpiresAt - Date.now() - REFRESH_AHEAD_MS);
  refreshTimer = setTimeout(() => void refreshSession().catch(() => undefined), delay);
}
// A laptop waking up or a tab coming back may have missed the timer: refresh if the token is (nearly) stale.
if (typeof document !== 'undefined') {
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && memoryToken && memoryExpiresAt && memoryExpiresAt - Date.now() < REFRESH_AHEAD_MS) {
      void refreshSession().catch(() => undefined);
    }
  });
}

if (memoryToken) scheduleRefresh();

let refreshing: Promise<User | null> | undefined;
/**
 * Trades the refresh cookie for a new access token (one request at a time). Resolves with the user,
 * or null when there is no session to resume (signed out, revoked, expired); rejects on network errors.
 */
export function refreshSession(): Promise<User | null> {
  refreshing ??= (async () => {
    try {
      const o = obj(await request('POST', '/api/auth/refresh', { auth: 'none' }), 'refresh');
      const user = parseUser(o.user);
      auth.save(str(o.token, 'token'), user, ms(o.expiresAt, 'expiresAt'));
      return user;
    } catch (err) {
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) {
        auth.clear();
        return null;
      }
      throw err;
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

let unauthorizedHandler: ((err: ApiError) => void) | undefined;
/** Called when a request made with the session token is refused with 401 (expired, revoked). */
export function onUnauthorized(handler: (err: ApiError) => void): void {
  unauthorizedHandler = handler;
}

// --- Requests -----------------------------------------------------------------------------------

const TIMEOUT_MS = 15_000;

/** 'session' (default): the signed-in user's token; 'none': no Authorization header; or a share/kiosk token. */
export type Credential = 'session' | 'none' | { bearer: string };

interface RequestOptions {
  body?: unknown;
  auth?: Credential;
  /** Internal: this is the retry after a refresh. */
  retried?: boolean;
}

export async function request(method: string, path: string, { body, auth: mode = 'session', retried = false }: RequestOptions = {}): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json', [CLIENT_HEADER]: '1' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const token = mode === 'session' ? auth.token() : mode === 'none' ? null : mode.bearer;
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
      cache: 'no-store',
      credentials: 'same-origin',
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
    if (res.status === 401 && token && mode === 'session') {
      // The access token ran out (a sleeping laptop, a throttled timer): refresh once and retry.
      if (err.code === 'token_expired' && !retried && (await refreshSession().catch(() => null))) {
        return request(method, path, { body, auth: mode, retried: true });
      }
      unauthorizedHandler?.(err);
    }
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

// --- Recordings, exports, shares, kiosks, preferences (playback/API.md) ----------------------------

export interface Gap {
  fromMs: number;
  toMs: number;
  reason: string;
}
export interface TimelineEvent {
  atMs: number;
  kind: string;
  detail?: string;
}
export interface TimelineData {
  cameraId: string;
  fromMs: number;
  toMs: number;
  spans: { fromMs: number; toMs: number }[];
  gaps: Gap[];
  events: TimelineEvent[];
  /** Newest recorded instant (spool included); undefined when nothing is recorded. */
  liveEdgeMs?: number;
}
export interface PlaybackEntry {
  wallMs: number;
  mediaS: number;
  durS: number;
}
export interface PlaybackWindow {
  url: string;
  token: string;
  expiresAt: number;
  startMs: number;
  requestedMs: number;
  /** Set when the requested instant fell in a gap (playback starts after it). */
  gap?: Gap;
  /** Gaps between the entries of this window. */
  gaps: Gap[];
  endMs: number;
  /** The window reaches the live edge: its playlist grows. */
  live: boolean;
  entries: PlaybackEntry[];
}
export type ExportStatus = 'queued' | 'running' | 'done' | 'failed';
export interface ExportJob {
  id: string;
  cameraId: string;
  fromMs: number;
  toMs: number;
  name: string;
  status: ExportStatus;
  progress: number;
  bytes?: number;
  error?: { code: string; message: string };
  createdAt: number;
  startMs?: number;
  durationMs?: number;
  gaps: Gap[];
  downloadUrl?: string;
}
export type ShareKind = 'clip' | 'live';
export interface Share {
  id: string;
  cameraId: string;
  kind: ShareKind;
  fromMs?: number;
  toMs?: number;
  expiresAt: number;
  hasPassword: boolean;
  createdAt: number;
  revokedAt?: number;
  url: string;
  uses: number;
}
export interface ShareInfo {
  needsPassword: boolean;
  kind: ShareKind;
  expiresAt: number;
}
export interface OpenedShare {
  token: string;
  expiresAt: number;
  kind: ShareKind;
  camera: { id: string; name: string };
  fromMs?: number;
  toMs?: number;
}
/** Tiles on a screen: 1, 2×2, 3×3 or 4×4. */
export type Layout = 1 | 4 | 9 | 16;
export const LAYOUTS: readonly Layout[] = [1, 4, 9, 16];
export const isLayout = (v: unknown): v is Layout => v === 1 || v === 4 || v === 9 || v === 16;
export interface Kiosk {
  id: string;
  name: string;
  cameraIds: string[];
  layout: Layout;
  rotateSeconds: number;
  createdAt: number;
}
export interface KioskSession {
  accessToken: string;
  expiresAt: number;
  kiosk: { id: string; name: string; layout: Layout; rotateSeconds: number; cameras: { id: string; name: string }[] };
}

function parseGap(v: unknown): Gap {
  const o = obj(v, 'gap');
  return { fromMs: num(o.fromMs, 'gap.fromMs'), toMs: num(o.toMs, 'gap.toMs'), reason: typeof o.reason === 'string' ? o.reason : 'unknown' };
}
function parseGaps(v: unknown): Gap[] {
  return v === undefined || v === null ? [] : arr(v, 'gaps').map(parseGap);
}
function parseLayout(v: unknown): Layout {
  if (!isLayout(v)) throw new ShapeError('layout');
  return v;
}
function parseTimeline(v: unknown): TimelineData {
  const o = obj(v, 'timeline');
  return {
    cameraId: str(o.cameraId, 'cameraId'),
    fromMs: ms(o.from, 'from'),
    toMs: ms(o.to, 'to'),
    spans: arr(o.spans, 'spans').map((s) => {
      const so = obj(s, 'span');
      return { fromMs: num(so.fromMs, 'span.fromMs'), toMs: num(so.toMs, 'span.toMs') };
    }),
    gaps: parseGaps(o.gaps),
    events: arr(o.events ?? [], 'events').map((e) => {
      const eo = obj(e, 'event');
      return { atMs: num(eo.atMs, 'event.atMs'), kind: str(eo.kind, 'event.kind'), detail: typeof eo.detail === 'string' ? eo.detail : undefined };
    }),
    liveEdgeMs: optNum(o.liveEdgeMs, 'liveEdgeMs'),
  };
}
function parseWindow(v: unknown): PlaybackWindow {
  const o = obj(v, 'playback');
  const entries = arr(o.entries, 'entries').map((e) => {
    const eo = obj(e, 'entry');
    return { wallMs: num(eo.wallMs, 'entry.wallMs'), mediaS: num(eo.mediaS, 'entry.mediaS'), durS: num(eo.durS, 'entry.durS') };
  });
  return {
    url: str(o.url, 'url'),
    token: str(o.token, 'token'),
    expiresAt: ms(o.expiresAt, 'expiresAt'),
    startMs: num(o.startMs, 'startMs'),
    requestedMs: num(o.requestedMs, 'requestedMs'),
    gap: o.gap === undefined || o.gap === null ? undefined : parseGap(o.gap),
    gaps: parseGaps(o.gaps),
    endMs: num(o.endMs, 'endMs'),
    live: o.live === true,
    entries,
  };
}
function parseExport(v: unknown): ExportJob {
  const o = obj(v, 'export');
  const status = str(o.status, 'export.status');
  if (status !== 'queued' && status !== 'running' && status !== 'done' && status !== 'failed') throw new ShapeError('export.status');
  const e = o.error === undefined || o.error === null ? undefined : obj(o.error, 'export.error');
  return {
    id: str(o.id, 'export.id'),
    cameraId: str(o.cameraId, 'export.cameraId'),
    fromMs: num(o.fromMs, 'export.fromMs'),
    toMs: num(o.toMs, 'export.toMs'),
    name: typeof o.name === 'string' ? o.name : '',
    status,
    progress: typeof o.progress === 'number' ? Math.min(1, Math.max(0, o.progress)) : 0,
    bytes: optNum(o.bytes, 'export.bytes'),
    error: e ? { code: String(e.code ?? 'error'), message: String(e.message ?? '') } : undefined,
    createdAt: ms(o.createdAt, 'export.createdAt'),
    startMs: optNum(o.startMs, 'export.startMs'),
    durationMs: optNum(o.durationMs, 'export.durationMs'),
    gaps: parseGaps(o.gaps),
    downloadUrl: typeof o.downloadUrl === 'string' ? o.downloadUrl : undefined,
  };
}
function parseShareKind(v: unknown): ShareKind {
  if (v !== 'clip' && v !== 'live') throw new ShapeError('share.kind');
  return v;
}
function parseShare(v: unknown): Share {
  const o = obj(v, 'share');
  return {
    id: str(o.id, 'share.id'),
    cameraId: str(o.cameraId, 'share.cameraId'),
    kind: parseShareKind(o.kind),
    fromMs: optNum(o.fromMs, 'share.fromMs'),
    toMs: optNum(o.toMs, 'share.toMs'),
    expiresAt: ms(o.expiresAt, 'share.expiresAt'),
    hasPassword: o.hasPassword === true,
    createdAt: ms(o.createdAt, 'share.createdAt'),
    revokedAt: o.revokedAt === undefined || o.revokedAt === null ? undefined : ms(o.revokedAt, 'share.revokedAt'),
    url: str(o.url, 'share.url'),
    uses: typeof o.uses === 'number' ? o.uses : 0,
  };
}
function parseKiosk(v: unknown): Kiosk {
  const o = obj(v, 'kiosk');
  return {
    id: str(o.id, 'kiosk.id'),
    name: str(o.name, 'kiosk.name'),
    cameraIds: arr(o.cameraIds, 'kiosk.cameraIds').map((c) => str(c, 'kiosk.cameraId')),
    layout: parseLayout(o.layout),
    rotateSeconds: num(o.rotateSeconds, 'kiosk.rotateSeconds'),
    createdAt: ms(o.createdAt, 'kiosk.createdAt'),
  };
}
function parseKioskSession(v: unknown): KioskSession {
  const o = obj(v, 'kiosk session');
  const k = obj(o.kiosk, 'kiosk');
  return {
    accessToken: str(o.accessToken, 'accessToken'),
    expiresAt: ms(o.expiresAt, 'expiresAt'),
    kiosk: {
      id: str(k.id, 'kiosk.id'),
      name: str(k.name, 'kiosk.name'),
      layout: parseLayout(k.layout),
      rotateSeconds: num(k.rotateSeconds, 'kiosk.rotateSeconds'),
      cameras: arr(k.cameras, 'kiosk.cameras').map((c) => {
        const co = obj(c, 'kiosk.camera');
        return { id: str(co.id, 'camera.id'), name: str(co.name, 'camera.name') };
      }),
    },
  };
}

const enc = encodeURIComponent;

export const api = {
  /** Signs in; the refresh token comes back only as the HttpOnly cookie. `totp`: the authenticator code when asked (totp_required). */
  async login(username: string, password: string, totp?: string): Promise<{ token: string; user: User; expiresAt: number }> {
    const body = { username, password, ...(totp ? { totp } : {}) };
    const o = obj(await request('POST', '/api/auth/login', { body, auth: 'none' }), 'login');
    return { token: str(o.token, 'token'), user: parseUser(o.user), expiresAt: ms(o.expiresAt, 'expiresAt') };
  },
  /** Ends this session (the cookie's family); works with an expired access token too. */
  async logout(): Promise<void> {
    await request('POST', '/api/auth/logout', { auth: auth.token() ? 'session' : 'none' }).catch(() => undefined);
    auth.clear();
  },
  /** Ends every session of this user, on every device, and their live connections. */
  async logoutAll(): Promise<number> {
    const revoked = num(obj(await request('POST', '/api/auth/logout-all'), 'logout-all').revoked, 'revoked');
    auth.clear();
    return revoked;
  },
  async account(): Promise<AccountInfo> {
    const o = obj(await request('GET', '/api/auth/account'), 'account');
    return {
      user: parseUser(o.user),
      totpEnabled: o.totpEnabled === true,
      sessions: arr(o.sessions, 'sessions').map((v) => {
        const so = obj(v, 'session');
        return { id: str(so.id, 'session.id'), createdAtMs: num(so.createdAtMs, 'createdAtMs'), lastUsedAtMs: num(so.lastUsedAtMs, 'lastUsedAtMs'), userAgent: typeof so.userAgent === 'string' ? so.userAgent : undefined };
      }),
    };
  },
  async totpSetup(): Promise<{ secret: string; uri: string }> {
    const o = obj(await request('POST', '/api/auth/totp/setup'), 'totp');
    return { secret: str(o.secret, 'secret'), uri: str(o.uri, 'uri') };
  },
  async totpConfirm(code: string): Promise<void> {
    await request('POST', '/api/auth/totp/confirm', { body: { code } });
  },
  async totpDisable(password: string, code: string): Promise<void> {
    await request('DELETE', '/api/auth/totp', { body: { password, code } });
  },
  /** Other sessions of this user are signed out; this one stays. */
  async changePassword(current: string, next: string): Promise<void> {
    await request('POST', '/api/auth/password', { body: { current, next } });
  },
  async me(): Promise<User> {
    return parseUser(obj(await request('GET', '/api/auth/me'), 'me').user);
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

  // --- Recordings -------------------------------------------------------------------------------
  async timeline(cameraId: string, fromMs: number, toMs: number, cred: Credential = 'session'): Promise<TimelineData> {
    const q = `from=${Math.floor(fromMs)}&to=${Math.ceil(toMs)}`;
    return parseTimeline(await request('GET', `/api/cameras/${enc(cameraId)}/timeline?${q}`, { auth: cred }));
  },
  /** A playback window (≤ 1 h) starting at or after `atMs`; `toMs` bounds it (a clip share). */
  async playback(cameraId: string, atMs: number, toMs?: number, cred: Credential = 'session'): Promise<PlaybackWindow> {
    const body = toMs === undefined ? { at: Math.floor(atMs) } : { at: Math.floor(atMs), to: Math.ceil(toMs) };
    return parseWindow(await request('POST', `/api/cameras/${enc(cameraId)}/playback`, { body, auth: cred }));
  },
  async createExport(cameraId: string, fromMs: number, toMs: number, name?: string): Promise<ExportJob> {
    const body = { from: Math.floor(fromMs), to: Math.ceil(toMs), ...(name ? { name } : {}) };
    return parseExport(obj(await request('POST', `/api/cameras/${enc(cameraId)}/exports`, { body }), 'export').export);
  },
  async exports(): Promise<ExportJob[]> {
    return arr(obj(await request('GET', '/api/exports'), 'exports').exports, 'exports').map(parseExport);
  },
  async export(id: string): Promise<ExportJob> {
    return parseExport(obj(await request('GET', `/api/exports/${enc(id)}`), 'export').export);
  },
  async deleteExport(id: string): Promise<void> {
    await request('DELETE', `/api/exports/${enc(id)}`);
  },

  // --- Share links ------------------------------------------------------------------------------
  async createShare(input: { cameraId: string; kind: ShareKind; fromMs?: number; toMs?: number; expiresInHours: number; password?: string }): Promise<Share> {
    const body = {
      cameraId: input.cameraId,
      kind: input.kind,
      ...(input.kind === 'clip' ? { from: input.fromMs, to: input.toMs } : {}),
      expiresInHours: input.expiresInHours,
      ...(input.password ? { password: input.password } : {}),
    };
    return parseShare(obj(await request('POST', '/api/shares', { body }), 'share').share);
  },
  async shares(): Promise<Share[]> {
    return arr(obj(await request('GET', '/api/shares'), 'shares').shares, 'shares').map(parseShare);
  },
  async revokeShare(id: string): Promise<void> {
    await request('DELETE', `/api/shares/${enc(id)}`);
  },
  /** What a share link is, before opening it (no sign-in). */
  async shareInfo(id: string): Promise<ShareInfo> {
    const o = obj(await request('GET', `/api/shares/${enc(id)}`, { auth: 'none' }), 'share');
    return { needsPassword: o.needsPassword === true, kind: parseShareKind(o.kind), expiresAt: ms(o.expiresAt, 'expiresAt') };
  },
  async openShare(id: string, password?: string): Promise<OpenedShare> {
    const o = obj(await request('POST', `/api/shares/${enc(id)}/open`, { body: password ? { password } : {}, auth: 'none' }), 'opened share');
    const c = obj(o.camera, 'camera');
    return {
      token: str(o.token, 'token'),
      expiresAt: ms(o.expiresAt, 'expiresAt'),
      kind: parseShareKind(o.kind),
      camera: { id: str(c.id, 'camera.id'), name: str(c.name, 'camera.name') },
      fromMs: optNum(o.fromMs, 'fromMs'),
      toMs: optNum(o.toMs, 'toMs'),
    };
  },

  // --- Kiosk displays ---------------------------------------------------------------------------
  async kiosks(): Promise<Kiosk[]> {
    return arr(obj(await request('GET', '/api/kiosks'), 'kiosks').kiosks, 'kiosks').map(parseKiosk);
  },
  async createKiosk(input: { name: string; cameraIds: string[]; layout: Layout; rotateSeconds: number }): Promise<{ kiosk: Kiosk; token: string; url: string }> {
    const o = obj(await request('POST', '/api/kiosks', { body: input }), 'kiosk');
    return { kiosk: parseKiosk(o.kiosk), token: str(o.token, 'token'), url: str(o.url, 'url') };
  },
  async rotateKioskToken(id: string): Promise<{ token: string; url: string }> {
    const o = obj(await request('POST', `/api/kiosks/${enc(id)}/token`), 'kiosk token');
    return { token: str(o.token, 'token'), url: str(o.url, 'url') };
  },
  async deleteKiosk(id: string): Promise<void> {
    await request('DELETE', `/api/kiosks/${enc(id)}`);
  },
  /** A kiosk display exchanges its device token for an access token and its layout. */
  async kioskSession(token: string): Promise<KioskSession> {
    return parseKioskSession(await request('POST', '/api/kiosk/session', { body: { token }, auth: 'none' }));
  },

  // --- Preferences ------------------------------------------------------------------------------
  async preferences(): Promise<{ layout?: Layout }> {
    const p = obj(obj(await request('GET', '/api/me/preferences'), 'preferences').preferences ?? {}, 'preferences');
    return { layout: isLayout(p.layout) ? p.layout : undefined };
  },
  async savePreferences(preferences: { layout: Layout }): Promise<void> {
    await request('PUT', '/api/me/preferences', { body: preferences });
  },
};

/** An absolute link for a path the server gave (share and kiosk URLs are relative). */
export function absoluteUrl(path: string): string {
  return new URL(path, location.href).href;
}

/** The link a camera device opens to publish (the secret travels in the fragment, never to a server log). */
export function cameraPageLink(id: string, secret: string): string {
  return new URL(`camera.html#id=${enc(id)}&secret=${enc(secret)}`, location.href).href;
}
