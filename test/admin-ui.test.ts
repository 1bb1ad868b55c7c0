// The administration views and the notice banner in Chromium, against the real service: an
// administrator adds an operator and grants them a right on a camera found by search (People), renews a camera secret (Cameras) with a grace period (the old
// secret still gets a publish token, a wrong one does not); an announcement shows in the banner
// of the live page and of a kiosk display (information can be dismissed for the session,
// maintenance not); a scheduled contract end shows in Japanese with the date in Asia/Tokyo; a
// viewer without the export right gets no export button; recorder alerts are listed up top; the
// platform administrator sees the service's nodes (this one up, in English and Japanese) and a
// drain refused on a single-node service with the server's explanation, while an organisation's
// administrator gets no Service view (the link to it says it is not available to them).
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CHROMIUM_ARGS, CHROMIUM_PATH, okJson as json, PageConsole, signInAt, textMatches } from './chromium.ts';
import { startService, type Service } from './harness.ts';

let svc: Service;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pages = new PageConsole();
const step = pages.step.bind(pages);
let camera = { id: '', secret: '' };
/** The administrator's tab, signed in once (sessionStorage carries the session across its pages). */
let adminPage: Page;

const PASSWORD = 'quiet lantern orchard 71';

/** A page in its own context (own cookies: one user per context); the browser's zone is UTC, so Tokyo times come from the app. */
async function newPage(name: string, locale = 'en-US'): Promise<Page> {
  const context = await browser.newContext({ locale, timezoneId: 'UTC', viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  const page = pages.watch(await context.newPage(), name);
  // The panel confirms renewals and role changes.
  page.on('dialog', (d) => void d.accept());
  return page;
}

const signIn = (page: Page, path: string, username: string, password: string) => signInAt(page, `${svc.url}${path}`, username, password);

test.before(async () => {
  svc = await startService();
  camera = await svc.createCamera('Gate');
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
});

test.after(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await svc?.stop();
});

test('an admin adds an operator, grants a right, and renews a camera secret with a grace period', async () => {
  const page = (adminPage = await newPage('admin'));
  await signIn(page, '/#/people', svc.adminUsername, svc.adminPassword);

  await step('add an operator', async () => {
    await page.fill('#new-user-name', 'op1');
    await page.fill('#new-user-password', PASSWORD);
    await page.selectOption('#new-user-role', 'operator');
    await page.click('#add-user button[type=submit]');
    await page.waitForSelector('#admin-users tr[data-user-id] >> text=op1', { timeout: 10_000 });
  });
  const users = await json<{ users: { id: string; username: string; role: string }[] }>(await svc.api('/api/users'));
  const op = users.users.find((u) => u.username === 'op1');
  assert.ok(op, 'the operator exists');
  assert.is(op.role, 'operator');

  await step('grant export on the camera', async () => {
    // A new non-admin user's permissions open at once; the camera is found by its name and added
    // as a row; an operator is offered every right.
    const editor = `#grants-${op.id}[data-loaded]`;
    await page.waitForSelector(editor, { timeout: 10_000 });
    await page.fill(`${editor} .camera-chooser input`, 'gat');
    await page.waitForSelector(`${editor} [role=option][data-camera-id="${camera.id}"][aria-selected=true]`, { timeout: 10_000 });
    await page.press(`${editor} .camera-chooser input`, 'Enter');
    const box = `${editor} input[data-camera-id="${camera.id}"][data-right="export"]`;
    await page.waitForSelector(box, { timeout: 10_000 });
    assert.ok(await page.isVisible(`#grants-${op.id} input[data-right="manage"]`), 'an operator may be given manage');
    await page.check(box);
    await page.waitForSelector(`#grants-${op.id} .notice[data-tone="ok"]`, { timeout: 10_000 });
  });
  const grants = await json<{ grants: { cameraId?: string; rights: string[] }[] }>(await svc.api(`/api/grants?userId=${op.id}`));
  assert.equal(grants.grants.map((g) => [g.cameraId, g.rights]), [[camera.id, ['export']]]);

  const secret = await step('renew the secret (old one valid 24 h)', async () => {
    await page.click('#nav a[data-view="cameras"]');
    const row = `#admin-cameras tr[data-camera-id="${camera.id}"]`;
    await page.waitForSelector(`${row} .rotate-secret`, { timeout: 10_000 });
    assert.is(await page.inputValue(`${row} .rotate-grace`), '24', 'a day of grace by default');
    await page.click(`${row} .rotate-secret`);
    await page.waitForSelector('.secret-box .old-secret', { timeout: 10_000 });
    return (await page.textContent(`.secret-box code.secret[data-camera-id="${camera.id}"]`)) ?? '';
  });
  assert.ok(secret.length > 10 && secret !== camera.secret, 'a new secret is shown once');
  const until = (await page.textContent('.secret-box .old-secret')) ?? '';
  assert.match(until, /old secret keeps working until/i);

  const publish = (s: string) =>
    fetch(`${svc.url}/api/cameras/${camera.id}/publish-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret: s }) });
  assert.is((await publish(camera.secret)).status, 200, 'the old secret still works during the grace period');
  assert.is((await publish(secret)).status, 200, 'the new secret works');
  assert.is((await publish('not-the-secret-at-all')).status, 401, 'a wrong secret does not');

  // The operator signs in elsewhere; the admin signs them out everywhere from the user list.
  const opToken = await svc.login('op1', PASSWORD);
  await step('sign the operator out everywhere', async () => {
    await page.goBack();
    await page.click(`#admin-users tr[data-user-id="${op.id}"] .user-sign-out`);
    await page.waitForSelector('#people >> text=/op1 was signed out of 1 session/', { timeout: 10_000 });
  });
  const after = await fetch(`${svc.url}/api/cameras`, { headers: { authorization: `Bearer ${opToken}` } });
  assert.is(after.status, 401, 'their session ended');
  assert.match(await after.text(), /session_revoked/);
});

test('an announcement shows in the banner of the live page and of a kiosk display', async () => {
  const message = 'Planned maintenance tonight 22:00-23:00';
  const endsAt = new Date(Date.now() + 3_600_000).toISOString();
  await json(await svc.api('/api/announcements', { method: 'POST', body: JSON.stringify({ kind: 'maintenance', message, endsAt }) }));
  await json(await svc.api('/api/announcements', { method: 'POST', body: JSON.stringify({ kind: 'info', message: 'New cameras on floor 3', endsAt }) }));

  // The banner asks on load (and then every minute).
  const page = adminPage;
  await page.reload();
  await step('banner on the live page', () => page.waitForSelector(`#notice-banner .notice-item[data-kind="maintenance"] >> text=${message}`, { timeout: 10_000 }));
  assert.not.ok(await page.isVisible('#notice-banner .notice-item[data-kind="maintenance"] .notice-dismiss'), 'maintenance cannot be dismissed');
  await step('information is dismissed for the session', async () => {
    await page.click('#notice-banner .notice-item[data-kind="info"] .notice-dismiss');
    await page.waitForSelector('#notice-banner .notice-item[data-kind="info"]', { state: 'detached', timeout: 5_000 });
    await page.reload();
    await page.waitForSelector('#notice-banner .notice-item[data-kind="maintenance"]', { timeout: 10_000 });
    assert.not.ok(await page.isVisible('#notice-banner .notice-item[data-kind="info"]'), 'still dismissed after a reload');
  });

  const { url } = await json<{ url: string }>(
    await svc.api('/api/kiosks', { method: 'POST', body: JSON.stringify({ name: 'Lobby', cameraIds: [camera.id], layout: 1, rotateSeconds: 10 }) }),
  );
  const kiosk = await newPage('kiosk');
  await kiosk.goto(new URL(url, svc.url).href);
  await step('banner on the kiosk', () => kiosk.waitForSelector(`#notice-banner .notice-item[data-kind="maintenance"] >> text=${message}`, { timeout: 15_000 }));
});

test('a scheduled contract end shows in Japanese with the date in Asia/Tokyo', async () => {
  const { org } = await json<{ org: { id: string } }>(
    await svc.api('/api/orgs', { method: 'POST', body: JSON.stringify({ name: 'Customer B', admin: { username: 'b-admin', password: PASSWORD } }) }),
  );
  // 16:30 UTC is 01:30 the next day in Tokyo: the shown date proves the zone.
  const at = Date.UTC(new Date().getUTCFullYear() + 1, 0, 15, 16, 30);
  await json(await svc.api(`/api/orgs/${org.id}/deletion`, { method: 'PUT', body: JSON.stringify({ at: new Date(at).toISOString() }) }));

  const page = await newPage('b-admin', 'ja-JP');
  await signIn(page, '/', 'b-admin', PASSWORD);
  const item = '#notice-banner .notice-item[data-kind="contract_end"]';
  await step('contract-end banner', () => page.waitForSelector(item, { timeout: 10_000 }));
  const text = (await page.textContent(item)) ?? '';
  const tokyo = new Intl.DateTimeFormat('ja-JP', { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'Asia/Tokyo' }).format(at);
  assert.ok(text.includes(tokyo), `the date in Tokyo (${tokyo}) is in: ${text}`);
  assert.ok(text.includes(`${new Date(at).getUTCFullYear()}/01/16`), 'the Tokyo calendar day, not the UTC one');
  assert.match(text, /ご契約は.*終了します/);
  assert.match(text, /録画・カメラ・アカウントが削除/);
  assert.match(text, /書き出してください/);
  assert.not.ok(await page.isVisible(`${item} .notice-dismiss`), 'a contract end cannot be dismissed');
});

test('a viewer without the export right sees no export or share button; an admin does', async () => {
  const viewer = await svc.createUser('viewer1', PASSWORD, 'viewer');
  await svc.grant(viewer.id, camera.id);

  const page = await newPage('viewer');
  await signIn(page, `/playback.html#camera=${camera.id}`, 'viewer1', PASSWORD);
  await step('playback page loads the camera', () => page.waitForSelector(`#camera-name[data-camera-id="${camera.id}"]`, { timeout: 10_000 }));
  assert.not.ok(await page.isVisible('#export-create'), 'no export button without the export right');
  assert.not.ok(await page.isVisible('#share-create'), 'no share button without the share right');

  const admin = adminPage;
  await admin.goto(`${svc.url}/playback.html#camera=${camera.id}`);
  await step('the admin gets the export button', () => admin.waitForSelector('#export-create', { state: 'visible', timeout: 10_000 }));
  assert.ok(await admin.isVisible('#share-create'), 'and the share button');
});

test('the admin sees cameras online but not recording above the live view', async () => {
  // The recorder's answer is stubbed in the page: raising a real alert takes over 30 s of a
  // failing recording (monitoring.test.ts covers that); here the list and its place are checked.
  const page = adminPage;
  const sinceMs = Date.now() - 5 * 60_000;
  await page.route('**/api/recorder/alerts', (route) => route.fulfill({ json: { alerts: [{ cameraId: camera.id, kind: 'not_recording', sinceMs }] } }));
  try {
    await page.goto(`${svc.url}/#/live`);
    const item = `#recorder-alerts li[data-camera-id="${camera.id}"]`;
    await step('alert listed', () => page.waitForSelector(item, { timeout: 10_000 }));
    // The alert may be drawn before the camera list arrives (with the camera's id), then named.
    await textMatches(page, item, /Gate: online but not recording since/).catch(() => undefined);
    assert.match((await page.textContent(item)) ?? '', /Gate: online but not recording since/);
    const above = await page.evaluate(`document.querySelector('#view-live > #recorder-alerts').compareDocumentPosition(document.querySelector('#view-live > :last-child')) & Node.DOCUMENT_POSITION_FOLLOWING`);
    assert.ok(above, 'the alerts come first in the Live view, before the grid');
  } finally {
    await page.unroute('**/api/recorder/alerts');
  }
});

test('the platform administrator sees this node up, and a drain on a single-node service is refused with the reason', async () => {
  const sfu = await json<{ node: string; nodes: { id: string; self: boolean; state: string; startedAt: string; owns: number }[] }>(await svc.api('/api/sfu'));
  assert.is(sfu.nodes.length, 1, 'a single-node service lists itself only');
  const self = sfu.nodes[0]!;
  assert.ok(self.self && self.id === sfu.node && self.state === 'up', `this node, up: ${JSON.stringify(self)}`);

  const page = adminPage;
  const sfuReads: number[] = [];
  const countReads = (r: { url(): string }) => new URL(r.url()).pathname === '/api/sfu' && sfuReads.push(Date.now());
  page.on('request', countReads);
  try {
    await page.goto(`${svc.url}/#/service`);
    const row = `#nodes #node-table tr[data-node-id="${self.id}"]`;
    await step('the nodes panel lists this node', () => page.waitForSelector(row, { timeout: 10_000 }));
    assert.is(await page.getAttribute(row, 'data-state'), 'up');
    assert.is((await page.textContent(`${row} .node-state .badge`))?.trim(), 'Up', 'the state, in English');
    assert.is((await page.textContent(`${row} .node-self`))?.trim(), 'this node', 'the node that answered is marked');
    assert.is(await page.locator('#node-table tbody tr').count(), 1, 'one row');
    // The browser's zone is UTC: the start time in Tokyo shows the app's zone is used.
    const started = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'Asia/Tokyo' }).format(Date.parse(self.startedAt));
    assert.is((await page.textContent(`${row} time`))?.trim(), started, 'started, in Asia/Tokyo');
    assert.ok(await page.isVisible(`${row} button.node-drain`), 'a node that is up can be drained');
    assert.not.ok(await page.isVisible('#nodes .node-drain-status'), 'no drain in progress');

    let asked = '';
    page.once('dialog', (d) => (asked = `${d.type()}: ${d.message()}`));
    await page.click(`${row} button.node-drain`);
    const error = '#nodes .notice[data-tone="error"]';
    await step('the refusal is shown in the panel', () => page.waitForSelector(error, { timeout: 10_000 }));
    assert.match(asked, new RegExp(`^prompt: Drain node ${self.id}\\?`), 'asked first, with a field for the reason');
    const text = (await page.textContent(error)) ?? '';
    assert.match(text, /This service runs as a single node: there is no other node to move its cameras to/, 'explained in English');
    assert.match(text, /no MIMAMORI_INTERNAL_URL/, `with the server's own message: ${text}`);

    // Still running, still up, and the panel keeps reading (every 3 s).
    assert.is((await fetch(`${svc.url}/healthz`)).status, 200, 'the service keeps running');
    const after = await json<{ nodes: { id: string; state: string }[] }>(await svc.api('/api/sfu'));
    assert.equal(after.nodes.map((n) => [n.id, n.state]), [[self.id, 'up']], 'the node is not draining');
    const reads = sfuReads.length;
    await step('the list is read again', () => page.waitForRequest((r) => new URL(r.url()).pathname === '/api/sfu', { timeout: 6_000 }));
    await page.waitForTimeout(200);
    assert.ok(sfuReads.length > reads, 'read again after the refusal');
    assert.is(await page.getAttribute(row, 'data-state'), 'up');

    await step('in Japanese', async () => {
      await page.selectOption('#lang-select', 'ja');
      await textMatches(page, `${row} .node-state .badge`, /^稼働中$/, 5_000);
      assert.is((await page.textContent('#nodes h3'))?.trim(), 'ノード（サーバー）');
      assert.is((await page.textContent(`${row} .node-self`))?.trim(), 'このノード');
      assert.is((await page.textContent(`${row} button.node-drain`))?.trim(), '停止準備（ドレイン）');
      const jaStarted = new Intl.DateTimeFormat('ja-JP', { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'Asia/Tokyo' }).format(Date.parse(self.startedAt));
      assert.is((await page.textContent(`${row} time`))?.trim(), jaStarted, 'the Japanese date format');
      await page.click(`${row} button.node-drain`);
      await textMatches(page, error, /1台のノードだけで動いている/);
      assert.match((await page.textContent(error)) ?? '', /サーバーからの説明: .*no MIMAMORI_INTERNAL_URL/);
    });
  } finally {
    page.off('request', countReads);
    await page.selectOption('#lang-select', 'en').catch(() => undefined);
  }

  // An organisation's administrator is not a platform operator: no nodes panel, no reads.
  await json(await svc.api('/api/orgs', { method: 'POST', body: JSON.stringify({ name: 'Customer C', admin: { username: 'c-admin', password: PASSWORD } }) }));
  const other = await newPage('c-admin');
  const theirReads: string[] = [];
  other.on('request', (r) => new URL(r.url()).pathname === '/api/sfu' && theirReads.push(r.url()));
  await signIn(other, '/#/service', 'c-admin', PASSWORD);
  await step('the Service view is not theirs', () => other.waitForSelector('#view-unavailable[data-view="service"]', { timeout: 10_000 }));
  await other.waitForTimeout(500);
  assert.is(await other.locator('#nodes').count(), 0, 'no nodes panel');
  assert.is(await other.locator('#nav a[data-view="service"]').count(), 0, 'no Service in their navigation');
  assert.is(await other.locator('#nav a[data-view="people"]').count(), 1, 'but the organisation\'s administration');
  assert.equal(theirReads, [], 'the node list is not asked for');
});

test.run();
