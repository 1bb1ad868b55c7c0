import { createMiddleware } from 'hono/factory';
import type { Claims, Tokens } from './auth.ts';
import { forbidden, tokenExpired, unauthorized } from './errors.ts';
import type { AppEnv, Deps } from './context.ts';
import { accessOfClaims } from './access.ts';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { AuditEntry } from './store.ts';

export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m?.[1];
}

/** The claims of a valid token, or the 401 that says whether it expired or is not valid. */
export function verifiedClaims(tokens: Tokens, token: string): Claims {
  const result = tokens.verify(token);
  if (!result.ok) throw result.code === 'token_expired' ? tokenExpired() : unauthorized(result.message);
  return result.claims;
}

/** A signed-in user (not a camera token); 401 otherwise. */
export const requireUser = (deps: Deps) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token) throw unauthorized();
    const claims = verifiedClaims(deps.tokens, token);
    if (claims.typ !== 'user') throw forbidden('a camera token cannot call this; sign in as a user');
    const user = deps.store.userById(claims.sub);
    if (!user) throw unauthorized('this account no longer exists');
    c.set('user', user);
    await next();
  });

export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  if (c.get('user').role !== 'admin') throw forbidden('only an administrator may do this');
  await next();
});

/** A user, an opened share link or a kiosk (Bearer); what each may do is asked per camera. */
export const requireAccess = (deps: Deps) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token) throw unauthorized();
    const claims = verifiedClaims(deps.tokens, token);
    // A playback token rides in URLs: it opens its own window's media, not the API.
    const access = claims.typ === 'playback' ? undefined : accessOfClaims(deps, claims);
    if (!access) throw forbidden('this token cannot call this; sign in as a user');
    c.set('access', access);
    const user = c.get('access').user;
    if (user) c.set('user', user);
    await next();
  });

/** The caller's address for the audit log. */
export function clientIp(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

/** Appends to the audit log; a failing write is logged, never the caller's problem. */
export function audit(deps: Deps, c: Context, entry: Omit<AuditEntry, 'at' | 'ip'>): void {
  const ip = clientIp(c);
  const row = { ...entry, ...(ip ? { ip } : {}) };
  deps.log.info({ event: 'audit', ...row }, `audit ${entry.action}`);
  void deps.store.audit(row).catch((err: unknown) => deps.log.error({ event: 'audit_write_failed', err }, 'could not append to the audit log'));
}
