// The audit log of the embedded store: append-only JSONL files, one per UTC day, in <dataDir>/audit/.
//
// - Durability: appends are group-committed. Rows queued while a write is in flight go out
//   together in one write + fdatasync, and append() resolves only once its row is on disk. A
//   crash loses at most the rows of the batch being written (milliseconds), never silently a
//   day's worth as a timer-flushed buffer would, and under load one fsync covers many rows.
// - Tamper evidence: every row carries `prev` (the hash of the row before it) and `hash` =
//   sha256 of the row's JSON with `prev` and without `hash`. verify() walks the chain and names
//   the first row that was changed, removed or inserted. A retention pass records the new start
//   of the chain (`anchor`), so only removals made by retention pass verification.
// - Retention: whole day files older than `retentionDays` are removed (hourly and at start),
//   and each removal is itself an audit row.
// - The product has no way to change a row: this class only appends, and /api/audit answers
//   every changing method with 405.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.ts';
import type { AuditEvent, AuditRow } from './actions.ts';
import { chainedRow, GENESIS, matches, parseAuditCursor, parseRow, rowHash, utcDay, type AuditPage, type AuditQuery, type AuditVerification } from './rows.ts';
import type { AuditLog } from './AuditLog.ts';

const DAY_MS = 86_400_000;
const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;
const RETENTION_EVERY_MS = 3600_000;

export interface FileAuditLogOptions {
  /** Folder of the day files (created 0700). */
  dir: string;
  retentionDays: number;
  log: Logger;
  /** The clock (tests move it); rows, day files and retention all follow it. */
  now?: () => number;
}

interface Pending {
  day: string;
  line: string;
  row: AuditRow;
  resolve: (row: AuditRow) => void;
  reject: (err: unknown) => void;
}

export class FileAuditLog implements AuditLog {
  readonly #dir: string;
  readonly #retentionDays: number;
  readonly #log: Logger;
  readonly #now: () => number;
  #seq: number;
  #lastHash: string;
  #queue: Pending[] = [];
  #writing: Promise<void> | undefined;
  #file: { day: string; handle: fs.FileHandle } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  static async open(options: FileAuditLogOptions): Promise<FileAuditLog> {
    if (!(options.retentionDays >= 1)) throw new TypeError('AuditLog: retentionDays must be at least 1');
    await fs.mkdir(options.dir, { recursive: true, mode: 0o700 });
    const tail = await readTail(options.dir, options.log);
    const log = new FileAuditLog(options, tail.seq, tail.hash);
    if (tail.droppedBytes > 0) {
      // The torn end of a write interrupted by a crash: it was never acknowledged, so it is cut
      // off, and the cut is recorded rather than left for verify() to trip over.
      await log.append({ actor: 'system', action: 'audit.recovered', outcome: 'ok', detail: { file: tail.file, droppedBytes: tail.droppedBytes } });
    }
    await log.applyRetention();
    log.#timer = setInterval(() => {
      log.applyRetention().catch((err: unknown) => log.#log.error({ event: 'audit_retention_failed', err }, 'could not remove old audit day files; check the audit folder\'s permissions'));
    }, RETENTION_EVERY_MS);
    log.#timer.unref();
    return log;
  }

  private constructor(options: FileAuditLogOptions, seq: number, lastHash: string) {
    this.#dir = options.dir;
    this.#retentionDays = options.retentionDays;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#seq = seq;
    this.#lastHash = lastHash;
  }

  get dir(): string {
    return this.#dir;
  }

  /**
   * Chains the row at once (so rows keep the order of the calls) and resolves when it is on
   * disk. Rejects only if the disk write failed or the log is closed.
   */
  append(event: AuditEvent): Promise<AuditRow> {
    if (this.#closed) return Promise.reject(new Error('the audit log is closed; the row was not written'));
    const nowMs = this.#now();
    const row = chainedRow(event, this.#seq + 1, this.#lastHash, nowMs);
    this.#seq = row.seq;
    this.#lastHash = row.hash;
    return new Promise((resolve, reject) => {
      this.#queue.push({ day: utcDay(nowMs), line: `${JSON.stringify(row)}\n`, row, resolve, reject });
      // Cleared by #drain in the same step that finds the queue empty, so no row is left behind.
      this.#writing ??= this.#drain();
    });
  }

  /** Matching rows, newest first, `limit` (1–1000) at a time. */
  async search(query: AuditQuery & { limit?: number; cursor?: string }): Promise<AuditPage> {
    const limit = Math.min(1000, Math.max(1, Math.floor(query.limit ?? 100)));
    const below = query.cursor === undefined ? undefined : parseAuditCursor(query.cursor);
    const rows: { row: AuditRow; day: string; seq: number }[] = [];
    for await (const hit of this.#scan(query, 'newest', below)) {
      rows.push(hit);
      if (rows.length > limit) break;
    }
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { rows: page.map((r) => r.row), ...(more && last ? { nextCursor: `${last.day}.${last.seq}` } : {}) };
  }

  /** Every matching row, oldest first (exports stream this). */
  async *rows(query: AuditQuery): AsyncGenerator<AuditRow> {
    for await (const { row } of this.#scan(query, 'oldest')) yield row;
  }

  /** Every row as written (JSON lines), oldest first: exports of the whole log (backups, migrate-store). */
  async lines(): Promise<string[]> {
    await this.#idle();
    const out: string[] = [];
    for (const day of await this.#days()) {
      const text = await readIfExists(path.join(this.#dir, `${day}.jsonl`));
      if (text) out.push(...text.split('\n').filter((line) => line.length > 0));
    }
    return out;
  }

  /**
   * Fills an empty log with rows exported from another (their chain and sequence kept, so verify()
   * still vouches for them). Each row goes into the day file of its time, never an earlier day than
   * the row before it, so the files stay in chain order.
   */
  async importLines(lines: readonly string[]): Promise<void> {
    await this.#idle();
    if (this.#seq !== 0 || (await this.#days()).length > 0) throw new Error(`the audit log in ${this.#dir} is not empty; import only into a new one`);
    const byDay = new Map<string, string[]>();
    let day = '';
    let last: AuditRow | undefined;
    for (const line of lines) {
      const row = parseRow(line);
      if (!row) throw new Error(`an imported audit row is not a complete row: ${line.slice(0, 80)}`);
      const own = utcDay(Number.isFinite(Date.parse(row.at)) ? Date.parse(row.at) : this.#now());
      day = own > day ? own : day;
      let list = byDay.get(day);
      if (!list) byDay.set(day, (list = []));
      list.push(line);
      last = row;
    }
    for (const [d, rows] of byDay) {
      const handle = await fs.open(path.join(this.#dir, `${d}.jsonl`), 'wx', 0o600);
      try {
        await handle.writeFile(`${rows.join('\n')}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    await syncDir(this.#dir);
    if (last) {
      this.#seq = last.seq;
      this.#lastHash = last.hash;
    }
  }

  /** Walks every file and the chain between them; names the first row that does not fit. */
  async verify(): Promise<AuditVerification> {
    await this.#idle();
    const days = await this.#days();
    let rows = 0;
    let expectedPrev: string | undefined;
    let lastSeq: number | undefined;
    let first: { prev: string; file: string; seq: number } | undefined;
    let anchor: string | undefined;
    const broken = (file: string, line: number, reason: string, seq?: number): AuditVerification => ({ ok: false, files: days.length, rows, file, line, reason, ...(seq !== undefined ? { seq } : {}) });
    for (const day of days) {
      const file = `${day}.jsonl`;
      const text = await readIfExists(path.join(this.#dir, file));
      if (text === undefined) continue;
      if (text.length > 0 && !text.endsWith('\n')) {
        const lines = text.split('\n');
        return broken(file, lines.length, 'the last row is cut off (not ended by a newline)');
      }
      const lines = text.split('\n');
      lines.pop();
      for (let i = 0; i < lines.length; i++) {
        const row = parseRow(lines[i]!);
        if (!row) return broken(file, i + 1, 'not a complete audit row (JSON with seq, prev and hash)');
        const { hash, ...body } = row;
        if (rowHash(body) !== hash) return broken(file, i + 1, 'the row was changed after it was written (its hash does not match)', row.seq);
        if (expectedPrev !== undefined && row.prev !== expectedPrev) return broken(file, i + 1, 'the chain is broken: a row before this one was removed, inserted or changed', row.seq);
        if (lastSeq !== undefined && row.seq !== lastSeq + 1) return broken(file, i + 1, `rows are missing: sequence jumps from ${lastSeq} to ${row.seq}`, row.seq);
        first ??= { prev: row.prev, file, seq: row.seq };
        if (row.action === 'audit.retention' && typeof row.detail?.anchor === 'string') anchor = row.detail.anchor;
        expectedPrev = row.hash;
        lastSeq = row.seq;
        rows++;
      }
    }
    if (first && first.prev !== (anchor ?? GENESIS)) {
      return broken(first.file, 1, 'the oldest rows were removed other than by retention (the chain does not start where the last retention pass left it)', first.seq);
    }
    return { ok: true, files: days.length, rows, ...(first ? { firstSeq: first.seq, lastSeq } : {}) };
  }

  /** Removes day files older than the retention; returns the removed days (and audits it). */
  async applyRetention(): Promise<string[]> {
    const cutoff = utcDay(this.#now() - this.#retentionDays * DAY_MS);
    const removed: string[] = [];
    for (const day of await this.#days()) {
      if (day >= cutoff || day === this.#file?.day) continue;
      await fs.rm(path.join(this.#dir, `${day}.jsonl`), { force: true });
      removed.push(day);
    }
    if (removed.length === 0) return removed;
    // Where the chain now starts: the first kept row's `prev`, or (nothing kept) the next row's.
    let anchor = this.#lastHash;
    for (const day of await this.#days()) {
      const text = await readIfExists(path.join(this.#dir, `${day}.jsonl`));
      const row = text ? parseRow(text.slice(0, text.indexOf('\n'))) : undefined;
      if (row) {
        anchor = row.prev;
        break;
      }
    }
    this.#log.info({ event: 'audit_retention', removed, retentionDays: this.#retentionDays }, `removed ${removed.length} audit day file(s) past retention`);
    await this.append({ actor: 'system', action: 'audit.retention', outcome: 'ok', detail: { removedDays: removed, retentionDays: this.#retentionDays, anchor } });
    return removed;
  }

  /** Waits for queued rows, then stops. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#idle();
    await this.#file?.handle.close();
    this.#file = undefined;
  }

  /** Resolves once every row appended so far is on disk (searches read their own writes). */
  async #idle(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  async #drain(): Promise<void> {
    // Starts on a later tick: rows appended in this one go out in the same write.
    await Promise.resolve();
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      try {
        // Rows of one day go out in one write; a batch spans two days only around midnight UTC.
        for (let i = 0; i < batch.length; ) {
          const day = batch[i]!.day;
          let j = i;
          while (j < batch.length && batch[j]!.day === day) j++;
          const handle = await this.#fileFor(day);
          await handle.appendFile(batch.slice(i, j).map((p) => p.line).join(''));
          await handle.datasync();
          i = j;
        }
        for (const p of batch) p.resolve(p.row);
      } catch (err) {
        this.#log.error({ event: 'audit_write_failed', err, rows: batch.length }, 'could not write audit rows; check free space and permissions of the audit folder');
        for (const p of batch) p.reject(err);
      }
    }
    this.#writing = undefined;
  }

  async #fileFor(day: string): Promise<fs.FileHandle> {
    if (this.#file?.day === day) return this.#file.handle;
    await this.#file?.handle.close();
    this.#file = undefined;
    const file = path.join(this.#dir, `${day}.jsonl`);
    const existed = (await readIfExists(file, true)) !== undefined;
    const handle = await fs.open(file, 'a', 0o600);
    this.#file = { day, handle };
    // A new file's directory entry must survive a crash too.
    if (!existed) await syncDir(this.#dir);
    return handle;
  }

  async #days(): Promise<string[]> {
    const names = await fs.readdir(this.#dir);
    return names.flatMap((n) => DAY_FILE.exec(n)?.[1] ?? []).sort();
  }

  async *#scan(query: AuditQuery, order: 'newest' | 'oldest', below?: { day: string; seq: number }): AsyncGenerator<{ row: AuditRow; day: string; seq: number }> {
    await this.#idle();
    // A row's file is the day it was written, never before its `at`: files before `from` are skipped.
    const fromDay = query.from === undefined ? undefined : utcDay(query.from);
    let days = (await this.#days()).filter((d) => (fromDay === undefined || d >= fromDay) && (below === undefined || d <= below.day));
    if (order === 'newest') days = days.reverse();
    const text = query.text?.toLowerCase();
    for (const day of days) {
      const content = await readIfExists(path.join(this.#dir, `${day}.jsonl`));
      if (!content) continue;
      const lines = content.split('\n');
      if (order === 'newest') lines.reverse();
      for (const line of lines) {
        if (!line || (text !== undefined && !line.toLowerCase().includes(text))) continue;
        const row = parseRow(line);
        if (!row || (below && row.seq >= below.seq) || !matches(row, query, text)) continue;
        yield { row, day, seq: row.seq };
      }
    }
  }
}

async function readIfExists(file: string, statOnly = false): Promise<string | undefined> {
  try {
    if (statOnly) {
      await fs.stat(file);
      return '';
    }
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Where the chain continues: the last complete row of the newest non-empty file. A torn last
 * line (a crash mid-write) is cut off here and reported.
 */
async function readTail(dir: string, log: Logger): Promise<{ seq: number; hash: string; file?: string; droppedBytes: number }> {
  const days = (await fs.readdir(dir)).flatMap((n) => DAY_FILE.exec(n)?.[1] ?? []).sort().reverse();
  let droppedBytes = 0;
  let droppedFrom: string | undefined;
  for (const day of days) {
    const file = path.join(dir, `${day}.jsonl`);
    const buf = await fs.readFile(file);
    let end = buf.length;
    if (end > 0 && buf[end - 1] !== 0x0a) {
      end = buf.lastIndexOf(0x0a) + 1;
      droppedBytes += buf.length - end;
      droppedFrom ??= `${day}.jsonl`;
      await fs.truncate(file, end);
    }
    if (end === 0) continue;
    const lines = buf.subarray(0, end).toString('utf8').split('\n');
    const last = lines[lines.length - 2] ?? '';
    const row = parseRow(last);
    if (row) return { seq: row.seq, hash: row.hash, ...(droppedFrom ? { file: droppedFrom } : {}), droppedBytes };
    // A damaged last row: carry on after it anyway (verify() will name it); never refuse to start.
    log.error({ event: 'audit_tail_unreadable', file: `${day}.jsonl` }, 'the last audit row is not readable; new rows continue after it and verify() will report the break');
    return { seq: lines.length - 1, hash: crypto.createHash('sha256').update(last).digest('hex'), droppedBytes };
  }
  return { seq: 0, hash: GENESIS, ...(droppedFrom ? { file: droppedFrom } : {}), droppedBytes };
}
