// Debian's Chromium for tests and benchmarks, launched the one way this project does it.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.MIMAMORI_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
  // Background tabs must not be throttled: several pages run at once.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  const userDataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      await fs.rm(userDataDir, { recursive: true, force: true });
    },
  };
}

// Wait with function predicates, never strings: the pages forbid eval (Content-Security-Policy),
// and Playwright evaluates a string predicate with the page's own eval.
type InPage = { sessionStorage: { getItem(key: string): string | null }; document: { querySelector(s: string): { textContent: string | null } | null; body: { innerText: string } } };

/** Until the page holds a signed-in session. */
export async function signedIn(page: Page, timeout = 10_000): Promise<void> {
  await page.waitForFunction(() => (globalThis as unknown as InPage).sessionStorage.getItem('mimamori.token') !== null, undefined, { timeout });
}

/** Signs in through the page's form at `url` (a deep link keeps its view) and waits until the page holds the session. */
export async function signInAt(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(url);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('#login-form button[type=submit]');
  await signedIn(page);
}

/**
 * What the pages of a test said on their consoles (debug aside), so that a step that fails shows
 * it: a timeout alone says little.
 */
export class PageConsole {
  readonly lines: string[] = [];

  /** Collects `page`'s console lines and errors under `name`. */
  watch(page: Page, name: string): Page {
    page.on('console', (m) => m.type() !== 'debug' && this.lines.push(`[${name} ${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => this.lines.push(`[${name} pageerror] ${e.message}`));
    return page;
  }

  /** Runs `run`; its failure says `what` failed and what the pages said last. */
  async step<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw new Error(`${what}: ${(err as Error).message}\n${this.lines.slice(-30).join('\n')}`);
    }
  }
}

/** The JSON body of a successful answer; any other status fails with the body. */
export async function okJson<T>(res: Response): Promise<T> {
  if (!res.ok) throw new Error(`${res.url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Until the text of `selector` (of the whole page when null) matches `pattern`. */
export async function textMatches(page: Page, selector: string | null, pattern: RegExp, timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    ({ selector, source, flags }) => {
      const d = (globalThis as unknown as InPage).document;
      const text = selector === null ? d.body.innerText : (d.querySelector(selector)?.textContent ?? '');
      return new RegExp(source, flags).test(text);
    },
    { selector, source: pattern.source, flags: pattern.flags },
    { timeout },
  );
}

/** One accessibility rule broken on a page, as axe-core reports it. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

let axeSource: Promise<string> | undefined;

/**
 * axe-core's serious and critical violations on the page as it is now. The script goes in through
 * the DevTools protocol (page.evaluate of a string), which the pages' policy does not govern: a
 * <script> tag would be refused.
 */
export async function axeViolations(page: Page, impacts: readonly string[] = ['serious', 'critical']): Promise<AxeViolation[]> {
  axeSource ??= fs.readFile(new URL('../node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
  const loaded = await page.evaluate(() => 'axe' in globalThis);
  if (!loaded) await page.evaluate(await axeSource);
  const found = await page.evaluate(async () => {
    type Result = { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] };
    const axe = (globalThis as unknown as { axe: { run(ctx: unknown, o: unknown): Promise<{ violations: Result[] }> } }).axe;
    const { violations } = await axe.run((globalThis as unknown as { document: unknown }).document, { resultTypes: ['violations'] });
    return violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.map(String).join(' ')) }));
  });
  return found.filter((v) => v.impact !== null && impacts.includes(v.impact));
}
