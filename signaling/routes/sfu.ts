import { Hono } from 'hono';
import type { AppEnv, Deps } from '../context.ts';
import { requirePlatform, requireUser } from '../middleware.ts';

/** Media-server state for the service's operators (it spans every organisation): workers, and per camera its routers and viewers. */
export function sfuRoutes(deps: Deps) {
  return new Hono<AppEnv>().use(requireUser(deps), requirePlatform).get('/', (c) =>
    c.json({
      workers: deps.sfu.workers.map((w) => ({ index: w.index, pid: w.worker.pid, routers: w.routers })),
      cameras: [...deps.sfu.rooms.values()].map((room) => ({
        id: room.cameraId,
        live: room.live,
        producers: room.producers.size,
        routers: room.routerCount,
        workers: room.workerCount,
        viewers: room.viewerCount,
      })),
      connections: deps.hub.size,
    }),
  );
}
