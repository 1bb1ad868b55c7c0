// One recording session: the recorder consuming one set of a camera's producers, from the first
// keyframe until the producers change or go away. Frames are cut into ~1 s fragments (at frame
// boundaries) and keyframe-aligned segments of about a minute; every fragment is sealed and made
// durable on the spool as it closes. Media time is continuous within a session; segments of one
// session follow each other without a hole unless frames were lost (then the segment ends at the
// last whole frame and the next starts at the next keyframe: a gap, recorded as such).

import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { ntpToMs } from './clock.ts';
import { mediaFragment, type Sample, type Track, type TrackRun } from './mp4/index.ts';
import type { SegmentName } from './objects.ts';
import type { GapReason } from './RecordingIndex.ts';
import type { Holder, SegmentEndReason } from './records.ts';
import type { VideoConfig } from './rtp/index.ts';
import type { PendingSegments } from './PendingSegments.ts';
import { SegmentWriter, type FinishedSegment } from './SegmentWriter.ts';
import { TrackIngest, type TimedFrame, type TrackCodec } from './TrackIngest.ts';

const VIDEO_TRACK_ID = 1;
const AUDIO_TRACK_ID = 2;
const VIDEO_TIMESCALE = 90_000;
const AUDIO_TIMESCALE = 48_000;
/** No video frame for this long: the segment ends at the last frame (the camera froze or left). */
const STALL_MS = 3000;
const KEYFRAME_REQUEST_INTERVAL_MS = 1000;
/** Audio frames kept while no segment is open (100 × 20 ms). */
const EARLY_AUDIO_FRAMES = 100;
/** Two sessions place the same frame this close on the wall clock (each maps its own arrivals). */
const HANDOVER_TOLERANCE_MS = 50;

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
}

export interface RecordingSessionEvents {
  /** A segment started: `gapReason` says why there was nothing just before it (if anything). */
  segmentStarted: [startMs: number, gapReason: GapReason];
  /** The open segment ended at `endMs` (emitted at once; `segmentFinished` follows when on disk). */
  segmentEnded: [endMs: number];
  segmentFinished: [segment: FinishedSegment];
  /** A fragment became durable on the spool, `latencyMs` after its last frame's time on the wall clock. */
  fragmentDurable: [latencyMs: number, bytes: number];
  /** Spool write failed (disk full, …): the segment was cut; recording resumes at the next keyframe. */
  writeError: [error: Error];
}

interface Pending {
  timed: TimedFrame;
  /** Decode time on the session's media timeline, in the track's timescale. */
  dts: number;
}

interface OpenFragment {
  video: { base: number; samples: Sample[]; data: Uint8Array[] };
  audio: { base: number; samples: Sample[]; data: Uint8Array[] };
  /** Lead-track decode time where the fragment starts. */
  startDts: number;
}

interface OpenSegment {
  name: SegmentName;
  startDts: number;
  fragments: number;
  config: VideoConfig | undefined;
  failed: boolean;
}

export class RecordingSession extends EventEmitter<RecordingSessionEvents> {
  readonly id: string;
  readonly cameraId: string;
  readonly #o: RecordingSessionOptions;
  readonly #transport: types.DirectTransport;
  readonly #video: { ingest: TrackIngest; consumer: types.Consumer } | undefined;
  readonly #audio: { ingest: TrackIngest; consumer: types.Consumer } | undefined;
  readonly #timer: NodeJS.Timeout;
  #io: Promise<void> = Promise.resolve();
  #writer: SegmentWriter | undefined;
  #segment: OpenSegment | undefined;
  #fragment: OpenFragment | undefined;
  #segmentSeq = 0;
  /** Wall-clock ms at media time 0, and each track's extended RTP time at media time 0. */
  #wall0: number | undefined;
  #video0 = 0;
  #audio0: number | undefined;
  #pendingVideo: Pending | undefined;
  #pendingAudio: Pending | undefined;
  #lastVideoDuration = 3000;
  #lastFrameAtMs = Date.now();
  #lastKeyframeRequestMs = 0;
  #nextGapReason: GapReason;
  #closed = false;
  #endAtMs: number | undefined;
  #skippedFrames = 0;
  #audioCorrections = 0;
  #syncByReports: number[] = [];
  #syncByArrival: number[] = [];
  #earlyAudio: TimedFrame[] = [];
  readonly #untrace: (() => void)[] = [];
  #ticks = 0;

  static async create(o: RecordingSessionOptions): Promise<RecordingSession> {
    const transport = await o.router.createDirectTransport({ maxMessageSize: 262_144 });
    try {
      const consumed: { ingest: TrackIngest; consumer: types.Consumer }[] = [];
      for (const producer of o.producers) {
        if (producer.closed) continue;
        const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: o.router.rtpCapabilities, paused: false });
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
      return new RecordingSession(o, transport, consumed.find((c) => c.ingest.kind === 'video'), consumed.find((c) => c.ingest.kind === 'audio'));
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
    this.#transport = transport;
    this.#video = video;
    this.#audio = audio;
    this.#nextGapReason = o.firstGapReason;
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
      producer.on('trace', onTrace);
      producer.enableTraceEvent(['sr']).catch(() => undefined);
      // Stop the reports and drop the listener with the session (sessions come and go per producer change).
      this.#untrace.push(() => {
        producer.off('trace', onTrace);
        if (!producer.closed && producer.listenerCount('trace') === 0) producer.enableTraceEvent([]).catch(() => undefined);
      });
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
    return this.#segment !== undefined;
  }
  get closed(): boolean {
    return this.#closed;
  }
  get stats(): { video?: TrackIngest['stats']; audio?: TrackIngest['stats']; skippedFrames: number; audioSyncCorrections: number; segments: number } {
    return {
      ...(this.#video ? { video: this.#video.ingest.stats } : {}),
      ...(this.#audio ? { audio: this.#audio.ingest.stats } : {}),
      skippedFrames: this.#skippedFrames,
      audioSyncCorrections: this.#audioCorrections,
      segments: this.#segmentSeq,
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
    this.#endAtMs = wallMs;
  }

  /** Ends the session: the last frames are written, the segment finished. Resolves when on disk. */
  async close(): Promise<void> {
    if (this.#closed) return this.#io;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const track of [this.#video, this.#audio]) if (track) this.#deliver(track.ingest, track.ingest.flush());
    this.#endSegment('stopped');
    for (const untrace of this.#untrace) untrace();
    this.#transport.close();
    await this.#io;
  }

  #onRtp(ingest: TrackIngest, bytes: Buffer): void {
    if (this.#closed) return;
    this.#deliver(ingest, ingest.push(bytes, Date.now()));
  }

  #tick(): void {
    const now = Date.now();
    for (const track of [this.#video, this.#audio]) if (track) this.#deliver(track.ingest, track.ingest.poll(now));
    if (this.#segment && now - this.#lastFrameAtMs > STALL_MS) {
      this.#endSegment('interrupted');
      this.#nextGapReason = 'camera-offline';
    }
    if (this.#video && (this.#video.ingest.needsKeyframe || !this.#segment)) this.#requestKeyframe(false);
    if (++this.#ticks % 5 === 0) this.#syncAudio();
  }

  #deliver(ingest: TrackIngest, frames: TimedFrame[]): void {
    if (ingest.kind === 'video' && ingest.takeDroppedFrames() && this.#segment) {
      // A frame could not be completed: the P-frames after it are useless until the next keyframe.
      this.#endSegment('interrupted');
      this.#nextGapReason = 'frames-lost';
      this.#requestKeyframe(true);
    }
    for (const timed of frames) {
      if (ingest.kind === 'video') this.#onVideo(timed);
      else if (this.#video) this.#onAudio(timed);
      else this.#onAudioOnly(timed);
    }
  }

  /**
   * Keeps audio lined up with video. The best reference is the camera's own clock (its sender
   * reports, shared by both tracks); the other is the least-delayed arrival of each track. The
   * first audio frame was placed by its arrival, which can be off by a difference in network or
   * scheduling delay. An estimate is only used when its last readings agree with each other (some
   * senders' reports are too coarse to line anything up), and only when the error exceeds what a
   * viewer could notice. Each correction is a small jump in the audio track.
   */
  #syncAudio(): void {
    const video = this.#video?.ingest;
    const audio = this.#audio?.ingest;
    if (!video || !audio || this.#audio0 === undefined || this.#wall0 === undefined || !audio.clock.known) return;
    const push = (list: number[], value: number) => {
      list.push(value);
      if (list.length > 5) list.shift();
    };
    if (video.capture.known && audio.capture.known) push(this.#syncByReports, audio.capture.ticksAt(video.capture.captureOf(this.#video0)) - this.#audio0);
    push(this.#syncByArrival, audio.clock.ticksAt(video.clock.wallOf(this.#video0)) - this.#audio0);
    const agreed = (list: number[]) => list.length === 5 && Math.max(...list) - Math.min(...list) <= AUDIO_TIMESCALE / 50;
    const estimates = agreed(this.#syncByReports) ? this.#syncByReports : agreed(this.#syncByArrival) ? this.#syncByArrival : undefined;
    if (!estimates) return;
    const median = [...estimates].sort((a, b) => a - b)[2]!;
    // 30 ms is below what viewers notice; beyond 2 s something else is wrong.
    if (Math.abs(median) < (AUDIO_TIMESCALE * 30) / 1000 || Math.abs(median) > AUDIO_TIMESCALE * 2) return;
    this.#audio0 += median;
    this.#syncByReports.length = 0;
    this.#syncByArrival.length = 0;
    this.#audioCorrections += 1;
  }

  #requestKeyframe(force: boolean): void {
    const now = Date.now();
    if (!this.#video || this.#closed) return;
    if (!force && now - this.#lastKeyframeRequestMs < KEYFRAME_REQUEST_INTERVAL_MS) return;
    this.#lastKeyframeRequestMs = now;
    this.#video.consumer.requestKeyFrame().catch(() => undefined); // consumer closed meanwhile
  }

  #onVideo(timed: TimedFrame): void {
    const frame = timed.frame;
    if (frame.kind !== 'video') return;
    this.#lastFrameAtMs = Date.now();
    if (this.#segment && frame.config !== this.#segment.config) {
      // The new configuration's first frame ends the old segment exactly where it begins.
      const pending = this.#pendingVideo;
      const until = timed.ticks - this.#video0 - (pending?.dts ?? 0);
      if (pending && until > 0) this.#lastVideoDuration = until;
      this.#endSegment('config');
      this.#nextGapReason = 'frames-lost';
    }
    if (!this.#segment) {
      if (this.#endAtMs !== undefined) return; // handed over: the successor records from here
      if (!frame.keyframe) {
        this.#skippedFrames += 1;
        this.#requestKeyframe(false);
        return;
      }
      if (this.#wall0 === undefined) {
        this.#wall0 = this.#video!.ingest.clock.wallOf(timed.ticks);
        this.#video0 = timed.ticks;
      }
      const dts = timed.ticks - this.#video0;
      this.#startSegment(dts, frame.config);
      this.#pendingVideo = { timed, dts };
      return;
    }
    const previous = this.#pendingVideo!;
    const dts = timed.ticks - this.#video0;
    if (this.#endAtMs !== undefined && this.#wallOfDts(dts) >= this.#endAtMs) return;
    const duration = dts - previous.dts;
    if (duration <= 0) {
      this.#skippedFrames += 1; // not monotonic: a camera bug; never write time going backwards
      return;
    }
    this.#lastVideoDuration = duration;
    this.#addSample('video', previous, duration);
    this.#pendingVideo = { timed, dts };
    const fragmentTicks = (this.#o.fragmentMs * VIDEO_TIMESCALE) / 1000;
    // Cameras with a long keyframe interval (browsers: minutes) are asked for one as the segment
    // nears its length, so segments stay about as long as configured and reach S3 in time.
    if (!frame.keyframe && dts - this.#segment.startDts >= (this.#o.segmentSeconds - 1) * VIDEO_TIMESCALE) this.#requestKeyframe(false);
    const fragmentAge = dts - this.#fragment!.startDts;
    if (frame.keyframe && dts - this.#segment.startDts >= this.#o.segmentSeconds * VIDEO_TIMESCALE) {
      this.#endSegment('duration', false);
      this.#startSegment(dts, frame.config);
    } else if (fragmentAge >= fragmentTicks || (frame.keyframe && fragmentAge >= fragmentTicks / 2)) {
      // A keyframe past half a fragment starts the next one, so seeking finds keyframes at fragment starts.
      this.#closeFragment(dts);
    }
  }

  /** `minDts`: audio ticks before which frames belong to no segment (replayed early audio). */
  #onAudio(timed: TimedFrame, minDts = 0): void {
    if (!this.#segment || this.#wall0 === undefined) {
      // Video may still be held for reordering while its keyframe's audio arrives: keep the
      // last two seconds, replayed when the segment starts.
      if (this.#endAtMs === undefined) {
        this.#earlyAudio.push(timed);
        if (this.#earlyAudio.length > EARLY_AUDIO_FRAMES) this.#earlyAudio.shift();
      }
      return;
    }
    if (this.#audio0 === undefined) {
      const offset = Math.round((this.#audio!.ingest.clock.wallOf(timed.ticks) - this.#wall0) * (AUDIO_TIMESCALE / 1000));
      if (offset < 0) return;
      this.#audio0 = timed.ticks - offset;
    }
    const dts = timed.ticks - this.#audio0;
    if (dts < minDts) return;
    if (this.#endAtMs !== undefined && this.#wallOfDts((dts * VIDEO_TIMESCALE) / AUDIO_TIMESCALE) >= this.#endAtMs) return;
    const previous = this.#pendingAudio;
    if (previous) {
      const duration = dts - previous.dts;
      if (duration <= 0) return;
      this.#addSample('audio', previous, duration);
    }
    this.#pendingAudio = { timed, dts };
  }

  /** A camera without video: audio leads, and any frame may start a segment. */
  #onAudioOnly(timed: TimedFrame): void {
    this.#lastFrameAtMs = Date.now();
    if (this.#endAtMs !== undefined && !this.#segment) return;
    if (this.#wall0 === undefined) {
      this.#wall0 = this.#audio!.ingest.clock.wallOf(timed.ticks);
      this.#audio0 = timed.ticks;
    }
    const dts = timed.ticks - this.#audio0!;
    if (!this.#segment) {
      this.#startSegment(dts, undefined);
      this.#pendingAudio = { timed, dts };
      return;
    }
    const previous = this.#pendingAudio!;
    const duration = dts - previous.dts;
    if (duration <= 0) return;
    this.#addSample('audio', previous, duration);
    this.#pendingAudio = { timed, dts };
    if (dts - this.#fragment!.startDts >= (this.#o.fragmentMs * AUDIO_TIMESCALE) / 1000) {
      if (dts - this.#segment.startDts >= this.#o.segmentSeconds * AUDIO_TIMESCALE) {
        this.#endSegment('duration', false);
        this.#startSegment(dts, undefined);
      } else {
        this.#closeFragment(dts);
      }
    }
  }

  #leadTimescale(): number {
    return this.#video ? VIDEO_TIMESCALE : AUDIO_TIMESCALE;
  }

  #wallOfDts(dts: number): number {
    return Math.round(this.#wall0! + (dts * 1000) / this.#leadTimescale());
  }

  #addSample(kind: 'video' | 'audio', p: Pending, duration: number): void {
    const run = this.#fragment?.[kind];
    if (!run) return;
    if (run.samples.length === 0) run.base = p.dts;
    const frame = p.timed.frame;
    run.samples.push({ duration, size: frame.data.length, keyframe: frame.kind === 'audio' || frame.keyframe });
    run.data.push(frame.data);
  }

  #startSegment(dts: number, config: VideoConfig | undefined): void {
    const startMs = this.#wallOfDts(dts);
    const name: SegmentName = { cameraId: this.cameraId, startMs, session: this.id, seq: this.#segmentSeq++ };
    const segment: OpenSegment = { name, startDts: dts, fragments: 0, config, failed: false };
    this.#segment = segment;
    this.#fragment = { video: { base: 0, samples: [], data: [] }, audio: { base: 0, samples: [], data: [] }, startDts: dts };
    const tracks = this.#tracks(config);
    this.emit('segmentStarted', startMs, this.#nextGapReason);
    this.#nextGapReason = 'frames-lost';
    this.#enqueue(async () => {
      const writer = await SegmentWriter.create({ spoolDir: this.#o.spoolDir, dataKey: this.#o.dataKey, name, tracks, ...(this.#o.holder ? { holder: this.#o.holder } : {}) });
      this.#writer = writer;
      this.#o.pending?.opened(this.cameraId, writer.key, writer.file, () => writer.snapshot());
    }, segment);
    if (this.#video && this.#earlyAudio.length > 0) {
      const early = this.#earlyAudio;
      this.#earlyAudio = [];
      const from = Math.round((dts * AUDIO_TIMESCALE) / VIDEO_TIMESCALE);
      for (const timed of early) this.#onAudio(timed, from);
    }
  }

  #tracks(config: VideoConfig | undefined): Track[] {
    const tracks: Track[] = [];
    if (config?.codec === 'h264') {
      tracks.push({ id: VIDEO_TRACK_ID, kind: 'video', codec: 'h264', timescale: VIDEO_TIMESCALE, width: config.width, height: config.height, sps: config.sps, pps: config.pps });
    } else if (config?.codec === 'vp8') {
      tracks.push({ id: VIDEO_TRACK_ID, kind: 'video', codec: 'vp8', timescale: VIDEO_TIMESCALE, width: config.width, height: config.height });
    }
    if (this.#audio) tracks.push({ id: AUDIO_TRACK_ID, kind: 'audio', codec: 'opus', timescale: AUDIO_TIMESCALE, channels: 2, sampleRate: 48_000, preSkip: 0 });
    return tracks;
  }

  /** Closes the open fragment at `endDts` (lead-track time where the next one starts). */
  #closeFragment(endDts: number): void {
    const segment = this.#segment;
    const fragment = this.#fragment;
    if (!segment || !fragment) return;
    this.#fragment = { video: { base: 0, samples: [], data: [] }, audio: { base: 0, samples: [], data: [] }, startDts: endDts };
    const runs: TrackRun[] = [];
    if (fragment.video.samples.length > 0) runs.push({ trackId: VIDEO_TRACK_ID, baseDecodeTime: fragment.video.base, samples: fragment.video.samples, data: fragment.video.data });
    if (fragment.audio.samples.length > 0) runs.push({ trackId: AUDIO_TRACK_ID, baseDecodeTime: fragment.audio.base, samples: fragment.audio.samples, data: fragment.audio.data });
    const leadSamples = this.#video ? fragment.video.samples : fragment.audio.samples;
    if (leadSamples.length === 0) return;
    const index = segment.fragments++;
    const bytes = mediaFragment(index + 1, runs);
    const startMs = this.#wallOfDts(fragment.startDts);
    const header = {
      startMs,
      durationMs: this.#wallOfDts(endDts) - startMs,
      keyframe: this.#video ? fragment.video.samples[0]!.keyframe : true,
      baseDecodeTimes: Object.fromEntries(runs.map((r) => [r.trackId, r.baseDecodeTime])),
    };
    this.#enqueue(async () => {
      await this.#writer!.appendFragment(header, bytes);
      // From the fragment's real end (its last frame's time on the wall clock) to fsync, so a
      // recorder falling behind shows here too, not only slow disks.
      this.emit('fragmentDurable', Date.now() - (header.startMs + header.durationMs), bytes.length);
    }, segment);
  }

  /**
   * Ends the open segment. `withPending`: the last frames are written too, with the usual frame
   * duration (the recording stops); otherwise they stay for the next segment (a seamless cut).
   */
  #endSegment(reason: SegmentEndReason, withPending = true): void {
    const segment = this.#segment;
    if (!segment) return;
    if (this.#endAtMs !== undefined && segment.name.startMs >= this.#endAtMs - HANDOVER_TOLERANCE_MS) {
      // The successor started on the same keyframe (or earlier): it has all of this segment.
      this.#segment = undefined;
      this.#fragment = undefined;
      this.#pendingVideo = undefined;
      this.#pendingAudio = undefined;
      this.#enqueue(async () => {
        const writer = this.#writer;
        this.#writer = undefined;
        if (writer) this.#o.pending?.removed(writer.key);
        await writer?.discard();
      }, segment, true);
      return;
    }
    let endDts: number;
    if (withPending) {
      // The last frame lasts as long as the one before it.
      if (this.#pendingVideo) this.#addSample('video', this.#pendingVideo, this.#lastVideoDuration);
      if (this.#pendingAudio) this.#addSample('audio', this.#pendingAudio, 960);
      let leadEnd = this.#video ? (this.#pendingVideo?.dts ?? 0) + this.#lastVideoDuration : (this.#pendingAudio?.dts ?? 0) + 960;
      this.#pendingVideo = undefined;
      this.#pendingAudio = undefined;
      if (this.#endAtMs !== undefined && this.#fragment) {
        // Handed over: what the successor records (it may have started a little in the past,
        // its first packets held for reordering) is cut from the frames not yet written.
        const lead = this.#video ? VIDEO_TIMESCALE : AUDIO_TIMESCALE;
        const cut = Math.round(((this.#endAtMs - this.#wall0!) * lead) / 1000);
        if (this.#video) leadEnd = Math.min(leadEnd, trimRun(this.#fragment.video, cut));
        trimRun(this.#fragment.audio, Math.round((cut * AUDIO_TIMESCALE) / lead));
        if (!this.#video) leadEnd = Math.min(leadEnd, cut);
        leadEnd = Math.max(leadEnd, this.#fragment.startDts);
      }
      endDts = leadEnd;
    } else {
      endDts = this.#pendingVideo?.dts ?? this.#pendingAudio?.dts ?? segment.startDts;
    }
    this.#closeFragment(endDts);
    if (segment.fragments > 0) this.emit('segmentEnded', this.#wallOfDts(endDts));
    this.#segment = undefined;
    this.#fragment = undefined;
    this.#enqueue(async () => {
      const writer = this.#writer;
      this.#writer = undefined;
      if (!writer) return;
      if (writer.fragments === 0) {
        this.#o.pending?.removed(writer.key);
        await writer.discard();
        return;
      }
      const finished = await writer.finish(reason);
      this.#o.pending?.finished(this.cameraId, finished.file, finished.entry);
      this.emit('segmentFinished', finished);
    }, segment, true);
  }

  /** Spool operations run one after another; after a failure the segment's remaining ones are skipped. */
  #enqueue(op: () => Promise<void>, segment: OpenSegment, finishing = false): void {
    this.#io = this.#io.then(async () => {
      if (segment.failed && !finishing) return;
      try {
        await op();
      } catch (error) {
        segment.failed = true;
        this.emit('writeError', error as Error);
        if (finishing) {
          // Leave the .part file: recovery at the next start finishes whatever reached the disk.
          this.#writer = undefined;
        } else if (this.#segment === segment) {
          this.#segment = undefined;
          this.#fragment = undefined;
          this.#pendingVideo = undefined;
          this.#pendingAudio = undefined;
        }
      }
    });
  }
}

/** Drops the samples of a run from decode time `cut` on and shortens the one across it; returns the run's new end. */
function trimRun(run: { base: number; samples: Sample[]; data: Uint8Array[] }, cut: number): number {
  let t = run.base;
  for (let i = 0; i < run.samples.length; i++) {
    const sample = run.samples[i]!;
    if (t >= cut) {
      run.samples.length = i;
      run.data.length = i;
      return t;
    }
    if (t + sample.duration > cut) run.samples[i] = { ...sample, duration: cut - t };
    t += run.samples[i]!.duration;
  }
  return t;
}
