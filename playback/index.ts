// Playback of recordings: the timeline of a camera, HLS windows (fMP4) decrypted on the fly from
// byte ranges of the sealed objects (or the spool, up to the live edge), one-frame previews for
// scrubbing, and exact-range MP4 clips. Knows nothing of users: signaling/ decides who may ask.
//
//   const playback = new Playback({ recorder });   // or { index, pending, store, keys } (command line)
//   await playback.timeline(cameraId, from, to)     // spans, gaps, events, live edge
//   const w = await playback.window(cameraId, at)    // where playing from `at` really starts
//   playback.playlist(w)                             // its m3u8 (URLs relative to the token's base)
//   await playback.media(cameraId, name, 3, 4)       // fragments 3..4 of a segment, moof+mdat

import { CodedError } from '../errors/index.ts';
import type { GapEntry, ObjectStore, PendingSegments, RecordingIndex, SegmentEntry } from '../recorder/index.ts';
import { hourStart, hoursBetween, SPAN_JOIN_MS } from '../recorder/index.ts';
import { keyframeMp4, planClip, type Clip } from './clip/index.ts';
import { ByteLru, FragmentReader } from './FragmentReader.ts';
import { entriesOf, mergeSegments, NoRecordingError, planWindow, type PlaybackWindow, type Segment, type SegmentRef } from './windows.ts';

export { ClipError, type Clip } from './clip/index.ts';
export { keyOfName, NoRecordingError, playlist, segmentName, segmentRef, WINDOW_MS, type PlaybackWindow, type SegmentRef } from './windows.ts';
export { ExportJobs, ExportError, type ExportRecord, type ExportStore } from './ExportJobs.ts';

export interface TimelineEvent {
  atMs: number;
  kind: 'camera-online' | 'camera-offline' | 'resolution-change';
  detail?: string;
}

export interface Timeline {
  cameraId: string;
  from: number;
  to: number;
  spans: { fromMs: number; toMs: number }[];
  gaps: GapEntry[];
  events: TimelineEvent[];
  liveEdgeMs?: number;
}

/** A segment name in a URL that is not one, or names a segment the camera does not have. */
export class PlaybackError extends CodedError {
  override name = 'PlaybackError';
  readonly status: 403 | 404;
  constructor(
    readonly code: 'segment_not_found' | 'fragment_not_found' | 'out_of_window',
    message: string,
  ) {
    super(message);
    this.status = code === 'out_of_window' ? 403 : 404;
  }
}

/** A finished window's playlist is served from memory this long after it was planned. */
const WINDOW_CACHE_MS = 60_000;

/** What playback reads: the recorder's index, spool segments, bucket and data keys. */
export interface RecordingsSource {
  index: RecordingIndex;
  pending: PendingSegments;
  store: ObjectStore;
  keys: { dataKey(cameraId: string): Promise<Uint8Array> };
  /** Whether the camera is being recorded now; without it, an open spool segment says so. */
  isRecording?(cameraId: string): boolean;
}

export class Playback {
  readonly #recorder: RecordingsSource;
  readonly #reader: FragmentReader;
  readonly #previews = new ByteLru<Uint8Array>(16 * 1024 * 1024);
  readonly #windows = new Map<string, { at: number; window: PlaybackWindow }>();

  /** `recorder`: the running Recorder, or (command line) an index, an empty PendingSegments, the store and keys. */
  constructor(o: { recorder: RecordingsSource; cacheBytes?: number }) {
    this.#recorder = o.recorder;
    this.#reader = new FragmentReader({ store: o.recorder.store, keys: o.recorder.keys, pending: o.recorder.pending, ...(o.cacheBytes ? { cacheBytes: o.cacheBytes } : {}) });
  }

  get reader(): FragmentReader {
    return this.#reader;
  }

  /** Spans (contiguous recording merged), gaps and events over [fromMs, toMs), and the live edge. */
  async timeline(cameraId: string, fromMs: number, toMs: number): Promise<Timeline> {
    const index = this.#recorder.index;
    // Hours in the future hold nothing; do not create empty index files for them.
    const hours = hoursBetween(fromMs - 3_600_000, Math.min(toMs, Date.now() + 1));
    const summaries = await Promise.all(hours.map((h) => index.summary(cameraId, h)));
    const spans: { fromMs: number; toMs: number }[] = [];
    const gaps: GapEntry[] = [];
    const events: TimelineEvent[] = [];
    let format = '';
    const addSpan = (a: number, b: number) => {
      if (b <= fromMs || a >= toMs) return;
      const last = spans.at(-1);
      if (last && a - last.toMs <= SPAN_JOIN_MS) last.toMs = Math.max(last.toMs, Math.min(b, toMs));
      else spans.push({ fromMs: Math.max(a, fromMs), toMs: Math.min(b, toMs) });
    };
    for (const s of summaries) {
      for (const [a, b] of s.spans) addSpan(a, b);
      for (const g of s.gaps) {
        if (g.toMs <= fromMs || g.fromMs >= toMs) continue;
        gaps.push(g);
        if (g.reason === 'camera-offline') {
          if (g.fromMs >= fromMs) events.push({ atMs: g.fromMs, kind: 'camera-offline' });
          if (g.toMs < toMs) events.push({ atMs: g.toMs, kind: 'camera-online' });
        }
      }
      for (const [atMs, width, height, codec] of s.formats) {
        const f = `${codec} ${width}x${height}`;
        if (format && f !== format && atMs >= fromMs && atMs < toMs) events.push({ atMs, kind: 'resolution-change', detail: `${width}x${height}` });
        format = f;
      }
    }
    // The spool: what is recorded but not uploaded yet reaches the timeline too.
    let liveEdgeMs = summaries.reduce<number | undefined>((m, s) => (s.lastMs !== undefined ? Math.max(m ?? 0, s.lastMs) : m), undefined);
    for (const p of this.#recorder.pending.list(cameraId)) {
      addSpan(p.entry.startMs, p.entry.endMs);
      liveEdgeMs = Math.max(liveEdgeMs ?? 0, p.entry.endMs);
    }
    spans.sort((a, b) => a.fromMs - b.fromMs);
    events.sort((a, b) => a.atMs - b.atMs);
    return { cameraId, from: fromMs, to: toMs, spans, gaps, events, ...(liveEdgeMs !== undefined ? { liveEdgeMs } : {}) };
  }

  /** Index and spool segments overlapping [fromMs, toMs), oldest first. */
  async segments(cameraId: string, fromMs: number, toMs: number): Promise<{ segments: Segment[]; gaps: GapEntry[] }> {
    const { segments, gaps } = await this.#recorder.index.query(cameraId, fromMs, toMs);
    const pending = this.#recorder.pending
      .list(cameraId)
      .filter((p) => p.entry.endMs > fromMs && p.entry.startMs < toMs)
      .map((p) => ({ entry: p.entry, open: p.open }));
    return { segments: mergeSegments(segments, pending), gaps };
  }

  /** Where playing from `atMs` starts, and the window (≤ 1 h, or up to `toMs`) after it. */
  async window(cameraId: string, atMs: number, toMs?: number): Promise<PlaybackWindow> {
    // The player asks for the playlist of the window it was just given: answer from memory.
    const key = `${cameraId}/${atMs}/${toMs}`;
    const hit = this.#windows.get(key);
    if (hit && Date.now() - hit.at < WINDOW_CACHE_MS) return hit.window;
    const w = await this.#window(cameraId, atMs, toMs);
    if (!w.live) {
      this.#windows.set(`${cameraId}/${w.startMs}/${w.endMs}`, { at: Date.now(), window: w });
      while (this.#windows.size > 64) this.#windows.delete(this.#windows.keys().next().value!);
    }
    return w;
  }

  async #window(cameraId: string, atMs: number, toMs?: number): Promise<PlaybackWindow> {
    // Look back far enough for the keyframe before `atMs`, and ahead for a whole window.
    const { segments, gaps } = await this.segments(cameraId, atMs - 120_000, Math.min(toMs ?? Infinity, atMs + 2 * 3_600_000));
    const recording = this.#isRecording(cameraId);
    const entries = entriesOf(segments);
    if (entries.length === 0 && !recording) {
      // Nothing within two hours: the next recording may be days later (a long outage).
      const ahead = await this.timeline(cameraId, atMs, Math.min(toMs ?? Infinity, atMs + 31 * 86_400_000));
      const next = ahead.spans.find((s) => s.toMs > atMs);
      if (next && next.fromMs > atMs) {
        const w = await this.#window(cameraId, next.fromMs, toMs);
        return { ...w, requestedMs: atMs, gap: { fromMs: atMs, toMs: w.startMs, reason: ahead.gaps.find((g) => g.toMs >= next.fromMs - SPAN_JOIN_MS)?.reason ?? 'unrecorded' } };
      }
      const latest = await this.#recorder.index.latestEnd(cameraId);
      if (latest !== undefined && latest <= atMs) {
        throw new NoRecordingError(`nothing is recorded at or after ${new Date(atMs).toISOString()}; the latest recording ends at ${new Date(latest).toISOString()}`);
      }
    }
    return planWindow({ entries, gaps, atMs, ...(toMs !== undefined ? { toMs } : {}), recording });
  }

  /** The decrypted init segment of a segment named in a playlist. */
  /** `ref`: segmentRef() of the URL's name, parsed once by the caller. */
  async init(cameraId: string, ref: SegmentRef): Promise<Uint8Array> {
    return this.#reader.init(cameraId, await this.#segment(cameraId, ref));
  }

  /** Fragments first..last of a segment named in a playlist, as one moof+mdat run. */
  async media(cameraId: string, ref: SegmentRef, first: number, last: number): Promise<Uint8Array> {
    const segment = await this.#segment(cameraId, ref);
    if (first < 0 || last < first || last >= segment.fragments.length || last - first > 600) {
      throw new PlaybackError('fragment_not_found', `segment ${ref.name} has fragments 0-${segment.fragments.length - 1}; ${first}-${last} is not a range of them`);
    }
    const parts = await Promise.all(Array.from({ length: last - first + 1 }, (_, k) => this.#reader.fragment(cameraId, segment, first + k)));
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** A one-frame MP4 of the keyframe at or before `atMs` (the browser decodes it; the server never does). */
  async preview(cameraId: string, atMs: number): Promise<{ atMs: number; mp4: Uint8Array }> {
    const { segments } = await this.segments(cameraId, atMs - 120_000, atMs + 1);
    const entries = entriesOf(segments).filter((e) => e.segment.video);
    const entry = entries.filter((e) => e.wallMs <= atMs).at(-1);
    if (!entry || atMs >= entry.wallMs + entry.durMs + SPAN_JOIN_MS) throw new NoRecordingError(`no recording at ${new Date(atMs).toISOString()}`);
    const id = `${entry.segment.key}#${entry.first}`;
    const cached = this.#previews.get(id);
    if (cached) return { atMs: entry.wallMs, mp4: cached };
    const [init, fragment] = await Promise.all([this.#reader.init(cameraId, entry.segment), this.#reader.fragment(cameraId, entry.segment, entry.first)]);
    const mp4 = keyframeMp4(init, fragment);
    this.#previews.set(id, mp4);
    return { atMs: entry.wallMs, mp4 };
  }

  /** An exact-range clip, planned (every fragment read once); stream() reads them again. */
  async clip(cameraId: string, fromMs: number, toMs: number, onProgress?: (fraction: number) => void): Promise<Clip> {
    const { segments, gaps } = await this.segments(cameraId, fromMs - 120_000, toMs);
    const reader = this.#reader;
    // A segment the clip covers mostly is fetched whole (one GET, not one per second); the edges
    // of the range read single fragments.
    const wholes = new Map<string, Promise<Uint8Array>>();
    const mostly = (s: SegmentEntry) => Math.min(s.endMs, toMs) - Math.max(s.startMs, fromMs - 2000) > (s.endMs - s.startMs) / 2;
    return planClip({
      segments: segments.map((s) => s.entry),
      gaps,
      fromMs,
      toMs,
      source: {
        init: (segment) => reader.init(cameraId, segment),
        fragment: (segment, i) => (mostly(segment) ? reader.fragmentOfWhole(cameraId, segment, i, wholes) : reader.fragmentUncached(cameraId, segment, i)),
      },
      ...(onProgress ? { onProgress } : {}),
    });
  }

  #isRecording(cameraId: string): boolean {
    // Between two segments no spool segment is open, though the camera is still being recorded.
    return this.#recorder.isRecording?.(cameraId) ?? this.#recorder.pending.list(cameraId).some((p) => p.open);
  }

  async #segment(cameraId: string, ref: SegmentRef): Promise<SegmentEntry> {
    const pending = this.#recorder.pending.get(ref.key);
    if (pending) return pending.entry;
    const hour = await this.#recorder.index.merged(cameraId, hourStart(ref.startMs));
    const segment = hour.segments.find((s) => s.key === ref.key);
    if (!segment) throw new PlaybackError('segment_not_found', `camera ${cameraId} has no recorded segment ${ref.name} (deleted by retention, or never recorded)`);
    return segment;
  }
}
