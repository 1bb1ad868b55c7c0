// Answers of /healthz and /readyz, for load balancers.
import { z } from 'zod';

export const Alive = z.object({ ok: z.literal(true) });
/** What /readyz checks (signaling/monitoring.ts's CheckName; signaling/routes/health.ts checks they match). */
export const READINESS_CHECKS = ['workers', 's3', 'disk', 'spool', 'clock', 'turn', 'database', 'drain'] as const;
export type ReadinessCheckName = (typeof READINESS_CHECKS)[number];
const ReadinessCheck = z.object({ ok: z.boolean(), message: z.string().optional().describe('What is wrong and what to do (on failure only)') });
export const Readiness = z.object({
  ready: z.boolean(),
  checks: z.object(Object.fromEntries(READINESS_CHECKS.map((name) => [name, ReadinessCheck])) as Record<ReadinessCheckName, typeof ReadinessCheck>),
  degraded: z.array(z.enum(READINESS_CHECKS)).optional().describe('Checks that fail but leave the node ready'),
  failed: z.array(z.enum(READINESS_CHECKS)).optional().describe('Checks that made the node not ready'),
});
