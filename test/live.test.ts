// Live path with real parts: werift camera --WHIP--> mediasoup --WHEP--> werift viewers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { RTCPeerConnection } from 'werift';
import { Camera, ensureVideoFixture, matchFrames, Viewer, WhipError } from '../camera/index.ts';
import { assertWatchable, startService, type Service } from './harness.ts';

let svc: Service;
let cam: { id: string; secret: string };

test.before(async () => {
  // Two workers and one viewer per router, so the third viewer must be piped to another worker.
  // A short connect timeout, so that a player which never connects is ended within the test.
  svc = await startService({ workers: 2, env: { MIMAMORI_VIEWERS_PER_ROUTER: '1', MIMAMORI_RTC_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS) } });
  cam = await svc.createCamera('Lobby');
});
test.after(async () => {
  await svc?.stop();
});

const CONNECT_TIMEOUT_MS = 4000;
const whip = (id: string) => `${svc.url}/whip/${id}`;
const whep = (id: string) => `${svc.url}/whep/${id}`;

test('viewers receive the camera frames bit for bit, across workers', async () => {
  const token = await svc.publishToken(cam.id, cam.secret);
  const camera = await Camera.create({ whipUrl: whip(cam.id), token, width: 320, height: 180, kbps: 300, fps: 30 });
  const viewers: Viewer[] = [];
  try {
    for (let i = 0; i < 3; i++) viewers.push(await Viewer.create({ whepUrl: whep(cam.id), token: svc.adminToken }));
    await Promise.all(viewers.map((v) => v.waitForFrames(60, 15_000)));
    for (const v of viewers) {
      const m = matchFrames(camera.frames, v.frames);
      assert.ok(m.matched >= 60, `matched ${m.matched}`);
      assert.is(m.unmatched, 0, 'every received frame is one the camera sent, in order');
      assert.ok(v.stats.audioPacketsReceived > 0, 'audio arrives too');
      assert.ok(v.stats.keyframesReceived >= 1);
    }
    const sfu = (await (await svc.api('/api/sfu')).json()) as { cameras: { id: string; workers: number; viewers: number }[] };
    const room = sfu.cameras.find((c) => c.id === cam.id);
    assert.is(room?.viewers, 3);
    assert.is(room?.workers, 2, 'viewers beyond the per-router limit went to the second worker');
  } finally {
    await Promise.all(viewers.map((v) => v.close()));
    await camera.close();
  }
});

test('the camera secret works as a static WHIP bearer (encoders); WHEP needs the camera live', async () => {
  const offline = await Viewer.create({ whepUrl: whep(cam.id), token: svc.adminToken }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.instance(offline, WhipError);
  assert.is((offline as WhipError).status, 409);
  const camera = await Camera.create({ whipUrl: whip(cam.id), token: cam.secret, width: 320, height: 180, kbps: 300 });
  try {
    await assertWatchable(svc, cam.id, camera);
  } finally {
    await camera.close();
  }
});

test('a camera that reconnects replaces its old session; viewers join it again', async () => {
  const token = await svc.publishToken(cam.id, cam.secret);
  const first = await Camera.create({ whipUrl: whip(cam.id), token, width: 320, height: 180, kbps: 300 });
  const v1 = await Viewer.create({ whepUrl: whep(cam.id), token: svc.adminToken });
  await v1.waitForFrames(5, 10_000);
  const v1Closed = new Promise((r) => v1.once('closed', r));
  // Same camera connects again (as after a network change) without closing the first session.
  const second = await Camera.create({ whipUrl: whip(cam.id), token, width: 320, height: 180, kbps: 300 });
  try {
    const v2 = await Viewer.create({ whepUrl: whep(cam.id), token: svc.adminToken });
    await v2.waitForFrames(10, 10_000);
    assert.is(matchFrames(second.frames, v2.frames).unmatched, 0, 'the viewer sees the new session');
    assert.is(matchFrames(first.frames, v2.frames.slice(-5)).matched <= 5, true);
    await v2.close();
    await Promise.race([v1Closed, new Promise((r) => setTimeout(r, 5000))]);
  } finally {
    await v1.close();
    await first.close();
    await second.close();
  }
});

test('a WHEP player that never connects (its client gave up after the POST) is ended by the server: no viewer left, its session gone', async () => {
  const camera = await Camera.create({ whipUrl: whip(cam.id), token: cam.secret, width: 320, height: 180, kbps: 300 });
  const pc = new RTCPeerConnection({});
  try {
    const viewersNow = async () => ((await (await svc.api('/api/sfu')).json()) as { cameras: { id: string; viewers: number }[] }).cameras.find((c) => c.id === cam.id)?.viewers ?? 0;
    const before = await viewersNow();
    pc.addTransceiver('video', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    const res = await fetch(whep(cam.id), { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${svc.adminToken}` }, body: pc.localDescription!.sdp });
    assert.is(res.status, 201, await res.text());
    const location = new URL(res.headers.get('location')!, svc.url).toString();
    assert.is(await viewersNow(), before + 1, 'the session holds a viewer while it may still connect');
    // The answer is never applied: the player is gone without DELETE.
    const startedAt = Date.now();
    while ((await viewersNow()) > before && Date.now() - startedAt < CONNECT_TIMEOUT_MS + 10_000) await new Promise((r) => setTimeout(r, 250));
    const endedAfter = Date.now() - startedAt;
    assert.is(await viewersNow(), before, `the viewer is released (after ${endedAfter} ms)`);
    assert.ok(endedAfter >= CONNECT_TIMEOUT_MS - 1000, `not before the connect timeout: ${endedAfter} ms`);
    const gone = await fetch(location, { method: 'DELETE', headers: { authorization: `Bearer ${svc.adminToken}` } });
    assert.is(gone.status, 404, 'the session itself ended with its transport');
  } finally {
    await pc.close();
    await camera.close();
  }
});

test('a video-only player does not stop a camera with audio from publishing', async () => {
  const token = await svc.publishToken(cam.id, cam.secret);
  const first = await Camera.create({ whipUrl: whip(cam.id), token, width: 320, height: 180, kbps: 300 });
  const videoOnly = await Viewer.create({ whepUrl: whep(cam.id), token: svc.adminToken, audio: false });
  try {
    await videoOnly.waitForFrames(5, 10_000);
    // The camera publishes again (audio + video) while the video-only player's router exists.
    const second = await Camera.create({ whipUrl: whip(cam.id), token, width: 320, height: 180, kbps: 300 });
    const stats = await assertWatchable(svc, cam.id, second);
    assert.ok(stats.audioPacketsReceived > 0);
    await second.close();
  } finally {
    await videoOnly.close();
    await first.close();
  }
});

function runCli(args: string[]): { done: Promise<{ code: number | null; output: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/mimamori.ts', 'camera', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d));
  child.stderr.on('data', (d: Buffer) => (output += d));
  return { done: new Promise((resolve) => child.on('close', (code) => resolve({ code, output }))) };
}

test('mimamori camera: publishes a file with the camera secret; a wrong secret fails clearly', async () => {
  const file = await ensureVideoFixture({ width: 320, height: 180, fps: 30, kbps: 300, seconds: 4, profile: 'baseline' });
  const run = runCli(['--url', svc.url, '--camera', cam.id, '--secret', cam.secret, '--seconds', '8', '--file', file, '--fps', '30']);
  let viewer: Viewer | undefined;
  for (let i = 0; i < 50 && !viewer; i++) {
    viewer = await Viewer.create({ whepUrl: whep(cam.id), token: svc.adminToken }).catch(() => undefined);
    if (!viewer) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(viewer, 'the CLI camera went live');
  await viewer.waitForFrames(30, 10_000);
  assert.is(viewer.stats.framesDropped, 0);
  await viewer.close();
  const { code, output } = await run.done;
  assert.is(code, 0, output);
  assert.match(output, /\[camera\] live: /);

  const bad = await runCli(['--url', svc.url, '--camera', cam.id, '--secret', 'wrong', '--seconds', '2']).done;
  assert.is(bad.code, 1);
  assert.match(bad.output, /the camera id or secret is wrong/);
});

test('server restart: a camera publishing again is watchable again', async () => {
  await svc.restart();
  const token = await svc.publishToken(cam.id, cam.secret);
  const camera = await Camera.create({ whipUrl: whip(cam.id), token, width: 320, height: 180, kbps: 300 });
  try {
    await assertWatchable(svc, cam.id, camera);
  } finally {
    await camera.close();
  }
});

test.run();
