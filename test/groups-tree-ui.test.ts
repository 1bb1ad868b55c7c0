// The camera groups panel as a tree, in real Chromium against the real service: an administrator
// creates a site and a floor under it with the parent select, sees the floor indented under its
// site, cannot pick a group's own subgroup as its parent, and moves a group to the top; the
// server's tree says the same at each step.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Locator, Page } from 'playwright-core';
import { launchChromium, signedIn, type Browser } from './chromium.ts';
import { startService, type Service } from './harness.ts';

let svc: Service;
let browser: Browser;
const log: string[] = [];

interface GroupView {
  id: string;
  name: string;
  parentId: string | null;
}
type InPage = { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } };

test.before(async () => {
  svc = await startService();
  browser = await launchChromium();
});
test.after(async () => {
  await browser?.close();
  await svc?.stop();
});

const groups = async () => ((await (await svc.api('/api/groups')).json()) as { groups: GroupView[] }).groups;

/** Until the panel lists a group named exactly `name`: its item. */
async function listed(page: Page, name: string): Promise<Locator> {
  const item = page.locator('#group-list .group-item', { has: page.locator('strong', { hasText: new RegExp(`^${name}$`) }) });
  await item.first().waitFor({ timeout: 10_000 });
  return item.first();
}

test('sites and floors: created under a parent, shown indented, moved to the top; a group cannot go under its own subgroup', async () => {
  const page = await browser.context.newPage();
  page.on('console', (m) => log.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`));
  try {
    await page.goto(`${svc.url}/#/people`);
    await page.fill('#username', svc.adminUsername);
    await page.fill('#password', svc.adminPassword);
    await page.click('#login-form button[type=submit]');
    await signedIn(page);
    await page.locator('#add-group').waitFor({ timeout: 10_000 });

    // A site at the top, then a floor under it (chosen in the parent select).
    await page.fill('#new-group-name', '豊洲現場');
    await page.click('#add-group button[type=submit]');
    const site = await listed(page, '豊洲現場');
    const siteId = (await site.getAttribute('data-group-id'))!;
    await page.locator('#new-group-parent').selectOption(siteId);
    await page.fill('#new-group-name', '豊洲現場 2F');
    await page.click('#add-group button[type=submit]');
    const floor = await listed(page, '豊洲現場 2F');
    const floorId = (await floor.getAttribute('data-group-id'))!;

    const server = await groups();
    assert.is(server.find((g) => g.id === floorId)?.parentId, siteId, 'the server has the floor under its site');
    assert.is(await site.getAttribute('data-depth'), '0');
    assert.is(await floor.getAttribute('data-depth'), '1', 'the floor is one level in');
    const [siteLeft, floorLeft] = await Promise.all([site.evaluate((el) => el.getBoundingClientRect().left), floor.evaluate((el) => el.getBoundingClientRect().left)]);
    assert.ok(floorLeft > siteLeft + 10, `the floor is shown indented under its site (${siteLeft} → ${floorLeft})`);
    const order = await page.locator('#group-list .group-item').evaluateAll((els) => els.map((el) => el.getAttribute('data-group-id')));
    assert.ok(order.indexOf(siteId) < order.indexOf(floorId), 'the site is listed before its floor');

    // The site's own parent select offers neither itself nor its floor.
    const siteChoices = await site.locator('select.group-parent option').evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value));
    assert.not.ok(siteChoices.includes(siteId) || siteChoices.includes(floorId), `the site cannot be put under itself or its floor: ${siteChoices.join(', ')}`);
    assert.ok(siteChoices.includes(''), 'the top is offered');

    // Move the floor to the top through its select.
    await floor.locator('select.group-parent').selectOption('');
    await page.waitForFunction(
      (id) => (globalThis as unknown as InPage).document.querySelector(`#group-list .group-item[data-group-id="${id}"]`)?.getAttribute('data-depth') === '0',
      floorId,
      { timeout: 10_000 },
    );
    assert.is((await groups()).find((g) => g.id === floorId)?.parentId, null, 'the server has it at the top too');
    assert.equal(log.filter((l) => l.startsWith('[pageerror]')), [], 'no page errors');
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${log.slice(-20).join('\n')}`);
  } finally {
    await page.close();
  }
});

test.run();
