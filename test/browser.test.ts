// End-to-end in Debian's Chromium (headless, fake camera and microphone), driven by
// playwright-core, against the real service: a camera page publishes H.264 simulcast + Opus, the
// live grid plays it over SRTP with an AEAD-GCM suite, the single view switches to the full layer,
// and after a server restart both pages come back by themselves, without a reload and without
// leaking peer connections. The pages are read through their `window.__mimamori` test hooks.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CHROMIUM_ARGS, CHROMIUM_PATH as CHROMIUM, signInAt } from './chromium.ts';
import { startService, type Service } from './harness.ts';
import { decodeErrors, ffprobe, openRecordings, writeMp4 } from './recordings.ts';
import os from 'node:os';
import path from 'node:path';

const LIVE_TIMEOUT_MS = 30_000;
const RECOVERY_TIMEOUT_MS = 30_000;

// --- What the pages expose (client/main.ts, client/camera.ts) -------------------------------------

interface TileInfo {
  cameraId: string;
  state: string;
  videoWidth: number;
  videoHeight: number;
  framesDecoded: number;
  producerIds: string[];
}
interface Stats {
  srtpCipher?: string;
  dtlsCipher?: string;
  videoCodec?: string;
  frameWidth?: number;
  frameHeight?: number;
  bytesSent: number;
  bytesReceived: number;
}
interface GridHook {
  tiles(): TileInfo[];
  stats(): Promise<(Stats & { cameraId: string })[]>;
}
interface CameraHook {
  state: string;
  producerIds: string[];
  stats(): Promise<Stats | undefined>;
}
// The callbacks given to page.evaluate run in the page (serialised, so they cannot call helpers of
// this file); the test's tsconfig has no DOM lib, so they reach the page through globalThis as G.
// G on index.html, C on camera.html.
type PageCommon = { __pcs: { connectionState: string }[]; __loadMarker?: number };
type G = PageCommon & { __mimamori: GridHook };
type C = PageCommon & { __mimamori: CameraHook };

/** Counts the page's RTCPeerConnections, to prove retries close the old ones. */
const TRACK_PEER_CONNECTIONS = `(() => {
  const Native = window.RTCPeerConnection;
  if (!Native) return;
  const all = [];
  window.__pcs = all;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); all.push(this); }
  };
})();`;

// --- Helpers ------------------------------------------------------------------------------------

let service: Service;

async function launch(): Promise<Browser> {
  // chromium.launch gives every browser a fresh temporary user-data-dir, removed on close.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

async function newPage(browser: Browser, log: string[], name: string, locale = 'en-US'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 800 } });
  await context.addInitScript({ content: TRACK_PEER_CONNECTIONS });
  const page = await context.newPage();
  page.on('console', (m) => log.push(`[${name} ${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => log.push(`[${name} pageerror] ${e.message}`));
  return { context, page };
}

function cameraUrl(cam: { id: string; secret: string }): string {
  return `${service.url}/camera.html#id=${encodeURIComponent(cam.id)}&secret=${encodeURIComponent(cam.secret)}`;
}

const signIn = (page: Page, username: string, password: string) => signInAt(page, `${service.url}/`, username, password);

async function waitCameraLive(page: Page, notProducers: string[] = [], timeout = LIVE_TIMEOUT_MS): Promise<string[]> {
  await page.waitForFunction(
    (old) => {
      const h = (globalThis as unknown as C).__mimamori;
      return h.state === 'live' && h.producerIds.length === 2 && !h.producerIds.some((id) => old.includes(id));
    },
    notProducers,
    { timeout, polling: 250 },
  );
  return page.evaluate(() => (globalThis as unknown as C).__mimamori.producerIds);
}

async function tileOf(page: Page, cameraId: string): Promise<TileInfo | undefined> {
  return page.evaluate((id) => (globalThis as unknown as G).__mimamori.tiles().find((t) => t.cameraId === id), cameraId);
}

/** Waits until the tile is live, consumes one of `producerIds` and has decoded frames. */
async function waitTilePlaying(page: Page, cameraId: string, producerIds: string[], timeout = LIVE_TIMEOUT_MS): Promise<TileInfo> {
  await page.waitForFunction(
    ({ id, producers }) => {
      const tile = (globalThis as unknown as G).__mimamori.tiles().find((t) => t.cameraId === id);
      return (
        !!tile &&
        tile.state === 'live' &&
        tile.framesDecoded > 0 &&
        tile.videoWidth > 0 &&
        tile.producerIds.some((p) => producers.includes(p))
      );
    },
    { id: cameraId, producers: producerIds },
    { timeout, polling: 250 },
  );
  return (await tileOf(page, cameraId))!;
}

/** Frames keep coming: the decoded count grows over a second and a half. */
async function assertFramesFlowing(page: Page, cameraId: string): Promise<void> {
  const before = (await tileOf(page, cameraId))?.framesDecoded ?? 0;
  await page.waitForTimeout(1500);
  const after = (await tileOf(page, cameraId))?.framesDecoded ?? 0;
  assert.ok(after > before + 5, `frames keep being decoded (${before} → ${after})`);
}

async function openPeerConnections(page: Page): Promise<number> {
  return page.evaluate(() => (globalThis as unknown as G).__pcs.filter((pc) => pc.connectionState !== 'closed').length);
}

/** Runs a test body with a fresh browser, always closed; prints page and service logs on failure. */
async function withBrowser(body: (browser: Browser, log: string[]) => Promise<void>): Promise<void> {
  const log: string[] = [];
  const browser = await launch();
  try {
    await body(browser, log);
  } catch (err) {
    console.error(`--- browser console\n${log.slice(-80).join('\n')}\n--- service output (tail)\n${service.output().slice(-4000)}`);
    throw err;
  } finally {
    await browser.close();
  }
}

// --- Tests --------------------------------------------------------------------------------------

const haveChromium = fs.existsSync(CHROMIUM);
const built = spawnSync('bash', ['setup/client.sh'], { cwd: new URL('..', import.meta.url), stdio: 'inherit' });
if (built.status !== 0) throw new Error('setup/client.sh failed: the browser pages could not be built');

test.before(async () => {
  if (!haveChromium) throw new Error(`Chromium not found at ${CHROMIUM}; install it with "bash setup/setup.sh --test"`);
  service = await startService({ env: { MIMAMORI_SEGMENT_SECONDS: '3' } });
});
test.after(async () => {
  await service?.stop();
});

test('a phone-style camera page publishes and the admin grid plays it (H.264 simulcast, SRTP GCM)', async () => {
  const cam = await service.createCamera('Entrance 入口');
  await withBrowser(async (browser, log) => {
    const { page: camera } = await newPage(browser, log, 'camera');
    await camera.goto(cameraUrl(cam));
    const producerIds = await waitCameraLive(camera);

    // 'live' means the transport connected with its producers; the first bytes may be a moment behind.
    await camera.waitForFunction(async () => ((await (globalThis as unknown as C).__mimamori.stats())?.bytesSent ?? 0) > 0, undefined, { timeout: 10_000, polling: 100 });
    const cameraStats = await camera.evaluate(() => (globalThis as unknown as C).__mimamori.stats());
    assert.ok(cameraStats, 'the camera page reports transport stats');
    assert.match(cameraStats.srtpCipher ?? '', /GCM/, `SRTP uses an AEAD GCM suite (got ${cameraStats.srtpCipher})`);
    assert.is(cameraStats.videoCodec?.toLowerCase(), 'video/h264', 'the camera publishes H.264');
    assert.ok(cameraStats.bytesSent > 0, 'the camera sends media');

    const { page: viewer } = await newPage(browser, log, 'viewer');
    await signIn(viewer, service.adminUsername, service.adminPassword);
    const tile = await waitTilePlaying(viewer, cam.id, producerIds);
    assert.ok(tile.videoWidth > 0 && tile.videoHeight > 0, 'the tile shows video');
    await assertFramesFlowing(viewer, cam.id);
    assert.is(await viewer.textContent(`.tile[data-camera-id="${cam.id}"] .tile-name`), 'Entrance 入口');

    const [viewerStats] = await viewer.evaluate(() => (globalThis as unknown as G).__mimamori.stats());
    assert.match(viewerStats?.srtpCipher ?? '', /GCM/, `viewer SRTP uses an AEAD GCM suite (got ${viewerStats?.srtpCipher})`);
    assert.is(viewerStats?.videoCodec?.toLowerCase(), 'video/h264', 'the viewer receives H.264 as published');

    // The grid takes the small simulcast layer; the single view switches to the full one.
    await viewer.waitForTimeout(2000);
    const small = (await tileOf(viewer, cam.id))!.videoWidth;
    await viewer.click(`.tile[data-camera-id="${cam.id}"] .tile-open`);
    await viewer.waitForFunction(
      ({ id, width }) => ((globalThis as unknown as G).__mimamori.tiles().find((t) => t.cameraId === id)?.videoWidth ?? 0) > width,
      { id: cam.id, width: small },
      { timeout: 20_000, polling: 250 },
    );
    const full = (await tileOf(viewer, cam.id))!.videoWidth;
    console.log(`  camera ${cameraStats.videoCodec} ${cameraStats.srtpCipher}; grid tile ${small} px wide, single view ${full} px`);
    await viewer.click(`.tile[data-camera-id="${cam.id}"] .tile-back`);
    assert.is(await viewer.locator('#grid.single').count(), 0, 'back to the grid');

    // The browser's simulcast H.264 is recorded (top layer) and decodes cleanly.
    // mediasoup starts a simulcast consumer on a low layer until the higher ones have scores.
    const deadline = Date.now() + 30_000;
    let segments: { startMs: number; endMs: number; video?: { codec: string; width: number } }[] = [];
    let gaps: unknown[] = [];
    while (segments.at(-1)?.video?.width !== full && Date.now() < deadline) {
      await viewer.waitForTimeout(500);
      const res = await service.api(`/api/cameras/${cam.id}/recordings?from=${Date.now() - 600_000}&to=${Date.now()}`);
      ({ segments, gaps } = (await res.json()) as { segments: typeof segments; gaps: unknown[] });
    }
    console.log(`  recorded segments: ${segments.map((s) => `${s.video?.width}px ${((s.endMs - s.startMs) / 1000).toFixed(1)} s`).join(', ')}`);
    assert.ok(segments.length > 0, 'the camera page is being recorded');
    assert.is(segments[0]!.video?.codec, 'h264');
    assert.equal(gaps, [], 'layer switches cut segments without a hole');
    for (let i = 1; i < segments.length; i++) {
      // At a producer change the old session may already have written the fragment that crosses the
      // successor's first keyframe (found ~300 ms late, after the reorder hold): a known overlap of
      // up to a frame or so (12 ms seen once in ~10 runs); playback lists such frames once.
      assert.ok(segments[i]!.startMs >= segments[i - 1]!.endMs - 50, `no overlap beyond 50 ms, even when the audio producer joined after the video one: ${JSON.stringify(segments.map((s) => [s.startMs % 100000, s.endMs % 100000]))}`);
    }
    const recordings = await openRecordings(service.dataDir);
    try {
      for (const segment of await recordings.segments(cam.id)) {
        const file = path.join(os.tmpdir(), `mimamori-browser-${cam.id}.mp4`);
        await writeMp4(segment, file);
        assert.is(await decodeErrors(file), '', 'ffmpeg decodes the recorded browser video');
        const probe = await ffprobe(file);
        assert.is(probe.streams.find((x) => x.codec_type === 'video')?.width, segment.entry.video?.width, 'the index tells the stored resolution');
        fs.rmSync(file, { force: true });
      }
    } finally {
      await recordings.close();
    }
    assert.is(segments.at(-1)!.video?.width, full, 'the recording goes on with the full layer');

    // The Cameras view switches recording off for this camera.
    await viewer.click('#nav a[data-view="cameras"]');
    await viewer.uncheck(`#admin-cameras tr[data-camera-id="${cam.id}"] .recording-enabled`);
    await viewer.waitForSelector('#view-cameras .notice[data-tone="ok"]', { timeout: 10_000 });
    const after = (await (await service.api(`/api/cameras/${cam.id}`)).json()) as { camera: { recording: { enabled: boolean } } };
    assert.is(after.camera.recording.enabled, false);
  });
});

test('a wrong camera secret stops with a clear message in the chosen language', async () => {
  const cam = await service.createCamera('Back door');
  await withBrowser(async (browser, log) => {
    const { page } = await newPage(browser, log, 'camera', 'ja-JP');
    await page.goto(cameraUrl({ id: cam.id, secret: 'not-the-secret' }));
    await page.waitForFunction(() => (globalThis as unknown as C).__mimamori.state === 'error', null, { timeout: 15_000 });
    const text = (await page.textContent('.notice[data-tone="error"]')) ?? '';
    assert.match(text, /シークレット/, `Japanese error message (got "${text}")`);
  });
});

test('after a server restart the camera and the tile come back by themselves, without reload or leaks', async () => {
  const cam = await service.createCamera('Warehouse');
  await withBrowser(async (browser, log) => {
    const { page: camera } = await newPage(browser, log, 'camera');
    await camera.goto(cameraUrl(cam));
    const before = await waitCameraLive(camera);
    const { page: viewer } = await newPage(browser, log, 'viewer');
    await signIn(viewer, service.adminUsername, service.adminPassword);
    await waitTilePlaying(viewer, cam.id, before);
    for (const page of [camera, viewer]) await page.evaluate(() => ((globalThis as unknown as G).__loadMarker = 1));

    await service.restart();
    const started = Date.now();

    const after = await waitCameraLive(camera, before, RECOVERY_TIMEOUT_MS);
    await waitTilePlaying(viewer, cam.id, after, Math.max(5_000, RECOVERY_TIMEOUT_MS - (Date.now() - started)));
    console.log(`  camera and tile live again ${((Date.now() - started) / 1000).toFixed(1)} s after the restart`);
    await assertFramesFlowing(viewer, cam.id);

    for (const page of [camera, viewer]) {
      assert.is(await page.evaluate(() => (globalThis as unknown as G).__loadMarker), 1, 'the page was not reloaded');
    }
    // One send transport on the camera page, one receive transport per tile (the cameras of the
    // other tests are offline but still have tiles): the transports of earlier attempts are closed.
    const tiles = (await viewer.evaluate(() => (globalThis as unknown as G).__mimamori.tiles())).length;
    assert.ok(tiles >= 1);
    assert.is(await openPeerConnections(camera), 1, 'camera page: only the current peer connection is open');
    assert.is(await openPeerConnections(viewer), tiles, 'viewer page: one open peer connection per tile');
    assert.is(await viewer.locator('.tile video').count(), tiles, 'one video element per tile');
  });
});

test.run();
