// Clip exports: background jobs with progress, kept until deleted (past the camera's retention).
import { Hono } from 'hono';
import { z } from 'zod';
import { accessOfClaims, type Access } from '../access.ts';
import type { AppEnv, Deps } from '../context.ts';
import { ApiError, notFound } from '../errors.ts';
import { audit, fresh, requireAccess, verifiedToken } from '../middleware.ts';
import type { ExportJob } from '../store/index.ts';
import { describe, reply, validate } from '../wire/index.ts';
import { ID, idParam, instant } from './params.ts';
import { ACCESS_ERRORS, fileName, streamMp4 } from './playback.ts';
import { ExportList, OneExport } from '../wire/answers/index.ts';

const EXPORT_MAX_MS = 7 * 86_400_000;
const DOWNLOAD_TOKEN_TTL_S = 3600;

const exportBody = z
  .object({ from: instant, to: instant, name: z.string().trim().min(1).max(100).optional() })
  .strict()
  .refine((r) => r.to > r.from, 'to must be after from')
  .refine((r) => r.to - r.from <= EXPORT_MAX_MS, 'export at most 7 days at once');
const exportParam = z.object({ id: z.string().regex(ID, 'not an export id') });
const fileQuery = z.object({ t: z.string().regex(/^[A-Za-z0-9_.-]{20,2000}$/).optional().describe('The download token of downloadUrl; without it, send Authorization: Bearer') });

const tag = 'Exports';
const QUEUED = { id: 'exp_4MvQ8nT2aZ0c', cameraId: 'cam_7QxV2mR9kLp4', fromMs: 1796455200000, toMs: 1796458800000, name: 'Entrance.mp4', status: 'queued', progress: 0, createdAt: '2026-12-05T09:02:11.408Z', createdBy: 'u:u_2KdP9sLxQ7vB' } as const;
const DONE = { ...QUEUED, status: 'done', progress: 1, bytes: 734003200, startMs: 1796455198000, durationMs: 3602000, gaps: [], downloadUrl: '/api/exports/exp_4MvQ8nT2aZ0c/file?t=eyJhbGciOiJIUzI1NiJ9.eyJ0eXAiOiJwbGF5YmFjayJ9.c2lnbmF0dXJl' } as const;
const ACCESS = 'a user or API key with the "export" right on the camera, or a share link of a recorded clip of it (inside its clip)';

export function exportRoutes(deps: Deps) {
  const access = requireAccess(deps);
  /** Its creator's, or any export of the organisation's cameras for its admins. */
  const mine = (a: Access, job: ExportJob) =>
    job.createdBy === a.principal || (a.user?.role === 'admin' && deps.store.camera(job.cameraId)?.orgId === a.user.orgId);

  /** `viewer`: who asks; the download link carries their principal (re-checked when followed). */
  const view = (job: ExportJob, viewer: Access) => {
    const base = {
      id: job.id,
      cameraId: job.cameraId,
      fromMs: job.fromMs,
      toMs: job.toMs,
      name: job.name,
      status: job.status,
      progress: job.progress,
      createdAt: job.createdAt,
      createdBy: job.createdBy,
      ...(job.bytes !== undefined ? { bytes: job.bytes } : {}),
      ...(job.error ? { error: job.error } : {}),
      ...(job.startMs !== undefined ? { startMs: job.startMs, durationMs: job.durationMs } : {}),
      ...(job.gaps ? { gaps: job.gaps } : {}),
    };
    if (job.status !== 'done') return base;
    // A short-lived link the browser can follow without headers.
    const { token } = deps.tokens.sign({ typ: 'playback', sub: job.cameraId, by: viewer.principal, from: job.fromMs, to: job.toMs, ...(viewer.sessionId ? { sid: viewer.sessionId } : {}) }, DOWNLOAD_TOKEN_TTL_S);
    return { ...base, downloadUrl: `/api/exports/${job.id}/file?t=${token}` };
  };

  return (
    new Hono<AppEnv>()
      .post('/cameras/:id/exports', describe({
        summary: 'Start an export',
        description: 'Queues a background job that makes an MP4 of `from`..`to` (at most 7 days) and keeps it, encrypted, until it is deleted (also past the camera\'s retention). Follow it with GET /api/exports/{id}: `progress` grows, and when `status` is done `downloadUrl` downloads it. Audited as `export.create`.',
        tag, auth: ['user', 'apiKey', 'share', 'kiosk'],
        access: `${ACCESS} (a kiosk's token is accepted but has no export right: 404)`,
        answer: { status: 202, description: 'Queued', schema: OneExport, example: { export: QUEUED } },
        errors: [...ACCESS_ERRORS, 'bad_request', 'outside_share', 'database_unavailable'],
        example: { from: '2026-12-05T16:20:00+09:00', to: '2026-12-05T17:20:00+09:00', name: 'Entrance' },
      }), access, validate('param', idParam), validate('json', exportBody), async (c) => {
        const { id } = c.req.valid('param');
        const { from, to, name } = c.req.valid('json');
        const a = c.get('access');
        a.require(id, 'export', { fromMs: from, toMs: to });
        const cam = deps.store.camera(id)!;
        const job = await deps.store.addExport({ cameraId: id, fromMs: from, toMs: to, name: fileName(name, cam.name, from), createdBy: a.principal });
        deps.exports.enqueue(job.id);
        audit(deps, c, { actor: a.principal, action: 'export.create', cameraId: id, outcome: 'ok', detail: { exportId: job.id, fromMs: from, toMs: to } });
        return reply(c, OneExport, { export: view(job, a) }, 202);
      })
      .get('/exports', describe({
        summary: 'List exports',
        description: 'The caller\'s own exports, and for an organisation administrator every export of the organisation\'s cameras (exports of deleted cameras are left out). Not paged.',
        tag, auth: ['user', 'apiKey', 'share', 'kiosk'],
        access: 'any signed-in user, API key or share link (a kiosk\'s list is always empty)',
        answer: { description: 'The exports', schema: ExportList, example: { exports: [DONE] } },
        errors: ['session_revoked', 'forbidden', 'share_not_found', 'share_revoked', 'share_expired', 'kiosk_revoked', 'invalid_api_key', 'api_key_revoked', 'api_key_expired', 'rate_limited'],
      }), access, (c) => {
        const a = c.get('access');
        const jobs = deps.store.exportsBy(undefined).filter((j) => mine(a, j) && deps.store.camera(j.cameraId));
        return reply(c, ExportList, { exports: jobs.map((j) => view(j, a)) });
      })
      .get('/exports/:id', describe({
        summary: 'Get an export',
        description: 'Its status and progress; when done, a fresh `downloadUrl`.',
        tag, auth: ['user', 'apiKey', 'share', 'kiosk'],
        access: 'whoever started it, or an administrator of the camera\'s organisation',
        answer: { description: 'The export', schema: OneExport, example: { export: DONE } },
        errors: ['session_revoked', 'forbidden', 'share_not_found', 'share_revoked', 'share_expired', 'kiosk_revoked', 'invalid_api_key', 'api_key_revoked', 'api_key_expired', 'rate_limited', 'export_not_found'],
      }), access, validate('param', exportParam), (c) => {
        const { id } = c.req.valid('param');
        const job = deps.store.exportJob(id);
        if (!job || !mine(c.get('access'), job)) throw notFound('export', id);
        return reply(c, OneExport, { export: view(job, c.get('access')) });
      })
      .get('/exports/:id/file', describe({
        summary: 'Download an export',
        description: 'The finished MP4 as an attachment, streamed. Open `downloadUrl` (its `t` is a download token, valid an hour), or send a bearer token. Whoever the token speaks for must still have the "export" right on the camera. If the storage fails once the stream has begun, the download is cut off. Audited as `export.download`.',
        tag, auth: ['playback', 'user', 'apiKey', 'share'],
        access: 'whoever started it, or an administrator of the camera\'s organisation, with the "export" right on the camera (a kiosk never downloads)',
        answer: {
          description: 'The MP4',
          mediaType: 'video/mp4',
          headers: { 'Content-Length': 'The size of the MP4, in bytes', 'Content-Disposition': 'attachment; filename="<the export\'s name>"', 'Cache-Control': 'private, no-store' },
        },
        errors: ['unauthorized', 'token_expired', 'session_revoked', 'forbidden', 'share_not_found', 'share_revoked', 'share_expired', 'invalid_api_key', 'api_key_revoked', 'api_key_expired', 'rate_limited', 'export_not_found', 'camera_not_found', 'right_missing', 'export_not_ready'],
      }), validate('param', exportParam), validate('query', fileQuery), async (c) => {
        const { id } = c.req.valid('param');
        const job = deps.store.exportJob(id);
        // The link's token, or a Bearer header: the same grant is needed either way.
        const raw = c.req.valid('query').t ?? /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
        // An API key goes in the Authorization header (rate-limited, audited), never in a link.
        if (c.req.valid('query').t?.startsWith('mk_')) throw new ApiError(400, 'invalid_request', 'send an API key as "Authorization: Bearer mk_…", never in a link (t= takes the download link\'s own token)');
        if (!raw) throw new ApiError(401, 'unauthorized', 'open the download link from the export list (it carries a token), or sign in');
        const { claims } = await fresh(deps, () => verifiedToken(deps, raw));
        // A kiosk is view-only: it never downloads.
        const a = claims.typ === 'kiosk' ? undefined : accessOfClaims(deps, claims);
        if (!a) throw new ApiError(403, 'forbidden', 'this token cannot download exports');
        if (!job || !mine(a, job) || (claims.typ === 'playback' && claims.sub !== job.cameraId)) throw notFound('export', id);
        a.require(job.cameraId, 'export');
        if (job.status !== 'done' || job.bytes === undefined) throw new ApiError(409, 'export_not_ready', `the export is ${job.status}; download it when it is done`);
        audit(deps, c, { actor: a.principal, action: 'export.download', cameraId: job.cameraId, outcome: 'ok', detail: { exportId: id, bytes: job.bytes } });
        return streamMp4(c, deps.exports.download(job), job.bytes, job.name);
      })
      .delete('/exports/:id', describe({
        summary: 'Delete an export',
        description: 'Deletes the stored MP4 and the job, whatever its status. Audited as `export.delete`.',
        tag, auth: ['user', 'apiKey', 'share', 'kiosk'],
        access: 'whoever started it, or an administrator of the camera\'s organisation',
        answer: { status: 204, description: 'Deleted' },
        errors: ['session_revoked', 'forbidden', 'share_not_found', 'share_revoked', 'share_expired', 'kiosk_revoked', 'invalid_api_key', 'api_key_revoked', 'api_key_expired', 'rate_limited', 'export_not_found', 'database_unavailable'],
      }), access, validate('param', exportParam), async (c) => {
        const { id } = c.req.valid('param');
        const job = deps.store.exportJob(id);
        const a = c.get('access');
        if (!job || !mine(a, job)) throw notFound('export', id);
        const objects = await deps.exports.deleteFile(job);
        await deps.store.deleteExport(id);
        audit(deps, c, { actor: a.principal, action: 'export.delete', cameraId: job.cameraId, outcome: 'ok', detail: { exportId: id, objects } });
        return c.body(null, 204);
      })
  );
}
