// Recordings for the playback benchmark, made fast with the recorder's own code: one real H.264
// fixture (Debian's ffmpeg) cut into 1 s GOPs, muxed with mediaFragment() into 1 s fragments
// (tfdt rewritten per fragment by muxing the same samples at a new base decode time), written by
// SegmentWriter (60 s segments, sealed with the camera's data key, fsynced), put into the embedded
// S3 with the real ObjectStore, indexed with RecordingIndex.addSegment/addGap and flushed to S3.
//
// The same fragments also go, unencrypted, into plain fMP4 files (init + moof/mdat, one file per
// segment) with one VOD playlist per clock hour using byte ranges: the static-server baseline.
//
// Runs while the service is stopped (it owns db.json, where the camera's wrapped data key lives).
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureVideoFixture } from '../../../camera/fixtures.ts';
import { NalType, nalType, parseAnnexB } from '../../../camera/h264.ts';
import { DataKeys, MasterKeys, openStorage, RecordingIndex, segmentKey, type GapEntry, type GapReason, type SegmentEntry } from '../../../recorder/index.ts';
import { initSegment, mediaFragment, type H264Track, type Sample } from '../../../recorder/mp4/index.ts';
import { SegmentWriter } from '../../../recorder/SegmentWriter.ts';
import { FileStore as Store } from '../../../signaling/store/index.ts';

const VIDEO_TRACK_ID = 1;
const TIMESCALE = 90_000;
const HOUR_MS = 3_600_000;

export interface FixtureSpec {
  width: number;
  height: number;
  fps: number;
  kbps: number;
}

interface Gop {
  samples: Sample[];
  data: Uint8Array[];
  ticks: number;
}

interface PlannedSegment {
  session: string;
  seq: number;
  /** Seconds from the start of the recorded day, one per 1 s fragment. */
  seconds: number[];
  /** Second at which the segment's session started (media time 0). */
  sessionStart: number;
  end: 'duration' | 'stopped' | 'interrupted';
}

export interface BaselineEntry {
  wallMs: number;
  durS: number;
  file: string;
  offset: number;
  length: number;
  /** A new continuity starts here (new session or hole before it). */
  discontinuity: boolean;
}

export interface BaselineSegment {
  file: string;
  initLength: number;
  entries: BaselineEntry[];
}

export interface Generated {
  cameraId: string;
  /** The recorded day: [startMs, endMs). */
  startMs: number;
  endMs: number;
  gaps: GapEntry[];
  /** Recorded [from, to) ranges (gaps excluded). */
  spans: [number, number][];
  segments: number;
  fragments: number;
  sealedBytes: number;
  plainBytes: number;
  /** Extra days of index only (no objects behind them) for the 30-day timeline. */
  indexOnlyHours: number;
  seconds: { written: number; total: number };
  /** Per clock hour (its start ms): the baseline's segments in order. */
  baseline: Map<number, BaselineSegment[]>;
  baselineDir: string;
}

/** The fixture's 1 s GOPs as fMP4 samples (SPS/PPS/AUD out of band, 4-byte lengths). */
async function loadGops(spec: FixtureSpec): Promise<{ track: H264Track; gops: Gop[] }> {
  const file = await ensureVideoFixture({ ...spec, seconds: 60, profile: 'main' });
  const units = parseAnnexB(new Uint8Array(await fs.readFile(file)));
  let sps: Uint8Array | undefined;
  let pps: Uint8Array | undefined;
  const gops: Gop[] = [];
  const frameTicks = Math.round(TIMESCALE / spec.fps);
  for (const au of units) {
    const kept: Uint8Array[] = [];
    for (const nal of au.nalus) {
      const t = nalType(nal);
      if (t === NalType.sps) sps ??= nal;
      else if (t === NalType.pps) pps ??= nal;
      else if (t !== NalType.aud) kept.push(nal);
    }
    const size = kept.reduce((n, x) => n + 4 + x.length, 0);
    const data = new Uint8Array(size);
    let at = 0;
    for (const nal of kept) {
      new DataView(data.buffer).setUint32(at, nal.length);
      data.set(nal, at + 4);
      at += 4 + nal.length;
    }
    if (au.keyframe) gops.push({ samples: [], data: [], ticks: 0 });
    const gop = gops.at(-1);
    if (!gop) continue; // frames before the first keyframe
    gop.samples.push({ duration: frameTicks, size, keyframe: au.keyframe });
    gop.data.push(data);
    gop.ticks += frameTicks;
  }
  if (!sps || !pps) throw new Error(`fixture ${file} has no SPS/PPS`);
  const whole = gops.filter((g) => g.ticks === TIMESCALE);
  if (whole.length < 10) throw new Error(`fixture ${file}: expected 1 s GOPs, got ${gops.map((g) => g.samples.length).join(',')}`);
  return { track: { id: VIDEO_TRACK_ID, kind: 'video', codec: 'h264', timescale: TIMESCALE, width: spec.width, height: spec.height, sps, pps }, gops: whole };
}

/**
 * The day's gaps, as seconds from its start: two camera-offline spells (a new session after
 * each), a 3 s frames-lost hole inside a session (the segment ends 'interrupted'), and half an
 * hour of recorder-down (new session after it).
 */
export function dayGaps(): { from: number; to: number; reason: GapReason; newSession: boolean }[] {
  const h = 3600;
  return [
    { from: 2 * h + 600, to: 2 * h + 900, reason: 'camera-offline', newSession: true },
    { from: 9 * h + 30, to: 9 * h + 120, reason: 'camera-offline', newSession: true },
    { from: 15 * h + 1210, to: 15 * h + 1213, reason: 'frames-lost', newSession: false },
    { from: 20 * h, to: 20 * h + 1800, reason: 'recorder-down', newSession: true },
  ];
}

function planDay(totalSeconds: number): PlannedSegment[] {
  const gaps = dayGaps();
  const segments: PlannedSegment[] = [];
  let sessionNo = 0;
  let session = `bench${sessionNo}`;
  let sessionStart = 0;
  let seq = 0;
  let current: PlannedSegment | undefined;
  const close = (end: PlannedSegment['end']) => {
    if (current && current.seconds.length > 0) {
      current.end = end;
      segments.push(current);
    }
    current = undefined;
  };
  for (let s = 0; s < totalSeconds; s++) {
    const gap = gaps.find((g) => s >= g.from && s < g.to);
    if (gap) {
      if (s === gap.from) {
        close(gap.newSession ? 'stopped' : 'interrupted');
        if (gap.newSession) {
          sessionNo += 1;
          session = `bench${sessionNo}`;
          sessionStart = gap.to;
          seq = 0;
        }
      }
      continue;
    }
    if (current && s % 60 === 0) close('duration');
    current ??= { session, seq: seq++, seconds: [], sessionStart, end: 'duration' };
    current.seconds.push(s);
  }
  close('stopped');
  return segments;
}

async function pool<T>(items: readonly T[], concurrency: number, work: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i]!, i);
      }
    }),
  );
}

/** What one writer process reports: the baseline layout of its segments and its byte counts. */
interface WriterReport {
  segments: { n: number; seg: BaselineSegment }[];
  sealedBytes: number;
  plainBytes: number;
  fragments: number;
}

export interface WriterJob {
  dataDir: string;
  cameraId: string;
  startMs: number;
  hours: number;
  spec: FixtureSpec;
  baselineDir: string;
  /** Planned segments [first, last) this process writes. */
  first: number;
  last: number;
}

/**
 * One writer process: its share of the day's segments, sealed, fsynced, put into S3 and indexed
 * (its hours only; it flushes them to S3 before it ends).
 */
export async function writeSegments(job: WriterJob, progress: (segments: number) => void): Promise<WriterReport> {
  const { cameraId, dataDir, startMs } = job;
  const { track, gops } = await loadGops(job.spec);
  const init = initSegment([track]);
  const catalog = await Store.open(dataDir);
  const keys = new DataKeys(await MasterKeys.load({ dataDir }), catalog);
  const dataKey = keys.existingKey(cameraId);
  if (!dataKey) throw new Error(`camera ${cameraId} has no data key yet`);
  // The embedded store is a folder: a server of our own on it, as `mimamori verify` does.
  const storage = await openStorage({ dataDir, s3: undefined, embeddedS3: { port: 0, bucket: 'mimamori' } }, { port: 0 });
  const index = new RecordingIndex({ dir: path.join(dataDir, 'index'), store: storage.store, keys });
  // The spool on tmpfs when there is one: the writer fsyncs every fragment, which is the
  // recorder's durability and not what this benchmark measures; on a disk it would take minutes.
  const spoolRoot = await fs.stat('/dev/shm').then((st) => (st.isDirectory() ? '/dev/shm' : os.tmpdir())).catch(() => os.tmpdir());
  const spoolDir = await fs.mkdtemp(path.join(spoolRoot, 'mimamori-bench-spool-'));
  const plan = planDay(job.hours * 3600);
  const report: WriterReport = { segments: [], sealedBytes: 0, plainBytes: 0, fragments: 0 };
  const mine = plan.map((seg, n) => ({ seg, n })).slice(job.first, job.last);
  try {
    // Several segments at once: each fragment is fsynced before the next, as the recorder does.
    await pool(mine, 12, async ({ seg, n }) => {
      const segStartMs = startMs + seg.seconds[0]! * 1000;
      const name = { cameraId, startMs: segStartMs, session: seg.session, seq: seg.seq };
      const writer = await SegmentWriter.create({ spoolDir, dataKey, name, tracks: [track] });
      const file = `${segmentKey(name).split('/').at(-1)!.replace(/\.mmr$/, '')}.mp4`;
      const parts: Uint8Array[] = [init];
      let offset = init.length;
      const entries: BaselineEntry[] = [];
      const prev = n > 0 ? plan[n - 1] : undefined;
      for (let k = 0; k < seg.seconds.length; k++) {
        const s = seg.seconds[k]!;
        const gop = gops[s % gops.length]!;
        const base = (s - seg.sessionStart) * TIMESCALE;
        const bytes = mediaFragment(k + 1, [{ trackId: VIDEO_TRACK_ID, baseDecodeTime: base, samples: gop.samples, data: gop.data }]);
        const wallMs = startMs + s * 1000;
        await writer.appendFragment({ startMs: wallMs, durationMs: 1000, keyframe: true, baseDecodeTimes: { [VIDEO_TRACK_ID]: base } }, bytes);
        // What the server's playlist does: a new continuity after a hole or at a new session.
        const hole = k === 0 && (!prev || prev.session !== seg.session || prev.seconds.at(-1)! + 1 !== s);
        entries.push({ wallMs, durS: 1, file, offset, length: bytes.length, discontinuity: hole });
        parts.push(bytes);
        offset += bytes.length;
      }
      const finished = await writer.finish(seg.end);
      const sealed = new Uint8Array(await fs.readFile(finished.file));
      await storage.store.put(finished.entry.key, sealed);
      await fs.rm(finished.file);
      await index.addSegment(cameraId, finished.entry);
      await fs.writeFile(path.join(job.baselineDir, file), Buffer.concat(parts));
      report.segments.push({ n, seg: { file, initLength: init.length, entries } });
      report.sealedBytes += sealed.length;
      report.plainBytes += offset;
      report.fragments += seg.seconds.length;
      progress(report.segments.length);
    });
    await index.flush();
    return report;
  } finally {
    await storage.close();
    await fs.rm(spoolDir, { recursive: true, force: true });
  }
}

const WORKER = fileURLToPath(new URL('./writer.ts', import.meta.url));

function runWriter(job: WriterJob, log: (o: object) => void): Promise<WriterReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let reported = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        const msg = JSON.parse(line) as { progress?: number; s?: number; report?: WriterReport };
        if (msg.report) {
          reported = true;
          resolve(msg.report);
        }
        else if (msg.progress !== undefined && msg.progress % Number(process.env.PB_PROGRESS ?? 120) === 0) log({ phase: 'generate', writer: job.first, segments: msg.progress, of: job.last - job.first, s: msg.s });
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`segment writer exited with ${code}: ${err.slice(-3000)}`));
      else if (!reported) reject(new Error(`segment writer sent no report: ${err.slice(-3000)}`));
    });
  });
}

/**
 * Writes `hours` of recording ending at `endMs` (a whole minute) for `cameraId` into the stopped
 * service's data dir (two writer processes, one per core), plus `indexOnlyDays` earlier days of
 * index entries without objects, then the baseline's playlists' layout.
 */
export async function generate(o: {
  dataDir: string;
  cameraId: string;
  endMs: number;
  hours: number;
  indexOnlyDays: number;
  spec: FixtureSpec;
  baselineDir: string;
  writers?: number;
  log: (o: object) => void;
}): Promise<Generated> {
  const t0 = performance.now();
  const { cameraId, dataDir } = o;
  const startMs = o.endMs - o.hours * HOUR_MS;
  if (startMs % 60_000 !== 0) throw new Error('endMs must be a whole minute');
  const { track, gops } = await loadGops(o.spec); // makes the fixture once, before the writers start
  const catalog = await Store.open(dataDir);
  const keys = new DataKeys(await MasterKeys.load({ dataDir }), catalog);
  await keys.dataKey(cameraId); // created and stored wrapped in db.json, as the recorder would
  await fs.mkdir(o.baselineDir, { recursive: true });

  const plan = planDay(o.hours * 3600);
  const writers = o.writers ?? 2;
  const jobs: WriterJob[] = [];
  for (let w = 0; w < writers; w++) {
    jobs.push({ dataDir, cameraId, startMs, hours: o.hours, spec: o.spec, baselineDir: o.baselineDir, first: Math.floor((w * plan.length) / writers), last: Math.floor(((w + 1) * plan.length) / writers) });
  }
  const storage = await openStorage({ dataDir, s3: undefined, embeddedS3: { port: 0, bucket: 'mimamori' } }, { port: 0 });
  const index = new RecordingIndex({ dir: path.join(dataDir, 'index'), store: storage.store, keys });
  try {
    // Earlier days (index only) meanwhile, in this process: other hours than the writers'.
    const [reports, indexOnlyHours] = await Promise.all([
      Promise.all(jobs.map((job) => runWriter(job, o.log))),
      indexOnly(index, cameraId, startMs - o.indexOnlyDays * 24 * HOUR_MS, startMs, track, gops),
    ]);
    const tWritten = performance.now();
    const gaps: GapEntry[] = dayGaps()
      .filter((g) => g.to <= o.hours * 3600)
      .map((g) => ({ fromMs: startMs + g.from * 1000, toMs: startMs + g.to * 1000, reason: g.reason }));
    for (const g of gaps) await index.addGap(cameraId, g);
    await index.flush();

    const perSegment: BaselineSegment[] = new Array(plan.length);
    for (const r of reports) for (const { n, seg } of r.segments) perSegment[n] = seg;
    const baseline = new Map<number, BaselineSegment[]>();
    for (const seg of perSegment) {
      const hour = Math.floor(seg.entries[0]!.wallMs / HOUR_MS) * HOUR_MS;
      const list = baseline.get(hour) ?? [];
      list.push(seg);
      baseline.set(hour, list);
    }
    const spans: [number, number][] = [];
    let from = startMs;
    for (const g of gaps) {
      if (g.fromMs > from) spans.push([from, g.fromMs]);
      from = g.toMs;
    }
    if (from < o.endMs) spans.push([from, o.endMs]);
    const sum = (f: (r: WriterReport) => number) => reports.reduce((n, r) => n + f(r), 0);
    return {
      cameraId,
      startMs,
      endMs: o.endMs,
      gaps,
      spans,
      segments: plan.length,
      fragments: sum((r) => r.fragments),
      sealedBytes: sum((r) => r.sealedBytes),
      plainBytes: sum((r) => r.plainBytes),
      indexOnlyHours,
      seconds: { written: round((tWritten - t0) / 1000), total: round((performance.now() - t0) / 1000) },
      baseline,
      baselineDir: o.baselineDir,
    };
  } finally {
    await storage.close();
  }
}

/**
 * Hour indexes of [fromMs, toMs) without objects behind them, one offline hour a day and a 5 s
 * frames-lost hole every sixth hour. One segment entry per recorded stretch (no fragment tuples):
 * an hour's summary, all the timeline reads, merges contiguous segments into one span anyway, so
 * it is the same as with sixty 60 s segments, and sixty addSegment calls per hour would take
 * minutes (each rewrites the hour's files).
 */
async function indexOnly(index: RecordingIndex, cameraId: string, fromMs: number, toMs: number, track: H264Track, gops: Gop[]): Promise<number> {
  const bytesPerSecond = gops.reduce((n, g) => n + g.data.reduce((m, d) => m + d.length, 0), 0) / gops.length;
  let hours = 0;
  for (let hour = fromMs; hour < toMs; hour += HOUR_MS) {
    hours += 1;
    const session = `old${Math.floor(hour / (24 * HOUR_MS))}`;
    const h = new Date(hour).getUTCHours();
    if (h === 3) {
      await index.addGap(cameraId, { fromMs: hour, toMs: hour + HOUR_MS, reason: 'camera-offline' });
      continue;
    }
    const stretches: [number, number][] = h % 6 === 0 ? [[hour, hour + 1_800_000], [hour + 1_805_000, hour + HOUR_MS]] : [[hour, hour + HOUR_MS]];
    if (stretches.length > 1) await index.addGap(cameraId, { fromMs: hour + 1_800_000, toMs: hour + 1_805_000, reason: 'frames-lost' });
    for (const [startMs, endMs] of stretches) {
      const seq = (h * 60 + (startMs - hour) / 60_000) | 0;
      await index.addSegment(cameraId, {
        key: segmentKey({ cameraId, startMs, session, seq }),
        session,
        seq,
        startMs,
        endMs,
        bytes: Math.round((bytesPerSecond * (endMs - startMs)) / 1000),
        init: [0, 600],
        fragments: [],
        end: 'duration',
        video: { codec: 'h264', width: track.width, height: track.height },
      });
    }
  }
  return hours;
}

/** The baseline's VOD playlist of one clock hour: one EXT-X-MAP per file, byte ranges per fragment. */
export function baselinePlaylist(segments: readonly BaselineSegment[]): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:1', '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-INDEPENDENT-SEGMENTS'];
  segments.forEach((seg, i) => {
    seg.entries.forEach((e, k) => {
      if (e.discontinuity && !(i === 0 && k === 0)) lines.push('#EXT-X-DISCONTINUITY');
      if (k === 0) lines.push(`#EXT-X-MAP:URI="${seg.file}",BYTERANGE="${seg.initLength}@0"`);
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(e.wallMs).toISOString()}`);
      lines.push(`#EXTINF:${e.durS.toFixed(3)},`);
      lines.push(`#EXT-X-BYTERANGE:${e.length}@${e.offset}`);
      lines.push(e.file);
    });
  });
  lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

function round(x: number, d = 1): number {
  return Math.round(x * 10 ** d) / 10 ** d;
}
