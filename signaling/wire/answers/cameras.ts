// Answers of /api/cameras: the camera as a caller sees it, its secret and publish tokens, its
// recordings, legal holds and grants.
import { z } from 'zod';
import { enumOf, epochMs, GAP_MEANINGS, isoTime, right } from './common.ts';

/** What each state of a camera means (signaling/cameraState.ts computes it; the routes check the two match). */
export const CAMERA_STATE_MEANINGS = {
  live: 'publishing now, and recorded (or set not to record)',
  offline: 'not publishing',
  not_recording: 'publishing and set to record, but nothing has recorded it for a while (the recorder raised an alert: it failed, or its disk is full)',
} as const;
export const cameraStateEnum = enumOf('The camera\'s state as this node sees it', CAMERA_STATE_MEANINGS);

export const CameraView = z.object({
  id: z.string(),
  name: z.string(),
  live: z.boolean().describe('The camera is publishing now'),
  state: cameraStateEnum,
  recording: z.object({
    enabled: z.boolean().describe('Continuous recording is on (the default)'),
    retentionDays: z.number().int().describe('Days recordings are kept (the service default unless set for the camera)'),
  }),
  rights: z.array(right).describe('What the caller may do with this camera'),
  groupIds: z.array(z.string()).describe('The camera groups it belongs to'),
});
export const CameraAnswer = z.object({ camera: CameraView });
export const CameraList = z.object({
  cameras: z.array(CameraView).describe('This page of the cameras that match, in the order asked for'),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
  total: z.number().int().describe('How many cameras match the filters (all pages together)'),
});
const cameraSecret = z.string().describe('The camera secret (256 random bits, base64url): shown only now, kept hashed. The camera trades it for publish tokens; anyone holding it can publish as the camera');
export const CreatedCamera = z.object({ camera: CameraView, secret: cameraSecret });
export const PublishToken = z.object({
  token: z.string().describe('A publish token for this camera (Authorization: Bearer on WHIP or the signaling socket), valid 24 hours'),
  expiresAt: isoTime,
});
export const RotatedSecret = z.object({
  secret: cameraSecret,
  previousSecretValidUntil: isoTime.nullable().describe('Until when the old secret still works (null: it stopped at once)'),
});

const DeletionReport = z.object({
  cameraId: z.string(),
  objects: z.number().int().describe('Objects deleted from the recording storage (segments, indexes, exports)'),
  bytes: z.number().int().describe('Bytes deleted from the recording storage'),
  spoolFiles: z.number().int().describe('Segments still on this node\'s local spool that never reached the storage, deleted too'),
  firstMs: epochMs.optional().describe('Start of the oldest deleted segment, ms since the epoch (absent when there were none)'),
  lastMs: epochMs.optional().describe('Start of the newest deleted segment, ms since the epoch (absent when there were none)'),
});
export const Deleted = z.object({ deleted: DeletionReport });

/** Why a recorded segment ended (the recorder's reasons; signaling/routes/cameras.ts checks they match). */
export const SEGMENT_ENDS = {
  duration: 'it reached its length',
  config: 'the resolution or codec changed',
  interrupted: 'frames were lost, or the camera went silent',
  stopped: 'the recording session ended (the camera left, recording was turned off, the node stopped), or the segment is still being written',
  recovered: 'it was finished after a crash',
  clock: 'the camera\'s clock drifted: a new timeline starts',
} as const;
export const Recordings = z.object({
  cameraId: z.string(),
  from: epochMs.describe('The range asked for, ms since the epoch'),
  to: epochMs.describe('End of the range asked for, ms since the epoch'),
  segments: z.array(
    z.object({
      startMs: epochMs,
      endMs: epochMs,
      fragments: z.number().int().describe('How many fragments (seek points) it holds'),
      video: z.object({ codec: z.string().describe('h264 or vp8'), width: z.number().int(), height: z.number().int() }).optional().describe('Absent for a segment without video'),
      audio: z.object({ codec: z.string().describe('opus') }).optional().describe('Absent for a segment without audio'),
      end: enumOf('Why the segment ended', SEGMENT_ENDS),
    }),
  ).describe('Recorded segments overlapping the range'),
  gaps: z.array(z.object({ fromMs: epochMs, toMs: epochMs, reason: enumOf('Why nothing was recorded', GAP_MEANINGS) })).describe('Holes in the recording overlapping the range'),
});

const HoldView = z.object({
  id: z.string(),
  cameraId: z.string(),
  fromMs: epochMs.describe('Start of the held range, ms since the epoch'),
  toMs: epochMs.describe('End of the held range (exclusive), ms since the epoch'),
  reason: z.string(),
  createdAt: isoTime,
  createdBy: z.string().describe('The id of the administrator who placed it'),
});
export const HoldList = z.object({ holds: z.array(HoldView) });
export const HoldAnswer = z.object({ hold: HoldView });

const GrantView = z.object({
  id: z.string(),
  orgId: z.string(),
  userId: z.string(),
  cameraId: z.string().optional(),
  groupId: z.string().optional(),
  rights: z.array(right),
  createdAt: isoTime,
  createdBy: z.string(),
});
/** PUT /api/cameras/{id}/grants/{userId}: the shorthand for a grant on one camera. */
export const GrantSet = z.object({
  ok: z.literal(true),
  grant: GrantView.optional().describe('The grant as stored; absent when `rights` was empty (the grant was removed)'),
});
