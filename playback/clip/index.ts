// Exact-range clips as progressive MP4 (faststart), from recorded fMP4 fragments, and one-frame
// previews. Two passes, nothing whole in memory and no plaintext at rest: planClip() reads every
// needed fragment once through the source and keeps only sample tables (where each sample's bytes
// are); Clip.stream() reads the fragments again and yields the file, header first.
//
//   const clip = await planClip({ segments, gaps, fromMs, toMs, source });   // ClipError on bad ranges
//   res.setHeader('Content-Length', clip.bytes);
//   for await (const bytes of clip.stream((f) => progress(f))) await write(bytes);
//
// Rules (playback/API.md "Clip rules"): the file starts exactly at fromMs (an edit list over the
// samples from the keyframe before it) and lasts toMs − fromMs when recordings cover the range;
// clip time is wall-clock time (the last frame before a hole is held until the next one, and the
// gaps are listed); a range starting or ending in a gap starts or ends at the first or last
// recorded frame; a resolution change puts the new SPS/PPS in-band before the first keyframe after
// it; a video codec change is refused.
import { parseFragment, parseInit, progressiveHeader } from '../../recorder/mp4/index.ts';
import type { GapEntry, SegmentEntry } from '../../recorder/RecordingIndex.ts';
import { ClipPlanner, MAX_CLIP_MS, noRecording, parseOrFail } from './ClipPlanner.ts';
import { ClipError } from './errors.ts';
import { readFailed, type Clip, type ClipSource } from './PlannedClip.ts';
import { readAhead } from './readAhead.ts';

export { ClipError, type ClipErrorCode } from './errors.ts';
export type { Clip, ClipGap, ClipSource } from './PlannedClip.ts';
export { MAX_CLIP_MS } from './ClipPlanner.ts';

export interface PlanClipOptions {
  /** Segments around the range, in any order (those outside it are ignored). */
  segments: readonly SegmentEntry[];
  /** The index's gaps around the range; those inside the clip are listed in Clip.gaps. */
  gaps: readonly GapEntry[];
  fromMs: number;
  toMs: number;
  source: ClipSource;
  /** Fraction (0..1) of the fragments this first pass has read. */
  onProgress?: (fraction: number) => void;
}

export async function planClip(o: PlanClipOptions): Promise<Clip> {
  const { fromMs, toMs, source } = o;
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || toMs <= fromMs) {
    throw new ClipError('range_invalid', `from (${fromMs}) must be a time before to (${toMs}), both ms since the epoch or ISO 8601`);
  }
  if (toMs - fromMs > MAX_CLIP_MS) {
    throw new ClipError('range_invalid', `a clip is at most ${MAX_CLIP_MS / 3_600_000} h long and this range is ${((toMs - fromMs) / 3_600_000).toFixed(1)} h; export it in parts`);
  }
  // Keyed by object key: a caller joining hour indexes may pass a segment twice.
  const inRange = new Map<string, SegmentEntry>();
  for (const s of o.segments) if (s.endMs > fromMs && s.startMs < toMs && s.fragments.length > 0) inRange.set(s.key, s);
  const segments = [...inRange.values()].sort((a, b) => a.startMs - b.startMs || a.seq - b.seq);
  if (segments.length === 0) throw noRecording(fromMs, toMs, 'no segment overlaps it');

  // Fragments to read: from the keyframe fragment at or before fromMs to the last one starting before toMs.
  const reads: { segment: number; index: number }[] = [];
  segments.forEach((s, k) => {
    let first = 0;
    if (k === 0) {
      for (let i = 0; i < s.fragments.length; i++) {
        const f = s.fragments[i]!;
        if (s.startMs + f[0] > fromMs) break;
        if (f[2]) first = i;
      }
    }
    for (let i = first; i < s.fragments.length && s.startMs + s.fragments[i]![0] < toMs; i++) reads.push({ segment: k, index: i });
  });

  const planner = new ClipPlanner(fromMs, toMs);
  let opened = -1;
  let segment: ReturnType<ClipPlanner['addSegment']> | undefined;
  let r = 0;
  const fragments = readAhead(reads.length, (i) => {
    const { segment: k, index } = reads[i]!;
    const entry = segments[k]!;
    return read(() => source.fragment(entry, index), `fragment ${index} of ${entry.key}`);
  });
  for await (const bytes of fragments) {
    const { segment: k, index } = reads[r]!;
    const entry = segments[k]!;
    if (k !== opened) {
      segment = planner.addSegment(entry, await read(() => source.init(entry), `the init segment of ${entry.key}`));
      opened = k;
    }
    planner.addFragment(segment!, index, bytes);
    r += 1;
    o.onProgress?.(r / reads.length);
  }
  return planner.finish(o.gaps, source);
}

async function read(get: () => Promise<Uint8Array>, what: string): Promise<Uint8Array> {
  try {
    return await get();
  } catch (error) {
    throw readFailed(what, error);
  }
}

/** A one-frame MP4 of the keyframe that starts the given fragment (video only): timeline previews decoded by the browser. */
export function keyframeMp4(init: Uint8Array, fragment: Uint8Array): Uint8Array {
  const video = parseOrFail(() => parseInit(init), 'the init segment').find((t) => t.kind === 'video');
  if (!video) throw new ClipError('no_recording', 'this recording has no video track, so it has no preview; show the timeline without one');
  const run = parseOrFail(() => parseFragment(fragment), 'the fragment').runs.find((r) => r.trackId === video.id && r.samples.length > 0);
  const sample = run?.samples[0];
  if (!sample?.keyframe) {
    throw new ClipError('range_invalid', 'the fragment does not start with a video keyframe; pass a fragment whose index entry has the keyframe flag');
  }
  // One sample lasting its own duration (a frame at 30 fps if the recorder left it 0), no edit list.
  const duration = sample.duration || Math.round(video.timescale / 30);
  const { header } = progressiveHeader({
    tracks: [{ track: { ...video, id: 1 }, durations: [duration], sizes: [sample.size], keyframes: [1], edits: [] }],
    chunks: [{ track: 0, samples: 1 }],
    movieTimescale: 1000,
    creationTimeMs: 0,
  });
  const out = new Uint8Array(header.length + sample.size);
  out.set(header);
  out.set(fragment.subarray(sample.offset, sample.offset + sample.size), header.length);
  return out;
}
