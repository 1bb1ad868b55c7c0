// The initialization segment: ftyp + moov describing every track, with empty sample tables and
// an mvex, since all samples live in movie fragments. Box layout after hls.js mp4-generator.ts.
// The header and sample-entry writers are exported for progressive.ts, which writes the same
// boxes with real durations and sample tables.
import { avcC, avcCSize } from './avc.ts';
import { Mp4FormatError } from './errors.ts';
import type { OpusTrack, Track } from './types.ts';
import { ByteWriter } from './writer.ts';

// iso6: tfdt v1 and default-base-is-moof; cmfc: CMAF. mp41/isom for older readers.
const BRANDS = ['iso6', 'cmfc', 'isom', 'mp41'] as const;
// Movie timescale: only mvhd/tkhd durations use it, and those are 0 in a fragmented file.
const MOVIE_TIMESCALE = 1000;
const VIDEO_HANDLER = 'VideoHandler';
const SOUND_HANDLER = 'SoundHandler';
// Unity transformation matrix (14496-12 8.2.2).
const MATRIX = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000] as const;

// Fixed box sizes, header included.
const FTYP = ftypSize(BRANDS);
const EMPTY_TABLES = 16 + 16 + 20 + 16; // stts, stsc, stsz, stco
const TREX = 32;
const VISUAL_ENTRY = 86; // VisualSampleEntry without its child boxes
const AUDIO_ENTRY = 36; // AudioSampleEntry without its child boxes
const VPCC = 20;
const DOPS = 19;
/** vmhd or smhd */
const VMHD = 20;
const SMHD = 16;
export const DINF = 36; // dinf > dref > 'url ' (self-contained)

/** Durations and creation time of a movie's headers: zero in an init segment, real in a progressive file. */
export interface HeaderTimes {
  /** Seconds since 1904-01-01 UTC (the MP4 epoch). */
  creationTime: number;
  /** In the timescale of the box it goes in. */
  duration: number;
}

const NO_TIMES: HeaderTimes = { creationTime: 0, duration: 0 };

/** ftyp + moov for the given tracks, ready to precede mediaFragment() output. */
export function initSegment(tracks: readonly Track[]): Uint8Array {
  checkTracks(tracks);
  const nextTrackId = Math.max(...tracks.map((t) => t.id)) + 1;
  let moovSize = 8 + mvhdSize(NO_TIMES) + 8 + TREX * tracks.length;
  for (const track of tracks) moovSize += trakSize(track);
  const w = new ByteWriter(FTYP + moovSize);
  ftyp(w, BRANDS);
  const moov = w.box('moov');
  mvhd(w, MOVIE_TIMESCALE, nextTrackId, NO_TIMES);
  for (const track of tracks) trak(w, track);
  const mvex = w.box('mvex');
  for (const track of tracks) trex(w, track.id);
  w.end(mvex);
  w.end(moov);
  return w.finish();
}

function trakSize(track: Track): number {
  const stbl = 8 + stsdSize(track) + EMPTY_TABLES;
  return 8 + tkhdSize(NO_TIMES) + 8 + mdhdSize(NO_TIMES) + hdlrSize(track) + minfHeadSize(track) + stbl;
}

/** stsd with the track's one sample entry. */
export function stsdSize(track: Track): number {
  return 16 + sampleEntrySize(track);
}

function sampleEntrySize(track: Track): number {
  switch (track.codec) {
    case 'h264':
      return VISUAL_ENTRY + avcCSize(track.sps, track.pps);
    case 'vp8':
      return VISUAL_ENTRY + VPCC;
    case 'opus':
      return AUDIO_ENTRY + DOPS;
  }
}

function handlerName(track: Track): string {
  return track.kind === 'video' ? VIDEO_HANDLER : SOUND_HANDLER;
}

export function ftypSize(brands: readonly string[]): number {
  return 16 + 4 * brands.length;
}

/** ftyp with brands[0] as the major brand, listed again among the compatible ones. */
export function ftyp(w: ByteWriter, brands: readonly string[]): void {
  const start = w.box('ftyp');
  w.fourcc(brands[0]!);
  w.u32(0); // minor_version
  for (const brand of brands) w.fourcc(brand);
  w.end(start);
}

/** Version 1 (64-bit times) only when a value needs it, so init segments stay byte-identical. */
const timesVersion = (t: HeaderTimes) => (t.creationTime > 0xffffffff || t.duration > 0xffffffff ? 1 : 0);

/** Creation and modification time: the same instant. */
function times(w: ByteWriter, version: number, creationTime: number): void {
  if (version === 1) {
    w.u64(creationTime);
    w.u64(creationTime);
  } else {
    w.u32(creationTime);
    w.u32(creationTime);
  }
}

function timeField(w: ByteWriter, version: number, v: number): void {
  if (version === 1) w.u64(v);
  else w.u32(v);
}

export function mvhdSize(t: HeaderTimes): number {
  return timesVersion(t) ? 120 : 108;
}

export function mvhd(w: ByteWriter, timescale: number, nextTrackId: number, t: HeaderTimes): void {
  const version = timesVersion(t);
  const start = w.fullBox('mvhd', version, 0);
  times(w, version, t.creationTime);
  w.u32(timescale);
  timeField(w, version, t.duration); // 0 while recording: unknown
  w.u32(0x00010000); // rate 1.0
  w.u16(0x0100); // volume 1.0
  w.zeros(10);
  for (const m of MATRIX) w.u32(m);
  w.zeros(24); // pre_defined
  w.u32(nextTrackId);
  w.end(start);
}

function trak(w: ByteWriter, track: Track): void {
  const start = w.box('trak');
  tkhd(w, track, NO_TIMES);
  const mdia = w.box('mdia');
  mdhd(w, track.timescale, NO_TIMES);
  hdlr(w, track);
  const minf = minfHead(w, track);
  stbl(w, track);
  w.end(minf);
  w.end(mdia);
  w.end(start);
}

export function tkhdSize(t: HeaderTimes): number {
  return timesVersion(t) ? 104 : 92;
}

/** tkhd; `t.duration` is in the movie timescale. */
export function tkhd(w: ByteWriter, track: Track, t: HeaderTimes): void {
  const version = timesVersion(t);
  const start = w.fullBox('tkhd', version, 0x000003); // enabled | in_movie
  times(w, version, t.creationTime);
  w.u32(track.id);
  w.zeros(4);
  timeField(w, version, t.duration);
  w.zeros(8);
  w.u16(0); // layer
  w.u16(0); // alternate_group
  w.u16(track.kind === 'audio' ? 0x0100 : 0); // volume
  w.zeros(2);
  for (const m of MATRIX) w.u32(m);
  w.u32(track.kind === 'video' ? track.width * 0x10000 : 0); // 16.16 fixed point
  w.u32(track.kind === 'video' ? track.height * 0x10000 : 0);
  w.end(start);
}

export function mdhdSize(t: HeaderTimes): number {
  return timesVersion(t) ? 44 : 32;
}

/** mdhd; `t.duration` is in the track's timescale. */
export function mdhd(w: ByteWriter, timescale: number, t: HeaderTimes): void {
  const version = timesVersion(t);
  const start = w.fullBox('mdhd', version, 0);
  times(w, version, t.creationTime);
  w.u32(timescale);
  timeField(w, version, t.duration);
  w.u16(0x55c4); // language 'und' (packed ISO-639-2/T)
  w.u16(0);
  w.end(start);
}

export function hdlrSize(track: Track): number {
  return 33 + handlerName(track).length;
}

export function hdlr(w: ByteWriter, track: Track): void {
  const start = w.fullBox('hdlr', 0, 0);
  w.u32(0); // pre_defined
  w.fourcc(track.kind === 'video' ? 'vide' : 'soun');
  w.zeros(12);
  const name = handlerName(track);
  for (let i = 0; i < name.length; i++) w.u8(name.charCodeAt(i));
  w.u8(0); // null-terminated
  w.end(start);
}

/** minf's header, its media header and dinf; the caller writes the stbl and ends the minf. */
export function minfHeadSize(track: Track): number {
  return 8 + (track.kind === 'video' ? VMHD : SMHD) + DINF;
}

/** Opens a minf and writes vmhd or smhd and dinf; returns the minf's start for end(). */
export function minfHead(w: ByteWriter, track: Track): number {
  const start = w.box('minf');
  if (track.kind === 'video') {
    const vmhd = w.fullBox('vmhd', 0, 1); // flags 1 is required by 14496-12
    w.zeros(8); // graphicsmode, opcolor
    w.end(vmhd);
  } else {
    const smhd = w.fullBox('smhd', 0, 0);
    w.zeros(4); // balance, reserved
    w.end(smhd);
  }
  dinf(w);
  return start;
}

function dinf(w: ByteWriter): void {
  const start = w.box('dinf');
  const dref = w.fullBox('dref', 0, 0);
  w.u32(1);
  const url = w.fullBox('url ', 0, 1); // flag 1: media data is in this file
  w.end(url);
  w.end(dref);
  w.end(start);
}

function stbl(w: ByteWriter, track: Track): void {
  const start = w.box('stbl');
  stsd(w, track);
  for (const type of ['stts', 'stsc']) {
    const box = w.fullBox(type, 0, 0);
    w.u32(0); // entry_count
    w.end(box);
  }
  const stsz = w.fullBox('stsz', 0, 0);
  w.u32(0); // sample_size
  w.u32(0); // sample_count
  w.end(stsz);
  const stco = w.fullBox('stco', 0, 0);
  w.u32(0);
  w.end(stco);
  w.end(start);
}

export function stsd(w: ByteWriter, track: Track): void {
  const stsd = w.fullBox('stsd', 0, 0);
  w.u32(1);
  sampleEntry(w, track);
  w.end(stsd);
}

function sampleEntry(w: ByteWriter, track: Track): void {
  switch (track.codec) {
    case 'h264': {
      const start = visualSampleEntry(w, 'avc1', track.width, track.height, '');
      avcC(w, track.sps, track.pps);
      w.end(start);
      return;
    }
    case 'vp8': {
      const start = visualSampleEntry(w, 'vp08', track.width, track.height, 'VPC Coding');
      vpcC(w, track.width, track.height);
      w.end(start);
      return;
    }
    case 'opus': {
      const start = opusSampleEntry(w, track);
      w.end(start);
      return;
    }
  }
}

/** Opens a VisualSampleEntry (14496-12 12.1.3) and writes its fixed fields; the caller adds the config box. */
function visualSampleEntry(w: ByteWriter, type: string, width: number, height: number, compressor: string): number {
  const start = w.box(type);
  w.zeros(6);
  w.u16(1); // data_reference_index
  w.zeros(16); // pre_defined, reserved
  w.u16(width);
  w.u16(height);
  w.u32(0x00480000); // 72 dpi
  w.u32(0x00480000);
  w.u32(0);
  w.u16(1); // frame_count
  w.u8(compressor.length); // compressorname: a length byte, then 31 bytes
  for (let i = 0; i < compressor.length; i++) w.u8(compressor.charCodeAt(i));
  w.zeros(31 - compressor.length);
  w.u16(0x0018); // depth: colour, no alpha
  w.u16(0xffff); // pre_defined = -1
  return start;
}

/** VP Codec ISO Media File Format Binding v1.0, version 1 record. */
function vpcC(w: ByteWriter, width: number, height: number): void {
  const start = w.fullBox('vpcC', 1, 0);
  w.u8(0); // profile 0: 8-bit 4:2:0, the only VP8 profile browsers send
  w.u8(vpLevel(width * height));
  w.u8((8 << 4) | (1 << 1) | 0); // bitDepth 8, chroma 4:2:0 colocated with luma (0,0), legal range
  w.u8(1); // BT.709 primaries, transfer, matrix: the binding's defaults
  w.u8(1);
  w.u8(1);
  w.u16(0); // codecInitializationDataSize: 0 for VP8
  w.end(start);
}

// Max luma picture size per level (VP9 bitstream spec annex A, used by the binding for all VP codecs).
const VP_LEVELS: readonly (readonly [level: number, maxPictureSize: number])[] = [
  [10, 36_864],
  [11, 73_728],
  [20, 122_880],
  [21, 245_760],
  [30, 552_960],
  [31, 983_040],
  [40, 2_228_224],
  [50, 8_912_896],
  [60, 35_651_584],
];

/** The lowest level the picture size fits; frame rate is unknown here, so this is a lower bound. */
function vpLevel(pictureSize: number): number {
  for (const [level, max] of VP_LEVELS) if (pictureSize <= max) return level;
  return 62;
}

/** AudioSampleEntry (14496-12 12.2.3) + dOps, per Encapsulation of Opus in ISOBMFF 4.3.1–4.3.2. */
function opusSampleEntry(w: ByteWriter, track: OpusTrack): number {
  const start = w.box('Opus');
  w.zeros(6);
  w.u16(1); // data_reference_index
  w.zeros(8); // reserved
  w.u16(track.channels); // channelcount = OutputChannelCount (the Opus binding requires them equal)
  w.u16(16); // samplesize
  w.zeros(4); // pre_defined, reserved
  w.u32(48000 * 0x10000); // samplerate 48000 in 16.16: Opus always decodes at 48 kHz
  const dops = w.box('dOps'); // a plain box, not a FullBox; big-endian unlike OpusHead
  w.u8(0); // Version
  w.u8(track.channels);
  w.u16(track.preSkip);
  w.u32(track.sampleRate); // InputSampleRate
  w.u16(0); // OutputGain
  w.u8(0); // ChannelMappingFamily 0: mono or stereo, no mapping table
  w.end(dops);
  return start;
}

/** Defaults for samples of this track; zero, because every trun this module writes is explicit. */
function trex(w: ByteWriter, trackId: number): void {
  const start = w.fullBox('trex', 0, 0);
  w.u32(trackId);
  w.u32(1); // default_sample_description_index
  w.zeros(12); // default duration, size, flags
  w.end(start);
}

const isU32 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
const isU16 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffff;

/** Programmer errors: the tracks come from the recorder's own negotiation, not from the wire. */
export function checkTracks(tracks: readonly Track[]): void {
  if (tracks.length === 0) throw new TypeError('an MP4 header needs at least one track');
  const ids = new Set<number>();
  for (const t of tracks) {
    if (!isU32(t.id) || t.id === 0 || t.id === 0xffffffff) throw new TypeError(`track id ${t.id} is not in 1..2^32-2`);
    if (ids.has(t.id)) throw new TypeError(`track id ${t.id} is used twice`);
    ids.add(t.id);
    if (!isU32(t.timescale) || t.timescale === 0) throw new TypeError(`track ${t.id}: timescale ${t.timescale} is not a positive 32-bit integer`);
    if (t.kind === 'video') {
      if (!isU16(t.width) || !isU16(t.height)) throw new TypeError(`track ${t.id}: size ${t.width}x${t.height} does not fit 16 bits`);
    }
    switch (t.codec) {
      case 'h264':
        if (t.sps.length < 4 || (t.sps[0]! & 0x1f) !== 7) throw new TypeError(`track ${t.id}: sps is not an SPS NAL unit`);
        if (t.pps.length < 2 || (t.pps[0]! & 0x1f) !== 8) throw new TypeError(`track ${t.id}: pps is not a PPS NAL unit`);
        if (t.sps.length > 0xffff || t.pps.length > 0xffff) throw new Mp4FormatError('malformed', `track ${t.id}: parameter set over 64 KiB`);
        break;
      case 'opus':
        if (t.channels !== 1 && t.channels !== 2) throw new TypeError(`track ${t.id}: ${t.channels} Opus channels need a mapping table (only 1 or 2 supported)`);
        if (!isU16(t.preSkip)) throw new TypeError(`track ${t.id}: preSkip ${t.preSkip} does not fit 16 bits`);
        if (!isU32(t.sampleRate)) throw new TypeError(`track ${t.id}: sampleRate ${t.sampleRate} does not fit 32 bits`);
        break;
      case 'vp8':
        break;
    }
  }
}
