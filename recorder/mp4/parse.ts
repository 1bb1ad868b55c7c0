// Readers for what init.ts and fragment.ts write, and for the usual variations other muxers
// (ffmpeg) produce: defaults in tfhd, first_sample_flags, several truns, 64-bit sizes.
// Every read is bounds-checked, so bad input raises Mp4FormatError and never a RangeError.
import { Mp4FormatError } from './errors.ts';
import type { Box, H264Track, OpusTrack, ParsedFragment, ParsedRun, ParsedSample, Track, Vp8Track } from './types.ts';

const TWO_32 = 2 ** 32;
// Nesting in real files is under 10 levels; the limit stops crafted input from exhausting the stack.
const MAX_DEPTH = 16;

// Boxes the walker descends into, with the bytes of fixed fields before their children.
const AUDIO_ENTRY_FIELDS = 28;
const CONTAINERS: ReadonlyMap<string, number> = new Map([
  ...['moov', 'trak', 'mdia', 'minf', 'stbl', 'mvex', 'moof', 'traf', 'dinf', 'edts', 'mfra'].map((t) => [t, 0] as const),
  ['stsd', 8], // FullBox header + entry_count
  ['dref', 8],
  ...['avc1', 'avc3', 'vp08', 'vp09', 'hvc1', 'hev1', 'av01', 'encv'].map((t) => [t, 78] as const),
  ...['Opus', 'mp4a', 'fLaC', 'enca'].map((t) => [t, AUDIO_ENTRY_FIELDS] as const),
]);

/** The box tree of `bytes`, descending into the containers above; throws on any box that does not fit. */
export function parseBoxes(bytes: Uint8Array): Box[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return walk(bytes, view, 0, bytes.length, 0);
}

function walk(bytes: Uint8Array, view: DataView, start: number, end: number, depth: number): Box[] {
  if (depth > MAX_DEPTH) throw new Mp4FormatError('malformed', `boxes nested over ${MAX_DEPTH} deep at byte ${start}`);
  const boxes: Box[] = [];
  let at = start;
  while (at < end) {
    if (end - at < 8) throw new Mp4FormatError('truncated', `box header at byte ${at} cut off after ${end - at} bytes`);
    const type = boxType(bytes, at);
    let size = view.getUint32(at);
    let headerSize = 8;
    if (size === 1) {
      if (end - at < 16) throw new Mp4FormatError('truncated', `64-bit size of '${type}' at byte ${at} cut off`);
      const hi = view.getUint32(at + 8);
      if (hi > 0x1fffff) throw new Mp4FormatError('malformed', `'${type}' at byte ${at} claims over 2^53 bytes`);
      size = hi * TWO_32 + view.getUint32(at + 12);
      headerSize = 16;
    } else if (size === 0) {
      size = end - at; // extends to the end of its container (of the file, at top level)
    }
    if (type === 'uuid') headerSize += 16;
    if (size < headerSize) throw new Mp4FormatError('malformed', `'${type}' at byte ${at} has size ${size}, less than its header`);
    if (size > end - at) {
      throw new Mp4FormatError('truncated', `'${type}' at byte ${at} needs ${size} bytes, ${end - at} left in its ${depth ? 'container' : 'input'}`);
    }
    const box: Box = { type, start: at, size, headerSize };
    let fields = CONTAINERS.get(type);
    if (fields !== undefined) {
      if (fields === AUDIO_ENTRY_FIELDS && size >= headerSize + 10) {
        // QuickTime sound description versions 1 and 2 add 16 and 36 bytes of fields.
        const version = view.getUint16(at + headerSize + 8);
        fields += version === 1 ? 16 : version === 2 ? 36 : 0;
      }
      const childStart = at + headerSize + fields;
      if (childStart > at + size) throw new Mp4FormatError('truncated', `'${type}' at byte ${at} is shorter than its fixed fields`);
      box.children = walk(bytes, view, childStart, at + size, depth + 1);
    }
    boxes.push(box);
    at += size;
  }
  return boxes;
}

/** Box types are printable ASCII (© in iTunes metadata); anything else means we are reading garbage. */
function boxType(bytes: Uint8Array, at: number): string {
  let type = '';
  for (let i = 4; i < 8; i++) {
    const c = bytes[at + i]!;
    if ((c < 0x20 || c > 0x7e) && c !== 0xa9) throw new Mp4FormatError('malformed', `no box type at byte ${at + 4} (byte 0x${c.toString(16)})`);
    type += String.fromCharCode(c);
  }
  return type;
}

/** Bounds-checked big-endian reads over one box's payload. */
class Fields {
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  readonly #end: number;
  readonly #type: string;
  at: number;

  constructor(bytes: Uint8Array, box: Box, skip = 0) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#type = box.type;
    this.at = box.start + box.headerSize + skip;
    this.#end = box.start + box.size;
  }

  #need(n: number): number {
    const at = this.at;
    if (at + n > this.#end) throw new Mp4FormatError('truncated', `'${this.#type}' box ends before its fields do`);
    this.at = at + n;
    return at;
  }

  u8(): number {
    return this.#bytes[this.#need(1)]!;
  }
  u16(): number {
    return this.#view.getUint16(this.#need(2));
  }
  u32(): number {
    return this.#view.getUint32(this.#need(4));
  }
  i32(): number {
    return this.#view.getInt32(this.#need(4));
  }
  u64(): number {
    const at = this.#need(8);
    const hi = this.#view.getUint32(at);
    if (hi > 0x1fffff) throw new Mp4FormatError('unsupported', `'${this.#type}' holds a 64-bit value over 2^53`);
    return hi * TWO_32 + this.#view.getUint32(at + 4);
  }
  /** Version and flags of a FullBox. */
  full(): { version: number; flags: number } {
    const v = this.u32();
    return { version: v >>> 24, flags: v & 0xffffff };
  }
  skip(n: number): void {
    this.#need(n);
  }
  /** A copy, so parsed tracks do not keep the whole input alive. */
  bytes(n: number): Uint8Array {
    const at = this.#need(n);
    return this.#bytes.slice(at, at + n);
  }
}

function child(parent: Box, type: string): Box | undefined {
  return parent.children?.find((b) => b.type === type);
}

function required(parent: Box, type: string): Box {
  const box = child(parent, type);
  if (!box) throw new Mp4FormatError('missing_box', `'${parent.type}' at byte ${parent.start} has no '${type}'`);
  return box;
}

// ---------------------------------------------------------------------------------------------
// Initialization segment

/** Tracks of an init segment, in trak order: the inverse of initSegment(). */
export function parseInit(bytes: Uint8Array): Track[] {
  const moov = parseBoxes(bytes).find((b) => b.type === 'moov');
  if (!moov) throw new Mp4FormatError('missing_box', 'no moov box: not an initialization segment');
  const traks = moov.children!.filter((b) => b.type === 'trak');
  if (traks.length === 0) throw new Mp4FormatError('missing_box', 'moov has no trak');
  return traks.map((trak) => parseTrak(bytes, trak));
}

function parseTrak(bytes: Uint8Array, trak: Box): Track {
  const tkhd = new Fields(bytes, required(trak, 'tkhd'));
  const tkhdVersion = tkhd.full().version;
  tkhd.skip(tkhdVersion === 1 ? 16 : 8); // creation, modification time
  const id = tkhd.u32();
  tkhd.skip(4 + (tkhdVersion === 1 ? 8 : 4) + 8 + 8 + 36); // reserved, duration, reserved, layer..volume, matrix
  const tkhdWidth = tkhd.u32() >>> 16; // 16.16 fixed point
  const tkhdHeight = tkhd.u32() >>> 16;

  const mdia = required(trak, 'mdia');
  const mdhd = new Fields(bytes, required(mdia, 'mdhd'));
  mdhd.skip(mdhd.full().version === 1 ? 16 : 8);
  const timescale = mdhd.u32();
  if (timescale === 0) throw new Mp4FormatError('malformed', `track ${id} has timescale 0`);

  const stsd = required(required(required(mdia, 'minf'), 'stbl'), 'stsd');
  const entry = stsd.children?.[0];
  if (!entry) throw new Mp4FormatError('missing_box', `track ${id} has no sample entry`);
  switch (entry.type) {
    case 'avc1':
    case 'avc3': {
      const { width, height } = visualSize(bytes, entry, tkhdWidth, tkhdHeight);
      const { sps, pps } = parseAvcC(bytes, required(entry, 'avcC'));
      const track: H264Track = { id, kind: 'video', codec: 'h264', timescale, width, height, sps, pps };
      return track;
    }
    case 'vp08': {
      const { width, height } = visualSize(bytes, entry, tkhdWidth, tkhdHeight);
      const track: Vp8Track = { id, kind: 'video', codec: 'vp8', timescale, width, height };
      return track;
    }
    case 'Opus': {
      const dops = new Fields(bytes, required(entry, 'dOps'));
      const version = dops.u8();
      if (version !== 0) throw new Mp4FormatError('unsupported', `track ${id}: dOps version ${version}`);
      const channels = dops.u8();
      const preSkip = dops.u16();
      const sampleRate = dops.u32();
      const track: OpusTrack = { id, kind: 'audio', codec: 'opus', timescale, channels, sampleRate, preSkip };
      return track;
    }
    default:
      throw new Mp4FormatError('unsupported', `track ${id} has codec '${entry.type}' (only avc1, vp08, Opus)`);
  }
}

/** Width and height from the VisualSampleEntry, falling back to tkhd when the entry says 0. */
function visualSize(bytes: Uint8Array, entry: Box, tkhdWidth: number, tkhdHeight: number): { width: number; height: number } {
  const f = new Fields(bytes, entry, 24); // reserved, data_reference_index, pre_defined, reserved
  const width = f.u16();
  const height = f.u16();
  return { width: width || tkhdWidth, height: height || tkhdHeight };
}

/** First SPS and first PPS of an AVCDecoderConfigurationRecord. */
function parseAvcC(bytes: Uint8Array, box: Box): { sps: Uint8Array; pps: Uint8Array } {
  const f = new Fields(bytes, box);
  const version = f.u8();
  if (version !== 1) throw new Mp4FormatError('unsupported', `avcC configurationVersion ${version}`);
  f.skip(3); // profile, compatibility, level: copies of SPS bytes 1–3
  f.u8(); // lengthSizeMinusOne
  const spsCount = f.u8() & 0x1f;
  const sps: Uint8Array[] = [];
  for (let i = 0; i < spsCount; i++) sps.push(f.bytes(f.u16()));
  const ppsCount = f.u8();
  const pps: Uint8Array[] = [];
  for (let i = 0; i < ppsCount; i++) pps.push(f.bytes(f.u16()));
  if (!sps[0] || !pps[0]) throw new Mp4FormatError('malformed', 'avcC holds no SPS or no PPS');
  return { sps: sps[0], pps: pps[0] };
}

// ---------------------------------------------------------------------------------------------
// Media fragment

// tfhd flags
const BASE_DATA_OFFSET = 0x000001;
const SAMPLE_DESCRIPTION_INDEX = 0x000002;
const DEFAULT_DURATION = 0x000008;
const DEFAULT_SIZE = 0x000010;
const DEFAULT_FLAGS = 0x000020;
const DEFAULT_BASE_IS_MOOF = 0x020000;
// trun flags
const DATA_OFFSET = 0x000001;
const FIRST_SAMPLE_FLAGS = 0x000004;
const SAMPLE_DURATION = 0x000100;
const SAMPLE_SIZE = 0x000200;
const SAMPLE_FLAGS = 0x000400;
const SAMPLE_CTO = 0x000800;
const NON_SYNC = 0x00010000;

/**
 * Samples of one moof + mdat: the inverse of mediaFragment(). Bytes may start with styp/sidx/prft
 * and must hold exactly one moof. Values absent from both trun and tfhd take the trex defaults
 * this module and ffmpeg write (duration 0, sync flags); an absent size cannot be guessed and throws.
 */
export function parseFragment(bytes: Uint8Array): ParsedFragment {
  const boxes = parseBoxes(bytes);
  const moofs = boxes.filter((b) => b.type === 'moof');
  if (moofs.length === 0) throw new Mp4FormatError('missing_box', 'no moof box: not a media fragment');
  if (moofs.length > 1) throw new Mp4FormatError('unsupported', `${moofs.length} moof boxes: pass one fragment at a time`);
  const moof = moofs[0]!;
  const mdats = boxes.filter((b) => b.type === 'mdat');

  const mfhd = new Fields(bytes, required(moof, 'mfhd'));
  mfhd.full();
  const sequenceNumber = mfhd.u32();

  const runs: ParsedRun[] = [];
  let previousEnd = moof.start; // implicit base of a traf without base offsets
  for (const traf of moof.children!) {
    if (traf.type !== 'traf') continue;
    const tfhdBox = required(traf, 'tfhd');
    const tfhd = new Fields(bytes, tfhdBox);
    const tf = tfhd.full().flags;
    const trackId = tfhd.u32();
    let base = tf & DEFAULT_BASE_IS_MOOF ? moof.start : previousEnd;
    if (tf & BASE_DATA_OFFSET) base = tfhd.u64(); // absolute, counted from the start of `bytes`
    if (tf & SAMPLE_DESCRIPTION_INDEX) tfhd.skip(4);
    const defaultDuration = tf & DEFAULT_DURATION ? tfhd.u32() : 0;
    const defaultSize = tf & DEFAULT_SIZE ? tfhd.u32() : undefined;
    const defaultFlags = tf & DEFAULT_FLAGS ? tfhd.u32() : 0;

    const tfdtBox = required(traf, 'tfdt');
    const tfdt = new Fields(bytes, tfdtBox);
    const baseDecodeTime = tfdt.full().version === 1 ? tfdt.u64() : tfdt.u32();

    const samples: ParsedSample[] = [];
    let pos = base;
    for (const box of traf.children!) {
      if (box.type !== 'trun') continue;
      const trun = new Fields(bytes, box);
      const { version, flags } = trun.full();
      const count = trun.u32();
      if (flags & DATA_OFFSET) pos = base + trun.i32();
      const firstFlags = flags & FIRST_SAMPLE_FLAGS ? trun.u32() : undefined;
      // Each sample needs this many bytes of the trun; check once so a huge count fails fast.
      const perSample = 4 * (((flags >> 8) & 1) + ((flags >> 9) & 1) + ((flags >> 10) & 1) + ((flags >> 11) & 1));
      if (count * perSample > box.start + box.size - trun.at) throw new Mp4FormatError('truncated', `trun of track ${trackId} lists ${count} samples it has no room for`);
      // With every field defaulted a trun is 20 bytes whatever its count; bound the loop by the input.
      if (count > bytes.length) throw new Mp4FormatError('malformed', `trun of track ${trackId} lists ${count} samples in ${bytes.length} bytes`);
      for (let i = 0; i < count; i++) {
        const duration = flags & SAMPLE_DURATION ? trun.u32() : defaultDuration;
        const size = flags & SAMPLE_SIZE ? trun.u32() : defaultSize;
        if (size === undefined) throw new Mp4FormatError('missing_box', `track ${trackId}: no sample size in trun or tfhd`);
        let sampleFlags = flags & SAMPLE_FLAGS ? trun.u32() : defaultFlags;
        if (i === 0 && firstFlags !== undefined) sampleFlags = firstFlags;
        const sample: ParsedSample = { duration, size, keyframe: (sampleFlags & NON_SYNC) === 0, offset: pos };
        if (flags & SAMPLE_CTO) sample.compositionOffset = version === 0 ? trun.u32() : trun.i32();
        checkInMdat(bytes, mdats, pos, size, trackId);
        samples.push(sample);
        pos += size;
      }
    }
    previousEnd = pos;
    runs.push({ trackId, baseDecodeTime, samples });
  }
  return { sequenceNumber, runs };
}

function checkInMdat(bytes: Uint8Array, mdats: readonly Box[], offset: number, size: number, trackId: number): void {
  for (const m of mdats) {
    if (offset >= m.start + m.headerSize && offset + size <= m.start + m.size) return;
  }
  const past = offset + size > bytes.length;
  throw new Mp4FormatError(
    past ? 'truncated' : 'malformed',
    `track ${trackId}: sample data at bytes ${offset}..${offset + size} is ${past ? 'past the end of the input' : 'outside every mdat'}`,
  );
}
