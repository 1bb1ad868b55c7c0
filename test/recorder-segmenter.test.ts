// The segmenter's cut rules, driven by frame sequences a camera sends (video at 30 fps with its
// keyframe interval, Opus every 20 ms), through the real wall-clock mapping, with arrival times
// as a network delivers them. No mediasoup, no disk: what comes out is what the spool would get.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WallClockMapping } from '../recorder/clock.ts';
import { Segmenter, VIDEO_TIMESCALE, type FragmentPlan, type SegmentPlan, type SegmenterOptions } from '../recorder/Segmenter.ts';
import type { Frame, VideoConfig } from '../recorder/rtp/index.ts';

const T0 = Date.UTC(2026, 11, 6, 3, 0, 0);
const HD: VideoConfig = { codec: 'vp8', width: 1280, height: 720, codecString: 'vp08.00.10.08' };
const SD: VideoConfig = { codec: 'vp8', width: 640, height: 360, codecString: 'vp08.00.10.08' };

interface Recorded {
  plan: SegmentPlan;
  fragments: FragmentPlan[];
  endMs?: number;
  reason?: string;
  discarded?: boolean;
}

/** A sink that keeps what the spool would be given. */
function recorder() {
  const segments: Recorded[] = [];
  let keyframeRequests = 0;
  const find = (plan: SegmentPlan) => segments.find((s) => s.plan === plan)!;
  return {
    segments,
    get keyframeRequests() {
      return keyframeRequests;
    },
    sink: {
      segmentStarted: (plan: SegmentPlan) => void segments.push({ plan, fragments: [] }),
      fragment: (plan: SegmentPlan, f: FragmentPlan) => void find(plan).fragments.push(f),
      segmentEnded: (plan: SegmentPlan, endMs: number | undefined, reason: string) => Object.assign(find(plan), { endMs, reason }),
      segmentDiscarded: (plan: SegmentPlan) => void (find(plan).discarded = true),
      keyframeWanted: () => void (keyframeRequests += 1),
    },
  };
}

interface CameraOptions {
  seconds: number;
  fps?: number;
  /** Seconds between keyframes. */
  gop?: number;
  audio?: boolean;
  /** How much faster than real time the camera's clock runs (0.01: 1 % fast). */
  clockError?: number;
  /** Network delay of each frame (ms), by frame time (ms from the start). */
  delay?: (atMs: number, kind: 'video' | 'audio') => number;
  /** The server's clock, by true time (a step models NTP). */
  serverClock?: (trueMs: number) => number;
  /** The configuration of the video frame at this time. */
  config?: (atMs: number) => VideoConfig;
  /** Video frames that never arrive whole (ms from the start). */
  lost?: (atMs: number) => boolean;
}

/** `arrivalMs` on the server's wall clock; `trueMs` on a monotonic one. */
type Event = { arrivalMs: number; trueMs: number; kind: 'video' | 'audio'; ticks: number; frame: Frame };

/** The frames a camera sends, in the order they arrive, with RTP times from its own clock. */
function camera(o: CameraOptions): Event[] {
  const fps = o.fps ?? 30;
  const gopFrames = Math.round((o.gop ?? 1) * fps);
  const rate = 1 + (o.clockError ?? 0);
  const delay = o.delay ?? (() => 40);
  const server = o.serverClock ?? ((t: number) => t);
  const events: Event[] = [];
  const frames = Math.round(o.seconds * fps);
  for (let i = 0; i < frames; i++) {
    const at = (i * 1000) / fps;
    if (o.lost?.(at)) continue;
    const keyframe = i % gopFrames === 0;
    const frame: Frame = { kind: 'video', timestamp: 0, keyframe, data: new Uint8Array(keyframe ? 4000 : 500), config: o.config?.(at) ?? HD };
    events.push({ arrivalMs: 0, trueMs: T0 + at + delay(at, 'video'), kind: 'video', ticks: Math.round((i * VIDEO_TIMESCALE * rate) / fps), frame });
  }
  if (o.audio !== false) {
    for (let i = 0; i < o.seconds * 50; i++) {
      const at = i * 20;
      events.push({ arrivalMs: 0, trueMs: T0 + at + delay(at, 'audio'), kind: 'audio', ticks: Math.round(i * 960 * rate), frame: { kind: 'audio', timestamp: 0, data: new Uint8Array(80) } });
    }
  }
  // In the order they arrive; then the server's clock (stepped or not) stamps them.
  events.sort((a, b) => a.trueMs - b.trueMs);
  for (const e of events) e.arrivalMs = server(e.trueMs);
  return events;
}

/** Runs the frames through the wall-clock mappings into a segmenter, with its 100 ms ticks. */
function record(events: Event[], options: Partial<SegmenterOptions> = {}, during?: (segmenter: Segmenter, arrivalMs: number) => void) {
  const out = recorder();
  const hasVideo = events.some((e) => e.kind === 'video');
  const hasAudio = events.some((e) => e.kind === 'audio');
  const segmenter = new Segmenter({ hasVideo, hasAudio, fragmentMs: 1000, segmentSeconds: 60, firstGapReason: 'camera-offline', nowMs: events[0]!.trueMs, ...options }, out.sink);
  const clocks = { video: new WallClockMapping(VIDEO_TIMESCALE), audio: new WallClockMapping(48_000) };
  let nextTick = events[0]!.trueMs + 100;
  for (const e of events) {
    while (nextTick <= e.trueMs) {
      segmenter.tick(nextTick);
      nextTick += 100;
    }
    during?.(segmenter, e.arrivalMs);
    clocks[e.kind].observeArrival(e.ticks, e.arrivalMs);
    const timed = { frame: e.frame, ticks: e.ticks, wallMs: clocks[e.kind].wallOf(e.ticks) };
    if (e.kind === 'video') segmenter.video(timed, e.trueMs);
    else segmenter.audio(timed, e.trueMs);
  }
  segmenter.close();
  return { ...out, segmenter };
}

const sum = (xs: readonly { duration: number }[]) => xs.reduce((a, s) => a + s.duration, 0);
const videoRun = (f: FragmentPlan) => f.runs.find((r) => r.trackId === 1);
const audioRun = (f: FragmentPlan) => f.runs.find((r) => r.trackId === 2);

/** Each segment's fragments follow each other without a hole, and end where the segment ends. */
function assertContinuous(s: Recorded, label: string): void {
  for (let i = 1; i < s.fragments.length; i++) {
    const a = s.fragments[i - 1]!;
    assert.ok(Math.abs(a.startMs + a.durationMs - s.fragments[i]!.startMs) <= 1, `${label}: fragment ${i} follows fragment ${i - 1}`);
  }
  const last = s.fragments.at(-1)!;
  assert.ok(Math.abs(last.startMs + last.durationMs - s.endMs!) <= 1, `${label}: the segment ends with its last fragment`);
  assert.is(s.fragments[0]!.startMs, s.plan.startMs, `${label}: the first fragment starts the segment`);
}

test('cut points: ~1 s fragments starting on keyframes, 60 s segments cut at a keyframe, each following the last without a hole', () => {
  const { segments } = record(camera({ seconds: 185 }));
  assert.is(segments.length, 4);
  assert.equal(
    segments.map((s) => s.reason),
    ['duration', 'duration', 'duration', 'stopped'],
  );
  for (const [i, s] of segments.entries()) {
    assertContinuous(s, `segment ${i}`);
    assert.ok(s.fragments.every((f) => f.keyframe), 'every fragment starts with a keyframe (1 s GOP)');
    if (i > 0) assert.is(s.plan.startMs, segments[i - 1]!.endMs, `segment ${i} starts where ${i - 1} ended`);
    if (i > 0) assert.is(s.plan.gapReason, 'frames-lost', 'a seamless cut has no gap reason of its own');
  }
  assert.is(segments[0]!.plan.gapReason, 'camera-offline');
  assert.equal(segments.slice(0, 3).map((s) => s.endMs! - s.plan.startMs), [60_000, 60_000, 60_000]);
  const fragmentLengths = segments.flatMap((s) => s.fragments.map((f) => f.durationMs));
  assert.ok(fragmentLengths.slice(0, -1).every((d) => d === 1000), `fragments of 1 s: ${[...new Set(fragmentLengths)]}`);
  // Every frame sent is in the recording, once.
  const frames = segments.flatMap((s) => s.fragments.flatMap((f) => videoRun(f)?.samples ?? []));
  assert.is(frames.length, 185 * 30);
  assert.is(segments[0]!.plan.tracks.map((t) => t.kind).join(), 'video,audio');
});

test('keyframe gaps: with a keyframe every 4 s fragments are cut at 1 s between keyframes, segments only at keyframes, and a keyframe is asked for as a segment nears its end', () => {
  const out = record(camera({ seconds: 130, gop: 4 }), { segmentSeconds: 10 });
  const { segments } = out;
  for (const [i, s] of segments.entries()) {
    assertContinuous(s, `segment ${i}`);
    assert.ok(s.fragments[0]!.keyframe, 'a segment starts on a keyframe');
    assert.is((s.plan.startMs - T0 - 40) % 4000, 0, `segment ${i} starts on a keyframe (${s.plan.startMs - T0})`);
    if (s.reason === 'duration') assert.ok(s.endMs! - s.plan.startMs >= 10_000 && s.endMs! - s.plan.startMs <= 12_000, 'segments as long as asked, to the next keyframe');
  }
  const fragments = segments.flatMap((s) => s.fragments);
  assert.ok(fragments.some((f) => !f.keyframe), 'fragments between keyframes are cut by length');
  assert.ok(fragments.slice(0, -1).every((f) => f.durationMs <= 1000), 'no fragment longer than 1 s');
  assert.ok(out.keyframeRequests >= segments.length - 1, `keyframes asked for: ${out.keyframeRequests}`);
});

test('a camera with a keyframe every second is not asked for one as segments end (its request would go unanswered and hold back viewers\'), and its segments still end on time', () => {
  const out = record(camera({ seconds: 65, gop: 1 }), { segmentSeconds: 10 });
  const ended = out.segments.filter((s) => s.reason === 'duration');
  assert.ok(ended.length >= 5, `segments ended by length: ${ended.length}`);
  for (const s of ended) assert.ok(s.endMs! - s.plan.startMs >= 10_000 && s.endMs! - s.plan.startMs <= 11_000, `segment of ${s.endMs! - s.plan.startMs} ms`);
  assert.is(out.keyframeRequests, 0, 'no keyframe asked for');
});

test('late and early audio: audio that arrives before its keyframe joins the first segment; audio 150 ms later than video still lands beside its video', () => {
  // Video held 250 ms (reordering, a slow path), audio on time: audio of the first keyframe arrives first.
  const early = record(camera({ seconds: 10, delay: (_, kind) => (kind === 'video' ? 290 : 40) }));
  const first = early.segments[0]!;
  const a0 = audioRun(first.fragments[0]!)!;
  assert.ok(a0.baseDecodeTime <= 960, `the first fragment has the audio from the keyframe on (base ${a0.baseDecodeTime})`);
  const late = record(camera({ seconds: 10, delay: (_, kind) => (kind === 'audio' ? 190 : 40) }));
  for (const f of late.segments[0]!.fragments.slice(1, -1)) {
    const v = videoRun(f)!;
    const a = audioRun(f)!;
    // Audio runs beside video: its decode time (48 kHz) at most one frame away from video's (90 kHz).
    const apart = Math.abs(a.baseDecodeTime / 48 - v.baseDecodeTime / 90);
    assert.ok(apart <= 180, `audio ${apart.toFixed(0)} ms from its video`);
  }
  const audioFrames = late.segments.flatMap((s) => s.fragments.flatMap((f) => audioRun(f)?.samples ?? []));
  assert.ok(audioFrames.length >= 10 * 50 - 10, `audio kept: ${audioFrames.length} of 500 frames`);
});

test('a keyframe slower than its audio: the audio filmed from the keyframe on opens the next segment with it, none lost or listed twice', () => {
  // Each keyframe after the first (every 2 s) comes in 120 ms late, the frames behind it held back
  // with it (the reorder buffer releases them in order); audio arrives on time meanwhile.
  const events = camera({ seconds: 25, gop: 2 });
  let heldUntil = 0;
  for (const e of events) {
    if (e.kind !== 'video') continue;
    if (e.frame.kind === 'video' && e.frame.keyframe && e.ticks > 0) e.trueMs += 120;
    e.trueMs = Math.max(e.trueMs, heldUntil);
    heldUntil = e.trueMs;
  }
  events.sort((a, b) => a.trueMs - b.trueMs);
  for (const e of events) e.arrivalMs = e.trueMs;
  const { segments } = record(events, { segmentSeconds: 4 });
  assert.ok(segments.length >= 5, `${segments.length} segments`);
  for (const [i, s] of segments.entries()) {
    const v = videoRun(s.fragments[0]!)!;
    const a = audioRun(s.fragments[0]!)!;
    const startApart = a.baseDecodeTime / 48 - v.baseDecodeTime / 90;
    assert.ok(Math.abs(startApart) <= 20, `segment ${i}: audio starts ${startApart.toFixed(0)} ms from video`);
    if (s.reason !== 'duration') continue;
    const lastV = videoRun(s.fragments.at(-1)!)!;
    const lastA = audioRun(s.fragments.at(-1)!)!;
    const endApart = (lastA.baseDecodeTime + sum(lastA.samples)) / 48 - (lastV.baseDecodeTime + sum(lastV.samples)) / 90;
    assert.ok(endApart <= 20, `segment ${i}: audio ends ${endApart.toFixed(0)} ms after its video`);
  }
  // Every audio frame once, in order: decode times never go back or repeat across segments.
  const starts = segments.flatMap((s) =>
    s.fragments.flatMap((f) => {
      const r = audioRun(f);
      if (!r) return [];
      let t = r.baseDecodeTime;
      return r.samples.map((x) => ((t += x.duration), t - x.duration));
    }),
  );
  for (let k = 1; k < starts.length; k++) assert.ok(starts[k]! > starts[k - 1]!, `audio frame ${k} after frame ${k - 1}`);
  assert.is(starts.length, 25 * 50, 'every audio frame is recorded');
});

test('a producer change mid-fragment: the old session stops exactly where the new one starts (handover), and a segment the new one has whole is dropped', () => {
  const events = camera({ seconds: 20 });
  const cutMs = T0 + 12_500 + 40; // the new session's first keyframe, mid-fragment of the old one
  const old = record(events, {}, (segmenter, arrivalMs) => {
    if (arrivalMs >= cutMs - 200 && arrivalMs < cutMs - 150) segmenter.endAt(cutMs);
  });
  const last = old.segments.at(-1)!;
  assert.is(last.reason, 'stopped');
  assert.ok(Math.abs(last.endMs! - cutMs) <= 34, `the old session ends at the new one's start (${last.endMs! - cutMs} ms)`);
  assertContinuous(last, 'old');
  // Told to end where its segment started: nothing of it is kept.
  const whole = record(camera({ seconds: 5 }), {}, (segmenter, arrivalMs) => {
    if (arrivalMs > T0 + 1000 && arrivalMs < T0 + 1040) segmenter.endAt(T0 + 40);
  });
  assert.ok(whole.segments.every((s) => s.discarded), 'the successor has it all');
});

test('a resolution change ends the segment where the new resolution begins; the next one has the new size', () => {
  const { segments } = record(camera({ seconds: 30, config: (at) => (at < 14_000 ? HD : SD) }));
  assert.is(segments.length, 2);
  assert.is(segments[0]!.reason, 'config');
  assert.is(segments[1]!.plan.startMs, segments[0]!.endMs!, 'no hole at the change');
  assert.is(segments[1]!.plan.startMs, T0 + 14_000 + 40);
  const size = (s: Recorded) => s.plan.tracks.find((t) => t.kind === 'video') as { width: number };
  assert.equal([size(segments[0]!).width, size(segments[1]!).width], [1280, 640]);
  for (const s of segments) assertContinuous(s, 'resolution');
});

test('frames lost end the segment at the last whole frame; the next starts at the next keyframe as a frames-lost gap; a silent camera ends it after 3 s', () => {
  const lossy = record(camera({ seconds: 12, lost: (at) => at >= 5_020 && at < 5_060 }), {}, (segmenter, arrivalMs) => {
    if (arrivalMs >= T0 + 5_100 && arrivalMs < T0 + 5_134) segmenter.framesLost();
  });
  assert.is(lossy.segments.length, 2);
  assert.is(lossy.segments[0]!.reason, 'interrupted');
  assert.is(lossy.segments[1]!.plan.gapReason, 'frames-lost');
  assert.is(lossy.segments[1]!.plan.startMs, T0 + 6_000 + 40, 'restarts at the next keyframe');
  const silent = record([...camera({ seconds: 5 }), ...camera({ seconds: 10 }).map((e) => ({ ...e, arrivalMs: e.arrivalMs + 20_000, trueMs: e.trueMs + 20_000, ticks: e.ticks + 20 * (e.kind === 'video' ? VIDEO_TIMESCALE : 48_000) }))].sort((a, b) => a.arrivalMs - b.arrivalMs));
  assert.is(silent.segments[0]!.reason, 'interrupted');
  assert.is(silent.segments[1]!.plan.gapReason, 'camera-offline');
});

test('a two-hour session: 120 segments of 60 s back to back, every frame once, the media time exactly two hours', () => {
  const { segments } = record(camera({ seconds: 7200 }));
  assert.is(segments.length, 120);
  for (let i = 1; i < segments.length; i++) assert.is(segments[i]!.plan.startMs, segments[i - 1]!.endMs!);
  const video = segments.flatMap((s) => s.fragments.flatMap((f) => videoRun(f)!.samples));
  assert.is(video.length, 7200 * 30);
  assert.is(sum(video), 7200 * VIDEO_TIMESCALE);
  assert.is(segments.at(-1)!.endMs! - segments[0]!.plan.startMs, 7_200_000);
});

test('drift guard: a camera clock 1 % fast or slow restarts the timeline at a keyframe within the bound; no frame is lost, no second listed twice, and what it records stays where it was filmed', () => {
  for (const clockError of [0.01, -0.01]) {
    const { segments, segmenter } = record(camera({ seconds: 300, clockError }));
    const label = clockError > 0 ? 'fast' : 'slow';
    assert.ok(segmenter.stats.driftRestarts >= 4 && segmenter.stats.driftRestarts <= 8, `${label}: ${segmenter.stats.driftRestarts} restarts in 300 s (1 % of 300 s is 3 s; one each 500 ms)`);
    assert.ok(segments.some((s) => s.reason === 'clock'));
    for (let i = 1; i < segments.length; i++) {
      const step = segments[i]!.plan.startMs - segments[i - 1]!.endMs!;
      assert.ok(step >= 0, `${label}: segment ${i} starts after ${i - 1} ended (${step} ms)`);
      assert.ok(step <= 1, `${label}: no hole at a restart (${step} ms)`);
    }
    // Every fragment starts within the bound (plus a little drift until the keyframe) of when its first frame was filmed.
    let index = 0;
    let worst = 0;
    for (const f of segments.flatMap((s) => s.fragments)) {
      worst = Math.max(worst, Math.abs(f.startMs - (T0 + 40 + (index * 1000) / 30)));
      index += videoRun(f)!.samples.length;
    }
    console.log(`  ${label} 1 %: ${segmenter.stats.driftRestarts} restarts in 300 s; a fragment at most ${worst.toFixed(0)} ms from when it was filmed`);
    assert.ok(worst <= 700, `${label}: a fragment placed ${worst.toFixed(0)} ms from when it was filmed`);
    const frames = segments.flatMap((s) => s.fragments.flatMap((f) => videoRun(f)!.samples));
    assert.is(frames.length, 300 * 30, `${label}: every frame kept`);
    const recordedEnd = segments.at(-1)!.endMs!;
    assert.ok(Math.abs(recordedEnd - (T0 + 300_000 + 40)) <= 700, `${label}: the recording ends when the camera stopped (${recordedEnd - T0 - 300_040} ms off)`);
  }
  // A camera that sends a keyframe only every 10 s (it ignores requests): fragments stay at most 2 s
  // while the restart waits for one, and it restarts all the same.
  const slowKeys = record(camera({ seconds: 300, clockError: 0.01, gop: 10 }));
  const longest = Math.max(...slowKeys.segments.flatMap((s) => s.fragments.map((f) => f.durationMs)));
  assert.ok(longest <= 2100, `a fragment of ${longest} ms while waiting for a keyframe`);
  assert.ok(slowKeys.segmenter.stats.driftRestarts >= 3, `${slowKeys.segmenter.stats.driftRestarts} restarts with a keyframe every 10 s`);
  assert.is(slowKeys.segments.flatMap((s) => s.fragments.flatMap((f) => videoRun(f)!.samples)).length, 300 * 30);
  // Without the guard's restarts the same fast camera would end 3 s in the future.
  const unguarded = record(camera({ seconds: 300, clockError: 0.01 }), { driftBoundMs: Infinity });
  assert.ok(unguarded.segments.at(-1)!.endMs! - (T0 + 300_040) >= 2900);
});

test("the server's clock stepped by NTP, back and forward by 5 s: segments never overlap or go back in time, and no restart loop", () => {
  for (const step of [-5000, 5000]) {
    const { segments, segmenter } = record(camera({ seconds: 200, serverClock: (t) => (t >= T0 + 70_000 ? t + step : t) }));
    for (let i = 1; i < segments.length; i++) assert.ok(segments[i]!.plan.startMs >= segments[i - 1]!.endMs!, `step ${step}: segment ${i} does not overlap ${i - 1}`);
    for (const s of segments) for (let i = 1; i < s.fragments.length; i++) assert.ok(s.fragments[i]!.startMs >= s.fragments[i - 1]!.startMs);
    assert.ok(segmenter.stats.driftRestarts <= 2, `step ${step}: ${segmenter.stats.driftRestarts} restarts`);
    const holes = segments.slice(1).map((s, i) => s.plan.startMs - segments[i]!.endMs!);
    console.log(`  clock stepped ${step / 1000} s: ${segmenter.stats.driftRestarts} restart(s), holes between segments ${JSON.stringify(holes)} ms`);
    const frames = segments.flatMap((s) => s.fragments.flatMap((f) => videoRun(f)!.samples));
    assert.is(frames.length, 200 * 30, `step ${step}: every frame kept`);
  }
  // A new session after the clock went back 5 s starts where the last recording ended, not before it.
  const after = record(camera({ seconds: 20 }), { notBeforeMs: T0 + 5_000 });
  assert.is(after.segments[0]!.plan.startMs, T0 + 5_000);
  assert.is(after.segmenter.stats.driftRestarts, 0, 'the offset it starts with is no drift');
});

test.run();
