// Users of an organisation: its administrators list, create, change and remove them.
import { Hono } from 'hono';
import { z } from 'zod';
import { hashPassword } from '../auth.ts';
import type { AppEnv, Deps } from '../context.ts';
import { ApiError, notFound } from '../errors.ts';
import { audit, requireAdmin, requireUser } from '../middleware.ts';
import { ROLES, type Role, type User } from '../store/index.ts';
import { validate } from '../validate.ts';
import { checkPasswordPolicy } from '../accounts/index.ts';
import { publicUser } from './auth.ts';
import { ID } from './params.ts';

export const newUserBody = z.object({
  username: z.string().trim().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'use 1–64 letters, digits or . _ @ -'),
  // The policy (signaling/accounts/policy.ts); the not-the-username rule is checked where the username is known.
  password: z.string().superRefine((p, ctx) => {
    const problem = checkPasswordPolicy(p);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  role: z.enum(ROLES as [Role, ...Role[]]).default('viewer'),
});
const updateBody = z.object({ role: z.enum(ROLES as [Role, ...Role[]]) }).strict();
const userParam = z.object({ id: z.string().regex(ID, 'not a user id') });

export function userRoutes(deps: Deps) {
  const inOrg = (orgId: string, id: string): User => {
    const user = deps.store.userById(id);
    if (!user || user.orgId !== orgId) throw notFound('user', id);
    return user;
  };

  return new Hono<AppEnv>()
    .use(requireUser(deps), requireAdmin)
    .get('/', (c) =>
      c.json({
        users: deps.store.usersOf(c.get('user').orgId).map((u) => ({ ...publicUser(u), cameraIds: deps.store.grantsOf(u.id).flatMap((g) => (g.cameraId ? [g.cameraId] : [])) })),
      }),
    )
    .post('/', validate('json', newUserBody), async (c) => {
      const { username, password, role } = c.req.valid('json');
      const weak = checkPasswordPolicy(password, { username });
      if (weak) throw new ApiError(400, 'invalid_request', `invalid json: password: ${weak}`);
      if (deps.store.userByName(username)) throw new ApiError(409, 'username_taken', `the username "${username}" is taken; choose another`);
      const user = await deps.store.addUser({ orgId: c.get('user').orgId, username, role, passwordHash: await hashPassword(password) });
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'user.create', outcome: 'ok', detail: { userId: user.id, username, role } });
      return c.json({ user: publicUser(user) }, 201);
    })
    // A new role takes effect at the next request: roles are read from here, never from tokens.
    .patch('/:id', validate('param', userParam), validate('json', updateBody), async (c) => {
      const { id } = c.req.valid('param');
      const { role } = c.req.valid('json');
      const from = inOrg(c.get('user').orgId, id).role;
      // The store refuses to demote the last administrator (atomically, whichever node asks).
      const user = (await deps.store.setUserRole(id, role))!;
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'user.role', outcome: 'ok', detail: { userId: id, from, to: role } });
      return c.json({ user: publicUser(user) });
    })
    .delete('/:id', validate('param', userParam), async (c) => {
      const { id } = c.req.valid('param');
      const target = inOrg(c.get('user').orgId, id);
      if (id === c.get('user').id) throw new ApiError(409, 'self_delete', 'you cannot delete your own account; ask another administrator');
      await deps.store.deleteUser(id);
      // Their sessions and TOTP key go with them (their live connections stop with the row: Revocations).
      await deps.accounts.forgetUser(id);
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'user.delete', outcome: 'ok', detail: { userId: id, username: target.username } });
      return c.body(null, 204);
    });
}
