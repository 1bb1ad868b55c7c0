// A kiosk wall display in Debian's Chromium: two cameras (Chromium camera pages with the fake
// device) on a 2×2 kiosk. The service is restarted twice and the display's network to it is cut
// for 20 s (a TCP proxy between the kiosk page and the service that we cut and restore): every
// tile is live again without a reload. Revoking the kiosk stops it with a clear message.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import type { Page } from 'playwright-core';
import { launchChromium, type Browser } from './chromium.ts';
import { freePort, startService, type Service } from './harness.ts';

interface KioskTile {
  cameraId: string;
  state: string;
  frames: number;
}
type K = { __mimamori: { kiosk: { state: string; tiles(): KioskTile[]; renewals: number } } };

let svc: Service;
let browser: Browser;
let proxy: CutProxy;
let kiosk: Page;
const cameras: { id: string; secret: string }[] = [];
const log: string[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP proxy we can cut: every connection is dropped and new ones refused until restored. */
class CutProxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #cut = false;
  port = 0;
  constructor(targetPort: number) {
    this.#server = net.createServer((client) => {
      if (this.#cut) return void client.destroy();
      const upstream = net.connect(targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }
  async listen(): Promise<void> {
    this.port = await freePort();
    await new Promise<void>((resolve) => this.#server.listen(this.port, '127.0.0.1', resolve));
  }
  cut(): void {
    this.#cut = true;
    for (const s of this.#sockets) s.destroy();
  }
  restore(): void {
    this.#cut = false;
  }
  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

async function tiles(): Promise<KioskTile[]> {
  return kiosk.evaluate(() => (globalThis as unknown as K).__mimamori.kiosk.tiles());
}

/** Every tile is live and decodes new frames. */
async function allLive(what: string, timeout = 60_000): Promise<void> {
  const before = new Map((await tiles()).map((t) => [t.cameraId, t.frames]));
  try {
    await kiosk.waitForFunction(
      ({ ids, before }) => {
        const k = (globalThis as unknown as K).__mimamori?.kiosk;
        if (!k || k.state !== 'running') return false;
        const ts = k.tiles();
        return ids.every((id) => ts.some((t) => t.cameraId === id && t.state === 'live' && t.frames > (before[id] ?? 0) + 10));
      },
      { ids: cameras.map((c) => c.id), before: Object.fromEntries(before) },
      { timeout, polling: 500 },
    );
  } catch (error) {
    throw new Error(`${what}: ${(error as Error).message}\n${JSON.stringify(await tiles().catch(() => []))}\n${log.slice(-25).join('\n')}`);
  }
}

test.before(async () => {
  svc = await startService();
  for (const name of ['Gate', 'Dock']) cameras.push(await svc.createCamera(name));
  browser = await launchChromium();
  // The cameras: Chromium's camera page with the fake device, straight to the service.
  for (const cam of cameras) {
    const page = await browser.context.newPage();
    page.on('pageerror', (e) => log.push(`[camera pageerror] ${e.message}`));
    await page.goto(`${svc.url}/camera.html#id=${encodeURIComponent(cam.id)}&secret=${encodeURIComponent(cam.secret)}`);
  }
  proxy = new CutProxy(svc.port);
  await proxy.listen();
  const res = await svc.api('/api/kiosks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Control room', cameraIds: cameras.map((c) => c.id), layout: 4, rotateSeconds: 60 }) });
  assert.is(res.status, 201, await res.clone().text());
  const { url } = (await res.json()) as { url: string };
  kiosk = await browser.context.newPage();
  kiosk.on('console', (m) => log.push(`[kiosk ${m.type()}] ${m.text()}`));
  kiosk.on('pageerror', (e) => log.push(`[kiosk pageerror] ${e.message}`));
  await kiosk.goto(`http://127.0.0.1:${proxy.port}${url}`);
  await kiosk.evaluate(() => void ((globalThis as unknown as { __bootMark: number }).__bootMark = 42));
});
test.after(async () => {
  await browser?.close();
  await proxy?.close();
  await svc?.stop();
});

const notReloaded = async () => assert.is(await kiosk.evaluate(() => (globalThis as unknown as { __bootMark?: number }).__bootMark), 42, 'the page was not reloaded');

test('the kiosk shows every camera live, without menus', async () => {
  await allLive('first start');
  assert.is(await kiosk.locator('header, nav').count(), 0, 'no header or menus');
});

test('after two server restarts every tile is live again, without a reload', async () => {
  for (let i = 1; i <= 2; i++) {
    await svc.restart();
    await allLive(`after restart ${i}`, 90_000);
  }
  await notReloaded();
});

test('after the network is cut for 20 s every tile is live again, without a reload', async () => {
  proxy.cut();
  await sleep(20_000);
  proxy.restore();
  await allLive('after the network cut', 90_000);
  await notReloaded();
});

test('rotating pages for a while leaves no video element or peer connection behind', async () => {
  const res = await svc.api('/api/kiosks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Lobby wall', cameraIds: cameras.map((c) => c.id), layout: 1, rotateSeconds: 5 }) });
  const { url } = (await res.json()) as { url: string };
  const page = await browser.context.newPage();
  await page.addInitScript({
    content: `(() => { const Native = window.RTCPeerConnection; const all = []; window.__pcs = all;
      window.RTCPeerConnection = class extends Native { constructor(...a) { super(...a); all.push(this); } }; })();`,
  });
  await page.goto(`${svc.url}${url}`);
  const sample = () =>
    page.evaluate(`({ page: window.__mimamori.kiosk.page, videos: document.querySelectorAll('video').length,
      open: window.__pcs.filter((pc) => pc.connectionState !== 'closed').length, created: window.__pcs.length,
      live: window.__mimamori.kiosk.tiles().filter((t) => t.state === 'live').length })`) as Promise<{ page: number; videos: number; open: number; created: number; live: number }>;
  const seen = new Set<number>();
  let worst = { videos: 0, open: 0 };
  for (let i = 0; i < 16; i++) {
    await sleep(2000);
    const s = await sample();
    seen.add(s.page);
    worst = { videos: Math.max(worst.videos, s.videos), open: Math.max(worst.open, s.open) };
  }
  const last = await sample();
  await page.close();
  assert.equal([...seen].sort(), [0, 1], 'both pages were shown');
  assert.ok(last.created >= 4, `${last.created} connections over ~6 rotations`);
  assert.ok(worst.videos <= 1, `at most one video element at a time (saw ${worst.videos})`);
  assert.ok(worst.open <= 2, `the old page's connection is closed when the next one opens (saw ${worst.open} open)`);
});

test('a revoked kiosk stops with a clear message on the screen', async () => {
  const list = (await (await svc.api('/api/kiosks')).json()) as { kiosks: { id: string; name: string }[] };
  const control = list.kiosks.find((k) => k.name === 'Control room')!;
  // A change of its cameras drops duplicate ids, as its creation does (the same list here).
  const ids = cameras.map((c) => c.id);
  const changed = await svc.api(`/api/kiosks/${control.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ cameraIds: [...ids, ids[0]] }) });
  assert.is(changed.status, 200, await changed.clone().text());
  assert.equal(((await changed.json()) as { kiosk: { cameraIds: string[] } }).kiosk.cameraIds, ids);
  assert.is((await svc.api(`/api/kiosks/${control.id}`, { method: 'DELETE' })).status, 204);
  await kiosk.waitForFunction(() => (globalThis as unknown as K).__mimamori.kiosk.state === 'revoked', undefined, { timeout: 20_000 });
  const text = await kiosk.locator('body').innerText();
  assert.match(text, /revoked|取り消/i);
  assert.is((await tiles()).length, 0, 'every tile is closed');
  const videos = await kiosk.evaluate(() => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('video').length);
  assert.is(videos, 0, 'no video element is left');
});

test.run();
