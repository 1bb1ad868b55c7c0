// Answers of GET /api/camera-health: every camera the caller sees, whether it is recording, with
// counts per site (camera group), sorted by what needs attention first.
import { z } from 'zod';
import { right } from './common.ts';

const count = z.number().int().min(0);
const ms = z.number().int().describe('ms since the epoch');

export const HEALTH_STATES = ['live', 'offline', 'not_recording'] as const;
/** What `state=` filters by: a state, or `gaps` (live with gaps in today's recordings). */
export const HEALTH_FILTERS = [...HEALTH_STATES, 'gaps'] as const;

export const CameraHealthView = z.object({
  id: z.string(),
  name: z.string(),
  groupIds: z.array(z.string()).describe('The sites (camera groups) the camera sits in'),
  rights: z.array(right).describe('What the caller may do with this camera (the last frame of an offline camera needs "playback")'),
  state: z.enum(HEALTH_STATES).describe('live: publishing (and recorded, when recording is on); offline: not publishing; not_recording: publishing and set to record, but nothing has recorded it for the alert delay (or its spool disk is full)'),
  sinceMs: ms.optional().describe('offline: since when (the room\'s end if this node saw it, else the end of the latest recording); not_recording: since when'),
  lastSeenMs: ms.optional().describe('When the camera was last seen publishing (now while live), as far as known'),
  video: z.object({ codec: z.string(), width: count, height: count }).optional().describe('The video format of the latest recording (absent before the first)'),
  bitrateKbps: z.number().min(0).optional().describe('What the camera sends now, all tracks, in kbit/s (live cameras held by the answering node; sampled every few seconds)'),
  heldBy: z.string().optional().describe('A cluster: the node that holds the camera when it is not the answering one (its bitrate and lags are known there only)'),
  recording: z.object({
    enabled: z.boolean(),
    spoolLagMs: z.number().min(0).optional().describe('How long ago a fragment of the camera last reached the spool disk (while a session records it on the answering node)'),
    uploadLagMs: z.number().min(0).optional().describe('How long the oldest finished segment of the camera has been waiting for its upload to object storage (absent when none waits)'),
    gapsToday: count.describe('Gaps in the camera\'s recordings since the start of the day (see `dayStart`)'),
    lastRecordedMs: ms.optional().describe('The newest recorded instant (spool included)'),
  }),
});

export const HealthCounts = z.object({
  total: count,
  live: count.describe('Live and recording as asked, no gap today'),
  gaps: count.describe('Live, but with gaps in today\'s recordings'),
  offline: count,
  notRecording: count,
});

export const CameraHealthList = z.object({
  cameras: z.array(CameraHealthView).describe('Needs attention first: not recording, offline, live with gaps today, live; then by name'),
  counts: HealthCounts.describe('Over every camera the caller sees (not only this page, and before the `group` and `state` filters)'),
  sites: z.array(HealthCounts.extend({ groupId: z.string(), name: z.string(), parentId: z.string().optional().describe('The site this one sits under') })).describe('The same counts per site (camera group) the caller sees cameras in; a site counts the cameras of the sites under it too'),
  nextCursor: z.string().optional().describe('Pass as `cursor` for the next page (absent on the last page)'),
  node: z.string().describe('The node that answered: live details (bitrate, spool and upload lag, offline since) are its own'),
  generatedAtMs: ms,
});
