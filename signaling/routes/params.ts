// Request parameters shared by the routers: ids, instants and ranges, validated the same way everywhere.
import { z } from 'zod';

export const ID = /^[A-Za-z0-9_-]{1,64}$/;
export const idParam = z.object({ id: z.string().regex(ID, 'not a camera id') });

/** Times as ISO 8601 with a zone (UTC stored) or ms since the epoch. */
export const instant = z.union([
  z.coerce.number().int().min(0).max(8.64e15),
  z.string().datetime({ offset: true }).transform((s) => Date.parse(s)),
]);

/** At most 31 days at once: a month of timeline, or of segments. */
export const rangeQuery = z
  .object({ from: instant, to: instant })
  .refine((r) => r.to > r.from, 'to must be after from')
  .refine((r) => r.to - r.from <= 31 * 86_400_000, 'ask for at most 31 days at once');
