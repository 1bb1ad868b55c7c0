// Nothing lost when things fail: S3 away for a minute, the service killed with SIGKILL
// mid-segment, and objects damaged in the bucket (found by `mimamori verify`, never played).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import path from 'node:path';
import os from 'node:os';
import fs from 'node:fs/promises';
import { promisify } from 'node:util';
import { Camera } from '../camera/index.ts';
import { readSegment, SegmentError } from '../recorder/reader.ts';
import { EmbeddedS3 } from '../recorder/store/index.ts';
import { startService, type Service } from './harness.ts';
import { decodeErrors, openRecordings, videoSamples, writeMp4 } from './recordings.ts';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let s3: EmbeddedS3;
let s3Dir: string;
let svc: Service;
let s3Env: Record<string, string>;

test.before(async () => {
  s3Dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-s3-'));
  s3 = await EmbeddedS3.start({ directory: s3Dir, bucket: 'durability' });
  await (await openRecordingsStore()).close(); // creates the bucket
  s3Env = {
    MIMAMORI_S3_ENDPOINT: `http://127.0.0.1:${s3.port}`,
    MIMAMORI_S3_BUCKET: 'durability',
    MIMAMORI_S3_ACCESS_KEY_ID: s3.options.accessKeyId,
    MIMAMORI_S3_SECRET_ACCESS_KEY: s3.options.secretAccessKey,
  };
  svc = await startService({ env: { ...s3Env, MIMAMORI_SEGMENT_SECONDS: '4' } });
});
test.after(async () => {
  await svc?.stop();
  await s3?.close();
  await fs.rm(s3Dir, { recursive: true, force: true });
});

async function openRecordingsStore() {
  const { S3ObjectStore } = await import('../recorder/store/index.ts');
  const store = await S3ObjectStore.create({ ...s3.options, createBucket: true });
  return { close: async () => store.close() };
}

interface Timeline {
  segments: { startMs: number; endMs: number; fragments: number; end: string }[];
  gaps: { fromMs: number; toMs: number; reason: string }[];
}
interface Status {
  upload: { queued: number; uploaded: number; errors: number };
  spoolBytes: number;
}

const status = async () => (await (await svc.api('/api/recorder')).json()) as Status;
const timeline = async (cameraId: string, fromMs: number) =>
  (await (await svc.api(`/api/cameras/${cameraId}/recordings?from=${fromMs}&to=${Date.now() + 1000}`)).json()) as Timeline;

async function settled(timeoutMs: number): Promise<Status> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await status();
    if (s.upload.queued === 0 && s.spoolBytes === 0) return s;
    if (Date.now() > deadline) throw new Error(`spool not empty after ${timeoutMs} ms: ${JSON.stringify(s)}\n${svc.output().slice(-3000)}`);
    await sleep(500);
  }
}

const publish = async (cam: { id: string; secret: string }) =>
  Camera.create({ whipUrl: `${svc.url}/whip/${cam.id}`, token: await svc.publishToken(cam.id, cam.secret), width: 320, height: 180, kbps: 300, fps: 30 });

test('S3 unreachable for 60 s: the spool holds everything, all of it is uploaded when S3 returns', async () => {
  const cam = await svc.createCamera('Warehouse');
  const t0 = Date.now();
  const camera = await publish(cam);
  await sleep(5000);
  await s3.close();
  await sleep(60_000);
  const during = await status();
  assert.ok(during.upload.errors > 0, 'uploads failed while S3 was away');
  assert.ok(during.spoolBytes > 0, 'segments waited on the spool');
  s3 = await EmbeddedS3.start({ directory: s3Dir, port: s3.port, bucket: 'durability' });
  await sleep(3000);
  const sent = camera.stats.framesSent;
  await camera.close();
  await settled(60_000);
  const t = await timeline(cam.id, t0);
  assert.is(t.gaps.length, 0, `no gap: ${JSON.stringify(t.gaps)}`);
  for (let i = 1; i < t.segments.length; i++) assert.is(t.segments[i]!.startMs, t.segments[i - 1]!.endMs, 'contiguous');
  const r = await openRecordings(svc.dataDir, s3.options);
  try {
    const segments = await r.segments(cam.id);
    assert.is(segments.length, t.segments.length, 'every indexed segment is in S3 and opens');
    const frames = segments.flatMap((s) => videoSamples(s).map((v) => v.frame!));
    for (let i = 1; i < frames.length; i++) assert.is(frames[i], frames[i - 1]! + 1, 'no frame missing');
    assert.ok(frames.length >= sent - 45, `recorded ${frames.length} of ${sent} frames`);
  } finally {
    await r.close();
  }
});

test('SIGKILL mid-segment: after restart at most ~1 s is missing, nothing corrupt, nothing uploaded twice', async () => {
  const cam = await svc.createCamera('Gate');
  const t0 = Date.now();
  const camera = await publish(cam);
  await sleep(6500); // one 4 s segment finished, the next one half written
  const killedAt = Date.now();
  await svc.kill();
  await camera.close();
  const r0 = await openRecordings(svc.dataDir, s3.options);
  const before = await r0.keys(cam.id);
  await r0.close();
  await svc.restart();
  await settled(30_000);
  assert.match(svc.output(), 'spool_recovered');
  const t = await timeline(cam.id, t0);
  const last = t.segments.at(-1)!;
  assert.is(last.end, 'recovered', 'the torn segment was finished from what reached the disk');
  assert.ok(killedAt - last.endMs <= 1500, `${killedAt - last.endMs} ms before the kill are missing`);
  assert.is(t.gaps.length, 0, 'no gap within what was recorded');
  const r = await openRecordings(svc.dataDir, s3.options);
  try {
    const after = await r.keys(cam.id);
    assert.is(new Set(after).size, after.length);
    assert.is(after.length, t.segments.length, 'exactly the indexed segments are in S3');
    const reuploaded = after.filter((k) => before.includes(k)).length;
    assert.is(reuploaded, before.length, 'what was uploaded before the kill is still there once');
    const s = await status();
    assert.is(s.upload.uploaded, after.length - before.length, 'after the restart only the segments that never reached S3 were uploaded');
    const key = await r.dataKey(cam.id);
    for (const k of after) {
      const segment = readSegment(key, k, await r.store.get(k));
      const file = path.join(s3Dir, 'gate.mp4');
      await writeMp4(segment, file);
      assert.is(await decodeErrors(file), '', `${k} decodes cleanly`);
      await fs.rm(file);
    }
  } finally {
    await r.close();
  }
});

test('a tampered, swapped or truncated object is reported by mimamori verify and never opens', async () => {
  const cam = await svc.createCamera('Loading bay');
  const t0 = Date.now();
  const camera = await publish(cam);
  await sleep(14_000);
  await camera.close();
  await settled(30_000);
  const t1 = Date.now();
  const env = { ...process.env, ...s3Env, MIMAMORI_DATA_DIR: svc.dataDir };
  const verify = async () => {
    const args = ['--import', 'tsx', path.join(ROOT, 'bin/mimamori.ts'), 'verify', '--camera', cam.id, '--from', new Date(t0 - 5000).toISOString(), '--to', String(t1), '--json'];
    return run(process.execPath, args, { cwd: ROOT, env }).then(
      (r) => ({ code: 0, report: JSON.parse(r.stdout) as { objects: number; fragments: number; failures: { key: string; code: string }[]; gaps: unknown[] } }),
      (e: { code: number; stdout: string; stderr: string }) => {
        if (!e.stdout) throw new Error(e.stderr);
        return { code: e.code, report: JSON.parse(e.stdout) as { objects: number; fragments: number; failures: { key: string; code: string }[]; gaps: unknown[] } };
      },
    );
  };
  const clean = await verify();
  assert.is(clean.code, 0);
  assert.ok(clean.report.objects >= 3, `${clean.report.objects} objects`);
  assert.is(clean.report.failures.length, 0);
  assert.ok(clean.report.fragments >= 12);

  const r = await openRecordings(svc.dataDir, s3.options);
  try {
    const keys = await r.keys(cam.id);
    const [a, b, c] = keys as [string, string, string];
    const bytesA = await r.store.get(a);
    const bytesB = await r.store.get(b);
    const bytesC = await r.store.get(c);
    const tampered = Uint8Array.from(bytesA);
    tampered[Math.floor(tampered.length / 2)]! ^= 0x01; // one bit inside a fragment
    await r.store.put(a, tampered);
    await r.store.put(b, bytesC); // another segment's object under this name
    await r.store.put(c, bytesC.subarray(0, bytesC.length - 1000)); // cut short
    const broken = await verify();
    assert.is(broken.code, 1, 'verify exits 1 when anything fails to open');
    const codes = Object.fromEntries(broken.report.failures.map((f) => [f.key, f.code]));
    assert.is(codes[a], 'record_tampered');
    assert.ok(codes[b] === 'misplaced' || codes[b] === 'record_tampered', `swapped: ${codes[b]}`);
    assert.is(codes[c], 'truncated');
    assert.is(broken.report.failures.length, 3, 'the untouched objects still open');
    const key = await r.dataKey(cam.id);
    for (const [k, bytes] of [[a, tampered], [b, bytesC], [c, bytesC.subarray(0, bytesC.length - 1000)]] as const) {
      assert.throws(() => readSegment(key, k, bytes), (e: unknown) => e instanceof SegmentError, `${k} never opens`);
    }
    void bytesB;
  } finally {
    await r.close();
  }
});

test.run();
