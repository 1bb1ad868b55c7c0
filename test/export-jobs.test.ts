// Export jobs against a real metadata store, a real S3-compatible server and real sealing: an
// export deleted while it runs leaves nothing in the bucket. The clip itself is a stand-in that
// hands out 4 MiB chunks when the test says so (the clip planner has its own tests), so the delete
// lands between two parts for sure.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ExportJobs, EXPORT_PART_BYTES } from '../playback/ExportJobs.ts';
import type { Clip } from '../playback/clip/index.ts';
import { DataKeys } from '../recorder/DataKeys.ts';
import { exportPrefix } from '../recorder/index.ts';
import { MasterKeys } from '../recorder/seal/index.ts';
import { EmbeddedS3, S3ObjectStore } from '../recorder/store/index.ts';
import { FileStore } from '../signaling/store/index.ts';

let dir: string;
let s3: EmbeddedS3;
let bucket: S3ObjectStore;
let store: FileStore;

test.before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-export-jobs-'));
  s3 = await EmbeddedS3.start({ directory: path.join(dir, 's3'), bucket: 'exports' });
  bucket = await S3ObjectStore.create({ ...s3.options, createBucket: true });
  store = await FileStore.open(path.join(dir, 'data'));
});
test.after(async () => {
  await store.close();
  bucket.close();
  await s3.close();
  await fs.rm(dir, { recursive: true, force: true });
});

/** A clip of `parts` export parts whose chunks come one at a time, each when `next()` is called. */
function steppedClip(parts: number) {
  const waiting: (() => void)[] = [];
  let asked = 0;
  const clip: Clip = {
    startMs: 0,
    durationMs: 60_000,
    bytes: parts * EXPORT_PART_BYTES,
    gaps: [],
    async *stream() {
      for (let i = 0; i < parts; i++) {
        if (i >= asked) await new Promise<void>((resolve) => waiting.push(resolve));
        yield new Uint8Array(EXPORT_PART_BYTES).fill(i + 1);
      }
    },
  };
  return {
    clip,
    next: () => {
      asked += 1;
      waiting.shift()?.();
    },
  };
}

async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  for (const deadline = Date.now() + 10_000; !(await check()); ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const objectsOf = async (cameraId: string, id: string) => {
  const keys: string[] = [];
  for await (const o of bucket.list(exportPrefix(cameraId, id))) keys.push(o.key);
  return keys;
};

test('an export deleted while it runs leaves no part in the bucket; one left alone is stored whole', async () => {
  const { org } = await store.addOrg('Exports');
  const camera = await store.addCamera(org.id, 'Gate', 'hash');
  const keys = new DataKeys(await MasterKeys.load({ dataDir: path.join(dir, 'data'), env: {} }), store);
  const lines: { event?: string; objects?: number }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { event?: string }) });
  const clips = new Map<string, ReturnType<typeof steppedClip>>();
  const jobs = new ExportJobs({ clip: async (cameraId, fromMs) => clips.get(`${cameraId}@${fromMs}`)!.clip, store: bucket, keys, jobs: store, owner: 'node-a', log });
  try {
    const add = async (fromMs: number, parts: number) => {
      const job = await store.addExport({ cameraId: camera.id, fromMs, toMs: fromMs + 60_000, name: `from ${fromMs}`, createdBy: 'u:test' });
      clips.set(`${camera.id}@${fromMs}`, steppedClip(parts));
      return job;
    };

    // Deleted after its first part, as the route deletes: the parts it sees, then the job.
    const doomed = await add(0, 3);
    const doomedClip = clips.get(`${camera.id}@0`)!;
    jobs.enqueue(doomed.id);
    doomedClip.next();
    await until('the first part is stored', async () => (await objectsOf(camera.id, doomed.id)).length === 1);
    assert.is(await jobs.deleteFile(doomed), 1);
    await store.deleteExport(doomed.id);
    doomedClip.next(); // the second part is written, after the delete looked
    doomedClip.next();
    await jobs.idle();
    assert.equal(await objectsOf(camera.id, doomed.id), [], 'nothing of the deleted export stays in the bucket');
    assert.ok(lines.some((l) => l.event === 'export_discarded'), 'the discard is logged');
    assert.is(store.exportJob(doomed.id), undefined, 'the deleted job does not come back');

    // The same kind of job, not deleted: every part stored, the job done.
    const kept = await add(1_000_000, 2);
    const keptClip = clips.get(`${camera.id}@1000000`)!;
    jobs.enqueue(kept.id);
    keptClip.next();
    keptClip.next();
    await jobs.idle();
    assert.is(store.exportJob(kept.id)?.status, 'done', JSON.stringify(store.exportJob(kept.id)));
    assert.is((await objectsOf(camera.id, kept.id)).length, 2);
    let bytes = 0;
    for await (const part of jobs.download(store.exportJob(kept.id)!)) bytes += part.length;
    assert.is(bytes, 2 * EXPORT_PART_BYTES, 'it reads back whole (sealed parts open with the camera key)');
  } finally {
    await jobs.close();
  }
});

test.run();
