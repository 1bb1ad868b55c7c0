// Answers of /api/shares: share links as their creator sees them, and what anyone holding a
// link sees before and after opening it.
import { z } from 'zod';
import { isoTime } from './common.ts';

export const SHARE_KINDS = ['clip', 'live'] as const;
const kind = z.enum(SHARE_KINDS).describe('`clip`: a time range of recordings; `live`: the camera live');
export const ShareView = z.object({
  id: z.string().describe('The link\'s id: whoever holds it can open the link'),
  cameraId: z.string(),
  kind,
  fromMs: z.number().int().optional().describe('Start of the clip, ms since the epoch (clips only)'),
  toMs: z.number().int().optional().describe('End of the clip, ms since the epoch (clips only)'),
  expiresAt: isoTime.describe('When the link stops working'),
  hasPassword: z.boolean(),
  createdBy: z.string().describe('The id of the user who shared it'),
  createdAt: isoTime,
  revokedAt: isoTime.optional().describe('When it was revoked (revoked links only)'),
  uses: z.number().int().describe('How many times it was opened'),
  url: z.string().describe('The link to give out (path of the web app, the id in its fragment)'),
});
export const ShareAnswer = z.object({ share: ShareView });
export const ShareList = z.object({ shares: z.array(ShareView) });
export const ShareInfo = z.object({
  needsPassword: z.boolean().describe('Send the password to POST /api/shares/{id}/open'),
  kind,
  expiresAt: isoTime.describe('When the link stops working'),
});
export const OpenedShare = z.object({
  token: z.string().describe('A share token (Authorization: Bearer) for this link\'s camera: live view, or playback and download inside the clip'),
  expiresAt: isoTime.describe('When the token expires: at most 1 hour, never after the link; open the link again for a new one'),
  kind,
  camera: z.object({ id: z.string(), name: z.string() }),
  fromMs: z.number().int().optional().describe('Start of the clip, ms since the epoch (clips only)'),
  toMs: z.number().int().optional().describe('End of the clip, ms since the epoch (clips only)'),
  linkExpiresAt: isoTime.describe('When the link itself stops working'),
});
