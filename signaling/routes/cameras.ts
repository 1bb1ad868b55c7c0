import { Hono } from 'hono';
import { z } from 'zod';
import { CAMERA_TOKEN_TTL_S, cameraSecretMatches, hashCameraSecret, newCameraSecret } from '../auth.ts';
import type { AppEnv, Deps } from '../context.ts';
import { ApiError, forbidden, notFound, unauthorized } from '../errors.ts';
import { bearerToken, requireAdmin, requireUser, verifiedClaims } from '../middleware.ts';
import { validate } from '../validate.ts';
import type { Camera } from '../store.ts';

const idParam = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a camera id') });
const grantParam = idParam.extend({ userId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a user id') });
const createBody = z.object({ name: z.string().trim().min(1).max(100) });
const publishTokenBody = z.object({ secret: z.string().min(1).max(200).optional() });

export function cameraRoutes(deps: Deps) {
  const view = (cam: Camera) => ({ id: cam.id, name: cam.name, live: deps.sfu.existingRoom(cam.id)?.live ?? false });
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
      .delete('/:id', requireAdmin, validate('param', idParam), async (c) => {
        const { id } = c.req.valid('param');
        if (!(await deps.store.deleteCamera(id))) throw notFound('camera', id);
        deps.hub.cameraRemoved(id);
        deps.log.info({ event: 'camera_deleted', cameraId: id, by: c.get('user').id }, 'camera deleted');
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
