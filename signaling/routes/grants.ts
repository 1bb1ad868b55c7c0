// Grants: which rights a user holds on a camera or on every camera of a group. Administrators of
// an organisation manage them; a grant can never give more than the user's role allows.
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv, Deps } from '../context.ts';
import { badRequest, notFound } from '../errors.ts';
import { audit, requireAdmin, requireUser } from '../middleware.ts';
import { RIGHTS, ROLE_RIGHTS, type Right, type User } from '../store/index.ts';
import { validate } from '../validate.ts';
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
    .get('/', validate('query', listQuery), (c) => {
      const { userId } = c.req.valid('query');
      const grants = deps.store.grantsIn(c.get('user').orgId).filter((g) => userId === undefined || g.userId === userId);
      return c.json({ grants });
    })
    .put('/', validate('json', setBody), async (c) => {
      const body = c.req.valid('json');
      const orgId = c.get('user').orgId;
      const grantee = deps.store.userById(body.userId);
      if (!grantee || grantee.orgId !== orgId) throw notFound('user', body.userId);
      if (body.cameraId !== undefined && deps.store.camera(body.cameraId)?.orgId !== orgId) throw notFound('camera', body.cameraId);
      if (body.groupId !== undefined && deps.store.group(body.groupId)?.orgId !== orgId) throw notFound('group', body.groupId);
      const rights = grantableRights(grantee, body.rights);
      const grant = await deps.store.setGrant({ orgId, userId: grantee.id, cameraId: body.cameraId, groupId: body.groupId, rights, createdBy: c.get('user').id });
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'grant.set', ...(body.cameraId ? { cameraId: body.cameraId } : {}), outcome: 'ok', detail: { userId: grantee.id, groupId: body.groupId, rights } });
      return c.json({ grant: grant ?? null });
    })
    .delete('/:id', validate('param', grantParam), async (c) => {
      const { id } = c.req.valid('param');
      const grant = deps.store.grant(id);
      if (!grant || grant.orgId !== c.get('user').orgId) throw notFound('grant', id);
      await deps.store.deleteGrant(id);
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'grant.revoke', ...(grant.cameraId ? { cameraId: grant.cameraId } : {}), outcome: 'ok', detail: { userId: grant.userId, groupId: grant.groupId } });
      return c.body(null, 204);
    });
}
