import { Hono } from 'hono';
import type { AppEnv, Deps } from '../context.ts';
import { requirePlatform, requireUser } from '../middleware.ts';

/**
 * Media-server state for the service's operators (it spans every organisation): the nodes of the
 * cluster (state, load, silence), and this node's workers, and per camera its routers and viewers.
 */
export function sfuRoutes(deps: Deps) {
  return new Hono<AppEnv>().use(requireUser(deps), requirePlatform).get('/', (c) =>
    c.json({
      node: deps.cluster.nodeId,
      nodes: deps.cluster.nodes().map((n) => ({
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
