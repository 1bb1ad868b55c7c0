// Uploads finished segments from the spool to S3: one PutObject per segment, in order per camera,
// retried with capped exponential backoff and jitter while S3 is unreachable. A segment's index
// entry is committed only after its own upload succeeded, and its spool file is removed only
// after that, so a crash anywhere leaves either the spool file (uploaded again after a HEAD shows
// it is not in S3 yet) or the object and its index entry.
//
// While S3 is away the spool grows; past the quota the oldest waiting segments are dropped, each
// recorded as a 'spool-overflow' gap and reported as an alert.

import { SafeEmitter } from '../errors/index.ts';
import { EventEmitter } from 'node:events';
import fs from 'node:fs/promises';
import type { GapEntry, RecordingIndex, SegmentEntry } from './RecordingIndex.ts';
import type { ObjectStore } from './store/index.ts';

export interface UploadJob {
  cameraId: string;
  file: string;
  key: string;
  bytes: number;
  /** Known when the recorder just finished it; read from the file for leftovers of a crash. */
  entry?: SegmentEntry;
  /** Left over from before a restart: it may already be in S3 (crash between upload and cleanup). */
  leftover: boolean;
}

export interface UploaderEvents {
  uploaded: [job: UploadJob, entry: SegmentEntry, lagMs: number];
  /** An upload attempt failed; it will be retried. */
  retry: [job: UploadJob, error: Error, attempt: number, delayMs: number];
  /** Spool over quota: a segment was dropped before it reached S3. */
  dropped: [job: UploadJob, gap: GapEntry | undefined];
  /** A leftover already in S3 was not uploaded again. */
  skipped: [job: UploadJob];
}

export interface UploaderOptions {
  store: ObjectStore;
  index: RecordingIndex;
  /** Reads a spool file's index entry (leftovers of a crash). */
  describe: (job: UploadJob, bytes: Uint8Array) => Promise<SegmentEntry>;
  quotaBytes: number;
  /** Bytes on the spool that are not in the queue (segments being written). */
  writingBytes: () => number;
  concurrency?: number;
  backoff?: { firstMs: number; maxMs: number };
}

export class Uploader extends SafeEmitter<UploaderEvents> {
  readonly #o: UploaderOptions;
  readonly #queue: UploadJob[] = [];
  readonly #busyCameras = new Set<string>();
  #running = 0;
  #closed = false;
  #queuedBytes = 0;
  #errors = 0;
  #uploaded = 0;
  #droppedSegments = 0;
  #lastLagMs = 0;
  #idle: (() => void)[] = [];
  /** Retry waits: ended early (resolved) by close(). */
  readonly #waits = new Map<NodeJS.Timeout, () => void>();
  /** Uploads under way: close() lets them finish before the store goes away. */
  readonly #inflight = new Set<Promise<void>>();

  constructor(options: UploaderOptions) {
    super();
    this.#o = options;
  }

  get queued(): number {
    return this.#queue.length + this.#running;
  }
  get queuedBytes(): number {
    return this.#queuedBytes;
  }
  get stats(): { queued: number; queuedBytes: number; uploaded: number; errors: number; droppedSegments: number; lastLagMs: number; oldestWaitingMs?: number } {
    const oldest = this.#queue.reduce<number | undefined>((min, j) => (j.entry && (min === undefined || j.entry.endMs < min) ? j.entry.endMs : min), undefined);
    return {
      queued: this.queued,
      queuedBytes: this.#queuedBytes,
      uploaded: this.#uploaded,
      errors: this.#errors,
      droppedSegments: this.#droppedSegments,
      lastLagMs: this.#lastLagMs,
      ...(oldest !== undefined ? { oldestWaitingMs: Date.now() - oldest } : {}),
    };
  }

  enqueue(job: UploadJob): void {
    if (this.#closed) return;
    this.#queue.push(job);
    this.#queuedBytes += job.bytes;
    this.#enforceQuota();
    this.#pump();
  }

  /** Resolves when nothing is queued or uploading (tests, shutdown). */
  async drained(): Promise<void> {
    if (this.queued === 0) return;
    await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  /**
   * Stops uploading. An upload under way is let finish (up to `waitMs`): cut off mid-object, the
   * object store may be left with half an object (the embedded one then fails to list the bucket
   * at the next start). What is not uploaded stays on the spool for the next start.
   */
  async close(waitMs = 5000): Promise<void> {
    this.#closed = true;
    for (const [t, resolve] of this.#waits) {
      clearTimeout(t);
      resolve();
    }
    this.#waits.clear();
    for (const resolve of this.#idle.splice(0)) resolve();
    if (this.#inflight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.#inflight]), new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }

  #enforceQuota(): void {
    // Never drop the newest segment: it is what the camera shows now.
    while (this.#queuedBytes + this.#o.writingBytes() > this.#o.quotaBytes && this.#queue.length > 1) {
      const [job] = this.#queue.splice(0, 1); // oldest first
      if (!job) break;
      this.#queuedBytes -= job.bytes;
      this.#droppedSegments += 1;
      const gap: GapEntry | undefined = job.entry ? { fromMs: job.entry.startMs, toMs: job.entry.endMs, reason: 'spool-overflow' } : undefined;
      void fs.rm(job.file, { force: true });
      if (gap) void this.#o.index.addGap(job.cameraId, gap).catch(() => undefined);
      this.safeEmit('dropped', job, gap);
    }
  }

  #pump(): void {
    while (!this.#closed && this.#running < (this.#o.concurrency ?? 4)) {
      const i = this.#queue.findIndex((j) => !this.#busyCameras.has(j.cameraId));
      if (i < 0) break;
      const [job] = this.#queue.splice(i, 1);
      if (!job) break;
      this.#running += 1;
      this.#busyCameras.add(job.cameraId);
      const upload = this.#upload(job).finally(() => {
        this.#inflight.delete(upload);
        this.#running -= 1;
        this.#busyCameras.delete(job.cameraId);
        this.#queuedBytes -= job.bytes;
        if (this.queued === 0) for (const resolve of this.#idle.splice(0)) resolve();
        this.#pump();
      });
      this.#inflight.add(upload);
    }
  }

  async #upload(job: UploadJob): Promise<void> {
    const backoff = this.#o.backoff ?? { firstMs: 1000, maxMs: 30_000 };
    for (let attempt = 1; !this.#closed; attempt++) {
      try {
        const bytes = new Uint8Array(await fs.readFile(job.file));
        const entry = job.entry ?? (await this.#o.describe(job, bytes));
        const existing = job.leftover ? await this.#o.store.head(job.key) : null;
        if (existing && existing.size === bytes.length) this.safeEmit('skipped', job);
        else await this.#o.store.put(job.key, bytes);
        await this.#o.index.addSegment(job.cameraId, entry);
        await fs.rm(job.file, { force: true });
        this.#uploaded += 1;
        this.#lastLagMs = Date.now() - entry.endMs;
        this.safeEmit('uploaded', job, entry, this.#lastLagMs);
        return;
      } catch (error) {
        if (isMissingFile(error)) return; // dropped by the quota meanwhile
        this.#errors += 1;
        const delay = Math.min(backoff.maxMs, backoff.firstMs * 2 ** Math.min(attempt - 1, 10));
        const jittered = Math.round(delay / 2 + Math.random() * (delay / 2));
        this.safeEmit('retry', job, error as Error, attempt, jittered);
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            this.#waits.delete(t);
            resolve();
          }, jittered);
          this.#waits.set(t, resolve);
        });
      }
    }
  }
}

function isMissingFile(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}
