// Operations view of the service: readiness checks (GET /readyz), Prometheus metrics (GET /metrics)
// and the recorder's alerts: "camera online but not recording" and "spool disk full" (metric, log
// line and GET /api/recorder).
//
//   const monitoring = Monitoring.create(deps);
//   await monitoring.readiness()   // { ready, checks: { workers, s3, disk, spool, clock } }
//   await monitoring.metrics()     // Prometheus text, collected at scrape time
//   monitoring.alerts()            // [{ cameraId, kind: 'not_recording' | 'disk_full', sinceMs }]
//   monitoring.close()
//
// Everything is read when asked (prom-client collect() callbacks); the only background work is a
// timer that notices when a live camera stops recording, so the alert knows since when.

import fs from 'node:fs/promises';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { RecorderStatus } from '../recorder/index.ts';
import type { UploadJob } from '../recorder/Uploader.ts';
import type { Deps } from './context.ts';
import { SafeEmitter } from '../errors/index.ts';

export type CheckName = 'workers' | 's3' | 'disk' | 'spool' | 'clock' | 'turn' | 'database' | 'drain';
/**
 * Checks of what every node shares and that this node can do without for a while: failing, they
 * are reported (and listed in `degraded`) but leave the node ready. The metadata database is one:
 * without it reads, live video and recording go on; taking every node out of the load balancer
 * for it would stop those too.
 */
const ADVISORY: ReadonlySet<CheckName> = new Set(['database']);
export interface CheckResult {
  ok: boolean;
  /** What is wrong and what to do; only on failure, never internal detail. */
  message?: string;
}
export interface Readiness {
  ready: boolean;
  checks: Record<CheckName, CheckResult>;
  /** Advisory checks that fail (the node stays ready). */
  degraded?: CheckName[];
}
export interface RecorderAlert {
  cameraId: string;
  /** `disk_full`: the camera's spool writes fail for lack of space (raised at once, cleared by a write that succeeds). */
  kind: 'not_recording' | 'disk_full';
  /** When the camera was first seen live and enabled for recording without a session writing (or its first write failed). */
  sinceMs: number;
}

export interface MonitoringOptions {
  /** The S3 probe gives up after this long (default 2000). */
  s3TimeoutMs?: number;
  /** A probe result is reused this long, so /readyz and /metrics stay cheap (default 5000). */
  s3CacheMs?: number;
  /** A live camera not recording for this long raises the alert (default 30_000). */
  notRecordingAfterMs?: number;
  /** How often the alert condition is looked at (default 5000). */
  checkIntervalMs?: number;
  /** The spool check fails at this share of the quota (default 0.9). */
  spoolFailRatio?: number;
  /** The spool check also fails this long after a segment was dropped for the quota (default 60_000). */
  dropWindowMs?: number;
}

type MonitoringDeps = Pick<Deps, 'config' | 'sfu' | 'recorder' | 'hub' | 'store' | 'log' | 'turn'> & Partial<Pick<Deps, 'cluster'>>;

/** A release is never run before it was made: a clock earlier than this is wrong. */
const CLOCK_NOT_BEFORE_MS = Date.UTC(2026, 0, 1);
/** Listed (never written) by the S3 probe: one cheap ListObjects that also fails on a missing bucket. */
const S3_PROBE_PREFIX = 'readyz-probe/';
/** One scrape's figures are shared by every metric of that scrape. */
const SNAPSHOT_MS = 1000;

interface Snapshot {
  status: RecorderStatus;
  diskFreeBytes: number | undefined;
}

/**
 * Which live cameras have not been recording since when. Pure state: fed the cameras that are
 * live, enabled and not recording at each look, it tells which alerts are raised or cleared.
 */
export class NotRecordingTracker {
  readonly #afterMs: number;
  readonly #since = new Map<string, number>();
  readonly #raised = new Set<string>();

  constructor(afterMs: number) {
    if (!(afterMs >= 0)) throw new TypeError('NotRecordingTracker: afterMs must be a non-negative number');
    this.#afterMs = afterMs;
  }

  /** `notRecording`: the cameras in that state now. Returns what changed. */
  update(nowMs: number, notRecording: Iterable<string>): { raised: RecorderAlert[]; cleared: string[] } {
    const now = new Set(notRecording);
    const cleared: string[] = [];
    for (const cameraId of [...this.#since.keys()]) {
      if (now.has(cameraId)) continue;
      this.#since.delete(cameraId);
      if (this.#raised.delete(cameraId)) cleared.push(cameraId);
    }
    for (const cameraId of now) if (!this.#since.has(cameraId)) this.#since.set(cameraId, nowMs);
    const raised: RecorderAlert[] = [];
    for (const alert of this.alerts(nowMs)) {
      if (this.#raised.has(alert.cameraId)) continue;
      this.#raised.add(alert.cameraId);
      raised.push(alert);
    }
    return { raised, cleared };
  }

  /** Cameras in the state for at least `afterMs`, oldest first. */
  alerts(nowMs: number): RecorderAlert[] {
    return [...this.#since]
      .filter(([, sinceMs]) => nowMs - sinceMs >= this.#afterMs)
      .sort((a, b) => a[1] - b[1])
      .map(([cameraId, sinceMs]) => ({ cameraId, kind: 'not_recording', sinceMs }));
  }
}

export interface MonitoringEvents {
  /** An alert was raised (once per episode): what the log line `alert_not_recording` says (webhooks listen). */
  alert: [alert: RecorderAlert];
}

export class Monitoring extends SafeEmitter<MonitoringEvents> {
  readonly registry = new Registry();
  readonly #deps: MonitoringDeps;
  readonly #o: Required<MonitoringOptions>;
  readonly #tracker: NotRecordingTracker;
  readonly #timer: NodeJS.Timeout;
  #s3: { atMs: number; result: CheckResult } | undefined;
  #s3Probe: Promise<CheckResult> | undefined;
  #snapshot: { atMs: number; value: Promise<Snapshot> } | undefined;
  #lastDropMs: number | undefined;
  /**
   * Segments whose upload failed and is being retried, key → end (wall ms). The uploader's
   * oldestWaitingMs covers only the segments queued behind them, so without these the upload lag
   * read 0 while a camera's first segment after S3 went away was failing.
   */
  readonly #retrying = new Map<string, number>();
  #backups: { readonly lastSuccessMs: number | undefined } | undefined;
  /** Cameras whose disk-full alert was logged. */
  readonly #diskFullRaised = new Set<string>();
  #closed = false;

  static create(deps: MonitoringDeps, options: MonitoringOptions = {}): Monitoring {
    for (const [name, value] of Object.entries(options)) {
      if (value !== undefined && !(typeof value === 'number' && value >= 0)) throw new TypeError(`Monitoring.create: ${name} must be a non-negative number`);
    }
    return new Monitoring(deps, {
      s3TimeoutMs: options.s3TimeoutMs ?? 2000,
      s3CacheMs: options.s3CacheMs ?? 5000,
      notRecordingAfterMs: options.notRecordingAfterMs ?? 30_000,
      checkIntervalMs: options.checkIntervalMs ?? 5000,
      spoolFailRatio: options.spoolFailRatio ?? 0.9,
      dropWindowMs: options.dropWindowMs ?? 60_000,
    });
  }

  private constructor(deps: MonitoringDeps, o: Required<MonitoringOptions>) {
    super();
    this.#deps = deps;
    this.#o = o;
    this.#tracker = new NotRecordingTracker(o.notRecordingAfterMs);
    deps.recorder.uploader.on('dropped', this.#onDropped);
    deps.recorder.uploader.on('retry', this.#onRetry);
    deps.recorder.uploader.on('uploaded', this.#onUploaded);
    this.#timer = setInterval(() => this.#lookForAlerts(), o.checkIntervalMs);
    this.#timer.unref();
    this.#registerMetrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every check at once; S3 is probed at most every few seconds and for at most 2 s. */
  async readiness(): Promise<Readiness> {
    const [workers, s3, disk, spool] = await Promise.all([this.#workersCheck(), this.#s3Check(), this.#diskCheck(), this.#spoolCheck()]);
    const checks: Record<CheckName, CheckResult> = { workers, s3, disk, spool, clock: this.#clockCheck(), turn: this.#turnCheck(), database: this.#databaseCheck(), drain: this.#drainCheck() };
    const failing = (Object.entries(checks) as [CheckName, CheckResult][]).filter(([, c]) => !c.ok).map(([name]) => name);
    const degraded = failing.filter((name) => ADVISORY.has(name));
    return { ready: failing.length === degraded.length, checks, ...(degraded.length ? { degraded } : {}) };
  }

  /** The Prometheus exposition, every figure read now. */
  async metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** Live cameras that should be recording and have not been for a while. */
  alerts(): RecorderAlert[] {
    this.#lookForAlerts();
    const diskFull = this.#deps.recorder.diskFull.map((d): RecorderAlert => ({ cameraId: d.cameraId, kind: 'disk_full', sinceMs: d.sinceMs }));
    return [...diskFull, ...this.#tracker.alerts(Date.now())];
  }

  /** The metadata backup schedule, read by mimamori_backup_last_success_timestamp_seconds. */
  watchBackups(backups: { readonly lastSuccessMs: number | undefined }): void {
    this.#backups = backups;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#deps.recorder.uploader.off('dropped', this.#onDropped);
    this.#deps.recorder.uploader.off('retry', this.#onRetry);
    this.#deps.recorder.uploader.off('uploaded', this.#onUploaded);
    this.#retrying.clear();
    this.registry.clear();
  }

  readonly #onDropped = (): void => {
    this.#lastDropMs = Date.now();
  };

  readonly #onRetry = (job: UploadJob): void => {
    if (job.entry) this.#retrying.set(job.key, job.entry.endMs);
  };

  readonly #onUploaded = (job: UploadJob): void => {
    this.#retrying.delete(job.key);
  };

  /**
   * How far S3 is behind the recording: the oldest segment not in S3 yet (waiting in the queue, or
   * in upload after a failed attempt), else the last upload's delay after its segment ended.
   */
  #uploadLagMs(upload: RecorderStatus['upload']): number {
    const now = Date.now();
    let lag = Math.max(upload.oldestWaitingMs ?? 0, upload.lastLagMs);
    for (const [key, endMs] of this.#retrying) {
      // Not pending any more: deleted with its camera's recordings while in upload (no event says so).
      if (this.#deps.recorder.pending.get(key) === undefined) this.#retrying.delete(key);
      else lag = Math.max(lag, now - endMs);
    }
    return lag;
  }

  /** Live cameras with recording enabled and no session writing a segment. */
  #notRecording(): string[] {
    const { sfu, store, recorder } = this.#deps;
    const recording = recorder.recordingCameraIds;
    const out: string[] = [];
    for (const room of sfu.rooms.values()) {
      if (room.closed || !room.live || recording.has(room.cameraId)) continue;
      const camera = store.camera(room.cameraId);
      if (camera && (camera.recording?.enabled ?? true)) out.push(room.cameraId);
    }
    return out;
  }

  #lookForAlerts(): void {
    if (this.#closed) return;
    const { raised, cleared } = this.#tracker.update(Date.now(), this.#notRecording());
    for (const alert of raised) {
      this.#deps.log.error({ event: 'alert_not_recording', cameraId: alert.cameraId, sinceMs: alert.sinceMs }, 'camera is online but nothing is recording it');
      this.safeEmit('alert', alert);
    }
    for (const cameraId of cleared) this.#deps.log.info({ event: 'alert_not_recording_cleared', cameraId }, 'camera is recording again (or went offline)');
    const full = new Map(this.#deps.recorder.diskFull.map((d) => [d.cameraId, d.sinceMs]));
    for (const [cameraId, sinceMs] of full) {
      if (this.#diskFullRaised.has(cameraId)) continue;
      this.#diskFullRaised.add(cameraId);
      this.#deps.log.error({ event: 'alert_disk_full', cameraId, sinceMs }, `the recorder's disk is full: this camera is not recorded. Free space where ${this.#deps.recorder.spoolDir} is, or raise the disk quota`);
    }
    for (const cameraId of [...this.#diskFullRaised]) {
      if (full.has(cameraId)) continue;
      this.#diskFullRaised.delete(cameraId);
      this.#deps.log.info({ event: 'alert_disk_full_cleared', cameraId }, 'the spool takes writes again: the camera is recorded (or went offline)');
    }
  }

  #workersCheck(): CheckResult {
    const workers = this.#deps.sfu.workers;
    const down = workers.filter((w) => w.worker.died || w.worker.closed).length;
    if (down === 0) return { ok: true };
    return { ok: false, message: `${down} of ${workers.length} media workers are down and restarting; live video on them is interrupted. If this persists, see the log (event worker_died) and restart the service.` };
  }

  #s3Check(): Promise<CheckResult> {
    const cached = this.#s3;
    if (cached && Date.now() - cached.atMs < this.#o.s3CacheMs) return Promise.resolve(cached.result);
    this.#s3Probe ??= this.#probeS3().then(({ result, error }) => {
      if (!this.#s3 || this.#s3.result.ok !== result.ok) {
        if (result.ok) this.#deps.log.info({ event: 's3_reachable' }, 'object storage answers');
        else this.#deps.log.warn({ event: 's3_unreachable', err: error === undefined ? undefined : { message: (error as Error).message, code: (error as { code?: unknown }).code } }, result.message);
      }
      this.#s3 = { atMs: Date.now(), result };
      this.#s3Probe = undefined;
      return result;
    });
    return this.#s3Probe;
  }

  async #probeS3(): Promise<{ result: CheckResult; error?: unknown }> {
    const probe = (async () => {
      for await (const object of this.#deps.recorder.store.list(S3_PROBE_PREFIX)) {
        void object;
        break;
      }
      return { result: { ok: true } };
    })().catch((error: unknown) => ({ result: { ok: false, message: s3Message(error) }, error }));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<{ result: CheckResult }>((resolve) => {
      timer = setTimeout(
        () => resolve({ result: { ok: false, message: `object storage did not answer within ${this.#o.s3TimeoutMs / 1000} s; recordings wait on the spool. Check the S3 endpoint and the network.` } }),
        this.#o.s3TimeoutMs,
      );
    });
    try {
      return await Promise.race([probe, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #diskFreeBytes(): Promise<number | undefined> {
    try {
      const s = await fs.statfs(this.#deps.config.dataDir);
      return s.bavail * s.bsize;
    } catch {
      return undefined;
    }
  }

  async #diskCheck(): Promise<CheckResult> {
    const free = await this.#diskFreeBytes();
    const min = this.#deps.config.monitoring.minFreeDiskBytes;
    if (free === undefined) return { ok: false, message: 'the data folder cannot be read; check that it exists and the service may use it.' };
    if (free < min) return { ok: false, message: `${mib(free)} MiB free in the data folder, below ${mib(min)} MiB: free space or grow the disk before the spool cannot be written.` };
    return { ok: true };
  }

  async #spoolCheck(): Promise<CheckResult> {
    const full = this.#deps.recorder.diskFull;
    if (full.length > 0) {
      return {
        ok: false,
        message: `the recorder's disk is full: ${full.length} camera(s) not recorded since ${new Date(Math.min(...full.map((f) => f.sinceMs))).toISOString()}. Free space on the file system of the spool (MIMAMORI_DATA_DIR/spool) or raise the service's disk quota; recording resumes by itself.`,
      };
    }
    const stalled = this.#deps.recorder.spoolStalled;
    if (stalled.length > 0) {
      return {
        ok: false,
        message: `the recorder's disk does not keep up: ${stalled.length} camera(s) dropping recording since ${new Date(Math.min(...stalled.map((f) => f.sinceMs))).toISOString()} (10 s of it waited in memory for the disk). Check the disk of the spool (MIMAMORI_DATA_DIR/spool): a failing drive or a hung network mount; recording resumes by itself when it answers.`,
      };
    }
    const quota = this.#deps.config.recording.spoolQuotaBytes;
    const bytes = (await this.#deps.recorder.status()).spoolBytes;
    const droppedRecently = this.#lastDropMs !== undefined && Date.now() - this.#lastDropMs < this.#o.dropWindowMs;
    if (bytes >= quota * this.#o.spoolFailRatio || droppedRecently) {
      return {
        ok: false,
        message: `the spool holds ${Math.round((bytes / quota) * 100)} % of its quota${droppedRecently ? ' and recordings were dropped' : ''}: segments are not reaching object storage. Fix S3 (see the s3 check) or raise MIMAMORI_SPOOL_QUOTA_MB.`,
      };
    }
    return { ok: true };
  }

  /** The embedded TURN relay, when this service runs one (an external or no relay always passes). */
  #databaseCheck(): CheckResult {
    const health = this.#deps.store.health();
    if (health.up) return { ok: true };
    return {
      ok: false,
      message: 'the metadata database is unreachable: changes and sign-ins fail (503 database_unavailable) until it is back; signed-in users, live video and recording go on',
    };
  }

  #drainCheck(): CheckResult {
    if (!this.#deps.cluster?.draining) return { ok: true };
    return { ok: false, message: 'this node is draining (leaving on purpose): the load balancer sends nothing new here while its cameras move to other nodes' };
  }

  #turnCheck(): CheckResult {
    if (this.#deps.turn.embeddedRunning !== false) return { ok: true };
    return { ok: false, message: 'the embedded TURN relay (coturn) is not running; it is restarted by itself (see the coturn lines in the log). Meanwhile viewers on networks that block UDP cannot connect.' };
  }

  #clockCheck(): CheckResult {
    if (Date.now() >= CLOCK_NOT_BEFORE_MS) return { ok: true };
    return { ok: false, message: 'the system clock is earlier than this release; set the time (NTP): tokens, recordings and S3 signatures depend on it.' };
  }

  /** Recorder status and disk space, read once per scrape and shared by the metrics. */
  #scrape(): Promise<Snapshot> {
    const now = Date.now();
    if (this.#snapshot && now - this.#snapshot.atMs < SNAPSHOT_MS) return this.#snapshot.value;
    const value = Promise.all([this.#deps.recorder.status(), this.#diskFreeBytes()]).then(([status, diskFreeBytes]) => ({ status, diskFreeBytes }));
    this.#snapshot = { atMs: now, value };
    // A failed read is not kept for the next scrape.
    value.catch(() => {
      if (this.#snapshot?.value === value) this.#snapshot = undefined;
    });
    return value;
  }

  #registerMetrics(): void {
    const registers = [this.registry];
    const { sfu, recorder, hub, store, config } = this.#deps;
    collectDefaultMetrics({ register: this.registry });
    const rooms = () => [...sfu.rooms.values()].filter((r) => !r.closed);

    const gauge = (name: string, help: string, read: () => number | undefined | Promise<number | undefined>) => {
      const g: Gauge = new Gauge({
        name,
        help,
        registers,
        async collect() {
          const value = await read();
          if (value === undefined) g.reset();
          else g.set(value);
        },
      });
    };
    const counter = (name: string, help: string, read: () => number | Promise<number>) => {
      const c: Counter = new Counter({
        name,
        help,
        registers,
        async collect() {
          const value = await read();
          c.reset();
          c.inc(value);
        },
      });
    };
    const upload = async () => (await this.#scrape()).status.upload;

    gauge('mimamori_cameras', 'Cameras configured.', () => store.cameras.length);
    gauge('mimamori_cameras_online', 'Cameras publishing media now.', () => rooms().filter((r) => r.live).length);
    gauge('mimamori_cameras_recording', 'Cameras with a recording session writing a segment now.', () => recorder.recordingCameraIds.size);
    const notRecording = () => this.alerts().filter((a) => a.kind === 'not_recording');
    gauge('mimamori_cameras_online_not_recording', 'Live cameras with recording enabled and nothing recording them for over the alert delay.', () => notRecording().length);
    gauge('mimamori_cameras_spool_stalled', 'Cameras whose spool writes fell 10 s behind (a stalled disk): what comes is dropped until it catches up.', () => recorder.spoolStalled.length);
    gauge('mimamori_cameras_disk_full', 'Cameras whose spool writes fail because the disk is full or over quota (alert); 0 again once a write succeeds.', () => recorder.diskFull.length);
    const perCamera: Gauge<'camera_id'> = new Gauge({
      name: 'mimamori_camera_online_not_recording',
      help: 'Per live camera with recording enabled: 1 when nothing has recorded it for over the alert delay (alert), else 0.',
      labelNames: ['camera_id'],
      registers,
      collect: () => {
        perCamera.reset();
        const alerting = new Set(notRecording().map((a) => a.cameraId));
        for (const room of rooms()) {
          if (!room.live) continue;
          const camera = store.camera(room.cameraId);
          if (!camera || !(camera.recording?.enabled ?? true)) continue;
          perCamera.set({ camera_id: room.cameraId }, alerting.has(room.cameraId) ? 1 : 0);
        }
      },
    });

    gauge(
      'mimamori_recording_upload_lag_seconds',
      'How far S3 is behind the recording: the age of the oldest segment not in S3 yet (waiting, or retried after a failed upload), or the last upload\'s delay after its segment ended.',
      async () => this.#uploadLagMs(await upload()) / 1000,
    );
    gauge('mimamori_spool_bytes', 'Bytes on the local spool (being written or waiting for upload).', async () => (await this.#scrape()).status.spoolBytes);
    gauge('mimamori_spool_quota_bytes', 'Spool quota (MIMAMORI_SPOOL_QUOTA_MB); past it the oldest waiting segments are dropped.', () => config.recording.spoolQuotaBytes);
    gauge('mimamori_upload_queue', 'Segments waiting for or in upload.', async () => (await upload()).queued);
    gauge('mimamori_upload_queue_bytes', 'Bytes of the segments waiting for or in upload.', async () => (await upload()).queuedBytes);
    counter('mimamori_uploads_total', 'Segments uploaded to S3.', async () => (await upload()).uploaded);
    counter('mimamori_upload_errors_total', 'Failed segment upload attempts (each is retried).', async () => (await upload()).errors);
    counter('mimamori_segments_dropped_total', 'Segments dropped from the spool over its quota before reaching S3.', async () => (await upload()).droppedSegments);
    counter('mimamori_fragments_total', 'Fragments made durable on the spool.', async () => (await this.#scrape()).status.fragments);
    counter('mimamori_recording_gaps_total', 'Holes recorded between segments (camera offline, producer change, …).', async () => (await this.#scrape()).status.gaps);
    // Cameras that changed node: moved by a drain (make-before-break, or their session ended so
    // that they reconnect elsewhere), or arrived here after their node failed (a node-failed gap).
    const moves: Counter<'reason'> = new Counter({
      name: 'mimamori_camera_moves_total',
      help: 'Cameras moved between nodes, by reason: drain (handed over without a gap; counted by the node that took them), drain_ended (session ended to reconnect elsewhere; counted by the node drained), failover (arrived after their node failed; counted by the node that took them).',
      labelNames: ['reason'],
      registers,
      collect: () => {
        moves.reset();
        moves.inc({ reason: 'drain_ended' }, this.#deps.cluster?.drainEnded ?? 0);
        moves.inc({ reason: 'drain' }, recorder.metrics.handovers);
        moves.inc({ reason: 'failover' }, recorder.metrics.gapCount.get('node-failed') ?? 0);
      },
    });
    const gapSeconds: Counter<'reason'> = new Counter({
      name: 'mimamori_recording_gap_seconds_total',
      help: 'Seconds of holes written into recordings, by reason (camera-offline, node-failed, producer-changed, …).',
      labelNames: ['reason'],
      registers,
      collect: () => {
        gapSeconds.reset();
        for (const [reason, s] of recorder.metrics.gapSeconds) gapSeconds.inc({ reason }, s);
      },
    });
    counter('mimamori_spool_write_errors_total', 'Failed writes to the spool (disk full?).', async () => (await this.#scrape()).status.writeErrors);
    const durable: Gauge<'quantile'> = new Gauge({
      name: 'mimamori_fragment_durable_seconds',
      help: 'Time from a fragment closing to its fsync on the spool, over the last 20,000 fragments.',
      labelNames: ['quantile'],
      registers,
      collect: async () => {
        const { status } = await this.#scrape();
        durable.reset();
        if (status.fragmentDurableMsP50 !== undefined) durable.set({ quantile: '0.5' }, status.fragmentDurableMsP50 / 1000);
        if (status.fragmentDurableMsP99 !== undefined) durable.set({ quantile: '0.99' }, status.fragmentDurableMsP99 / 1000);
      },
    });

    gauge('mimamori_viewers', 'Viewers of live video (consumers\' transports) over every camera.', () => rooms().reduce((n, r) => n + r.viewerCount, 0));
    gauge('mimamori_producers', 'Media tracks published by cameras.', () => rooms().reduce((n, r) => n + r.producers.size, 0));
    gauge('mimamori_routers', 'mediasoup routers.', () => rooms().reduce((n, r) => n + r.routerCount, 0));
    gauge('mimamori_sfu_workers', 'mediasoup workers configured.', () => sfu.workers.length);
    gauge('mimamori_sfu_workers_alive', 'mediasoup workers running.', () => sfu.workers.filter((w) => !w.worker.died && !w.worker.closed).length);
    gauge('mimamori_socket_connections', 'Signaling connections: socket.io clients and WHIP/WHEP sessions.', () => hub.size);
    gauge('mimamori_disk_free_bytes', 'Free bytes on the data folder\'s file system.', async () => (await this.#scrape()).diskFreeBytes);
    gauge('mimamori_backup_last_success_timestamp_seconds', 'When the newest metadata backup reached S3 (Unix seconds); 0 until one is known.', () => {
      const ms = this.#backups?.lastSuccessMs;
      return ms === undefined ? undefined : ms / 1000;
    });
    gauge('mimamori_turn_up', '1 when the embedded TURN relay runs, 0 when it should and does not; absent when this service runs none.', () => {
      const running = this.#deps.turn.embeddedRunning;
      return running === undefined ? undefined : running ? 1 : 0;
    });
    gauge('mimamori_database_up', '1 when the metadata store can take changes (the files store always; PostgreSQL when it answered within the last second or so), else 0.', () => (this.#deps.store.health().up ? 1 : 0));
    gauge('mimamori_s3_up', '1 when object storage answered the last readiness probe (at most a few seconds old), else 0.', async () => ((await this.#s3Check()).ok ? 1 : 0));
  }
}

function mib(bytes: number): number {
  return Math.floor(bytes / (1024 * 1024));
}

/** What the S3 probe's failure means for an operator; no endpoint, bucket or credentials. */
function s3Message(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? (error as { code: unknown }).code : undefined;
  if (code === 'denied') return 'object storage refused the request: check the S3 credentials and the bucket policy.';
  if (code === 'unavailable') return 'object storage is unreachable; recordings wait on the spool. Check the S3 endpoint and the network.';
  return 'object storage answered with an error (does the bucket exist?); recordings wait on the spool. See the log (event s3_unreachable).';
}
