// The recorder's RTP → frames layer: parseRtp on handmade packets, ReorderBuffer on a table of
// sequence-number cases, and the depacketizers on real ffmpeg output packetized by the camera's
// packetizers (H.264, Opus) or on handmade VP8 frames. Frames are compared whole against what the
// fixture file says they must be, byte for byte.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ensureAudioFixture, ensureVideoFixture, type VideoFixtureParams } from '../camera/fixtures.ts';
import { parseAnnexB, type AccessUnit } from '../camera/h264.ts';
import { opusPacketSamples, parseOggOpus } from '../camera/ogg.ts';
import { H264Packetizer, OpusPacketizer, rtpTimestamp, seqAdd } from '../camera/rtp.ts';
import {
  createDepacketizer,
  H264FrameDepacketizer,
  OpusDepacketizer,
  parseRtp,
  parseSps,
  ReorderBuffer,
  RtpFormatError,
  Vp8Depacketizer,
  type Frame,
  type H264Config,
  type ReorderBufferOptions,
  type RtpPacket,
  type VideoFrame,
  type Vp8Config,
} from '../recorder/rtp/index.ts';

// ---------------------------------------------------------------------------------------------
// Helpers

const SMALL: VideoFixtureParams = { width: 320, height: 180, fps: 30, kbps: 300, seconds: 2, profile: 'baseline' };
const LARGE: VideoFixtureParams = { width: 640, height: 360, fps: 30, kbps: 500, seconds: 2, profile: 'baseline' };
const HIGH: VideoFixtureParams = { width: 320, height: 180, fps: 30, kbps: 300, seconds: 1, profile: 'high' };
const TICKS_PER_FRAME = 3000; // 90 kHz at 30 fps
/** Small enough that every P-frame of SMALL is 1 to 4 packets and the IDRs many FU-A fragments. */
const MAX_PAYLOAD = 400;

const fixtures = new Map<VideoFixtureParams, AccessUnit[]>();
async function units(p: VideoFixtureParams): Promise<AccessUnit[]> {
  let u = fixtures.get(p);
  if (!u) {
    u = parseAnnexB(await fs.readFile(await ensureVideoFixture(p)));
    fixtures.set(p, u);
  }
  return u;
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex').slice(0, 16);

/** What a frame must be: AVCC written here independently (4-byte lengths, no SPS/PPS/AUD/filler). */
function avcc(nalus: readonly Uint8Array[]): Uint8Array {
  const kept = nalus.filter((n) => ![7, 8, 9, 12].includes(n[0]! & 0x1f));
  const out = Buffer.alloc(kept.reduce((s, n) => s + 4 + n.length, 0));
  let at = 0;
  for (const n of kept) {
    out.writeUInt32BE(n.length, at);
    out.set(n, at + 4);
    at += 4 + n.length;
  }
  return new Uint8Array(out);
}

interface Summary {
  timestamp: number;
  keyframe: boolean;
  data: string; // short hash: diffs stay readable
}

function summarize(frames: readonly Frame[]): Summary[] {
  return frames.map((f) => ({ timestamp: f.timestamp, keyframe: f.kind === 'video' && f.keyframe, data: sha(f.data) }));
}

interface Stream {
  packets: RtpPacket[];
  /** Access unit index of each packet. */
  unitOf: number[];
  /** What each access unit must come out as. */
  expected: Summary[];
}

function packetize(
  aus: readonly AccessUnit[],
  { sequenceNumber = 1000, timestampBase = 0x1234_5678, maxPayloadSize = MAX_PAYLOAD, firstTick = 0 } = {},
): Stream {
  const packetizer = new H264Packetizer({ payloadType: 102, ssrc: 0x4d494d41, sequenceNumber, timestampBase, maxPayloadSize });
  const packets: RtpPacket[] = [];
  const unitOf: number[] = [];
  const expected: Summary[] = [];
  aus.forEach((u, i) => {
    const ticks = firstTick + i * TICKS_PER_FRAME;
    for (const p of packetizer.packetize(u.nalus, ticks)) {
      packets.push(p);
      unitOf.push(i);
    }
    expected.push({ timestamp: rtpTimestamp(timestampBase, ticks), keyframe: u.keyframe, data: sha(avcc(u.nalus)) });
  });
  return { packets, unitOf, expected };
}

function packetsOf(s: Stream, unit: number): RtpPacket[] {
  return s.packets.filter((_, i) => s.unitOf[i] === unit);
}

/** Gives the packets consecutive sequence numbers again (after inserting or merging some). */
function renumber(packets: readonly RtpPacket[], first: number): RtpPacket[] {
  return packets.map((p, i) => ({ ...p, sequenceNumber: seqAdd(first, i) }));
}

/** libwebrtc's layout: SPS and PPS of a keyframe aggregated into one STAP-A. */
function aggregateParameterSets(packets: readonly RtpPacket[]): RtpPacket[] {
  const out: RtpPacket[] = [];
  for (let i = 0; i < packets.length; i++) {
    const p = packets[i]!;
    const next = packets[i + 1];
    if ((p.payload[0]! & 0x1f) === 7 && next && (next.payload[0]! & 0x1f) === 8) {
      const stap = new Uint8Array(1 + 2 + p.payload.length + 2 + next.payload.length);
      stap[0] = (p.payload[0]! & 0x60) | 24;
      stap.set([p.payload.length >> 8, p.payload.length & 0xff], 1);
      stap.set(p.payload, 3);
      stap.set([next.payload.length >> 8, next.payload.length & 0xff], 3 + p.payload.length);
      stap.set(next.payload, 5 + p.payload.length);
      out.push({ ...p, payload: stap, marker: next.marker });
      i += 1;
    } else {
      out.push(p);
    }
  }
  return renumber(out, packets[0]!.sequenceNumber);
}

/** RTP bytes for a packet, with optional CSRCs, header extension and padding. */
function serializeRtp(
  p: RtpPacket,
  { csrcs = [] as number[], extension = undefined as { profile: number; data: Uint8Array } | undefined, padding = 0 } = {},
): Uint8Array {
  const extLen = extension ? 4 + extension.data.length : 0;
  const out = Buffer.alloc(12 + csrcs.length * 4 + extLen + p.payload.length + padding);
  out[0] = 0x80 | (padding ? 0x20 : 0) | (extension ? 0x10 : 0) | csrcs.length;
  out[1] = (p.marker ? 0x80 : 0) | p.payloadType;
  out.writeUInt16BE(p.sequenceNumber, 2);
  out.writeUInt32BE(p.timestamp, 4);
  out.writeUInt32BE(p.ssrc, 8);
  let at = 12;
  for (const c of csrcs) at = out.writeUInt32BE(c, at);
  if (extension) {
    at = out.writeUInt16BE(extension.profile, at);
    at = out.writeUInt16BE(extension.data.length / 4, at);
    out.set(extension.data, at);
    at += extension.data.length;
  }
  out.set(p.payload, at);
  if (padding) out[out.length - 1] = padding;
  return new Uint8Array(out);
}

interface RunResult {
  frames: Frame[];
  reorder: ReorderBuffer['stats'];
  depacketizer: { frames: number; droppedFrames: number; skippedPackets: number };
  needsKeyframe: boolean;
}

/** Packets through a ReorderBuffer (one every 5 ms, like 200 packets/s) and a depacketizer, then flush. */
function run(packets: readonly RtpPacket[], codec: 'h264' | 'vp8' | 'opus' = 'h264', options?: ReorderBufferOptions): RunResult {
  const reorder = new ReorderBuffer(options);
  const depacketizer = createDepacketizer(codec);
  const frames: Frame[] = [];
  packets.forEach((p, i) => {
    for (const o of reorder.push(p, i * 5)) frames.push(...depacketizer.push(o));
  });
  for (const o of reorder.flush()) frames.push(...depacketizer.push(o));
  return { frames, reorder: { ...reorder.stats }, depacketizer: { ...depacketizer.stats }, needsKeyframe: depacketizer.needsKeyframe };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

// ---------------------------------------------------------------------------------------------
// parseRtp

test('parseRtp: a handmade packet with 2 CSRCs, a header extension and 3 bytes of padding', () => {
  const raw = bytes(`
    b2 e0 ff fe  fe dc ba 98  01 02 03 04
    00 00 00 0a  00 00 00 0b
    be de 00 02  12 34 56 78 9a bc de f0
    aa bb cc dd ee
    00 00 03`);
  assert.equal(parseRtp(raw), {
    payloadType: 96,
    sequenceNumber: 0xfffe,
    timestamp: 0xfedcba98,
    ssrc: 0x01020304,
    marker: true,
    payload: bytes('aabbccddee'),
  });
  // The payload is a view, not a copy.
  assert.is(parseRtp(raw).payload.buffer, raw.buffer);
});

test('parseRtp: round trip of serializeRtp, and a padding-only packet has an empty payload', () => {
  const packet: RtpPacket = { payloadType: 111, sequenceNumber: 7, timestamp: 0xffffffff, ssrc: 0x80000000, marker: false, payload: bytes('0102') };
  assert.equal(parseRtp(serializeRtp(packet)), packet);
  assert.equal(parseRtp(serializeRtp(packet, { csrcs: [1, 2, 3], extension: { profile: 0x1000, data: bytes('0102030405060708') }, padding: 4 })), packet);
  assert.equal(parseRtp(serializeRtp({ ...packet, payload: new Uint8Array(0) }, { padding: 224 })).payload, new Uint8Array(0));
});

const header = (first: number, rest = '') => bytes(`${first.toString(16).padStart(2, '0')} 60 00 01 00 00 00 00 00 00 00 01 ${rest}`);
const GARBAGE: Array<[string, Uint8Array]> = [
  ['empty', new Uint8Array(0)],
  ['11 bytes', bytes('8060000100000000000000')],
  ['version 0', header(0x00, 'aa')],
  ['version 1', header(0x40, 'aa')],
  ['version 3', header(0xc0, 'aa')],
  ['15 CSRCs in a 16-byte packet', header(0x8f, 'aabbccdd')],
  ['extension flag, packet ends before the extension header', header(0x90, 'bede00')],
  ['extension of 2 words, 1 present', header(0x90, 'bede0002 00000000')],
  ['padding count 0', header(0xa0, 'aabb00')],
  ['padding count beyond the payload', header(0xa0, 'aa05')],
  ['padding flag on a bare header (count from the header)', header(0xa0)],
  ['RTCP receiver report (rtcp-mux)', bytes('81c90007 deadbeef 00000000 00000000 00000000 00000000 00000000 00000000')],
  ['RTCP PLI (rtcp-mux)', bytes('81ce0002 deadbeef 01020304')],
];
for (const [name, raw] of GARBAGE) {
  test(`parseRtp throws RtpFormatError malformed_rtp: ${name}`, () => {
    try {
      parseRtp(raw);
      assert.unreachable('should throw');
    } catch (err) {
      assert.instance(err, RtpFormatError);
      assert.is((err as RtpFormatError).code, 'malformed_rtp');
    }
  });
}

// ---------------------------------------------------------------------------------------------
// ReorderBuffer on sequence numbers alone

type Step = ['push', number, number] | ['poll', number] | ['flush'];

function pkt(seq: number): RtpPacket {
  return { payloadType: 96, sequenceNumber: seq, timestamp: seq * 10, ssrc: 1, marker: false, payload: Uint8Array.of(seq & 0xff) };
}

/**
 * Each step's released packets as "seq" or "seq lost n". Unless `fromStart`, the buffer is started
 * first with the packet before the first step's (flushed out, not logged), so the cases read
 * without the start's hold.
 */
function replay(steps: Step[], options?: ReorderBufferOptions, fromStart = false) {
  const buffer = new ReorderBuffer(options);
  const first = steps[0]!;
  if (!fromStart && first[0] === 'push') {
    buffer.push(pkt(seqAdd(first[1], -1)), -1000);
    buffer.flush();
  }
  const log = steps.map((step) => {
    const out = step[0] === 'push' ? buffer.push(pkt(step[1]), step[2]) : step[0] === 'poll' ? buffer.poll(step[1]) : buffer.flush();
    return out.map((o) => (o.lost ? `${o.packet.sequenceNumber} lost ${o.lost}` : `${o.packet.sequenceNumber}`));
  });
  return { log, stats: { ...buffer.stats } };
}

const zero = { duplicates: 0, late: 0, lost: 0, reordered: 0 };
const REORDER_CASES: Array<{ name: string; steps: Step[]; log: string[][]; stats: typeof zero; options?: ReorderBufferOptions; fromStart?: boolean }> = [
  {
    name: 'start: held until the first packet waited maxDelayMs, then released in order',
    fromStart: true,
    steps: [['push', 1, 0], ['push', 2, 100], ['push', 3, 299], ['push', 4, 300], ['push', 5, 305]],
    log: [[], [], [], ['1', '2', '3', '4'], ['5']],
    stats: zero,
  },
  {
    name: 'start: a packet older than the first becomes the start (not late)',
    fromStart: true,
    steps: [['push', 100, 0], ['push', 98, 5], ['push', 101, 10], ['push', 99, 20], ['poll', 299], ['poll', 300], ['push', 97, 310]],
    log: [[], [], [], [], [], ['98', '99', '100', '101'], []],
    stats: { ...zero, reordered: 2, late: 1 },
  },
  {
    name: 'start: a hole after the first packet waits like any other',
    fromStart: true,
    steps: [['push', 1, 0], ['push', 3, 5], ['poll', 300], ['poll', 304], ['poll', 305]],
    log: [[], [], ['1'], [], ['3 lost 1']],
    stats: { ...zero, lost: 1 },
  },
  {
    name: 'start: flush() releases at once',
    fromStart: true,
    steps: [['push', 7, 0], ['push', 6, 1], ['flush'], ['push', 8, 2]],
    log: [[], [], ['6', '7'], ['8']],
    stats: { ...zero, reordered: 1 },
  },
  {
    name: 'in order (once started): each packet released at once',
    steps: [['push', 1, 0], ['push', 2, 5], ['push', 3, 10]],
    log: [['1'], ['2'], ['3']],
    stats: zero,
  },
  {
    name: 'two swapped packets are put back in order',
    steps: [['push', 1, 0], ['push', 3, 5], ['push', 2, 10]],
    log: [['1'], [], ['2', '3']],
    stats: { ...zero, reordered: 1 },
  },
  {
    name: 'a hole is given up by poll() after maxDelayMs, a retransmission after that is late',
    steps: [['push', 1, 0], ['push', 2, 10], ['push', 4, 20], ['push', 5, 30], ['poll', 319], ['poll', 320], ['push', 3, 400]],
    log: [['1'], ['2'], [], [], [], ['4 lost 1', '5'], []],
    stats: { ...zero, late: 1, lost: 1 },
  },
  {
    name: 'a retransmission inside maxDelayMs fills the hole',
    steps: [['push', 1, 0], ['push', 3, 10], ['push', 4, 20], ['push', 2, 250]],
    log: [['1'], [], [], ['2', '3', '4']],
    stats: { ...zero, reordered: 1 },
  },
  {
    name: 'holes give up one at a time, each after its own wait',
    steps: [['push', 1, 0], ['push', 3, 0], ['push', 4, 0], ['push', 6, 200], ['poll', 300], ['poll', 499], ['poll', 500]],
    log: [['1'], [], [], [], ['3 lost 1', '4'], [], ['6 lost 1']],
    stats: { ...zero, lost: 2 },
  },
  {
    name: 'push() gives up an expired hole too (no poll needed)',
    steps: [['push', 1, 0], ['push', 3, 0], ['push', 4, 350]],
    log: [['1'], [], ['3 lost 1', '4']],
    stats: { ...zero, lost: 1 },
  },
  {
    name: 'sequence numbers wrap at 65535, a hole across the wrap',
    steps: [['push', 65534, 0], ['push', 65535, 5], ['push', 1, 10], ['push', 0, 15], ['push', 2, 20]],
    log: [['65534'], ['65535'], [], ['0', '1'], ['2']],
    stats: { ...zero, reordered: 1 },
  },
  {
    name: 'duplicates: of a held packet and of a released one',
    steps: [['push', 1, 0], ['push', 3, 5], ['push', 3, 6], ['push', 2, 10], ['push', 2, 15], ['push', 1, 20]],
    log: [['1'], [], [], ['2', '3'], [], []],
    stats: { ...zero, duplicates: 3, reordered: 1 },
  },
  {
    name: 'late is told from duplicate after a hole was given up',
    steps: [['push', 1, 0], ['push', 3, 0], ['poll', 300], ['push', 2, 310], ['push', 3, 320]],
    log: [['1'], [], ['3 lost 1'], [], []],
    stats: { ...zero, late: 1, duplicates: 1, lost: 1 },
  },
  {
    name: 'maxPackets: a packet too far ahead gives up the oldest hole',
    options: { maxPackets: 4 },
    steps: [['push', 1, 0], ['push', 3, 1], ['push', 4, 2], ['push', 5, 3], ['push', 6, 4], ['push', 8, 5], ['push', 13, 6]],
    log: [['1'], [], [], [], [], ['3 lost 1', '4', '5', '6'], ['8 lost 1']],
    stats: { ...zero, lost: 2 },
  },
  {
    name: 'a forward jump beyond 3000 resets: held packets out, lost = the distance',
    steps: [['push', 1, 0], ['push', 3, 5], ['push', 5000, 10], ['push', 5001, 15], ['push', 4999, 20]],
    log: [['1'], [], ['3 lost 1', '5000 lost 4996'], ['5001'], []],
    stats: { ...zero, lost: 4997, late: 1 },
  },
  {
    name: 'a backward jump beyond 3000 resets (a new stream): lost 1',
    steps: [['push', 10000, 0], ['push', 10002, 5], ['push', 5000, 10], ['push', 5001, 15]],
    log: [['10000'], [], ['10002 lost 1', '5000 lost 1'], ['5001']],
    stats: { ...zero, lost: 2 },
  },
  {
    name: 'flush() releases everything held, then the stream goes on',
    steps: [['push', 1, 0], ['push', 3, 5], ['push', 5, 10], ['flush'], ['push', 6, 15], ['push', 4, 20]],
    log: [['1'], [], [], ['3 lost 1', '5 lost 1'], ['6'], []],
    stats: { ...zero, lost: 2, late: 1 },
  },
];
for (const c of REORDER_CASES) {
  test(`ReorderBuffer: ${c.name}`, () => {
    assert.equal(replay(c.steps, c.options, c.fromStart), { log: c.log, stats: c.stats });
  });
}

test('ReorderBuffer: options are checked', () => {
  for (const options of [{ maxPackets: 0 }, { maxPackets: 3001 }, { maxPackets: 1.5 }, { maxDelayMs: -1 }, { maxDelayMs: NaN }]) {
    assert.throws(() => new ReorderBuffer(options), (err: unknown) => err instanceof TypeError);
  }
});

// ---------------------------------------------------------------------------------------------
// H.264 on real fixtures

test('H.264 in order: every access unit comes out as its exact AVCC sample, through parseRtp', async () => {
  const aus = await units(SMALL);
  const stream = packetize(aus, { timestampBase: 2 ** 32 - 10 * TICKS_PER_FRAME }); // the RTP timestamp wraps too
  assert.ok(stream.packets.some((p) => (p.payload[0]! & 0x1f) === 28), 'the fixture exercises FU-A');
  const parsed = stream.packets.map((p, i) => parseRtp(serializeRtp(p, i % 2 ? { extension: { profile: 0xbede, data: bytes('10ff0000') } } : {})));
  const r = run(parsed);
  assert.equal(summarize(r.frames), stream.expected);
  assert.equal(r.depacketizer, { frames: aus.length, droppedFrames: 0, skippedPackets: 0 });
  assert.equal(r.reorder, zero);
  assert.is(r.needsKeyframe, false);

  const frames = r.frames as VideoFrame[];
  const config = frames[0]!.config as H264Config;
  assert.ok(frames.every((f) => f.config === config), 'one config object while SPS/PPS do not change');
  const sps = aus[0]!.nalus.find((n) => (n[0]! & 0x1f) === 7)!;
  const pps = aus[0]!.nalus.find((n) => (n[0]! & 0x1f) === 8)!;
  assert.equal(
    { ...config, sps: hex(config.sps), pps: hex(config.pps) },
    { codec: 'h264', sps: hex(sps), pps: hex(pps), width: 320, height: 180, profileIdc: 66, constraintFlags: 0xc0, levelIdc: 30, codecString: 'avc1.42c01e' },
  );
  // Byte for byte, not just hashes, for the first keyframe (SEI kept, SPS/PPS gone).
  assert.equal(hex(frames[0]!.data), hex(avcc(aus[0]!.nalus)));
  assert.is(frames[0]!.data[4]! & 0x1f, 6, "x264's SEI leads the first sample");
});

test('H.264: libwebrtc layout (SPS+PPS in a STAP-A) gives the same frames', async () => {
  const stream = packetize(await units(SMALL));
  const packets = aggregateParameterSets(stream.packets);
  assert.is(packets.length, stream.packets.length - 2);
  assert.equal(summarize(run(packets).frames), stream.expected);
});

test('H.264: a tiny payload size puts the SPS in FU-A fragments too: same frames', async () => {
  const stream = packetize(await units(SMALL), { maxPayloadSize: 20 });
  assert.equal(stream.packets.slice(0, 3).map((p) => p.payload[0]! & 0x1f), [28, 28, 8]);
  assert.equal(stream.packets.slice(0, 2).map((p) => p.payload[1]! & 0x1f), [7, 7]);
  const r = run(stream.packets, 'h264', { maxPackets: 3000 });
  assert.equal(summarize(r.frames), stream.expected);
  assert.equal((r.frames[0] as VideoFrame).config.width, 320);
});

test('H.264: parseSps on the fixtures', async () => {
  const spsOf = async (p: VideoFixtureParams) => (await units(p))[0]!.nalus.find((n) => (n[0]! & 0x1f) === 7)!;
  assert.equal(parseSps(await spsOf(SMALL)), { width: 320, height: 180, profileIdc: 66, constraintFlags: 0xc0, levelIdc: 30 });
  assert.equal(parseSps(await spsOf(LARGE)), { width: 640, height: 360, profileIdc: 66, constraintFlags: 0xc0, levelIdc: 30 });
  assert.equal(parseSps(await spsOf(HIGH)), { width: 320, height: 180, profileIdc: 100, constraintFlags: 0, levelIdc: 30 });
});

// SPS captured from Debian's x264 (through ffmpeg) and two made by splicing hand-written fields
// into a real one; ffmpeg decodes all of them without error and ffprobe reports these sizes.
const SPS_CASES: Array<[string, string, { width: number; height: number; profileIdc: number; constraintFlags: number; levelIdc: number }]> = [
  ['main 1920x1080 (crop 8 rows)', '674d4028eca03c0113f2e022000003000200000300281e30632c', { width: 1920, height: 1080, profileIdc: 77, constraintFlags: 0x40, levelIdc: 40 }],
  ['high 10-bit 176x144', '676e000aa6cd942c4ec044000003000400000300503c489658', { width: 176, height: 144, profileIdc: 110, constraintFlags: 0, levelIdc: 10 }],
  ['high 4:2:2 334x186 (crop units 2x1)', '677a000cbcd941519ea7c044000003000400000300503c50a658', { width: 334, height: 186, profileIdc: 122, constraintFlags: 0, levelIdc: 12 }],
  ['high 4:4:4 322x182 with JVT scaling lists (12 lists, crop units 1x1)', '67f4000c919b282a33c7c5e022000003000200000300281e28532c', { width: 322, height: 182, profileIdc: 244, constraintFlags: 0, levelIdc: 12 }],
  ['high interlaced 330x188 (field coding doubles the crop unit)', '67640015acd941533c958088000003000800000300a0f8a14cb0', { width: 330, height: 188, profileIdc: 100, constraintFlags: 0, levelIdc: 21 }],
  ['high with explicit, default and absent scaling lists (spliced)', '6764000cad843fff9089087fffffffffffffff6ca0a0cfcf8088000003000800000300a078a14cb0', { width: 320, height: 180, profileIdc: 100, constraintFlags: 0, levelIdc: 12 }],
  ['baseline with pic_order_cnt_type 1 (spliced)', '6742c01ed4e288463880a0cfcf8088000003000800000300f078b17240', { width: 320, height: 180, profileIdc: 66, constraintFlags: 0xc0, levelIdc: 30 }],
];
for (const [name, sps, want] of SPS_CASES) {
  test(`parseSps: ${name}`, () => assert.equal(parseSps(bytes(sps)), want));
}

test('parseSps throws RtpFormatError malformed_sps on garbage', () => {
  const good = bytes(SPS_CASES[0]![1]);
  for (const bad of [good.subarray(0, 3), good.subarray(0, 6), Uint8Array.of(0x68, ...good.subarray(1)), bytes('6742c01e00000000')]) {
    try {
      parseSps(bad);
      assert.unreachable(`should throw on ${hex(bad)}`);
    } catch (err) {
      assert.instance(err, RtpFormatError);
      assert.is((err as RtpFormatError).code, 'malformed_sps');
    }
  }
});

test('H.264: SPS change mid-stream (320x180 then 640x360) gives a new config object', async () => {
  const small = await units(SMALL);
  const large = await units(LARGE);
  const stream = packetize([...small, ...large]);
  const r = run(stream.packets);
  assert.equal(summarize(r.frames), stream.expected);
  const configs = (r.frames as VideoFrame[]).map((f) => f.config as H264Config);
  const first = configs[0]!;
  const second = configs[small.length]!;
  assert.ok(configs.slice(0, small.length).every((c) => c === first), 'same object across the first file, its 2 IDRs repeat the same SPS');
  assert.ok(configs.slice(small.length).every((c) => c === second));
  assert.is.not(first, second);
  assert.equal([first.width, first.height, second.width, second.height], [320, 180, 640, 360]);
  assert.equal(hex(second.sps), hex(large[0]!.nalus[0]!));
});

/**
 * Frames of SMALL picked by shape, not index, so the cases survive another x264 build: at
 * MAX_PAYLOAD 400 the IDRs are many FU-A fragments, P-frames one to four packets.
 */
interface Layout {
  /** The second IDR (ffmpeg makes one every second, 30 frames). */
  idr: number;
  /** First P-frames of one packet, of exactly two (FU-A start and end) and of three or more. */
  single: number;
  pair: number;
  multi: number;
}

function layout(s: Stream): Layout {
  // From the second P-frame on, so some P-frames come out before the loss.
  const find = (ok: (n: number) => boolean) => {
    const unit = range(2, 30).find((u) => ok(packetsOf(s, u).length));
    assert.ok(unit !== undefined, 'the fixture has the P-frame shapes the cases need');
    return unit;
  };
  assert.equal([s.expected[0]!.keyframe, s.expected[30]!.keyframe, s.expected.length], [true, true, 60]);
  assert.ok(s.expected.slice(1, 30).every((e) => !e.keyframe));
  assert.equal(packetsOf(s, 30).slice(0, 2).map((p) => p.payload[0]! & 0x1f), [7, 8], 'SPS and PPS open each IDR');
  return { idr: 30, single: find((n) => n === 1), pair: find((n) => n === 2), multi: find((n) => n >= 3) };
}

interface LossCase {
  name: string;
  /** Makes the packets to send from the in-order stream. */
  mutate: (s: Stream, l: Layout) => RtpPacket[];
  /** Access units expected out. */
  out: (l: Layout) => number[];
  dropped: (l: Layout) => number;
  /** Packets of frames dropped while a keyframe was already awaited. */
  skipped: (s: Stream, l: Layout) => number;
  needsKeyframe?: boolean;
  /** ReorderBuffer stats expected, from what was sent (zero when absent). */
  reorder?: (sent: RtpPacket[], s: Stream) => Partial<typeof zero>;
}

/** Packets that arrived after a higher sequence number (the usual definition, computed independently). */
function countReordered(sent: readonly RtpPacket[]): number {
  let max = -1;
  let n = 0;
  for (const p of sent) {
    if (p.sequenceNumber < max) n += 1;
    max = Math.max(max, p.sequenceNumber);
  }
  return n;
}
const lostOne = () => ({ lost: 1 });

const without = (s: Stream, ...gone: RtpPacket[]) => s.packets.filter((p) => !gone.includes(p));
const countPackets = (s: Stream, aus: number[]) => aus.reduce((n, u) => n + packetsOf(s, u).length, 0);
const withPayload = (s: Stream, target: RtpPacket, payload: Uint8Array) => s.packets.map((p) => (p === target ? { ...p, payload } : p));
/** Everything but frames `from` up to the next IDR. */
const allBut = (from: number, l: Layout) => [...range(0, from), ...range(l.idr, 60)];

const LOSS_CASES: LossCase[] = [
  {
    name: 'lost middle fragment of a P-frame FU-A: that frame and the rest of the GOP dropped, counted',
    mutate: (s, l) => without(s, packetsOf(s, l.multi)[1]!),
    out: (l) => allBut(l.multi, l),
    dropped: (l) => l.idr - l.multi,
    skipped: (s, l) => countPackets(s, range(l.multi + 1, l.idr)), // not the frame the loss hit: nothing was awaited yet
    reorder: lostOne,
  },
  {
    name: 'lost first fragment of a P-frame (FU-A without its start)',
    mutate: (s, l) => without(s, packetsOf(s, l.multi)[0]!),
    out: (l) => allBut(l.multi, l),
    dropped: (l) => l.idr - l.multi,
    skipped: (s, l) => countPackets(s, range(l.multi, l.idr)) - 1,
    reorder: lostOne,
  },
  {
    name: 'lost marker packet: the timestamp changes after a loss',
    mutate: (s, l) => without(s, packetsOf(s, l.multi).at(-1)!),
    out: (l) => allBut(l.multi, l),
    dropped: (l) => l.idr - l.multi,
    skipped: (s, l) => countPackets(s, range(l.multi + 1, l.idr)),
    reorder: lostOne,
  },
  {
    name: 'a whole one-packet frame lost between two frames: wait for a keyframe anyway',
    mutate: (s, l) => without(s, packetsOf(s, l.single)[0]!),
    out: (l) => allBut(l.single, l),
    dropped: (l) => l.idr - l.single - 1,
    skipped: (s, l) => countPackets(s, range(l.single + 1, l.idr)),
    reorder: lostOne,
  },
  {
    name: 'lost SPS of the second IDR: that IDR is not certain to be whole, nothing after it',
    mutate: (s, l) => without(s, packetsOf(s, l.idr)[0]!),
    out: (l) => range(0, l.idr),
    dropped: (l) => 60 - l.idr,
    skipped: (s, l) => countPackets(s, range(l.idr, 60)) - 1,
    needsKeyframe: true,
    reorder: lostOne,
  },
  {
    name: 'lost PPS of the second IDR: a hole inside the IDR',
    mutate: (s, l) => without(s, packetsOf(s, l.idr)[1]!),
    out: (l) => range(0, l.idr),
    dropped: (l) => 60 - l.idr,
    skipped: (s, l) => countPackets(s, range(l.idr + 1, 60)), // the IDR began before the loss
    needsKeyframe: true,
    reorder: lostOne,
  },
  {
    name: 'lost last fragment of the first IDR',
    mutate: (s) => without(s, packetsOf(s, 0).at(-1)!),
    out: (l) => range(l.idr, 60),
    dropped: (l) => l.idr,
    skipped: (s, l) => countPackets(s, range(0, l.idr)) - 1, // the stream's start awaited a keyframe already
    reorder: lostOne,
  },
  {
    name: 'joined in the middle of a P-frame: nothing until the next IDR',
    mutate: (s, l) => s.packets.slice(s.packets.indexOf(packetsOf(s, l.pair)[1]!)),
    out: (l) => range(l.idr, 60),
    dropped: (l) => l.idr - l.pair,
    skipped: (s, l) => countPackets(s, range(l.pair, l.idr)) - 1,
  },
  {
    name: 'joined at a P-frame boundary: nothing until the next IDR',
    mutate: (s, l) => s.packets.slice(s.packets.indexOf(packetsOf(s, l.pair)[0]!)),
    out: (l) => range(l.idr, 60),
    dropped: (l) => l.idr - l.pair,
    skipped: (s, l) => countPackets(s, range(l.pair, l.idr)),
  },
  {
    name: 'joined at an IDR: everything from it',
    mutate: (s, l) => s.packets.slice(s.packets.indexOf(packetsOf(s, l.idr)[0]!)),
    out: (l) => range(l.idr, 60),
    dropped: () => 0,
    skipped: () => 0,
  },
  {
    name: 'no marker bits: the timestamp change ends each frame (the last never ends)',
    mutate: (s) => s.packets.map((p) => ({ ...p, marker: false })),
    out: () => range(0, 59),
    dropped: () => 0,
    skipped: () => 0,
  },
  {
    name: 'padding-only packets between and inside frames are ignored',
    mutate: (s) =>
      renumber(
        s.packets.flatMap((p, i) => (i % 3 === 0 ? [p, { ...p, marker: false, payload: new Uint8Array(0) }] : [p])),
        1000,
      ),
    out: () => range(0, 60),
    dropped: () => 0,
    skipped: () => 0,
  },
  {
    name: 'reordered packets are restored by the ReorderBuffer',
    mutate: (s) => {
      const p = [...s.packets];
      for (let i = 0; i + 1 < p.length; i += 3) [p[i], p[i + 1]] = [p[i + 1]!, p[i]!]; // the very first two too
      p.splice(50, 0, ...p.splice(40, 1)); // one 10 packets (50 ms) late
      return p;
    },
    out: () => range(0, 60),
    dropped: () => 0,
    skipped: () => 0,
    reorder: (sent) => ({ reordered: countReordered(sent) }),
  },
  {
    name: 'sequence numbers wrap at 65535, with two packets swapped across the wrap',
    mutate: (s) => {
      const p = renumber(s.packets, 65400);
      const at = p.findIndex((x) => x.sequenceNumber === 0);
      [p[at - 1], p[at]] = [p[at]!, p[at - 1]!];
      return p;
    },
    out: () => range(0, 60),
    dropped: () => 0,
    skipped: () => 0,
    reorder: () => ({ reordered: 1 }),
  },
  {
    name: 'duplicated packets are ignored',
    mutate: (s) => {
      const out: RtpPacket[] = [];
      s.packets.forEach((p, i) => {
        out.push(p);
        if (i % 7 === 0) out.push(p); // right away
        if (i % 11 === 5) out.push(s.packets[i - 4]!); // long after its release
      });
      return out;
    },
    out: () => range(0, 60),
    dropped: () => 0,
    skipped: () => 0,
    reorder: (sent, s) => ({ duplicates: sent.length - s.packets.length }),
  },
  {
    name: 'a retransmission that comes too late (after maxDelayMs) is late: the hole was given up',
    mutate: (s, l) => {
      const p = [...s.packets];
      const target = packetsOf(s, l.multi)[1]!;
      const from = p.indexOf(target);
      p.splice(from, 1);
      p.splice(from + 80, 0, target); // 400 ms later
      return p;
    },
    out: (l) => allBut(l.multi, l),
    dropped: (l) => l.idr - l.multi,
    skipped: (s, l) => countPackets(s, range(l.multi + 1, l.idr)),
    reorder: () => ({ lost: 1, late: 1 }),
  },
];

for (const c of LOSS_CASES) {
  test(`H.264: ${c.name}`, async () => {
    const stream = packetize(await units(SMALL));
    const l = layout(stream);
    const packets = c.mutate(stream, l);
    const r = run(packets);
    assert.equal(summarize(r.frames), c.out(l).map((u) => stream.expected[u]!));
    assert.equal(r.depacketizer, { frames: c.out(l).length, droppedFrames: c.dropped(l), skippedPackets: c.skipped(stream, l) });
    assert.is(r.needsKeyframe, c.needsKeyframe ?? false);
    assert.ok(r.frames.length === 0 || (r.frames[0] as VideoFrame).keyframe, 'the first frame out is a keyframe');
    assert.equal(r.reorder, { ...zero, ...c.reorder?.(packets, stream) });
  });
}

// A two-packet P-frame (FU-A start and end) made inconsistent.
const replaceFirst = (s: Stream, l: Layout, corrupt: (p: RtpPacket) => Uint8Array) => {
  const first = packetsOf(s, l.pair)[0]!;
  return withPayload(s, first, corrupt(first));
};
const INCONSISTENT: Array<[string, (s: Stream, l: Layout) => RtpPacket[]]> = [
  ['STAP-A with a NAL size beyond the packet', (s, l) => replaceFirst(s, l, () => bytes('18 0010 4101'))],
  ['STAP-A ending inside a size field', (s, l) => replaceFirst(s, l, () => bytes('18 0002 4101 00'))],
  ['STAP-A without NAL units', (s, l) => replaceFirst(s, l, () => bytes('18'))],
  ['FU-A with both start and end bits', (s, l) => replaceFirst(s, l, (p) => Uint8Array.of(p.payload[0]!, 0xc1, ...p.payload.subarray(2)))],
  ['FU-A of 2 bytes (no fragment data)', (s, l) => replaceFirst(s, l, (p) => p.payload.subarray(0, 2))],
  ['FU-A start of another type than its end', (s, l) => replaceFirst(s, l, (p) => Uint8Array.of(p.payload[0]!, 0x85, ...p.payload.subarray(2)))],
  ['reserved NAL type 30', (s, l) => replaceFirst(s, l, () => bytes('5e 0102'))],
  ['STAP-B (not packetization-mode 1)', (s, l) => replaceFirst(s, l, () => bytes('19 0000 0002 4101'))],
  ['forbidden_zero_bit set', (s, l) => replaceFirst(s, l, (p) => Uint8Array.of(p.payload[0]! | 0x80, ...p.payload.subarray(1)))],
  [
    'an IDR slice and a non-IDR slice in one frame',
    (s, l) => {
      const [first, second] = packetsOf(s, l.pair);
      const mixed = { ...first!, marker: true, payload: bytes('18 0003 658884 0003 419a02') };
      return renumber(s.packets.filter((p) => p !== second).map((p) => (p === first ? mixed : p)), 1000);
    },
  ],
];
for (const [name, make] of INCONSISTENT) {
  test(`H.264: inconsistent data dropped, not thrown on: ${name}`, async () => {
    const stream = packetize(await units(SMALL));
    const l = layout(stream);
    const r = run(make(stream, l));
    assert.equal(summarize(r.frames), allBut(l.pair, l).map((u) => stream.expected[u]!));
    assert.equal(r.depacketizer.droppedFrames, l.idr - l.pair);
    assert.is(r.needsKeyframe, false);
  });
}

test('H.264: no frame before SPS and PPS are known, and frames of parameter sets alone are no frames', () => {
  const idr = Uint8Array.of(0x65, 0x88, 0x80, 0x40);
  const p = (seq: number, ts: number, payload: Uint8Array, marker = true): RtpPacket => ({ payloadType: 96, sequenceNumber: seq, timestamp: ts, ssrc: 1, marker, payload });
  const sps = SPS_CASES[6]![1];
  const d = new H264FrameDepacketizer();
  const push = (packet: RtpPacket) => d.push({ packet, lost: 0 });
  // An AUD-opened IDR without parameter sets: dropped.
  assert.equal(push(p(1, 0, Uint8Array.of(0x09, 0xf0), false)), []);
  assert.equal(push(p(2, 0, idr)), []);
  assert.equal({ ...d.stats }, { frames: 0, droppedFrames: 1, skippedPackets: 2 });
  // SPS and PPS in a timestamp of their own, then the IDR.
  assert.equal(push(p(3, 3000, bytes(`18 001d ${sps} 0004 68ce3c80`))), []);
  const [frame, ...rest] = push(p(4, 6000, idr));
  assert.equal(rest, []);
  assert.equal({ ...frame!, data: hex(frame!.data), config: (frame!.config as H264Config).codecString }, { kind: 'video', timestamp: 6000, keyframe: true, data: `00000004${hex(idr)}`, config: 'avc1.42c01e' });
  assert.equal({ ...d.stats }, { frames: 1, droppedFrames: 1, skippedPackets: 2 });
  assert.is(d.needsKeyframe, false);
});

test('H.264: a P-frame with changed parameter sets is dropped (a change needs a keyframe)', async () => {
  const small = await units(SMALL);
  const large = await units(LARGE);
  // The second file's SPS/PPS put in front of a P-frame of the first.
  const aus: AccessUnit[] = [...small.slice(0, 5), { nalus: [large[0]!.nalus[0]!, large[0]!.nalus[1]!, ...small[5]!.nalus], keyframe: false }, ...small.slice(6)];
  const stream = packetize(aus);
  const r = run(stream.packets);
  assert.equal(summarize(r.frames), [...range(0, 5), ...range(30, 60)].map((u) => stream.expected[u]!));
  // The next IDR brings the first file's parameter sets back: a new config, equal to the first.
  const configs = (r.frames as VideoFrame[]).map((f) => f.config as H264Config);
  assert.is.not(configs[0], configs[5]);
  assert.equal([configs[5]!.width, hex(configs[5]!.sps)], [320, hex(configs[0]!.sps)]);
});

// ---------------------------------------------------------------------------------------------
// VP8 on handmade frames

/** A VP8 keyframe: frame tag, start code, 14-bit sizes with 2 scaling bits, then filler. */
function vp8Keyframe(width: number, height: number, size: number, seed: number, { version = 0, scale = 0 } = {}): Uint8Array {
  const frame = filler(size, seed);
  const firstPartition = size - 10 - 5;
  const tag = (firstPartition << 5) | (1 << 4) /* show_frame */ | (version << 1) | 0; /* keyframe */
  frame.set([tag & 0xff, (tag >> 8) & 0xff, tag >> 16, 0x9d, 0x01, 0x2a], 0);
  frame.set([width & 0xff, (width >> 8) | (scale << 6), height & 0xff, (height >> 8) | (scale << 6)], 6);
  return frame;
}

function vp8Interframe(size: number, seed: number): Uint8Array {
  const frame = filler(size, seed);
  const tag = ((size - 3 - 5) << 5) | (1 << 4) | 1;
  frame.set([tag & 0xff, (tag >> 8) & 0xff, tag >> 16], 0);
  return frame;
}

function filler(size: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed * 17) & 0xff);
}

/** RFC 7741 packets of one frame: `descriptor(first)` before each chunk of at most `max` bytes. */
function vp8Packets(frame: Uint8Array, timestamp: number, descriptor: (start: boolean) => number[], max = 500): RtpPacket[] {
  const out: RtpPacket[] = [];
  for (let at = 0; at < frame.length; at += max) {
    const chunk = frame.subarray(at, at + max);
    out.push({ payloadType: 96, sequenceNumber: 0, timestamp, ssrc: 2, marker: at + max >= frame.length, payload: Uint8Array.of(...descriptor(at === 0), ...chunk) });
  }
  return out;
}

const S = 0x10;
const DESCRIPTORS: Array<[string, (start: boolean) => number[]]> = [
  ['minimal (1 byte)', (start) => [start ? S : 0]],
  ['7-bit picture ID', (start) => [0x80 | (start ? S : 0), 0x80, 0x35]],
  ['15-bit picture ID', (start) => [0x80 | (start ? S : 0), 0x80, 0x80 | 0x12, 0x34]],
  ['picture ID, TL0PICIDX, TID and KEYIDX', (start) => [0x80 | (start ? S : 0), 0xf0, 0x80 | 0x01, 0x02, 0x77, 0x65]],
  ['TL0PICIDX only', (start) => [0xa0 | (start ? S : 0), 0x40, 0x09]],
  ['T only (TID byte)', (start) => [0x80 | (start ? S : 0), 0x20, 0x40]],
  ['K only (KEYIDX byte)', (start) => [0x80 | (start ? S : 0), 0x10, 0x03]],
  ['X with no extensions, N bit set', (start) => [0xa0 | (start ? S : 0), 0x00]],
];

function vp8Stream(frames: Uint8Array[], descriptor: (start: boolean) => number[] = DESCRIPTORS[0]![1]) {
  const packets = renumber(
    frames.flatMap((f, i) => vp8Packets(f, 90_000 + i * 3000, descriptor)),
    65530,
  );
  const expected = frames.map((f, i) => ({ timestamp: 90_000 + i * 3000, keyframe: (f[0]! & 1) === 0, data: sha(f) }));
  return { packets, expected };
}

for (const [name, descriptor] of DESCRIPTORS) {
  test(`VP8 descriptor ${name}: frames reassembled exactly, keyframe size read`, () => {
    const frames = [vp8Keyframe(322, 182, 1234, 1, { scale: 1 }), vp8Interframe(700, 2), vp8Interframe(90, 3), vp8Interframe(1001, 4)];
    const { packets, expected } = vp8Stream(frames, descriptor);
    const r = run(packets, 'vp8');
    assert.equal(summarize(r.frames), expected);
    const config = (r.frames[0] as VideoFrame).config as Vp8Config;
    assert.equal(config, { codec: 'vp8', width: 322, height: 182, codecString: 'vp08.00.10.08' });
    assert.ok(r.frames.every((f) => (f as VideoFrame).config === config));
    assert.equal(r.depacketizer, { frames: 4, droppedFrames: 0, skippedPackets: 0 });
  });
}

test('VP8: partitions (S bit with PID > 0) stay in their frame', () => {
  const frame = vp8Interframe(1200, 5);
  const key = vp8Keyframe(64, 48, 300, 6);
  const packets = renumber(
    [
      ...vp8Packets(key, 0, (start) => [start ? S : 0]),
      // Partition 0 in one packet, partition 1 starts in the second: S=1 PID=1.
      { payloadType: 96, sequenceNumber: 0, timestamp: 3000, ssrc: 2, marker: false, payload: Uint8Array.of(S, ...frame.subarray(0, 600)) },
      { payloadType: 96, sequenceNumber: 0, timestamp: 3000, ssrc: 2, marker: false, payload: Uint8Array.of(S | 1, ...frame.subarray(600, 900)) },
      { payloadType: 96, sequenceNumber: 0, timestamp: 3000, ssrc: 2, marker: true, payload: Uint8Array.of(1, ...frame.subarray(900)) },
    ],
    10,
  );
  assert.equal(summarize(run(packets, 'vp8').frames), [
    { timestamp: 0, keyframe: true, data: sha(key) },
    { timestamp: 3000, keyframe: false, data: sha(frame) },
  ]);
});

test('VP8: a loss drops the frame and everything until the next keyframe; resolution change → new config', () => {
  const frames = [
    vp8Keyframe(640, 480, 1500, 1),
    vp8Interframe(1200, 2), // loses its middle packet
    vp8Interframe(300, 3),
    vp8Interframe(800, 4),
    vp8Keyframe(640, 480, 1400, 5), // same size: same config object
    vp8Interframe(200, 6),
    vp8Keyframe(1280, 720, 2000, 7), // new size: new config object
    vp8Interframe(200, 8),
  ];
  const { packets, expected } = vp8Stream(frames);
  const lostIndex = 3 + 1; // keyframe in 3 packets, then the interframe's second
  const r = run(packets.filter((_, i) => i !== lostIndex), 'vp8');
  assert.equal(summarize(r.frames), [0, 4, 5, 6, 7].map((i) => expected[i]!));
  assert.equal(r.depacketizer, { frames: 5, droppedFrames: 3, skippedPackets: 1 + 2 });
  const configs = (r.frames as VideoFrame[]).map((f) => f.config as Vp8Config);
  assert.is(configs[0], configs[1]);
  assert.is(configs[0], configs[2]);
  assert.is.not(configs[2], configs[3]);
  assert.equal([configs[3]!.width, configs[3]!.height], [1280, 720]);
  assert.is(configs[3], configs[4]);
});

const VP8_BAD: Array<[string, (key: Uint8Array) => RtpPacket[]]> = [
  ['descriptor truncated (X set, no extension byte)', (key) => [{ ...vp8Packets(key, 3000, () => [S])[0]!, payload: Uint8Array.of(0x80 | S) }]],
  ['descriptor truncated inside a 15-bit picture ID', (key) => [{ ...vp8Packets(key, 3000, () => [S])[0]!, payload: Uint8Array.of(0x80 | S, 0x80, 0x80), marker: true }]],
  ['keyframe without its start code', (key) => vp8Packets(Uint8Array.of(...key.subarray(0, 3), 0x9d, 0x01, 0x2b, ...key.subarray(6)), 3000, (s) => [s ? S : 0])],
  ['first partition larger than the frame', (key) => vp8Packets(Uint8Array.of(0xf0, 0xff, 0xff, ...key.subarray(3)), 3000, (s) => [s ? S : 0])],
  ['keyframe of size 0x0', (key) => vp8Packets(Uint8Array.of(...key.subarray(0, 6), 0, 0, 0, 0, ...key.subarray(10)), 3000, (s) => [s ? S : 0])],
  ['frame starting at partition 1', (key) => vp8Packets(key, 3000, (s) => [s ? S | 1 : 0])],
  ['frame without any S bit', (key) => vp8Packets(key, 3000, () => [0])],
  ['keyframe shorter than its 10-byte header', (key) => vp8Packets(key.subarray(0, 8), 3000, (s) => [s ? S : 0])],
];
for (const [name, make] of VP8_BAD) {
  test(`VP8: inconsistent data dropped, not thrown on: ${name}`, () => {
    const good = vp8Keyframe(320, 240, 900, 9);
    const next = vp8Keyframe(320, 240, 700, 10);
    const packets = renumber([...vp8Packets(good, 0, (s) => [s ? S : 0]), ...make(good), ...vp8Packets(next, 6000, (s) => [s ? S : 0])], 100);
    const r = run(packets, 'vp8');
    assert.equal(summarize(r.frames), [
      { timestamp: 0, keyframe: true, data: sha(good) },
      { timestamp: 6000, keyframe: true, data: sha(next) },
    ]);
    assert.is(r.depacketizer.droppedFrames, 1);
  });
}

// ---------------------------------------------------------------------------------------------
// Opus on the real fixture

test('Opus: one packet is one frame, a loss only leaves a gap', async () => {
  const { packets: opus } = parseOggOpus(await fs.readFile(await ensureAudioFixture({ seconds: 2, kbps: 32 })));
  const packetizer = new OpusPacketizer({ payloadType: 111, ssrc: 3, sequenceNumber: 65500, timestampBase: 0xffff0000 });
  let ticks = 0;
  const packets = opus.map((o) => {
    const p = packetizer.packetize(o, ticks);
    ticks += opusPacketSamples(o);
    return p;
  });
  const r = run(packets.filter((_, i) => i !== 10), 'opus');
  const want = packets.filter((_, i) => i !== 10).map((p) => ({ timestamp: p.timestamp, keyframe: false, data: sha(p.payload) }));
  assert.equal(summarize(r.frames), want);
  assert.ok(r.frames.every((f) => f.kind === 'audio'));
  assert.equal(r.depacketizer, { frames: packets.length - 1, droppedFrames: 0, skippedPackets: 0 });
  assert.is(r.needsKeyframe, false);
  assert.equal(r.reorder, { ...zero, lost: 1 });
});

test('createDepacketizer: one class per codec', () => {
  assert.instance(createDepacketizer('h264'), H264FrameDepacketizer);
  assert.instance(createDepacketizer('vp8'), Vp8Depacketizer);
  assert.instance(createDepacketizer('opus'), OpusDepacketizer);
  assert.throws(() => createDepacketizer('av1' as 'h264'), (err: unknown) => err instanceof TypeError);
  assert.is(createDepacketizer('h264').needsKeyframe, true);
  assert.is(createDepacketizer('vp8').needsKeyframe, true);
});

test.run();
