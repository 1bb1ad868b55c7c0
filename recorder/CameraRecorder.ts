// Continuous recording of one camera: one logical recording across reconnects, producer changes
// and restarts. Starts a RecordingSession whenever the camera's room has producers (after a short
// settle, since a camera adds audio and video one after the other), ends it when they go, and
// records every hole between segments as a gap with its reason. A producer change is
// make-before-break: the new session starts consuming at once and the old one keeps recording
// until the new one has its first keyframe, so adding a track loses nothing.

import type { CameraRoom } from '../sfu/index.ts';
import type { GapReason } from './RecordingIndex.ts';
import { isDiskFull, RecordingSession } from './RecordingSession.ts';
import type { RecorderContext } from './context.ts';

/** Wait after a producer change before (re)starting, so audio and video added together land in one session. */
const SETTLE_MS = 30;
/** The old session stops at the latest this long after its successor started without a keyframe. */
const HANDOVER_MAX_MS = 5000;
/** A hole shorter than this between segments is frame-duration rounding, not a gap. */
/** By then a node that died is known dead (silent 3 s, heartbeats each second). */
const NODE_DEATH_KNOWN_MS = 4500;
const GAP_MIN_MS = 100;

export class CameraRecorder {
  readonly cameraId: string;
  readonly #room: CameraRoom;
  readonly #ctx: RecorderContext;
  #session: RecordingSession | undefined;
  /** Serialises session start/stop. */
  #chain: Promise<void> = Promise.resolve();
  /**
   * Sessions newer ones replaced: each records until the newest session's first keyframe (then
   * ends exactly there) or, without one, for HANDOVER_MAX_MS. All wait for the newest: when
   * changes come in quick succession, a session in between may be replaced before it records.
   */
  readonly #outgoing = new Map<RecordingSession, NodeJS.Timeout>();
  #settle: NodeJS.Timeout | undefined;
  #lastEndMs: number | undefined;
  #lastDurableMs: number | undefined;
  /** The camera came from another node: whether that node was asked to record up to our first frame. */
  #handover: { fromNode: string; epoch: number | undefined; asked?: Promise<boolean> } | undefined;
  #nextGapReason: GapReason = 'recorder-down';
  /** Since when this camera's spool writes fail for lack of space (readiness, alert); cleared by a write that succeeds. */
  #diskFullSinceMs: number | undefined;
  #stalledSinceMs: number | undefined;
  #closed = false;
  readonly #detach: () => void;

  static async create(room: CameraRoom, ctx: RecorderContext): Promise<CameraRecorder> {
    const recorder = new CameraRecorder(room, ctx);
    recorder.#lastEndMs = await ctx.index.latestEnd(room.cameraId).catch(() => undefined);
    if (room.live) recorder.#schedule();
    return recorder;
  }

  private constructor(room: CameraRoom, ctx: RecorderContext) {
    this.cameraId = room.cameraId;
    this.#room = room;
    this.#ctx = ctx;
    const onChange = () => this.#schedule();
    const onOffline = () => {
      this.#nextGapReason = 'camera-offline';
      this.#run(() => this.#stopSession());
    };
    room.on('live', onChange);
    room.on('newProducers', onChange);
    room.on('offline', onOffline);
    this.#detach = () => {
      room.off('live', onChange);
      room.off('newProducers', onChange);
      room.off('offline', onOffline);
    };
  }

  get session(): RecordingSession | undefined {
    return this.#session;
  }
  get writingBytes(): number {
    return this.#session?.writingBytes ?? 0;
  }
  /** Wall time a fragment of this camera last reached the spool (monitoring). */
  get lastDurableMs(): number | undefined {
    return this.#lastDurableMs;
  }

  get diskFullSinceMs(): number | undefined {
    return this.#diskFullSinceMs;
  }

  /** Since when the spool has not kept up with this camera's writes (a stalled disk), if it has not. */
  get spoolStalledSinceMs(): number | undefined {
    return this.#stalledSinceMs;
  }

  /**
   * The camera moved to another node on request and that node records from `startMs` (its first
   * keyframe): this node's recording ends exactly there. False when nothing records here.
   */
  handover(startMs: number): boolean {
    const session = this.#session;
    if (!session?.recording) return false;
    session.endAt(startMs);
    return true;
  }

  /** Stops recording (camera off, room closed, shutdown); resolves when the last segment is on disk. */
  async close(): Promise<void> {
    if (this.#closed) return this.#chain;
    this.#closed = true;
    clearTimeout(this.#settle);
    this.#detach();
    this.#run(() => this.#stopSession());
    await this.#chain;
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#settle);
    this.#settle = setTimeout(() => {
      this.#run(async () => {
        const previous = this.#session;
        // Told again of what it records already (the room's events and the start overlap).
        if (previous && !previous.closed && sameProducers(previous.producerIds, this.#room)) return;
        if (previous) this.#nextGapReason = 'producer-changed';
        await this.#startSession();
        const current = this.#session;
        if (!previous || !current || current === previous) return; // nothing to start with: keep what records
        this.#outgoing.set(previous, setTimeout(() => this.#retireOutgoing(previous), HANDOVER_MAX_MS));
        current.once('segmentStarted', (startMs) => {
          if (this.#session !== current) return; // a newer one took over: its keyframe counts
          for (const session of [...this.#outgoing.keys()]) this.#retireOutgoing(session, startMs);
        });
      });
    }, SETTLE_MS);
  }

  /** A replaced session ends: at `startMs` (its successor's first keyframe), else where it is. */
  #retireOutgoing(session: RecordingSession, startMs?: number): void {
    clearTimeout(this.#outgoing.get(session));
    this.#outgoing.delete(session);
    if (startMs !== undefined) session.endAt(startMs);
    this.#run(() => this.#retire(session));
  }

  /**
   * Tells the node the camera came from where this node's recording starts (a planned move).
   * That node may not have heard of the new epoch yet: a few tries, 300 ms apart. False when it
   * did not take it (a failover: that node is dead, or the camera was not asked to move).
   */
  async #askHandover(cluster: NonNullable<RecorderContext['cluster']>, fromNode: string, epoch: number, startMs: number): Promise<boolean> {
    for (let attempt = 0; attempt < 6; attempt++) {
      if (await cluster.handover(fromNode, this.cameraId, epoch, startMs).catch(() => false)) {
        this.#ctx.metrics.handovers += 1;
        return true;
      }
      if (cluster.wasDeadSince(fromNode, Date.now() - 1000)) return false;
      await new Promise((r) => setTimeout(r, 300));
    }
    return false;
  }

  #run(step: () => Promise<void>): void {
    this.#chain = this.#chain.then(step).catch((error: unknown) => {
      this.#ctx.log.error({ event: 'recording_failed', cameraId: this.cameraId, err: error }, 'recording session failed; retrying when the camera changes');
    });
  }

  async #startSession(): Promise<void> {
    // A camera relayed in from the node that holds it is recorded there, not here.
    if (this.#closed || this.#room.closed || !this.#room.live || this.#room.relayed) return;
    const cluster = this.#ctx.cluster;
    if (cluster) {
      // The camera may have been recorded by another node since: the gap starts where any node stopped.
      const latest = await this.#ctx.index.latestEnd(this.cameraId).catch(() => undefined);
      if (latest !== undefined && latest > (this.#lastEndMs ?? -Infinity)) this.#lastEndMs = latest;
    }
    // Came from another node: whether that node died is known only seconds later (the camera may
    // reconnect faster than a death is noticed), so the hole is written down then.
    const fromNode = this.#session?.recording ? undefined : cluster?.arrival(this.cameraId)?.fromNode;
    const holder = cluster?.holder(this.cameraId);
    // One handover per arrival: the first segment of whichever session records first after it. A
    // camera page's second producer (audio after video) starts another session of the same arrival.
    const sameArrival = this.#handover?.fromNode === fromNode && this.#handover?.epoch === holder?.epoch;
    if (fromNode !== undefined && !sameArrival) this.#handover = { fromNode, epoch: holder?.epoch };
    const session = await RecordingSession.create({
      cameraId: this.cameraId,
      router: this.#room.originRouter,
      producers: this.#room.ownProducers,
      spoolDir: this.#ctx.spool.cameraDir(this.cameraId),
      dataKey: await this.#ctx.keys.dataKey(this.cameraId),
      fragmentMs: this.#ctx.settings.fragmentMs,
      segmentSeconds: this.#ctx.settings.segmentSeconds,
      firstGapReason: this.#nextGapReason,
      pending: this.#ctx.pending,
      ...(holder ? { holder } : {}),
      // After a stop (not a handover), a server clock stepped back must not place it before what is recorded.
      ...(!this.#session?.recording && this.#lastEndMs !== undefined ? { notBeforeMs: this.#lastEndMs } : {}),
    });
    const previous = this.#session;
    this.#session = session;
    const arrival = this.#handover;
    /** The disk-full gap, written when the segment that ends it has a fragment on the spool. */
    let resumeGap: (() => void) | undefined;
    session.on('segmentStarted', (startMs, reason) => {
      // A planned move from another node (a drain): that node records up to this very moment.
      if (arrival && cluster && !arrival.asked && holder) arrival.asked = this.#askHandover(cluster, arrival.fromNode, holder.epoch, startMs);
      // During a handover the previous session still records up to this moment: no hole.
      if (previous?.recording && this.#lastEndMs !== undefined) return;
      if (this.#lastEndMs !== undefined && startMs - this.#lastEndMs > GAP_MIN_MS) {
        const fromMs = this.#lastEndMs;
        const write = (why: GapReason) => {
          const m = this.#ctx.metrics;
          m.gaps += 1;
          m.gapSeconds.set(why, (m.gapSeconds.get(why) ?? 0) + (startMs - fromMs) / 1000);
          m.gapCount.set(why, (m.gapCount.get(why) ?? 0) + 1);
          void this.#ctx.index
            .addGap(this.cameraId, { fromMs, toMs: startMs, reason: why })
            .then(() => this.#ctx.gapRecorded?.(this.cameraId, { fromMs, toMs: startMs, reason: why }))
            .catch((err: unknown) => this.#ctx.log.error({ event: 'index_write_failed', cameraId: this.cameraId, err }, 'could not record a gap in the index'));
        };
        // Segments started while the disk stays full fail too: only the one that gets written ends the hole.
        if (reason === 'disk-full') resumeGap = () => write(reason);
        else if (fromNode === undefined || !cluster) write(reason);
        // Dead at some moment since the camera left it (a node cut off may be back by now): node-failed.
        // Handed over: the other node recorded up to here, so there is no hole to write down.
        else {
          const handedOver = arrival?.asked ?? Promise.resolve(false);
          setTimeout(() => void handedOver.then((done) => done || write(cluster.wasDeadSince(fromNode, fromMs) ? 'node-failed' : 'camera-offline')), NODE_DEATH_KNOWN_MS).unref();
        }
      }
    });
    session.on('segmentEnded', (endMs) => {
      this.#lastEndMs = endMs;
    });
    session.on('segmentFinished', (segment) => {
      this.#ctx.uploader.enqueue({ cameraId: this.cameraId, file: segment.file, key: segment.entry.key, bytes: segment.entry.bytes, entry: segment.entry, leftover: false });
    });
    session.on('fragmentDurable', (latencyMs, bytes) => {
      this.#lastDurableMs = Date.now();
      if (this.#diskFullSinceMs !== undefined) {
        this.#ctx.log.info({ event: 'spool_writable', cameraId: this.cameraId, sinceMs: this.#diskFullSinceMs }, 'the spool takes writes again; recording resumed');
        this.#diskFullSinceMs = undefined;
      }
      resumeGap?.();
      resumeGap = undefined;
      this.#ctx.metrics.fragmentDurable(latencyMs, bytes);
    });
    session.on('writeError', (err, durableEndMs) => {
      this.#ctx.metrics.writeErrors += 1;
      // The hole starts where the spool's copy ends, not where the cut segment was planned to.
      if (this.#session === session && durableEndMs !== undefined) this.#lastEndMs = durableEndMs;
      if (!isDiskFull(err)) {
        this.#ctx.log.error({ event: 'spool_write_failed', cameraId: this.cameraId, err }, 'could not write the recording to the spool; recording resumes at the next keyframe');
      } else if (this.#diskFullSinceMs === undefined) {
        this.#diskFullSinceMs = Date.now();
        this.#ctx.log.error(
          { event: 'spool_write_failed', cameraId: this.cameraId, err: { message: err.message, code: (err as NodeJS.ErrnoException).code } },
          `the spool's disk is full: not recording; free space where ${this.#ctx.spool.dir} is (or raise the disk quota); recording resumes by itself`,
        );
      }
    });
    session.on('spoolBehind', (behind, queuedMs) => {
      if (this.#session === session) this.#stalledSinceMs = behind ? Date.now() : undefined;
      if (behind) {
        this.#ctx.log.error(
          { event: 'spool_stalled', cameraId: this.cameraId, queuedMs },
          `the spool's disk has not taken this camera's last ${Math.round(queuedMs / 1000)} s of recording: dropping what comes until it does (a disk-slow gap); check the disk where ${this.#ctx.spool.dir} is`,
        );
      } else {
        this.#ctx.log.info({ event: 'spool_caught_up', cameraId: this.cameraId, queuedMs }, 'the spool takes writes again; recording resumes at the next keyframe');
      }
    });
    this.#ctx.log.info({ event: 'recording_started', cameraId: this.cameraId, session: session.id }, 'recording');
  }

  async #stopSession(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    this.#diskFullSinceMs = undefined; // nothing writes now
    this.#stalledSinceMs = undefined;
    for (const old of [...this.#outgoing.keys()]) this.#retireOutgoing(old);
    if (session) await this.#retire(session);
  }

  async #retire(session: RecordingSession): Promise<void> {
    if (session.closed) return;
    await session.close();
    this.#ctx.metrics.absorb(session.stats);
    this.#ctx.log.info({ event: 'recording_stopped', cameraId: this.cameraId, session: session.id, stats: session.stats }, 'recording stopped');
  }
}

/** The session records exactly the room's open producers. */
function sameProducers(recorded: string[], room: CameraRoom): boolean {
  const open = room.ownProducers.filter((p) => !p.closed).map((p) => p.id);
  return open.length === recorded.length && open.every((id) => recorded.includes(id));
}
