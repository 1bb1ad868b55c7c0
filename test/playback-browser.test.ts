// The playback page in Debian's Chromium: a recorded range plays (hls.js over our decrypted
// windows), a seek lands on the frame of the asked time, a gap is skipped and reported.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { Camera } from '../camera/index.ts';
import { launchChromium, signedIn, textMatches, type Browser } from './chromium.ts';
import { startService, type Service } from './harness.ts';
import { decodeErrors, ffprobe } from './recordings.ts';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

interface PlayerHook {
  wallTimeMs(): number | undefined;
  currentTime: number;
  seek(wallMs: number): void;
  state: string;
  lastNotice: { kind: string; text: string } | null;
  decodedFrames: number;
  setSpeed(s: number): void;
  window: { startMs: number; endMs: number; entries: number } | null;
  play(): void;
  pause(): void;
}
type G = { __mimamori: { player: PlayerHook | null } };

let svc: Service;
let browser: Browser;
let page: Page;
const log: string[] = [];
let cameraId = '';
let cameraSecret = '';
let a0 = 0;
let a1 = 0;
let b0 = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function publish(cam: { id: string; secret: string }, ms: number): Promise<void> {
  const camera = await Camera.create({ whipUrl: `${svc.url}/whip/${cam.id}`, token: await svc.publishToken(cam.id, cam.secret), width: 320, height: 180, kbps: 300, fps: 30 });
  await sleep(ms);
  await camera.close();
}

test.before(async () => {
  svc = await startService({ env: { MIMAMORI_SEGMENT_SECONDS: '4' } });
  const cam = await svc.createCamera('Warehouse');
  cameraId = cam.id;
  cameraSecret = cam.secret;
  a0 = Date.now();
  await publish(cam, 8000);
  a1 = Date.now();
  await sleep(5000);
  b0 = Date.now();
  await publish(cam, 6000);
  // Everything uploaded: the index lists it (the spool path is covered by playback.test.ts).
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = (await (await svc.api('/api/recorder')).json()) as { upload: { queued: number }; spoolBytes: number; cameras: { recording: boolean }[] };
    // Sessions stopped too: a stopping session's last segment may not be on the spool yet.
    if (!status.cameras.some((c) => c.recording) && status.upload.queued === 0 && status.spoolBytes === 0) break;
    if (Date.now() > deadline) throw new Error('uploads did not finish');
    await sleep(250);
  }
  // Targets relative to what was really recorded (a camera needs a moment to go live).
  const t = (await (await svc.api(`/api/cameras/${cam.id}/timeline?from=${a0 - 60_000}&to=${Date.now()}`)).json()) as { spans: { fromMs: number; toMs: number }[] };
  if (t.spans.length !== 2) throw new Error(`expected two recordings: ${JSON.stringify(t.spans)}`);
  [a0, a1, b0] = [t.spans[0]!.fromMs, t.spans[0]!.toMs, t.spans[1]!.fromMs];
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on('console', (m) => log.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`));
  await page.goto(`${svc.url}/`);
  await page.fill('#username', svc.adminUsername);
  await page.fill('#password', svc.adminPassword);
  await page.click('#login-form button[type=submit]');
  await signedIn(page);
});
test.after(async () => {
  await browser?.close();
  await svc?.stop();
});

const player = <T>(fn: (p: PlayerHook) => T) => page.evaluate(`(${fn.toString()})(window.__mimamori.player)`) as Promise<T>;

async function waitPlaying(timeout = 20_000): Promise<void> {
  try {
    await page.waitForFunction(() => {
      const p = (globalThis as unknown as G).__mimamori?.player;
      return !!p && p.state === 'playing' && p.decodedFrames > 0;
    }, undefined, { timeout, polling: 100 });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${log.slice(-30).join('\n')}`);
  }
}

test('a recorded range plays in Chromium: currentTime advances and frames decode', async () => {
  await page.goto(`${svc.url}/playback.html#camera=${cameraId}&t=${new Date(a0 + 2000).toISOString()}`);
  await waitPlaying();
  const first = await player((p) => ({ t: p.currentTime, frames: p.decodedFrames, wall: p.wallTimeMs() }));
  await sleep(1500);
  const later = await player((p) => ({ t: p.currentTime, frames: p.decodedFrames, wall: p.wallTimeMs() }));
  assert.ok(later.t - first.t > 1, `currentTime advanced ${later.t - first.t} s in 1.5 s`);
  assert.ok(later.frames - first.frames > 20, `${later.frames - first.frames} frames decoded`);
  assert.ok(first.wall !== undefined && Math.abs(first.wall - (a0 + 2000)) < 2500, 'it plays from near the asked time');
});

test('a seek lands within one frame interval of the asked time (the frame presented)', async () => {
  for (const offset of [1234, 4678, 3000]) {
    const target = a0 + offset;
    // In-page code as a string: the DOM is not in this file's types.
    const landed = (await page.evaluate(`(async (t) => {
      const p = window.__mimamori.player;
      p.pause();
      let video = document.querySelector('video');
      let presented = -1;
      const watch = (v) => v.requestVideoFrameCallback((_now, meta) => { presented = meta.mediaTime; watch(v); });
      watch(video);
      p.seek(t);
      // A seek outside the window loads a new one (a new <video> source): wait until it settles.
      const deadline = Date.now() + 8000;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        const v = document.querySelector('video');
        if (v !== video) { video = v; watch(v); }
        const w = p.wallTimeMs();
        if (!video.seeking && video.readyState >= 2 && w !== undefined && Math.abs(w - t) < 100 && presented >= 0 && Math.abs(presented - video.currentTime) < 0.2) break;
      }
      // A new window may start playing; seek again, paused, inside it: that is where exactness shows.
      p.pause();
      p.seek(t);
      await new Promise((r) => setTimeout(r, 500));
      return { mediaTime: presented, currentTime: video.currentTime, wall: p.wallTimeMs(), paused: video.paused, state: p.state, win: p.window && { startMs: p.window.startMs, requestedMs: p.window.requestedMs } };
    })(${target})`)) as { mediaTime: number; currentTime: number; wall: number | undefined };
    assert.ok(landed.mediaTime >= 0, `a frame was presented after seeking to +${offset} ms`);
    // The frame on screen is the one whose interval holds the asked time: it starts at or before
    // it, less than a frame interval earlier (the camera's frames come at ~30 fps; one may be late).
    assert.ok(landed.mediaTime <= landed.currentTime + 0.001 && landed.currentTime - landed.mediaTime < 2 / 30, `the presented frame (${landed.mediaTime}) is the one at currentTime (${landed.currentTime})`);
    assert.ok(landed.wall !== undefined && Math.abs(landed.wall - target) <= 1000 / 30 + 1, `landed at ${landed.wall! - a0} ms for ${offset} ms: ${JSON.stringify(landed)} a0=${a0}`);
  }
});

test('playback runs across the gap: skipped, reported, and continues in the next recording', async () => {
  await player((p) => p.setSpeed(4));
  await page.evaluate((t) => {
    const p = (globalThis as unknown as G).__mimamori.player!;
    p.seek(t);
    p.play();
  }, a1 - 1500);
  try {
    await page.waitForFunction(
      (b) => {
        const p = (globalThis as unknown as G).__mimamori.player!;
        return (p.wallTimeMs() ?? 0) > b + 500 && p.lastNotice?.kind === 'skipped';
      },
      b0,
      { timeout: 20_000, polling: 100 },
    );
  } catch (error) {
    const state = await player((p) => ({ wall: p.wallTimeMs(), notice: p.lastNotice, state: p.state }));
    throw new Error(`${(error as Error).message}: ${JSON.stringify(state)} a1=${a1} b0=${b0}\n${log.slice(-20).join('\n')}`);
  }
  const notice = await player((p) => p.lastNotice!);
  assert.ok(notice.text.length > 0, 'the page says which gap was skipped');
  const frames = await player((p) => p.decodedFrames);
  await sleep(700);
  assert.ok((await player((p) => p.decodedFrames)) > frames, 'frames keep decoding after the gap');
});

test('a time in a gap starts at the next recording and says so', async () => {
  await page.goto(`${svc.url}/playback.html#camera=${cameraId}&t=${new Date(a1 + 2000).toISOString()}`);
  await waitPlaying();
  const state = await player((p) => ({ wall: p.wallTimeMs(), notice: p.lastNotice }));
  assert.is(state.notice?.kind, 'gap', JSON.stringify(state.notice));
  assert.ok(state.wall !== undefined && state.wall >= b0 - 1500, 'playing from the recording after the gap');
});

test('the timeline: zoomed to minutes it shows both recordings and the gap; hovering a span decodes a preview; a click seeks there', async () => {
  await page.goto(`${svc.url}/playback.html#camera=${cameraId}&t=${new Date(a0 + 2000).toISOString()}`);
  await waitPlaying();
  type T = { __mimamori: { timeline: { setLevel(l: string): void; centerOn(ms: number): void; view(): { fromMs: number; toMs: number }; visible(): { spans: unknown[]; gaps: { reason: string }[] }; previewsDecoded: number } } };
  await page.evaluate(`(() => { const t = window.__mimamori.timeline; t.setLevel('minute'); t.centerOn(${a1}); })()`);
  await page.waitForFunction(() => (globalThis as unknown as T).__mimamori.timeline.visible().spans.length >= 2, undefined, { timeout: 10_000 });
  const visible = await page.evaluate(() => (globalThis as unknown as T).__mimamori.timeline.visible());
  assert.ok(visible.gaps.some((g) => g.reason === 'camera-offline'), JSON.stringify(visible.gaps));
  const view = await page.evaluate(() => (globalThis as unknown as T).__mimamori.timeline.view());
  await page.locator('canvas.timeline-canvas').scrollIntoViewIfNeeded();
  const box = (await page.locator('canvas.timeline-canvas').boundingBox())!;
  const xOf = (ms: number) => box.x + ((ms - view.fromMs) / (view.toMs - view.fromMs)) * box.width;
  const target = a0 + 3000;
  const seen: string[] = [];
  page.on('response', (r) => { if (r.url().includes('preview.mp4')) seen.push(`${r.status()} ${r.url().slice(-40)}`); });
  await page.mouse.move(xOf(target) - 5, box.y + box.height / 2);
  await page.mouse.move(xOf(target), box.y + box.height / 2, { steps: 3 });
  try {
    await page.waitForFunction(() => (globalThis as unknown as T).__mimamori.timeline.previewsDecoded > 0, undefined, { timeout: 10_000 });
  } catch (error) {
    throw new Error(`${(error as Error).message} previews: ${JSON.stringify(seen)} box=${JSON.stringify(box)} view=${JSON.stringify(view)} target=${target}\n${log.slice(-15).join('\n')}`);
  }
  await page.mouse.click(xOf(target), box.y + box.height / 2);
  await page.waitForFunction(
    (t) => Math.abs(((globalThis as unknown as G).__mimamori.player?.wallTimeMs() ?? 0) - t) < 1500,
    target,
    { timeout: 10_000 },
  );
});

test('marks in and out, export from the page: progress, then a download that ffprobe reads with the marked length', async () => {
  await page.goto(`${svc.url}/playback.html#camera=${cameraId}&t=${new Date(a0 + 2000).toISOString()}`);
  await waitPlaying();
  const from = a0 + 1500;
  const to = a0 + 4500;
  await page.evaluate(`window.__mimamori.page.setMarks(${from}, ${to})`);
  await page.fill('#export-name', 'marked range');
  await page.click('#export-create');
  const row = page.locator('#export-list .job[data-status="done"] a.export-download').first();
  await row.waitFor({ timeout: 30_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), row.click()]);
  const file = path.join(os.tmpdir(), `mimamori-ui-export-${Date.now()}.mp4`);
  await download.saveAs(file);
  try {
    assert.is(await decodeErrors(file), '');
    const probe = await ffprobe(file);
    assert.ok(Math.abs(Number(probe.format.duration) - 3) <= 1 / 30 + 0.01, `duration ${probe.format.duration} s for 3 s marked`);
  } finally {
    await fs.rm(file, { force: true });
  }
});

test('phone-sized: the playback page fits a 375 px wide screen and still plays', async () => {
  const phone = await browser.context.newPage();
  try {
    await phone.setViewportSize({ width: 375, height: 740 });
    // The session lives in the tab (sessionStorage): carry it over as if signed in there.
    const session = (await page.evaluate('JSON.stringify({ token: sessionStorage.getItem("mimamori.token"), user: sessionStorage.getItem("mimamori.user") })')) as string;
    await phone.addInitScript({ content: `(() => { const s = ${session}; sessionStorage.setItem('mimamori.token', s.token); if (s.user) sessionStorage.setItem('mimamori.user', s.user); })();` });
    await phone.goto(`${svc.url}/playback.html#camera=${cameraId}&t=${new Date(a0 + 2000).toISOString()}`);
    await phone.waitForFunction(() => {
      const p = (globalThis as unknown as G).__mimamori?.player;
      return !!p && p.decodedFrames > 0;
    }, undefined, { timeout: 20_000 });
    const fit = (await phone.evaluate('({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth, video: document.querySelector("video").getBoundingClientRect().width, timeline: document.querySelector("canvas.timeline-canvas").getBoundingClientRect().width })')) as { scroll: number; inner: number; video: number; timeline: number };
    assert.ok(fit.scroll <= fit.inner + 1, `no sideways scrolling: content ${fit.scroll} px in ${fit.inner} px`);
    assert.ok(fit.video >= 300 && fit.video <= 375, `the video uses the width (${fit.video} px)`);
    assert.ok(fit.timeline >= 280 && fit.timeline <= 375, `the timeline too (${fit.timeline} px)`);
  } finally {
    await phone.close();
  }
});

test('live and recorded: the page switches to the live view; a live share link shows the camera live', async () => {
  const cam = { id: cameraId, secret: cameraSecret };
  const camera = await Camera.create({ whipUrl: `${svc.url}/whip/${cam.id}`, token: await svc.publishToken(cam.id, cam.secret), width: 320, height: 180, kbps: 300, fps: 30 });
  type L = { __mimamori: { live(): { state: string; framesDecoded: number } | null; page: { setMode(m: string): void; mode: string } } };
  try {
    await page.goto(`${svc.url}/playback.html#camera=${cameraId}&t=${new Date(a0 + 2000).toISOString()}`);
    await page.waitForFunction(() => !!(globalThis as unknown as L).__mimamori?.page, undefined, { timeout: 10_000 });
    await page.evaluate(() => (globalThis as unknown as L).__mimamori.page.setMode('live'));
    await page.waitForFunction(() => {
      const t = (globalThis as unknown as L).__mimamori.live();
      return !!t && t.state === 'live' && t.framesDecoded > 10;
    }, undefined, { timeout: 30_000 });
    const res = await svc.api('/api/shares', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ cameraId, kind: 'live', expiresInHours: 1 }) });
    const { share } = (await res.json()) as { share: { url: string } };
    const guest = await browser.context.newPage();
    try {
      await guest.goto(`${svc.url}${share.url}`);
      await guest.waitForFunction(() => {
        const m = (globalThis as unknown as L & S).__mimamori;
        const t = m.live?.();
        return m.share?.state === 'live' && !!t && t.state === 'live' && t.framesDecoded > 10;
      }, undefined, { timeout: 30_000 });
    } finally {
      await guest.close();
    }
  } catch (error) {
    const state = await page.evaluate('JSON.stringify({ hash: location.hash, mode: window.__mimamori.page?.mode, player: window.__mimamori.player && { state: window.__mimamori.player.state, notice: window.__mimamori.player.lastNotice, window: window.__mimamori.player.window, frames: window.__mimamori.player.decodedFrames } })').catch(() => '?');
    throw new Error(`${(error as Error).message}\n${state}\n${log.filter((l) => !/404|Password field/.test(l)).slice(-20).join('\n')}`);
  } finally {
    await camera.close();
  }
});

type S = { __mimamori: { share: { state: string; kind?: string; range?: { fromMs: number; toMs: number } }; player: PlayerHook | null } };

test('a shared clip: the page asks for the password, refuses a wrong one, plays the range, and says when it is revoked', async () => {
  const res = await svc.api('/api/shares', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cameraId, kind: 'clip', from: a0 + 1000, to: a0 + 5000, expiresInHours: 1, password: 'site-manager' }),
  });
  assert.is(res.status, 201, await res.clone().text());
  const { share } = (await res.json()) as { share: { id: string; url: string } };
  const guest = await browser.context.newPage();
  guest.on('console', (m) => log.push(`[share ${m.type()}] ${m.text()}`));
  try {
    await guest.goto(`${svc.url}${share.url}`);
    const state = () => guest.evaluate(() => (globalThis as unknown as S).__mimamori?.share?.state);
    await guest.waitForFunction(() => (globalThis as unknown as S).__mimamori?.share?.state === 'password', undefined, { timeout: 10_000 });
    await guest.fill('#share-open-password', 'not-it');
    await guest.click('#share-password-form button[type=submit]');
    await textMatches(guest, null, /wrong|違い|正しく/i);
    assert.is(await state(), 'password', 'still asking after a wrong password');
    await guest.fill('#share-open-password', 'site-manager');
    await guest.click('#share-password-form button[type=submit]');
    await guest.waitForFunction(
      () => {
        const m = (globalThis as unknown as S).__mimamori;
        return m.share.state === 'clip' && !!m.player && m.player.decodedFrames > 0;
      },
      undefined,
      { timeout: 20_000 },
    );
    const wall = await guest.evaluate(() => (globalThis as unknown as S).__mimamori.player!.wallTimeMs());
    assert.ok(wall !== undefined && wall >= a0 + 1000 - 1500 && wall <= a0 + 5000, 'it plays inside the shared range');
    const list = (await (await svc.api('/api/shares')).json()) as { shares: { id: string }[] };
    assert.ok(list.shares.some((x) => x.id === share.id));
    assert.is((await svc.api(`/api/shares/${share.id}`, { method: 'DELETE' })).status, 204);
    await guest.reload();
    await guest.waitForFunction(() => (globalThis as unknown as S).__mimamori?.share?.state === 'revoked', undefined, { timeout: 10_000 });
    assert.match(await guest.locator('body').innerText(), /revoked|取り消/i);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${log.slice(-20).join('\n')}`);
  } finally {
    await guest.close();
  }
});

test.run();
