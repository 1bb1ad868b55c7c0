// Users of an organisation: its administrators list, create, change and remove them.
import { Hono } from 'hono';
import { z } from 'zod';
import { hashPassword } from '../auth.ts';
import type { AppEnv, Deps } from '../context.ts';
import { ApiError, notFound } from '../errors.ts';
import { audit, requireAdmin, requireUser } from '../middleware.ts';
import { ROLES, type Role, type User } from '../store/index.ts';
import { UserAnswer, UserList } from '../wire/answers/index.ts';
import { describe, reply, validate } from '../wire/index.ts';
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

const tag = 'Users and permissions';
/** requireUser and requireAdmin refuse with these beyond the implied 401s. */
const ADMIN_ERRORS = ['session_revoked', 'forbidden', 'api_key_not_allowed'] as const;
const ACCESS = 'an organisation administrator (users of their own organisation only)';

export function userRoutes(deps: Deps) {
  const inOrg = (orgId: string, id: string): User => {
    const user = deps.store.userById(id);
    if (!user || user.orgId !== orgId) throw notFound('user', id);
    return user;
  };

  return new Hono<AppEnv>()
    .use(requireUser(deps), requireAdmin)
    .get(
      '/',
      describe({
        summary: 'List the users of my organisation',
        tag,
        auth: ['user'],
        access: ACCESS,
        answer: {
          description: 'Every user of the organisation (not paginated)',
          schema: UserList,
          example: {
            users: [
              { id: 'u_7QxV2mR9kLp4', username: 'akiko', role: 'admin', orgId: 'org_Hq3nT8vW1cYe', cameraIds: [] },
              { id: 'u_Bn5tK8wQ3sXe', username: 'guard.night', role: 'viewer', orgId: 'org_Hq3nT8vW1cYe', cameraIds: ['cam_c7QxV2mR9aLs', 'cam_P2dF6hJ9kW4z'] },
            ],
          },
        },
        errors: ADMIN_ERRORS,
      }),
      (c) =>
        reply(c, UserList, {
          users: deps.store.usersOf(c.get('user').orgId).map((u) => ({ ...publicUser(u), cameraIds: deps.store.grantsOf(u.id).flatMap((g) => (g.cameraId ? [g.cameraId] : [])) })),
        }),
    )
    .post(
      '/',
      describe({
        summary: 'Create a user',
        description: 'Creates a user in the caller\'s organisation with no grants yet (an admin needs none; others see no camera until granted one). The password must have 12 to 200 characters and must not contain the username or be a well-known or keyboard-run password (400 `invalid_request`, the message says which rule). Usernames are unique across the whole service. Audited.',
        tag,
        auth: ['user'],
        access: ACCESS,
        answer: { status: 201, description: 'Created', schema: UserAnswer, example: { user: { id: 'u_Bn5tK8wQ3sXe', username: 'guard.night', role: 'viewer', orgId: 'org_Hq3nT8vW1cYe' } } },
        errors: [...ADMIN_ERRORS, 'username_taken', 'database_unavailable', 'bad_request'],
        example: { username: 'guard.night', password: 'lantern orbit meadow 42', role: 'viewer' },
      }),
      validate('json', newUserBody),
      async (c) => {
        const { username, password, role } = c.req.valid('json');
        const weak = checkPasswordPolicy(password, { username });
        if (weak) throw new ApiError(400, 'invalid_request', `invalid json: password: ${weak}`);
        if (deps.store.userByName(username)) throw new ApiError(409, 'username_taken', `the username "${username}" is taken; choose another`);
        const user = await deps.store.addUser({ orgId: c.get('user').orgId, username, role, passwordHash: await hashPassword(password) });
        audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'user.create', outcome: 'ok', detail: { userId: user.id, username, role } });
        return reply(c, UserAnswer, { user: publicUser(user) }, 201);
      },
    )
    // A new role takes effect at the next request: roles are read from here, never from tokens.
    .patch(
      '/:id',
      describe({
        summary: 'Change a user\'s role',
        description: 'Takes effect at the user\'s next request. Their grants stay as they are (a right beyond the new role is no longer honoured). The last administrator of the organisation cannot be demoted (409 `last_admin`). Audited.',
        tag,
        auth: ['user'],
        access: ACCESS,
        answer: { description: 'The user with the new role', schema: UserAnswer, example: { user: { id: 'u_Bn5tK8wQ3sXe', username: 'guard.night', role: 'operator', orgId: 'org_Hq3nT8vW1cYe' } } },
        errors: [...ADMIN_ERRORS, 'user_not_found', 'last_admin', 'database_unavailable', 'bad_request'],
        example: { role: 'operator' },
      }),
      validate('param', userParam),
      validate('json', updateBody),
      async (c) => {
        const { id } = c.req.valid('param');
        const { role } = c.req.valid('json');
        const from = inOrg(c.get('user').orgId, id).role;
        // The store refuses to demote the last administrator (atomically, whichever node asks).
        const user = await deps.store.setUserRole(id, role);
        if (!user) throw notFound('user', id); // deleted meanwhile (by another request, on any node)
        audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'user.role', outcome: 'ok', detail: { userId: id, from, to: role } });
        return reply(c, UserAnswer, { user: publicUser(user) });
      },
    )
    .delete(
      '/:id',
      describe({
        summary: 'Delete a user',
        description: 'Removes the user with their grants, settings, sessions and second factor; their live connections stop. An administrator cannot delete their own account (409 `self_delete`), nor the last administrator (409 `last_admin`). Audited.',
        tag,
        auth: ['user'],
        access: ACCESS,
        answer: { status: 204, description: 'Deleted' },
        errors: [...ADMIN_ERRORS, 'user_not_found', 'self_delete', 'last_admin', 'database_unavailable'],
      }),
      validate('param', userParam),
      async (c) => {
        const { id } = c.req.valid('param');
        const target = inOrg(c.get('user').orgId, id);
        if (id === c.get('user').id) throw new ApiError(409, 'self_delete', 'you cannot delete your own account; ask another administrator');
        await deps.store.deleteUser(id);
        // Their sessions and TOTP key go with them (their live connections stop with the row: Revocations).
        await deps.accounts.forgetUser(id);
        audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'user.delete', outcome: 'ok', detail: { userId: id, username: target.username } });
        return c.body(null, 204);
      },
    );
}
