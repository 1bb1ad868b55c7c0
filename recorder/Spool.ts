// The local spool: where a fragment becomes durable the moment it closes, and where finished
// segments wait for S3. Layout: `<dir>/<cameraId>/<key with / as ~>.part` (being written) and
// `.seg` (finished, waiting for upload). After a crash, `recover()` cuts each `.part` file after
// its last whole record, seals a trailer onto it and makes it a `.seg`.

import fs from 'node:fs/promises';
import path from 'node:path';
import { parseSegmentKey } from './objects.ts';
import { decodeWithHeader, encodeTrailer, type FragmentHeader, type SegmentHeader } from './records.ts';
import type { FragmentTuple } from './RecordingIndex.ts';
import { open, scanRecords, seal } from './seal/index.ts';
import { keyOfSpoolFile, syncDirectory, type FinishedSegment } from './SegmentWriter.ts';
import { segmentEntry } from './entries.ts';

export interface RecoveryReport {
  /** `.part` files finished with a trailer. */
  recovered: FinishedSegment[];
  /** `.seg` files found waiting for upload. */
  waiting: string[];
  /** Files removed because nothing in them could be used (no whole init or fragment record). */
  removed: string[];
  /** Bytes cut off torn records. */
  tornBytes: number;
}

export class Spool {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  cameraDir(cameraId: string): string {
    return path.join(this.dir, cameraId);
  }

  /** Finished segments waiting for upload, oldest first (by segment start time). */
  async waiting(): Promise<{ file: string; key: string; cameraId: string; startMs: number; bytes: number }[]> {
    const out: { file: string; key: string; cameraId: string; startMs: number; bytes: number }[] = [];
    for (const cameraId of await readdirOrEmpty(this.dir)) {
      for (const f of await readdirOrEmpty(this.cameraDir(cameraId))) {
        if (!f.endsWith('.seg')) continue;
        const file = path.join(this.cameraDir(cameraId), f);
        const name = parseSegmentKey(keyOfSpoolFile(f));
        if (!name) continue;
        const stat = await fs.stat(file).catch(() => undefined);
        if (stat) out.push({ file, key: keyOfSpoolFile(f), cameraId, startMs: name.startMs, bytes: stat.size });
      }
    }
    return out.sort((a, b) => a.startMs - b.startMs);
  }

  /** Total bytes of everything on the spool (`.part` and `.seg`). */
  async bytes(): Promise<number> {
    let total = 0;
    for (const cameraId of await readdirOrEmpty(this.dir)) {
      for (const f of await readdirOrEmpty(this.cameraDir(cameraId))) {
        const stat = await fs.stat(path.join(this.cameraDir(cameraId), f)).catch(() => undefined);
        total += stat?.size ?? 0;
      }
    }
    return total;
  }

  /** Finishes every `.part` left by a crash. `dataKey` gives a camera's key. */
  async recover(dataKey: (cameraId: string) => Promise<Uint8Array>): Promise<RecoveryReport> {
    const report: RecoveryReport = { recovered: [], waiting: [], removed: [], tornBytes: 0 };
    for (const cameraId of await readdirOrEmpty(this.dir)) {
      const dir = this.cameraDir(cameraId);
      for (const f of await readdirOrEmpty(dir)) {
        const file = path.join(dir, f);
        if (f.endsWith('.seg')) report.waiting.push(file);
        if (!f.endsWith('.part')) continue;
        const finished = await finishTornSegment(file, await dataKey(cameraId), report);
        if (finished) report.recovered.push(finished);
        else report.removed.push(file);
      }
    }
    return report;
  }
}

async function finishTornSegment(file: string, dataKey: Uint8Array, report: RecoveryReport): Promise<FinishedSegment | undefined> {
  const key = keyOfSpoolFile(file);
  const name = parseSegmentKey(key);
  const bytes = new Uint8Array(await fs.readFile(file));
  let usable: ReturnType<typeof scanRecords>['records'] = [];
  try {
    usable = scanRecords(bytes).records;
  } catch {
    usable = [];
  }
  const init = usable[0];
  if (!name || !init || init.kind !== 'init') {
    await fs.rm(file, { force: true });
    return undefined;
  }
  const ctx = { cameraId: name.cameraId, object: key };
  let header: SegmentHeader;
  const tuples: FragmentTuple[] = [];
  let endMs = name.startMs;
  let end = init.offset + init.length;
  try {
    header = decodeWithHeader<SegmentHeader>(open(dataKey, { ...ctx, index: 0, kind: 'init' }, bytes.subarray(init.offset, end))).header;
    for (let i = 1; i < usable.length; i++) {
      const r = usable[i]!;
      if (r.kind !== 'fragment' || r.index !== i) break;
      // A record that does not open (a torn write the length field happened to fit) ends the segment.
      let f: FragmentHeader;
      try {
        f = decodeWithHeader<FragmentHeader>(open(dataKey, { ...ctx, index: i, kind: 'fragment' }, bytes.subarray(r.offset, r.offset + r.length))).header;
      } catch {
        break;
      }
      tuples.push([f.startMs - header.startMs, f.durationMs, f.keyframe ? 1 : 0, r.offset, r.length]);
      endMs = f.startMs + f.durationMs;
      end = r.offset + r.length;
    }
  } catch {
    await fs.rm(file, { force: true });
    return undefined;
  }
  if (tuples.length === 0) {
    await fs.rm(file, { force: true });
    return undefined;
  }
  report.tornBytes += bytes.length - end;
  const trailer = seal(dataKey, { ...ctx, index: tuples.length + 1, kind: 'trailer' }, encodeTrailer({ fragments: tuples.length, endMs, reason: 'recovered' }));
  const handle = await fs.open(file, 'r+');
  try {
    await handle.truncate(end);
    await handle.write(trailer, 0, trailer.length, end);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  const ready = file.replace(/\.part$/, '.seg');
  await fs.rename(file, ready);
  await syncDirectory(path.dirname(ready));
  return { file: ready, entry: segmentEntry(key, header, endMs, end + trailer.length, [init.offset, init.length], tuples, 'recovered') };
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).sort();
  } catch {
    return [];
  }
}
