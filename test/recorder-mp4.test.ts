// recorder/mp4: round trips through our own parser, whole box trees and field bytes compared,
// real decoders (ffprobe/ffmpeg) on files muxed from the camera's H.264 + Opus fixtures and from a
// VP8 clip, ffmpeg's own fragmented output through our parser, and malformed input.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ensureAudioFixture, ensureVideoFixture, NalType, nalType, opusPacketSamples, parseAnnexB, parseOggOpus, type AccessUnit } from '../camera/index.ts';
import {
  initSegment,
  mediaFragment,
  Mp4FormatError,
  parseBoxes,
  parseFragment,
  parseInit,
  type Box,
  type H264Track,
  type OpusTrack,
  type ParsedFragment,
  type Sample,
  type Track,
  type TrackRun,
  type Vp8Track,
} from '../recorder/mp4/index.ts';

const run = promisify(execFile);
const bytes = (...b: number[]) => new Uint8Array(b);
const hex = (a: Uint8Array) => Buffer.from(a).toString('hex');
const isMp4Error = (code?: string) => (e: unknown) => e instanceof Mp4FormatError && (code === undefined || e.code === code);

const SPS = bytes(0x67, 0x42, 0xc0, 0x1f, 0xd9); // constrained baseline, level 3.1
const PPS = bytes(0x68, 0xcb, 0x8c, 0xb2);
const H264: H264Track = { id: 1, kind: 'video', codec: 'h264', timescale: 90000, width: 320, height: 180, sps: SPS, pps: PPS };
const OPUS: OpusTrack = { id: 2, kind: 'audio', codec: 'opus', timescale: 48000, channels: 2, sampleRate: 48000, preSkip: 312 };
const VP8: Vp8Track = { id: 7, kind: 'video', codec: 'vp8', timescale: 90000, width: 160, height: 120 };

/** Every box as a slash-separated path, in file order: a whole tree in one comparable value. */
function paths(boxes: readonly Box[], prefix = ''): string[] {
  return boxes.flatMap((b) => [prefix + b.type, ...paths(b.children ?? [], `${prefix}${b.type}/`)]);
}

function find(boxes: readonly Box[], route: string): Box {
  let list = boxes;
  let found: Box | undefined;
  for (const type of route.split('/')) {
    found = list.find((b) => b.type === type);
    if (!found) throw new Error(`no ${route}`);
    list = found.children ?? [];
  }
  return found!;
}

/** Payload of a box (after its header). */
function payload(file: Uint8Array, box: Box): Uint8Array {
  return file.subarray(box.start + box.headerSize, box.start + box.size);
}

/** Deterministic bytes (xorshift32), so fuzz failures reproduce. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

function filled(n: number, seed: number): Uint8Array {
  const next = prng(seed);
  return Uint8Array.from({ length: n }, () => next() & 0xff);
}

function runOf(trackId: number, baseDecodeTime: number, data: Uint8Array[], duration: number, keyframes: (i: number) => boolean, extra: Partial<Sample>[] = []): TrackRun {
  const samples = data.map((d, i): Sample => ({ duration, size: d.length, keyframe: keyframes(i), ...extra[i] }));
  return { trackId, baseDecodeTime, samples, data };
}

/** Expected parse of a fragment: offsets follow moof + mdat header, runs in order. */
function expectedParse(sequenceNumber: number, runs: readonly TrackRun[], frag: Uint8Array): ParsedFragment {
  const mdat = parseBoxes(frag).find((b) => b.type === 'mdat')!;
  let offset = mdat.start + 8;
  return {
    sequenceNumber,
    runs: runs
      .filter((r) => r.samples.length > 0)
      .map((r) => ({
        trackId: r.trackId,
        baseDecodeTime: r.baseDecodeTime,
        samples: r.samples.map((s) => {
          const parsed = { ...s, offset };
          offset += s.size;
          return parsed;
        }),
      })),
  };
}

// ---------------------------------------------------------------------------------------------
// Round trips and layout

test('initSegment → parseInit gives back the tracks', () => {
  const table: [string, Track[]][] = [
    ['H.264 + Opus', [H264, OPUS]],
    ['Opus first, mono', [{ ...OPUS, id: 5, channels: 1, preSkip: 0, sampleRate: 16000 }, { ...H264, id: 9 }]],
    ['VP8 + Opus', [VP8, OPUS]],
    ['H.264 alone, 1080p', [{ ...H264, width: 1920, height: 1080 }]],
    ['Opus alone', [OPUS]],
  ];
  for (const [name, tracks] of table) assert.equal(parseInit(initSegment(tracks)), tracks, name);
});

test('init segment box tree', () => {
  const init = initSegment([H264, OPUS]);
  const trak = (entry: string[], mhd: string) => [
    'trak',
    'trak/tkhd',
    'trak/mdia',
    'trak/mdia/mdhd',
    'trak/mdia/hdlr',
    'trak/mdia/minf',
    `trak/mdia/minf/${mhd}`,
    'trak/mdia/minf/dinf',
    'trak/mdia/minf/dinf/dref',
    'trak/mdia/minf/dinf/dref/url ',
    'trak/mdia/minf/stbl',
    'trak/mdia/minf/stbl/stsd',
    ...entry.map((e) => `trak/mdia/minf/stbl/stsd/${e}`),
    'trak/mdia/minf/stbl/stts',
    'trak/mdia/minf/stbl/stsc',
    'trak/mdia/minf/stbl/stsz',
    'trak/mdia/minf/stbl/stco',
  ];
  assert.equal(paths(parseBoxes(init)), [
    'ftyp',
    'moov',
    'moov/mvhd',
    ...trak(['avc1', 'avc1/avcC'], 'vmhd').map((p) => `moov/${p}`),
    ...trak(['Opus', 'Opus/dOps'], 'smhd').map((p) => `moov/${p}`),
    'moov/mvex',
    'moov/mvex/trex',
    'moov/mvex/trex',
  ]);
  const boxes = parseBoxes(init);
  assert.is(hex(payload(init, boxes[0]!)), hex(new TextEncoder().encode('iso6\0\0\0\0iso6cmfcisommp41')));
  const mvhd = payload(init, find(boxes, 'moov/mvhd'));
  assert.is(new DataView(mvhd.buffer, mvhd.byteOffset).getUint32(16), 0, 'duration 0');
  assert.is(new DataView(mvhd.buffer, mvhd.byteOffset).getUint32(96), 3, 'next_track_ID');
});

test('avcC: profile, compatibility and level from the SPS; 4-byte NAL lengths', () => {
  // [name, SPS, expected avcC payload]
  const table: [string, Uint8Array, string][] = [
    ['constrained baseline 3.1', SPS, '0142c01fffe10005' + hex(SPS) + '010004' + hex(PPS)],
    // High 4.0: sps_id ue 0, chroma_format_idc ue 1 (4:2:0), bit depths ue 0 → 1 010 1 1 → 0xac…
    ['high 4:2:0 8-bit', bytes(0x67, 0x64, 0x00, 0x28, 0xae), '01640028ffe10005' + '67640028ae' + '010004' + hex(PPS) + 'fdf8f800'],
    // High 4:2:2: chroma_format_idc 2, both depths 10 (ue 2 each) → 1 011 011 011 1 → 0xb6 0xe0
    ['high 4:2:2 10-bit', bytes(0x67, 0x7a, 0x00, 0x1f, 0xb6, 0xe0), '017a001fffe10006' + '677a001fb6e0' + '010004' + hex(PPS) + 'fefafa00'],
  ];
  for (const [name, sps, expected] of table) {
    const init = initSegment([{ ...H264, sps }]);
    const avcC = payload(init, find(parseBoxes(init), 'moov/trak/mdia/minf/stbl/stsd/avc1/avcC'));
    assert.is(hex(avcC), expected, name);
    assert.equal(parseInit(init), [{ ...H264, sps }], `${name} round trip`);
  }
  assert.throws(() => initSegment([{ ...H264, sps: bytes(0x67, 0x64, 0x00, 0x28) }]), isMp4Error('truncated'), 'High SPS cut before chroma_format_idc');
});

test('vpcC, Opus sample entry and dOps fields', () => {
  const init = initSegment([VP8, { ...OPUS, channels: 1, preSkip: 3840, sampleRate: 44100 }]);
  const boxes = parseBoxes(init);
  // FullBox version 1; profile 0, level 10 (160x120 ≤ level 1), 8-bit 4:2:0 colocated, BT.709, no init data
  assert.is(hex(payload(init, find(boxes, 'moov/trak/mdia/minf/stbl/stsd/vp08/vpcC'))), '01000000' + '000a' + '82' + '010101' + '0000');
  const vp08 = find(boxes, 'moov/trak/mdia/minf/stbl/stsd/vp08');
  assert.is(hex(init.subarray(vp08.start + 8 + 24, vp08.start + 8 + 28)), '00a00078', 'vp08 width, height');
  const audioTrak = find(boxes, 'moov').children!.filter((b) => b.type === 'trak')[1]!;
  const opus = find(audioTrak.children!, 'mdia/minf/stbl/stsd/Opus');
  const entry = init.subarray(opus.start + 8 + 16, opus.start + 8 + 28);
  assert.is(hex(entry), '0001' + '0010' + '00000000' + 'bb800000', 'channelcount 1, samplesize 16, samplerate 48000<<16');
  // Version 0, 1 channel, PreSkip 3840, InputSampleRate 44100, OutputGain 0, family 0 (big-endian)
  assert.is(hex(payload(init, find(opus.children!, 'dOps'))), '00' + '01' + '0f00' + '0000ac44' + '0000' + '00');
});

test('mediaFragment → parseFragment: samples, offsets and 64-bit decode times', () => {
  const video = [filled(4000, 1), filled(900, 2), filled(1200, 3)];
  const audio = Array.from({ length: 5 }, (_, i) => filled(60 + i, 10 + i));
  const table: [string, number, TrackRun[]][] = [
    ['video + audio from 0', 1, [runOf(1, 0, video, 3000, (i) => i === 0), runOf(2, 0, audio, 960, () => true)]],
    ['decode times over 2^32', 0xffffffff, [runOf(1, 2 ** 32 + 12345, video, 3000, () => false), runOf(2, 2 ** 40 + 7, audio, 960, () => true)]],
    ['largest safe decode time', 42, [runOf(2, Number.MAX_SAFE_INTEGER, audio, 960, () => true)]],
    ['audio before video, odd durations', 3, [runOf(2, 48000, audio, 1, () => true), runOf(1, 90000, video, 0xffffffff, (i) => i !== 1)]],
    ['no runs at all', 5, []],
  ];
  for (const [name, seq, runs] of table) {
    const frag = mediaFragment(seq, runs);
    const parsed = parseFragment(frag);
    assert.equal(parsed, expectedParse(seq, runs, frag), name);
    const flat = runs.flatMap((r) => r.data);
    parsed.runs.flatMap((r) => r.samples).forEach((s, i) => assert.is(hex(frag.subarray(s.offset, s.offset + s.size)), hex(flat[i]!), `${name}: sample ${i} bytes`));
  }
});

test('moof layout: tfhd default-base-is-moof, tfdt v1, trun flags, sample flags', () => {
  const frag = mediaFragment(9, [runOf(1, 2 ** 33, [bytes(1, 2), bytes(3), bytes(4, 5, 6)], 3000, (i) => i === 0)]);
  const boxes = parseBoxes(frag);
  assert.equal(paths(boxes), ['moof', 'moof/mfhd', 'moof/traf', 'moof/traf/tfhd', 'moof/traf/tfdt', 'moof/traf/trun', 'mdat']);
  assert.is(hex(payload(frag, find(boxes, 'moof/mfhd'))), '00000000' + '00000009');
  assert.is(hex(payload(frag, find(boxes, 'moof/traf/tfhd'))), '00020000' + '00000001');
  assert.is(hex(payload(frag, find(boxes, 'moof/traf/tfdt'))), '01000000' + '0000000200000000');
  const moofSize = boxes[0]!.size;
  assert.is(
    hex(payload(frag, find(boxes, 'moof/traf/trun'))),
    '00000701' + '00000003' + (moofSize + 8).toString(16).padStart(8, '0') +
      '00000bb8' + '00000002' + '02000000' + // sync: depends_on 2
      '00000bb8' + '00000001' + '01010000' + // depends_on 1, is_non_sync
      '00000bb8' + '00000003' + '01010000',
  );
  assert.is(hex(payload(frag, boxes[1]!)), '010203040506');
});

test('runs with zero samples are omitted', () => {
  const runs = [runOf(1, 100, [], 3000, () => true), runOf(2, 200, [bytes(9, 9)], 960, () => true)];
  const frag = mediaFragment(1, runs);
  assert.is(paths(parseBoxes(frag)).filter((p) => p === 'moof/traf').length, 1);
  assert.equal(parseFragment(frag), expectedParse(1, runs, frag));
});

test('composition offsets: trun v0 when all are ≥ 0, v1 with negatives, absent when unused', () => {
  const data = [bytes(1), bytes(2), bytes(3)];
  const table: [string, Partial<Sample>[], number | undefined][] = [
    ['none', [], undefined],
    ['unsigned', [{ compositionOffset: 6000 }, { compositionOffset: 0 }, { compositionOffset: 0xfffffff0 }], 0],
    ['signed', [{ compositionOffset: -3000 }, { compositionOffset: 3000 }, {}], 1],
  ];
  for (const [name, extra, version] of table) {
    const runs = [runOf(1, 0, data, 3000, () => true, extra)];
    const frag = mediaFragment(1, runs);
    const trun = payload(frag, find(parseBoxes(frag), 'moof/traf/trun'));
    assert.is(trun[0], version ?? 0, `${name}: trun version`);
    assert.is((trun[2]! & 0x08) !== 0, version !== undefined, `${name}: composition offsets present`);
    const expected = expectedParse(1, runs, frag);
    // Once any sample has an offset every sample carries one, so a missing one reads back as 0.
    if (version !== undefined) for (const s of expected.runs[0]!.samples) s.compositionOffset ??= 0;
    assert.equal(parseFragment(frag), expected, name);
  }
});

test('writer misuse throws TypeError', () => {
  const ok = runOf(1, 0, [bytes(1, 2)], 3000, () => true);
  const frag: [string, () => unknown][] = [
    ['size not matching data', () => mediaFragment(1, [{ ...ok, samples: [{ duration: 1, size: 3, keyframe: true }] }])],
    ['data count not matching samples', () => mediaFragment(1, [{ ...ok, data: [] }])],
    ['negative decode time', () => mediaFragment(1, [{ ...ok, baseDecodeTime: -1 }])],
    ['fractional decode time', () => mediaFragment(1, [{ ...ok, baseDecodeTime: 1.5 }])],
    ['decode time past 2^53', () => mediaFragment(1, [{ ...ok, baseDecodeTime: 2 ** 53 }])],
    ['track id 0', () => mediaFragment(1, [{ ...ok, trackId: 0 }])],
    ['sequence number over 32 bits', () => mediaFragment(2 ** 32, [ok])],
    ['negative duration', () => mediaFragment(1, [{ ...ok, samples: [{ duration: -1, size: 2, keyframe: true }] }])],
    ['no tracks', () => initSegment([])],
    ['duplicate track ids', () => initSegment([H264, { ...OPUS, id: 1 }])],
    ['6 Opus channels', () => initSegment([{ ...OPUS, channels: 6 }])],
    ['PPS given as SPS', () => initSegment([{ ...H264, sps: PPS }])],
    ['width over 16 bits', () => initSegment([{ ...VP8, width: 70000 }])],
    ['timescale 0', () => initSegment([{ ...OPUS, timescale: 0 }])],
  ];
  for (const [name, fn] of frag) assert.throws(fn, (e: unknown) => e instanceof TypeError, name);
});

// ---------------------------------------------------------------------------------------------
// Malformed input

const INIT = initSegment([H264, OPUS]);
const FRAG = mediaFragment(3, [
  runOf(1, 2 ** 32 + 1, [filled(300, 4), filled(20, 5)], 3000, (i) => i === 0),
  runOf(2, 77, [filled(40, 6), filled(41, 7)], 960, () => true),
]);

test('every truncation throws Mp4FormatError (parseBoxes except at top-level box ends)', () => {
  for (const [name, file, parse] of [
    ['init', INIT, parseInit],
    ['fragment', FRAG, parseFragment],
  ] as const) {
    const ends = new Set(parseBoxes(file).map((b) => b.start + b.size));
    for (let cut = 1; cut < file.length; cut++) {
      const part = file.subarray(0, cut);
      assert.throws(() => parse(part), isMp4Error(), `${name} ${parse.name} cut at ${cut}`);
      if (!ends.has(cut)) assert.throws(() => parseBoxes(part), isMp4Error('truncated'), `${name} parseBoxes cut at ${cut}`);
    }
  }
});

test('garbage throws Mp4FormatError', () => {
  const box = (type: string, body: Uint8Array, size = 8 + body.length) => {
    const out = new Uint8Array(8 + body.length);
    new DataView(out.buffer).setUint32(0, size);
    out.set(new TextEncoder().encode(type), 4);
    out.set(body, 8);
    return out;
  };
  const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
  const nested = (depth: number): Uint8Array => (depth === 0 ? new Uint8Array(0) : box('moov', nested(depth - 1)));
  const trunBody = (count: number) => concat(bytes(0, 0, 0x02, 0x01), bytes(count >>> 24, (count >> 16) & 255, (count >> 8) & 255, count & 255), new Uint8Array(4));
  const traf = (trun: Uint8Array) =>
    box('traf', concat(box('tfhd', bytes(0, 2, 0, 0, 0, 0, 0, 1)), box('tfdt', new Uint8Array(8)), trun));
  const mfhd = box('mfhd', new Uint8Array(8));
  // [name, input, parser, code]
  const table: [string, Uint8Array, (b: Uint8Array) => unknown, string][] = [
    ['text', new TextEncoder().encode('this is not an mp4 file at all, just words'), parseBoxes, 'truncated'],
    ['zero bytes', new Uint8Array(64), parseBoxes, 'malformed'],
    ['fewer than 8 bytes', bytes(0, 0, 0, 8, 0x6d), parseBoxes, 'truncated'],
    ['size below header', box('free', new Uint8Array(8), 4), parseBoxes, 'malformed'],
    ['size past the end', box('free', new Uint8Array(8), 100), parseBoxes, 'truncated'],
    ['64-bit size cut off', bytes(0, 0, 0, 1, 0x66, 0x72, 0x65, 0x65, 0, 0), parseBoxes, 'truncated'],
    ['64-bit size over 2^53', concat(bytes(0, 0, 0, 1), new TextEncoder().encode('free'), bytes(0xff, 0, 0, 0, 0, 0, 0, 16)), parseBoxes, 'malformed'],
    ['control characters in type', box('mo\u0001v', new Uint8Array(4)), parseBoxes, 'malformed'],
    ['child overruns container', box('moov', box('mvhd', new Uint8Array(4), 40)), parseBoxes, 'truncated'],
    ['nested 100 deep', nested(100), parseBoxes, 'malformed'],
    ['stsd shorter than its entry count', box('stsd', bytes(0, 0, 0)), parseBoxes, 'truncated'],
    ['init given to parseFragment', INIT, parseFragment, 'missing_box'],
    ['fragment given to parseInit', FRAG, parseInit, 'missing_box'],
    ['empty input to parseFragment', new Uint8Array(0), parseFragment, 'missing_box'],
    ['two moofs', concat(FRAG, FRAG), parseFragment, 'unsupported'],
    ['moof without mfhd', concat(box('moof', traf(box('trun', trunBody(0)))), box('mdat', new Uint8Array(0))), parseFragment, 'missing_box'],
    ['trun claims 2^32-1 samples', concat(box('moof', concat(mfhd, traf(box('trun', trunBody(0xffffffff))))), box('mdat', new Uint8Array(0))), parseFragment, 'truncated'],
    ['2^32-1 samples, all fields defaulted', concat(box('moof', concat(mfhd, box('traf', concat(box('tfhd', bytes(0, 2, 0, 0x10, 0, 0, 0, 1, 0, 0, 0, 0)), box('tfdt', new Uint8Array(8)), box('trun', bytes(0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff)))))), box('mdat', new Uint8Array(0))), parseFragment, 'malformed'],
    ['sample data outside the mdat', concat(box('moof', concat(mfhd, traf(box('trun', concat(trunBody(1).subarray(0, 8), bytes(0, 0, 0, 0), bytes(0, 0, 0, 4)))))), box('mdat', new Uint8Array(4))), parseFragment, 'malformed'],
    ['unknown codec', (() => {
      const init = Uint8Array.from(INIT);
      const avc1 = find(parseBoxes(init), 'moov/trak/mdia/minf/stbl/stsd/avc1');
      init.set(new TextEncoder().encode('hvc2'), avc1.start + 4);
      return init;
    })(), parseInit, 'unsupported'],
  ];
  for (const [name, input, parse, code] of table) assert.throws(() => parse(input), isMp4Error(code), name);
  for (let seed = 1; seed <= 200; seed++) {
    const noise = filled(32 + (seed % 97) * 13, seed);
    for (const parse of [parseBoxes, parseInit, parseFragment]) assert.throws(() => parse(noise), isMp4Error(), `noise seed ${seed} ${parse.name}`);
  }
});

test('corrupted bytes raise Mp4FormatError or parse, never another error', () => {
  const next = prng(99);
  for (const [file, parse] of [
    [INIT, parseInit],
    [FRAG, parseFragment],
  ] as const) {
    for (let i = 0; i < 3000; i++) {
      const copy = Uint8Array.from(file);
      for (let k = 1 + (next() % 3); k > 0; k--) copy[next() % copy.length] = next() & 0xff;
      try {
        parse(copy);
      } catch (e) {
        if (!(e instanceof Mp4FormatError)) throw new Error(`${parse.name} threw ${String(e)} on corrupted input ${hex(copy)}`);
      }
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Real decoders

const FPS = 30;
const SECONDS = 4;
/** Far into a recording, so the video tfdt needs 64 bits (50 000 s × 90 kHz > 2^32). */
const LATE_START = 50_000;

interface Probe {
  streams: { codec_name: string; codec_type: string; width?: number; height?: number; nb_read_frames?: string; start_time?: string; duration?: string; channels?: number }[];
  format: { duration?: string; start_time?: string };
}

async function probe(file: string): Promise<Probe> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-count_frames', '-of', 'json', file]);
  return JSON.parse(stdout) as Probe;
}

/** stderr of a full decode to nothing: any output means a decode error or demuxer warning. */
async function decodeErrors(file: string): Promise<string> {
  const { stderr } = await run('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-f', 'null', '-']);
  return stderr;
}

/** Access unit → AVCC sample: 4-byte lengths, parameter sets and AUDs left out (they live in the avcC). */
function toAvcc(au: AccessUnit): Uint8Array {
  const nalus = au.nalus.filter((n) => ![NalType.sps, NalType.pps, NalType.aud].includes(nalType(n) as 7 | 8 | 9));
  const out = new Uint8Array(nalus.reduce((sum, n) => sum + 4 + n.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const n of nalus) {
    view.setUint32(at, n.length);
    out.set(n, at + 4);
    at += 4 + n.length;
  }
  return out;
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-mp4-'));
  try {
    return await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

interface Muxed {
  file: Uint8Array;
  video: { track: H264Track; samples: Uint8Array[] };
  audio: { track: OpusTrack; packets: Uint8Array[] };
}

/** The camera fixtures muxed as a recorder would: one init segment, then one fragment per second. */
async function muxFixtures(startSeconds: number): Promise<Muxed> {
  const videoFile = await ensureVideoFixture({ width: 320, height: 180, fps: FPS, kbps: 300, seconds: SECONDS, profile: 'baseline' });
  const audioFile = await ensureAudioFixture({ seconds: SECONDS, kbps: 32 });
  const units = parseAnnexB(await fs.readFile(videoFile));
  const ogg = parseOggOpus(await fs.readFile(audioFile));
  const first = units[0]!;
  const sps = first.nalus.find((n) => nalType(n) === NalType.sps)!;
  const pps = first.nalus.find((n) => nalType(n) === NalType.pps)!;
  const video: H264Track = { id: 1, kind: 'video', codec: 'h264', timescale: 90000, width: 320, height: 180, sps, pps };
  const audio: OpusTrack = { id: 2, kind: 'audio', codec: 'opus', timescale: 48000, channels: ogg.channels, sampleRate: 48000, preSkip: ogg.preSkip };
  const samples = units.map(toAvcc);

  const parts = [initSegment([video, audio])];
  let audioIndex = 0;
  let audioTime = 0; // ticks since the start, 48 kHz
  const fragments = Math.ceil(units.length / FPS);
  for (let k = 0; k < fragments; k++) {
    const vFrom = k * FPS;
    const vTo = Math.min(units.length, vFrom + FPS);
    const vRun: TrackRun = {
      trackId: video.id,
      baseDecodeTime: startSeconds * 90000 + vFrom * 3000,
      samples: units.slice(vFrom, vTo).map((u, i) => ({ duration: 3000, size: samples[vFrom + i]!.length, keyframe: u.keyframe })),
      data: samples.slice(vFrom, vTo),
    };
    // Audio packets whose decode time falls in this second; the last fragment takes the rest.
    const aStart = audioTime;
    const aSamples: Sample[] = [];
    const aData: Uint8Array[] = [];
    while (audioIndex < ogg.packets.length && (k === fragments - 1 || audioTime < (k + 1) * 48000)) {
      const packet = ogg.packets[audioIndex++]!;
      const duration = opusPacketSamples(packet);
      aSamples.push({ duration, size: packet.length, keyframe: true });
      aData.push(packet);
      audioTime += duration;
    }
    const aRun: TrackRun = { trackId: audio.id, baseDecodeTime: startSeconds * 48000 + aStart, samples: aSamples, data: aData };
    parts.push(mediaFragment(k + 1, [vRun, aRun]));
  }
  const file = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    file.set(p, at);
    at += p.length;
  }
  return { file, video: { track: video, samples }, audio: { track: audio, packets: ogg.packets } };
}

for (const startSeconds of [0, LATE_START]) {
  test(`H.264 + Opus from the camera fixtures, starting at ${startSeconds} s: ffprobe and ffmpeg decode it`, async () => {
    const muxed = await muxFixtures(startSeconds);
    assert.is(muxed.video.samples.length, FPS * SECONDS, 'fixture access units');
    assert.is(muxed.video.track.sps[1], 66, 'baseline SPS');
    await withTempDir(async (dir) => {
      const file = path.join(dir, 'av.mp4');
      await fs.writeFile(file, muxed.file);
      const info = await probe(file);
      const v = info.streams.find((s) => s.codec_type === 'video')!;
      const a = info.streams.find((s) => s.codec_type === 'audio')!;
      assert.is(v.codec_name, 'h264');
      assert.is(a.codec_name, 'opus');
      assert.is(v.width, 320);
      assert.is(v.height, 180);
      assert.is(a.channels, muxed.audio.track.channels);
      assert.is(Number(v.nb_read_frames), muxed.video.samples.length, 'every access unit decodes to a frame');
      assert.is(Number(a.nb_read_frames), muxed.audio.packets.length, 'every Opus packet decodes');
      const vStart = Number(v.start_time);
      const aStart = Number(a.start_time);
      assert.ok(Math.abs(vStart - startSeconds) < 1e-6, `video starts at its tfdt (${vStart})`);
      assert.ok(Math.abs(aStart - vStart) <= 0.05, `audio starts within 50 ms of video (${aStart} vs ${vStart})`);
      // Without an edit list ffmpeg counts a track's duration from time 0, i.e. it reports the end time.
      const duration = Number(v.duration) - vStart;
      assert.ok(Math.abs(duration - muxed.video.samples.length / FPS) <= 1 / FPS, `video duration ${v.duration} from ${vStart}`);
      assert.is(await decodeErrors(file), '');
    });
  });
}

test("ffmpeg's own fragmented remux of our file parses back to the same samples", async () => {
  const muxed = await muxFixtures(LATE_START);
  await withTempDir(async (dir) => {
    const ours = path.join(dir, 'ours.mp4');
    const theirs = path.join(dir, 'theirs.mp4');
    await fs.writeFile(ours, muxed.file);
    await run('ffmpeg', ['-nostdin', '-v', 'error', '-i', ours, '-c', 'copy', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', theirs]);
    const file = new Uint8Array(await fs.readFile(theirs));
    const tracks = parseInit(file);
    const video = tracks.find((t): t is H264Track => t.codec === 'h264')!;
    const audio = tracks.find((t): t is OpusTrack => t.codec === 'opus')!;
    assert.is(hex(video.sps), hex(muxed.video.track.sps));
    assert.is(hex(video.pps), hex(muxed.video.track.pps));
    assert.is([video.width, video.height].join('x'), '320x180');
    assert.is(audio.channels, muxed.audio.track.channels);
    assert.is(audio.preSkip, muxed.audio.track.preSkip);

    // One moof + mdat at a time, as a reader of stored fragments would pass them.
    const got = new Map<number, { data: string[]; durations: Set<number>; keyframes: number }>();
    const boxes = parseBoxes(file);
    for (let i = 0; i < boxes.length; i++) {
      if (boxes[i]!.type !== 'moof') continue;
      const mdat = boxes[i + 1]!;
      const fragment = file.subarray(boxes[i]!.start, mdat.start + mdat.size);
      for (const r of parseFragment(fragment).runs) {
        const track = tracks.find((t) => t.id === r.trackId)!;
        const entry = got.get(track.kind === 'video' ? 1 : 2) ?? { data: [], durations: new Set(), keyframes: 0 };
        got.set(track.kind === 'video' ? 1 : 2, entry);
        for (const s of r.samples) {
          entry.data.push(hex(fragment.subarray(s.offset, s.offset + s.size)));
          entry.durations.add((s.duration * (track.kind === 'video' ? 90000 : 48000)) / track.timescale);
          if (s.keyframe) entry.keyframes++;
        }
      }
    }
    assert.equal(got.get(1)!.data, muxed.video.samples.map(hex), 'video samples byte for byte');
    assert.is(got.get(1)!.keyframes, SECONDS, 'one keyframe per second');
    assert.equal(got.get(2)!.data, muxed.audio.packets.map(hex), 'audio packets byte for byte');
    assert.equal([...got.get(1)!.durations], [3000], 'video durations');
    assert.equal([...got.get(2)!.durations], [960], 'audio durations');
  });
});

interface IvfFrame {
  data: Uint8Array;
  keyframe: boolean;
}

/** IVF: 32-byte file header ('DKIF', version, header size, fourcc, size, timebase, count), then 12-byte frame headers (LE size, LE pts). */
function parseIvf(file: Uint8Array): { fourcc: string; width: number; height: number; frames: IvfFrame[] } {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  assert.is(new TextDecoder().decode(file.subarray(0, 4)), 'DKIF');
  const headerSize = view.getUint16(6, true);
  const frames: IvfFrame[] = [];
  for (let at = headerSize; at + 12 <= file.length; ) {
    const size = view.getUint32(at, true);
    const data = file.subarray(at + 12, at + 12 + size);
    assert.is(data.length, size, 'IVF frame complete');
    frames.push({ data, keyframe: (data[0]! & 1) === 0 }); // VP8 frame tag: bit 0 clear = key frame
    at += 12 + size;
  }
  return { fourcc: new TextDecoder().decode(file.subarray(8, 12)), width: view.getUint16(12, true), height: view.getUint16(14, true), frames };
}

test('VP8: a libvpx clip muxed into fMP4 is read by ffprobe and decodes cleanly', async () => {
  await withTempDir(async (dir) => {
    const ivfPath = path.join(dir, 'clip.ivf');
    await run('ffmpeg', ['-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-t', '1', '-c:v', 'libvpx', '-f', 'ivf', ivfPath]);
    const ivf = parseIvf(new Uint8Array(await fs.readFile(ivfPath)));
    assert.is(ivf.fourcc, 'VP80');
    assert.is(ivf.frames.length, 10);
    assert.ok(ivf.frames[0]!.keyframe, 'starts with a key frame');
    const track: Vp8Track = { id: 1, kind: 'video', codec: 'vp8', timescale: 90000, width: ivf.width, height: ivf.height };
    const runs: TrackRun[] = [
      {
        trackId: 1,
        baseDecodeTime: 0,
        samples: ivf.frames.map((f) => ({ duration: 9000, size: f.data.length, keyframe: f.keyframe })),
        data: ivf.frames.map((f) => f.data),
      },
    ];
    const init = initSegment([track]);
    const frag = mediaFragment(1, runs);
    assert.equal(parseInit(init), [track]);
    const mp4 = path.join(dir, 'vp8.mp4');
    await fs.writeFile(mp4, Buffer.concat([init, frag]));
    const info = await probe(mp4);
    const v = info.streams[0]!;
    assert.is(info.streams.length, 1);
    assert.is(v.codec_name, 'vp8');
    assert.is(`${v.width}x${v.height}`, '160x120');
    assert.is(Number(v.nb_read_frames), 10);
    assert.is(await decodeErrors(mp4), '');
  });
});

test.run();
