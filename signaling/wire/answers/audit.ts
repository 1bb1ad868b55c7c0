// Answers of /api/audit: pages of the append-only audit log and the check of its hash chain.
import { z } from 'zod';

/** How an audited event ended (signaling/audit's AUDIT_OUTCOMES; signaling/routes/audit.ts checks they match). */
export const auditOutcome = z.enum(['ok', 'refused', 'error']);

export const AuditRowView = z.object({
  seq: z.number().int().describe('The row\'s place in the chain: one more than the row before it'),
  at: z.iso.datetime().describe('When it happened (UTC)'),
  actor: z.string().describe('u:<userId>, s:<shareId>, k:<kioskId>, a:<apiKeyId> (detail.apiKey: its name), c:<cameraId>, system or anonymous'),
  action: z.string().describe('What happened: one of the actions listed at the top (rows written by older versions may carry others)'),
  outcome: auditOutcome.describe('ok: done; refused: the caller was not allowed or got something wrong; error: the service failed'),
  cameraId: z.string().optional(),
  orgId: z.string().optional(),
  ip: z.string().optional().describe('The caller\'s address'),
  requestId: z.string().optional().describe('The request\'s X-Request-Id (as in the service\'s log)'),
  userAgent: z.string().optional().describe('At most 200 characters'),
  detail: z.record(z.string(), z.unknown()).optional().describe('Small facts about the event; values of keys that look like secrets read "[redacted]"'),
  prev: z.string().describe('The hash of the row before it (64 hex digits)'),
  hash: z.string().describe('SHA-256 of the row\'s JSON without hash (64 hex digits)'),
});
/** What a reference on a page of the log is called now (or was, when it is gone). */
export const AuditName = z.object({
  name: z.string().optional().describe('Its name (a user\'s username; for a share link, the name of its camera); absent when it is gone and no row on the page named it'),
  deleted: z.boolean().optional().describe('true: it no longer exists (the name, if any, is the one a row recorded)'),
});
export const AuditPage = z.object({
  rows: z.array(AuditRowView).describe('Newest first'),
  nextCursor: z.string().optional().describe('Pass as `cursor` for the next (older) page; absent on the last page'),
  names: z
    .record(z.string(), AuditName)
    .describe('Every user, API key, kiosk, share link, camera, camera group, webhook and organisation the rows mention (as actor, camera or in detail), keyed `<kind>:<id>`: u user, a API key, k kiosk, s share link, c camera, g group, w webhook, o organisation'),
});
/** What the audit page's filters offer, by name. */
export const AuditChoices = z.object({
  people: z.array(z.object({ actor: z.string().describe('As rows carry it: u:<userId>, a:<apiKeyId>, k:<kioskId>'), kind: z.enum(['user', 'apiKey', 'kiosk']), name: z.string() })).describe('Users, API keys and kiosks of the organisation, by name'),
  cameras: z.array(z.object({ id: z.string(), name: z.string() })).describe('Every camera of the organisation, by name'),
  sites: z.array(z.object({ id: z.string(), name: z.string(), parentId: z.string().optional(), cameras: z.number().int().describe('Cameras in it and in the groups under it') })).describe('Camera groups (sites, floors), by name'),
  categories: z.record(z.string(), z.array(z.string())).describe('The action categories `category=` takes, with the actions in each'),
});
export const AuditVerification = z.union([
  z.object({ ok: z.literal(true), files: z.number().int().describe('Day files read (1 with PostgreSQL)'), rows: z.number().int(), firstSeq: z.number().int().optional(), lastSeq: z.number().int().optional() }),
  z.object({
    ok: z.literal(false),
    files: z.number().int(),
    rows: z.number().int().describe('Rows that fitted before the first that did not'),
    file: z.string().describe('Where the first row that does not fit is: a day file (2026-12-05.jsonl), or audit_rows with PostgreSQL'),
    line: z.number().int().describe('Its line in the file (with PostgreSQL: its seq)'),
    seq: z.number().int().optional(),
    reason: z.string().describe('What is wrong with it'),
  }),
]);
