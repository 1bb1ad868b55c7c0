// The camera list at an organisation's scale, against the real service: 1,000 cameras in 40 groups
// (sites with floors under them) made through the API; pages with cursors while cameras come and
// go; search as typed in Japanese and English; a group with the groups below it; states from real
// publishing cameras (one recorded to a spool it cannot write: "not recording"); the attention
// order; and a viewer and an API key who see only their cameras in the list, totals, search and
// the sites tree (GET /api/sites).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Camera } from '../camera/index.ts';
import { startService, type Service } from './harness.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const CAMERAS = 1000;
const SITES = 10;
const GROUPS = 40;
/** Cameras from here on are in no group. */
const UNGROUPED_FROM = 960;
/** The one camera of the last group (a floor of the last site), which a viewer is granted through the group. */
const SOLO = UNGROUPED_FROM;
const VIEWER_PASSWORD = 'birch-window-58-lamp';

interface ListedCamera {
  id: string;
  name: string;
  live: boolean;
  state: 'live' | 'offline' | 'not_recording';
  rights: string[];
  groupIds: string[];
}
interface Page {
  cameras: ListedCamera[];
  nextCursor: string | null;
  total: number;
}
interface Counts {
  cameras: number;
  live: number;
  offline: number;
  notRecording: number;
}
interface Sites {
  sites: { id: string; name: string; parentId: string | null; counts: Counts }[];
  ungrouped: Counts;
  all: Counts;
}

let svc: Service;
/** Camera id → name, of the cameras that exist now. */
const names = new Map<string, string>();
const ids: string[] = [];
const secrets = new Map<string, string>();
/** Group id → its own cameras; group index → id; group id → parent id. */
const groupCameras = new Map<string, string[]>();
const groupIds: string[] = [];
const parents = new Map<string, string | null>();
const publishing: Camera[] = [];

/**
 * The i-th camera's name: katakana, kanji, English and half-width katakana in turn, the number
 * last (so "カメラ4" and "カメラ40" sort as numbers), and a few names one search should find alone.
 */
function cameraName(i: number): string {
  if (i === 5) return '正門北口';
  if (i === 9) return 'かめら特別'; // hiragana: found by カメラ and ｶﾒﾗ too
  switch (i % 4) {
    case 0:
      return `カメラ${i}`;
    case 1:
      return `倉庫 ${i}`;
    case 2:
      return `Entrance ${i}`;
    default:
      return `ｹﾞｰﾄ${i}`;
  }
}
/** The group index of camera i (undefined: no group); cameras below 40 also sit in a second group. */
const primaryGroup = (i: number) => (i === SOLO ? GROUPS - 1 : i < UNGROUPED_FROM ? i % (GROUPS - 1) : undefined);
const secondGroup = (i: number) => (i < 40 ? (i + 7) % (GROUPS - 1) : undefined);
/** Groups 0–9 are sites; 10–38 floors of site (g % 10); 39 a floor of the last site. */
const parentIndex = (g: number) => (g < SITES ? undefined : g === GROUPS - 1 ? SITES - 1 : g % SITES);

/** The names' order as the service promises it: Japanese collation, numbers as numbers, then id. */
const collator = new Intl.Collator('ja', { numeric: true });
const byName = (a: string, b: string) => collator.compare(names.get(a)!, names.get(b)!) || (a < b ? -1 : a > b ? 1 : 0);

async function json<T>(res: Response): Promise<T> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${res.url}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}
const list = async (query: Record<string, string | number>, token = svc.adminToken): Promise<Page> =>
  json<Page>(await svc.api(`/api/cameras?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]))}`, { headers: { authorization: `Bearer ${token}` } }));
/** Every page of a query, following the cursors. */
async function walk(query: Record<string, string | number>, token = svc.adminToken): Promise<{ ids: string[]; totals: number[]; pages: number }> {
  const out: string[] = [];
  const totals: number[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: Page = await list({ ...query, ...(cursor ? { cursor } : {}) }, token);
    out.push(...page.cameras.map((c) => c.id));
    totals.push(page.total);
    cursor = page.nextCursor;
    pages++;
    assert.ok(pages < 500, 'the cursors end');
  } while (cursor);
  return { ids: out, totals, pages };
}

/** `limit` at a time, by `concurrency` requests at once. */
async function inParallel<T>(items: readonly T[], concurrency: number, each: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        await each(items[i]!, i);
      }
    }),
  );
}

async function addCamera(name: string): Promise<string> {
  const cam = await svc.createCamera(name);
  names.set(cam.id, name);
  secrets.set(cam.id, cam.secret);
  return cam.id;
}

test.before(async () => {
  svc = await startService();
  const made: string[] = new Array(CAMERAS);
  await inParallel([...Array(CAMERAS).keys()], 6, async (i) => {
    made[i] = await addCamera(cameraName(i));
  });
  ids.push(...made);
  for (let g = 0; g < GROUPS; g++) {
    const own = ids.filter((_, i) => primaryGroup(i) === g || secondGroup(i) === g);
    const parent = parentIndex(g);
    const body = { name: g < SITES ? `現場${g + 1}` : `現場${(parent ?? 0) + 1} ${Math.floor(g / SITES)}F`, cameraIds: own, ...(parent !== undefined ? { parentId: groupIds[parent] } : {}) };
    const { group } = await json<{ group: { id: string; parentId: string | null } }>(await svc.api('/api/groups', { method: 'POST', body: JSON.stringify(body) }));
    assert.is(group.parentId, parent === undefined ? null : groupIds[parent]);
    groupIds.push(group.id);
    groupCameras.set(group.id, own);
    parents.set(group.id, parent === undefined ? null : groupIds[parent]!);
  }
  // States from real cameras: camera 0 publishes to a spool it cannot write (a file is where its
  // folder belongs): after the alert delay (30 s) it is "not recording". Camera 2 publishes with
  // recording turned off: live, nothing missing. The rest are offline.
  await fs.mkdir(path.join(svc.dataDir, 'spool'), { recursive: true });
  await fs.writeFile(path.join(svc.dataDir, 'spool', ids[0]!), 'not a folder');
  const off = await svc.api(`/api/cameras/${ids[2]}`, { method: 'PATCH', body: JSON.stringify({ recording: { enabled: false } }) });
  assert.is(off.status, 200, await off.clone().text());
  for (const i of [0, 2]) {
    const id = ids[i]!;
    publishing.push(await Camera.create({ whipUrl: `${svc.url}/whip/${id}`, token: await svc.publishToken(id, secrets.get(id)!), width: 320, height: 180, kbps: 150, fps: 10 }));
  }
});

test.after(async () => {
  for (const camera of publishing) await camera.close().catch(() => undefined);
  await svc?.stop();
});

test('without limit the whole list, as before; with limit pages in name order (numbers as numbers), with the total', async () => {
  const all = await list({});
  assert.is(all.cameras.length, CAMERAS);
  assert.is(all.total, CAMERAS);
  assert.is(all.nextCursor, null);
  const expected = [...ids].sort(byName);
  assert.equal(all.cameras.map((c) => c.id), expected);
  const order = all.cameras.map((c) => c.name);
  assert.ok(order.indexOf('カメラ4') < order.indexOf('カメラ40') && order.indexOf('カメラ40') < order.indexOf('カメラ400'), 'numbers sort as numbers');
  assert.ok(order.indexOf('カメラ8') < order.indexOf('カメラ12'), '"カメラ8" before "カメラ12"');

  const first = await list({ limit: 50 });
  assert.is(first.cameras.length, 50);
  assert.is(first.total, CAMERAS);
  assert.type(first.nextCursor, 'string');
  assert.equal(first.cameras.map((c) => c.id), expected.slice(0, 50));
  // Each camera says which groups it sits in (both, for one in two groups).
  const inTwo = all.cameras.find((c) => c.id === ids[3])!;
  assert.equal(new Set(inTwo.groupIds), new Set([groupIds[primaryGroup(3)!], groupIds[secondGroup(3)!]]));
  assert.equal(all.cameras.find((c) => c.id === ids[UNGROUPED_FROM + 5])!.groupIds, []);
});

test('pages of 50 stay stable while cameras are added and removed: each camera present throughout is seen once, in order', async () => {
  const initial = new Set(names.keys());
  const removed = new Set<string>();
  const added: string[] = [];
  const seen: string[] = [];
  const totals: number[] = [];
  let cursor: string | null = null;
  let round = 0;
  let rng = 7;
  const random = (n: number) => {
    rng = (rng * 1103515245 + 12345) % 2 ** 31;
    return rng % n;
  };
  do {
    const page: Page = await list({ limit: 50, ...(cursor ? { cursor } : {}) });
    seen.push(...page.cameras.map((c) => c.id));
    totals.push(page.total);
    assert.is(page.total, names.size, 'the total counts the cameras there now');
    cursor = page.nextCursor;
    round++;
    // Between pages: 3 cameras added (names anywhere in the order) and 3 removed (seen or not yet),
    // never the ones the later tests rely on.
    for (let k = 0; k < 3; k++) added.push(await addCamera(cameraName(random(CAMERAS)) + ` 追加${round}-${k}`));
    const removable = [...names.keys()].filter((id) => initial.has(id) && !removed.has(id) && ids.indexOf(id) > 100 && ids.indexOf(id) < UNGROUPED_FROM - 100);
    for (let k = 0; k < 3; k++) {
      const id = removable.splice(random(removable.length), 1)[0]!;
      const res = await svc.api(`/api/cameras/${id}`, { method: 'DELETE' });
      assert.is(res.status, 200, await res.clone().text());
      removed.add(id);
      names.delete(id);
    }
  } while (cursor);
  assert.ok(round >= 20, `${round} pages`);
  assert.is(new Set(seen).size, seen.length, 'no camera listed twice');
  const throughout = [...initial].filter((id) => !removed.has(id));
  const seenSet = new Set(seen);
  const missing = throughout.filter((id) => !seenSet.has(id));
  assert.equal(missing, [], 'every camera present throughout was listed');
  // The cameras present throughout came in name order.
  const kept = seen.filter((id) => initial.has(id) && !removed.has(id));
  assert.equal(kept, [...kept].sort(byName));
  // Put the organisation back to the 1,000 the other tests count on (the removed ones were in groups: drop them from the model).
  for (const id of added) {
    const res = await svc.api(`/api/cameras/${id}`, { method: 'DELETE' });
    assert.is(res.status, 200);
    names.delete(id);
  }
  for (const [g, own] of groupCameras) groupCameras.set(g, own.filter((id) => !removed.has(id)));
  for (const id of removed) ids[ids.indexOf(id)] = '';
});

test('q finds names as typed: kanji, katakana, hiragana and half-width alike, case ignored; an exact id', async () => {
  const present = () => [...names.keys()];
  const named = (pred: (name: string) => boolean) => present().filter((id) => pred(names.get(id)!)).sort(byName);
  const cameras = named((n) => n.startsWith('カメラ') || n.startsWith('かめら'));
  for (const q of ['カメラ', 'かめら', 'ｶﾒﾗ']) {
    const { ids: found, totals } = await walk({ q, limit: 100 });
    assert.equal(found, cameras, `q=${q}`);
    assert.is(totals[0], cameras.length);
  }
  const gates = named((n) => n.startsWith('ｹﾞｰﾄ'));
  for (const q of ['ゲート', 'げーと', 'ｹﾞｰﾄ']) assert.equal((await list({ q })).cameras.map((c) => c.id), gates, `q=${q}`);
  const one = await list({ q: '正門北' });
  assert.equal(one.cameras.map((c) => c.name), ['正門北口']);
  assert.is(one.total, 1);
  const entrance = named((n) => n.startsWith('Entrance'));
  assert.equal((await list({ q: 'ENTRANCE' })).cameras.map((c) => c.id), entrance);
  assert.equal((await list({ q: 'ｅｎｔｒａｎｃｅ ２' })).cameras.map((c) => c.name), named((n) => /^Entrance 2/.test(n)).map((id) => names.get(id)), 'full-width letters and digits');
  assert.equal((await list({ q: ids[7]! })).cameras.map((c) => c.id), [ids[7]]);
  assert.is((await list({ q: '存在しない名前' })).total, 0);
  // Search and paging together.
  const page = await list({ q: 'カメラ', limit: 10 });
  assert.equal(page.cameras.map((c) => c.id), cameras.slice(0, 10));
  assert.is(page.total, cameras.length);
});

test('sort=match (a search box): names that start with q first, then those that contain it, each by name; paging keeps that order', async () => {
  // Made here and removed at the end: the other tests count the cameras.
  const added = ['東正門', '正門', '正門 2', '裏の正門口'];
  const made = await Promise.all(added.map((name) => svc.createCamera(name)));
  try {
    const all = new Map([...made.map((c, i): [string, string] => [c.id, added[i]!]), ...[...names].filter(([, name]) => name.includes('正門'))]);
    assert.is(all.size, 5, 'and 正門北口');
    const order = (list: string[]) => list.sort((a, b) => collator.compare(all.get(a)!, all.get(b)!) || (a < b ? -1 : 1));
    const starts = order([...all.keys()].filter((id) => all.get(id)!.startsWith('正門')));
    const contains = order([...all.keys()].filter((id) => !all.get(id)!.startsWith('正門')));
    assert.equal((await list({ q: '正門', sort: 'match' })).cameras.map((c) => all.get(c.id)), [...starts, ...contains].map((id) => all.get(id)));
    assert.equal((await walk({ q: '正門', sort: 'match', limit: 2 })).ids, [...starts, ...contains], 'page by page, the same order');
    assert.equal((await list({ q: '正門', sort: 'name' })).cameras.map((c) => c.id), order([...all.keys()]), 'by name, mixed');
    // An id is the best match; without q the order is the name's.
    assert.equal((await list({ q: made[3]!.id, sort: 'match' })).cameras.map((c) => c.id), [made[3]!.id]);
    assert.equal((await list({ sort: 'match', limit: 20 })).cameras.map((c) => c.id), (await list({ sort: 'name', limit: 20 })).cameras.map((c) => c.id));
  } finally {
    for (const c of made) await svc.api(`/api/cameras/${c.id}`, { method: 'DELETE' });
  }
});

test('group: its cameras and those of every group below it', async () => {
  const site = groupIds[1]!;
  const floors = groupIds.filter((g) => parents.get(g) === site);
  assert.ok(floors.length >= 3, 'the site has floors');
  const expected = [...new Set([site, ...floors].flatMap((g) => groupCameras.get(g)!))].sort(byName);
  const { ids: found, totals } = await walk({ group: site, limit: 30 });
  assert.equal(found, expected);
  assert.is(totals[0], expected.length);
  const floor = floors[0]!;
  assert.equal((await list({ group: floor })).cameras.map((c) => c.id), [...groupCameras.get(floor)!].sort(byName));
  // With a search.
  const both = await list({ group: site, q: 'カメラ' });
  assert.equal(both.cameras.map((c) => c.id), expected.filter((id) => /^カメラ/.test(names.get(id)!)));
  const unknown = await svc.api('/api/cameras?group=grp_doesnotexist');
  assert.is(unknown.status, 404);
  assert.is(((await unknown.json()) as { error: { code: string } }).error.code, 'group_not_found');
});

test('state filters and sort=attention: not recording first, then offline, then live', async () => {
  const blocked = ids[0]!;
  const unrecorded = ids[2]!;
  // The alert needs the camera live and unrecorded for 30 s.
  const deadline = Date.now() + 90_000;
  for (;;) {
    const page = await list({ state: 'not_recording' });
    if (page.total === 1) break;
    if (Date.now() > deadline) throw new Error(`no camera became not_recording:\n${svc.output().slice(-3000)}`);
    await sleep(1000);
  }
  assert.equal((await list({ state: 'not_recording' })).cameras.map((c) => [c.id, c.state, c.live]), [[blocked, 'not_recording', true]]);
  assert.equal((await list({ state: 'live' })).cameras.map((c) => [c.id, c.state, c.live]), [[unrecorded, 'live', true]], 'recording turned off and live: live');
  const offline = await walk({ state: 'offline', limit: 500 });
  assert.is(offline.totals[0], names.size - 2);
  assert.equal(offline.ids, [...names.keys()].filter((id) => id !== blocked && id !== unrecorded).sort(byName));
  const attention = await list({ state: 'attention', sort: 'attention', limit: 3 });
  assert.is(attention.total, names.size - 1);
  assert.is(attention.cameras[0]!.id, blocked);

  const expected = [blocked, ...offline.ids, unrecorded];
  const sorted = await walk({ sort: 'attention', limit: 97 });
  assert.equal(sorted.ids, expected);
  const first = await list({ sort: 'attention', limit: 2 });
  assert.equal(first.cameras.map((c) => c.state), ['not_recording', 'offline']);
  // A cursor of one order cannot continue another.
  const wrong = await svc.api(`/api/cameras?sort=name&cursor=${first.nextCursor}`);
  assert.is(wrong.status, 400);
  assert.match(((await wrong.json()) as { error: { message: string } }).error.message, /sort/);
});

test('a viewer granted 3 cameras (one through a group) and a key limited to a group see only those: list, totals, search, sites', async () => {
  const viewer = await svc.createUser('list-viewer', VIEWER_PASSWORD, 'viewer');
  const floorCam = ids[11]!; // in a floor of site 2 (and in a second group)
  const loose = ids[UNGROUPED_FROM + 10]!;
  const solo = ids[SOLO]!;
  await svc.grant(viewer.id, floorCam);
  await svc.grant(viewer.id, loose);
  const granted = await svc.api('/api/grants', { method: 'PUT', body: JSON.stringify({ userId: viewer.id, groupId: groupIds[GROUPS - 1], rights: ['live'] }) });
  assert.is(granted.status, 200, await granted.clone().text());
  const token = await svc.login('list-viewer', VIEWER_PASSWORD);
  const mine = [floorCam, loose, solo].sort(byName);

  const all = await list({}, token);
  assert.equal(all.cameras.map((c) => c.id), mine);
  assert.is(all.total, 3);
  assert.equal(all.cameras.find((c) => c.id === solo)!.rights, ['live']);
  const paged = await walk({ limit: 2 }, token);
  assert.equal(paged.ids, mine);
  assert.equal(paged.totals, [3, 3]);
  assert.equal((await list({ q: names.get(floorCam)! }, token)).cameras.map((c) => c.id), [floorCam]);
  assert.is((await list({ q: '正門北' }, token)).total, 0, 'a name they may not see is not found');
  assert.is((await list({ q: ids[5]! }, token)).total, 0, 'nor an id');
  assert.is((await list({ q: 'カメラ' }, token)).total, mine.filter((id) => /^(カメラ|かめら)/.test(names.get(id)!)).length);
  assert.equal((await list({ group: groupIds[1]! }, token)).cameras.map((c) => c.id), [floorCam], 'a site counts only their cameras');
  assert.is((await list({ state: 'offline' }, token)).total, 3);
  const refused = await svc.api(`/api/cameras/${ids[5]}`, { headers: { authorization: `Bearer ${token}` } });
  assert.is(refused.status, 404);

  // Their sites tree: only groups with one of their cameras, and the sites above them.
  const tree = await json<Sites>(await svc.api('/api/sites', { headers: { authorization: `Bearer ${token}` } }));
  const holding = (id: string) => groupIds.filter((g) => groupCameras.get(g)!.includes(id));
  const withMine = new Set([...holding(floorCam), ...holding(solo)]);
  const expectedGroups = new Set([...withMine, ...[...withMine].map((g) => parents.get(g)).filter((p): p is string => !!p)]);
  assert.equal(new Set(tree.sites.map((s) => s.id)), expectedGroups);
  assert.equal(tree.all, { cameras: 3, live: 0, offline: 3, notRecording: 0 });
  assert.equal(tree.ungrouped, { cameras: 1, live: 0, offline: 1, notRecording: 0 });
  const lastSite = tree.sites.find((s) => s.id === groupIds[SITES - 1])!;
  assert.is(lastSite.counts.cameras, [floorCam, solo].filter((id) => [groupIds[SITES - 1]!, ...groupIds.filter((g) => parents.get(g) === groupIds[SITES - 1])].some((g) => groupCameras.get(g)!.includes(id))).length);
  assert.is(tree.sites.find((s) => s.id === groupIds[GROUPS - 1])!.parentId, groupIds[SITES - 1]);

  // The same page asked again after the viewer lost a grant: without that camera (no stale page).
  assert.equal((await list({}, token)).cameras.map((c) => c.id), mine);
  const revoked = await svc.api(`/api/cameras/${floorCam}/grants/${viewer.id}`, { method: 'DELETE' });
  assert.is(revoked.status, 204);
  const after = await list({}, token);
  assert.equal(after.cameras.map((c) => c.id), mine.filter((id) => id !== floorCam));
  assert.is(after.total, 2);
  await svc.grant(viewer.id, floorCam);

  // An API key of the admin's, limited to the solo camera's group.
  const created = await json<{ key: string }>(await svc.api('/api/api-keys', { method: 'POST', body: JSON.stringify({ name: 'list test', scope: 'read', groupId: groupIds[GROUPS - 1] }) }));
  const byKey = await list({ limit: 10 }, created.key);
  assert.equal(byKey.cameras.map((c) => c.id), [solo]);
  assert.is(byKey.total, 1);
  assert.is((await list({ q: 'カメラ' }, created.key)).total, /^(カメラ|かめら)/.test(names.get(solo)!) ? 1 : 0);
  const keyTree = await json<Sites>(await svc.api('/api/sites', { headers: { authorization: `Bearer ${created.key}` } }));
  assert.equal(keyTree.all.cameras, 1);
  assert.equal(new Set(keyTree.sites.map((s) => s.id)), new Set([groupIds[GROUPS - 1], groupIds[SITES - 1]]));
});

test('ids names the cameras asked for (a screen that holds ids): only those the caller may see, unknown ids left out', async () => {
  const asked = [ids[900]!, ids[5]!, ids[3]!, 'cam_NoSuchCamera00'];
  const page = await list({ ids: asked.join(',') });
  assert.equal(page.cameras.map((c) => c.id), [ids[900]!, ids[5]!, ids[3]!].sort(byName), 'the three cameras, in name order');
  assert.is(page.total, 3);
  assert.equal(page.cameras.map((c) => c.name), [ids[900]!, ids[5]!, ids[3]!].sort(byName).map((id) => names.get(id)));
  // A viewer names only what they may see: ids of other cameras tell them nothing.
  const viewer = await svc.login('list-viewer', VIEWER_PASSWORD);
  const theirs = await list({ ids: [ids[11]!, ids[5]!, ids[900]!].join(',') }, viewer);
  assert.equal(theirs.cameras.map((c) => c.id), [ids[11]!]);
  // With the other filters: ids and q narrow together.
  const both = await list({ ids: [ids[5]!, ids[6]!].join(','), q: names.get(ids[6]!)! });
  assert.equal(both.cameras.map((c) => c.id), [ids[6]!]);

  // Ids of cameras the test above never removes (it empties their places in `ids`).
  const tooMany = await svc.api(`/api/cameras?ids=${[...ids.slice(0, 100), ...ids.slice(860, 961)].join(',')}`);
  assert.is(tooMany.status, 400, '201 ids');
  assert.match(((await tooMany.json()) as { error: { message: string } }).error.message, /at most 200 cameras/);
  const malformed = await svc.api(`/api/cameras?ids=${encodeURIComponent('cam_ok,not an id')}`);
  assert.is(malformed.status, 400);
  assert.match(((await malformed.json()) as { error: { message: string } }).error.message, /not a camera id/);
});

test('the admin\'s sites tree: every group, counts of distinct cameras including the groups below, states counted', async () => {
  const tree = await json<Sites>(await svc.api('/api/sites'));
  assert.is(tree.sites.length, GROUPS);
  assert.is(tree.all.cameras, names.size);
  assert.equal(tree.all, { cameras: names.size, live: 1, offline: names.size - 2, notRecording: 1 });
  for (const site of tree.sites) {
    assert.is(site.parentId, parents.get(site.id) ?? null);
    const below = [site.id, ...groupIds.filter((g) => parents.get(g) === site.id)];
    const distinct = new Set(below.flatMap((g) => groupCameras.get(g)!));
    assert.is(site.counts.cameras, distinct.size, `${site.name}: distinct cameras`);
    assert.is(site.counts.live + site.counts.offline + site.counts.notRecording, site.counts.cameras);
  }
  const first = tree.sites.find((s) => s.id === groupIds[primaryGroup(0)!])!;
  assert.is(first.counts.notRecording, 1, 'the not-recording camera counts in its group');
  const ungrouped = [...names.keys()].filter((id) => !groupIds.some((g) => groupCameras.get(g)!.includes(id)));
  assert.is(tree.ungrouped.cameras, ungrouped.length);
});

test('a page asked again shows what changed since: a rename, a camera that stopped publishing', async () => {
  const unrecorded = ids[2]!;
  const query = { q: unrecorded, limit: 5 };
  const before = await list(query);
  assert.equal(before.cameras.map((c) => [c.id, c.state]), [[unrecorded, 'live']]);
  assert.equal((await list(query)).cameras.map((c) => [c.id, c.state]), [[unrecorded, 'live']], 'asked again: the same');
  await publishing.splice(1, 1)[0]!.close();
  const deadline = Date.now() + 15_000;
  let now = await list(query);
  while (now.cameras[0]?.state !== 'offline' && Date.now() < deadline) {
    await sleep(250);
    now = await list(query);
  }
  assert.equal(now.cameras.map((c) => [c.id, c.state, c.live]), [[unrecorded, 'offline', false]]);

  const first = await list({ limit: 1 });
  const renamed = await svc.api(`/api/cameras/${first.cameras[0]!.id}`, { method: 'PATCH', body: JSON.stringify({ name: 'ｚｚ 最後に並ぶ名前' }) });
  assert.is(renamed.status, 200, await renamed.clone().text());
  names.set(first.cameras[0]!.id, 'zz 最後に並ぶ名前');
  const again = await list({ limit: 1 });
  assert.is.not(again.cameras[0]!.id, first.cameras[0]!.id, 'the renamed camera moved to its new place');
  assert.equal(again.cameras[0]!.id, [...names.keys()].sort(byName)[0]);
});

test('a page asked again with its ETag answers 304 until something on it changes; another caller never gets it', async () => {
  const path = '/api/cameras?limit=50';
  const get = (headers: Record<string, string> = {}, token = svc.adminToken) => svc.api(path, { headers: { authorization: `Bearer ${token}`, ...headers } });
  const first = await get();
  const etag = first.headers.get('etag');
  assert.ok(etag, 'a page sorted by name carries an ETag');
  assert.is(first.headers.get('cache-control'), 'private, no-cache');
  const page = (await first.json()) as Page;
  const same = await get({ 'if-none-match': etag! });
  assert.is(same.status, 304, 'nothing changed: 304');
  assert.is(await same.text(), '', 'without a body');
  assert.is(same.headers.get('etag'), etag);

  const cam = page.cameras[3]!;
  const renamed = await svc.api(`/api/cameras/${cam.id}`, { method: 'PATCH', body: JSON.stringify({ name: `${cam.name} 改` }) });
  assert.is(renamed.status, 200, await renamed.clone().text());
  names.set(cam.id, `${cam.name} 改`);
  const changed = await get({ 'if-none-match': etag! });
  assert.is(changed.status, 200, 'a camera on the page renamed: the page again');
  const tag = changed.headers.get('etag');
  assert.ok(tag && tag !== etag, 'with a new tag');
  assert.ok(((await changed.json()) as Page).cameras.some((c) => c.id === cam.id && c.name === `${cam.name} 改`));
  assert.is((await get({ 'if-none-match': tag! })).status, 304);

  // Another caller asking with the administrator's tag gets its own page.
  const viewer = await svc.login('list-viewer', VIEWER_PASSWORD);
  const theirs = await get({ 'if-none-match': tag! }, viewer);
  assert.is(theirs.status, 200);
  assert.ok(((await theirs.json()) as Page).cameras.length < page.cameras.length, 'the viewer\'s own (shorter) list');
  // Pages that depend on the cameras' states carry no tag.
  const filtered = await svc.api('/api/cameras?limit=50&state=offline', { headers: { authorization: `Bearer ${svc.adminToken}` } });
  assert.is(filtered.status, 200);
  assert.is(filtered.headers.get('etag'), null);
});

test('bad paging input answers 400 saying what is wrong', async () => {
  const cases: [string, RegExp][] = [
    ['cursor=not*base64', /cursor/],
    [`cursor=${Buffer.from('{"s":"name"}').toString('base64url')}`, /cursor/],
    [`cursor=${Buffer.from('garbage').toString('base64url')}`, /cursor/],
    ['limit=0', /limit must be 1–1000/],
    ['limit=1001', /limit must be 1–1000/],
    ['limit=ten', /limit/],
    ['state=asleep', /state/],
    ['sort=size', /sort/],
  ];
  for (const [query, message] of cases) {
    const res = await svc.api(`/api/cameras?${query}`);
    assert.is(res.status, 400, query);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.is(body.error.code, 'invalid_request', query);
    assert.match(body.error.message, message, `${query}: ${body.error.message}`);
  }
});

test.run();
