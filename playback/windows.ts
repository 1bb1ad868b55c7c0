// Pure playback planning: from recorded segments to HLS entries, a playback window and its
// playlist. No I/O: the same inputs give the same window, so a playlist requested again (a
// live window growing, a reload) lists the same entries with the same media times.
//
// An entry is a run of fragments of one segment that starts at a keyframe fragment and takes the
// non-keyframe fragments after it, so every entry can be decoded on its own (seeks, 16×).

import { CodedError } from '../errors/index.ts';
import { parseSegmentKey, SPAN_JOIN_MS, type GapEntry, type SegmentEntry } from '../recorder/index.ts';

/** Holes shorter than this between fragments are frame-duration rounding, not gaps (as on the timeline). */
const JOIN_MS = SPAN_JOIN_MS;
/** A window lists at most this much recording; the player asks for the next one near its end. */
export const WINDOW_MS = 3_600_000;

export interface Segment {
  entry: SegmentEntry;
  /** Still being written on the spool: its last entry may still grow. */
  open: boolean;
}

export interface Entry {
  segment: SegmentEntry;
  /** First and last fragment index (inclusive). */
  first: number;
  last: number;
  wallMs: number;
  durMs: number;
}

export interface WindowGap {
  fromMs: number;
  toMs: number;
  reason: string;
}

export interface PlaybackWindow {
  requestedMs: number;
  startMs: number;
  endMs: number;
  /** The asked time fell in a gap; playback starts at the next recording. */
  gap?: WindowGap;
  /** Reaches the live edge: the playlist keeps growing (no ENDLIST). */
  live: boolean;
  entries: Entry[];
  /** Holes between entries inside the window. */
  gaps: WindowGap[];
  /** Entry i starts a new continuity (new session or a hole before it). */
  discontinuity: boolean[];
  /** Media time of entry i in seconds (sum of the durations before it). */
  mediaS: number[];
}

export class NoRecordingError extends CodedError {
  override name = 'NoRecordingError';
  readonly code = 'no_recording';
  readonly status = 404;
}

/** Splits segments (oldest first, deduplicated) into keyframe-led entries, skipping overlaps. */
export function entriesOf(segments: readonly Segment[]): Entry[] {
  const entries: Entry[] = [];
  let lastEnd = -Infinity;
  for (const { entry: seg, open } of segments) {
    const tuples = seg.fragments;
    let current: Entry | undefined;
    for (let i = 0; i < tuples.length; i++) {
      const [offsetMs, durMs, keyframe] = tuples[i]!;
      const wallMs = seg.startMs + offsetMs;
      if (wallMs < lastEnd - JOIN_MS) continue; // overlap with what is listed already (handover)
      if (keyframe === 1 || !current) {
        if (keyframe !== 1) continue; // no keyframe to start from yet
        if (current) entries.push(current);
        current = { segment: seg, first: i, last: i, wallMs, durMs };
      } else {
        current.last = i;
        current.durMs = wallMs + durMs - current.wallMs;
      }
      lastEnd = Math.max(lastEnd, wallMs + durMs);
    }
    // The last entry of a segment still written may take more fragments: not listed yet.
    if (current && !open) entries.push(current);
  }
  return entries;
}

/** Merges index and spool segments by key (the index copy wins: it is final), oldest first. */
export function mergeSegments(indexed: readonly SegmentEntry[], pending: readonly Segment[]): Segment[] {
  const byKey = new Map<string, Segment>();
  for (const s of pending) byKey.set(s.entry.key, s);
  for (const entry of indexed) byKey.set(entry.key, { entry, open: false });
  return [...byKey.values()].sort((a, b) => a.entry.startMs - b.entry.startMs);
}

/**
 * The window that plays from `atMs`: from the entry holding it (its keyframe), or the next
 * entry if `atMs` is in a gap, for at most WINDOW_MS or up to `toMs`.
 * `recording`: the camera is being recorded now, so a window reaching the newest entry is live.
 */
export function planWindow(o: { entries: readonly Entry[]; gaps: readonly GapEntry[]; atMs: number; toMs?: number; recording: boolean }): PlaybackWindow {
  const { entries, atMs } = o;
  if (entries.length === 0) throw new NoRecordingError('nothing is recorded near this time; pick a time on the timeline where there is a recording');
  let start = entries.findIndex((e) => e.wallMs + e.durMs > atMs);
  let gap: WindowGap | undefined;
  if (start === -1) {
    const last = entries.at(-1)!;
    if (!o.recording) {
      throw new NoRecordingError(`nothing is recorded at or after ${new Date(atMs).toISOString()}; the latest recording ends at ${new Date(last.wallMs + last.durMs).toISOString()}`);
    }
    // Asked for "now" while recording: start at the newest keyframe.
    start = entries.length - 1;
  } else if (entries[start]!.wallMs > atMs + JOIN_MS) {
    const before = entries[start - 1];
    const fromMs = before ? before.wallMs + before.durMs : atMs;
    gap = { fromMs, toMs: entries[start]!.wallMs, reason: reasonOf(o.gaps, fromMs, entries[start]!.wallMs) };
  }
  const first = entries[start]!;
  const limit = Math.min(o.toMs ?? Infinity, first.wallMs + WINDOW_MS);
  const picked: Entry[] = [];
  for (let i = start; i < entries.length && (picked.length === 0 || entries[i]!.wallMs < limit); i++) picked.push(entries[i]!);
  const lastPicked = picked.at(-1)!;
  const live = o.recording && lastPicked === entries.at(-1) && o.toMs === undefined;
  const gaps: WindowGap[] = [];
  const discontinuity: boolean[] = [];
  const mediaS: number[] = [];
  let media = 0;
  for (let i = 0; i < picked.length; i++) {
    const e = picked[i]!;
    const prev = picked[i - 1];
    if (prev) {
      const prevEnd = prev.wallMs + prev.durMs;
      const hole = e.wallMs - prevEnd > JOIN_MS;
      if (hole) gaps.push({ fromMs: prevEnd, toMs: e.wallMs, reason: reasonOf(o.gaps, prevEnd, e.wallMs) });
      discontinuity.push(hole || prev.segment.session !== e.segment.session);
    } else {
      discontinuity.push(false);
    }
    mediaS.push(media);
    media = round3(media + e.durMs / 1000);
  }
  return {
    requestedMs: atMs,
    startMs: first.wallMs,
    endMs: lastPicked.wallMs + lastPicked.durMs,
    ...(gap ? { gap } : {}),
    live,
    entries: picked,
    gaps,
    discontinuity,
    mediaS,
  };
}

function reasonOf(gaps: readonly GapEntry[], fromMs: number, toMs: number): string {
  let best: GapEntry | undefined;
  let bestOverlap = 0;
  for (const g of gaps) {
    const overlap = Math.min(g.toMs, toMs) - Math.max(g.fromMs, fromMs);
    if (overlap > bestOverlap) {
      best = g;
      bestOverlap = overlap;
    }
  }
  return best?.reason ?? 'unrecorded';
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** `<YYYYMMDDTHHMMSSmmmZ>_<session>_<seq>`: a segment's name in playback URLs. */
export function segmentName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1).replace(/\.mmr$/, '');
}

const NAME = /^(\d{4})(\d{2})(\d{2})T(\d{2})\d{7}Z_[a-z0-9]{1,16}_\d{1,9}$/;

/** The object key of a segment name, or undefined for anything that is not exactly a name. */
export function keyOfName(cameraId: string, name: string): string | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  return `recordings/${cameraId}/${m[1]}/${m[2]}/${m[3]}/${m[4]}/${name}.mmr`;
}

/** A segment named in a playback URL, parsed once: its object key and when it starts. */
export interface SegmentRef {
  name: string;
  key: string;
  startMs: number;
}

/** The segment a playback URL names, or undefined for anything that is not exactly a segment name of this camera. */
export function segmentRef(cameraId: string, name: string): SegmentRef | undefined {
  const key = keyOfName(cameraId, name);
  const parsed = key ? parseSegmentKey(key) : null;
  return key && parsed ? { name, key, startMs: parsed.startMs } : undefined;
}

/** The HLS playlist of a window: fMP4, one EXT-X-MAP per segment, wall clock on every entry. */
export function playlist(w: PlaybackWindow): string {
  const target = Math.max(1, Math.ceil(Math.max(...w.entries.map((e) => e.durMs)) / 1000));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', `#EXT-X-TARGETDURATION:${target}`, '#EXT-X-MEDIA-SEQUENCE:0', `#EXT-X-PLAYLIST-TYPE:${w.live ? 'EVENT' : 'VOD'}`, '#EXT-X-INDEPENDENT-SEGMENTS'];
  let map = '';
  w.entries.forEach((e, i) => {
    const name = segmentName(e.segment.key);
    if (w.discontinuity[i]) lines.push('#EXT-X-DISCONTINUITY');
    if (name !== map) {
      lines.push(`#EXT-X-MAP:URI="s/${name}/init.mp4"`);
      map = name;
    }
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(e.wallMs).toISOString()}`);
    lines.push(`#EXTINF:${(e.durMs / 1000).toFixed(3)},`);
    lines.push(`s/${name}/${e.first}-${e.last}.m4s`);
  });
  if (!w.live) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}
