// Clients follow a dead node by themselves, fast (issue "Several nodes and automatic failover",
// item 7). The service is killed with SIGKILL and started again 5 s later on the same port and
// data — what a camera or a viewer sees when its node dies and the load balancer sends it to a
// live one. `mimamori camera` (a separate process, as a user runs it), the browser camera page and
// a browser grid publish or play again without help and without a reload.
//
// The figures (restart → healthy → published again; the hole in the recording) are printed; the
// asserts are generous bounds, so a loaded 2-core machine does not make them flaky, yet a client
// that waits for its ICE/DTLS to fail (about 30 s) or backs off for 10 s still breaks them.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';
import { spawnCli, startService, type Service } from './harness.ts';

const OUTAGE_MS = 5_000;
/** Published again at most this long after the service is healthy (measured: well under 2 s). */
const REPUBLISH_BOUND_MS = 8_000;
/** The recording's hole may exceed the outage (kill → healthy) by at most this (target ~3 s). */
const GAP_SLACK_MS = 8_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

let svc: Service;

test.before(async () => {
  svc = await startService({ env: { MIMAMORI_SEGMENT_SECONDS: '3' } });
});
test.after(async () => {
  await svc?.stop();
});

interface Outage {
  killedAt: number;
  /** When the new process was started (OUTAGE_MS after the kill). */
  restartedAt: number;
  /** When it answered /healthz. */
  healthyAt: number;
}

/** SIGKILL, OUTAGE_MS of nothing, then the service again on the same port and data. */
async function killAndRestart(): Promise<Outage> {
  const killedAt = Date.now();
  await svc.kill();
  await sleep(killedAt + OUTAGE_MS - Date.now());
  const restartedAt = Date.now();
  await svc.restart();
  return { killedAt, restartedAt, healthyAt: Date.now() };
}

interface Hole {
  /** The gap the recordings API reports across the kill. */
  gap: { fromMs: number; toMs: number; reason: string };
  /** End of the footage before the kill and start of the footage after it (from the segments). */
  lastBeforeMs: number;
  firstAfterMs: number;
}

/** Waits until the recording goes on after the outage and returns the hole it left. */
async function recordingHole(cameraId: string, sinceMs: number, killedAt: number, timeoutMs = 30_000): Promise<Hole> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const res = await svc.api(`/api/cameras/${cameraId}/recordings?from=${sinceMs}&to=${Date.now() + 60_000}`);
    const body = (await res.json()) as { segments: { startMs: number; endMs: number }[]; gaps: Hole['gap'][] };
    last = JSON.stringify(body);
    const before = body.segments.filter((x) => x.startMs < killedAt);
    const after = body.segments.filter((x) => x.startMs >= killedAt);
    const gap = body.gaps.find((g) => g.toMs >= killedAt);
    if (res.ok && before.length > 0 && after.length > 0 && gap) {
      return { gap, lastBeforeMs: Math.max(...before.map((x) => x.endMs)), firstAfterMs: Math.min(...after.map((x) => x.startMs)) };
    }
    await sleep(500);
  }
  throw new Error(`the recording did not go on after the outage within ${timeoutMs} ms: ${last.slice(0, 2000)}`);
}

/** Prints the figures, asserts the generous bounds. */
function report(what: string, o: Outage, republishedAt: number, hole: Hole): void {
  const gapMs = hole.gap.toMs - hole.gap.fromMs;
  const lostMs = hole.firstAfterMs - hole.lastBeforeMs;
  const outageMs = o.healthyAt - o.killedAt;
  console.log(
    `  ${what}: killed, restarted ${s(o.restartedAt - o.killedAt)} later, healthy ${s(o.healthyAt - o.restartedAt)} after its start; ` +
      `published again ${s(republishedAt - o.restartedAt)} after the restart (${s(republishedAt - o.healthyAt)} after healthy); ` +
      `recording gap ${s(gapMs)} (${hole.gap.reason}; footage ${s(lostMs)} apart) for an outage of ${s(outageMs)} (kill → healthy)`,
  );
  assert.ok(republishedAt - o.healthyAt < REPUBLISH_BOUND_MS, `${what} published again ${s(republishedAt - o.healthyAt)} after the service was healthy`);
  assert.ok(gapMs < outageMs + GAP_SLACK_MS, `${what}: a ${s(outageMs)} outage left a ${s(gapMs)} gap in the recording`);
}

test('`mimamori camera` publishes again by itself right after a killed service is back', async () => {
  const cam = await svc.createCamera('Gate CLI');
  const since = Date.now();
  const camera = spawnCli(['camera', '--url', svc.url, '--camera', cam.id, `--secret=${cam.secret}`, '--size', '320x180', '--kbps', '300']);
  try {
    const first = await camera.waitForLine(/^\[camera\] live:/, 30_000);
    await sleep(4_000); // some recording before the kill
    const outage = await killAndRestart();
    const again = await camera.waitForLine(/^\[camera\] live:/, 60_000, first.index + 1);
    const hole = await recordingHole(cam.id, since, outage.killedAt);
    console.log(camera.lines.filter((l) => l.at >= outage.killedAt).map((l) => `    +${s(l.at - outage.killedAt)} ${l.text}`).join('\n'));
    report('mimamori camera', outage, again.at, hole);
  } catch (err) {
    console.error(`--- camera output\n${camera.lines.map((l) => l.text).join('\n')}\n--- service output (tail)\n${svc.output().slice(-4000)}`);
    throw err;
  } finally {
    assert.is(await camera.stop(), 0, 'mimamori camera stops cleanly on SIGINT');
  }
});

// --- Browser pages (read through their window.__mimamori test hooks) ------------------------------

interface TileInfo {
  cameraId: string;
  state: string;
  framesDecoded: number;
  producerIds: string[];
}
type CameraHook = { __mimamori: { state: string; producerIds: string[] } };
type GridHook = { __mimamori: { tiles(): TileInfo[] }; __loadMarker?: number };

const haveChromium = fs.existsSync(CHROMIUM_PATH);

/** Polls `fn` in the page every 100 ms until it returns true; the time (Date.now()) it did. */
async function when(page: Page, fn: (arg: string[]) => boolean, arg: string[], timeoutMs: number): Promise<number> {
  await page.waitForFunction(fn, arg, { timeout: timeoutMs, polling: 100 });
  return Date.now();
}

const cameraLive = (old: string[]) => {
  const h = (globalThis as unknown as CameraHook).__mimamori;
  return h.state === 'live' && h.producerIds.length > 0 && !h.producerIds.some((id) => old.includes(id));
};
const tilePlaying = ([id, ...producers]: string[]) => {
  const tile = (globalThis as unknown as GridHook).__mimamori.tiles().find((t) => t.cameraId === id);
  return !!tile && tile.state === 'live' && tile.framesDecoded > 0 && tile.producerIds.some((p) => producers.includes(p));
};

test('the browser camera page publishes again and a grid plays again by themselves, without reload', async () => {
  if (!haveChromium) throw new Error(`Chromium not found at ${CHROMIUM_PATH}; install it with "bash setup/setup.sh --test"`);
  const built = spawnSync('bash', ['setup/client.sh'], { cwd: new URL('..', import.meta.url), stdio: 'inherit' });
  assert.is(built.status, 0, 'setup/client.sh builds the pages');
  const cam = await svc.createCamera('Gate browser');
  const log: string[] = [];
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  try {
    const open = async (name: string) => {
      const page = await (await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } })).newPage();
      page.on('console', (m) => log.push(`[${name} ${m.type()}] ${m.text()}`));
      page.on('pageerror', (e) => log.push(`[${name} pageerror] ${e.message}`));
      return page;
    };
    const since = Date.now();
    const camera = await open('camera');
    await camera.goto(`${svc.url}/camera.html#id=${encodeURIComponent(cam.id)}&secret=${encodeURIComponent(cam.secret)}`);
    await when(camera, cameraLive, [], 30_000);
    const before = await camera.evaluate(() => (globalThis as unknown as CameraHook).__mimamori.producerIds);

    const viewer = await open('viewer');
    await viewer.goto(`${svc.url}/`);
    await viewer.fill('#username', svc.adminUsername);
    await viewer.fill('#password', svc.adminPassword);
    await viewer.click('#login-form button[type=submit]');
    await when(viewer, tilePlaying, [cam.id, ...before], 30_000);
    for (const page of [camera, viewer]) await page.evaluate(() => ((globalThis as unknown as GridHook).__loadMarker = 1));
    await sleep(3_000); // some recording before the kill

    const outage = await killAndRestart();
    const republishedAt = await when(camera, cameraLive, before, 60_000);
    const after = await camera.evaluate(() => (globalThis as unknown as CameraHook).__mimamori.producerIds);
    const playingAt = await when(viewer, tilePlaying, [cam.id, ...after], 30_000);
    const hole = await recordingHole(cam.id, since, outage.killedAt);
    console.log(`  grid tile playing the new producers ${s(playingAt - outage.restartedAt)} after the restart (${s(playingAt - outage.healthyAt)} after healthy)`);
    report('browser camera page', outage, republishedAt, hole);
    assert.ok(playingAt - outage.healthyAt < REPUBLISH_BOUND_MS + 5_000, `the grid plays again ${s(playingAt - outage.healthyAt)} after healthy`);

    const frames = (await viewer.evaluate((id) => (globalThis as unknown as GridHook).__mimamori.tiles().find((t) => t.cameraId === id)?.framesDecoded ?? 0, cam.id));
    await sleep(1_500);
    const later = await viewer.evaluate((id) => (globalThis as unknown as GridHook).__mimamori.tiles().find((t) => t.cameraId === id)?.framesDecoded ?? 0, cam.id);
    assert.ok(later > frames + 5, `frames keep being decoded (${frames} → ${later})`);
    for (const page of [camera, viewer]) {
      assert.is(await page.evaluate(() => (globalThis as unknown as GridHook).__loadMarker), 1, 'the page was not reloaded');
    }
  } catch (err) {
    console.error(`--- browser console\n${log.slice(-80).join('\n')}\n--- service output (tail)\n${svc.output().slice(-4000)}`);
    throw err;
  } finally {
    await browser.close();
  }
});

test('a silent media path (the SFU worker stopped, sockets up) is noticed in about 2 s; all come back once it answers', async () => {
  if (!haveChromium) throw new Error(`Chromium not found at ${CHROMIUM_PATH}; install it with "bash setup/setup.sh --test"`);
  const cliCam = await svc.createCamera('Dock CLI');
  const pageCam = await svc.createCamera('Dock browser');
  const cli = spawnCli(['camera', '--url', svc.url, '--camera', cliCam.id, `--secret=${cliCam.secret}`, '--size', '320x180', '--kbps', '300']);
  const log: string[] = [];
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  let workerPid: number | undefined;
  try {
    const open = async (name: string) => {
      const page = await (await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } })).newPage();
      page.on('console', (m) => log.push(`[${name} ${m.type()}] ${m.text()}`));
      return page;
    };
    const first = await cli.waitForLine(/^\[camera\] live:/, 30_000);
    const camera = await open('camera');
    await camera.goto(`${svc.url}/camera.html#id=${encodeURIComponent(pageCam.id)}&secret=${encodeURIComponent(pageCam.secret)}`);
    await when(camera, cameraLive, [], 30_000);
    const before = await camera.evaluate(() => (globalThis as unknown as CameraHook).__mimamori.producerIds);
    const viewer = await open('viewer');
    await viewer.goto(`${svc.url}/`);
    await viewer.fill('#username', svc.adminUsername);
    await viewer.fill('#password', svc.adminPassword);
    await viewer.click('#login-form button[type=submit]');
    await when(viewer, tilePlaying, [pageCam.id, ...before], 30_000);
    await sleep(2_000);

    const sfu = (await (await svc.api('/api/sfu')).json()) as { workers: { pid: number }[] };
    assert.is(sfu.workers.length, 1);
    workerPid = sfu.workers[0]!.pid;
    const stoppedAt = Date.now();
    process.kill(workerPid, 'SIGSTOP');
    const notLive = () => (globalThis as unknown as CameraHook).__mimamori.state !== 'live';
    const tileNotLive = ([id]: string[]) => (globalThis as unknown as GridHook).__mimamori.tiles().find((t) => t.cameraId === id)?.state !== 'live';
    const [cliNoticed, pageNoticed, tileNoticed] = await Promise.all([
      cli.waitForLine(/nothing came from the server/, 20_000, first.index + 1).then((l) => l.at),
      when(camera, notLive, [], 20_000),
      when(viewer, tileNotLive, [pageCam.id], 20_000),
    ]);
    await sleep(stoppedAt + OUTAGE_MS - Date.now());
    process.kill(workerPid, 'SIGCONT');
    const resumedAt = Date.now();
    workerPid = undefined;
    const [cliBack, pageBack] = await Promise.all([
      cli.waitForLine(/^\[camera\] live:/, 30_000, first.index + 1).then((l) => l.at),
      when(camera, cameraLive, before, 30_000),
    ]);
    const after = await camera.evaluate(() => (globalThis as unknown as CameraHook).__mimamori.producerIds);
    const tileBack = await when(viewer, tilePlaying, [pageCam.id, ...after], 30_000);
    const noticed = { 'mimamori camera': cliNoticed, 'camera page': pageNoticed, 'grid tile': tileNoticed };
    console.log(
      `  worker stopped for ${s(resumedAt - stoppedAt)}; noticed after: ${Object.entries(noticed).map(([k, v]) => `${k} ${s(v - stoppedAt)}`).join(', ')}; ` +
        `back after it resumed: mimamori camera ${s(cliBack - resumedAt)}, camera page ${s(pageBack - resumedAt)}, grid tile ${s(tileBack - resumedAt)}`,
    );
    for (const [who, at] of Object.entries(noticed)) assert.ok(at - stoppedAt < OUTAGE_MS, `${who} noticed the silence ${s(at - stoppedAt)} after it began`);
  } catch (err) {
    console.error(`--- camera output\n${cli.lines.map((l) => l.text).join('\n')}\n--- browser console\n${log.slice(-80).join('\n')}\n--- service output (tail)\n${svc.output().slice(-4000)}`);
    throw err;
  } finally {
    if (workerPid !== undefined) process.kill(workerPid, 'SIGCONT');
    await browser.close();
    await cli.stop();
  }
});

test.run();
