// Test access to what the recorder stored: the real bucket (through the real SDK), the data key
// unwrapped from the service's metadata with its master key, and decoded recordings.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { findStamp } from '../camera/index.ts';
import { parseFragment, parseInit } from '../recorder/mp4/index.ts';
import { parseSegmentKey, segmentPrefix } from '../recorder/objects.ts';
import { readSegment, type OpenedSegment } from '../recorder/reader.ts';
import { MasterKeys, unwrapDataKey, type WrappedKey } from '../recorder/seal/index.ts';
import { EmbeddedS3, S3ObjectStore, type ObjectStore, type S3Options } from '../recorder/store/index.ts';

const run = promisify(execFile);

export interface Recordings {
  store: ObjectStore;
  dataKey(cameraId: string): Promise<Uint8Array>;
  /** Segment keys of a camera, in time order. */
  keys(cameraId: string): Promise<string[]>;
  segments(cameraId: string): Promise<OpenedSegment[]>;
  close(): Promise<void>;
}

/** Opens the recordings of a service's data dir: its embedded S3 folder, or the given endpoint. */
export async function openRecordings(dataDir: string, s3?: S3Options): Promise<Recordings> {
  const embedded = s3 ? undefined : await EmbeddedS3.start({ directory: path.join(dataDir, 's3'), bucket: 'mimamori' });
  const store = await S3ObjectStore.create({ ...(s3 ?? embedded!.options), createBucket: false });
  const masters = await MasterKeys.load({ dataDir });
  const dataKey = async (cameraId: string) => {
    const db = JSON.parse(await fs.readFile(path.join(dataDir, 'db.json'), 'utf8')) as { keys: { cameraId: string; key: WrappedKey }[] };
    const wrapped = db.keys.find((k) => k.cameraId === cameraId);
    if (!wrapped) throw new Error(`no data key for ${cameraId}`);
    return unwrapDataKey(masters, wrapped.key);
  };
  const keys = async (cameraId: string) => {
    const out: string[] = [];
    for await (const o of store.list(segmentPrefix(cameraId))) if (parseSegmentKey(o.key)) out.push(o.key);
    return out.sort((a, b) => parseSegmentKey(a)!.startMs - parseSegmentKey(b)!.startMs);
  };
  return {
    store,
    dataKey,
    keys,
    async segments(cameraId) {
      const key = await dataKey(cameraId);
      const out: OpenedSegment[] = [];
      for (const k of await keys(cameraId)) out.push(readSegment(key, k, await store.get(k)));
      return out;
    },
    async close() {
      store.close();
      await embedded?.close();
    },
  };
}

/** A segment as a plain fragmented MP4 file (init + fragments), as a player would get it. */
export async function writeMp4(segment: OpenedSegment, file: string): Promise<void> {
  await fs.writeFile(file, Buffer.concat([segment.init, ...segment.fragments.map((f) => f.mp4)]));
}

export interface VideoSampleInfo {
  /** Camera frame number from the FrameStamp SEI. */
  frame: number | undefined;
  /** When the camera sent it (wall clock, ms), from the same SEI. */
  sentAt: number | undefined;
  keyframe: boolean;
  decodeTime: number;
}

/** The video samples of a segment in order, with the camera's frame numbers. */
export function videoSamples(segment: OpenedSegment): VideoSampleInfo[] {
  const tracks = parseInit(segment.init);
  const video = tracks.find((t) => t.kind === 'video');
  const out: VideoSampleInfo[] = [];
  if (!video) return out;
  for (const f of segment.fragments) {
    const parsed = parseFragment(f.mp4);
    for (const run of parsed.runs) {
      if (run.trackId !== video.id) continue;
      let t = run.baseDecodeTime;
      for (const s of run.samples) {
        const nalus: Uint8Array[] = [];
        const data = f.mp4.subarray(s.offset, s.offset + s.size);
        for (let i = 0; i + 4 <= data.length; ) {
          const n = (data[i]! << 24) | (data[i + 1]! << 16) | (data[i + 2]! << 8) | data[i + 3]!;
          nalus.push(data.subarray(i + 4, i + 4 + n));
          i += 4 + n;
        }
        const stamp = findStamp(nalus);
        out.push({ frame: stamp?.frame, sentAt: stamp?.sentAt, keyframe: s.keyframe, decodeTime: t });
        t += s.duration;
      }
    }
  }
  return out;
}

export interface Probe {
  streams: { codec_type: string; codec_name: string; width?: number; height?: number; start_time?: string; duration?: string; nb_read_frames?: string }[];
  format: { duration?: string };
}

export async function ffprobe(file: string): Promise<Probe> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-show_streams', '-show_format', '-of', 'json', file]);
  return JSON.parse(stdout) as Probe;
}

/** Decodes every frame; returns ffmpeg's error output (empty when clean). */
export async function decodeErrors(file: string): Promise<string> {
  // passthrough: variable frame rate (browsers) must not be resampled to a fixed one for the null muxer.
  const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', file, '-fps_mode', 'passthrough', '-enc_time_base', '-1', '-f', 'null', '-']);
  return stderr.trim();
}
