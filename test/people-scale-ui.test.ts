// People and permissions, and Displays, for an organisation with hundreds of cameras in Chromium,
// against the real service: neither view reads the whole camera list or draws a checkbox per
// camera (the People view drew one per camera and group: 20 groups × 400 cameras were 24,000
// checkboxes); a group's cameras show when opened; a camera is added to a group, to a person's
// grants and to a display by searching the server (typed, then Enter, or by arrows), and removed
// from a group by its chip; everything lands on the server, and shows by name after a reload. The
// recordings page reads the camera it shows and finds another by search; the camera page publishes
// as a camera found by search.
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CHROMIUM_ARGS, CHROMIUM_PATH, okJson as json, PageConsole, signInAt } from './chromium.ts';
import { startService, type Service } from './harness.ts';

const CAMERAS = 400;
const GROUPS = 20;
const PASSWORD = 'copper meadow lantern 64';

let svc: Service;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pages = new PageConsole();
const step = pages.step.bind(pages);
/** Camera ids by index; camera i is named `倉庫 ${i}番` and sits in group i % GROUPS. */
const cameras: string[] = [];
const groups: string[] = [];

const nameOf = (i: number) => `倉庫 ${i}番`;

type InPage = { document: { querySelectorAll(s: string): { length: number }; querySelector(s: string): { textContent: string | null } | null; activeElement: unknown } };

async function newPage(name: string, locale = 'en-US'): Promise<Page> {
  const context = await browser.newContext({ locale, timezoneId: 'UTC', viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  const page = pages.watch(await context.newPage(), name);
  page.on('dialog', (d) => void d.accept());
  return page;
}

const groupOf = async (id: string) => (await json<{ groups: { id: string; cameraIds: string[] }[] }>(await svc.api('/api/groups'))).groups.find((g) => g.id === id)!;
const domElements = (page: Page) => page.evaluate(() => (globalThis as unknown as { document: { getElementsByTagName(s: string): { length: number } } }).document.getElementsByTagName('*').length);

/** Types into a camera search and picks the option of `cameraId` with the keyboard. */
async function choose(page: Page, input: string, text: string, cameraId: string): Promise<void> {
  await page.fill(input, text);
  const option = `[role=option][data-camera-id="${cameraId}"]`;
  await page.waitForSelector(option, { timeout: 10_000 });
  // The option is active (first) or reached with the arrows.
  for (let i = 0; i < 8 && (await page.getAttribute(option, 'aria-selected')) !== 'true'; i++) await page.press(input, 'ArrowDown');
  assert.is(await page.getAttribute(option, 'aria-selected'), 'true', 'the option is active');
  await page.press(input, 'Enter');
}

test.before(async () => {
  svc = await startService();
  for (let i = 0; i < CAMERAS; i += 25) {
    const made = await Promise.all(Array.from({ length: Math.min(25, CAMERAS - i) }, (_, k) => svc.createCamera(nameOf(i + k))));
    cameras.push(...made.map((c) => c.id));
  }
  for (let g = 0; g < GROUPS; g++) {
    const members = cameras.filter((_, i) => i % GROUPS === g);
    const made = await json<{ group: { id: string } }>(await svc.api('/api/groups', { method: 'POST', body: JSON.stringify({ name: `拠点 ${g}`, cameraIds: members }) }));
    groups.push(made.group.id);
  }
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
});

test.after(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await svc?.stop();
});

test('groups: no checkbox per camera; a group opened lists its cameras; one is added by search and one removed by its chip', async () => {
  const page = await newPage('groups');
  await signInAt(page, `${svc.url}/#/people`, svc.adminUsername, svc.adminPassword);
  await step('the groups', () => page.waitForFunction((n) => (globalThis as unknown as InPage).document.querySelectorAll('#group-list .group-item').length === n, GROUPS, { timeout: 10_000 }));
  const elements = await domElements(page);
  console.log(`  DOM elements of #/people with ${CAMERAS} cameras in ${GROUPS} groups: ${elements}`);
  assert.ok(elements < 2000, `the view stays small: ${elements} elements`);
  assert.is(await page.locator('#group-list input[type=checkbox]').count(), 0, 'no checkbox per camera and group');

  const g = 3;
  const item = `#group-list .group-item[data-group-id="${groups[g]}"]`;
  assert.match((await page.textContent(`${item} summary`)) ?? '', /Cameras \(20\)/);
  await page.click(`${item} summary`);
  await step('its cameras by name', () => page.waitForSelector(`${item} .group-members[data-loaded] .chip[data-camera-id="${cameras[g]}"]`, { timeout: 10_000 }));
  const shown = await page.locator(`${item} .chip`).evaluateAll((chips) => chips.map((c) => c.getAttribute('data-camera-id')));
  assert.equal(new Set(shown), new Set(cameras.filter((_, i) => i % GROUPS === g)), 'exactly its 20 cameras');
  assert.match((await page.textContent(`${item} .chip[data-camera-id="${cameras[g]}"]`)) ?? '', new RegExp(nameOf(g)));

  // A camera of another group, found by part of its name (full-width digits match too).
  const added = 217; // group 17
  await step('add by search', () => choose(page, `${item} .camera-chooser input`, '２１７', cameras[added]!));
  await step('the chip', () => page.waitForSelector(`${item} .chip[data-camera-id="${cameras[added]}"]`, { timeout: 10_000 }));
  await page.waitForFunction((sel) => /Cameras \(21\)/.test((globalThis as unknown as InPage).document.querySelector(sel)?.textContent ?? ''), `${item} summary`);
  assert.ok((await groupOf(groups[g]!)).cameraIds.includes(cameras[added]!), 'the server has it in the group');
  assert.is(await page.getAttribute(`${item} .camera-chooser input`, 'aria-expanded'), 'false', 'the list closed after the pick');

  // Removing one: its chip's button, named for it.
  const removed = cameras[g + GROUPS]!;
  const button = `${item} .chip[data-camera-id="${removed}"] button`;
  assert.match((await page.getAttribute(button, 'aria-label')) ?? '', new RegExp(`Remove ${nameOf(g + GROUPS)} from 拠点 ${g}`));
  await page.click(button);
  await step('the chip goes', () => page.waitForSelector(`${item} .chip[data-camera-id="${removed}"]`, { state: 'detached', timeout: 10_000 }));
  const after = await groupOf(groups[g]!);
  assert.not.ok(after.cameraIds.includes(removed), 'the server no longer has it in the group');
  assert.is(after.cameraIds.length, 20);

  // Open groups stay open when the list is drawn again (a rename redraws it).
  await page.reload();
  await page.click(`${item} summary`);
  await step('after a reload', () => page.waitForSelector(`${item} .chip[data-camera-id="${cameras[added]}"]`, { timeout: 10_000 }));
});

test('grants: the groups and the granted cameras only; another camera is added by search (arrows and Enter) and given a right', async () => {
  const page = await newPage('grants');
  await signInAt(page, `${svc.url}/#/people`, svc.adminUsername, svc.adminPassword);
  await page.fill('#new-user-name', 'guard7');
  await page.fill('#new-user-password', PASSWORD);
  await page.click('#add-user button[type=submit]');
  await step('the new user', () => page.waitForSelector('#admin-users tr[data-user-id] >> text=guard7', { timeout: 10_000 }));
  const users = await json<{ users: { id: string; username: string }[] }>(await svc.api('/api/users'));
  const guard = users.users.find((u) => u.username === 'guard7')!;
  const editor = `#grants-${guard.id}[data-loaded]`;
  // A new non-admin user's permissions open at once: a row per group, none per camera.
  await step('the grants editor', () => page.waitForSelector(editor, { timeout: 10_000 }));
  assert.is(await page.locator(`${editor} tr[data-target]`).count(), GROUPS, 'one row per group');
  assert.is(await page.locator(`${editor} input[data-camera-id]`).count(), 0, 'no row per camera');

  // ArrowDown on the empty field offers the first cameras by name.
  const input = `${editor} .camera-chooser input`;
  await page.focus(input);
  await page.press(input, 'ArrowDown');
  await step('the first cameras', () => page.waitForSelector(`${editor} [role=option]`, { timeout: 10_000 }));
  assert.is(await page.locator(`${editor} [role=option]`).count(), 8, 'a few names at a time');
  await page.press(input, 'Escape');
  assert.is(await page.getAttribute(input, 'aria-expanded'), 'false');

  const target = 123;
  await step('add by search', () => choose(page, input, nameOf(target), cameras[target]!));
  const box = `${editor} input[data-camera-id="${cameras[target]}"][data-right="live"]`;
  await step('its row, focused', () => page.waitForSelector(box, { timeout: 10_000 }));
  const focused = () => page.evaluate((sel) => (globalThis as unknown as InPage).document.activeElement === (globalThis as unknown as InPage).document.querySelector(sel), `${editor} input[data-camera-id="${cameras[target]}"]`);
  assert.ok(await focused(), 'the row\'s first box has the focus');

  // A group made on the same page while that row is not ticked yet: its row joins the editor, and
  // the camera row (not saved: nothing is ticked) stays (the whole editor was drawn again, without it).
  await page.fill('#new-group-name', '夜間巡回');
  await page.press('#new-group-name', 'Enter');
  await step('the new group in the editor', () => page.waitForSelector(`${editor} tr[data-target] >> text=夜間巡回`, { timeout: 10_000 }));
  assert.is(await page.locator(`${editor} tr[data-target]`).count(), GROUPS + 2, 'every group, the new one and the camera added');
  assert.is(await page.locator(box).count(), 1, 'the camera row added by search stays');
  await page.focus(`${editor} input[data-camera-id="${cameras[target]}"]`); // typing the group's name took it
  await page.keyboard.press('Space');
  await page.waitForSelector(`#grants-${guard.id} .notice[data-tone="ok"]`, { timeout: 10_000 });
  const grants = await json<{ grants: { cameraId?: string; rights: string[] }[] }>(await svc.api(`/api/grants?userId=${guard.id}`));
  assert.equal(grants.grants.map((g) => [g.cameraId, g.rights]), [[cameras[target], ['live']]]);

  // Shown by name when the editor opens again, and not offered by the search any more.
  await page.reload();
  await page.click(`#admin-users tr[data-user-id="${guard.id}"] .user-grants`);
  await step('the granted camera by name', () => page.waitForSelector(`${editor} tr[data-target="${cameras[target]}"]`, { timeout: 10_000 }));
  assert.match((await page.textContent(`${editor} tr[data-target="${cameras[target]}"] td`)) ?? '', new RegExp(nameOf(target)));
  assert.ok(await page.isChecked(box));
  await page.fill(input, nameOf(target));
  await step('not offered again', () => page.waitForSelector(`${editor} .camera-chooser-status >> text=No camera matches`, { timeout: 10_000 }));
});

test('displays: cameras chosen by search (in Japanese), the display made with them, listed by name', async () => {
  const page = await newPage('displays', 'ja-JP');
  await signInAt(page, `${svc.url}/#/displays`, svc.adminUsername, svc.adminPassword);
  await step('the form', () => page.waitForSelector('#kiosk-cameras .camera-chooser input', { timeout: 10_000 }));
  assert.is(await page.getAttribute('#kiosk-cameras .camera-chooser input', 'placeholder'), '表示端末にカメラを追加');
  assert.is(await page.locator('#kiosk-cameras input[type=checkbox]').count(), 0, 'no checkbox per camera');
  const elements = await domElements(page);
  assert.ok(elements < 1000, `the view stays small: ${elements} elements`);

  await page.fill('#kiosk-name', 'ロビー');
  for (const i of [42, 7]) await step(`choose camera ${i}`, () => choose(page, '#kiosk-cameras .camera-chooser input', nameOf(i), cameras[i]!));
  await step('two chips', () => page.waitForFunction(() => (globalThis as unknown as InPage).document.querySelectorAll('#kiosk-cameras .chip').length === 2));
  // One taken out again before the display is made.
  await page.click(`#kiosk-cameras .chip[data-camera-id="${cameras[42]}"] button`);
  await page.click('#add-kiosk button[type=submit]');
  await step('the display', () => page.waitForSelector('#admin-kiosks tr[data-kiosk-id]', { timeout: 10_000 }));
  const kiosks = await json<{ kiosks: { name: string; cameraIds: string[] }[] }>(await svc.api('/api/kiosks'));
  assert.equal(kiosks.kiosks.map((k) => [k.name, k.cameraIds]), [['ロビー', [cameras[7]]]]);
  assert.match((await page.textContent('#admin-kiosks tr[data-kiosk-id]')) ?? '', new RegExp(nameOf(7)), 'listed by the camera\'s name');
  assert.is(await page.locator('#kiosk-cameras .chip').count(), 0, 'the form is empty again');

  await page.reload();
  await step('by name after a reload', () => page.waitForSelector(`#admin-kiosks tr[data-kiosk-id] >> text=${nameOf(7)}`, { timeout: 10_000 }));
});

test('recordings: the page reads the camera it shows (the first by name without a link); another is found by search', async () => {
  const page = await newPage('recordings');
  const lists: string[] = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname === '/api/cameras') lists.push(url.search);
  });
  await signInAt(page, `${svc.url}/playback.html`, svc.adminUsername, svc.adminPassword);
  // Names sort as numbers: 倉庫 0番 comes first.
  await step('the first camera', () => page.waitForSelector(`#camera-name[data-camera-id="${cameras[0]}"]`, { timeout: 10_000 }));
  assert.is(await page.textContent('#camera-name'), nameOf(0));
  await step('another by search', () => choose(page, '#camera-search-playback', nameOf(321), cameras[321]!));
  await step('shown', () => page.waitForSelector(`#camera-name[data-camera-id="${cameras[321]}"]`, { timeout: 10_000 }));
  assert.match(new URL(page.url()).hash, new RegExp(`camera=${cameras[321]}`), 'the link follows');
  assert.ok(lists.length > 0);
  for (const query of lists) {
    const params = new URLSearchParams(query);
    assert.ok(Number(params.get('limit')) > 0 && Number(params.get('limit')) <= 60, `a page of the list, not all of it: ${query}`);
  }
});

test('the camera page: an administrator publishes this browser as a camera found by search', async () => {
  const page = await newPage('camera page');
  await signInAt(page, `${svc.url}/camera.html`, svc.adminUsername, svc.adminPassword);
  await step('the picker', () => page.waitForSelector('#camera-picker .camera-chooser input', { timeout: 10_000 }));
  assert.ok(await page.isDisabled('#camera-picker button[type=submit]'), 'nothing to start before a camera is chosen');
  assert.is(await page.locator('#camera-picker option').count(), 0, 'no option per camera');
  const target = 77;
  await step('choose', () => choose(page, '#camera-picker .camera-chooser input', nameOf(target), cameras[target]!));
  assert.is(await page.textContent('#camera-chosen'), nameOf(target));
  await page.click('#camera-picker button[type=submit]');
  const live = async () => (await json<{ camera: { live: boolean } }>(await svc.api(`/api/cameras/${cameras[target]}`))).camera.live;
  for (let i = 0; i < 100 && !(await live()); i++) await new Promise((r) => setTimeout(r, 200));
  assert.ok(await live(), 'the chosen camera publishes from this page');
});

test.run();
