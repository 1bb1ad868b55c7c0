// The REST API of the signaling server, and the signed-in session (see Session below).
// Answers are parsed with the schemas the server documents them with (signaling/wire/answers):
// fields the client does not know are dropped, missing or wrong ones are a ShapeError. Errors
// become ApiError with the server's `{ error: { code, message } }` (status 0 for network failures
// and time-outs).
import type { z } from 'zod';
import { session } from './storage.ts';
import type { Role } from '../signaling/wire/domain.ts';
import type { ErrorCode } from '../signaling/wire/errors.ts';
import * as authAnswers from '../signaling/wire/answers/auth.ts';
import * as cameraAnswers from '../signaling/wire/answers/cameras.ts';
import * as siteAnswers from '../signaling/wire/answers/sites.ts';
import * as exportAnswers from '../signaling/wire/answers/exports.ts';
import * as kioskAnswers from '../signaling/wire/answers/kiosks.ts';
import * as meAnswers from '../signaling/wire/answers/me.ts';
import * as playbackAnswers from '../signaling/wire/answers/playback.ts';
import * as shareAnswers from '../signaling/wire/answers/shares.ts';
import * as healthAnswers from '../signaling/wire/answers/cameraHealth.ts';
import * as layoutAnswers from '../signaling/wire/answers/layouts.ts';

export type { Role };
export type User = z.infer<typeof authAnswers.PublicUser>;
export type AccountInfo = z.infer<typeof authAnswers.Account>;
export type Camera = z.infer<typeof cameraAnswers.CameraView>;
// The camera list and the sites tree (GET /api/cameras pages, GET /api/sites).
export type CameraState = Camera['state'];
export type CameraPage = z.infer<typeof cameraAnswers.CameraList>;
export interface CameraPageParams {
  /** 1–1000 cameras per page. */
  limit?: number;
  cursor?: string;
  /** Part of a name as typed, or a camera id. */
  q?: string;
  /** A camera group: its cameras and those of the groups below it. */
  group?: string;
  state?: CameraState | 'attention';
  /** `match`: with q, names that start with it first (a search box), then the other matches. */
  sort?: 'name' | 'attention' | 'match';
  /** Only these cameras (comma-separated, at most 200): see api.camerasNamed. */
  ids?: string;
}

/** Cameras the server names at once by `ids`. */
const IDS_PER_CALL = 200;
export type SiteTree = z.infer<typeof siteAnswers.SiteTree>;
export type Site = SiteTree['sites'][number];
export type SiteCounts = SiteTree['all'];

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
const AUTH_FAILURES = new Set<ErrorCode>(['unauthorized', 'token_expired', 'session_revoked', 'session_expired', 'refresh_reused', 'kiosk_revoked', 'share_expired', 'share_revoked']);
export const isAuthFailure = (code: string): boolean => AUTH_FAILURES.has(code as ErrorCode);

// --- Wire checks ---------------------------------------------------------------------------------

/** An answer that does not have the shape the server documents (shown as any unexpected error). */
export class ShapeError extends ApiError {
  constructor(what: string) {
    super(0, 'bad_response', `unexpected answer from the server (${what})`);
  }
}

/** `data` parsed with the schema the server documents the answer of `what` with; ShapeError names the first wrong field. */
export function parseAnswer<S extends z.ZodType>(schema: S, data: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.length ? `${what}.${issue.path.map(String).join('.')}` : what;
  throw new ShapeError(`${field}: ${issue?.message ?? 'invalid'}`);
}

/** ms since the epoch of a time its schema has checked as ISO 8601: the pages compute with numbers. */
const msOf = (iso: string): number => Date.parse(iso);

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
      return raw ? parseAnswer(authAnswers.PublicUser, JSON.parse(raw), 'stored user') : null;
    } catch {
      return null;
    }
  },
  /** The access token is known to stay valid for at least `ms` more (false when its expiry is unknown). */
  validFor(ms: number): boolean {
    return memoryToken !== null && memoryExpiresAt > Date.now() + ms;
  },
  /** The server's current view of the signed-in user (a reload then opens with it). */
  rememberUser(user: User): void {
    if (memoryToken) session.set(USER_KEY, JSON.stringify(user));
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
      const signedIn = parseAnswer(authAnswers.SignedIn, await request('POST', '/api/auth/refresh', { auth: 'none' }), 'refresh');
      auth.save(signedIn.token, signedIn.user, Date.parse(signedIn.expiresAt));
      return signedIn.user;
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

/** What request() answers for a 304 to its `revalidate.ifNoneMatch`. */
export const NOT_MODIFIED: unique symbol = Symbol('not modified');

interface RequestOptions {
  body?: unknown;
  auth?: Credential;
  /** Ask with If-None-Match (a 304 answers NOT_MODIFIED); `etag` is told the answer's ETag. */
  revalidate?: { ifNoneMatch: string | undefined; etag: (tag: string | null) => void };
  /** Internal: this is the retry after a refresh. */
  retried?: boolean;
}

export async function request(method: string, path: string, { body, auth: mode = 'session', revalidate, retried = false }: RequestOptions = {}): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json', [CLIENT_HEADER]: '1' };
  if (revalidate?.ifNoneMatch) headers['if-none-match'] = revalidate.ifNoneMatch;
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
  if (res.status === 304 && revalidate?.ifNoneMatch) return NOT_MODIFIED;
  if (res.ok) revalidate?.etag(res.headers.get('etag'));
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
        return request(method, path, { body, auth: mode, ...(revalidate ? { revalidate } : {}), retried: true });
      }
      unauthorizedHandler?.(err);
    }
    throw err;
  }
  return data;
}

/** The client keeps the expiry as a Date (camera.ts renews ahead of it). */
export type PublishToken = Omit<z.infer<typeof cameraAnswers.PublishToken>, 'expiresAt'> & { expiresAt: Date };
function publishToken(data: unknown): PublishToken {
  const answer = parseAnswer(cameraAnswers.PublishToken, data, 'publish token');
  return { ...answer, expiresAt: new Date(answer.expiresAt) };
}

// --- Recordings, exports, shares, kiosks, preferences (playback/API.md) ----------------------------
// Times the pages compute with become ms numbers after parsing; everything else is as answered.

export type Gap = z.infer<typeof playbackAnswers.WindowGap>;
export type TimelineData = z.infer<typeof playbackAnswers.Timeline>;
export type TimelineEvent = TimelineData['events'][number];
type WindowAnswer = z.infer<typeof playbackAnswers.PlaybackStarted>;
export type PlaybackWindow = Omit<WindowAnswer, 'expiresAt'> & { expiresAt: number };
export type PlaybackEntry = PlaybackWindow['entries'][number];
type ExportAnswer = z.infer<typeof exportAnswers.ExportView>;
export type ExportStatus = ExportAnswer['status'];
export type ExportJob = Omit<ExportAnswer, 'createdAt' | 'gaps'> & { createdAt: number; gaps: Gap[] };
function exportJob(answer: ExportAnswer): ExportJob {
  return { ...answer, createdAt: msOf(answer.createdAt), gaps: answer.gaps ?? [] };
}
export type ShareKind = (typeof shareAnswers.SHARE_KINDS)[number];
type ShareAnswer = z.infer<typeof shareAnswers.ShareView>;
export type Share = Omit<ShareAnswer, 'expiresAt' | 'createdAt' | 'revokedAt'> & { expiresAt: number; createdAt: number; revokedAt?: number };
function share(answer: ShareAnswer): Share {
  const { revokedAt, ...rest } = answer;
  return { ...rest, expiresAt: msOf(answer.expiresAt), createdAt: msOf(answer.createdAt), ...(revokedAt !== undefined ? { revokedAt: msOf(revokedAt) } : {}) };
}
export type ShareInfo = Omit<z.infer<typeof shareAnswers.ShareInfo>, 'expiresAt'> & { expiresAt: number };
export type OpenedShare = Omit<z.infer<typeof shareAnswers.OpenedShare>, 'expiresAt' | 'linkExpiresAt'> & { expiresAt: number; linkExpiresAt: number };
/** Tiles on a screen: 1, 2×2, 3×3 or 4×4. */
export type Layout = z.infer<typeof meAnswers.gridLayout>;
export const LAYOUTS: readonly Layout[] = [1, 4, 9, 16];
export const isLayout = (v: unknown): v is Layout => v === 1 || v === 4 || v === 9 || v === 16;
export type Kiosk = z.infer<typeof kioskAnswers.KioskView>;
export type KioskSession = Omit<z.infer<typeof kioskAnswers.KioskSession>, 'expiresAt'> & { expiresAt: number };

export type CameraHealthList = z.infer<typeof healthAnswers.CameraHealthList>;
export type CameraHealth = CameraHealthList['cameras'][number];
export type HealthFilter = (typeof healthAnswers.HEALTH_FILTERS)[number];
export interface CameraHealthParams {
  group?: string;
  state?: HealthFilter;
  limit?: number;
  cursor?: string;
  dayStartMs?: number;
}

const enc = encodeURIComponent;

function cameraListPath(params: CameraPageParams): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') q.set(key, String(value));
  const query = q.toString();
  return `/api/cameras${query ? `?${query}` : ''}`;
}

/** The camera list's pages as last read, by path, with their ETags; and the list they made. */
const listKept: { pages: Map<string, { etag: string; page: CameraPage }>; list: Camera[] | undefined } = { pages: new Map(), list: undefined };

export const api = {
  /** Signs in; the refresh token comes back only as the HttpOnly cookie. `totp`: the authenticator code when asked (totp_required). */
  async login(username: string, password: string, totp?: string): Promise<{ token: string; user: User; expiresAt: number }> {
    const body = { username, password, ...(totp ? { totp } : {}) };
    const signedIn = parseAnswer(authAnswers.SignedIn, await request('POST', '/api/auth/login', { body, auth: 'none' }), 'login');
    return { token: signedIn.token, user: signedIn.user, expiresAt: Date.parse(signedIn.expiresAt) };
  },
  /** Ends this session (the cookie's family); works with an expired access token too. */
  async logout(): Promise<void> {
    await request('POST', '/api/auth/logout', { auth: auth.token() ? 'session' : 'none' }).catch(() => undefined);
    auth.clear();
  },
  /** Ends every session of this user, on every device, and their live connections. */
  async logoutAll(): Promise<number> {
    const { revoked } = parseAnswer(authAnswers.SessionsRevoked, await request('POST', '/api/auth/logout-all'), 'logout-all');
    auth.clear();
    return revoked;
  },
  async account(): Promise<AccountInfo> {
    return parseAnswer(authAnswers.Account, await request('GET', '/api/auth/account'), 'account');
  },
  async totpSetup(): Promise<{ secret: string; uri: string }> {
    return parseAnswer(authAnswers.TotpSetup, await request('POST', '/api/auth/totp/setup'), 'totp');
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
    return parseAnswer(authAnswers.SignedInUser, await request('GET', '/api/auth/me'), 'me').user;
  },
  /** One camera the caller may see (404 camera_not_found otherwise). */
  async camera(id: string): Promise<Camera> {
    return parseAnswer(cameraAnswers.CameraAnswer, await request('GET', `/api/cameras/${enc(id)}`), 'camera').camera;
  },
  /**
   * Every camera the user may see, page by page. Pages read before are asked for again with their
   * ETag, so a screen that refreshes its list every few seconds costs a 304 per page while nothing
   * changed; then the very array answered last time is answered again (callers must not change it).
   */
  async cameras(): Promise<Camera[]> {
    const all: Camera[] = [];
    const asked = new Set<string>();
    let changed = listKept.pages.size === 0;
    let cursor: string | undefined;
    do {
      const path = cameraListPath({ limit: 1000, ...(cursor ? { cursor } : {}) });
      asked.add(path);
      const kept = listKept.pages.get(path);
      let etag: string | null = null;
      const answer = await request('GET', path, { revalidate: { ifNoneMatch: kept?.etag, etag: (tag) => (etag = tag) } });
      let page: CameraPage;
      if (answer === NOT_MODIFIED && kept) page = kept.page;
      else {
        page = parseAnswer(cameraAnswers.CameraList, answer, 'cameras');
        changed = true;
        // The tags are unique to the page a server process built (for one caller's rights), so
        // another user signed in later in this tab never gets a 304 meant for these pages.
        if (etag) listKept.pages.set(path, { etag, page });
        else listKept.pages.delete(path);
      }
      all.push(...page.cameras);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    for (const path of listKept.pages.keys()) if (!asked.has(path)) listKept.pages.delete(path);
    if (!changed && listKept.list) return listKept.list;
    listKept.list = all;
    return all;
  },
  /** One page of the camera list, filtered and sorted by the server; pass `nextCursor` back as `cursor` for the next. */
  async cameraPage(params: CameraPageParams = {}): Promise<CameraPage> {
    return parseAnswer(cameraAnswers.CameraList, await request('GET', cameraListPath(params)), 'cameras');
  },
  /**
   * The cameras with these ids that the caller may see (others are left out), for screens that
   * hold ids and show names: a group's members, a person's grants, a display's cameras.
   */
  async camerasNamed(ids: readonly string[]): Promise<Camera[]> {
    const unique = [...new Set(ids)];
    const out: Camera[] = [];
    for (let i = 0; i < unique.length; i += IDS_PER_CALL) {
      const page = await api.cameraPage({ ids: unique.slice(i, i + IDS_PER_CALL).join(','), limit: IDS_PER_CALL });
      out.push(...page.cameras);
    }
    return out;
  },
  /** The camera groups as the sites tree, with counts of the caller's cameras in each. */
  async sites(): Promise<SiteTree> {
    return parseAnswer(siteAnswers.SiteTree, await request('GET', '/api/sites'), 'sites');
  },
  async createCamera(name: string): Promise<{ camera: Camera; secret: string }> {
    return parseAnswer(cameraAnswers.CreatedCamera, await request('POST', '/api/cameras', { body: { name } }), 'camera');
  },
  async deleteCamera(id: string): Promise<void> {
    await request('DELETE', `/api/cameras/${enc(id)}`);
  },
  async updateRecording(id: string, recording: { enabled: boolean; retentionDays: number }): Promise<Camera> {
    return parseAnswer(cameraAnswers.CameraAnswer, await request('PATCH', `/api/cameras/${enc(id)}`, { body: { recording } }), 'camera').camera;
  },
  async rotateSecret(id: string): Promise<string> {
    return parseAnswer(cameraAnswers.RotatedSecret, await request('POST', `/api/cameras/${enc(id)}/secret`), 'secret').secret;
  },
  /** A camera exchanges its secret for a publish token (no user session needed). */
  async publishTokenWithSecret(id: string, secret: string): Promise<PublishToken> {
    return publishToken(await request('POST', `/api/cameras/${enc(id)}/publish-token`, { body: { secret }, auth: 'none' }));
  },
  /** A signed-in administrator gets a publish token for any camera. */
  async publishTokenAsAdmin(id: string): Promise<PublishToken> {
    return publishToken(await request('POST', `/api/cameras/${enc(id)}/publish-token`, { body: {} }));
  },

  // --- Recordings -------------------------------------------------------------------------------
  async timeline(cameraId: string, fromMs: number, toMs: number, cred: Credential = 'session'): Promise<TimelineData> {
    const q = `from=${Math.floor(fromMs)}&to=${Math.ceil(toMs)}`;
    return parseAnswer(playbackAnswers.Timeline, await request('GET', `/api/cameras/${enc(cameraId)}/timeline?${q}`, { auth: cred }), 'timeline');
  },
  /** A playback window (≤ 1 h) starting at or after `atMs`; `toMs` bounds it (a clip share). */
  async playback(cameraId: string, atMs: number, toMs?: number, cred: Credential = 'session'): Promise<PlaybackWindow> {
    const body = toMs === undefined ? { at: Math.floor(atMs) } : { at: Math.floor(atMs), to: Math.ceil(toMs) };
    const started = parseAnswer(playbackAnswers.PlaybackStarted, await request('POST', `/api/cameras/${enc(cameraId)}/playback`, { body, auth: cred }), 'playback');
    return { ...started, expiresAt: msOf(started.expiresAt) };
  },
  async createExport(cameraId: string, fromMs: number, toMs: number, name?: string): Promise<ExportJob> {
    const body = { from: Math.floor(fromMs), to: Math.ceil(toMs), ...(name ? { name } : {}) };
    return exportJob(parseAnswer(exportAnswers.OneExport, await request('POST', `/api/cameras/${enc(cameraId)}/exports`, { body }), 'export').export);
  },
  async exports(): Promise<ExportJob[]> {
    return parseAnswer(exportAnswers.ExportList, await request('GET', '/api/exports'), 'exports').exports.map(exportJob);
  },
  async export(id: string): Promise<ExportJob> {
    return exportJob(parseAnswer(exportAnswers.OneExport, await request('GET', `/api/exports/${enc(id)}`), 'export').export);
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
    return share(parseAnswer(shareAnswers.ShareAnswer, await request('POST', '/api/shares', { body }), 'share').share);
  },
  async shares(): Promise<Share[]> {
    return parseAnswer(shareAnswers.ShareList, await request('GET', '/api/shares'), 'shares').shares.map(share);
  },
  async revokeShare(id: string): Promise<void> {
    await request('DELETE', `/api/shares/${enc(id)}`);
  },
  /** What a share link is, before opening it (no sign-in). */
  async shareInfo(id: string): Promise<ShareInfo> {
    const info = parseAnswer(shareAnswers.ShareInfo, await request('GET', `/api/shares/${enc(id)}`, { auth: 'none' }), 'share');
    return { ...info, expiresAt: msOf(info.expiresAt) };
  },
  async openShare(id: string, password?: string): Promise<OpenedShare> {
    const opened = parseAnswer(shareAnswers.OpenedShare, await request('POST', `/api/shares/${enc(id)}/open`, { body: password ? { password } : {}, auth: 'none' }), 'opened share');
    return { ...opened, expiresAt: msOf(opened.expiresAt), linkExpiresAt: msOf(opened.linkExpiresAt) };
  },

  // --- Kiosk displays ---------------------------------------------------------------------------
  async kiosks(): Promise<Kiosk[]> {
    return parseAnswer(kioskAnswers.KioskList, await request('GET', '/api/kiosks'), 'kiosks').kiosks;
  },
  async createKiosk(input: { name: string; cameraIds: string[]; layout: Layout; rotateSeconds: number }): Promise<{ kiosk: Kiosk; token: string; url: string }> {
    return parseAnswer(kioskAnswers.CreatedKiosk, await request('POST', '/api/kiosks', { body: input }), 'kiosk');
  },
  async rotateKioskToken(id: string): Promise<{ token: string; url: string }> {
    return parseAnswer(kioskAnswers.NewKioskToken, await request('POST', `/api/kiosks/${enc(id)}/token`), 'kiosk token');
  },
  async deleteKiosk(id: string): Promise<void> {
    await request('DELETE', `/api/kiosks/${enc(id)}`);
  },
  /** A kiosk display exchanges its device token for an access token and its layout. */
  async kioskSession(token: string): Promise<KioskSession> {
    const started = parseAnswer(kioskAnswers.KioskSession, await request('POST', '/api/kiosk/session', { body: { token }, auth: 'none' }), 'kiosk session');
    return { ...started, expiresAt: msOf(started.expiresAt) };
  },

  // --- Camera health (health.ts) ----------------------------------------------------------------
  /** Each camera's state and recording, needs-attention first, with counts per site; `dayStartMs`: the viewer's midnight. */
  async cameraHealth(params: CameraHealthParams = {}): Promise<CameraHealthList> {
    const q = new URLSearchParams();
    if (params.group) q.set('group', params.group);
    if (params.state) q.set('state', params.state);
    if (params.limit !== undefined) q.set('limit', String(params.limit));
    if (params.cursor) q.set('cursor', params.cursor);
    if (params.dayStartMs !== undefined) q.set('dayStart', String(Math.floor(params.dayStartMs)));
    const qs = q.toString();
    return parseAnswer(healthAnswers.CameraHealthList, await request('GET', `/api/camera-health${qs ? `?${qs}` : ''}`), 'camera health');
  },

  // --- Preferences ------------------------------------------------------------------------------
  async preferences(): Promise<{ layout?: Layout }> {
    return parseAnswer(meAnswers.Preferences, await request('GET', '/api/me/preferences'), 'preferences').preferences;
  },
  async savePreferences(preferences: { layout: Layout }): Promise<void> {
    await request('PUT', '/api/me/preferences', { body: preferences });
  },

  // --- Saved layouts (grids people keep) ----------------------------------------------------------
  /** The organisation's layouts, then the caller's own; tiles of cameras the caller may not see are null. */
  async layouts(): Promise<SavedLayout[]> {
    return parseAnswer(layoutAnswers.LayoutList, await request('GET', '/api/layouts'), 'layouts').layouts;
  },
  /** `scope: 'organisation'` needs an administrator (403 otherwise). */
  async createLayout(layout: NewSavedLayout): Promise<SavedLayout> {
    return parseAnswer(layoutAnswers.LayoutAnswer, await request('POST', '/api/layouts', { body: layout }), 'layout').layout;
  },
  async updateLayout(id: string, change: SavedLayoutChange): Promise<SavedLayout> {
    return parseAnswer(layoutAnswers.LayoutAnswer, await request('PATCH', `/api/layouts/${enc(id)}`, { body: change }), 'layout').layout;
  },
  async deleteLayout(id: string): Promise<void> {
    await request('DELETE', `/api/layouts/${enc(id)}`);
  },
};

/** A saved grid: size × size tiles, each a camera id or null (empty, or a camera the caller may not see). */
export type SavedLayout = z.infer<typeof layoutAnswers.LayoutView>;
export type LayoutScope = SavedLayout['scope'];
export interface NewSavedLayout {
  scope?: LayoutScope;
  name: string;
  size: SavedLayout['size'];
  cameraIds?: (string | null)[];
}
export type SavedLayoutChange = Partial<Pick<SavedLayout, 'name' | 'size' | 'cameraIds'>>;

/** An absolute link for a path the server gave (share and kiosk URLs are relative). */
export function absoluteUrl(path: string): string {
  return new URL(path, location.href).href;
}

/** The link a camera device opens to publish (the secret travels in the fragment, never to a server log). */
export function cameraPageLink(id: string, secret: string): string {
  return new URL(`camera.html#id=${enc(id)}&secret=${enc(secret)}`, location.href).href;
}
