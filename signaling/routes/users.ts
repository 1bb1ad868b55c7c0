import { Hono } from 'hono';
import { z } from 'zod';
import { hashPassword } from '../auth.ts';
import type { AppEnv, Deps } from '../context.ts';
import { ApiError } from '../errors.ts';
import { requireAdmin, requireUser } from '../middleware.ts';
import { validate } from '../validate.ts';
import { publicUser } from './auth.ts';

const createBody = z.object({
  username: z.string().trim().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'use 1–64 letters, digits or . _ @ -'),
  password: z.string().min(10, 'at least 10 characters').max(200),
  role: z.enum(['admin', 'viewer']).default('viewer'),
});

export function userRoutes(deps: Deps) {
  return new Hono<AppEnv>()
    .use(requireUser(deps), requireAdmin)
    .get('/', (c) =>
      c.json({
        users: deps.store.users.map((u) => ({ ...publicUser(u), cameraIds: deps.store.grantsOf(u.id).map((g) => g.cameraId) })),
      }),
    )
    .post('/', validate('json', createBody), async (c) => {
      const { username, password, role } = c.req.valid('json');
      if (deps.store.userByName(username)) throw new ApiError(409, 'username_taken', `the username "${username}" is taken; choose another`);
      const user = await deps.store.addUser({ username, role, passwordHash: await hashPassword(password) });
      deps.log.info({ event: 'user_created', userId: user.id, role, by: c.get('user').id }, 'user created');
      return c.json({ user: publicUser(user) }, 201);
    });
}
