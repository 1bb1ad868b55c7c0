// Moving an installation between stores, as an operator would: a single-machine service on files
// that has recorded; `mimamori migrate-store --to postgres://…` after it stops; the service started
// again on PostgreSQL — sign-in, cameras, grants, playback of the earlier recording and the audit
// chain all check out. Then a backup of the PostgreSQL store restored into a fresh database (and
// into a data dir), and migrate-store back to files.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Camera } from '../camera/index.ts';
import { cli, startService, testDatabase, type Service } from './harness.ts';

const PASSWORD = 'migrate-Password-1234-long';
const MASTER_KEYS = `mk-migrate:${crypto.randomBytes(32).toString('base64')}`;
const env = { MIMAMORI_MASTER_KEYS: MASTER_KEYS, MIMAMORI_SEGMENT_SECONDS: '2', MIMAMORI_BACKUP_INTERVAL_HOURS: '0' };

let dataDir: string;
const state = { cameraId: '', viewerId: '', recordedFrom: 0, recordedTo: 0, auditRows: 0, databaseUrl: '' };

test.before(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-migrate-'));
});
test.after(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

async function json<T>(svc: Service, pathname: string, init: RequestInit = {}, token = svc.adminToken): Promise<T> {
  const res = await svc.api(pathname, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
  const text = await res.text();
  assert.ok(res.ok, `${pathname}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** What a migrated or restored service must show: the account signs in, sees its camera, plays the earlier recording, and the audit chain verifies. */
async function checkOut(svc: Service, what: string): Promise<void> {
  const viewer = await svc.login('guard-1', PASSWORD);
  const cameras = (await json<{ cameras: { id: string; rights: string[] }[] }>(svc, '/api/cameras', {}, viewer)).cameras;
  assert.equal(cameras.map((c) => [c.id, c.rights]), [[state.cameraId, ['live', 'playback']]], `${what}: the viewer's grant`);
  const recordings = await json<{ segments: { startMs: number; endMs: number }[] }>(svc, `/api/cameras/${state.cameraId}/recordings?from=${state.recordedFrom - 5000}&to=${state.recordedTo + 5000}`, {}, viewer);
  assert.ok(recordings.segments.length > 0, `${what}: the earlier recording is listed`);
  const play = await json<{ url: string; token: string }>(svc, `/api/cameras/${state.cameraId}/playback`, { method: 'POST', body: JSON.stringify({ at: recordings.segments[0]!.startMs }) }, viewer);
  const playlist = await fetch(`${svc.url}${play.url}`);
  assert.is(playlist.status, 200);
  assert.match(await playlist.text(), '#EXTINF', `${what}: the recording plays`);
  const preview = await fetch(`${svc.url}/api/play/${play.token}/preview.mp4?at=${recordings.segments[0]!.startMs + 500}`);
  assert.is(preview.status, 200, `${what}: a frame of it decodes into a preview (its data key came along)`);
  assert.ok((await preview.arrayBuffer()).byteLength > 1000);
  const verified = await json<{ ok: boolean; rows: number }>(svc, '/api/audit/verify');
  assert.ok(verified.ok && verified.rows >= state.auditRows, `${what}: the audit chain verifies with every earlier row (${JSON.stringify(verified)})`);
}

test('a files installation that recorded, moved to PostgreSQL with migrate-store', async () => {
  const svc = await startService({ dataDir, env });
  try {
    const cam = await svc.createCamera('Gate 正門');
    state.cameraId = cam.id;
    state.viewerId = (await svc.createUser('guard-1', PASSWORD, 'viewer')).id;
    await svc.grant(state.viewerId, cam.id);
    const camera = await Camera.create({ whipUrl: `${svc.url}/whip/${cam.id}`, token: await svc.publishToken(cam.id, cam.secret), width: 320, height: 180, kbps: 300, fps: 15 });
    state.recordedFrom = Date.now();
    await sleep(6000);
    await camera.close();
    state.recordedTo = Date.now();
    const deadline = Date.now() + 30_000;
    while ((await json<{ upload: { queued: number } }>(svc, '/api/recorder')).upload.queued > 0 && Date.now() < deadline) await sleep(200);
    await sleep(1000);
    await checkOut(svc, 'before');
    state.auditRows = (await json<{ rows: number }>(svc, '/api/audit/verify')).rows;
  } finally {
    await svc.stop();
  }

  state.databaseUrl = await testDatabase();
  const migrated = await cli(['migrate-store', '--to', state.databaseUrl], { ...env, MIMAMORI_DATA_DIR: dataDir });
  assert.is(migrated.code, 0, migrated.stderr + migrated.stdout);
  assert.match(migrated.stdout, /copied files in .* into PostgreSQL at 127\.0\.0\.1:\d+\/\S+ in \d+ ms and checked it/);
  assert.match(migrated.stdout, /the chain verified/);
  assert.not.ok(migrated.stdout.includes(new URL(state.databaseUrl).password), 'the database password is not printed');

  const again = await cli(['migrate-store', '--to', state.databaseUrl], { ...env, MIMAMORI_DATA_DIR: dataDir });
  assert.is(again.code, 1, 'a second copy into the same database is refused');
  assert.match(again.stderr, /already holds/);

  const svc2 = await startService({ dataDir, databaseUrl: state.databaseUrl, env });
  try {
    await checkOut(svc2, 'on PostgreSQL');
  } finally {
    await svc2.stop();
  }
});

test('a backup of the PostgreSQL store restores into a fresh database and into a data dir; migrate-store goes back to files', async () => {
  const made = await cli(['backup'], { ...env, MIMAMORI_DATA_DIR: dataDir, MIMAMORI_DATABASE_URL: state.databaseUrl });
  assert.is(made.code, 0, made.stderr + made.stdout);
  assert.match(made.stdout, /backup \S+: 3 files/, 'rows, audit rows and secrets of the database');

  // The backups live in the embedded S3 of the original data dir: restores read them from there.
  const s3Env = { ...env, MIMAMORI_DATA_DIR: dataDir };
  const fresh = await testDatabase();
  const restored = await cli(['restore'], { ...s3Env, MIMAMORI_DATABASE_URL: fresh });
  assert.is(restored.code, 0, restored.stderr + restored.stdout);
  assert.match(restored.stdout, /1 cameras?,.*1 camera data keys?/);
  const svc = await startService({ dataDir, databaseUrl: fresh, env });
  try {
    await checkOut(svc, 'restored into a fresh database');
  } finally {
    await svc.stop();
  }
  const twice = await cli(['restore'], { ...s3Env, MIMAMORI_DATABASE_URL: fresh });
  assert.is(twice.code, 1, 'never over a database that holds data');
  assert.match(twice.stderr, /already holds/);

  // Into a data dir (a single machine again): db.json, accounts.json and the audit files.
  const filesDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-restored-'));
  try {
    await fs.cp(path.join(dataDir, 's3'), path.join(filesDir, 's3'), { recursive: true });
    const intoFiles = await cli(['restore'], { ...env, MIMAMORI_DATA_DIR: filesDir });
    assert.is(intoFiles.code, 0, intoFiles.stderr + intoFiles.stdout);
    const db = JSON.parse(await fs.readFile(path.join(filesDir, 'db.json'), 'utf8')) as { cameras: { id: string }[] };
    assert.equal(db.cameras.map((c) => c.id), [state.cameraId]);
    const svc3 = await startService({ dataDir: filesDir, env });
    try {
      await checkOut(svc3, 'restored into a data dir');
    } finally {
      await svc3.stop();
    }
  } finally {
    await fs.rm(filesDir, { recursive: true, force: true });
  }

  // And back to files with migrate-store.
  const backDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-back-'));
  try {
    const back = await cli(['migrate-store', '--to', backDir], { ...env, MIMAMORI_DATA_DIR: dataDir, MIMAMORI_DATABASE_URL: state.databaseUrl });
    assert.is(back.code, 0, back.stderr + back.stdout);
    await fs.cp(path.join(dataDir, 's3'), path.join(backDir, 's3'), { recursive: true });
    const svc4 = await startService({ dataDir: backDir, env });
    try {
      await checkOut(svc4, 'migrated back to files');
    } finally {
      await svc4.stop();
    }
  } finally {
    await fs.rm(backDir, { recursive: true, force: true });
  }
});

test.run();
