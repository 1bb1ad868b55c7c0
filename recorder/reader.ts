// Reading sealed segments back: the only way recorded bytes leave their seal. Everything here
// opens (authenticates) a record before using a single byte of it, so a tampered, swapped or
// truncated object fails instead of being played.

import { CodedError, damagedRecording } from '../errors/index.ts';
import { parseSegmentKey } from './objects.ts';
import { decodeTrailer, decodeWithHeader, type FragmentHeader, type SegmentHeader } from './records.ts';
import type { FragmentTuple, SegmentEntry } from './RecordingIndex.ts';
import { open, scanRecords, SealError } from './seal/index.ts';
import { segmentEntry } from './entries.ts';

export class SegmentError extends CodedError {
  override name = 'SegmentError';
  readonly code: string;
  readonly status = 500;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }

  override answer() {
    return damagedRecording(this.code);
  }
}

export interface OpenedSegment {
  header: SegmentHeader;
  entry: SegmentEntry;
  /** The MP4 init segment (ftyp+moov). */
  init: Uint8Array;
  fragments: { header: FragmentHeader; mp4: Uint8Array }[];
}

/**
 * Opens every record of a whole segment object. Throws SegmentError (with the SealError's code
 * inside the message) when anything is missing, misplaced or fails authentication.
 */
export function readSegment(dataKey: Uint8Array, key: string, bytes: Uint8Array): OpenedSegment {
  const name = parseSegmentKey(key);
  if (!name) throw new SegmentError('bad_key', `${key} is not a segment object name`);
  const { records, validBytes } = scanRecords(bytes);
  if (validBytes !== bytes.length) throw new SegmentError('truncated', `${key}: ${bytes.length - validBytes} bytes after the last whole record (torn or truncated object)`);
  const first = records[0];
  const last = records.at(-1);
  if (!first || first.kind !== 'init') throw new SegmentError('no_init', `${key}: does not start with an init record`);
  if (!last || last.kind !== 'trailer') throw new SegmentError('truncated', `${key}: has no trailer (truncated object)`);
  const ctx = { cameraId: name.cameraId, object: key };
  try {
    const initPlain = decodeWithHeader<SegmentHeader>(open(dataKey, { ...ctx, index: 0, kind: 'init' }, bytes.subarray(first.offset, first.offset + first.length)));
    const header = initPlain.header;
    if (header.cameraId !== name.cameraId || header.session !== name.session || header.seq !== name.seq) {
      throw new SegmentError('misplaced', `${key}: its init record belongs to another segment`);
    }
    const fragments: OpenedSegment['fragments'] = [];
    const tuples: FragmentTuple[] = [];
    for (let i = 1; i < records.length - 1; i++) {
      const r = records[i]!;
      const plain = open(dataKey, { ...ctx, index: i, kind: 'fragment' }, bytes.subarray(r.offset, r.offset + r.length));
      const f = decodeWithHeader<FragmentHeader>(plain);
      fragments.push({ header: f.header, mp4: f.body });
      tuples.push([f.header.startMs - header.startMs, f.header.durationMs, f.header.keyframe ? 1 : 0, r.offset, r.length]);
    }
    const trailer = decodeTrailer(open(dataKey, { ...ctx, index: records.length - 1, kind: 'trailer' }, bytes.subarray(last.offset, last.offset + last.length)));
    if (trailer.fragments !== fragments.length) {
      throw new SegmentError('truncated', `${key}: trailer lists ${trailer.fragments} fragments, found ${fragments.length}`);
    }
    return {
      header,
      init: initPlain.body,
      fragments,
      entry: segmentEntry(key, header, trailer.endMs, bytes.length, [first.offset, first.length], tuples, trailer.reason),
    };
  } catch (error) {
    if (error instanceof SealError) throw new SegmentError(error.code, `${key}: ${error.message}`);
    throw error;
  }
}

/** Opens one fragment record fetched by its byte range from the index (playback of one second). */
export function openFragment(dataKey: Uint8Array, key: string, index: number, record: Uint8Array): { header: FragmentHeader; mp4: Uint8Array } {
  const name = parseSegmentKey(key);
  if (!name) throw new SegmentError('bad_key', `${key} is not a segment object name`);
  try {
    const f = decodeWithHeader<FragmentHeader>(open(dataKey, { cameraId: name.cameraId, object: key, index: index + 1, kind: 'fragment' }, record));
    return { header: f.header, mp4: f.body };
  } catch (error) {
    if (error instanceof SealError) throw new SegmentError(error.code, `${key} fragment ${index}: ${error.message}`);
    throw error;
  }
}

/** Opens a segment's init record fetched by its byte range from the index: the MP4 init segment. */
export function openInit(dataKey: Uint8Array, key: string, record: Uint8Array): { header: SegmentHeader; mp4: Uint8Array } {
  const name = parseSegmentKey(key);
  if (!name) throw new SegmentError('bad_key', `${key} is not a segment object name`);
  try {
    const r = decodeWithHeader<SegmentHeader>(open(dataKey, { cameraId: name.cameraId, object: key, index: 0, kind: 'init' }, record));
    return { header: r.header, mp4: r.body };
  } catch (error) {
    if (error instanceof SealError) throw new SegmentError(error.code, `${key} init: ${error.message}`);
    throw error;
  }
}
