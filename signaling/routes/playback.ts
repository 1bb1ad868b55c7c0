// Timeline, playback windows and everything a player fetches. A window's token rides in the
// URL path (players and <a download> cannot send headers), so it is short-lived, bound to one
// camera and one window, and the grant, share or kiosk behind it is checked on every request.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { playlist, segmentRef, type Playback, type PlaybackWindow, type SegmentRef } from '../../playback/index.ts';
import type { GapReason } from '../../recorder/index.ts';
import { accessOfClaims, type Access } from '../access.ts';
import type { Claims } from '../auth.ts';
import type { AppEnv, Deps } from '../context.ts';
import { ApiError, badRequest } from '../errors.ts';
import { audit, fresh, requireAccess, verifiedToken } from '../middleware.ts';
import { describe, reply, validate, type ErrorCode, type Same } from '../wire/index.ts';
import { idParam, instant, rangeQuery } from './params.ts';
import { PlaybackStarted, Timeline, WindowView, type GapReason as AnsweredGapReason } from '../wire/answers/index.ts';

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

const tag = 'Recordings and playback';
// The answers module cannot import the recorder: its documented gap reasons must be the recorder's.
true satisfies Same<AnsweredGapReason, GapReason>;

const ENTRIES_EXAMPLE = [
  { wallMs: 1796455200000, mediaS: 0, durS: 2 },
  { wallMs: 1796455202000, mediaS: 2, durS: 2 },
];
const WINDOW_EXAMPLE = { requestedMs: 1796455201000, startMs: 1796455200000, endMs: 1796458800000, live: false, gaps: [{ fromMs: 1796456000000, toMs: 1796456012000, reason: 'camera-offline' }], entries: ENTRIES_EXAMPLE };
const PLAY_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJ0eXAiOiJwbGF5YmFjayJ9.c2lnbmF0dXJl';

/** What any playback-token route may refuse: the token, and the grant, share link or API key it was issued for. */
const TOKEN_ERRORS = ['unauthorized', 'token_expired', 'share_not_found', 'share_revoked', 'share_expired', 'invalid_api_key', 'api_key_revoked', 'api_key_expired', 'camera_not_found', 'right_missing'] as const satisfies readonly ErrorCode[];
/** Reading recordings: errors/ gives every such failure its status and answer. */
const READ_ERRORS = ['recording_damaged', 'storage_unavailable'] as const satisfies readonly ErrorCode[];
/** requireAccess (a user's token, an API key, an opened share link or a kiosk's token), then the right on the camera. */
export const ACCESS_ERRORS = ['session_revoked', 'forbidden', 'share_not_found', 'share_revoked', 'share_expired', 'kiosk_revoked', 'invalid_api_key', 'api_key_revoked', 'api_key_expired', 'rate_limited', 'camera_not_found', 'right_missing'] as const satisfies readonly ErrorCode[];

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
      .get('/cameras/:id/timeline', describe({
        summary: 'Get a camera\'s timeline',
        description: 'What is recorded in a range of at most 31 days: spans, gaps with their reasons, and events (camera on- and offline, resolution changes, and for organisation administrators legal holds). Recordings still on the node\'s spool are included. A clip\'s share link reads the timeline of its clip only: the range is cut to the clip (`from`/`to` in the answer say what was read).',
        tag, auth: ['user', 'apiKey', 'share', 'kiosk'],
        access: 'a user or API key with the "playback" right on the camera, or a share link of a recorded clip of it (a kiosk\'s token is accepted but has no playback right: 404)',
        answer: {
          description: 'The timeline of the range',
          schema: Timeline,
          example: { cameraId: 'cam_7QxV2mR9kLp4', from: 1796428800000, to: 1796515200000, spans: [{ fromMs: 1796428800000, toMs: 1796456000000 }, { fromMs: 1796456012000, toMs: 1796470000000 }], gaps: [{ fromMs: 1796456000000, toMs: 1796456012000, reason: 'camera-offline' }], events: [{ atMs: 1796456000000, kind: 'camera-offline' }, { atMs: 1796456012000, kind: 'camera-online' }], liveEdgeMs: 1796470000000 },
        },
        errors: ACCESS_ERRORS,
      }), access, validate('param', idParam), validate('query', rangeQuery), async (c) => {
        const { id } = c.req.valid('param');
        const asked = c.req.valid('query');
        c.get('access').require(id, 'playback');
        // A clip's share link sees its clip and nothing around it: the range is cut to the clip.
        const share = c.get('access').share;
        const clip = share?.kind === 'clip' ? { fromMs: share.fromMs!, toMs: share.toMs! } : undefined;
        const from = clip ? Math.min(Math.max(asked.from, clip.fromMs), clip.toMs) : asked.from;
        const to = clip ? Math.max(Math.min(asked.to, clip.toMs), from) : asked.to;
        const read = await playback.timeline(id, from, to);
        // Nor how long a hole around it lasted, or whether the camera records now.
        const { liveEdgeMs, ...rest } = read;
        const timeline = clip
          ? { ...rest, gaps: read.gaps.map((g) => ({ ...g, fromMs: Math.max(g.fromMs, from), toMs: Math.min(g.toMs, to) })), ...(liveEdgeMs !== undefined && liveEdgeMs <= to ? { liveEdgeMs } : {}) }
          : read;
        const holds = c.get('access').user?.role === 'admin' ? deps.store.holdsOf(id).filter((h) => h.toMs > from && h.fromMs < to) : [];
        const events = [...timeline.events, ...holds.map((h) => ({ atMs: Math.max(h.fromMs, from), kind: 'hold' as const, detail: h.reason }))].sort((a, b) => a.atMs - b.atMs);
        return reply(c, Timeline, { ...timeline, events });
      })
      .post('/cameras/:id/playback', describe({
        summary: 'Start playback at a time',
        description: [
          'Plans a playback window from `at` (to `to`, or at most an hour of recording) and answers its HLS playlist URL, which carries a playback token: a player fetches the playlist, segments and fragments with it and needs no other credentials.',
          'Playback starts at the keyframe at or before `at`; when `at` falls in a gap, at the next recording (`gap` says so). A window that reaches the live edge is `live`: its playlist grows. Near the end of a window, ask again from its `endMs`.',
          'A share link of a clip plays inside its clip only: `at` and `to` are moved into it. The token lasts an hour (less when the share link expires sooner, but at least a minute). Audited as `playback.start`.',
        ].join('\n\n'),
        tag, auth: ['user', 'apiKey', 'share', 'kiosk'],
        access: 'a user or API key with the "playback" right on the camera, or a share link of a recorded clip of it (a kiosk\'s token is accepted but has no playback right: 404)',
        answer: {
          description: 'The window, its playlist URL and the token in it',
          schema: PlaybackStarted,
          example: { url: `/api/play/${PLAY_TOKEN}/index.m3u8`, token: PLAY_TOKEN, expiresAt: '2026-12-05T08:20:00.000Z', ...WINDOW_EXAMPLE },
        },
        errors: [...ACCESS_ERRORS, 'bad_request', 'no_recording', ...READ_ERRORS],
        example: { at: '2026-12-05T16:20:01+09:00' },
      }), access, validate('param', idParam), validate('json', playbackBody), async (c) => {
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
        const { token, expiresAt } = deps.tokens.sign({ typ: 'playback', sub: id, by: a.principal, from: w.startMs, ...(w.live ? {} : { to: w.endMs }), ...(a.sessionId ? { sid: a.sessionId } : {}) }, ttl);
        audit(deps, c, { actor: a.principal, action: 'playback.start', cameraId: id, outcome: 'ok', detail: { atMs: at, startMs: w.startMs } });
        return reply(c, PlaybackStarted, { url: `/api/play/${token}/index.m3u8`, token, expiresAt, ...describeWindow(w) });
      })
      .get('/play/:token/index.m3u8', describe({
        summary: 'Get a playback window\'s HLS playlist',
        description: 'The fMP4 HLS playlist of the token\'s window. Segment URLs are relative to it. A live window has no #EXT-X-ENDLIST: the player reloads it. Every request re-checks the grant, share link or API key the token was issued for.',
        tag, auth: ['playback'],
        access: 'the holder of a playback token from POST /api/cameras/{id}/playback, while whoever it was issued to keeps the "playback" right',
        answer: {
          description: 'The playlist (not cached: Cache-Control no-store)',
          mediaType: 'application/vnd.apple.mpegurl',
          headers: { 'Cache-Control': 'no-store' },
          example: ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-INDEPENDENT-SEGMENTS', '#EXT-X-MAP:URI="s/20261205T072000000Z_9c41d07e2b_12/init.mp4"', '#EXT-X-PROGRAM-DATE-TIME:2026-12-05T07:20:00.000Z', '#EXTINF:2.000,', 's/20261205T072000000Z_9c41d07e2b_12/0-1.m4s', '#EXT-X-PROGRAM-DATE-TIME:2026-12-05T07:20:02.000Z', '#EXTINF:2.000,', 's/20261205T072000000Z_9c41d07e2b_12/2-3.m4s', '#EXT-X-ENDLIST', ''].join('\n'),
        },
        errors: [...TOKEN_ERRORS, 'no_recording', ...READ_ERRORS],
      }), validate('param', tokenParam), async (c) => {
        const { claims } = await play(c, c.req.valid('param').token);
        const w = await windowOrError(playback, claims.sub, claims.from, claims.to);
        c.header('Cache-Control', 'no-store');
        c.header('Content-Type', 'application/vnd.apple.mpegurl');
        return c.body(playlist(w));
      })
      .get('/play/:token/entries.json', describe({
        summary: 'Get a playback window\'s entries',
        description: 'The token\'s window as JSON (what POST /api/cameras/{id}/playback answered, planned again): a live window\'s entries grow. Players map media time to the wall clock with it.',
        tag, auth: ['playback'],
        access: 'the holder of a playback token, while whoever it was issued to keeps the "playback" right',
        answer: { description: 'The window (not cached)', schema: WindowView, headers: { 'Cache-Control': 'no-store' }, example: WINDOW_EXAMPLE },
        errors: [...TOKEN_ERRORS, 'no_recording', ...READ_ERRORS],
      }), validate('param', tokenParam), async (c) => {
        const { claims } = await play(c, c.req.valid('param').token);
        const w = await windowOrError(playback, claims.sub, claims.from, claims.to);
        c.header('Cache-Control', 'no-store');
        return reply(c, WindowView, describeWindow(w));
      })
      .get('/play/:token/s/:name/init.mp4', describe({
        summary: 'Get a segment\'s init segment',
        description: 'The decrypted MP4 initialisation segment (ftyp+moov) of a segment the playlist names.',
        tag, auth: ['playback'],
        access: 'the holder of a playback token whose window the segment belongs to, while whoever it was issued to keeps the "playback" right',
        answer: { description: 'The init segment', mediaType: 'video/mp4', headers: { 'Cache-Control': 'private, max-age=3600' } },
        errors: [...TOKEN_ERRORS, 'segment_not_found', 'out_of_window', ...READ_ERRORS],
      }), validate('param', segmentParam), async (c) => {
        const { token, name } = c.req.valid('param');
        const { claims } = await play(c, token);
        return mp4(c, await playback.init(claims.sub, inWindow(claims, name)), 'private, max-age=3600');
      })
      .get('/play/:token/s/:name/:range', describe({
        summary: 'Get fragments of a segment',
        description: 'Fragments `first`..`last` (the path\'s `{first}-{last}.m4s`, at most 601) of a segment the playlist names, decrypted, as one moof+mdat run.',
        tag, auth: ['playback'],
        access: 'the holder of a playback token whose window the segment belongs to, while whoever it was issued to keeps the "playback" right',
        answer: { description: 'The fragments', mediaType: 'video/iso.segment', headers: { 'Cache-Control': 'private, max-age=3600' } },
        errors: [...TOKEN_ERRORS, 'segment_not_found', 'out_of_window', 'fragment_not_found', ...READ_ERRORS],
      }), validate('param', mediaParam), async (c) => {
        const { token, name, range } = c.req.valid('param');
        const { claims } = await play(c, token);
        const segment = inWindow(claims, name);
        const [first, last] = range.replace('.m4s', '').split('-').map(Number) as [number, number];
        const bytes = await playback.media(claims.sub, segment, first, last);
        c.header('Content-Type', 'video/iso.segment');
        c.header('Cache-Control', 'private, max-age=3600');
        return c.body(bytes as Uint8Array<ArrayBuffer>);
      })
      .get('/play/:token/preview.mp4', describe({
        summary: 'Get a one-frame preview',
        description: 'A one-frame MP4 of the video keyframe at or before `at` (within two minutes), for scrubbing thumbnails: the browser decodes it. `at` may be anywhere on the camera\'s recordings, not only in the token\'s window; a share link\'s token stays inside its clip.',
        tag, auth: ['playback'],
        access: 'the holder of a playback token, while whoever it was issued to keeps the "playback" right (a share link\'s token: inside its clip)',
        answer: { description: 'The keyframe as an MP4', mediaType: 'video/mp4', headers: { 'X-Preview-At': 'When the frame shown was recorded, ms since the epoch', 'Cache-Control': 'private, max-age=86400' } },
        errors: [...TOKEN_ERRORS, 'outside_share', 'no_recording', ...READ_ERRORS],
      }), validate('param', tokenParam), validate('query', previewQuery), async (c) => {
        const { claims, access: a } = await play(c, c.req.valid('param').token);
        const { at } = c.req.valid('query');
        a.require(claims.sub, 'playback', { fromMs: at, toMs: at });
        const preview = await playback.preview(claims.sub, at);
        c.header('X-Preview-At', String(preview.atMs));
        return mp4(c, preview.mp4, 'private, max-age=86400');
      })
      .get('/play/:token/clip.mp4', describe({
        summary: 'Download a clip as MP4',
        description: 'An MP4 of exactly `from`..`to` (at most 6 hours; longer ranges go through POST /api/cameras/{id}/exports), streamed as it is made, as an attachment named `name` (or the camera and start time). The range may be anywhere on the camera\'s recordings; a share link\'s token stays inside its clip. If reading a recording fails once the stream has begun, the download is cut off. Audited as `export.download`.',
        tag, auth: ['playback'],
        access: 'the holder of a playback token, while whoever it was issued to has the "export" right on the camera (a share link\'s token: inside its clip)',
        answer: {
          description: 'The clip',
          mediaType: 'video/mp4',
          headers: { 'Content-Length': 'The size of the whole MP4, in bytes', 'Content-Disposition': 'attachment; filename="…mp4"', 'Cache-Control': 'private, no-store' },
        },
        errors: [...TOKEN_ERRORS, 'outside_share', 'range_too_long', 'range_invalid', 'no_recording', 'codec_changed', 'source_failed', ...READ_ERRORS],
      }), validate('param', tokenParam), validate('query', clipQuery), async (c) => {
        const { claims, access: a } = await play(c, c.req.valid('param').token);
        const { from, to, name } = c.req.valid('query');
        a.require(claims.sub, 'export', { fromMs: from, toMs: to });
        if (to - from > DIRECT_CLIP_MAX_MS) {
          throw new ApiError(422, 'range_too_long', 'download at most 6 hours at once; start an export for longer ranges (it runs in the background with progress)');
        }
        const clip = await playback.clip(claims.sub, from, to);
        audit(deps, c, { actor: a.principal, action: 'export.download', cameraId: claims.sub, outcome: 'ok', detail: { fromMs: from, toMs: to, bytes: clip.bytes } });
        return streamMp4(c, clip.stream(), clip.bytes, fileName(name, deps.store.camera(claims.sub)?.name ?? claims.sub, clip.startMs));
      })
  );
}

async function windowOrError(playback: Playback, cameraId: string, at: number, to?: number): Promise<PlaybackWindow> {
  return playback.window(cameraId, at, to);
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
function inWindow(claims: PlayClaims, name: string): SegmentRef {
  const segment = segmentRef(claims.sub, name);
  if (!segment) throw new ApiError(404, 'segment_not_found', `"${name}" is not a segment name`);
  const { startMs } = segment;
  // A segment may start before the window (its later keyframe starts it); segments are at most minutes long.
  if (startMs < claims.from - 3_600_000 || (claims.to !== undefined && startMs > claims.to)) {
    throw new ApiError(403, 'out_of_window', 'this segment is outside the playback window of the token; start playback at that time');
  }
  return segment;
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

