// Every page works under the strict Content-Security-Policy, and Chromium reports no violation:
// a camera publishing from the camera page (fake device), the live grid and every administration view,
// playback of what it recorded (hls.js, its blob: worker, Media Source), a live share link, a
// kiosk display and the API documentation. Violations are collected in every page of the browser
// (the securitypolicyviolation event, and Chromium's console report, which also covers workers);
// an inline script injected at the end must be refused, so the collection itself is proven.
import http from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { launchChromium, type Browser } from './chromium.ts';
import { startService, type Service } from './harness.ts';

let svc: Service;
let browser: Browser;
const violations: string[] = [];
const log: string[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Hooks = { __mimamori: Record<string, unknown>; __csp?: string[] };
interface Tile {
  state: string;
  framesDecoded?: number;
  frames?: number;
}
/** What the predicates read in the page (its hook, and the DOM, which is not in this file's types). */
type InPage = {
  __mimamori?: {
    state?: string;
    tiles?: () => Tile[];
    player?: { state: string; decodedFrames: number } | null;
    share?: { state: string };
    live?: () => Tile | null;
    kiosk?: { state: string; tiles(): Tile[] };
  };
  document: { querySelector(s: string): unknown; querySelectorAll(s: string): { length: number } };
};

/** The view whose heading has the focus (navigation moves it there). */
type FocusedIn = { document: { querySelector(s: string): { closest(s: string): { getAttribute(name: string): string | null } | null } | null } };

test.before(async () => {
  svc = await startService({ env: { MIMAMORI_SEGMENT_SECONDS: '4' } });
  browser = await launchChromium();
  // In-page code as a string: the DOM is not in this file's types.
  await browser.context.addInitScript({
    content: `{
      const seen = [];
      Object.defineProperty(globalThis, '__csp', { value: seen });
      document.addEventListener('securitypolicyviolation', (e) => seen.push(e.effectiveDirective + ' ' + e.blockedURI + ' (' + e.sourceFile + ':' + e.lineNumber + ')'));
    }`,
  });
  browser.context.on('page', (page) => watch(page));
});
test.after(async () => {
  await browser?.close();
  await svc?.stop();
});

function watch(page: Page): void {
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy|Refused to (load|execute|evaluate|apply|connect|create|frame)/i.test(text)) violations.push(`[console ${page.url()}] ${text}`);
    if (m.type() === 'error') log.push(`[${page.url()}] ${text}`);
  });
  page.on('pageerror', (e) => log.push(`[pageerror ${page.url()}] ${e.message}`));
}

/** Violations the page's own listener saw, added to the list. */
async function collect(page: Page): Promise<void> {
  const seen = await page.evaluate(() => (globalThis as unknown as Hooks).__csp ?? []).catch(() => [] as string[]);
  violations.push(...seen.map((v) => `[${page.url()}] ${v}`));
}

/** Until `fn` (run in the page on its hook; a function: string predicates need the eval the pages forbid) is true. */
async function until(page: Page, what: string, fn: () => boolean, timeout = 30_000): Promise<void> {
  try {
    await page.waitForFunction(fn, undefined, { timeout, polling: 100 });
  } catch (error) {
    throw new Error(`${what}: ${(error as Error).message}\nviolations: ${violations.join('\n')}\n${log.slice(-20).join('\n')}`);
  }
}

test('the pages send the policy: no inline script or eval, media, blob and WebSocket sources named, no framing; HSTS only under TLS', async () => {
  for (const p of ['/', '/playback.html', '/camera.html', '/share.html', '/kiosk.html', '/api/cameras']) {
    const res = await fetch(`${svc.url}${p}`);
    const policy = res.headers.get('content-security-policy') ?? '';
    assert.match(policy, /script-src 'self'(;|$)/, `${p}: ${policy}`);
    assert.not.match(policy, /unsafe-eval|unsafe-inline/, `${p}: ${policy}`);
    assert.match(policy, /frame-ancestors 'none'/, p);
    assert.match(policy, /media-src 'self' blob:/, p);
    assert.match(policy, /worker-src 'self' blob:/, p);
    assert.match(policy, new RegExp(`connect-src 'self' ws://${new URL(svc.url).host} wss://${new URL(svc.url).host}`), p);
    assert.is(res.headers.get('strict-transport-security'), null, `${p}: no HSTS over plain HTTP`);
    await res.arrayBuffer();
  }
  const behindTls = await fetch(`${svc.url}/`, { headers: { 'x-forwarded-proto': 'https' } });
  assert.match(behindTls.headers.get('strict-transport-security') ?? '', /max-age=\d{7,}/, 'HSTS when the load balancer says the request came over TLS');
  const docs = await fetch(`${svc.url}/api/docs`);
  assert.match(docs.headers.get('content-security-policy') ?? '', /script-src 'self'(;|$)/);
  assert.match(docs.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  // Its own policy, not the pages' one the service sets on every answer first: a route's header wins.
  assert.match(docs.headers.get('content-security-policy') ?? '', /style-src 'self' 'unsafe-inline'/, 'the docs page\'s own policy');
  // A Host that is not a plain host name is left out of the policy rather than written into it
  // (Node refuses the worst, such as one with a ';', by itself).
  const odd = await policyFor('odd_host!.example');
  assert.not.match(odd, /odd_host/, odd);
  assert.match(odd, /connect-src 'self';/, `policy for an odd Host: ${odd}`);
});

/** The policy answered to a request with this Host header (fetch would not send such a Host). */
function policyFor(host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: svc.port, path: '/', headers: { host } }, (res) => {
      res.resume();
      resolve(String(res.headers['content-security-policy'] ?? ''));
    });
    req.on('error', reject);
  });
}

test('every page works under it with no violation: camera, live grid and admin, playback, share, kiosk, documentation', async () => {
  const cam = await svc.createCamera('Gate');
  const pages: Page[] = [];
  const open = async (path: string) => {
    const page = await browser.context.newPage();
    pages.push(page);
    await page.goto(`${svc.url}${path}`);
    return page;
  };
  // The camera: Chromium's camera page with the fake device.
  const camera = await open(`/camera.html#id=${encodeURIComponent(cam.id)}&secret=${encodeURIComponent(cam.secret)}`);
  await until(camera, 'the camera page publishes', () => (globalThis as unknown as InPage).__mimamori?.state === 'live');
  const startedMs = Date.now();

  // The live grid, signed in as an administrator (then each administration view, from the navigation).
  const live = await open('/');
  await live.fill('#username', svc.adminUsername);
  await live.fill('#password', svc.adminPassword);
  await live.click('#login-form button[type=submit]');
  await until(live, 'the grid shows the camera live', () => ((globalThis as unknown as InPage).__mimamori?.tiles?.() ?? []).some((t) => t.state === 'live' && (t.framesDecoded ?? 0) > 10));
  // Every administration view, opened from the navigation as a person would.
  for (const view of ['cameras', 'people', 'displays', 'notices', 'audit', 'organisation', 'service']) {
    await live.click(`#nav a[data-view="${view}"]`);
    await live
      .waitForFunction((id) => (globalThis as unknown as FocusedIn).document.querySelector('h1:focus')?.closest('.view')?.getAttribute('data-view') === id, view, { timeout: 10_000 })
      .catch((err: Error) => {
        throw new Error(`the ${view} view is drawn: ${err.message}\nviolations: ${violations.join('\n')}\n${log.slice(-20).join('\n')}`);
      });
  }

  // Playback of what it recorded so far (from the spool or S3: hls.js either way).
  await sleep(Math.max(0, startedMs + 9000 - Date.now()));
  const playback = await open(`/playback.html#camera=${cam.id}&t=${new Date(startedMs + 3000).toISOString()}`);
  await until(playback, 'playback plays', () => {
    const p = (globalThis as unknown as InPage).__mimamori?.player;
    return !!p && p.state === 'playing' && p.decodedFrames > 0;
  });

  // A live share link, opened by a guest.
  const shared = await svc.api('/api/shares', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ cameraId: cam.id, kind: 'live', expiresInHours: 1 }) });
  assert.is(shared.status, 201, await shared.clone().text());
  const share = await open(((await shared.json()) as { share: { url: string } }).share.url);
  await until(share, 'the share link plays live', () => {
    const m = (globalThis as unknown as InPage).__mimamori;
    return m?.share?.state === 'live' && (m.live?.()?.framesDecoded ?? 0) > 10;
  });

  // A kiosk display.
  const made = await svc.api('/api/kiosks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Lobby', cameraIds: [cam.id], layout: 1, rotateSeconds: 60 }) });
  assert.is(made.status, 201, await made.clone().text());
  const kiosk = await open(((await made.json()) as { url: string }).url);
  await until(kiosk, 'the kiosk shows the camera live', () => {
    const k = (globalThis as unknown as InPage).__mimamori?.kiosk;
    return k?.state === 'running' && k.tiles().some((t) => t.state === 'live' && (t.frames ?? 0) > 10);
  });

  // The API documentation (Swagger UI, bundled).
  const docs = await open('/api/docs');
  await until(docs, 'the documentation lists the routes', () => (globalThis as unknown as InPage).document.querySelectorAll('.opblock').length > 100);

  await sleep(1000); // late reports (a worker's) reach the console
  for (const page of pages) await collect(page);
  assert.equal(violations, [], `no page reported a violation:\n${violations.join('\n')}`);

  // The collection works: an inline script injected into a page is refused, and reported.
  await live.evaluate(`{ const s = document.createElement('script'); s.textContent = 'window.__inlineRan = true'; document.body.append(s); }`);
  await sleep(300);
  assert.is(await live.evaluate(() => (globalThis as unknown as { __inlineRan?: boolean }).__inlineRan), undefined, 'the inline script did not run');
  await collect(live);
  assert.ok(violations.some((v) => v.includes('script-src')), `the refusal was reported: ${violations.join('\n')}`);
  for (const page of pages) await page.close();
});

test.run();
