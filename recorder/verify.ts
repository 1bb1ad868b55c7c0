// `mimamori verify`: re-reads a camera's objects for a time range, opens every record of every
// segment, and reports what fails to open and where the recording has holes.

import { hoursBetween, parseSegmentKey, segmentPrefix } from './objects.ts';
import { readSegment, SegmentError } from './reader.ts';
import type { GapEntry, RecordingIndex, SegmentEntry } from './RecordingIndex.ts';
import type { ObjectStore } from './store/index.ts';

export interface VerifyFailure {
  key: string;
  code: string;
  message: string;
}

export interface VerifyReport {
  cameraId: string;
  fromMs: number;
  toMs: number;
  objects: number;
  fragments: number;
  bytes: number;
  /** Seconds of video that opened cleanly within the range. */
  recordedMs: number;
  failures: VerifyFailure[];
  /** Holes in the range: recorded gaps with their reason, plus any stretch no good segment covers. */
  gaps: (GapEntry | { fromMs: number; toMs: number; reason: 'unrecorded' })[];
}

const GAP_MIN_MS = 100;

export async function verifyRange(options: {
  store: ObjectStore;
  dataKey: Uint8Array | undefined;
  cameraId: string;
  fromMs: number;
  toMs: number;
  index?: RecordingIndex;
}): Promise<VerifyReport> {
  const { store, cameraId, fromMs, toMs } = options;
  const report: VerifyReport = { cameraId, fromMs, toMs, objects: 0, fragments: 0, bytes: 0, recordedMs: 0, failures: [], gaps: [] };
  const good: SegmentEntry[] = [];
  for (const hourMs of hoursBetween(fromMs - 3_600_000, toMs)) {
    for await (const o of store.list(segmentPrefix(cameraId, hourMs))) {
      const name = parseSegmentKey(o.key);
      if (!name || name.startMs >= toMs) continue;
      report.objects += 1;
      report.bytes += o.size;
      if (!options.dataKey) {
        report.failures.push({ key: o.key, code: 'no_data_key', message: 'this camera has no data key in the metadata store: restore the metadata backup' });
        continue;
      }
      try {
        const segment = readSegment(options.dataKey, o.key, await store.get(o.key));
        if (segment.entry.endMs <= fromMs) {
          report.objects -= 1;
          report.bytes -= o.size;
          continue;
        }
        report.fragments += segment.fragments.length;
        good.push(segment.entry);
      } catch (error) {
        const code = error instanceof SegmentError ? error.code : 'unreadable';
        report.failures.push({ key: o.key, code, message: (error as Error).message });
      }
    }
  }
  good.sort((a, b) => a.startMs - b.startMs);
  const recorded = options.index ? await options.index.query(cameraId, fromMs, toMs).catch(() => undefined) : undefined;
  const known = recorded?.gaps ?? [];
  let cursor = fromMs;
  for (const s of good) {
    const start = Math.max(s.startMs, fromMs);
    const end = Math.min(s.endMs, toMs);
    if (start - cursor > GAP_MIN_MS) report.gaps.push(describeHole(cursor, start, known));
    if (end > cursor) {
      report.recordedMs += end - Math.max(cursor, start);
      cursor = end;
    }
  }
  if (toMs - cursor > GAP_MIN_MS) report.gaps.push(describeHole(cursor, toMs, known));
  return report;
}

function describeHole(fromMs: number, toMs: number, known: readonly GapEntry[]): GapEntry | { fromMs: number; toMs: number; reason: 'unrecorded' } {
  const match = known.find((g) => g.fromMs < toMs && g.toMs > fromMs);
  return { fromMs, toMs, reason: match?.reason ?? 'unrecorded' };
}
