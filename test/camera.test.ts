// The synthetic camera module: pure format code (Annex-B, Ogg, RTP) on handmade bytes, the fixture
// files ffmpeg makes, and Camera → Viewer end to end through a tiny in-process WHIP/WHEP relay
// made of werift peers (no Mimamori server needed).
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MediaStreamTrack, RTCPeerConnection, type RTCRtpReceiver, type RTCRtpSender, type RtpPacket } from 'werift';
import {
  addEmulationPrevention,
  AudioLoop,
  Camera,
  CameraError,
  decodeStamp,
  encodeStamp,
  findStamp,
  ensureAudioFixture,
  ensureVideoFixture,
  FixtureError,
  FormatError,
  groupAccessUnits,
  H264Packetizer,
  hashAccessUnit,
  hashSample,
  matchFrames,
  oggCrc,
  opusPacketSamples,
  OpusPacketizer,
  parseAnnexB,
  parseOggOpus,
  parseOggPackets,
  removeEmulationPrevention,
  rtpTimestamp,
  sampleNalus,
  seqAdd,
  seqDiff,
  splitAnnexB,
  stampAccessUnit,
  toAnnexB,
  VideoLoop,
  Viewer,
  WhipError,
  type AccessUnit,
  type ReceivedFrame,
} from '../camera/index.ts';
import { h264Codec, opusCodec } from '../camera/peer.ts';
import { H264FrameDepacketizer } from '../recorder/rtp/index.ts';

const bytes = (...b: number[]) => new Uint8Array(b);
const isFormatError = (e: unknown) => e instanceof FormatError;
const hex = (a: Uint8Array) => Buffer.from(a).toString('hex');
const nalHex = (nalus: readonly Uint8Array[]) => nalus.map(hex);

// Handmade NAL units. Slice byte 1: bit 7 set ⇔ first_mb_in_slice == 0 (ue(v) '1').
const SPS = bytes(0x67, 0x42, 0xc0, 0x1f, 0xd9);
const PPS = bytes(0x68, 0xcb, 0x8c, 0xb2);
const SEI = bytes(0x06, 0x05, 0x01, 0x80);
const AUD = bytes(0x09, 0xf0);
const IDR_A = bytes(0x65, 0x88, 0x84, 0x21); // IDR, first slice
const IDR_B = bytes(0x65, 0x40, 0x11, 0x22); // IDR, second slice (first_mb = 1)
const P1_A = bytes(0x41, 0x9a, 0x01, 0x02); // non-IDR, first slice
const P1_B = bytes(0x41, 0x22, 0x33, 0x44); // non-IDR, later slice
const P2 = bytes(0x41, 0x9a, 0x05, 0x06);

// --- Annex-B ------------------------------------------------------------------------------------

test('splitAnnexB: 3- and 4-byte start codes, leading and trailing zeros', () => {
  const stream = bytes(0, 0, 0, 0, 1, ...SPS, 0, 0, 1, ...PPS, 0, 0, 0, 0, 0, 1, ...IDR_A, 0, 0);
  assert.equal(nalHex(splitAnnexB(stream)), nalHex([SPS, PPS, IDR_A]));
  assert.equal(splitAnnexB(bytes()), []);
  assert.throws(() => splitAnnexB(bytes(0x12, 0, 0, 1, 0x67)), (e: unknown) => e instanceof FormatError && /garbage/.test(e.message));
  assert.throws(() => splitAnnexB(bytes(0x67, 0x42, 0x00)), isFormatError);
});

test('groupAccessUnits: AU starts at SPS/PPS/SEI/AUD or a first slice after a slice; keyframes marked', () => {
  const units = groupAccessUnits([SPS, PPS, IDR_A, IDR_B, P1_A, P1_B, SEI, P2, AUD, P2, SPS]);
  assert.equal(
    units.map((u) => ({ nalus: nalHex(u.nalus), keyframe: u.keyframe })),
    [
      { nalus: nalHex([SPS, PPS, IDR_A, IDR_B]), keyframe: true },
      { nalus: nalHex([P1_A, P1_B]), keyframe: false },
      { nalus: nalHex([SEI, P2]), keyframe: false },
      { nalus: nalHex([AUD, P2]), keyframe: false },
      // the trailing lone SPS holds no picture and is dropped
    ],
  );
  const stream = toAnnexB([SPS, PPS, IDR_A, P1_A]);
  assert.equal(parseAnnexB(stream).map((u) => u.nalus.length), [3, 1]);
});

test('hashAccessUnit: SHA-256 of 4-byte big-endian length + NAL, per NAL of the recorded sample; boundaries matter', () => {
  const expected = createHash('sha256')
    .update(Buffer.from([0, 0, 0, SEI.length])).update(SEI)
    .update(Buffer.from([0, 0, 0, IDR_A.length])).update(IDR_A)
    .digest('hex');
  // Parameter sets and the AUD are not part of a sample (they go to the track's config).
  assert.is(hashAccessUnit([AUD, SPS, PPS, SEI, IDR_A]), expected);
  assert.is(hashSample(avcc([SEI, IDR_A])), expected);
  assert.equal(nalHex(sampleNalus(avcc([SEI, IDR_A]))), nalHex([SEI, IDR_A]));
  assert.is.not(hashAccessUnit([bytes(1, 2), bytes(3)]), hashAccessUnit([bytes(1), bytes(2, 3)]));
});

test('emulation prevention round trip', () => {
  const rbsp = bytes(0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0, 4, 0, 0);
  const escaped = addEmulationPrevention(rbsp);
  assert.equal([...escaped], [0, 0, 3, 0, 0, 3, 0, 1, 0, 0, 3, 2, 0, 0, 3, 3, 0, 0, 4, 0, 0]);
  assert.equal([...removeEmulationPrevention(escaped)], [...rbsp]);
});

test('FrameStamp SEI: round trip through emulation prevention, placed before the first slice', () => {
  const stamp = { source: '0000000000000001', frame: 0x00000300, sentAt: 1_700_000_000_123.25 };
  const sei = encodeStamp(stamp);
  assert.is(sei[0], 0x06);
  assert.ok(sei.length > 1 + 2 + 16 + 20 + 1, 'zeros in the payload were escaped');
  for (let i = 2; i < sei.length; i++) assert.ok(!(sei[i - 2] === 0 && sei[i - 1] === 0 && sei[i]! <= 3 && sei[i] !== 3), 'no start-code-like bytes');
  assert.equal(decodeStamp(sei), stamp);
  assert.is(decodeStamp(SEI), undefined); // someone else's SEI
  const unit = stampAccessUnit([SPS, PPS, IDR_A, IDR_B], stamp);
  assert.equal(unit.map((n) => n[0]! & 0x1f), [7, 8, 6, 5, 5]);
  assert.equal(findStamp(unit), stamp);
  assert.equal(groupAccessUnits(splitAnnexB(toAnnexB([...unit, ...stampAccessUnit([P1_A], { ...stamp, frame: 1 })]))).map((u) => findStamp(u.nalus)?.frame), [0x300, 1]);
  assert.throws(() => encodeStamp({ ...stamp, source: 'xyz' }), (e: unknown) => e instanceof TypeError);
});

// --- RTP ----------------------------------------------------------------------------------------

function bigNal(size: number, seed: number): Uint8Array {
  const nal = new Uint8Array(size);
  nal[0] = 0x65;
  for (let i = 1; i < size; i++) nal[i] = (i * 31 + seed) & 0xff;
  return nal;
}

/** A parameter set the recorder's depacketizer can parse (main profile, 1920×1080). */
const REAL_SPS = Buffer.from('674d4028eca03c0113f2e022000003000200000300281e30632c', 'hex');

const avcc = (nalus: readonly Uint8Array[]) => Buffer.concat(nalus.flatMap((n) => [Buffer.from([0, 0, 0, n.length]), n]));

/** Packetized, then depacketized by the recorder's depacketizer (the viewer's too): each sample's hash. */
function roundTrip(units: AccessUnit[], packetizer: H264Packetizer) {
  const depacketizer = new H264FrameDepacketizer();
  const out: string[] = [];
  units.forEach((u, n) => {
    for (const packet of packetizer.packetize(u.nalus, n * 3000)) {
      for (const frame of depacketizer.push({ packet, lost: 0 })) out.push(hashSample(frame.data));
    }
  });
  return { out, stats: depacketizer.stats };
}

test('H264Packetizer: single NAL packets and FU-A, marker on the last, payloads ≤ max; depacketize gives the same bytes', () => {
  const big = bigNal(5000, 7);
  const packetizer = new H264Packetizer({ payloadType: 102, ssrc: 0xdeadbeef, sequenceNumber: 100, timestampBase: 1000 });
  const packets = packetizer.packetize([SPS, PPS, big], 90);
  const fuCount = Math.ceil((big.length - 1) / (1200 - 2));
  assert.is(packets.length, 2 + fuCount);
  assert.equal(packets.map((p) => p.marker), [...Array(1 + fuCount).fill(false), true]);
  assert.equal(packets.map((p) => p.sequenceNumber), packets.map((_, i) => 100 + i));
  assert.ok(packets.every((p) => p.timestamp === 1090 && p.ssrc === 0xdeadbeef && p.payloadType === 102));
  assert.ok(packets.every((p) => p.payload.length <= 1200));
  assert.equal(hex(packets[0]!.payload), hex(SPS)); // small NAL sent whole
  const fus = packets.slice(2);
  assert.ok(fus.every((p) => (p.payload[0]! & 0x1f) === 28 && (p.payload[0]! & 0xe0) === (big[0]! & 0xe0)));
  assert.equal(fus.map((p) => p.payload[1]! & 0xc0), [0x80, ...Array(fuCount - 2).fill(0), 0x40]);
  assert.ok(fus.every((p) => (p.payload[1]! & 0x1f) === 5));

  const units: AccessUnit[] = [
    { nalus: [REAL_SPS, PPS, big], keyframe: true },
    { nalus: [P1_A, P1_B], keyframe: false },
    { nalus: [bigNal(1201, 3)], keyframe: true }, // one byte over: smallest FU-A split
    { nalus: [bigNal(1200, 4)], keyframe: true }, // exactly the limit: single NAL packet
  ];
  const { out, stats } = roundTrip(units, new H264Packetizer({ payloadType: 96, ssrc: 1, sequenceNumber: 0, timestampBase: 0 }));
  assert.equal(out, units.map((u) => hashAccessUnit(u.nalus)));
  assert.equal(stats, { frames: 4, droppedFrames: 0, skippedPackets: 0 });
});

test('sequence numbers and timestamps wrap', () => {
  assert.is(seqAdd(65535, 1), 0);
  assert.is(seqDiff(65535, 0), 1);
  assert.is(seqDiff(0, 65535), -1);
  assert.is(rtpTimestamp(2 ** 32 - 100, 3000), 2900);
  const packetizer = new H264Packetizer({ payloadType: 96, ssrc: 1, sequenceNumber: 65534, timestampBase: 2 ** 32 - 3000 });
  const units: AccessUnit[] = [
    { nalus: [REAL_SPS, PPS, bigNal(2500, 1)], keyframe: true }, // 2 + 3 packets: seq 65534, 65535, 0, 1, 2
    { nalus: [P1_A], keyframe: false },
  ];
  const packets = units.flatMap((u, n) => packetizer.packetize(u.nalus, n * 3000));
  assert.equal(packets.map((p) => p.sequenceNumber), [65534, 65535, 0, 1, 2, 3]);
  assert.equal(packets.map((p) => p.timestamp), [...Array(5).fill(2 ** 32 - 3000), 0]);
  const { out, stats } = roundTrip(units, new H264Packetizer({ payloadType: 96, ssrc: 1, sequenceNumber: 65534, timestampBase: 0 }));
  assert.equal(out, units.map((u) => hashAccessUnit(u.nalus)));
  assert.is(stats.droppedFrames, 0);
  const opus = new OpusPacketizer({ payloadType: 111, ssrc: 2, sequenceNumber: 65535, timestampBase: 0 });
  assert.equal([opus.packetize(bytes(0xfc), 0), opus.packetize(bytes(0xfc), 960)].map((p) => [p.sequenceNumber, p.timestamp]), [[65535, 0], [0, 960]]);
});

// --- Ogg / Opus ---------------------------------------------------------------------------------

function oggPage(serial: number, seq: number, flags: number, lacing: number[], body: Uint8Array): Uint8Array {
  const page = new Uint8Array(27 + lacing.length + body.length);
  const view = new DataView(page.buffer);
  page.set([0x4f, 0x67, 0x67, 0x53, 0, flags]);
  view.setUint32(14, serial, true);
  view.setUint32(18, seq, true);
  page[26] = lacing.length;
  page.set(lacing, 27);
  page.set(body, 27 + lacing.length);
  view.setUint32(22, oggCrc(page), true);
  return page;
}

test('parseOggPackets: lacing, packets spanning pages, other streams ignored, CRC checked', () => {
  const a = bigNal(600, 1); // 255 + 255 + 90, split over two pages
  const b = bigNal(510, 2); // exactly 2 × 255: needs a terminating 0 lacing value
  const c = bytes(1, 2, 3);
  const file = Buffer.concat([
    oggPage(7, 0, 0x02, [255, 255], a.subarray(0, 510)),
    oggPage(9, 0, 0x02, [3], bytes(9, 9, 9)), // another logical stream
    oggPage(7, 1, 0x01, [90, 255, 255, 0, 3], Buffer.concat([a.subarray(510), b, c])),
  ]);
  assert.equal(parseOggPackets(file).map(hex), [a, b, c].map(hex));
  const corrupt = Uint8Array.from(file);
  corrupt[40] = corrupt[40]! ^ 1;
  assert.throws(() => parseOggPackets(corrupt), (e: unknown) => e instanceof FormatError && /CRC/.test(e.message));
});

test('opusPacketSamples: TOC config and frame count', () => {
  assert.is(opusPacketSamples(bytes(0xfc)), 960); // config 31 (CELT 20 ms), 1 frame
  assert.is(opusPacketSamples(bytes(0x09)), 1920); // config 1 (SILK 20 ms), code 1: 2 frames
  assert.is(opusPacketSamples(bytes(0x83, 0x03)), 360); // config 16 (CELT 2.5 ms), code 3: 3 frames
  assert.throws(() => opusPacketSamples(bytes(0x1b, 0x03)), isFormatError); // 3 × 60 ms > 120 ms
});

test('fixtures: ffmpeg output parses to 1 s GOPs and 20 ms Opus packets', async () => {
  const seconds = 2;
  const videoFile = await ensureVideoFixture({ width: 320, height: 180, fps: 15, kbps: 300, seconds, profile: 'baseline' });
  const units = parseAnnexB(new Uint8Array(await fs.readFile(videoFile)));
  assert.is(units.length, 15 * seconds);
  assert.equal(units.flatMap((u, i) => (u.keyframe ? [i] : [])), [0, 15]);
  for (const i of [0, 15]) assert.equal(units[i]!.nalus.slice(0, 2).map((n) => n[0]! & 0x1f), [7, 8]); // SPS, PPS first
  assert.is(units[0]!.nalus[0]![1], 0x42); // profile_idc 66: baseline

  const audioFile = await ensureAudioFixture({ seconds, kbps: 32 });
  const opus = parseOggOpus(new Uint8Array(await fs.readFile(audioFile)));
  assert.is(opus.channels, 1);
  assert.ok(opus.preSkip > 0);
  const durations = opus.packets.map(opusPacketSamples);
  assert.ok(durations.every((d) => d === 960), 'every packet lasts 20 ms');
  const total = durations.reduce((s, d) => s + d, 0);
  assert.ok(total >= seconds * 48_000 && total <= seconds * 48_000 + 2 * 960, `total ${total} samples`);
});

test('fixtures: cached by parameters under MIMAMORI_CACHE; a clear error without ffmpeg', async () => {
  const cache = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-fixtures-'));
  try {
    const params = { width: 160, height: 90, fps: 10, kbps: 100, seconds: 1, profile: 'baseline' as const };
    const file = await ensureVideoFixture(params, { ...process.env, MIMAMORI_CACHE: cache });
    assert.is(path.dirname(file), path.join(cache, 'fixtures'));
    assert.match(path.basename(file), /160x90-10fps-100k-1s-baseline\.h264$/);
    const { mtimeMs } = await fs.stat(file);
    assert.is(await ensureVideoFixture(params, { ...process.env, MIMAMORI_CACHE: cache, MIMAMORI_FFMPEG: '/nonexistent' }), file); // cached: ffmpeg not needed
    assert.is((await fs.stat(file)).mtimeMs, mtimeMs);
    assert.equal(await fs.readdir(path.join(cache, 'fixtures')), [path.basename(file)]); // no temp files left
    const err = await ensureAudioFixture({ seconds: 1, kbps: 32 }, { ...process.env, MIMAMORI_CACHE: cache, MIMAMORI_FFMPEG: '/nonexistent/ffmpeg' }).catch((e: unknown) => e);
    assert.ok(err instanceof FixtureError && err.code === 'ffmpeg_missing', String(err));
    assert.match(err.message, /apt-get install -y ffmpeg/);
  } finally {
    await fs.rm(cache, { recursive: true, force: true });
  }
});

test('VideoLoop and AudioLoop: monotonic media time across loops; keyframe requests jump ahead', () => {
  const K = { nalus: [SPS, PPS, IDR_A], keyframe: true };
  const P = { nalus: [P1_A], keyframe: false };
  const loop = new VideoLoop([K, P, P, P, K, P, P, P], 8);
  const first = Array.from({ length: 11 }, () => loop.next());
  assert.equal(first.map((s) => s.ticks), first.map((_, i) => Math.floor((i * 90_000) / 8)));
  assert.equal(first.map((s) => s.unit.keyframe), [true, false, false, false, true, false, false, false, true, false, false]);
  assert.is(loop.requestKeyframe(), true); // 3 frames since the last keyframe: over the quarter-second throttle
  const next = loop.next(); // content jumps to the file's next keyframe; media time does not jump
  assert.is(next.unit, K);
  assert.is(next.ticks, Math.floor((11 * 90_000) / 8));
  assert.is(loop.requestKeyframe(), false); // a keyframe just went out
  assert.throws(() => new VideoLoop([P, K], 8), isFormatError);

  const audio = new AudioLoop([bytes(0xfc), bytes(0x09)]); // 960 and 1920 samples
  assert.equal(Array.from({ length: 5 }, () => audio.next().ticks), [0, 960, 2880, 3840, 5760]);
});

test('matchFrames: in-order subsequence with repeats', () => {
  assert.equal(matchFrames(['a', 'b', 'c', 'a', 'b'], ['c', 'a', 'b']), { matched: 3, unmatched: 0, firstUnmatched: -1, firstSentIndex: 2 });
  assert.equal(matchFrames(['a', 'b', 'c'], ['b', 'a']), { matched: 1, unmatched: 1, firstUnmatched: 1, firstSentIndex: 1 });
  assert.equal(matchFrames(['a'], ['x']), { matched: 0, unmatched: 1, firstUnmatched: 0, firstSentIndex: -1 });
});

// --- End to end through an in-process WHIP/WHEP relay --------------------------------------------

const TOKEN = 'test-token';

/**
 * A one-camera SFU stand-in: WHIP publishers' RTP is forwarded to every WHEP viewer by werift
 * peers, viewers' PLIs go back to the publisher. Errors as `{ error: { code, message } }`.
 */
class MiniRelay {
  readonly sessions = new Map<string, RTCPeerConnection>();
  readonly offers: string[] = [];
  readonly #viewerSenders = new Map<string, { video: RTCRtpSender; audio: RTCRtpSender }>();
  #publisher: { receiver: RTCRtpReceiver; ssrc?: number } | undefined;
  #nextId = 1;
  readonly #server: http.Server;
  url = '';

  static async create(): Promise<MiniRelay> {
    const relay = new MiniRelay();
    await new Promise<void>((resolve) => relay.#server.listen(0, '127.0.0.1', resolve));
    relay.url = `http://127.0.0.1:${(relay.#server.address() as AddressInfo).port}`;
    return relay;
  }

  private constructor() {
    this.#server = http.createServer((req, res) => {
      this.#handle(req, res).catch((err: Error) => this.#fail(res, 500, 'internal', err.message));
    });
  }

  #fail(res: http.ServerResponse, status: number, code: string, message: string) {
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { code, message } }));
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse) {
    if (req.url === '/broken') {
      res.writeHead(502, { 'Content-Type': 'text/html' }).end('<html>bad gateway</html>');
      return;
    }
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return this.#fail(res, 401, 'unauthorized', 'bad token');
    if (req.method === 'DELETE') {
      const pc = this.sessions.get(req.url ?? '');
      if (!pc) return this.#fail(res, 404, 'session_not_found', 'no such session');
      this.sessions.delete(req.url!);
      this.#viewerSenders.delete(req.url!);
      await pc.close();
      res.writeHead(200).end();
      return;
    }
    let offer = '';
    for await (const chunk of req) offer += chunk;
    if (req.headers['content-type'] !== 'application/sdp') return this.#fail(res, 415, 'unsupported_media_type', 'want application/sdp');
    this.offers.push(offer);
    const pc = new RTCPeerConnection({
      bundlePolicy: 'max-bundle',
      iceUseIpv6: false,
      iceAdditionalHostAddresses: ['127.0.0.1'],
      codecs: { video: [h264Codec()], audio: [opusCodec()] },
    });
    const id = `/session/${this.#nextId++}`;
    if (req.url === '/whip') {
      pc.onTrack.subscribe((track) => {
        const receiver = pc.getTransceivers().find((t) => t.kind === track.kind)!.receiver;
        if (track.kind === 'video') this.#publisher = { receiver };
        track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
          if (track.kind === 'video' && this.#publisher) this.#publisher.ssrc = rtp.header.ssrc;
          for (const s of this.#viewerSenders.values()) void s[track.kind as 'video' | 'audio'].sendRtp(rtp);
        });
      });
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    } else if (req.url === '/whep') {
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      const video = pc.addTrack(new MediaStreamTrack({ kind: 'video' }));
      const audio = pc.addTrack(new MediaStreamTrack({ kind: 'audio' }));
      // werift routes an incoming PLI by its sender SSRC first, which here is the viewer's own
      // (announced in its recvonly offer), so the PLI may land on the receiver instead of the sender.
      const forwardPli = () => {
        if (this.#publisher?.ssrc !== undefined) void this.#publisher.receiver.sendRtcpPLI(this.#publisher.ssrc);
      };
      video.onPictureLossIndication.subscribe(forwardPli);
      pc.getTransceivers().find((t) => t.sender === video)!.receiver.onRtcp.subscribe((rtcp) => {
        if (rtcp.type === 206 && rtcp.feedback.count === 1) forwardPli();
      });
      this.#viewerSenders.set(id, { video, audio });
    } else {
      return this.#fail(res, 404, 'not_found', 'no such endpoint');
    }
    await pc.setLocalDescription(await pc.createAnswer());
    if (pc.iceGatheringState !== 'complete') await pc.iceGatheringStateChange.watch((s) => s === 'complete');
    this.sessions.set(id, pc);
    res.writeHead(201, { 'Content-Type': 'application/sdp', Location: id }).end(pc.localDescription!.sdp);
  }

  async close() {
    await Promise.all([...this.sessions.values()].map((pc) => pc.close()));
    this.sessions.clear();
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

test('Camera → relay → Viewer: every received frame is bit-identical to one sent, in order', async () => {
  const relay = await MiniRelay.create();
  let camera: Camera | undefined;
  let viewer: Viewer | undefined;
  try {
    camera = await Camera.create({
      whipUrl: `${relay.url}/whip`, token: TOKEN, width: 320, height: 180, fps: 15, kbps: 300, fixtureSeconds: 2, audio: true,
    });
    assert.is(camera.state, 'connected');
    assert.is(camera.location, `${relay.url}/session/1`);
    // The offer is what an ICE-lite SFU needs: all candidates inline, H.264 mode 1, SSRCs, one id per extension URI.
    const offer = relay.offers[0]!;
    assert.match(offer, /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/);
    assert.match(offer, /a=end-of-candidates/);
    assert.match(offer, /a=fmtp:\d+ level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f/);
    assert.match(offer, /a=rtpmap:\d+ opus\/48000\/2/);
    assert.is(offer.match(/a=sendonly/g)?.length, 2);
    assert.is(offer.match(/a=ssrc:\d+ cname:/g)?.length, 2);
    const extmap = [...offer.matchAll(/a=extmap:(\d+) (\S+)/g)].map((m) => `${m[1]} ${m[2]}`);
    assert.is(new Set(extmap.map((e) => e.split(' ')[1])).size, new Set(extmap).size, `extension ids: ${extmap.join(', ')}`);
    await new Promise((r) => setTimeout(r, 300)); // the viewer joins mid-GOP
    viewer = await Viewer.create({ whepUrl: `${relay.url}/whep`, token: TOKEN });
    const received: ReceivedFrame[] = [];
    viewer.on('frame', (f) => received.push(f));
    await viewer.waitForFrames(25, 8000);

    const m = matchFrames(camera.frames, viewer.frames);
    assert.is(m.unmatched, 0, `first unmatched at ${m.firstUnmatched}`);
    assert.ok(m.matched >= 25);
    assert.ok(m.firstSentIndex > 0, 'the viewer joined after the camera started');
    // Stamps make every sent frame unique even though the 2 s fixture looped.
    assert.ok(camera.stats.framesSent > 30, `sent ${camera.stats.framesSent}`);
    assert.is(new Set(camera.frames).size, camera.frames.length);
    assert.ok(received.length >= 25);
    assert.ok(received.every((f) => f.stamp?.source === camera!.stampId));
    assert.ok(received.every((f, i) => i === 0 || f.stamp!.frame === received[i - 1]!.stamp!.frame + 1), 'consecutive frame numbers');
    assert.is(received[0]!.stamp!.frame, m.firstSentIndex);
    const latencies = received.map((f) => f.receivedAt - f.stamp!.sentAt);
    assert.ok(latencies.every((l) => l >= 0 && l < 1000), `latencies ${latencies.map((l) => l.toFixed(1)).join(' ')}`);
    assert.ok(received[0]!.keyframe, 'the first whole frame is a keyframe (it starts with SPS)');
    const vs = viewer.stats;
    assert.ok(vs.keyframesReceived >= 1);
    assert.is(vs.framesDropped, 0);
    assert.ok(vs.pliSent >= 1);
    assert.ok(vs.audioPacketsReceived > 20, `audio packets ${vs.audioPacketsReceived}`);
    assert.ok(viewer.firstFrameAt !== undefined && viewer.firstFrameAt >= viewer.createdAt);
    // The viewer's PLI reached the camera, which jumped to a keyframe instead of waiting up to 1 s.
    const cs = camera.stats;
    assert.ok(cs.keyframeRequests >= 1, 'camera saw the PLI');
    assert.ok(cs.framesSent >= camera.frames.length && cs.videoPacketsSent >= cs.framesSent);
    assert.is(cs.sendErrors, 0);

    const closed = new Promise((resolve) => viewer!.once('closed', resolve));
    await Promise.all([viewer.close(), viewer.close()]);
    assert.equal(await closed, { reason: 'closed' });
    assert.is(relay.sessions.has('/session/2'), false, 'DELETE reached the relay');
    await camera.close();
    assert.is(camera.state, 'closed');
    assert.is(relay.sessions.size, 0);
    await assert.not.throws(() => camera!.close());
    await viewer.waitForFrames(1e9, 10).then(
      () => assert.unreachable('closed viewer'),
      (e: unknown) => assert.ok(e instanceof CameraError && e.code === 'closed'),
    );
  } finally {
    await viewer?.close();
    await camera?.close();
    await relay.close();
  }
});

test('Camera with a finite duration sends fps × seconds frames, then ends', async () => {
  const relay = await MiniRelay.create();
  try {
    const camera = await Camera.create({ whipUrl: `${relay.url}/whip`, token: TOKEN, width: 320, height: 180, fps: 15, kbps: 300, fixtureSeconds: 2, seconds: 0.6, audio: false });
    const started = Date.now();
    await new Promise<void>((resolve) => camera.once('ended', () => resolve()));
    const took = Date.now() - started;
    assert.ok(took > 450 && took < 1500, `paced in real time: ${took} ms`);
    assert.is(camera.stats.framesSent, 9);
    assert.is(camera.stats.audioPacketsSent, 0);
    await camera.close();
  } finally {
    await relay.close();
  }
});

test('WHIP errors surface as WhipError with the server\'s status, code and message', async () => {
  const relay = await MiniRelay.create();
  try {
    const source = { width: 320, height: 180, fps: 15, kbps: 300, fixtureSeconds: 2, audio: false };
    const err = await Camera.create({ whipUrl: `${relay.url}/whip`, token: 'wrong', ...source }).catch((e: unknown) => e);
    assert.ok(err instanceof WhipError, String(err));
    assert.equal([err.status, err.code, err.message], [401, 'unauthorized', 'bad token']);
    const html = await Viewer.create({ whepUrl: `${relay.url}/broken`, token: TOKEN }).catch((e: unknown) => e);
    assert.ok(html instanceof WhipError && html.status === 502 && html.code === 'http_502', String(html));
    const down = await Viewer.create({ whepUrl: 'http://127.0.0.1:9/whep', token: TOKEN }).catch((e: unknown) => e);
    assert.ok(down instanceof WhipError && down.status === 0 && down.code === 'network_error', String(down));
    assert.is(relay.sessions.size, 0);
  } finally {
    await relay.close();
  }
});

test('programmer errors are TypeErrors, thrown before any I/O', async () => {
  const isTypeError = (e: unknown) => e instanceof TypeError;
  await Camera.create({ whipUrl: 'not a url', token: TOKEN }).then(() => assert.unreachable(), (e: unknown) => assert.ok(isTypeError(e), String(e)));
  await Camera.create({ whipUrl: 'http://127.0.0.1:9/whip', token: TOKEN, width: 321 }).then(() => assert.unreachable(), (e: unknown) => assert.ok(isTypeError(e), String(e)));
  await Camera.create({ whipUrl: 'http://127.0.0.1:9/whip', token: TOKEN, seconds: 0 }).then(() => assert.unreachable(), (e: unknown) => assert.ok(isTypeError(e), String(e)));
  await Viewer.create({ whepUrl: '/relative', token: TOKEN }).then(() => assert.unreachable(), (e: unknown) => assert.ok(isTypeError(e), String(e)));
});

test.run();
