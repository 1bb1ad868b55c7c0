// Recorder lifecycles in-process against a real embedded S3 over HTTP: retention with legal holds,
// leftovers of a crash uploaded exactly once, the spool quota while S3 is away, a torn spool file,
// and master-key rotation (media untouched, still readable).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DataKeys, type KeyCatalog } from '../recorder/DataKeys.ts';
import { mediaFragment, type Track } from '../recorder/mp4/index.ts';
import { segmentPrefix } from '../recorder/objects.ts';
import { readSegment } from '../recorder/reader.ts';
import { RecordingIndex } from '../recorder/RecordingIndex.ts';
import { sweepCamera, deleteAllObjects } from '../recorder/retention.ts';
import { MasterKeys, type WrappedKey } from '../recorder/seal/index.ts';
import { SegmentWriter, type FinishedSegment } from '../recorder/SegmentWriter.ts';
import { Spool } from '../recorder/Spool.ts';
import { EmbeddedS3, S3ObjectStore, type ObjectStore } from '../recorder/store/index.ts';
import { Uploader, type UploadJob } from '../recorder/Uploader.ts';

const DAY = 86_400_000;
const CAMERA = 'cam_lifecycle1';
let dir: string;
let s3: EmbeddedS3;
let store: ObjectStore;
let keys: DataKeys;
let catalog: KeyCatalog & { entries: { cameraId: string; key: WrappedKey }[] };

const TRACKS: Track[] = [
  { id: 1, kind: 'video', codec: 'h264', timescale: 90_000, width: 320, height: 180, sps: Uint8Array.from([0x67, 0x42, 0xc0, 0x1f, 0xda]), pps: Uint8Array.from([0x68, 0xce, 0x3c, 0x80]) },
];

test.before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-life-'));
  s3 = await EmbeddedS3.start({ directory: path.join(dir, 's3'), bucket: 'life' });
  store = await S3ObjectStore.create({ ...s3.options, createBucket: true });
  catalog = {
    entries: [],
    wrappedKey: (id) => catalog.entries.find((e) => e.cameraId === id)?.key,
    wrappedKeys: () => catalog.entries,
    async addWrappedKey(cameraId, key) {
      const existing = catalog.wrappedKey(cameraId);
      if (existing) return existing;
      catalog.entries.push({ cameraId, key });
      return key;
    },
    async saveWrappedKeys(list) {
      for (const e of list) {
        const existing = catalog.entries.find((x) => x.cameraId === e.cameraId);
        if (existing) existing.key = e.key;
        else catalog.entries.push({ ...e });
      }
    },
  };
  keys = new DataKeys(await MasterKeys.load({ dataDir: dir, env: {} }), catalog);
});
test.after(async () => {
  (store as S3ObjectStore).close();
  await s3.close();
  await fs.rm(dir, { recursive: true, force: true });
});

/** A real sealed segment on a spool: `seconds` one-second fragments from `startMs`. */
async function makeSegment(spoolDir: string, startMs: number, seconds: number, seq = 0): Promise<FinishedSegment> {
  const writer = await SegmentWriter.create({ spoolDir, dataKey: await keys.dataKey(CAMERA), name: { cameraId: CAMERA, startMs, session: 'test', seq }, tracks: TRACKS });
  for (let i = 0; i < seconds; i++) {
    const mp4 = mediaFragment(i + 1, [{ trackId: 1, baseDecodeTime: i * 90_000, samples: [{ duration: 90_000, size: 4, keyframe: true }], data: [Uint8Array.of(0, 0, 0, 0)] }]);
    await writer.appendFragment({ startMs: startMs + i * 1000, durationMs: 1000, keyframe: true, baseDecodeTimes: { 1: i * 90_000 } }, mp4);
  }
  return writer.finish('duration');
}

function uploader(index: RecordingIndex, quotaBytes = 1e9): Uploader {
  return new Uploader({
    store,
    index,
    quotaBytes,
    writingBytes: () => 0,
    describe: async (job, bytes) => readSegment(await keys.dataKey(job.cameraId), job.key, bytes).entry,
    backoff: { firstMs: 50, maxMs: 200 },
  });
}

const job = (s: FinishedSegment, leftover = false): UploadJob => ({ cameraId: CAMERA, file: s.file, key: s.entry.key, bytes: s.entry.bytes, entry: leftover ? undefined : s.entry, leftover });

test('retention deletes expired segments and their index, keeps what a legal hold covers', async () => {
  const spoolDir = path.join(dir, 'spool-retention');
  const index = new RecordingIndex({ dir: path.join(dir, 'index-retention'), store, keys });
  const up = uploader(index);
  const now = Date.UTC(2026, 10, 26, 12);
  const old1 = await makeSegment(spoolDir, now - 40 * DAY, 5, 0);
  const old2 = await makeSegment(spoolDir, now - 40 * DAY + 3_600_000, 5, 1);
  const held = await makeSegment(spoolDir, now - 35 * DAY, 5, 2);
  const fresh = await makeSegment(spoolDir, now - 2 * DAY, 5, 3);
  for (const s of [old1, old2, held, fresh]) up.enqueue(job(s));
  await up.drained();
  await index.flush();
  const holds = [{ fromMs: now - 35 * DAY + 2000, toMs: now - 35 * DAY + 3000 }];
  const result = await sweepCamera({ cameraId: CAMERA, retentionDays: 30, holds, index, store, nowMs: now });
  assert.is(result.held, 1);
  assert.is(result.deletedBytes, old1.entry.bytes + old2.entry.bytes);
  const left: string[] = [];
  for await (const o of store.list(segmentPrefix(CAMERA))) left.push(o.key);
  assert.equal(left.sort(), [held.entry.key, fresh.entry.key].sort());
  assert.is((await index.query(CAMERA, now - 41 * DAY, now - 39 * DAY)).segments.length, 0, 'index entries gone with the objects');
  assert.is((await index.query(CAMERA, now - 36 * DAY, now - 34 * DAY)).segments.length, 1, 'the held segment stays indexed');
  const again = await sweepCamera({ cameraId: CAMERA, retentionDays: 30, holds: [], index, store, nowMs: now });
  assert.is(again.deletedObjects, 2, 'once the hold is lifted the segment and its hour index go');
  const report = await deleteAllObjects(store, CAMERA);
  assert.ok(report.objects >= 1, 'contract end: every remaining object is deleted and counted');
  for await (const o of store.list(`recordings/${CAMERA}/`)) assert.unreachable(`left behind: ${o.key}`);
  up.close();
});

test('a leftover already in S3 (crash between upload and cleanup) is not uploaded again; others are', async () => {
  const spoolDir = path.join(dir, 'spool-leftover');
  const index = new RecordingIndex({ dir: path.join(dir, 'index-leftover'), store, keys });
  const a = await makeSegment(spoolDir, Date.UTC(2026, 10, 1, 3), 3, 0);
  const b = await makeSegment(spoolDir, Date.UTC(2026, 10, 1, 3, 0, 3), 3, 1);
  await store.put(a.entry.key, new Uint8Array(await fs.readFile(a.file))); // uploaded before the "crash"
  const up = uploader(index);
  const skipped: string[] = [];
  const uploadedKeys: string[] = [];
  up.on('skipped', (j) => skipped.push(j.key));
  up.on('uploaded', (j) => uploadedKeys.push(j.key));
  up.enqueue(job(a, true));
  up.enqueue(job(b, true));
  await up.drained();
  assert.equal(skipped, [a.entry.key]);
  assert.equal(uploadedKeys, [a.entry.key, b.entry.key], 'both are indexed');
  assert.equal(await fs.readdir(spoolDir), [], 'spool emptied');
  const q = await index.query(CAMERA, Date.UTC(2026, 10, 1, 3), Date.UTC(2026, 10, 1, 4));
  assert.equal(q.segments.map((s) => s.key), [a.entry.key, b.entry.key]);
  up.close();
});

test('S3 away and the spool over quota: the oldest waiting segments are dropped, recorded as gaps', async () => {
  const spoolDir = path.join(dir, 'spool-quota');
  const index = new RecordingIndex({ dir: path.join(dir, 'index-quota'), store, keys });
  const port = s3.port;
  await s3.close();
  const start = Date.UTC(2026, 10, 2, 5);
  const segments: FinishedSegment[] = [];
  for (let i = 0; i < 5; i++) segments.push(await makeSegment(spoolDir, start + i * 3000, 3, i));
  const up = uploader(index, segments[0]!.entry.bytes * 3 + 10);
  const dropped: string[] = [];
  up.on('dropped', (j) => dropped.push(j.key));
  for (const s of segments) up.enqueue(job(s));
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(up.stats.errors > 0, 'uploads failed while S3 was away');
  assert.ok(dropped.length >= 1 && dropped.length <= 2, `dropped ${dropped.length}`);
  assert.ok(!dropped.includes(segments[4]!.entry.key), 'the newest segment is kept');
  s3 = await EmbeddedS3.start({ directory: path.join(dir, 's3'), port, bucket: 'life' });
  await up.drained();
  const q = await index.query(CAMERA, start, start + 20_000);
  assert.is(q.segments.length + dropped.length, 5, 'every segment is either in S3 or accounted for as dropped');
  assert.is(q.gaps.filter((g) => g.reason === 'spool-overflow').length, dropped.length, 'each drop is a gap with its reason');
  up.close();
});

test('the index is rebuilt from S3 alone: from its sealed copy, or from the segment objects', async () => {
  const spoolDir = path.join(dir, 'spool-rebuild');
  const index = new RecordingIndex({ dir: path.join(dir, 'index-rebuild'), store, keys });
  const up = uploader(index);
  const start = Date.UTC(2026, 10, 5, 7);
  const made = [await makeSegment(spoolDir, start, 4, 0), await makeSegment(spoolDir, start + 4000, 4, 1)];
  for (const m of made) up.enqueue(job(m));
  await up.drained();
  await index.addGap(CAMERA, { fromMs: start + 8000, toMs: start + 20_000, reason: 'camera-offline' });
  await index.flush();
  up.close();
  const original = await index.query(CAMERA, start, start + 3_600_000);
  const fromCopy = new RecordingIndex({ dir: path.join(dir, 'index-rebuild-2'), store, keys });
  assert.equal(await fromCopy.query(CAMERA, start, start + 3_600_000), original, 'the sealed S3 copy gives the same index');
  await store.delete([`index/${CAMERA}/2026/11/05/07.mmi`]);
  const fromObjects = new RecordingIndex({ dir: path.join(dir, 'index-rebuild-3'), store, keys });
  const rebuilt = await fromObjects.query(CAMERA, start, start + 3_600_000);
  assert.equal(rebuilt.segments, original.segments, 'without it, every segment is found again from its own records');
});

test('a spool file torn by a crash is cut after its last whole record and finished', async () => {
  const spoolDir = path.join(dir, 'spool-torn', CAMERA);
  const writer = await SegmentWriter.create({ spoolDir, dataKey: await keys.dataKey(CAMERA), name: { cameraId: CAMERA, startMs: Date.UTC(2026, 10, 3), session: 'torn', seq: 0 }, tracks: TRACKS });
  for (let i = 0; i < 3; i++) {
    const mp4 = mediaFragment(i + 1, [{ trackId: 1, baseDecodeTime: i * 90_000, samples: [{ duration: 90_000, size: 4, keyframe: true }], data: [Uint8Array.of(1, 2, 3, 4)] }]);
    await writer.appendFragment({ startMs: Date.UTC(2026, 10, 3) + i * 1000, durationMs: 1000, keyframe: true, baseDecodeTimes: { 1: i * 90_000 } }, mp4);
  }
  const [part] = await fs.readdir(spoolDir);
  const file = path.join(spoolDir, part!);
  await fs.appendFile(file, Buffer.from('MMR1\x02\x00\x00\x00\x04\x00\x00\x10\x00garbage of a half-written record'));
  const report = await new Spool(path.join(dir, 'spool-torn')).recover((id) => keys.dataKey(id));
  assert.is(report.recovered.length, 1);
  assert.ok(report.tornBytes > 0);
  const finished = report.recovered[0]!;
  assert.is(finished.entry.fragments.length, 3, 'every whole fragment kept');
  assert.is(finished.entry.end, 'recovered');
  const opened = readSegment(await keys.dataKey(CAMERA), finished.entry.key, new Uint8Array(await fs.readFile(finished.file)));
  assert.is(opened.fragments.length, 3);
  assert.is(opened.entry.endMs, Date.UTC(2026, 10, 3) + 3000);
});

test('master-key rotation re-wraps data keys; recordings sealed before still open', async () => {
  const s = await makeSegment(path.join(dir, 'spool-rotate'), Date.UTC(2026, 10, 4), 2);
  const bytes = new Uint8Array(await fs.readFile(s.file));
  const before = catalog.entries.find((e) => e.cameraId === CAMERA)!.key.masterKeyId;
  const result = await keys.rotateMaster();
  assert.is.not(result.masterKeyId, before);
  assert.ok(result.rewrapped >= 1);
  assert.equal(result.retired, [before], 'the old master key is gone');
  assert.is(catalog.entries.find((e) => e.cameraId === CAMERA)!.key.masterKeyId, result.masterKeyId);
  const fresh = new DataKeys(await MasterKeys.load({ dataDir: dir, env: {} }), catalog);
  assert.is(readSegment(await fresh.dataKey(CAMERA), s.entry.key, bytes).fragments.length, 2, 'media untouched and readable with the re-wrapped key');
});

test.run();
