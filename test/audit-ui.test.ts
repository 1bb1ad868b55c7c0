// The readable audit log in Chromium, against the real service: two named users act through the
// API (sign-in, a grant, live views granted and refused, a share link; a third signs in and is
// deleted), and an administrator reads it at #/audit as sentences with names — in Japanese, and
// in English after switching the language in place; filters by person, camera, site and kind of
// action narrow the rows (on the server: paging and the JSONL export agree); a row's raw details
// open from the keyboard.
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CHROMIUM_ARGS, CHROMIUM_PATH, signInAt, textMatches } from './chromium.ts';
import { connectSocket, startService, type Service } from './harness.ts';

let svc: Service;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const log: string[] = [];
const sockets: Socket[] = [];
const PASSWORD = 'quiet lantern orchard 71';
const ids = { gate: '', store: '', site: '', sato: '', suzuki: '', temp: '' };

async function json<T>(res: Response): Promise<T> {
  if (!res.ok) throw new Error(`${res.url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
const as = (token: string, method: string, body: unknown): RequestInit => ({ method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Fails with the page's console: a timeout alone says little. */
async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const sentences = await page?.locator('#audit-table .audit-sentence').allTextContents().catch(() => []);
    throw new Error(`${what}: ${(err as Error).message}\nrows shown:\n  ${sentences?.join('\n  ')}\n${log.slice(-20).join('\n')}`);
  }
}

/** The audit view: `/#/audit`, until the panel shows (the same goto works wherever the panel lives). */
async function openAudit(p: Page): Promise<void> {
  await p.goto(`${svc.url}/#/audit`);
  await p.locator('#audit').waitFor({ state: 'visible', timeout: 15_000 });
}

/** The sentences shown once `done` holds for them (the table is refilled when an answer arrives). */
async function sentencesWhen(done: (sentences: string[]) => boolean, what: string): Promise<string[]> {
  const until = Date.now() + 10_000;
  let last: string[] = [];
  while (Date.now() < until) {
    last = await page.locator('#audit-table .audit-sentence').allTextContents();
    if (last.length > 0 && done(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: never true of the rows shown:\n  ${last.join('\n  ')}`);
}

/** Sets the filters (others back to "all") and searches. */
async function filter(choice: Partial<Record<'person' | 'camera' | 'site' | 'category', string>>): Promise<void> {
  for (const name of ['person', 'camera', 'site', 'category'] as const) await page.selectOption(`#audit-${name}`, choice[name] ?? '');
  await page.click('#audit-filters button[type=submit]');
}

async function viewerJoin(token: string, cameraId: string): Promise<{ ok: boolean }> {
  const socket = await connectSocket(svc.url, token);
  sockets.push(socket);
  return (await socket.timeout(10_000).emitWithAck('request', { method: 'join', data: { cameraId, role: 'viewer' } })) as { ok: boolean };
}

test.before(async () => {
  try {
    await setUp();
  } catch (err) {
    // uvu reports a failing hook by nothing but a zero count: say why.
    console.error('setting up failed:', err);
    throw err;
  }
});

async function setUp(): Promise<void> {
  svc = await startService();
  ids.gate = (await svc.createCamera('正門')).id;
  ids.store = (await svc.createCamera('倉庫')).id;
  ids.sato = (await svc.createUser('sato', PASSWORD, 'operator')).id;
  ids.suzuki = (await svc.createUser('suzuki', PASSWORD, 'admin')).id;
  ids.temp = (await svc.createUser('temp.guard', PASSWORD, 'viewer')).id;
  ids.site = (await json<{ group: { id: string } }>(await svc.api('/api/groups', { method: 'POST', body: JSON.stringify({ name: '本社', cameraIds: [ids.gate] }) }))).group.id;

  // What the log will tell: sign-ins, suzuki's grant to sato, sato's live views (one refused), a share link.
  const suzuki = await svc.login('suzuki', PASSWORD);
  const sato = await svc.login('sato', PASSWORD);
  await svc.login('temp.guard', PASSWORD);
  await json(await svc.api('/api/grants', as(suzuki, 'PUT', { userId: ids.sato, cameraId: ids.gate, rights: ['live', 'playback', 'share'] })));
  assert.ok((await viewerJoin(sato, ids.gate)).ok, 'sato may watch the main gate');
  assert.not.ok((await viewerJoin(sato, ids.store)).ok, 'sato may not watch the store room');
  await json(await svc.api('/api/shares', as(sato, 'POST', { cameraId: ids.gate, kind: 'live', expiresInHours: 24 })));
  // A user who is gone by the time the log is read.
  const deleted = await svc.api(`/api/users/${ids.temp}`, as(suzuki, 'DELETE', undefined));
  assert.ok(deleted.ok, `deleting temp.guard: ${deleted.status}`);

  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  context = await browser.newContext({ locale: 'ja-JP', timezoneId: 'UTC', viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('console', (m) => m.type() !== 'debug' && log.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`));
  // Signed in at the audit view: the Live view would watch the cameras, and its own "watched"
  // rows (written as soon as its tiles join) would join the rows the filters are checked against.
  await signInAt(page, `${svc.url}/#/audit`, svc.adminUsername, svc.adminPassword);
}

test.after(async () => {
  for (const s of sockets) s.close();
  await context?.close().catch(() => undefined);
  await browser?.close();
  await svc?.stop();
});

test('the actions read as sentences with names, in Japanese and then in English', async () => {
  await openAudit(page);
  await page.selectOption('#lang-select', 'ja');
  const ja = await step('Japanese sentences', () =>
    sentencesWhen((s) => s.some((x) => x.includes('共有リンク')), 'the share link is listed'),
  );
  const expectJa = [
    'satoさんがログインしました',
    'suzukiさんがsatoさんの「正門」に対する権限を「ライブ・再生・共有リンク」に設定しました',
    'satoさんが「正門」のライブ映像を視聴しました',
    'satoさんが「倉庫」のライブ映像を視聴しようとしましたが、拒否されました',
    'satoさんが「正門」の共有リンク（ライブ、',
    'temp.guardさん（削除済み）がログインしました',
    'suzukiさんがユーザーtemp.guardさん（削除済み）を削除しました',
  ];
  for (const want of expectJa) assert.ok(ja.some((s) => s.includes(want)), `no row reads "${want}":\n  ${ja.join('\n  ')}`);
  // Names, never ids, in what people read.
  for (const s of ja) assert.not.match(s, /\bu_[A-Za-z0-9]{6,}|\bcam_[A-Za-z0-9]{6,}/, `an id in "${s}"`);

  // The language switches in place: the same rows, now in English.
  await page.selectOption('#lang-select', 'en');
  const en = await step('English sentences', () => sentencesWhen((s) => s.some((x) => x.startsWith('sato watched 正門 live')), 'English rows'));
  const expectEn = [
    'suzuki set the rights of sato on 正門 to Live, Playback, Share links',
    'sato tried to watch 倉庫 live, but was refused',
    'sato created a share link to 正門 (live, valid until',
    'temp.guard (deleted) signed in',
  ];
  for (const want of expectEn) assert.ok(en.some((s) => s.includes(want)), `no row reads "${want}":\n  ${en.join('\n  ')}`);
  assert.is(en.length, ja.length, 'the same rows in both languages');
});

test('filters by person, camera, site and kind of action narrow the rows', async () => {
  await openAudit(page);
  await page.selectOption('#lang-select', 'en');
  // The choices are names.
  await step('choices by name', async () => {
    await textMatches(page, '#audit-person', /sato.*suzuki/s);
    assert.match(await page.locator('#audit-camera').innerText(), /正門[\s\S]*倉庫|倉庫[\s\S]*正門/);
    assert.match(await page.locator('#audit-site').innerText(), /本社 \(1 cameras\)/);
  });

  await filter({ person: `u:${ids.sato}` });
  const bySato = await step('person: sato', () => sentencesWhen((s) => s.every((x) => x.startsWith('sato ')), 'only sato'));
  assert.ok(bySato.some((s) => s.includes('watched 正門 live')) && bySato.some((s) => s === 'sato signed in'), bySato.join('\n'));

  await filter({ camera: ids.store });
  const store = await step('camera: 倉庫', () => sentencesWhen((s) => s.every((x) => x.includes('倉庫')), 'only the store room'));
  assert.equal(store, ['sato tried to watch 倉庫 live, but was refused (camera not found or not permitted)', `${svc.adminUsername} added the camera 倉庫`]);

  await filter({ site: ids.site });
  const site = await step('site: 本社', () => sentencesWhen((s) => s.every((x) => x.includes('正門') && !x.includes('倉庫')), 'only the main gate'));
  for (const want of ['set the rights of sato on 正門', 'sato watched 正門 live', 'sato created a share link to 正門']) assert.ok(site.some((s) => s.includes(want)), `${want}:\n  ${site.join('\n  ')}`);

  await filter({ category: 'permissions' });
  const perms = await step('category: permissions', () => sentencesWhen((s) => s.every((x) => /set the rights|deleted the user|added the user|camera group/.test(x)), 'only permissions'));
  assert.ok(perms.some((s) => s.startsWith('suzuki set the rights of sato')), perms.join('\n'));

  await filter({ person: `u:${ids.sato}`, category: 'live' });
  const satoLive = await step('sato and live', () => sentencesWhen((s) => s.length === 2 && s.every((x) => x.startsWith('sato ') && x.includes('live')), 'sato\'s two live views'));
  assert.is(satoLive.length, 2);

  await filter({});
  await step('all again', () => sentencesWhen((s) => s.some((x) => x.includes('倉庫')) && s.some((x) => x.includes('suzuki')), 'every row'));
});

test('the filters are in the link: a filtered log survives a reload, and a link opens it filtered', async () => {
  await page.goto(`${svc.url}/#/audit?camera=${ids.store}&category=live`);
  await page.selectOption('#lang-select', 'en');
  const linked = await step('opened from a link', () => sentencesWhen((s) => s.every((x) => x.includes('倉庫')), 'only the store room'));
  assert.equal(linked, ['sato tried to watch 倉庫 live, but was refused (camera not found or not permitted)']);
  await step('the selects show the link\'s filters once their choices load', async () => {
    await page.locator(`#audit-camera option[value="${ids.store}"]`).waitFor({ state: 'attached', timeout: 10_000 });
    assert.is(await page.locator('#audit-camera').inputValue(), ids.store);
    assert.is(await page.locator('#audit-category').inputValue(), 'live');
  });
  // Chosen in the page: the link follows, and a reload shows the same rows.
  await filter({ person: `u:${ids.sato}`, category: 'live' });
  await step('sato and live', () => sentencesWhen((s) => s.length === 2 && s.every((x) => x.startsWith('sato ')), 'sato\'s two live views'));
  const hash = new URL(page.url()).hash;
  assert.is(hash, `#/audit?person=${encodeURIComponent(`u:${ids.sato}`)}&category=live`);
  await page.reload();
  await step('after a reload', () => sentencesWhen((s) => s.length === 2 && s.every((x) => x.startsWith('sato ') && x.includes('live')), 'the same two rows'));
  assert.is(await page.locator('#audit-category').inputValue(), 'live');
  // A link to a camera since deleted (or never there) shows every camera rather than nothing.
  await page.goto(`${svc.url}/#/audit?camera=cam_gone`);
  await step('an unknown camera', () => sentencesWhen((s) => s.some((x) => x.includes('倉庫')) && s.some((x) => x.includes('正門')), 'every camera'));
  await page.locator(`#audit-camera option[value="${ids.store}"]`).waitFor({ state: 'attached', timeout: 10_000 });
  assert.is(await page.locator('#audit-camera').inputValue(), '');
});

test('paging and the download follow the same filters', async () => {
  const q = `site=${ids.site}`;
  const all = await json<{ rows: { seq: number }[] }>(await svc.api(`/api/audit?${q}`));
  const paged: number[] = [];
  let cursor: string | undefined;
  do {
    const page1 = await json<{ rows: { seq: number }[]; nextCursor?: string }>(await svc.api(`/api/audit?${q}&limit=1${cursor ? `&cursor=${cursor}` : ''}`));
    paged.push(...page1.rows.map((r) => r.seq));
    cursor = page1.nextCursor;
  } while (cursor);
  assert.ok(all.rows.length >= 3, `rows about the site: ${all.rows.length}`);
  assert.equal(paged, all.rows.map((r) => r.seq), 'one row a page, the same rows');
  const lines = (await (await svc.api(`/api/audit/export?${q}&category=live&format=jsonl`)).text()).trim().split('\n').map((l) => JSON.parse(l) as { action: string; cameraId?: string });
  assert.ok(lines.length >= 1);
  for (const l of lines) assert.ok(l.action === 'live.view' && l.cameraId === ids.gate, JSON.stringify(l));
  // A site that is not one is said so, and so is a kind of action that is not one.
  const bad = await svc.api('/api/audit?site=grp_nothere');
  assert.is(bad.status, 404);
  const badCategory = await svc.api('/api/audit?category=everything');
  assert.is(badCategory.status, 400);
  assert.match(await badCategory.text(), /signin/);
});

test('the choices are for administrators, by name', async () => {
  const choices = await json<{ people: { actor: string; name: string }[]; cameras: { name: string }[]; sites: { id: string; name: string; cameras: number }[]; categories: Record<string, string[]> }>(await svc.api('/api/audit/choices'));
  assert.ok(choices.people.some((p) => p.actor === `u:${ids.sato}` && p.name === 'sato'));
  assert.not.ok(choices.people.some((p) => p.actor === `u:${ids.temp}`), 'a deleted user is no choice');
  assert.equal(choices.sites, [{ id: ids.site, name: '本社', cameras: 1 }]);
  assert.ok(choices.categories.live?.includes('live.view'));
  // An operator (sato) may not read the audit log, nor what it can be filtered by.
  const sato = await svc.login('sato', PASSWORD);
  for (const path of ['/api/audit/choices', `/api/audit?site=${ids.site}`]) {
    const res = await fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${sato}` } });
    assert.is(res.status, 403, path);
  }
});

test('a row\'s raw details open from the keyboard', async () => {
  await openAudit(page);
  await filter({ camera: ids.store, category: 'live' });
  await step('the refused view', () => sentencesWhen((s) => s.length === 1 && s[0]!.includes('倉庫'), 'one row'));
  const details = page.locator('#audit-table details').first();
  assert.is(await details.evaluate((d) => (d as unknown as { open: boolean }).open), false);
  await details.locator('summary').focus();
  await page.keyboard.press('Enter');
  await step('details open', () => details.locator('pre').waitFor({ state: 'visible', timeout: 5000 }));
  const text = await details.innerText();
  assert.ok(text.includes(`u:${ids.sato}`), text);
  assert.ok(text.includes(ids.store), text);
  assert.match(text, /"code": "camera_not_found"/);
  assert.match(text, /live\.view/);
  assert.match(text, /127\.0\.0\.1|::1|::ffff:127\.0\.0\.1/);
});

test.run();
