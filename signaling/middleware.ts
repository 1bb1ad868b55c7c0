import { createMiddleware } from 'hono/factory';
import type { Claims, Tokens, VerifyResult } from './auth.ts';
import { ApiError, forbidden, tokenExpired, unauthorized } from './errors.ts';
import type { AppEnv, Deps } from './context.ts';
import { accessOf, accessOfClaims } from './access.ts';
import { apiKeyNotAllowed, authenticateApiKey, isApiKeyToken } from './apiKeys.ts';
import { sessionRevoked } from './accounts/index.ts';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { ApiKeyScope, User } from './store/index.ts';
import { USER_AGENT_CHARS, type AuditAction, type AuditEvent } from './audit/index.ts';

export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m?.[1];
}

/**
 * A token's claims and expiry, or the 401 that says why not: it expired, it is not valid, or — a
 * user's token — the account is gone or its session family was signed out. Every way in (HTTP,
 * socket.io, WHIP/WHEP, download links) checks tokens here.
 */
export function verifiedToken(deps: Pick<Deps, 'tokens' | 'store' | 'accounts'>, token: string): { claims: Claims; exp: number } {
  if (isApiKeyToken(token)) {
    // An API key (signaling/apiKeys.ts): checked against its stored hash, revocation and expiry.
    const key = authenticateApiKey(deps.store, token);
    const exp = key.expiresAt ? Math.floor(Date.parse(key.expiresAt) / 1000) : Math.floor(Date.now() / 1000) + 100 * 365 * 86_400;
    return { claims: { typ: 'apikey', sub: key.id }, exp };
  }
  const result = VerifiedTokens.of(deps.tokens).verify(token);
  if (!result.ok) throw result.code === 'token_expired' ? tokenExpired() : unauthorized(result.message);
  const { claims } = result;
  if (claims.typ === 'user') {
    if (!deps.store.userById(claims.sub)) throw unauthorized('this account no longer exists');
    assertSessionActive(deps, claims);
  }
  return result;
}

/** Signature checks remembered per Tokens (one per service). */
const verifiedTokens = new WeakMap<Tokens, VerifiedTokens>();
/** Tokens remembered at most (a bound on memory; past it the oldest go). */
const VERIFIED_TOKENS_MAX = 10_000;
/** A remembered signature check is redone after this long, whatever the token's expiry. */
const VERIFIED_TOKEN_KEEP_MS = 60_000;

/**
 * JWTs whose signature checked out, remembered briefly: a browser or an integration sends the
 * same access token with every request, and checking its HMAC and parsing it again was a tenth of
 * a camera page's time. Only that check is saved: the expiry is compared on every use (with the
 * same rule as jsonwebtoken: expired from `exp` on), and verifiedToken still looks up the account
 * and its session on every request, so a revoked session or deleted account stops at once. Only
 * tokens that verified are kept, keyed by the whole token, so nobody fills it without valid tokens.
 */
class VerifiedTokens {
  static of(tokens: Tokens): VerifiedTokens {
    let cache = verifiedTokens.get(tokens);
    if (!cache) verifiedTokens.set(tokens, (cache = new VerifiedTokens(tokens)));
    return cache;
  }

  readonly #tokens: Tokens;
  readonly #checked = new Map<string, { result: VerifyResult & { ok: true }; untilMs: number }>();

  private constructor(tokens: Tokens) {
    this.#tokens = tokens;
  }

  verify(token: string): VerifyResult {
    const now = Date.now();
    const kept = this.#checked.get(token);
    if (kept && now < kept.untilMs) return kept.result;
    if (kept) this.#checked.delete(token);
    // Expired, never seen or seen too long ago: jsonwebtoken decides (and says why it refuses).
    const result = this.#tokens.verify(token);
    if (result.ok) {
      Object.freeze(result.claims); // handed to every later request with this token
      if (this.#checked.size >= VERIFIED_TOKENS_MAX) this.#checked.delete(this.#checked.keys().next().value!);
      this.#checked.set(token, { result, untilMs: Math.min(result.exp * 1000, now + VERIFIED_TOKEN_KEEP_MS) });
    }
    return result;
  }
}

/** Refusals that a node behind on changes made elsewhere could give wrongly (the row is there, just not here yet). */
const MAYBE_STALE = new Set(['session_revoked', 'kiosk_revoked', 'share_not_found', 'camera_not_found', 'invalid_api_key']);

/**
 * Runs a check that reads the store; if it refuses for want of a row another node may have just
 * written (a session opened, a camera or share created a moment ago), catches up with the store
 * once and checks again. Only refusals pay for this; a store that cannot catch up (the database
 * is away) leaves the first answer standing.
 */
export async function fresh<T>(deps: Pick<Deps, 'store'>, check: () => T): Promise<T> {
  try {
    return check();
  } catch (error) {
    const stale = error instanceof ApiError && (MAYBE_STALE.has(error.code) || (error.code === 'unauthorized' && /no longer exists/.test(error.message)));
    if (!stale || deps.store.kind === 'files') throw error;
    try {
      await deps.store.sync();
    } catch {
      throw error;
    }
    return check();
  }
}

/** `find()`, or — when it finds nothing and another node may have just written it — `find()` after catching up. */
export async function freshLookup<T>(deps: Pick<Deps, 'store'>, find: () => T | undefined): Promise<T | undefined> {
  const found = find();
  if (found !== undefined || deps.store.kind === 'files') return found;
  try {
    await deps.store.sync();
  } catch {
    return undefined;
  }
  return find();
}

/** A user token's session family (sid) was signed out, revoked or has ended: 401 `session_revoked`. */
export function assertSessionActive(deps: Pick<Deps, 'accounts'>, claims: Claims): void {
  if (claims.typ === 'user' && !deps.accounts.sessionActive(claims.sid, claims.sub)) throw sessionRevoked();
}

/** A signed-in user (not a camera token, not an API key: 403 `api_key_not_allowed`); 401 otherwise. */
export const requireUser = (deps: Deps) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token) throw unauthorized();
    const { claims } = await fresh(deps, () => verifiedToken(deps, token));
    if (claims.typ === 'apikey') throw apiKeyNotAllowed(`${c.req.method} ${c.req.path}`);
    if (claims.typ !== 'user') throw forbidden('a camera token cannot call this; sign in as a user');
    c.set('user', deps.store.userById(claims.sub)!);
    await next();
  });

/**
 * A signed-in user or an API key (the camera routes): `access` says what either may do; `user`
 * is set only for a user. Routes behind it that are for people only add requireAdmin or check
 * `access.user`.
 */
export const requireUserOrKey = (deps: Deps) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token) throw unauthorized();
    const access = await fresh(deps, () => {
      const { claims } = verifiedToken(deps, token);
      if (claims.typ === 'user') return accessOf(deps, `u:${claims.sub}`);
      if (claims.typ === 'apikey') return accessOf(deps, `a:${claims.sub}`);
      throw forbidden('this token cannot call this; sign in as a user or use an API key');
    });
    c.set('access', access);
    if (access.user) c.set('user', access.user);
    await next();
  });

/** An administrator of their organisation (an API key never is: 403 `api_key_not_allowed`). */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const user = c.get('user') as User | undefined;
  if (!user) throw apiKeyNotAllowed(`${c.req.method} ${c.req.path}`);
  if (user.role !== 'admin') throw forbidden('only an administrator may do this');
  await next();
});

/**
 * After requireUserOrKey: an administrator of their organisation, or an API key of `scope` (what
 * that key may then do is still limited to its group and its administrator's rights).
 */
export const requireAdminOrKey = (scope: ApiKeyScope) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const key = c.get('access').apiKey;
    if (key) {
      if (key.scope !== scope) throw new ApiError(403, 'right_missing', `this API key (scope "${key.scope}") may not do this; ask an administrator for a key of scope "${scope}"`);
    } else if ((c.get('user') as User | undefined)?.role !== 'admin') {
      throw forbidden('only an administrator may do this');
    }
    await next();
  });

/** Only the service's own operators (platform admins): organisations and contract ends. */
export const requirePlatform = createMiddleware<AppEnv>(async (c, next) => {
  const user = c.get('user') as User | undefined;
  if (!user) throw apiKeyNotAllowed(`${c.req.method} ${c.req.path}`);
  if (!user.platform) throw forbidden('only the operator of this service may do this');
  await next();
});

/** A user, an opened share link, a kiosk or an API key (Bearer); what each may do is asked per camera. */
export const requireAccess = (deps: Deps) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token) throw unauthorized();
    const access = await fresh(deps, () => {
      const { claims } = verifiedToken(deps, token);
      // A playback token rides in URLs: it opens its own window's media, not the API.
      return claims.typ === 'playback' ? undefined : accessOfClaims(deps, claims);
    });
    if (!access) throw forbidden('this token cannot call this; sign in as a user');
    c.set('access', access);
    const user = c.get('access').user;
    if (user) c.set('user', user);
    await next();
  });

/** The caller's address (audit log, sign-in throttle): set per request by the app (clientAddress.ts). */
export function clientIp(c: Context): string | undefined {
  return (c.get('clientIp') as string | undefined) ?? peerAddress(c);
}

/** The socket's peer (a load balancer, when there is one). */
export function peerAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

/** What a route says happened; the action must be one of AUDIT_ACTIONS (the one list admins filter by). */
export type AuditInput = Omit<AuditEvent, 'at' | 'ip' | 'requestId' | 'userAgent' | 'action'> & { action: AuditAction };

/** Where a request or socket event came from (socket.io events have no Hono Context). */
export interface AuditOrigin {
  ip?: string;
  requestId?: string;
  userAgent?: string;
  /** The acting user, when known: their organisation goes on the row. */
  user?: User;
}

/**
 * Appends to the audit log from a route; a failing write is logged, never the caller's problem.
 * The row is ordered at once; await the result only where the row must be on disk before the
 * answer goes out (it resolves within one group commit, milliseconds).
 */
export function audit(deps: Deps, c: Context<AppEnv>, entry: AuditInput): Promise<void> {
  const user = c.get('user') as User | undefined;
  // A call made with an API key leaves this row instead of the generic `api_key.call` (see createApp).
  if (entry.actor.startsWith('a:')) c.set('audited', true);
  return auditEvent(deps, { ip: clientIp(c), requestId: c.get('requestId'), userAgent: c.req.header('user-agent'), user }, entry);
}

/** audit() for socket.io events and other code without a Context. */
export function auditEvent(deps: Deps, origin: AuditOrigin, entry: AuditInput): Promise<void> {
  // An API key acts under its name: the row says which key (`a:<id>`) and what it is called.
  const key = entry.actor.startsWith('a:') ? deps.store.apiKey(entry.actor.slice(2)) : undefined;
  if (key) entry = { ...entry, detail: { ...entry.detail, apiKey: key.name } };
  // The acting user's organisation, else the key's, else the camera's (share links, kiosks, anonymous callers).
  const orgId = entry.orgId ?? origin.user?.orgId ?? key?.orgId ?? (entry.cameraId ? deps.store.camera(entry.cameraId)?.orgId : undefined);
  const row: AuditEvent = {
    ...entry,
    ...(orgId ? { orgId } : {}),
    ...(origin.ip ? { ip: origin.ip } : {}),
    ...(origin.requestId ? { requestId: origin.requestId } : {}),
    ...(origin.userAgent ? { userAgent: origin.userAgent.slice(0, USER_AGENT_CHARS) } : {}),
  };
  // The log line carries no detail: details can name files or links; the audit row keeps them.
  deps.log.info({ event: 'audit', actor: row.actor, action: row.action, outcome: row.outcome, cameraId: row.cameraId, orgId: row.orgId, ip: row.ip, requestId: row.requestId }, `audit ${row.action}`);
  return deps.audit.append(row).then(
    () => undefined,
    (err: unknown) => deps.log.error({ event: 'audit_write_failed', action: row.action, err }, 'could not append to the audit log; check free space and permissions of <dataDir>/audit'),
  );
}

