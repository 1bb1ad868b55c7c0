// Answers of /api/groups: camera groups (a site, a floor) a grant can cover at once, nested as a tree.
import { z } from 'zod';

export const GroupView = z
  .object({
    id: z.string(),
    orgId: z.string(),
    name: z.string(),
    cameraIds: z.array(z.string()).describe('The cameras in the group itself (its subgroups list their own; a grant on the group covers both)'),
    parentId: z.string().nullable().describe('The group it sits under (a floor under its site); null at the top'),
    createdAt: z.string().describe('ISO 8601, UTC'),
  })
  .describe('Cameras named together (a site, a floor): a grant on the group covers them all');
export const GroupList = z.object({ groups: z.array(GroupView) });
export const GroupAnswer = z.object({ group: GroupView });
