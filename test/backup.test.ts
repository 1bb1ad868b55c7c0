// Metadata backups against the real parts: the service (child process) with its S3 on an embedded
// S3 server of its own folder outside the data dir (as in production, where S3 is a separate
// service), a werift camera recorded through mediasoup, the `mimamori` command line as a child
// process. Back up, wipe the data dir, restore, start again: users, grants, cameras and the
// recording are back, and the recording decodes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Backups, backUp, isMetadata, listGenerations, openBackup, GENERATIONS, type Generation } from '../backup/index.ts';
import { Camera } from '../camera/index.ts';
import { MasterKeys } from '../recorder/seal/index.ts';
import { EmbeddedS3, S3ObjectStore } from '../recorder/store/index.ts';
import { freePort, startService, type Service } from './harness.ts';
import { decodeErrors, ffprobe } from './recordings.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUCKET = 'backup-test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The master key lives outside the data dir (the operator keeps it); a second one of the same id
// stands for "the key of another machine".
const MASTER_KEYS = `mk-backup-test:${crypto.randomBytes(32).toString('base64')}`;
const OTHER_MASTER_KEYS = `mk-backup-test:${crypto.randomBytes(32).toString('base64')}`;

let s3: EmbeddedS3;
let store: S3ObjectStore;
let s3Dir: string;
let dataDir: string;
let tmp: string;
let svc: Service | undefined;
let cam: { id: string; secret: string };
let backDoor: { id: string; secret: string };
let recordedFromMs = 0;
let recordedToMs = 0;
const hana = { username: 'hana', password: 'blue-teapot-7781', id: '' };
const kenji = { username: 'kenji', password: 'quiet-harbor-2049', id: '' };

const serviceEnv = (): Record<string, string> => ({
  MIMAMORI_S3_ENDPOINT: `http://127.0.0.1:${s3.port}`,
  MIMAMORI_S3_BUCKET: BUCKET,
  MIMAMORI_S3_ACCESS_KEY_ID: s3.options.accessKeyId,
  MIMAMORI_S3_SECRET_ACCESS_KEY: s3.options.secretAccessKey,
  MIMAMORI_DATA_DIR: dataDir,
  MIMAMORI_MASTER_KEYS: MASTER_KEYS,
  MIMAMORI_SEGMENT_SECONDS: '2',
  MIMAMORI_BACKUP_DELAY_SECONDS: '1',
});

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `mimamori ARGS` as an operator runs it, with the service's settings. */
function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bin', 'mimamori.ts'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MIMAMORI_LOG_LEVEL: 'warn', ...serviceEnv(), ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

async function json<T>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  assert.is(res.status, status, `${res.url}: ${text}`);
  return JSON.parse(text) as T;
}

async function drained(s: Service): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = (await (await s.api('/api/recorder')).json()) as { upload: { queued: number }; spoolBytes: number; cameras: { recording: boolean }[] };
    if (!status.cameras.some((c) => c.recording) && status.upload.queued === 0 && status.spoolBytes === 0) return;
    if (Date.now() > deadline) throw new Error(`uploads did not finish: ${JSON.stringify(status)}`);
    await sleep(250);
  }
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const dirEntries = async (dir: string) => (await fs.readdir(dir)).sort();

test.before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-backup-'));
  s3Dir = path.join(tmp, 's3');
  dataDir = path.join(tmp, 'data');
  s3 = await EmbeddedS3.start({ directory: s3Dir, bucket: BUCKET });
  store = await S3ObjectStore.create({ ...s3.options, createBucket: true });
  svc = await startService({ env: serviceEnv() });
});

test.after(async () => {
  await svc?.stop();
  store?.close();
  await s3?.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

test('what is metadata: everything but video, caches, the master key, process ids and temporary files', () => {
  for (const p of ['db.json', 'secrets.json', 'accounts.json', 'audit/2026-11-27.jsonl', 'tls/self-signed-key.pem', 'turn/secret.json', 'something-new.json', 'new/folder/file']) {
    assert.ok(isMetadata(p), p);
  }
  for (const p of ['spool/cam/x.part', 'index/cam/1.summary.json', 's3/mimamori/backups/x.mmb', 'master-keys.json', 'service.pid', 'turn/turnserver.pid', 'turn/turndb', '.db.json.tmp', 'audit/.x.tmp', '.restore-ab12/0']) {
    assert.not.ok(isMetadata(p), p);
  }
});

test('the service backs up shortly after start, marks its data dir in use, and /metrics says when', async () => {
  const first = await until('the first scheduled backup', 20_000, async () => (await listGenerations(store))[0]);
  assert.match(first.key, /^backups\/\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z\.mmb$/);
  const seconds = await until('the backup metric', 5000, async () => {
    const text = await (await fetch(`${svc!.url}/metrics`)).text();
    const m = /^mimamori_backup_last_success_timestamp_seconds (\S+)$/m.exec(text);
    return m && Number(m[1]) > 0 ? Number(m[1]) : undefined; // 0 until the first is known
  });
  assert.ok(Math.abs(seconds * 1000 - first.atMs) < 2000, `metric ${seconds} s vs backup at ${first.atMs} ms`);
  assert.ok((await dirEntries(dataDir)).includes('service.pid'));
});

test('users, grants, cameras and a recording; `mimamori backup` seals them: nothing readable in the object', async () => {
  const s = svc!;
  hana.id = (await s.createUser(hana.username, hana.password)).id;
  kenji.id = (await s.createUser(kenji.username, kenji.password, 'admin')).id;
  cam = await s.createCamera('Lobby');
  backDoor = await s.createCamera('Back door');
  await s.grant(hana.id, cam.id);
  recordedFromMs = Date.now();
  const camera = await Camera.create({ whipUrl: `${s.url}/whip/${cam.id}`, token: await s.publishToken(cam.id, cam.secret), width: 320, height: 180, kbps: 300, fps: 30 });
  await sleep(6000);
  await camera.close();
  recordedToMs = Date.now();
  await drained(s);
  // A metadata file nobody told the backup about, appended to as a log is: in the backup, cut
  // after its last whole line.
  await fs.mkdir(path.join(dataDir, 'future'), { recursive: true });
  await fs.writeFile(path.join(dataDir, 'future', 'log.jsonl'), '{"a":1}\n{"b":2}\n{"c":', { mode: 0o600 });

  const r = await cli(['backup']);
  assert.is(r.code, 0, r.stderr);
  process.stdout.write(`  mimamori backup: ${r.stdout.split('\n')[0]} (command ${r.ms} ms)\n`);
  const newest = (await listGenerations(store)).at(-1)!;
  assert.ok(r.stdout.includes(newest.name), r.stdout);
  const bytes = Buffer.from(await store.get(newest.key));
  const db = await fs.readFile(path.join(dataDir, 'db.json'), 'utf8');
  const secrets = JSON.parse(await fs.readFile(path.join(dataDir, 'secrets.json'), 'utf8')) as { jwtSecret: string };
  const hashes = [...db.matchAll(/"passwordHash":\s*"([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(hashes.length >= 3, 'the data dir holds the users\' password hashes');
  for (const plain of [hana.username, kenji.username, 'Lobby', cam.id, 'scrypt', secrets.jwtSecret, ...hashes, MASTER_KEYS.split(':')[1]!, '"a":1']) {
    assert.not.ok(bytes.includes(plain), `the sealed backup does not contain ${plain.slice(0, 12)}…`);
  }

  // What is inside, opened with the master key: the metadata and nothing else.
  const opened = await openBackup(await MasterKeys.load({ dataDir, env: { MIMAMORI_MASTER_KEYS: MASTER_KEYS } }), bytes);
  const paths = opened.files.map((f) => f.path);
  assert.ok(paths.includes('db.json') && paths.includes('secrets.json'), paths.join(', '));
  process.stdout.write(`  backed up: ${paths.join(', ')}\n`);
  assert.not.ok(paths.some((p) => /^(spool|index|s3|master-keys\.json|service\.pid)(\/|$)/.test(p)), `no video, cache, key or pid: ${paths.join(', ')}`);
  assert.is(opened.files.find((f) => f.path === 'future/log.jsonl')?.data.toString(), '{"a":1}\n{"b":2}\n');
  assert.is(opened.files.find((f) => f.path === 'secrets.json')?.mode, 0o600);
});

test(`eight backups leave the newest ${GENERATIONS}`, async () => {
  const masterKeys = await MasterKeys.load({ dataDir, env: { MIMAMORI_MASTER_KEYS: MASTER_KEYS } });
  const before = await listGenerations(store);
  const times: number[] = [];
  for (let n = before.length; n < 8; n++) {
    const started = Date.now();
    const r = await backUp({ dataDir, store, masterKeys });
    times.push(Date.now() - started);
    assert.ok(r.kept <= GENERATIONS);
  }
  const after = await listGenerations(store);
  assert.is(after.length, GENERATIONS);
  assert.ok(!after.some((g) => g.key === before[0]!.key), 'the oldest generation is gone');
  assert.ok(after.every((g, i) => i === 0 || g.atMs > after[i - 1]!.atMs), 'names sort by time');
  process.stdout.write(`  backup in-process: ${times.join(', ')} ms; object ${after.at(-1)!.bytes} bytes\n`);
});

test('a failing backup is logged with its reason and tried again; when S3 is back it succeeds; close releases the data dir', async () => {
  const dir = path.join(tmp, 'retry-data');
  await fs.mkdir(dir);
  await fs.writeFile(path.join(dir, 'db.json'), JSON.stringify({ users: [] }));
  const port = await freePort(); // nothing listens there yet: S3 is down
  const downStore = await S3ObjectStore.create({ ...s3.options, endpoint: `http://127.0.0.1:${port}`, bucket: 'retry', requestTimeoutMs: 1000, createBucket: false });
  const lines: { event?: string; reason?: string; code?: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
  const masterKeys = await MasterKeys.load({ dataDir: dir, env: { MIMAMORI_MASTER_KEYS: MASTER_KEYS } });
  const backups = await Backups.start({ dataDir: dir, store: downStore, masterKeys, log, intervalMs: 3_600_000, startDelayMs: 0, retryMs: 300 });
  let revived: EmbeddedS3 | undefined;
  try {
    assert.ok((await dirEntries(dir)).includes('service.pid'));
    await until('two failed attempts', 20_000, async () => (lines.filter((l) => l.event === 'backup_failed').length >= 2 ? true : undefined));
    const failure = lines.find((l) => l.event === 'backup_failed')!;
    assert.is(failure.code, 'unavailable');
    assert.ok(failure.reason && failure.reason.length > 10, `a reason: ${failure.reason}`);
    assert.is(backups.lastSuccessMs, undefined);
    revived = await EmbeddedS3.start({ directory: path.join(tmp, 's3-retry'), port, bucket: 'retry' });
    await until('a backup once S3 is back', 20_000, async () => lines.find((l) => l.event === 'backup_done'));
    assert.ok(backups.lastSuccessMs! > 0);
    assert.is((await listGenerations(downStore)).length, 1);
  } finally {
    await backups.close();
    downStore.close();
    await revived?.close();
  }
  assert.not.ok((await dirEntries(dir)).includes('service.pid'), 'released on close');
});

test('a new master key (a rotation) is followed by a backup sealed with it; older ones need the retired key', async () => {
  const dir = path.join(tmp, 'rotation-data');
  await fs.mkdir(dir);
  await fs.writeFile(path.join(dir, 'db.json'), JSON.stringify({ users: [] }));
  const rotationStore = await S3ObjectStore.create({ ...s3.options, bucket: 'rotation', createBucket: true });
  const done: { generation: string; masterKeyId: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void ((l) => l.event === 'backup_done' && done.push(l))(JSON.parse(line) as { event?: string } & (typeof done)[number]) });
  const masterKeys = await MasterKeys.load({ dataDir: dir, env: {} }); // the file, generated
  const backups = await Backups.start({ dataDir: dir, store: rotationStore, masterKeys, log, intervalMs: 3_600_000, startDelayMs: 0, keyCheckMs: 200 });
  try {
    await until('the first backup', 20_000, async () => done[0]);
    const before = masterKeys.current.id;
    assert.is(done[0]!.masterKeyId, before);
    const next = await masterKeys.rotate();
    await masterKeys.retire([next.id]); // as DataKeys.rotateMaster does once the data keys are re-wrapped
    const after = await until('a backup under the new key', 20_000, async () => done[1]);
    assert.is(after.masterKeyId, next.id);
    const [older, newer] = await listGenerations(rotationStore);
    await openBackup(masterKeys, await rotationStore.get(newer!.key));
    try {
      await openBackup(masterKeys, await rotationStore.get(older!.key));
      assert.unreachable('the older generation needs the retired key');
    } catch (err) {
      assert.is((err as { code?: string }).code, 'master_key_missing');
      assert.ok((err as Error).message.includes(before), (err as Error).message);
    }
  } finally {
    await backups.close();
    rotationStore.close();
  }
});

let restoredGeneration: Generation;

test('wiped data dir: restore refuses the wrong master key and a missing one, writing nothing; restores with the right one', async () => {
  await svc!.stop();
  svc = undefined;
  await fs.rm(dataDir, { recursive: true, force: true });
  await fs.mkdir(dataDir);
  restoredGeneration = (await listGenerations(store)).at(-1)!;

  const wrong = await cli(['restore'], { MIMAMORI_MASTER_KEYS: OTHER_MASTER_KEYS });
  assert.is(wrong.code, 1, wrong.stdout + wrong.stderr);
  assert.match(wrong.stderr, /sealed with another master key/);
  assert.equal(await dirEntries(dataDir), [], 'nothing written');

  const none = await cli(['restore'], { MIMAMORI_MASTER_KEYS: '' });
  assert.is(none.code, 1, none.stdout + none.stderr);
  assert.match(none.stderr, /MIMAMORI_MASTER_KEYS/);
  assert.match(none.stderr, /master-keys\.json/);
  assert.equal(await dirEntries(dataDir), [], 'nothing written, and no master key generated');

  const ok = await cli(['restore']);
  assert.is(ok.code, 0, ok.stderr);
  process.stdout.write(`  mimamori restore: ${ok.stdout.split('\n').slice(0, 2).join(' / ')} (command ${ok.ms} ms)\n`);
  assert.ok(ok.stdout.includes(restoredGeneration.name), ok.stdout);
  assert.match(ok.stdout, /3 users, 2 cameras, 1 grants, 1 camera data keys/);
  const restored = await dirEntries(dataDir);
  assert.ok(restored.includes('db.json') && restored.includes('secrets.json') && restored.includes('future'), restored.join(', '));
  assert.not.ok(restored.includes('master-keys.json'), 'the key is not restored: it was never backed up');
  assert.is((await fs.stat(path.join(dataDir, 'secrets.json'))).mode & 0o777, 0o600);
  assert.not.ok(restored.some((n) => n.startsWith('.')), `no staging leftovers: ${restored.join(', ')}`);
});

test('restore into a data dir that holds metadata refuses without --force', async () => {
  const db = await fs.readFile(path.join(dataDir, 'db.json'));
  await fs.writeFile(path.join(dataDir, 'stale.json'), '{}');
  const refused = await cli(['restore']);
  assert.is(refused.code, 1, refused.stdout + refused.stderr);
  assert.match(refused.stderr, /already holds metadata/);
  assert.match(refused.stderr, /--force/);
  assert.ok((await fs.readFile(path.join(dataDir, 'db.json'))).equals(db), 'untouched');

  const forced = await cli(['restore', '--force', '--generation', restoredGeneration.name]);
  assert.is(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /removed \(not in the backup\): stale\.json/);
  assert.not.ok((await dirEntries(dataDir)).includes('stale.json'));
});

test('the service on the restored data dir: same logins, grants and cameras; the recording is on the timeline and decodes', async () => {
  svc = await startService({ env: serviceEnv() }); // logs in as the admin with the same password
  const s = svc;
  const hanaToken = await s.login(hana.username, hana.password);
  await s.login(kenji.username, kenji.password);
  const wrongPassword = await fetch(`${s.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: hana.username, password: 'not-her-password' }),
  });
  assert.is(wrongPassword.status, 401);

  const all = await json<{ cameras: { id: string; name: string }[] }>(await s.api('/api/cameras'));
  assert.equal(all.cameras.map((c) => c.name).sort(), ['Back door', 'Lobby']);
  assert.ok(all.cameras.some((c) => c.id === backDoor.id));
  const hers = await json<{ cameras: { id: string }[] }>(await s.api('/api/cameras', { headers: { authorization: `Bearer ${hanaToken}` } }));
  assert.equal(hers.cameras.map((c) => c.id), [cam.id], 'her grant came back');

  const timeline = await json<{ spans: { fromMs: number; toMs: number }[] }>(
    await s.api(`/api/cameras/${cam.id}/timeline?from=${recordedFromMs - 60_000}&to=${Date.now()}`, { headers: { authorization: `Bearer ${hanaToken}` } }),
  );
  assert.is(timeline.spans.length, 1, JSON.stringify(timeline.spans));
  const span = timeline.spans[0]!;
  assert.ok(span.fromMs - recordedFromMs < 2500 && span.toMs > recordedToMs - 2500, `span ${JSON.stringify(span)} covers the recording ${recordedFromMs}–${recordedToMs}`);

  const w = await json<{ url: string }>(
    await s.api(`/api/cameras/${cam.id}/playback`, { method: 'POST', body: JSON.stringify({ at: span.fromMs + 500 }) }),
  ); // as the admin: a clip download is an export, a right of its own
  const from = span.fromMs + 1000;
  const res = await fetch(new URL(`clip.mp4?from=${from}&to=${from + 3000}`, new URL(w.url, s.url)));
  assert.is(res.status, 200, await res.clone().text());
  const file = path.join(tmp, 'restored-clip.mp4');
  await fs.writeFile(file, Buffer.from(await res.arrayBuffer()));
  assert.is(await decodeErrors(file), '');
  const probe = await ffprobe(file);
  assert.ok(Math.abs(Number(probe.format.duration) - 3) < 0.1, `clip of ${probe.format.duration} s`);
  assert.ok(Number(probe.streams.find((st) => st.codec_type === 'video')?.nb_read_frames) > 60, 'frames decoded');

  // While the service runs on it, restore refuses even with --force.
  const running = await cli(['restore', '--force']);
  assert.is(running.code, 1, running.stdout + running.stderr);
  assert.match(running.stderr, /is running on/);
});

test.run();
