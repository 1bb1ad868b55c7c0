// Retention: recordings older than a camera's retention are deleted, objects and index entries,
// except where a legal hold covers them. Deleting all of a camera's data (contract end) removes
// every object and reports what went.

import { hourStart, indexPrefix, parseIndexKey, parseSegmentKey, segmentPrefix, exportPrefix } from './objects.ts';
import type { RecordingIndex } from './RecordingIndex.ts';
import type { ObjectStore } from './store/index.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export interface Hold {
  fromMs: number;
  toMs: number;
}

export interface SweepResult {
  cameraId: string;
  deletedObjects: number;
  deletedBytes: number;
  /** Segments kept past retention because a legal hold covers them. */
  held: number;
}

function overlapsHold(startMs: number, endMs: number, holds: readonly Hold[]): boolean {
  return holds.some((h) => h.fromMs < endMs && h.toMs > startMs);
}

/**
 * Deletes a camera's segments that ended before `now - retentionDays`, hour by hour from the
 * oldest index object, skipping held ones. Unindexed segment objects of those hours go too.
 */
export async function sweepCamera(options: {
  cameraId: string;
  retentionDays: number;
  holds: readonly Hold[];
  index: RecordingIndex;
  store: ObjectStore;
  nowMs: number;
}): Promise<SweepResult> {
  const { cameraId, index, store, holds } = options;
  const cutoff = options.nowMs - options.retentionDays * DAY_MS;
  const result: SweepResult = { cameraId, deletedObjects: 0, deletedBytes: 0, held: 0 };
  const hours = new Set<number>(await index.localHours(cameraId));
  for await (const o of store.list(indexPrefix(cameraId))) {
    const parsed = parseIndexKey(o.key);
    if (parsed) hours.add(parsed.hourMs);
  }
  for (const hourMs of [...hours].sort((a, b) => a - b)) {
    if (hourMs >= hourStart(cutoff)) break;
    const h = await index.hour(cameraId, hourMs);
    const expired = new Set<string>();
    let bytes = 0;
    for (const s of h.segments) {
      if (s.endMs > cutoff) continue;
      if (overlapsHold(s.startMs, s.endMs, holds)) {
        result.held += 1;
        continue;
      }
      expired.add(s.key);
      bytes += s.bytes;
    }
    // Objects the index does not know (should not happen; never leave them behind).
    for await (const o of store.list(segmentPrefix(cameraId, hourMs))) {
      const name = parseSegmentKey(o.key);
      if (!name || h.segments.some((s) => s.key === o.key)) continue;
      if (name.startMs + HOUR_MS < cutoff && !overlapsHold(name.startMs, name.startMs + HOUR_MS, holds)) {
        expired.add(o.key);
        bytes += o.size;
      }
    }
    // Other nodes' index objects of the hour (one writer each; a dead node never sweeps its own):
    // gone once every segment they list is past retention and unheld.
    for (const other of await index.otherWriters(cameraId, hourMs)) {
      const done = other.index.segments.every((s) => s.endMs <= cutoff && !overlapsHold(s.startMs, s.endMs, holds));
      if (done && hourMs + HOUR_MS <= cutoff) result.deletedObjects += await store.delete([other.key]);
    }
    if (expired.size === 0) continue;
    result.deletedObjects += await store.delete([...expired]);
    result.deletedBytes += bytes;
    const remaining = h.segments.filter((s) => !expired.has(s.key));
    if (remaining.length === 0 && hourMs + HOUR_MS <= cutoff) {
      await index.dropHour(cameraId, hourMs);
      result.deletedObjects += 1;
    } else {
      await index.removeSegments(cameraId, hourMs, expired);
    }
  }
  return result;
}

export interface DeletionReport {
  cameraId: string;
  objects: number;
  bytes: number;
  /** Segments still on the local spool that never reached S3. */
  spoolFiles: number;
  firstMs?: number;
  lastMs?: number;
}

/** Every object of a camera (segments and index), whatever its age or hold. */
export async function deleteAllObjects(store: ObjectStore, cameraId: string): Promise<Omit<DeletionReport, 'spoolFiles'>> {
  const report: Omit<DeletionReport, 'spoolFiles'> = { cameraId, objects: 0, bytes: 0 };
  for (const prefix of [segmentPrefix(cameraId), indexPrefix(cameraId), exportPrefix(cameraId)]) {
    let batch: string[] = [];
    for await (const o of store.list(prefix)) {
      batch.push(o.key);
      report.bytes += o.size;
      const name = parseSegmentKey(o.key);
      if (name) {
        report.firstMs = Math.min(report.firstMs ?? name.startMs, name.startMs);
        report.lastMs = Math.max(report.lastMs ?? name.startMs, name.startMs);
      }
      if (batch.length === 1000) {
        report.objects += await store.delete(batch);
        batch = [];
      }
    }
    if (batch.length > 0) report.objects += await store.delete(batch);
  }
  return report;
}

