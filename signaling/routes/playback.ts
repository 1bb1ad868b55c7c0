// Timeline, playback windows and everything a player fetches. A window's token rides in the
// URL path (players and <a download> cannot send headers), so it is short-lived, bound to one
// camera and one window, and the grant, share or kiosk behind it is checked on every request.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { keyOfName, NoRecordingError, playlist, type Playback, type PlaybackWindow } from '../../playback/index.ts';
import { parseSegmentKey } from '../../recorder/index.ts';
import { accessOfClaims, type Access } from '../access.ts';
import type { Claims } from '../auth.ts';
import type { AppEnv, Deps } from '../context.ts';
import { ApiError, badRequest } from '../errors.ts';
import { audit, fresh, requireAccess, verifiedToken } from '../middleware.ts';
import { validate } from '../validate.ts';
import { idParam, instant, rangeQuery } from './params.ts';

const PLAYBACK_TOKEN_TTL_S = 3600;
/** Longer clips go through an export job (progress, resumable download). */
const DIRECT_CLIP_MAX_MS = 6 * 3_600_000;

const playbackBody = z.object({ at: instant, to: instant.optional() }).strict();
const tokenParam = z.object({ token: z.string().regex(/^[A-Za-z0-9_.-]{20,2000}$/, 'not a playback token') });
const segmentParam = tokenParam.extend({ name: z.string().regex(/^\d{8}T\d{9}Z_[a-z0-9]{1,16}_\d{1,9}$/, 'not a segment name') });
const mediaParam = segmentParam.extend({ range: z.string().regex(/^\d{1,6}-\d{1,6}\.m4s$/, 'not a fragment range like 3-4.m4s') });
const previewQuery = z.object({ at: instant });
const clipQuery = z
  .object({ from: instant, to: instant, name: z.string().trim().max(100).optional() })
  .refine((r) => r.to > r.from, 'to must be after from');

type PlayClaims = Extract<Claims, { typ: 'playback' }>;

export function playbackRoutes(deps: Deps) {
  const { playback } = deps;
  const access = requireAccess(deps);

  /** The playback token of the URL, re-checked against what stands behind it. */
  const play = (c: Context<AppEnv>, token: string): Promise<{ claims: PlayClaims; access: Access }> => fresh(deps, () => playNow(c, token));
  const playNow = (c: Context<AppEnv>, token: string): { claims: PlayClaims; access: Access } => {
    const claims = verifiedToken(deps, token).claims;
    if (claims.typ !== 'playback') throw new ApiError(401, 'unauthorized', 'this is not a playback token; start playback again');
    const a = accessOfClaims(deps, claims)!;
    a.require(claims.sub, 'playback');
    return { claims, access: a };
  };

  return (
    new Hono<AppEnv>()
      .get('/cameras/:id/timeline', access, validate('param', idParam), validate('query', rangeQuery), async (c) => {
        const { id } = c.req.valid('param');
        const { from, to } = c.req.valid('query');
        c.get('access').require(id, 'playback');
        const timeline = await playback.timeline(id, from, to);
        const holds = c.get('access').user?.role === 'admin' ? deps.store.holdsOf(id).filter((h) => h.toMs > from && h.fromMs < to) : [];
        const events = [...timeline.events, ...holds.map((h) => ({ atMs: Math.max(h.fromMs, from), kind: 'hold' as const, detail: h.reason }))].sort((a, b) => a.atMs - b.atMs);
        return c.json({ ...timeline, events });
      })
      .post('/cameras/:id/playback', access, validate('param', idParam), validate('json', playbackBody), async (c) => {
        const { id } = c.req.valid('param');
        const body = c.req.valid('json');
        const a = c.get('access');
        a.require(id, 'playback');
        let at = body.at;
        let to = body.to;
        const share = a.share;
        if (share?.kind === 'clip') {
          at = Math.min(Math.max(at, share.fromMs!), share.toMs! - 1);
          to = Math.min(to ?? share.toMs!, share.toMs!);
        }
        if (to !== undefined && to <= at) throw badRequest('to must be after at', 'invalid_request');
        const w = await windowOrError(playback, id, at, to);
        const ttl = Math.max(60, Math.min(PLAYBACK_TOKEN_TTL_S, share ? Math.floor((Date.parse(share.expiresAt) - Date.now()) / 1000) : PLAYBACK_TOKEN_TTL_S));
        const { token, expiresAt } = deps.tokens.sign({ typ: 'playback', sub: id, by: a.principal, from: w.startMs, ...(w.live ? {} : { to: w.endMs }) }, ttl);
        audit(deps, c, { actor: a.principal, action: 'playback.start', cameraId: id, outcome: 'ok', detail: { atMs: at, startMs: w.startMs } });
        return c.json({ url: `/api/play/${token}/index.m3u8`, token, expiresAt, ...describeWindow(w) });
      })
      .get('/play/:token/index.m3u8', validate('param', tokenParam), async (c) => {
        const { claims } = await play(c, c.req.valid('param').token);
        const w = await windowOrError(playback, claims.sub, claims.from, claims.to);
        c.header('Cache-Control', 'no-store');
        c.header('Content-Type', 'application/vnd.apple.mpegurl');
        return c.body(playlist(w));
      })
      .get('/play/:token/entries.json', validate('param', tokenParam), async (c) => {
        const { claims } = await play(c, c.req.valid('param').token);
        const w = await windowOrError(playback, claims.sub, claims.from, claims.to);
        c.header('Cache-Control', 'no-store');
        return c.json(describeWindow(w));
      })
      .get('/play/:token/s/:name/init.mp4', validate('param', segmentParam), async (c) => {
        const { token, name } = c.req.valid('param');
        const { claims } = await play(c, token);
        inWindow(claims, name);
        return mp4(c, await playback.init(claims.sub, name).catch(mapError), 'private, max-age=3600');
      })
      .get('/play/:token/s/:name/:range', validate('param', mediaParam), async (c) => {
        const { token, name, range } = c.req.valid('param');
        const { claims } = await play(c, token);
        inWindow(claims, name);
        const [first, last] = range.replace('.m4s', '').split('-').map(Number) as [number, number];
        const bytes = await playback.media(claims.sub, name, first, last).catch(mapError);
        c.header('Content-Type', 'video/iso.segment');
        c.header('Cache-Control', 'private, max-age=3600');
        return c.body(bytes as Uint8Array<ArrayBuffer>);
      })
      .get('/play/:token/preview.mp4', validate('param', tokenParam), validate('query', previewQuery), async (c) => {
        const { claims, access: a } = await play(c, c.req.valid('param').token);
        const { at } = c.req.valid('query');
        a.require(claims.sub, 'playback', { fromMs: at, toMs: at });
        const preview = await playback.preview(claims.sub, at).catch(mapError);
        c.header('X-Preview-At', String(preview.atMs));
        return mp4(c, preview.mp4, 'private, max-age=86400');
      })
      .get('/play/:token/clip.mp4', validate('param', tokenParam), validate('query', clipQuery), async (c) => {
        const { claims, access: a } = await play(c, c.req.valid('param').token);
        const { from, to, name } = c.req.valid('query');
        a.require(claims.sub, 'export', { fromMs: from, toMs: to });
        if (to - from > DIRECT_CLIP_MAX_MS) {
          throw new ApiError(422, 'range_too_long', 'download at most 6 hours at once; start an export for longer ranges (it runs in the background with progress)');
        }
        const clip = await playback.clip(claims.sub, from, to).catch(mapError);
        audit(deps, c, { actor: a.principal, action: 'export.download', cameraId: claims.sub, outcome: 'ok', detail: { fromMs: from, toMs: to, bytes: clip.bytes } });
        return streamMp4(c, clip.stream(), clip.bytes, fileName(name, deps.store.camera(claims.sub)?.name ?? claims.sub, clip.startMs));
      })
  );
}

async function windowOrError(playback: Playback, cameraId: string, at: number, to?: number): Promise<PlaybackWindow> {
  return playback.window(cameraId, at, to).catch(mapError);
}

export function describeWindow(w: PlaybackWindow) {
  return {
    requestedMs: w.requestedMs,
    startMs: w.startMs,
    endMs: w.endMs,
    ...(w.gap ? { gap: w.gap } : {}),
    live: w.live,
    gaps: w.gaps,
    entries: w.entries.map((e, i) => ({ wallMs: e.wallMs, mediaS: w.mediaS[i]!, durS: e.durMs / 1000 })),
  };
}

/** A segment outside the token's window is refused: the token is for one window only. */
function inWindow(claims: PlayClaims, name: string): void {
  const key = keyOfName(claims.sub, name);
  const parsed = key ? parseSegmentKey(key) : null;
  if (!parsed) throw new ApiError(404, 'segment_not_found', `"${name}" is not a segment name`);
  const { startMs } = parsed;
  // A segment may start before the window (its later keyframe starts it); segments are at most minutes long.
  if (startMs < claims.from - 3_600_000 || (claims.to !== undefined && startMs > claims.to)) {
    throw new ApiError(403, 'out_of_window', 'this segment is outside the playback window of the token; start playback at that time');
  }
}

/** Maps playback and clip failures to API errors that say what to do. */
export function mapError(error: unknown): never {
  if (error instanceof NoRecordingError) throw new ApiError(404, 'no_recording', error.message);
  const code = (error as { code?: unknown }).code;
  const message = (error as Error).message;
  if (code === 'segment_not_found' || code === 'fragment_not_found' || code === 'no_recording') throw new ApiError(404, code, message);
  if (code === 'codec_changed') throw new ApiError(409, code, message);
  if (code === 'range_invalid') throw new ApiError(400, code, message);
  if (typeof code === 'string' && /^record_|^(truncated|misplaced|bad_key)$/.test(code)) {
    throw new ApiError(500, 'recording_damaged', `a stored recording failed its integrity check (${code}); run "mimamori verify" for this camera and time`);
  }
  if ((error as { name?: string }).name === 'StoreError') throw new ApiError(503, 'storage_unavailable', 'the recording storage cannot be reached right now; try again in a moment');
  throw error;
}

function mp4(c: Context, bytes: Uint8Array, cache: string): Response {
  c.header('Content-Type', 'video/mp4');
  c.header('Cache-Control', cache);
  return c.body(bytes as Uint8Array<ArrayBuffer>);
}

export function fileName(name: string | undefined, camera: string, startMs: number): string {
  const base = (name ?? `${camera}_${new Date(startMs).toISOString().replace(/[:.]/g, '-')}`).replace(/[^\p{L}\p{N}_ .-]/gu, '_').slice(0, 100);
  return base.endsWith('.mp4') ? base : `${base}.mp4`;
}

/** Streams a generator as the response body, pulled as the client reads (bounded memory). */
export function streamMp4(c: Context, chunks: AsyncGenerator<Uint8Array>, bytes: number, name: string): Response {
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await chunks.next();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
  return new Response(body, {
    headers: {
      'Content-Type': 'video/mp4',
      'Content-Length': String(bytes),
      'Content-Disposition': `attachment; filename="${name.replace(/[^\x20-\x7e]/g, '_').replace(/"/g, '')}"; filename*=UTF-8''${encodeURIComponent(name)}`,
      'Cache-Control': 'private, no-store',
    },
  });
}

