// What is inside the sealed records of a segment object (pure encode/decode).
//
// A segment object is a run of sealed records (recorder/seal): one `init`, then `fragment` 0..n-1,
// then one `trailer`. Each init and fragment record's plaintext is a small JSON header followed by
// the MP4 bytes, so every record says by itself where it sits on the wall clock: the index can be
// rebuilt from S3 alone, and a spool file torn by a crash is finished without outside state.
//
//   plaintext = u32 BE header length | header JSON (utf-8) | MP4 bytes (init segment or moof+mdat)

import { CodedError, damagedRecording } from '../errors/index.ts';
import type { Track } from './mp4/index.ts';

export interface SegmentHeader {
  v: 1;
  cameraId: string;
  session: string;
  seq: number;
  /** Wall-clock time of the segment's first frame (ms since the epoch, UTC). */
  startMs: number;
  tracks: TrackSummary[];
  /**
   * The node that recorded it and the camera's epoch it held then (several nodes): where two
   * nodes' recordings overlap, the higher epoch's is kept. Absent: a single node (or an older release).
   */
  holder?: Holder;
}

/** Who held a camera's media while a segment was recorded. */
export interface Holder {
  node: string;
  epoch: number;
}

export interface TrackSummary {
  id: number;
  kind: 'video' | 'audio';
  codec: Track['codec'];
  timescale: number;
  width?: number;
  height?: number;
}

export interface FragmentHeader {
  /** Fragment number within the segment, from 0. */
  i: number;
  startMs: number;
  durationMs: number;
  /** Whether the fragment starts with a video keyframe (a seek can start here). */
  keyframe: boolean;
  /** Per track: decode time of the first sample in the track's timescale. */
  baseDecodeTimes: Record<number, number>;
}

export interface TrailerBody {
  fragments: number;
  endMs: number;
  /** Why the segment ended: 'duration', 'config' (resolution/codec change), 'interrupted' (frames lost), 'stopped', 'recovered' (finished after a crash), 'clock' (the camera's clock drifted: a new timeline starts). */
  reason: SegmentEndReason;
}

export type SegmentEndReason = 'duration' | 'config' | 'interrupted' | 'stopped' | 'recovered' | 'clock';

export class RecordFormatError extends CodedError {
  override name = 'RecordFormatError';
  readonly code = 'record_malformed';
  readonly status = 500;

  override answer() {
    return damagedRecording(this.code);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeWithHeader(header: object, body: Uint8Array): Uint8Array {
  const json = encoder.encode(JSON.stringify(header));
  const out = new Uint8Array(4 + json.length + body.length);
  new DataView(out.buffer).setUint32(0, json.length);
  out.set(json, 4);
  out.set(body, 4 + json.length);
  return out;
}

export function decodeWithHeader<T>(plaintext: Uint8Array): { header: T; body: Uint8Array } {
  if (plaintext.length < 4) throw new RecordFormatError('record plaintext shorter than its header length field');
  const length = new DataView(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength).getUint32(0);
  if (4 + length > plaintext.length) throw new RecordFormatError('record header runs past the end of the record');
  let header: T;
  try {
    header = JSON.parse(decoder.decode(plaintext.subarray(4, 4 + length))) as T;
  } catch {
    throw new RecordFormatError('record header is not JSON');
  }
  return { header, body: plaintext.subarray(4 + length) };
}

export function encodeTrailer(t: TrailerBody): Uint8Array {
  return encoder.encode(JSON.stringify(t));
}

export function decodeTrailer(plaintext: Uint8Array): TrailerBody {
  try {
    const t = JSON.parse(decoder.decode(plaintext)) as TrailerBody;
    if (typeof t.fragments !== 'number' || typeof t.endMs !== 'number') throw new Error();
    return t;
  } catch {
    throw new RecordFormatError('segment trailer is not valid');
  }
}
