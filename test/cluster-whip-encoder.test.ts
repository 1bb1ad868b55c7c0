// Draining the node of a WHIP encoder that cannot be told to move (OBS, GStreamer's whipsink): a
// plain WHIP client through HAProxy that publishes again only when its session ends, after its
// own retry delay (OBS: "Retry Delay"). The drained node ends the session once the camera did not
// move by itself (MIMAMORI_DRAIN_CAMERA_WAIT_MS); the encoder publishes again, through HAProxy, to
// the other node. What it costs is what the README says: one gap, from the end of the session to
// the encoder's first keyframe on the other node — the time it takes to notice, its retry delay
// and about a second — recorded with its reason (camera-offline: its node left, it did not fail),
// and nothing else lost.
import crypto from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Camera, type CameraClosedInfo } from '../camera/index.ts';
import { clusterNode, recordings, until, uploaded } from './cluster-harness.ts';
import { cli, testDatabase, type Service } from './harness.ts';
import { TestHaproxy } from './haproxy.ts';
import { S3Process } from './s3.ts';

const MASTER_KEYS = `mk-encoder:${crypto.randomBytes(32).toString('base64')}`;
/** The encoder's own wait before it publishes again (OBS's default "Retry Delay" is 2 s). */
const RETRY_DELAY_MS = 2000;
/** How long this encoder takes to notice its session ended: 2 s without RTCP from the server (Camera's silence check). */
const NOTICE_MS = 2000;
const METRICS_TOKEN = crypto.randomBytes(16).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

let s3: S3Process;
let lb: TestHaproxy;
const nodes = new Map<string, Service>();
const envs = new Map<string, Record<string, string>>();

test.before(async () => {
  s3 = await S3Process.start();
  const databaseUrl = await testDatabase();
  await Promise.all(
    ['node-a', 'node-b'].map(async (id, i) => {
      const rtcMin = 58000 + i * 1000;
      const node = await clusterNode({ id, databaseUrl, masterKeys: MASTER_KEYS, s3Env: s3.env, rtcMin, env: { MIMAMORI_DRAIN_CAMERA_WAIT_MS: '3000', MIMAMORI_METRICS_TOKEN: METRICS_TOKEN } });
      nodes.set(id, node.svc);
      envs.set(id, node.env);
    }),
  );
  lb = await TestHaproxy.start({ nodes: [...nodes].map(([name, svc]) => ({ name, host: '127.0.0.1', port: svc.port })), tls: 'self-signed' });
});
test.after(async () => {
  await lb?.close();
  for (const svc of nodes.values()) await svc.stop();
  await s3?.close();
});

/** Publishes through HAProxy and, when the session ends, again after RETRY_DELAY_MS; nothing else. */
class Encoder {
  camera: Camera | undefined;
  readonly sessions: { location: string; endedAtMs?: number; reason?: string }[] = [];
  readonly failures: string[] = [];
  #closed = false;
  constructor(
    readonly whipUrl: string,
    readonly token: () => Promise<string>,
  ) {}
  async start(): Promise<void> {
    const camera = await Camera.create({ whipUrl: this.whipUrl, token: await this.token(), width: 320, height: 180, kbps: 300, fps: 15 });
    this.camera = camera;
    const session: (typeof this.sessions)[number] = { location: camera.location };
    this.sessions.push(session);
    camera.once('closed', (info: CameraClosedInfo) => {
      session.endedAtMs = Date.now();
      session.reason = info.reason;
      this.#again();
    });
  }
  /** Like OBS: after the retry delay, again and again until it publishes. */
  #again(): void {
    if (this.#closed) return;
    setTimeout(() => void this.start().catch((err: unknown) => {
      this.failures.push((err as Error).message);
      this.#again();
    }), RETRY_DELAY_MS);
  }
  async close(): Promise<void> {
    this.#closed = true;
    await this.camera?.close();
  }
}

test('a WHIP encoder that cannot be told to move: its session is ended, it publishes again elsewhere; the gap is its notice time and retry delay plus about a second', async () => {
  const admin = nodes.get('node-a')!;
  const cam = await admin.createCamera('Encoder');
  // The publish token comes through the load balancer too (the first node may be gone).
  const token = async () => {
    const res = await fetch(`${lb.url}/api/cameras/${cam.id}/publish-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret: cam.secret }) });
    if (!res.ok) throw new Error(`publish token: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { token: string }).token;
  };
  const encoder = new Encoder(`${lb.url}/whip/${cam.id}`, token);
  await encoder.start();
  try {
    const holder = await until('the encoder is held', 20_000, async () => {
      for (const [id, svc] of nodes) {
        const state = (await (await svc.api('/api/sfu')).json()) as { cameras: { id: string; live: boolean; relayed?: boolean }[] };
        if (state.cameras.some((c) => c.id === cam.id && c.live && !c.relayed)) return id;
      }
      return undefined;
    });
    const other = holder === 'node-a' ? 'node-b' : 'node-a';
    const from = Date.now();
    await sleep(5000);
    const asked = await nodes.get(other)!.api(`/api/nodes/${holder}/drain`, { method: 'POST', body: JSON.stringify({ reason: 'test' }) });
    assert.is(asked.status, 202, await asked.text());
    await until(`${holder} exits`, 60_000, async () => (nodes.get(holder)!.exitCode() !== undefined ? true : undefined));
    const victim = nodes.get(holder)!;
    assert.is(victim.exitCode(), 0, victim.output().slice(-3000));
    assert.match(victim.output(), /drained in [0-9.]+ s: 0 camera\(s\) moved, 1 ended/);
    await until('the encoder publishes on the other node', 20_000, async () => (encoder.sessions.length === 2 && encoder.camera?.state === 'connected' ? true : undefined));
    const ended = encoder.sessions[0]!;
    console.log(`  the drained node ended the encoder's session (noticed as ${ended.reason}); it published again ${RETRY_DELAY_MS} ms later${encoder.failures.length ? ` after ${encoder.failures.length} failed tries: ${encoder.failures.join('; ')}` : ''}`);
    assert.equal(encoder.failures, [], 'its first try after the retry delay published (through HAProxy, to the node left)');
    await sleep(6000);
    await encoder.close();
    const to = Date.now();
    const survivor = nodes.get(other)!;
    await uploaded(survivor);
    await sleep(11_000); // the index objects go up every 10 s
    const r = await recordings(survivor, cam.id, from, to - 500);
    const gaps = r.gaps.filter((g) => g.toMs > from && g.fromMs < to - 500);
    console.log(`  gaps: ${JSON.stringify(gaps.map((g) => [g.reason, g.toMs - g.fromMs]))}`);
    assert.is(gaps.length, 1, `one gap, at the move: ${JSON.stringify(r.gaps)}`);
    const gap = gaps[0]!;
    assert.is(gap.reason, 'camera-offline', 'the camera was away (its node did not fail)');
    // The README: the time the encoder takes to notice, its retry delay, and its first keyframe there.
    const ms = gap.toMs - gap.fromMs;
    assert.ok(ms >= RETRY_DELAY_MS && ms <= NOTICE_MS + RETRY_DELAY_MS + 1500, `the gap is the encoder's notice time and retry delay plus at most 1.5 s: ${ms} ms`);
    // Otherwise continuous: each second once.
    const sorted = [...r.segments].sort((p, q) => p.startMs - q.startMs);
    for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i]!.startMs >= sorted[i - 1]!.endMs - 400, `a second listed twice: ${JSON.stringify([sorted[i - 1], sorted[i]])}`);
    const metrics = await (await survivor.api('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    assert.match(metrics, /mimamori_recording_gap_seconds_total\{reason="camera-offline"\} [0-9.]+/);
    const verify = await cli(['verify', '--camera', cam.id, '--from', String(from - 5000), '--to', String(to + 5000), '--json'], envs.get(other)!);
    assert.is(verify.code, 0, verify.stderr + verify.stdout);
  } finally {
    await encoder.close();
  }
});

test.run();
