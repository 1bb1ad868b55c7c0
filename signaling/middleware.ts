import { createMiddleware } from 'hono/factory';
import type { Claims, Tokens } from './auth.ts';
import { forbidden, tokenExpired, unauthorized } from './errors.ts';
import type { AppEnv, Deps } from './context.ts';

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
