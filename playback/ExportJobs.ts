// Clip exports as background jobs: one at a time (a 2-core machine records too), progress kept
// with the job, the finished MP4 sealed in parts of 4 MiB under `exports/` in S3 — outside the
// recordings, so retention never removes it; only its deletion (or the camera's) does.
// Neither the export nor its download holds the clip in memory: one part at a time.

import { CodedError } from '../errors/index.ts';
import type { Logger } from 'pino';
import { exportKey, exportPrefix, type DataKeys, type ObjectStore } from '../recorder/index.ts';
import { open, seal } from '../recorder/seal/index.ts';
import type { Clip } from './clip/index.ts';

export const EXPORT_PART_BYTES = 4 * 1024 * 1024;
const CLAIM_RETRY_MS = 30_000;

export interface ExportRecord {
  id: string;
  cameraId: string;
  fromMs: number;
  toMs: number;
  status: 'queued' | 'running' | 'done' | 'failed';
  progress: number;
  bytes?: number;
  error?: { code: string; message: string };
  startMs?: number;
  durationMs?: number;
  gaps?: { fromMs: number; toMs: number; reason: string }[];
  finishedAt?: string;
}

/** Where jobs are kept (the service's metadata store, which several nodes may share). */
export interface ExportStore {
  exportJob(id: string): (ExportRecord & { owner?: string }) | undefined;
  exportsBy(userId: undefined): readonly (ExportRecord & { owner?: string })[];
  /** Takes a queued (or own, interrupted) job; false when another node has it or it is finished. */
  claimExport(id: string, owner: string): Promise<boolean>;
  /** The job as changed; undefined when there is no such job (it was deleted). */
  updateExport(id: string, patch: Partial<ExportRecord>, options?: { persist?: boolean }): Promise<ExportRecord | undefined>;
}

export class ExportError extends CodedError {
  override name = 'ExportError';
  readonly status: number;
  constructor(
    readonly code: 'export_not_ready' | 'interrupted',
    message: string,
  ) {
    super(message);
    this.status = code === 'export_not_ready' ? 409 : 503;
  }

  override answer() {
    return { code: this.code, message: this.message };
  }
}

export interface ExportJobsOptions {
  clip: (cameraId: string, fromMs: number, toMs: number, onProgress: (fraction: number) => void) => Promise<Clip>;
  store: ObjectStore;
  keys: DataKeys;
  jobs: ExportStore;
  /** This node: a job runs on the node that claims it first. */
  owner: string;
  log: Logger;
}

export class ExportJobs {
  readonly #o: ExportJobsOptions;
  readonly #queue: string[] = [];
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(o: ExportJobsOptions) {
    this.#o = o;
    // Jobs cut short by a restart of this node run again from the start; another node's are its own.
    for (const job of o.jobs.exportsBy(undefined)) {
      if ((job.status === 'queued' || job.status === 'running') && (job.owner === undefined || job.owner === o.owner)) this.enqueue(job.id);
    }
  }

  enqueue(id: string): void {
    if (this.#closed) return;
    this.#queue.push(id);
    this.#pump();
  }

  /** Resolves when no job is queued or running (tests). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.length = 0;
    await this.#running;
  }

  /** The finished MP4, part by part. */
  async *download(job: ExportRecord): AsyncGenerator<Uint8Array> {
    if (job.status !== 'done' || job.bytes === undefined) throw new ExportError('export_not_ready', `export ${job.id} is ${job.status}; download it when it is done`);
    const dataKey = await this.#o.keys.dataKey(job.cameraId);
    const parts = Math.max(1, Math.ceil(job.bytes / EXPORT_PART_BYTES));
    for (let part = 0; part < parts; part++) {
      const key = exportKey(job.cameraId, job.id, part);
      yield open(dataKey, { cameraId: job.cameraId, object: key, index: part, kind: 'export' }, await this.#o.store.get(key));
    }
  }

  /** Removes the stored file of an export (the job row is the caller's). */
  async deleteFile(job: Pick<ExportRecord, 'id' | 'cameraId'>): Promise<number> {
    const keys: string[] = [];
    for await (const o of this.#o.store.list(exportPrefix(job.cameraId, job.id))) keys.push(o.key);
    return keys.length > 0 ? this.#o.store.delete(keys) : 0;
  }

  /** The parts of an export deleted while it ran (the delete removed those it saw). */
  async #discard(job: ExportRecord): Promise<void> {
    const objects = await this.deleteFile(job);
    this.#o.log.info({ event: 'export_discarded', exportId: job.id, cameraId: job.cameraId, objects }, 'the export was deleted while it ran: the parts it had written were removed');
  }

  #pump(): void {
    if (this.#running || this.#closed) return;
    const id = this.#queue.shift();
    if (id === undefined) return;
    this.#running = this.#run(id)
      .catch((err: unknown) => this.#o.log.error({ event: 'export_state_not_saved', exportId: id, err }, 'an export ended but its state could not be saved; it runs again at the next start'))
      .finally(() => {
        this.#running = undefined;
        this.#pump();
      });
  }

  async #run(id: string): Promise<void> {
    const { jobs, log } = this.#o;
    const job = jobs.exportJob(id);
    if (!job || job.status === 'done' || job.status === 'failed') return;
    let claimed: boolean;
    try {
      claimed = await jobs.claimExport(id, this.#o.owner);
    } catch (error) {
      // The metadata store is unreachable: the job stays queued and is tried again shortly.
      log.warn({ event: 'export_claim_failed', exportId: id, err: error, retryInMs: CLAIM_RETRY_MS }, 'could not take the export job; trying again');
      setTimeout(() => this.enqueue(id), CLAIM_RETRY_MS).unref();
      return;
    }
    if (!claimed) return;
    const started = Date.now();
    try {
      await jobs.updateExport(id, { status: 'running', progress: 0 });
      let lastSaved = 0;
      const progress = (fraction: number) => {
        // In memory at once (the API reads it), on disk now and then.
        const persist = Date.now() - lastSaved > 5000;
        if (persist) lastSaved = Date.now();
        void jobs.updateExport(id, { progress: Math.min(0.99, Math.round(fraction * 1000) / 1000) }, { persist }).catch((err: unknown) => log.debug({ event: 'export_progress_not_saved', exportId: id, err }, 'export progress not saved'));
      };
      const clip = await this.#o.clip(job.cameraId, job.fromMs, job.toMs, (f) => progress(f * 0.4));
      const dataKey = await this.#o.keys.dataKey(job.cameraId);
      let part = 0;
      let buffered: Uint8Array[] = [];
      let bufferedBytes = 0;
      const flush = async () => {
        const plain = concat(buffered, bufferedBytes);
        const key = exportKey(job.cameraId, id, part);
        await this.#o.store.put(key, seal(dataKey, { cameraId: job.cameraId, object: key, index: part, kind: 'export' }, plain));
        part += 1;
        buffered = [];
        bufferedBytes = 0;
      };
      // Deleted while it runs (on any node): its job row is gone, and the parts written so far
      // would stay in the bucket with nothing pointing at them. Checked after every part.
      const deleted = () => jobs.exportJob(id) === undefined;
      for await (const chunk of clip.stream((f) => progress(0.4 + f * 0.6))) {
        let rest = chunk;
        while (rest.length > 0) {
          const take = Math.min(rest.length, EXPORT_PART_BYTES - bufferedBytes);
          buffered.push(rest.subarray(0, take));
          bufferedBytes += take;
          rest = rest.subarray(take);
          if (bufferedBytes === EXPORT_PART_BYTES) await flush();
        }
        if (deleted()) return await this.#discard(job);
        if (this.#closed) throw new ExportError('interrupted', 'the service stopped during the export; it runs again at the next start');
      }
      if (bufferedBytes > 0 || part === 0) await flush();
      const done = await jobs.updateExport(id, { status: 'done', progress: 1, bytes: clip.bytes, startMs: clip.startMs, durationMs: clip.durationMs, gaps: clip.gaps, finishedAt: new Date().toISOString() });
      if (done === undefined) return await this.#discard(job);
      log.info({ event: 'export_done', exportId: id, cameraId: job.cameraId, bytes: clip.bytes, ms: Date.now() - started }, 'clip export finished');
    } catch (error) {
      if (error instanceof ExportError && error.code === 'interrupted') return; // left 'running': redone at the next start
      const code = (error as { code?: unknown }).code;
      const known = typeof code === 'string' && /^[a-z_]+$/.test(code);
      await jobs.updateExport(id, {
        status: 'failed',
        error: known
          ? { code, message: (error as Error).message }
          : { code: 'export_failed', message: 'the export failed (recordings could not be read); it was logged — try again, or export a shorter range' },
        finishedAt: new Date().toISOString(),
      });
      log.error({ event: 'export_failed', exportId: id, cameraId: job.cameraId, err: error }, 'clip export failed');
    }
  }
}

function concat(parts: readonly Uint8Array[], bytes: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
