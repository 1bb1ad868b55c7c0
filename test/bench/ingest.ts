// `npm run bench -- ingest`: how many 1 Mbit/s cameras (H.264 640x360 30 fps ~900 kbit/s + Opus
// 32 kbit/s) the recorder keeps on this machine, recorded to the embedded S3, and its CPU per camera
// beside the usual mediasoup recipe (a PlainTransport per track feeding one `ffmpeg -c copy`
// segmenting process per camera), in the same run. Goals (issue 14), printed beside the figures in
// the summary: cameras_max ≥ 250, cpu_vs_ffmpeg (the recorder's CPU per camera ÷ ffmpeg's) ≤ 0.5,
// rss_mb_per_camera ≤ 5, fragment durability p99 ≤ 1000 ms, nothing lost.
//
// First, a micro-benchmark of the pure segmenter (segmenter.ts: 10 minutes of one camera's frames
// through recorder/Segmenter.ts): segmenter_us_per_frame (the cut rules alone) and
// segmenter_mp4_us_per_frame (each fragment also encoded with mediaFragment, as RecordingSession
// does), medians of a few runs after a warm-up, in a child process of its own (its buffers would
// otherwise sit in this process's RSS, the memory baseline).
//
// Load: one child process (rtp-sender.ts) sends every camera's plain RTP, pre-packetized once, into
// a comedia PlainTransport per camera (CameraRoom.createPlainTransport + produce, with the payload
// types, SSRCs and RTCP feedback of a WebRTC camera): from the producer on, the recorder's path is
// the one of a WebRTC camera. The sender's own CPU is measured and printed apart.
//
// For each N of MIMAMORI_BENCH_CAMERAS (default 25,50,75,…,300), cameras are added up to N and:
//   1. producers: N cameras sending, nothing consuming: CPU of the mediasoup workers and of this
//      process (the baseline the recorder and ffmpeg are measured against), and their RSS (sampled
//      every second after a full GC, median);
//   2. ffmpeg (once, on the first step, for MIMAMORI_BENCH_FFMPEG_CAMERAS of the cameras, default
//      20): per camera a PlainTransport per track on the origin router and one ffmpeg process
//      (-c copy, 60 s mp4 segments, fragmented at keyframes); its CPU per camera is the ffmpeg
//      processes' CPU plus what the workers and this process spent beyond phase 1; and
//      ffmpeg_rss_mb_per_process, one ffmpeg process's VmRSS (/proc/PID/status, averaged over the
//      processes, median over the window's 1 s samples; RssAnon, its private part, beside it);
//   3. recorder: recording enabled for all N cameras; once all record, a warm-up, then a window of
//      MIMAMORI_BENCH_SECONDS (default 20): this process's CPU (recorder + the SFU's control
//      plane; the embedded S3 server runs in a process of its own, as in the service, and its CPU
//      is printed beside: MIMAMORI_BENCH_S3=in-process puts it back in here) and the workers' CPU,
//      each minus phase 1, per camera; rss_mb_per_camera, the RSS growth per recorded camera of this
//      process plus the mediasoup workers (recording adds a DirectTransport consumer per track
//      there), median of 500 ms samples in the window minus phase 1's, ÷ N, printed split as
//      node_rss_mb_per_camera and worker_rss_mb_per_camera; fragment durability (close → fsync,
//      the recorder's own metric) p50/p99; then recording is stopped, the last segments are
//      uploaded, and every camera's recording in S3 (the index of uploaded segments)
//      is checked for holes over the window: each missing fragmentMs of media counts as a lost
//      fragment (uploads dropped for the spool quota and spool write errors show up there too).
//   A step passes if p99 ≤ 1000 ms, nothing was lost and the recorder kept up with real time (when
//   it was stopped, no camera's recording was more than 1 s behind); the run stops at the first
//   failing step. The summary gives the figures of the largest passing step, and
//   node_plus_worker_rss_mb_per_added_camera: the RSS growth between the two largest passing steps,
//   both recording (no baseline in it, a cross-check of rss_mb_per_camera).
//
// CPU figures are percent of one core (100 = one core busy), from /proc/<pid>/stat for the workers,
// the sender and ffmpeg, and process.cpuUsage() (all threads, the libuv pool doing fsync too) here.
// Softirq time (loopback packet delivery, charged to no process) and what other processes used
// are printed beside them. The machine may be shared: before each window the bench waits (up to
// 60 s) until other processes use under MIMAMORI_BENCH_QUIET_PCT (20) % of a core, and a step
// that failed while they used more is measured again (MIMAMORI_BENCH_RETRIES, 2 times); every
// attempt is printed.
// Segments are MIMAMORI_BENCH_SEGMENT_SECONDS long (default 10, the service's default is 60) so
// uploads to S3 happen, and are paid for, inside the window.
// Prints JSON lines; the last is the summary.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { constants as perfConstants, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { types } from 'mediasoup';
import pino from 'pino';
import { ensureAudioFixture, ensureVideoFixture, NalType, nalType, parseAnnexB } from '../../camera/index.ts';
import { DataKeys, MasterKeys, openStorage, Recorder, type KeyCatalog, type ObjectStore, type RecorderCatalog, type Storage } from '../../recorder/index.ts';
import type { WrappedKey } from '../../recorder/seal/index.ts';
import { EmbeddedS3Process, S3ObjectStore } from '../../recorder/store/index.ts';
import { Sfu, type CameraRoom } from '../../sfu/index.ts';
import type { SenderCamera, SenderMessage, SenderStats } from './rtp-sender.ts';
import { emit, median, round, sleep } from './figures.ts';
import type { SegmenterFigures } from './segmenter.ts';

const STEPS = (process.env.MIMAMORI_BENCH_CAMERAS ?? '25,50,75,100,125,150,175,200,225,250,275,300')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0)
  .sort((a, b) => a - b);
const FFMPEG_CAMERAS = Number(process.env.MIMAMORI_BENCH_FFMPEG_CAMERAS ?? 20);
const MEASURE_S = Number(process.env.MIMAMORI_BENCH_SECONDS ?? 20);
const BASELINE_S = Number(process.env.MIMAMORI_BENCH_BASELINE_SECONDS ?? 10);
const SEGMENT_S = Number(process.env.MIMAMORI_BENCH_SEGMENT_SECONDS ?? 10);
const WORKERS = Number(process.env.MIMAMORI_BENCH_WORKERS ?? os.availableParallelism());
/**
 * 'in-process' (default): the embedded S3 server runs in this process, as in the service, and its
 * CPU counts as the recorder's. 'process': it runs in a child process of its own, so the recorder's
 * CPU and the storage server's are printed apart (the durability figures are then a little kinder
 * than the service's, which shares one event loop).
 */
/** As the service runs it (its own process, signed requests) unless MIMAMORI_BENCH_S3=in-process. */
const S3_MODE = process.env.MIMAMORI_BENCH_S3 === 'in-process' ? 'in-process' : 'process';
const FRAGMENT_MS = 1000;
const DURABLE_LIMIT_MS = 1000;
/** After every camera records: time for the first upload burst to pass before measuring. */
const RECORDER_WARMUP_MS = 5000;
/** Cameras not all recording after this long: measure anyway (their missing media counts as lost). */
const RECORDER_START_LIMIT_MS = 30_000;
const VIDEO = { width: 640, height: 360, fps: 30, kbps: 900, seconds: 10, profile: 'baseline' as const };
const AUDIO = { seconds: 10, kbps: 32 };
/** The camera's payload types (a browser's usual ones); the routers remap them for consumers. */
const VIDEO_PT = 96;
const AUDIO_PT = 111;
/** Gaps shorter than this between fragments are ms rounding, not missing media (as the recorder's GAP_MIN_MS). */
const HOLE_TOLERANCE_MS = 100;
/** Other processes using less than this (percent of one core) leave the machine to the bench. */
const QUIET_OTHER_PCT = Number(process.env.MIMAMORI_BENCH_QUIET_PCT ?? 20);
const QUIET_WAIT_MS = 60_000;
/** A step that failed while other work shared the machine is measured again up to this many times. */
const RETRIES = Number(process.env.MIMAMORI_BENCH_RETRIES ?? 2);
/** The goals of issue 14, printed beside the figures in the summary. */
const GOALS = { camerasMax: 250, cpuVsFfmpeg: 0.5, rssMbPerCamera: 5, durableMsP99: DURABLE_LIMIT_MS, fragmentsLost: 0 };

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

/**
 * This process's garbage collections so far, by kind, and the main thread's pauses for them: what
 * the recorder's allocations cost beyond the helper threads' share (node_threads_cpu_pct).
 */
const gcTally = { major: 0, minor: 0, pauseMs: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
    if (kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) gcTally.major += 1;
    else if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) gcTally.minor += 1;
    gcTally.pauseMs += entry.duration;
  }
}).observe({ entryTypes: ['gc'] });

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

/** Jiffies of the whole machine: busy in processes, in interrupts (loopback packets are delivered in softirq), waiting for I/O, total. */
interface Jiffies {
  process: number;
  irq: number;
  iowait: number;
  total: number;
}

async function machineJiffies(): Promise<Jiffies> {
  const line = (await fs.readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  return { process: user + nice + system + steal, irq: irq + softirq, iowait, total: user + nice + system + idle + iowait + irq + softirq + steal };
}

interface Snapshot {
  t: number;
  self: number;
  threads: Record<string, number>;
  workers: number;
  sender: number;
  extra: number[];
  s3: number;
  machine: Jiffies;
}

/** The processes measured: mediasoup workers, the load generator, the S3 server when it runs apart, ffmpeg. */
interface Pids {
  workers: number[];
  sender: number;
  s3?: number;
  extra?: number[];
}

async function snapshot(pids: Pids): Promise<Snapshot> {
  const [workers, sender, s3, extra, machine, threads] = await Promise.all([
    Promise.all(pids.workers.map(procCpuSeconds)),
    procCpuSeconds(pids.sender),
    pids.s3 === undefined ? 0 : procCpuSeconds(pids.s3),
    Promise.all((pids.extra ?? []).map(procCpuSeconds)),
    machineJiffies(),
    selfThreads(),
  ]);
  return { t: performance.now(), self: selfCpuSeconds(), threads, workers: workers.reduce((a, b) => a + b, 0), sender, s3, extra, machine };
}

/** CPU over a window, in percent of one core. */
interface Usage {
  seconds: number;
  self: number;
  threads: Record<string, number>;
  workers: number;
  sender: number;
  extra: number;
  /** The embedded S3 server when it runs in a process of its own (MIMAMORI_BENCH_S3=process). */
  s3: number;
  /** The whole machine (at most 100 × cores). */
  machine: number;
  /** Interrupt and softirq time (packet delivery on loopback), charged to no process. */
  irq: number;
  iowait: number;
  /** Processes other than this one, the workers, the sender and the extra pids: other work meanwhile. */
  other: number;
}

function usage(a: Snapshot, b: Snapshot): Usage {
  const seconds = (b.t - a.t) / 1000;
  const pct = (x: number) => (x / seconds) * 100;
  const extra = b.extra.reduce((s, x, i) => s + (Number.isFinite(x) ? x - (a.extra[i] ?? 0) : 0), 0);
  const machine = (x: number, y: number) => ((y - x) / Math.max(1, b.machine.total - a.machine.total)) * 100 * os.availableParallelism();
  const u: Usage = {
    seconds,
    self: pct(b.self - a.self),
    threads: Object.fromEntries(Object.keys(b.threads).map((k) => [k, round(pct((b.threads[k] ?? 0) - (a.threads[k] ?? 0)))])),
    workers: pct(b.workers - a.workers),
    sender: pct(b.sender - a.sender),
    extra: pct(extra),
    s3: pct(b.s3 - a.s3),
    machine: machine(a.machine.process + a.machine.irq, b.machine.process + b.machine.irq),
    irq: machine(a.machine.irq, b.machine.irq),
    iowait: machine(a.machine.iowait, b.machine.iowait),
    other: 0,
  };
  u.other = Math.max(0, machine(a.machine.process, b.machine.process) - u.self - u.workers - u.sender - u.extra - u.s3);
  return u;
}

/** The machine-wide figures every line carries, so a reader sees what else ran meanwhile. */
function machineFields(u: Usage): Record<string, number> {
  return {
    machine_cpu_pct: round(u.machine),
    machine_cpu_pct_max: 100 * os.availableParallelism(),
    softirq_cpu_pct: round(u.irq),
    iowait_pct: round(u.iowait),
    other_processes_cpu_pct: round(u.other),
  };
}

// ---------------------------------------------------------------------------------------------
// Memory

/** Resident set of a process in MB (VmRSS; RssAnon: its private pages, without shared libraries and files), NaN once it exited. */
async function procRss(pid: number): Promise<{ rss: number; anon: number }> {
  try {
    const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, anon: kb('RssAnon') / 1024 };
  } catch {
    return { rss: NaN, anon: NaN };
  }
}

/** The service's memory (MB): this process (recorder, SFU control plane, embedded S3) and the mediasoup workers (summed). */
interface Rss {
  node: number;
  workers: number;
  /** The S3 server when it runs apart (MIMAMORI_BENCH_S3=process), else 0. */
  s3: number;
}

async function serviceRss(pids: Pids): Promise<Rss> {
  const [node, workers, s3] = await Promise.all([
    procRss(process.pid),
    Promise.all(pids.workers.map(procRss)),
    pids.s3 === undefined ? { rss: 0, anon: 0 } : procRss(pids.s3),
  ]);
  return { node: node.rss, workers: workers.reduce((a, w) => a + w.rss, 0), s3: s3.rss };
}

/** Each part's median over samples. */
function medianRss(samples: readonly Rss[]): Rss {
  return { node: median(samples.map((r) => r.node)), workers: median(samples.map((r) => r.workers)), s3: median(samples.map((r) => r.s3)) };
}

/** A full V8 garbage collection (no --expose-gc needed on the command line). */
const fullGc: () => void = (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

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
  const stats = await Promise.all(cams.flatMap((c) => [c.video.getStats(), c.audio.getStats()]));
  let packets = 0;
  let lost = 0;
  for (const s of stats.flat()) {
    packets += s.packetCount;
    lost += s.packetsLost;
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

/**
 * The segmenter micro-benchmark (segmenter.ts) in a child process: its ~100 MB of short-lived
 * buffers would otherwise sit in this process's RSS, the baseline of rss_mb_per_camera. Its line
 * is passed on; its figures are returned (NaN if it failed).
 */
async function segmenterInChild(): Promise<SegmenterFigures> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'run.ts'), 'segmenter'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  const summary = lines.at(-1);
  for (const line of lines.slice(0, -1)) process.stdout.write(`${line}\n`);
  try {
    if (code !== 0 || !summary) throw new Error(`exit code ${code}`);
    const o = JSON.parse(summary) as SegmenterFigures;
    return { segmenter_us_per_frame: o.segmenter_us_per_frame, segmenter_mp4_us_per_frame: o.segmenter_mp4_us_per_frame };
  } catch (error) {
    process.stderr.write(`segmenter benchmark: ${(error as Error).message}\n`);
    return { segmenter_us_per_frame: NaN, segmenter_mp4_us_per_frame: NaN };
  }
}

// The pure segmenter first, on a machine the bench does not load yet (a few seconds).
const segmenter = await segmenterInChild();

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
    rtc: { listenIp: '127.0.0.1', announcedAddress: '127.0.0.1', minPort: 40_000, maxPort: 49_999, connectTimeoutMs: 30_000 },
    viewersPerRouter: 100,
  });
  cleanups.push(() => sfu.close());
  const workerPids = sfu.workers.map((w) => w.worker.pid);

  const dataDir = path.join(tmp, 'data');
  await fs.mkdir(dataDir, { recursive: true });
  let s3Pid: number | undefined;
  let store: ObjectStore;
  if (S3_MODE === 'process') {
    // As the service runs it: s3rver in a process of its own (EmbeddedS3Process), over HTTP.
    const s3 = await EmbeddedS3Process.start({ directory: path.join(dataDir, 's3'), port: 0, bucket: 'mimamori' });
    s3Pid = s3.pid;
    const client = await S3ObjectStore.create({ ...s3.options, createBucket: true });
    store = client;
    cleanups.push(async () => {
      client.close();
      await s3.close();
    });
  } else {
    // s3rver in this process (as the service ran it before), over HTTP through the AWS SDK.
    const storage: Storage = await openStorage({ dataDir, s3: undefined, embeddedS3: { port: 0, bucket: 'mimamori' } });
    store = storage.store;
    cleanups.push(() => storage.close());
  }
  const wrapped = new Map<string, WrappedKey>();
  const keyCatalog: KeyCatalog = {
    wrappedKey: (id) => wrapped.get(id),
    addWrappedKey: async (cameraId, key) => {
      if (!wrapped.has(cameraId)) wrapped.set(cameraId, key);
      return wrapped.get(cameraId)!;
    },
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
    store,
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
    video: `${VIDEO.width}x${VIDEO.height} ${VIDEO.fps} fps ${VIDEO.kbps} kbit/s H.264 constrained baseline, keyframe every 1 s`,
    audio: `Opus ${AUDIO.kbps} kbit/s, 20 ms`,
    segment_seconds: SEGMENT_S,
    fragment_ms: FRAGMENT_MS,
    steps: STEPS,
    ffmpeg_cameras: FFMPEG_CAMERAS,
    embedded_s3: S3_MODE,
    spool: spoolDir,
  });

  /** Every counter of one instant: CPU, RTP received by the producers, RTP sent. */
  interface Probe {
    /** How long collecting the counters took (ms). */
    ms: number;
    cpu: Snapshot;
    rtp: { packets: number; lost: number };
    sent: SenderStats;
  }
  const pids = (extra: number[] = []): Pids => ({ workers: workerPids, sender: sender.pid, ...(s3Pid !== undefined ? { s3: s3Pid } : {}), extra });
  const probe = async (extra: number[] = []): Promise<Probe> => {
    const t = performance.now();
    const [cpu, rtp, sent] = await Promise.all([
      snapshot(pids(extra)),
      producerCounters(cams),
      sender.request<SenderStats>({ type: 'stats' }),
    ]);
    return { ms: performance.now() - t, cpu, rtp, sent };
  };

  /**
   * Waits (at most QUIET_WAIT_MS) until other processes use less than QUIET_OTHER_PCT of a core:
   * this machine is shared, and a window spent beside someone's browser tests says nothing about
   * the recorder. Returns the seconds waited.
   */
  const waitForQuiet = async (): Promise<number> => {
    const started = Date.now();
    while (Date.now() - started < QUIET_WAIT_MS) {
      const a = await snapshot(pids());
      await sleep(2000);
      const u = usage(a, await snapshot(pids()));
      if (u.other < QUIET_OTHER_PCT) break;
    }
    return round((Date.now() - started) / 1000 - 2, 0);
  };

  // 1. Producers only: the baseline (CPU, and memory: a full GC first, so that garbage of the
  // previous step's recorder is not counted as the baseline, then RSS sampled every second).
  const producersPhase = async (n: number): Promise<{ usage: Usage; rss: Rss }> => {
    const waited = await waitForQuiet();
    fullGc();
    const a = await probe();
    const rssSamples: Rss[] = [];
    const end = performance.now() + BASELINE_S * 1000;
    while (performance.now() < end) {
      await sleep(Math.min(1000, end - performance.now()));
      rssSamples.push(await serviceRss(pids()));
    }
    const b = await probe();
    const u = usage(a.cpu, b.cpu);
    const rss = medianRss(rssSamples);
    emit({
      phase: 'producers',
      cameras: n,
      worker_cpu_pct: round(u.workers),
      node_cpu_pct: round(u.self),
      sender_cpu_pct: round(u.sender),
      sender_cpu_pct_per_camera: round(u.sender / n, 3),
      sender_max_lag_ms: round(b.sent.maxLagMs),
      rtp_packets_sent_per_s: Math.round((b.sent.packets - a.sent.packets) / u.seconds),
      rtp_packets_received_per_s: Math.round((b.rtp.packets - a.rtp.packets) / u.seconds),
      rtp_packets_lost: b.rtp.lost - a.rtp.lost,
      mbit_per_s_sent: round(((b.sent.bytes - a.sent.bytes) * 8) / u.seconds / 1e6),
      mbit_per_s_target: n,
      node_rss_mb: round(rss.node),
      worker_rss_mb: round(rss.workers),
      ...(S3_MODE === 'process' ? { s3_server_rss_mb: round(rss.s3) } : {}),
      ...machineFields(u),
      waited_for_quiet_s: waited,
    });
    return { usage: u, rss };
  };

  // 2. The usual recipe: a PlainTransport per track and one `ffmpeg -c copy` per camera.
  const ffmpegPhase = async (n: number, base: Usage): Promise<{ cpuPerCamera: number; rssMbPerProcess: number; rssAnonMbPerProcess: number }> => {
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
      const waited = await waitForQuiet();
      const ffmpegPids = runs.map((r) => r.process.pid!);
      const bytes0 = await Promise.all(runs.map((r) => dirBytes(r.dir)));
      const a = await probe(ffmpegPids);
      // Each ffmpeg process's resident memory, sampled every second: the mean over the processes
      // alive at each sample, then the median over the samples.
      const rssSamples: { rss: number; anon: number }[] = [];
      const end = performance.now() + MEASURE_S * 1000;
      while (performance.now() < end) {
        await sleep(Math.min(1000, end - performance.now()));
        const all = (await Promise.all(ffmpegPids.map(procRss))).filter((r) => Number.isFinite(r.rss));
        if (all.length > 0) rssSamples.push({ rss: all.reduce((x, r) => x + r.rss, 0) / all.length, anon: all.reduce((x, r) => x + r.anon, 0) / all.length });
      }
      const rssMbPerProcess = median(rssSamples.map((r) => r.rss));
      const rssAnonMbPerProcess = median(rssSamples.map((r) => r.anon));
      const b = await probe(ffmpegPids);
      const bytes1 = await Promise.all(runs.map((r) => dirBytes(r.dir)));
      const u = usage(a.cpu, b.cpu);
      const k = subset.length;
      const workerDelta = u.workers - base.workers;
      const selfDelta = Math.max(0, u.self - base.self);
      const perCamera = (u.extra + workerDelta + selfDelta) / k;
      const alive = runs.filter((r) => r.process.exitCode === null && r.process.signalCode === null).length;
      const writtenKbps = bytes1.map((x, i) => ((x - bytes0[i]!) * 8) / u.seconds / 1000);
      emit({
        phase: 'ffmpeg',
        cameras: n,
        ffmpeg_cameras: k,
        ffmpeg_processes_alive: alive,
        ffmpeg_cpu_pct_per_camera: round(perCamera, 3),
        ffmpeg_process_cpu_pct_per_camera: round(u.extra / k, 3),
        worker_cpu_pct_per_camera: round(workerDelta / k, 3),
        worker_cpu_pct: round(u.workers),
        worker_cpu_pct_baseline: round(base.workers),
        node_cpu_pct: round(u.self),
        node_cpu_pct_baseline: round(base.self),
        ffmpeg_rss_mb_per_process: round(rssMbPerProcess),
        ffmpeg_rss_anon_mb_per_process: round(rssAnonMbPerProcess),
        written_kbps_per_camera_min: round(Math.min(...writtenKbps)),
        written_kbps_per_camera_max: round(Math.max(...writtenKbps)),
        sent_kbps_per_camera: ready.kbps,
        rtp_packets_lost: b.rtp.lost - a.rtp.lost,
        ...machineFields(u),
        waited_for_quiet_s: waited,
        ...(alive < k ? { ffmpeg_stderr: runs.find((r) => r.stderr)?.stderr.slice(0, 500) } : {}),
      });
      return { cpuPerCamera: perCamera, rssMbPerProcess, rssAnonMbPerProcess };
    } finally {
      for (const r of runs) {
        r.process.kill('SIGTERM');
        for (const t of r.transports) t.close();
      }
      await sleep(500);
      for (const r of runs) if (r.process.exitCode === null) r.process.kill('SIGKILL');
      await fs.rm(path.join(tmp, 'ffmpeg'), { recursive: true, force: true });
    }
  };

  /** Media missing from the recordings in S3 over [from, to), counted in fragments. */
  const missing = async (from: number, to: number, stoppedAt: number) => {
    const r = { holes: 0, missingMs: 0, lost: 0, gaps: 0, ends: {} as Record<string, number>, behindStopMs: [] as number[] };
    const hole = (ms: number) => {
      if (ms <= HOLE_TOLERANCE_MS) return;
      r.holes += 1;
      r.missingMs += ms;
      r.lost += Math.ceil(ms / FRAGMENT_MS);
    };
    for (const c of cams) {
      const { segments: all, gaps } = await recorder.index.query(c.id, from, stoppedAt + 10_000);
      // How far behind real time the recording was when it was stopped (media not yet processed then is never recorded).
      r.behindStopMs.push(stoppedAt - Math.max(from, ...all.map((s) => s.endMs)));
      const segments = all.filter((s) => s.startMs < to);
      r.gaps += gaps.filter((g) => g.fromMs < to).length;
      for (const s of segments) r.ends[s.end] = (r.ends[s.end] ?? 0) + 1;
      const spans = segments
        .flatMap((s) => s.fragments.map((f) => [s.startMs + f[0], s.startMs + f[0] + f[1]] as const))
        .sort((x, y) => x[0] - y[0]);
      let cursor = from;
      for (const [start, stop] of spans) {
        if (cursor >= to) break;
        if (stop <= cursor) continue;
        if (start > cursor) hole(Math.min(start, to) - cursor);
        cursor = Math.max(cursor, stop);
      }
      if (cursor < to) hole(to - cursor);
    }
    return r;
  };

  // 3. The recorder.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  const recorderPhase = async (n: number, base: Usage, baseRss: Rss, ffmpegPerCamera: number, attempt: number) => {
    const waited = await waitForQuiet();
    recording = true;
    const started = performance.now();
    for (const c of cams) recorder.refresh(c.id);
    // Warm-up: until every camera records (its first keyframe), then RECORDER_WARMUP_MS more.
    let allRecordingMs = NaN;
    while (performance.now() - started < RECORDER_START_LIMIT_MS) {
      await sleep(500);
      const status = await recorder.status();
      if (status.cameras.length === n && status.cameras.every((c) => c.recording)) {
        allRecordingMs = performance.now() - started;
        break;
      }
    }
    await sleep(RECORDER_WARMUP_MS);
    const m = recorder.metrics;
    const a = await probe();
    loopDelay.enable();
    // The window starts once the counters are read (that can take a while on a loaded machine).
    const from = Date.now();
    loopDelay.reset();
    const before = { fragments: m.fragments, bytes: m.fragmentBytes, droppedFrames: m.droppedFrames, writeErrors: m.writeErrors, upload: recorder.uploader.stats };
    const gcBefore = { ...gcTally };
    m.resetDurable();
    let maxQueued = 0;
    let maxWaitingMs = 0;
    const rssSamples: Rss[] = [];
    const end = performance.now() + MEASURE_S * 1000;
    while (performance.now() < end) {
      await sleep(Math.min(500, end - performance.now()));
      maxQueued = Math.max(maxQueued, recorder.uploader.queued);
      maxWaitingMs = Math.max(maxWaitingMs, recorder.uploader.stats.oldestWaitingMs ?? 0);
      rssSamples.push(await serviceRss(pids()));
    }
    const to = Date.now();
    loopDelay.disable();
    const windowS = (to - from) / 1000;
    const gc = { major: (gcTally.major - gcBefore.major) / windowS, minor: (gcTally.minor - gcBefore.minor) / windowS, pauseMs: (gcTally.pauseMs - gcBefore.pauseMs) / windowS };
    const rss = medianRss(rssSamples);
    const rssMax = Math.max(...rssSamples.map((r) => r.node + r.workers));
    const p50 = m.durablePercentile(50) ?? NaN;
    const p99 = m.durablePercentile(99) ?? NaN;
    const durableMax = m.durablePercentile(100) ?? NaN;
    const after = { fragments: m.fragments, bytes: m.fragmentBytes, upload: recorder.uploader.stats };
    const b = await probe();
    const u = usage(a.cpu, b.cpu);

    // Stop recording; wait until every segment is finished and in S3.
    recording = false;
    const stoppedAt = Date.now();
    for (const c of cams) recorder.refresh(c.id);
    const stopDeadline = Date.now() + 180_000;
    for (;;) {
      const left = (await fs.readdir(spoolDir, { recursive: true }).catch(() => [] as string[])).filter((f) => f.endsWith('.part') || f.endsWith('.seg'));
      if (left.length === 0 && recorder.uploader.queued === 0) break;
      if (Date.now() > stopDeadline) throw new Error(`spool did not drain: ${left.length} files left`);
      await sleep(250);
    }
    await recorder.drained();

    // The window's last second is left out: its frames may still be on their way (the reorder
    // buffer) when recording stops right after it.
    const holes = await missing(from, to - FRAGMENT_MS, stoppedAt);
    const behind = holes.behindStopMs.sort((x, y) => x - y);
    const workerDelta = u.workers - base.workers;
    const selfDelta = u.self - base.self;
    const cpuPerCamera = (workerDelta + selfDelta) / n;
    // Memory per recorded camera: this process (recorder, embedded S3, SFU control plane) plus the
    // mediasoup workers (each recorded track is a DirectTransport consumer there, with its own
    // buffers), median over the window minus median over the producers-only phase. RSS includes
    // garbage not yet collected, as the service's does; memory an earlier step left behind and the
    // recorder reuses makes it a little kind.
    const nodeRssPerCamera = (rss.node - baseRss.node) / n;
    const workerRssPerCamera = (rss.workers - baseRss.workers) / n;
    const rssPerCamera = nodeRssPerCamera + workerRssPerCamera;
    // Keeping up with real time: when recording stopped, every camera's recording reached to within
    // DURABLE_LIMIT_MS of that moment, and the fragments made durable in the window are about the
    // cameras' seconds in it (± one per camera for the window's edges). A recorder that falls
    // behind still reports a small close → fsync time (a fragment "closes" when the recorder gets
    // to it), and the media it has not processed when recording stops is never recorded.
    const written = after.fragments - before.fragments;
    const expected = Math.round((n * (to - from)) / FRAGMENT_MS);
    const behindMax = behind.at(-1) ?? Infinity;
    const keepsUp = behindMax <= DURABLE_LIMIT_MS && written >= expected - n;
    const ok = p99 <= DURABLE_LIMIT_MS && holes.lost === 0 && keepsUp;
    emit({
      phase: 'recorder',
      cameras: n,
      attempt,
      ok,
      cpu_pct_per_camera: round(cpuPerCamera, 3),
      ffmpeg_cpu_pct_per_camera: round(ffmpegPerCamera, 3),
      node_cpu_pct_per_camera: round(selfDelta / n, 3),
      worker_cpu_pct_per_camera: round(workerDelta / n, 3),
      node_cpu_pct: round(u.self),
      node_cpu_pct_baseline: round(base.self),
      node_threads_cpu_pct: u.threads,
      embedded_s3: S3_MODE,
        ...(S3_MODE === 'process' ? { s3_server_cpu_pct_per_camera: round((u.s3 - base.s3) / n, 3) } : {}),
      worker_cpu_pct: round(u.workers),
      worker_cpu_pct_baseline: round(base.workers),
      sender_cpu_pct: round(u.sender),
      rss_mb_per_camera: round(rssPerCamera, 2),
      node_rss_mb_per_camera: round(nodeRssPerCamera, 2),
      worker_rss_mb_per_camera: round(workerRssPerCamera, 2),
      node_rss_mb: round(rss.node),
      node_rss_mb_baseline: round(baseRss.node),
      worker_rss_mb: round(rss.workers),
      worker_rss_mb_baseline: round(baseRss.workers),
      node_plus_worker_rss_mb_max: round(rssMax),
      ...(S3_MODE === 'process' ? { s3_server_rss_mb_per_camera: round((rss.s3 - baseRss.s3) / n, 2) } : {}),
      fragment_durable_ms_p50: round(p50),
      fragment_durable_ms_p99: round(p99),
      fragment_durable_ms_max: round(durableMax),
      fragment_durable_ms_limit: DURABLE_LIMIT_MS,
      fragments_lost: holes.lost,
      keeps_up: keepsUp,
      fragments_written: written,
      fragments_expected: expected,
      holes: holes.holes,
      missing_ms: Math.round(holes.missingMs),
      gaps_in_index: holes.gaps,
      segment_end_reasons: holes.ends,
      recording_behind_at_stop_ms_p50: Math.round(behind[Math.floor(behind.length / 2)] ?? NaN),
      recording_behind_at_stop_ms_max: Math.round(behindMax),
      recording_behind_at_stop_ms_limit: DURABLE_LIMIT_MS,
      gc_major_per_s: round(gc.major, 2),
      gc_minor_per_s: round(gc.minor, 1),
      gc_pause_ms_per_s: round(gc.pauseMs, 1),
      event_loop_delay_ms_p99: round(loopDelay.percentile(99) / 1e6),
      event_loop_delay_ms_max: round(loopDelay.max / 1e6),
      dropped_segments: after.upload.droppedSegments - before.upload.droppedSegments,
      write_errors: m.writeErrors - before.writeErrors,
      dropped_frames_whole_sessions: m.droppedFrames - before.droppedFrames,
      segments_uploaded: after.upload.uploaded - before.upload.uploaded,
      upload_errors: after.upload.errors - before.upload.errors,
      upload_queue_max: maxQueued,
      upload_oldest_waiting_ms_max: Math.round(maxWaitingMs),
      rtp_packets_sent: b.sent.packets - a.sent.packets,
      rtp_packets_received: b.rtp.packets - a.rtp.packets,
      rtp_packets_lost: b.rtp.lost - a.rtp.lost,
      sender_max_lag_ms: round(b.sent.maxLagMs),
      mbit_per_s_sent: round(((b.sent.bytes - a.sent.bytes) * 8) / u.seconds / 1e6),
      mbit_per_s_recorded: round(((after.bytes - before.bytes) * 8) / (to - from) / 1e3),
      window_s: round(u.seconds),
      all_cameras_recording_after_ms: Math.round(allRecordingMs),
      counters_read_ms: [Math.round(a.ms), Math.round(b.ms)],
      ...machineFields(u),
      waited_for_quiet_s: waited,
      ...(logCounts.size > 0 ? { log: Object.fromEntries(logCounts) } : {}),
    });
    return { cameras: n, ok, cpuPerCamera, s3PerCamera: S3_MODE === 'process' ? (u.s3 - base.s3) / n : 0, p99, lost: holes.lost, disturbed: u.other >= QUIET_OTHER_PCT, rss, rssPerCamera, nodeRssPerCamera, workerRssPerCamera };
  };

  const results: Awaited<ReturnType<typeof recorderPhase>>[] = [];
  let ffmpegPerCamera = NaN;
  let ffmpegRssPerProcess = NaN;
  let ffmpegRssAnonPerProcess = NaN;
  for (const n of STEPS) {
    const added: SenderCamera[] = [];
    while (cams.length < n) {
      const { cam, sender: s } = await addCamera(sfu, cams.length);
      cams.push(cam);
      added.push(s);
    }
    if (added.length > 0) await sender.request({ type: 'add', cameras: added });
    await sleep(3000);
    const { usage: base, rss: baseRss } = await producersPhase(n);
    if (Number.isNaN(ffmpegPerCamera) && FFMPEG_CAMERAS > 0) {
      ({ cpuPerCamera: ffmpegPerCamera, rssMbPerProcess: ffmpegRssPerProcess, rssAnonMbPerProcess: ffmpegRssAnonPerProcess } = await ffmpegPhase(n, base));
      await sleep(1000);
    }
    let result = await recorderPhase(n, base, baseRss, ffmpegPerCamera, 1);
    // A failure while other work shared the machine is tried again (once the machine is quiet).
    for (let attempt = 2; !result.ok && result.disturbed && attempt <= 1 + RETRIES; attempt++) {
      await sleep(1000);
      result = await recorderPhase(n, base, baseRss, ffmpegPerCamera, attempt);
    }
    results.push(result);
    if (!result.ok) break;
    await sleep(1000);
  }

  const passed = results.filter((r) => r.ok);
  const best = passed.at(-1) ?? results[0];
  const camerasMax = passed.at(-1)?.cameras ?? 0;
  const cpuVsFfmpeg = (best?.cpuPerCamera ?? NaN) / ffmpegPerCamera;
  const rssPerCamera = best?.rssPerCamera ?? NaN;
  const p99 = best?.p99 ?? NaN;
  const lost = best?.lost ?? NaN;
  // Memory growth per camera between the two largest passing steps, both while recording: no
  // baseline in it, a cross-check of rss_mb_per_camera.
  const [lower, upper] = passed.slice(-2);
  const rssPerAddedCamera = lower && upper ? (upper.rss.node + upper.rss.workers - lower.rss.node - lower.rss.workers) / (upper.cameras - lower.cameras) : NaN;
  emit({
    bench: 'ingest',
    // The figures are of the largest passing step (of the first step if none passed); each goal is printed beside its figure.
    cameras_max: camerasMax,
    cameras_max_goal: GOALS.camerasMax,
    cpu_pct_per_camera: round(best?.cpuPerCamera ?? NaN, 3),
    ffmpeg_cpu_pct_per_camera: round(ffmpegPerCamera, 3),
    cpu_vs_ffmpeg: round(cpuVsFfmpeg, 2),
    cpu_vs_ffmpeg_goal: GOALS.cpuVsFfmpeg,
    // ffmpeg writes local files; the recorder also uploads. The storage server's own CPU (the
    // embedded s3rver's process; on AWS it is not on this machine) is printed beside, not in, the ratio.
    embedded_s3: S3_MODE,
    s3_server_cpu_pct_per_camera: round(best?.s3PerCamera ?? NaN, 3),
    cpu_vs_ffmpeg_with_s3_server: round(((best?.cpuPerCamera ?? NaN) + (best?.s3PerCamera ?? NaN)) / ffmpegPerCamera, 2),
    // This process (recorder, embedded S3, SFU control plane) + the mediasoup workers, split below.
    rss_mb_per_camera: round(rssPerCamera, 2),
    rss_mb_per_camera_goal: GOALS.rssMbPerCamera,
    node_rss_mb_per_camera: round(best?.nodeRssPerCamera ?? NaN, 2),
    worker_rss_mb_per_camera: round(best?.workerRssPerCamera ?? NaN, 2),
    node_plus_worker_rss_mb_per_added_camera: round(rssPerAddedCamera, 2),
    // VmRSS counts the shared libraries (libav*) in every process; RssAnon is its private memory.
    ffmpeg_rss_mb_per_process: round(ffmpegRssPerProcess, 1),
    ffmpeg_rss_anon_mb_per_process: round(ffmpegRssAnonPerProcess, 1),
    fragment_durable_ms_p99: round(p99),
    fragment_durable_ms_p99_goal: GOALS.durableMsP99,
    fragments_lost: lost,
    fragments_lost_goal: GOALS.fragmentsLost,
    segmenter_us_per_frame: segmenter.segmenter_us_per_frame,
    segmenter_mp4_us_per_frame: segmenter.segmenter_mp4_us_per_frame,
    goals_met: {
      cameras_max: camerasMax >= GOALS.camerasMax,
      cpu_vs_ffmpeg: cpuVsFfmpeg <= GOALS.cpuVsFfmpeg,
      rss_mb_per_camera: rssPerCamera <= GOALS.rssMbPerCamera,
      fragment_durable_ms_p99: p99 <= GOALS.durableMsP99,
      fragments_lost: lost === GOALS.fragmentsLost,
    },
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
