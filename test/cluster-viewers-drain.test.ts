// Viewers move make-before-break when a node drains (issue "No planned downtime"): two nodes, and
// HAProxy in front of node-a alone at first, so that three werift cameras and a Chromium grid
// ("through") all arrive there; then node-b joins the load balancer, and a second grid ("beside")
// is opened on node-b directly (its cameras relayed in from node-a). node-a is drained:
// - "through" is told its node is leaving: it connects again through HAProxy (node-b) while its
//   tiles still play through node-a, joins every camera there and shows each new path from its
//   first frame;
// - "beside" stays where it is while each camera moves to its node: the camera's new producers
//   arrive beside the relayed ones, which play on until the old holder lets the camera go.
// Measured in each page every 50 ms: no tile goes without a new frame for longer than
// FREEZE_BOUND_MS, every tile stays live, and no page is reloaded.
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Publisher } from '../camera/index.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';
import { clusterNode, recordings, until, uploaded } from './cluster-harness.ts';
import { testDatabase, type Service } from './harness.ts';
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
      nodes.set(id, (await clusterNode({ id, databaseUrl, masterKeys: MASTER_KEYS, s3Env: s3.env, rtcMin })).svc);
    }),
  );
  lb = await TestHaproxy.start({ nodes: balanced(['node-a']), tls: 'self-signed' });
});
test.after(async () => {
  await browser?.close();
  for (const p of publishers) await p.close().catch(() => undefined);
  await lb?.close();
  for (const svc of nodes.values()) await svc.stop();
  await s3?.close();
});

const balanced = (ids: string[]) => ids.map((name) => ({ name, host: '127.0.0.1', port: nodes.get(name)!.port }));
const sfu = async (svc: Service) => (await (await svc.api('/api/sfu', { signal: AbortSignal.timeout(2000) })).json()) as SfuState;
const tiles = (page: Page) => page.evaluate(() => (globalThis as unknown as GridHook).__mimamori.tiles().map((t) => ({ cameraId: t.cameraId, state: t.state, framesDecoded: t.framesDecoded })));

/** Signs in on `url` and waits until every tile plays. */
async function openGrid(name: string, url: string, admin: Service, cameraIds: string[], log: string[]): Promise<Page> {
  const page = await (await browser!.newContext({ ignoreHTTPSErrors: true, locale: 'ja-JP', viewport: { width: 1280, height: 800 } })).newPage();
  page.on('console', (m) => log.push(`[${name}] [${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => log.push(`[${name}] [pageerror] ${e.message}`));
  await page.goto(url);
  await page.fill('#username', admin.adminUsername);
  await page.fill('#password', admin.adminPassword);
  await page.click('#login-form button[type=submit]');
  await until(`every tile of "${name}" plays`, 30_000, async () => {
    const now = await tiles(page);
    return cameraIds.every((id) => now.some((t) => t.cameraId === id && t.state === 'live' && t.framesDecoded > 10)) ? true : undefined;
  });
  await page.evaluate(() => ((globalThis as unknown as GridHook).__loadMarker = 1));
  return page;
}

/** In the page: for each tile, the longest time without a new frame shown, and its states. */
async function measure(page: Page): Promise<void> {
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
}

async function measured(page: Page): Promise<Record<string, { maxStallMs: number; states: string[] }>> {
  return page.evaluate(() => {
    const g = globalThis as unknown as GridHook;
    const now = performance.now();
    return Object.fromEntries(Object.entries(g.__freeze!).map(([id, f]) => [id, { maxStallMs: Math.round(Math.max(f.maxStallMs, now - f.lastMs)), states: f.states }]));
  });
}

test('a node drains under two grids (one watching through it, one beside it): every tile goes on make-before-break, no freeze longer than 500 ms, no reload', async () => {
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
  try {
    const through = await openGrid('through', `${lb.url}/`, admin, cameraIds, log);
    // Now node-b joins the load balancer; "beside" watches on node-b itself (relayed from node-a).
    await lb.reload({ nodes: balanced(['node-a', 'node-b']) });
    await lb.waitFor('node-b', 'UP');
    const beside = await openGrid('beside', `${nodes.get('node-b')!.url}/`, admin, cameraIds, log);
    const a = await sfu(admin);
    assert.ok(cameraIds.every((id) => a.cameras.some((c) => c.id === id && c.live && c.viewers > 0)), `node-a holds every camera and "through" watches there: ${JSON.stringify(a.cameras)}`);
    await measure(through);
    await measure(beside);
    const from = Date.now();
    await sleep(2000);

    const asked = await nodes.get('node-b')!.api('/api/nodes/node-a/drain', { method: 'POST', body: JSON.stringify({ reason: 'test' }) });
    assert.is(asked.status, 202, await asked.text());
    await until('node-a exits', 60_000, async () => (nodes.get('node-a')!.exitCode() !== undefined ? true : undefined));
    assert.is(nodes.get('node-a')!.exitCode(), 0, nodes.get('node-a')!.output().slice(-3000));
    await sleep(3000);
    const results = { through: await measured(through), beside: await measured(beside) };
    console.log(`  longest time without a new frame per tile while node-a drained: ${JSON.stringify(results)}`);
    const b = await sfu(nodes.get('node-b')!);
    assert.ok(cameraIds.every((id) => b.cameras.some((c) => c.id === id && c.live && c.viewers >= 2)), `every camera is held and watched by both grids on node-b now: ${JSON.stringify(b.cameras)}`);
    for (const [name, page] of [['through', through], ['beside', beside]] as const) {
      assert.is(await page.evaluate(() => (globalThis as unknown as GridHook).__loadMarker), 1, `"${name}" was not reloaded`);
      for (const id of cameraIds) {
        const f = results[name][id];
        assert.ok(f, `"${name}": tile ${id} was measured`);
        assert.equal(f.states, ['live'], `"${name}": tile ${id} stayed live throughout: ${JSON.stringify(f.states)}`);
        assert.ok(f.maxStallMs <= FREEZE_BOUND_MS, `"${name}": tile ${id} showed no new frame for ${f.maxStallMs} ms (bound ${FREEZE_BOUND_MS})`);
      }
    }
    // The cameras moved to a node where they were relayed in for "beside": node-b records their own
    // producers from their first keyframe there, beside the relayed ones: one recording, no gap.
    for (const p of publishers) await p.close();
    const to = Date.now();
    await uploaded(nodes.get('node-b')!);
    await sleep(11_000); // the index objects go up every 10 s
    for (const id of cameraIds) {
      const r = await recordings(nodes.get('node-b')!, id, from, to - 500);
      const sorted = [...r.segments].sort((p, q) => p.startMs - q.startMs);
      assert.ok(sorted.length > 0 && sorted.at(-1)!.endMs >= to - 2500, `${id}: recorded after the move`);
      for (let i = 1; i < sorted.length; i++) {
        const step = sorted[i]!.startMs - sorted[i - 1]!.endMs;
        assert.ok(step >= -400 && step <= 1100, `${id}: continuous across the move, each second once (step ${step} ms)`);
      }
      assert.equal(r.gaps.filter((g) => g.toMs > from && g.fromMs < to - 500), [], `${id}: no gap`);
    }
  } catch (err) {
    console.error(`--- browser console\n${log.slice(-60).join('\n')}`);
    for (const [id, svc] of nodes) console.error(`--- ${id} (relays, moves, viewers)\n${svc.output().split('\n').filter((l) => /relay_|camera_|drain|viewer/.test(l)).slice(-40).join('\n')}`);
    throw err;
  }
});

test.run();
