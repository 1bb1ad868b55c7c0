// One movie fragment: moof (mfhd + one traf per track run) followed by a single mdat holding every
// run's sample data in order. This is the hot path (one call per second per camera), so sizes are
// computed first and everything is written into one buffer.
import type { Sample, TrackRun } from './types.ts';
import { ByteWriter } from './writer.ts';

// tfhd flag: sample data offsets are relative to the moof's first byte (what iso6/CMAF require).
const DEFAULT_BASE_IS_MOOF = 0x020000;
// trun flags (14496-12 8.8.8).
const DATA_OFFSET = 0x000001;
const SAMPLE_DURATION = 0x000100;
const SAMPLE_SIZE = 0x000200;
const SAMPLE_FLAGS = 0x000400;
const SAMPLE_CTO = 0x000800;
// sample_flags (14496-12 8.8.3.1): depends_on 2 = an I-frame; depends_on 1 + is_non_sync otherwise.
const SYNC_FLAGS = 0x02000000;
const NON_SYNC_FLAGS = 0x01010000;

const MFHD = 16;
const TFHD = 16; // track_ID only
const TFDT = 20; // version 1: 64-bit baseMediaDecodeTime
const TRUN = 20; // header + sample_count + data_offset
const TRAF_FIXED = 8 + TFHD + TFDT + TRUN;
// trun offsets are signed 32-bit from the moof start; far above any one-second fragment.
const MAX_FRAGMENT = 0x7fffffff;

/** Per-run facts from the sizing pass, reused by the writing pass. */
interface RunPlan {
  run: TrackRun;
  bytes: number;
  /** 0: no composition offsets, 1: unsigned (trun v0), 2: some negative (trun v1). */
  cto: 0 | 1 | 2;
}

/**
 * Writes one fragment. `buffer(size)` gives the memory to write into (default: a new array); the
 * recorder passes a view of one scratch buffer it reuses, so a camera's second of video is not
 * one more large allocation for the garbage collector (it seals the fragment at once).
 */
export function mediaFragment(sequenceNumber: number, runs: readonly TrackRun[], buffer?: (size: number) => Uint8Array): Uint8Array {
  if (!isU32(sequenceNumber)) throw new TypeError(`sequenceNumber ${sequenceNumber} is not a 32-bit unsigned integer`);
  const plans: RunPlan[] = [];
  let moofSize = 8 + MFHD;
  let dataSize = 0;
  for (const run of runs) {
    if (run.samples.length === 0) continue; // a traf with an empty trun only confuses readers
    const plan = planRun(run);
    plans.push(plan);
    moofSize += TRAF_FIXED + run.samples.length * (plan.cto ? 16 : 12);
    dataSize += plan.bytes;
  }
  const total = moofSize + 8 + dataSize;
  if (total > MAX_FRAGMENT) throw new TypeError(`fragment of ${total} bytes exceeds the 2 GiB a trun data offset can address`);

  const w = new ByteWriter(buffer ? buffer(total) : total);
  const moof = w.box('moof');
  const mfhd = w.fullBox('mfhd', 0, 0);
  w.u32(sequenceNumber);
  w.end(mfhd);
  let dataOffset = moofSize + 8; // first run's data starts after the mdat header
  for (const plan of plans) {
    traf(w, plan, dataOffset);
    dataOffset += plan.bytes;
  }
  w.end(moof);
  w.u32(8 + dataSize);
  w.fourcc('mdat');
  for (const plan of plans) for (const d of plan.run.data) w.bytes(d);
  return w.finish();
}

function traf(w: ByteWriter, { run, cto }: RunPlan, dataOffset: number): void {
  const start = w.box('traf');
  const tfhd = w.fullBox('tfhd', 0, DEFAULT_BASE_IS_MOOF);
  w.u32(run.trackId);
  w.end(tfhd);
  const tfdt = w.fullBox('tfdt', 1, 0);
  w.u64(run.baseDecodeTime);
  w.end(tfdt);
  const flags = DATA_OFFSET | SAMPLE_DURATION | SAMPLE_SIZE | SAMPLE_FLAGS | (cto ? SAMPLE_CTO : 0);
  const trun = w.fullBox('trun', cto === 2 ? 1 : 0, flags);
  const samples = run.samples;
  w.u32(samples.length);
  w.i32(dataOffset);
  for (const s of samples) {
    w.u32(s.duration);
    w.u32(s.size);
    w.u32(s.keyframe ? SYNC_FLAGS : NON_SYNC_FLAGS);
    if (cto === 2) w.i32(s.compositionOffset ?? 0);
    else if (cto === 1) w.u32(s.compositionOffset ?? 0);
  }
  w.end(trun);
  w.end(start);
}

/** Validates a run (programmer errors: the recorder builds runs itself) and sizes it. */
function planRun(run: TrackRun): RunPlan {
  const { trackId, baseDecodeTime, samples, data } = run;
  if (!isU32(trackId) || trackId === 0) throw new TypeError(`trackId ${trackId} is not a positive 32-bit integer`);
  if (!Number.isSafeInteger(baseDecodeTime) || baseDecodeTime < 0) {
    throw new TypeError(`track ${trackId}: baseDecodeTime ${baseDecodeTime} is not a non-negative safe integer`);
  }
  if (data.length !== samples.length) throw new TypeError(`track ${trackId}: ${samples.length} samples but ${data.length} data entries`);
  let bytes = 0;
  let cto: 0 | 1 | 2 = 0;
  for (let i = 0; i < samples.length; i++) {
    const s: Sample = samples[i]!;
    const d = data[i]!;
    if (s.size !== d.length) throw new TypeError(`track ${trackId} sample ${i}: size ${s.size} but ${d.length} data bytes`);
    if (!isU32(s.duration)) throw new TypeError(`track ${trackId} sample ${i}: duration ${s.duration} is not a 32-bit unsigned integer`);
    const c = s.compositionOffset;
    if (c !== undefined) {
      if (!Number.isInteger(c) || c < -0x80000000 || c > 0xffffffff) throw new TypeError(`track ${trackId} sample ${i}: compositionOffset ${c} does not fit 32 bits`);
      if (c < 0) cto = 2;
      else if (cto === 0) cto = 1;
    }
    bytes += d.length;
  }
  if (cto === 2) {
    for (const s of samples) {
      if ((s.compositionOffset ?? 0) > 0x7fffffff) throw new TypeError(`track ${trackId}: composition offsets mix negatives with values over 2^31`);
    }
  }
  return { run, bytes, cto };
}

function isU32(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}
