// The administration panel's integrations section in Chromium, against the real service: an
// administrator creates an API key limited to a camera group with an expiry day (Asia/Tokyo), reads
// it once from the page, and a script's call with it lists the group's cameras until the key is
// revoked in the panel (then 401 api_key_revoked); a webhook created in the panel to a receiver in
// this test gets a signed webhook.test event from the "send test" button, the outcome and the
// delivery log show on the page (a failing receiver's status too), the secret is rotated and the
// next test is signed with the new one; in Japanese the section, its states and its confirmations
// are Japanese, and the webhook is deleted.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CHROMIUM_ARGS, CHROMIUM_PATH, signInAt } from './chromium.ts';
import { startService, type Service } from './harness.ts';

let svc: Service;
let browser: Browser;
const contexts: BrowserContext[] = [];
const log: string[] = [];
/** What the pages asked with confirm(), in order (every dialog is accepted). */
const dialogs: string[] = [];
let camera = { id: '', secret: '' };
let groupId = '';
/** The English administrator's tab, signed in once. */
let adminPage: Page;
let webhookId = '';

// --- The webhook receiver ----------------------------------------------------------------------

interface Received {
  signature: string | undefined;
  raw: string;
  body: { id: string; type: string; occurredAt: string; orgId: string; data: Record<string, unknown> };
}
const received: Received[] = [];
/** What the receiver answers; a test sets it to see a failing delivery. */
let receiverStatus = 200;
const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    received.push({ signature: req.headers['mimamori-signature'] as string | undefined, raw, body: JSON.parse(raw) as Received['body'] });
    res.writeHead(receiverStatus).end();
  });
});
let receiverUrl = '';

/** Mimamori-Signature as the README tells integrators to check it: HMAC-SHA256 of "<t>.<raw body>". */
function signedWith(secret: string, r: Received): boolean {
  const parts = Object.fromEntries((r.signature ?? '').split(',').map((kv) => kv.split('=') as [string, string]));
  if (!parts.t || !parts.v1 || Math.abs(Date.now() / 1000 - Number(parts.t)) > 300) return false;
  const expected = crypto.createHmac('sha256', secret).update(`${parts.t}.${r.raw}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

// --- Helpers -----------------------------------------------------------------------------------

async function newPage(name: string, locale: string): Promise<Page> {
  // The browser's zone is UTC: times in Asia/Tokyo come from the app.
  const context = await browser.newContext({ locale, timezoneId: 'UTC', viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on('console', (m) => m.type() !== 'debug' && log.push(`[${name} ${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => log.push(`[${name} pageerror] ${e.message}`));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.accept();
  });
  return page;
}

/** Signs in on the Organisation view (integrations), by its deep link. */
const signIn = (page: Page) => signInAt(page, `${svc.url}/#/organisation`, svc.adminUsername, svc.adminPassword);

/** Fails with the pages' console and the service's output: a timeout alone says little. */
async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}\n${log.slice(-30).join('\n')}\n${svc.output().slice(-2000)}`);
  }
}

async function json<T>(res: Response): Promise<T> {
  if (!res.ok) throw new Error(`${res.url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const text = async (page: Page, selector: string) => ((await page.textContent(selector)) ?? '').trim();
const texts = async (page: Page, selector: string) => (await page.locator(selector).allTextContents()).map((s) => s.trim());
const tokyo = (locale: string, iso: string) => new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeStyle: 'short', timeZone: 'Asia/Tokyo' }).format(Date.parse(iso));
/** A script's call with the key, as an integration makes it. */
const withKey = (key: string) => fetch(`${svc.url}/api/cameras`, { headers: { authorization: `Bearer ${key}` } });

test.before(async () => {
  const built = spawnSync('bash', ['setup/client.sh'], { cwd: new URL('..', import.meta.url), stdio: 'inherit' });
  assert.is(built.status, 0, 'setup/client.sh builds the pages');
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  // The receiver is on loopback: the service refuses private addresses unless told otherwise.
  svc = await startService({ env: { MIMAMORI_WEBHOOK_ALLOW_PRIVATE: '1', MIMAMORI_WEBHOOK_TIMEOUT_MS: '3000' } });
  camera = await svc.createCamera('Gate');
  await svc.createCamera('Warehouse');
  groupId = (await json<{ group: { id: string } }>(await svc.api('/api/groups', { method: 'POST', body: JSON.stringify({ name: 'Entrance', cameraIds: [camera.id] }) }))).group.id;
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
});

test.after(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await svc?.stop();
  await new Promise((r) => receiver.close(r));
});

test('an API key created in the panel is shown once, lists the group\'s cameras, and is refused once revoked', async () => {
  const page = (adminPage = await newPage('admin', 'en-US'));
  await signIn(page);
  await step('the integrations section', () => page.waitForSelector('#integrations #api-keys-table', { timeout: 10_000 }));
  assert.is(await text(page, '#integrations h3'), 'Integrations');
  assert.is(await text(page, '#api-keys h4'), 'API keys');
  assert.is(await text(page, '#webhooks h4'), 'Webhooks');
  assert.match(await text(page, '#api-key-scopes'), /Read only\s*Camera list, timelines, recordings and playback\./, 'each scope is explained');

  // The key stops at the end of the chosen day in Asia/Tokyo (the app's zone; the browser's is UTC).
  const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Tokyo' }).format(Date.now() + 200 * 86_400_000);
  const key = await step('create a read-only key for the group', async () => {
    await page.fill('#api-key-name', 'Door system');
    await page.selectOption('#api-key-scope', 'read');
    await page.waitForSelector(`#api-key-group option[value="${groupId}"]`, { state: 'attached', timeout: 10_000 });
    await page.selectOption('#api-key-group', groupId);
    await page.fill('#api-key-expires', day);
    await page.click('#api-key-create');
    await page.waitForSelector('#api-key-once code.api-key-secret', { timeout: 10_000 });
    return text(page, '#api-key-once code.api-key-secret');
  });
  assert.match(key, /^mk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/, 'the key itself is on the page');
  assert.match(await text(page, '#api-key-once .once-warning'), /“Door system”.*shown only this once and cannot be shown again/);
  assert.ok(await page.isVisible('#api-key-once button >> text=Copy'), 'with a copy button');
  assert.is(await page.inputValue('#api-key-name'), '', 'the form is cleared');

  const listed = await json<{ apiKeys: { id: string; prefix: string; expiresAt: string | null; groupId: string | null }[] }>(await svc.api('/api/api-keys'));
  const made = listed.apiKeys[0]!;
  assert.ok(key.startsWith(made.prefix), 'the key shown is the one listed');
  assert.is(made.groupId, groupId);
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  assert.is(Date.parse(made.expiresAt!), Date.UTC(y, m - 1, d + 1) - 9 * 3_600_000, 'it expires at the end of that day in Tokyo');

  const row = `#api-keys-table tr[data-api-key-id="${made.id}"]`;
  await step('the key is listed', () => page.waitForSelector(row, { timeout: 10_000 }));
  const cells = await texts(page, `${row} td`);
  assert.ok(cells[0]!.startsWith('Door system') && cells[0]!.includes(made.prefix), `name and prefix: ${cells[0]}`);
  assert.equal(cells.slice(1, 3), ['Read only', 'Entrance']);
  assert.is(cells[4], tokyo('en-US', made.expiresAt!), 'the expiry in Tokyo, in the English format');
  assert.is(cells[5], 'Never', 'not used yet');
  assert.is(cells[6], 'Active');

  const before = await withKey(key);
  assert.is(before.status, 200, 'the key lists cameras');
  const names = (await json<{ cameras: { name: string }[] }>(before)).cameras.map((c) => c.name);
  assert.equal(names, ['Gate'], 'only the cameras of its group');

  await step('revoke it in the panel', async () => {
    await page.click('#api-key-once button >> text=Close');
    assert.not.ok(await page.isVisible('#api-key-once'), 'closing the box hides the key');
    assert.not.ok((await page.content()).includes(key), 'and the key is gone from the page');
    await page.click(`${row} .api-key-revoke`);
    await page.waitForSelector(`${row}[data-state="revoked"]`, { timeout: 10_000 });
  });
  assert.match(dialogs.at(-1) ?? '', /^Revoke the API key “Door system”\?/, 'asked first');
  assert.match(await text(page, '#api-keys .notice[data-tone="ok"]'), /The API key “Door system” was revoked\./);
  assert.is(await text(page, `${row} .api-key-state`), 'Revoked');
  assert.is(await page.locator(`${row} .api-key-revoke`).count(), 0, 'a revoked key has no revoke button');
  assert.ok(await page.isVisible(`${row} .api-key-last-used time`), `its last use is shown: ${await text(page, `${row} .api-key-last-used`)}`);

  const after = await withKey(key);
  assert.is(after.status, 401, 'the key is refused');
  assert.is(((await after.json()) as { error: { code: string } }).error.code, 'api_key_revoked');
});

test('a webhook created in the panel gets a signed test event, and the page shows the outcome and the delivery log', async () => {
  const page = adminPage;
  await step('events are required', async () => {
    await page.fill('#webhook-name', 'Facility alerts');
    await page.fill('#webhook-url', `${receiverUrl}/hook`);
    await page.click('#webhook-create');
    await page.waitForSelector('#webhooks .notice[data-tone="error"] >> text=Choose at least one event.', { timeout: 5_000 });
  });
  const secret = await step('create the webhook', async () => {
    await page.check('#webhook-events input[value="camera.offline"]');
    await page.check('#webhook-events input[value="recording.gap"]');
    await page.click('#webhook-create');
    await page.waitForSelector('#webhook-secret-once code.webhook-secret', { timeout: 10_000 });
    return text(page, '#webhook-secret-once code.webhook-secret');
  });
  assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/, 'the signing secret is shown once');
  assert.match(await text(page, '#webhook-secret-once .once-warning'), /Signing secret of the webhook “Facility alerts”\. It is shown only this once/);
  webhookId = (await page.getAttribute('#webhook-secret-once code.webhook-secret', 'data-webhook-id')) ?? '';
  const row = `#webhooks-table tr[data-webhook-id="${webhookId}"]`;
  await step('the webhook is listed', () => page.waitForSelector(row, { timeout: 10_000 }));
  const cells = await texts(page, `${row} td`);
  assert.equal(cells.slice(0, 2), ['Facility alerts', `${receiverUrl}/hook`]);
  assert.equal(await texts(page, `${row} li`), ['Camera went offline', 'Gap in a recording']);
  assert.is(cells[3], 'Enabled');

  await step('send test', async () => {
    await page.click(`${row} .webhook-test`);
    await page.waitForSelector('#webhooks .notice[data-tone="ok"]', { timeout: 10_000 });
  });
  assert.match(await text(page, '#webhooks .notice'), /^Test event delivered to “Facility alerts”: HTTP 200 in \d+ ms\.$/);
  assert.is(received.length, 1, 'the receiver got one request');
  const event = received[0]!;
  assert.is(event.body.type, 'webhook.test');
  assert.is(event.body.data.webhookId, webhookId);
  assert.ok(signedWith(secret, event), `signed with the secret shown: ${event.signature}`);

  const logRow = `#webhook-log[data-webhook-id="${webhookId}"] tr[data-event-id="${event.body.id}"]`;
  await step('the delivery is in the log', () => page.waitForSelector(logRow, { timeout: 10_000 }));
  assert.is(await text(page, '#webhook-log h5'), 'Delivery log of “Facility alerts”');
  const logCells = await texts(page, `${logRow} td`);
  assert.equal(logCells.slice(1, 5), ['Test event', '1', 'Delivered', 'HTTP 200'], logCells.join(' | '));
  assert.match(logCells[5]!, /^\d+ ms$/);

  await step('a failing receiver: the status is shown', async () => {
    receiverStatus = 503;
    try {
      await page.click(`${row} .webhook-test`);
      await page.waitForSelector('#webhooks .notice[data-tone="error"]', { timeout: 10_000 });
    } finally {
      receiverStatus = 200;
    }
  });
  assert.is(await text(page, '#webhooks .notice'), 'The test event did not reach “Facility alerts”: HTTP 503');
  await step('the failure is in the log, newest first', () => page.waitForSelector(`#webhook-log tbody tr:first-child[data-delivered="false"]`, { timeout: 10_000 }));
  assert.is(await page.locator('#webhook-log tbody tr').count(), 2);
  assert.is(await text(page, '#webhook-log tbody tr:first-child td:nth-child(4)'), 'Failed');

  const rotated = await step('rotate the secret', async () => {
    await page.click(`${row} .webhook-rotate`);
    await page.waitForFunction(
      (old) => {
        const shown = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector('#webhook-secret-once code.webhook-secret')?.textContent;
        return (shown ?? old) !== old;
      },
      secret,
      { timeout: 10_000 },
    );
    return text(page, '#webhook-secret-once code.webhook-secret');
  });
  assert.match(dialogs.at(-1) ?? '', /^Give “Facility alerts” a new signing secret\?/);
  assert.match(await text(page, '#webhook-secret-once .once-warning'), /New signing secret of “Facility alerts”.*The old secret no longer works/);
  await step('the next test is signed with the new secret', async () => {
    await page.click(`${row} .webhook-test`);
    await page.waitForSelector('#webhooks .notice[data-tone="ok"]', { timeout: 10_000 });
  });
  const last = received.at(-1)!;
  assert.ok(signedWith(rotated, last) && !signedWith(secret, last), 'signed with the new secret only');

  await step('disable it', async () => {
    await page.click(`${row} .webhook-toggle`);
    await page.waitForSelector(`${row}[data-enabled="false"]`, { timeout: 10_000 });
  });
  assert.is(await text(page, `${row} .webhook-state`), 'Disabled');
  assert.is(await text(page, `${row} .webhook-toggle`), 'Enable');
  const listed = await json<{ webhooks: { id: string; enabled: boolean }[] }>(await svc.api('/api/webhooks'));
  assert.equal(listed.webhooks.map((w) => [w.id, w.enabled]), [[webhookId, false]]);
});

test('in Japanese the section is Japanese, and the webhook is deleted after a confirmation', async () => {
  const page = await newPage('admin-ja', 'ja-JP');
  await signIn(page);
  const row = `#webhooks-table tr[data-webhook-id="${webhookId}"]`;
  await step('the section in Japanese', () => page.waitForSelector(row, { timeout: 10_000 }));
  assert.is(await text(page, '#integrations h3'), '連携');
  assert.is(await text(page, '#api-keys h4'), 'APIキー');
  assert.is(await text(page, '#api-key-create'), 'APIキーを作成');
  assert.is(await text(page, '#api-keys-table th:nth-child(6)'), '最終使用');
  assert.is(await text(page, '#api-keys-table tbody tr .api-key-state'), '失効済み');
  assert.is(await text(page, `${row} .webhook-test`), 'テスト送信');
  assert.is(await text(page, `${row} .webhook-deliveries`), '配信履歴');
  assert.is(await text(page, `${row} .webhook-state`), '無効');
  assert.is(await text(page, '#webhook-events label:has(input[value="camera.offline"])'), 'カメラがオフラインになった');
  const listed = await json<{ apiKeys: { expiresAt: string }[] }>(await svc.api('/api/api-keys'));
  assert.is(await text(page, '#api-keys-table tbody tr td:nth-child(5)'), tokyo('ja-JP', listed.apiKeys[0]!.expiresAt), 'the expiry in the Japanese format');

  await step('the delivery log in Japanese', async () => {
    await page.click(`${row} .webhook-deliveries`);
    await page.waitForSelector('#webhook-log tbody tr[data-event-type="webhook.test"]', { timeout: 10_000 });
  });
  assert.is(await text(page, '#webhook-log h5'), '「Facility alerts」の配信履歴');
  assert.is(await page.evaluate('document.activeElement?.id'), 'webhook-log-title', 'focus moves to the log');
  assert.is(await text(page, '#webhook-log tbody tr:last-child td:nth-child(4)'), '成功');

  await step('delete it', async () => {
    await page.click(`${row} .webhook-delete`);
    await page.waitForSelector(row, { state: 'detached', timeout: 10_000 });
  });
  assert.match(dialogs.at(-1) ?? '', /^Webhook「Facility alerts」を削除しますか？/);
  assert.is(await text(page, '#webhooks .notice[data-tone="ok"]'), 'Webhook「Facility alerts」を削除しました。');
  assert.ok(await page.isHidden('#webhook-log'), 'its log is closed');
  assert.is(await text(page, '#webhooks-table tbody'), 'Webhookはまだありません。');
  assert.equal((await json<{ webhooks: unknown[] }>(await svc.api('/api/webhooks'))).webhooks, []);
});

test.run();
