import crypto from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import type { Context } from 'hono';
import { accessOf, cameraSecretAccepted } from '../access.ts';
import { CameraDirectory, foldForSearch, indexAfter, type CameraEntry, type VisibleCameras } from '../cameraDirectory.ts';
import { CAMERA_STATES, CameraStateReader, type CameraState } from '../cameraState.ts';
import type { Monitoring } from '../monitoring.ts';
import { apiKeyNotAllowed } from '../apiKeys.ts';
import { CAMERA_TOKEN_TTL_S, hashCameraSecret, newCameraSecret } from '../auth.ts';
import type { AppEnv, Deps } from '../context.ts';
import { ApiError, badRequest, forbidden, notFound, unauthorized } from '../errors.ts';
import { audit, bearerToken, fresh, freshLookup, requireAdmin, requireAdminOrKey, requireUserOrKey, verifiedToken } from '../middleware.ts';
import { removeCamera } from '../ContractEnd.ts';
import { grantableRights } from './grants.ts';
import { checkAnswer, describe, describeIssues, reply, serialized, validate, type ErrorCode, type Same } from '../wire/index.ts';
import { REQUEST_SCHEMA } from '../wire/describe.ts';
import { RIGHTS, type Camera, type Right } from '../store/index.ts';
import type { SegmentEndReason } from '../../recorder/records.ts';
import { ID, idParam, instant, rangeQuery } from './params.ts';
import { CAMERA_STATE_MEANINGS, CameraAnswer, CameraList, CreatedCamera, Deleted, GrantSet, HoldAnswer, HoldList, PublishToken, Recordings, RotatedSecret, SEGMENT_ENDS } from '../wire/answers/index.ts';

const grantParam = idParam.extend({ userId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a user id') });
const createBody = z.object({ name: z.string().trim().min(1).max(100) });
const publishTokenBody = z.object({ secret: z.string().min(1).max(200).optional() });
const updateBody = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    recording: z
      .object({
        enabled: z.boolean().optional(),
        /** Plans are 7, 30 or 90 days; any whole number of days up to ten years is accepted. */
        retentionDays: z.number().int().min(1).max(3650).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
const holdBody = z
  .object({ from: instant, to: instant, reason: z.string().trim().min(1).max(500) })
  .refine((r) => r.to > r.from, 'to must be after from');
const holdParam = idParam.extend({ holdId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a hold id') });
/** How long the old secret keeps working after a rotation (0 = stops at once, e.g. when it leaked). */
const rotateBody = z.object({ graceHours: z.number().min(0).max(168).default(24) }).strict();
const grantBody = z.object({ rights: z.array(z.enum(RIGHTS as [Right, ...Right[]])).max(RIGHTS.length).optional() }).strict();

// --- The camera list: filters, order and pages ------------------------------------------------------

/** A page holds at most this many cameras (GET /api/cameras?limit=). */
const MAX_PAGE = 1000;
/** Cameras named at once by `ids` (a screen that shows names for the ids it holds). */
const MAX_IDS = 200;
const SORTS = {
  name: 'by name (Japanese collation, numbers as numbers: "カメラ2" before "カメラ10")',
  attention: 'needs attention first: not recording, then offline, then live; each by name',
  match: 'with `q`, the best matches first: names that start with it (or the camera whose id it is), then names that contain it; each by name (a search box offering a few names)',
} as const;
type Sort = keyof typeof SORTS;
const STATE_FILTERS = { ...CAMERA_STATE_MEANINGS, attention: 'offline or not_recording' } as const;
type StateFilter = keyof typeof STATE_FILTERS;
const listQuery = z.object({
  limit: z.coerce
    .number()
    .int('limit must be a whole number')
    .min(1, `limit must be 1–${MAX_PAGE}`)
    .max(MAX_PAGE, `limit must be 1–${MAX_PAGE}; page with cursor for more`)
    .optional()
    .describe(`Cameras per page, 1–${MAX_PAGE}. Without limit and cursor the answer holds every matching camera (fine for a few hundred; larger organisations should page)`),
  cursor: z.string().max(1000, 'cursor is too long: pass nextCursor exactly as given').optional().describe('nextCursor of the previous page (opaque); keep the same sort'),
  q: z.string().max(200, 'q is at most 200 characters').optional().describe('Search: part of the name as typed (Japanese or English; half-width, full-width, katakana and hiragana match each other, case is ignored), or a camera id'),
  group: z.string().regex(ID, 'group is not a group id').optional().describe('A camera group id: its cameras and those of every group below it'),
  ids: z
    .string()
    .max(MAX_IDS * 40, `ids names at most ${MAX_IDS} cameras`)
    .transform((text) => text.split(',').filter(Boolean))
    .pipe(z.array(z.string().regex(ID, 'ids holds something that is not a camera id')).max(MAX_IDS, `ids names at most ${MAX_IDS} cameras; ask in several pages`))
    .optional()
    .describe(`Only these cameras, comma-separated (at most ${MAX_IDS}): how a screen that holds camera ids (a group's members, a grant, a display) shows their names. Ids the caller may not see, or that do not exist, are left out`),
  state: z.enum(Object.keys(STATE_FILTERS) as [StateFilter, ...StateFilter[]]).optional().describe(`Only cameras in this state: ${Object.entries(STATE_FILTERS).map(([k, v]) => `\`${k}\`: ${v}`).join('; ')}`),
  sort: z.enum(Object.keys(SORTS) as [Sort, ...Sort[]]).default('name').describe(`The order: ${Object.entries(SORTS).map(([k, v]) => `\`${k}\`: ${v}`).join('; ')}`),
});
type ListQuery = z.infer<typeof listQuery>;
/** A page of the list as sent: its cameras, the state each was in, the answer's JSON. */
interface KeptPage {
  entries: readonly CameraEntry[];
  states: readonly CameraState[];
  body: string;
  /** Its validator: a screen that asks again with If-None-Match gets 304 while the page holds. */
  etag: string;
}
/** Pages kept per caller (and version of the catalog): a few screens' worth. */
const PAGES_KEPT = 32;
const JSON_TYPE = { 'content-type': 'application/json' } as const;
/** Per process, so that two nodes behind one address never hand out the same tag for different pages. */
const PAGE_TAG_PREFIX = crypto.randomBytes(6).toString('base64url');
let pageTags = 0;
/** The query string as written (the key of a kept page). */
const rawQuery = (url: string) => {
  const at = url.indexOf('?');
  return at < 0 ? '' : url.slice(at + 1);
};
/**
 * The list's query, checked with zod's synchronous parse in the handler: validate()'s
 * asynchronous one (zValidator, another middleware and promise) was a large share of a page's
 * time in the profile. The same 400 `invalid_request` naming the field.
 */
function listQueryOf(c: Context<AppEnv>): ListQuery {
  const result = listQuery.safeParse(c.req.query());
  if (!result.success) throw badRequest(`invalid query: ${describeIssues(result.error)}`, 'invalid_request');
  return result.data;
}
/** A handler that checks its own query (listQueryOf): documented as validate('query', schema) documents one. */
const documentedQuery = <H extends object>(schema: z.ZodType, handler: H): H => Object.assign(handler, { [REQUEST_SCHEMA]: { target: 'query' as const, schema } });
/** Where a page ended: the last camera's sort key and id (so the next page starts right after it, whatever was added or removed meanwhile). */
const cursorShape = z.object({ s: z.enum(Object.keys(SORTS) as [Sort, ...Sort[]]), n: z.string().max(400), i: z.string().regex(ID), r: z.number().int().min(0).max(CAMERA_STATES.length - 1).optional() }).strict();
type Cursor = z.infer<typeof cursorShape>;
const encodeCursor = (cursor: Cursor) => Buffer.from(JSON.stringify(cursor)).toString('base64url');
function decodeCursor(text: string, sort: Sort): Cursor {
  let cursor: Cursor;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(text)) throw new Error('not base64url');
    cursor = cursorShape.parse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
  } catch {
    throw badRequest('cursor is not one this list gave: pass nextCursor of the previous page exactly, or start again without cursor', 'invalid_request');
  }
  if (cursor.s !== sort) throw badRequest(`cursor belongs to sort=${cursor.s}, not sort=${sort}: keep the sort while paging, or start again without cursor`, 'invalid_request');
  if (sort !== 'name' && cursor.r === undefined) throw badRequest('cursor is not one this list gave: start again without cursor', 'invalid_request');
  return cursor;
}
/** The rank of a state in sort=attention (CAMERA_STATES is in that order). */
const ATTENTION_RANK: Record<CameraState, number> = Object.fromEntries(CAMERA_STATES.map((s, i) => [s, i])) as Record<CameraState, number>;

// --- Documentation: errors and examples (the answers: wire/answers/cameras.ts) ----------------------

const tag = 'Cameras';
/** What requireUserOrKey refuses beyond a missing or expired token (an API key's failures and rate limit included). */
const CALLER_ERRORS = ['session_revoked', 'forbidden', 'invalid_api_key', 'api_key_revoked', 'api_key_expired', 'rate_limited'] as const satisfies readonly ErrorCode[];
/** …and requireAdmin: an API key is refused. */
const ADMIN_ERRORS = [...CALLER_ERRORS, 'api_key_not_allowed'] as const satisfies readonly ErrorCode[];
/** What Access.require answers for a camera the caller may not see, or a right they lack. */
const CAMERA_ERRORS = ['camera_not_found', 'right_missing'] as const satisfies readonly ErrorCode[];
const MANAGER = 'a user with the "manage" right on the camera, or an API key of scope manage_cameras that sees it';
const ADMIN_MANAGER = 'an organisation administrator (API keys are refused)';

// The answers module cannot import the recorder: its documented segment ends must be the recorder's.
true satisfies Same<keyof typeof SEGMENT_ENDS, SegmentEndReason>;
// …nor signaling/cameraState.ts: the documented states must be the ones computed.
true satisfies Same<keyof typeof CAMERA_STATE_MEANINGS, CameraState>;

const exampleCamera = {
  id: 'cam_7QxV2mR9aB3k',
  name: 'Entrance',
  live: true,
  state: 'live',
  recording: { enabled: true, retentionDays: 30 },
  rights: ['live', 'playback', 'export', 'share', 'manage'],
  groupIds: ['grp_Lq2Wc8vN5xRt'],
} as const;
const exampleSecret = 'Xw8Qn2Lr5Tb0pZk7Yv3Mc9Hs1Jd6Gf4Ea2Ru8Io5Pl0';
const exampleReport = { cameraId: exampleCamera.id, objects: 8640, bytes: 151234560000, spoolFiles: 1, firstMs: 1762470000000, lastMs: 1765051200000 };
const exampleHold = { id: 'hold_Rz4Kp9Wm2sXc', cameraId: exampleCamera.id, fromMs: 1764997200000, toMs: 1765004400000, reason: 'Police request 2026-4471 (break-in, 6 Dec)', createdAt: '2026-12-06T20:30:00.000Z', createdBy: 'u_pX8nW2qLr5Tb' };

/** `monitoring`: the recorder's alerts, which decide whether a live camera is `not_recording`. */
export function cameraRoutes(deps: Deps, monitoring: Pick<Monitoring, 'alerts'>) {
  const directory = CameraDirectory.of(deps.store);
  const states = new CameraStateReader(deps, monitoring);
  const viewOf = (cam: Camera, rights: readonly Right[], groupIds: readonly string[], state: CameraState) => ({
    id: cam.id,
    name: cam.name,
    live: state !== 'offline',
    state,
    recording: { enabled: cam.recording?.enabled ?? true, retentionDays: cam.recording?.retentionDays ?? deps.config.recording.retentionDays },
    // Shared with the directory's caches: answers are only serialised, never changed.
    rights: rights as Right[],
    groupIds: groupIds as string[],
  });
  /** One camera (not the list): its groups looked up directly, so a change does not rebuild the directory for it. */
  const view = (cam: Camera, rights: ReadonlySet<Right>) =>
    viewOf(
      cam,
      RIGHTS.filter((r) => rights.has(r)),
      deps.store.groupsOf(cam.orgId).filter((g) => g.cameraIds.includes(cam.id)).map((g) => g.id),
      states.of(cam),
    );
  // A user or an API key (its scope and group decide, as grants do for users); routes for people only add requireAdmin.
  const caller = requireUserOrKey(deps);
  /** The camera, if the caller holds `right` on it (404/403 otherwise, see Access.require). */
  const cameraFor = (c: Context<AppEnv>, id: string, right: Right): Camera => {
    c.get('access').require(id, right);
    return deps.store.camera(id)!;
  };
  const actor = (c: Context<AppEnv>) => c.get('access').principal;
  /**
   * Pages of the list as sent, by the caller's visible cameras (one version of the catalog and of
   * the caller's rights: a change replaces that object, and the pages with it) and the query as
   * written. A page is sent again only while each of its cameras is in the state it was sent
   * with; everything else in it follows from those two keys. A guard's screen and an
   * integration ask for the same page over and over: this spares building and serialising it.
   */
  const pages = new WeakMap<VisibleCameras, Map<string, KeptPage>>();
  const keepPage = (visible: VisibleCameras, asked: string, page: KeptPage) => {
    let kept = pages.get(visible);
    if (!kept) pages.set(visible, (kept = new Map()));
    if (kept.size >= PAGES_KEPT) kept.clear();
    kept.set(asked, page);
  };

  return (
    new Hono<AppEnv>()
      // A camera exchanges its secret for a publish token; an admin (or a user who manages it) may get one directly.
      .post('/:id/publish-token', describe({
        summary: 'Get a camera\'s publish token',
        description:
          'A camera (or its encoder) sends its secret in the body and needs no other credentials; a wrong id or secret answers 401 `invalid_camera_secret` (audited as `camera.secret_rejected`). ' +
          'After a rotation the previous secret works until its grace period ends. Without `secret`, a signed-in user who manages the camera gets one with their access token (an API key cannot: it sends the secret). ' +
          'The token is valid 24 hours; a publishing camera is not cut off when it expires.',
        tag, auth: ['none', 'user'],
        access: 'the camera, with its secret; or a user with the "manage" right on the camera',
        answer: { description: 'A publish token', schema: PublishToken, example: { token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0eXAiOiJjYW1lcmEiLCJzdWIiOiJjYW1fN1F4VjJtUjlhQjNrIn0.Hq2Xv9Lw0cN4rT7yB1mK5sP8dF3gJ6aZ0eUiOoRl2Wc', expiresAt: '2026-12-07T20:15:00.000Z' } },
        errors: ['invalid_camera_secret', 'session_revoked', 'forbidden', 'api_key_not_allowed', 'invalid_api_key', 'api_key_revoked', 'api_key_expired', 'rate_limited', ...CAMERA_ERRORS, 'bad_request'],
        example: { secret: exampleSecret },
      }), validate('param', idParam), validate('json', publishTokenBody), async (c) => {
        const { id } = c.req.valid('param');
        const { secret } = c.req.valid('json');
        const cam = await freshLookup(deps, () => deps.store.camera(id));
        if (secret !== undefined) {
          if (!cam || !cameraSecretAccepted(cam, secret)) {
            deps.log.warn({ event: 'camera_secret_rejected', cameraId: id }, 'camera secret rejected');
            audit(deps, c, { actor: 'anonymous', action: 'camera.secret_rejected', cameraId: id, outcome: 'refused' });
            throw new ApiError(401, 'invalid_camera_secret', 'the camera id or secret is wrong; copy them again from the admin page');
          }
        } else {
          const token = bearerToken(c.req.header('authorization'));
          if (!token) throw unauthorized('send the camera secret, or sign in as an administrator');
          await fresh(deps, () => {
            const { claims } = verifiedToken(deps, token);
            if (claims.typ === 'apikey') throw apiKeyNotAllowed(`POST ${c.req.path} without the camera secret`, 'send the camera secret (a manage_cameras key got it when it created the camera, or rotates it) in the body');
            if (claims.typ !== 'user') throw forbidden('only a signed-in user who manages this camera may get a publish token without the camera secret');
            accessOf(deps, `u:${claims.sub}`).require(id, 'manage');
          });
        }
        return reply(c, PublishToken, deps.tokens.sign({ typ: 'camera', sub: id }, CAMERA_TOKEN_TTL_S));
      })
      .use(caller)
      .get('/', describe({
        summary: 'List cameras',
        description:
          'The organisation\'s cameras the caller holds any right on (an administrator: all of them; an API key: those of its group, if it has one), with the caller\'s rights on each; ' +
          '`total` counts those matching the filters. Filters combine: `q` (name as typed, or an id), `group` (with the groups below it), `state`. ' +
          `Pages: ask with \`limit\` (1–${MAX_PAGE}) and pass each answer's \`nextCursor\` as \`cursor\` until it is null. Paging is stable while cameras are added and removed: every camera present throughout is listed exactly once (a camera renamed, or with sort=attention one changing state, may move across pages). ` +
          'Without `limit` and `cursor` the answer holds every matching camera: organisations with more than a few hundred cameras should page. ' +
          'A page sorted by name without a `state` filter carries an `ETag`: asked again with `If-None-Match`, it answers 304 without a body while no camera on it was added, removed, renamed, regrouped or changed state, and no right of the caller changed (a screen that refreshes its list costs almost nothing while nothing happens).',
        tag, auth: ['user', 'apiKey'], access: 'any signed-in user, or an API key',
        answer: {
          description: 'A page of cameras',
          schema: CameraList,
          example: { cameras: [exampleCamera, { ...exampleCamera, id: 'cam_K2pLw8sZq0Tn', name: 'Loading dock', live: false, state: 'offline', rights: ['live', 'playback'], groupIds: [] }], nextCursor: 'eyJzIjoibmFtZSIsIm4iOiJMb2FkaW5nIGRvY2siLCJpIjoiY2FtX0sycEx3OHNacTBUbiJ9', total: 312 },
          headers: { ETag: 'The page\'s validator (sort=name without a state filter), for If-None-Match' },
        },
        errors: [...CALLER_ERRORS, 'group_not_found'],
      }), documentedQuery(listQuery, (c) => {
        const a = c.get('access');
        const stateOf = states.now();
        const visible = directory.visibleTo(a);
        const asked = rawQuery(c.req.url);
        const kept = pages.get(visible)?.get(asked);
        if (kept && kept.entries.every((e, i) => stateOf(e.camera) === kept.states[i])) {
          // The answer depends on who asks: only the asker's own cache may keep it, and must ask again.
          if (c.req.header('if-none-match') === kept.etag) return serialized(null, 304, { ETag: kept.etag, 'Cache-Control': 'private, no-cache' });
          return serialized(kept.body, 200, { ...JSON_TYPE, ETag: kept.etag, 'Cache-Control': 'private, no-cache' });
        }
        const { limit = Infinity, cursor: cursorText, q, group, ids, state, sort } = listQueryOf(c);
        const named = ids === undefined ? undefined : new Set(ids);
        const cursor = cursorText === undefined ? undefined : decodeCursor(cursorText, sort);
        const below = group === undefined ? undefined : visible.org.below(group);
        if (group !== undefined && !visible.org.group(group)) throw notFound('group', group);
        const query = q?.trim() ? q.trim() : undefined;
        const folded = query === undefined ? undefined : foldForSearch(query);
        const inState = (s: CameraState) => state === undefined || (state === 'attention' ? s !== 'live' : s === state);
        const matches = (e: CameraEntry) =>
          (below === undefined || below.has(e.camera.id)) &&
          (named === undefined || named.has(e.camera.id)) &&
          (folded === undefined || e.folded.includes(folded) || e.camera.id === query);

        // The matching cameras in the order asked for, each with its state.
        let ordered: { entry: CameraEntry; state: CameraState; rank: number }[] | undefined;
        let orderedEntries: readonly CameraEntry[];
        let start: number;
        if (sort === 'name') {
          // Without filters the caller's visible cameras are the list as they are (no pass over them).
          orderedEntries = below === undefined && named === undefined && folded === undefined && state === undefined ? visible.entries : visible.entries.filter((e) => matches(e) && (state === undefined || inState(stateOf(e.camera))));
          start = cursor ? indexAfter(orderedEntries, cursor.n, cursor.i) : 0;
        } else {
          // Ranked buckets (sort=attention: by state; sort=match: starts with q, then contains it).
          const rankOf = sort === 'attention'
            ? (_: CameraEntry, s: CameraState) => ATTENTION_RANK[s]
            : (e: CameraEntry) => (folded === undefined || e.folded.startsWith(folded) || e.camera.id === query ? 0 : 1);
          const buckets: { entry: CameraEntry; state: CameraState; rank: number }[][] = CAMERA_STATES.map(() => []);
          for (const entry of visible.entries) {
            if (!matches(entry)) continue;
            const s = stateOf(entry.camera);
            const rank = rankOf(entry, s);
            if (inState(s)) buckets[rank]!.push({ entry, state: s, rank });
          }
          // Within a rank, in name order: the cursor's place is found in its rank's bucket.
          start = 0;
          if (cursor) {
            for (let r = 0; r < cursor.r!; r++) start += buckets[r]!.length;
            start += indexAfter(buckets[cursor.r!]!.map((x) => x.entry), cursor.n, cursor.i);
          }
          ordered = buckets.flat();
          orderedEntries = ordered.map((x) => x.entry);
        }
        const end = Math.min(orderedEntries.length, start + limit);
        const cameras = [];
        for (let i = start; i < end; i++) {
          const entry = orderedEntries[i]!;
          cameras.push(viewOf(entry.camera, visible.rights.get(entry.camera.id)!, entry.groupIds, ordered?.[i]!.state ?? stateOf(entry.camera)));
        }
        const last = cameras.length > 0 && end < orderedEntries.length ? orderedEntries[end - 1]! : undefined;
        const nextCursor = last ? encodeCursor({ s: sort, n: last.camera.name, i: last.camera.id, ...(ordered ? { r: ordered[end - 1]!.rank } : {}) }) : null;
        const answer = { cameras, nextCursor, total: orderedEntries.length };
        // Which cameras match, and their order, depend on the page's cameras' states only when
        // neither a state filter nor another sort than name is asked: only such pages are kept.
        if (state !== undefined || sort !== 'name') return reply(c, CameraList, answer);
        checkAnswer(CameraList, answer, `${c.req.method} ${c.req.routePath}`);
        const body = JSON.stringify(answer);
        const etag = `"${PAGE_TAG_PREFIX}.${(++pageTags).toString(36)}"`;
        keepPage(visible, asked, { entries: orderedEntries.slice(start, end), states: cameras.map((v) => v.state), body, etag });
        return serialized(body, 200, { ...JSON_TYPE, ETag: etag, 'Cache-Control': 'private, no-cache' });
      }))
      .get('/:id', describe({
        summary: 'Get a camera',
        tag, auth: ['user', 'apiKey'], access: 'a user or API key holding any right on the camera',
        answer: { description: 'The camera, with the caller\'s rights on it', schema: CameraAnswer, example: { camera: exampleCamera } },
        errors: [...CALLER_ERRORS, 'camera_not_found'],
      }), validate('param', idParam), (c) => {
        const { id } = c.req.valid('param');
        const rights = c.get('access').rightsOn(id);
        if (rights.size === 0) throw notFound('camera', id);
        return reply(c, CameraAnswer, { camera: view(deps.store.camera(id)!, rights) });
      })
      .post('/', describe({
        summary: 'Add a camera',
        description:
          'The answer carries the camera\'s secret, shown only this once: configure the camera with its id and secret. ' +
          'A camera added with an API key limited to a camera group is put in that group. Audited as `camera.create`.',
        tag, auth: ['user', 'apiKey'], access: 'an organisation administrator, or an API key of scope manage_cameras',
        answer: { status: 201, description: 'The camera and its secret', schema: CreatedCamera, example: { camera: { ...exampleCamera, live: false, state: 'offline', groupIds: [] }, secret: exampleSecret } },
        errors: [...CALLER_ERRORS, 'right_missing', 'bad_request', 'database_unavailable'],
        example: { name: 'Entrance' },
      }), requireAdminOrKey('manage_cameras'), validate('json', createBody), async (c) => {
        const { name } = c.req.valid('json');
        const secret = newCameraSecret();
        const a = c.get('access');
        const cam = await deps.store.addCamera(a.orgId!, name, hashCameraSecret(secret));
        // A key limited to a group puts its cameras in that group (it would not see them otherwise).
        const group = a.apiKey?.cameraGroupId !== undefined ? deps.store.group(a.apiKey.cameraGroupId) : undefined;
        if (group) await deps.store.updateGroup(group.id, { cameraIds: [...group.cameraIds, cam.id] });
        audit(deps, c, { actor: actor(c), action: 'camera.create', cameraId: cam.id, outcome: 'ok', detail: { name } });
        return reply(c, CreatedCamera, { camera: view(cam, a.rightsOn(cam.id)), secret }, 201);
      })
      .patch('/:id', describe({
        summary: 'Change a camera',
        description:
          'Its name, whether it records continuously, and how many days its recordings are kept (1–3650; plans are 7, 30 or 90). Only the fields sent change; recording starts or stops at once. Audited as `camera.update`.',
        tag, auth: ['user', 'apiKey'], access: MANAGER,
        answer: { description: 'The changed camera', schema: CameraAnswer, example: { camera: { ...exampleCamera, name: 'Entrance (north)', recording: { enabled: true, retentionDays: 90 } } } },
        errors: [...CALLER_ERRORS, ...CAMERA_ERRORS, 'bad_request', 'database_unavailable'],
        example: { name: 'Entrance (north)', recording: { retentionDays: 90 } },
      }), validate('param', idParam), validate('json', updateBody), async (c) => {
        const { id } = c.req.valid('param');
        cameraFor(c, id, 'manage');
        const change = c.req.valid('json');
        const cam = await deps.store.updateCamera(id, change);
        if (!cam) throw notFound('camera', id); // deleted meanwhile
        deps.recorder.refresh(id);
        audit(deps, c, { actor: actor(c), action: 'camera.update', cameraId: id, outcome: 'ok', detail: change });
        return reply(c, CameraAnswer, { camera: view(cam, c.get('access').rightsOn(id)) });
      })
      // Removal: the camera, and every recording and export of it, with a deletion report.
      .delete('/:id', describe({
        summary: 'Remove a camera and all its recordings',
        description:
          'Its viewers are disconnected; every recording, index and export of it is deleted from the storage (legal holds do not stop this), then the camera with its grants, holds, share links and data key. Cannot be undone. ' +
          'Audited as `camera.delete` with the report.',
        tag, auth: ['user'], access: ADMIN_MANAGER,
        answer: { description: 'What was deleted', schema: Deleted, example: { deleted: exampleReport } },
        errors: [...ADMIN_ERRORS, ...CAMERA_ERRORS, 'storage_unavailable', 'database_unavailable'],
      }), requireAdmin, validate('param', idParam), async (c) => {
        const { id } = c.req.valid('param');
        cameraFor(c, id, 'manage');
        const report = await removeCamera(deps, id);
        audit(deps, c, { actor: actor(c), action: 'camera.delete', cameraId: id, outcome: 'ok', detail: { ...report } });
        return reply(c, Deleted, { deleted: report });
      })
      .get('/:id/recordings', describe({
        summary: 'List a camera\'s recorded segments and gaps',
        description:
          'The segments and gaps overlapping [from, to) (ms since the epoch or ISO 8601 with a zone; at most 31 days), from the recording index. For a timeline, GET /api/cameras/{id}/timeline is lighter.',
        tag: 'Recordings and playback', auth: ['user', 'apiKey'], access: 'a user with the "playback" right on the camera, or an API key of scope read or export that sees it',
        answer: {
          description: 'Segments and gaps in the range',
          schema: Recordings,
          example: {
            cameraId: exampleCamera.id,
            from: 1765000800000,
            to: 1765004400000,
            segments: [
              { startMs: 1765000500000, endMs: 1765001100000, fragments: 300, video: { codec: 'h264', width: 1920, height: 1080 }, audio: { codec: 'opus' }, end: 'duration' },
              { startMs: 1765001100000, endMs: 1765001460000, fragments: 180, video: { codec: 'h264', width: 1920, height: 1080 }, audio: { codec: 'opus' }, end: 'interrupted' },
              { startMs: 1765001520000, endMs: 1765002120000, fragments: 300, video: { codec: 'h264', width: 1920, height: 1080 }, audio: { codec: 'opus' }, end: 'duration' },
            ],
            gaps: [{ fromMs: 1765001460000, toMs: 1765001520000, reason: 'camera-offline' }],
          },
        },
        errors: [...CALLER_ERRORS, ...CAMERA_ERRORS, 'storage_unavailable'],
      }), validate('param', idParam), validate('query', rangeQuery), async (c) => {
        const { id } = c.req.valid('param');
        cameraFor(c, id, 'playback');
        const { from, to } = c.req.valid('query');
        const { segments, gaps } = await deps.recorder.index.query(id, from, to);
        return reply(c, Recordings, {
          cameraId: id,
          from,
          to,
          segments: segments.map((s) => ({ startMs: s.startMs, endMs: s.endMs, fragments: s.fragments.length, video: s.video, audio: s.audio, end: s.end })),
          gaps,
        });
      })
      .delete('/:id/recordings', describe({
        summary: 'Delete all of a camera\'s recordings',
        description:
          'Every segment, index and export of the camera is deleted from the storage, and its spool on this node, whatever their age or legal holds; the camera stays and, if recording is on, records again from now. Cannot be undone. ' +
          'Audited as `recordings.delete` with the report.',
        tag: 'Recordings and playback', auth: ['user'], access: ADMIN_MANAGER,
        answer: { description: 'What was deleted', schema: Deleted, example: { deleted: exampleReport } },
        errors: [...ADMIN_ERRORS, ...CAMERA_ERRORS, 'storage_unavailable'],
      }), requireAdmin, validate('param', idParam), async (c) => {
        const { id } = c.req.valid('param');
        cameraFor(c, id, 'manage');
        const report = await deps.recorder.deleteRecordings(id);
        audit(deps, c, { actor: actor(c), action: 'recordings.delete', cameraId: id, outcome: 'ok', detail: { ...report } });
        return reply(c, Deleted, { deleted: report });
      })
      // Legal holds bind the organisation: administrators only.
      .get('/:id/holds', describe({
        summary: 'List a camera\'s legal holds',
        description: 'Recordings in a held range are kept past their retention until the hold is removed.',
        tag, auth: ['user'], access: ADMIN_MANAGER,
        answer: { description: 'The camera\'s holds', schema: HoldList, example: { holds: [exampleHold] } },
        errors: [...ADMIN_ERRORS, ...CAMERA_ERRORS],
      }), requireAdmin, validate('param', idParam), (c) => {
        const { id } = c.req.valid('param');
        cameraFor(c, id, 'manage');
        return reply(c, HoldList, { holds: [...deps.store.holdsOf(id)] });
      })
      .post('/:id/holds', describe({
        summary: 'Place a legal hold',
        description:
          'Recordings of the camera in [from, to) (ms since the epoch or ISO 8601 with a zone) are kept past their retention until the hold is removed. Holds do not stop the removal of the camera or of all its recordings. Audited as `hold.create`.',
        tag, auth: ['user'], access: ADMIN_MANAGER,
        answer: { status: 201, description: 'The hold', schema: HoldAnswer, example: { hold: exampleHold } },
        errors: [...ADMIN_ERRORS, ...CAMERA_ERRORS, 'bad_request', 'database_unavailable'],
        example: { from: '2026-12-06T05:00:00Z', to: '2026-12-06T07:00:00Z', reason: 'Police request 2026-4471 (break-in, 6 Dec)' },
      }), requireAdmin, validate('param', idParam), validate('json', holdBody), async (c) => {
        const { id } = c.req.valid('param');
        cameraFor(c, id, 'manage');
        const { from, to, reason } = c.req.valid('json');
        const hold = await deps.store.addHold({ cameraId: id, fromMs: from, toMs: to, reason, createdBy: c.get('user').id });
        audit(deps, c, { actor: actor(c), action: 'hold.create', cameraId: id, outcome: 'ok', detail: { holdId: hold.id, fromMs: from, toMs: to, reason } });
        return reply(c, HoldAnswer, { hold }, 201);
      })
      .delete('/:id/holds/:holdId', describe({
        summary: 'Remove a legal hold',
        description: 'The held recordings fall back to the camera\'s retention (and are deleted by the next sweep if older). Audited as `hold.delete`.',
        tag, auth: ['user'], access: ADMIN_MANAGER,
        answer: { status: 204, description: 'Removed' },
        errors: [...ADMIN_ERRORS, ...CAMERA_ERRORS, 'hold_not_found', 'database_unavailable'],
      }), requireAdmin, validate('param', holdParam), async (c) => {
        const { id, holdId } = c.req.valid('param');
        cameraFor(c, id, 'manage');
        if (!(await deps.store.removeHold(id, holdId))) throw notFound('hold', holdId);
        audit(deps, c, { actor: actor(c), action: 'hold.delete', cameraId: id, outcome: 'ok', detail: { holdId } });
        return c.body(null, 204);
      })
      // A new secret; the old one keeps working for `graceHours` so the camera can be reconfigured
      // without going dark, and a publishing camera is never cut off (its publish token stays valid).
      .post('/:id/secret', describe({
        summary: 'Rotate a camera\'s secret',
        description:
          'A new secret, shown only this once. The old one keeps working for `graceHours` (default 24, at most 168; 0 stops it at once, e.g. when it leaked) so the camera can be reconfigured without going dark; a publishing camera is not cut off. Audited as `camera.secret_rotate`.',
        tag, auth: ['user', 'apiKey'], access: MANAGER,
        answer: { description: 'The new secret', schema: RotatedSecret, example: { secret: exampleSecret, previousSecretValidUntil: '2026-12-07T20:30:00.000Z' } },
        errors: [...CALLER_ERRORS, ...CAMERA_ERRORS, 'bad_request', 'database_unavailable'],
        example: { graceHours: 24 },
      }), validate('param', idParam), validate('json', rotateBody), async (c) => {
        const { id } = c.req.valid('param');
        cameraFor(c, id, 'manage');
        const { graceHours } = c.req.valid('json');
        const secret = newCameraSecret();
        const graceUntil = graceHours > 0 ? new Date(Date.now() + graceHours * 3_600_000) : undefined;
        await deps.store.setCameraSecret(id, hashCameraSecret(secret), graceUntil);
        audit(deps, c, { actor: actor(c), action: 'camera.secret_rotate', cameraId: id, outcome: 'ok', detail: { graceHours } });
        return reply(c, RotatedSecret, { secret, previousSecretValidUntil: graceUntil?.toISOString() ?? null });
      })
      // Shorthand for a grant on one camera (the full API is /api/grants); without rights, all the user's role allows.
      .put('/:id/grants/:userId', describe({
        summary: 'Grant a user rights on a camera',
        description:
          'Shorthand for a grant on one camera (the full API is /api/grants). The body is optional: empty, or JSON `{ "rights": [...] }` (live, playback, export, share, manage); without `rights` the user gets all their role allows (a viewer: live and playback). ' +
          'The rights replace those of the user\'s existing grant on this camera; `"rights": []` removes it. A body that is not JSON answers 400 `invalid_request`. Audited as `grant.set`.',
        tag: 'Users and permissions', auth: ['user'], access: ADMIN_MANAGER,
        answer: {
          description: 'The grant as stored',
          schema: GrantSet,
          example: { ok: true, grant: { id: 'grant_Ns5Vq1Ze8kWp', orgId: 'org_Hk3vQ9xPz2Lm', userId: 'u_Qm4sZt8vK1Xe', cameraId: exampleCamera.id, rights: ['live', 'playback'], createdAt: '2026-12-06T20:30:00.000Z', createdBy: 'u_pX8nW2qLr5Tb' } },
        },
        errors: [...ADMIN_ERRORS, ...CAMERA_ERRORS, 'user_not_found', 'right_not_allowed_for_role', 'database_unavailable'],
      }), requireAdmin, validate('param', grantParam), async (c) => {
        const { id, userId } = c.req.valid('param');
        cameraFor(c, id, 'manage');
        const grantee = deps.store.userById(userId);
        if (!grantee || grantee.orgId !== c.get('user').orgId) throw notFound('user', userId);
        // The body is optional: scripts often PUT nothing at all.
        const text = await c.req.text();
        let asked: unknown;
        try {
          asked = text.trim() === '' ? {} : JSON.parse(text);
        } catch {
          throw badRequest('the body must be empty or JSON like {"rights":["live","playback"]}', 'invalid_request');
        }
        const body = grantBody.safeParse(asked);
        if (!body.success) throw badRequest(`invalid json: ${describeIssues(body.error)}`, 'invalid_request');
        const rights = grantableRights(grantee, body.data.rights);
        const grant = await deps.store.setGrant({ orgId: grantee.orgId, userId, cameraId: id, rights, createdBy: c.get('user').id });
        audit(deps, c, { actor: actor(c), action: 'grant.set', cameraId: id, outcome: 'ok', detail: { userId, rights } });
        return reply(c, GrantSet, { ok: true, grant });
      })
      .delete('/:id/grants/:userId', describe({
        summary: 'Remove a user\'s grant on a camera',
        description: 'Removes the grant on this camera only (rights through a camera group stay). Removing a grant that does not exist changes nothing. Audited as `grant.revoke`.',
        tag: 'Users and permissions', auth: ['user'], access: ADMIN_MANAGER,
        answer: { status: 204, description: 'Removed' },
        errors: [...ADMIN_ERRORS, ...CAMERA_ERRORS, 'user_not_found', 'database_unavailable'],
      }), requireAdmin, validate('param', grantParam), async (c) => {
        const { id, userId } = c.req.valid('param');
        cameraFor(c, id, 'manage');
        const grantee = deps.store.userById(userId);
        if (!grantee || grantee.orgId !== c.get('user').orgId) throw notFound('user', userId);
        await deps.store.setGrant({ orgId: grantee.orgId, userId, cameraId: id, rights: [], createdBy: c.get('user').id });
        audit(deps, c, { actor: actor(c), action: 'grant.revoke', cameraId: id, outcome: 'ok', detail: { userId } });
        return c.body(null, 204);
      })
  );
}
