// What the recording index holds for each segment and each hole, and how a segment's entry is made
// from its header: the one shape the writer, the spool's recovery, the reader and the index share.
import type { Holder, SegmentEndReason, SegmentHeader } from './records.ts';

/** [start offset from the segment's start in ms, duration ms, keyframe 0|1, byte offset, byte length] */
export type FragmentTuple = [number, number, 0 | 1, number, number];

export interface SegmentEntry {
  key: string;
  session: string;
  seq: number;
  startMs: number;
  endMs: number;
  bytes: number;
  /** Byte range of the init record. */
  init: [number, number];
  fragments: FragmentTuple[];
  end: SegmentEndReason;
  /** The node that recorded it and its epoch (several nodes). */
  holder?: Holder;
  video?: { codec: string; width: number; height: number };
  audio?: { codec: string };
}

export type GapReason = 'camera-offline' | 'frames-lost' | 'recorder-down' | 'spool-overflow' | 'disk-full' | 'disk-slow' | 'clock-drift' | 'producer-changed' | 'node-failed';

export interface GapEntry {
  fromMs: number;
  toMs: number;
  reason: GapReason;
}

/** A finished segment's index entry, from its header and where its records lie. */
export function segmentEntry(
  key: string,
  header: SegmentHeader,
  endMs: number,
  bytes: number,
  init: [number, number],
  fragments: FragmentTuple[],
  reason: SegmentEndReason,
): SegmentEntry {
  const video = header.tracks.find((t) => t.kind === 'video');
  const audio = header.tracks.find((t) => t.kind === 'audio');
  return {
    key,
    session: header.session,
    seq: header.seq,
    startMs: header.startMs,
    endMs,
    bytes,
    init,
    fragments,
    end: reason,
    ...(header.holder ? { holder: header.holder } : {}),
    ...(video ? { video: { codec: video.codec, width: video.width ?? 0, height: video.height ?? 0 } } : {}),
    ...(audio ? { audio: { codec: audio.codec } } : {}),
  };
}
