// Answers of /api/layouts: grids people keep (a user's own, or their organisation's, shared with
// everyone in it).
import { z } from 'zod';
import { isoTime } from './common.ts';

export const LAYOUT_SCOPES = ['user', 'organisation'] as const;
export const layoutScope = z.enum(LAYOUT_SCOPES).describe('`user`: the caller\'s own; `organisation`: shared with everyone in the organisation');
export const layoutSize = z.number().int().min(1).max(5).describe('The grid is size × size tiles (1 to 5)');

export const LayoutView = z
  .object({
    id: z.string(),
    name: z.string(),
    scope: layoutScope,
    size: layoutSize,
    cameraIds: z
      .array(z.string().nullable())
      .describe('One entry per tile, row by row (at most size², missing trailing tiles are empty); null: an empty tile, or a camera the caller may not see'),
    editable: z.boolean().describe('Whether the caller may change or delete it (their own; an organisation\'s only for its administrators)'),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .describe('A saved grid of cameras');
export const LayoutList = z.object({ layouts: z.array(LayoutView).describe('The organisation\'s layouts first, then the caller\'s own, each by name') });
export const LayoutAnswer = z.object({ layout: LayoutView });
