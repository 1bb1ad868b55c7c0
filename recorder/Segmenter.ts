// The recorder's cut rules, as pure code: timed frames in, segments and fragments out. It owns
// where fragments (~1 s, at frame boundaries) and segments (about a minute, at keyframes) begin
// and end, how early audio joins its keyframe, how audio stays lined up with video, where a
// session handed over to a successor stops, and when a camera's clock has drifted so far from the
// server's that the recording restarts on a fresh timeline. No mediasoup, no timers, no clock of
// its own, no I/O: time is always passed in, results go to a sink. RecordingSession wires it to
// consumers and the spool; the tests drive it with recorded frame sequences.

import { SessionTimeline } from './clock.ts';
import type { Sample, Track, TrackRun } from './mp4/index.ts';
import type { GapReason } from './RecordingIndex.ts';
import type { SegmentEndReason } from './records.ts';
import type { Frame, VideoConfig } from './rtp/index.ts';

export const VIDEO_TRACK_ID = 1;
export const AUDIO_TRACK_ID = 2;
export const VIDEO_TIMESCALE = 90_000;
export const AUDIO_TIMESCALE = 48_000;
/** No video frame for this long: the segment ends at the last frame (the camera froze or left). */
export const STALL_MS = 3000;
/** Audio frames kept while no segment is open (100 × 20 ms). */
const EARLY_AUDIO_FRAMES = 100;
/** One Opus frame (20 ms): the last audio frame's length when nothing follows it. */
const OPUS_FRAME_TICKS = 960;
/** Two sessions place the same frame this close on the wall clock (each maps its own arrivals). */
const HANDOVER_TOLERANCE_MS = 50;
/** Where a camera's frames sit and where its clock says they belong may differ by this much. */
export const DRIFT_BOUND_MS = 500;
/** A camera whose keyframes come at least this often is not asked for one as a segment ends. */
const LONG_GOP_SECONDS = 2;
/** A fragment closed at a drift restart is sped up or slowed down at most this much (1.5×: motion still reads as motion) to meet the new timeline. */
const RETIME_MAX = 1.5;
/** While a drift restart waits for enough of a fragment to absorb it, a fragment stays open up to this long. */
const DRIFT_OPEN_MAX_MS = 2000;

export interface TimedFrame {
  frame: Frame;
  /** Extended RTP time (clock-rate ticks). */
  ticks: number;
  /** Where the track's wall-clock mapping puts the frame now (ms since the epoch). */
  wallMs: number;
}

export interface SegmenterOptions {
  hasVideo: boolean;
  hasAudio: boolean;
  fragmentMs: number;
  segmentSeconds: number;
  /** Why the recording was not running just before the first segment. */
  firstGapReason: GapReason;
  /** When the session began, on a monotonic clock (the stall timer's start). */
  nowMs: number;
  driftBoundMs?: number;
  /**
   * Where the camera's recording last ended (any earlier session): nothing is placed before it,
   * so a server clock stepped back never lists a second twice.
   */
  notBeforeMs?: number;
}

/** A segment as the segmenter opened it. */
export interface SegmentPlan {
  seq: number;
  startMs: number;
  /** Why there was nothing just before it. */
  gapReason: GapReason;
  tracks: Track[];
}

export interface FragmentPlan {
  /** 0-based, within its segment. */
  index: number;
  startMs: number;
  durationMs: number;
  keyframe: boolean;
  baseDecodeTimes: Record<number, number>;
  runs: TrackRun[];
}

/** Where the segmenter's results go (in order; the sink does the I/O). */
export interface SegmenterSink {
  segmentStarted(segment: SegmentPlan): void;
  fragment(segment: SegmentPlan, fragment: FragmentPlan): void;
  /** The segment ended at `endMs` (undefined: it got no fragment). */
  segmentEnded(segment: SegmentPlan, endMs: number | undefined, reason: SegmentEndReason): void;
  /** The segment is dropped whole: a successor recorded all of it (handover). */
  segmentDiscarded(segment: SegmentPlan): void;
  /** A keyframe is needed: `urgent` ones now, others when the last request is a while ago. */
  keyframeWanted(urgent: boolean): void;
}

export interface SegmenterStats {
  skippedFrames: number;
  audioSyncCorrections: number;
  driftRestarts: number;
  segments: number;
}

interface Pending {
  timed: TimedFrame;
  /** Decode time on the session's media timeline, in the track's timescale. */
  dts: number;
}

interface Run {
  base: number;
  samples: Sample[];
  data: Uint8Array[];
}

interface OpenFragment {
  video: Run;
  audio: Run;
  /** Lead-track decode time where the fragment starts. */
  startDts: number;
}

interface OpenSegment {
  plan: SegmentPlan;
  startDts: number;
  fragments: number;
  config: VideoConfig | undefined;
}

/** The two readings of where audio sits against video, in audio ticks (see `alignAudio`). */
export interface AudioOffsetReadings {
  byReports?: number;
  byArrival: number;
}

export class Segmenter {
  readonly #o: SegmenterOptions & { driftBoundMs: number };
  readonly #sink: SegmenterSink;
  #segment: OpenSegment | undefined;
  #fragment: OpenFragment | undefined;
  #seq = 0;
  /** Where media time 0 sits on the wall clock; each track's extended RTP time at media time 0. */
  readonly #timeline: SessionTimeline;
  #video0 = 0;
  #audio0: number | undefined;
  #pendingVideo: Pending | undefined;
  #pendingAudio: Pending | undefined;
  #lastVideoDuration = 3000;
  /** The last keyframe's decode time (see LONG_GOP_SECONDS). */
  #lastKeyframeDts: number | undefined;
  #lastFrameAtMs: number;
  #nextGapReason: GapReason;
  #endAtMs: number | undefined;
  #earlyAudio: TimedFrame[] = [];
  #syncByReports: number[] = [];
  #syncByArrival: number[] = [];
  /** How far ahead of its clock a restart had to leave the timeline (no second may be listed twice). */
  #aheadAccepted = 0;
  #drifted = false;
  #closed = false;
  readonly #stats: SegmenterStats = { skippedFrames: 0, audioSyncCorrections: 0, driftRestarts: 0, segments: 0 };

  constructor(options: SegmenterOptions, sink: SegmenterSink) {
    this.#o = { driftBoundMs: DRIFT_BOUND_MS, ...options };
    this.#sink = sink;
    this.#lastFrameAtMs = options.nowMs;
    this.#timeline = new SessionTimeline(options.hasVideo ? VIDEO_TIMESCALE : AUDIO_TIMESCALE);
    this.#nextGapReason = options.firstGapReason;
  }

  get recording(): boolean {
    return this.#segment !== undefined;
  }
  get stats(): Readonly<SegmenterStats> {
    return this.#stats;
  }
  /** Media time 0 of each track, once a segment began (for the audio readings). */
  get origin(): { video0: number; audio0: number } | undefined {
    return this.#audio0 === undefined || !this.#timeline.started ? undefined : { video0: this.#video0, audio0: this.#audio0 };
  }

  /** Frames placed from `wallMs` on are not recorded here: a successor records them (handover). */
  endAt(wallMs: number): void {
    this.#endAtMs = wallMs;
  }

  /** `nowMs`: a monotonic clock (performance.now()), so that a stepped wall clock is no stall. */
  video(timed: TimedFrame, nowMs: number): void {
    if (this.#closed || timed.frame.kind !== 'video') return;
    this.#lastFrameAtMs = nowMs;
    this.#onVideo(timed);
  }

  audio(timed: TimedFrame, nowMs: number): void {
    if (this.#closed || timed.frame.kind !== 'audio') return;
    if (this.#o.hasVideo) this.#onAudio(timed);
    else {
      this.#lastFrameAtMs = nowMs;
      this.#onAudioOnly(timed);
    }
  }

  /** A video frame could not be completed: the frames after it are useless until the next keyframe. */
  framesLost(): void {
    if (!this.#segment) return;
    this.#endSegment('interrupted');
    this.#nextGapReason = 'frames-lost';
    this.#sink.keyframeWanted(true);
  }

  /** Time passes: a camera silent too long ends its segment; without one, a keyframe is wanted. */
  tick(nowMs: number): void {
    if (this.#closed) return;
    if (this.#segment && nowMs - this.#lastFrameAtMs > STALL_MS) {
      this.#endSegment('interrupted');
      this.#nextGapReason = 'camera-offline';
    }
    if (this.#o.hasVideo && !this.#segment) this.#sink.keyframeWanted(false);
  }

  /**
   * Keeps audio lined up with video. The best reference is the camera's own clock (its sender
   * reports, shared by both tracks); the other is the least-delayed arrival of each track. The
   * first audio frame was placed by its arrival, which can be off by a difference in network or
   * scheduling delay. An estimate is only used when its last readings agree with each other (some
   * senders' reports are too coarse to line anything up), and only when the error exceeds what a
   * viewer could notice. Each correction is a small jump in the audio track.
   */
  alignAudio(readings: AudioOffsetReadings): void {
    if (this.#audio0 === undefined || !this.#timeline.started) return;
    const push = (list: number[], value: number) => {
      list.push(value);
      if (list.length > 5) list.shift();
    };
    if (readings.byReports !== undefined) push(this.#syncByReports, readings.byReports);
    push(this.#syncByArrival, readings.byArrival);
    const agreed = (list: number[]) => list.length === 5 && Math.max(...list) - Math.min(...list) <= AUDIO_TIMESCALE / 50;
    const estimates = agreed(this.#syncByReports) ? this.#syncByReports : agreed(this.#syncByArrival) ? this.#syncByArrival : undefined;
    if (!estimates) return;
    const median = [...estimates].sort((a, b) => a - b)[2]!;
    // 30 ms is below what viewers notice; beyond 2 s something else is wrong.
    if (Math.abs(median) < (AUDIO_TIMESCALE * 30) / 1000 || Math.abs(median) > AUDIO_TIMESCALE * 2) return;
    this.#audio0 += median;
    this.#syncByReports.length = 0;
    this.#syncByArrival.length = 0;
    this.#stats.audioSyncCorrections += 1;
  }

  /** Ends the session: the last frames are written (each as long as the one before), the segment ended. */
  close(): void {
    if (this.#closed) return;
    this.#endSegment('stopped');
    this.#closed = true;
  }

  /** The sink could not write `segment` (disk full, …): it is given up; the next keyframe starts anew. */
  abandon(segment: SegmentPlan): void {
    if (this.#segment?.plan !== segment) return;
    this.#segment = undefined;
    this.#fragment = undefined;
    this.#pendingVideo = undefined;
    this.#pendingAudio = undefined;
  }

  #onVideo(timed: TimedFrame): void {
    const frame = timed.frame;
    if (frame.kind !== 'video') return;
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
        this.#stats.skippedFrames += 1;
        this.#sink.keyframeWanted(false);
        return;
      }
      if (!this.#timeline.started) {
        this.#placeOrigin(timed.wallMs);
        this.#video0 = timed.ticks;
      }
      const dts = timed.ticks - this.#video0;
      this.#startSegment(dts, frame.config);
      this.#pendingVideo = { timed, dts };
      return;
    }
    const previous = this.#pendingVideo!;
    const dts = timed.ticks - this.#video0;
    if (this.#endAtMs !== undefined && this.#timeline.wallOf(dts) >= this.#endAtMs) return;
    const duration = dts - previous.dts;
    if (duration <= 0) {
      this.#stats.skippedFrames += 1; // not monotonic: a camera bug; never write time going backwards
      return;
    }
    this.#lastVideoDuration = duration;
    this.#addSample('video', previous, duration);
    this.#pendingVideo = { timed, dts };
    const drift = this.#drift(timed, dts, frame.keyframe);
    if (drift === 'restart') {
      this.#restartTimeline(timed, frame.config);
      return;
    }
    const fragmentTicks = (this.#o.fragmentMs * VIDEO_TIMESCALE) / 1000;
    // Cameras with a long keyframe interval (browsers: minutes) are asked for one as the segment
    // nears its length, so segments stay about as long as configured and reach S3 in time. Not
    // cameras whose next keyframe comes soon anyway: one that ignores a request right after its
    // keyframe would hold every viewer's request back for a second (mediasoup asks only once).
    if (frame.keyframe) this.#lastKeyframeDts = dts;
    const longGop = this.#lastKeyframeDts === undefined || dts - this.#lastKeyframeDts >= LONG_GOP_SECONDS * VIDEO_TIMESCALE;
    if (!frame.keyframe && longGop && dts - this.#segment.startDts >= (this.#o.segmentSeconds - 1) * VIDEO_TIMESCALE) this.#sink.keyframeWanted(false);
    const fragmentAge = dts - this.#fragment!.startDts;
    if (frame.keyframe && dts - this.#segment.startDts >= this.#o.segmentSeconds * VIDEO_TIMESCALE) {
      // Audio filmed after this keyframe that came in while its packets were still arriving (a
      // keyframe is many packets, and the last one completes it) opens the next segment with it,
      // so each segment's audio starts where its video does.
      const after = takeFrom(this.#fragment!.audio, Math.round((dts * AUDIO_TIMESCALE) / VIDEO_TIMESCALE));
      this.#endSegment('duration', false);
      this.#startSegment(dts, frame.config);
      if (after) this.#fragment!.audio = after;
    } else if (drift === 'ok' && (fragmentAge >= fragmentTicks || (frame.keyframe && fragmentAge >= fragmentTicks / 2))) {
      // A keyframe past half a fragment starts the next one, so seeking finds keyframes at fragment starts.
      this.#closeFragment(dts);
    }
  }

  /** `minDts`: audio ticks before which frames belong to no segment (replayed early audio). */
  #onAudio(timed: TimedFrame, minDts = 0): void {
    if (!this.#segment || !this.#timeline.started) {
      // Video may still be held for reordering while its keyframe's audio arrives: keep the
      // last two seconds, replayed when the segment starts.
      if (this.#endAtMs === undefined) {
        this.#earlyAudio.push(timed);
        if (this.#earlyAudio.length > EARLY_AUDIO_FRAMES) this.#earlyAudio.shift();
      }
      return;
    }
    if (this.#audio0 === undefined) {
      const offset = this.#timeline.ticksAt(timed.wallMs, AUDIO_TIMESCALE);
      if (offset < 0) return;
      this.#audio0 = timed.ticks - offset;
    }
    const dts = timed.ticks - this.#audio0;
    if (dts < minDts) return;
    if (this.#endAtMs !== undefined && this.#timeline.wallOf(dts, AUDIO_TIMESCALE) >= this.#endAtMs) return;
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
    if (this.#endAtMs !== undefined && !this.#segment) return;
    if (!this.#timeline.started) {
      this.#placeOrigin(timed.wallMs);
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
    const drift = this.#drift(timed, dts, true);
    if (drift === 'restart') {
      this.#restartTimeline(timed, undefined);
      return;
    }
    if (drift === 'ok' && dts - this.#fragment!.startDts >= (this.#o.fragmentMs * AUDIO_TIMESCALE) / 1000) {
      if (dts - this.#segment.startDts >= this.#o.segmentSeconds * AUDIO_TIMESCALE) {
        this.#endSegment('duration', false);
        this.#startSegment(dts, undefined);
      } else {
        this.#closeFragment(dts);
      }
    }
  }

  /**
   * The drift guard: the session's timeline puts this frame at `dts` (its origin plus media time); the track's clock
   * mapping puts it at `wallMs`. A camera whose clock runs fast or slow (a bad crystal, a paused
   * browser tab), or a server clock stepped by NTP, moves them apart. Past the bound the timeline
   * restarts at a keyframe instead of placing video ever further from when it was filmed: the
   * fragment is held open (up to 2 s) until it is long enough to absorb the drift when retimed,
   * then a keyframe is asked for ('hold' until it comes, then 'restart'). Nothing restarts during
   * a handover: the successor's cut is on this timeline.
   */
  #drift(timed: TimedFrame, dts: number, keyframe: boolean): 'ok' | 'hold' | 'restart' {
    if (this.#endAtMs !== undefined) return 'ok';
    const drift = this.#timeline.wallOf(dts) - timed.wallMs;
    if (drift < this.#aheadAccepted) this.#aheadAccepted = Math.max(0, drift); // the clock caught up
    const excess = drift > 0 ? drift - this.#aheadAccepted : -drift;
    if (excess <= this.#o.driftBoundMs) {
      this.#drifted = false;
      return 'ok';
    }
    const openMs = this.#timeline.wallOf(dts) - this.#timeline.wallOf(this.#fragment!.startDts);
    // Compressed to half its length a fragment absorbs half of it; stretched to double, all of it.
    const absorbs = drift > 0 ? openMs * (1 - 1 / RETIME_MAX) : openMs * (RETIME_MAX - 1);
    const ready = absorbs >= Math.abs(drift) || openMs >= DRIFT_OPEN_MAX_MS;
    if (!ready) return 'hold';
    if (keyframe) return 'restart';
    this.#sink.keyframeWanted(!this.#drifted);
    this.#drifted = true;
    // A camera slow to send its keyframe: fragments are cut again meanwhile (at most 2 s each).
    return openMs >= DRIFT_OPEN_MAX_MS ? 'ok' : 'hold';
  }

  /**
   * Ends the segment at this keyframe and starts the next one where the clock puts it. The
   * fragment still open is retimed (at most 1.5× faster or slower) to end there, so no frame is
   * lost and, as far as it can, no hole or second listed twice appears; what it cannot absorb
   * stays a hole (the timeline was behind: reason `clock-drift`) or stays ahead (never earlier
   * than what is already written).
   */
  #restartTimeline(timed: TimedFrame, config: VideoConfig | undefined): void {
    const segment = this.#segment!;
    const fragment = this.#fragment!;
    const lead = this.#timeline.timescale;
    const keyDts = this.#o.hasVideo ? this.#pendingVideo!.dts : this.#pendingAudio!.dts;
    if (this.#o.hasVideo && this.#pendingAudio) this.#addSample('audio', this.#pendingAudio, OPUS_FRAME_TICKS);
    this.#pendingAudio = undefined;
    const fragmentStartMs = this.#timeline.wallOf(fragment.startDts);
    const openMs = this.#timeline.wallOf(keyDts) - fragmentStartMs;
    const wantedMs = timed.wallMs - fragmentStartMs;
    const retimedMs = openMs <= 0 ? 0 : Math.min(openMs * RETIME_MAX, Math.max(openMs / RETIME_MAX, wantedMs));
    const endDts = fragment.startDts + Math.round((retimedMs * lead) / 1000);
    if (openMs > 0) {
      retime(fragment.video, fragment.startDts, keyDts, endDts);
      if (this.#o.hasVideo) {
        const aStart = Math.round((fragment.startDts * AUDIO_TIMESCALE) / VIDEO_TIMESCALE);
        retime(fragment.audio, aStart, Math.round((keyDts * AUDIO_TIMESCALE) / VIDEO_TIMESCALE), Math.round((endDts * AUDIO_TIMESCALE) / VIDEO_TIMESCALE));
      } else retime(fragment.audio, fragment.startDts, keyDts, endDts);
    }
    this.#closeFragment(endDts);
    const endMs = this.#timeline.wallOf(endDts);
    this.#sink.segmentEnded(segment.plan, segment.fragments > 0 ? endMs : undefined, 'clock');
    this.#segment = undefined;
    this.#fragment = undefined;
    this.#stats.driftRestarts += 1;
    this.#drifted = false;
    // Decode times start again from the restart's keyframe: the last one is of the old timeline.
    this.#lastKeyframeDts = undefined;
    // A new timeline from this keyframe; audio finds its place on it again by arrival.
    const startMs = Math.max(timed.wallMs, endMs);
    this.#aheadAccepted = startMs - timed.wallMs;
    this.#timeline.start(startMs);
    if (this.#o.hasVideo) this.#video0 = timed.ticks;
    else this.#audio0 = timed.ticks;
    if (this.#o.hasVideo) this.#audio0 = undefined;
    this.#syncByReports.length = 0;
    this.#syncByArrival.length = 0;
    this.#nextGapReason = 'clock-drift';
    this.#startSegment(0, config);
    if (this.#o.hasVideo) this.#pendingVideo = { timed, dts: 0 };
    else this.#pendingAudio = { timed, dts: 0 };
  }

  /** The timeline's start: where the clock puts the first frame, never before the last recording's end. */
  #placeOrigin(wallMs: number): void {
    const floor = this.#o.notBeforeMs ?? -Infinity;
    this.#timeline.start(Math.max(wallMs, floor));
    this.#aheadAccepted = this.#timeline.originMs - wallMs;
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
    const plan: SegmentPlan = { seq: this.#seq++, startMs: this.#timeline.wallOf(dts), gapReason: this.#nextGapReason, tracks: this.#tracks(config) };
    this.#segment = { plan, startDts: dts, fragments: 0, config };
    this.#fragment = { video: emptyRun(), audio: emptyRun(), startDts: dts };
    this.#stats.segments += 1;
    this.#nextGapReason = 'frames-lost';
    this.#sink.segmentStarted(plan);
    if (this.#o.hasVideo && this.#earlyAudio.length > 0) {
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
    if (this.#o.hasAudio) tracks.push({ id: AUDIO_TRACK_ID, kind: 'audio', codec: 'opus', timescale: AUDIO_TIMESCALE, channels: 2, sampleRate: 48_000, preSkip: 0 });
    return tracks;
  }

  /** Closes the open fragment at `endDts` (lead-track time where the next one starts). */
  #closeFragment(endDts: number): void {
    const segment = this.#segment;
    const fragment = this.#fragment;
    if (!segment || !fragment) return;
    this.#fragment = { video: emptyRun(), audio: emptyRun(), startDts: endDts };
    const runs: TrackRun[] = [];
    if (fragment.video.samples.length > 0) runs.push({ trackId: VIDEO_TRACK_ID, baseDecodeTime: fragment.video.base, samples: fragment.video.samples, data: fragment.video.data });
    if (fragment.audio.samples.length > 0) runs.push({ trackId: AUDIO_TRACK_ID, baseDecodeTime: fragment.audio.base, samples: fragment.audio.samples, data: fragment.audio.data });
    const leadSamples = this.#o.hasVideo ? fragment.video.samples : fragment.audio.samples;
    if (leadSamples.length === 0) return;
    const startMs = this.#timeline.wallOf(fragment.startDts);
    this.#sink.fragment(segment.plan, {
      index: segment.fragments++,
      startMs,
      durationMs: this.#timeline.wallOf(endDts) - startMs,
      keyframe: this.#o.hasVideo ? fragment.video.samples[0]!.keyframe : true,
      baseDecodeTimes: Object.fromEntries(runs.map((r) => [r.trackId, r.baseDecodeTime])),
      runs,
    });
  }

  /**
   * Ends the open segment. `withPending`: the last frames are written too, with the usual frame
   * duration (the recording stops); otherwise they stay for the next segment (a seamless cut).
   */
  #endSegment(reason: SegmentEndReason, withPending = true): void {
    const segment = this.#segment;
    if (!segment) return;
    if (this.#endAtMs !== undefined && segment.plan.startMs >= this.#endAtMs - HANDOVER_TOLERANCE_MS) {
      // The successor started on the same keyframe (or earlier): it has all of this segment.
      this.#segment = undefined;
      this.#fragment = undefined;
      this.#pendingVideo = undefined;
      this.#pendingAudio = undefined;
      this.#sink.segmentDiscarded(segment.plan);
      return;
    }
    let endDts: number;
    if (withPending) {
      // The last frame lasts as long as the one before it.
      if (this.#pendingVideo) this.#addSample('video', this.#pendingVideo, this.#lastVideoDuration);
      if (this.#pendingAudio) this.#addSample('audio', this.#pendingAudio, OPUS_FRAME_TICKS);
      let leadEnd = this.#o.hasVideo ? (this.#pendingVideo?.dts ?? 0) + this.#lastVideoDuration : (this.#pendingAudio?.dts ?? 0) + OPUS_FRAME_TICKS;
      this.#pendingVideo = undefined;
      this.#pendingAudio = undefined;
      if (this.#endAtMs !== undefined && this.#fragment) {
        // Handed over: what the successor records (it may have started a little in the past,
        // its first packets held for reordering) is cut from the frames not yet written.
        const lead = this.#timeline.timescale;
        const cut = this.#timeline.ticksAt(this.#endAtMs);
        if (this.#o.hasVideo) leadEnd = Math.min(leadEnd, trimRun(this.#fragment.video, cut));
        trimRun(this.#fragment.audio, Math.round((cut * AUDIO_TIMESCALE) / lead));
        if (!this.#o.hasVideo) leadEnd = Math.min(leadEnd, cut);
        leadEnd = Math.max(leadEnd, this.#fragment.startDts);
      }
      endDts = leadEnd;
    } else {
      endDts = this.#pendingVideo?.dts ?? this.#pendingAudio?.dts ?? segment.startDts;
    }
    this.#closeFragment(endDts);
    this.#sink.segmentEnded(segment.plan, segment.fragments > 0 ? this.#timeline.wallOf(endDts) : undefined, reason);
    this.#segment = undefined;
    this.#fragment = undefined;
  }
}

function emptyRun(): Run {
  return { base: 0, samples: [], data: [] };
}

/** Drops the samples of a run from decode time `cut` on and shortens the one across it; returns the run's new end. */
function trimRun(run: Run, cut: number): number {
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

/** Moves the samples of a run from decode time `cut` on into a run of their own (undefined if none). */
function takeFrom(run: Run, cut: number): Run | undefined {
  let t = run.base;
  for (let i = 0; i < run.samples.length; i++) {
    if (t >= cut) return { base: t, samples: run.samples.splice(i), data: run.data.splice(i) };
    t += run.samples[i]!.duration;
  }
  return undefined;
}

/**
 * Stretches a run lying in [from, to) so that it lies in [from, newTo): every sample keeps its
 * place in order, its duration scaled (at least one tick each).
 */
function retime(run: Run, from: number, to: number, newTo: number): void {
  if (run.samples.length === 0 || to <= from) return;
  const scale = (newTo - from) / (to - from);
  let t = run.base;
  run.base = from + Math.round((run.base - from) * scale);
  let placed = run.base;
  for (let i = 0; i < run.samples.length; i++) {
    const sample = run.samples[i]!;
    t += sample.duration;
    const end = Math.max(placed + 1, from + Math.round((t - from) * scale));
    run.samples[i] = { ...sample, duration: end - placed };
    placed = end;
  }
}
