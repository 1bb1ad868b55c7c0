import { Hono } from 'hono';
import { z } from 'zod';
import type { Context } from 'hono';
import { accessOf, cameraSecretAccepted } from '../access.ts';
import { CAMERA_TOKEN_TTL_S, hashCameraSecret, newCameraSecret } from '../auth.ts';
import type { AppEnv, Deps } from '../context.ts';
import { ApiError, badRequest, forbidden, notFound, unauthorized } from '../errors.ts';
import { audit, bearerToken, fresh, freshLookup, requireAdmin, requireUser, verifiedToken } from '../middleware.ts';
import { removeCamera } from '../ContractEnd.ts';
import { grantableRights } from './grants.ts';
import { describeIssues, validate } from '../validate.ts';
import { RIGHTS, type Camera, type Right } from '../store/index.ts';
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
/** How long the old secret keeps working after a rotation (0 = stops at once, e.g. when it leaked). */
const rotateBody = z.object({ graceHours: z.number().min(0).max(168).default(24) }).strict();
const grantBody = z.object({ rights: z.array(z.enum(RIGHTS as [Right, ...Right[]])).max(RIGHTS.length).optional() }).strict();

export function cameraRoutes(deps: Deps) {
  const view = (cam: Camera, rights: ReadonlySet<Right>, groups = deps.store.groupsOf(cam.orgId)) => ({
    id: cam.id,
    name: cam.name,
    live: deps.sfu.existingRoom(cam.id)?.live ?? false,
    recording: { enabled: cam.recording?.enabled ?? true, retentionDays: cam.recording?.retentionDays ?? deps.config.recording.retentionDays },
    rights: RIGHTS.filter((r) => rights.has(r)),
    groupIds: groups.filter((g) => g.cameraIds.includes(cam.id)).map((g) => g.id),
  });
  const user = requireUser(deps);
  /** The camera, if the caller holds `right` on it (404/403 otherwise, see Access.require). */
  const cameraFor = (c: Context<AppEnv>, id: string, right: Right): Camera => {
    accessOf(deps, `u:${c.get('user').id}`).require(id, right);
    return deps.store.camera(id)!;
  };
  const actor = (c: Context<AppEnv>) => `u:${c.get('user').id}`;

  return (
    new Hono<AppEnv>()
      // A camera exchanges its secret for a publish token; an admin (or a user who manages it) may get one directly.
      .post('/:id/publish-token', validate('param', idParam), validate('json', publishTokenBody), async (c) => {
        const { id } = c.req.valid('param');
        const { secret } = c.req.valid('json');
        const cam = await freshLookup(deps, () => deps.store.camera(id));
        if (secret !== undefined) {
          if (!cam || !cameraSecretAccepted(cam, secret)) {
            deps.log.warn({ event: 'camera_secret_rejected', cameraId: id }, 'camera secret rejected');
            audit(deps, c, { actor: 'anonymous', action: 'camera.secret_rejected', cameraId: id, outcome: 'refused' });
            throw new ApiError(401, 'invalid_camera_secret', 'the camera id or secret is wrong; copy them again from the admin page');
          }
        } else {
          const token = bearerToken(c.req.header('authorization'));
          if (!token) throw unauthorized('send the camera secret, or sign in as an administrator');
          await fresh(deps, () => {
            const { claims } = verifiedToken(deps, token);
            if (claims.typ !== 'user') throw forbidden('only a signed-in user who manages this camera may get a publish token without the camera secret');
            accessOf(deps, `u:${claims.sub}`).require(id, 'manage');
          });
        }
        return c.json(deps.tokens.sign({ typ: 'camera', sub: id }, CAMERA_TOKEN_TTL_S));
      })
      .use(user)
      .get('/', (c) => {
        const u = c.get('user');
        const rightsOn = deps.store.rightsOf(u);
        const groups = deps.store.groupsOf(u.orgId);
        const cameras = deps.store.camerasOf(u.orgId).flatMap((cam) => {
          const rights = rightsOn(cam.id);
          return rights.size > 0 ? [view(cam, rights, groups)] : [];
        });
        return c.json({ cameras });
      })
      .get('/:id', validate('param', idParam), (c) => {
        const { id } = c.req.valid('param');
        const rights = deps.store.rightsOn(c.get('user'), id);
        if (rights.size === 0) throw notFound('camera', id);
        return c.json({ camera: view(deps.store.camera(id)!, rights) });
      })
      .post('/', requireAdmin, validate('json', createBody), async (c) => {
        const { name } = c.req.valid('json');
        const secret = newCameraSecret();
        const cam = await deps.store.addCamera(c.get('user').orgId, name, hashCameraSecret(secret));
        audit(deps, c, { actor: actor(c), action: 'camera.create', cameraId: cam.id, outcome: 'ok', detail: { name } });
        return c.json({ camera: view(cam, deps.store.rightsOn(c.get('user'), cam.id)), secret }, 201);
      })
      .patch('/:id', validate('param', idParam), validate('json', updateBody), async (c) => {
        const { id } = c.req.valid('param');
        cameraFor(c, id, 'manage');
        const change = c.req.valid('json');
        const cam = (await deps.store.updateCamera(id, change))!;
        deps.recorder.refresh(id);
        audit(deps, c, { actor: actor(c), action: 'camera.update', cameraId: id, outcome: 'ok', detail: change });
        return c.json({ camera: view(cam, deps.store.rightsOn(c.get('user'), id)) });
      })
      // Removal: the camera, and every recording and export of it, with a deletion report.
      .delete('/:id', requireAdmin, validate('param', idParam), async (c) => {
        const { id } = c.req.valid('param');
        cameraFor(c, id, 'manage');
        const report = await removeCamera(deps, id);
        audit(deps, c, { actor: actor(c), action: 'camera.delete', cameraId: id, outcome: 'ok', detail: { ...report } });
        return c.json({ deleted: report });
      })
      .get('/:id/recordings', validate('param', idParam), validate('query', rangeQuery), async (c) => {
        const { id } = c.req.valid('param');
        cameraFor(c, id, 'playback');
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
        cameraFor(c, id, 'manage');
        const report = await deps.recorder.deleteRecordings(id);
        audit(deps, c, { actor: actor(c), action: 'recordings.delete', cameraId: id, outcome: 'ok', detail: { ...report } });
        return c.json({ deleted: report });
      })
      // Legal holds bind the organisation: administrators only.
      .get('/:id/holds', requireAdmin, validate('param', idParam), (c) => {
        const { id } = c.req.valid('param');
        cameraFor(c, id, 'manage');
        return c.json({ holds: deps.store.holdsOf(id) });
      })
      .post('/:id/holds', requireAdmin, validate('param', idParam), validate('json', holdBody), async (c) => {
        const { id } = c.req.valid('param');
        cameraFor(c, id, 'manage');
        const { from, to, reason } = c.req.valid('json');
        const hold = await deps.store.addHold({ cameraId: id, fromMs: from, toMs: to, reason, createdBy: c.get('user').id });
        audit(deps, c, { actor: actor(c), action: 'hold.create', cameraId: id, outcome: 'ok', detail: { holdId: hold.id, fromMs: from, toMs: to, reason } });
        return c.json({ hold }, 201);
      })
      .delete('/:id/holds/:holdId', requireAdmin, validate('param', holdParam), async (c) => {
        const { id, holdId } = c.req.valid('param');
        cameraFor(c, id, 'manage');
        if (!(await deps.store.removeHold(id, holdId))) throw notFound('hold', holdId);
        audit(deps, c, { actor: actor(c), action: 'hold.delete', cameraId: id, outcome: 'ok', detail: { holdId } });
        return c.body(null, 204);
      })
      // A new secret; the old one keeps working for `graceHours` so the camera can be reconfigured
      // without going dark, and a publishing camera is never cut off (its publish token stays valid).
      .post('/:id/secret', validate('param', idParam), validate('json', rotateBody), async (c) => {
        const { id } = c.req.valid('param');
        cameraFor(c, id, 'manage');
        const { graceHours } = c.req.valid('json');
        const secret = newCameraSecret();
        const graceUntil = graceHours > 0 ? new Date(Date.now() + graceHours * 3_600_000) : undefined;
        await deps.store.setCameraSecret(id, hashCameraSecret(secret), graceUntil);
        audit(deps, c, { actor: actor(c), action: 'camera.secret_rotate', cameraId: id, outcome: 'ok', detail: { graceHours } });
        return c.json({ secret, previousSecretValidUntil: graceUntil?.toISOString() ?? null });
      })
      // Shorthand for a grant on one camera (the full API is /api/grants); without rights, all the user's role allows.
      .put('/:id/grants/:userId', requireAdmin, validate('param', grantParam), async (c) => {
        const { id, userId } = c.req.valid('param');
        cameraFor(c, id, 'manage');
        const grantee = deps.store.userById(userId);
        if (!grantee || grantee.orgId !== c.get('user').orgId) throw notFound('user', userId);
        // The body is optional: scripts often PUT nothing at all.
        const text = await c.req.text();
        let asked: unknown;
        try {
          asked = text.trim() === '' ? {} : JSON.parse(text);
        } catch {
          throw badRequest('the body must be empty or JSON like {"rights":["live","playback"]}', 'invalid_request');
        }
        const body = grantBody.safeParse(asked);
        if (!body.success) throw badRequest(`invalid json: ${describeIssues(body.error)}`, 'invalid_request');
        const rights = grantableRights(grantee, body.data.rights);
        const grant = await deps.store.setGrant({ orgId: grantee.orgId, userId, cameraId: id, rights, createdBy: c.get('user').id });
        audit(deps, c, { actor: actor(c), action: 'grant.set', cameraId: id, outcome: 'ok', detail: { userId, rights } });
        return c.json({ ok: true, grant });
      })
      .delete('/:id/grants/:userId', requireAdmin, validate('param', grantParam), async (c) => {
        const { id, userId } = c.req.valid('param');
        cameraFor(c, id, 'manage');
        const grantee = deps.store.userById(userId);
        if (!grantee || grantee.orgId !== c.get('user').orgId) throw notFound('user', userId);
        await deps.store.setGrant({ orgId: grantee.orgId, userId, cameraId: id, rights: [], createdBy: c.get('user').id });
        audit(deps, c, { actor: actor(c), action: 'grant.revoke', cameraId: id, outcome: 'ok', detail: { userId } });
        return c.body(null, 204);
      })
  );
}
