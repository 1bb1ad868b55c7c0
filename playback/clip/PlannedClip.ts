// A planned clip: its header and where every sample's bytes are. stream() is the second pass: it
// reads the fragments again, in order (a few ahead), and yields the header, then the samples
// chunk by chunk as the header's tables describe them. Sample bytes are yielded as views of the
// fragment just read, so memory stays a few fragments whatever the clip's length.
import type { ProgressiveHeader } from '../../recorder/mp4/index.ts';
import type { SegmentEntry } from '../../recorder/RecordingIndex.ts';
import { ClipError } from './errors.ts';
import { readAhead } from './readAhead.ts';

export interface ClipSource {
  /** The decrypted MP4 init segment (ftyp+moov) of a segment. */
  init(segment: SegmentEntry): Promise<Uint8Array>;
  /** The decrypted moof+mdat bytes of fragment i of a segment. */
  fragment(segment: SegmentEntry, i: number): Promise<Uint8Array>;
}

export interface ClipGap {
  fromMs: number;
  toMs: number;
  reason: string;
}

export interface Clip {
  /** Wall clock of the first presented instant. */
  readonly startMs: number;
  /** What the file presents. */
  readonly durationMs: number;
  /** Exact file size (for Content-Length). */
  readonly bytes: number;
  /** Gaps inside the clip (held frames). */
  readonly gaps: ClipGap[];
  readonly video?: { codec: string; width: number; height: number };
  /** Header first, then the mdat: the whole file. Memory stays bounded (≈ one fragment), whatever the length. */
  stream(onProgress?: (fraction: number) => void): AsyncGenerator<Uint8Array>;
}

/** Per kept sample of one output track, in its order. */
export interface StreamTrack {
  /** Offset and size of the sample's bytes in its fragment. */
  offset: Uint32Array;
  size: Uint32Array;
  /** 1 + index into paramSets to write before the sample, or 0. */
  prefix: Uint16Array;
}

/** `count` samples of tracks[track] from sample `from`, all in fragment `fragment`. */
export interface StreamChunk {
  track: number;
  fragment: number;
  from: number;
  count: number;
}

export interface FragmentRef {
  segment: SegmentEntry;
  index: number;
  /** Its length when planned: a different length on the second read means it changed. */
  bytes: number;
}

export interface PlannedClipOptions {
  source: ClipSource;
  startMs: number;
  durationMs: number;
  gaps: ClipGap[];
  video?: { codec: string; width: number; height: number };
  header: ProgressiveHeader;
  fragments: readonly FragmentRef[];
  tracks: readonly StreamTrack[];
  /** In mdat order, fragments never revisited. */
  chunks: readonly StreamChunk[];
  paramSets: readonly Uint8Array[];
}

export class PlannedClip implements Clip {
  readonly startMs: number;
  readonly durationMs: number;
  readonly bytes: number;
  readonly gaps: ClipGap[];
  readonly video?: { codec: string; width: number; height: number };
  readonly #o: PlannedClipOptions;

  constructor(o: PlannedClipOptions) {
    this.#o = o;
    this.startMs = o.startMs;
    this.durationMs = o.durationMs;
    this.bytes = o.header.fileBytes;
    this.gaps = o.gaps;
    if (o.video) this.video = o.video;
  }

  async *stream(onProgress?: (fraction: number) => void): AsyncGenerator<Uint8Array> {
    const { header, fragments, tracks, chunks, paramSets, source } = this.#o;
    const total = header.fileBytes;
    yield header.header;
    let done = header.header.length;
    onProgress?.(done / total);
    // Fragments in the order the chunks use them (each once: chunks never go back to one).
    const order: number[] = [];
    for (const c of chunks) if (order.at(-1) !== c.fragment) order.push(c.fragment);
    const reads = readAhead(order.length, (i) => readFragment(source, fragments[order[i]!]!));
    let current = -1;
    let data: Uint8Array = new Uint8Array(0);
    try {
      for (const chunk of chunks) {
        if (chunk.fragment !== current) {
          const next = await reads.next();
          if (next.done) throw new Error('clip writer bug: chunks use more fragments than planned');
          data = next.value;
          current = chunk.fragment;
        }
        const track = tracks[chunk.track]!;
        // Samples of a run are contiguous in their fragment: yield whole stretches, not samples.
        let runStart = 0;
        let runEnd = 0;
        for (let i = chunk.from; i < chunk.from + chunk.count; i++) {
          const offset = track.offset[i]!;
          const size = track.size[i]!;
          const prefix = track.prefix[i]!;
          if (offset + size > data.length) throw changed(fragments[current]!);
          if (prefix || offset !== runEnd) {
            if (runEnd > runStart) {
              yield data.subarray(runStart, runEnd);
              done += runEnd - runStart;
            }
            if (prefix) {
              const bytes = paramSets[prefix - 1]!;
              yield bytes;
              done += bytes.length;
            }
            runStart = offset;
          }
          runEnd = offset + size;
        }
        if (runEnd > runStart) {
          yield data.subarray(runStart, runEnd);
          done += runEnd - runStart;
        }
        onProgress?.(done / total);
      }
    } finally {
      await reads.return(undefined); // a consumer that stops early stops the reads too
    }
    // The header promised this many bytes; anything else is a bug here, never the caller's.
    if (done !== total) throw new Error(`clip writer bug: streamed ${done} bytes of ${total}`);
  }
}

async function readFragment(source: ClipSource, ref: FragmentRef): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await source.fragment(ref.segment, ref.index);
  } catch (error) {
    throw readFailed(`fragment ${ref.index} of ${ref.segment.key}`, error);
  }
  if (bytes.length !== ref.bytes) throw changed(ref);
  return bytes;
}

function changed(ref: FragmentRef): ClipError {
  return new ClipError(
    'source_failed',
    `fragment ${ref.index} of ${ref.segment.key} changed between planning and streaming (retention or a deletion removed it?); plan the clip again`,
  );
}

export function readFailed(what: string, error: unknown): ClipError {
  if (error instanceof ClipError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ClipError('source_failed', `${what} could not be read (${message}); try again, and if it keeps failing run "mimamori verify" on that hour`, { cause: error });
}
