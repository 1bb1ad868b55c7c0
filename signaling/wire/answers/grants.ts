// Answers of /api/grants: which rights a user holds on a camera or on every camera of a group.
import { z } from 'zod';
import { right } from './common.ts';

export const GrantView = z
  .object({
    id: z.string(),
    orgId: z.string(),
    userId: z.string().describe('The user who holds the rights'),
    cameraId: z.string().optional().describe('The camera the rights are on (a grant names a camera or a group)'),
    groupId: z.string().optional().describe('The camera group the rights are on: every camera in it, now and later'),
    rights: z.array(right).describe('What the user may do there; a right beyond the user\'s role is not honoured'),
    createdAt: z.string().describe('When the grant was first made (ISO 8601, UTC)'),
    createdBy: z.string().describe('The id of the administrator who first made it'),
  })
  .describe('Rights of one user on one camera, or on every camera of a group');
export const GrantList = z.object({ grants: z.array(GrantView) });
export const GrantAnswer = z.object({ grant: GrantView.nullable().describe('The grant now in force; null when `rights` was empty and the grant was removed (or there was none)') });
