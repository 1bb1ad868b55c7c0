// Sealed records and envelope keys (recorder/seal): pure functions plus the master-keys file.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  MasterKeys,
  newDataKey,
  open,
  readRecordHeader,
  RECORD_HEADER_BYTES,
  RECORD_OVERHEAD,
  scanRecords,
  seal,
  SealError,
  unwrapDataKey,
  wrapDataKey,
  type SealContext,
} from '../recorder/seal/index.ts';

const key = newDataKey();
const ctx: SealContext = { cameraId: 'cam-1', object: 'cam-1/2025/01/01/00/seg-0001.mmr', index: 3, kind: 'fragment' };
const payload = crypto.randomBytes(1000);
const plain = new Uint8Array(payload.buffer, payload.byteOffset, payload.length);

function sealError(fn: () => unknown, code: string): SealError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, SealError);
    assert.is((err as SealError).code, code, (err as Error).message);
    return err as SealError;
  }
  assert.unreachable(`expected SealError ${code}`);
  throw new Error('unreachable');
}

async function sealErrorAsync(promise: Promise<unknown>, code: string): Promise<SealError> {
  try {
    await promise;
  } catch (err) {
    assert.instance(err, SealError);
    assert.is((err as SealError).code, code, (err as Error).message);
    return err as SealError;
  }
  assert.unreachable(`expected SealError ${code}`);
  throw new Error('unreachable');
}

const tmpDirs: string[] = [];
async function tmpDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-seal-'));
  tmpDirs.push(dir);
  return dir;
}
test.after(async () => {
  for (const dir of tmpDirs) await fs.rm(dir, { recursive: true, force: true });
});

// ---- records

test('constants: 25-byte header, 41 bytes of overhead', () => {
  assert.is(RECORD_HEADER_BYTES, 25);
  assert.is(RECORD_OVERHEAD, 41);
});

test('seal/open round trip, for every kind and for an empty plaintext', () => {
  for (const kind of ['init', 'fragment', 'trailer', 'index'] as const) {
    const c = { ...ctx, kind };
    const record = seal(key, c, plain);
    assert.is(record.length, plain.length + RECORD_OVERHEAD);
    assert.equal(open(key, c, record), plain);
  }
  const empty = seal(key, ctx, new Uint8Array(0));
  assert.is(empty.length, RECORD_OVERHEAD);
  assert.equal(open(key, ctx, empty), new Uint8Array(0));
});

test('header layout: magic, kind, index, ciphertext length; readRecordHeader reads it', () => {
  const record = seal(key, { ...ctx, index: 0x01020304, kind: 'trailer' }, plain);
  assert.equal([...record.subarray(0, 4)], [...Buffer.from('MMR1')]);
  assert.is(record[4], 3);
  assert.equal([...record.subarray(5, 9)], [1, 2, 3, 4]);
  assert.is(new DataView(record.buffer).getUint32(9), plain.length + 16);
  assert.equal(readRecordHeader(record, 0), { kind: 'trailer', index: 0x01020304, length: record.length });
  assert.is(readRecordHeader(record.subarray(0, RECORD_HEADER_BYTES - 1), 0), null);
  assert.ok(readRecordHeader(record.subarray(0, RECORD_HEADER_BYTES), 0));
  const bad = record.slice();
  bad[0] = 0x58;
  sealError(() => readRecordHeader(bad, 0), 'record_malformed');
  const badKind = record.slice();
  badKind[4] = 9;
  sealError(() => readRecordHeader(badKind, 0), 'record_malformed');
});

test('a changed byte anywhere in the record fails with record_tampered', () => {
  const record = seal(key, ctx, plain);
  // nonce, ciphertext start, middle, end, tag
  for (const at of [RECORD_HEADER_BYTES - 1, RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + 500, record.length - 17, record.length - 1]) {
    const bad = record.slice();
    bad[at]! ^= 0x01;
    sealError(() => open(key, ctx, bad), 'record_tampered');
  }
});

test('a record opened at another index, or of another kind, fails with record_misplaced', () => {
  const record = seal(key, ctx, plain);
  sealError(() => open(key, { ...ctx, index: 4 }, record), 'record_misplaced');
  sealError(() => open(key, { ...ctx, kind: 'init' }, record), 'record_misplaced');
});

test('a header rewritten to claim another index or kind fails authentication (record_tampered)', () => {
  const record = seal(key, ctx, plain);
  const swappedIndex = record.slice();
  new DataView(swappedIndex.buffer).setUint32(5, 4);
  sealError(() => open(key, { ...ctx, index: 4 }, swappedIndex), 'record_tampered');
  const swappedKind = record.slice();
  swappedKind[4] = 1; // init
  sealError(() => open(key, { ...ctx, kind: 'init' }, swappedKind), 'record_tampered');
});

test('another object name, camera or data key fails with record_tampered', () => {
  const record = seal(key, ctx, plain);
  sealError(() => open(key, { ...ctx, object: 'cam-1/2025/01/01/00/seg-0002.mmr' }, record), 'record_tampered');
  sealError(() => open(key, { ...ctx, cameraId: 'cam-2' }, record), 'record_tampered');
  sealError(() => open(newDataKey(), ctx, record), 'record_tampered');
  // The NUL separator keeps camera and object apart: ("cam", "-1x") is not ("cam-1", "x").
  const shifted = seal(key, { ...ctx, cameraId: 'cam', object: '-1x' }, plain);
  sealError(() => open(key, { ...ctx, cameraId: 'cam-1', object: 'x' }, shifted), 'record_tampered');
});

test('truncated records fail with record_truncated; extra or foreign bytes with record_malformed', () => {
  const record = seal(key, ctx, plain);
  for (const n of [0, 2, 4, 12, RECORD_HEADER_BYTES - 1, RECORD_HEADER_BYTES, record.length - 1]) {
    sealError(() => open(key, ctx, record.subarray(0, n)), 'record_truncated');
  }
  const longer = new Uint8Array(record.length + 1);
  longer.set(record);
  sealError(() => open(key, ctx, longer), 'record_malformed');
  sealError(() => open(key, ctx, new TextEncoder().encode('ftyp and some mp4 bytes, not a record')), 'record_malformed');
  const shortLength = record.slice();
  new DataView(shortLength.buffer).setUint32(9, 15);
  sealError(() => open(key, ctx, shortLength), 'record_malformed');
});

test('error messages say where and what to do, never the key', () => {
  const err = sealError(() => open(key, { ...ctx, cameraId: 'cam-2' }, seal(key, ctx, plain)), 'record_tampered');
  assert.match(err.message, /fragment #3/);
  assert.not.match(err.message, Buffer.from(key).toString('hex'));
  assert.not.match(err.message, Buffer.from(key).toString('base64'));
});

test('programmer errors throw TypeError: key size, context fields', () => {
  assert.throws(() => seal(new Uint8Array(16), ctx, plain), TypeError);
  assert.throws(() => seal(key, { ...ctx, index: -1 }, plain), TypeError);
  assert.throws(() => seal(key, { ...ctx, index: 2 ** 32 }, plain), TypeError);
  assert.throws(() => seal(key, { ...ctx, cameraId: 'a\0b' }, plain), TypeError);
  assert.throws(() => seal(key, { ...ctx, object: '' }, plain), TypeError);
  assert.throws(() => seal(key, { ...ctx, kind: 'video' as never }, plain), TypeError);
  assert.throws(() => open(key, { ...ctx, index: 1.5 }, seal(key, ctx, plain)), TypeError);
});

test('scanRecords: a torn last record leaves validBytes at the end of the last whole one', () => {
  const parts = [
    seal(key, { ...ctx, index: 0, kind: 'init' }, plain.subarray(0, 100)),
    seal(key, { ...ctx, index: 1 }, plain),
    seal(key, { ...ctx, index: 2 }, plain.subarray(0, 10)),
    seal(key, { ...ctx, index: 3, kind: 'trailer' }, plain.subarray(0, 20)),
  ];
  const whole = Buffer.concat(parts);
  const ends = parts.reduce<number[]>((acc, p) => [...acc, (acc.at(-1) ?? 0) + p.length], []);

  const full = scanRecords(whole);
  assert.equal(
    full.records.map((r) => [r.offset, r.length, r.kind, r.index]),
    [
      [0, parts[0]!.length, 'init', 0],
      [ends[0], parts[1]!.length, 'fragment', 1],
      [ends[1], parts[2]!.length, 'fragment', 2],
      [ends[2], parts[3]!.length, 'trailer', 3],
    ],
  );
  assert.is(full.validBytes, whole.length);
  assert.is(full.tail, 'none');

  // Cut inside the last record's header, inside its body, and one byte short of its end.
  for (const cut of [ends[2]! + 3, ends[2]! + 10, ends[2]! + 30, whole.length - 1]) {
    const torn = scanRecords(whole.subarray(0, cut));
    assert.is(torn.records.length, 3);
    assert.is(torn.validBytes, ends[2]);
    assert.is(torn.tail, 'torn');
  }
  // Each complete record then opens in place.
  for (const r of full.records) {
    open(key, { ...ctx, index: r.index, kind: r.kind }, whole.subarray(r.offset, r.offset + r.length));
  }
  assert.equal(scanRecords(new Uint8Array(0)), { records: [], validBytes: 0, tail: 'none' });
});

test('scanRecords: zeros (as a crash can leave) or garbage after records end the scan as malformed', () => {
  const a = seal(key, { ...ctx, index: 0 }, plain);
  const b = seal(key, { ...ctx, index: 1 }, plain);
  const zeros = scanRecords(Buffer.concat([a, b, new Uint8Array(4096)]));
  assert.is(zeros.records.length, 2);
  assert.is(zeros.validBytes, a.length + b.length);
  assert.is(zeros.tail, 'malformed');
  const fewZeros = scanRecords(Buffer.concat([a, new Uint8Array(3)]));
  assert.is(fewZeros.validBytes, a.length);
  assert.is(fewZeros.tail, 'malformed');
});

test('nonces are unique over many seals of the same input', () => {
  const n = 20_000;
  const seen = new Set<string>();
  const small = plain.subarray(0, 16);
  for (let i = 0; i < n; i++) {
    const record = seal(key, ctx, small);
    seen.add(Buffer.from(record.subarray(13, RECORD_HEADER_BYTES)).toString('hex'));
  }
  assert.is(seen.size, n);
  assert.is.not(Buffer.from(seal(key, ctx, small)).toString('hex'), Buffer.from(seal(key, ctx, small)).toString('hex'));
});

// ---- data keys and master keys

test('wrap/unwrap round trip; a tampered or re-labelled wrapped key fails with data_key_tampered', async () => {
  const masters = await MasterKeys.load({ dataDir: await tmpDir(), env: {} });
  const dataKey = newDataKey();
  const w = wrapDataKey(masters.current, 'cam-1', dataKey);
  assert.is(w.masterKeyId, masters.current.id);
  assert.is(w.keyId, 'cam-1');
  assert.is(Buffer.from(w.wrapped, 'base64').length, 60);
  assert.equal(unwrapDataKey(masters, w), dataKey);

  const bytes = Buffer.from(w.wrapped, 'base64');
  bytes[20]! ^= 1;
  sealError(() => unwrapDataKey(masters, { ...w, wrapped: bytes.toString('base64') }), 'data_key_tampered');
  sealError(() => unwrapDataKey(masters, { ...w, keyId: 'cam-2' }), 'data_key_tampered');
  sealError(() => unwrapDataKey(masters, { ...w, wrapped: w.wrapped.slice(0, 40) }), 'data_key_tampered');
  const missing = sealError(() => unwrapDataKey(masters, { ...w, masterKeyId: 'mk-gone' }), 'master_key_missing');
  assert.match(missing.message, /"mk-gone"/);
  assert.match(missing.message, /MIMAMORI_MASTER_KEYS/);
  assert.match(missing.message, /master-keys\.json/);
});

test('master-keys.json: created on first start with mode 0600, same key on the next start', async () => {
  const dataDir = path.join(await tmpDir(), 'nested', 'data');
  const first = await MasterKeys.load({ dataDir, env: {} });
  const file = path.join(dataDir, 'master-keys.json');
  const stat = await fs.stat(file);
  assert.is(stat.mode & 0o777, 0o600);
  const json = JSON.parse(await fs.readFile(file, 'utf8')) as { current: string; keys: Record<string, string> };
  assert.is(json.current, first.current.id);
  assert.equal(Object.keys(json.keys), [first.current.id]);
  assert.is(Buffer.from(json.keys[first.current.id]!, 'base64').length, 32);
  assert.equal((await fs.readdir(dataDir)).sort(), ['master-keys.json']); // no temp files left

  const again = await MasterKeys.load({ dataDir, env: {} });
  assert.is(again.current.id, first.current.id);
  assert.equal(again.current.key, first.current.key);
  assert.equal(again.ids, [first.current.id]);
  assert.is(again.source, file);
});

test('concurrent first starts agree on one key', async () => {
  const dataDir = await tmpDir();
  const all = await Promise.all(Array.from({ length: 8 }, () => MasterKeys.load({ dataDir, env: {} })));
  assert.is(new Set(all.map((m) => m.current.id)).size, 1);
  const onDisk = await MasterKeys.load({ dataDir, env: {} });
  assert.is(onDisk.current.id, all[0]!.current.id);
});

test('rotation: old wrapped keys still unwrap, re-wrap with current, retire drops the old key', async () => {
  const dataDir = await tmpDir();
  const masters = await MasterKeys.load({ dataDir, env: {} });
  const oldId = masters.current.id;
  const dataKey = newDataKey();
  const oldWrapped = wrapDataKey(masters.current, 'cam-1', dataKey);

  const next = await masters.rotate();
  assert.is.not(next.id, oldId);
  assert.is(masters.current.id, next.id);
  assert.equal(masters.ids, [next.id, oldId]);
  assert.equal(unwrapDataKey(masters, oldWrapped), dataKey);

  // Persisted: a fresh load sees both, the new one current.
  const reloaded = await MasterKeys.load({ dataDir, env: {} });
  assert.equal(reloaded.ids, [next.id, oldId]);
  assert.equal(unwrapDataKey(reloaded, oldWrapped), dataKey);

  const rewrapped = wrapDataKey(masters.current, 'cam-1', unwrapDataKey(masters, oldWrapped));
  assert.is(rewrapped.masterKeyId, next.id);
  assert.equal(unwrapDataKey(masters, rewrapped), dataKey);

  assert.equal(await masters.retire([oldId]), []); // still in use: kept
  assert.equal(masters.ids, [next.id, oldId]);
  assert.equal(await masters.retire([next.id]), [oldId]);
  assert.equal(masters.ids, [next.id]);
  assert.equal(unwrapDataKey(masters, rewrapped), dataKey);
  sealError(() => unwrapDataKey(masters, oldWrapped), 'master_key_missing');

  const afterRetire = await MasterKeys.load({ dataDir, env: {} });
  assert.equal(afterRetire.ids, [next.id]);
  sealError(() => unwrapDataKey(afterRetire, oldWrapped), 'master_key_missing');
  assert.is((await fs.stat(path.join(dataDir, 'master-keys.json'))).mode & 0o777, 0o600);
  assert.equal(await masters.retire([]), []); // the current key is never retired
});

test('concurrent rotations are serialized and all persisted', async () => {
  const dataDir = await tmpDir();
  const masters = await MasterKeys.load({ dataDir, env: {} });
  const created = await Promise.all([masters.rotate(), masters.rotate(), masters.rotate()]);
  assert.is(masters.ids.length, 4);
  assert.is(masters.current.id, created[2]!.id);
  assert.equal((await MasterKeys.load({ dataDir, env: {} })).ids, masters.ids);
});

test('environment keys take precedence over the file; rotate and retire refuse', async () => {
  const dataDir = await tmpDir();
  const fileKeys = await MasterKeys.load({ dataDir, env: {} });
  const a = crypto.randomBytes(32).toString('base64');
  const b = crypto.randomBytes(32).toString('base64url');
  const env = { MIMAMORI_MASTER_KEYS: ` prod-2:${a}, prod-1:${b} ` };
  const masters = await MasterKeys.load({ dataDir, env });
  assert.equal(masters.ids, ['prod-2', 'prod-1']);
  assert.is(masters.current.id, 'prod-2');
  assert.equal(masters.current.key, new Uint8Array(Buffer.from(a, 'base64')));
  assert.is(masters.get(fileKeys.current.id), undefined);
  assert.is(masters.source, 'environment variable MIMAMORI_MASTER_KEYS');

  const w = wrapDataKey(masters.get('prod-1')!, 'cam-9', newDataKey());
  assert.equal(unwrapDataKey(masters, w).length, 32);

  const refused = await sealErrorAsync(masters.rotate(), 'master_keys_readonly');
  assert.match(refused.message, /MIMAMORI_MASTER_KEYS/);
  await sealErrorAsync(masters.retire([]), 'master_keys_readonly');
  assert.equal(masters.ids, ['prod-2', 'prod-1']);

  // No file is created when the environment provides keys.
  const envOnly = await tmpDir();
  await MasterKeys.load({ dataDir: envOnly, env });
  assert.equal(await fs.readdir(envOnly), []);
});

test('invalid master keys fail with master_key_invalid, without echoing the value', async () => {
  const dataDir = await tmpDir();
  const short = crypto.randomBytes(16).toString('base64');
  const cases = [`k1:${short}`, 'k1:not base64!!', `k1`, `:${crypto.randomBytes(32).toString('base64')}`, `bad id:${crypto.randomBytes(32).toString('base64')}`, ','];
  for (const value of cases) {
    const err = await sealErrorAsync(MasterKeys.load({ dataDir, env: { MIMAMORI_MASTER_KEYS: value } }), 'master_key_invalid');
    assert.not.ok(err.message.includes(short), 'the key value must not appear in the message');
  }
  const dup = crypto.randomBytes(32).toString('base64');
  await sealErrorAsync(MasterKeys.load({ dataDir, env: { MIMAMORI_MASTER_KEYS: `a:${dup},a:${dup}` } }), 'master_key_invalid');

  const file = path.join(dataDir, 'master-keys.json');
  await fs.writeFile(file, '{"current":"x","keys":{"x":"c2hvcnQ="}}', { mode: 0o600 });
  await sealErrorAsync(MasterKeys.load({ dataDir, env: {} }), 'master_key_invalid');
  await fs.writeFile(file, '{not json');
  const corrupt = await sealErrorAsync(MasterKeys.load({ dataDir, env: {} }), 'master_key_invalid');
  assert.match(corrupt.message, /backup/);
  assert.is(await fs.readFile(file, 'utf8'), '{not json', 'a corrupt file is never replaced');
});

test('key bytes never show in inspect or JSON output', async () => {
  const masters = await MasterKeys.load({ dataDir: await tmpDir(), env: {} });
  const b64 = Buffer.from(masters.current.key).toString('base64');
  const hex = Buffer.from(masters.current.key).toString('hex');
  for (const text of [inspect(masters), inspect(masters.current), JSON.stringify(masters), JSON.stringify(masters.current), inspect({ masters })]) {
    assert.not.ok(text.includes(b64) || text.includes(hex), text);
    assert.ok(text.includes(masters.current.id), text);
  }
});

test.run();
