// Kiosk displays: a long-lived, view-only device token bound to a layout of cameras. The token
// is kept hashed; the display trades it for a 1-hour access token, again and again, for months.
// Deleting a kiosk or rotating its token stops its displays at once.
import { Hono } from 'hono';
import { z } from 'zod';
import { kioskRevoked } from '../access.ts';
import { hashCameraSecret, newCameraSecret } from '../auth.ts';
import type { AppEnv, Deps } from '../context.ts';
import { badRequest, notFound } from '../errors.ts';
import { audit, freshLookup, requireAdmin, requireUser } from '../middleware.ts';
import type { Kiosk } from '../store/index.ts';
import { validate } from '../validate.ts';
import { ID } from './params.ts';

const KIOSK_TOKEN_TTL_S = 3600;

const layout = z.union([z.literal(1), z.literal(4), z.literal(9), z.literal(16)]);
const fields = {
  name: z.string().trim().min(1).max(100),
  cameraIds: z.array(z.string().regex(ID, 'not a camera id')).min(1).max(256),
  layout,
  rotateSeconds: z.number().int().min(5).max(3600),
};
const createBody = z.object(fields).strict();
const updateBody = z.object(fields).partial().strict();
const kioskParam = z.object({ id: z.string().regex(ID, 'not a kiosk id') });
const sessionBody = z.object({ token: z.string().min(20).max(200) }).strict();

export function kioskAdminRoutes(deps: Deps) {
  const view = (k: Kiosk) => ({ id: k.id, name: k.name, cameraIds: k.cameraIds, layout: k.layout, rotateSeconds: k.rotateSeconds, createdAt: k.createdAt });
  const checkCameras = (orgId: string, ids: readonly string[]) => {
    const missing = ids.filter((id) => deps.store.camera(id)?.orgId !== orgId);
    if (missing.length) throw badRequest(`no such camera: ${missing.join(', ')}`, 'camera_not_found');
  };
  const ownKiosk = (orgId: string, id: string) => {
    if (deps.store.kiosk(id)?.orgId !== orgId) throw notFound('kiosk', id);
  };
  const link = (token: string) => `/kiosk.html#token=${token}`;

  return new Hono<AppEnv>()
    .use(requireUser(deps), requireAdmin)
    .get('/', (c) => c.json({ kiosks: deps.store.kiosks.filter((k) => k.orgId === c.get('user').orgId).map(view) }))
    .post('/', validate('json', createBody), async (c) => {
      const body = c.req.valid('json');
      checkCameras(c.get('user').orgId, body.cameraIds);
      const token = newCameraSecret();
      const kiosk = await deps.store.addKiosk({ ...body, orgId: c.get('user').orgId, cameraIds: [...new Set(body.cameraIds)], tokenHash: hashCameraSecret(token), createdBy: c.get('user').id });
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'kiosk.create', outcome: 'ok', detail: { kioskId: kiosk.id, cameras: kiosk.cameraIds.length } });
      return c.json({ kiosk: view(kiosk), token, url: link(token) }, 201);
    })
    .patch('/:id', validate('param', kioskParam), validate('json', updateBody), async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      ownKiosk(c.get('user').orgId, id);
      if (body.cameraIds) checkCameras(c.get('user').orgId, body.cameraIds);
      const kiosk = (await deps.store.updateKiosk(id, body))!;
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'kiosk.update', outcome: 'ok', detail: { kioskId: id } });
      return c.json({ kiosk: view(kiosk) });
    })
    .post('/:id/token', validate('param', kioskParam), async (c) => {
      const { id } = c.req.valid('param');
      ownKiosk(c.get('user').orgId, id);
      const token = newCameraSecret();
      // A new generation: displays holding the old token stop (Revocations).
      const kiosk = await deps.store.rotateKioskToken(id, hashCameraSecret(token));
      if (!kiosk) throw notFound('kiosk', id);
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'kiosk.rotate', outcome: 'ok', detail: { kioskId: id } });
      return c.json({ token, url: link(token) });
    })
    .delete('/:id', validate('param', kioskParam), async (c) => {
      const { id } = c.req.valid('param');
      ownKiosk(c.get('user').orgId, id);
      await deps.store.deleteKiosk(id);
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'kiosk.revoke', outcome: 'ok', detail: { kioskId: id } });
      return c.body(null, 204);
    });
}

/** The display's own endpoint: device token in, access token and layout out. */
export function kioskSessionRoutes(deps: Deps) {
  return new Hono<AppEnv>().post('/session', validate('json', sessionBody), async (c) => {
    const { token } = c.req.valid('json');
    const tokenHash = hashCameraSecret(token);
    const kiosk = await freshLookup(deps, () => deps.store.kioskByTokenHash(tokenHash));
    if (!kiosk) {
      audit(deps, c, { actor: 'anonymous', action: 'kiosk.session', outcome: 'refused', detail: { code: 'kiosk_revoked' } });
      throw kioskRevoked();
    }
    const access = deps.tokens.sign({ typ: 'kiosk', sub: kiosk.id, gen: kiosk.generation }, KIOSK_TOKEN_TTL_S);
    const cameras = kiosk.cameraIds.flatMap((id) => {
      const cam = deps.store.camera(id);
      return cam ? [{ id: cam.id, name: cam.name }] : [];
    });
    return c.json({
      accessToken: access.token,
      expiresAt: access.expiresAt,
      kiosk: { id: kiosk.id, name: kiosk.name, layout: kiosk.layout, rotateSeconds: kiosk.rotateSeconds, cameras },
    });
  });
}
