// Maintenance and incident notices shown in a banner to every signed-in user and display. An
// organisation's admins post to their organisation; the service's operators post to everyone.
// A scheduled contract end is shown the same way, without anyone posting it.
import { Hono } from 'hono';
import { z } from 'zod';
import type { Access } from '../access.ts';
import type { AppEnv, Deps } from '../context.ts';
import { badRequest, forbidden, notFound } from '../errors.ts';
import { audit, requireAccess, requireAdmin, requireUser } from '../middleware.ts';
import type { Announcement } from '../store/index.ts';
import { NoticeAnswer, NoticeList, type NoticeView } from '../wire/answers/index.ts';
import { describe, reply, validate, type ErrorCode, type Same } from '../wire/index.ts';
import { ID, instant } from './params.ts';

const createBody = z
  .object({
    kind: z.enum(['maintenance', 'incident', 'info']),
    message: z.string().trim().min(1).max(1000),
    startsAt: instant.optional(),
    endsAt: instant,
    /** Service operators only: show it to every organisation. */
    everyone: z.boolean().default(false),
  })
  .strict();
const listQuery = z.object({ all: z.enum(['0', '1']).default('0').describe('1: also notices that have not started or have ended (administrators only)') });
const annParam = z.object({ id: z.string().regex(ID, 'not an announcement id') });

/** A notice as the banner shows it; `contract_end` is generated from the organisation's deletion date. */
export type Notice = z.input<typeof NoticeView>;
// The answers module cannot import the store: its documented kinds must be the store's, and contract_end.
true satisfies Same<Notice['kind'], Announcement['kind'] | 'contract_end'>;

const tag = 'Notices';
const exampleNotice = { id: 'ann_3fTq9LxW0bZc', kind: 'maintenance', message: 'Recording storage maintenance on Sunday 02:00–03:00 JST: playback may be slow.', startsAt: '2026-12-12T17:00:00.000Z', endsAt: '2026-12-12T18:00:00.000Z', everyone: true } as const;
/** What requireUser and requireAdmin refuse beyond a missing or expired token. */
const ADMIN_ERRORS = ['session_revoked', 'forbidden', 'api_key_not_allowed'] as const satisfies readonly ErrorCode[];

export function announcementRoutes(deps: Deps) {
  /** The organisation of whoever asks: a user's, a kiosk's, or the shared camera's. */
  const orgOf = (a: Access): string | undefined =>
    a.orgId ?? a.kiosk?.orgId ?? a.apiKey?.orgId ?? (a.share ? deps.store.camera(a.share.cameraId)?.orgId : undefined);
  const notice = (a: Announcement): Notice => ({ id: a.id, kind: a.kind, message: a.message, startsAt: a.startsAt, endsAt: a.endsAt, everyone: a.orgId === null });

  return new Hono<AppEnv>()
    .get('/', describe({
      summary: 'List the notices to show',
      description:
        'The notices shown now to the caller\'s organisation and to every organisation; while the organisation\'s contract end is scheduled, a `contract_end` notice comes first (never to share links: they are seen by outsiders). ' +
        'A share link sees its camera\'s organisation\'s notices, a kiosk and an API key their own organisation\'s (an integration learns of maintenance and of a scheduled contract end too). With `all=1` an administrator also gets notices that have not started or have ended (to manage them); `all` is ignored for everyone else.',
      tag, auth: ['user', 'apiKey', 'share', 'kiosk'],
      access: 'any signed-in user, API key, opened share link or kiosk display',
      answer: { description: 'The notices', schema: NoticeList, example: { announcements: [{ id: 'contract-end', kind: 'contract_end', message: '', startsAt: '2026-12-01T10:02:44.551Z', endsAt: '2027-01-31T00:00:00.000Z', everyone: false }, exampleNotice] } },
      errors: ['session_revoked', 'forbidden', 'share_not_found', 'share_revoked', 'share_expired', 'kiosk_revoked', 'invalid_api_key', 'api_key_revoked', 'api_key_expired', 'rate_limited'],
    }), requireAccess(deps), validate('query', listQuery), (c) => {
      const access = c.get('access');
      const orgId = orgOf(access);
      const now = Date.now();
      const all = c.req.valid('query').all === '1' && access.user?.role === 'admin';
      const notices = deps.store
        .announcementsFor(orgId)
        .filter((a) => all || (Date.parse(a.startsAt) <= now && now < Date.parse(a.endsAt)))
        .map(notice);
      const org = orgId ? deps.store.org(orgId) : undefined;
      // Shares are seen by outsiders: they are not told about the customer's contract.
      if (org?.deletion && !access.share) {
        notices.unshift({ id: 'contract-end', kind: 'contract_end', message: '', startsAt: org.deletion.requestedAt, endsAt: org.deletion.at, everyone: false });
      }
      return reply(c, NoticeList, { announcements: notices });
    })
    .post('/', describe({
      summary: 'Post a notice',
      description:
        'Shown in a banner to every signed-in user and display of the organisation (with `everyone`, of every organisation: the service\'s operators only) from `startsAt` (default now) until `endsAt`. ' +
        'Times are ms since the epoch or ISO 8601 with a zone. Audited as `announcement.create`.',
      tag, auth: ['user'],
      access: 'an organisation administrator; `everyone: true` an operator of this service',
      answer: { status: 201, description: 'The notice as it will be shown', schema: NoticeAnswer, example: { announcement: exampleNotice } },
      errors: [...ADMIN_ERRORS, 'bad_range', 'bad_request', 'database_unavailable'],
      example: { kind: 'maintenance', message: 'Recording storage maintenance on Sunday 02:00–03:00 JST: playback may be slow.', startsAt: '2026-12-12T17:00:00Z', endsAt: '2026-12-12T18:00:00Z', everyone: true },
    }), requireUser(deps), requireAdmin, validate('json', createBody), async (c) => {
      const body = c.req.valid('json');
      const user = c.get('user');
      if (body.everyone && !user.platform) throw forbidden('only the operator of this service may post to every organisation');
      const startsAt = body.startsAt ?? Date.now();
      if (body.endsAt <= startsAt) throw badRequest('endsAt must be after startsAt (or after now)', 'bad_range');
      const a = await deps.store.addAnnouncement({
        orgId: body.everyone ? null : user.orgId,
        kind: body.kind,
        message: body.message,
        startsAt: new Date(startsAt).toISOString(),
        endsAt: new Date(body.endsAt).toISOString(),
        createdBy: user.id,
      });
      audit(deps, c, { actor: `u:${user.id}`, action: 'announcement.create', outcome: 'ok', detail: { id: a.id, kind: a.kind, everyone: body.everyone } });
      return reply(c, NoticeAnswer, { announcement: notice(a) }, 201);
    })
    .delete('/:id', describe({
      summary: 'Delete a notice',
      description: 'It disappears from every banner. The generated contract-end notice cannot be deleted (cancel the contract end instead). Audited as `announcement.delete`.',
      tag, auth: ['user'],
      access: 'an administrator of the organisation it was posted to; a notice to every organisation, an operator of this service',
      answer: { status: 204, description: 'Deleted' },
      errors: [...ADMIN_ERRORS, 'announcement_not_found', 'database_unavailable'],
    }), requireUser(deps), requireAdmin, validate('param', annParam), async (c) => {
      const { id } = c.req.valid('param');
      const user = c.get('user');
      const a = deps.store.announcement(id);
      if (!a || (a.orgId === null ? !user.platform : a.orgId !== user.orgId)) throw notFound('announcement', id);
      await deps.store.deleteAnnouncement(id);
      audit(deps, c, { actor: `u:${user.id}`, action: 'announcement.delete', outcome: 'ok', detail: { id } });
      return c.body(null, 204);
    });
}
