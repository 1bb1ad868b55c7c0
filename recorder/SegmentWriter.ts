// One segment on the local spool, from its init record to its trailer: the lifetime of one
// `<name>.part` file. Each record is sealed, appended and fsynced before the next one, so what is
// on disk is always whole records (plus at most one torn one after a crash, which recovery cuts).
// When finished, the file is renamed to `<name>.seg`: ready to upload.

import fs from 'node:fs/promises';
import path from 'node:path';
import type { Track, TrackRun } from './mp4/index.ts';
import { initSegment, mediaFragment } from './mp4/index.ts';
import { segmentKey, type SegmentName } from './objects.ts';
import { encodeTrailer, encodeWithHeader, type FragmentHeader, type Holder, type SegmentEndReason, type SegmentHeader } from './records.ts';
import { segmentEntry, type FragmentTuple, type SegmentEntry } from './entries.ts';
import { seal, sealParts } from './seal/index.ts';

/** File name on the spool for an object key (keys have slashes; the spool is flat per camera). */
export function spoolFileName(key: string): string {
  return key.replaceAll('/', '~');
}
export function keyOfSpoolFile(file: string): string {
  return path.basename(file).replace(/\.(part|seg)$/, '').replaceAll('~', '/');
}

export interface FinishedSegment {
  file: string;
  entry: SegmentEntry;
}

export class SegmentWriter {
  readonly key: string;
  readonly name: SegmentName;
  readonly #dataKey: Uint8Array;
  readonly #file: string;
  readonly #handle: fs.FileHandle;
  readonly #header: SegmentHeader;
  readonly #fragments: FragmentTuple[] = [];
  readonly #init: [number, number];
  #bytes: number;
  #endMs: number;
  #finished = false;

  static async create(options: { spoolDir: string; dataKey: Uint8Array; name: SegmentName; tracks: readonly Track[]; holder?: Holder }): Promise<SegmentWriter> {
    const { name, tracks } = options;
    const key = segmentKey(name);
    const header: SegmentHeader = {
      v: 1,
      cameraId: name.cameraId,
      session: name.session,
      seq: name.seq,
      startMs: name.startMs,
      tracks: tracks.map((t) => ({
        id: t.id,
        kind: t.kind,
        codec: t.codec,
        timescale: t.timescale,
        ...(t.kind === 'video' ? { width: t.width, height: t.height } : {}),
      })),
      ...(options.holder ? { holder: options.holder } : {}),
    };
    const record = seal(options.dataKey, { cameraId: name.cameraId, object: key, index: 0, kind: 'init' }, encodeWithHeader(header, initSegment(tracks)));
    await fs.mkdir(options.spoolDir, { recursive: true });
    const file = path.join(options.spoolDir, `${spoolFileName(key)}.part`);
    const handle = await fs.open(file, 'wx', 0o600);
    try {
      await writeAll(handle, record, 0);
      await handle.datasync();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await fs.rm(file, { force: true });
      throw error;
    }
    return new SegmentWriter(key, name, options.dataKey, file, handle, header, record.length);
  }

  private constructor(key: string, name: SegmentName, dataKey: Uint8Array, file: string, handle: fs.FileHandle, header: SegmentHeader, initBytes: number) {
    this.key = key;
    this.name = name;
    this.#dataKey = dataKey;
    this.#file = file;
    this.#handle = handle;
    this.#header = header;
    this.#init = [0, initBytes];
    this.#bytes = initBytes;
    this.#endMs = name.startMs;
  }

  get fragments(): number {
    return this.#fragments.length;
  }
  get bytes(): number {
    return this.#bytes;
  }
  get endMs(): number {
    return this.#endMs;
  }
  get file(): string {
    return this.#file;
  }

  /** The entry as far as it is written (fragments so far); `end` is 'stopped' until finished. */
  snapshot(): SegmentEntry {
    return segmentEntry(this.key, this.#header, this.#endMs, this.#bytes, this.#init, this.#fragments.slice(), 'stopped');
  }

  /**
   * Seals the fragment (a moof + mdat, or the track runs to write one from), appends it and makes
   * it durable (fsync) before resolving with the record's size.
   */
  async appendFragment(header: Omit<FragmentHeader, 'i'>, fragment: Uint8Array | readonly TrackRun[]): Promise<number> {
    if (this.#finished) throw new TypeError('segment already finished');
    const i = this.#fragments.length;
    const fields = { ...header, i } satisfies FragmentHeader;
    const record = sealParts(
      this.#dataKey,
      { cameraId: this.name.cameraId, object: this.key, index: i + 1, kind: 'fragment' },
      fragment instanceof Uint8Array ? encodeWithHeader(fields, fragment) : fragmentPlaintext(fields, i + 1, fragment),
    );
    const length = record.reduce((n, part) => n + part.length, 0);
    await writeAllParts(this.#handle, record, this.#bytes);
    await this.#handle.datasync();
    this.#fragments.push([header.startMs - this.name.startMs, header.durationMs, header.keyframe ? 1 : 0, this.#bytes, length]);
    this.#bytes += length;
    this.#endMs = header.startMs + header.durationMs;
    return length;
  }

  /** Appends the trailer, fsyncs, closes and renames the file to `.seg`. */
  async finish(reason: SegmentEndReason): Promise<FinishedSegment> {
    if (this.#finished) throw new TypeError('segment already finished');
    this.#finished = true;
    const record = seal(
      this.#dataKey,
      { cameraId: this.name.cameraId, object: this.key, index: this.#fragments.length + 1, kind: 'trailer' },
      encodeTrailer({ fragments: this.#fragments.length, endMs: this.#endMs, reason }),
    );
    await writeAll(this.#handle, record, this.#bytes);
    await this.#handle.datasync();
    await this.#handle.close();
    this.#bytes += record.length;
    const ready = this.#file.replace(/\.part$/, '.seg');
    await fs.rename(this.#file, ready);
    await syncDirectory(path.dirname(ready));
    return { file: ready, entry: segmentEntry(this.key, this.#header, this.#endMs, this.#bytes, this.#init, this.#fragments, reason) };
  }

  /**
   * After a failed write (disk full, …): cuts off the torn record, if any, and finishes the segment
   * with the fragments that were durable, so they reach S3 without waiting for a restart.
   * Undefined: it had no fragment and is removed. Throws when even the trailer cannot be written
   * (call it again once the disk has room).
   */
  async salvage(): Promise<FinishedSegment | undefined> {
    if (this.#fragments.length === 0) {
      await this.discard();
      return undefined;
    }
    await this.#handle.truncate(this.#bytes);
    this.#finished = false;
    return this.finish('interrupted');
  }

  /** A segment without any fragment is worth nothing: remove it instead of finishing it. */
  async discard(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    await this.#handle.close().catch(() => undefined);
    await fs.rm(this.#file, { force: true });
  }
}


/**
 * One buffer for every fragment's plaintext (header + moof + mdat), reused: it is sealed the moment
 * it is written, before anything else runs. A fresh ~130 KB array per camera and second was most
 * of what made V8 collect its whole heap several times a second at 150 cameras ("external memory
 * pressure").
 */
let scratch = new Uint8Array(512 * 1024);
const encoder = new TextEncoder();

/** The record plaintext of a fragment (what `encodeWithHeader` makes), written into `scratch`. */
function fragmentPlaintext(fields: FragmentHeader, sequenceNumber: number, runs: readonly TrackRun[]): Uint8Array {
  const json = encoder.encode(JSON.stringify(fields));
  const prefix = 4 + json.length;
  let plaintext: Uint8Array | undefined;
  mediaFragment(sequenceNumber, runs, (size) => {
    if (scratch.length < prefix + size) scratch = new Uint8Array(Math.max(prefix + size, scratch.length * 2));
    plaintext = scratch.subarray(0, prefix + size);
    return scratch.subarray(prefix, prefix + size);
  });
  new DataView(scratch.buffer).setUint32(0, json.length);
  scratch.set(json, 4);
  return plaintext!;
}

/**
 * Writes all of `bytes` at `position`. A file system filling up accepts part of a write without an
 * error; the rest is written again, so that the error comes and no torn record passes for whole.
 */
async function writeAll(handle: fs.FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    if (bytesWritten === 0) throw Object.assign(new Error('the spool accepted no bytes (disk full?)'), { code: 'ENOSPC' });
    done += bytesWritten;
  }
}

/** Writes the parts one after another at `position` (one writev); a short write goes on as writeAll. */
async function writeAllParts(handle: fs.FileHandle, parts: Uint8Array[], position: number): Promise<void> {
  const total = parts.reduce((n, part) => n + part.length, 0);
  const { bytesWritten } = await handle.writev(parts, position);
  if (bytesWritten === total) return;
  const whole = Buffer.concat(parts);
  await writeAll(handle, whole.subarray(bytesWritten), position + bytesWritten);
}

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
