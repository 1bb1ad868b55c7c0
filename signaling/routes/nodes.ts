import { Hono } from 'hono';
import { z } from 'zod';
import { DrainError } from '../cluster/index.ts';
import type { AppEnv, Deps } from '../context.ts';
import { ApiError } from '../errors.ts';
import { audit, requirePlatform, requireUser } from '../middleware.ts';
import { NodeDraining } from '../wire/answers/index.ts';
import { describe, reply, validate } from '../wire/index.ts';

const nodeParam = z.object({ id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'not a node id') });
const drainBody = z.object({ reason: z.string().trim().min(1).max(200).optional().describe('Why, for the log and the audit row (default: "requested by an operator")') }).strict();

/**
 * The nodes of a cluster, for the service's operators: drain one before maintenance (it leaves
 * the load balancer, moves its cameras one at a time, sends its viewers elsewhere, then stops).
 */
export function nodeRoutes(deps: Deps) {
  return new Hono<AppEnv>().use(requireUser(deps), requirePlatform).post('/:id/drain', describe({
    summary: 'Drain a node',
    description: 'Asks a node (this one or another live node of the cluster) to leave before maintenance: it fails its readiness check so the load balancer stops sending to it, moves its cameras to other nodes one at a time, sends its viewers elsewhere, then stops. The answer comes once the node has taken the request; follow the drain with GET /api/sfu. The body may be left out. Audited as `node.drain`.',
    tag: 'Service and cluster', auth: ['user'],
    access: 'an operator of the service (platform administrator)',
    answer: { status: 202, description: 'The node took the request and is draining', schema: NodeDraining, example: { node: 'node-b', draining: true } },
    errors: ['session_revoked', 'api_key_not_allowed', 'forbidden', 'bad_request', 'not_clustered', 'node_not_found', 'node_unreachable'],
    example: { reason: 'kernel update' },
  }), validate('param', nodeParam), validate('json', drainBody.default({})), async (c) => {
    const { id } = c.req.valid('param');
    const reason = c.req.valid('json').reason ?? 'requested by an operator';
    if (!deps.drain) throw new ApiError(409, 'not_clustered', 'this service runs as a single node (no MIMAMORI_INTERNAL_URL): there is no other node to move cameras to; stop it with SIGTERM');
    try {
      await deps.drain.ask(id, reason);
    } catch (error) {
      // An unknown node: DrainError answers 404 node_not_found itself (errors/CodedError).
      if (error instanceof DrainError) throw error;
      throw new ApiError(503, 'node_unreachable', `node ${id} did not take the request (${(error as Error).message}); see GET /api/sfu`);
    }
    await audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'node.drain', outcome: 'ok', detail: { node: id, reason } });
    return reply(c, NodeDraining, { node: id, draining: true }, 202);
  });
}
