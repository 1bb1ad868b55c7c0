// A full disk, with real parts: the service's spool is its own small file system (tmpfs, mounted
// by the test), two werift cameras record, a filler file takes every free byte. /readyz and the
// alert must say so; when the filler goes, recording resumes by itself, the hole is one gap with
// reason disk-full and exact bounds, and everything on the spool before it reached S3.
// Needs root (mount); skipped with the reason otherwise.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Camera } from '../camera/index.ts';
import { startService, type Service } from './harness.ts';
import { openRecordings, videoSamples } from './recordings.ts';
import { until, type Timeline } from './spoolDisk.ts';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dataDir: string | undefined;
let spool: string | undefined;
let mounted = false;
let svc: Service | undefined;

test.after(async () => {
  await svc?.stop();
  if (mounted) await run('umount', [spool!]).catch((err: unknown) => console.error(`could not unmount ${spool}: ${String(err)}`));
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

interface Ready {
  ready: boolean;
  checks: Record<string, { ok: boolean; message?: string }>;
}
type Alerts = { alerts: { cameraId: string; kind: string; sinceMs: number }[] };


/** Fills the file system of `file`'s folder, and keeps it full (uploads free space) until stopped. */
function fill(file: string): { stop: () => Promise<void>; bytes: () => number } {
  let stopped = false;
  let bytes = 0;
  const chunk = Buffer.alloc(16 * 1024, 1);
  const loop = (async () => {
    const handle = await fs.open(file, 'a');
    try {
      while (!stopped) {
        try {
          const { bytesWritten } = await handle.write(chunk);
          bytes += bytesWritten;
          if (bytesWritten < chunk.length) await sleep(20);
        } catch {
          await sleep(20); // full: look again soon
        }
      }
    } finally {
      await handle.close();
    }
  })();
  return {
    bytes: () => bytes,
    stop: async () => {
      stopped = true;
      await loop;
      await fs.rm(file, { force: true });
    },
  };
}

test('a full spool: readiness and alert say so, recording resumes by itself, one disk-full gap, nothing lost that was on disk', async () => {
  if (process.getuid?.() !== 0) return console.log('SKIP recorder-diskfull: needs root to mount a small file system for the spool');
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-diskfull-'));
  spool = path.join(dataDir, 'spool');
  await fs.mkdir(spool);
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', spool]);
    mounted = true;
  } catch (err) {
    return console.log(`SKIP recorder-diskfull: cannot mount a tmpfs on the spool (${String(err).split('\n')[0]})`);
  }
  svc = await startService({ dataDir, env: { MIMAMORI_SEGMENT_SECONDS: '3', MIMAMORI_READY_MIN_FREE_MB: '1' } });
  const s = svc;
  const front = await s.createCamera('Front');
  const back = await s.createCamera('Back');
  const t0 = Date.now();
  const publish = async (cam: { id: string; secret: string }) =>
    Camera.create({ whipUrl: `${s.url}/whip/${cam.id}`, token: await s.publishToken(cam.id, cam.secret), width: 320, height: 180, kbps: 300, fps: 30 });
  const cameras = [await publish(front), await publish(back)];
  const ids = [front.id, back.id];
  const timeline = async (id: string) => (await (await s.api(`/api/cameras/${id}/recordings?from=${t0 - 1000}&to=${Date.now() + 1000}`)).json()) as Timeline;
  const readyz = async () => (await (await fetch(`${s.url}/readyz`)).json()) as Ready;
  const alerts = async () => ((await (await s.api('/api/recorder')).json()) as Alerts).alerts.filter((a) => a.kind === 'disk_full');
  try {
    // Recording, a few segments uploaded.
    await until(svc, 'segments in the index', 20_000, async () => ((await Promise.all(ids.map(timeline))).every((t) => t.segments.length >= 2) ? true : undefined));
    // The third segment has begun: fill once a fragment of it is on the spool, so the cut
    // segment's durable part has to reach S3 too.
    await sleep(1700);
    const filler = fill(path.join(spool, 'filler'));
    const fullAt = Date.now();
    const notReady = await until(svc, '/readyz failing for the full disk', 10_000, async () => {
      const r = await readyz();
      return !r.ready && !r.checks.spool?.ok ? r : undefined;
    });
    const message = notReady.checks.spool!.message ?? '';
    assert.match(message, "the recorder's disk is full");
    assert.match(message, 'MIMAMORI_DATA_DIR/spool');
    const raised = await until(svc, 'disk_full alerts for both cameras', 10_000, async () => {
      const a = await alerts();
      return a.length === 2 ? a : undefined;
    });
    assert.equal(raised.map((a) => a.cameraId).sort(), [...ids].sort());
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /^mimamori_cameras_disk_full 2$/m);
    await sleep(3000); // full for a while: segments keep failing to start
    await filler.stop();
    const freedAt = Date.now();
    await until(svc, '/readyz passing again', 10_000, async () => ((await readyz()).ready ? true : undefined));
    await until(svc, 'the alerts cleared', 5000, async () => ((await alerts()).length === 0 ? true : undefined));
    const gaps = await until(svc, 'a disk-full gap for each camera', 10_000, async () => {
      const g = (await Promise.all(ids.map(timeline))).map((t) => t.gaps.find((x) => x.reason === 'disk-full'));
      return g.every((x) => x !== undefined) ? g : undefined;
    });
    await sleep(4000); // recording after the disk had room again
    for (const camera of cameras) await camera.close();
    await until(svc, 'the spool emptied into S3', 20_000, async () => {
      const st = (await (await s.api('/api/recorder')).json()) as { upload: { queued: number }; spoolBytes: number; cameras: { recording: boolean }[] };
      return st.upload.queued === 0 && st.spoolBytes === 0 && !st.cameras.some((c) => c.recording) ? true : undefined;
    });
    console.log(`  filler took ${(filler.bytes() / 1048576).toFixed(1)} MiB; the spool was full for ${((freedAt - fullAt) / 1000).toFixed(1)} s`);

    const r = await openRecordings(dataDir);
    try {
      for (const [i, id] of ids.entries()) {
        const t = await timeline(id);
        const gap = gaps[i]!;
        assert.equal(t.gaps.map((g) => g.reason), ['disk-full'], `${id}: the one hole is the full disk: ${JSON.stringify(t.gaps)}`);
        const before = t.segments.filter((x) => x.endMs <= gap.fromMs);
        const after = t.segments.filter((x) => x.startMs >= gap.toMs);
        assert.is(before.length + after.length, t.segments.length, 'no segment inside the gap');
        assert.ok(before.length >= 2 && after.length >= 1, `recorded before (${before.length}) and after (${after.length}) the full disk`);
        assert.is(before.at(-1)!.endMs, gap.fromMs, 'the gap starts where the last durable fragment ends');
        assert.is(before.at(-1)!.end, 'interrupted', 'the segment cut by the full disk was finished with its durable fragments');
        assert.is(after[0]!.startMs, gap.toMs, 'the gap ends where the resumed segment starts');
        for (let k = 1; k < t.segments.length; k++) if (t.segments[k - 1]!.endMs !== gap.fromMs) assert.is(t.segments[k]!.startMs, t.segments[k - 1]!.endMs, 'segments follow each other');
        // Everything the index lists is in S3, opens (sealed records) and holds consecutive pictures.
        const segments = await r.segments(id);
        assert.is(segments.length, t.segments.length, 'every segment is in S3');
        assert.ok(segments.every((x) => x.fragments.length > 0));
        for (const seg of segments) {
          const frames = videoSamples(seg).map((v) => v.frame!);
          for (let k = 1; k < frames.length; k++) assert.is(frames[k], frames[k - 1]! + 1, 'no picture lost or repeated inside a segment');
        }
        console.log(
          `  ${i === 0 ? 'Front' : 'Back'}: gap ${gap.toMs - gap.fromMs} ms (disk full for ${freedAt - fullAt} ms), resumed ${gap.toMs - freedAt} ms after space returned; segments ${before.length} before (the cut one with ${before.at(-1)!.fragments} fragment(s)), ${after.length} after`,
        );
      }
    } finally {
      await r.close();
    }
    JSON.parse(await fs.readFile(path.join(dataDir, 'db.json'), 'utf8'));
    assert.match(s.output(), 'alert_disk_full'); // its _cleared line is info, below the test's log level
  } finally {
    for (const camera of cameras) await camera.close().catch(() => undefined);
  }
});

test.run();
