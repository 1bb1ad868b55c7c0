// The recorder end to end with real parts: werift camera --WHIP--> mediasoup --> recorder -->
// sealed fMP4 on the spool --> the embedded S3 server over HTTP; read back and decoded by ffmpeg.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { Camera } from '../camera/index.ts';
import { startService, type Service } from './harness.ts';
import { decodeErrors, ffprobe, openRecordings, videoSamples, writeMp4, type Recordings } from './recordings.ts';

let svc: Service;
let tmp: string;

test.before(async () => {
  svc = await startService({ env: { MIMAMORI_SEGMENT_SECONDS: '4' } });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-rec-'));
});
test.after(async () => {
  await svc?.stop();
  await fs.rm(tmp, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Timeline {
  segments: { startMs: number; endMs: number; fragments: number; end: string; video?: { width: number; height: number } }[];
  gaps: { fromMs: number; toMs: number; reason: string }[];
}

async function timeline(cameraId: string, fromMs: number, toMs: number): Promise<Timeline> {
  const res = await svc.api(`/api/cameras/${cameraId}/recordings?from=${fromMs}&to=${toMs}`);
  assert.is(res.status, 200, await res.clone().text());
  return (await res.json()) as Timeline;
}

/** Waits until the recorder has nothing left to upload. */
async function uploaded(minSegments: number, cameraId: string, fromMs: number): Promise<Timeline> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = (await (await svc.api('/api/recorder')).json()) as { upload: { queued: number }; spoolBytes: number; cameras: { cameraId: string; recording: boolean }[] };
    const t = await timeline(cameraId, fromMs, Date.now() + 1000);
    // The camera's session has stopped (its last segment may not be on the spool yet while it
    // stops) and the spool is empty: no segment is being written or waiting for S3.
    const stopped = !status.cameras.some((c) => c.cameraId === cameraId && c.recording);
    if (stopped && status.upload.queued === 0 && status.spoolBytes === 0 && t.segments.length >= minSegments) return t;
    if (Date.now() > deadline) throw new Error(`uploads did not finish: ${JSON.stringify(status)}\n${svc.output().slice(-3000)}`);
    await sleep(250);
  }
}

async function withRecordings<T>(fn: (r: Recordings) => Promise<T>): Promise<T> {
  const r = await openRecordings(svc.dataDir);
  try {
    return await fn(r);
  } finally {
    await r.close();
  }
}

test('a camera is recorded as sealed fMP4 that ffmpeg decodes: every frame, in order, audio in sync', async () => {
  const cam = await svc.createCamera('Entrance');
  const t0 = Date.now();
  const camera = await Camera.create({ whipUrl: `${svc.url}/whip/${cam.id}`, token: await svc.publishToken(cam.id, cam.secret), width: 320, height: 180, kbps: 300, fps: 30 });
  const liveAt = Date.now();
  await sleep(9000);
  const sent = camera.stats.framesSent;
  await camera.close();
  const t = await uploaded(2, cam.id, t0);
  assert.ok(t.segments.length >= 2, 'segments of ~4 s');
  assert.is(t.gaps.length, 0, `no gap in one continuous publish: ${JSON.stringify(t.gaps)}`);
  const first = t.segments[0]!;
  assert.ok(first.startMs - liveAt < 1000, `writing began ${first.startMs - liveAt} ms after the camera went live`);
  for (let i = 1; i < t.segments.length; i++) assert.is(t.segments[i]!.startMs, t.segments[i - 1]!.endMs, 'segments follow each other without a hole');

  await withRecordings(async (r) => {
    const segments = await r.segments(cam.id);
    assert.is(segments.length, t.segments.length);
    const frames = segments.flatMap((s) => videoSamples(s).map((v) => v.frame));
    assert.ok(frames.every((f) => f !== undefined), 'every recorded picture carries its camera stamp');
    for (let i = 1; i < frames.length; i++) assert.is(frames[i], frames[i - 1]! + 1, `frame ${frames[i - 1]} is followed by the next one, none lost or repeated`);
    assert.ok(frames.length >= sent - 45, `recorded ${frames.length} of ${sent} frames (the first keyframe request and the stop take a little)`);
    for (const [i, s] of segments.entries()) {
      assert.ok(videoSamples(s)[0]!.keyframe, 'each segment starts on a keyframe');
      const file = path.join(tmp, `entrance-${i}.mp4`);
      await writeMp4(s, file);
      assert.is(await decodeErrors(file), '', 'ffmpeg decodes the segment without errors');
      const probe = await ffprobe(file);
      const video = probe.streams.find((x) => x.codec_type === 'video')!;
      const audio = probe.streams.find((x) => x.codec_type === 'audio');
      assert.is(video.codec_name, 'h264');
      assert.is(video.width, 320);
      assert.is(video.height, 180);
      assert.is(Number(video.nb_read_frames), videoSamples(s).length);
      const expectedS = Number(video.nb_read_frames) / 30;
      // ffmpeg gives a fragmented track's end time as its duration; segments after the first start later.
      const videoS = Number(video.duration) - Number(video.start_time);
      assert.ok(Math.abs(videoS - expectedS) <= 1 / 30 + 0.002, `duration ${videoS} s for ${video.nb_read_frames} frames at 30 fps`);
      assert.ok(audio, 'audio is recorded');
      assert.is(audio!.codec_name, 'opus');
      const offset = Math.abs(Number(audio!.start_time) - Number(video.start_time));
      assert.ok(offset <= 0.05, `segment ${i} of ${segments.length}: audio starts ${offset.toFixed(3)} s from video (audio at ${audio!.start_time} s, video at ${video.start_time} s)`);
      const audioS = Number(audio!.duration) - Number(audio!.start_time);
      assert.ok(Math.abs(audioS - videoS) < 0.1, `audio ${audioS} s beside video ${videoS} s`);
    }
  });
});

test('a camera that drops for 10 s: one recording, one gap of ~10 s, nothing broken', async () => {
  const cam = await svc.createCamera('Yard');
  const t0 = Date.now();
  const publish = async () => Camera.create({ whipUrl: `${svc.url}/whip/${cam.id}`, token: await svc.publishToken(cam.id, cam.secret), width: 320, height: 180, kbps: 300, fps: 30 });
  const a = await publish();
  await sleep(3000);
  const droppedAt = Date.now();
  await a.close();
  await sleep(10_000);
  const b = await publish();
  const backAt = Date.now();
  await sleep(3000);
  await b.close();
  const t = await uploaded(2, cam.id, t0);
  assert.is(t.gaps.length, 1, JSON.stringify(t.gaps));
  const gap = t.gaps[0]!;
  assert.is(gap.reason, 'camera-offline');
  assert.ok(Math.abs(gap.fromMs - droppedAt) < 600, `gap starts ${gap.fromMs - droppedAt} ms from the drop`);
  assert.ok(gap.toMs >= backAt - 1000 && gap.toMs - backAt < 1500, `gap ends ${gap.toMs - backAt} ms from the return`);
  const length = (gap.toMs - gap.fromMs) / 1000;
  assert.ok(length > 9.5 && length < 12, `gap of ${length} s`);
  const before = t.segments.filter((s) => s.endMs <= gap.fromMs);
  const after = t.segments.filter((s) => s.startMs >= gap.toMs);
  assert.ok(before.length >= 1 && after.length >= 1 && before.length + after.length === t.segments.length, 'segments on both sides, none across the gap');
  assert.is(before.at(-1)!.endMs, gap.fromMs);
  assert.is(after[0]!.startMs, gap.toMs);
  await withRecordings(async (r) => {
    for (const [i, s] of (await r.segments(cam.id)).entries()) {
      const file = path.join(tmp, `yard-${i}.mp4`);
      await writeMp4(s, file);
      assert.is(await decodeErrors(file), '', `segment ${i} decodes cleanly`);
    }
  });
});

test('recording can be switched off per camera, and its recordings deleted with a report', async () => {
  const cam = await svc.createCamera('Private office');
  const off = await svc.api(`/api/cameras/${cam.id}`, { method: 'PATCH', body: JSON.stringify({ recording: { enabled: false } }) });
  assert.is(off.status, 200);
  assert.equal(((await off.json()) as { camera: { recording: unknown } }).camera.recording, { enabled: false, retentionDays: 30 });
  const t0 = Date.now();
  const camera = await Camera.create({ whipUrl: `${svc.url}/whip/${cam.id}`, token: await svc.publishToken(cam.id, cam.secret), width: 320, height: 180, kbps: 300 });
  await sleep(2500);
  assert.is((await timeline(cam.id, t0, Date.now())).segments.length, 0, 'nothing recorded while off');
  const on = await svc.api(`/api/cameras/${cam.id}`, { method: 'PATCH', body: JSON.stringify({ recording: { enabled: true, retentionDays: 7 } }) });
  assert.is(on.status, 200);
  await sleep(3000);
  await camera.close();
  const t = await uploaded(1, cam.id, t0);
  assert.ok(t.segments.length >= 1, 'recording starts when switched on while the camera is live');

  const bad = await svc.api(`/api/cameras/${cam.id}`, { method: 'PATCH', body: JSON.stringify({ recording: { retentionDays: 0 } }) });
  assert.is(bad.status, 400);
  const del = await svc.api(`/api/cameras/${cam.id}/recordings`, { method: 'DELETE' });
  assert.is(del.status, 200);
  const report = ((await del.json()) as { deleted: { objects: number; bytes: number } }).deleted;
  assert.ok(report.objects >= t.segments.length && report.bytes > 0, JSON.stringify(report));
  assert.is((await timeline(cam.id, t0, Date.now())).segments.length, 0);
  await withRecordings(async (r) => assert.equal(await r.keys(cam.id), []));
});

test('recordings API: a viewer without a grant, bad ranges and bad bodies get clear errors', async () => {
  const cam = await svc.createCamera('Back door');
  const viewer = await svc.createUser('rec-viewer', 'viewer-password-1');
  const token = await svc.login('rec-viewer', 'viewer-password-1');
  const now = Date.now();
  const asViewer = await svc.api(`/api/cameras/${cam.id}/recordings?from=${now - 1000}&to=${now}`, { headers: { authorization: `Bearer ${token}` } });
  assert.is(asViewer.status, 404);
  await svc.grant(viewer.id, cam.id);
  const granted = await svc.api(`/api/cameras/${cam.id}/recordings?from=${now - 1000}&to=${now}`, { headers: { authorization: `Bearer ${token}` } });
  assert.is(granted.status, 200);
  const del = await svc.api(`/api/cameras/${cam.id}/recordings`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  assert.is(del.status, 403, 'only administrators delete recordings');
  const inverted = await svc.api(`/api/cameras/${cam.id}/recordings?from=${now}&to=${now - 1000}`);
  assert.is(inverted.status, 400);
  assert.match(await inverted.text(), 'to must be after from');
  const huge = await svc.api(`/api/cameras/${cam.id}/recordings?from=0&to=${now}`);
  assert.is(huge.status, 400);
  const garbage = await svc.api(`/api/cameras/${cam.id}/recordings?from=yesterday&to=${now}`);
  assert.is(garbage.status, 400);
  const iso = await svc.api(`/api/cameras/${cam.id}/recordings?from=${encodeURIComponent('2026-11-26T09:00:00+09:00')}&to=${encodeURIComponent('2026-11-26T10:00:00+09:00')}`);
  assert.is(iso.status, 200, 'ISO 8601 times with a zone are accepted');
  const hold = await svc.api(`/api/cameras/${cam.id}/holds`, { method: 'POST', body: JSON.stringify({ from: now - 60_000, to: now, reason: 'incident 42' }) });
  assert.is(hold.status, 201);
  const holdAsViewer = await svc.api(`/api/cameras/${cam.id}/holds`, { headers: { authorization: `Bearer ${token}` } });
  assert.is(holdAsViewer.status, 403);
  const status = await svc.api('/api/recorder', { headers: { authorization: `Bearer ${token}` } });
  assert.is(status.status, 403);
});

test.run();
