// Camera groups (a site, a floor): one grant covers every camera in them. Everyone sees the groups
// of the cameras they may see (to sort their camera list); administrators change them.
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv, Deps } from '../context.ts';
import { badRequest, notFound } from '../errors.ts';
import { audit, requireAdmin, requireUser } from '../middleware.ts';
import type { CameraGroup } from '../store/index.ts';
import { GroupAnswer, GroupList } from '../wire/answers/index.ts';
import { describe, reply, validate } from '../wire/index.ts';
import { ID } from './params.ts';

const fields = {
  name: z.string().trim().min(1).max(100),
  cameraIds: z.array(z.string().regex(ID, 'not a camera id')).max(10_000),
};
const createBody = z.object(fields).strict();
const updateBody = z.object(fields).partial().strict();
const groupParam = z.object({ id: z.string().regex(ID, 'not a group id') });

const tag = 'Cameras';
const exampleGroup = { id: 'grp_N4vB8kQ2xT6m', orgId: 'org_Hq3nT8vW1cYe', name: 'Warehouse, ground floor', cameraIds: ['cam_c7QxV2mR9aLs', 'cam_P2dF6hJ9kW4z'], createdAt: '2026-10-14T07:30:00.000Z' };
/** requireUser refuses with these beyond the implied 401s; requireAdmin with forbidden too. */
const USER_ERRORS = ['session_revoked', 'forbidden', 'api_key_not_allowed'] as const;
const ADMIN = 'an organisation administrator (groups of their own organisation only)';

export function groupRoutes(deps: Deps) {
  const checkCameras = (orgId: string, ids: readonly string[]) => {
    const missing = ids.filter((id) => deps.store.camera(id)?.orgId !== orgId);
    if (missing.length) throw badRequest(`no such camera: ${missing.join(', ')}`, 'camera_not_found');
    return [...new Set(ids)];
  };
  const ownGroup = (orgId: string, id: string): CameraGroup => {
    const group = deps.store.group(id);
    if (!group || group.orgId !== orgId) throw notFound('group', id);
    return group;
  };

  return new Hono<AppEnv>()
    .use(requireUser(deps))
    .get(
      '/',
      describe({
        summary: 'List camera groups',
        description: 'An administrator gets every group of the organisation with all its cameras. Anyone else gets only the groups holding a camera they have a right on, each listing only those cameras (not paginated).',
        tag,
        auth: ['user'],
        access: 'any signed-in user',
        answer: { description: 'The groups', schema: GroupList, example: { groups: [exampleGroup] } },
        errors: USER_ERRORS,
      }),
      (c) => {
        const user = c.get('user');
        const rightsOn = deps.store.rightsOf(user);
        const groups = deps.store.groupsOf(user.orgId).map((g) => ({
          ...g,
          cameraIds: user.role === 'admin' ? g.cameraIds : g.cameraIds.filter((id) => rightsOn(id).size > 0),
        }));
        return reply(c, GroupList, { groups: user.role === 'admin' ? groups : groups.filter((g) => g.cameraIds.length > 0) });
      },
    )
    .post(
      '/',
      describe({
        summary: 'Create a camera group',
        description: 'Every camera must be of the caller\'s organisation; an unknown one is refused with status 400 and code `camera_not_found`, naming it. Repeated ids are kept once. Audited.',
        tag,
        auth: ['user'],
        access: ADMIN,
        answer: { status: 201, description: 'Created', schema: GroupAnswer, example: { group: exampleGroup } },
        errors: [...USER_ERRORS, { code: 'camera_not_found', status: 400 }, 'database_unavailable', 'bad_request'],
        example: { name: 'Warehouse, ground floor', cameraIds: ['cam_c7QxV2mR9aLs', 'cam_P2dF6hJ9kW4z'] },
      }),
      requireAdmin,
      validate('json', createBody),
      async (c) => {
        const { name, cameraIds } = c.req.valid('json');
        const orgId = c.get('user').orgId;
        const group = await deps.store.addGroup({ orgId, name, cameraIds: checkCameras(orgId, cameraIds) });
        audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'group.create', outcome: 'ok', detail: { groupId: group.id, name, cameras: group.cameraIds.length } });
        return reply(c, GroupAnswer, { group }, 201);
      },
    )
    .patch(
      '/:id',
      describe({
        summary: 'Rename a camera group or change its cameras',
        description: 'Fields left out keep their value; `cameraIds` replaces the whole list (an unknown camera is refused with status 400 and code `camera_not_found`). Grants on the group then cover the new list. Audited.',
        tag,
        auth: ['user'],
        access: ADMIN,
        answer: { description: 'The group as changed', schema: GroupAnswer, example: { group: { ...exampleGroup, name: 'Warehouse, all floors' } } },
        errors: [...USER_ERRORS, 'group_not_found', { code: 'camera_not_found', status: 400 }, 'database_unavailable', 'bad_request'],
        example: { name: 'Warehouse, all floors' },
      }),
      requireAdmin,
      validate('param', groupParam),
      validate('json', updateBody),
      async (c) => {
        const { id } = c.req.valid('param');
        const orgId = c.get('user').orgId;
        ownGroup(orgId, id);
        const body = c.req.valid('json');
        const cameraIds = body.cameraIds && checkCameras(orgId, body.cameraIds);
        const group = await deps.store.updateGroup(id, { ...(body.name !== undefined ? { name: body.name } : {}), ...(cameraIds ? { cameraIds } : {}) });
        if (!group) throw notFound('group', id); // deleted meanwhile (by another request, on any node)
        audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'group.update', outcome: 'ok', detail: { groupId: id, ...body } });
        return reply(c, GroupAnswer, { group });
      },
    )
    .delete(
      '/:id',
      describe({
        summary: 'Delete a camera group',
        description: 'Removes the group and every grant on it (the cameras stay). Audited.',
        tag,
        auth: ['user'],
        access: ADMIN,
        answer: { status: 204, description: 'Deleted' },
        errors: [...USER_ERRORS, 'group_not_found', 'database_unavailable'],
      }),
      requireAdmin,
      validate('param', groupParam),
      async (c) => {
        const { id } = c.req.valid('param');
        const orgId = c.get('user').orgId;
        ownGroup(orgId, id);
        await deps.store.deleteGroup(id);
        audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'group.delete', outcome: 'ok', detail: { groupId: id } });
        return c.body(null, 204);
      },
    );
}
