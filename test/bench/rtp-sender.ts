// Load generator for `npm run bench -- ingest`: many cameras' plain RTP (H.264 + Opus) from one
// process, so the machine's CPU goes to what is measured, not to simulating cameras.
//
// Started by ingest.ts with fork() (IPC). The fixture is packetized once (RFC 6184 mode 1 and RFC
// 7587, 1200-byte payloads, as camera/rtp.ts does for WebRTC cameras) into templates; per camera
// and packet only the sequence number, timestamp and SSRC are written into a copy in a ring slab,
// which is sent over that camera's connected UDP socket. Every camera is paced in real time from
// its own start instant (spread over a second, so keyframes of different cameras do not coincide);
// a 10 ms tick sends whatever became due. Each camera also sends an RTCP sender report per stream
// every second, as a real camera does. PLIs and NACKs coming back are counted and ignored (the
// fixture has a keyframe every second anyway).
//
// Messages in:  { type: 'init', videoFile, audioFile, fps, videoPt, audioPt }  → { type: 'ready', ... }
//               { type: 'add', cameras: [{ index, port, videoSsrc, audioSsrc }] } → { type: 'added', cameras }
//               { type: 'stats' } → { type: 'stats', ... } (counters since the start; maxLagMs since the last stats)
//               { type: 'stop' } → exits
import dgram from 'node:dgram';
import fs from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { H264Packetizer, OpusPacketizer, opusPacketSamples, parseAnnexB, parseOggOpus } from '../../camera/index.ts';

export interface SenderInit {
  type: 'init';
  videoFile: string;
  audioFile: string;
  fps: number;
  videoPt: number;
  audioPt: number;
}
export interface SenderCamera {
  index: number;
  port: number;
  videoSsrc: number;
  audioSsrc: number;
}
export interface SenderStats {
  type: 'stats';
  cameras: number;
  packets: number;
  bytes: number;
  rtcpIn: number;
  sendErrors: number;
  /** Largest delay of a tick behind the earliest packet it sent, since the previous stats. */
  maxLagMs: number;
  /** Times pacing restarted because the process fell more than a second behind. */
  resets: number;
}
export type SenderMessage = SenderInit | { type: 'add'; cameras: SenderCamera[] } | { type: 'stats' } | { type: 'stop' };

const TICK_MS = 10;
const MAX_LAG_MS = 1000;
const SLAB_BYTES = 64 * 1024 * 1024; // ~2.5 s of 200 cameras before a region is reused
const NTP_EPOCH_OFFSET_S = 2_208_988_800;

/** One loop of the media as RTP packet templates (12-byte header with seq/ts/ssrc zero). */
interface Loop {
  template: Buffer;
  /** Per packet: byte offset and length in `template`, and its media time within the loop. */
  offset: number[];
  length: number[];
  ticks: number[];
  /** Per unit (video frame / audio packet): index of its first packet; one extra entry at the end. */
  first: number[];
  /** Media time of each unit within the loop, and the loop's length in ticks. */
  unitTicks: number[];
  loopTicks: number;
}

interface Cam {
  index: number;
  socket: dgram.Socket;
  videoSsrc: number;
  audioSsrc: number;
  videoSeq: number;
  audioSeq: number;
  videoTsBase: number;
  audioTsBase: number;
  /** performance.now() at media time 0. */
  start: number;
  videoUnits: number;
  audioUnits: number;
  videoPackets: number;
  videoOctets: number;
  audioPackets: number;
  audioOctets: number;
  nextReportMs: number;
}

let video: Loop | undefined;
let audio: Loop | undefined;
let fps = 30;
const cams: Cam[] = [];
const slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabAt = 0;
const stats = { packets: 0, bytes: 0, rtcpIn: 0, sendErrors: 0, maxLagMs: 0, resets: 0 };
let timer: NodeJS.Timeout | undefined;

function buildLoop(units: { packets: { header1: number; payload: Uint8Array }[]; ticks: number }[], loopTicks: number): Loop {
  const total = units.reduce((n, u) => n + u.packets.reduce((m, p) => m + 12 + p.payload.length, 0), 0);
  const template = Buffer.alloc(total);
  const loop: Loop = { template, offset: [], length: [], ticks: [], first: [], unitTicks: [], loopTicks };
  let at = 0;
  for (const unit of units) {
    loop.first.push(loop.offset.length);
    loop.unitTicks.push(unit.ticks);
    for (const p of unit.packets) {
      template[at] = 0x80;
      template[at + 1] = p.header1;
      template.set(p.payload, at + 12);
      loop.offset.push(at);
      loop.length.push(12 + p.payload.length);
      loop.ticks.push(unit.ticks);
      at += 12 + p.payload.length;
    }
  }
  loop.first.push(loop.offset.length);
  return loop;
}

async function init(m: SenderInit): Promise<{ videoFrames: number; audioPackets: number; kbps: number }> {
  fps = m.fps;
  const units = parseAnnexB(new Uint8Array(await fs.readFile(m.videoFile)));
  const h264 = new H264Packetizer({ payloadType: m.videoPt, ssrc: 0, sequenceNumber: 0, timestampBase: 0 });
  const frameTicks = 90_000 / fps;
  video = buildLoop(
    units.map((u, i) => ({
      ticks: Math.round(i * frameTicks),
      packets: h264.packetize(u.nalus, 0).map((p) => ({ header1: (p.marker ? 0x80 : 0) | m.videoPt, payload: p.payload })),
    })),
    Math.round(units.length * frameTicks),
  );
  const packets = parseOggOpus(new Uint8Array(await fs.readFile(m.audioFile))).packets;
  const opus = new OpusPacketizer({ payloadType: m.audioPt, ssrc: 0, sequenceNumber: 0, timestampBase: 0 });
  let t = 0;
  audio = buildLoop(
    packets.map((p) => {
      const unit = { ticks: t, packets: [{ header1: m.audioPt, payload: opus.packetize(p, 0).payload }] };
      t += opusPacketSamples(p);
      return unit;
    }),
    t,
  );
  const seconds = video.loopTicks / 90_000;
  const kbps = Math.round(((video.template.length + audio.template.length * (seconds / (audio.loopTicks / 48_000))) * 8) / seconds / 1000);
  return { videoFrames: units.length, audioPackets: packets.length, kbps };
}

function random32(): number {
  return (Math.random() * 0x1_0000_0000) >>> 0;
}

async function addCamera(c: SenderCamera, now: number): Promise<void> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', () => void (stats.rtcpIn += 1));
  socket.on('error', () => void (stats.sendErrors += 1));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(c.port, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  // Start instants spread evenly over a second by the golden ratio, whatever the camera count.
  const phase = ((c.index * 0.618_033_988_75) % 1) * 1000;
  cams.push({
    index: c.index,
    socket,
    videoSsrc: c.videoSsrc >>> 0,
    audioSsrc: c.audioSsrc >>> 0,
    videoSeq: random32() & 0xffff,
    audioSeq: random32() & 0xffff,
    videoTsBase: random32(),
    audioTsBase: random32(),
    start: now + phase,
    videoUnits: 0,
    audioUnits: 0,
    videoPackets: 0,
    videoOctets: 0,
    audioPackets: 0,
    audioOctets: 0,
    nextReportMs: now + phase + 1000,
  });
}

/** Copies packet `p` of `loop` into the slab with the camera's header fields and sends it. */
function sendPacket(cam: Cam, loop: Loop, p: number, seq: number, timestamp: number, ssrc: number): number {
  const len = loop.length[p]!;
  if (slabAt + len > slab.length) slabAt = 0;
  const at = slabAt;
  slabAt += len;
  loop.template.copy(slab, at, loop.offset[p]!, loop.offset[p]! + len);
  slab.writeUInt16BE(seq, at + 2);
  slab.writeUInt32BE(timestamp, at + 4);
  slab.writeUInt32BE(ssrc, at + 8);
  cam.socket.send(slab, at, len);
  stats.packets += 1;
  stats.bytes += len;
  return len - 12;
}

function senderReport(cam: Cam, ssrc: number, rtpTs: number, packets: number, octets: number, now: number): void {
  if (slabAt + 28 > slab.length) slabAt = 0;
  const at = slabAt;
  slabAt += 28;
  const wallMs = performance.timeOrigin + now;
  slab[at] = 0x80;
  slab[at + 1] = 200;
  slab.writeUInt16BE(6, at + 2);
  slab.writeUInt32BE(ssrc, at + 4);
  slab.writeUInt32BE((Math.floor(wallMs / 1000) + NTP_EPOCH_OFFSET_S) >>> 0, at + 8);
  slab.writeUInt32BE(Math.floor(((wallMs % 1000) / 1000) * 0x1_0000_0000) >>> 0, at + 12);
  slab.writeUInt32BE(rtpTs >>> 0, at + 16);
  slab.writeUInt32BE(packets >>> 0, at + 20);
  slab.writeUInt32BE(octets >>> 0, at + 24);
  cam.socket.send(slab, at, 28);
}

function tick(): void {
  const v = video!;
  const a = audio!;
  const now = performance.now();
  const frameMs = 1000 / fps;
  const videoFrames = v.unitTicks.length;
  const audioPackets = a.unitTicks.length;
  for (const cam of cams) {
    if (now < cam.start) continue;
    // Fell behind by more than a second (the machine stalled): restart pacing instead of bursting.
    const videoDue = cam.start + cam.videoUnits * frameMs;
    if (now - videoDue > MAX_LAG_MS) {
      cam.start += now - videoDue;
      stats.resets += 1;
    }
    let earliest = Infinity;
    while (cam.start + cam.videoUnits * frameMs <= now) {
      earliest = Math.min(earliest, cam.start + cam.videoUnits * frameMs);
      const u = cam.videoUnits % videoFrames;
      const loops = Math.floor(cam.videoUnits / videoFrames);
      const ts = (cam.videoTsBase + loops * v.loopTicks + v.unitTicks[u]!) % 0x1_0000_0000;
      for (let p = v.first[u]!; p < v.first[u + 1]!; p++) {
        cam.videoOctets += sendPacket(cam, v, p, cam.videoSeq, ts, cam.videoSsrc);
        cam.videoSeq = (cam.videoSeq + 1) & 0xffff;
        cam.videoPackets += 1;
      }
      cam.videoUnits += 1;
    }
    for (;;) {
      const u = cam.audioUnits % audioPackets;
      const loops = Math.floor(cam.audioUnits / audioPackets);
      const mediaTicks = loops * a.loopTicks + a.unitTicks[u]!;
      const due = cam.start + mediaTicks / 48;
      if (due > now) break;
      earliest = Math.min(earliest, due);
      cam.audioOctets += sendPacket(cam, a, a.first[u]!, cam.audioSeq, (cam.audioTsBase + mediaTicks) % 0x1_0000_0000, cam.audioSsrc);
      cam.audioSeq = (cam.audioSeq + 1) & 0xffff;
      cam.audioPackets += 1;
      cam.audioUnits += 1;
    }
    if (earliest !== Infinity) stats.maxLagMs = Math.max(stats.maxLagMs, now - earliest);
    if (now >= cam.nextReportMs) {
      cam.nextReportMs += 1000;
      const elapsed = now - cam.start;
      senderReport(cam, cam.videoSsrc, cam.videoTsBase + Math.round(elapsed * 90), cam.videoPackets, cam.videoOctets, now);
      senderReport(cam, cam.audioSsrc, cam.audioTsBase + Math.round(elapsed * 48), cam.audioPackets, cam.audioOctets, now);
    }
  }
}

function reply(message: object): void {
  process.send?.(message);
}

process.on('disconnect', () => process.exit(0));
process.on('message', (raw) => {
  const m = raw as SenderMessage;
  void (async () => {
    try {
      if (m.type === 'init') {
        const info = await init(m);
        timer = setInterval(tick, TICK_MS);
        reply({ type: 'ready', ...info });
      } else if (m.type === 'add') {
        const now = performance.now();
        for (const c of m.cameras) await addCamera(c, now);
        reply({ type: 'added', cameras: cams.length });
      } else if (m.type === 'stats') {
        const out: SenderStats = { type: 'stats', cameras: cams.length, ...stats };
        stats.maxLagMs = 0;
        reply(out);
      } else if (m.type === 'stop') {
        clearInterval(timer);
        for (const c of cams) c.socket.close();
        process.exit(0);
      }
    } catch (error) {
      reply({ type: 'error', message: (error as Error).stack ?? String(error) });
    }
  })();
});
