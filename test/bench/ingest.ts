// `npm run bench -- ingest`: how many 1 Mbit/s cameras (H.264 640x360 30 fps ~900 kbit/s + Opus
// 32 kbit/s) the recorder keeps on this machine, recorded to the embedded S3, and its CPU per camera
// beside the usual mediasoup recipe (a PlainTransport per track feeding one `ffmpeg -c copy`
// segmenting process per camera), in the same run.
//
// Load: one child process (rtp-sender.ts) sends every camera's plain RTP, pre-packetized once, into
// a comedia PlainTransport per camera (CameraRoom.createPlainTransport + produce, with the payload
// types, SSRCs and RTCP feedback of a WebRTC camera): from the producer on, the recorder's path is
// the one of a WebRTC camera. The sender's own CPU is measured and printed apart.
//
// For each N of MIMAMORI_BENCH_CAMERAS (default 25,50,75,…,200), cameras are added up to N and:
//   1. producers: N cameras sending, nothing consuming: CPU of the mediasoup workers and of this
//      process (the baseline the recorder and ffmpeg are measured against);
//   2. ffmpeg (once, on the first step, for MIMAMORI_BENCH_FFMPEG_CAMERAS of the cameras, default
//      20): per camera a PlainTransport per track on the origin router and one ffmpeg process
//      (-c copy, 60 s mp4 segments, fragmented at keyframes); its CPU per camera is the ffmpeg
//      processes' CPU plus what the workers and this process spent beyond phase 1;
//   3. recorder: recording enabled for all N cameras; after a warm-up, a window of
//      MIMAMORI_BENCH_SECONDS (default 20): this process's CPU (recorder + embedded S3 + the SFU's
//      control plane) and the workers' CPU, each minus phase 1, per camera; fragment durability
//      (close → fsync, the recorder's own metric) p50/p99; then recording is stopped, the last
//      segments are uploaded, and every camera's recording in S3 (the index of uploaded segments)
//      is checked for holes over the window: each missing fragmentMs of media counts as a lost
//      fragment (uploads dropped for the spool quota and spool write errors show up there too).
//   A step passes if p99 ≤ 1000 ms and nothing was lost; the run stops at the first failing step.
//
// CPU figures are percent of one core (100 = one core busy), from /proc/<pid>/stat for the workers,
// the sender and ffmpeg, and process.cpuUsage() (all threads, the libuv pool doing fsync too) here.
// Segments are MIMAMORI_BENCH_SEGMENT_SECONDS long (default 10, the service's default is 60) so
// uploads to S3 happen, and are paid for, inside the window.
// Prints JSON lines; the last is the summary.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { types } from 'mediasoup';
import pino from 'pino';
import { ensureAudioFixture, ensureVideoFixture, NalType, nalType, parseAnnexB } from '../../camera/index.ts';
import { DataKeys, MasterKeys, openStorage, Recorder, type KeyCatalog, type RecorderCatalog, type Storage } from '../../recorder/index.ts';
import type { WrappedKey } from '../../recorder/seal/index.ts';
import { Sfu, type CameraRoom } from '../../sfu/index.ts';
import type { SenderCamera, SenderMessage, SenderStats } from './rtp-sender.ts';

const STEPS = (process.env.MIMAMORI_BENCH_CAMERAS ?? '25,50,75,100,125,150,175,200')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0)
  .sort((a, b) => a - b);
const FFMPEG_CAMERAS = Number(process.env.MIMAMORI_BENCH_FFMPEG_CAMERAS ?? 20);
const MEASURE_S = Number(process.env.MIMAMORI_BENCH_SECONDS ?? 20);
const BASELINE_S = Number(process.env.MIMAMORI_BENCH_BASELINE_SECONDS ?? 10);
const SEGMENT_S = Number(process.env.MIMAMORI_BENCH_SEGMENT_SECONDS ?? 10);
const WORKERS = Number(process.env.MIMAMORI_BENCH_WORKERS ?? os.availableParallelism());
const FRAGMENT_MS = 1000;
const DURABLE_LIMIT_MS = 1000;
const RECORDER_WARMUP_MS = 6000;
const VIDEO = { width: 640, height: 360, fps: 30, kbps: 900, seconds: 10, profile: 'baseline' as const };
const AUDIO = { seconds: 10, kbps: 32 };
/** The camera's payload types (a browser's usual ones); the routers remap them for consumers. */
const VIDEO_PT = 96;
const AUDIO_PT = 111;
/** Gaps shorter than this between fragments are ms rounding, not missing media (as the recorder's GAP_MIN_MS). */
const HOLE_TOLERANCE_MS = 100;

const emit = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, d = 1) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);
const here = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------------
// CPU accounting

async function procCpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, USER_HZ = 100
  } catch {
    return NaN; // exited
  }
}

function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** This process's CPU seconds by thread: the main thread (user, system), then the others by name (libuv's pool, V8's platform threads, …). */
async function selfThreads(): Promise<Record<string, number>> {
  const out: Record<string, number> = { main_user: 0, main_system: 0 };
  for (const tid of await fs.readdir('/proc/self/task').catch(() => [] as string[])) {
    try {
      const stat = await fs.readFile(`/proc/self/task/${tid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).trim();
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const user = Number(fields[11]) / 100;
      const system = Number(fields[12]) / 100;
      if (Number(tid) === process.pid) {
        out.main_user! += user;
        out.main_system! += system;
      } else {
        out[comm] = (out[comm] ?? 0) + user + system;
      }
    } catch {
      // thread ended
    }
  }
  return out;
}

/** Busy and total jiffies of the whole machine (to show what else ran meanwhile). */
async function machineJiffies(): Promise<{ busy: number; total: number }> {
  const line = (await fs.readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

interface Snapshot {
  t: number;
  self: number;
  threads: Record<string, number>;
  workers: number;
  sender: number;
  extra: number[];
  machine: { busy: number; total: number };
}

async function snapshot(workerPids: number[], senderPid: number, extra: number[] = []): Promise<Snapshot> {
  const [workers, sender, extraCpu, machine, threads] = await Promise.all([
    Promise.all(workerPids.map(procCpuSeconds)),
    procCpuSeconds(senderPid),
    Promise.all(extra.map(procCpuSeconds)),
    machineJiffies(),
    selfThreads(),
  ]);
  return { t: performance.now(), self: selfCpuSeconds(), threads, workers: workers.reduce((a, b) => a + b, 0), sender, extra: extraCpu, machine };
}

interface Usage {
  seconds: number;
  self: number;
  workers: number;
  sender: number;
  extra: number;
  /** Whole machine, percent of one core (all cores: 100 × cores). */
  machine: number;
  /** The machine minus this process, the workers, the sender and the extra pids: other work running meanwhile. */
  other: number;
  threads: Record<string, number>;
}

function usage(a: Snapshot, b: Snapshot): Usage {
  const seconds = (b.t - a.t) / 1000;
  const pct = (x: number) => (x / seconds) * 100;
  const extra = b.extra.reduce((s, x, i) => s + (Number.isFinite(x) ? x - (a.extra[i] ?? 0) : 0), 0);
  const cores = os.availableParallelism();
  const u: Usage = {
    seconds,
    self: pct(b.self - a.self),
    workers: pct(b.workers - a.workers),
    sender: pct(b.sender - a.sender),
    extra: pct(extra),
    threads: Object.fromEntries(Object.keys(b.threads).map((k) => [k, round(pct((b.threads[k] ?? 0) - (a.threads[k] ?? 0)))])),
    machine: 0,
    other: 0,
  };
  u.machine = ((b.machine.busy - a.machine.busy) / Math.max(1, b.machine.total - a.machine.total)) * 100 * cores;
  u.other = Math.max(0, u.machine - u.self - u.workers - u.sender - u.extra);
  return u;
}

// ---------------------------------------------------------------------------------------------
// The load generator

class Sender {
  readonly child: ChildProcess;
  #waiting: ((m: { type: string; [k: string]: unknown }) => void)[] = [];

  constructor() {
    this.child = fork(path.join(here, 'rtp-sender.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.child.on('message', (m) => {
      const message = m as { type: string; message?: string };
      if (message.type === 'error') process.stderr.write(`rtp-sender: ${message.message}\n`);
      this.#waiting.shift()?.(message as { type: string });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  request<T>(message: SenderMessage): Promise<T> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`rtp-sender exited (${code})`));
      this.child.once('exit', onExit);
      this.#waiting.push((m) => {
        this.child.off('exit', onExit);
        if (m.type === 'error') reject(new Error(String(m.message)));
        else resolve(m as T);
      });
      this.child.send(message);
    });
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}

// ---------------------------------------------------------------------------------------------
// Cameras

interface Cam {
  index: number;
  id: string;
  room: CameraRoom;
  video: types.Producer;
  audio: types.Producer;
}

async function addCamera(sfu: Sfu, index: number): Promise<{ cam: Cam; sender: SenderCamera }> {
  const id = `bench${String(index).padStart(4, '0')}`;
  const room = await sfu.room(id);
  const owner = `plain-${id}`;
  const transport = await room.createPlainTransport(owner);
  const videoSsrc = 0x1000_0000 + index;
  const audioSsrc = 0x2000_0000 + index;
  const videoId = await room.produce(owner, transport.id, 'video', {
    codecs: [
      {
        mimeType: 'video/H264',
        payloadType: VIDEO_PT,
        clockRate: 90_000,
        parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
        rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
      },
    ],
    encodings: [{ ssrc: videoSsrc }],
    rtcp: { cname: id, reducedSize: true },
  });
  const audioId = await room.produce(owner, transport.id, 'audio', {
    codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO_PT, clockRate: 48_000, channels: 2, parameters: { useinbandfec: 1 }, rtcpFeedback: [] }],
    encodings: [{ ssrc: audioSsrc }],
    rtcp: { cname: id, reducedSize: true },
  });
  const cam: Cam = { index, id, room, video: room.producers.get(videoId)!, audio: room.producers.get(audioId)! };
  return { cam, sender: { index, port: transport.port, videoSsrc, audioSsrc } };
}

/** Packets received and lost (sequence gaps) over every producer. */
async function producerCounters(cams: readonly Cam[]): Promise<{ packets: number; lost: number }> {
  let packets = 0;
  let lost = 0;
  for (const c of cams) {
    for (const p of [c.video, c.audio]) {
      for (const s of await p.getStats()) {
        packets += s.packetCount;
        lost += s.packetsLost;
      }
    }
  }
  return { packets, lost };
}

// ---------------------------------------------------------------------------------------------
// The ffmpeg recipe

/** An even UDP port with its odd neighbour free (RTP + RTCP for ffmpeg), outside mediasoup's range. */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 30_000 + 2 * Math.floor(Math.random() * 4_999);
    const sockets: dgram.Socket[] = [];
    try {
      for (const p of [port, port + 1]) {
        const s = dgram.createSocket('udp4');
        sockets.push(s);
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.bind(p, '127.0.0.1', () => resolve());
        });
      }
      return port;
    } catch {
      // in use: try another
    } finally {
      for (const s of sockets) s.close();
    }
  }
  throw new Error('no free UDP port pair for ffmpeg');
}

interface FfmpegCamera {
  process: ChildProcess;
  dir: string;
  transports: types.PlainTransport[];
  consumers: types.Consumer[];
  stderr: string;
}

async function startFfmpeg(cam: Cam, dir: string, spropParameterSets: string): Promise<FfmpegCamera> {
  const router = cam.room.originRouter;
  await fs.mkdir(dir, { recursive: true });
  const transports: types.PlainTransport[] = [];
  const consumers: types.Consumer[] = [];
  const media: string[] = [];
  for (const producer of [cam.video, cam.audio]) {
    const port = await freePortPair();
    const transport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: false, comedia: false });
    await transport.connect({ ip: '127.0.0.1', port, rtcpPort: port + 1 });
    const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities, paused: true });
    transports.push(transport);
    consumers.push(consumer);
    const codec = consumer.rtpParameters.codecs[0]!;
    if (producer.kind === 'video') {
      media.push(
        `m=video ${port} RTP/AVP ${codec.payloadType}`,
        `a=rtpmap:${codec.payloadType} H264/90000`,
        `a=fmtp:${codec.payloadType} packetization-mode=1;profile-level-id=42e01f;sprop-parameter-sets=${spropParameterSets}`,
        'a=recvonly',
      );
    } else {
      media.push(`m=audio ${port} RTP/AVP ${codec.payloadType}`, `a=rtpmap:${codec.payloadType} opus/48000/2`, 'a=recvonly');
    }
  }
  const sdp = ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', `s=${cam.id}`, 'c=IN IP4 127.0.0.1', 't=0 0', ...media, ''].join('\n');
  const sdpFile = path.join(dir, 'cam.sdp');
  await fs.writeFile(sdpFile, sdp);
  const child = spawn(
    'ffmpeg',
    [
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
      '-protocol_whitelist', 'file,udp,rtp',
      '-i', sdpFile,
      '-map', '0', '-c', 'copy',
      '-f', 'segment', '-segment_time', '60', '-segment_format', 'mp4',
      '-segment_format_options', 'movflags=+frag_keyframe+empty_moov',
      path.join(dir, 'out%03d.mp4'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const f: FfmpegCamera = { process: child, dir, transports, consumers, stderr: '' };
  child.stderr!.on('data', (d: Buffer) => {
    if (f.stderr.length < 2000) f.stderr += d.toString();
  });
  ffmpegChildren.add(child);
  child.once('exit', () => ffmpegChildren.delete(child));
  return f;
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await fs.readdir(dir).catch(() => [] as string[])) {
    if (!f.endsWith('.mp4')) continue;
    total += (await fs.stat(path.join(dir, f)).catch(() => undefined))?.size ?? 0;
  }
  return total;
}

const ffmpegChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of ffmpegChildren) c.kill('SIGKILL');
});

// ---------------------------------------------------------------------------------------------

const logCounts = new Map<string, number>();
let logLines = 0;
const log = pino(
  { level: process.env.MIMAMORI_BENCH_LOG ?? 'warn' },
  {
    write(line: string) {
      try {
        const o = JSON.parse(line) as { event?: string; level?: number };
        const key = `${o.level === 50 ? 'error' : o.level === 40 ? 'warn' : String(o.level)}:${o.event ?? 'other'}`;
        logCounts.set(key, (logCounts.get(key) ?? 0) + 1);
      } catch {
        logCounts.set('unparsed', (logCounts.get('unparsed') ?? 0) + 1);
      }
      if (logLines++ < 20) process.stderr.write(line);
    },
  },
);

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-bench-ingest-'));
const cleanups: (() => Promise<void> | void)[] = [];
try {
  const videoFile = await ensureVideoFixture(VIDEO);
  const audioFile = await ensureAudioFixture(AUDIO);
  const units = parseAnnexB(new Uint8Array(await fs.readFile(videoFile)));
  const first = units[0]!.nalus;
  const sprop = [first.find((n) => nalType(n) === NalType.sps), first.find((n) => nalType(n) === NalType.pps)]
    .map((n) => Buffer.from(n!).toString('base64'))
    .join(',');

  const sfu = await Sfu.create({
    workers: WORKERS,
    rtc: { listenIp: '127.0.0.1', announcedAddress: '127.0.0.1', minPort: 40_000, maxPort: 49_999 },
    viewersPerRouter: 100,
  });
  cleanups.push(() => sfu.close());
  const workerPids = sfu.workers.map((w) => w.worker.pid);

  const dataDir = path.join(tmp, 'data');
  await fs.mkdir(dataDir, { recursive: true });
  const storage: Storage = await openStorage({ dataDir, s3: undefined, embeddedS3: { port: 0, bucket: 'mimamori' } });
  cleanups.push(() => storage.close());
  const wrapped = new Map<string, WrappedKey>();
  const keyCatalog: KeyCatalog = {
    wrappedKey: (id) => wrapped.get(id),
    saveWrappedKeys: async (entries) => {
      for (const e of entries) wrapped.set(e.cameraId, e.key);
    },
    wrappedKeys: () => [...wrapped].map(([cameraId, key]) => ({ cameraId, key })),
  };
  const keys = new DataKeys(await MasterKeys.load({ dataDir, env: {} }), keyCatalog);
  const cams: Cam[] = [];
  let recording = false;
  const catalog: RecorderCatalog = {
    recording: () => ({ enabled: recording, retentionDays: 30 }),
    holds: () => [],
    cameraIds: () => cams.map((c) => c.id),
  };
  const recorder = await Recorder.create({
    sfu,
    store: storage.store,
    keys,
    catalog,
    dataDir,
    settings: { segmentSeconds: SEGMENT_S, fragmentMs: FRAGMENT_MS, spoolQuotaBytes: 4096 * 1024 * 1024, retentionDays: 30 },
    log,
  });
  cleanups.unshift(() => recorder.close());
  const spoolDir = path.join(dataDir, 'spool');

  const sender = new Sender();
  cleanups.unshift(() => sender.stop());
  const ready = await sender.request<{ kbps: number; videoFrames: number; audioPackets: number }>({
    type: 'init', videoFile, audioFile, fps: VIDEO.fps, videoPt: VIDEO_PT, audioPt: AUDIO_PT,
  });
  emit({
    phase: 'setup',
    workers: WORKERS,
    cores: os.availableParallelism(),
    camera_kbps: ready.kbps,
    camera_kbps_target: 1000,
    video: `${VIDEO.width}x${VIDEO.height} ${VIDEO.fps} fps ${VIDEO.kbps} kbit/s H.264 baseline, keyframe every 1 s`,
    audio: `Opus ${AUDIO.kbps} kbit/s 20 ms`,
    segment_seconds: SEGMENT_S,
    fragment_ms: FRAGMENT_MS,
    steps: STEPS,
    spool: spoolDir,
  });

  interface StepResult {
    cameras: number;
    ok: boolean;
    cpuPerCamera: number;
    p99: number;
    lost: number;
  }
  const results: StepResult[] = [];
  let ffmpegPerCamera = NaN;

  for (const n of STEPS) {
    // Cameras up to n.
    const added: SenderCamera[] = [];
    while (cams.length < n) {
      const { cam, sender: s } = await addCamera(sfu, cams.length);
      cams.push(cam);
      added.push(s);
    }
    if (added.length > 0) await sender.request({ type: 'add', cameras: added });
    await sleep(3000);

    // 1. Producers only.
    await sender.request<SenderStats>({ type: 'stats' });
    const b0 = await snapshot(workerPids, sender.pid);
    const bp0 = await producerCounters(cams);
    const bs0 = await sender.request<SenderStats>({ type: 'stats' });
    await sleep(BASELINE_S * 1000);
    const b1 = await snapshot(workerPids, sender.pid);
    const bp1 = await producerCounters(cams);
    const bs1 = await sender.request<SenderStats>({ type: 'stats' });
    const base = usage(b0, b1);
    emit({
      phase: 'producers',
      cameras: n,
      worker_cpu_pct: round(base.workers),
      node_cpu_pct: round(base.self),
      sender_cpu_pct: round(base.sender),
      sender_cpu_pct_per_camera: round(base.sender / n, 3),
      sender_max_lag_ms: round(bs1.maxLagMs),
      rtp_packets_sent_per_s: Math.round((bs1.packets - bs0.packets) / base.seconds),
      rtp_packets_received_per_s: Math.round((bp1.packets - bp0.packets) / base.seconds),
      rtp_packets_lost: bp1.lost - bp0.lost,
      mbit_per_s_sent: round(((bs1.bytes - bs0.bytes) * 8) / base.seconds / 1e6),
      mbit_per_s_target: n,
      machine_cpu_pct: round(base.machine),
      machine_cpu_pct_max: 100 * os.availableParallelism(),
      other_processes_cpu_pct: round(base.other),
    });

    // 2. The ffmpeg recipe, once, on a subset of these cameras.
    if (Number.isNaN(ffmpegPerCamera) && FFMPEG_CAMERAS > 0) {
      const subset = cams.slice(0, Math.min(n, FFMPEG_CAMERAS));
      const runs: FfmpegCamera[] = [];
      try {
        for (const cam of subset) runs.push(await startFfmpeg(cam, path.join(tmp, 'ffmpeg', cam.id), sprop));
        await sleep(1500); // ffmpeg reads the SDP and binds its ports
        for (const r of runs) {
          for (const c of r.consumers) {
            await c.resume();
            if (c.kind === 'video') await c.requestKeyFrame();
          }
        }
        // Past ffmpeg's probing: every camera's file has its first fragments.
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline) {
          const sizes = await Promise.all(runs.map((r) => dirBytes(r.dir)));
          if (sizes.every((s) => s > 100_000)) break;
          await sleep(500);
        }
        await sleep(2000);
        const pids = runs.map((r) => r.process.pid!);
        const bytes0 = await Promise.all(runs.map((r) => dirBytes(r.dir)));
        const f0 = await snapshot(workerPids, sender.pid, pids);
        await sleep(MEASURE_S * 1000);
        const f1 = await snapshot(workerPids, sender.pid, pids);
        const bytes1 = await Promise.all(runs.map((r) => dirBytes(r.dir)));
        const u = usage(f0, f1);
        const k = subset.length;
        const workerDelta = u.workers - base.workers;
        const selfDelta = Math.max(0, u.self - base.self);
        ffmpegPerCamera = (u.extra + workerDelta + selfDelta) / k;
        const alive = runs.filter((r) => r.process.exitCode === null && r.process.signalCode === null).length;
        const writtenKbps = bytes1.map((b, i) => ((b - bytes0[i]!) * 8) / u.seconds / 1000);
        emit({
          phase: 'ffmpeg',
          cameras: n,
          ffmpeg_cameras: k,
          ffmpeg_processes_alive: alive,
          ffmpeg_cpu_pct_per_camera: round(ffmpegPerCamera, 3),
          ffmpeg_process_cpu_pct_per_camera: round(u.extra / k, 3),
          worker_cpu_pct_per_camera: round(workerDelta / k, 3),
          worker_cpu_pct: round(u.workers),
          worker_cpu_pct_baseline: round(base.workers),
          node_cpu_pct: round(u.self),
          node_cpu_pct_baseline: round(base.self),
          written_kbps_per_camera_min: round(Math.min(...writtenKbps)),
          written_kbps_per_camera_max: round(Math.max(...writtenKbps)),
          sent_kbps_per_camera: ready.kbps,
          machine_cpu_pct: round(u.machine),
          other_processes_cpu_pct: round(u.other),
          ...(alive < k ? { ffmpeg_stderr: runs.find((r) => r.stderr)?.stderr.slice(0, 500) } : {}),
        });
      } finally {
        for (const r of runs) {
          r.process.kill('SIGTERM');
          for (const t of r.transports) t.close();
        }
        await sleep(500);
        for (const r of runs) if (r.process.exitCode === null) r.process.kill('SIGKILL');
        await fs.rm(path.join(tmp, 'ffmpeg'), { recursive: true, force: true });
      }
      await sleep(1000);
    }

    // 3. The recorder.
    recording = true;
    for (const c of cams) recorder.refresh(c.id);
    await sleep(RECORDER_WARMUP_MS);
    const m = recorder.metrics;
    const from = Date.now();
    const before = { fragments: m.fragments, bytes: m.fragmentBytes, droppedFrames: m.droppedFrames, writeErrors: m.writeErrors, upload: recorder.uploader.stats };
    m.resetDurable();
    const r0 = await snapshot(workerPids, sender.pid);
    const rp0 = await producerCounters(cams);
    const rs0 = await sender.request<SenderStats>({ type: 'stats' });
    let maxQueued = 0;
    let maxLagMs = 0;
    const end = performance.now() + MEASURE_S * 1000;
    while (performance.now() < end) {
      await sleep(Math.min(500, end - performance.now()));
      maxQueued = Math.max(maxQueued, recorder.uploader.queued);
      maxLagMs = Math.max(maxLagMs, recorder.uploader.stats.oldestWaitingMs ?? 0);
    }
    const r1 = await snapshot(workerPids, sender.pid);
    const rp1 = await producerCounters(cams);
    const rs1 = await sender.request<SenderStats>({ type: 'stats' });
    const to = Date.now();
    const p50 = m.durablePercentile(50) ?? NaN;
    const p99 = m.durablePercentile(99) ?? NaN;
    const durableMax = m.durablePercentile(100) ?? NaN;
    const after = { fragments: m.fragments, bytes: m.fragmentBytes, upload: recorder.uploader.stats };
    const u = usage(r0, r1);

    // Stop recording; wait until every segment is finished and in S3.
    recording = false;
    for (const c of cams) recorder.refresh(c.id);
    const stopDeadline = Date.now() + 180_000;
    for (;;) {
      const left = (await fs.readdir(spoolDir, { recursive: true }).catch(() => [] as string[])).filter((f) => f.endsWith('.part') || f.endsWith('.seg'));
      if (left.length === 0 && recorder.uploader.queued === 0) break;
      if (Date.now() > stopDeadline) throw new Error(`spool did not drain: ${left.length} files left`);
      await sleep(250);
    }
    await recorder.drained();
    // The sessions turned on the producers' 'sr' trace events and leave them on: back to a camera
    // nobody records, so the next step's baseline does not carry them.
    for (const c of cams) for (const p of [c.video, c.audio]) await p.enableTraceEvent([]);

    // Every camera's recording in S3 over the window, fragment by fragment.
    let holes = 0;
    let missingMs = 0;
    let lost = 0;
    let gapsInWindow = 0;
    for (const c of cams) {
      const { segments, gaps } = await recorder.index.query(c.id, from, to);
      gapsInWindow += gaps.length;
      const spans = segments
        .flatMap((s) => s.fragments.map((f) => [s.startMs + f[0], s.startMs + f[0] + f[1]] as const))
        .sort((a, b) => a[0] - b[0]);
      let cursor = from;
      for (const [start, stop] of spans) {
        if (stop <= cursor) continue;
        if (start > cursor + HOLE_TOLERANCE_MS) {
          const hole = Math.min(start, to) - cursor;
          if (hole > HOLE_TOLERANCE_MS) {
            holes += 1;
            missingMs += hole;
            lost += Math.ceil(hole / FRAGMENT_MS);
          }
        }
        cursor = Math.max(cursor, stop);
        if (cursor >= to) break;
      }
      if (to > cursor + HOLE_TOLERANCE_MS) {
        holes += 1;
        missingMs += to - cursor;
        lost += Math.ceil((to - cursor) / FRAGMENT_MS);
      }
    }
    const workerDelta = u.workers - base.workers;
    const selfDelta = u.self - base.self;
    const cpuPerCamera = (workerDelta + selfDelta) / n;
    const droppedSegments = after.upload.droppedSegments - before.upload.droppedSegments;
    const writeErrors = m.writeErrors - before.writeErrors;
    const ok = p99 <= DURABLE_LIMIT_MS && lost === 0;
    emit({
      phase: 'recorder',
      cameras: n,
      ok,
      cpu_pct_per_camera: round(cpuPerCamera, 3),
      ffmpeg_cpu_pct_per_camera: round(ffmpegPerCamera, 3),
      node_cpu_pct: round(u.self),
      node_cpu_pct_baseline: round(base.self),
      node_threads_cpu_pct: u.threads,
      node_threads_cpu_pct_baseline: base.threads,
      worker_cpu_pct: round(u.workers),
      worker_cpu_pct_baseline: round(base.workers),
      worker_cpu_pct_per_camera: round(workerDelta / n, 3),
      node_cpu_pct_per_camera: round(selfDelta / n, 3),
      sender_cpu_pct: round(u.sender),
      machine_cpu_pct: round(u.machine),
      machine_cpu_pct_max: 100 * os.availableParallelism(),
      other_processes_cpu_pct: round(u.other),
      fragment_durable_ms_p50: round(p50),
      fragment_durable_ms_p99: round(p99),
      fragment_durable_ms_max: round(durableMax),
      fragment_durable_ms_limit: DURABLE_LIMIT_MS,
      fragments_written: after.fragments - before.fragments,
      fragments_expected: Math.round((n * (to - from)) / FRAGMENT_MS),
      fragments_lost: lost,
      holes,
      missing_ms: Math.round(missingMs),
      gaps_in_window: gapsInWindow,
      dropped_segments: droppedSegments,
      write_errors: writeErrors,
      dropped_frames_whole_sessions: m.droppedFrames - before.droppedFrames,
      segments_uploaded: after.upload.uploaded - before.upload.uploaded,
      upload_errors: after.upload.errors - before.upload.errors,
      upload_queue_max: maxQueued,
      upload_oldest_waiting_ms_max: Math.round(maxLagMs),
      rtp_packets_sent: rs1.packets - rs0.packets,
      rtp_packets_received: rp1.packets - rp0.packets,
      rtp_packets_lost: rp1.lost - rp0.lost,
      sender_max_lag_ms: round(rs1.maxLagMs),
      window_s: round(u.seconds),
      mbit_per_s_recorded: round(((after.bytes - before.bytes) * 8) / u.seconds / 1e6),
      mbit_per_s_sent: round(((rs1.bytes - rs0.bytes) * 8) / u.seconds / 1e6),
      ...(logCounts.size > 0 ? { log: Object.fromEntries(logCounts) } : {}),
    });
    results.push({ cameras: n, ok, cpuPerCamera, p99, lost });
    if (!ok) break;
    await sleep(1000);
  }

  const passed = results.filter((r) => r.ok);
  const best = passed.at(-1) ?? results[0];
  emit({
    bench: 'ingest',
    cameras_max: passed.at(-1)?.cameras ?? 0,
    cpu_pct_per_camera: round(best?.cpuPerCamera ?? NaN, 3),
    ffmpeg_cpu_pct_per_camera: round(ffmpegPerCamera, 3),
    fragment_durable_ms_p99: round(best?.p99 ?? NaN),
    fragments_lost: best?.lost ?? NaN,
  });
} finally {
  for (const c of cleanups) {
    try {
      await c();
    } catch (error) {
      process.stderr.write(`cleanup: ${(error as Error).message}\n`);
    }
  }
  for (const c of ffmpegChildren) c.kill('SIGKILL');
  await fs.rm(tmp, { recursive: true, force: true });
}
