import { Hono } from 'hono';
import { z } from 'zod';
import { CAMERA_TOKEN_TTL_S, cameraSecretMatches, hashCameraSecret, newCameraSecret } from '../auth.ts';
import type { AppEnv, Deps } from '../context.ts';
import { ApiError, forbidden, notFound, unauthorized } from '../errors.ts';
import { bearerToken, requireAdmin, requireUser, verifiedClaims } from '../middleware.ts';
import { validate } from '../validate.ts';
import type { Camera } from '../store.ts';
import { idParam, instant, rangeQuery } from './params.ts';

const grantParam = idParam.extend({ userId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a user id') });
const createBody = z.object({ name: z.string().trim().min(1).max(100) });
const publishTokenBody = z.object({ secret: z.string().min(1).max(200).optional() });
const updateBody = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    recording: z
      .object({
        enabled: z.boolean().optional(),
        /** Plans are 7, 30 or 90 days; any whole number of days up to ten years is accepted. */
        retentionDays: z.number().int().min(1).max(3650).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
const holdBody = z
  .object({ from: instant, to: instant, reason: z.string().trim().min(1).max(500) })
  .refine((r) => r.to > r.from, 'to must be after from');
const holdParam = idParam.extend({ holdId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a hold id') });

export function cameraRoutes(deps: Deps) {
  const view = (cam: Camera) => ({
    id: cam.id,
    name: cam.name,
    live: deps.sfu.existingRoom(cam.id)?.live ?? false,
    recording: { enabled: cam.recording?.enabled ?? true, retentionDays: cam.recording?.retentionDays ?? deps.config.recording.retentionDays },
  });
  const user = requireUser(deps);

  return (
    new Hono<AppEnv>()
      // A camera exchanges its secret for a publish token; an admin may get one directly.
      .post('/:id/publish-token', validate('param', idParam), validate('json', publishTokenBody), async (c) => {
        const { id } = c.req.valid('param');
        const { secret } = c.req.valid('json');
        const cam = deps.store.camera(id);
        if (secret !== undefined) {
          if (!cam || !cameraSecretMatches(secret, cam.secretHash)) {
            deps.log.warn({ event: 'camera_secret_rejected', cameraId: id }, 'camera secret rejected');
            throw new ApiError(401, 'invalid_camera_secret', 'the camera id or secret is wrong; copy them again from the admin page');
          }
        } else {
          const token = bearerToken(c.req.header('authorization'));
          if (!token) throw unauthorized('send the camera secret, or sign in as an administrator');
          const claims = verifiedClaims(deps.tokens, token);
          if (claims.typ !== 'user' || claims.role !== 'admin') throw forbidden('only an administrator may get a publish token without the camera secret');
          if (!cam) throw notFound('camera', id);
        }
        return c.json(deps.tokens.sign({ typ: 'camera', sub: id }, CAMERA_TOKEN_TTL_S));
      })
      .use(user)
      .get('/', (c) => {
        const u = c.get('user');
        const cameras = deps.store.cameras.filter((cam) => deps.store.mayView(u, cam.id)).map(view);
        return c.json({ cameras });
      })
      .get('/:id', validate('param', idParam), (c) => {
        const { id } = c.req.valid('param');
        const cam = deps.store.camera(id);
        if (!cam || !deps.store.mayView(c.get('user'), id)) throw notFound('camera', id);
        return c.json({ camera: view(cam) });
      })
      .post('/', requireAdmin, validate('json', createBody), async (c) => {
        const { name } = c.req.valid('json');
        const secret = newCameraSecret();
        const cam = await deps.store.addCamera(name, hashCameraSecret(secret));
        deps.log.info({ event: 'camera_created', cameraId: cam.id, by: c.get('user').id }, 'camera created');
        return c.json({ camera: view(cam), secret }, 201);
      })
      .patch('/:id', requireAdmin, validate('param', idParam), validate('json', updateBody), async (c) => {
        const { id } = c.req.valid('param');
        const cam = await deps.store.updateCamera(id, c.req.valid('json'));
        if (!cam) throw notFound('camera', id);
        deps.recorder.refresh(id);
        deps.log.info({ event: 'camera_updated', cameraId: id, recording: cam.recording, by: c.get('user').id }, 'camera updated');
        return c.json({ camera: view(cam) });
      })
      // Contract end or removal: the camera, and every recording of it, with a deletion report.
      .delete('/:id', requireAdmin, validate('param', idParam), async (c) => {
        const { id } = c.req.valid('param');
        if (!deps.store.camera(id)) throw notFound('camera', id);
        deps.hub.cameraRemoved(id);
        const report = await deps.recorder.deleteRecordings(id);
        await deps.store.deleteCamera(id);
        deps.recorder.keys.forget(id);
        deps.log.info({ event: 'camera_deleted', cameraId: id, report, by: c.get('user').id }, 'camera deleted');
        return c.json({ deleted: report });
      })
      .get('/:id/recordings', validate('param', idParam), validate('query', rangeQuery), async (c) => {
        const { id } = c.req.valid('param');
        if (!deps.store.mayView(c.get('user'), id)) throw notFound('camera', id);
        const { from, to } = c.req.valid('query');
        const { segments, gaps } = await deps.recorder.index.query(id, from, to);
        return c.json({
          cameraId: id,
          from,
          to,
          segments: segments.map((s) => ({ startMs: s.startMs, endMs: s.endMs, fragments: s.fragments.length, video: s.video, audio: s.audio, end: s.end })),
          gaps,
        });
      })
      .delete('/:id/recordings', requireAdmin, validate('param', idParam), async (c) => {
        const { id } = c.req.valid('param');
        if (!deps.store.camera(id)) throw notFound('camera', id);
        const report = await deps.recorder.deleteRecordings(id);
        deps.log.warn({ event: 'recordings_deleted_by_admin', cameraId: id, report, by: c.get('user').id }, 'recordings deleted');
        return c.json({ deleted: report });
      })
      .get('/:id/holds', requireAdmin, validate('param', idParam), (c) => {
        const { id } = c.req.valid('param');
        if (!deps.store.camera(id)) throw notFound('camera', id);
        return c.json({ holds: deps.store.holdsOf(id) });
      })
      .post('/:id/holds', requireAdmin, validate('param', idParam), validate('json', holdBody), async (c) => {
        const { id } = c.req.valid('param');
        if (!deps.store.camera(id)) throw notFound('camera', id);
        const { from, to, reason } = c.req.valid('json');
        const hold = await deps.store.addHold({ cameraId: id, fromMs: from, toMs: to, reason, createdBy: c.get('user').id });
        deps.log.warn({ event: 'legal_hold_added', cameraId: id, holdId: hold.id, fromMs: from, toMs: to, by: c.get('user').id }, 'legal hold added');
        return c.json({ hold }, 201);
      })
      .delete('/:id/holds/:holdId', requireAdmin, validate('param', holdParam), async (c) => {
        const { id, holdId } = c.req.valid('param');
        if (!(await deps.store.removeHold(id, holdId))) throw notFound('hold', holdId);
        deps.log.warn({ event: 'legal_hold_removed', cameraId: id, holdId, by: c.get('user').id }, 'legal hold removed');
        return c.body(null, 204);
      })
      .post('/:id/secret', requireAdmin, validate('param', idParam), async (c) => {
        const { id } = c.req.valid('param');
        if (!deps.store.camera(id)) throw notFound('camera', id);
        const secret = newCameraSecret();
        await deps.store.setCameraSecret(id, hashCameraSecret(secret));
        deps.log.info({ event: 'camera_secret_rotated', cameraId: id, by: c.get('user').id }, 'camera secret rotated');
        return c.json({ secret });
      })
      .put('/:id/grants/:userId', requireAdmin, validate('param', grantParam), async (c) => {
        const { id, userId } = c.req.valid('param');
        if (!deps.store.camera(id)) throw notFound('camera', id);
        if (!deps.store.userById(userId)) throw notFound('user', userId);
        await deps.store.grant(userId, id);
        deps.log.info({ event: 'grant_added', cameraId: id, userId, by: c.get('user').id }, 'grant added');
        return c.json({ ok: true });
      })
      .delete('/:id/grants/:userId', requireAdmin, validate('param', grantParam), async (c) => {
        const { id, userId } = c.req.valid('param');
        await deps.store.revoke(userId, id);
        deps.hub.grantRevoked(userId, id);
        deps.log.info({ event: 'grant_revoked', cameraId: id, userId, by: c.get('user').id }, 'grant revoked');
        return c.body(null, 204);
      })
  );
}
