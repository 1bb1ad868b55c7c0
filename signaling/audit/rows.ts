// Audit rows as both logs (day files, PostgreSQL) write and read them: the hash chain, what is
// cut or scrubbed before a row is written, and how a query matches a row.
import crypto from 'node:crypto';
import type { AuditEvent, AuditOutcome, AuditRow } from './actions.ts';

/** The `prev` of the very first row. */
export const GENESIS = '0'.repeat(64);
export const USER_AGENT_CHARS = 200;
const MAX_DETAIL_CHARS = 4096;
const MAX_FIELD_CHARS = 256;
/** Keys whose values never reach the log (booleans such as `password: true` are kept: they say whether, not what). */
const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie/i;

export interface AuditQuery {
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  actor?: string;
  /** A prefix: `auth.` finds every sign-in event. */
  action?: string;
  cameraId?: string;
  /** Any of these actions exactly (a category of the audit page); none matches an empty list. */
  actions?: readonly string[];
  /** Any of these cameras (a site's); none matches an empty list. */
  cameraIds?: readonly string[];
  outcome?: AuditOutcome;
  orgId?: string;
  /** Case-insensitive, anywhere in the row (actor, action, camera, address, agent, detail). */
  text?: string;
}

export interface AuditPage {
  rows: AuditRow[];
  /** Pass back as `cursor` for the next (older) page; absent on the last page. */
  nextCursor?: string;
}

export type AuditVerification =
  | { ok: true; files: number; rows: number; firstSeq?: number; lastSeq?: number }
  | { ok: false; files: number; rows: number; file: string; line: number; seq?: number; reason: string };

export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

/** The hash a row must carry: over its JSON with `prev` and without `hash`. */
export function rowHash(row: Omit<AuditRow, 'hash'>): string {
  return sha256(JSON.stringify(row));
}

/** Cursor = `<day>.<seq>` of the last row returned: the next page starts below it. */
const CURSOR = /^(\d{4}-\d{2}-\d{2})\.(\d{1,15})$/;
export const isAuditCursor = (s: string): boolean => CURSOR.test(s);
export function parseAuditCursor(cursor: string): { day: string; seq: number } {
  const m = CURSOR.exec(cursor);
  if (!m) throw new TypeError('not an audit cursor');
  return { day: m[1]!, seq: Number(m[2]) };
}
export const auditCursor = (row: AuditRow): string => `${utcDay(Date.parse(row.at))}.${row.seq}`;

/** The row for `event`, next in the chain after `prev`: cut, scrubbed and hashed exactly as verify() reads it back. */
export function chainedRow(event: AuditEvent, seq: number, prev: string, nowMs: number): AuditRow {
  const body: Omit<AuditRow, 'hash'> = {
    seq,
    at: event.at ?? new Date(nowMs).toISOString(),
    actor: clip(event.actor) ?? 'anonymous',
    action: clip(event.action) ?? 'unknown',
    outcome: event.outcome,
    cameraId: clip(event.cameraId),
    orgId: clip(event.orgId),
    ip: clip(event.ip),
    requestId: clip(event.requestId),
    userAgent: event.userAgent?.slice(0, USER_AGENT_CHARS),
    detail: scrubDetail(event.detail),
    prev,
  };
  // Through JSON once, so the hash is over exactly what verify() will read back.
  const normal = JSON.parse(JSON.stringify(body)) as Omit<AuditRow, 'hash'>;
  return { ...normal, hash: rowHash(normal) };
}

/** A query's lists as sets, once per query (a site can hold hundreds of cameras; a scan reads every row). */
const listSets = new WeakMap<readonly string[], Set<string>>();
function setOf(list: readonly string[]): Set<string> {
  let set = listSets.get(list);
  if (!set) listSets.set(list, (set = new Set(list)));
  return set;
}

/** `text` lower-cased. */
export function matches(row: AuditRow, q: AuditQuery, text: string | undefined): boolean {
  const at = Date.parse(row.at);
  if (q.from !== undefined && !(at >= q.from)) return false;
  if (q.to !== undefined && !(at < q.to)) return false;
  if (q.actor !== undefined && row.actor !== q.actor) return false;
  if (q.action !== undefined && !row.action.startsWith(q.action)) return false;
  if (q.cameraId !== undefined && row.cameraId !== q.cameraId) return false;
  if (q.actions !== undefined && !setOf(q.actions).has(row.action)) return false;
  if (q.cameraIds !== undefined && (row.cameraId === undefined || !setOf(q.cameraIds).has(row.cameraId))) return false;
  if (q.outcome !== undefined && row.outcome !== q.outcome) return false;
  if (q.orgId !== undefined && row.orgId !== q.orgId) return false;
  if (text !== undefined) {
    // Never match on the hashes alone.
    const { prev: _prev, hash: _hash, ...visible } = row;
    if (!JSON.stringify(visible).toLowerCase().includes(text)) return false;
  }
  return true;
}

export function parseRow(line: string): AuditRow | undefined {
  try {
    const v = JSON.parse(line) as Partial<AuditRow> | null;
    if (!v || typeof v !== 'object' || typeof v.seq !== 'number' || typeof v.prev !== 'string' || typeof v.hash !== 'string' || typeof v.action !== 'string' || typeof v.at !== 'string') return undefined;
    return v as AuditRow;
  } catch {
    return undefined;
  }
}

const clip = (s: string | undefined): string | undefined => (s === undefined ? undefined : s.slice(0, MAX_FIELD_CHARS));

/** Secret-looking values replaced, size capped: the log is exported and read by people. */
function scrubDetail(detail: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!detail) return undefined;
  const scrub = (v: unknown, depth: number): unknown => {
    if (Array.isArray(v)) return depth > 4 ? '[nested]' : v.map((x) => scrub(x, depth + 1));
    if (v && typeof v === 'object') {
      if (depth > 4) return '[nested]';
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SECRET_KEY.test(k) && typeof x !== 'boolean' && x !== undefined ? '[redacted]' : scrub(x, depth + 1)]));
    }
    return v;
  };
  const clean = scrub(detail, 0) as Record<string, unknown>;
  const size = JSON.stringify(clean).length;
  return size > MAX_DETAIL_CHARS ? { truncated: true, chars: size } : clean;
}
