// Share links: a clip or a live camera for anyone holding the link, until it expires or is
// revoked; optionally password-protected (scrypt, throttled); every use audited.
import { Hono } from 'hono';
import { z } from 'zod';
import { shareGone } from '../access.ts';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from '../auth.ts';
import type { AppEnv, Deps } from '../context.ts';
import { ApiError, badRequest, notFound } from '../errors.ts';
import { audit, freshLookup, requireAccess, requireUser } from '../middleware.ts';
import type { Share } from '../store/index.ts';
import { describe, reply, validate, type ErrorCode } from '../wire/index.ts';
import { ID, instant } from './params.ts';
import { OpenedShare, SHARE_KINDS, ShareAnswer, ShareInfo, ShareList } from '../wire/answers/index.ts';

const SHARE_TOKEN_MAX_S = 3600;
const CLIP_MAX_MS = 24 * 3_600_000;
/** Wrong passwords allowed per link in THROTTLE_WINDOW_MS before it answers 429. */
const MAX_FAILURES = 5;
const THROTTLE_WINDOW_MS = 15 * 60_000;

const createBody = z
  .object({
    cameraId: z.string().regex(ID, 'not a camera id'),
    kind: z.enum(SHARE_KINDS),
    from: instant.optional(),
    to: instant.optional(),
    expiresInHours: z.number().int().min(1).max(720).optional(),
    /** Finer than hours (tests, short-lived links); one of the two is needed. */
    expiresInSeconds: z.number().int().min(5).max(720 * 3600).optional(),
    password: z.string().min(6, 'a share password needs at least 6 characters').max(200).optional(),
  })
  .strict();
const shareParam = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'not a share link id') });
const openBody = z.object({ password: z.string().max(200).optional() }).strict();

const tag = 'Share links';
/** What requireUser refuses beyond a missing or expired token. */
const USER_ERRORS = ['session_revoked', 'forbidden', 'api_key_not_allowed'] as const satisfies readonly ErrorCode[];
const GONE = ['share_not_found', 'share_revoked', 'share_expired'] as const satisfies readonly ErrorCode[];
const exampleShareId = 'q3Jx9VbN0tLmR8cY2wKe5A';
const exampleShare = {
  id: exampleShareId,
  cameraId: 'cam_7QxV2mR9aB3k',
  kind: 'clip',
  fromMs: 1765000800000,
  toMs: 1765001400000,
  expiresAt: '2026-12-13T20:15:00.000Z',
  hasPassword: true,
  createdBy: 'u_pX8nW2qLr5Tb',
  createdAt: '2026-12-06T20:15:00.000Z',
  uses: 2,
  url: `/share.html#${exampleShareId}`,
} as const;

export function shareRoutes(deps: Deps) {
  const view = (s: Share) => ({
    id: s.id,
    cameraId: s.cameraId,
    kind: s.kind,
    ...(s.fromMs !== undefined ? { fromMs: s.fromMs, toMs: s.toMs } : {}),
    expiresAt: s.expiresAt,
    hasPassword: s.passwordHash !== undefined,
    createdBy: s.createdBy,
    createdAt: s.createdAt,
    ...(s.revokedAt ? { revokedAt: s.revokedAt } : {}),
    uses: s.uses,
    url: `/share.html#${s.id}`,
  });

  return (
    new Hono<AppEnv>()
      // Public: what the link is, before any password.
      .get('/:id', describe({
        summary: 'Look at a share link',
        description: 'What the link is and whether it needs a password, before opening it. Not audited, and does not count as a use.',
        tag, auth: ['none'], access: 'anyone holding the link',
        answer: { description: 'The link', schema: ShareInfo, example: { needsPassword: true, kind: 'clip', expiresAt: '2026-12-13T20:15:00.000Z' } },
        errors: GONE,
      }), validate('param', shareParam), async (c) => {
        const { id } = c.req.valid('param');
        const share = await freshLookup(deps, () => deps.store.share(id));
        const gone = shareGone(share, id);
        if (gone || !share) throw gone;
        return reply(c, ShareInfo, { needsPassword: share.passwordHash !== undefined, kind: share.kind, expiresAt: share.expiresAt });
      })
      .post('/:id/open', describe({
        summary: 'Open a share link',
        description:
          'Trades the link (and its password, if it has one) for a share token of at most 1 hour. A missing or wrong password answers **401** `wrong_password`; after 5 wrong passwords within 15 minutes the link answers 429 `too_many_attempts` (counted across all nodes) until they age out. ' +
          'Every attempt is audited as `share.open` (refusals too); an opening counts as a use.',
        tag, auth: ['none'], access: 'anyone holding the link (and its password, if it has one)',
        answer: {
          description: 'A share token and what it opens',
          schema: OpenedShare,
          example: { token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0eXAiOiJzaGFyZSIsInN1YiI6InEzSng5VmJOMHRMbVI4Y1kyd0tlNUEifQ.4kT0bQ9mZr2Yw8xL1sN5vC7pA3dE6fH0gJiKuMoPqRs', expiresAt: '2026-12-06T21:15:00.000Z', kind: 'clip', camera: { id: 'cam_7QxV2mR9aB3k', name: 'Entrance' }, fromMs: 1765000800000, toMs: 1765001400000, linkExpiresAt: '2026-12-13T20:15:00.000Z' },
        },
        errors: [...GONE, { code: 'wrong_password', status: 401 }, 'too_many_attempts', 'bad_request', 'database_unavailable'],
        example: { password: 'tulip-harbour-42' },
      }), validate('param', shareParam), validate('json', openBody), async (c) => {
        const { id } = c.req.valid('param');
        const { password } = c.req.valid('json');
        const share = await freshLookup(deps, () => deps.store.share(id));
        const gone = shareGone(share, id);
        if (gone || !share) {
          audit(deps, c, { actor: `s:${id}`, action: 'share.open', ...(share ? { cameraId: share.cameraId } : {}), outcome: 'refused', detail: { code: gone?.code } });
          throw gone;
        }
        const now = Date.now();
        // Kept with the link in the store, so every node counts the same wrong passwords.
        const recent = (share.passwordFailures ?? []).filter((t) => now - t < THROTTLE_WINDOW_MS);
        if (recent.length >= MAX_FAILURES) {
          audit(deps, c, { actor: `s:${id}`, action: 'share.open', cameraId: share.cameraId, outcome: 'refused', detail: { code: 'too_many_attempts' } });
          throw new ApiError(429, 'too_many_attempts', 'too many wrong passwords for this link; wait 15 minutes and try again');
        }
        if (share.passwordHash !== undefined) {
          const ok = await verifyPassword(password ?? '', share.passwordHash);
          if (!ok) {
            await deps.store.sharePasswordFailed(id, now, THROTTLE_WINDOW_MS);
            audit(deps, c, { actor: `s:${id}`, action: 'share.open', cameraId: share.cameraId, outcome: 'refused', detail: { code: 'wrong_password' } });
            throw new ApiError(401, 'wrong_password', password ? 'the password is wrong; ask the person who shared the link' : 'this link needs a password');
          }
        } else {
          await verifyPassword('', DUMMY_PASSWORD_HASH).catch(() => false); // same cost either way
        }
        await deps.store.shareOpened(id);
        const ttl = Math.max(1, Math.min(SHARE_TOKEN_MAX_S, Math.floor((Date.parse(share.expiresAt) - now) / 1000)));
        const { token, expiresAt } = deps.tokens.sign({ typ: 'share', sub: id }, ttl);
        audit(deps, c, { actor: `s:${id}`, action: 'share.open', cameraId: share.cameraId, outcome: 'ok', detail: { kind: share.kind } });
        const cam = deps.store.camera(share.cameraId)!;
        return reply(c, OpenedShare, { token, expiresAt, kind: share.kind, camera: { id: cam.id, name: cam.name }, ...(share.fromMs !== undefined ? { fromMs: share.fromMs, toMs: share.toMs } : {}), linkExpiresAt: share.expiresAt });
      })
      .use(requireUser(deps))
      .post('/', describe({
        summary: 'Share a clip or a camera live',
        description:
          'Creates a link anyone holding it can open until it expires (say when: `expiresInHours`, 1–720, or `expiresInSeconds`, exactly one of them) or is revoked. ' +
          'A `clip` needs `from` and `to` (ms since the epoch or ISO 8601 with a zone; at most 24 hours); a `live` link has neither. ' +
          'With `password` (at least 6 characters) the link asks for it. Audited as `share.create`.',
        tag, auth: ['user'], access: 'a user with the "share" right on the camera',
        answer: { status: 201, description: 'The new link', schema: ShareAnswer, example: { share: { ...exampleShare, uses: 0 } } },
        errors: [...USER_ERRORS, 'camera_not_found', 'right_missing', 'bad_request', 'database_unavailable'],
        example: { cameraId: 'cam_7QxV2mR9aB3k', kind: 'clip', from: '2026-12-06T06:00:00Z', to: '2026-12-06T06:10:00Z', expiresInHours: 168, password: 'tulip-harbour-42' },
      }), requireAccess(deps), validate('json', createBody), async (c) => {
        const body = c.req.valid('json');
        const a = c.get('access');
        a.require(body.cameraId, 'share');
        if ((body.expiresInHours === undefined) === (body.expiresInSeconds === undefined)) throw badRequest('say when the link expires: expiresInHours (1–720) or expiresInSeconds', 'invalid_request');
        if (body.kind === 'clip') {
          if (body.from === undefined || body.to === undefined || body.to <= body.from) throw badRequest('a clip share needs from and to, with to after from', 'invalid_request');
          if (body.to - body.from > CLIP_MAX_MS) throw badRequest('a shared clip is at most 24 hours long', 'invalid_request');
        } else if (body.from !== undefined || body.to !== undefined) {
          throw badRequest('a live share has no from/to', 'invalid_request');
        }
        const share = await deps.store.addShare({
          cameraId: body.cameraId,
          kind: body.kind,
          ...(body.kind === 'clip' ? { fromMs: body.from!, toMs: body.to! } : {}),
          expiresAt: new Date(Date.now() + (body.expiresInSeconds ?? body.expiresInHours! * 3600) * 1000).toISOString(),
          ...(body.password ? { passwordHash: await hashPassword(body.password) } : {}),
          createdBy: c.get('user').id,
        });
        audit(deps, c, { actor: a.principal, action: 'share.create', cameraId: body.cameraId, outcome: 'ok', detail: { shareId: share.id, kind: share.kind, expiresAt: share.expiresAt, password: share.passwordHash !== undefined } });
        return reply(c, ShareAnswer, { share: view(share) }, 201);
      })
      .get('/', describe({
        summary: 'List share links',
        description: 'An administrator gets every link to the organisation\'s cameras, anyone else the links they created. Expired and revoked links are listed too.',
        tag, auth: ['user'], access: 'any signed-in user',
        answer: { description: 'The links', schema: ShareList, example: { shares: [exampleShare, { ...exampleShare, id: 'Zp0cW7nX4kQ1sB9yL3vM8g', kind: 'live', fromMs: undefined, toMs: undefined, hasPassword: false, revokedAt: '2026-12-06T12:00:00.000Z', uses: 5, url: '/share.html#Zp0cW7nX4kQ1sB9yL3vM8g' }] } },
        errors: USER_ERRORS,
      }), (c) => {
        const user = c.get('user');
        // Admins see every link to their organisation's cameras; others their own.
        const shares = user.role === 'admin' ? deps.store.sharesBy(undefined).filter((s) => deps.store.camera(s.cameraId)?.orgId === user.orgId) : deps.store.sharesBy(user.id);
        return reply(c, ShareList, { shares: shares.map(view) });
      })
      .delete('/:id', describe({
        summary: 'Revoke a share link',
        description: 'The link stops at once (410 `share_revoked` from then on); it stays listed. Revoking a revoked link changes nothing. Audited as `share.revoke`.',
        tag, auth: ['user'], access: 'the user who created it, or an administrator of the camera\'s organisation',
        answer: { status: 204, description: 'Revoked' },
        errors: [...USER_ERRORS, 'share_not_found', 'database_unavailable'],
      }), validate('param', shareParam), async (c) => {
        const { id } = c.req.valid('param');
        const user = c.get('user');
        const share = deps.store.share(id);
        const adminOfIt = user.role === 'admin' && share !== undefined && deps.store.camera(share.cameraId)?.orgId === user.orgId;
        if (!share || (share.createdBy !== user.id && !adminOfIt)) throw notFound('share', id);
        await deps.store.revokeShare(id);
        audit(deps, c, { actor: `u:${user.id}`, action: 'share.revoke', cameraId: share.cameraId, outcome: 'ok', detail: { shareId: id } });
        return c.body(null, 204);
      })
  );
}
