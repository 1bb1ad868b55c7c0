// One recording session: the recorder consuming one set of a camera's producers, from the first
// keyframe until the producers change or go away. It wires mediasoup consumers (and the camera's
// sender reports) through TrackIngest to the Segmenter, which decides every cut, and runs the
// Segmenter's results against the spool one after another: a SegmentWriter per segment, each
// fragment sealed and made durable as it closes.

import { SafeEmitter } from '../errors/index.ts';
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { ntpToMs } from './clock.ts';
import type { SegmentName } from './objects.ts';
import type { GapReason } from './RecordingIndex.ts';
import type { Holder, SegmentEndReason } from './records.ts';
import type { PendingSegments } from './PendingSegments.ts';
import { SegmentWriter, type FinishedSegment } from './SegmentWriter.ts';
import { Segmenter, type FragmentPlan, type SegmentPlan, type TimedFrame } from './Segmenter.ts';
import { TrackIngest, type TrackCodec } from './TrackIngest.ts';

const KEYFRAME_REQUEST_INTERVAL_MS = 1000;
/**
 * Fragments waiting for the spool hold at most this much of the camera's media in memory (sized to
 * its bitrate by being a time)… A disk this far behind is stalled, not busy; past it, fragments are
 * dropped with a `disk-slow` gap instead of growing the heap until the whole node dies.
 */
const WRITE_QUEUE_MAX_MS = 10_000;
/** …and at most this many bytes whatever the bitrate. */
const WRITE_QUEUE_MAX_BYTES = 64 * 1024 * 1024;

export interface RecordingSessionOptions {
  cameraId: string;
  router: types.Router;
  producers: readonly types.Producer[];
  spoolDir: string;
  dataKey: Uint8Array;
  fragmentMs: number;
  segmentSeconds: number;
  /** The first segment's gap reason (why the recording was not running just before). */
  firstGapReason: GapReason;
  /** Told of every segment on the spool until it is finished, so playback can reach the live edge. */
  pending?: PendingSegments;
  /** This node and the camera's epoch (several nodes), written into every segment. */
  holder?: Holder;
  /** Where the camera's recording last ended, unless a predecessor still records (see Segmenter). */
  notBeforeMs?: number;
}

export interface RecordingSessionEvents {
  /** A segment started: `gapReason` says why there was nothing just before it (if anything). */
  segmentStarted: [startMs: number, gapReason: GapReason];
  /** The open segment ended at `endMs` (emitted at once; `segmentFinished` follows when on disk). */
  segmentEnded: [endMs: number];
  segmentFinished: [segment: FinishedSegment];
  /** A fragment became durable on the spool, `latencyMs` after its last frame's time on the wall clock. */
  fragmentDurable: [latencyMs: number, bytes: number];
  /**
   * Spool write failed (disk full, …): the segment was cut (its durable fragments finished and
   * uploaded); recording resumes at the next keyframe. `durableEndMs`: where what is on the spool
   * ends (the hole starts there).
   */
  writeError: [error: Error, durableEndMs: number | undefined];
  /**
   * The spool's writes fell `queuedMs` of media behind (a stalled disk): what comes now is dropped
   * until it catches up (`behind` false again); the hole is recorded as `disk-slow`.
   */
  spoolBehind: [behind: boolean, queuedMs: number];
}

export class RecordingSession extends SafeEmitter<RecordingSessionEvents> {
  readonly id: string;
  readonly cameraId: string;
  readonly #o: RecordingSessionOptions;
  readonly #transport: types.DirectTransport;
  readonly #video: { ingest: TrackIngest; consumer: types.Consumer } | undefined;
  readonly #audio: { ingest: TrackIngest; consumer: types.Consumer } | undefined;
  readonly #segmenter: Segmenter;
  readonly #timer: NodeJS.Timeout;
  #io: Promise<void> = Promise.resolve();
  #writer: SegmentWriter | undefined;
  /** Segments whose spool writes failed: their remaining writes are skipped. */
  readonly #failed = new WeakSet<SegmentPlan>();
  /** End of the last fragment made durable (or the first segment's start): where a hole would begin. */
  #durableEndMs: number | undefined;
  /** The last spool write failed for lack of space: the next segment's gap is `disk-full`. */
  #diskFull = false;
  /** WRITE_QUEUE_MAX_MS, or three fragments when they are longer (MIMAMORI_FRAGMENT_MS goes up to 10 s). */
  readonly #queueMaxMs: number;
  /** Fragments queued for the spool and not yet written (see WRITE_QUEUE_MAX_MS). */
  readonly #queued = { ms: 0, bytes: 0 };
  /** The spool fell behind: nothing new is queued until half the queue is written. */
  #behind = false;
  /** Segments given up while the spool was behind: their later results from the segmenter are ignored. */
  readonly #dropped = new WeakSet<SegmentPlan>();
  /** The end of the last fragment queued in the open segment (where a hole would begin). */
  #queuedEndMs: number | undefined;
  /** The next segment follows a `disk-slow` hole. */
  #slowGap = false;
  /** Cut segments whose trailer did not fit either: finished once a write succeeds again. */
  readonly #unsalvaged: SegmentWriter[] = [];
  #lastKeyframeRequestMs = 0;
  #closed = false;
  readonly #detach: (() => void)[] = [];
  #ticks = 0;

  static async create(o: RecordingSessionOptions): Promise<RecordingSession> {
    const transport = await o.router.createDirectTransport({ maxMessageSize: 262_144 });
    try {
      const consumed: { ingest: TrackIngest; consumer: types.Consumer }[] = [];
      for (const producer of o.producers) {
        if (producer.closed) continue;
        // Paused until its 'rtp' listener is in place.
        const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: o.router.rtpCapabilities, paused: true });
        const codec = consumer.rtpParameters.codecs[0];
        const ssrc = consumer.rtpParameters.encodings?.[0]?.ssrc;
        const name = codec?.mimeType.toLowerCase();
        const kind: TrackCodec | undefined = name === 'video/h264' ? 'h264' : name === 'video/vp8' ? 'vp8' : name === 'audio/opus' ? 'opus' : undefined;
        if (!codec || ssrc === undefined || !kind) {
          consumer.close();
          continue;
        }
        consumed.push({ ingest: new TrackIngest({ codec: kind, clockRate: codec.clockRate, ssrc }), consumer });
      }
      const session = new RecordingSession(o, transport, consumed.find((c) => c.ingest.kind === 'video'), consumed.find((c) => c.ingest.kind === 'audio'));
      await Promise.all(consumed.map((c) => c.consumer.resume()));
      return session;
    } catch (error) {
      transport.close();
      throw error;
    }
  }

  private constructor(
    o: RecordingSessionOptions,
    transport: types.DirectTransport,
    video: { ingest: TrackIngest; consumer: types.Consumer } | undefined,
    audio: { ingest: TrackIngest; consumer: types.Consumer } | undefined,
  ) {
    super();
    this.id = crypto.randomBytes(5).toString('hex');
    this.cameraId = o.cameraId;
    this.#o = o;
    this.#queueMaxMs = Math.max(WRITE_QUEUE_MAX_MS, 3 * o.fragmentMs);
    this.#transport = transport;
    this.#video = video;
    this.#audio = audio;
    this.#segmenter = new Segmenter(
      { hasVideo: video !== undefined, hasAudio: audio !== undefined, fragmentMs: o.fragmentMs, segmentSeconds: o.segmentSeconds, firstGapReason: o.firstGapReason, nowMs: performance.now(), ...(o.notBeforeMs !== undefined ? { notBeforeMs: o.notBeforeMs } : {}) },
      {
        segmentStarted: (segment) => this.#onSegmentStarted(segment),
        fragment: (segment, fragment) => this.#onFragment(segment, fragment),
        segmentEnded: (segment, endMs, reason) => this.#onSegmentEnded(segment, endMs, reason),
        segmentDiscarded: (segment) => this.#onSegmentDiscarded(segment),
        keyframeWanted: (urgent) => this.#requestKeyframe(urgent),
      },
    );
    for (const track of [video, audio]) {
      if (!track) continue;
      track.consumer.on('rtp', (bytes) => this.#onRtp(track.ingest, bytes));
      track.consumer.on('producerresume', () => this.#requestKeyframe(true));
    }
    // The camera's sender reports (seen on the producer) line audio up with video. A simple
    // consumer keeps the producer's RTP times; a simulcast one rewrites them, so it gets none.
    for (const track of [video, audio]) {
      if (!track || track.consumer.type !== 'simple') continue;
      const producer = o.producers.find((p) => p.id === track.consumer.producerId);
      if (!producer) continue;
      const onTrace = (trace: types.ProducerTraceEventData) => {
        const info = trace.info as { ntpSec?: number; ntpFrac?: number; rtpTs?: number } | undefined;
        if (trace.type !== 'sr' || this.#closed || info?.rtpTs === undefined || info.ntpSec === undefined) return;
        track.ingest.onSenderReport(info.rtpTs, ntpToMs(info.ntpSec, info.ntpFrac ?? 0));
      };
      // The room turned the producer's 'sr' traces on (CameraRoom.#trace); sessions come and go
      // per producer change, so each drops its listener.
      producer.on('trace', onTrace);
      this.#detach.push(() => producer.off('trace', onTrace));
    }
    this.#timer = setInterval(() => this.#tick(), 100);
    this.#requestKeyframe(true);
  }

  /** The producers it was made to record (a producer change makes a new session). */
  get producerIds(): string[] {
    return this.#o.producers.map((p) => p.id);
  }
  get hasVideo(): boolean {
    return this.#video !== undefined;
  }
  get recording(): boolean {
    return this.#segmenter.recording;
  }
  get closed(): boolean {
    return this.#closed;
  }
  get stats(): { video?: TrackIngest['stats']; audio?: TrackIngest['stats']; skippedFrames: number; audioSyncCorrections: number; clockRestarts: number; segments: number } {
    const s = this.#segmenter.stats;
    return {
      ...(this.#video ? { video: this.#video.ingest.stats } : {}),
      ...(this.#audio ? { audio: this.#audio.ingest.stats } : {}),
      skippedFrames: s.skippedFrames,
      audioSyncCorrections: s.audioSyncCorrections,
      clockRestarts: s.driftRestarts,
      segments: s.segments,
    };
  }
  /** Bytes written to the open segment so far (spool accounting). */
  get writingBytes(): number {
    return this.#writer?.bytes ?? 0;
  }

  /**
   * Frames from `wallMs` on are not recorded here: a successor session records them (a handover
   * after a producer change), so the two never overlap.
   */
  endAt(wallMs: number): void {
    this.#segmenter.endAt(wallMs);
  }

  /** Ends the session: the last frames are written, the segment finished. Resolves when on disk. */
  async close(): Promise<void> {
    if (this.#closed) return this.#io;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const track of [this.#video, this.#audio]) if (track) this.#deliver(track.ingest, track.ingest.flush());
    this.#segmenter.close();
    for (const untrace of this.#detach) untrace();
    this.#transport.close();
    await this.#io;
    for (const writer of this.#unsalvaged.splice(0)) await this.#salvage(writer);
  }

  #onRtp(ingest: TrackIngest, bytes: Buffer): void {
    if (this.#closed) return;
    this.#deliver(ingest, ingest.push(bytes, Date.now(), performance.now()));
  }

  #tick(): void {
    const now = performance.now();
    for (const track of [this.#video, this.#audio]) if (track) this.#deliver(track.ingest, track.ingest.poll(now));
    this.#segmenter.tick(now);
    if (this.#video?.ingest.needsKeyframe) this.#requestKeyframe(false);
    if (++this.#ticks % 5 === 0) this.#alignAudio();
  }

  /** Frames on their way: wall-clock times placed them; the segmenter's stall timer runs on a monotonic clock. */
  #deliver(ingest: TrackIngest, frames: TimedFrame[]): void {
    // A frame could not be completed: the P-frames after it are useless until the next keyframe.
    if (ingest.kind === 'video' && ingest.takeDroppedFrames()) this.#segmenter.framesLost();
    if (frames.length === 0) return;
    const now = performance.now();
    for (const timed of frames) {
      if (ingest.kind === 'video') this.#segmenter.video(timed, now);
      else this.#segmenter.audio(timed, now);
    }
  }

  /** Where audio sits against video by the camera's reports and by arrival (the segmenter decides). */
  #alignAudio(): void {
    const video = this.#video?.ingest;
    const audio = this.#audio?.ingest;
    const origin = this.#segmenter.origin;
    if (!video || !audio || !origin || !audio.clock.known || !video.clock.known) return;
    const byReports = video.capture.known && audio.capture.known ? audio.capture.ticksAt(video.capture.captureOf(origin.video0)) - origin.audio0 : undefined;
    const byArrival = audio.clock.ticksAt(video.clock.wallOf(origin.video0)) - origin.audio0;
    this.#segmenter.alignAudio(byReports === undefined ? { byArrival } : { byReports, byArrival });
  }

  #requestKeyframe(force: boolean): void {
    const now = Date.now();
    if (!this.#video || this.#closed) return;
    if (!force && now - this.#lastKeyframeRequestMs < KEYFRAME_REQUEST_INTERVAL_MS) return;
    this.#lastKeyframeRequestMs = now;
    this.#video.consumer.requestKeyFrame().catch(() => undefined); // consumer closed meanwhile
  }

  #onSegmentStarted(segment: SegmentPlan): void {
    this.#queuedEndMs = undefined;
    if (this.#behind) return this.#drop(segment, false); // it would only wait in memory too
    const name: SegmentName = { cameraId: this.cameraId, startMs: segment.startMs, session: this.id, seq: segment.seq };
    // The recorder has accounted for the hole before the session's first segment.
    this.#durableEndMs ??= segment.startMs;
    // The Segmenter calls a restart after an abandoned segment frames-lost; the spool knows better.
    const reason = segment.gapReason !== 'frames-lost' ? segment.gapReason : this.#slowGap ? 'disk-slow' : this.#diskFull ? 'disk-full' : 'frames-lost';
    this.#slowGap = false;
    this.safeEmit('segmentStarted', segment.startMs, reason);
    this.#enqueue(segment, async () => {
      const writer = await SegmentWriter.create({ spoolDir: this.#o.spoolDir, dataKey: this.#o.dataKey, name, tracks: segment.tracks, ...(this.#o.holder ? { holder: this.#o.holder } : {}) });
      this.#writer = writer;
      this.#o.pending?.opened(this.cameraId, writer.key, writer.file, () => writer.snapshot());
    });
  }

  #onFragment(segment: SegmentPlan, fragment: FragmentPlan): void {
    if (this.#dropped.has(segment)) return;
    const header = { startMs: fragment.startMs, durationMs: fragment.durationMs, keyframe: fragment.keyframe, baseDecodeTimes: fragment.baseDecodeTimes };
    let bytes = 0;
    for (const run of fragment.runs) for (const data of run.data) bytes += data.length;
    // Whatever the bound, a fragment is queued when nothing waits (the disk is keeping up).
    const full = this.#queued.ms + header.durationMs > this.#queueMaxMs || this.#queued.bytes + bytes > WRITE_QUEUE_MAX_BYTES;
    if (full && this.#queued.ms > 0) return this.#drop(segment, true);
    const cost = { ms: header.durationMs, bytes };
    this.#queuedEndMs = header.startMs + header.durationMs;
    this.#enqueue(segment, async () => {
      // Written and sealed in the writer, from the frames themselves (no copy waits in the queue).
      const bytes = await this.#writer!.appendFragment(header, fragment.runs);
      this.#durableEndMs = header.startMs + header.durationMs;
      this.#diskFull = false;
      // From the fragment's real end (its last frame's time on the wall clock) to fsync, so a
      // recorder falling behind shows here too, not only slow disks.
      this.safeEmit('fragmentDurable', Date.now() - (header.startMs + header.durationMs), bytes);
      for (const writer of this.#unsalvaged.splice(0)) await this.#salvage(writer);
    }, false, cost);
  }

  /**
   * The spool is too far behind (a stalled disk): `segment` is given up, finished with what was
   * queued before, and no segment starts until half the queue is written. The hole is `disk-slow`.
   * `started`: its start was told (and its file queued), so its end is told and its file finished.
   */
  #drop(segment: SegmentPlan, started: boolean): void {
    if (!this.#behind) {
      this.#behind = true;
      this.safeEmit('spoolBehind', true, this.#queued.ms);
    }
    this.#slowGap = true;
    this.#dropped.add(segment);
    // Not from inside the segmenter's call: it goes on with its own state when this returns.
    queueMicrotask(() => this.#segmenter.abandon(segment));
    if (!started) return;
    // Where what it queued ends (at its start if nothing): the hole begins there, after one told already.
    this.safeEmit('segmentEnded', this.#queuedEndMs ?? segment.startMs);
    this.#queuedEndMs = undefined;
    this.#finish(segment, 'interrupted');
  }

  #onSegmentEnded(segment: SegmentPlan, endMs: number | undefined, reason: SegmentEndReason): void {
    if (this.#dropped.has(segment)) return;
    if (endMs !== undefined) this.safeEmit('segmentEnded', endMs);
    this.#finish(segment, reason);
  }

  #finish(segment: SegmentPlan, reason: SegmentEndReason): void {
    this.#enqueue(
      segment,
      async () => {
        const writer = this.#writer;
        if (!writer) return;
        if (writer.fragments === 0) {
          this.#writer = undefined;
          this.#o.pending?.removed(writer.key);
          await writer.discard();
          return;
        }
        const finished = await writer.finish(reason);
        this.#writer = undefined; // kept until here: a failed finish is salvaged
        this.#o.pending?.finished(this.cameraId, finished.file, finished.entry);
        this.safeEmit('segmentFinished', finished);
      },
      true,
    );
  }

  #onSegmentDiscarded(segment: SegmentPlan): void {
    if (this.#dropped.has(segment)) return;
    this.#enqueue(
      segment,
      async () => {
        const writer = this.#writer;
        this.#writer = undefined;
        if (writer) this.#o.pending?.removed(writer.key);
        await writer?.discard();
      },
      true,
    );
  }

  /**
   * Finishes a cut segment with its durable fragments and hands it on for upload. The trailer may
   * not fit while the disk is full: tried again after the next write that succeeds, and at close;
   * after any other failure the .part file stays for recovery at the next start.
   */
  async #salvage(writer: SegmentWriter): Promise<void> {
    try {
      const finished = await writer.salvage();
      if (!finished) return void this.#o.pending?.removed(writer.key);
      this.#o.pending?.finished(this.cameraId, finished.file, finished.entry);
      this.safeEmit('segmentFinished', finished);
    } catch (error) {
      if (isDiskFull(error)) this.#unsalvaged.push(writer);
    }
  }

  /**
   * Spool operations run one after another; after a failure the segment's remaining ones are
   * skipped. `queued`: the fragment's share of the write queue, given back when it is done with.
   */
  #enqueue(segment: SegmentPlan, op: () => Promise<void>, finishing = false, queued?: { ms: number; bytes: number }): void {
    if (queued) {
      this.#queued.ms += queued.ms;
      this.#queued.bytes += queued.bytes;
    }
    this.#io = this.#io.then(async () => {
      try {
        if (this.#failed.has(segment) && !finishing) return;
        await op();
      } catch (error) {
        this.#failed.add(segment);
        if (isDiskFull(error)) this.#diskFull = true;
        const writer = this.#writer;
        this.#writer = undefined;
        this.safeEmit('writeError', error as Error, this.#durableEndMs);
        if (!finishing) this.#segmenter.abandon(segment);
        if (writer) await this.#salvage(writer);
      } finally {
        if (queued) this.#dequeued(queued);
      }
    });
  }

  #dequeued(queued: { ms: number; bytes: number }): void {
    this.#queued.ms -= queued.ms;
    this.#queued.bytes -= queued.bytes;
    if (this.#behind && this.#queued.ms <= this.#queueMaxMs / 2 && this.#queued.bytes <= WRITE_QUEUE_MAX_BYTES / 2) {
      this.#behind = false;
      this.safeEmit('spoolBehind', false, this.#queued.ms);
    }
  }
}

/** The spool's file system is full, or the service's disk quota is used up. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
