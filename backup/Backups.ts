// Taking a backup (snapshot, seal, upload, then remove the generations retention.ts does not keep)
// and the daily schedule inside the running service.
import type { Logger } from 'pino';
import type { MasterKeys } from '../recorder/seal/index.ts';
import type { ObjectStore } from '../recorder/store/index.ts';
import { BackupError } from './errors.ts';
import { readMetadata, type MetadataSnapshot } from './files.ts';
import { markInUse, releaseInUse } from './inUse.ts';
import { checkRetention, decideRetention, DEFAULT_RETENTION, type Retention } from './retention.ts';
import { readBackupHeader, sealBackup } from './sealed.ts';

/** Outside `recordings/`, so retention and camera deletion never touch backups. */
export const BACKUP_PREFIX = 'backups/';
const HOUR_MS = 3_600_000;
const CLAIM_RECHECK_MS = 10 * 60_000;
/** A database store's rows in a backup (its other files are beside it, under store/). */
export const STORE_ROWS_FILE = 'store/rows.json';
/** setTimeout's limit; longer delays are waited in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

// backups/2026-11-27T05-30-12.345Z.mmb: fixed width, so key order is time order.
const KEY_PATTERN = /^backups\/((\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{3})Z)\.mmb$/;

export interface Generation {
  /** e.g. 2026-11-27T05-30-12.345Z: what `restore --generation` takes */
  name: string;
  key: string;
  atMs: number;
  bytes: number;
}

export function generationName(atMs: number): string {
  return new Date(atMs).toISOString().replace(/:/g, '-');
}

export function generationKey(name: string): string {
  return `${BACKUP_PREFIX}${name}.mmb`;
}

export function parseGenerationKey(key: string): { name: string; atMs: number } | undefined {
  const m = KEY_PATTERN.exec(key);
  if (!m) return undefined;
  const [, name, y, mo, d, h, mi, s, ms] = m;
  const atMs = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(ms));
  return Number.isFinite(atMs) ? { name: name!, atMs } : undefined;
}

/** Every backup in the bucket, oldest first. Objects under backups/ not named like one are left alone. */
export async function listGenerations(store: ObjectStore): Promise<Generation[]> {
  const out: Generation[] = [];
  for await (const o of store.list(BACKUP_PREFIX)) {
    const parsed = parseGenerationKey(o.key);
    if (parsed) out.push({ ...parsed, key: o.key, bytes: o.size });
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

/** The id of the master key a generation is sealed with, from its header: one small ranged GET. */
export async function sealedWith(store: ObjectStore, generation: Generation): Promise<string> {
  // The header is at the start and small: no need to fetch the whole object.
  const start = await store.get(generation.key, { offset: 0, length: Math.min(generation.bytes, 64 * 1024) });
  return readBackupHeader(start).header.key.masterKeyId;
}

export interface BackupResult {
  generation: string;
  key: string;
  files: number;
  /** metadata bytes before compression and sealing */
  metadataBytes: number;
  /** bytes of the sealed object */
  bytes: number;
  masterKeyId: string;
  ms: number;
  /** false when files kept changing while read (each file is whole; see readMetadata) */
  settled: boolean;
  /** generations in the bucket after pruning (0 when pruning failed) */
  kept: number;
  /** of those, how many are kept as one of the newest and as the first of their month (both count in each) */
  keptAs: { daily: number; monthly: number };
  deleted: string[];
  /** set when the upload succeeded but removing old generations did not (tried again next time) */
  pruneError?: string;
}

export interface BackUpOptions {
  dataDir: string;
  store: ObjectStore;
  masterKeys: MasterKeys;
  /** default DEFAULT_RETENTION (7 daily, 60 monthly) */
  retention?: Retention;
  now?: () => number;
  /**
   * What to back up, when the metadata is not (only) the data dir's files: a database store gives
   * its rows, audit rows and secrets as files of its own (see signaling/store/backupFiles.ts).
   */
  metadata?: () => Promise<MetadataSnapshot>;
}

/** One backup now: a consistent snapshot, sealed, uploaded; then the generations retention does not keep removed. */
export async function backUp(o: BackUpOptions): Promise<BackupResult> {
  const retention = o.retention ?? DEFAULT_RETENTION;
  checkRetention(retention); // here, not first inside the pruning below, where it would pass for a pruning failure
  const now = o.now ?? Date.now;
  const started = now();
  const snapshot = o.metadata ? await o.metadata() : await readMetadata(o.dataDir);
  if (!snapshot.files.some((f) => f.path === 'db.json' || f.path === STORE_ROWS_FILE)) {
    throw new BackupError('nothing_to_back_up', `${o.dataDir} holds no db.json: no service has run on it; check MIMAMORI_DATA_DIR`);
  }
  const name = generationName(started);
  const key = generationKey(name);
  const sealed = await sealBackup(o.masterKeys, name, new Date(started), snapshot.files);
  await o.store.put(key, sealed);
  const result: BackupResult = {
    generation: name,
    key,
    files: snapshot.files.length,
    metadataBytes: snapshot.files.reduce((n, f) => n + f.data.length, 0),
    bytes: sealed.length,
    masterKeyId: o.masterKeys.current.id,
    ms: 0,
    settled: snapshot.settled,
    kept: 0,
    keptAs: { daily: 0, monthly: 0 },
    deleted: [],
  };
  // Only after this upload succeeded: a failing backup never costs an older generation. A failed
  // delete removes nothing the verdicts keep, and the next backup decides again.
  try {
    const verdicts = decideRetention(await listGenerations(o.store), retention);
    const kept = verdicts.filter((v) => v.keptAs);
    const deleted = verdicts.filter((v) => !v.keptAs).map((v) => v.generation);
    if (deleted.length > 0) await o.store.delete(deleted.map((g) => g.key));
    result.deleted = deleted.map((g) => g.name);
    result.kept = kept.length;
    result.keptAs = { daily: kept.filter((v) => v.keptAs !== 'monthly').length, monthly: kept.filter((v) => v.keptAs !== 'daily').length };
  } catch (err) {
    result.pruneError = err instanceof Error ? err.message : String(err);
  }
  result.ms = now() - started;
  return result;
}

export interface BackupsOptions {
  dataDir: string;
  store: ObjectStore;
  masterKeys: MasterKeys;
  log: Logger;
  /** default DEFAULT_RETENTION (7 daily, 60 monthly) */
  retention?: Retention;
  /** Between backups; 0 = no schedule (backups only from the command line). */
  intervalMs: number;
  /** The first look after start: a backup then if the newest is older than intervalMs. */
  startDelayMs: number;
  /** After a failure (default an hour, or the interval if shorter). */
  retryMs?: number;
  /** How often to look whether the current master key changed since the newest backup (default a minute). */
  keyCheckMs?: number;
  /**
   * Nodes sharing one database make each scheduled backup once: before one, a node claims "the
   * backup after the generation of `followingMs`" (0: the first); false means another node has it.
   */
  claim?: (followingMs: number) => Promise<boolean>;
}

/**
 * The schedule inside the running service: one backup at a time, the first shortly after start
 * when the newest generation is older than the interval, then every interval; a failure is logged
 * with its reason and tried again after retryMs. A rotation of the master key retires the old
 * one, so older generations no longer open with the keys the service keeps: a new current master
 * key (rotated, or a new first key in MIMAMORI_MASTER_KEYS) is followed by a backup within
 * keyCheckMs. Also marks the data dir as in use (inUse.ts).
 */
export class Backups {
  readonly #o: BackupsOptions;
  readonly #retryMs: number;
  #timer: NodeJS.Timeout | undefined;
  #keyCheck: NodeJS.Timeout | undefined;
  /** The master key the newest backup was sealed with; undefined until known. */
  #sealedWith: string | undefined;
  #running: Promise<BackupResult> | undefined;
  #lastSuccessMs: number | undefined;
  #closed = false;

  static async start(o: BackupsOptions): Promise<Backups> {
    if (!(o.intervalMs >= 0) || !(o.startDelayMs >= 0)) throw new TypeError('Backups.start: intervalMs and startDelayMs must be non-negative numbers');
    if (o.retention) checkRetention(o.retention);
    await markInUse(o.dataDir);
    const backups = new Backups(o);
    if (o.intervalMs > 0) {
      backups.#schedule(o.startDelayMs, () => backups.#first());
      backups.#keyCheck = setInterval(() => backups.#afterKeyChange(), o.keyCheckMs ?? 60_000);
      backups.#keyCheck.unref();
    }
    return backups;
  }

  private constructor(o: BackupsOptions) {
    this.#o = o;
    this.#retryMs = o.retryMs ?? Math.min(HOUR_MS, o.intervalMs || HOUR_MS);
  }

  /** When the newest backup reached S3 (seen in the bucket at start, or made since). */
  get lastSuccessMs(): number | undefined {
    return this.#lastSuccessMs;
  }

  /** A backup now; while one runs, that one. */
  run(): Promise<BackupResult> {
    if (this.#closed) return Promise.reject(new Error('backups are closed (the service is stopping)'));
    this.#running ??= backUp(this.#o)
      .then((result) => {
        this.#lastSuccessMs = Date.now();
        this.#sealedWith = result.masterKeyId;
        const { generation, files, metadataBytes, bytes, ms, kept, keptAs, deleted, settled, pruneError, masterKeyId } = result;
        this.#o.log.info(
          { event: 'backup_done', generation, files, metadataBytes, bytes, ms, kept, keptAs, deleted, settled, masterKeyId, store: this.#o.store.description },
          'metadata backed up',
        );
        if (pruneError) this.#o.log.warn({ event: 'backup_prune_failed', reason: pruneError }, 'old backup generations could not be removed; tried again after the next backup');
        return result;
      })
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#keyCheck);
    await this.#running?.catch(() => undefined);
    await releaseInUse(this.#o.dataDir);
  }

  #schedule(ms: number, next: () => Promise<void>): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    const step = Math.min(ms, MAX_TIMER_MS);
    this.#timer = setTimeout(() => void (step < ms ? this.#schedule(ms - step, next) : next()), step);
    this.#timer.unref();
  }

  /** At start: back up now unless the newest generation is recent enough. */
  async #first(): Promise<void> {
    try {
      const newest = (await listGenerations(this.#o.store)).at(-1);
      if (newest) {
        this.#lastSuccessMs = newest.atMs;
        this.#sealedWith = await sealedWith(this.#o.store, newest);
        const due = newest.atMs + this.#o.intervalMs - Date.now();
        if (due > 0 && this.#sealedWith === this.#o.masterKeys.current.id) return this.#schedule(due, () => this.#tick());
      }
    } catch {
      // S3 unreachable: the backup below fails with the reason and is retried
    }
    await this.#tick();
  }

  #afterKeyChange(): void {
    if (this.#closed || this.#running || this.#sealedWith === undefined || this.#sealedWith === this.#o.masterKeys.current.id) return;
    this.#o.log.info({ event: 'backup_master_key_changed', was: this.#sealedWith, now: this.#o.masterKeys.current.id }, 'master key changed: backing up under the new one');
    this.#sealedWith = undefined; // until that backup succeeds; a failure is retried on the usual schedule
    clearTimeout(this.#timer);
    void this.#tick();
  }

  async #tick(): Promise<void> {
    if (this.#closed) return;
    try {
      if (this.#o.claim) {
        const newest = (await listGenerations(this.#o.store)).at(-1);
        if (!(await this.#o.claim(newest?.atMs ?? 0))) {
          // Another node makes this one; look again later (it may have failed and its claim expire).
          this.#o.log.debug({ event: 'backup_by_other_node', following: newest?.name }, 'another node makes this backup');
          if (newest) this.#lastSuccessMs = newest.atMs;
          return this.#schedule(Math.min(this.#o.intervalMs, CLAIM_RECHECK_MS), () => this.#first());
        }
      }
      await this.run();
      this.#schedule(this.#o.intervalMs, () => this.#tick());
    } catch (err) {
      if (this.#closed) return;
      const reason = err instanceof Error ? err.message : String(err);
      this.#o.log.error(
        { event: 'backup_failed', reason, code: (err as { code?: unknown }).code, retryInMs: this.#retryMs },
        `metadata backup failed: ${reason}; trying again in ${Math.round(this.#retryMs / 60_000)} min`,
      );
      this.#schedule(this.#retryMs, () => this.#tick());
    }
  }
}
