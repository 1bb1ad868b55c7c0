// A progressive ("faststart") MP4 header: ftyp + moov with complete sample tables, then the header
// of the one mdat that follows. The caller streams the mdat payload itself, chunk by chunk in the
// order given here, so a file of any length is written without holding its media in memory.
//
//   const { header, payloadBytes } = progressiveHeader({ tracks, chunks, movieTimescale: 1000, creationTimeMs });
//   write(header); for (const chunk of chunks) write(the chunk's samples, in order);
//
// Chunk offsets (stco, or co64 once the file passes 4 GiB) follow from the header size and the
// chunk order, so the header describes the payload exactly. Pure and synchronous.
import { checkTracks, ftyp, ftypSize, hdlr, hdlrSize, mdhd, mdhdSize, minfHead, minfHeadSize, mvhd, mvhdSize, stsd, stsdSize, tkhd, tkhdSize, type HeaderTimes } from './init.ts';
import type { Track } from './types.ts';
import { ByteWriter } from './writer.ts';

// isom: the base format; iso2 for the edit lists' semantics; avc1 and mp41 for older players.
const BRANDS = ['isom', 'iso2', 'avc1', 'mp41'] as const;
// Seconds from the MP4 epoch (1904-01-01 UTC) to the Unix epoch.
const EPOCH_1904_S = 2_082_844_800;
const U32_MAX = 0xffffffff;

/** One entry of a track's edit list (14496-12 8.6.6). */
export interface ProgressiveEdit {
  /** Start of the edit in the track's media (composition) time, in its timescale; -1 for an empty edit (nothing shown). */
  mediaTime: number;
  /** Length of the edit in the movie timescale. */
  duration: number;
}

export interface ProgressiveTrack {
  /** Gives the sample entry, track_ID, timescale and (video) the presentation size. */
  track: Track;
  /** Per sample, in the track's timescale; their sum is the media duration. */
  durations: ArrayLike<number>;
  /** Per sample, bytes in the mdat. */
  sizes: ArrayLike<number>;
  /** Per sample, nonzero for a sync sample. Ignored for audio (every Opus packet is one). */
  keyframes: ArrayLike<number>;
  /** Per sample, presentation minus decode time; absent means all zero. */
  compositionOffsets?: ArrayLike<number>;
  /** Empty means the whole media from time 0 (no edts box). */
  edits: readonly ProgressiveEdit[];
}

/** `samples` consecutive samples of tracks[track], stored together. */
export interface ProgressiveChunk {
  track: number;
  samples: number;
}

export interface ProgressiveMovie {
  tracks: readonly ProgressiveTrack[];
  /** Every track's samples, cut into chunks, in the order they follow each other in the mdat. */
  chunks: readonly ProgressiveChunk[];
  /** Of mvhd, tkhd and edit durations. */
  movieTimescale: number;
  /** Written as creation and modification time (ms since the Unix epoch). */
  creationTimeMs: number;
}

export interface ProgressiveHeader {
  /** ftyp + moov + the mdat's box header: the payload follows directly. */
  header: Uint8Array;
  /** Bytes of mdat payload the header promises (the sum of all sample sizes). */
  payloadBytes: number;
  /** header.length + payloadBytes. */
  fileBytes: number;
}

/** Run-length coded (count, value) pairs, as stts and ctts want them. */
function runLength(values: ArrayLike<number>, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (out.length > 0 && out[out.length - 1] === v) out[out.length - 2]! += 1;
    else out.push(1, v);
  }
  return out;
}

/** Everything about one track that sizing and writing share. */
interface TrackPlan {
  t: ProgressiveTrack;
  count: number;
  mediaDuration: number;
  editDuration: number;
  stts: number[];
  /** 0: no ctts; 1: version 0 (all ≥ 0); 2: version 1 (some negative). */
  ctts: 0 | 1 | 2;
  cttsRuns: number[];
  /** Indices (from 1) of sync samples; undefined when every sample is one (stss omitted). */
  stss: number[] | undefined;
  /** (first chunk from 1, samples per chunk) pairs. */
  stsc: number[];
  /** Constant sample size, or 0 when stsz lists every size. */
  constantSize: number;
  /** Byte offset of each chunk within the mdat payload; made absolute once the header size is known. */
  chunkOffsets: number[];
  elstVersion: 0 | 1;
  times: HeaderTimes;
}

export function progressiveHeader(movie: ProgressiveMovie): ProgressiveHeader {
  const { tracks, chunks, movieTimescale, creationTimeMs } = movie;
  checkTracks(tracks.map((t) => t.track));
  if (!Number.isInteger(movieTimescale) || movieTimescale <= 0 || movieTimescale > U32_MAX) throw new TypeError(`movieTimescale ${movieTimescale} is not a positive 32-bit integer`);
  if (!Number.isFinite(creationTimeMs)) throw new TypeError(`creationTimeMs ${creationTimeMs} is not a time`);
  const creationTime = Math.max(0, Math.floor(creationTimeMs / 1000) + EPOCH_1904_S);

  const plans = tracks.map((t) => planTrack(t, creationTime, movieTimescale));
  // Chunk offsets within the payload, in mdat order, checking the chunks cover every sample once.
  const next = tracks.map(() => 0);
  let payloadBytes = 0;
  for (const c of chunks) {
    const plan = plans[c.track];
    if (!plan) throw new TypeError(`chunk names track ${c.track}, but there are ${tracks.length}`);
    if (!Number.isInteger(c.samples) || c.samples <= 0) throw new TypeError(`chunk of track ${c.track} has ${c.samples} samples`);
    const from = next[c.track]!;
    if (from + c.samples > plan.count) throw new TypeError(`chunks of track ${c.track} hold more than its ${plan.count} samples`);
    plan.chunkOffsets.push(payloadBytes);
    const stsc = plan.stsc;
    if (stsc.length === 0 || stsc[stsc.length - 1] !== c.samples) stsc.push(plan.chunkOffsets.length, c.samples);
    for (let i = from; i < from + c.samples; i++) payloadBytes += plan.t.sizes[i]!;
    next[c.track] = from + c.samples;
  }
  plans.forEach((p, i) => {
    if (next[i] !== p.count) throw new TypeError(`chunks hold ${next[i]} of track ${i}'s ${p.count} samples`);
  });

  const movieDuration = Math.max(0, ...plans.map((p) => p.editDuration));
  const movieTimes: HeaderTimes = { creationTime, duration: movieDuration };
  const largeMdat = 8 + payloadBytes > U32_MAX;
  const mdatHeader = largeMdat ? 16 : 8;
  let moovSize = 8 + mvhdSize(movieTimes);
  for (const p of plans) moovSize += trakSize(p, false);
  // stco holds 32-bit offsets: switch every track to co64 when the file's end does not fit.
  const co64 = ftypSize(BRANDS) + moovSize + mdatHeader + payloadBytes > U32_MAX;
  if (co64) {
    moovSize = 8 + mvhdSize(movieTimes);
    for (const p of plans) moovSize += trakSize(p, true);
  }
  const headerSize = ftypSize(BRANDS) + moovSize + mdatHeader;

  const w = new ByteWriter(headerSize);
  ftyp(w, BRANDS);
  const moov = w.box('moov');
  mvhd(w, movieTimescale, Math.max(...tracks.map((t) => t.track.id)) + 1, movieTimes);
  for (const p of plans) trak(w, p, headerSize, co64);
  w.end(moov);
  if (largeMdat) {
    w.u32(1);
    w.fourcc('mdat');
    w.u64(16 + payloadBytes);
  } else {
    w.u32(8 + payloadBytes);
    w.fourcc('mdat');
  }
  return { header: w.finish(), payloadBytes, fileBytes: headerSize + payloadBytes };
}

function planTrack(t: ProgressiveTrack, creationTime: number, movieTimescale: number): TrackPlan {
  const id = t.track.id;
  const count = t.sizes.length;
  if (t.durations.length !== count || t.keyframes.length !== count || (t.compositionOffsets && t.compositionOffsets.length !== count)) {
    throw new TypeError(`track ${id}: sample tables differ in length`);
  }
  if (count === 0) throw new TypeError(`track ${id} has no samples; leave it out`);
  let mediaDuration = 0;
  let constantSize = t.sizes[0]!;
  let syncAll = true;
  for (let i = 0; i < count; i++) {
    const d = t.durations[i]!;
    const s = t.sizes[i]!;
    if (!isU32(d)) throw new TypeError(`track ${id} sample ${i}: duration ${d} is not a 32-bit unsigned integer`);
    if (!isU32(s)) throw new TypeError(`track ${id} sample ${i}: size ${s} is not a 32-bit unsigned integer`);
    mediaDuration += d;
    if (s !== constantSize) constantSize = 0;
    if (!t.keyframes[i]) syncAll = false;
  }
  let stss: number[] | undefined;
  if (t.track.kind === 'video' && !syncAll) {
    stss = [];
    for (let i = 0; i < count; i++) if (t.keyframes[i]) stss.push(i + 1);
  }
  let ctts: 0 | 1 | 2 = 0;
  let cttsRuns: number[] = [];
  const cto = t.compositionOffsets;
  if (cto) {
    for (let i = 0; i < count; i++) {
      const c = cto[i]!;
      if (!Number.isInteger(c) || c < -0x80000000 || c > 0x7fffffff) throw new TypeError(`track ${id} sample ${i}: composition offset ${c} does not fit 31 bits`);
      if (c < 0) ctts = 2;
      else if (c > 0 && ctts === 0) ctts = 1;
    }
    if (ctts) cttsRuns = runLength(cto, count);
  }
  let editDuration = 0;
  let elstVersion: 0 | 1 = 0;
  for (const e of t.edits) {
    if (!Number.isSafeInteger(e.duration) || e.duration < 0) throw new TypeError(`track ${id}: edit duration ${e.duration} is not a non-negative integer`);
    if (!Number.isSafeInteger(e.mediaTime) || e.mediaTime < -1) throw new TypeError(`track ${id}: edit media time ${e.mediaTime} is not an integer ≥ -1`);
    editDuration += e.duration;
    if (e.duration > U32_MAX || e.mediaTime > 0x7fffffff) elstVersion = 1;
  }
  if (t.edits.length === 0) editDuration = Math.round((mediaDuration * movieTimescale) / t.track.timescale);
  return {
    t,
    count,
    mediaDuration,
    editDuration,
    stts: runLength(t.durations, count),
    ctts,
    cttsRuns,
    stss,
    stsc: [],
    constantSize,
    chunkOffsets: [],
    elstVersion,
    times: { creationTime, duration: mediaDuration },
  };
}

function trakSize(p: TrackPlan, co64: boolean): number {
  const { t } = p;
  const edts = t.edits.length ? 8 + 16 + t.edits.length * (p.elstVersion ? 20 : 12) : 0;
  let stbl = 8 + stsdSize(t.track);
  stbl += 16 + 4 * p.stts.length; // stts: 8 bytes per (count, delta) pair
  if (p.ctts) stbl += 16 + 4 * p.cttsRuns.length;
  if (p.stss) stbl += 16 + 4 * p.stss.length;
  stbl += 16 + 6 * p.stsc.length; // 12 bytes per entry, two numbers of stsc[] each
  stbl += 20 + (p.constantSize ? 0 : 4 * p.count);
  stbl += 16 + p.chunkOffsets.length * (co64 ? 8 : 4);
  const tkhdTimes = trackTimes(p);
  return 8 + tkhdSize(tkhdTimes) + edts + 8 + mdhdSize(p.times) + hdlrSize(t.track) + minfHeadSize(t.track) + stbl;
}

/** tkhd's duration is in the movie timescale: the edits' total (or the media's when there are none). */
function trackTimes(p: TrackPlan): HeaderTimes {
  return { creationTime: p.times.creationTime, duration: p.editDuration };
}

function trak(w: ByteWriter, p: TrackPlan, headerSize: number, co64: boolean): void {
  const { t } = p;
  const trak = w.box('trak');
  tkhd(w, t.track, trackTimes(p));
  if (t.edits.length) {
    const edts = w.box('edts');
    const elst = w.fullBox('elst', p.elstVersion, 0);
    w.u32(t.edits.length);
    for (const e of t.edits) {
      if (p.elstVersion) {
        w.u64(e.duration);
        if (e.mediaTime < 0) {
          w.i32(-1); // 64-bit -1: both halves all ones
          w.i32(-1);
        } else {
          w.u64(e.mediaTime);
        }
      } else {
        w.u32(e.duration);
        w.i32(e.mediaTime);
      }
      w.u16(1); // media_rate_integer: normal speed
      w.u16(0);
    }
    w.end(elst);
    w.end(edts);
  }
  const mdia = w.box('mdia');
  mdhd(w, t.track.timescale, p.times);
  hdlr(w, t.track);
  const minf = minfHead(w, t.track);
  const stbl = w.box('stbl');
  stsd(w, t.track);

  const stts = w.fullBox('stts', 0, 0);
  w.u32(p.stts.length / 2);
  for (const v of p.stts) w.u32(v);
  w.end(stts);

  if (p.ctts) {
    const ctts = w.fullBox('ctts', p.ctts === 2 ? 1 : 0, 0);
    w.u32(p.cttsRuns.length / 2);
    for (let i = 0; i < p.cttsRuns.length; i += 2) {
      w.u32(p.cttsRuns[i]!);
      w.i32(p.cttsRuns[i + 1]!); // unsigned in version 0, but every value here is below 2^31
    }
    w.end(ctts);
  }

  if (p.stss) {
    const stss = w.fullBox('stss', 0, 0);
    w.u32(p.stss.length);
    for (const n of p.stss) w.u32(n);
    w.end(stss);
  }

  const stsc = w.fullBox('stsc', 0, 0);
  w.u32(p.stsc.length / 2);
  for (let i = 0; i < p.stsc.length; i += 2) {
    w.u32(p.stsc[i]!);
    w.u32(p.stsc[i + 1]!);
    w.u32(1); // sample_description_index: the one entry
  }
  w.end(stsc);

  const stsz = w.fullBox('stsz', 0, 0);
  w.u32(p.constantSize);
  w.u32(p.count);
  if (!p.constantSize) for (let i = 0; i < p.count; i++) w.u32(t.sizes[i]!);
  w.end(stsz);

  const stco = w.fullBox(co64 ? 'co64' : 'stco', 0, 0);
  w.u32(p.chunkOffsets.length);
  for (const offset of p.chunkOffsets) {
    if (co64) w.u64(headerSize + offset);
    else w.u32(headerSize + offset);
  }
  w.end(stco);

  w.end(stbl);
  w.end(minf);
  w.end(mdia);
  w.end(trak);
}

function isU32(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= U32_MAX;
}
