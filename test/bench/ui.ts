// `npm run bench -- ui`: the web app for an organisation with a thousand cameras, in Debian's
// Chromium against the real service. 1,000 cameras in 40 groups (10 sites of 3 floors, made through
// the API) and a 25-camera wall site whose cameras really publish (werift, 320×180). Figures, each
// beside what it is compared with in the same run:
// - signin_to_tree_ms: the sign-in form's submit to the sites tree drawn with its counts (beside the
//   login request alone: the password hash is most of it);
// - search_ms_p95: a keystroke to the list narrowed to one camera and drawn;
// - view_switch_ms_p95: Live → Cameras → Audit → Live by the navigation, the click event to the view
//   drawn (beside it, the time from Playwright's click() call, which first checks the link is stable);
// - dom_nodes_live, js_heap_mb_live: the Live view with every camera (and with the 5×5 wall);
// - grid_25_fps: the 5×5 wall's decoded frames per second per tile (beside the cameras' own rate),
//   and the browser's CPU meanwhile;
// - ttff_cold_ms: a camera's first frame in a fresh browser profile, from the navigation (beside
//   the same page reloaded in that browser, ttff_warm_ms).
// Prints JSON lines; the last is the summary.
import fs from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Camera } from '../../camera/index.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../chromium.ts';
import { startService, type Service } from '../harness.ts';
import { emit, median, percentile, round, sleep } from './figures.ts';

const SITES = 10;
const FLOORS = 3;
const PER_GROUP = 25;
const WALL = 25;
const CAMERA_FPS = 25;
const RUNS = Number(process.env.BENCH_UI_RUNS ?? 5);
const GOALS = { signin_to_tree_ms: 1000, search_ms: 100, view_switch_ms: 300, dom_nodes_live: 3000, grid_fps_per_tile: 25, ttff_cold_ms: 400 };

type W = {
  __mimamori: { view: string | null; tiles(): { cameraId: string; state: string; framesDecoded: number; joinStartedMs?: number; firstFrameMs?: number }[]; setLayout(n: number): void };
  document: {
    querySelector(s: string): { textContent: string | null } | null;
    querySelectorAll(s: string): ArrayLike<unknown>;
    getElementsByTagName(s: string): ArrayLike<unknown>;
    addEventListener(t: string, f: (e: { timeStamp: number }) => void, c?: boolean): void;
  };
  sessionStorage: { setItem(k: string, v: string): void };
  performance: { now(): number };
  __submitAt?: number;
  __clickAt?: number;
  __inputAt?: number;
};

async function json<T>(res: Response): Promise<T> {
  if (!res.ok) throw new Error(`${res.url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Runs `fn` over `items`, `n` at once. */
async function pool<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}

async function organisation(svc: Service) {
  const group = async (name: string, cameraIds: string[], parentId?: string) =>
    (await json<{ group: { id: string } }>(await svc.api('/api/groups', { method: 'POST', body: JSON.stringify({ name, cameraIds, ...(parentId ? { parentId } : {}) }) }))).group.id;
  const started = Date.now();
  const names: string[] = [];
  for (let s = 0; s < SITES; s++) for (let f = 0; f <= FLOORS; f++) for (let c = 0; c < PER_GROUP; c++) names.push(`カメラ ${String(s + 1).padStart(2, '0')}-${f}-${String(c + 1).padStart(2, '0')}`);
  const cams = await pool(names, 8, (name) => svc.createCamera(name));
  for (let s = 0; s < SITES; s++) {
    const at = (f: number) => cams.slice((s * (FLOORS + 1) + f) * PER_GROUP, (s * (FLOORS + 1) + f + 1) * PER_GROUP).map((c) => c.id);
    const site = await group(`拠点 ${s + 1}`, at(0));
    for (let f = 1; f <= FLOORS; f++) await group(`拠点 ${s + 1} ${f}階`, at(f), site);
  }
  const wall = await pool(Array.from({ length: WALL }, (_, i) => `壁 ${String(i + 1).padStart(2, '0')}`), 5, (name) => svc.createCamera(name));
  const wallGroup = await group('監視ウォール', wall.map((c) => c.id));
  emit({ phase: 'setup', cameras: cams.length + wall.length, groups: SITES * (FLOORS + 1) + 1, seconds: round((Date.now() - started) / 1000) });
  return { names, wall, wallGroup, total: cams.length + wall.length };
}

async function signInTimes(svc: Service, browser: Browser, total: number) {
  const tree: number[] = [];
  const login: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.newContext({ locale: 'ja-JP', timezoneId: 'Asia/Tokyo', viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${svc.url}/`);
    await page.fill('#username', svc.adminUsername);
    await page.fill('#password', svc.adminPassword);
    await page.evaluate(() => (globalThis as unknown as W).document.addEventListener('submit', () => ((globalThis as unknown as W).__submitAt = (globalThis as unknown as W).performance.now()), true));
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/auth/login'));
    const clicked = Date.now();
    await page.click('#login-form button[type=submit]');
    const loginMs = await answered.then(() => Date.now() - clicked);
    const shown = await page.waitForFunction(
      ({ sites, total }) => {
        const rows = (globalThis as unknown as W).document.querySelectorAll('#sites-tree > .site[data-site-id]').length;
        const all = (globalThis as unknown as W).document.querySelector('#sites-tree .site-all .site-counts')?.textContent ?? '';
        return rows >= sites && all.startsWith(String(total)) ? (globalThis as unknown as W).performance.now() - ((globalThis as unknown as W).__submitAt ?? 0) : false;
      },
      { sites: SITES, total },
      { timeout: 20_000, polling: 'raf' },
    );
    tree.push(Number(await shown.jsonValue()));
    login.push(loginMs);
    await context.close();
  }
  emit({ phase: 'signin', tree_ms: tree.map((x) => round(x)), login_request_ms: login });
  return { tree, login };
}

async function signedInPage(svc: Service, browser: Browser, size = { width: 1280, height: 800 }): Promise<Page> {
  const context = await browser.newContext({ locale: 'ja-JP', timezoneId: 'Asia/Tokyo', viewport: size });
  const page = await context.newPage();
  const me = await json<{ user: unknown }>(await svc.api('/api/auth/me'));
  // What a tab that signed in keeps (api.ts): the token, its expiry and the user.
  const expires = String(JSON.parse(Buffer.from(svc.adminToken.split('.')[1]!, 'base64url').toString()).exp * 1000);
  await page.addInitScript(({ token, user, expires }) => {
    (globalThis as unknown as W).sessionStorage.setItem('mimamori.token', token);
    (globalThis as unknown as W).sessionStorage.setItem('mimamori.user', user);
    (globalThis as unknown as W).sessionStorage.setItem('mimamori.tokenExpires', expires);
  }, { token: svc.adminToken, user: JSON.stringify(me.user), expires });
  return page;
}

async function searchTimes(page: Page, names: string[]): Promise<number[]> {
  const took: number[] = [];
  await page.evaluate(() => (globalThis as unknown as W).document.addEventListener('input', (e) => ((globalThis as unknown as W).__inputAt = e.timeStamp), true));
  for (let i = 0; i < 20; i++) {
    const name = names[(i * 97) % names.length]!;
    await page.fill('#camera-search', '');
    await page.waitForFunction(() => (globalThis as unknown as W).document.querySelector('#sites-tree')?.textContent !== null);
    await page.focus('#camera-search');
    await page.keyboard.type(name);
    const ms = await page.waitForFunction(
      () => ((globalThis as unknown as W).document.querySelectorAll('#sites-tree .camera-item').length === 1 ? (globalThis as unknown as W).performance.now() - ((globalThis as unknown as W).__inputAt ?? 0) : false),
      undefined,
      { timeout: 5000, polling: 'raf' },
    );
    took.push(Number(await ms.jsonValue()));
  }
  await page.fill('#camera-search', '');
  emit({ phase: 'search', ms: took.map((x) => round(x)) });
  return took;
}

async function viewSwitchTimes(page: Page): Promise<{ took: number[]; outer: number[] }> {
  const drawn: Record<string, string> = {
    cameras: '#admin-cameras tr[data-camera-id]',
    audit: '#audit tbody tr',
    live: '#sites-tree .site[data-site-id]',
  };
  // From the click event (as search times from the input event): Playwright's click first waits
  // for the link to be visible, stable (two animation frames) and hit, 80–130 ms here that no user
  // waits; that outer time is printed beside.
  await page.evaluate(() => (globalThis as unknown as W).document.addEventListener('click', (e) => ((globalThis as unknown as W).__clickAt = e.timeStamp), true));
  const took: number[] = [];
  const outer: number[] = [];
  for (let round_ = 0; round_ < 6; round_++) {
    for (const view of ['cameras', 'audit', 'live']) {
      const started = Date.now();
      await page.click(`#nav a[data-view="${view}"]`);
      const drawnAt = await page.waitForFunction(
        ({ view, sel }) =>
          (globalThis as unknown as W).__mimamori.view === view && (globalThis as unknown as W).document.querySelectorAll(sel).length > 0
            ? (globalThis as unknown as W).performance.now() - ((globalThis as unknown as W).__clickAt ?? 0)
            : false,
        { view, sel: drawn[view]! },
        { timeout: 15_000, polling: 'raf' },
      );
      took.push(Number(await drawnAt.jsonValue()));
      outer.push(Date.now() - started);
    }
  }
  emit({ phase: 'view_switch', ms: took.map((x) => round(x)), with_playwright_click_ms: outer });
  return { took, outer };
}

async function heapMb(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  await cdp.detach();
  return usedSize / 2 ** 20;
}

const domNodes = (page: Page) => page.evaluate(() => (globalThis as unknown as W).document.getElementsByTagName('*').length);

async function cpuSeconds(pids: number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total += (Number(f[11]) + Number(f[12])) / 100;
  }
  return total;
}

/** The browser's processes: Chromium's main process and everything under it. */
async function browserPids(): Promise<number[]> {
  const all = await fs.readdir('/proc');
  const pids: number[] = [];
  for (const p of all) {
    if (!/^\d+$/.test(p)) continue;
    const cmd = await fs.readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '');
    if (cmd.startsWith(CHROMIUM_PATH) || cmd.includes('/chromium/chromium') || cmd.includes('chrome_crashpad')) pids.push(Number(p));
  }
  return pids;
}

async function wallFps(page: Page, wallGroup: string) {
  await page.click(`#sites-tree .site[data-site-id="${wallGroup}"] > .site-row .site-open`);
  await page.evaluate(() => (globalThis as unknown as W).__mimamori.setLayout(5));
  await page.waitForFunction(() => {
    const tiles = (globalThis as unknown as W).__mimamori.tiles();
    return tiles.length === 25 && tiles.every((t) => t.state === 'live' && t.framesDecoded > 0);
  }, undefined, { timeout: 60_000, polling: 500 });
  await sleep(3000);
  const pids = await browserPids();
  const frames = async () => new Map(((await page.evaluate(() => (globalThis as unknown as W).__mimamori.tiles())) as { cameraId: string; framesDecoded: number }[]).map((t) => [t.cameraId, t.framesDecoded]));
  const f0 = await frames();
  const c0 = await cpuSeconds(pids);
  const t0 = Date.now();
  await sleep(10_000);
  const f1 = await frames();
  const c1 = await cpuSeconds(pids);
  const secs = (Date.now() - t0) / 1000;
  const fps = [...f1].map(([id, n]) => (n - (f0.get(id) ?? n)) / secs);
  const row = { tiles: fps.length, fps_min: round(Math.min(...fps)), fps_median: round(median(fps)), browser_cpu_pct: round(((c1 - c0) / secs) * 100), browser_processes: pids.length };
  emit({ phase: 'grid_25', ...row });
  return row;
}

async function ttff(svc: Service, cameraId: string) {
  const cold: number[] = [];
  const warm: number[] = [];
  /** When the cold loads' tiles started joining (from the navigation): what the page took before WebRTC. */
  const coldJoin: number[] = [];
  const firstFrame = async (page: Page, joins?: number[]) => {
    const at = await page.waitForFunction(
      (id) => {
        const tile = (globalThis as unknown as W).__mimamori?.tiles?.().find((t) => t.cameraId === id);
        return tile?.firstFrameMs !== undefined ? [tile.joinStartedMs ?? NaN, tile.firstFrameMs] : false;
      },
      cameraId,
      { timeout: 20_000, polling: 20 },
    );
    const [join, frame] = (await at.jsonValue()) as [number, number];
    joins?.push(join);
    return frame;
  };
  for (let run = 0; run < RUNS; run++) {
    // A fresh browser and profile: nothing cached, as a guard's PC after a reboot.
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
    try {
      const page = await signedInPage(svc, browser);
      await page.goto(`${svc.url}/#/live?camera=${cameraId}`);
      cold.push(await firstFrame(page, coldJoin));
      await page.reload();
      warm.push(await firstFrame(page));
    } finally {
      await browser.close();
    }
  }
  emit({ phase: 'ttff', cold_ms: cold.map((x) => round(x)), cold_join_started_ms: coldJoin.map((x) => round(x)), warm_ms: warm.map((x) => round(x)) });
  return { cold, warm, coldJoin };
}

const svc = await startService({ env: { MIMAMORI_CHECK_ANSWERS: '0' } });
const cameras: Camera[] = [];
let browser: Browser | undefined;
try {
  const org = await organisation(svc);
  for (const cam of org.wall) {
    cameras.push(await Camera.create({ whipUrl: `${svc.url}/whip/${cam.id}`, token: await svc.publishToken(cam.id, cam.secret), width: 320, height: 180, fps: CAMERA_FPS, kbps: 150, audio: false }));
  }
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  const signin = await signInTimes(svc, browser, org.total);

  const page = await signedInPage(svc, browser);
  await page.goto(`${svc.url}/#/live`);
  await page.waitForSelector('#sites-tree .site[data-site-id]');
  await sleep(2000);
  const nodesAll = await domNodes(page);
  const heapAll = await heapMb(page);
  const search = await searchTimes(page, org.names);
  const switches = await viewSwitchTimes(page);
  const grid = await wallFps(page, org.wallGroup);
  const nodesWall = await domNodes(page);
  const heapWall = await heapMb(page);
  emit({ phase: 'live', dom_nodes_all_cameras: nodesAll, dom_nodes_wall_5x5: nodesWall, js_heap_mb_all_cameras: round(heapAll), js_heap_mb_wall_5x5: round(heapWall) });
  await page.context().close();
  await browser.close();
  browser = undefined;

  // One camera left publishing: 24 werift senders in this process would load the machine the cold loads are timed on.
  await Promise.all(cameras.splice(1).map((c) => c.close()));
  const first = await ttff(svc, org.wall[0]!.id);
  emit({
    bench: 'ui',
    cameras: org.total,
    signin_to_tree_ms: round(median(signin.tree)),
    signin_to_tree_ms_p95: round(percentile(signin.tree, 95)),
    login_request_ms: round(median(signin.login)),
    search_ms_p95: round(percentile(search, 95)),
    search_ms_p50: round(percentile(search, 50)),
    view_switch_ms_p95: round(percentile(switches.took, 95)),
    view_switch_ms_p50: round(percentile(switches.took, 50)),
    view_switch_with_playwright_click_ms_p95: round(percentile(switches.outer, 95)),
    dom_nodes_live: Math.max(nodesAll, nodesWall),
    js_heap_mb_live: round(Math.max(heapAll, heapWall)),
    grid_25_fps: grid.fps_median,
    grid_25_fps_min: grid.fps_min,
    camera_fps: CAMERA_FPS,
    grid_25_browser_cpu_pct: grid.browser_cpu_pct,
    ttff_cold_ms: round(median(first.cold)),
    ttff_cold_join_started_ms: round(median(first.coldJoin)),
    ttff_warm_ms: round(median(first.warm)),
    goals: GOALS,
  });
} finally {
  await browser?.close();
  await Promise.all(cameras.map((c) => c.close()));
  await svc.stop();
}
