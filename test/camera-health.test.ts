// Camera health at a glance (GET /api/camera-health, client/health.ts) on the real service with
// werift cameras: a camera taken offline shows as offline since then, with its last recorded frame
// and that frame's time in the browser; a camera whose recording fails (its spool folder cannot be
// made: a file sits where it belongs, as in monitoring.test.ts) shows "not recording" at the top;
// a viewer sees only the cameras granted to them, in the list and in the counts; and the answer for
// 1,000 cameras made through the API comes quickly (the times are printed).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { Camera } from '../camera/index.ts';
import { axeViolations, launchChromium, signedIn, type Browser } from './chromium.ts';
import { startService, type Service } from './harness.ts';

let svc: Service;
let browser: Browser | undefined;
const PASSWORD = 'viewer-password-1';

interface Health {
  id: string;
  name: string;
  groupIds: string[];
  rights: string[];
  state: 'live' | 'offline' | 'not_recording';
  sinceMs?: number;
  lastSeenMs?: number;
  video?: { codec: string; width: number; height: number };
  bitrateKbps?: number;
  recording: { enabled: boolean; spoolLagMs?: number; uploadLagMs?: number; gapsToday: number; lastRecordedMs?: number };
}
interface Counts {
  total: number;
  live: number;
  gaps: number;
  offline: number;
  notRecording: number;
}
interface HealthList {
  cameras: Health[];
  counts: Counts;
  sites: (Counts & { groupId: string; name: string })[];
  nextCursor?: string;
  node: string;
}

test.before(async () => {
  svc = await startService({ env: { MIMAMORI_SEGMENT_SECONDS: '2' } });
});
test.after(async () => {
  await browser?.close();
  await svc?.stop();
});

async function json<T>(res: Response): Promise<T> {
  if (!res.ok) throw new Error(`${res.url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
const health = async (query = '', token?: string): Promise<HealthList> =>
  json<HealthList>(await svc.api(`/api/camera-health${query}`, token ? { headers: { authorization: `Bearer ${token}` } } : {}));

/** Polls `probe` until it returns a value, or fails saying what was awaited and what was seen last. */
async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}\n${svc.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const publish = async (cam: { id: string; secret: string }) =>
  Camera.create({ whipUrl: `${svc.url}/whip/${cam.id}`, token: await svc.publishToken(cam.id, cam.secret), width: 640, height: 360, kbps: 800, fps: 30 });

async function createGroup(name: string, cameraIds: string[]): Promise<string> {
  const body = await json<{ group: { id: string } }>(await svc.api('/api/groups', { method: 'POST', body: JSON.stringify({ name, cameraIds }) }));
  return body.group.id;
}

const byId = (list: HealthList, id: string): Health => {
  const cam = list.cameras.find((c) => c.id === id);
  if (!cam) throw new Error(`camera ${id} is not in the answer: ${JSON.stringify(list.cameras.map((c) => c.id))}`);
  return cam;
};

let dock: { id: string; secret: string };
let dockClosedMs = 0;
let dockLastRecordedMs = 0;
let blocked: { id: string; secret: string };
let gate: { id: string; secret: string };
const cameras: Camera[] = [];

test('offline since it stopped, not recording at the top, sites counted', async () => {
  gate = await svc.createCamera('Gate');
  dock = await svc.createCamera('Dock');
  blocked = await svc.createCamera('Blocked');
  // A file where this camera's spool folder belongs: its segments cannot be written (monitoring.test.ts).
  await fs.mkdir(path.join(svc.dataDir, 'spool'), { recursive: true });
  await fs.writeFile(path.join(svc.dataDir, 'spool', blocked.id), 'not a folder');
  const osaka = await createGroup('Osaka site', [dock.id, blocked.id]);
  const tokyo = await createGroup('Tokyo site', [gate.id]);
  const startedMs = Date.now();
  const dockCamera = await publish(dock);
  cameras.push(await publish(gate), await publish(blocked));

  // Dock records for a few seconds (2 s segments), then goes away.
  const recorded = await until('Dock recorded 4 s', 30_000, async () => {
    const d = byId(await health(), dock.id);
    return d.state === 'live' && (d.recording.lastRecordedMs ?? 0) >= startedMs + 4000 ? d : undefined;
  });
  assert.ok(recorded.recording.spoolLagMs !== undefined && recorded.recording.spoolLagMs < 5000, `spool lag ${recorded.recording.spoolLagMs}`);
  const live = await until('Gate\'s bitrate and video', 20_000, async () => {
    const g = byId(await health(), gate.id);
    return g.bitrateKbps !== undefined && g.bitrateKbps > 0 && g.video ? g : undefined;
  });
  assert.equal(live.video, { codec: 'h264', width: 640, height: 360 });
  // The test camera's picture is simple: it sends well under the 800 kbit/s it may use.
  assert.ok(live.bitrateKbps! > 10 && live.bitrateKbps! < 3000, `Gate sends ${live.bitrateKbps} kbit/s (camera set to at most 800)`);
  assert.is(live.state, 'live');
  assert.equal(live.groupIds, [tokyo]);

  await dockCamera.close();
  dockClosedMs = Date.now();
  const offline = await until('Dock offline', 15_000, async () => {
    const d = byId(await health(), dock.id);
    return d.state === 'offline' ? d : undefined;
  });
  assert.ok(offline.sinceMs !== undefined && offline.sinceMs >= dockClosedMs - 2000 && offline.sinceMs <= Date.now(), `offline since ${offline.sinceMs}, closed at ${dockClosedMs}`);
  assert.ok(offline.lastSeenMs !== undefined && offline.lastSeenMs >= dockClosedMs - 3000, `last seen ${offline.lastSeenMs}`);
  assert.is(offline.bitrateKbps, undefined, 'an offline camera sends nothing');
  assert.ok((offline.recording.lastRecordedMs ?? 0) >= startedMs + 4000 && offline.recording.lastRecordedMs! <= dockClosedMs + 1000, `last recorded ${offline.recording.lastRecordedMs}`);
  dockLastRecordedMs = offline.recording.lastRecordedMs!;

  // The recorder's alert comes after 30 s of "live, set to record, not recorded".
  const list = await until('Blocked not recording', 60_000, async () => {
    const l = await health();
    return byId(l, blocked.id).state === 'not_recording' ? l : undefined;
  });
  const b = byId(list, blocked.id);
  assert.ok(b.sinceMs !== undefined && b.sinceMs >= startedMs - 1000 && Date.now() - b.sinceMs >= 30_000, `not recording since ${b.sinceMs}`);
  assert.equal(
    list.cameras.map((c) => [c.name, c.state]),
    [
      ['Blocked', 'not_recording'],
      ['Dock', 'offline'],
      ['Gate', 'live'],
    ],
    'needs attention first',
  );
  assert.equal(list.counts, { total: 3, live: 1, gaps: 0, offline: 1, notRecording: 1 });
  assert.equal(
    list.sites.map((s) => [s.name, s.total, s.notRecording, s.offline, s.live]),
    [
      ['Osaka site', 2, 1, 1, 0],
      ['Tokyo site', 1, 0, 0, 1],
    ],
  );
  // Filters and pages; the counts stay over every camera.
  const inOsaka = await health(`?group=${osaka}`);
  assert.equal(inOsaka.cameras.map((c) => c.name), ['Blocked', 'Dock']);
  assert.is(inOsaka.counts.total, 3);
  assert.equal((await health('?state=offline')).cameras.map((c) => c.name), ['Dock']);
  const first = await health('?limit=2');
  assert.equal(first.cameras.map((c) => c.name), ['Blocked', 'Dock']);
  assert.ok(first.nextCursor, 'a next page');
  const second = await health(`?limit=2&cursor=${encodeURIComponent(first.nextCursor!)}`);
  assert.equal(second.cameras.map((c) => c.name), ['Gate']);
  assert.is(second.nextCursor, undefined);
  // Bad input says what was wrong.
  for (const [query, words] of [
    ['?state=broken', 'state'],
    ['?cursor=nonsense', 'cursor'],
    ['?limit=0', 'limit'],
    [`?dayStart=${Date.now() - 72 * 3_600_000}`, '48 hours'],
  ] as const) {
    const res = await svc.api(`/api/camera-health${query}`);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.is(res.status, 400, query);
    assert.match(body.error.message, words, `${query}: ${body.error.message}`);
  }
  assert.is((await fetch(`${svc.url}/api/camera-health`)).status, 401, 'no token');
});

test('a viewer sees only the cameras granted, and only those counted', async () => {
  const viewer = await svc.createUser('viewer1', PASSWORD, 'viewer');
  await svc.grant(viewer.id, dock.id);
  const token = await svc.login('viewer1', PASSWORD);
  const list = await health('', token);
  assert.equal(list.cameras.map((c) => c.name), ['Dock']);
  assert.equal(list.counts, { total: 1, live: 0, gaps: 0, offline: 1, notRecording: 0 });
  assert.equal(list.sites.map((s) => [s.name, s.total]), [['Osaka site', 1]], 'Tokyo (no camera of theirs) is not listed');
  // A camera not granted is not found through a filter either.
  assert.equal((await health('?state=not_recording', token)).cameras, []);

  // An API key limited to a site sees that site's cameras.
  const osaka = list.sites[0]!.groupId;
  const created = await json<{ key: string }>(await svc.api('/api/api-keys', { method: 'POST', body: JSON.stringify({ name: 'status board', scope: 'live', groupId: osaka }) }));
  const byKey = await health('', created.key);
  assert.equal(byKey.cameras.map((c) => c.name), ['Blocked', 'Dock']);
  assert.is(byKey.counts.total, 2);
});

/** What the page functions use of the browser (the tests compile without the DOM's types). */
interface InPage {
  document: { querySelector(s: string): unknown; querySelectorAll(s: string): { length: number }; documentElement: { scrollWidth: number } };
  getComputedStyle(el: unknown): { display: string };
  location: { hash: string };
  localStorage: { setItem(k: string, v: string): void };
}

const hookReady = async (page: Page) =>
  page.evaluate(() => Boolean((globalThis as unknown as InPage).document.querySelector('#view-health table.health-table')));

test('the view: not recording first, the offline camera\'s last frame and its time, cards at 375 px', async () => {
  browser = await launchChromium();
  const page = await browser.context.newPage();
  // Japanese, in New York's time zone (not the machine's or the server's).
  await page.addInitScript(() => {
    (globalThis as unknown as InPage).localStorage.setItem('mimamori.lang', 'ja');
    (globalThis as unknown as InPage).localStorage.setItem('mimamori.timeZone', 'America/New_York');
  });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  await page.goto(`${svc.url}/#/health`);
  await page.fill('#username', svc.adminUsername);
  await page.fill('#password', svc.adminPassword);
  await page.click('#login-form button[type=submit]');
  await signedIn(page);
  // Before signing in, the page's refresh attempt is refused (401): expected, not this view's.
  problems.length = 0;
  await page.waitForSelector('#view-health', { timeout: 10_000 });
  await page.waitForSelector('#view-health tbody tr[data-camera-id]', { timeout: 10_000 }).catch(async (err: unknown) => {
    if (!(await hookReady(page))) throw new Error('#/health does not show HealthView (client/views/index.ts does not mount client/health.ts)');
    throw err;
  });
  const rows = await page.$$eval('#view-health tbody tr[data-camera-id]', (trs) => trs.map((tr) => [tr.querySelector('th')?.firstChild?.textContent ?? '', tr.getAttribute('data-kind') ?? '', tr.querySelector('.health-state')?.textContent ?? '']));
  assert.equal(rows.map((r) => r.slice(0, 2)), [['Blocked', 'not_recording'], ['Dock', 'offline'], ['Gate', 'live']]);
  assert.match(rows[0]![2]!, /^オンライン・.+ から録画されていません$/);
  assert.match(rows[1]![2]!, /^.+ からオフライン$/);
  assert.is(rows[2]![2], 'ライブ・録画中');

  // The offline camera's last recorded frame, decoded from the playback preview, with its time.
  const frame = await page.waitForSelector(`#view-health tr[data-camera-id="${dock.id}"] figure.health-frame img`, { timeout: 20_000 });
  const at = Number(await frame.getAttribute('data-at-ms'));
  assert.ok(at >= dockLastRecordedMs - 5000 && at <= dockLastRecordedMs, `frame at ${at}, last recorded ${dockLastRecordedMs}`);
  const size = await frame.evaluate((img) => [(img as unknown as { naturalWidth: number }).naturalWidth, (img as unknown as { naturalHeight: number }).naturalHeight]);
  assert.equal(size, [640, 360], 'a decoded frame of the camera\'s size');
  const caption = await page.textContent(`#view-health tr[data-camera-id="${dock.id}"] figcaption`);
  const taken = new Intl.DateTimeFormat('ja-JP', { dateStyle: 'short', timeStyle: 'short', timeZone: 'America/New_York' }).format(at);
  assert.is(caption, `最終録画 ${taken}`, 'when the frame was taken, in the viewer\'s zone');
  assert.not.ok(await page.$(`#view-health tr[data-camera-id="${gate.id}"] figure`), 'a live camera shows no last frame');

  assert.equal(await axeViolations(page), [], 'no serious or critical accessibility problems (desktop)');

  // A site filters the list.
  await page.click('.health-site[data-group-id]:has-text("Tokyo site")');
  await page.waitForFunction(() => (globalThis as unknown as InPage).document.querySelectorAll('#view-health tbody tr[data-camera-id]').length === 1);
  assert.is(await page.getAttribute('#view-health tbody tr[data-camera-id]', 'data-camera-id'), gate.id);

  // Read again every 10 s while open; not once the view is left.
  const asked: number[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/camera-health')) asked.push(Date.now());
  });
  // A keyboard user's focus survives the refresh (the rows are drawn again).
  await page.focus(`#view-health a[data-focus="live:${gate.id}"]`);
  const since = Date.now();
  await until('a refresh of the open view', 15_000, async () => (asked.some((at) => at >= since) ? true : undefined));
  await new Promise((r) => setTimeout(r, 1000));
  const focused = await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string | null } | null } }).document.activeElement?.getAttribute('data-focus'));
  assert.is(focused, `live:${gate.id}`, 'the focus stays on the same link');

  // 375 px: cards, not a wide table.
  await page.setViewportSize({ width: 375, height: 740 });
  const display = await page.$eval('#view-health tbody tr[data-camera-id]', (tr) => (globalThis as unknown as InPage).getComputedStyle(tr).display);
  assert.is(display, 'block');
  const wide = await page.evaluate(() => (globalThis as unknown as InPage).document.documentElement.scrollWidth);
  assert.ok(wide <= 375, `page is ${wide} px wide at 375`);
  assert.equal(await axeViolations(page), [], 'no serious or critical accessibility problems (375 px)');
  assert.equal(problems.filter((p) => !/favicon/.test(p)), [], 'no errors in the console');

  await page.evaluate(() => {
    (globalThis as unknown as InPage).location.hash = '#/live';
  });
  await page.waitForSelector('#view-health', { state: 'detached', timeout: 10_000 });
  const left = Date.now();
  await new Promise((r) => setTimeout(r, 12_000));
  assert.equal(asked.filter((at) => at > left + 200), [], 'no refresh after the view was left');
  await page.close();
});

test('1,000 cameras answer quickly', async () => {
  const more = 1000 - 3;
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < more) {
        const i = next++;
        await svc.createCamera(`Cam ${String(i).padStart(4, '0')}`);
      }
    }),
  );
  console.log(`made ${more} cameras through the API in ${Math.round(performance.now() - t0)} ms`);
  const timed = async (query: string) => {
    const s = performance.now();
    const list = await health(query);
    return { ms: performance.now() - s, list };
  };
  const cold = await timed('?limit=1000');
  assert.is(cold.list.counts.total, 1000);
  assert.is(cold.list.cameras.length, 1000);
  const warm: number[] = [];
  for (let i = 0; i < 10; i++) warm.push((await timed('?limit=1000')).ms);
  const page = await timed('?limit=100');
  assert.is(page.list.cameras.length, 100);
  assert.ok(page.list.nextCursor);
  warm.sort((a, b) => a - b);
  console.log(`camera_health_1000: first ${cold.ms.toFixed(0)} ms, then median ${warm[5]!.toFixed(1)} ms, max ${warm[9]!.toFixed(1)} ms (all 1,000); a page of 100: ${page.ms.toFixed(1)} ms`);
  // Answers are checked against their schema in tests (MIMAMORI_CHECK_ANSWERS): about half of this.
  // The bound is loose for a busy 2-core machine; the first answer
  // (which waits for every camera's index to be read) shows what reading them per request would cost.
  assert.ok(warm[5]! < 750, `median ${warm[5]} ms for 1,000 cameras`);
  for (const c of cameras) await c.close();
});

test.run();
