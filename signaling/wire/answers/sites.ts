// Answers of /api/sites: the camera groups as the tree people navigate by (a site, its floors),
// with how many of the caller's cameras are in each and in what state.
import { z } from 'zod';

export const SiteCounts = z.object({
  cameras: z.number().int().describe('Distinct cameras the caller may see here and in every group below (a camera in several groups counts once)'),
  live: z.number().int().describe('Of those, how many are live'),
  offline: z.number().int().describe('…offline'),
  notRecording: z.number().int().describe('…publishing but not recorded (alert)'),
});
export const SiteView = z.object({
  id: z.string().describe('The camera group'),
  name: z.string(),
  parentId: z.string().nullable().describe('The group it sits under; null at the top'),
  counts: SiteCounts,
});
export const SiteTree = z.object({
  sites: z.array(SiteView).describe('The groups in name order (build the tree with parentId)'),
  ungrouped: SiteCounts.describe('Cameras in no group'),
  all: SiteCounts.describe('Every camera the caller may see'),
});
