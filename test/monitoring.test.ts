// Monitoring: /readyz and /metrics on the real service against an S3 server process that the test
// stops and starts, with a synthetic camera recording; a tiny spool quota fills while S3 is away;
// /metrics refuses callers that are not on this machine or lack the token.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Camera } from '../camera/index.ts';
import { EmbeddedS3, S3ObjectStore } from '../recorder/store/index.ts';
import { NotRecordingTracker } from '../signaling/monitoring.ts';
import { freePort, startService, type Service } from './harness.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BUCKET = 'monitoring';

let s3: EmbeddedS3;
let s3Dir: string;
let svc: Service;

// The data folders are under os.tmpdir(). With the default 1024 MiB the disk check (and every
// "only s3 fails") would depend on how much the test machine has free there; these services write a
// few MB. The disk check itself is tested with a threshold no disk reaches (the full-spool test).
const testDisk = { MIMAMORI_READY_MIN_FREE_MB: '64' };
const NO_DISK_HAS_MB = '1000000000';

const s3Env = (port: number): Record<string, string> => ({
  MIMAMORI_S3_ENDPOINT: `http://127.0.0.1:${port}`,
  MIMAMORI_S3_BUCKET: BUCKET,
  MIMAMORI_S3_ACCESS_KEY_ID: s3.options.accessKeyId,
  MIMAMORI_S3_SECRET_ACCESS_KEY: s3.options.secretAccessKey,
});

test.before(async () => {
  s3Dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-s3-'));
  s3 = await EmbeddedS3.start({ directory: s3Dir, bucket: BUCKET });
  (await S3ObjectStore.create({ ...s3.options, createBucket: true })).close(); // creates the bucket
  svc = await startService({ env: { ...s3Env(s3.port), MIMAMORI_SEGMENT_SECONDS: '2', ...testDisk } });
});
test.after(async () => {
  await svc?.stop();
  await s3?.close();
  await fs.rm(s3Dir, { recursive: true, force: true });
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format; throws on any line that is neither a comment nor a sample. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    // Prometheus reads values as Go floats: NaN and Inf in any case (prom-client writes "Nan").
    const raw = m[3]!.toLowerCase();
    const value = raw === 'nan' ? NaN : raw === '+inf' || raw === 'inf' ? Infinity : raw === '-inf' ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== 'nan') throw new Error(`not a number: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return samples;
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

async function metrics(service: Service, headers: Record<string, string> = {}): Promise<Sample[]> {
  const res = await fetch(`${service.url}/metrics`, { headers });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${text}`);
  assert.match(res.headers.get('content-type') ?? '', 'text/plain');
  return parseMetrics(text);
}

interface ReadyBody {
  ready: boolean;
  checks: Record<string, { ok: boolean; message?: string }>;
  failed?: string[];
}
async function readyz(service: Service): Promise<{ status: number; body: ReadyBody; text: string }> {
  const res = await fetch(`${service.url}/readyz`);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as ReadyBody, text };
}

/** Every failing check with its reason, [name, message], as /readyz returned them. */
const failing = (body: ReadyBody): [string, string][] =>
  Object.entries(body.checks)
    .filter(([, check]) => !check.ok)
    .map(([name, check]) => [name, check.message ?? '(no message)']);

/** Polls `probe` until it returns a value (not undefined), or fails with `what`. */
async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, service = svc): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms ${last ? `(${String(last)})` : ''}\n${service.output().slice(-3000)}`);
    await sleep(250);
  }
}

const publish = async (service: Service, cam: { id: string; secret: string }) =>
  Camera.create({ whipUrl: `${service.url}/whip/${cam.id}`, token: await service.publishToken(cam.id, cam.secret), width: 640, height: 360, kbps: 800, fps: 30 });

test('the not-recording alert is raised after the delay, once, and cleared when the camera records or leaves', () => {
  const t = new NotRecordingTracker(30_000);
  const steps: [nowMs: number, notRecording: string[], raised: string[], cleared: string[], alerts: [string, number][]][] = [
    [0, ['a'], [], [], []],
    [29_999, ['a'], [], [], []],
    [30_000, ['a', 'b'], ['a'], [], [['a', 0]]],
    [35_000, ['a', 'b'], [], [], [['a', 0]]], // raised once, not again
    [40_000, ['b'], [], ['a'], []], // a records again
    [45_000, ['a', 'b'], [], [], []], // a starts over from now
    [60_000, ['a', 'b'], ['b'], [], [['b', 30_000]]],
    [75_000, ['a', 'b'], ['a'], [], [['b', 30_000], ['a', 45_000]]],
    [80_000, [], [], ['a', 'b'], []],
  ];
  for (const [now, notRecording, raised, cleared, alerts] of steps) {
    const change = t.update(now, notRecording);
    assert.equal(change.raised.map((a) => a.cameraId), raised, `raised at ${now}`);
    assert.equal(change.cleared.sort(), cleared, `cleared at ${now}`);
    assert.equal(t.alerts(now).map((a) => [a.cameraId, a.sinceMs]), alerts, `alerts at ${now}`);
  }
});

test('at start: /readyz is 200 with every check passing and /metrics parses', async () => {
  const ready = await readyz(svc);
  assert.is(ready.status, 200, ready.text);
  assert.is(ready.body.ready, true);
  assert.equal(Object.keys(ready.body.checks).sort(), ['clock', 'database', 'disk', 'drain', 's3', 'spool', 'turn', 'workers']);
  for (const [name, check] of Object.entries(ready.body.checks)) assert.ok(check.ok, `${name} passes (${check.message})`);
  assert.not.match(ready.text, String(s3.port), 'no internal detail');

  const samples = await metrics(svc);
  for (const name of [
    'mimamori_cameras_online',
    'mimamori_cameras_recording',
    'mimamori_cameras_online_not_recording',
    'mimamori_recording_upload_lag_seconds',
    'mimamori_spool_bytes',
    'mimamori_upload_errors_total',
    'mimamori_upload_queue',
    'mimamori_segments_dropped_total',
    'mimamori_viewers',
    'mimamori_socket_connections',
    'mimamori_sfu_workers_alive',
    'process_cpu_seconds_total',
    'nodejs_eventloop_lag_seconds',
  ]) {
    assert.ok(value(samples, name) !== undefined, `${name} is exported`);
  }
  assert.is(value(samples, 'mimamori_s3_up'), 1);
  assert.is(value(samples, 'mimamori_database_up'), 1, 'the files store always takes changes');
  assert.is(value(samples, 'mimamori_spool_quota_bytes'), 4096 * 1024 * 1024);
  assert.ok(value(samples, 'mimamori_disk_free_bytes')! > 0);
  assert.is(value(samples, 'mimamori_sfu_workers_alive'), 1);

  // A request that came through a proxy is not from this machine, even on loopback.
  const proxied = await fetch(`${svc.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
  assert.is(proxied.status, 403);
  assert.match(await proxied.text(), 'MIMAMORI_METRICS_TOKEN');
  const healthz = await fetch(`${svc.url}/healthz`);
  assert.is(healthz.status, 200);
});

test('S3 stopped while a camera records: /readyz 503 naming s3, s3_up 0, upload errors grow; ready again when S3 is back', async () => {
  const cam = await svc.createCamera('Lobby');
  const camera = await publish(svc, cam);
  try {
    await until('the camera records', 15_000, async () => (value(await metrics(svc), 'mimamori_cameras_recording') === 1 ? true : undefined));
    const before = await metrics(svc);
    assert.is(value(before, 'mimamori_cameras_online'), 1);
    assert.is(value(before, 'mimamori_camera_online_not_recording', { camera_id: cam.id }), 0);
    const errorsBefore = value(before, 'mimamori_upload_errors_total')!;

    await s3.close();
    const down = await until('/readyz says s3 failed', 15_000, async () => {
      const r = await readyz(svc);
      return r.status === 503 && r.body.failed?.includes('s3') ? r : undefined;
    });
    assert.is(down.body.ready, false);
    assert.is(down.body.checks.s3?.ok, false);
    assert.match(down.body.checks.s3?.message ?? '', /S3|object storage/);
    assert.not.match(down.text, String(s3.port), 'no endpoint in the public message');
    const failed = failing(down.body);
    assert.equal(failed, [['s3', down.body.checks.s3?.message ?? '']], `only s3 fails; failing: ${JSON.stringify(failed)}${failed.length > 1 ? `\nservice log:\n${svc.output().slice(-3000)}` : ''}`);
    assert.is(value(await metrics(svc), 'mimamori_s3_up'), 0);
    const during = await until('upload errors grow', 20_000, async () => {
      const m = await metrics(svc);
      return value(m, 'mimamori_upload_errors_total')! > errorsBefore && value(m, 'mimamori_upload_queue')! > 0 ? m : undefined;
    });
    const shown = JSON.stringify(
      Object.fromEntries(['mimamori_uploads_total', 'mimamori_upload_errors_total', 'mimamori_upload_queue', 'mimamori_spool_bytes', 'mimamori_recording_upload_lag_seconds'].map((n) => [n, value(during, n)])),
    );
    assert.ok(value(during, 'mimamori_spool_bytes')! > 0, `segments wait on the spool: ${shown}`);
    // Also when the only segment not in S3 is the one being retried (no upload yet, none queued behind it).
    assert.ok(value(during, 'mimamori_recording_upload_lag_seconds')! > 0, `the upload lag counts the segment in retry: ${shown}`);
    assert.is(value(during, 'mimamori_cameras_recording'), 1, 'recording goes on to the spool');

    const status = (await (await svc.api('/api/recorder')).json()) as { alerts: unknown[]; upload: { errors: number } };
    assert.equal(status.alerts, [], 'a camera that records to the spool is not "not recording"');
    assert.ok(status.upload.errors > 0);

    s3 = await EmbeddedS3.start({ directory: s3Dir, port: s3.port, bucket: BUCKET });
    await until('/readyz 200 again', 20_000, async () => ((await readyz(svc)).status === 200 ? true : undefined));
    assert.is(value(await metrics(svc), 'mimamori_s3_up'), 1);
  } finally {
    await camera.close();
  }
});

test('a full spool (1 MB quota, S3 away) and too little disk: /readyz 503 naming spool and disk, spool bytes near the quota, segments dropped; a camera whose spool cannot be written raises the alert; /metrics needs the token', async () => {
  const token = 'metrics-token-0123456789abcdef';
  const dead = await freePort(); // nothing listens here: S3 is away from the start
  const small = await startService({
    env: { ...s3Env(dead), MIMAMORI_SEGMENT_SECONDS: '2', MIMAMORI_SPOOL_QUOTA_MB: '1', MIMAMORI_METRICS_TOKEN: token, MIMAMORI_READY_MIN_FREE_MB: NO_DISK_HAS_MB },
  });
  const auth = { authorization: `Bearer ${token}` };
  try {
    const refused = [await fetch(`${small.url}/metrics`), await fetch(`${small.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789abcdef' } })];
    for (const res of refused) {
      assert.is(res.status, 401, 'with a token configured, loopback alone is not enough');
      assert.not.match(await res.text(), token);
    }
    assert.is(value(await metrics(small, auth), 'mimamori_spool_quota_bytes'), 1024 * 1024);

    const cam = await small.createCamera('Dock');
    // A file where this camera's spool folder belongs: its segments cannot be written.
    const blocked = await small.createCamera('Blocked');
    await fs.mkdir(path.join(small.dataDir, 'spool'), { recursive: true });
    await fs.writeFile(path.join(small.dataDir, 'spool', blocked.id), 'not a folder');
    const liveSince = Date.now();
    const camera = await publish(small, cam);
    const blockedCamera = await publish(small, blocked);
    try {
      const full = await until(
        'segments dropped over the quota',
        45_000,
        async () => {
          const m = await metrics(small, auth);
          return value(m, 'mimamori_segments_dropped_total')! > 0 ? m : undefined;
        },
        small,
      );
      const spool = value(full, 'mimamori_spool_bytes')!;
      assert.ok(spool >= 0.5 * 1024 * 1024 && spool <= 2 * 1024 * 1024, `spool ${spool} bytes is near the 1 MiB quota`);
      assert.is(value(full, 'mimamori_s3_up'), 0);
      assert.ok(value(full, 'mimamori_upload_errors_total')! > 0);
      const ready = await readyz(small);
      assert.is(ready.status, 503, ready.text);
      assert.ok(ready.body.failed?.includes('spool'), `failed: ${ready.body.failed?.join(', ')}`);
      assert.ok(ready.body.failed?.includes('s3'));
      assert.match(ready.body.checks.spool?.message ?? '', 'MIMAMORI_SPOOL_QUOTA_MB');
      assert.equal(ready.body.failed?.sort(), ['disk', 's3', 'spool'], ready.text);
      assert.match(ready.body.checks.disk?.message ?? '', new RegExp(`^\\d+ MiB free in the data folder, below ${NO_DISK_HAS_MB} MiB`));

      type Alerts = { alerts: { cameraId: string; kind: string; sinceMs: number }[] };
      const raised = await until(
        'the not-recording alert',
        50_000,
        async () => {
          const s = (await (await small.api('/api/recorder')).json()) as Alerts;
          return s.alerts.length > 0 ? s.alerts : undefined;
        },
        small,
      );
      assert.equal(raised.map((a) => [a.cameraId, a.kind]), [[blocked.id, 'not_recording']], 'only the camera that is not recorded');
      assert.ok(raised[0]!.sinceMs >= liveSince && Date.now() - raised[0]!.sinceMs >= 30_000, 'not recorded for over 30 s');
      const m = await metrics(small, auth);
      assert.is(value(m, 'mimamori_camera_online_not_recording', { camera_id: blocked.id }), 1);
      assert.is(value(m, 'mimamori_camera_online_not_recording', { camera_id: cam.id }), 0, 'a camera recording to a full spool is still recorded');
      assert.is(value(m, 'mimamori_cameras_online_not_recording'), 1);
      assert.is(value(m, 'mimamori_cameras_online'), 2);
      assert.is(value(m, 'mimamori_cameras_recording'), 1);
      assert.ok(value(m, 'mimamori_spool_write_errors_total')! > 0);
      assert.match(small.output(), 'alert_not_recording');
    } finally {
      await camera.close();
      await blockedCamera.close();
    }
  } finally {
    await small.stop();
  }
});

test.run();
