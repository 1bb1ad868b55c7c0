// Answers of /api/exports: clip export jobs, their progress and, when done, a download link.
import { z } from 'zod';
import { epochMs } from './common.ts';

export const EXPORT_STATUSES = ['queued', 'running', 'done', 'failed'] as const;
export const ExportView = z.object({
  id: z.string(),
  cameraId: z.string(),
  fromMs: epochMs.describe('The range asked for: from (ms since the epoch)'),
  toMs: epochMs.describe('The range asked for: to (ms since the epoch)'),
  name: z.string().describe('The MP4\'s file name'),
  status: z.enum(EXPORT_STATUSES),
  progress: z.number().min(0).max(1).describe('0 to 1'),
  createdAt: z.iso.datetime(),
  createdBy: z.string().describe('Who asked for it: u:<userId>, s:<shareId> or a:<apiKeyId>'),
  bytes: z.number().int().optional().describe('The MP4\'s size in bytes (when done)'),
  error: z.object({ code: z.string(), message: z.string() }).optional().describe('Why it failed (status failed)'),
  startMs: epochMs.optional().describe('The wall-clock time of the MP4\'s first instant (when done)'),
  durationMs: z.number().int().optional().describe('How long the MP4 plays, in ms (when done)'),
  gaps: z.array(z.object({ fromMs: epochMs, toMs: epochMs, reason: z.string() })).optional().describe('Holes in the recording inside the range: the MP4 holds the last frame across them'),
  downloadUrl: z.string().optional().describe('When done: a link that downloads the MP4 without headers, valid for an hour (ask again for a fresh one)'),
});
export const OneExport = z.object({ export: ExportView });
export const ExportList = z.object({ exports: z.array(ExportView) });
