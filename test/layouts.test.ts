// Saved layouts and nested camera groups, over HTTP against the real service: a user's grid
// survives sign-out (and a restart) and is there at a fresh sign-in; organisation layouts are the
// administrators' to change but everyone's to see, with cameras a reader may not see shown as empty
// tiles (their ids never sent); the limits; and the tree of groups refuses cycles, parents of
// another organisation and trees deeper than 8 levels. MIMAMORI_TEST_STORE=postgres runs it
// against PostgreSQL.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startService, type Service } from './harness.ts';

const PASSWORD = 'layouts-Password-2718-long';
let svc: Service;
let admin: string;
const cams: Record<'a' | 'b' | 'c', { id: string; name: string }> = {} as never;
let viewerId: string;

interface LayoutView {
  id: string;
  name: string;
  scope: 'user' | 'organisation';
  size: number;
  cameraIds: (string | null)[];
  editable: boolean;
  createdAt: string;
  updatedAt: string;
}
interface GroupView {
  id: string;
  name: string;
  cameraIds: string[];
  parentId: string | null;
}
type ErrorAnswer = { error?: { code: string; message: string } };

/** fetch as `token` (JSON body), answering status, parsed body and the raw text. */
async function as<T = Record<string, unknown>>(token: string, pathname: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T & ErrorAnswer; text: string }> {
  const res = await svc.api(pathname, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T & ErrorAnswer, text };
}

/** A refusal with the expected status and code, and a message that says something. */
function refused(r: { status: number; body: ErrorAnswer; text: string }, status: number, code: string, what: string): void {
  assert.is(r.status, status, `${what}: ${r.text}`);
  assert.is(r.body.error?.code, code, `${what}: ${r.text}`);
  assert.ok((r.body.error?.message.length ?? 0) > 15, `${what}: a message that says what was wrong (${r.text})`);
}

const layouts = async (token: string) => {
  const r = await as<{ layouts: LayoutView[] }>(token, '/api/layouts');
  assert.is(r.status, 200, r.text);
  return r.body.layouts;
};
const viewerToken = () => svc.login('layout-viewer', PASSWORD);

test.before(async () => {
  svc = await startService();
  admin = svc.adminToken;
  for (const [key, name] of [['a', '正門'], ['b', '搬入口 secret-b'], ['c', '屋上 secret-c']] as const) cams[key] = { id: (await svc.createCamera(name)).id, name };
  viewerId = (await svc.createUser('layout-viewer', PASSWORD, 'viewer')).id;
  await svc.grant(viewerId, cams.a.id);
});
test.after(async () => {
  await svc?.stop();
});

test("a user's 3×3 layout survives sign-out and a restart, and is there at a fresh sign-in", async () => {
  const first = await viewerToken();
  const tiles = [cams.a.id, null, null, null, null, null, null, null, null];
  const made = await as<{ layout: LayoutView }>(first, '/api/layouts', { method: 'POST', body: { name: '夜間巡回', size: 3, cameraIds: tiles } });
  assert.is(made.status, 201, made.text);
  assert.is(made.body.layout.scope, 'user', 'scope defaults to the caller\'s own');
  assert.is(made.body.layout.editable, true);
  assert.equal(made.body.layout.cameraIds, tiles);

  const out = await as<{ revoked: number }>(first, '/api/auth/logout-all', { method: 'POST' });
  assert.is(out.status, 200, out.text);
  assert.is((await as(first, '/api/layouts')).status, 401, 'signed out: the old token no longer reads layouts');
  await svc.restart();
  const again = await viewerToken();
  const mine = (await layouts(again)).filter((l) => l.scope === 'user');
  assert.equal(mine, [made.body.layout], 'the same layout, whole, after sign-out, restart and a fresh sign-in');
  admin = await svc.login(svc.adminUsername, svc.adminPassword);
  assert.not.ok((await layouts(admin)).some((l) => l.id === made.body.layout.id), "another user's own layout is not listed to anyone else, administrators included");
  refused(await as(admin, `/api/layouts/${made.body.layout.id}`, { method: 'PATCH', body: { name: 'x' } }), 404, 'layout_not_found', "an administrator changing a user's own layout");
  refused(await as(admin, `/api/layouts/${made.body.layout.id}`, { method: 'DELETE' }), 404, 'layout_not_found', "an administrator deleting a user's own layout");

  // Changes: name, a smaller grid keeps the first tiles; delete.
  const changed = await as<{ layout: LayoutView }>(again, `/api/layouts/${made.body.layout.id}`, { method: 'PATCH', body: { name: 'Night round', size: 2 } });
  assert.is(changed.status, 200, changed.text);
  assert.equal([changed.body.layout.name, changed.body.layout.size, changed.body.layout.cameraIds], ['Night round', 2, [cams.a.id, null, null, null]]);
  assert.ok(changed.body.layout.updatedAt >= made.body.layout.updatedAt && changed.body.layout.createdAt === made.body.layout.createdAt);
  assert.is((await as(again, `/api/layouts/${made.body.layout.id}`, { method: 'DELETE' })).status, 204);
  refused(await as(again, `/api/layouts/${made.body.layout.id}`, { method: 'DELETE' }), 404, 'layout_not_found', 'deleted twice');
  const audit = await as<{ rows?: unknown[] }>(admin, '/api/audit?action=layout.');
  for (const action of ['layout.create', 'layout.update', 'layout.delete']) assert.ok(audit.text.includes(`"${action}"`), `${action} is audited: ${audit.text.slice(0, 300)}`);
});

test("organisation layouts: only administrators change them, everyone sees them, and cameras a reader may not see are empty tiles", async () => {
  const viewer = await viewerToken();
  const body = { scope: 'organisation', name: 'Site A wall', size: 2, cameraIds: [cams.a.id, cams.b.id, cams.c.id] };
  refused(await as(viewer, '/api/layouts', { method: 'POST', body }), 403, 'forbidden', 'a viewer saving an organisation layout');
  const made = await as<{ layout: LayoutView }>(admin, '/api/layouts', { method: 'POST', body });
  assert.is(made.status, 201, made.text);
  assert.is(made.body.layout.scope, 'organisation');
  assert.equal(made.body.layout.cameraIds, [cams.a.id, cams.b.id, cams.c.id], 'the administrator sees every camera');

  const seen = await as<{ layouts: LayoutView[] }>(viewer, '/api/layouts');
  const shared = seen.body.layouts.find((l) => l.id === made.body.layout.id);
  assert.ok(shared, 'the viewer sees the organisation layout');
  assert.equal(shared!.cameraIds, [cams.a.id, null, null], 'cameras the viewer may not see are empty tiles');
  assert.is(shared!.editable, false);
  for (const hidden of [cams.b, cams.c]) {
    assert.not.ok(seen.text.includes(hidden.id), `the id of a camera the viewer may not see is never sent (${hidden.id})`);
    assert.not.ok(seen.text.includes(hidden.name), 'nor its name');
  }
  refused(await as(viewer, `/api/layouts/${made.body.layout.id}`, { method: 'PATCH', body: { name: 'mine now' } }), 403, 'forbidden', 'a viewer changing an organisation layout');
  refused(await as(viewer, `/api/layouts/${made.body.layout.id}`, { method: 'DELETE' }), 403, 'forbidden', 'a viewer deleting an organisation layout');

  // A granted camera appears, a withdrawn one becomes an empty tile again: read at each request.
  await svc.grant(viewerId, cams.b.id);
  assert.equal((await layouts(viewer)).find((l) => l.id === made.body.layout.id)?.cameraIds, [cams.a.id, cams.b.id, null]);

  // The viewer's own layout with b; b withdrawn: shown empty, and saving the tiles as shown keeps b.
  const own = await as<{ layout: LayoutView }>(viewer, '/api/layouts', { method: 'POST', body: { name: 'a and b', size: 2, cameraIds: [cams.a.id, cams.b.id] } });
  assert.is(own.status, 201, own.text);
  assert.is((await svc.api(`/api/cameras/${cams.b.id}/grants/${viewerId}`, { method: 'DELETE' })).status < 300, true);
  const shown = (await layouts(viewer)).find((l) => l.id === own.body.layout.id)!;
  assert.equal(shown.cameraIds, [cams.a.id, null]);
  const saved = await as<{ layout: LayoutView }>(viewer, `/api/layouts/${own.body.layout.id}`, { method: 'PATCH', body: { cameraIds: [null, null, cams.a.id] } });
  assert.is(saved.status, 200, saved.text);
  assert.equal(saved.body.layout.cameraIds, [null, null, cams.a.id], 'the answer still hides b');
  await svc.grant(viewerId, cams.b.id);
  assert.equal((await layouts(viewer)).find((l) => l.id === own.body.layout.id)?.cameraIds, [null, cams.b.id, cams.a.id], 'b stayed in its tile while the viewer could not see it');
  await svc.api(`/api/cameras/${cams.b.id}/grants/${viewerId}`, { method: 'DELETE' });

  // A camera the viewer may not see cannot be put in a layout (and reads like one that does not exist).
  refused(await as(viewer, '/api/layouts', { method: 'POST', body: { name: 'peek', size: 1, cameraIds: [cams.c.id] } }), 400, 'camera_not_found', 'a camera the viewer may not see');
  refused(await as(viewer, '/api/layouts', { method: 'POST', body: { name: 'peek', size: 1, cameraIds: ['cam_doesnotexist'] } }), 400, 'camera_not_found', 'a camera that does not exist');

  // The administrator changes and deletes it; a deleted camera leaves an empty tile.
  const cam = await svc.createCamera('temporary');
  const moved = await as<{ layout: LayoutView }>(admin, `/api/layouts/${made.body.layout.id}`, { method: 'PATCH', body: { cameraIds: [cam.id, cams.a.id] } });
  assert.equal(moved.body.layout.cameraIds, [cam.id, cams.a.id], moved.text);
  const removed = await as(admin, `/api/cameras/${cam.id}`, { method: 'DELETE' });
  assert.ok(removed.status >= 200 && removed.status < 300, removed.text);
  assert.equal((await layouts(admin)).find((l) => l.id === made.body.layout.id)?.cameraIds, [null, cams.a.id]);
  assert.is((await as(admin, `/api/layouts/${made.body.layout.id}`, { method: 'DELETE' })).status, 204);
  assert.not.ok((await layouts(viewer)).some((l) => l.id === made.body.layout.id));
});

test('bad input is refused with what was wrong; API keys and other organisations are kept out', async () => {
  const viewer = await viewerToken();
  const post = (body: unknown, token = viewer) => as(token, '/api/layouts', { method: 'POST', body });
  refused(await post({ name: '', size: 2 }), 400, 'invalid_request', 'an empty name');
  refused(await post({ name: 'x'.repeat(61), size: 2 }), 400, 'invalid_request', 'a name of 61 characters');
  assert.is((await post({ name: 'y'.repeat(60), size: 1 })).status, 201, 'a name of 60 characters is fine');
  refused(await post({ name: 'six', size: 6 }), 400, 'invalid_request', 'size 6');
  refused(await post({ name: 'zero', size: 0 }), 400, 'invalid_request', 'size 0');
  refused(await post({ name: 'half', size: 2.5 }), 400, 'invalid_request', 'size 2.5');
  refused(await post({ name: 'too many', size: 2, cameraIds: [cams.a.id, null, null, null, null] }), 400, 'invalid_request', '5 tiles in a 2×2 grid');
  refused(await post({ name: 'twice', size: 2, cameraIds: [cams.a.id, cams.a.id] }), 400, 'invalid_request', 'one camera in two tiles');
  refused(await post({ name: 'scope', size: 2, scope: 'everyone' }), 400, 'invalid_request', 'an unknown scope');
  const one = (await post({ name: 'small', size: 1, cameraIds: [cams.a.id] })).body as { layout: LayoutView };
  refused(await as(viewer, `/api/layouts/${one.layout.id}`, { method: 'PATCH', body: { cameraIds: [cams.a.id, null] } }), 400, 'invalid_request', '2 tiles in the 1×1 grid it has');
  refused(await as(viewer, `/api/layouts/${one.layout.id}`, { method: 'PATCH', body: {} }), 400, 'invalid_request', 'a change of nothing');

  // API keys: not for layouts (people's own way of watching).
  const key = await as<{ key: string }>(admin, '/api/api-keys', { method: 'POST', body: { name: 'layouts test', scope: 'live' } });
  assert.is(key.status, 201, key.text);
  refused(await as(key.body.key, '/api/layouts'), 403, 'api_key_not_allowed', 'an API key listing layouts');
  refused(await as(key.body.key, '/api/layouts', { method: 'POST', body: { name: 'k', size: 1 } }), 403, 'api_key_not_allowed', 'an API key saving a layout');
  assert.is((await fetch(`${svc.url}/api/layouts`)).status, 401, 'no credentials');

  // Another organisation: none of this one's layouts, cameras or groups.
  const org = await as<{ org: { id: string } }>(svc.adminToken, '/api/orgs', { method: 'POST', body: { name: 'Other KK', admin: { username: 'other-layout-admin', password: PASSWORD } } });
  assert.is(org.status, 201, org.text);
  const other = await svc.login('other-layout-admin', PASSWORD);
  assert.equal(await layouts(other), [], "another organisation's administrator sees none of these layouts");
  refused(await as(other, `/api/layouts/${one.layout.id}`, { method: 'DELETE' }), 404, 'layout_not_found', "another organisation's layout");
  refused(await post({ name: 'theirs', size: 1, cameraIds: [cams.a.id], scope: 'organisation' }, other), 400, 'camera_not_found', "a camera of another organisation");
});

test('limits: 50 layouts of a user\'s own, 200 shared by an organisation', async () => {
  const limited = await svc.createUser('layout-limits', PASSWORD, 'operator');
  const token = await svc.login('layout-limits', PASSWORD);
  for (let i = 0; i < 50; i++) assert.is((await as(token, '/api/layouts', { method: 'POST', body: { name: `mine ${i}`, size: 1 } })).status, 201, `own layout ${i}`);
  refused(await as(token, '/api/layouts', { method: 'POST', body: { name: 'one too many', size: 1 } }), 409, 'layout_limit', 'a 51st own layout');
  assert.is((await layouts(token)).filter((l) => l.scope === 'user').length, 50);
  assert.ok(limited.id);

  const shared = (await layouts(admin)).filter((l) => l.scope === 'organisation').length;
  const adds = [];
  for (let i = shared; i < 200; i++) adds.push(as(admin, '/api/layouts', { method: 'POST', body: { scope: 'organisation', name: `shared ${i}`, size: 1 } }));
  assert.ok((await Promise.all(adds)).every((r) => r.status === 201));
  refused(await as(admin, '/api/layouts', { method: 'POST', body: { scope: 'organisation', name: 'one too many', size: 1 } }), 409, 'layout_limit', 'a 201st organisation layout');
  assert.is((await as(admin, '/api/layouts', { method: 'POST', body: { name: 'the admin\'s own still fits', size: 1 } })).status, 201, 'own layouts are counted apart from shared ones');
});

test('groups nest: parentId in answers, cycles and other organisations\' parents refused, at most 8 levels, children move up on delete', async () => {
  const group = async (body: Record<string, unknown>) => {
    const r = await as<{ group: GroupView }>(admin, '/api/groups', { method: 'POST', body: { cameraIds: [], ...body } });
    assert.is(r.status, 201, r.text);
    return r.body.group;
  };
  const site = await group({ name: '豊洲現場', cameraIds: [cams.c.id] });
  assert.is(site.parentId, null, 'a top group answers parentId null');
  const floor = await group({ name: '豊洲現場 1F', cameraIds: [cams.a.id], parentId: site.id });
  assert.is(floor.parentId, site.id);

  const patch = (id: string, body: unknown) => as<{ group: GroupView }>(admin, `/api/groups/${id}`, { method: 'PATCH', body });
  refused(await patch(site.id, { parentId: site.id }), 400, 'group_cycle', 'a group under itself');
  refused(await patch(site.id, { parentId: floor.id }), 400, 'group_cycle', 'a group under its own child');
  const cycle = await patch(site.id, { parentId: floor.id });
  assert.match(cycle.body.error!.message, /豊洲現場/, 'the message names the groups');

  const org = await as(svc.adminToken, '/api/orgs', { method: 'POST', body: { name: 'Foreign KK', admin: { username: 'foreign-group-admin', password: PASSWORD } } });
  assert.is(org.status, 201, org.text);
  const otherAdmin = await svc.login('foreign-group-admin', PASSWORD);
  const foreign = await as<{ group: GroupView }>(otherAdmin, '/api/groups', { method: 'POST', body: { name: 'Foreign site', cameraIds: [] } });
  assert.is(foreign.status, 201, foreign.text);
  refused(await as(admin, '/api/groups', { method: 'POST', body: { name: 'x', cameraIds: [], parentId: foreign.body.group.id } }), 404, 'group_not_found', "a parent of another organisation");
  refused(await patch(floor.id, { parentId: foreign.body.group.id }), 404, 'group_not_found', "a move under another organisation's group");
  refused(await patch(floor.id, { parentId: 'grp_doesnotexist' }), 404, 'group_not_found', 'a parent that does not exist');
  assert.is((await as<{ groups: GroupView[] }>(otherAdmin, '/api/groups')).body.groups.length, 1, 'the other organisation still has only its own group');

  // Depth: the site is level 1, the floor 2; six more make 8, a ninth is refused.
  let parent = floor.id;
  for (let level = 3; level <= 8; level++) parent = (await group({ name: `level ${level}`, parentId: parent })).id;
  refused(await as(admin, '/api/groups', { method: 'POST', body: { name: 'level 9', cameraIds: [], parentId: parent } }), 400, 'group_too_deep', 'a ninth level');

  // The viewer (granted camera a, on the floor) sees the floor and the site above it, without the site's camera.
  const viewer = await viewerToken();
  const seen = await as<{ groups: GroupView[] }>(viewer, '/api/groups');
  assert.equal(
    seen.body.groups.map((g) => [g.name, g.parentId, g.cameraIds]),
    [
      ['豊洲現場', null, []],
      ['豊洲現場 1F', site.id, [cams.a.id]],
    ],
    'parents first; the path to the viewer\'s camera, and nothing of cameras they may not see',
  );
  assert.not.ok(seen.text.includes(cams.c.id));

  // Deleting the floor moves level 3 up under the site; null moves a group to the top.
  const all = async () => (await as<{ groups: GroupView[] }>(admin, '/api/groups')).body.groups;
  const level3 = (await all()).find((g) => g.name === 'level 3')!;
  assert.is(level3.parentId, floor.id);
  assert.is((await as(admin, `/api/groups/${floor.id}`, { method: 'DELETE' })).status, 204);
  assert.is((await all()).find((g) => g.id === level3.id)?.parentId, site.id, "the deleted group's child moves up to its parent");
  const top = await patch(level3.id, { parentId: null });
  assert.is(top.status, 200, top.text);
  assert.is(top.body.group.parentId, null, 'parentId null moves it to the top');
  const renamed = await patch(level3.id, { name: 'level 3 (renamed)' });
  assert.is(renamed.body.group.parentId, null, 'a change without parentId leaves it where it is');
  const listed = await all();
  assert.ok(listed.every((g) => g.parentId === null || listed.findIndex((p) => p.id === g.parentId) < listed.indexOf(g)), 'every parent is listed before its children');
});

test('a grant on a site covers its floors, and a floor moved out of the site leaves it', async () => {
  const made = async (body: Record<string, unknown>) => {
    const r = await as<{ group: GroupView }>(admin, '/api/groups', { method: 'POST', body });
    assert.is(r.status, 201, r.text);
    return r.body.group;
  };
  const site = await made({ name: '有明現場', cameraIds: [] });
  const floor = await made({ name: '有明現場 2F', cameraIds: [cams.b.id], parentId: site.id });
  const guard = await svc.createUser('ariake-guard', PASSWORD);
  const granted = await as(admin, '/api/grants', { method: 'PUT', body: { userId: guard.id, groupId: site.id, rights: ['live'] } });
  assert.ok(granted.status < 300, granted.text);
  const token = await svc.login('ariake-guard', PASSWORD);
  const listed = async () => (await as<{ cameras: { id: string }[] }>(token, '/api/cameras')).body.cameras.map((c) => c.id);
  assert.equal(await listed(), [cams.b.id], "the site's grant reaches the camera on its floor");
  const moved = await as(admin, `/api/groups/${floor.id}`, { method: 'PATCH', body: { parentId: null } });
  assert.is(moved.status, 200, moved.text);
  assert.equal(await listed(), [], 'the floor moved to the top: the site\'s grant no longer covers it');
});

test.run();
