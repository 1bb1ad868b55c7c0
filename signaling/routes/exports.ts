// Clip exports: background jobs with progress, kept until deleted (past the camera's retention).
import { Hono } from 'hono';
import { z } from 'zod';
import { accessOfClaims, type Access } from '../access.ts';
import type { AppEnv, Deps } from '../context.ts';
import { ApiError, notFound } from '../errors.ts';
import { audit, fresh, requireAccess, verifiedToken } from '../middleware.ts';
import type { ExportJob } from '../store/index.ts';
import { validate } from '../validate.ts';
import { ID, idParam, instant } from './params.ts';
import { fileName, streamMp4 } from './playback.ts';

const EXPORT_MAX_MS = 7 * 86_400_000;
const DOWNLOAD_TOKEN_TTL_S = 3600;

const exportBody = z
  .object({ from: instant, to: instant, name: z.string().trim().min(1).max(100).optional() })
  .strict()
  .refine((r) => r.to > r.from, 'to must be after from')
  .refine((r) => r.to - r.from <= EXPORT_MAX_MS, 'export at most 7 days at once');
const exportParam = z.object({ id: z.string().regex(ID, 'not an export id') });
const fileQuery = z.object({ t: z.string().regex(/^[A-Za-z0-9_.-]{20,2000}$/).optional() });

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
    const { token } = deps.tokens.sign({ typ: 'playback', sub: job.cameraId, by: viewer.principal, from: job.fromMs, to: job.toMs }, DOWNLOAD_TOKEN_TTL_S);
    return { ...base, downloadUrl: `/api/exports/${job.id}/file?t=${token}` };
  };

  return (
    new Hono<AppEnv>()
      .post('/cameras/:id/exports', access, validate('param', idParam), validate('json', exportBody), async (c) => {
        const { id } = c.req.valid('param');
        const { from, to, name } = c.req.valid('json');
        const a = c.get('access');
        a.require(id, 'export', { fromMs: from, toMs: to });
        const cam = deps.store.camera(id)!;
        const job = await deps.store.addExport({ cameraId: id, fromMs: from, toMs: to, name: fileName(name, cam.name, from), createdBy: a.principal });
        deps.exports.enqueue(job.id);
        audit(deps, c, { actor: a.principal, action: 'export.create', cameraId: id, outcome: 'ok', detail: { exportId: job.id, fromMs: from, toMs: to } });
        return c.json({ export: view(job, a) }, 202);
      })
      .get('/exports', access, (c) => {
        const a = c.get('access');
        const jobs = deps.store.exportsBy(undefined).filter((j) => mine(a, j) && deps.store.camera(j.cameraId));
        return c.json({ exports: jobs.map((j) => view(j, a)) });
      })
      .get('/exports/:id', access, validate('param', exportParam), (c) => {
        const { id } = c.req.valid('param');
        const job = deps.store.exportJob(id);
        if (!job || !mine(c.get('access'), job)) throw notFound('export', id);
        return c.json({ export: view(job, c.get('access')) });
      })
      .get('/exports/:id/file', validate('param', exportParam), validate('query', fileQuery), async (c) => {
        const { id } = c.req.valid('param');
        const job = deps.store.exportJob(id);
        // The link's token, or a Bearer header: the same grant is needed either way.
        const raw = c.req.valid('query').t ?? /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
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
      .delete('/exports/:id', access, validate('param', exportParam), async (c) => {
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
