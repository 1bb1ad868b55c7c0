// The pure segmenter (recorder/Segmenter.ts) on its own, in microseconds per frame: what the cut
// rules cost, and what they cost with every fragment encoded into moof + mdat bytes the way
// RecordingSession#onFragment does (mediaFragment), without I/O, encryption or RTP.
//
// The input is MIMAMORI_BENCH_SEGMENTER_MINUTES (default 10) of one camera as the ingest bench's
// cameras send it: H.264 at 30 fps with a keyframe every second (keyframes 40 KB, other frames
// 3 KB) and Opus every 20 ms (80 bytes), in arrival order, with the recorder's 100 ms ticks; frame
// payloads are a few preallocated Uint8Arrays, and the frame sequence is built before timing, so
// only the segmenter (and the sink) is measured. Two warm-up runs per mode, then
// MIMAMORI_BENCH_SEGMENTER_RUNS (default 7) runs of each mode, alternating; the median wall time
// per frame is reported (with the fastest run, and the CPU time, beside it: on a shared machine the
// encoding's fresh ~130 KB buffers cost page faults that vary a lot from run to run).
//
// `npm run bench -- segmenter` runs it alone; `npm run bench -- ingest` runs it first.
import { performance } from 'node:perf_hooks';
import { mediaFragment } from '../../recorder/mp4/index.ts';
import type { Frame, H264Config } from '../../recorder/rtp/index.ts';
import { AUDIO_TIMESCALE, Segmenter, VIDEO_TIMESCALE, type SegmenterSink, type TimedFrame } from '../../recorder/Segmenter.ts';
import { emit, median, round } from './figures.ts';

const MINUTES = Number(process.env.MIMAMORI_BENCH_SEGMENTER_MINUTES ?? 10);
const RUNS = Number(process.env.MIMAMORI_BENCH_SEGMENTER_RUNS ?? 7);
const WARMUP_RUNS = 2;
const FPS = 30;
const GOP_FRAMES = 30;
const KEYFRAME_BYTES = 40_000;
const FRAME_BYTES = 3_000;
const OPUS_BYTES = 80;
const OPUS_MS = 20;
const TICK_MS = 100;
/** Network delay of every frame (ms): placed on the wall clock exactly, no drift, no reordering. */
const DELAY_MS = 40;
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const OPTIONS = { fragmentMs: 1000, segmentSeconds: 60 };

const CONFIG: H264Config = {
  codec: 'h264',
  sps: new Uint8Array([0x67, 0x42, 0xe0, 0x1f, 0x8d, 0x68, 0x05, 0x00, 0x5b, 0xa1, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x8f, 0x14, 0x2a, 0x80]),
  pps: new Uint8Array([0x68, 0xce, 0x3c, 0x80]),
  width: 640,
  height: 360,
  profileIdc: 66,
  constraintFlags: 0xe0,
  levelIdc: 31,
  codecString: 'avc1.42e01f',
};

interface Event {
  /** Arrival on the monotonic clock (ms). */
  atMs: number;
  video: boolean;
  timed: TimedFrame;
}

/** The camera's frames in arrival order: the same payload arrays throughout, fresh frame objects (as a depacketizer makes them). */
function camera(minutes: number): Event[] {
  const keyframe = new Uint8Array(KEYFRAME_BYTES).fill(0x65);
  const delta = new Uint8Array(FRAME_BYTES).fill(0x41);
  const opus = new Uint8Array(OPUS_BYTES).fill(0xfc);
  const events: Event[] = [];
  const ms = minutes * 60_000;
  const videoFrames = Math.round((ms * FPS) / 1000);
  const audioFrames = Math.round(ms / OPUS_MS);
  let v = 0;
  let a = 0;
  while (v < videoFrames || a < audioFrames) {
    const vAt = (v * 1000) / FPS;
    const aAt = a * OPUS_MS;
    if (v < videoFrames && (a >= audioFrames || vAt <= aAt)) {
      const ticks = Math.round((v * VIDEO_TIMESCALE) / FPS);
      const key = v % GOP_FRAMES === 0;
      const frame: Frame = { kind: 'video', timestamp: ticks >>> 0, keyframe: key, data: key ? keyframe : delta, config: CONFIG };
      events.push({ atMs: vAt + DELAY_MS, video: true, timed: { frame, ticks, wallMs: T0 + vAt } });
      v += 1;
    } else {
      const ticks = (a * OPUS_MS * AUDIO_TIMESCALE) / 1000;
      const frame: Frame = { kind: 'audio', timestamp: ticks >>> 0, data: opus };
      events.push({ atMs: aAt + DELAY_MS, video: false, timed: { frame, ticks, wallMs: T0 + aAt } });
      a += 1;
    }
  }
  return events;
}

interface RunResult {
  /** Wall time per frame (µs). */
  us: number;
  /** CPU time per frame (µs), all of this process's threads (V8's GC helpers too). */
  cpuUs: number;
  fragments: number;
  segments: number;
  bytes: number;
}

function run(events: readonly Event[], encode: boolean): RunResult {
  let fragments = 0;
  let segments = 0;
  let bytes = 0;
  const sink: SegmenterSink = {
    segmentStarted: () => void (segments += 1),
    fragment: encode
      ? (_segment, fragment) => {
          fragments += 1;
          bytes += mediaFragment(fragment.index + 1, fragment.runs).length;
        }
      : () => void (fragments += 1),
    segmentEnded: () => undefined,
    segmentDiscarded: () => undefined,
    keyframeWanted: () => undefined,
  };
  const cpu = process.cpuUsage();
  const start = performance.now();
  const segmenter = new Segmenter({ hasVideo: true, hasAudio: true, firstGapReason: 'camera-offline', nowMs: events[0]!.atMs, ...OPTIONS }, sink);
  let nextTick = events[0]!.atMs + TICK_MS;
  for (const e of events) {
    while (nextTick <= e.atMs) {
      segmenter.tick(nextTick);
      nextTick += TICK_MS;
    }
    if (e.video) segmenter.video(e.timed, e.atMs);
    else segmenter.audio(e.timed, e.atMs);
  }
  segmenter.close();
  const wallUs = (performance.now() - start) * 1000;
  const used = process.cpuUsage(cpu);
  return { us: wallUs / events.length, cpuUs: (used.user + used.system) / events.length, fragments, segments, bytes };
}

export interface SegmenterFigures {
  segmenter_us_per_frame: number;
  segmenter_mp4_us_per_frame: number;
}

/** Runs the micro-benchmark, prints its line, returns the two figures. */
export function segmenterBench(): SegmenterFigures {
  const events = camera(MINUTES);
  // Warm-up: JIT, inline caches, and the allocator (the first few hundred fragment buffers cost
  // page faults that later ones mostly do not).
  for (let i = 0; i < WARMUP_RUNS; i++) {
    run(events, false);
    run(events, true);
  }
  const plain: RunResult[] = [];
  const mp4: RunResult[] = [];
  for (let i = 0; i < RUNS; i++) {
    plain.push(run(events, false));
    mp4.push(run(events, true));
  }
  const last = mp4.at(-1)!;
  const figures: SegmenterFigures = {
    segmenter_us_per_frame: round(median(plain.map((r) => r.us)), 3),
    segmenter_mp4_us_per_frame: round(median(mp4.map((r) => r.us)), 3),
  };
  emit({
    phase: 'segmenter',
    ...figures,
    segmenter_us_per_frame_min: round(Math.min(...plain.map((r) => r.us)), 3),
    segmenter_mp4_us_per_frame_min: round(Math.min(...mp4.map((r) => r.us)), 3),
    segmenter_cpu_us_per_frame: round(median(plain.map((r) => r.cpuUs)), 3),
    segmenter_mp4_cpu_us_per_frame: round(median(mp4.map((r) => r.cpuUs)), 3),
    segmenter_us_per_frame_runs: plain.map((r) => round(r.us, 3)),
    segmenter_mp4_us_per_frame_runs: mp4.map((r) => round(r.us, 3)),
    segmenter_cpu_us_per_frame_runs: plain.map((r) => round(r.cpuUs, 3)),
    segmenter_mp4_cpu_us_per_frame_runs: mp4.map((r) => round(r.cpuUs, 3)),
    frames_per_run: events.length,
    media_minutes: MINUTES,
    fragments_per_run: last.fragments,
    segments_per_run: last.segments,
    fragment_kb_mean: round(last.bytes / Math.max(1, last.fragments) / 1024),
    runs: RUNS,
    input: `H.264 ${FPS} fps, keyframe every ${GOP_FRAMES / FPS} s (${KEYFRAME_BYTES / 1000} KB, others ${FRAME_BYTES / 1000} KB) + Opus ${OPUS_BYTES} B every ${OPUS_MS} ms; fragments ${OPTIONS.fragmentMs} ms, segments ${OPTIONS.segmentSeconds} s`,
  });
  return figures;
}

// `npm run bench -- segmenter`
export async function main(): Promise<void> {
  const figures = segmenterBench();
  emit({ bench: 'segmenter', ...figures });
}
