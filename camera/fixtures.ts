// Fixture files for the synthetic camera, made once with Debian's ffmpeg and cached on disk by
// their parameters. ffmpeg is used only here, never while streaming: the camera replays the files.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FixtureError } from './errors.ts';

export type H264Profile = 'baseline' | 'main' | 'high';

export interface VideoFixtureParams {
  width: number;
  height: number;
  fps: number;
  /** Target bitrate in kbit/s. */
  kbps: number;
  /** Length of the file (the camera loops it). */
  seconds: number;
  profile: H264Profile;
}

export interface AudioFixtureParams {
  seconds: number;
  /** Opus bitrate in kbit/s. */
  kbps: number;
}

/** Bumped whenever the ffmpeg command changes, so stale cached files are not reused. */
const RECIPE = 1;

const INSTALL_HINT =
  'the synthetic camera needs Debian\'s ffmpeg (with libx264 and libopus) to make its fixture files once: ' +
  'run "apt-get install -y ffmpeg" (as root), or run "npm test" once, which installs it';

/** `${MIMAMORI_CACHE:-~/.cache/mimamori}/fixtures` */
export function fixtureDir(env: NodeJS.ProcessEnv = process.env): string {
  const root = env.MIMAMORI_CACHE || path.join(os.homedir(), '.cache', 'mimamori');
  return path.join(root, 'fixtures');
}

/** Level for constrained baseline/main/high from the macroblock rate (H.264 table A-1), so big sizes stay valid. */
export function h264Level(width: number, height: number, fps: number): string {
  const frameMbs = Math.ceil(width / 16) * Math.ceil(height / 16);
  const mbps = frameMbs * fps;
  if (frameMbs <= 1620 && mbps <= 40_500) return '3.0';
  if (frameMbs <= 3600 && mbps <= 108_000) return '3.1';
  if (frameMbs <= 5120 && mbps <= 216_000) return '3.2';
  if (frameMbs <= 8192 && mbps <= 245_760) return '4.1';
  if (frameMbs <= 8704 && mbps <= 522_240) return '4.2';
  if (frameMbs <= 22_080 && mbps <= 589_824) return '5.1';
  return '5.2';
}

export function videoFixtureName(p: VideoFixtureParams): string {
  return `h264-r${RECIPE}-${p.width}x${p.height}-${p.fps}fps-${p.kbps}k-${p.seconds}s-${p.profile}.h264`;
}

export function audioFixtureName(p: AudioFixtureParams): string {
  return `opus-r${RECIPE}-48k-${p.kbps}k-${p.seconds}s.ogg`;
}

/**
 * ffmpeg arguments for the video fixture: a moving test pattern, no B-frames (WebRTC decoders
 * expect none), a keyframe every second with SPS/PPS repeated before each one so a viewer can
 * join at any keyframe, and a capped rate so packets pace like a real camera's.
 */
export function videoFixtureArgs(p: VideoFixtureParams, out: string): string[] {
  const gop = Math.max(1, Math.round(p.fps));
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${p.width}x${p.height}:rate=${p.fps}`,
    '-t', String(p.seconds),
    '-c:v', 'libx264', '-profile:v', p.profile, '-level', h264Level(p.width, p.height, p.fps),
    '-pix_fmt', 'yuv420p', '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0', '-bf', '0',
    '-b:v', `${p.kbps}k`, '-maxrate', `${Math.round(p.kbps * 1.125)}k`, '-bufsize', `${Math.round(p.kbps * 1.125)}k`,
    '-x264-params', 'repeat-headers=1',
    '-f', 'h264', out,
  ];
}

export function audioFixtureArgs(p: AudioFixtureParams, out: string): string[] {
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(p.seconds),
    '-c:a', 'libopus', '-b:a', `${p.kbps}k`, '-frame_duration', '20',
    '-f', 'ogg', out,
  ];
}

/** Path of the cached video fixture, generating it first if needed. */
export async function ensureVideoFixture(p: VideoFixtureParams, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return ensureFile(path.join(fixtureDir(env), videoFixtureName(p)), (tmp) => videoFixtureArgs(p, tmp), env);
}

/** Path of the cached Opus fixture, generating it first if needed. */
export async function ensureAudioFixture(p: AudioFixtureParams, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return ensureFile(path.join(fixtureDir(env), audioFixtureName(p)), (tmp) => audioFixtureArgs(p, tmp), env);
}

async function ensureFile(file: string, args: (tmp: string) => string[], env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const st = await fs.stat(file);
    if (st.size > 0) return file;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await fs.mkdir(path.dirname(file), { recursive: true });
  // Written under a unique name then renamed: concurrent test processes may race to make the same
  // file, and a reader must never see a half-written one.
  const ext = path.extname(file);
  const tmp = `${file.slice(0, -ext.length)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}${ext}`;
  try {
    await runFfmpeg(args(tmp), env);
    await fs.rename(tmp, file);
  } finally {
    await fs.rm(tmp, { force: true });
  }
  return file;
}

function runFfmpeg(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const bin = env.MIMAMORI_FFMPEG || 'ffmpeg';
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4000) stderr += d.toString();
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT' ? new FixtureError('ffmpeg_missing', `${bin} not found: ${INSTALL_HINT}`) : err);
    });
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const why = signal ? `was killed by ${signal}` : `exited with ${code}`;
      const missingCodec = /Unknown encoder|Encoder not found|libx264|libopus/i.test(stderr);
      reject(
        new FixtureError(
          'ffmpeg_failed',
          `${bin} ${why} making a fixture${missingCodec ? ` (${INSTALL_HINT})` : ''}: ${stderr.trim().slice(-1000)}`,
        ),
      );
    });
  });
}
