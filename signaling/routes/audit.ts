// The audit log for administrators: search (newest first, paged), export as CSV or JSONL, and
// verify the hash chain. Nothing here changes a row: every changing method answers 405. Reading
// and exporting are audited too (`audit.export`).
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { AUDIT_OUTCOMES, CSV_BOM, csvHeader, csvRow, isAuditCursor, type AuditQuery, type AuditRow } from '../audit/index.ts';
import type { AppEnv, Deps } from '../context.ts';
import { forbidden } from '../errors.ts';
import { audit, auditEvent, bearerToken, clientIp, requireAdmin, requireUser } from '../middleware.ts';
import type { User } from '../store/index.ts';
import { validate } from '../validate.ts';
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
  const filtersOf = (q: AuditQuery): AuditQuery => ({
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
    .on(['POST', 'PUT', 'PATCH', 'DELETE'], ['/', '/*'], refuseChange)
    .get('/', user, requireAdmin, validate('query', searchQuery), async (c) => {
      const { limit, cursor, ...rest } = c.req.valid('query');
      const q = scoped(c.get('user'), rest);
      const page = await deps.audit.search({ ...q, limit, ...(cursor !== undefined ? { cursor } : {}) });
      // On disk before the rows go out: who read the audit log is itself on record.
      await audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'audit.export', outcome: 'ok', detail: { format: 'json', filters: filtersOf(q), rows: page.rows.length } });
      return c.json(page);
    })
    .get('/export', user, requireAdmin, validate('query', exportQuery), async (c) => {
      const { format, tz, ...rest } = c.req.valid('query');
      const q = scoped(c.get('user'), rest);
      await audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'audit.export', outcome: 'ok', detail: { format, filters: filtersOf(q) } });
      const stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
      const name = `mimamori-audit-${stamp}.${format}`;
      const render = format === 'csv' ? (r: AuditRow) => csvRow(r, tz) : (r: AuditRow) => `${JSON.stringify(r)}\n`;
      const first = format === 'csv' ? CSV_BOM + csvHeader(tz) : '';
      return new Response(textStream(first, deps.audit.rows(q), render), {
        headers: {
          'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
          'Content-Disposition': `attachment; filename="${name}"`,
          'Cache-Control': 'no-store',
        },
      });
    })
    .get('/verify', user, requireAdmin, async (c) => {
      // The chain spans every organisation's rows: only the service's operators check it.
      const u = c.get('user');
      if (!u.platform) throw forbidden('only the operator of this service may verify the whole audit log');
      return c.json(await deps.audit.verify());
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
