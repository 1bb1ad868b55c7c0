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
import { describe, reply, validate, type ErrorCode } from '../wire/index.ts';
import { ID } from './params.ts';
import { CreatedKiosk, KioskAnswer, KioskList, KioskSession, NewKioskToken } from '../wire/answers/index.ts';

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

const tag = 'Displays (kiosks)';
const ADMIN = 'an organisation administrator';
/** What requireUser and requireAdmin refuse beyond a missing or expired token. */
const ADMIN_ERRORS = ['session_revoked', 'forbidden', 'api_key_not_allowed'] as const satisfies readonly ErrorCode[];
const exampleKiosk = { id: 'kiosk_Vb6yN2cQ8rJd', name: 'Lobby wall', cameraIds: ['cam_7QxV2mR9aB3k', 'cam_K2pLw8sZq0Tn', 'cam_e5HdR1uYx9Mf'], layout: 4, rotateSeconds: 20, createdAt: '2026-11-20T01:30:00.000Z' } as const;
const exampleToken = 'zH3bq0m9Xk2LwVtR8cY1pN5sQe7Jf4uAgD6oiBTlhrE';

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
    .get('/', describe({
      summary: 'List kiosk displays',
      description: 'The organisation\'s wall displays (their device tokens are never shown again).',
      tag, auth: ['user'], access: ADMIN,
      answer: { description: 'The organisation\'s kiosks', schema: KioskList, example: { kiosks: [exampleKiosk] } },
      errors: ADMIN_ERRORS,
    }), (c) => reply(c, KioskList, { kiosks: deps.store.kiosks.filter((k) => k.orgId === c.get('user').orgId).map(view) }))
    .post('/', describe({
      summary: 'Create a kiosk display',
      description:
        'A view-only display of live cameras of the organisation. The answer carries its device token and link, shown only this once; the display trades the token for 1-hour access tokens at POST /api/kiosk/session. ' +
        'Duplicate camera ids are dropped. A camera id that is not one of the organisation\'s answers **400** `camera_not_found`. Audited as `kiosk.create`.',
      tag, auth: ['user'], access: ADMIN,
      answer: { status: 201, description: 'The kiosk, its device token and its link', schema: CreatedKiosk, example: { kiosk: exampleKiosk, token: exampleToken, url: `/kiosk.html#token=${exampleToken}` } },
      errors: [...ADMIN_ERRORS, { code: 'camera_not_found', status: 400 }, 'bad_request', 'database_unavailable'],
      example: { name: 'Lobby wall', cameraIds: ['cam_7QxV2mR9aB3k', 'cam_K2pLw8sZq0Tn', 'cam_e5HdR1uYx9Mf'], layout: 4, rotateSeconds: 20 },
    }), validate('json', createBody), async (c) => {
      const body = c.req.valid('json');
      checkCameras(c.get('user').orgId, body.cameraIds);
      const token = newCameraSecret();
      const kiosk = await deps.store.addKiosk({ ...body, orgId: c.get('user').orgId, cameraIds: [...new Set(body.cameraIds)], tokenHash: hashCameraSecret(token), createdBy: c.get('user').id });
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'kiosk.create', outcome: 'ok', detail: { kioskId: kiosk.id, cameras: kiosk.cameraIds.length } });
      return reply(c, CreatedKiosk, { kiosk: view(kiosk), token, url: link(token) }, 201);
    })
    .patch('/:id', describe({
      summary: 'Change a kiosk display',
      description:
        'Only the fields sent change; its token stays valid. Duplicate camera ids are dropped. A camera id that is not one of the organisation\'s answers **400** `camera_not_found`. Audited as `kiosk.update`.',
      tag, auth: ['user'], access: ADMIN,
      answer: { description: 'The changed kiosk', schema: KioskAnswer, example: { kiosk: { ...exampleKiosk, layout: 9, rotateSeconds: 30 } } },
      errors: [...ADMIN_ERRORS, 'kiosk_not_found', { code: 'camera_not_found', status: 400 }, 'bad_request', 'database_unavailable'],
      example: { layout: 9, rotateSeconds: 30 },
    }), validate('param', kioskParam), validate('json', updateBody), async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      ownKiosk(c.get('user').orgId, id);
      if (body.cameraIds) checkCameras(c.get('user').orgId, body.cameraIds);
      const kiosk = await deps.store.updateKiosk(id, body.cameraIds ? { ...body, cameraIds: [...new Set(body.cameraIds)] } : body);
      if (!kiosk) throw notFound('kiosk', id); // deleted meanwhile
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'kiosk.update', outcome: 'ok', detail: { kioskId: id } });
      return reply(c, KioskAnswer, { kiosk: view(kiosk) });
    })
    .post('/:id/token', describe({
      summary: 'Replace a kiosk\'s device token',
      description: 'Displays holding the old token (and its access tokens) stop at once; open the new link on the display. The new token is shown only this once. Audited as `kiosk.rotate`.',
      tag, auth: ['user'], access: ADMIN,
      answer: { description: 'The new device token and link', schema: NewKioskToken, example: { token: exampleToken, url: `/kiosk.html#token=${exampleToken}` } },
      errors: [...ADMIN_ERRORS, 'kiosk_not_found', 'database_unavailable'],
    }), validate('param', kioskParam), async (c) => {
      const { id } = c.req.valid('param');
      ownKiosk(c.get('user').orgId, id);
      const token = newCameraSecret();
      // A new generation: displays holding the old token stop (Revocations).
      const kiosk = await deps.store.rotateKioskToken(id, hashCameraSecret(token));
      if (!kiosk) throw notFound('kiosk', id);
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'kiosk.rotate', outcome: 'ok', detail: { kioskId: id } });
      return reply(c, NewKioskToken, { token, url: link(token) });
    })
    .delete('/:id', describe({
      summary: 'Delete a kiosk display',
      description: 'Its displays stop at once. Audited as `kiosk.revoke`.',
      tag, auth: ['user'], access: ADMIN,
      answer: { status: 204, description: 'Deleted' },
      errors: [...ADMIN_ERRORS, 'kiosk_not_found', 'database_unavailable'],
    }), validate('param', kioskParam), async (c) => {
      const { id } = c.req.valid('param');
      ownKiosk(c.get('user').orgId, id);
      await deps.store.deleteKiosk(id);
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'kiosk.revoke', outcome: 'ok', detail: { kioskId: id } });
      return c.body(null, 204);
    });
}

/** The display's own endpoint: device token in, access token and layout out. */
export function kioskSessionRoutes(deps: Deps) {
  return new Hono<AppEnv>().post('/session', describe({
    summary: 'Start a kiosk display\'s session',
    description:
      'The display sends its device token (from its kiosk link) and gets a 1-hour access token with its layout and cameras; it calls again before the access token expires, for as long as it runs. ' +
      'A token that was replaced or whose kiosk was deleted answers `kiosk_revoked` (audited as a refused `kiosk.session`).',
    tag, auth: ['none'], access: 'a display holding the kiosk\'s current device token (sent in the body)',
    answer: {
      description: 'An access token, and what to show',
      schema: KioskSession,
      example: {
        accessToken: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0eXAiOiJraW9zayIsInN1YiI6Imtpb3NrX1ZiNnlOMmNROHJKZCIsImdlbiI6MX0.9m3XlQb0wq7yR2sT5uV8nK1pZc4aE6dJhF0gYiLo3Ns',
        expiresAt: '2026-12-06T21:15:00.000Z',
        kiosk: { id: exampleKiosk.id, name: exampleKiosk.name, layout: 4, rotateSeconds: 20, cameras: [{ id: 'cam_7QxV2mR9aB3k', name: 'Entrance' }, { id: 'cam_K2pLw8sZq0Tn', name: 'Loading dock' }, { id: 'cam_e5HdR1uYx9Mf', name: 'Parking' }] },
      },
    },
    errors: ['kiosk_revoked', 'bad_request'],
    example: { token: exampleToken },
  }), validate('json', sessionBody), async (c) => {
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
    return reply(c, KioskSession, {
      accessToken: access.token,
      expiresAt: access.expiresAt,
      kiosk: { id: kiosk.id, name: kiosk.name, layout: kiosk.layout, rotateSeconds: kiosk.rotateSeconds, cameras },
    });
  });
}
