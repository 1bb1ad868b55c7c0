// The sites tree people navigate by: the camera groups (a site, its floors) with how many of the
// caller's cameras are in each, counting the groups below it, and in what state.
import { Hono } from 'hono';
import { z } from 'zod';
import { CameraDirectory } from '../cameraDirectory.ts';
import { CameraStateReader, type CameraState } from '../cameraState.ts';
import type { AppEnv, Deps } from '../context.ts';
import { requireUserOrKey } from '../middleware.ts';
import type { Monitoring } from '../monitoring.ts';
import { SiteTree } from '../wire/answers/index.ts';
import { describe, reply } from '../wire/index.ts';

type Counts = z.infer<typeof SiteTree>['all'];

const tag = 'Cameras';
const CALLER_ERRORS = ['session_revoked', 'forbidden', 'invalid_api_key', 'api_key_revoked', 'api_key_expired', 'rate_limited'] as const;
const exampleCounts = (cameras: number, offline: number, notRecording: number) => ({ cameras, live: cameras - offline - notRecording, offline, notRecording });

/** `monitoring`: the recorder's alerts, which decide whether a live camera is `not_recording`. */
export function siteRoutes(deps: Deps, monitoring: Pick<Monitoring, 'alerts'>) {
  const directory = CameraDirectory.of(deps.store);
  const cameraStates = new CameraStateReader(deps, monitoring);
  return new Hono<AppEnv>().use(requireUserOrKey(deps)).get(
    '/',
    describe({
      summary: 'List sites with camera counts',
      description:
        'The camera groups as a tree (each names its `parentId`), each with the cameras the caller may see in it and in every group below it, counted once each (a camera may sit in several groups), and how many are live, offline and not recording. ' +
        'An administrator gets every group; anyone else (an API key too) only the groups holding a camera they may see, and the groups above those so the tree stays whole. `ungrouped` counts cameras in no group, `all` every camera the caller may see.',
      tag,
      auth: ['user', 'apiKey'],
      access: 'any signed-in user, or an API key',
      answer: {
        description: 'The sites',
        schema: SiteTree,
        example: {
          sites: [
            { id: 'grp_N4vB8kQ2xT6m', name: '豊洲現場', parentId: null, counts: exampleCounts(24, 2, 1) },
            { id: 'grp_Q7mC3pL9sV1d', name: '豊洲現場 1F', parentId: 'grp_N4vB8kQ2xT6m', counts: exampleCounts(12, 1, 0) },
          ],
          ungrouped: exampleCounts(3, 0, 0),
          all: exampleCounts(27, 2, 1),
        },
      },
      errors: CALLER_ERRORS,
    }),
    (c) => {
      const a = c.get('access');
      const visible = directory.visibleTo(a);
      const org = visible.org;
      const states = new Map<string, CameraState>();
      const stateOf = cameraStates.now();
      for (const entry of visible.entries) states.set(entry.camera.id, stateOf(entry.camera));
      const count = (cameraIds: Iterable<string>): Counts => {
        const counts: Counts = { cameras: 0, live: 0, offline: 0, notRecording: 0 };
        for (const id of cameraIds) {
          const state = states.get(id);
          if (state === undefined) continue; // not visible to the caller
          counts.cameras++;
          if (state === 'live') counts.live++;
          else if (state === 'offline') counts.offline++;
          else counts.notRecording++;
        }
        return counts;
      };
      const admin = a.user?.role === 'admin';
      const counted = org.groups.map((group) => ({ group, counts: count(org.below(group.id)) }));
      // A group's counts include the groups below it: every group above a visible camera's group
      // counts that camera too, so the tree left for non-administrators has no holes.
      const sites = counted
        .filter(({ counts }) => admin || counts.cameras > 0)
        .map(({ group, counts }) => ({ id: group.id, name: group.name, parentId: org.parentOf(group), counts }));
      const ungrouped = count(visible.entries.filter((e) => e.groupIds.length === 0).map((e) => e.camera.id));
      return reply(c, SiteTree, { sites, ungrouped, all: count(states.keys()) });
    },
  );
}

