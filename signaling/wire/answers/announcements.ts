// Answers of /api/announcements: the notices a banner shows (maintenance, incidents, a contract end).
import { z } from 'zod';
import { isoTime } from './common.ts';

export const NoticeView = z.object({
  id: z.string().describe('The notice\'s id; "contract-end" for the generated contract-end notice'),
  kind: z.enum(['maintenance', 'incident', 'info', 'contract_end']).describe('`contract_end` is not posted by anyone: it is shown while the organisation\'s contract end is scheduled'),
  message: z.string().describe('The text to show (empty for `contract_end`: the client words it, with `endsAt` as the deletion date)'),
  startsAt: isoTime.describe('Shown from this time'),
  endsAt: isoTime.describe('Shown until this time (for `contract_end`: when the organisation is deleted)'),
  everyone: z.boolean().describe('Posted by the service\'s operators to every organisation'),
});
export const NoticeList = z.object({ announcements: z.array(NoticeView) });
export const NoticeAnswer = z.object({ announcement: NoticeView });
