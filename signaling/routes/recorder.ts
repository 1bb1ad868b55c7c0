import { Hono } from 'hono';
import type { AppEnv, Deps } from '../context.ts';
import { audit, requireAdmin, requirePlatform, requireUser } from '../middleware.ts';
import type { Monitoring } from '../monitoring.ts';
import { MasterKeyRotated, RecorderAlerts, RecorderState } from '../wire/answers/index.ts';
import { describe, reply } from '../wire/index.ts';

const tag = 'Service and cluster';
const PLATFORM = 'an operator of the service (platform administrator)';
const USER_ERRORS = ['session_revoked', 'api_key_not_allowed', 'forbidden'] as const;

/**
 * Recorder status (spool, uploads, durability, cameras online but not recording) and master-key
 * rotation: the service's operators only (they span every organisation). An organisation's admins
 * get the alerts of their own cameras.
 */
export function recorderRoutes(deps: Deps, monitoring: Pick<Monitoring, 'alerts'>) {
  return new Hono<AppEnv>()
    .use(requireUser(deps), requireAdmin)
    .get('/alerts', describe({
      summary: 'List recording alerts',
      description: 'Cameras of the caller\'s organisation that should be recording and are not: live and set to record but not recorded for a while, or whose spool disk is full. As seen by the node that answers.',
      tag, auth: ['user'],
      access: 'an organisation administrator',
      answer: { description: 'The alerts', schema: RecorderAlerts, example: { alerts: [{ cameraId: 'cam_7QxV2mR9kLp4', kind: 'not_recording', sinceMs: 1796455200000 }] } },
      errors: USER_ERRORS,
    }), (c) => {
      const orgId = c.get('user').orgId;
      return reply(c, RecorderAlerts, { alerts: monitoring.alerts().filter((a) => deps.store.camera(a.cameraId)?.orgId === orgId) });
    })
    .use(requirePlatform)
    .get('/', describe({
      summary: 'Get the recorder\'s status',
      description: 'The recorder of the node that answers: cameras it records, the spool, uploads, how fast fragments become durable, and every organisation\'s alerts. Counters run from the node\'s start.',
      tag, auth: ['user'], access: PLATFORM,
      answer: {
        description: 'The status',
        schema: RecorderState,
        example: {
          cameras: [{ cameraId: 'cam_7QxV2mR9kLp4', recording: true, session: '9c41d07e2b' }],
          spoolBytes: 48234496,
          upload: { queued: 2, queuedBytes: 6291456, uploaded: 18342, errors: 3, droppedSegments: 0, lastLagMs: 412, oldestWaitingMs: 1830 },
          fragments: 552160,
          fragmentDurableMsP50: 38,
          fragmentDurableMsP99: 210,
          gaps: 4,
          writeErrors: 0,
          store: 's3://mimamori-recordings in AWS ap-northeast-1',
          alerts: [],
        },
      },
      errors: USER_ERRORS,
    }), async (c) => reply(c, RecorderState, { ...(await deps.recorder.status()), alerts: monitoring.alerts() }))
    .post('/master-key/rotate', describe({
      summary: 'Rotate the master key',
      description: 'Makes a new master key, re-wraps every camera\'s data key with it and retires master keys no longer used. Recordings are not re-encrypted. Only with master keys kept in the key file: keys given in MIMAMORI_MASTER_KEYS are changed there (this route then fails). Audited as `master_key.rotate`.',
      tag, auth: ['user'], access: PLATFORM,
      answer: { description: 'Rotated', schema: MasterKeyRotated, example: { masterKeyId: 'mk-20261205-7f3a09c2', rewrapped: 128, retired: ['mk-20260601-1c9e44d0'] } },
      errors: [...USER_ERRORS, 'master_keys_readonly', 'database_unavailable'],
    }), async (c) => {
      const result = await deps.recorder.keys.rotateMaster();
      deps.log.warn({ event: 'master_key_rotated', masterKeyId: result.masterKeyId, rewrapped: result.rewrapped, by: c.get('user').id }, 'master key rotated');
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'master_key.rotate', outcome: 'ok', detail: { masterKeyId: result.masterKeyId, rewrapped: result.rewrapped } });
      return reply(c, MasterKeyRotated, result);
    });
}
