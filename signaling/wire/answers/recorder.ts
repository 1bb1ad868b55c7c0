// Answers of /api/recorder: recording alerts, the recorder's status, and master-key rotation.
import { z } from 'zod';

const count = z.number().int().min(0);

export const RecorderAlert = z.object({
  cameraId: z.string(),
  kind: z.enum(['not_recording', 'disk_full']).describe('not_recording: the camera is live and set to record, but nothing has recorded it for a while; disk_full: its spool writes fail for lack of space (cleared by the next write that succeeds)'),
  sinceMs: z.number().int().describe('Since when, ms since the epoch'),
});
export const RecorderAlerts = z.object({ alerts: z.array(RecorderAlert) });
export const RecorderState = z.object({
  cameras: z.array(z.object({ cameraId: z.string(), recording: z.boolean().describe('A session is writing a segment now'), session: z.string().optional().describe('The current recording session\'s stream id') })).describe('Cameras this node records (or tries to)'),
  spoolBytes: count.describe('Bytes on the spool disk (recorded, not yet uploaded, or being written)'),
  upload: z.object({
    queued: count.describe('Segments waiting for upload'),
    queuedBytes: count,
    uploaded: count.describe('Segments uploaded since the start'),
    errors: count.describe('Failed upload attempts since the start (each is retried)'),
    droppedSegments: count.describe('Segments dropped because the spool exceeded its quota (each leaves a spool-overflow gap)'),
    lastLagMs: z.number().describe('How long the last uploaded segment waited after it was finished, in ms'),
    oldestWaitingMs: z.number().optional().describe('How long the oldest waiting segment has waited, in ms (when any waits)'),
  }),
  fragments: count.describe('Fragments written since the start'),
  fragmentDurableMsP50: z.number().optional().describe('Median time from a fragment\'s capture to its being safe on disk, in ms (absent before the first)'),
  fragmentDurableMsP99: z.number().optional().describe('99th percentile of the same, in ms'),
  gaps: count.describe('Gaps recorded since the start'),
  writeErrors: count.describe('Spool write failures since the start'),
  store: z.string().describe('The object storage, described (endpoint and bucket; no credentials)'),
  alerts: z.array(RecorderAlert).describe('Every organisation\'s alerts'),
});
export const MasterKeyRotated = z.object({
  masterKeyId: z.string().describe('The new master key\'s id'),
  rewrapped: count.describe('Data keys re-wrapped with it (one per camera)'),
  retired: z.array(z.string()).describe('Ids of master keys no longer used, removed from the key file'),
});
