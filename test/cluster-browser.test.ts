// A Chromium grid through HAProxy in front of two nodes (issue "Several nodes and automatic
// failover"): four cameras (`Publisher`, the reconnect loop of `mimamori camera`) publish through
// the load balancer and land on both nodes; the grid shows them all. One node is killed
// (SIGKILL): its cameras publish again through HAProxy to the node left, and every tile plays
// again by itself, without a reload — whether the grid's own socket was on the dead node or not.
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Publisher } from '../camera/index.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';
import { freePort, startService, testDatabase, type Service } from './harness.ts';
import { TestHaproxy } from './haproxy.ts';
import { S3Process } from './s3.ts';

const MASTER_KEYS = `mk-cluster-browser:${crypto.randomBytes(32).toString('base64')}`;
const CAMERAS = 4;
/** Every tile plays again at most this long after the kill (measured: a few seconds). */
const BACK_BOUND_MS = 25_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// HAProxy ends TLS with a self-signed certificate of the test's own: the cameras and the browser accept it.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

interface TileInfo {
  cameraId: string;
  state: string;
  framesDecoded: number;
}
type GridHook = { __mimamori: { tiles(): TileInfo[] }; __loadMarker?: number };
interface SfuState {
  cameras: { id: string; live: boolean; relayed?: boolean }[];
  nodes: { id: string; owns: number }[];
}

let s3: S3Process;
let lb: TestHaproxy;
const nodes = new Map<string, Service>();
const publishers: Publisher[] = [];

test.before(async () => {
  s3 = await S3Process.start();
  const databaseUrl = await testDatabase();
  await Promise.all(
    ['node-a', 'node-b'].map(async (id, i) => {
      const rtcMin = 47000 + i * 1000;
      const svc = await startService({
        databaseUrl,
        env: {
          MIMAMORI_NODE_ID: id,
          MIMAMORI_INTERNAL_URL: `http://127.0.0.1:${await freePort()}`,
          MIMAMORI_MASTER_KEYS: MASTER_KEYS,
          MIMAMORI_SEGMENT_SECONDS: '4',
          MIMAMORI_RTC_MIN_PORT: String(rtcMin),
          MIMAMORI_RTC_MAX_PORT: String(rtcMin + 999),
          MIMAMORI_TRUSTED_PROXIES: '127.0.0.1',
          ...s3.env,
        },
      });
      nodes.set(id, svc);
    }),
  );
  lb = await TestHaproxy.start({ nodes: [...nodes].map(([name, svc]) => ({ name, host: '127.0.0.1', port: svc.port })), tls: 'self-signed' });
});
test.after(async () => {
  for (const p of publishers) await p.close().catch(() => undefined);
  await lb?.close();
  for (const svc of nodes.values()) await svc.stop();
  await s3?.close();
});

const sfu = async (svc: Service) => (await (await svc.api('/api/sfu')).json()) as SfuState;

/** The node whose media path carries the camera (live without a relay). */
async function holder(cameraId: string): Promise<string | undefined> {
  for (const [id, svc] of nodes) {
    const state = await sfu(svc).catch(() => undefined);
    if (state?.cameras.some((c) => c.id === cameraId && c.live && !c.relayed)) return id;
  }
  return undefined;
}

const tiles = (page: Page) => page.evaluate(() => (globalThis as unknown as GridHook).__mimamori.tiles().map((t) => ({ cameraId: t.cameraId, state: t.state, framesDecoded: t.framesDecoded })));

/** Waits until every camera's tile is live and decodes frames it did not have at `since`; the time it did. */
async function allPlaying(page: Page, cameraIds: string[], timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const start = new Map((await tiles(page)).map((t) => [t.cameraId, t.framesDecoded]));
  let last = '';
  while (Date.now() < deadline) {
    const now = await tiles(page);
    last = JSON.stringify(now);
    const moving = cameraIds.every((id) => {
      const t = now.find((x) => x.cameraId === id);
      return t && t.state === 'live' && t.framesDecoded > (start.get(id) ?? 0) + 5;
    });
    if (moving) return Date.now();
    // A tile that went dark and came back restarts its counter: measure from where it is now.
    for (const t of now) if (t.framesDecoded < (start.get(t.cameraId) ?? 0)) start.set(t.cameraId, t.framesDecoded);
    await sleep(200);
  }
  throw new Error(`not every tile plays within ${timeoutMs} ms: ${last}`);
}

test('a Chromium grid through HAProxy: a node holding cameras is killed; every tile plays again by itself, without a reload', async () => {
  if (!fs.existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH}; install it with "bash setup/setup.sh --test"`);
  const built = spawnSync('bash', ['setup/client.sh'], { cwd: new URL('..', import.meta.url), stdio: 'inherit' });
  assert.is(built.status, 0, 'setup/client.sh builds the pages');
  const admin = nodes.get('node-a')!;
  const cameraIds: string[] = [];
  for (let i = 0; i < CAMERAS; i++) {
    const cam = await admin.createCamera(`Site ${i + 1}`);
    cameraIds.push(cam.id);
    const publisher = Publisher.create({ url: lb.url, cameraId: cam.id, secret: cam.secret, camera: { width: 320, height: 180, kbps: 300, fps: 15 } });
    publisher.on('retry', (error) => console.log(`  camera ${i + 1}: ${error.message}`));
    publisher.on('closed', (info) => info.reason !== 'closed' && console.log(`  camera ${i + 1} closed: ${info.reason} ${info.error?.message ?? ''}`));
    publishers.push(publisher);
    await sleep(300);
  }
  let where: (string | undefined)[] = [];
  for (let i = 0; i < 100; i++) {
    where = await Promise.all(cameraIds.map(holder));
    if (where.every(Boolean)) break;
    await sleep(200);
  }
  assert.ok(where.every(Boolean), `every camera is held by a node: ${JSON.stringify(where)}`);
  console.log(`  cameras held by ${JSON.stringify(where)}`);

  const log: string[] = [];
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await (await browser.newContext({ ignoreHTTPSErrors: true, locale: 'ja-JP', viewport: { width: 1280, height: 800 } })).newPage();
    page.on('console', (m) => log.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`));
    await page.goto(`${lb.url}/`);
    await page.fill('#username', admin.adminUsername);
    await page.fill('#password', admin.adminPassword);
    await page.click('#login-form button[type=submit]');
    await allPlaying(page, cameraIds, 30_000);
    await page.evaluate(() => ((globalThis as unknown as GridHook).__loadMarker = 1));

    // The node that holds the most cameras dies.
    const counts = ['node-a', 'node-b'].map((id) => [id, where.filter((w) => w === id).length] as const);
    const victim = counts.sort((x, y) => y[1] - x[1])[0]![0];
    const killedAt = Date.now();
    await nodes.get(victim)!.kill();
    const backAt = await allPlaying(page, cameraIds, BACK_BOUND_MS);
    const survivor = victim === 'node-a' ? 'node-b' : 'node-a';
    const after = await Promise.all(cameraIds.map(holder));
    console.log(`  killed ${victim} (held ${where.filter((w) => w === victim).length} of ${CAMERAS}); every tile playing again ${((backAt - killedAt) / 1000).toFixed(1)} s later; now held by ${JSON.stringify(after)}`);
    assert.equal(after, cameraIds.map(() => survivor), 'every camera is on the node left');
    assert.is(await page.evaluate(() => (globalThis as unknown as GridHook).__loadMarker), 1, 'the page was not reloaded');
  } catch (err) {
    console.error(`--- browser console\n${log.slice(-60).join('\n')}`);
    for (const [id, svc] of nodes) console.error(`--- ${id} (tail)\n${svc.output().slice(-3000)}`);
    throw err;
  } finally {
    await browser.close();
  }
});

test.run();
