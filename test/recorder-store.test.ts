// Object store (recorder/store) against a real EmbeddedS3: s3rver on loopback, the AWS SDK over HTTP.
import crypto from 'node:crypto';
import dc from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EmbeddedS3, EmbeddedS3Process, S3ObjectStore, StoreError, type ObjectInfo } from '../recorder/store/index.ts';

const BUCKET = 'recordings';
let dir: string;
let s3: EmbeddedS3;
let store: S3ObjectStore;
const cleanups: (() => unknown)[] = [];

// Counts the HTTP requests the SDK makes, by method and path (no hooks inside the store).
const requests: { method: string; path: string }[] = [];
dc.subscribe('http.client.request.start', (message) => {
  const { request } = message as { request: ClientRequest };
  requests.push({ method: request.method, path: request.path });
});

const bytes = (n: number) => new Uint8Array(crypto.randomBytes(n));
const md5 = (b: Uint8Array) => crypto.createHash('md5').update(b).digest('hex');

async function storeError(promise: Promise<unknown>, code: StoreError['code']): Promise<StoreError> {
  try {
    await promise;
  } catch (err) {
    assert.instance(err, StoreError, String(err));
    assert.is((err as StoreError).code, code, (err as Error).message);
    return err as StoreError;
  }
  assert.unreachable(`expected StoreError ${code}`);
  throw new Error('unreachable');
}

async function collect(iterable: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const o of iterable) out.push(o);
  return out;
}

test.before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-store-'));
  s3 = await EmbeddedS3.start({ directory: path.join(dir, 's3'), bucket: BUCKET });
  store = await S3ObjectStore.create({ ...s3.options, requestTimeoutMs: 2_000 });
});

test.after(async () => {
  for (const fn of cleanups.reverse()) await fn();
  store.close();
  await s3.close();
  await fs.rm(dir, { recursive: true, force: true });
});

test('EmbeddedS3 options: loopback endpoint, path style, S3RVER credentials; description has no credentials', () => {
  const o = s3.options;
  assert.is(o.endpoint, `http://127.0.0.1:${s3.port}`);
  assert.ok(s3.port > 0);
  assert.is(o.region, 'us-east-1');
  assert.is(o.bucket, BUCKET);
  assert.is(o.forcePathStyle, true);
  assert.is(o.accessKeyId, 'S3RVER');
  assert.is(store.description, `s3://${BUCKET} at http://127.0.0.1:${s3.port}`);
});

test('put/get round trip of 7 MB; the etag is the MD5; put and get each well under a second here', async () => {
  const body = bytes(7 * 1024 * 1024);
  let t = performance.now();
  const { etag } = await store.put('cam-1/big.mmr', body);
  const putMs = performance.now() - t;
  assert.is(etag, md5(body));
  t = performance.now();
  const back = await store.get('cam-1/big.mmr');
  const getMs = performance.now() - t;
  assert.instance(back, Uint8Array);
  assert.is(back.length, body.length);
  assert.ok(Buffer.from(back).equals(body));
  assert.ok(putMs < 3_000 && getMs < 3_000, `put ${putMs.toFixed(0)} ms, get ${getMs.toFixed(0)} ms`);
});

test('empty objects and keys with spaces, plus signs and non-ASCII round trip', async () => {
  const empty = await store.put('odd/empty', new Uint8Array(0));
  assert.is(empty.etag, md5(new Uint8Array(0)));
  assert.equal(await store.get('odd/empty'), new Uint8Array(0));
  for (const key of ['odd/with space.mmr', 'odd/a+b=c.mmr', 'odd/カメラ/1.mmr']) {
    const body = bytes(100);
    await store.put(key, body);
    assert.equal(await store.get(key), body, key);
    assert.is((await store.head(key))?.size, 100, key);
  }
  assert.equal(
    (await collect(store.list('odd/'))).map((o) => o.key),
    ['odd/a+b=c.mmr', 'odd/empty', 'odd/with space.mmr', 'odd/カメラ/1.mmr'],
  );
});

test('ranged get returns exactly the bytes asked for', async () => {
  const body = bytes(10_000);
  await store.put('cam-1/ranged.mmr', body);
  for (const [offset, length] of [
    [0, 1],
    [0, 25],
    [1234, 5000],
    [9999, 1],
    [0, 10_000],
  ] as const) {
    const part = await store.get('cam-1/ranged.mmr', { offset, length });
    assert.equal(part, body.subarray(offset, offset + length), `${offset}+${length}`);
  }
  // Past the end: S3 answers 416 (nothing there) or a short body; both are errors here.
  await storeError(store.get('cam-1/ranged.mmr', { offset: 10_000, length: 10 }), 'failed');
  const short = await storeError(store.get('cam-1/ranged.mmr', { offset: 9_990, length: 20 }), 'failed');
  assert.match(short.message, /shorter/);
  const empty = await store.get('cam-1/ranged.mmr', { offset: 0, length: 0 }).catch((err: unknown) => err);
  assert.instance(empty, TypeError);
});

test('head: size, etag and time of an object; null for a missing one', async () => {
  const body = bytes(4321);
  const before = Date.now();
  await store.put('cam-1/head.mmr', body);
  const info = await store.head('cam-1/head.mmr');
  assert.ok(info);
  assert.is(info.key, 'cam-1/head.mmr');
  assert.is(info.size, 4321);
  assert.is(info.etag, md5(body));
  assert.instance(info.lastModified, Date);
  assert.ok(Math.abs(info.lastModified!.getTime() - before) < 60_000);
  assert.is(await store.head('cam-1/no-such.mmr'), null);
});

test('get of a missing key: StoreError not_found, not retryable', async () => {
  const err = await storeError(store.get('cam-1/no-such.mmr'), 'not_found');
  assert.is(err.retryable, false);
  assert.match(err.message, /cam-1\/no-such\.mmr/);
});

test('list pages through every object under the prefix, in key order, with small pages', async () => {
  const paged = await S3ObjectStore.create({ ...s3.options, listPageSize: 2 });
  cleanups.push(() => paged.close());
  const keys = ['list/a/0', 'list/a/1', 'list/a/2', 'list/a/3', 'list/a/4', 'list/a/5', 'list/a/6'];
  await Promise.all(keys.map((k, i) => store.put(k, bytes(i + 1))));
  await store.put('list/b/0', bytes(1)); // another prefix
  await store.put('list/ab', bytes(1)); // a string prefix, not a folder: 'list/a/' excludes it, 'list/a' not

  const listRequests = () => requests.filter((r) => r.method === 'GET' && /[?&]max-keys=2/.test(r.path)).length;
  const before = listRequests();
  const listed = await collect(paged.list('list/a/'));
  assert.equal(
    listed.map((o) => [o.key, o.size]),
    keys.map((k, i) => [k, i + 1]),
  );
  assert.ok(listed.every((o) => o.etag && /^[0-9a-f]{32}$/.test(o.etag) && o.lastModified instanceof Date));
  assert.is(listRequests() - before, 4, '7 objects in pages of 2');

  assert.equal(
    (await collect(paged.list('list/'))).map((o) => o.key),
    [...keys, 'list/ab', 'list/b/0'],
  );
  assert.equal((await collect(paged.list('list/a'))).length, 8);
  assert.equal(await collect(paged.list('nothing-here/')), []);
  // Stopping early stops paging.
  const first: string[] = [];
  const started = listRequests();
  for await (const o of paged.list('list/a/')) {
    first.push(o.key);
    if (first.length === 3) break;
  }
  assert.equal(first, keys.slice(0, 3));
  assert.is(listRequests() - started, 2);
});

test('ListObjectsV2 (what AWS, MinIO and R2 get) works against s3rver for a single page', async () => {
  const v2 = await S3ObjectStore.create({ ...s3.options, listObjectsV1: false });
  cleanups.push(() => v2.close());
  const before = requests.length;
  const listed = await collect(v2.list('list/a/'));
  assert.is(listed.length, 7);
  assert.ok(requests.slice(before).some((r) => r.path.includes('list-type=2')));
});

test('delete: counts deletions, sends batches of at most 1000 keys', async () => {
  const keys = ['del/0', 'del/1', 'del/2'];
  for (const k of keys) await store.put(k, bytes(10));
  assert.is(await store.delete([]), 0);
  assert.is(await store.delete(['del/0']), 1);
  assert.is(await store.head('del/0'), null);

  // S3 reports keys that were already gone as deleted too: 1001 keys, 2 of them real.
  const many = ['del/1', 'del/2', ...Array.from({ length: 999 }, (_, i) => `del/missing-${i}`)];
  const before = requests.length;
  assert.is(await store.delete(many), 1001);
  const posts = requests.slice(before).filter((r) => r.method === 'POST' && r.path.includes('delete'));
  assert.is(posts.length, 2);
  assert.equal(await collect(store.list('del/')), []);
});

test('wrong access key: StoreError denied, not retryable, no secret in the message', async () => {
  const bad = await S3ObjectStore.create({ ...s3.options, accessKeyId: 'NOT-A-KEY', secretAccessKey: 'very-secret-value' });
  cleanups.push(() => bad.close());
  const err = await storeError(bad.put('cam-1/x', bytes(1)), 'denied');
  assert.is(err.retryable, false);
  assert.not.match(err.message, 'very-secret-value');
  assert.not.match(bad.description, 'very-secret-value');
});

test('missing bucket: StoreError failed that says so; createBucket creates it', async () => {
  const other = { ...s3.options, bucket: 'other-bucket' };
  const without = await S3ObjectStore.create(other);
  cleanups.push(() => without.close());
  const err = await storeError(without.put('k', bytes(1)), 'failed');
  assert.match(err.message, /bucket does not exist/);

  const created = await S3ObjectStore.create({ ...other, createBucket: true });
  cleanups.push(() => created.close());
  await created.put('k', bytes(3));
  assert.is((await created.head('k'))?.size, 3);
  const again = await S3ObjectStore.create({ ...other, createBucket: true }); // already there: fine
  again.close();
});

test('an endpoint that accepts connections but never answers fails as unavailable within the timeout', async () => {
  const sockets = new Set<net.Socket>();
  const blackhole = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
  const port = (blackhole.address() as net.AddressInfo).port;
  const dead = await S3ObjectStore.create({ ...s3.options, endpoint: `http://127.0.0.1:${port}`, requestTimeoutMs: 500 });
  try {
    const t = performance.now();
    const err = await storeError(dead.put('cam-1/x', bytes(1000)), 'unavailable');
    const ms = performance.now() - t;
    assert.is(err.retryable, true);
    assert.ok(ms >= 400 && ms < 2_000, `failed after ${ms.toFixed(0)} ms`);
    await storeError(dead.get('cam-1/x'), 'unavailable');
  } finally {
    dead.close();
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => blackhole.close(resolve));
  }
});

test('S3 stopped: put rejects as unavailable at once; restarted on the same folder and port, the objects are back', async () => {
  const body = bytes(50_000);
  await store.put('cam-2/survives.mmr', body);
  const port = s3.port;
  await s3.close();
  await s3.close(); // idempotent
  assert.is(s3.closed, true);

  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const err = await storeError(store.put('cam-2/while-down.mmr', body), 'unavailable');
    const ms = performance.now() - t;
    assert.is(err.retryable, true);
    assert.ok(ms < 2_500, `put failed after ${ms.toFixed(0)} ms (timeout 2000)`);
    assert.match(err.message, /retry/);
  }
  await storeError(store.get('cam-2/survives.mmr'), 'unavailable');
  await storeError(store.head('cam-2/survives.mmr'), 'unavailable');
  await storeError(collect(store.list('cam-2/')), 'unavailable');

  s3 = await EmbeddedS3.start({ directory: path.join(dir, 's3'), bucket: BUCKET, port });
  assert.is(s3.port, port);
  // The same store instance reconnects.
  assert.equal(await store.get('cam-2/survives.mmr'), body);
  assert.is((await store.head('cam-1/big.mmr'))?.size, 7 * 1024 * 1024);
  await store.put('cam-2/after.mmr', body);
  assert.equal(
    (await collect(store.list('cam-2/'))).map((o) => o.key),
    ['cam-2/after.mmr', 'cam-2/survives.mmr'],
  );
});

test('EmbeddedS3Process (the service\'s default): objects round trip through the child; unsigned or wrongly signed requests are refused; a killed child is started again on its port, the objects are back; close ends it', async () => {
  const troubles: string[] = [];
  const child = await EmbeddedS3Process.start({ directory: path.join(dir, 's3-child'), bucket: BUCKET, onTrouble: (t) => troubles.push(t.event) });
  const client = await S3ObjectStore.create({ ...child.options, createBucket: true, requestTimeoutMs: 2_000 });
  try {
    assert.ok(child.pid && child.pid !== process.pid, 'a process of its own');
    assert.match(child.options.accessKeyId, /^MMRL[0-9A-F]{24}$/, 'a key pair made for this start');
    const body = bytes(300_000);
    await client.put('cam/seg-1', body);
    assert.is(md5(await client.get('cam/seg-1')), md5(body));
    const unsigned = await fetch(`${child.options.endpoint}/${BUCKET}/cam/seg-1`);
    assert.is(unsigned.status, 403, 'an unsigned request reads nothing');
    const wrong = await S3ObjectStore.create({ ...child.options, secretAccessKey: 'not-the-secret-at-all', requestTimeoutMs: 2_000 });
    await storeError(wrong.get('cam/seg-1'), 'denied');
    wrong.close();

    const port = child.port;
    const firstPid = child.pid!;
    process.kill(firstPid, 'SIGKILL');
    await storeError(
      (async () => {
        for (let i = 0; i < 50 && child.pid === firstPid; i++) await new Promise((r) => setTimeout(r, 20));
        return client.put('cam/seg-2', body);
      })(),
      'unavailable',
    );
    for (let i = 0; i < 100 && child.restarts === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.is(child.restarts, 1, 'started again');
    assert.is(child.port, port, 'on the same port: the store\'s endpoint stays right');
    assert.equal(troubles, ['s3_process_exited']);
    await client.put('cam/seg-2', body);
    assert.is(md5(await client.get('cam/seg-1')), md5(body), 'what was stored before the crash is there');
  } finally {
    client.close();
    const pid = child.pid!;
    await child.close();
    assert.throws(() => process.kill(pid, 0), 'the child is gone after close');
  }
});

test('starting on a port in use fails with a StoreError that names the port', async () => {
  const err = await storeError(EmbeddedS3.start({ directory: path.join(dir, 's3'), bucket: BUCKET, port: s3.port }), 'failed');
  assert.match(err.message, new RegExp(`${s3.port}.*EADDRINUSE`));
});

test('a closed store refuses calls; close is idempotent', async () => {
  const s = await S3ObjectStore.create(s3.options);
  s.close();
  s.close();
  assert.is(s.closed, true);
  await storeError(s.put('k', bytes(1)), 'failed');
  await storeError(collect(s.list('')), 'failed');
});

test('bad options are programmer errors (TypeError)', async () => {
  for (const o of [
    { ...s3.options, bucket: '' },
    { ...s3.options, endpoint: 'ftp://x' },
    { ...s3.options, requestTimeoutMs: 0 },
    { ...s3.options, listPageSize: 1001 },
  ]) {
    try {
      await S3ObjectStore.create(o);
      assert.unreachable(JSON.stringify(o));
    } catch (err) {
      assert.instance(err, TypeError);
    }
  }
  const withUser = await S3ObjectStore.create({ ...s3.options, endpoint: `http://user:pass@127.0.0.1:${s3.port}/` });
  assert.is(withUser.description, `s3://${BUCKET} at http://127.0.0.1:${s3.port}`);
  withUser.close();
});

test.run();
