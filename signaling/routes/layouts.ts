// Saved layouts: grids of cameras people keep, their own or their organisation's (shared with
// everyone in it; only its administrators change those). Signed-in people only: a layout is a
// person's way of watching, not an integration's.
//
// A slot keeps its camera even when a reader may not see it (a grant withdrawn, an organisation
// layout made by an administrator): that reader gets an empty slot (null), never the camera's id,
// and a change they save leaves such slots as they were.
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv, Deps } from '../context.ts';
import { badRequest, forbidden, notFound } from '../errors.ts';
import { audit, freshLookup, requireUser } from '../middleware.ts';
import { LAYOUT_SIZES, MAX_LAYOUTS_PER_ORG, MAX_LAYOUTS_PER_USER, type LayoutSize, type SavedLayout, type User } from '../store/index.ts';
import { LayoutAnswer, LayoutList, layoutScope } from '../wire/answers/index.ts';
import { describe, reply, validate, type ErrorCode } from '../wire/index.ts';
import { ID } from './params.ts';

const SIZE_RULE = `size must be a whole number from ${LAYOUT_SIZES[0]} to ${LAYOUT_SIZES.at(-1)} (a 1×1 to 5×5 grid)`;
const size = z.number().int(SIZE_RULE).min(LAYOUT_SIZES[0]!, SIZE_RULE).max(LAYOUT_SIZES.at(-1)!, SIZE_RULE);
/** Within LAYOUT_SIZES once `size` validated it. */
const asSize = (n: number) => n as LayoutSize;
const fields = {
  name: z.string().trim().min(1, 'name must not be empty').max(60, 'name must be at most 60 characters'),
  size,
  cameraIds: z.array(z.string().regex(ID, 'not a camera id').nullable()).max(25, 'at most 25 tiles (a 5×5 grid)'),
};
const createBody = z.object({ scope: layoutScope.default('user'), name: fields.name, size: fields.size, cameraIds: fields.cameraIds.default([]) }).strict();
const updateBody = z
  .object(fields)
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one of name, size, cameraIds');
const layoutParam = z.object({ id: z.string().regex(ID, 'not a layout id') });

const tag = 'Layouts';
const ACCESS = 'any signed-in user (not an API key); an organisation\'s layouts are created, changed and deleted by its administrators only';
/** requireUser refuses with these beyond the implied 401s. */
const USER_ERRORS = ['session_revoked', 'api_key_not_allowed'] as const satisfies readonly ErrorCode[];
const CAMERAS = `Every camera id must be a camera of the organisation the caller may see (at least one right on it; an administrator sees all), else 400 \`camera_not_found\` naming it; a camera may fill one tile only. null is an empty tile. The list may be shorter than size² (the rest are empty), never longer (400 \`invalid_request\`).`;
const exampleLayout = {
  id: 'lay_W3nQ8vK2pX5r',
  name: '正門と搬入口',
  scope: 'user',
  size: 3,
  cameraIds: ['cam_c7QxV2mR9aLs', null, 'cam_P2dF6hJ9kW4z'],
  editable: true,
  createdAt: '2026-12-01T00:10:00.000Z',
  updatedAt: '2026-12-03T05:42:10.000Z',
} as const;
const exampleShared = { ...exampleLayout, id: 'lay_K8pM2cV6nT1q', name: 'Site A wall', scope: 'organisation', size: 2, cameraIds: ['cam_P2dF6hJ9kW4z', 'cam_c7QxV2mR9aLs'], editable: false } as const;

export function layoutRoutes(deps: Deps) {
  /** The layout as `user` may see it: cameras they may not see become empty tiles. */
  const view = (user: User, l: SavedLayout, rightsOn = deps.store.rightsOf(user)) => {
    return {
      id: l.id,
      name: l.name,
      scope: l.userId === undefined ? ('organisation' as const) : ('user' as const),
      size: l.size,
      cameraIds: l.cameraIds.map((id) => (id !== null && rightsOn(id).size > 0 ? id : null)),
      editable: l.userId !== undefined || user.role === 'admin',
      createdAt: l.createdAt,
      updatedAt: l.updatedAt,
    };
  };
  /** The caller's own or their organisation's; anyone else's is as if it did not exist. */
  const visible = async (user: User, id: string): Promise<SavedLayout> => {
    const layout = await freshLookup(deps, () => deps.store.layout(id));
    if (!layout || layout.orgId !== user.orgId || (layout.userId !== undefined && layout.userId !== user.id)) throw notFound('layout', id);
    return layout;
  };
  const mayChange = (user: User, layout: SavedLayout) => {
    if (layout.userId === undefined && user.role !== 'admin') throw forbidden('only an administrator may change or delete the organisation\'s layouts; save a copy as your own layout instead');
  };
  /** Cameras the caller names must be ones they may see (an unknown or hidden one reads the same: no existence leaks). */
  const checkCameras = (user: User, ids: readonly (string | null)[], gridSize: number) => {
    if (ids.length > gridSize * gridSize) throw badRequest(`cameraIds has ${ids.length} tiles, but a ${gridSize}×${gridSize} grid has ${gridSize * gridSize}: send at most that many, or a larger size`, 'invalid_request');
    const rightsOn = deps.store.rightsOf(user);
    const named = ids.filter((id): id is string => id !== null);
    const missing = named.filter((id) => rightsOn(id).size === 0);
    if (missing.length) throw badRequest(`no such camera: ${[...new Set(missing)].join(', ')}`, 'camera_not_found');
    const twice = named.filter((id, i) => named.indexOf(id) !== i);
    if (twice.length) throw badRequest(`camera ${twice[0]} is in more than one tile; put each camera in one tile only`, 'invalid_request');
  };
  /**
   * The tiles to store: what the caller sent, except that a tile they got as empty because it
   * holds a camera they may not see keeps that camera (their null is not theirs to clear).
   */
  const merge = (user: User, stored: readonly (string | null)[], sent: readonly (string | null)[], gridSize: number) => {
    const rightsOn = deps.store.rightsOf(user);
    const hidden = (id: string | null): id is string => id !== null && deps.store.camera(id)?.orgId === user.orgId && rightsOn(id).size === 0;
    const out = [...sent];
    for (let i = 0; i < Math.min(stored.length, gridSize * gridSize); i++) {
      const was = stored[i] ?? null;
      if ((out[i] ?? null) === null && hidden(was)) out[i] = was;
    }
    return Array.from(out, (id) => id ?? null);
  };

  return new Hono<AppEnv>()
    .use(requireUser(deps))
    .get(
      '/',
      describe({
        summary: 'List saved layouts',
        description: `The organisation's layouts (shared with everyone in it) and the caller's own. Tiles holding a camera the caller may not see are null. Not paginated: at most ${MAX_LAYOUTS_PER_ORG} shared and ${MAX_LAYOUTS_PER_USER} own.`,
        tag,
        auth: ['user'],
        access: ACCESS,
        answer: { description: 'The layouts', schema: LayoutList, example: { layouts: [exampleShared, exampleLayout] } },
        errors: USER_ERRORS,
      }),
      (c) => {
        const user = c.get('user');
        const mine = deps.store.layoutsOf(user.orgId).filter((l) => l.userId === undefined || l.userId === user.id);
        const byName = (a: SavedLayout, b: SavedLayout) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id);
        const shared = mine.filter((l) => l.userId === undefined).sort(byName);
        const own = mine.filter((l) => l.userId !== undefined).sort(byName);
        const rightsOn = deps.store.rightsOf(user);
        return reply(c, LayoutList, { layouts: [...shared, ...own].map((l) => view(user, l, rightsOn)) });
      },
    )
    .post(
      '/',
      describe({
        summary: 'Save a layout',
        description:
          `\`scope\`: \`user\` (the default) keeps it for the caller; \`organisation\` shares it with everyone in the organisation and needs an administrator (403 \`forbidden\` otherwise). ` +
          `name: 1–60 characters; size: 1–5 (a size × size grid). ${CAMERAS} ` +
          `A user keeps at most ${MAX_LAYOUTS_PER_USER} layouts of their own and an organisation ${MAX_LAYOUTS_PER_ORG} shared ones: past that, 409 \`layout_limit\`. Audited as \`layout.create\`.`,
        tag,
        auth: ['user'],
        access: ACCESS,
        answer: { status: 201, description: 'Saved', schema: LayoutAnswer, example: { layout: exampleLayout } },
        errors: [...USER_ERRORS, 'forbidden', { code: 'camera_not_found', status: 400 }, 'layout_limit', 'database_unavailable', 'bad_request'],
        example: { scope: 'user', name: '正門と搬入口', size: 3, cameraIds: ['cam_c7QxV2mR9aLs', null, 'cam_P2dF6hJ9kW4z'] },
      }),
      validate('json', createBody),
      async (c) => {
        const user = c.get('user');
        const body = c.req.valid('json');
        if (body.scope === 'organisation' && user.role !== 'admin') throw forbidden('only an administrator may save a layout for the whole organisation; save it as your own (scope "user")');
        checkCameras(user, body.cameraIds, body.size);
        const layout = await deps.store.addLayout({
          orgId: user.orgId,
          ...(body.scope === 'user' ? { userId: user.id } : {}),
          name: body.name,
          size: asSize(body.size),
          cameraIds: body.cameraIds,
          createdBy: user.id,
        });
        audit(deps, c, { actor: `u:${user.id}`, action: 'layout.create', outcome: 'ok', detail: { layoutId: layout.id, name: layout.name, scope: body.scope, size: layout.size } });
        return reply(c, LayoutAnswer, { layout: view(user, layout) }, 201);
      },
    )
    .patch(
      '/:id',
      describe({
        summary: 'Change a saved layout',
        description:
          `Only the fields sent change. The caller's own layouts, or (administrators) the organisation's; an organisation layout changed by anyone else answers 403 \`forbidden\`, another user's layout 404 \`layout_not_found\`. ` +
          `${CAMERAS} \`cameraIds\` replaces the tiles; a tile the caller got as null because they may not see its camera keeps that camera when they send null there. ` +
          `A smaller \`size\` without \`cameraIds\` keeps the first size² tiles. Audited as \`layout.update\`.`,
        tag,
        auth: ['user'],
        access: ACCESS,
        answer: { description: 'The layout as changed', schema: LayoutAnswer, example: { layout: { ...exampleLayout, size: 2, cameraIds: ['cam_c7QxV2mR9aLs', null, 'cam_P2dF6hJ9kW4z'] } } },
        errors: [...USER_ERRORS, 'forbidden', 'layout_not_found', { code: 'camera_not_found', status: 400 }, 'database_unavailable', 'bad_request'],
        example: { size: 2 },
      }),
      validate('param', layoutParam),
      validate('json', updateBody),
      async (c) => {
        const user = c.get('user');
        const { id } = c.req.valid('param');
        const body = c.req.valid('json');
        const layout = await visible(user, id);
        mayChange(user, layout);
        const gridSize = body.size ?? layout.size;
        let cameraIds: (string | null)[] | undefined;
        if (body.cameraIds) {
          checkCameras(user, body.cameraIds, gridSize);
          cameraIds = merge(user, layout.cameraIds, body.cameraIds, gridSize);
        }
        const changed = await deps.store.updateLayout(id, {
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.size !== undefined ? { size: asSize(body.size) } : {}),
          ...(cameraIds ? { cameraIds } : {}),
        });
        if (!changed) throw notFound('layout', id); // deleted meanwhile
        audit(deps, c, { actor: `u:${user.id}`, action: 'layout.update', outcome: 'ok', detail: { layoutId: id, name: changed.name, scope: changed.userId === undefined ? 'organisation' : 'user', changed: Object.keys(body) } });
        return reply(c, LayoutAnswer, { layout: view(user, changed) });
      },
    )
    .delete(
      '/:id',
      describe({
        summary: 'Delete a saved layout',
        description: 'The caller\'s own, or (administrators) one of the organisation\'s: 403 `forbidden` for anyone else\'s organisation layout, 404 `layout_not_found` for another user\'s. Audited as `layout.delete`.',
        tag,
        auth: ['user'],
        access: ACCESS,
        answer: { status: 204, description: 'Deleted' },
        errors: [...USER_ERRORS, 'forbidden', 'layout_not_found', 'database_unavailable'],
      }),
      validate('param', layoutParam),
      async (c) => {
        const user = c.get('user');
        const { id } = c.req.valid('param');
        const layout = await visible(user, id);
        mayChange(user, layout);
        await deps.store.deleteLayout(id);
        audit(deps, c, { actor: `u:${user.id}`, action: 'layout.delete', outcome: 'ok', detail: { layoutId: id, name: layout.name, scope: layout.userId === undefined ? 'organisation' : 'user' } });
        return c.body(null, 204);
      },
    );
}
