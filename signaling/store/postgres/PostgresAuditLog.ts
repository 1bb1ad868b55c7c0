// The audit log of the PostgreSQL store: one hash chain shared by every node. Rows are chained
// inside the transaction that inserts them, under the audit_head row lock, so the chain has one
// order whatever node wrote a row; each row is kept exactly as hashed (`line`), so verify() reads
// back the very bytes it hashed. Appends are group-committed like the day files: rows queued
// while a batch is written go out together.
//
// A trigger refuses UPDATE, DELETE and TRUNCATE of audit rows; only retention deletes, and only
// the oldest rows, after which it records where the chain now starts (an `audit.retention` row).
// While the database is unreachable rows wait in memory and are written, in order, once it is
// back; append() resolves then.
import type pg from 'pg';
import type { Logger } from '../../log.ts';
import { auditCursor, chainedRow, GENESIS, matches, parseAuditCursor, parseRow, rowHash, type AuditEvent, type AuditLog, type AuditPage, type AuditQuery, type AuditRow, type AuditVerification } from '../../audit/index.ts';
import { isUnavailable, reasonOf } from './errors.ts';

const DAY_MS = 86_400_000;
const RETENTION_EVERY_MS = 3600_000;
const BATCH = 500;
/** Rows held while the database is away; beyond this the oldest waiting ones are refused (and logged). */
const MAX_WAITING = 100_000;
const RETRY_MAX_MS = 10_000;

export interface PostgresAuditLogOptions {
  pool: pg.Pool;
  log: Logger;
  retentionDays: number;
  /** The database, for messages (host:port/name). */
  where: string;
  now?: () => number;
}

interface Pending {
  event: AuditEvent;
  nowMs: number;
  resolve: (row: AuditRow) => void;
  reject: (err: unknown) => void;
}

export class PostgresAuditLog implements AuditLog {
  readonly #o: PostgresAuditLogOptions;
  readonly #now: () => number;
  #queue: Pending[] = [];
  #writing: Promise<void> | undefined;
  #retryMs = 250;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  static async open(o: PostgresAuditLogOptions): Promise<PostgresAuditLog> {
    if (!(o.retentionDays >= 1)) throw new TypeError('PostgresAuditLog: retentionDays must be at least 1');
    const log = new PostgresAuditLog(o);
    log.#timer = setInterval(() => {
      log.applyRetention().catch((err: unknown) => o.log.error({ event: 'audit_retention_failed', reason: reasonOf(err) }, 'could not remove audit rows past retention; tried again in an hour'));
    }, RETENTION_EVERY_MS);
    log.#timer.unref();
    await log.applyRetention().catch((err: unknown) => o.log.warn({ event: 'audit_retention_failed', reason: reasonOf(err) }, 'could not apply audit retention at start; tried again in an hour'));
    return log;
  }

  private constructor(o: PostgresAuditLogOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  append(event: AuditEvent): Promise<AuditRow> {
    if (this.#closed) return Promise.reject(new Error('the audit log is closed; the row was not written'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ event, nowMs: this.#now(), resolve, reject });
      if (this.#queue.length > MAX_WAITING) {
        const refused = this.#queue.splice(0, this.#queue.length - MAX_WAITING);
        this.#o.log.error({ event: 'audit_rows_dropped', rows: refused.length }, `the audit database has been away so long that ${refused.length} waiting rows were dropped`);
        for (const p of refused) p.reject(new Error('the audit database was unreachable too long; the row was dropped'));
      }
      this.#writing ??= this.#drain();
    });
  }

  async search(query: AuditQuery & { limit?: number; cursor?: string }): Promise<AuditPage> {
    await this.#idle();
    const limit = Math.min(1000, Math.max(1, Math.floor(query.limit ?? 100)));
    const below = query.cursor === undefined ? undefined : parseAuditCursor(query.cursor).seq;
    const { where, params } = filters(query, below === undefined ? undefined : { seq: below, op: '<' });
    const { rows } = await this.#o.pool.query<{ line: string }>(`SELECT line FROM audit_rows ${where} ORDER BY seq DESC LIMIT ${limit + 1}`, params);
    const found = rows.flatMap((r) => parseRow(r.line) ?? []).filter((row) => matches(row, query, query.text?.toLowerCase()));
    const page = found.slice(0, limit);
    const last = page[page.length - 1];
    return { rows: page, ...(rows.length > limit && last ? { nextCursor: auditCursor(last) } : {}) };
  }

  async *rows(query: AuditQuery): AsyncGenerator<AuditRow> {
    await this.#idle();
    let after = 0;
    for (;;) {
      const { where, params } = filters(query, { seq: after, op: '>' });
      const { rows } = await this.#o.pool.query<{ seq: string; line: string }>(`SELECT seq, line FROM audit_rows ${where} ORDER BY seq LIMIT 1000`, params);
      for (const r of rows) {
        const row = parseRow(r.line);
        if (row && matches(row, query, query.text?.toLowerCase())) yield row;
      }
      if (rows.length < 1000) return;
      after = Number(rows[rows.length - 1]!.seq);
    }
  }

  async verify(): Promise<AuditVerification> {
    await this.#idle();
    let rows = 0;
    let expectedPrev: string | undefined;
    let lastSeq: number | undefined;
    let first: { prev: string; seq: number } | undefined;
    let anchor: string | undefined;
    const broken = (seq: number, reason: string): AuditVerification => ({ ok: false, files: 1, rows, file: 'audit_rows', line: seq, seq, reason });
    for (let after = 0; ; ) {
      const { rows: batch } = await this.#o.pool.query<{ seq: string; line: string }>('SELECT seq, line FROM audit_rows WHERE seq > $1 ORDER BY seq LIMIT 5000', [after]);
      for (const r of batch) {
        const seq = Number(r.seq);
        const row = parseRow(r.line);
        if (!row || row.seq !== seq) return broken(seq, 'not a complete audit row (JSON with seq, prev and hash)');
        const { hash, ...body } = row;
        if (rowHash(body) !== hash) return broken(seq, 'the row was changed after it was written (its hash does not match)');
        if (expectedPrev !== undefined && row.prev !== expectedPrev) return broken(seq, 'the chain is broken: a row before this one was removed, inserted or changed');
        if (lastSeq !== undefined && seq !== lastSeq + 1) return broken(seq, `rows are missing: sequence jumps from ${lastSeq} to ${seq}`);
        first ??= { prev: row.prev, seq };
        if (row.action === 'audit.retention' && typeof row.detail?.anchor === 'string') anchor = row.detail.anchor;
        expectedPrev = row.hash;
        lastSeq = seq;
        rows++;
      }
      if (batch.length < 5000) break;
      after = lastSeq!;
    }
    if (first && first.prev !== (anchor ?? GENESIS)) {
      return broken(first.seq, 'the oldest rows were removed other than by retention (the chain does not start where the last retention pass left it)');
    }
    return { ok: true, files: 1, rows, ...(first ? { firstSeq: first.seq, lastSeq } : {}) };
  }

  /** Removes the oldest rows, up to the first one inside the retention; returns the removed sequence range. */
  async applyRetention(): Promise<string[]> {
    const cutoff = new Date(this.#now() - this.#o.retentionDays * DAY_MS);
    const client = await this.#o.pool.connect();
    let removed: { from: number; to: number; anchor: string } | undefined;
    try {
      await client.query('BEGIN');
      const head = (await client.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_head FOR UPDATE')).rows[0]!;
      // Only a prefix of the chain goes, whatever the nodes' clocks said in `at`.
      const firstKept = (await client.query<{ seq: string | null }>('SELECT min(seq) AS seq FROM audit_rows WHERE at >= $1', [cutoff])).rows[0]!.seq;
      const bound = firstKept === null ? Number(head.seq) + 1 : Number(firstKept);
      const oldest = (await client.query<{ seq: string | null }>('SELECT min(seq) AS seq FROM audit_rows')).rows[0]!.seq;
      if (oldest !== null && Number(oldest) < bound) {
        const kept = (await client.query<{ line: string }>('SELECT line FROM audit_rows WHERE seq = $1', [bound])).rows[0];
        const anchor = kept ? (parseRow(kept.line)?.prev ?? head.hash) : head.hash;
        await client.query("SET LOCAL mimamori.audit_retention = 'on'");
        await client.query('DELETE FROM audit_rows WHERE seq < $1', [bound]);
        removed = { from: Number(oldest), to: bound - 1, anchor };
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined); // the error below is what matters
      throw error;
    } finally {
      client.release();
    }
    if (!removed) return [];
    const range = `${removed.from}-${removed.to}`;
    this.#o.log.info({ event: 'audit_retention', removedSeq: range, retentionDays: this.#o.retentionDays }, 'removed audit rows past retention');
    await this.append({ actor: 'system', action: 'audit.retention', outcome: 'ok', detail: { removedSeq: range, retentionDays: this.#o.retentionDays, anchor: removed.anchor } });
    return [range];
  }

  /** Waits (a few seconds at most while the database is away) for queued rows, then stops. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    const deadline = Date.now() + 5000;
    while (this.#writing && Date.now() < deadline) await Promise.race([this.#writing, new Promise((r) => setTimeout(r, 100))]);
    if (this.#queue.length > 0) {
      this.#o.log.error({ event: 'audit_rows_lost', rows: this.#queue.length }, 'the service stopped while the audit database was unreachable: these audit rows were not written');
      for (const p of this.#queue.splice(0)) p.reject(new Error('the audit log closed before the database came back; the row was not written'));
    }
  }

  async #idle(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  async #drain(): Promise<void> {
    // Starts on a later tick: rows appended in this one go out in the same transaction.
    await Promise.resolve();
    while (this.#queue.length > 0) {
      const batch = this.#queue.slice(0, BATCH);
      try {
        const rows = await this.#insert(batch);
        this.#queue.splice(0, batch.length);
        this.#retryMs = 250;
        batch.forEach((p, i) => p.resolve(rows[i]!));
      } catch (err) {
        if (isUnavailable(err) && !this.#closed) {
          // Kept, in order, until the database answers again.
          await new Promise((r) => setTimeout(r, this.#retryMs).unref());
          this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs * 2);
          continue;
        }
        this.#queue.splice(0, batch.length);
        this.#o.log.error({ event: 'audit_write_failed', reason: reasonOf(err), rows: batch.length }, `could not write audit rows to ${this.#o.where}`);
        for (const p of batch) p.reject(err);
        if (this.#closed) break;
      }
    }
    this.#writing = undefined;
  }

  async #insert(batch: readonly Pending[]): Promise<AuditRow[]> {
    const client = await this.#o.pool.connect();
    try {
      await client.query('BEGIN');
      const head = (await client.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_head FOR UPDATE')).rows[0]!;
      let seq = Number(head.seq);
      let prev = head.hash;
      const rows = batch.map((p) => {
        const row = chainedRow(p.event, ++seq, prev, p.nowMs);
        prev = row.hash;
        return row;
      });
      await insertAuditRows(client, rows.map((row) => ({ row, line: JSON.stringify(row) })));
      await client.query('UPDATE audit_head SET seq = $1, hash = $2', [seq, prev]);
      await client.query('COMMIT');
      client.release();
      return rows;
    } catch (error) {
      const broken = isUnavailable(error);
      if (!broken) await client.query('ROLLBACK').catch(() => undefined); // the error below is what matters
      client.release(broken ? (error as Error) : undefined);
      throw error;
    }
  }
}

/** Rows as they were chained (`line` exactly as hashed), with the fields searches filter on; 500 per statement. */
export async function insertAuditRows(client: pg.PoolClient, rows: readonly { row: AuditRow; line: string }[]): Promise<void> {
  for (let i = 0; i < rows.length; i += BATCH) {
    const params: unknown[] = [];
    const values = rows.slice(i, i + BATCH).map(({ row, line }) => {
      const at = Date.parse(row.at);
      params.push(row.seq, Number.isFinite(at) ? new Date(at) : new Date(0), row.actor, row.action, row.outcome, row.cameraId ?? null, row.orgId ?? null, line);
      const n = params.length;
      return `($${n - 7}, $${n - 6}, $${n - 5}, $${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
    });
    await client.query(`INSERT INTO audit_rows (seq, at, actor, action, outcome, camera_id, org_id, line) VALUES ${values.join(', ')}`, params);
  }
}

/** WHERE clause and parameters for a query (the row's own `at` is checked again by matches()). */
function filters(q: AuditQuery, seq: { seq: number; op: '<' | '>' } | undefined): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown) => {
    params.push(value);
    clauses.push(sql(`$${params.length}`));
  };
  if (seq) add((p) => `seq ${seq.op} ${p}`, seq.seq);
  if (q.from !== undefined) add((p) => `at >= ${p}`, new Date(q.from));
  if (q.to !== undefined) add((p) => `at < ${p}`, new Date(q.to));
  if (q.actor !== undefined) add((p) => `actor = ${p}`, q.actor);
  if (q.action !== undefined) add((p) => `action LIKE ${p}`, `${escapeLike(q.action)}%`);
  if (q.cameraId !== undefined) add((p) => `camera_id = ${p}`, q.cameraId);
  if (q.actions !== undefined) add((p) => `action = ANY(${p})`, [...q.actions]);
  if (q.cameraIds !== undefined) add((p) => `camera_id = ANY(${p})`, [...q.cameraIds]);
  if (q.outcome !== undefined) add((p) => `outcome = ${p}`, q.outcome);
  if (q.orgId !== undefined) add((p) => `org_id = ${p}`, q.orgId);
  if (q.text !== undefined) add((p) => `line ILIKE ${p}`, `%${escapeLike(q.text)}%`);
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
