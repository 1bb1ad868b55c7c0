// WHEP players move make-before-break (issue "No planned downtime", item 3): a player that listens
// to its session's server-sent events (the WHEP extension, `reconnect`) opens a new session while
// the old one plays and ends the old one once the new one does. Two nodes; HAProxy in front of
// node-a alone at first, so two werift cameras and the player "through" arrive there; then node-b
// joins, and the player "beside" watches on node-b itself (relayed in from node-a). node-a drains:
// "through" is told its node is leaving, "beside" that its camera moved. Also: a session's DELETE
// (and its events subscription) reach the session's node whichever node the request reaches.
import crypto from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FollowingViewer, Publisher, Viewer } from '../camera/index.ts';
import { clusterNode, recordings, until, uploaded } from './cluster-harness.ts';
import { testDatabase, type Service } from './harness.ts';
import { TestHaproxy } from './haproxy.ts';
import { S3Process } from './s3.ts';

const MASTER_KEYS = `mk-whep-follow:${crypto.randomBytes(32).toString('base64')}`;
/** The bound on the longest interval between two frames at a viewer during a drain. */
const FREEZE_BOUND_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

interface SfuState {
  nodes: { id: string; viewers?: number; load?: { viewers: number } }[];
  cameras: { id: string; live: boolean; viewers: number }[];
}

let s3: S3Process;
let lb: TestHaproxy;
const nodes = new Map<string, Service>();
const publishers: Publisher[] = [];
const players: FollowingViewer[] = [];

test.before(async () => {
  s3 = await S3Process.start();
  const databaseUrl = await testDatabase();
  await Promise.all(
    ['node-a', 'node-b'].map(async (id, i) => nodes.set(id, (await clusterNode({ id, databaseUrl, masterKeys: MASTER_KEYS, s3Env: s3.env, rtcMin: 62000 + i * 1000 })).svc)),
  );
  lb = await TestHaproxy.start({ nodes: balanced(['node-a']), tls: 'self-signed' });
});
test.after(async () => {
  for (const p of players) await p.close().catch(() => undefined);
  for (const p of publishers) await p.close().catch(() => undefined);
  await lb?.close();
  for (const svc of nodes.values()) await svc.stop();
  await s3?.close();
});

const balanced = (ids: string[]) => ids.map((name) => ({ name, host: '127.0.0.1', port: nodes.get(name)!.port }));
const sfu = async (svc: Service) => (await (await svc.api('/api/sfu', { signal: AbortSignal.timeout(2000) })).json()) as SfuState;
const viewersOf = async (svc: Service, cameraId: string) => (await sfu(svc)).cameras.find((c) => c.id === cameraId)?.viewers ?? 0;

/** Every frame's arrival at a player, and the longest wait between two in [fromMs, toMs]. */
function arrivals(player: FollowingViewer) {
  const at: number[] = [];
  player.on('frame', (f) => at.push(f.receivedAt));
  return {
    count: () => at.length,
    longestGap(fromMs: number, toMs: number) {
      const during = at.filter((t) => t >= fromMs && t <= toMs);
      let longest = 0;
      for (let i = 1; i < during.length; i++) longest = Math.max(longest, during[i]! - during[i - 1]!);
      return Math.round(Math.max(longest, during.length ? toMs - during.at(-1)! : Infinity));
    },
  };
}

test('WHEP sessions: DELETE and the events subscription reach the session\'s node through any node; bad subscriptions are refused', async () => {
  const [a, b] = [nodes.get('node-a')!, nodes.get('node-b')!];
  const cam = await a.createCamera('Session routing');
  const publisher = Publisher.create({ url: a.url, cameraId: cam.id, secret: cam.secret, camera: { width: 320, height: 180, kbps: 300, fps: 15 } });
  try {
    await until('the camera is live', 20_000, async () => ((await sfu(a)).cameras.some((c) => c.id === cam.id && c.live) ? true : undefined));
    const viewer = await Viewer.create({ whepUrl: `${a.url}/whep/${cam.id}`, token: a.adminToken });
    await viewer.waitForFrames(5);
    assert.match(viewer.location, /\/whep\/[^/]+\/[A-Za-z0-9_-]{16,}\.node-a$/, 'the session id names its node');
    assert.ok(viewer.events?.offered.includes('reconnect'), `the answer offers the reconnect event: ${JSON.stringify(viewer.events)}`);
    const path = new URL(viewer.location).pathname;
    const auth = { authorization: `Bearer ${b.adminToken}` };

    const bad = await fetch(`${b.url}${path}/sse`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '["reconnect","layers"]' });
    assert.is(bad.status, 400);
    assert.match(((await bad.json()) as { error: { code: string; message: string } }).error.message, /no such event: layers \(offered: reconnect\)/);
    const anonymous = await fetch(`${b.url}${path}/sse`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '["reconnect"]' });
    assert.is(anonymous.status, 401, 'the subscription needs the viewer\'s bearer');
    const subscribed = await fetch(`${b.url}${path}/sse`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '["reconnect"]' });
    assert.is(subscribed.status, 201, await subscribed.text());
    assert.match(subscribed.headers.get('location') ?? '', /\/sse\/events\?epoch=\d+$/);

    assert.is(await viewersOf(a, cam.id), 1, 'one viewer on node-a');
    const deleted = await fetch(`${b.url}${path}`, { method: 'DELETE', headers: auth });
    assert.is(deleted.status, 200, `DELETE through node-b ends the session on node-a: ${await deleted.text()}`);
    await until('node-a has no viewer of the camera', 5000, async () => ((await viewersOf(a, cam.id)) === 0 ? true : undefined));
    const again = await fetch(`${b.url}${path}`, { method: 'DELETE', headers: auth });
    assert.is(again.status, 404, 'a session deleted is gone');
    await viewer.close();
  } finally {
    await publisher.close();
  }
});

test('a node drains under two following WHEP players (one through it, one beside it): each switches make-before-break, no freeze longer than 500 ms, old sessions ended', async () => {
  const [a, b] = [nodes.get('node-a')!, nodes.get('node-b')!];
  const cameraIds: string[] = [];
  for (let i = 0; i < 2; i++) {
    const cam = await a.createCamera(`Followed ${i + 1}`);
    cameraIds.push(cam.id);
    publishers.push(Publisher.create({ url: lb.url, cameraId: cam.id, secret: cam.secret, camera: { width: 320, height: 180, kbps: 300, fps: 25 } }));
  }
  await until('node-a holds both cameras', 20_000, async () => ((await sfu(a)).cameras.filter((c) => cameraIds.includes(c.id) && c.live).length === 2 ? true : undefined));
  const through = await Promise.all(cameraIds.map((id) => FollowingViewer.create({ whepUrl: `${lb.url}/whep/${id}`, token: a.adminToken })));
  players.push(...through);
  await lb.reload({ nodes: balanced(['node-a', 'node-b']) });
  await lb.waitFor('node-b', 'UP');
  const beside = await Promise.all(cameraIds.map((id) => FollowingViewer.create({ whepUrl: `${b.url}/whep/${id}`, token: b.adminToken })));
  players.push(...beside);
  assert.ok(through.every((p) => p.viewer.location.endsWith('.node-a')) && beside.every((p) => p.viewer.location.endsWith('.node-b')), 'through plays on node-a, beside on node-b');
  const measured = [...through, ...beside].map((p) => ({ player: p, ...arrivals(p) }));
  const switched: string[] = [];
  for (const [i, p] of [...through, ...beside].entries()) p.on('switched', (s) => switched.push(`${i < 2 ? 'through' : 'beside'} ${i % 2}: ${s.reason} in ${s.ms} ms`));
  await sleep(2000);
  assert.ok(measured.every((m) => m.count() > 20), 'every player gets frames');

  const from = Date.now();
  const asked = await b.api('/api/nodes/node-a/drain', { method: 'POST', body: JSON.stringify({ reason: 'test' }) });
  assert.is(asked.status, 202, await asked.text());
  await until('node-a exits', 60_000, async () => (a.exitCode() !== undefined ? true : undefined));
  assert.is(a.exitCode(), 0, a.output().slice(-3000));
  await sleep(3000);
  const to = Date.now();
  const gaps = measured.map((m) => m.longestGap(from - 1000, to));
  console.log(`  longest time without a frame per player while node-a drained (through, through, beside, beside): ${JSON.stringify(gaps)} ms; switches: ${JSON.stringify(switched)}`);
  for (const [i, m] of measured.entries()) {
    assert.ok(m.player.switches >= 1, `player ${i} moved to a new session`);
    assert.ok(m.player.viewer.location.endsWith('.node-b'), `player ${i} now plays on node-b: ${m.player.viewer.location}`);
    assert.ok(gaps[i]! <= FREEZE_BOUND_MS, `player ${i}: no frame for ${gaps[i]} ms (bound ${FREEZE_BOUND_MS}); switches: ${JSON.stringify(switched)}`);
  }
  assert.ok(switched.some((s) => s.startsWith('through') && s.includes('node_draining')), `"through" was told its node drains: ${JSON.stringify(switched)}`);
  assert.ok(switched.some((s) => s.startsWith('beside') && s.includes('camera_moved')), `"beside" was told its camera moved: ${JSON.stringify(switched)}`);
  // Old sessions were ended by their players (DELETE, whichever node it reached), not left to linger.
  // A player may still be switching (a session opened during the drain, relayed from node-a, is
  // told the camera moved and is replaced too): its new session counts until the old one ends, so
  // the count settles within a switch; a session left behind would stay until it timed out.
  for (const id of cameraIds) {
    await until(`camera ${id}: exactly the two players' current sessions on node-b`, 10_000, async () => ((await viewersOf(b, id)) === 2 ? true : undefined)).catch(async (error: unknown) => {
      throw new Error(`${(error as Error).message}: ${await viewersOf(b, id)} sessions; switches: ${JSON.stringify(switched)}`);
    });
  }
  assert.ok(measured.every((m) => m.player.viewer.location.endsWith('.node-b')), 'every player plays on node-b');

  for (const p of publishers) await p.close();
  const end = Date.now();
  await uploaded(b);
  await sleep(11_000); // the index objects go up every 10 s
  for (const id of cameraIds) {
    const r = await recordings(b, id, from, end - 500);
    assert.equal(r.gaps.filter((g) => g.toMs > from && g.fromMs < end - 500), [], `${id}: no gap in the recording across the move`);
  }
});

test.run();
