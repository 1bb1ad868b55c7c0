// Signing in and out, sessions and second factors (the state lives in signaling/accounts).
//
// Two ways to hold a session: API clients get `refreshToken` in the JSON body and send it back in
// the body; the browser gets it only in an HttpOnly cookie scoped to /api/auth, which these routes
// accept only with the `X-Mimamori-Client` header and a same-origin `Origin` (a cross-site page
// can send neither without a CORS preflight, which this server never answers). Everything else in
// the API takes Bearer access tokens only, which a cross-site request cannot carry.
import type { Context } from 'hono';
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from '../auth.ts';
import { ACCESS_TOKEN_TTL_S, checkPasswordPolicy, sessionRevoked } from '../accounts/index.ts';
import type { AppEnv, Deps } from '../context.ts';
import { ApiError, notFound, unauthorized } from '../errors.ts';
import { audit, bearerToken, clientIp, freshLookup, requireAdmin, requireUser } from '../middleware.ts';
import { validate } from '../validate.ts';
import type { User } from '../store/index.ts';

export const publicUser = (u: User) => ({ id: u.id, username: u.username, role: u.role, orgId: u.orgId, ...(u.platform ? { platform: true } : {}) });

export const REFRESH_COOKIE = 'mimamori_refresh';
export const CLIENT_HEADER = 'x-mimamori-client';

const loginBody = z.object({
  username: z.string().min(1).max(100),
  password: z.string().min(1).max(200),
  totp: z.string().trim().max(10).optional(),
});
const passwordBody = z.object({ current: z.string().min(1).max(200), next: z.string().min(1).max(400) });
const codeBody = z.object({ code: z.string().trim().min(1).max(10) });
const disableTotpBody = z.object({ password: z.string().min(1).max(200), code: z.string().trim().min(1).max(10) });

const secureRequest = (c: Context) => new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';

/** Cookie-carried credentials need the client header and, when the browser says it, our own origin. */
function assertSameSiteClient(c: Context): void {
  const origin = c.req.header('origin');
  const host = c.req.header('host');
  let sameOrigin = true;
  if (origin !== undefined) {
    try {
      sameOrigin = new URL(origin).host === host;
    } catch {
      sameOrigin = false;
    }
  }
  if (c.req.header(CLIENT_HEADER) !== '1' || !sameOrigin) {
    throw new ApiError(403, 'csrf_refused', 'a session cookie is accepted only from this site\'s own pages with the X-Mimamori-Client: 1 header; API clients send { refreshToken } in the body instead');
  }
}

function refusal(c: Context, status: 401 | 423 | 429, code: string, message: string, retryAfterMs?: number, extra: Record<string, unknown> = {}) {
  if (retryAfterMs !== undefined) c.header('Retry-After', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
  return c.json({ error: { code, message, ...extra } }, status);
}

const whenText = (ms: number) => new Date(ms).toISOString();
/** 423: the name is locked after too many failures (whichever node counted them). */
const locked = (c: Context, untilMs: number) =>
  refusal(c, 423, 'account_locked', `too many failed sign-ins: this account is locked until ${whenText(untilMs)}; wait, or ask an administrator to unlock it`, untilMs - Date.now(), { lockedUntil: whenText(untilMs) });

/** Sign-in rows have no signed-in caller yet: name the account's organisation so its admins see them. */
const orgOf = (user: User | undefined) => (user ? { orgId: user.orgId } : {});

export function authRoutes(deps: Deps) {
  const { accounts } = deps;

  /** An access token for the family, the cookie when the browser holds the session, and the reply body. */
  function issue(c: Context, user: User, sid: string, refreshToken: string | undefined, via: 'body' | 'cookie') {
    const { token, expiresAt } = deps.tokens.sign({ typ: 'user', sub: user.id, sid }, ACCESS_TOKEN_TTL_S);
    if (refreshToken) {
      const endsAt = accounts.sessionEndsAtMs(sid) ?? Date.now();
      setCookie(c, REFRESH_COOKIE, refreshToken, {
        httpOnly: true,
        secure: secureRequest(c),
        sameSite: 'Strict',
        path: '/api/auth',
        maxAge: Math.max(0, Math.floor((endsAt - Date.now()) / 1000)),
      });
    }
    // A browser session keeps its refresh token out of reach of page scripts: cookie only.
    return { token, expiresAt, ...(refreshToken && via === 'body' ? { refreshToken } : {}), user: publicUser(user) };
  }

  const clearCookie = (c: Context) => deleteCookie(c, REFRESH_COOKIE, { path: '/api/auth', secure: secureRequest(c), httpOnly: true, sameSite: 'Strict' });

  /** Counts a failure against the name and the address; locks the name at the threshold. */
  async function loginFailed(c: Context, username: string, user: User | undefined, code: string, message: string) {
    const { lockedUntilMs } = await accounts.loginFailed(username, clientIp(c));
    const actor = user ? `u:${user.id}` : 'anonymous';
    audit(deps, c, { actor, ...orgOf(user), action: 'auth.login_failed', outcome: 'refused', detail: { username, code } });
    deps.log.warn({ event: 'login_failed', username, code, ip: clientIp(c) }, 'login failed');
    if (lockedUntilMs) {
      audit(deps, c, { actor, ...orgOf(user), action: 'auth.lockout', outcome: 'refused', detail: { username, until: whenText(lockedUntilMs) } });
      return locked(c, lockedUntilMs);
    }
    return refusal(c, 401, code, message);
  }

  return new Hono<AppEnv>()
    .post('/login', validate('json', loginBody), async (c) => {
      const { username, password, totp } = c.req.valid('json');
      // Asked before the password is checked: a locked account answers the same to every password,
      // and names that do not exist lock too, so a lockout does not tell that an account exists.
      const gate = accounts.loginGate(username, clientIp(c));
      if (!gate.ok) {
        audit(deps, c, { actor: 'anonymous', action: 'auth.login_failed', outcome: 'refused', detail: { username, code: gate.code } });
        if (gate.code === 'account_locked') {
          return locked(c, gate.untilMs);
        }
        return refusal(c, 429, 'too_many_attempts', `too many failed sign-ins from this address; try again in ${Math.ceil(gate.retryAfterMs / 1000)} s`, gate.retryAfterMs);
      }
      const user = await freshLookup(deps, () => deps.store.userByName(username));
      // Same work whether or not the user exists, so timing does not reveal account names.
      const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
      if (!user || !ok) return loginFailed(c, username, user, 'invalid_credentials', 'wrong username or password');
      if (accounts.totpEnabled(user.id)) {
        if (!totp) return refusal(c, 401, 'totp_required', 'this account has a second factor: enter the 6-digit code from your authenticator app');
        const result = await accounts.useTotpCode(user.id, totp);
        if (result === 'reused') return loginFailed(c, username, user, 'totp_invalid', 'this code was already used; wait for the next code in your authenticator app');
        if (result !== 'ok') return loginFailed(c, username, user, 'totp_invalid', 'the authenticator code is wrong; type the current 6-digit code (check the phone\'s clock if it keeps failing)');
      }
      const lockedUntilMs = await accounts.loginSucceeded(username);
      if (lockedUntilMs !== undefined) {
        audit(deps, c, { actor: `u:${user.id}`, ...orgOf(user), action: 'auth.login_failed', outcome: 'refused', detail: { username, code: 'account_locked' } });
        return locked(c, lockedUntilMs);
      }
      const { sid, refreshToken } = await accounts.openSession(user.id, c.req.header('user-agent'));
      audit(deps, c, { actor: `u:${user.id}`, ...orgOf(user), action: 'auth.login', outcome: 'ok', detail: { sessionId: sid, totp: accounts.totpEnabled(user.id) } });
      // Browsers (the client header) keep the refresh token in the cookie only.
      return c.json(issue(c, user, sid, refreshToken, c.req.header(CLIENT_HEADER) === '1' ? 'cookie' : 'body'));
    })
    .post('/refresh', async (c) => {
      const body = c.req.header('content-type')?.includes('json') ? ((await c.req.json().catch(() => ({}))) as { refreshToken?: unknown }) : {};
      const fromBody = typeof body.refreshToken === 'string' ? body.refreshToken : undefined;
      const fromCookie = fromBody ? undefined : getCookie(c, REFRESH_COOKIE);
      if (!fromBody && !fromCookie) throw new ApiError(401, 'refresh_missing', 'no session to resume: sign in (API clients send { refreshToken })');
      if (fromCookie) assertSameSiteClient(c);
      const outcome = await accounts.refresh((fromBody ?? fromCookie)!, { allowRace: fromCookie !== undefined });
      if (!outcome.ok) {
        if (fromCookie) clearCookie(c);
        const family = outcome.family;
        if (outcome.code === 'refresh_reused' && family) {
          // A refresh token is good once: a second use means a copy is in someone else's hands.
          audit(deps, c, { actor: `u:${family.userId}`, ...orgOf(deps.store.userById(family.userId)), action: 'auth.refresh_reused', outcome: 'refused', detail: { sessionId: family.id, security: true } });
          deps.log.warn({ event: 'refresh_reused', userId: family.userId, sessionId: family.id }, 'a used refresh token was presented again: the session was revoked');
          throw new ApiError(401, 'refresh_reused', 'this sign-in was used from two places, so it was ended for safety; sign in again');
        }
        if (outcome.code === 'session_revoked') throw sessionRevoked();
        if (outcome.code === 'session_expired') throw new ApiError(401, 'session_expired', 'this session has ended (unused too long, or 30 days after sign-in); sign in again');
        throw new ApiError(401, 'refresh_invalid', 'the refresh token is not valid; sign in again');
      }
      const user = deps.store.userById(outcome.family.userId);
      if (!user) {
        await accounts.revokeFamily(outcome.family.id, 'user_deleted');
        throw unauthorized('this account no longer exists');
      }
      return c.json(issue(c, user, outcome.family.id, outcome.refreshToken, fromCookie ? 'cookie' : 'body'));
    })
    .post('/logout', async (c) => {
      // Works with an expired access token too: the cookie or the body's refresh token names the family.
      let sid: string | undefined;
      let userId: string | undefined;
      const bearer = bearerToken(c.req.header('authorization'));
      const verified = bearer ? deps.tokens.verify(bearer) : undefined;
      if (verified?.ok && verified.claims.typ === 'user') ({ sid, sub: userId } = verified.claims);
      if (!sid) {
        const body = c.req.header('content-type')?.includes('json') ? ((await c.req.json().catch(() => ({}))) as { refreshToken?: unknown }) : {};
        const fromBody = typeof body.refreshToken === 'string' ? body.refreshToken : undefined;
        const fromCookie = fromBody ? undefined : getCookie(c, REFRESH_COOKIE);
        if (fromCookie) assertSameSiteClient(c);
        const family = accounts.familyOfRefreshToken((fromBody ?? fromCookie) ?? '');
        if (family) ({ id: sid, userId } = family);
      }
      clearCookie(c);
      if (sid && userId && (await accounts.revokeFamily(sid, 'logout'))) {
        audit(deps, c, { actor: `u:${userId}`, ...orgOf(deps.store.userById(userId)), action: 'auth.logout', outcome: 'ok', detail: { sessionId: sid } });
      }
      return c.body(null, 204);
    })
    .use(requireUser(deps))
    .get('/me', (c) => c.json({ user: publicUser(c.get('user')) }))
    .get('/account', (c) => {
      const user = c.get('user');
      return c.json({ user: publicUser(user), totpEnabled: accounts.totpEnabled(user.id), sessions: accounts.activeSessions(user.id) });
    })
    .post('/logout-all', async (c) => {
      const user = c.get('user');
      const revoked = await accounts.revokeUserSessions(user.id, 'logout_all');
      clearCookie(c);
      audit(deps, c, { actor: `u:${user.id}`, action: 'auth.logout_all', outcome: 'ok', detail: { sessions: revoked.length } });
      return c.json({ revoked: revoked.length });
    })
    .post('/password', validate('json', passwordBody), async (c) => {
      const user = c.get('user');
      const { current, next } = c.req.valid('json');
      const gate = accounts.loginGate(user.username, clientIp(c));
      if (!gate.ok) throw new ApiError(429, gate.code, 'too many failed password checks; try again later');
      if (!(await verifyPassword(current, user.passwordHash))) {
        await accounts.loginFailed(user.username, clientIp(c));
        audit(deps, c, { actor: `u:${user.id}`, action: 'auth.password_change', outcome: 'refused', detail: { code: 'wrong_password' } });
        throw new ApiError(400, 'wrong_password', 'the current password is wrong');
      }
      const problem = checkPasswordPolicy(next, { username: user.username });
      if (problem) throw new ApiError(422, 'weak_password', problem);
      if (next === current) throw new ApiError(422, 'weak_password', 'the new password is the same as the current one; choose a new one');
      const passwordHash = await hashPassword(next);
      await deps.store.setUserPassword(user.id, passwordHash);
      // Everyone else who knew the old password is signed out; this session stays.
      const keep = sidOf(c);
      const revoked = await accounts.revokeUserSessions(user.id, 'password_changed', keep);
      audit(deps, c, { actor: `u:${user.id}`, action: 'auth.password_change', outcome: 'ok', detail: { otherSessionsRevoked: revoked.length } });
      return c.json({ ok: true, otherSessionsRevoked: revoked.length });
    })
    .post('/totp/setup', async (c) => {
      const user = c.get('user');
      const setup = await accounts.beginTotp(user.id, user.username);
      if (!setup) throw new ApiError(409, 'totp_already_enabled', 'two-step sign-in is already on; turn it off first to set up a new authenticator');
      return c.json(setup);
    })
    .post('/totp/confirm', validate('json', codeBody), async (c) => {
      const user = c.get('user');
      const result = await accounts.useTotpCode(user.id, c.req.valid('json').code, { pending: true });
      if (result === 'none') throw new ApiError(409, 'totp_not_started', 'start the set-up first (POST /api/auth/totp/setup), or it is already on');
      if (result !== 'ok') throw new ApiError(400, 'totp_invalid', 'the code does not match; scan the code again and type the current 6-digit code');
      audit(deps, c, { actor: `u:${user.id}`, action: 'auth.totp_enabled', outcome: 'ok' });
      return c.json({ totpEnabled: true });
    })
    .delete('/totp', validate('json', disableTotpBody), async (c) => {
      const user = c.get('user');
      const { password, code } = c.req.valid('json');
      if (!accounts.totpEnabled(user.id)) throw new ApiError(409, 'totp_not_enabled', 'two-step sign-in is not on');
      const gate = accounts.loginGate(user.username, clientIp(c));
      if (!gate.ok) throw new ApiError(429, gate.code, 'too many failed checks; try again later');
      const passwordOk = await verifyPassword(password, user.passwordHash);
      const codeOk = passwordOk && (await accounts.useTotpCode(user.id, code)) === 'ok';
      if (!passwordOk || !codeOk) {
        await accounts.loginFailed(user.username, clientIp(c));
        audit(deps, c, { actor: `u:${user.id}`, action: 'auth.totp_disabled', outcome: 'refused' });
        throw new ApiError(400, passwordOk ? 'totp_invalid' : 'wrong_password', passwordOk ? 'the authenticator code is wrong or was already used' : 'the password is wrong');
      }
      await accounts.disableTotp(user.id);
      audit(deps, c, { actor: `u:${user.id}`, action: 'auth.totp_disabled', outcome: 'ok' });
      return c.json({ totpEnabled: false });
    });

  function sidOf(c: Context): string | undefined {
    const bearer = bearerToken(c.req.header('authorization'));
    const v = bearer ? deps.tokens.verify(bearer) : undefined;
    return v?.ok && v.claims.typ === 'user' ? v.claims.sid : undefined;
  }
}

/** Administrators: lift a lockout, sign a user out everywhere (mounted under /api/users). */
export function accountAdminRoutes(deps: Deps) {
  const target = (c: Context<AppEnv>, id: string): User => {
    const admin = c.get('user');
    const user = deps.store.userById(id);
    // An administrator manages the accounts of their own organisation (the platform admin: all).
    if (!user || (user.orgId !== admin.orgId && !admin.platform)) throw notFound('user', id);
    return user;
  };
  return new Hono<AppEnv>()
    .use('/:id/unlock', requireUser(deps), requireAdmin)
    .use('/:id/logout-all', requireUser(deps), requireAdmin)
    .post('/:id/unlock', async (c) => {
      const user = target(c, c.req.param('id'));
      const wasLocked = await deps.accounts.unlock(user.username);
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'auth.unlock', outcome: 'ok', detail: { userId: user.id, wasLocked } });
      return c.json({ unlocked: true, wasLocked });
    })
    .post('/:id/logout-all', async (c) => {
      const user = target(c, c.req.param('id'));
      const revoked = await deps.accounts.revokeUserSessions(user.id, 'admin_revoked');
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'auth.logout_all', outcome: 'ok', detail: { userId: user.id, sessions: revoked.length, byAdmin: true } });
      return c.json({ revoked: revoked.length });
    });
}
