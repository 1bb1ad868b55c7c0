// Several nodes on one PostgreSQL and one S3: each node's heartbeat, the node list with dead nodes,
// and camera ownership — a camera's new publishing session takes it with the next epoch wherever
// it lands, and the node that held it lets its connection go. A node of a cluster refuses to start
// without a shared database and S3.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Camera } from '../camera/index.ts';
import { EmbeddedS3 } from '../recorder/store/index.ts';
import { assertEachSecondOnce, recordings, sameOnBoth, until, uploaded } from './cluster-harness.ts';
import { assertWatchable, cli, freePort, startService, testDatabase, type Service } from './harness.ts';

const MASTER_KEYS = `mk-cluster:${crypto.randomBytes(32).toString('base64')}`;
let s3: EmbeddedS3;
let s3Dir: string;
let a: Service;
let b: Service;
let databaseUrl: string;

interface NodeRow {
  id: string;
  self: boolean;
  state: string;
  silentMs: number;
  owns: number;
}
interface SfuState {
  node: string;
  nodes: NodeRow[];
  cameras: { id: string; live: boolean; producers: number }[];
}

const internalPorts = new Map<string, number>();
const dataDirs = new Map<string, string>();

/** A node's settings (for its process, and for the command line run beside it). */
function nodeEnv(id: string): Record<string, string> {
  return {
    MIMAMORI_NODE_ID: id,
    MIMAMORI_INTERNAL_URL: `http://127.0.0.1:${internalPorts.get(id)}`,
    MIMAMORI_DATABASE_URL: databaseUrl,
    MIMAMORI_MASTER_KEYS: MASTER_KEYS,
    MIMAMORI_S3_ENDPOINT: `http://127.0.0.1:${s3.port}`,
    MIMAMORI_S3_BUCKET: 'cluster',
    MIMAMORI_S3_ACCESS_KEY_ID: s3.options.accessKeyId,
    MIMAMORI_S3_SECRET_ACCESS_KEY: s3.options.secretAccessKey,
    MIMAMORI_SEGMENT_SECONDS: '2',
    ...(dataDirs.has(id) ? { MIMAMORI_DATA_DIR: dataDirs.get(id)! } : {}),
  };
}

async function node(id: string, rtcMin: number): Promise<Service> {
  internalPorts.set(id, await freePort());
  const svc = await startService({
    databaseUrl,
    env: { ...nodeEnv(id), MIMAMORI_RTC_MIN_PORT: String(rtcMin), MIMAMORI_RTC_MAX_PORT: String(rtcMin + 999) },
  });
  dataDirs.set(id, svc.dataDir);
  return svc;
}

test.before(async () => {
  s3Dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-cluster-s3-'));
  s3 = await EmbeddedS3.start({ directory: s3Dir, bucket: 'cluster' });
  databaseUrl = await testDatabase();
  [a, b] = await Promise.all([node('node-a', 41000), node('node-b', 43000)]);
});
test.after(async () => {
  await a?.stop();
  await b?.stop();
  await s3?.close();
  await fs.rm(s3Dir, { recursive: true, force: true });
});

const sfu = async (svc: Service): Promise<SfuState> => (await (await svc.api('/api/sfu')).json()) as SfuState;


test('a node of a cluster refuses to start without PostgreSQL or a shared S3, saying why', async () => {
  const noDatabase = await cli(['start'], { MIMAMORI_INTERNAL_URL: 'http://127.0.0.1:1', MIMAMORI_DATA_DIR: path.join(s3Dir, 'x') });
  assert.is(noDatabase.code, 2);
  assert.match(noDatabase.stderr, /MIMAMORI_INTERNAL_URL .* needs MIMAMORI_DATABASE_URL/);
  const noS3 = await cli(['start'], { MIMAMORI_INTERNAL_URL: 'http://127.0.0.1:1', MIMAMORI_DATABASE_URL: databaseUrl, MIMAMORI_DATA_DIR: path.join(s3Dir, 'x') });
  assert.is(noS3.code, 2);
  assert.match(noS3.stderr, /needs MIMAMORI_S3_ENDPOINT.*mimamori s3/);
});

test('camera ownership: a new publishing session takes the camera; the node that held it lets go', async () => {
  const cam = await a.createCamera('Gate');
  const first = await Camera.create({ whipUrl: `${a.url}/whip/${cam.id}`, token: cam.secret, width: 320, height: 180, kbps: 300, fps: 15 });
  try {
    await until('A holds the camera', 5000, async () => ((await sfu(a)).nodes.find((n) => n.id === 'node-a')?.owns === 1 ? true : undefined));
    const firstClosed = new Promise<void>((resolve) => first.once('closed', () => resolve()));
    const second = await Camera.create({ whipUrl: `${b.url}/whip/${cam.id}`, token: cam.secret, width: 320, height: 180, kbps: 300, fps: 15 });
    try {
      const nodes = await until('B holds the camera', 5000, async () => {
        const state = await sfu(a);
        return state.nodes.find((n) => n.id === 'node-b')?.owns === 1 ? state.nodes : undefined;
      });
      assert.is(nodes.find((n) => n.id === 'node-a')?.owns, 0);
      // A closed the first connection (the camera is told by its transport closing).
      await until('A is no longer live for the camera', 5000, async () => ((await sfu(a)).cameras.find((c) => c.id === cam.id)?.live ? undefined : true));
      void firstClosed; // the werift camera notices its closed transport only when ICE fails (see the recovery work)
      assert.ok((await sfu(b)).cameras.find((c) => c.id === cam.id)?.live, 'B carries the camera');
    } finally {
      await second.close();
    }
  } finally {
    await first.close();
  }
});

test('two publishing sessions of one camera at the same moment on two nodes: one owner, one connection', async () => {
  const cam = await a.createCamera('Dock');
  const attempts = await Promise.allSettled([a, b].map((svc) => Camera.create({ whipUrl: `${svc.url}/whip/${cam.id}`, token: cam.secret, width: 320, height: 180, kbps: 300, fps: 15 })));
  const cameras = attempts.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  for (const r of attempts) {
    // The loser of the race: refused (409 publish_superseded) if the other claim reached its node
    // while the WHIP request ran, else its transport closed before ICE connected.
    if (r.status === 'rejected') assert.match(String((r.reason as { code?: string }).code ?? r.reason), /publish_superseded|connect_/, String(r.reason));
  }
  try {
    let seen = '';
    await until('exactly one node is live for the camera', 10_000, async () => {
      const states = await Promise.all([a, b].map(async (svc) => (await sfu(svc)).cameras.find((c) => c.id === cam.id)));
      seen = JSON.stringify({ attempts: attempts.map((r) => (r.status === 'rejected' ? String(r.reason) : r.status)), states });
      return states.filter((c) => c?.live).length === 1 ? true : undefined;
    }).catch((error: unknown) => assert.unreachable(`${String(error)}: ${seen}`));
    const owners = (await sfu(a)).nodes.map((n) => n.owns);
    assert.equal(owners.reduce((x, y) => x + y, 0) >= 1, true);
  } finally {
    await Promise.all(cameras.map((c) => c.close()));
  }
});

test('a viewer on the node that does not hold the camera: relayed in, every frame the camera sent, in order; the relay follows the camera', async () => {
  const cam = await a.createCamera('Relay');
  const camera = await Camera.create({ whipUrl: `${a.url}/whip/${cam.id}`, token: cam.secret, width: 320, height: 180, kbps: 300, fps: 15 });
  try {
    await until('A holds the camera', 5000, async () => ((await sfu(b)).nodes.find((n) => n.id === 'node-a')?.owns ? true : undefined));
    const stats = await assertWatchable(b, cam.id, camera, 20);
    assert.is(stats.framesDropped, 0);
    const relayed = (await sfu(b)).cameras.find((c) => c.id === cam.id);
    assert.ok(relayed?.live, 'B relays the camera in');
  } finally {
    await camera.close();
  }
  // The camera comes back on B: B holds it now and serves its own viewers; A relays it in.
  const again = await Camera.create({ whipUrl: `${b.url}/whip/${cam.id}`, token: cam.secret, width: 320, height: 180, kbps: 300, fps: 15 });
  try {
    await until('B holds the camera', 5000, async () => ((await sfu(a)).nodes.find((n) => n.id === 'node-b')?.owns ? true : undefined));
    await assertWatchable(a, cam.id, again, 20);
    await assertWatchable(b, cam.id, again, 10);
  } finally {
    await again.close();
  }
});


test('recording across nodes: the holder dies, the camera records on the other node; one recording with one node-failed gap, each second once, also after the dead node comes back', async () => {
  const cam = await a.createCamera('Failover');
  const from = Date.now();
  const first = await Camera.create({ whipUrl: `${a.url}/whip/${cam.id}`, token: cam.secret, width: 320, height: 180, kbps: 300, fps: 15 });
  await sleep(5000);
  await a.kill();
  const killedAt = Date.now();
  await first.close();
  // The camera publishes again through the load balancer, which sends it to B.
  const second = await Camera.create({ whipUrl: `${b.url}/whip/${cam.id}`, token: cam.secret, width: 320, height: 180, kbps: 300, fps: 15 });
  await sleep(5000);
  await second.close();
  const to = Date.now();
  await uploaded(b);
  await sleep(1500); // B's index flush
  const onB = await recordings(b, cam.id, from - 5000, to + 5000);
  const failed = onB.gaps.filter((g) => g.reason === 'node-failed');
  assert.is(failed.length, 1, JSON.stringify(onB.gaps));
  console.log(`  node-failed gap before the dead node's spool: ${failed[0]!.toMs - failed[0]!.fromMs} ms (killed at +${killedAt - from} ms)`);
  assert.ok(onB.segments.some((s) => s.startMs < killedAt), 'the dead node\'s uploaded recording is listed by the other node');
  assert.ok(onB.segments.some((s) => s.startMs > killedAt), 'and the new holder\'s');

  // The dead node comes back: its spool goes up under its own name; nothing is listed twice.
  await a.restart();
  await uploaded(a);
  const after = await sameOnBoth(a, b, cam.id, from - 5000, to + 5000);
  assertEachSecondOnce(after.segments);
  const gapNow = after.gaps.filter((g) => g.reason === 'node-failed');
  assert.is(gapNow.length, 1);
  const ms = gapNow[0]!.toMs - gapNow[0]!.fromMs;
  console.log(`  node-failed gap once the dead node's spool is up: ${ms} ms`);
  assert.ok(ms <= 8000, `the failover gap is ${ms} ms`);
  // Every object opens and decodes: the service's own check.
  const verify = await cli(['verify', '--camera', cam.id, '--from', String(from - 5000), '--to', String(to + 5000), '--json'], nodeEnv('node-a'));
  assert.is(verify.code, 0, verify.stderr + verify.stdout);
});

test('a holder paused for 10 s (SIGSTOP) wakes up believing it still holds the camera: it lets go, and no second is listed twice', async () => {
  const cam = await a.createCamera('Paused');
  const from = Date.now();
  const first = await Camera.create({ whipUrl: `${a.url}/whip/${cam.id}`, token: cam.secret, width: 320, height: 180, kbps: 300, fps: 15 });
  await sleep(4000);
  a.pause();
  let second: Camera | undefined;
  try {
    second = await Camera.create({ whipUrl: `${b.url}/whip/${cam.id}`, token: cam.secret, width: 320, height: 180, kbps: 300, fps: 15 });
    await sleep(10_000);
  } finally {
    a.resume();
  }
  const woke = Date.now();
  await until('the paused node lets the camera go', 10_000, async () => ((await sfu(a)).cameras.find((c) => c.id === cam.id)?.live ? undefined : true));
  console.log(`  the paused node let go ${Date.now() - woke} ms after waking`);
  await sleep(3000);
  await second?.close();
  await first.close();
  const to = Date.now();
  await Promise.all([uploaded(a), uploaded(b)]);
  assertEachSecondOnce((await sameOnBoth(a, b, cam.id, from - 5000, to + 5000)).segments);
});

interface HealthRow {
  id: string;
  state: string;
  sinceMs?: number;
  lastSeenMs?: number;
  heldBy?: string;
  bitrateKbps?: number;
  video?: { codec: string; width: number; height: number };
  recording: { lastRecordedMs?: number; spoolLagMs?: number; gapsToday: number };
}
const healthOf = async (svc: Service, cameraId: string): Promise<{ node: string; row: HealthRow | undefined }> => {
  const page = (await (await svc.api('/api/camera-health?limit=1000')).json()) as { node: string; cameras: HealthRow[] };
  return { node: page.node, row: page.cameras.find((c) => c.id === cameraId) };
};

test('camera status on both nodes: the holder has the live details; the other node shows the camera live and then offline as its holder says, with its gaps today from the shared recordings', async () => {
  const cam = await a.createCamera('Status');
  const from = Date.now();
  const publish = () => Camera.create({ whipUrl: `${b.url}/whip/${cam.id}`, token: cam.secret, width: 320, height: 180, kbps: 300, fps: 15 });
  // A few seconds offline: a camera-offline gap in B's index.
  const first = await publish();
  await until('B records', 15_000, async () => ((await recordings(b, cam.id, from, Date.now() + 1000)).segments.length >= 1 ? true : undefined));
  await first.close();
  await sleep(3000);
  const camera = await publish();
  let closedAt = 0;
  try {
    await until('B holds the camera', 5000, async () => ((await sfu(a)).nodes.find((n) => n.id === 'node-b')?.owns ? true : undefined));
    // Recorded and uploaded by B, its index objects flushed (every 10 s in a cluster): what A reads.
    await until('B records again after a gap', 15_000, async () => {
      const r = await recordings(b, cam.id, from, Date.now() + 1000);
      return r.gaps.length >= 1 && r.segments.some((x) => x.startMs > r.gaps[0]!.toMs - 1) ? true : undefined;
    });
    await uploaded(b);
    await sleep(11_000);
    const onB = await until('B\'s status with a bitrate', 15_000, async () => {
      const h = await healthOf(b, cam.id);
      return h.row?.bitrateKbps !== undefined ? h : undefined;
    });
    assert.is(onB.node, 'node-b');
    assert.is(onB.row!.state, 'live');
    assert.is(onB.row!.heldBy, undefined, 'B holds it');
    assert.ok(onB.row!.bitrateKbps! > 50, `B measures the bitrate: ${onB.row!.bitrateKbps} kbit/s`);
    assert.equal(onB.row!.video, { codec: 'h264', width: 320, height: 180 });
    assert.ok(onB.row!.recording.spoolLagMs !== undefined, 'B knows how far its spool is behind');
    assert.is(onB.row!.recording.gapsToday, 1, 'B counts the gap');

    const onA = await healthOf(a, cam.id);
    assert.is(onA.node, 'node-a');
    assert.ok(onA.row, 'A lists the camera');
    assert.is(onA.row!.heldBy, 'node-b', 'A says which node holds it');
    assert.is(onA.row!.state, 'live', `A shows it live from the fresh recordings: ${JSON.stringify(onA.row)}`);
    assert.equal(onA.row!.video, { codec: 'h264', width: 320, height: 180 }, 'the picture size from the recordings');
    assert.ok(Date.now() - onA.row!.recording.lastRecordedMs! < 15_000, `last recorded ${Date.now() - onA.row!.recording.lastRecordedMs!} ms ago`);
    assert.ok(onA.row!.lastSeenMs !== undefined && Date.now() - onA.row!.lastSeenMs < 15_000, 'seen lately');
    assert.is(onA.row!.bitrateKbps, undefined, 'live details are the holder\'s');
    assert.is(onA.row!.recording.gapsToday, 1, 'A counts the gap B recorded');
    // Filtering on A: among the cameras recording with gaps today (which count as live).
    const gapsOnA = (await (await a.api('/api/camera-health?state=gaps&limit=1000')).json()) as { cameras: HealthRow[] };
    assert.ok(gapsOnA.cameras.some((c) => c.id === cam.id), 'listed under gaps today on A');
  } finally {
    await camera.close();
    closedAt = Date.now();
  }
  const offB = await until('B shows it offline', 10_000, async () => {
    const h = await healthOf(b, cam.id);
    return h.row?.state === 'offline' ? h.row : undefined;
  });
  assert.ok(offB.sinceMs !== undefined && Math.abs(offB.sinceMs - closedAt) < 5000, `offline since it closed (${offB.sinceMs! - closedAt} ms)`);
  // A asks the holder: offline as soon as B knows, not 90 s later when the recordings go stale.
  const offA = await until('A shows it offline', 10_000, async () => {
    const h = await healthOf(a, cam.id);
    return h.row?.state === 'offline' ? h.row : undefined;
  });
  console.log(`  after the camera closed: B offline ${offB.sinceMs! - closedAt} ms after, A offline ${Date.now() - closedAt} ms after (held by ${offA.heldBy ?? 'nobody'})`);
  assert.ok(offA.lastSeenMs !== undefined && closedAt - offA.lastSeenMs < 15_000, 'A shows when it was last seen (its last recording)');
});

test('heartbeats: both nodes listed up; a killed node is dead within a few seconds', async () => {
  const state = await sfu(a);
  assert.equal(state.nodes.map((n) => [n.id, n.state]), [['node-a', 'up'], ['node-b', 'up']]);
  assert.ok(state.nodes.every((n) => n.silentMs < 3000));
  assert.is(state.nodes.find((n) => n.self)?.id, 'node-a');
  await b.kill();
  const started = Date.now();
  await until('B listed dead', 8000, async () => ((await sfu(a)).nodes.find((n) => n.id === 'node-b')?.state === 'dead' ? true : undefined));
  console.log(`  node-b listed dead ${Date.now() - started} ms after SIGKILL`);
});

test.run();
