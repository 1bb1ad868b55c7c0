// Viewers move make-before-break when their node drains (issue "No planned downtime"): two nodes
// behind HAProxy, three werift cameras publishing through it, and a Chromium grid through it. The
// node the grid is connected to is drained: the grid connects again through HAProxy (to the other
// node) while its tiles still play through the old one, joins every camera there, and shows each
// new path from its first frame. Measured in the page every 50 ms: no tile stops showing new frames
// for longer than FREEZE_BOUND_MS, and the page is never reloaded.
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Publisher } from '../camera/index.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';
import { until } from './cluster-harness.ts';
import { freePort, startService, testDatabase, type Service } from './harness.ts';
import { TestHaproxy } from './haproxy.ts';
import { S3Process } from './s3.ts';

const MASTER_KEYS = `mk-viewers-drain:${crypto.randomBytes(32).toString('base64')}`;
const CAMERAS = 3;
/** The bound on the longest interval between two frames at a viewer during a drain. */
const FREEZE_BOUND_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

interface TileInfo {
  cameraId: string;
  state: string;
  framesDecoded: number;
}
type GridHook = { __mimamori: { tiles(): TileInfo[] }; __loadMarker?: number; __freeze?: Record<string, { maxStallMs: number; lastMs: number; frames: number; states: string[] }> };
interface SfuState {
  cameras: { id: string; live: boolean; relayed?: boolean; viewers: number }[];
}

let s3: S3Process;
let lb: TestHaproxy;
const nodes = new Map<string, Service>();
const publishers: Publisher[] = [];
let browser: Browser | undefined;

test.before(async () => {
  s3 = await S3Process.start();
  const databaseUrl = await testDatabase();
  await Promise.all(
    ['node-a', 'node-b'].map(async (id, i) => {
      const rtcMin = 60000 + i * 1000;
      const svc = await startService({
        databaseUrl,
        env: {
          MIMAMORI_NODE_ID: id,
          MIMAMORI_INTERNAL_URL: `http://127.0.0.1:${await freePort()}`,
          MIMAMORI_MASTER_KEYS: MASTER_KEYS,
          MIMAMORI_SEGMENT_SECONDS: '2',
          MIMAMORI_RTC_MIN_PORT: String(rtcMin),
          MIMAMORI_RTC_MAX_PORT: String(rtcMin + 999),
          MIMAMORI_TRUSTED_PROXIES: '127.0.0.1',
          MIMAMORI_DRAIN_LB_WAIT_MS: '1500',
          ...s3.env,
        },
      });
      nodes.set(id, svc);
    }),
  );
  lb = await TestHaproxy.start({ nodes: [...nodes].map(([name, svc]) => ({ name, host: '127.0.0.1', port: svc.port })), tls: 'self-signed' });
});
test.after(async () => {
  await browser?.close();
  for (const p of publishers) await p.close().catch(() => undefined);
  await lb?.close();
  for (const svc of nodes.values()) await svc.stop();
  await s3?.close();
});

const sfu = async (svc: Service) => (await (await svc.api('/api/sfu', { signal: AbortSignal.timeout(2000) })).json()) as SfuState;
const tiles = (page: Page) => page.evaluate(() => (globalThis as unknown as GridHook).__mimamori.tiles().map((t) => ({ cameraId: t.cameraId, state: t.state, framesDecoded: t.framesDecoded })));

test('the grid on a draining node moves to the other node make-before-break: no tile freezes longer than 500 ms, no reload', async () => {
  const built = spawnSync('bash', ['setup/client.sh'], { cwd: new URL('..', import.meta.url), stdio: 'inherit' });
  assert.is(built.status, 0, 'setup/client.sh builds the pages');
  const admin = nodes.get('node-a')!;
  const cameraIds: string[] = [];
  for (let i = 0; i < CAMERAS; i++) {
    const cam = await admin.createCamera(`Viewed ${i + 1}`);
    cameraIds.push(cam.id);
    publishers.push(Publisher.create({ url: lb.url, cameraId: cam.id, secret: cam.secret, camera: { width: 320, height: 180, kbps: 300, fps: 15 } }));
    await sleep(200);
  }
  const log: string[] = [];
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  const page = await (await browser.newContext({ ignoreHTTPSErrors: true, locale: 'ja-JP', viewport: { width: 1280, height: 800 } })).newPage();
  page.on('console', (m) => log.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`));
  try {
    await page.goto(`${lb.url}/`);
    await page.fill('#username', admin.adminUsername);
    await page.fill('#password', admin.adminPassword);
    await page.click('#login-form button[type=submit]');
    await until('every tile plays', 30_000, async () => {
      const now = await tiles(page);
      return cameraIds.every((id) => now.some((t) => t.cameraId === id && t.state === 'live' && t.framesDecoded > 10)) ? true : undefined;
    });
    await page.evaluate(() => ((globalThis as unknown as GridHook).__loadMarker = 1));
    // The node the grid watches through: where its cameras have viewers.
    const viewedOn = await until('the grid is connected to a node', 10_000, async () => {
      for (const [id, svc] of nodes) if ((await sfu(svc)).cameras.some((c) => c.viewers > 0)) return id;
      return undefined;
    });
    const other = viewedOn === 'node-a' ? 'node-b' : 'node-a';

    // In the page: for each tile, the longest time without a new frame shown.
    await page.evaluate(() => {
      const g = globalThis as unknown as GridHook;
      g.__freeze = {};
      setInterval(() => {
        const now = performance.now();
        for (const t of g.__mimamori.tiles()) {
          const f = (g.__freeze![t.cameraId] ??= { maxStallMs: 0, lastMs: now, frames: t.framesDecoded, states: [] });
          if (f.states.at(-1) !== t.state) f.states.push(t.state);
          if (t.framesDecoded !== f.frames) {
            f.maxStallMs = Math.max(f.maxStallMs, now - f.lastMs);
            f.lastMs = now;
            f.frames = t.framesDecoded;
          }
        }
      }, 50);
    });
    await sleep(2000);
    const asked = await nodes.get(other)!.api(`/api/nodes/${viewedOn}/drain`, { method: 'POST', body: JSON.stringify({ reason: 'test' }) });
    assert.is(asked.status, 202, await asked.text());
    await until(`${viewedOn} exits`, 60_000, async () => (nodes.get(viewedOn)!.exitCode() !== undefined ? true : undefined));
    assert.is(nodes.get(viewedOn)!.exitCode(), 0, nodes.get(viewedOn)!.output().slice(-3000));
    await sleep(3000);
    const freeze = await page.evaluate(() => {
      const g = globalThis as unknown as GridHook;
      const now = performance.now();
      return Object.fromEntries(Object.entries(g.__freeze!).map(([id, f]) => [id, { maxStallMs: Math.round(Math.max(f.maxStallMs, now - f.lastMs)), states: f.states }]));
    });
    console.log(`  the grid watched through ${viewedOn}, drained; longest time without a new frame per tile: ${JSON.stringify(freeze)}`);
    // The grid is now on the other node, every camera viewed there.
    const state = await sfu(nodes.get(other)!);
    assert.ok(cameraIds.every((id) => state.cameras.some((c) => c.id === id && c.viewers > 0)), `every camera is watched through ${other} now: ${JSON.stringify(state.cameras)}`);
    assert.is(await page.evaluate(() => (globalThis as unknown as GridHook).__loadMarker), 1, 'the page was not reloaded');
    for (const id of cameraIds) {
      const f = freeze[id];
      assert.ok(f, `tile ${id} was measured`);
      assert.equal(f.states, ['live'], `tile ${id} stayed live throughout: ${JSON.stringify(f.states)}`);
      assert.ok(f.maxStallMs <= FREEZE_BOUND_MS, `tile ${id}: no new frame for ${f.maxStallMs} ms (bound ${FREEZE_BOUND_MS})`);
    }
  } catch (err) {
    console.error(`--- browser console\n${log.slice(-60).join('\n')}`);
    throw err;
  }
});

test.run();
