// A node cut off the network for real (root only; skipped otherwise): two nodes, each in its own
// network namespace on a bridge (test/netns.ts), PostgreSQL, the S3 server and HAProxy in the
// test's namespace on the bridge's address. A camera publishes through HAProxy; the node holding
// it loses its link (no RST, no ICMP: packets stop, as when a switch dies). The camera publishes
// again to the other node; when the link comes back, the cut-off node lets the camera go, uploads
// what it held, and both nodes list one recording: each second once, one gap, every object opens.
import crypto from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Publisher } from '../camera/index.ts';
import { assertEachSecondOnce, sameOnBoth, until, uploaded } from './cluster-harness.ts';
import { cli, freePort, startService, type Service } from './harness.ts';
import { TestHaproxy } from './haproxy.ts';
import { canMakeNetworks, TestNetwork } from './netns.ts';
import { TestPostgres } from './postgres.ts';
import { S3Process } from './s3.ts';

const MASTER_KEYS = `mk-netns:${crypto.randomBytes(32).toString('base64')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// HAProxy ends TLS with the test's own self-signed certificate; the camera accepts it.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

let net: TestNetwork;
let pg: TestPostgres;
let s3: S3Process;
let lb: TestHaproxy;
const nodes = new Map<string, Service>();
const envs = new Map<string, Record<string, string>>();

interface SfuState {
  cameras: { id: string; live: boolean; relayed?: boolean }[];
  nodes: { id: string; state: string }[];
}

const run = canMakeNetworks() ? test : test.skip;

test.before(async () => {
  if (!canMakeNetworks()) return;
  net = await TestNetwork.create(['node-a', 'node-b']);
  pg = await TestPostgres.start({ alsoListen: { address: net.hostAddress, network: net.cidr } });
  const databaseUrl = pg.url.replace('@127.0.0.1:', `@${net.hostAddress}:`);
  s3 = await S3Process.start({ args: ['--host', net.hostAddress] });
  for (const id of ['node-a', 'node-b']) {
    const address = net.address(id);
    const env = {
      MIMAMORI_NODE_ID: id,
      MIMAMORI_INTERNAL_URL: `http://${address}:${await freePort()}`,
      MIMAMORI_DATABASE_URL: databaseUrl,
      MIMAMORI_MASTER_KEYS: MASTER_KEYS,
      MIMAMORI_SEGMENT_SECONDS: '2',
      MIMAMORI_TRUSTED_PROXIES: net.hostAddress,
      ...s3.env,
    };
    const svc = await startService({ databaseUrl, netns: { name: net.namespace(id), address }, env });
    nodes.set(id, svc);
    envs.set(id, { ...env, MIMAMORI_DATA_DIR: svc.dataDir });
  }
  lb = await TestHaproxy.start({
    nodes: [...nodes].map(([name, svc]) => ({ name, host: new URL(svc.url).hostname, port: svc.port })),
    tls: 'self-signed',
  });
});
test.after(async () => {
  await lb?.close();
  for (const svc of nodes.values()) await svc.stop();
  await s3?.close();
  await pg?.close();
  await net?.close();
});

const sfu = async (svc: Service) => (await (await svc.api('/api/sfu', { signal: AbortSignal.timeout(2000) })).json()) as SfuState;

run('the node holding a camera is cut off: the camera records on the other node; after the cut heals, one recording, each second once, every object opens', async () => {
  const admin = nodes.get('node-a')!;
  const cam = await admin.createCamera('Cut');
  const from = Date.now();
  const publisher = Publisher.create({ url: lb.url, cameraId: cam.id, secret: cam.secret, camera: { width: 320, height: 180, kbps: 300, fps: 15 } });
  let cutAt = 0;
  const t = () => `+${Date.now() - cutAt} ms`;
  publisher.on('lost', (info) => cutAt && console.log(`  camera lost its session ${t()}: ${JSON.stringify(info)}`));
  publisher.on('retry', (error, delayMs) => cutAt && console.log(`  camera retry ${t()}: ${error.message} (next in ${delayMs} ms)`));
  publisher.on('live', () => cutAt && console.log(`  camera live again ${t()}`));
  try {
    const holds = async (id: string) => ((await sfu(nodes.get(id)!)).cameras.some((c) => c.id === cam.id && c.live && !c.relayed) ? id : undefined);
    const first = await until('a node holds the camera', 20_000, async () => (await holds('node-a')) ?? (await holds('node-b')));
    const other = first === 'node-a' ? 'node-b' : 'node-a';
    await sleep(5000);

    await net.cut(first);
    cutAt = Date.now();
    await until(`${other} holds the camera`, 25_000, () => holds(other));
    const movedMs = Date.now() - cutAt;
    await until(`${other} lists ${first} dead`, 10_000, async () => ((await sfu(nodes.get(other)!)).nodes.find((n) => n.id === first)?.state === 'dead' ? true : undefined));
    await sleep(10_000 - (Date.now() - cutAt));
    await net.heal(first);
    const healedAt = Date.now();
    // Back on the network, the cut-off node learns of the higher epoch and lets the camera go.
    await until(`${first} lets the camera go`, 20_000, async () => ((await sfu(nodes.get(first)!)).cameras.find((c) => c.id === cam.id && !c.relayed)?.live ? undefined : true));
    console.log(`  ${first} cut off: the camera live on ${other} ${movedMs} ms later; after healing, ${first} let it go in ${Date.now() - healedAt} ms`);
    await sleep(4000);
  } finally {
    await publisher.close();
  }
  const to = Date.now();
  for (const svc of nodes.values()) await uploaded(svc, 40_000);
  const merged = await sameOnBoth(nodes.get('node-a')!, nodes.get('node-b')!, cam.id, from - 5000, to + 5000);
  assertEachSecondOnce(merged.segments);
  const holes = merged.gaps.filter((g) => g.toMs > from && g.fromMs < to);
  console.log(`  gaps: ${JSON.stringify(holes.map((g) => [g.reason, g.toMs - g.fromMs]))}`);
  assert.is(holes.length, 1, JSON.stringify(holes));
  assert.is(holes[0]!.reason, 'node-failed');
  assert.ok(holes[0]!.toMs - holes[0]!.fromMs <= 15_000, `the hole is ${holes[0]!.toMs - holes[0]!.fromMs} ms`);
  const verify = await cli(['verify', '--camera', cam.id, '--from', String(from - 5000), '--to', String(to + 5000), '--json'], envs.get('node-b')!);
  assert.is(verify.code, 0, verify.stderr + verify.stdout);
});

test.run();
