// Camera groups (a site, a floor): one grant covers every camera in them. Everyone sees the groups
// of the cameras they may see (to sort their camera list); administrators change them.
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv, Deps } from '../context.ts';
import { badRequest, notFound } from '../errors.ts';
import { audit, requireAdmin, requireUser } from '../middleware.ts';
import type { CameraGroup } from '../store/index.ts';
import { validate } from '../validate.ts';
import { ID } from './params.ts';

const fields = {
  name: z.string().trim().min(1).max(100),
  cameraIds: z.array(z.string().regex(ID, 'not a camera id')).max(10_000),
};
const createBody = z.object(fields).strict();
const updateBody = z.object(fields).partial().strict();
const groupParam = z.object({ id: z.string().regex(ID, 'not a group id') });

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
    .get('/', (c) => {
      const user = c.get('user');
      const rightsOn = deps.store.rightsOf(user);
      const groups = deps.store.groupsOf(user.orgId).map((g) => ({
        ...g,
        cameraIds: user.role === 'admin' ? g.cameraIds : g.cameraIds.filter((id) => rightsOn(id).size > 0),
      }));
      return c.json({ groups: user.role === 'admin' ? groups : groups.filter((g) => g.cameraIds.length > 0) });
    })
    .post('/', requireAdmin, validate('json', createBody), async (c) => {
      const { name, cameraIds } = c.req.valid('json');
      const orgId = c.get('user').orgId;
      const group = await deps.store.addGroup({ orgId, name, cameraIds: checkCameras(orgId, cameraIds) });
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'group.create', outcome: 'ok', detail: { groupId: group.id, name, cameras: group.cameraIds.length } });
      return c.json({ group }, 201);
    })
    .patch('/:id', requireAdmin, validate('param', groupParam), validate('json', updateBody), async (c) => {
      const { id } = c.req.valid('param');
      const orgId = c.get('user').orgId;
      ownGroup(orgId, id);
      const body = c.req.valid('json');
      const cameraIds = body.cameraIds && checkCameras(orgId, body.cameraIds);
      const group = (await deps.store.updateGroup(id, { ...(body.name !== undefined ? { name: body.name } : {}), ...(cameraIds ? { cameraIds } : {}) }))!;
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'group.update', outcome: 'ok', detail: { groupId: id, ...body } });
      return c.json({ group });
    })
    .delete('/:id', requireAdmin, validate('param', groupParam), async (c) => {
      const { id } = c.req.valid('param');
      const orgId = c.get('user').orgId;
      ownGroup(orgId, id);
      await deps.store.deleteGroup(id);
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'group.delete', outcome: 'ok', detail: { groupId: id } });
      return c.body(null, 204);
    });
}
