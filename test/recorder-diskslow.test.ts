// A stalled disk, with real parts: the service's spool is a small ext4 file system on a loop device
// (made by the test), frozen with fsfreeze while a werift camera records, so every write and fsync
// on it blocks as on a dying disk or a hung network mount. What waits in memory must stay bounded:
// the fragments of the first 10 s wait and reach S3 once the disk thaws, what comes after is
// dropped, the hole is one gap with reason disk-slow, and recording resumes by itself.
// Needs root (mount, fsfreeze); skipped with the reason otherwise.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, execFileSync } from 'node:child_process';
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
let frozen = false;
let svc: Service | undefined;

/** A frozen file system left behind would hang every process that writes to it: thaw it whatever happens. */
function thaw(): void {
  if (!frozen) return;
  frozen = false;
  try {
    execFileSync('fsfreeze', ['--unfreeze', spool!]);
  } catch (err) {
    console.error(`could not unfreeze ${spool}: ${String(err)}`);
  }
}
process.on('exit', thaw);

test.after(async () => {
  thaw();
  await svc?.stop();
  if (mounted) await run('umount', [spool!]).catch((err: unknown) => console.error(`could not unmount ${spool}: ${String(err)}`));
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});



test('a stalled spool disk: 10 s wait in memory and reach S3, the rest is one disk-slow gap, recording resumes by itself', async () => {
  if (process.getuid?.() !== 0) return console.log('SKIP recorder-diskslow: needs root to mount and freeze a file system for the spool');
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-diskslow-'));
  spool = path.join(dataDir, 'spool');
  const image = path.join(dataDir, 'spool.img');
  await fs.mkdir(spool);
  await run('truncate', ['-s', '64M', image]);
  await run('mkfs.ext4', ['-q', image]);
  await run('mount', ['-o', 'loop', image, spool]);
  mounted = true;
  svc = await startService({ dataDir, env: { MIMAMORI_SEGMENT_SECONDS: '4' } });
  const s = svc;
  const cam = await s.createCamera('Gate');
  const t0 = Date.now();
  const camera = await Camera.create({ whipUrl: `${s.url}/whip/${cam.id}`, token: await s.publishToken(cam.id, cam.secret), width: 320, height: 180, kbps: 300, fps: 30 });
  const timeline = async () => (await (await s.api(`/api/cameras/${cam.id}/recordings?from=${t0 - 1000}&to=${Date.now() + 1000}`)).json()) as Timeline;
  try {
    await until(svc, 'segments in the index', 20_000, async () => ((await timeline()).segments.length >= 2 ? true : undefined));
    await run('fsfreeze', ['--freeze', spool]);
    frozen = true;
    const frozenAt = Date.now();
    setTimeout(thaw, 60_000).unref(); // whatever the test does meanwhile
    await until(svc, 'the stall in the log', 20_000, async () => (s.output().includes('spool_stalled') ? true : undefined));
    const stalledAfterMs = Date.now() - frozenAt;
    // Readiness and the metric say so while it lasts.
    const notReady = await until(svc, '/readyz failing for the stalled disk', 5000, async () => {
      const r = (await (await fetch(`${s.url}/readyz`)).json()) as { ready: boolean; checks: Record<string, { ok: boolean; message?: string }> };
      return !r.ready && !r.checks.spool?.ok ? r : undefined;
    });
    assert.match(notReady.checks.spool!.message ?? '', "the recorder's disk does not keep up");
    assert.match(await (await fetch(`${s.url}/metrics`)).text(), /^mimamori_cameras_spool_stalled 1$/m);
    await sleep(5000); // stalled for a while: what comes is dropped, no segment starts
    thaw();
    const thawedAt = Date.now();
    const gap = await until(svc, 'a disk-slow gap', 20_000, async () => (await timeline()).gaps.find((g) => g.reason === 'disk-slow'));
    await until(svc, '/readyz passing again', 10_000, async () => ((await (await fetch(`${s.url}/readyz`)).json()) as { ready: boolean }).ready ? true : undefined);
    await sleep(4000); // recording after the disk came back
    await camera.close();
    await until(svc, 'the spool emptied into S3', 20_000, async () => {
      const st = (await (await s.api('/api/recorder')).json()) as { upload: { queued: number }; spoolBytes: number; cameras: { recording: boolean }[] };
      return st.upload.queued === 0 && st.spoolBytes === 0 && !st.cameras.some((c) => c.recording) ? true : undefined;
    });
    const t = await timeline();
    console.log(`  frozen ${thawedAt - frozenAt} ms; stall logged after ${stalledAfterMs} ms; gap ${gap.fromMs - frozenAt}–${gap.toMs - frozenAt} ms after the freeze (resumed ${gap.toMs - thawedAt} ms after the thaw)`);
    assert.equal(t.gaps.map((g) => g.reason), ['disk-slow'], `the one hole is the stalled disk: ${JSON.stringify(t.gaps)}`);
    // What waited in memory (up to 10 s of media) was kept: the hole starts well after the freeze.
    assert.ok(gap.fromMs - frozenAt >= 7000, `the fragments queued while the disk was frozen were kept (hole from ${gap.fromMs - frozenAt} ms after the freeze)`);
    assert.ok(gap.fromMs - frozenAt <= 13_000, `and no more than about 10 s waited in memory (hole from ${gap.fromMs - frozenAt} ms)`);
    assert.ok(gap.toMs - thawedAt <= 4000, `recording resumed soon after the thaw (${gap.toMs - thawedAt} ms)`);
    const before = t.segments.filter((x) => x.endMs <= gap.fromMs);
    const after = t.segments.filter((x) => x.startMs >= gap.toMs);
    assert.is(before.length + after.length, t.segments.length, 'no segment inside the gap');
    assert.ok(before.length >= 3 && after.length >= 1, `recorded before (${before.length}) and after (${after.length}) the stall`);
    assert.is(before.at(-1)!.endMs, gap.fromMs, 'the gap starts where the last queued fragment ends');
    assert.is(before.at(-1)!.end, 'interrupted', 'the segment cut by the stall was finished with its queued fragments');
    assert.is(after[0]!.startMs, gap.toMs, 'the gap ends where the resumed segment starts');

    const r = await openRecordings(dataDir);
    try {
      const segments = await r.segments(cam.id);
      // Said in full when it fails: which object S3 holds that the index does not list, or the reverse.
      const inS3 = segments.map((x) => `${x.header.startMs - frozenAt}+${x.fragments.length}f`).join(' ');
      const listed = t.segments.map((x) => `${x.startMs - frozenAt}–${x.endMs - frozenAt}`).join(' ');
      assert.is(segments.length, t.segments.length, `every segment is in S3 (ms after the freeze; S3: ${inS3}; index: ${listed})`);
      const frames = segments.filter((x) => x.header.startMs < gap.fromMs).flatMap((x) => videoSamples(x).map((v) => v.frame!));
      for (let k = 1; k < frames.length; k++) assert.is(frames[k], frames[k - 1]! + 1, 'up to the hole, every picture once: nothing that waited in memory was lost');
      for (const seg of segments.filter((x) => x.header.startMs >= gap.toMs)) {
        const after = videoSamples(seg).map((v) => v.frame!);
        for (let k = 1; k < after.length; k++) assert.is(after[k], after[k - 1]! + 1, 'no picture lost or repeated after the hole');
      }
    } finally {
      await r.close();
    }
  } finally {
    thaw();
    await camera.close().catch(() => undefined);
  }
});

test.run();
