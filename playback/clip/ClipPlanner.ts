// Planning one clip: the first of the two passes. Every fragment the range needs is read once, its
// samples placed on the clip's timeline (wall-clock time) and remembered as table rows: where the
// bytes are, never the bytes. finish() trims the tables to the exact range, lays out the chunks
// and writes the MP4 header; PlannedClip streams the file from that.
//
// Timeline: each session is anchored at the wall time of the first of its fragments read
// (segment start + fragment offset ↔ that fragment's lead-track decode time); inside a session
// decode times are continuous, so a sample's place is anchor + (its decode time − anchor's).
// Sample i lasts until sample i+1 starts, which holds the last frame over any hole (clip time
// stays wall-clock time); the last sample keeps its own duration.
import { Mp4FormatError, parseFragment, parseInit, progressiveHeader, type OpusTrack, type ProgressiveChunk, type ProgressiveEdit, type ProgressiveTrack, type Track } from '../../recorder/mp4/index.ts';
import type { GapEntry, SegmentEntry } from '../../recorder/RecordingIndex.ts';
import { ClipError } from './errors.ts';
import { PlannedClip, type ClipGap, type ClipSource, type FragmentRef, type StreamChunk, type StreamTrack } from './PlannedClip.ts';
import { SampleTable } from './SampleTable.ts';

type VideoTrack = Extract<Track, { kind: 'video' }>;

const MOVIE_TIMESCALE = 1000; // ms: from and to are whole ms, so edit lengths are exact
/** Each track's samples are written in chunks of about this much media, alternating. */
const CHUNK_SECONDS = 0.5;
/** A jump in decode time this long is a hole (listed as a gap); shorter ones are timing jitter. Same as the timeline's span joining. */
const HOLE_MS = 250;
/** Wall times are fractional ms (ticks/90); this much counts as "at" an instant. */
const AT_MS = 0.5;
/** A held frame's duration must fit 32 bits of 90 kHz ticks (13.2 h), and the header holds every sample (~10 MB for 12 h). */
export const MAX_CLIP_MS = 12 * 3_600_000;

interface Segment {
  entry: SegmentEntry;
  video?: VideoTrack;
  audio?: OpusTrack;
}

/** Where a session's decode time meets the wall clock. */
interface Anchor {
  wallMs: number;
  decodeTime: number;
  timescale: number;
}

/** One output track while planning. */
class TrackState {
  readonly table = new SampleTable();
  /** Of the clip's track: the first source track of this kind. */
  readonly timescale: number;
  session = '';
  /** Added to this session's decode times when it would otherwise overlap the previous session. */
  shift = 0;
  lastT = -Infinity;
  lastDuration = 0;
  constructor(timescale: number) {
    this.timescale = timescale;
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

export class ClipPlanner {
  readonly #fromMs: number;
  readonly #toMs: number;
  readonly #fragments: FragmentRef[] = [];
  /** Segment of each fragment ref (parallel to #fragments). */
  readonly #fragmentSegment: Segment[] = [];
  readonly #anchors = new Map<string, Anchor>();
  #epochMs: number | undefined;
  #video: TrackState | undefined;
  #audio: TrackState | undefined;
  /** The video codec of the first segment with video: every later one must match. */
  #firstVideo: VideoTrack | undefined;
  /** SPS/PPS the decoder has at this point of the clip; a segment with others gets them in-band. */
  #activeParams: string | undefined;
  /** 1 + index into #paramSets for the next video keyframe, or 0. */
  #pendingPrefix = 0;
  readonly #paramSets: Uint8Array[] = [];

  constructor(fromMs: number, toMs: number) {
    this.#fromMs = fromMs;
    this.#toMs = toMs;
  }

  /** Called once per segment, in order, before its fragments. */
  addSegment(entry: SegmentEntry, init: Uint8Array): Segment {
    const tracks = parseOrFail(() => parseInit(init), `the init segment of ${entry.key}`);
    const segment: Segment = { entry };
    for (const t of tracks) {
      if (t.kind === 'video' && !segment.video) segment.video = t;
      if (t.kind === 'audio' && !segment.audio) segment.audio = t;
    }
    const video = segment.video;
    if (video) {
      const first = this.#firstVideo;
      if (!first) this.#firstVideo = video;
      else if (first.codec !== video.codec) {
        const at = iso(entry.startMs);
        throw new ClipError(
          'codec_changed',
          `the video changes from ${describe(first)} to ${describe(video)} at ${at} (segment ${entry.key}); one MP4 track cannot hold both: ` +
            `export ${iso(this.#fromMs)}–${at} and ${at}–${iso(this.#toMs)} separately`,
        );
      }
      if (video.codec === 'h264') {
        const params = hex(video.sps) + '/' + hex(video.pps);
        if (this.#activeParams !== undefined && params !== this.#activeParams) {
          this.#paramSets.push(lengthPrefixed([video.sps, video.pps]));
          this.#pendingPrefix = this.#paramSets.length;
        }
        this.#activeParams = params;
      }
    }
    return segment;
  }

  /** The samples of fragment `index` of the segment, from its decrypted moof+mdat. */
  addFragment(segment: Segment, index: number, bytes: Uint8Array): void {
    const { entry } = segment;
    const parsed = parseOrFail(() => parseFragment(bytes), `fragment ${index} of ${entry.key}`);
    const ref = this.#fragments.length;
    this.#fragments.push({ segment: entry, index, bytes: bytes.length });
    this.#fragmentSegment.push(segment);

    const trackOf = (id: number): Track | undefined => (segment.video?.id === id ? segment.video : segment.audio?.id === id ? segment.audio : undefined);
    let anchor = this.#anchors.get(entry.session);
    if (!anchor) {
      // The fragment's wall time is its lead track's first decode time (video when there is video).
      const lead = parsed.runs.find((r) => r.samples.length > 0 && trackOf(r.trackId)?.kind === 'video') ?? parsed.runs.find((r) => r.samples.length > 0 && trackOf(r.trackId));
      if (!lead) return;
      const tuple = entry.fragments[index]!;
      anchor = { wallMs: entry.startMs + tuple[0], decodeTime: lead.baseDecodeTime, timescale: trackOf(lead.trackId)!.timescale };
      this.#anchors.set(entry.session, anchor);
      this.#epochMs ??= anchor.wallMs;
    }

    for (const run of parsed.runs) {
      const source = trackOf(run.trackId);
      if (!source || run.samples.length === 0) continue;
      const state = this.#state(source);
      const T = state.timescale;
      const S = source.timescale;
      if (state.session !== entry.session) {
        state.session = entry.session;
        state.shift = 0;
      }
      // Session start on the clip's timeline, minus the anchor's decode time, in clip ticks.
      const offset = Math.round(((anchor.wallMs - this.#epochMs!) * T) / 1000) - (anchor.timescale === T ? anchor.decodeTime : Math.round((anchor.decodeTime * T) / anchor.timescale));
      const table = state.table;
      let dts = run.baseDecodeTime;
      for (const s of run.samples) {
        let t = offset + rescale(dts, S, T) + state.shift;
        if (t <= state.lastT) {
          // A session overlapping the previous one (clock steps at a handover): it continues
          // where the previous one's last sample ends, for the rest of this session.
          const next = state.lastT + Math.max(1, state.lastDuration);
          state.shift += next - t;
          t = next;
        }
        const duration = Math.max(1, rescale(s.duration, S, T));
        let prefix = 0;
        if (state === this.#video && s.keyframe && this.#pendingPrefix) {
          prefix = this.#pendingPrefix;
          this.#pendingPrefix = 0;
        }
        table.push({
          t,
          duration,
          size: s.size,
          keyframe: source.kind === 'audio' || s.keyframe,
          compositionOffset: rescale(s.compositionOffset ?? 0, S, T),
          fragment: ref,
          offset: s.offset,
          prefix,
        });
        state.lastT = t;
        state.lastDuration = duration;
        dts += s.duration;
      }
    }
  }

  #state(source: Track): TrackState {
    if (source.kind === 'video') return (this.#video ??= new TrackState(source.timescale));
    return (this.#audio ??= new TrackState(source.timescale));
  }

  /** Trims to the range, lays out the file and writes its header. */
  finish(gaps: readonly GapEntry[], source: ClipSource): PlannedClip {
    const fromMs = this.#fromMs;
    const toMs = this.#toMs;
    const epochMs = this.#epochMs;
    const video = this.#video?.table.length ? this.#video : undefined;
    const audio = this.#audio?.table.length ? this.#audio : undefined;
    const primary = video ?? audio;
    if (!primary || epochMs === undefined) throw noRecording(fromMs, toMs, 'the segments in range hold no samples');
    const pts = (st: TrackState, i: number) => epochMs + ((st.table.t[i]! + st.table.compositionOffset[i]!) * 1000) / st.timescale;
    const end = (st: TrackState, i: number) => pts(st, i) + (st.table.duration[i]! * 1000) / st.timescale;
    const P = primary.table;

    // Start: the sample showing at fromMs, or the first one after it when fromMs is in a hole.
    let s = lastIndex(P.length, (i) => pts(primary, i) <= fromMs + AT_MS);
    let clipStart = fromMs;
    if (s < 0) {
      s = 0;
      clipStart = Math.max(fromMs, Math.round(pts(primary, 0)));
    } else if (fromMs > end(primary, s) + AT_MS && s + 1 < P.length && pts(primary, s + 1) > fromMs) {
      s += 1;
      clipStart = Math.max(fromMs, Math.round(pts(primary, s)));
    }
    // fromMs is whole ms, frame times are not (ticks/90): a frame starting within half a ms of
    // it is the frame at fromMs, and the edit starts exactly on it (players drop a frame that
    // starts even a tick before the edit).
    const snapTo = clipStart === fromMs && Math.abs(pts(primary, s) - fromMs) <= AT_MS ? s : -1;
    let first = s;
    if (primary === video) {
      // Decoding starts at the keyframe at or before it.
      while (first >= 0 && !P.keyframe[first]) first--;
      if (first < 0) {
        first = s;
        while (first < P.length && !P.keyframe[first]) first++;
        if (first === P.length) throw noRecording(fromMs, toMs, 'no video keyframe in range');
        clipStart = Math.max(clipStart, Math.round(pts(primary, first)));
      }
    }
    // End: the last sample starting before toMs; the clip ends at toMs unless that sample ends first.
    const last = lastIndex(P.length, (i) => pts(primary, i) < toMs - AT_MS);
    if (last < s) throw noRecording(fromMs, toMs, 'the recording in range ends before it starts');
    const lastEnd = end(primary, last);
    const clipEnd = lastEnd >= toMs - 1 ? toMs : Math.min(toMs, Math.round(lastEnd));
    if (clipEnd <= clipStart) throw noRecording(fromMs, toMs, 'the recorded frames in range show for no time');

    const kept: { st: TrackState; from: number; to: number }[] = [{ st: primary, from: first, to: last }];
    if (audio && audio !== primary) {
      const A = audio.table;
      let a = 0;
      while (a < A.length && end(audio, a) <= clipStart + AT_MS) a++;
      const b = lastIndex(A.length, (i) => pts(audio, i) < clipEnd - AT_MS);
      if (a < A.length && b >= a) kept.push({ st: audio, from: a, to: b });
    }

    const tracks: ProgressiveTrack[] = [];
    const streamTracks: StreamTrack[] = [];
    const chunks: (StreamChunk & { atMs: number })[] = [];
    for (const { st, from, to } of kept) {
      const T = st.timescale;
      const table = st.table;
      const count = to - from + 1;
      const t0 = table.t[from]!;
      const durations = new Uint32Array(count);
      const sizes = new Uint32Array(count);
      const keyframes = new Uint8Array(count);
      for (let k = 0; k < count; k++) {
        const i = from + k;
        const held = k + 1 < count ? table.t[i + 1]! - table.t[i]! : table.duration[i]!;
        if (held > 0xffffffff) throw new ClipError('range_invalid', `a frame would be held for over ${Math.floor(0xffffffff / T / 3600)} h across a gap; export the parts before and after ${iso(end(st, i))} separately`);
        durations[k] = held;
        const prefix = table.prefix[i]!;
        sizes[k] = table.size[i]! + (prefix ? this.#paramSets[prefix - 1]!.length : 0);
        keyframes[k] = table.keyframe[i]!;
      }
      // The edit: from clipStart (an empty edit first when this track starts later) to its end.
      const edits: ProgressiveEdit[] = [];
      let mediaTime = st === primary && snapTo >= 0 ? table.t[snapTo]! + table.compositionOffset[snapTo]! - t0 : Math.round(((clipStart - epochMs) * T) / 1000) - t0;
      let editStart = clipStart;
      const firstComposition = table.compositionOffset[from]!;
      if (mediaTime < firstComposition) {
        // The primary track starts at clipStart by construction (within rounding): no empty edit.
        const empty = st === primary ? 0 : Math.round(pts(st, from) - clipStart);
        if (empty >= 1) {
          edits.push({ mediaTime: -1, duration: empty });
          editStart = clipStart + empty;
        }
        mediaTime = firstComposition;
      }
      const editEnd = st === primary ? clipEnd : Math.min(clipEnd, Math.round(end(st, to)));
      if (editEnd <= editStart) continue; // audio that would only show before or after the clip
      edits.push({ mediaTime, duration: editEnd - editStart });

      const source = this.#sampleEntry(st, from);
      const id = tracks.length + 1;
      tracks.push({
        track: { ...source, id },
        durations,
        sizes,
        keyframes,
        ...(table.hasCompositionOffsets ? { compositionOffsets: table.compositionOffset.slice(from, to + 1) } : {}),
        edits,
      });
      const index = streamTracks.length;
      streamTracks.push({ offset: table.offset.slice(from, to + 1), size: table.size.slice(from, to + 1), prefix: table.prefix.slice(from, to + 1) });

      // Chunks: never across fragments (stream() reads each fragment once), at most CHUNK_SECONDS long.
      const maxTicks = CHUNK_SECONDS * T;
      let chunk: (StreamChunk & { atMs: number; startT: number }) | undefined;
      for (let k = 0; k < count; k++) {
        const i = from + k;
        const fragment = table.fragment[i]!;
        if (!chunk || chunk.fragment !== fragment || table.t[i]! - chunk.startT >= maxTicks) {
          chunk = { track: index, fragment, from: k, count: 0, atMs: pts(st, i), startT: table.t[i]! };
          chunks.push(chunk);
        }
        chunk.count++;
      }
    }
    // Fragment read order first (one fragment in memory at a time), then time, so tracks alternate.
    chunks.sort((x, y) => x.fragment - y.fragment || x.atMs - y.atMs || x.track - y.track);

    const header = progressiveHeader({
      tracks,
      chunks: chunks.map((c): ProgressiveChunk => ({ track: c.track, samples: c.count })),
      movieTimescale: MOVIE_TIMESCALE,
      creationTimeMs: clipStart,
    });
    const videoTrack = tracks.find((t) => t.track.kind === 'video')?.track;
    return new PlannedClip({
      source,
      startMs: clipStart,
      durationMs: clipEnd - clipStart,
      gaps: this.#gaps(primary, first, last, gaps, clipStart, clipEnd, pts, end),
      ...(videoTrack?.kind === 'video' ? { video: { codec: videoTrack.codec, width: videoTrack.width, height: videoTrack.height } } : {}),
      header,
      fragments: this.#fragments,
      tracks: streamTracks,
      chunks: chunks.map(({ track, fragment, from, count }) => ({ track, fragment, from, count })),
      paramSets: this.#paramSets,
    });
  }

  /** The sample entry of the segment holding the track's first kept sample: the decoder starts with its parameters. */
  #sampleEntry(st: TrackState, first: number): Track {
    const segment = this.#fragmentSegment[st.table.fragment[first]!]!;
    const track = st === this.#video ? segment.video : segment.audio;
    return track!;
  }

  /** The index's gaps inside the clip, and holes in the recording the index does not explain. */
  #gaps(
    st: TrackState,
    first: number,
    last: number,
    gaps: readonly GapEntry[],
    clipStart: number,
    clipEnd: number,
    pts: (st: TrackState, i: number) => number,
    end: (st: TrackState, i: number) => number,
  ): ClipGap[] {
    const out: ClipGap[] = [];
    for (const g of gaps) {
      if (g.toMs > clipStart && g.fromMs < clipEnd) out.push({ fromMs: Math.max(g.fromMs, clipStart), toMs: Math.min(g.toMs, clipEnd), reason: g.reason });
    }
    const listed = out.slice();
    for (let i = first; i < last; i++) {
      const from = end(st, i);
      const to = pts(st, i + 1);
      if (to - from < HOLE_MS) continue;
      if (listed.some((g) => g.toMs > from && g.fromMs < to)) continue;
      const hole = { fromMs: Math.max(clipStart, Math.round(from)), toMs: Math.min(clipEnd, Math.round(to)), reason: 'not-recorded' };
      if (hole.toMs > hole.fromMs) out.push(hole);
    }
    return out.sort((a, b) => a.fromMs - b.fromMs);
  }
}

/** Last i in [0, n) with pred(i), for a predicate true on a prefix (times only grow); -1 if none. */
function lastIndex(n: number, pred: (i: number) => boolean): number {
  let lo = 0;
  let hi = n; // pred holds below lo, fails at and above hi
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Ticks of timescale `from` in timescale `to`; exact when they are the same. */
function rescale(v: number, from: number, to: number): number {
  return from === to ? v : Math.round((v * to) / from);
}

function describe(t: VideoTrack): string {
  return `${t.codec === 'h264' ? 'H.264' : 'VP8'} ${t.width}x${t.height}`;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** NAL units as an AVCC sample fragment: each with a 4-byte big-endian length. */
function lengthPrefixed(nalus: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(nalus.reduce((n, u) => n + 4 + u.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const u of nalus) {
    view.setUint32(at, u.length);
    out.set(u, at + 4);
    at += 4 + u.length;
  }
  return out;
}

export function noRecording(fromMs: number, toMs: number, why: string): ClipError {
  return new ClipError('no_recording', `nothing was recorded between ${iso(fromMs)} and ${iso(toMs)} (${why}); pick a range from the timeline's recorded spans`);
}

/** Parses recorded MP4, turning a parse failure into the clip's error. */
export function parseOrFail<T>(parse: () => T, what: string): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof Mp4FormatError)) throw error;
    throw new ClipError('source_failed', `${what} is damaged (${error.message}); run "mimamori verify" on that hour, and export around it`, { cause: error });
  }
}
