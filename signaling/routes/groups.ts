// Camera groups (a site, a floor): one grant covers every camera in them. Groups nest as a tree
// (sites → buildings → floors) that the app navigates by. Everyone sees the groups of the cameras
// they may see, with the groups above them (the path to their cameras); administrators change them.
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv, Deps } from '../context.ts';
import { badRequest, notFound } from '../errors.ts';
import { audit, requireAdmin, requireUser } from '../middleware.ts';
import { MAX_GROUP_DEPTH, type CameraGroup } from '../store/index.ts';
import { GroupAnswer, GroupList } from '../wire/answers/index.ts';
import { describe, reply, validate } from '../wire/index.ts';
import { ID } from './params.ts';

const fields = {
  name: z.string().trim().min(1).max(100),
  cameraIds: z.array(z.string().regex(ID, 'not a camera id')).max(10_000),
  parentId: z.string().regex(ID, 'not a group id').nullable().optional(),
};
const createBody = z.object(fields).strict();
const updateBody = z.object(fields).partial().strict();
const groupParam = z.object({ id: z.string().regex(ID, 'not a group id') });

const tag = 'Cameras';
const exampleGroup = { id: 'grp_N4vB8kQ2xT6m', orgId: 'org_Hq3nT8vW1cYe', name: 'Warehouse, ground floor', cameraIds: ['cam_c7QxV2mR9aLs', 'cam_P2dF6hJ9kW4z'], parentId: 'grp_Q8sK3vL5nR2w', createdAt: '2026-10-14T07:30:00.000Z' };
const exampleSite = { id: 'grp_Q8sK3vL5nR2w', orgId: 'org_Hq3nT8vW1cYe', name: 'Warehouse', cameraIds: ['cam_T4mW8cN1pX6d'], parentId: null, createdAt: '2026-10-14T07:28:00.000Z' };
/** Where a group goes (create, or a move), refused by the store inside its transaction. */
const PLACE_ERRORS = [
  { code: 'group_not_found', status: 404 },
  'group_cycle',
  'group_too_deep',
] as const;
const PLACE = `A grant on a group (and an API key limited to it) covers its cameras and those of every group below it: a site's grant covers its floors. \`parentId\` puts the group under another group of the organisation (a floor under its site): one that is not a group of the caller's organisation answers 404 \`group_not_found\`; the group itself or one of its own subgroups answers 400 \`group_cycle\`; a tree deeper than ${MAX_GROUP_DEPTH} levels (a top group is level 1) answers 400 \`group_too_deep\`.`;
/** The group as answered: `parentId` null at the top. */
const view = (g: CameraGroup) => ({ id: g.id, orgId: g.orgId, name: g.name, cameraIds: g.cameraIds, parentId: g.parentId ?? null, createdAt: g.createdAt });
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
        description:
          'The groups as a flat list; `parentId` makes it a tree (null at the top), parents listed before their children. ' +
          'An administrator gets every group of the organisation with all its cameras. Anyone else gets the groups holding a camera they have a right on, each listing only those cameras, ' +
          'and the groups above those (possibly with no camera listed), so the path from the top to each of their cameras is complete (not paginated).',
        tag,
        auth: ['user'],
        access: 'any signed-in user',
        answer: { description: 'The groups', schema: GroupList, example: { groups: [exampleSite, exampleGroup] } },
        errors: USER_ERRORS,
      }),
      (c) => {
        const user = c.get('user');
        const all = treeOrder(deps.store.groupsOf(user.orgId));
        if (user.role === 'admin') return reply(c, GroupList, { groups: all.map(view) });
        const rightsOn = deps.store.rightsOf(user);
        const byId = new Map(all.map((g) => [g.id, g]));
        const visible = all.map((g) => ({ ...g, cameraIds: g.cameraIds.filter((id) => rightsOn(id).size > 0) }));
        const shown = new Set<string>();
        for (const g of visible) {
          if (g.cameraIds.length === 0) continue;
          // The group and every group above it (stopping at one already shown, or at a loop).
          for (let at: CameraGroup | undefined = g; at && !shown.has(at.id); at = at.parentId === undefined ? undefined : byId.get(at.parentId)) shown.add(at.id);
        }
        return reply(c, GroupList, { groups: visible.filter((g) => shown.has(g.id)).map(view) });
      },
    )
    .post(
      '/',
      describe({
        summary: 'Create a camera group',
        description: `Every camera must be of the caller's organisation; an unknown one is refused with status 400 and code \`camera_not_found\`, naming it. Repeated ids are kept once. ${PLACE} Without \`parentId\` (or null) the group is at the top. Audited.`,
        tag,
        auth: ['user'],
        access: ADMIN,
        answer: { status: 201, description: 'Created', schema: GroupAnswer, example: { group: exampleGroup } },
        errors: [...USER_ERRORS, { code: 'camera_not_found', status: 400 }, ...PLACE_ERRORS, 'database_unavailable', 'bad_request'],
        example: { name: 'Warehouse, ground floor', cameraIds: ['cam_c7QxV2mR9aLs', 'cam_P2dF6hJ9kW4z'], parentId: 'grp_Q8sK3vL5nR2w' },
      }),
      requireAdmin,
      validate('json', createBody),
      async (c) => {
        const { name, cameraIds, parentId } = c.req.valid('json');
        const orgId = c.get('user').orgId;
        const group = await deps.store.addGroup({ orgId, name, cameraIds: checkCameras(orgId, cameraIds), ...(parentId ? { parentId } : {}) });
        audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'group.create', outcome: 'ok', detail: { groupId: group.id, name, cameras: group.cameraIds.length, ...(parentId ? { parentId } : {}) } });
        return reply(c, GroupAnswer, { group: view(group) }, 201);
      },
    )
    .patch(
      '/:id',
      describe({
        summary: 'Rename a camera group, change its cameras or move it',
        description: `Fields left out keep their value; \`cameraIds\` replaces the whole list (an unknown camera is refused with status 400 and code \`camera_not_found\`). Grants on the group then cover the new list. ${PLACE} \`parentId: null\` moves it to the top; its subgroups move with it. Audited.`,
        tag,
        auth: ['user'],
        access: ADMIN,
        answer: { description: 'The group as changed', schema: GroupAnswer, example: { group: { ...exampleGroup, name: 'Warehouse, all floors', parentId: null } } },
        errors: [...USER_ERRORS, 'group_not_found', { code: 'camera_not_found', status: 400 }, 'group_cycle', 'group_too_deep', 'database_unavailable', 'bad_request'],
        example: { name: 'Warehouse, all floors', parentId: null },
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
        const group = await deps.store.updateGroup(id, {
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(cameraIds ? { cameraIds } : {}),
          ...(body.parentId !== undefined ? { parentId: body.parentId } : {}),
        });
        if (!group) throw notFound('group', id); // deleted meanwhile (by another request, on any node)
        audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'group.update', outcome: 'ok', detail: { groupId: id, ...body } });
        return reply(c, GroupAnswer, { group: view(group) });
      },
    )
    .delete(
      '/:id',
      describe({
        summary: 'Delete a camera group',
        description: 'Removes the group and every grant on it (the cameras stay). Its subgroups move up under its parent (to the top when it had none): nothing is left hanging. Audited.',
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

/**
 * Parents before their children (siblings by name), so a client can build the tree in one pass.
 * A group whose parent is missing (left by an older release) or in a loop is put at the top.
 */
function treeOrder(groups: readonly CameraGroup[]): CameraGroup[] {
  const ids = new Set(groups.map((g) => g.id));
  const children = new Map<string | undefined, CameraGroup[]>();
  for (const g of groups) {
    const parent = g.parentId !== undefined && ids.has(g.parentId) ? g.parentId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), g]);
  }
  for (const list of children.values()) list.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  const out: CameraGroup[] = [];
  const placed = new Set<string>();
  const walk = (parent: string | undefined) => {
    for (const g of children.get(parent) ?? []) {
      if (placed.has(g.id)) continue;
      placed.add(g.id);
      out.push(g);
      walk(g.id);
    }
  };
  walk(undefined);
  // Groups only reachable through a loop: shown at the top rather than hidden.
  for (const g of groups) {
    if (placed.has(g.id)) continue;
    const { parentId: _loop, ...top } = g;
    out.push(top);
    placed.add(g.id);
    walk(g.id);
  }
  return out;
}
