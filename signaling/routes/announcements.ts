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
import { validate } from '../validate.ts';
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
const listQuery = z.object({ all: z.enum(['0', '1']).default('0') });
const annParam = z.object({ id: z.string().regex(ID, 'not an announcement id') });

/** A notice as the banner shows it; `contract_end` is generated from the organisation's deletion date. */
export interface Notice {
  id: string;
  kind: Announcement['kind'] | 'contract_end';
  message: string;
  startsAt: string;
  endsAt: string;
  everyone: boolean;
}

export function announcementRoutes(deps: Deps) {
  /** The organisation of whoever asks: a user's, a kiosk's, or the shared camera's. */
  const orgOf = (a: Access): string | undefined =>
    a.user?.orgId ?? a.kiosk?.orgId ?? (a.share ? deps.store.camera(a.share.cameraId)?.orgId : undefined);
  const notice = (a: Announcement): Notice => ({ id: a.id, kind: a.kind, message: a.message, startsAt: a.startsAt, endsAt: a.endsAt, everyone: a.orgId === null });

  return new Hono<AppEnv>()
    .get('/', requireAccess(deps), validate('query', listQuery), (c) => {
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
      return c.json({ announcements: notices });
    })
    .post('/', requireUser(deps), requireAdmin, validate('json', createBody), async (c) => {
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
      return c.json({ announcement: notice(a) }, 201);
    })
    .delete('/:id', requireUser(deps), requireAdmin, validate('param', annParam), async (c) => {
      const { id } = c.req.valid('param');
      const user = c.get('user');
      const a = deps.store.announcement(id);
      if (!a || (a.orgId === null ? !user.platform : a.orgId !== user.orgId)) throw notFound('announcement', id);
      await deps.store.deleteAnnouncement(id);
      audit(deps, c, { actor: `u:${user.id}`, action: 'announcement.delete', outcome: 'ok', detail: { id } });
      return c.body(null, 204);
    });
}
