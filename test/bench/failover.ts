// `npm run bench -- failover`: three nodes on one PostgreSQL and one S3 (`mimamori s3`, its own
// process) behind HAProxy; cameras publishing through HAProxy with the camera's own reconnect loop
// (camera/Publisher.ts), WHEP viewers through HAProxy that follow the server's `reconnect` hints
// make-before-break and join again when their video stalls all the same;
// a node killed (SIGKILL) again and again, restarted after each kill. Reports each affected
// camera's recording gap (node-failed, from its index), each affected viewer's time from the kill
// to its first new frame, the latency a relay between nodes adds (glass to glass through a relay
// beside the same camera on its own node, in the same run), and what was lost outside the gaps.
// Environment: BENCH_FAILOVER_CAMERAS (20), BENCH_FAILOVER_VIEWERS (20), BENCH_FAILOVER_KILLS (10),
// BENCH_FAILOVER_KBPS (1000). Prints JSON lines; the last is the summary.
import crypto from 'node:crypto';
import os from 'node:os';
import { FollowingViewer, Publisher, Viewer } from '../../camera/index.ts';
import { cli, freePort, startService, testDatabase, type Service } from '../harness.ts';
import { TestHaproxy } from '../haproxy.ts';
import { S3Process } from '../s3.ts';
import { emit, median, percentile, round, sleep } from './figures.ts';

const CAMERAS = Number(process.env.BENCH_FAILOVER_CAMERAS ?? 20);
const VIEWERS = Number(process.env.BENCH_FAILOVER_VIEWERS ?? 20);
const KILLS = Number(process.env.BENCH_FAILOVER_KILLS ?? 10);
const KBPS = Number(process.env.BENCH_FAILOVER_KBPS ?? 1000);
/** A draining node's wait for HAProxy to take it out (its checks below: 2 × 0.5 s). */
const DRAIN_LB_WAIT_MS = 1500;
/** Rounds of draining every node in turn (and starting it again). */
const DRAIN_ROUNDS = Number(process.env.BENCH_FAILOVER_DRAIN_ROUNDS ?? 3);
const NODES = ['node-a', 'node-b', 'node-c'];
/** A viewer whose video stops this long joins again (through HAProxy, so to a live node). */
const STALL_MS = 1500;
const MASTER_KEYS = `mk-failover:${crypto.randomBytes(32).toString('base64')}`;

// The bench is the clients' side: it accepts HAProxy's self-signed certificate.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

interface Node {
  id: string;
  svc: Service;
  rtcMin: number;
}

/**
 * A WHEP viewer through HAProxy that follows its camera (FollowingViewer: told `reconnect` by the
 * server, it moves make-before-break) and, should its video stall all the same, joins again; keeps
 * every frame's arrival.
 */
class Watcher {
  readonly arrivals: number[] = [];
  readonly latencies: number[] = [];
  switches = 0;
  #viewer: FollowingViewer | undefined;
  #closed = false;
  #loop: Promise<void>;

  constructor(
    readonly url: string,
    readonly cameraId: string,
    readonly token: string,
  ) {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      try {
        const viewer = await FollowingViewer.create({ whepUrl: `${this.url}/whep/${this.cameraId}`, token: this.token, connectTimeoutMs: 5000 });
        this.#viewer = viewer;
        let last = Date.now();
        viewer.on('frame', (f) => {
          last = Date.now();
          this.arrivals.push(f.receivedAt);
          if (f.stamp) this.latencies.push(f.receivedAt - f.stamp.sentAt);
        });
        viewer.on('switched', () => (this.switches += 1));
        while (!this.#closed && Date.now() - last < STALL_MS + (this.arrivals.length ? 0 : 8000)) await sleep(100);
        await viewer.close().catch(() => undefined);
      } catch {
        await sleep(200 + Math.random() * 300);
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#viewer?.close().catch(() => undefined);
    await this.#loop;
  }
}

const s3 = await S3Process.start();
const databaseUrl = await testDatabase();
const internal = new Map<string, number>();
const nodeEnv = async (id: string, rtcMin: number) => {
  if (!internal.has(id)) internal.set(id, await freePort());
  return {
    MIMAMORI_NODE_ID: id,
    MIMAMORI_INTERNAL_URL: `http://127.0.0.1:${internal.get(id)}`,
    MIMAMORI_MASTER_KEYS: MASTER_KEYS,
    MIMAMORI_SEGMENT_SECONDS: '4',
    MIMAMORI_RTC_MIN_PORT: String(rtcMin),
    MIMAMORI_RTC_MAX_PORT: String(rtcMin + 1999),
    MIMAMORI_TRUSTED_PROXIES: '127.0.0.1',
    // HAProxy below checks every 0.5 s, out after 2 failures.
    MIMAMORI_DRAIN_LB_WAIT_MS: String(DRAIN_LB_WAIT_MS),
    ...s3.env,
  };
};
const nodes: Node[] = await Promise.all(
  NODES.map(async (id, i) => {
    const rtcMin = 40000 + i * 2000;
    return { id, rtcMin, svc: await startService({ databaseUrl, env: await nodeEnv(id, rtcMin) }) };
  }),
);
const lb = await TestHaproxy.start({
  nodes: nodes.map((n) => ({ name: n.id, host: '127.0.0.1', port: n.svc.port })),
  tls: 'self-signed',
  check: { intervalMs: 500, fall: 2, rise: 2 },
});
const admin = nodes[0]!.svc;
emit({ phase: 'setup', nodes: NODES.length, cameras: CAMERAS, viewers: VIEWERS, kills: KILLS, kbps: KBPS, lb: lb.url });

const publishers: Publisher[] = [];
const watchers: Watcher[] = [];
const cameraIds: string[] = [];
const summary: Record<string, unknown> = { bench: 'failover' };
const runStart = Date.now();
try {
  for (let i = 0; i < CAMERAS; i++) {
    const cam = await admin.createCamera(`failover ${i}`);
    cameraIds.push(cam.id);
    publishers.push(Publisher.create({ url: lb.url, cameraId: cam.id, secret: cam.secret, camera: { width: 640, height: 360, kbps: KBPS, fps: 15 } }));
    await sleep(150);
  }
  await sleep(5000);

  // What a relay adds: one camera watched on the node that holds it and through another node.
  const sfu = async (svc: Service) => (await (await svc.api('/api/sfu')).json()) as { cameras: { id: string; live: boolean; relayed?: boolean }[]; nodes: { id: string; owns: number }[] };
  const holderOf = async (cameraId: string) => {
    for (const n of nodes) {
      const state = await sfu(n.svc);
      // The holder is live without a relay; a relaying node learns it only from a viewer.
      if (state.cameras.some((c) => c.id === cameraId && c.live)) return n;
    }
    return undefined;
  };
  const probeCam = cameraIds[0]!;
  const holder = await holderOf(probeCam);
  const other = nodes.find((n) => n !== holder)!;
  if (holder) {
    const direct = await Viewer.create({ whepUrl: `${holder.svc.url}/whep/${probeCam}`, token: admin.adminToken });
    const relayed = await Viewer.create({ whepUrl: `${other.svc.url}/whep/${probeCam}`, token: admin.adminToken });
    const lat = { direct: [] as number[], relayed: [] as number[] };
    direct.on('frame', (f) => f.stamp && lat.direct.push(f.receivedAt - f.stamp.sentAt));
    relayed.on('frame', (f) => f.stamp && lat.relayed.push(f.receivedAt - f.stamp.sentAt));
    await sleep(10_000);
    await Promise.all([direct.close(), relayed.close()]);
    summary.pipe_g2g_direct_ms = round(median(lat.direct), 2);
    summary.pipe_g2g_relayed_ms = round(median(lat.relayed), 2);
    summary.pipe_g2g_added_ms = round(median(lat.relayed) - median(lat.direct), 2);
    emit({ phase: 'relay', holder: holder.id, through: other.id, direct_p50_ms: summary.pipe_g2g_direct_ms, relayed_p50_ms: summary.pipe_g2g_relayed_ms, frames: [lat.direct.length, lat.relayed.length] });
  }

  for (let i = 0; i < VIEWERS; i++) watchers.push(new Watcher(lb.url, cameraIds[i % cameraIds.length]!, admin.adminToken));
  await sleep(8000);

  const kills: { node: string; atMs: number }[] = [];
  const viewerBack: number[] = [];
  for (let k = 0; k < KILLS; k++) {
    const victim = nodes[k % nodes.length]!;
    const before = watchers.map((w) => w.arrivals.length);
    const atMs = Date.now();
    await victim.svc.kill();
    kills.push({ node: victim.id, atMs });
    await sleep(12_000);
    // Viewers whose video stopped: from the kill to their first frame after the stall.
    for (const [i, w] of watchers.entries()) {
      const after = w.arrivals.slice(before[i]);
      const stall = after.findIndex((t, j) => j > 0 && t - after[j - 1]! > STALL_MS / 2);
      const first = after.find((t) => t > atMs + 300);
      const stalled = after.length === 0 || (stall >= 0 && after[stall - 1]! >= atMs - 1000) || (first !== undefined && first - atMs > STALL_MS);
      if (stalled && stall >= 0) viewerBack.push(after[stall]! - atMs);
    }
    await victim.svc.restart();
    emit({ phase: 'kill', k: k + 1, node: victim.id, viewers_back: viewerBack.length });
    await sleep(6000);
  }
  await sleep(5000);

  // Drains: each node in turn asked (through another node's API) to drain; it moves its cameras
  // make-before-break and exits; it is started again and back in HAProxy before the next.
  const drains: { node: string; fromMs: number; toMs: number; moved: number; ended: number; ms: number }[] = [];
  const freezes: number[] = [];
  for (let round = 0; round < DRAIN_ROUNDS; round++) {
    for (const victim of nodes) {
      const asker = nodes.find((n) => n !== victim)!;
      const before = watchers.map((w) => w.arrivals.length);
      const fromMs = Date.now();
      const res = await asker.svc.api(`/api/nodes/${victim.id}/drain`, { method: 'POST', body: JSON.stringify({ reason: 'bench' }) });
      if (res.status !== 202) throw new Error(`drain ${victim.id}: ${res.status} ${await res.text()}`);
      while (victim.svc.exitCode() === undefined && Date.now() - fromMs < 180_000) await sleep(100);
      const toMs = Date.now();
      const line = /drained in ([0-9.]+) s: (\d+) camera\(s\) moved, (\d+) ended/.exec(victim.svc.output().split('--- start').at(-1) ?? '');
      const moved = Number(line?.[2] ?? 0);
      drains.push({ node: victim.id, fromMs, toMs, moved, ended: Number(line?.[3] ?? 0), ms: Number(line?.[1] ?? 0) * 1000 });
      // Each viewer's longest wait between two frames while the node drained.
      for (const [i, w] of watchers.entries()) {
        const during = w.arrivals.slice(Math.max(0, before[i]! - 1)).filter((t) => t >= fromMs - 2000 && t <= toMs + 3000);
        let longest = 0;
        for (let j = 1; j < during.length; j++) longest = Math.max(longest, during[j]! - during[j - 1]!);
        freezes.push(longest);
      }
      emit({ phase: 'drain', round: round + 1, node: victim.id, moved, ended: drains.at(-1)!.ended, drain_ms: toMs - fromMs });
      await victim.svc.restart();
      await sleep(6000); // back in HAProxy (2 good checks) and taking cameras again
    }
  }

  for (const p of publishers) await p.close();
  await Promise.all(watchers.map((w) => w.close()));
  const runEnd = Date.now();
  // Recordings: every node's spool up and indexed (each node flushes its index every 10 s, the
  // others list it every 10 s), then each camera's gaps from its index, and what verify finds.
  await sleep(35_000);
  const gaps: number[] = [];
  const drainGaps: number[] = [];
  let lost = 0;
  let failures = 0;
  for (const id of cameraIds) {
    const r = (await (await admin.api(`/api/cameras/${id}/recordings?from=${runStart}&to=${runEnd}`)).json()) as { gaps: { fromMs: number; toMs: number; reason: string }[] };
    for (const g of r.gaps) {
      if (drains.some((d) => g.toMs > d.fromMs && g.fromMs < d.toMs + 2000)) drainGaps.push(g.toMs - g.fromMs);
      if (g.reason === 'node-failed') gaps.push(g.toMs - g.fromMs);
      else if (g.reason === 'frames-lost') lost += 1;
    }
    emit({ phase: 'recording', camera: id, gaps: r.gaps.map((g) => ({ reason: g.reason, ms: g.toMs - g.fromMs, at: g.fromMs - runStart })) });
    const verify = await cli(['verify', '--camera', id, '--from', String(runStart), '--to', String(runEnd), '--json'], { ...(await nodeEnv('node-a', nodes[0]!.rtcMin)), MIMAMORI_DATABASE_URL: databaseUrl, MIMAMORI_DATA_DIR: admin.dataDir });
    try {
      const report = JSON.parse(verify.stdout) as { failures: { key: string; code: string; message: string }[] };
      failures += report.failures.length;
      if (report.failures.length) emit({ phase: 'verify', camera: id, failures: report.failures.slice(0, 3) });
    } catch {
      failures += 1;
      emit({ phase: 'verify', camera: id, error: (verify.stderr || verify.stdout).slice(0, 500) });
    }
  }
  Object.assign(summary, {
    kill_gap_ms_p50: round(percentile(gaps, 50)),
    kill_gap_ms_max: gaps.length ? round(Math.max(...gaps)) : null,
    viewer_back_ms_p50: round(percentile(viewerBack, 50)),
    viewer_back_ms_max: viewerBack.length ? round(Math.max(...viewerBack)) : null,
    cameras: CAMERAS,
    viewers: VIEWERS,
    kills: kills.length,
    affected_recordings: gaps.length,
    affected_viewers: viewerBack.length,
    fragments_lost: lost,
    drain_gap_ms_max: drains.length ? (drainGaps.length ? round(Math.max(...drainGaps)) : 0) : null,
    drain_viewer_freeze_ms_p95: round(percentile(freezes, 95)),
    drain_viewer_freeze_ms_max: freezes.length ? round(Math.max(...freezes)) : null,
    // Sessions the viewers moved to when the server told them to (make-before-break).
    viewer_switches: watchers.reduce((n, w) => n + w.switches, 0),
    // The time to move cameras, without the wait for HAProxy and the upload at the end: per camera moved.
    drain_s_per_camera: round(drains.reduce((n, d) => n + Math.max(0, d.ms - DRAIN_LB_WAIT_MS), 0) / 1000 / Math.max(1, drains.reduce((n, d) => n + d.moved, 0)), 2),
    moves: drains.reduce((n, d) => n + d.moved, 0),
    drains: drains.length,
    drain_ended: drains.reduce((n, d) => n + d.ended, 0),
    objects_failed: failures,
    cpu_cores: os.availableParallelism(),
  });
} finally {
  for (const p of publishers) await p.close();
  await Promise.all(watchers.map((w) => w.close()));
  await lb.close();
  for (const n of nodes) await n.svc.stop();
  await s3.close();
}
emit(summary);
