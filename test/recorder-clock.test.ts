// The drift guard with real parts: a werift camera whose media clock runs 1 % fast publishes for
// 90 s through mediasoup to the recorder. Placed by its own clock, its last frames would sit 0.9 s
// in the future; the recorder restarts the timeline at a keyframe instead, without a hole, a
// second listed twice or a frame lost.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Camera } from '../camera/index.ts';
import { startService, type Service } from './harness.ts';
import { openRecordings, videoSamples } from './recordings.ts';

let svc: Service;

test.before(async () => {
  svc = await startService({ env: { MIMAMORI_SEGMENT_SECONDS: '10' } });
});
test.after(async () => {
  await svc?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Timeline {
  segments: { startMs: number; endMs: number; end: string }[];
  gaps: { fromMs: number; toMs: number; reason: string }[];
}

test('a camera whose clock runs 1 % fast stays where it was filmed: the timeline restarts at a keyframe, no hole, every frame once', async () => {
  const cam = await svc.createCamera('Fast clock');
  const from = Date.now();
  // The recorder places frames by the server's wall clock (Date.now()); the frames' stamps are on
  // this process's monotonic clock. NTP may step or slew the wall clock during the run: watch how
  // far the two part, so that a frame placed by a stepped clock is not taken for the guard's fault.
  const wallMinusMonotonic = () => Date.now() - (performance.timeOrigin + performance.now());
  const offset0 = wallMinusMonotonic();
  let wallAhead = 0;
  let wallBehind = 0;
  const watch = setInterval(() => {
    const moved = wallMinusMonotonic() - offset0;
    wallAhead = Math.max(wallAhead, moved);
    wallBehind = Math.max(wallBehind, -moved);
  }, 100);
  const camera = await Camera.create({ whipUrl: `${svc.url}/whip/${cam.id}`, token: await svc.publishToken(cam.id, cam.secret), width: 320, height: 180, kbps: 300, fps: 30, clockError: 0.01 });
  await sleep(90_000);
  const sent = camera.stats.framesSent;
  await camera.close();
  clearInterval(watch);
  let t: Timeline | undefined;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = (await (await svc.api('/api/recorder')).json()) as { upload: { queued: number }; spoolBytes: number; cameras: { cameraId: string; recording: boolean }[] };
    t = (await (await svc.api(`/api/cameras/${cam.id}/recordings?from=${from}&to=${Date.now() + 5000}`)).json()) as Timeline;
    if (!status.cameras.some((c) => c.cameraId === cam.id && c.recording) && status.upload.queued === 0 && status.spoolBytes === 0) break;
    assert.ok(Date.now() < deadline, 'uploads finish');
    await sleep(250);
  }
  const restarts = t.segments.filter((s) => s.end === 'clock').length;
  const steps = t.segments.slice(1).map((s, i) => s.startMs - t.segments[i]!.endMs);
  assert.ok(restarts >= 1, `the timeline restarted at least once: ${JSON.stringify(t.segments.map((s) => s.end))}`);
  assert.equal(t.gaps, [], 'no hole');
  assert.ok(steps.every((d) => d >= 0 && d <= 1), `segments follow each other: ${JSON.stringify(steps)}`);

  const r = await openRecordings(svc.dataDir);
  try {
    const segments = await r.segments(cam.id);
    const frames = segments.flatMap((s) => videoSamples(s).map((v) => v.frame));
    for (let i = 1; i < frames.length; i++) assert.is(frames[i], frames[i - 1]! + 1, `frame ${frames[i - 1]} is followed by the next, none lost or repeated`);
    assert.ok(frames.length >= sent - 45, `recorded ${frames.length} of ${sent} frames`);
    // Where each frame is placed (its segment's start plus its decode time in the segment) against
    // when the camera sent it (its stamp; same machine, same clock). Without the guard the last
    // frames would be placed ~0.9 s after they were sent.
    const late = segments.map((s) => {
      const samples = videoSamples(s);
      const first = samples[0]!.decodeTime;
      return Math.round(Math.max(...samples.map((v) => s.header.startMs + (v.decodeTime - first) / 90 - v.sentAt!)));
    });
    console.log(`  ${segments.length} segments, ${restarts} restart(s) at a keyframe; per segment, the latest a frame is placed after it was sent: ${JSON.stringify(late)} ms; the wall clock moved ${wallAhead.toFixed(0)} ms ahead of / ${wallBehind.toFixed(0)} ms behind the monotonic clock meanwhile`);
    // A wall clock stepped ahead lets frames run that much later before the guard sees its bound;
    // one stepped back lets them be placed that much before their (monotonic) stamp.
    assert.ok(late.every((ms) => ms <= 650 + wallAhead), 'every frame is placed within 0.65 s of when it was sent');
    assert.ok(Math.min(...late) >= -50 - wallBehind, 'and never before it was sent');
  } finally {
    await r.close();
  }
});

test.run();
