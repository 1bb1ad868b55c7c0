// Grants: which rights a user holds on a camera or on every camera of a group. Administrators of
// an organisation manage them; a grant can never give more than the user's role allows.
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv, Deps } from '../context.ts';
import { badRequest, notFound } from '../errors.ts';
import { audit, requireAdmin, requireUser } from '../middleware.ts';
import { RIGHTS, ROLE_RIGHTS, type Right, type User } from '../store/index.ts';
import { GrantAnswer, GrantList } from '../wire/answers/index.ts';
import { describe, reply, validate } from '../wire/index.ts';
import { ID } from './params.ts';

const right = z.enum(RIGHTS as [Right, ...Right[]]);
const setBody = z
  .object({
    userId: z.string().regex(ID, 'not a user id'),
    cameraId: z.string().regex(ID, 'not a camera id').optional(),
    groupId: z.string().regex(ID, 'not a group id').optional(),
    rights: z.array(right).max(RIGHTS.length),
  })
  .strict()
  .refine((b) => (b.cameraId === undefined) !== (b.groupId === undefined), 'name exactly one of cameraId or groupId');
const listQuery = z.object({ userId: z.string().regex(ID, 'not a user id').optional() });
const grantParam = z.object({ id: z.string().regex(ID, 'not a grant id') });

const tag = 'Users and permissions';
const exampleGrant = { id: 'grant_Tq8mV3xN5rYb', orgId: 'org_Hq3nT8vW1cYe', userId: 'u_Bn5tK8wQ3sXe', cameraId: 'cam_c7QxV2mR9aLs', rights: ['live', 'playback'], createdAt: '2026-11-02T08:15:00.000Z', createdBy: 'u_7QxV2mR9kLp4' } as const;
/** requireUser and requireAdmin refuse with these beyond the implied 401s. */
const ADMIN_ERRORS = ['session_revoked', 'forbidden', 'api_key_not_allowed'] as const;
const ACCESS = 'an organisation administrator (grants of their own organisation only)';

/** The rights to store for `user`: those asked (all the role allows when none are named), refused beyond the role. */
export function grantableRights(user: User, asked: readonly Right[] | undefined): Right[] {
  const ceiling = ROLE_RIGHTS[user.role];
  if (asked === undefined) return [...ceiling];
  const beyond = asked.filter((r) => !ceiling.includes(r));
  if (beyond.length > 0) {
    throw badRequest(`a ${user.role} cannot hold ${beyond.join(', ')}; give them another role first, or grant only ${ceiling.join(', ')}`, 'right_not_allowed_for_role');
  }
  return RIGHTS.filter((r) => asked.includes(r));
}

export function grantRoutes(deps: Deps) {
  return new Hono<AppEnv>()
    .use(requireUser(deps), requireAdmin)
    .get(
      '/',
      describe({
        summary: 'List grants',
        description: 'Every grant of the caller\'s organisation, or of one user with `userId` (not paginated). Administrators need no grants and usually have none.',
        tag,
        auth: ['user'],
        access: ACCESS,
        answer: {
          description: 'The grants',
          schema: GrantList,
          example: {
            grants: [
              exampleGrant,
              { id: 'grant_Lw2cH7pS9dKf', orgId: 'org_Hq3nT8vW1cYe', userId: 'u_Bn5tK8wQ3sXe', groupId: 'grp_N4vB8kQ2xT6m', rights: ['live'], createdAt: '2026-11-03T10:00:00.000Z', createdBy: 'u_7QxV2mR9kLp4' },
            ],
          },
        },
        errors: ADMIN_ERRORS,
      }),
      validate('query', listQuery),
      (c) => {
        const { userId } = c.req.valid('query');
        const grants = deps.store.grantsIn(c.get('user').orgId).filter((g) => userId === undefined || g.userId === userId);
        return reply(c, GrantList, { grants });
      },
    )
    .put(
      '/',
      describe({
        summary: 'Set a user\'s rights on a camera or a group',
        description: [
          'Name exactly one of `cameraId` or `groupId`. There is one grant per user and camera (or group): this replaces its rights, or creates it. An empty `rights` removes the grant (the answer is then `{ "grant": null }`).',
          'A viewer can hold only `live` and `playback`; asking for more is refused (400 `right_not_allowed_for_role`). The user, camera and group must be of the caller\'s organisation. Takes effect at the user\'s next request. Audited.',
        ].join('\n\n'),
        tag,
        auth: ['user'],
        access: ACCESS,
        answer: { description: 'The grant now in force, or null when it was removed', schema: GrantAnswer, example: { grant: exampleGrant } },
        errors: [...ADMIN_ERRORS, 'user_not_found', 'camera_not_found', 'group_not_found', 'right_not_allowed_for_role', 'database_unavailable', 'bad_request'],
        example: { userId: 'u_Bn5tK8wQ3sXe', cameraId: 'cam_c7QxV2mR9aLs', rights: ['live', 'playback'] },
      }),
      validate('json', setBody),
      async (c) => {
        const body = c.req.valid('json');
        const orgId = c.get('user').orgId;
        const grantee = deps.store.userById(body.userId);
        if (!grantee || grantee.orgId !== orgId) throw notFound('user', body.userId);
        if (body.cameraId !== undefined && deps.store.camera(body.cameraId)?.orgId !== orgId) throw notFound('camera', body.cameraId);
        if (body.groupId !== undefined && deps.store.group(body.groupId)?.orgId !== orgId) throw notFound('group', body.groupId);
        const rights = grantableRights(grantee, body.rights);
        const grant = await deps.store.setGrant({ orgId, userId: grantee.id, cameraId: body.cameraId, groupId: body.groupId, rights, createdBy: c.get('user').id });
        audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'grant.set', ...(body.cameraId ? { cameraId: body.cameraId } : {}), outcome: 'ok', detail: { userId: grantee.id, groupId: body.groupId, rights } });
        return reply(c, GrantAnswer, { grant: grant ?? null });
      },
    )
    .delete(
      '/:id',
      describe({
        summary: 'Remove a grant',
        description: 'The user loses the grant\'s rights at their next request. Audited.',
        tag,
        auth: ['user'],
        access: ACCESS,
        answer: { status: 204, description: 'Removed' },
        errors: [...ADMIN_ERRORS, 'grant_not_found', 'database_unavailable'],
      }),
      validate('param', grantParam),
      async (c) => {
        const { id } = c.req.valid('param');
        const grant = deps.store.grant(id);
        if (!grant || grant.orgId !== c.get('user').orgId) throw notFound('grant', id);
        await deps.store.deleteGrant(id);
        audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'grant.revoke', ...(grant.cameraId ? { cameraId: grant.cameraId } : {}), outcome: 'ok', detail: { userId: grant.userId, groupId: grant.groupId } });
        return c.body(null, 204);
      },
    );
}
