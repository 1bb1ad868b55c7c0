// The recording index: per camera and UTC hour, every segment with its fragments (times, keyframe
// flags, byte ranges) and the gaps with their reasons. Cached as JSON files on local disk
// (`<dataDir>/index/<cameraId>/<hourMs>.json`) and stored sealed beside the recordings in S3, so a
// lost local cache is rebuilt from the bucket alone (the index object, or failing that the segment
// objects themselves: every record says where it sits on the wall clock).

import fs from 'node:fs/promises';
import path from 'node:path';
import { hourStart, hoursBetween, indexKey, indexPrefix, parseIndexKey, parseSegmentKey, segmentPrefix } from './objects.ts';
import { mergeHours } from './indexMerge.ts';
import { readSegment } from './reader.ts';
import { open, seal } from './seal/index.ts';
import { StoreError, type ObjectStore } from './store/index.ts';

export type { FragmentTuple, SegmentEntry, GapReason, GapEntry } from './entries.ts';
import type { FragmentTuple, SegmentEntry, GapEntry } from './entries.ts';

export interface HourIndex {
  v: 1;
  cameraId: string;
  hourMs: number;
  segments: SegmentEntry[];
  gaps: GapEntry[];
}

/**
 * What a timeline shows of one hour, small enough that 30 days of it answer in milliseconds:
 * recorded spans (contiguous segments merged), gaps, and the video size changes.
 */
export interface HourSummary {
  v: 1;
  spans: [number, number][];
  gaps: GapEntry[];
  /** [segment start, width, height, codec] wherever the video format differs from the segment before. */
  formats: [number, number, number, string][];
  /** Newest recorded instant of the hour. */
  lastMs?: number;
}

/** Segments closer than this are one span (frame-duration rounding at segment and session joins). */
export const SPAN_JOIN_MS = 250;

export function summarize(h: Pick<HourIndex, 'segments' | 'gaps'>): HourSummary {
  const spans: [number, number][] = [];
  const formats: HourSummary['formats'] = [];
  let previous = '';
  for (const s of h.segments) {
    const last = spans.at(-1);
    if (last && s.startMs - last[1] <= SPAN_JOIN_MS) last[1] = Math.max(last[1], s.endMs);
    else spans.push([s.startMs, s.endMs]);
    const format = s.video ? `${s.video.codec} ${s.video.width}x${s.video.height}` : '';
    if (s.video && format !== previous) formats.push([s.startMs, s.video.width, s.video.height, s.video.codec]);
    previous = format;
  }
  const lastMs = spans.reduce<number | undefined>((m, [, to]) => Math.max(m ?? to, to), undefined);
  return { v: 1, spans, gaps: h.gaps.slice(), formats, ...(lastMs !== undefined ? { lastMs } : {}) };
}

interface RemoteIndex {
  key: string;
  writer: string;
  /** The object's ETag (its size where S3 gives none): a rewrite of the same length is still a change. */
  version: string;
}

export interface IndexKeys {
  dataKey(cameraId: string): Promise<Uint8Array>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class RecordingIndex {
  readonly #dir: string;
  readonly #store: ObjectStore;
  readonly #keys: IndexKeys;
  readonly #hours = new Map<string, HourIndex>();
  readonly #summaries = new Map<string, HourSummary>();
  /** Index objects in S3 per camera and hour, every writer's (one listing per camera a minute at most; every 10 s in a cluster). */
  readonly #remoteHours = new Map<string, { at: number; hours: Promise<Map<number, RemoteIndex[]>> }>();
  /** Other writers' hour indexes, by key and version (an object rewritten is read again). */
  readonly #others = new Map<string, { version: string; index: HourIndex }>();
  /** This node's name in index keys: '' on its own, its id in a cluster. */
  readonly #writer: string;
  readonly #listEveryMs: number;
  readonly #dirty = new Set<string>();
  /** Hours started locally while S3 could not be read: merged with the S3 copy before the next upload. */
  readonly #unreconciled = new Set<string>();
  /** Serialises writes of one hour file. */
  #writes: Promise<unknown> = Promise.resolve();

  constructor(options: { dir: string; store: ObjectStore; keys: IndexKeys; writer?: string }) {
    this.#dir = options.dir;
    this.#store = options.store;
    this.#keys = options.keys;
    this.#writer = options.writer ?? '';
    this.#listEveryMs = this.#writer ? 10_000 : 60_000;
  }

  /** This node's name in index keys ('' on its own). */
  get writer(): string {
    return this.#writer;
  }

  /** Hours changed since their last upload to S3. */
  get dirtyHours(): number {
    return this.#dirty.size;
  }

  async addSegment(cameraId: string, entry: SegmentEntry): Promise<void> {
    await this.#update(cameraId, hourStart(entry.startMs), (h) => {
      if (h.segments.some((s) => s.key === entry.key)) return;
      h.segments.push(entry);
      h.segments.sort((a, b) => a.startMs - b.startMs);
    });
  }

  async addGap(cameraId: string, gap: GapEntry): Promise<void> {
    if (gap.toMs <= gap.fromMs) return;
    await this.#update(cameraId, hourStart(gap.fromMs), (h) => {
      if (h.gaps.some((g) => g.fromMs === gap.fromMs && g.toMs === gap.toMs)) return;
      h.gaps.push(gap);
      h.gaps.sort((a, b) => a.fromMs - b.fromMs);
    });
  }

  async removeSegments(cameraId: string, hourMs: number, keys: ReadonlySet<string>): Promise<void> {
    await this.#update(cameraId, hourMs, (h) => {
      h.segments = h.segments.filter((s) => !keys.has(s.key));
    });
  }

  /** Forgets this node's index of a whole hour, locally and in S3 (retention, deletion). */
  async dropHour(cameraId: string, hourMs: number): Promise<void> {
    const id = hourId(cameraId, hourMs);
    this.#hours.delete(id);
    this.#summaries.delete(id);
    this.#dirty.delete(id);
    await fs.rm(this.#file(cameraId, hourMs), { force: true });
    await fs.rm(this.#summaryFile(cameraId, hourMs), { force: true });
    await this.#store.delete([indexKey(cameraId, hourMs, this.#writer)]);
    this.#remoteHours.delete(cameraId);
  }

  /**
   * The hour as every writer recorded it: this node's index merged with the other nodes' index
   * objects (mergeHours). On a node on its own, with no other writer, simply this node's.
   */
  async merged(cameraId: string, hourMs: number): Promise<HourIndex> {
    const own = await this.hour(cameraId, hourMs);
    const others = await this.otherWriters(cameraId, hourMs);
    // A node of a cluster always merges: its own index may hold another node's segments (adopted
    // from the bucket) that it must list once, whatever else is there.
    return others.length === 0 && this.#writer === '' ? own : mergeHours(cameraId, hourMs, [own, ...others.map((o) => o.index)]);
  }

  /** The other writers' index objects of the hour (other nodes, or this node's name before it joined a cluster). */
  async otherWriters(cameraId: string, hourMs: number): Promise<{ key: string; writer: string; index: HourIndex }[]> {
    // A node on its own is the only writer there is.
    if (this.#writer === '') return [];
    const remote = (await this.#remoteIndexes(cameraId))?.get(hourMs) ?? [];
    const out: { key: string; writer: string; index: HourIndex }[] = [];
    for (const r of remote) {
      if (r.writer === this.#writer) continue;
      let cached = this.#others.get(r.key);
      if (!cached || cached.version !== r.version) {
        const index = await this.#readObject(cameraId, r.key);
        if (!index) continue;
        this.#others.set(r.key, (cached = { version: r.version, index }));
        if (this.#others.size > 4096) this.#others.delete(this.#others.keys().next().value!);
      }
      out.push({ key: r.key, writer: r.writer, index: cached.index });
    }
    return out;
  }

  /** The hour's index: memory, local file, the sealed S3 copy, or rebuilt from the segment objects. */
  async hour(cameraId: string, hourMs: number): Promise<HourIndex> {
    const id = hourId(cameraId, hourMs);
    const cached = this.#hours.get(id);
    if (cached) return cached;
    let h = await this.#readLocal(cameraId, hourMs);
    if (!h) {
      try {
        h = (await this.#readRemote(cameraId, hourMs)) ?? { v: 1, cameraId, hourMs, segments: [], gaps: [] };
        await this.#reconcile(h);
      } catch (error) {
        if (!(error instanceof StoreError) || !error.retryable) throw error;
        // S3 is away: recording must go on; what S3 holds for this hour is merged in later.
        h = { v: 1, cameraId, hourMs, segments: [], gaps: [] };
        this.#unreconciled.add(id);
      }
      await this.#writeLocal(h);
    }
    this.#hours.set(id, h);
    if (this.#hours.size > 512) this.#hours.delete(this.#hours.keys().next().value!);
    return h;
  }

  /**
   * The hour's summary: memory, its small local file, or computed from the hour's index (and
   * then kept). Hours without any recording are cheap: no file, an empty summary.
   */
  async summary(cameraId: string, hourMs: number): Promise<HourSummary> {
    const id = hourId(cameraId, hourMs);
    // An hour other writers recorded too: from the merge (in memory only: their objects change).
    const others = await this.otherWriters(cameraId, hourMs).catch(() => []);
    if (others.length > 0) return summarize(mergeHours(cameraId, hourMs, [await this.hour(cameraId, hourMs), ...others.map((o) => o.index)]));
    const cached = this.#summaries.get(id);
    if (cached) return cached;
    let summary: HourSummary | undefined;
    try {
      summary = JSON.parse(await fs.readFile(this.#summaryFile(cameraId, hourMs), 'utf8')) as HourSummary;
    } catch {
      summary = undefined;
    }
    if (!summary && !(await exists(this.#file(cameraId, hourMs))) && (await this.#remoteIndexMissing(cameraId, hourMs))) {
      // Nothing recorded in this hour, here or in S3 (a camera younger than a month, a quiet
      // night): no S3 round trips and no empty files per hour.
      summary = summarize({ segments: [], gaps: [] });
    }
    if (!summary) {
      const h = await this.hour(cameraId, hourMs);
      summary = summarize(h);
      if (h.segments.length > 0 || h.gaps.length > 0) await this.#writeSummary(cameraId, hourMs, summary);
    }
    this.#summaries.set(id, summary);
    if (this.#summaries.size > 100_000) this.#summaries.delete(this.#summaries.keys().next().value!);
    return summary;
  }

  /** Segments and gaps overlapping [fromMs, toMs). */
  async query(cameraId: string, fromMs: number, toMs: number): Promise<{ segments: SegmentEntry[]; gaps: GapEntry[] }> {
    const segments: SegmentEntry[] = [];
    const gaps: GapEntry[] = [];
    // A segment starting in the previous hour may reach into the range.
    for (const hourMs of hoursBetween(fromMs - 3_600_000, toMs)) {
      const h = await this.merged(cameraId, hourMs);
      segments.push(...h.segments.filter((s) => s.endMs > fromMs && s.startMs < toMs));
      gaps.push(...h.gaps.filter((g) => g.toMs > fromMs && g.fromMs < toMs));
    }
    return { segments, gaps };
  }

  /** End of the latest recorded segment of a camera, by any writer (for gaps across restarts and moves). */
  async latestEnd(cameraId: string): Promise<number | undefined> {
    if (this.#writer) {
      // A node of a cluster: the last hour or two as every writer has them, including segments
      // another node uploaded but had not indexed yet (the hour's index is rebuilt from S3).
      const now = hourStart(Date.now());
      for (const hourMs of [now, now - 3_600_000]) {
        const last = (await this.merged(cameraId, hourMs)).segments.reduce<number | undefined>((m, s) => Math.max(m ?? s.endMs, s.endMs), undefined);
        if (last !== undefined) return last;
      }
    }
    // Newest first; hours that exist but hold nothing (a timeline looked at them) are skipped.
    const hours = (await this.indexedHours(cameraId)).reverse();
    for (const hourMs of hours.slice(0, 24 * 31)) {
      const last = (await this.summary(cameraId, hourMs)).lastMs;
      if (last !== undefined) return last;
    }
    return undefined;
  }

  /** Uploads the sealed copy of every hour changed since the last flush. */
  async flush(): Promise<void> {
    for (const id of [...this.#dirty]) {
      const h = this.#hours.get(id);
      this.#dirty.delete(id);
      if (!h) continue;
      try {
        if (this.#unreconciled.has(id)) {
          const remote = await this.#readRemote(h.cameraId, h.hourMs);
          if (remote) mergeInto(h, remote);
          await this.#reconcile(h);
          await this.#writeLocal(h);
          const summary = summarize(h);
          this.#summaries.set(id, summary);
          await this.#writeSummary(h.cameraId, h.hourMs, summary);
          this.#unreconciled.delete(id);
        }
        const key = indexKey(h.cameraId, h.hourMs, this.#writer);
        const dataKey = await this.#keys.dataKey(h.cameraId);
        await this.#store.put(key, seal(dataKey, { cameraId: h.cameraId, object: key, index: 0, kind: 'index' }, encoder.encode(JSON.stringify(h))));
      } catch (error) {
        this.#dirty.add(id);
        throw error;
      }
    }
  }

  /** Forgets the local cache of a camera (all its recordings were deleted). */
  async dropCamera(cameraId: string): Promise<void> {
    for (const id of [...this.#hours.keys()]) if (id.startsWith(`${cameraId}/`)) this.#hours.delete(id);
    for (const id of [...this.#summaries.keys()]) if (id.startsWith(`${cameraId}/`)) this.#summaries.delete(id);
    this.#remoteHours.delete(cameraId);
    for (const id of [...this.#dirty]) if (id.startsWith(`${cameraId}/`)) this.#dirty.delete(id);
    await fs.rm(path.join(this.#dir, cameraId), { recursive: true, force: true });
  }

  /** Hours with an index, oldest first: this node's, and in a cluster every writer's in S3 too (as far as S3 can say). */
  async indexedHours(cameraId: string): Promise<number[]> {
    const local = await this.localHours(cameraId);
    if (!this.#writer) return local;
    const remote = (await this.#remoteIndexes(cameraId).catch(() => undefined))?.keys() ?? [];
    return [...new Set([...local, ...remote])].sort((a, b) => a - b);
  }

  /** Hours with a local cache file, oldest first. */
  async localHours(cameraId: string): Promise<number[]> {
    const files = await fs.readdir(path.join(this.#dir, cameraId)).catch(() => [] as string[]);
    return files.map((f) => Number(f.replace(/\.json$/, ''))).filter(Number.isFinite).sort((a, b) => a - b);
  }

  async #update(cameraId: string, hourMs: number, change: (h: HourIndex) => void): Promise<void> {
    const run = this.#writes.then(async () => {
      const h = await this.hour(cameraId, hourMs);
      change(h);
      await this.#writeLocal(h);
      const summary = summarize(h);
      this.#summaries.set(hourId(cameraId, hourMs), summary);
      await this.#writeSummary(cameraId, hourMs, summary);
      this.#dirty.add(hourId(cameraId, hourMs));
    });
    this.#writes = run.catch(() => undefined);
    await run;
  }

  #file(cameraId: string, hourMs: number): string {
    return path.join(this.#dir, cameraId, `${hourMs}.json`);
  }

  /** True when S3 has no index object for the hour; false when it has one or S3 cannot say. */
  async #remoteIndexMissing(cameraId: string, hourMs: number): Promise<boolean> {
    const hours = await this.#remoteIndexes(cameraId);
    return hours !== undefined && !hours.has(hourMs);
  }

  /** Every index object of the camera in S3, by hour (undefined when S3 cannot say). */
  async #remoteIndexes(cameraId: string): Promise<Map<number, RemoteIndex[]> | undefined> {
    let entry = this.#remoteHours.get(cameraId);
    if (!entry || Date.now() - entry.at > this.#listEveryMs) {
      const hours = (async () => {
        const found = new Map<number, RemoteIndex[]>();
        for await (const o of this.#store.list(indexPrefix(cameraId))) {
          const k = parseIndexKey(o.key);
          if (!k) continue;
          let list = found.get(k.hourMs);
          if (!list) found.set(k.hourMs, (list = []));
          list.push({ key: o.key, writer: k.writer, version: o.etag ?? `size ${o.size}` });
        }
        return found;
      })();
      entry = { at: Date.now(), hours };
      this.#remoteHours.set(cameraId, entry);
    }
    try {
      return await entry.hours;
    } catch {
      this.#remoteHours.delete(cameraId);
      return undefined;
    }
  }

  #summaryFile(cameraId: string, hourMs: number): string {
    return path.join(this.#dir, cameraId, `${hourMs}.summary.json`);
  }

  async #writeSummary(cameraId: string, hourMs: number, summary: HourSummary): Promise<void> {
    const file = this.#summaryFile(cameraId, hourMs);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(temp, JSON.stringify(summary));
    await fs.rename(temp, file);
  }

  async #readLocal(cameraId: string, hourMs: number): Promise<HourIndex | undefined> {
    try {
      return JSON.parse(await fs.readFile(this.#file(cameraId, hourMs), 'utf8')) as HourIndex;
    } catch {
      return undefined;
    }
  }

  async #writeLocal(h: HourIndex): Promise<void> {
    const file = this.#file(h.cameraId, h.hourMs);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(temp, JSON.stringify(h));
    await fs.rename(temp, file);
  }

  /** This node's own index object of the hour. */
  #readRemote(cameraId: string, hourMs: number): Promise<HourIndex | undefined> {
    return this.#readObject(cameraId, indexKey(cameraId, hourMs, this.#writer));
  }

  async #readObject(cameraId: string, key: string): Promise<HourIndex | undefined> {
    const info = await this.#store.head(key);
    if (!info) return undefined;
    const dataKey = await this.#keys.dataKey(cameraId);
    const plain = open(dataKey, { cameraId, object: key, index: 0, kind: 'index' }, await this.#store.get(key));
    return JSON.parse(decoder.decode(plain)) as HourIndex;
  }

  /** Adds segment objects of the hour that the index does not list (an index flush lost in a crash). */
  async #reconcile(h: HourIndex): Promise<void> {
    const known = new Set(h.segments.map((s) => s.key));
    for await (const object of this.#store.list(segmentPrefix(h.cameraId, h.hourMs))) {
      if (known.has(object.key) || !parseSegmentKey(object.key)) continue;
      known.add(object.key); // a listing may name a key twice (a marker-paged listing repeats its marker)
      try {
        const dataKey = await this.#keys.dataKey(h.cameraId);
        const segment = readSegment(dataKey, object.key, await this.#store.get(object.key));
        h.segments.push(segment.entry);
      } catch {
        // An object that does not open is left for `mimamori verify` to report; it is never indexed.
      }
    }
    h.segments.sort((a, b) => a.startMs - b.startMs);
  }
}

function mergeInto(h: HourIndex, other: HourIndex): void {
  for (const s of other.segments) if (!h.segments.some((x) => x.key === s.key)) h.segments.push(s);
  for (const g of other.gaps) if (!h.gaps.some((x) => x.fromMs === g.fromMs && x.toMs === g.toMs)) h.gaps.push(g);
  h.segments.sort((a, b) => a.startMs - b.startMs);
  h.gaps.sort((a, b) => a.fromMs - b.fromMs);
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

function hourId(cameraId: string, hourMs: number): string {
  return `${cameraId}/${hourMs}`;
}
