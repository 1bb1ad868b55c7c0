import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv, Deps } from '../context.ts';
import { CameraHealth, DAY_WINDOW_MS, type CameraFacts } from '../cameraHealth.ts';
import { cameraState, cameraStates } from '../cameraState.ts';
import { badRequest } from '../errors.ts';
import { requireUserOrKey } from '../middleware.ts';
import type { Monitoring } from '../monitoring.ts';
import { RIGHTS, type Camera, type CameraGroup, type Right } from '../store/index.ts';
import { CameraHealthList, CameraHealthView, HEALTH_FILTERS } from '../wire/answers/index.ts';
import { describe, reply, validate, type ErrorCode } from '../wire/index.ts';
import { ID } from './params.ts';

type View = z.input<typeof CameraHealthView>;
type Counts = { total: number; live: number; gaps: number; offline: number; notRecording: number };

/** Needs attention first: not recording, offline, live with gaps today, live. */
const RANK = { not_recording: 0, offline: 1, gaps: 2, live: 3 } as const;
type Kind = keyof typeof RANK;

interface Position {
  rank: number;
  name: string;
  id: string;
}
const encodeCursor = (p: Position) => Buffer.from(JSON.stringify([p.rank, p.name, p.id])).toString('base64url');
function decodeCursor(cursor: string): Position | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 3 || typeof v[0] !== 'number' || typeof v[1] !== 'string' || typeof v[2] !== 'string') return undefined;
    return { rank: v[0], name: v[1], id: v[2] };
  } catch {
    return undefined;
  }
}
const collator = new Intl.Collator('ja', { numeric: true, sensitivity: 'base' });
const compare = (a: Position, b: Position) => a.rank - b.rank || collator.compare(a.name, b.name) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const query = z
  .object({
    group: z.string().regex(ID, 'not a group id').optional(),
    state: z.enum(HEALTH_FILTERS).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(200),
    cursor: z.string().max(400).refine((s) => decodeCursor(s) !== undefined, 'not a cursor from a previous page (pass nextCursor as it came)').optional(),
    dayStart: z.coerce.number().int().optional(),
  })
  .strict();

const tag = 'Cameras';
const CALLER_ERRORS = ['session_revoked', 'forbidden', 'invalid_api_key', 'api_key_revoked', 'api_key_expired', 'rate_limited', 'bad_request'] as const satisfies readonly ErrorCode[];

const EXAMPLE = {
  cameras: [
    { id: 'cam_K2pLw8sZq0Tn', name: 'Loading dock', groupIds: ['grp_Lq2Wc8vN5xRt'], rights: ['live', 'playback'], state: 'not_recording', sinceMs: 1796455200000, lastSeenMs: 1796458800000, video: { codec: 'h264', width: 1280, height: 720 }, bitrateKbps: 812.4, recording: { enabled: true, gapsToday: 1, lastRecordedMs: 1796455170000 } },
    { id: 'cam_7QxV2mR9aB3k', name: 'Entrance', groupIds: ['grp_Lq2Wc8vN5xRt'], rights: ['live', 'playback'], state: 'offline', sinceMs: 1796440000000, lastSeenMs: 1796440000000, video: { codec: 'h264', width: 1920, height: 1080 }, recording: { enabled: true, gapsToday: 0, lastRecordedMs: 1796440000000 } },
    { id: 'cam_Pz3Vt6Qw1mXs', name: 'Gate', groupIds: [], rights: ['live'], state: 'live', lastSeenMs: 1796458800000, video: { codec: 'h264', width: 1280, height: 720 }, bitrateKbps: 640.2, recording: { enabled: true, spoolLagMs: 420, gapsToday: 0, lastRecordedMs: 1796458799000 } },
  ],
  counts: { total: 3, live: 1, gaps: 0, offline: 1, notRecording: 1 },
  sites: [{ groupId: 'grp_Lq2Wc8vN5xRt', name: 'Osaka site', total: 2, live: 0, gaps: 0, offline: 1, notRecording: 1 }],
  node: 'node-a',
  generatedAtMs: 1796458800000,
} as const;

/**
 * Camera health at a glance: every camera the caller sees (a user's grants, an API key's group), its
 * state and recording, with counts per site. Read from what this node holds (cameraHealth.ts).
 */
export function cameraHealthRoutes(deps: Deps, monitoring: Pick<Monitoring, 'alerts'>) {
  const health = CameraHealth.create(deps);
  return new Hono<AppEnv>().use(requireUserOrKey(deps)).get('/', describe({
    summary: 'Get the cameras\' health',
    description:
      'Each camera the caller holds any right on: live, offline (since when) or online but not recording (since when), when last seen, the video format of its latest recording, what it sends now, how far its spool and uploads lag, how many gaps its recordings have today and when it was last recorded; with counts in total and per site (camera group, a site counting the sites under it). ' +
      'Sorted by what needs attention: not recording, offline, live with gaps today, live; then by name. `group` keeps the cameras of a site (and the sites under it), `state` one state (`gaps`: live with gaps today); the counts stay over every camera the caller sees. `limit` (default 200, at most 1000) at a time: pass `nextCursor` back as `cursor` for the next page. ' +
      '`dayStart` (ms since the epoch, within the last 48 hours; default: midnight UTC) is where "today" begins: the caller\'s midnight. ' +
      'Per node: live details (bitrate, spool and upload lag, when a camera went offline) are those of the node that answers, which holds a camera it records. In a cluster, a camera another node holds shows `heldBy` and is live or offline as that node says (asked at each read; if it does not answer within 1.5 s, live while its recordings, the index objects every node shares, are fresh: recorded within the last 90 s); its "not recording" alert is known on its node only; its last recording, picture size and gaps come from those objects. After a restart "offline since" is the end of the last recording. ' +
      'Answers from memory: bitrates are sampled every few seconds, each camera\'s recent index is read again at most every minute (gaps and uploads in between arrive as they happen); only the first request after a start waits for the index of the cameras it names.',
    tag, auth: ['user', 'apiKey'],
    access: 'any signed-in user, or an API key (cameras they hold any right on)',
    answer: { description: 'The cameras\' health', schema: CameraHealthList, example: EXAMPLE },
    errors: CALLER_ERRORS,
  }), validate('query', query), async (c) => {
    const q = c.req.valid('query');
    const now = Date.now();
    const dayStartMs = q.dayStart ?? now - (now % 86_400_000);
    if (dayStartMs > now || dayStartMs < now - DAY_WINDOW_MS) {
      throw badRequest(`dayStart must be within the last 48 hours (ms since the epoch: the caller's midnight today), not ${dayStartMs}`);
    }
    const a = c.get('access');
    const rightsOn = a.rightsOn;
    const cameras = deps.store.camerasOf(a.orgId!).filter((cam) => rightsOn(cam.id).size > 0);
    const groups = deps.store.groupsOf(a.orgId!);
    const groupIdsOf = new Map<string, string[]>();
    for (const g of groups) for (const id of g.cameraIds) groupIdsOf.set(id, [...(groupIdsOf.get(id) ?? []), g.id]);
    const facts = await health.read(cameras, dayStartMs);
    const raised = monitoring.alerts();
    const stateOf = cameraStates(deps, raised);
    const alerts = new Map(raised.map((al) => [al.cameraId, al] as const));

    const rows = cameras.map((cam) => {
      const f = facts.get(cam.id)!;
      const view = viewOf(cam, RIGHTS.filter((r) => rightsOn(cam.id).has(r)), f, groupIdsOf.get(cam.id) ?? [], f.liveElsewhere ? cameraState(true, cam.recording?.enabled ?? true, false) : stateOf(cam), alerts.get(cam.id)?.sinceMs);
      const kind: Kind = view.state === 'live' && view.recording.gapsToday > 0 ? 'gaps' : view.state;
      return { view, kind, position: { rank: RANK[kind], name: cam.name, id: cam.id } };
    });
    rows.sort((x, y) => compare(x.position, y.position));

    // Counts: every camera the caller sees, in total and per site (with the sites under it).
    const counts = emptyCounts();
    const bySite = new Map(groups.map((g) => [g.id, emptyCounts()] as const));
    const sitesOf = siteAncestry(groups);
    for (const row of rows) {
      add(counts, row.kind);
      const sites = new Set(row.view.groupIds.flatMap((id) => sitesOf(id)));
      for (const id of sites) add(bySite.get(id)!, row.kind);
    }
    const sites = groups
      .filter((g) => bySite.get(g.id)!.total > 0)
      .map((g) => ({ groupId: g.id, name: g.name, ...(g.parentId ? { parentId: g.parentId } : {}), ...bySite.get(g.id)! }))
      .sort((x, y) => collator.compare(x.name, y.name));

    const inGroup = q.group ? new Set(groups.filter((g) => sitesOf(g.id).includes(q.group!)).map((g) => g.id)) : undefined;
    const after = q.cursor ? decodeCursor(q.cursor) : undefined;
    const matching = rows.filter(
      (r) => (!inGroup || r.view.groupIds.some((id) => inGroup.has(id))) && (!q.state || r.kind === q.state || (q.state === 'live' && r.kind === 'gaps')) && (!after || compare(r.position, after) > 0),
    );
    const page = matching.slice(0, q.limit);
    const more = matching.length > q.limit;
    return reply(c, CameraHealthList, {
      cameras: page.map((r) => r.view),
      counts,
      sites,
      ...(more ? { nextCursor: encodeCursor(page.at(-1)!.position) } : {}),
      node: deps.cluster.nodeId,
      generatedAtMs: now,
    });
  });
}

function viewOf(cam: Camera, rights: Right[], f: CameraFacts, groupIds: string[], state: View['state'], alertSinceMs: number | undefined): View {
  const sinceMs = state === 'not_recording' ? alertSinceMs : state === 'offline' ? (f.offlineSinceMs ?? f.lastRecordedMs) : undefined;
  return {
    id: cam.id,
    name: cam.name,
    groupIds,
    rights,
    state,
    ...(sinceMs !== undefined ? { sinceMs } : {}),
    ...(f.lastSeenMs !== undefined ? { lastSeenMs: f.lastSeenMs } : {}),
    ...(f.video ? { video: f.video } : {}),
    ...(f.bitrateKbps !== undefined ? { bitrateKbps: f.bitrateKbps } : {}),
    ...(f.heldBy ? { heldBy: f.heldBy } : {}),
    recording: {
      enabled: cam.recording?.enabled ?? true,
      ...(f.spoolLagMs !== undefined ? { spoolLagMs: f.spoolLagMs } : {}),
      ...(f.uploadLagMs !== undefined ? { uploadLagMs: f.uploadLagMs } : {}),
      gapsToday: f.gapsToday,
      ...(f.lastRecordedMs !== undefined ? { lastRecordedMs: f.lastRecordedMs } : {}),
    },
  };
}

const emptyCounts = (): Counts => ({ total: 0, live: 0, gaps: 0, offline: 0, notRecording: 0 });
function add(c: Counts, kind: Kind): void {
  c.total += 1;
  if (kind === 'not_recording') c.notRecording += 1;
  else c[kind] += 1;
}

/** A group and every group above it (a camera on a floor counts for its building and site). */
function siteAncestry(groups: readonly CameraGroup[]): (groupId: string) => string[] {
  const byId = new Map(groups.map((g) => [g.id, g] as const));
  const memo = new Map<string, string[]>();
  return (groupId) => {
    let found = memo.get(groupId);
    if (found) return found;
    found = [];
    for (let g = byId.get(groupId); g && !found.includes(g.id); g = g.parentId ? byId.get(g.parentId) : undefined) found.push(g.id);
    memo.set(groupId, found);
    return found;
  };
}
