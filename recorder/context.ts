// What every part of the recorder shares, and its metrics.

import type { Logger } from 'pino';
import type { DataKeys } from './DataKeys.ts';
import type { PendingSegments } from './PendingSegments.ts';
import type { GapReason, RecordingIndex } from './RecordingIndex.ts';
import type { Spool } from './Spool.ts';
import type { Uploader } from './Uploader.ts';
import type { Holder } from './records.ts';

export interface RecorderSettings {
  segmentSeconds: number;
  fragmentMs: number;
  spoolQuotaBytes: number;
  retentionDays: number;
}

export interface RecorderContext {
  settings: RecorderSettings;
  keys: DataKeys;
  spool: Spool;
  index: RecordingIndex;
  uploader: Uploader;
  metrics: RecorderMetrics;
  /** Spool segments not in the index yet (live edge of playback). */
  pending: PendingSegments;
  log: Logger;
  /** A gap was written to the index (the recorder's 'gap' event). */
  gapRecorded?: (cameraId: string, gap: { fromMs: number; toMs: number; reason: GapReason }) => void;
  /** A node of a cluster (RecorderOptions.cluster). */
  cluster?: { holder: (cameraId: string) => Holder | undefined; arrival: (cameraId: string) => { fromNode: string } | undefined; wasDeadSince: (nodeId: string, sinceMs: number) => boolean; handover: (fromNode: string, cameraId: string, epoch: number, startMs: number) => Promise<boolean> };
}

/** Counters and the fragment durability figures (a rolling window for percentiles). */
export class RecorderMetrics {
  fragments = 0;
  fragmentBytes = 0;
  gaps = 0;
  /** Seconds of the holes recorded between segments, by reason (written down, not only seen). */
  readonly gapSeconds = new Map<GapReason, number>();
  readonly gapCount = new Map<GapReason, number>();
  /** Cameras that moved here on request and were handed over without a gap (a drain elsewhere). */
  handovers = 0;
  writeErrors = 0;
  droppedFrames = 0;
  garbagePackets = 0;
  readonly #durable: number[] = [];
  static readonly WINDOW = 20_000;

  fragmentDurable(latencyMs: number, bytes: number): void {
    this.fragments += 1;
    this.fragmentBytes += bytes;
    this.#durable.push(latencyMs);
    if (this.#durable.length > RecorderMetrics.WINDOW) this.#durable.splice(0, this.#durable.length - RecorderMetrics.WINDOW);
  }

  /** Adds a finished session's counters. */
  absorb(stats: { video?: { droppedFrames: number; garbage: number }; audio?: { garbage: number } }): void {
    this.droppedFrames += stats.video?.droppedFrames ?? 0;
    this.garbagePackets += (stats.video?.garbage ?? 0) + (stats.audio?.garbage ?? 0);
  }

  /** p-th percentile (0–100) of the time from a fragment closing to its fsync, in ms. */
  durablePercentile(p: number): number | undefined {
    if (this.#durable.length === 0) return undefined;
    const sorted = [...this.#durable].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  }

  resetDurable(): void {
    this.#durable.length = 0;
  }
}
