// The audit log for administrators: search (newest first, paged), export as CSV or JSONL, and
// verify the hash chain. Nothing here changes a row: every changing method answers 405. Reading
// and exporting are audited too (`audit.export`).
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { AUDIT_ACTIONS, AUDIT_CATEGORIES, AUDIT_CATEGORY_NAMES, AUDIT_OUTCOMES, CSV_BOM, csvHeader, csvRow, isAuditCursor, type AuditCategory, type AuditOutcome, type AuditQuery, type AuditRow } from '../audit/index.ts';
import type { AppEnv, Deps } from '../context.ts';
import { forbidden, notFound } from '../errors.ts';
import { audit, auditEvent, bearerToken, clientIp, requireAdmin, requireUser } from '../middleware.ts';
import type { User } from '../store/index.ts';
import { AuditChoices, AuditPage, AuditVerification, auditOutcome } from '../wire/answers/index.ts';
import { auditNames, siteCameraIds, Sites } from './auditNames.ts';
import { describe, ErrorBody, reply, validate, type Same } from '../wire/index.ts';
import { ID, instant } from './params.ts';

const validZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

const filterFields = {
  from: instant.optional(),
  to: instant.optional(),
  actor: z.string().min(1).max(256).optional(),
  action: z.string().regex(/^[a-z_.]{1,64}$/, 'an action or its prefix, like "auth." or "share.open"').optional(),
  cameraId: z.string().regex(ID, 'not a camera id').optional(),
  /** A camera group: rows about any camera in it or in the groups under it. */
  site: z.string().regex(ID, 'not a camera group id (see GET /api/audit/choices, sites)').optional(),
  category: z.enum(AUDIT_CATEGORY_NAMES as [AuditCategory, ...AuditCategory[]], { message: `one of ${AUDIT_CATEGORY_NAMES.join(', ')}` }).optional(),
  outcome: z.enum(AUDIT_OUTCOMES).optional(),
  orgId: z.string().regex(ID, 'not an organisation id').optional(),
  text: z.string().min(1).max(200).optional(),
};
const ordered = (r: { from?: number; to?: number }) => r.from === undefined || r.to === undefined || r.to > r.from;
const ORDER_MESSAGE = { message: 'to must be after from' };

const searchQuery = z
  .object({
    ...filterFields,
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z.string().refine(isAuditCursor, 'not a cursor from a previous page (pass nextCursor as it came)').optional(),
  })
  .strict()
  .refine(ordered, ORDER_MESSAGE);
const exportQuery = z
  .object({
    ...filterFields,
    format: z.enum(['csv', 'jsonl']).default('csv'),
    /** The zone of the CSV's first column; the viewer's own (UTC is always beside it). */
    tz: z.string().max(64).refine(validZone, 'not an IANA time zone such as Asia/Tokyo').default('Asia/Tokyo'),
  })
  .strict()
  .refine(ordered, ORDER_MESSAGE);

const tag = 'Audit';
// The answers module cannot import the audit log: its documented outcomes must be the log's.
true satisfies Same<z.infer<typeof auditOutcome>, AuditOutcome>;
const ROW_EXAMPLE = {
  seq: 18422,
  at: '2026-12-05T07:20:01.512Z',
  actor: 'u:u_2KdP9sLxQ7vB',
  action: 'playback.start',
  outcome: 'ok',
  cameraId: 'cam_7QxV2mR9kLp4',
  orgId: 'org_9HgT3kWq1sXe',
  ip: '203.0.113.24',
  requestId: '5b0e4c7a-2f7d-4a51-9d0e-3c1f6a2b8e90',
  userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
  detail: { atMs: 1796455201000, startMs: 1796455200000 },
  prev: '9f2c1e0b7d4a3f6e8c5b2a1d0e9f8c7b6a5d4e3f2c1b0a9e8d7c6b5a4f3e2d1c',
  hash: '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809',
} as const;
const READERS = 'an organisation administrator (their own organisation\'s rows), or an operator of the service (every organisation\'s, and the rows of none)';
const USER_ERRORS = ['session_revoked', 'api_key_not_allowed', 'forbidden'] as const;

const IMMUTABLE = 'the audit log cannot be changed: it is append-only and kept for its retention period. Read it with GET /api/audit or download it with GET /api/audit/export';

export function auditRoutes(deps: Deps) {
  const user = requireUser(deps);

  /**
   * Organisation admins read their own organisation's rows only; the service's operators
   * (platform admins) read every organisation's and the rows that belong to none.
   */
  const scoped = (u: User, q: AuditQuery): AuditQuery => {
    if (u.platform) return q;
    if (q.orgId !== undefined && q.orgId !== u.orgId) throw forbidden('you may read only your own organisation\'s audit log; leave orgId out');
    return { ...q, orgId: u.orgId };
  };
  /** `site` and `category` as the logs filter: the site's cameras, the category's actions. */
  const expanded = (u: User, { site, category, ...q }: AuditQuery & { site?: string; category?: AuditCategory }): AuditQuery => {
    const out: AuditQuery = { ...q };
    if (category !== undefined) out.actions = AUDIT_CATEGORIES[category];
    if (site !== undefined) {
      const group = deps.store.group(site);
      const orgId = u.platform ? group?.orgId : u.orgId;
      const cameras = orgId === undefined ? undefined : siteCameraIds(deps.store, orgId, site);
      if (!cameras) throw notFound('group', site);
      out.cameraIds = cameras;
    }
    return out;
  };
  /** The filters as the reading's own audit row records them (a site by its id, not its cameras). */
  const recordedFilters = (q: AuditQuery, site: string | undefined, category: string | undefined) => ({ ...filtersOf(q), site, category });
  const filtersOf = (q: AuditQuery): Omit<AuditQuery, 'actions' | 'cameraIds'> => ({
    from: q.from,
    to: q.to,
    actor: q.actor,
    action: q.action,
    cameraId: q.cameraId,
    outcome: q.outcome,
    orgId: q.orgId,
    text: q.text,
  });

  /** An attempt to change the log: refused, and recorded when the caller is known. */
  const refuseChange = (c: Context<AppEnv>) => {
    const token = bearerToken(c.req.header('authorization'));
    const claims = token ? deps.tokens.verify(token) : undefined;
    if (claims?.ok) {
      const u = claims.claims.typ === 'user' ? deps.store.userById(claims.claims.sub) : undefined;
      auditEvent(
        deps,
        { ip: clientIp(c), requestId: c.get('requestId'), userAgent: c.req.header('user-agent'), ...(u ? { user: u } : {}) },
        { actor: `${claims.claims.typ === 'user' ? 'u' : claims.claims.typ[0]}:${claims.claims.sub}`, action: 'audit.change_refused', outcome: 'refused', detail: { method: c.req.method, path: c.req.path } },
      );
    }
    c.header('Allow', 'GET');
    return c.json({ error: { code: 'audit_immutable', message: IMMUTABLE } }, 405);
  };

  return new Hono<AppEnv>()
    .on(['POST', 'PUT', 'PATCH', 'DELETE'], ['/', '/*'], describe({
      summary: 'Change the audit log (always refused)',
      description: 'The audit log is append-only: POST, PUT, PATCH and DELETE on /api/audit and every path under it answer 405 with `Allow: GET`, whoever calls. An attempt made with a valid token is itself recorded, as `audit.change_refused`.',
      tag, auth: ['none'],
      access: 'nobody',
      answer: { status: 405, description: 'Refused: the log cannot be changed', schema: ErrorBody, headers: { Allow: 'GET' }, example: { error: { code: 'audit_immutable', message: IMMUTABLE } } },
      errors: ['audit_immutable'],
    }), refuseChange)
    .get('/', describe({
      summary: 'Search the audit log',
      description: [
        'Rows matching every filter given, newest first, `limit` (default 100, at most 1000) at a time: pass `nextCursor` back as `cursor` for the next, older page. `action` matches a prefix (`auth.` finds every sign-in event); `category` takes a whole category of actions (see GET /api/audit/choices), `site` a camera group (rows about any camera in it or in the groups under it); `text` matches anywhere in a row, ignoring case; `from` is inclusive, `to` exclusive. `names` names every user, key, kiosk, share link, camera, group, webhook and organisation the page\'s rows mention.',
        'An organisation administrator reads their own organisation\'s rows only (`orgId`, if given, must be theirs). Reading is itself audited (`audit.export`, format json), before the rows are sent.',
        `Actions: ${AUDIT_ACTIONS.map((a) => `\`${a}\``).join(', ')}.`,
      ].join('\n\n'),
      tag, auth: ['user'], access: READERS,
      answer: { description: 'A page of rows', schema: AuditPage, example: { rows: [ROW_EXAMPLE], nextCursor: '2026-12-05.18422', names: { 'u:u_2KdP9sLxQ7vB': { name: 'sato' }, 'c:cam_7QxV2mR9kLp4': { name: '正門' } } } },
      errors: USER_ERRORS,
    }), user, requireAdmin, validate('query', searchQuery), async (c) => {
      const { limit, cursor, ...rest } = c.req.valid('query');
      const u = c.get('user');
      const q = scoped(u, rest);
      const page = await deps.audit.search({ ...expanded(u, { ...q, site: rest.site, category: rest.category }), limit, ...(cursor !== undefined ? { cursor } : {}) });
      // On disk before the rows go out: who read the audit log is itself on record.
      await audit(deps, c, { actor: `u:${u.id}`, action: 'audit.export', outcome: 'ok', detail: { format: 'json', filters: recordedFilters(q, rest.site, rest.category), rows: page.rows.length } });
      return reply(c, AuditPage, { ...page, names: auditNames(deps.store, page.rows, u.platform ? undefined : u.orgId) });
    })
    .get('/export', describe({
      summary: 'Download the audit log',
      description: 'Every row matching the filters (as for GET /api/audit), oldest first, streamed as a file: CSV (UTF-8 with a byte-order mark, for spreadsheets; the first column in the time zone `tz`, default Asia/Tokyo, the second in UTC) or JSON Lines (one row per line, exactly as stored, so the hash chain can be checked). Audited as `audit.export` before the download starts.',
      tag, auth: ['user'], access: READERS,
      answer: [
        {
          description: 'format=csv (the default)',
          mediaType: 'text/csv',
          headers: { 'Content-Disposition': 'attachment; filename="mimamori-audit-<YYYYMMDD-HHMM>.csv"', 'Cache-Control': 'no-store' },
          example: csvHeader('Asia/Tokyo') + csvRow(ROW_EXAMPLE, 'Asia/Tokyo'),
        },
        {
          description: 'format=jsonl: one row (as GET /api/audit answers them) per line',
          mediaType: 'application/x-ndjson',
          headers: { 'Content-Disposition': 'attachment; filename="mimamori-audit-<YYYYMMDD-HHMM>.jsonl"', 'Cache-Control': 'no-store' },
          example: `${JSON.stringify(ROW_EXAMPLE)}\n`,
        },
      ],
      errors: USER_ERRORS,
    }), user, requireAdmin, validate('query', exportQuery), async (c) => {
      const { format, tz, ...rest } = c.req.valid('query');
      const u = c.get('user');
      const q = scoped(u, rest);
      const filters = expanded(u, { ...q, site: rest.site, category: rest.category });
      await audit(deps, c, { actor: `u:${u.id}`, action: 'audit.export', outcome: 'ok', detail: { format, filters: recordedFilters(q, rest.site, rest.category) } });
      const stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
      const name = `mimamori-audit-${stamp}.${format}`;
      const render = format === 'csv' ? (r: AuditRow) => csvRow(r, tz) : (r: AuditRow) => `${JSON.stringify(r)}\n`;
      const first = format === 'csv' ? CSV_BOM + csvHeader(tz) : '';
      return new Response(textStream(first, deps.audit.rows(filters), render), {
        headers: {
          'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
          'Content-Disposition': `attachment; filename="${name}"`,
          'Cache-Control': 'no-store',
        },
      });
    })
    .get('/choices', describe({
      summary: 'What the audit log can be filtered by',
      description: 'The people (users, API keys, kiosks), cameras and sites (camera groups) of the organisation by name, for the filters of GET /api/audit (`actor`, `cameraId`, `site`), and the action categories `category` takes. An operator of the service may name another organisation with `orgId`.',
      tag, auth: ['user'], access: READERS,
      answer: {
        description: 'The choices, each list sorted by name',
        schema: AuditChoices,
        example: { people: [{ actor: 'u:u_2KdP9sLxQ7vB', kind: 'user', name: 'sato' }], cameras: [{ id: 'cam_7QxV2mR9kLp4', name: '正門' }], sites: [{ id: 'grp_4fT8wQ2nLx', name: '本社', cameras: 12 }], categories: { live: ['live.view', 'kiosk.session'] } },
      },
      errors: USER_ERRORS,
    }), user, requireAdmin, validate('query', z.object({ orgId: filterFields.orgId }).strict()), (c) => {
      const u = c.get('user');
      const { orgId } = scoped(u, c.req.valid('query'));
      const org = orgId ?? u.orgId;
      const byName = <T extends { name: string }>(list: T[]) => list.sort((a, b) => a.name.localeCompare(b.name, 'ja'));
      const store = deps.store;
      const sites = new Sites(store.groupsOf(org));
      return reply(c, AuditChoices, {
        people: byName([
          ...store.usersOf(org).map((x) => ({ actor: `u:${x.id}`, kind: 'user' as const, name: x.username })),
          ...store.apiKeysOf(org).map((x) => ({ actor: `a:${x.id}`, kind: 'apiKey' as const, name: x.name })),
          ...store.kiosks.filter((x) => x.orgId === org).map((x) => ({ actor: `k:${x.id}`, kind: 'kiosk' as const, name: x.name })),
        ]),
        cameras: byName(store.camerasOf(org).map((x) => ({ id: x.id, name: x.name }))),
        sites: byName(store.groupsOf(org).map((g) => ({ id: g.id, name: g.name, ...(g.parentId ? { parentId: g.parentId } : {}), cameras: sites.cameraIds(g.id)?.length ?? 0 }))),
        categories: Object.fromEntries(Object.entries(AUDIT_CATEGORIES).map(([k, actions]) => [k, [...actions]])),
      });
    })
    .get('/verify', describe({
      summary: 'Verify the audit log\'s hash chain',
      description: 'Walks every row of every organisation and checks each one\'s hash and its link to the row before; also that the oldest rows were removed only by retention. Takes a while on a large log. `ok: false` names the first row that does not fit.',
      tag, auth: ['user'],
      access: 'an operator of the service (platform administrator)',
      answer: {
        description: 'Whether the chain is whole (a broken chain is still a 200: see ok)',
        schema: AuditVerification,
        example: { ok: true, files: 412, rows: 1873310, firstSeq: 1, lastSeq: 1873310 },
      },
      errors: USER_ERRORS,
    }), user, requireAdmin, async (c) => {
      // The chain spans every organisation's rows: only the service's operators check it.
      const u = c.get('user');
      if (!u.platform) throw forbidden('only the operator of this service may verify the whole audit log');
      return reply(c, AuditVerification, await deps.audit.verify());
    });
}

/** Rows rendered and sent in chunks of about 64 KiB, as the client reads them. */
function textStream(first: string, rows: AsyncGenerator<AuditRow>, render: (r: AuditRow) => string): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let head = first;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk = head;
      head = '';
      while (chunk.length < 64 * 1024) {
        const next = await rows.next();
        if (next.done) {
          if (chunk) controller.enqueue(encoder.encode(chunk));
          controller.close();
          return;
        }
        chunk += render(next.value);
      }
      controller.enqueue(encoder.encode(chunk));
    },
    async cancel() {
      await rows.return(undefined);
    },
  });
}
