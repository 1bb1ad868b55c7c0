import { Hono } from 'hono';
import type { AppEnv, Deps } from '../context.ts';
import { audit, requireAdmin, requirePlatform, requireUser } from '../middleware.ts';
import type { Monitoring } from '../monitoring.ts';

/**
 * Recorder status (spool, uploads, durability, cameras online but not recording) and master-key
 * rotation: the service's operators only (they span every organisation). An organisation's admins
 * get the alerts of their own cameras.
 */
export function recorderRoutes(deps: Deps, monitoring: Pick<Monitoring, 'alerts'>) {
  return new Hono<AppEnv>()
    .use(requireUser(deps), requireAdmin)
    .get('/alerts', (c) => {
      const orgId = c.get('user').orgId;
      return c.json({ alerts: monitoring.alerts().filter((a) => deps.store.camera(a.cameraId)?.orgId === orgId) });
    })
    .use(requirePlatform)
    .get('/', async (c) => c.json({ ...(await deps.recorder.status()), alerts: monitoring.alerts() }))
    .post('/master-key/rotate', async (c) => {
      const result = await deps.recorder.keys.rotateMaster();
      deps.log.warn({ event: 'master_key_rotated', masterKeyId: result.masterKeyId, rewrapped: result.rewrapped, by: c.get('user').id }, 'master key rotated');
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'master_key.rotate', outcome: 'ok', detail: { masterKeyId: result.masterKeyId, rewrapped: result.rewrapped } });
      return c.json(result);
    });
}
