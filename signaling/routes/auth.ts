import { Hono } from 'hono';
import { z } from 'zod';
import { DUMMY_PASSWORD_HASH, USER_TOKEN_TTL_S, verifyPassword } from '../auth.ts';
import type { AppEnv, Deps } from '../context.ts';
import { ApiError } from '../errors.ts';
import { requireUser } from '../middleware.ts';
import { validate } from '../validate.ts';
import type { User } from '../store.ts';

export const publicUser = (u: User) => ({ id: u.id, username: u.username, role: u.role });

const loginBody = z.object({
  username: z.string().min(1).max(100),
  password: z.string().min(1).max(200),
});

export function authRoutes(deps: Deps) {
  return new Hono<AppEnv>()
    .post('/login', validate('json', loginBody), async (c) => {
      const { username, password } = c.req.valid('json');
      const user = deps.store.userByName(username);
      // Same work whether or not the user exists, so timing does not reveal account names.
      const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
      if (!user || !ok) {
        deps.log.warn({ event: 'login_failed', username, ip: c.req.header('x-forwarded-for') }, 'login failed');
        throw new ApiError(401, 'invalid_credentials', 'wrong username or password');
      }
      deps.log.info({ event: 'login', userId: user.id }, 'login');
      const { token, expiresAt } = deps.tokens.sign({ typ: 'user', sub: user.id, role: user.role }, USER_TOKEN_TTL_S);
      return c.json({ token, expiresAt, user: publicUser(user) });
    })
    .get('/me', requireUser(deps), (c) => c.json({ user: publicUser(c.get('user')) }));
}
