// Answers of the timeline and playback routes: what is recorded in a range, and the playback
// window a player plays (its HLS playlist and the entries that map media time to the wall clock).
import { z } from 'zod';
import { epochMs, GAP_REASONS } from './common.ts';

const Span = z.object({ fromMs: epochMs, toMs: epochMs }).describe('Recorded without a break (segments closer than 250 ms are one span)');
const Gap = z.object({ fromMs: epochMs, toMs: epochMs, reason: z.enum(GAP_REASONS).describe('Why nothing was recorded') });
export const TIMELINE_EVENTS = ['camera-online', 'camera-offline', 'resolution-change', 'hold'] as const;
export const Timeline = z.object({
  cameraId: z.string(),
  from: epochMs.describe('The range asked for, as ms since the epoch'),
  to: epochMs,
  spans: z.array(Span).describe('Recorded spans inside the range, oldest first, clipped to it'),
  gaps: z.array(Gap).describe('Gaps overlapping the range, with their reasons (not clipped)'),
  events: z
    .array(z.object({ atMs: epochMs, kind: z.enum(TIMELINE_EVENTS), detail: z.string().optional().describe('resolution-change: the new size (1920x1080); hold: the hold\'s reason') }))
    .describe('Oldest first. `hold` (a legal hold overlapping the range) is shown to organisation administrators only'),
  liveEdgeMs: epochMs.optional().describe('The newest recorded instant, ms since the epoch (uploaded or still on the spool); absent when nothing is recorded near the range'),
});
/** A hole in a playback window: a recorder's gap reason, or "unrecorded". */
export const WindowGap = z.object({ fromMs: epochMs, toMs: epochMs, reason: z.string().describe(`One of ${GAP_REASONS.map((r) => `"${r}"`).join(', ')}, or "unrecorded" (no reason is known)`) });
export const WindowView = z.object({
  requestedMs: epochMs.describe('The time asked for (ms since the epoch)'),
  startMs: epochMs.describe('Where playback really starts (ms since the epoch): the keyframe at or before the time asked for, or the next recording after a gap'),
  endMs: epochMs.describe('The end of this window (ms since the epoch): at most an hour of recording after startMs, or `to`'),
  gap: WindowGap.optional().describe('The time asked for fell in a gap: playback starts at the next recording, after it'),
  live: z.boolean().describe('The window reaches the live edge: its playlist keeps growing (no #EXT-X-ENDLIST)'),
  gaps: z.array(WindowGap).describe('Holes between the entries inside the window (the player jumps over them)'),
  entries: z
    .array(z.object({ wallMs: epochMs.describe('When the entry was recorded (ms since the epoch)'), mediaS: z.number().describe('Where the entry starts on the playlist\'s media timeline, in seconds'), durS: z.number().describe('Its duration in seconds') }))
    .describe('The playlist\'s entries in order: map a player\'s media time to the wall clock with them'),
});
export const PlaybackStarted = WindowView.extend({
  url: z.string().describe('The HLS playlist (fMP4) of the window: hand it to the player as it is'),
  token: z.string().describe('The playback token inside url; it opens this window of this camera only'),
  expiresAt: z.iso.datetime().describe('When the token expires (an hour at most; sooner when a share link it came from expires sooner)'),
});
