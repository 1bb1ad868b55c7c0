// Answers of /api/orgs: organisations (tenants) with their scheduled contract end, and the reports
// of contract ends carried out.
import { z } from 'zod';
import { PublicUser } from './auth.ts';
import { isoTime } from './common.ts';

export const OrgDeletion = z
  .object({
    at: isoTime.describe('When everything of the organisation is deleted'),
    requestedAt: isoTime,
    requestedBy: z.string().describe('The id of the operator who scheduled it'),
  })
  .describe('A scheduled contract end');
export const OrgView = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: isoTime,
  deletion: OrgDeletion.nullable().describe('The scheduled contract end, or null'),
  users: z.number().int().describe('How many user accounts it has'),
  cameras: z.number().int().describe('How many cameras it has'),
});
export const OrgAnswer = z.object({ org: OrgView });
export const OrgList = z.object({ orgs: z.array(OrgView) });
export const CurrentOrg = z.object({ org: z.object({ id: z.string(), name: z.string(), deletion: OrgDeletion.nullable().describe('The scheduled contract end, or null: its users see a warning until then') }) });
export const DeletionReportView = z.object({
  orgId: z.string(),
  orgName: z.string(),
  scheduledFor: isoTime.describe('The contract end it was scheduled for'),
  completedAt: isoTime,
  users: z.number().int().describe('User accounts deleted'),
  cameras: z.number().int().describe('Cameras deleted'),
  objects: z.number().int().describe('Objects removed from the recording storage (segments, indexes, exports)'),
  bytes: z.number().int().describe('Bytes removed from the recording storage'),
  errors: z.array(z.string()).describe('What could not be deleted (empty when the deletion completed)'),
});
export const DeletionReports = z.object({ reports: z.array(DeletionReportView) });
export const CreatedOrg = z.object({ org: OrgView, admin: PublicUser.describe('The organisation\'s first administrator') });
