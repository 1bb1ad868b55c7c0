// The recorder: every camera's producers consumed from its origin router, remuxed (no transcoding)
// into sealed fMP4 fragments on the local spool, uploaded as one S3 object per segment, indexed
// per camera and hour, kept for the camera's retention.
//
//   const recorder = await Recorder.create({ sfu, store, keys, catalog, dataDir, settings, log });
//   recorder.refresh(cameraId)            // after a camera's recording setting changed
//   await recorder.deleteRecordings(id)   // contract end: every object, with a report
//   await recorder.close()                // finishes open segments on the spool; uploads resume next start

import path from 'node:path';
import type { Logger } from 'pino';
import type { CameraRoom, Sfu } from '../sfu/index.ts';
import { SafeEmitter } from '../errors/index.ts';
import type { GapEntry } from './entries.ts';
import { CameraRecorder } from './CameraRecorder.ts';
import { RecorderMetrics, type RecorderContext, type RecorderSettings } from './context.ts';
import type { DataKeys } from './DataKeys.ts';
import { readSegment } from './reader.ts';
import { RecordingIndex } from './RecordingIndex.ts';
import { deleteAllObjects, sweepCamera, type DeletionReport, type Hold, type SweepResult } from './retention.ts';
import { PendingSegments } from './PendingSegments.ts';
import type { Holder } from './records.ts';
import { Spool } from './Spool.ts';
import type { ObjectStore } from './store/index.ts';
import { Uploader } from './Uploader.ts';
import { keyOfSpoolFile } from './SegmentWriter.ts';
import fs from 'node:fs/promises';

export { DataKeys, type KeyCatalog } from './DataKeys.ts';
export { RecordingIndex, SPAN_JOIN_MS, summarize, type FragmentTuple, type GapEntry, type GapReason, type HourIndex, type HourSummary, type SegmentEntry } from './RecordingIndex.ts';
export { verifyRange, type VerifyReport } from './verify.ts';
export { readSegment, openFragment, openInit, SegmentError } from './reader.ts';
export type { Hold, DeletionReport, SweepResult } from './retention.ts';
export type { RecorderSettings } from './context.ts';
export { PendingSegments, type PendingSegment } from './PendingSegments.ts';
export { exportKey, exportPrefix, hourStart, hoursBetween, indexWriter, parseSegmentKey, segmentKey, type SegmentName } from './objects.ts';

/** What the recorder needs to know about cameras (the service's metadata store). */
export interface RecorderCatalog {
  /** undefined: the camera does not exist (any more). */
  recording(cameraId: string): { enabled: boolean; retentionDays: number } | undefined;
  holds(cameraId: string): readonly Hold[];
  cameraIds(): readonly string[];
}

export interface RecorderOptions {
  sfu: Sfu;
  store: ObjectStore;
  keys: DataKeys;
  catalog: RecorderCatalog;
  dataDir: string;
  settings: RecorderSettings;
  log: Logger;
  /** How often expired recordings are swept (default hourly). */
  retentionIntervalMs?: number;
  /** How often changed hour indexes go to S3 (default 5 minutes). */
  indexFlushIntervalMs?: number;
  /**
   * A node of a cluster: its name in index objects (one writer per object; other nodes' are merged
   * when read), and who holds each camera now, written into every segment.
   */
  cluster?: { writer: string; holder: (cameraId: string) => Holder | undefined; arrival: (cameraId: string) => { fromNode: string } | undefined; wasDeadSince: (nodeId: string, sinceMs: number) => boolean; handover: (fromNode: string, cameraId: string, epoch: number, startMs: number) => Promise<boolean> };
}

export interface RecorderStatus {
  cameras: { cameraId: string; recording: boolean; session?: string }[];
  spoolBytes: number;
  upload: Uploader['stats'];
  fragments: number;
  fragmentDurableMsP50?: number;
  fragmentDurableMsP99?: number;
  gaps: number;
  writeErrors: number;
  store: string;
}

export interface RecorderEvents {
  /** A hole between a camera's segments was written to its index (what the timeline shows as a gap). */
  gap: [cameraId: string, gap: GapEntry];
}

export class Recorder extends SafeEmitter<RecorderEvents> {
  readonly #o: RecorderOptions;
  readonly #ctx: RecorderContext;
  readonly #cameras = new Map<string, CameraRecorder>();
  #finishing = false;
  readonly #attaching = new Map<string, Promise<void>>();
  readonly #timers: NodeJS.Timeout[] = [];
  #closed = false;

  static async create(o: RecorderOptions): Promise<Recorder> {
    const spool = new Spool(path.join(o.dataDir, 'spool'));
    const index = new RecordingIndex({ dir: path.join(o.dataDir, 'index'), store: o.store, keys: o.keys, ...(o.cluster ? { writer: o.cluster.writer } : {}) });
    const metrics = new RecorderMetrics();
    const cameras = new Map<string, CameraRecorder>();
    const uploader = new Uploader({
      store: o.store,
      index,
      quotaBytes: o.settings.spoolQuotaBytes,
      writingBytes: () => [...cameras.values()].reduce((n, c) => n + c.writingBytes, 0),
      describe: async (job, bytes) => readSegment(await o.keys.dataKey(job.cameraId), job.key, bytes).entry,
    });
    const pending = new PendingSegments();
    uploader.on('uploaded', (job) => pending.removed(job.key));
    uploader.on('dropped', (job) => pending.removed(job.key));
    let recorder: Recorder | undefined = undefined;
    const gapRecorded = (cameraId: string, gap: GapEntry) => recorder?.safeEmit('gap', cameraId, gap);
    const ctx: RecorderContext = { settings: o.settings, keys: o.keys, spool, index, uploader, metrics, pending, log: o.log, gapRecorded, ...(o.cluster ? { cluster: o.cluster } : {}) };
    recorder = new Recorder(o, ctx, cameras);
    await recorder.#recover();
    o.sfu.on('roomOpened', (room) => recorder.#attach(room));
    for (const room of o.sfu.rooms.values()) recorder.#attach(room);
    recorder.#timers.push(setInterval(() => void recorder.#flushIndex(), o.indexFlushIntervalMs ?? 300_000));
    recorder.#timers.push(setInterval(() => void recorder.sweep().catch(() => undefined), o.retentionIntervalMs ?? 3_600_000));
    return recorder;
  }

  private constructor(o: RecorderOptions, ctx: RecorderContext, cameras: Map<string, CameraRecorder>) {
    super();
    this.#o = o;
    this.#ctx = ctx;
    this.#cameras = cameras;
    const log = o.log;
    ctx.uploader.on('retry', (job, err, attempt, delayMs) => {
      // Every attempt is counted in the metrics; the log gets the first and then one in ten.
      if (attempt === 1 || attempt % 10 === 0) log.warn({ event: 'upload_retry', key: job.key, attempt, delayMs, err: { message: err.message, code: (err as { code?: string }).code } }, 'segment upload failed; retrying');
    });
    ctx.uploader.on('dropped', (job, gap) =>
      log.error({ event: 'alert_spool_overflow', cameraId: job.cameraId, key: job.key, gap }, 'spool over quota while S3 is unreachable: the oldest waiting segment was dropped'),
    );
    ctx.uploader.on('skipped', (job) => log.info({ event: 'upload_skipped', key: job.key }, 'segment already in S3 (uploaded before a restart); not uploaded again'));
  }

  get index(): RecordingIndex {
    return this.#ctx.index;
  }
  get metrics(): RecorderMetrics {
    return this.#ctx.metrics;
  }
  get uploader(): Uploader {
    return this.#ctx.uploader;
  }
  get store(): ObjectStore {
    return this.#o.store;
  }
  /** Spool segments the index does not list yet (being written, or waiting for upload). */
  get pending(): PendingSegments {
    return this.#ctx.pending;
  }
  get keys(): DataKeys {
    return this.#o.keys;
  }

  /**
   * Cameras being recorded now (monitoring; no I/O): a segment is open and a fragment reached the
   * spool within the last few fragment lengths, so a session whose writes fail does not count.
   */
  /** A session is recording this camera now (between segments too). */
  isRecording(cameraId: string): boolean {
    return this.#cameras.get(cameraId)?.session?.recording ?? false;
  }

  get recordingCameraIds(): ReadonlySet<string> {
    const now = Date.now();
    const windowMs = Math.max(10_000, 3 * this.#ctx.settings.fragmentMs);
    const recording = [...this.#cameras.values()].filter((c) => c.session?.recording && c.lastDurableMs !== undefined && now - c.lastDurableMs <= windowMs);
    return new Set(recording.map((c) => c.cameraId));
  }

  /** Wall time a fragment of the camera last reached the spool on this node (health page; no I/O). */
  lastDurableMs(cameraId: string): number | undefined {
    return this.#cameras.get(cameraId)?.lastDurableMs;
  }

  /** Cameras whose spool writes fail for lack of space, and since when (readiness, alerts). */
  get diskFull(): { cameraId: string; sinceMs: number }[] {
    return this.#camerasSince((c) => c.diskFullSinceMs);
  }

  /** Cameras whose spool writes have fallen 10 s behind (a stalled disk), and since when (readiness). */
  get spoolStalled(): { cameraId: string; sinceMs: number }[] {
    return this.#camerasSince((c) => c.spoolStalledSinceMs);
  }

  #camerasSince(since: (c: CameraRecorder) => number | undefined): { cameraId: string; sinceMs: number }[] {
    return [...this.#cameras.values()].flatMap((c) => {
      const sinceMs = since(c);
      return sinceMs === undefined ? [] : [{ cameraId: c.cameraId, sinceMs }];
    });
  }

  /** Where the spool is (messages that tell what to free). */
  get spoolDir(): string {
    return this.#ctx.spool.dir;
  }

  async status(): Promise<RecorderStatus> {
    const m = this.#ctx.metrics;
    return {
      cameras: [...this.#cameras.values()].map((c) => ({ cameraId: c.cameraId, recording: c.session?.recording ?? false, ...(c.session ? { session: c.session.id } : {}) })),
      spoolBytes: await this.#ctx.spool.bytes(),
      upload: this.#ctx.uploader.stats,
      fragments: m.fragments,
      fragmentDurableMsP50: m.durablePercentile(50),
      fragmentDurableMsP99: m.durablePercentile(99),
      gaps: m.gaps,
      writeErrors: m.writeErrors,
      store: this.#o.store.description,
    };
  }

  /** The camera moved on request and its new node records from `startMs`: the recording here ends exactly there. */
  handover(cameraId: string, startMs: number): boolean {
    return this.#cameras.get(cameraId)?.handover(startMs) ?? false;
  }

  /** Starts or stops a camera's recording after its setting changed. */
  refresh(cameraId: string): void {
    const room = this.#o.sfu.existingRoom(cameraId);
    const enabled = this.#o.catalog.recording(cameraId)?.enabled ?? false;
    const current = this.#cameras.get(cameraId);
    if (!enabled && current) {
      this.#cameras.delete(cameraId);
      void current.close();
    } else if (enabled && !current && room) {
      this.#attach(room);
    }
  }

  /** Waits until every finished segment is in S3 (tests, benchmarks). */
  async drained(): Promise<void> {
    await this.#ctx.uploader.drained();
  }

  /** Deletes expired recordings of every camera. */
  async sweep(nowMs = Date.now()): Promise<SweepResult[]> {
    const results: SweepResult[] = [];
    for (const cameraId of this.#o.catalog.cameraIds()) {
      const setting = this.#o.catalog.recording(cameraId);
      if (!setting) continue;
      const result = await sweepCamera({ cameraId, retentionDays: setting.retentionDays, holds: this.#o.catalog.holds(cameraId), index: this.#ctx.index, store: this.#o.store, nowMs });
      if (result.deletedObjects > 0) this.#ctx.log.info({ event: 'retention_swept', ...result }, 'expired recordings deleted');
      results.push(result);
    }
    return results;
  }

  /** Every recording of a camera: stops recording it, deletes its objects, spool and index. */
  async deleteRecordings(cameraId: string): Promise<DeletionReport> {
    const current = this.#cameras.get(cameraId);
    this.#cameras.delete(cameraId);
    await current?.close();
    const spoolDir = this.#ctx.spool.cameraDir(cameraId);
    const spoolFiles = (await fs.readdir(spoolDir).catch(() => [] as string[])).length;
    await fs.rm(spoolDir, { recursive: true, force: true });
    this.#ctx.pending.dropCamera(cameraId);
    const objects = await deleteAllObjects(this.#o.store, cameraId);
    await this.#ctx.index.dropCamera(cameraId);
    const report: DeletionReport = { ...objects, spoolFiles };
    this.#ctx.log.warn({ event: 'recordings_deleted', ...report }, 'all recordings of a camera deleted');
    // The camera may still be live: record again from now on if it is enabled.
    this.refresh(cameraId);
    return report;
  }

  /**
   * A node leaving on purpose: stops every session (their last segments reach the spool), uploads
   * everything and stores the index, so the other nodes list it all while this one is away.
   * No camera starts recording here afterwards.
   */
  async finish(): Promise<void> {
    this.#finishing = true;
    await Promise.allSettled([...this.#cameras.values()].map((c) => c.close()));
    this.#cameras.clear();
    await this.#ctx.uploader.drained();
    await this.#flushIndex();
  }

  /** Stops every session (their last fragments reach the spool); uploads resume at the next start. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    await Promise.allSettled([...this.#cameras.values()].map((c) => c.close()));
    this.#cameras.clear();
    await this.#ctx.uploader.close();
    await this.#flushIndex();
  }

  #attach(room: CameraRoom): void {
    const cameraId = room.cameraId;
    if (this.#closed || this.#finishing || this.#attaching.has(cameraId)) return;
    if (!(this.#o.catalog.recording(cameraId)?.enabled ?? false)) return;
    const existing = this.#cameras.get(cameraId);
    if (existing) {
      this.#cameras.delete(cameraId);
      void existing.close();
    }
    const attaching = CameraRecorder.create(room, this.#ctx)
      .then((recorder) => {
        if (this.#closed || room.closed) return void recorder.close();
        this.#cameras.set(cameraId, recorder);
        room.once('closed', () => {
          if (this.#cameras.get(cameraId) === recorder) this.#cameras.delete(cameraId);
          void recorder.close();
        });
      })
      .catch((err: unknown) => this.#ctx.log.error({ event: 'recorder_attach_failed', cameraId, err }, 'could not start recording a camera'))
      .finally(() => this.#attaching.delete(cameraId));
    this.#attaching.set(cameraId, attaching);
  }

  async #recover(): Promise<void> {
    const report = await this.#ctx.spool.recover((cameraId) => this.#o.keys.dataKey(cameraId));
    for (const segment of report.recovered) {
      const cameraId = segment.entry.key.split('/')[1]!;
      this.#ctx.pending.finished(cameraId, segment.file, segment.entry);
      this.#ctx.uploader.enqueue({ cameraId, file: segment.file, key: segment.entry.key, bytes: segment.entry.bytes, entry: segment.entry, leftover: true });
    }
    for (const file of report.waiting) {
      const key = keyOfSpoolFile(file);
      const cameraId = key.split('/')[1]!;
      const stat = await fs.stat(file).catch(() => undefined);
      if (stat) this.#ctx.uploader.enqueue({ cameraId, file, key, bytes: stat.size, leftover: true });
    }
    if (report.recovered.length + report.waiting.length + report.removed.length > 0) {
      // Worth a warning: only a crash or a kill leaves unfinished segments behind.
      this.#o.log.warn(
        { event: 'spool_recovered', recovered: report.recovered.length, waiting: report.waiting.length, removed: report.removed.length, tornBytes: report.tornBytes },
        'segments left on the spool by the last run will be uploaded',
      );
    }
  }

  async #flushIndex(): Promise<void> {
    try {
      await this.#ctx.index.flush();
    } catch (err) {
      this.#ctx.log.warn({ event: 'index_flush_failed', err: { message: (err as Error).message } }, 'could not store the recording index in S3; will retry');
    }
  }
}

export { openStorage, type Storage } from './storage.ts';
export type { ObjectStore } from './store/index.ts';
export { MasterKeys } from './seal/index.ts';
