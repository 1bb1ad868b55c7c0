// Accessibility of every page, in Chromium against the real service and a recording werift camera:
// axe-core finds no serious or critical violation on any view of the signed-in app, the sign-in
// form, playback, the camera page, a share link and a kiosk, at desktop size and on a 375 px phone,
// in Japanese and English. Then a walk with the keyboard alone: find a camera in Live and open it,
// play a recording from the timeline, and turn a camera's recording off and on in its settings.
import { spawnSync } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Camera } from '../camera/index.ts';
import { axeViolations, CHROMIUM_ARGS, CHROMIUM_PATH, signInAt, type AxeViolation } from './chromium.ts';
import { startService, type Service } from './harness.ts';

let svc: Service;
let browser: Browser;
let camera: Camera | undefined;
let gate = { id: '', secret: '' };
let shareUrl = '';
let kioskUrl = '';
const log: string[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const VIEWS = ['live', 'health', 'cameras', 'people', 'displays', 'notices', 'audit', 'organisation', 'service'] as const;
const SIZES = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 375, height: 740 },
] as const;

type InPage = {
  __mimamori?: { view?: string | null; tiles?(): { cameraId: string; state: string }[]; player?: { state: string; decodedFrames: number } | null };
  document: { activeElement: { id: string; className: string; tagName: string; getAttribute(n: string): string | null; closest(s: string): unknown } | null; querySelector(s: string): unknown };
};

async function newPage(name: string, size: { width: number; height: number }, locale = 'ja-JP'): Promise<Page> {
  const context = await browser.newContext({ locale, timezoneId: 'Asia/Tokyo', viewport: { width: size.width, height: size.height } });
  const page = await context.newPage();
  page.on('console', (m) => m.type() === 'error' && log.push(`[${name}] ${m.text()}`));
  page.on('pageerror', (e) => log.push(`[${name} pageerror] ${e.message}`));
  return page;
}

const signIn = (page: Page) => signInAt(page, `${svc.url}/`, svc.adminUsername, svc.adminPassword);

/** Until the view is on screen and has drawn (its heading exists; settle briefly for its first answers). */
async function openView(page: Page, view: string): Promise<void> {
  await page.evaluate((v) => ((globalThis as unknown as { location: { hash: string } }).location.hash = `#/${v}`), view);
  await page.waitForFunction((v) => {
    const w = globalThis as unknown as InPage;
    return w.__mimamori?.view === v && Boolean(w.document.querySelector(`.view[data-view="${v}"]`));
  }, view, { timeout: 10_000 });
  await page.waitForLoadState('networkidle').catch(() => undefined);
  await sleep(300);
}

const describe = (where: string, found: AxeViolation[]) => found.map((v) => `${where}: ${v.impact} ${v.id} (${v.help}) at ${v.targets.join(' | ')}`);

/** Presses Tab until the focused element matches `matches` (run in the page), at most `max` times. */
async function tabTo(page: Page, what: string, matches: () => boolean, max = 60): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate(matches)) return;
    await page.keyboard.press('Tab');
  }
  const at = await page.evaluate(() => {
    const a = (globalThis as unknown as InPage).document.activeElement;
    return a ? `${a.tagName}#${a.id}.${a.className}` : 'nothing';
  });
  throw new Error(`${what}: not reached with ${max} presses of Tab (focus on ${at})\n${log.slice(-10).join('\n')}`);
}

test.before(async () => {
  const built = spawnSync('bash', ['setup/client.sh'], { cwd: new URL('..', import.meta.url), stdio: 'inherit' });
  assert.is(built.status, 0, 'setup/client.sh builds the pages');
  svc = await startService({ env: { MIMAMORI_SEGMENT_SECONDS: '4' } });
  gate = await svc.createCamera('正門');
  const dock = await svc.createCamera('搬入口');
  const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const site = (await (await svc.api('/api/groups', json({ name: '本社', cameraIds: [gate.id] }))).json()) as { group: { id: string } };
  await svc.api('/api/groups', json({ name: '1階', parentId: site.group.id, cameraIds: [dock.id] }));
  const viewer = await svc.createUser('tanaka', 'amber kettle meadow 58');
  await svc.grant(viewer.id, gate.id);
  camera = await Camera.create({ whipUrl: `${svc.url}/whip/${gate.id}`, token: await svc.publishToken(gate.id, gate.secret), width: 320, height: 180, kbps: 300 });
  const share = await svc.api('/api/shares', json({ cameraId: gate.id, kind: 'live', expiresInHours: 1 }));
  shareUrl = ((await share.json()) as { share: { url: string } }).share.url;
  const kiosk = await svc.api('/api/kiosks', json({ name: 'ロビー', cameraIds: [gate.id, dock.id], layout: 4, rotateSeconds: 60 }));
  kioskUrl = ((await kiosk.json()) as { url: string }).url;
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  await sleep(9000); // two 4 s segments recorded: playback has something to show
});

test.after(async () => {
  await browser?.close();
  await camera?.close();
  await svc?.stop();
});

test('axe-core: no serious or critical violation on any view or page, desktop and 375 px, ja and en', async () => {
  const problems: string[] = [];
  let checked = 0;
  for (const size of SIZES) {
    for (const locale of ['ja-JP', 'en-US']) {
      const page = await newPage(`${size.name} ${locale}`, size, locale);
      await page.goto(`${svc.url}/`);
      await page.waitForSelector('#username');
      problems.push(...describe(`sign-in ${size.name} ${locale}`, await axeViolations(page)));
      await signIn(page);
      for (const view of VIEWS) {
        await openView(page, view);
        problems.push(...describe(`#/${view} ${size.name} ${locale}`, await axeViolations(page)));
        checked++;
      }
      for (const link of [`/playback.html#camera=${gate.id}`, '/camera.html', shareUrl, kioskUrl]) {
        const url = new URL(link, svc.url);
        const path = url.pathname + url.search + url.hash;
        await page.goto(`${svc.url}${path}`);
        await page.waitForLoadState('networkidle').catch(() => undefined);
        await sleep(1500);
        problems.push(...describe(`${path.split(/[?#]/)[0]} ${size.name} ${locale}`, await axeViolations(page)));
        checked++;
      }
      await page.context().close();
    }
  }
  assert.ok(checked >= 4 * (VIEWS.length + 4), `${checked} pages checked`);
  assert.equal(problems, [], `axe-core found:\n${problems.join('\n')}`);
});

test('keyboard only: find a camera in Live and open it, play a recording from the timeline, switch a camera’s recording off and on', async () => {
  const page = await newPage('keyboard', SIZES[0]);
  await signIn(page);
  await openView(page, 'live');

  // Live: "/" to the search, type, Enter opens the camera alone.
  await page.keyboard.press('/');
  assert.is(await page.evaluate(() => (globalThis as unknown as InPage).document.activeElement?.id), 'camera-search', '"/" focuses the search');
  await page.keyboard.type('正門');
  await page.keyboard.press('Enter');
  await page.waitForSelector(`#grid.single .tile.selected[data-camera-id="${gate.id}"][data-state="live"]`, { timeout: 15_000 });
  await page.keyboard.press('Escape');

  // Recordings: to the timeline with Tab, back a little with the arrows, Enter plays from there.
  await page.goto(`${svc.url}/playback.html#camera=${gate.id}`);
  await page.waitForSelector('.timeline-canvas');
  await sleep(1000);
  await tabTo(page, 'the timeline', () => (globalThis as unknown as InPage).document.activeElement?.className.includes('timeline-canvas') ?? false);
  // The hour view's middle is now: step back into what was recorded (a tenth of an hour is too far; zoom in first).
  await page.keyboard.press('+');
  await page.keyboard.press('+');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => {
    const p = (globalThis as unknown as InPage).__mimamori?.player;
    return p !== null && p !== undefined && p.decodedFrames > 0;
  }, undefined, { timeout: 20_000 }).catch(async (err: Error) => {
    const state = await page.evaluate(() => JSON.stringify((globalThis as unknown as InPage).__mimamori?.player ?? null));
    throw new Error(`the recording plays after Enter on the timeline: ${err.message}; player ${state}\n${log.slice(-10).join('\n')}`);
  });

  // A camera's settings: Cameras view, Tab to its recording switch, Space turns it off, and on again.
  await page.goto(`${svc.url}/#/cameras`);
  await page.waitForSelector(`#admin-cameras tr[data-camera-id="${gate.id}"] .recording-enabled`);
  // The predicate runs in the page: it reads the camera's id from there.
  await page.evaluate((id) => ((globalThis as unknown as { __gate: string }).__gate = id), gate.id);
  await tabTo(page, 'the camera’s recording switch', () => {
    const a = (globalThis as unknown as InPage).document.activeElement;
    const row = a?.closest('tr[data-camera-id]') as { getAttribute(n: string): string } | null;
    return Boolean(a?.className.includes('recording-enabled') && row?.getAttribute('data-camera-id') === (globalThis as unknown as { __gate: string }).__gate);
  }, 120);
  const recording = async () => ((await (await svc.api(`/api/cameras/${gate.id}`)).json()) as { camera: { recording: { enabled: boolean } } }).camera.recording.enabled;
  await page.keyboard.press('Space');
  for (let i = 0; i < 50 && (await recording()); i++) await sleep(100);
  assert.is(await recording(), false, 'Space on the switch turned recording off (on the server)');
  await page.keyboard.press('Space');
  for (let i = 0; i < 50 && !(await recording()); i++) await sleep(100);
  assert.is(await recording(), true, 'and on again');
  await page.context().close();
});

test.run();
