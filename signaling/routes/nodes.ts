import { Hono } from 'hono';
import { z } from 'zod';
import { DrainError } from '../cluster/index.ts';
import type { AppEnv, Deps } from '../context.ts';
import { ApiError } from '../errors.ts';
import { audit, requirePlatform, requireUser } from '../middleware.ts';
import { validate } from '../validate.ts';

const nodeParam = z.object({ id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'not a node id') });
const drainBody = z.object({ reason: z.string().trim().min(1).max(200).optional() }).strict();

/**
 * The nodes of a cluster, for the service's operators: drain one before maintenance (it leaves
 * the load balancer, moves its cameras one at a time, sends its viewers elsewhere, then stops).
 */
export function nodeRoutes(deps: Deps) {
  return new Hono<AppEnv>().use(requireUser(deps), requirePlatform).post('/:id/drain', validate('param', nodeParam), validate('json', drainBody.default({})), async (c) => {
    const { id } = c.req.valid('param');
    const reason = c.req.valid('json').reason ?? 'requested by an operator';
    if (!deps.drain) throw new ApiError(409, 'not_clustered', 'this service runs as a single node (no MIMAMORI_INTERNAL_URL): there is no other node to move cameras to; stop it with SIGTERM');
    try {
      await deps.drain.ask(id, reason);
    } catch (error) {
      if (error instanceof DrainError) throw new ApiError(404, 'node_not_found', error.message);
      throw new ApiError(503, 'node_unreachable', `node ${id} did not take the request (${(error as Error).message}); see GET /api/sfu`);
    }
    await audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'node.drain', outcome: 'ok', detail: { node: id, reason } });
    return c.json({ node: id, draining: true }, 202);
  });
}
