// One hour of a camera as every node that recorded it wrote it down (pure). Each node writes its
// own index object, so no object has two writers; readers merge them here:
// - segments of every writer, each once (by key);
// - where two nodes' recordings overlap (a paused node that woke up still believing it held the
//   camera, or an old holder's spool uploaded after its restart), the higher epoch's frames are
//   kept and the lower one's fragments inside them dropped: each second is listed once;
// - gaps of every writer, less whatever some writer's segments cover (a gap one node recorded
//   while another was still recording is no gap; a failover's gap shrinks to its exact bounds
//   once the failed node's last seconds reach S3); where two writers' gaps overlap, each second
//   is in one of them.
import type { FragmentTuple, GapEntry, GapReason, HourIndex, SegmentEntry } from './RecordingIndex.ts';

/**
 * Two nodes' recordings that overlap by at most this are both kept whole. A planned move cuts the
 * old node's recording where the new node placed its first keyframe, and the two place the same
 * moment differently: each maps its own RTP stream to the wall clock, the new one from arrival
 * times until the camera's first sender report (measured up to ~0.3 s apart on a loaded machine).
 * A few hundred ms listed twice is better than a whole fragment dropped.
 */
const OVERLAP_TOLERANCE_MS = 400;

/** Where two writers' gaps start together, the more specific reason tells the user more. */
const SPECIFIC: Record<GapReason, number> = { 'node-failed': 0, 'disk-full': 1, 'disk-slow': 2, 'spool-overflow': 3, 'recorder-down': 4, 'clock-drift': 5, 'producer-changed': 6, 'frames-lost': 7, 'camera-offline': 8 };

export function mergeHours(cameraId: string, hourMs: number, parts: readonly Pick<HourIndex, 'segments' | 'gaps'>[]): HourIndex {
  const byKey = new Map<string, SegmentEntry>();
  for (const part of parts) for (const s of part.segments) if (!byKey.has(s.key)) byKey.set(s.key, s);
  const all = [...byKey.values()];
  const segments: SegmentEntry[] = [];
  for (const s of all) {
    const epoch = s.holder?.epoch ?? 0;
    // Spans of newer holders' segments (another session, a higher epoch) that this one overlaps.
    const newer = all
      .filter((o) => o.session !== s.session && (o.holder?.epoch ?? 0) > epoch && o.startMs < s.endMs && o.endMs > s.startMs)
      .map((o) => [o.startMs, o.endMs] as [number, number]);
    const kept = newer.length === 0 ? s : trimmed(s, newer);
    if (kept) segments.push(kept);
  }
  segments.sort((a, b) => a.startMs - b.startMs || a.key.localeCompare(b.key));
  // Every node reads the same objects but lists its own first: the answer must not depend on
  // that order. Overlapping gaps of two writers become one list in which each second is once.
  const pieces = parts.flatMap((part) => part.gaps.flatMap((g) => uncovered(g, segments)));
  pieces.sort((x, y) => x.fromMs - y.fromMs || SPECIFIC[x.reason] - SPECIFIC[y.reason] || x.toMs - y.toMs);
  const gaps: GapEntry[] = [];
  for (const piece of pieces) {
    const last = gaps[gaps.length - 1];
    // Sorted by start, so a piece can only overlap the gaps kept so far at the end.
    const from = last ? Math.max(piece.fromMs, last.toMs) : piece.fromMs;
    if (piece.toMs > from) gaps.push({ fromMs: from, toMs: piece.toMs, reason: piece.reason });
  }
  return { v: 1, cameraId, hourMs, segments, gaps };
}

/**
 * The segment without its fragments inside `cut`: the longest contiguous run left, starting on a
 * keyframe (a player starts decoding there); undefined when nothing playable is left.
 */
export function trimmed(s: SegmentEntry, cut: readonly [number, number][]): SegmentEntry | undefined {
  // Overlapping by a few ms at an edge is how two nodes' clocks place the same cut (a planned
  // handover): dropping the fragment for it would leave a hole of a whole fragment. A fragment the
  // other recording covers whole goes however short it is (a node that woke from a pause and
  // recorded a moment before it learnt the camera had moved on).
  const inside = (f: FragmentTuple) =>
    cut.some(([from, to]) => {
      const start = s.startMs + f[0];
      const end = start + f[1];
      return (from <= start && end <= to) || Math.min(to, end) - Math.max(from, start) > OVERLAP_TOLERANCE_MS;
    });
  let best: FragmentTuple[] = [];
  let run: FragmentTuple[] = [];
  for (const f of s.fragments) {
    if (inside(f)) {
      run = [];
      continue;
    }
    if (run.length === 0 && f[2] !== 1) continue; // a run starts on a keyframe
    run.push(f);
    if (run.length > best.length) best = run;
  }
  if (best.length === 0) return undefined;
  if (best.length === s.fragments.length) return s;
  const shift = best[0]![0];
  const last = best[best.length - 1]!;
  const fragments = best.map((f) => [f[0] - shift, f[1], f[2], f[3], f[4]] as FragmentTuple);
  return { ...s, startMs: s.startMs + shift, endMs: s.startMs + last[0] + last[1], fragments };
}

/** The parts of a gap that no segment covers. */
function uncovered(gap: GapEntry, segments: readonly SegmentEntry[]): GapEntry[] {
  let pieces: [number, number][] = [[gap.fromMs, gap.toMs]];
  for (const s of segments) {
    if (s.endMs <= gap.fromMs || s.startMs >= gap.toMs) continue;
    pieces = pieces.flatMap(([from, to]): [number, number][] => {
      if (s.endMs <= from || s.startMs >= to) return [[from, to]];
      const out: [number, number][] = [];
      if (s.startMs > from) out.push([from, s.startMs]);
      if (s.endMs < to) out.push([s.endMs, to]);
      return out;
    });
  }
  return pieces.filter(([from, to]) => to > from).map(([fromMs, toMs]) => ({ fromMs, toMs, reason: gap.reason }));
}
