// Reads and opens single records of recorded segments: from the spool while a segment is not
// uploaded yet, else a byte-range GET of the S3 object (never the whole object for one second).
// Opened records are kept in a small LRU by size: players ask for the same init segment every
// minute and scrubbing asks for the same keyframes again.

import fs from 'node:fs/promises';
import { openFragment, openInit, type FragmentTuple, type PendingSegments, type SegmentEntry } from '../recorder/index.ts';
import type { ObjectStore } from '../recorder/index.ts';

export class ByteLru<V extends { byteLength: number }> {
  readonly #max: number;
  readonly #map = new Map<string, V>();
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  get(key: string): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  set(key: string, value: V): void {
    if (value.byteLength > this.#max / 4) return; // one huge item would flush everything
    const old = this.#map.get(key);
    if (old) this.#bytes -= old.byteLength;
    this.#map.delete(key);
    this.#map.set(key, value);
    this.#bytes += value.byteLength;
    while (this.#bytes > this.#max) {
      const [k, v] = this.#map.entries().next().value!;
      this.#map.delete(k);
      this.#bytes -= v.byteLength;
    }
  }

  get bytes(): number {
    return this.#bytes;
  }
}

export interface ReaderStats {
  spoolReads: number;
  storeReads: number;
  cacheHits: number;
  cacheBytes: number;
}

export class FragmentReader {
  readonly #store: ObjectStore;
  readonly #keys: { dataKey(cameraId: string): Promise<Uint8Array> };
  readonly #pending: PendingSegments;
  readonly #cache: ByteLru<Uint8Array>;
  readonly #inFlight = new Map<string, Promise<Uint8Array>>();
  readonly stats: ReaderStats = { spoolReads: 0, storeReads: 0, cacheHits: 0, cacheBytes: 0 };

  constructor(o: { store: ObjectStore; keys: { dataKey(cameraId: string): Promise<Uint8Array> }; pending: PendingSegments; cacheBytes?: number }) {
    this.#store = o.store;
    this.#keys = o.keys;
    this.#pending = o.pending;
    this.#cache = new ByteLru(o.cacheBytes ?? 64 * 1024 * 1024);
  }

  /** The MP4 init segment (ftyp+moov) of a segment. */
  async init(cameraId: string, segment: SegmentEntry): Promise<Uint8Array> {
    return this.#cached(`${segment.key}#init`, async () => {
      const record = await this.#read(segment.key, segment.init[0], segment.init[1]);
      return openInit(await this.#keys.dataKey(cameraId), segment.key, record).mp4;
    });
  }

  /** moof+mdat of fragment `i`. */
  async fragment(cameraId: string, segment: SegmentEntry, i: number): Promise<Uint8Array> {
    const [, , , offset, length] = tupleOf(segment, i);
    return this.#cached(`${segment.key}#${i}`, async () => this.#open(cameraId, segment, i, await this.#read(segment.key, offset, length)));
  }

  /** Opened without keeping it (an export reads each fragment twice, far apart: no use caching). */
  async fragmentUncached(cameraId: string, segment: SegmentEntry, i: number): Promise<Uint8Array> {
    const hit = this.#cache.get(`${segment.key}#${i}`);
    if (hit) return hit;
    const [, , , offset, length] = tupleOf(segment, i);
    return this.#open(cameraId, segment, i, await this.#read(segment.key, offset, length));
  }

  /**
   * Fragment `i` opened from the whole object, fetched once (one GET instead of one per second):
   * for exports, which read nearly every fragment of a segment, twice. At most `keep` objects stay.
   */
  async fragmentOfWhole(cameraId: string, segment: SegmentEntry, i: number, wholes: Map<string, Promise<Uint8Array>>, keep = 3): Promise<Uint8Array> {
    const [, , , offset, length] = tupleOf(segment, i);
    let whole = wholes.get(segment.key);
    if (!whole) {
      whole = this.#read(segment.key, 0, segment.bytes);
      wholes.set(segment.key, whole);
      whole.catch(() => wholes.delete(segment.key));
      while (wholes.size > keep) wholes.delete(wholes.keys().next().value!);
    }
    return this.#open(cameraId, segment, i, (await whole).subarray(offset, offset + length));
  }

  /** Authenticates and opens fragment record `i`: its moof+mdat. */
  async #open(cameraId: string, segment: SegmentEntry, i: number, record: Uint8Array): Promise<Uint8Array> {
    return openFragment(await this.#keys.dataKey(cameraId), segment.key, i, record).mp4;
  }

  async #cached(id: string, load: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const hit = this.#cache.get(id);
    if (hit) {
      this.stats.cacheHits += 1;
      return hit;
    }
    // Sixteen tiles or a fast scrub ask for the same record at once: one read.
    const flying = this.#inFlight.get(id);
    if (flying) return flying;
    const p = load()
      .then((bytes) => {
        this.#cache.set(id, bytes);
        this.stats.cacheBytes = this.#cache.bytes;
        return bytes;
      })
      .finally(() => this.#inFlight.delete(id));
    this.#inFlight.set(id, p);
    return p;
  }

  /** `length` bytes at `offset` of the object `key`: from its spool file if it is still there, else from S3. */
  async #read(key: string, offset: number, length: number): Promise<Uint8Array> {
    const pending = this.#pending.get(key);
    if (pending) {
      for (const file of [pending.file, pending.file.replace(/\.part$/, '.seg')]) {
        const bytes = await readRange(file, offset, length);
        if (bytes) {
          this.stats.spoolReads += 1;
          return bytes;
        }
      }
    }
    this.stats.storeReads += 1;
    return this.#store.get(key, { offset, length });
  }
}

function tupleOf(segment: SegmentEntry, i: number): FragmentTuple {
  const tuple = segment.fragments[i];
  if (!tuple) throw new RangeError(`${segment.key} has no fragment ${i}`);
  return tuple;
}

/** undefined when the file is gone (uploaded and removed meanwhile) or shorter than asked. */
async function readRange(file: string, offset: number, length: number): Promise<Uint8Array | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const out = new Uint8Array(length);
    const { bytesRead } = await handle.read(out, 0, length, offset);
    return bytesRead === length ? out : undefined;
  } finally {
    await handle.close();
  }
}
