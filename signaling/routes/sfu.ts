import { Hono } from 'hono';
import type { z } from 'zod';
import type { AppEnv, Deps } from '../context.ts';
import { requirePlatform, requireUser } from '../middleware.ts';
import { SfuState, type ClusterNodeView } from '../wire/answers/index.ts';
import { describe, reply } from '../wire/index.ts';

type SfuNode = z.input<typeof ClusterNodeView>;

/**
 * Media-server state for the service's operators (it spans every organisation): the nodes of the
 * cluster (state, load, silence), and this node's workers, and per camera its routers and viewers.
 */
export function sfuRoutes(deps: Deps) {
  return new Hono<AppEnv>().use(requireUser(deps), requirePlatform).get('/', describe({
    summary: 'Get the media servers\' state',
    description: 'The nodes of the cluster (state, load, silence), and of the node that answers: its mediasoup workers and, per camera with a room here, its routers and viewers. Spans every organisation.',
    tag: 'Service and cluster', auth: ['user'],
    access: 'an operator of the service (platform administrator)',
    answer: {
      description: 'The state',
      schema: SfuState,
      example: {
        node: 'node-a',
        nodes: [
          { id: 'node-a', self: true, state: 'up', silentMs: 0, release: '1.14.0', schemaVersion: 12, protocol: 3, startedAt: '2026-12-05T00:12:40.118Z', cameras: 42, viewers: 17, recording: 40, owns: 42 },
          { id: 'node-b', self: false, state: 'draining', silentMs: 640, release: '1.14.0', schemaVersion: 12, protocol: 3, startedAt: '2026-12-04T22:03:05.771Z', cameras: 3, viewers: 1, recording: 3, owns: 3 },
        ],
        workers: [{ index: 0, pid: 48211, routers: 23 }, { index: 1, pid: 48212, routers: 22 }],
        cameras: [{ id: 'cam_7QxV2mR9kLp4', live: true, relayed: false, producers: 2, routers: 1, workers: 1, viewers: 3 }],
        connections: 61,
      },
    },
    errors: ['session_revoked', 'api_key_not_allowed', 'forbidden'],
  }), (c) =>
    reply(c, SfuState, {
      node: deps.cluster.nodeId,
      nodes: deps.cluster.nodes().map((n): SfuNode => ({
        id: n.id,
        self: n.self,
        state: n.alive ? n.state : n.state === 'stopped' ? 'stopped' : 'dead',
        silentMs: n.silentMs,
        release: n.release,
        ...(n.schemaVersion !== undefined ? { schemaVersion: n.schemaVersion } : {}),
        ...(n.protocol !== undefined ? { protocol: n.protocol } : {}),
        startedAt: new Date(n.startedAtMs).toISOString(),
        cameras: n.load.cameras,
        viewers: n.load.viewers,
        recording: n.load.recording,
        owns: deps.store.camerasOwnedBy(n.id).length,
      })),
      workers: deps.sfu.workers.map((w) => ({ index: w.index, pid: w.worker.pid, routers: w.routers })),
      cameras: [...deps.sfu.rooms.values()].map((room) => ({
        id: room.cameraId,
        live: room.live,
        // Its media comes from the node that holds it (a relay for viewers here).
        relayed: room.relayed,
        producers: room.producers.size,
        routers: room.routerCount,
        workers: room.workerCount,
        viewers: room.viewerCount,
      })),
      connections: deps.hub.size,
    }),
  );
}
