// The signed-in app's views in Chromium, against the real service and a werift camera: every view
// an administrator may use is reachable from the navigation (marked current, its heading focused)
// and by its link after a reload; back and forward move between views; an unknown route falls
// back to Live; a viewer's navigation lists only what they may use and a link to People says it is
// not available to them (en and ja); leaving Live closes its tiles' consumers on the server and
// coming back opens them again; the Live view with many cameras holds no administration section;
// on a 375 px screen the same navigation folds behind a menu button.
import { spawnSync } from 'node:child_process';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Camera } from '../camera/index.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, signInAt, textMatches } from './chromium.ts';
import { startService, type Service } from './harness.ts';

let svc: Service;
let browser: Browser;
let camera: Camera | undefined;
let gate = { id: '', secret: '' };
const contexts: BrowserContext[] = [];
const log: string[] = [];
const PASSWORD = 'amber kettle meadow 58';
/** Cameras besides the live one: enough that the old page drew thousands of admin rows. */
const MANY = 120;

const ADMIN_VIEWS = ['live', 'health', 'cameras', 'people', 'displays', 'notices', 'audit', 'organisation', 'service'] as const;
/** Something each view draws once it has read what it shows (the view's own parts). */
const CONTENT: Partial<Record<(typeof ADMIN_VIEWS)[number], string>> = {
  cameras: '#admin-cameras tr[data-camera-id]',
  people: '#admin-users tr[data-user-id]',
  displays: '#admin-kiosks',
  notices: '#add-announcement',
  organisation: '#integrations #api-keys-table',
  service: '#node-table tr[data-node-id]',
};
/** Administration that must not be in the Live view's DOM. */
const ADMIN_PARTS = '#admin-cameras, #admin-users, #groups, #admin-kiosks, #announcements, #admin-audit-section, #audit-table, #integrations, #orgs, #nodes, #add-camera';

type InPage = {
  __mimamori: { view: string | null; tiles(): { cameraId: string; state: string; framesDecoded: number }[] };
  location: { hash: string };
  document: {
    activeElement: { id: string } | null;
    querySelector(s: string): unknown;
    getElementsByTagName(s: string): { length: number };
  };
};

async function newPage(name: string, { locale = 'en-US', width = 1280, height = 900 } = {}): Promise<Page> {
  const context = await browser.newContext({ locale, timezoneId: 'UTC', viewport: { width, height } });
  contexts.push(context);
  const page = await context.newPage();
  page.on('console', (m) => m.type() !== 'debug' && log.push(`[${name} ${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => log.push(`[${name} pageerror] ${e.message}`));
  return page;
}

const signIn = (page: Page, path: string, username: string, password: string) => signInAt(page, `${svc.url}${path}`, username, password);

/** Fails with the pages' console: a timeout alone says little. */
async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}\n${log.slice(-30).join('\n')}`);
  }
}

/** Until `view` is on screen, its heading focused when `focused`. */
async function shown(page: Page, view: string, { focused = false } = {}): Promise<void> {
  await step(`the ${view} view`, () =>
    page.waitForFunction(
      ({ view, focused }) => {
        const w = globalThis as unknown as InPage;
        if (w.__mimamori?.view !== view || !w.document.querySelector(`.view[data-view="${view}"]`)) return false;
        return !focused || w.document.activeElement?.id === `view-${view}-title`;
      },
      { view, focused },
      { timeout: 10_000 },
    ),
  );
}

const hash = (page: Page) => page.evaluate(() => (globalThis as unknown as InPage).location.hash);
const navViews = (page: Page) => page.locator('#nav a').evaluateAll((links) => links.map((a) => a.getAttribute('data-view') ?? a.id));
const current = (page: Page) => page.locator('#nav a[aria-current="page"]').evaluateAll((links) => links.map((a) => a.getAttribute('data-view')));

/** Viewers of the camera on this (single) node, as the server counts them. */
async function viewersOfGate(): Promise<number> {
  const sfu = (await (await svc.api('/api/sfu')).json()) as { cameras: { id: string; viewers: number }[] };
  return sfu.cameras.find((c) => c.id === gate.id)?.viewers ?? 0;
}

async function viewersBecome(n: number, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  let seen = await viewersOfGate();
  while (seen !== n) {
    if (Date.now() > deadline) throw new Error(`${what}: ${seen} viewers of the camera on the server, expected ${n}\n${log.slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
    seen = await viewersOfGate();
  }
}

test.before(async () => {
  const built = spawnSync('bash', ['setup/client.sh'], { cwd: new URL('..', import.meta.url), stdio: 'inherit' });
  assert.is(built.status, 0, 'setup/client.sh builds the pages');
  svc = await startService();
  // First by creation and by name: on the grid's first page whichever order it uses.
  gate = await svc.createCamera('0 Gate');
  for (let i = 0; i < MANY; i += 20) {
    await Promise.all(Array.from({ length: Math.min(20, MANY - i) }, (_, k) => svc.createCamera(`Camera ${String(i + k + 1).padStart(3, '0')}`)));
  }
  camera = await Camera.create({ whipUrl: `${svc.url}/whip/${gate.id}`, token: await svc.publishToken(gate.id, gate.secret), width: 320, height: 180, kbps: 300 });
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
});

test.after(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await camera?.close();
  await svc?.stop();
});

test('an administrator reaches every view from the navigation and by its link after a reload; back and forward work', async () => {
  const page = await newPage('admin');
  await signIn(page, '/', svc.adminUsername, svc.adminPassword);
  await shown(page, 'live');
  assert.is(await hash(page), '', 'the default view needs no route');
  assert.equal(await navViews(page), ['live', 'health', 'nav-playback', 'cameras', 'people', 'displays', 'notices', 'audit', 'organisation', 'service', 'nav-camera'], 'a platform administrator may use every view');
  assert.equal(await current(page), ['live']);
  assert.not.ok(await page.isVisible('.nav-toggle'), 'no menu button on a wide screen');

  for (const view of ADMIN_VIEWS.slice(1)) {
    await page.click(`#nav a[data-view="${view}"]`);
    await shown(page, view, { focused: true });
    assert.is(await hash(page), `#/${view}`);
    assert.equal(await current(page), [view], `only ${view} is the current page`);
    assert.is(await page.locator('.view').count(), 1, 'one view on screen at a time');
    const content = CONTENT[view];
    if (content) await step(`${view} draws its content`, () => page.waitForSelector(content, { state: 'attached', timeout: 10_000 }));
    assert.match(await page.title(), /^Mimamori — /, 'the document title names the view');

    await page.reload();
    await shown(page, view);
    assert.equal(await current(page), [view], `${view} is still current after a reload`);
    if (content) await step(`${view} after a reload`, () => page.waitForSelector(content, { state: 'attached', timeout: 10_000 }));
  }

  await step('back and forward', async () => {
    // The history: live → health → …, with reloads in place; back from service is organisation.
    await page.goBack();
    await shown(page, 'organisation', { focused: true });
    await page.goBack();
    await shown(page, 'audit', { focused: true });
    await page.goForward();
    await shown(page, 'organisation', { focused: true });
    assert.equal(await current(page), ['organisation']);
  });

  await step('an unknown route falls back to Live', async () => {
    await page.goto(`${svc.url}/#/no-such-view`);
    await shown(page, 'live');
    assert.is(await hash(page), '#/live', 'the address says which view is shown');
    assert.equal(await current(page), ['live']);
  });

  await step('a route keeps its query', async () => {
    await page.goto(`${svc.url}/#/audit?camera=${gate.id}`);
    await shown(page, 'audit');
    assert.is(await hash(page), `#/audit?camera=${gate.id}`);
  });
});

test('leaving Live closes its tiles on the server; the Live view with many cameras holds no administration', async () => {
  const page = await newPage('admin-live');
  await signIn(page, '/#/live', svc.adminUsername, svc.adminPassword);
  await step('the live camera plays in the grid', () =>
    page.waitForFunction(
      (id) => (globalThis as unknown as InPage).__mimamori.tiles().some((t) => t.cameraId === id && t.state === 'live' && t.framesDecoded > 5),
      gate.id,
      { timeout: 20_000 },
    ),
  );
  await viewersBecome(1, 'watched from the Live view');

  const dom = await page.evaluate((parts) => {
    const d = (globalThis as unknown as InPage).document;
    return { admin: d.querySelector(parts) !== null, nodes: d.getElementsByTagName('*').length };
  }, ADMIN_PARTS);
  assert.not.ok(dom.admin, 'no administration section in the Live view');
  console.log(`  DOM elements of #/live with ${MANY + 1} cameras: ${dom.nodes}`);

  await page.click('#nav a[data-view="cameras"]');
  await shown(page, 'cameras', { focused: true });
  assert.equal(await page.evaluate(() => (globalThis as unknown as InPage).__mimamori.tiles()), [], 'no tiles outside Live');
  await viewersBecome(0, 'after leaving the Live view');

  await page.goBack();
  await shown(page, 'live', { focused: true });
  await viewersBecome(1, 'back in the Live view');
});

test('a viewer sees only what they may use, and a link to People says it is not available (en, ja)', async () => {
  const viewer = await svc.createUser('viewer1', PASSWORD, 'viewer');
  await svc.grant(viewer.id, gate.id);
  const page = await newPage('viewer');
  await signIn(page, '/#/people', 'viewer1', PASSWORD);
  await step('the not-available message', () => page.waitForSelector('#view-unavailable[data-view="people"]', { timeout: 10_000 }));
  assert.is(await page.locator('#admin-users').count(), 0, 'no people table');
  assert.match((await page.textContent('#view-unavailable h1')) ?? '', /^Not available$/);
  assert.match((await page.textContent('#view-unavailable .unavailable-text')) ?? '', /“People and permissions” is not available to your account/);
  assert.equal(await navViews(page), ['live', 'health', 'nav-playback'], 'Live, camera status and recordings only');
  assert.equal(await current(page), [], 'People is not in their navigation');

  await page.selectOption('#lang-select', 'ja');
  await textMatches(page, '#view-unavailable .unavailable-text', /「ユーザーと権限」は、お使いのアカウントではご利用いただけません/, 5_000);
  assert.is((await page.textContent('#view-unavailable h1'))?.trim(), 'ご利用いただけません');

  await page.click('#view-unavailable a');
  await shown(page, 'live', { focused: true });
  assert.equal(await current(page), ['live']);
});

test('on a 375 px screen the same navigation is behind a menu button', async () => {
  const page = await newPage('phone', { width: 375, height: 740 });
  await signIn(page, '/', svc.adminUsername, svc.adminPassword);
  await shown(page, 'live');
  assert.ok(await page.isVisible('.nav-toggle'), 'a menu button');
  assert.is(await page.getAttribute('.nav-toggle', 'aria-expanded'), 'false');
  assert.not.ok(await page.isVisible('#nav a[data-view="audit"]'), 'the links are folded away');
  assert.is(await page.locator('#nav a[data-view="audit"]').count(), 1, 'one list, not a second one for phones');

  await page.click('.nav-toggle');
  assert.is(await page.getAttribute('.nav-toggle', 'aria-expanded'), 'true');
  assert.ok(await page.isVisible('#nav a[data-view="audit"]'), 'the menu opens');
  await page.click('#nav a[data-view="audit"]');
  await shown(page, 'audit', { focused: true });
  assert.not.ok(await page.isVisible('#nav a[data-view="audit"]'), 'and closes after the choice');
  assert.is(await page.getAttribute('.nav-toggle', 'aria-expanded'), 'false');

  await page.click('.nav-toggle');
  await page.keyboard.press('Escape');
  assert.not.ok(await page.isVisible('#nav-links'), 'Escape closes it');
});

test.run();
