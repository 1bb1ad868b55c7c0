// Webhooks against the real service: receivers on loopback in this test check every delivery's
// signature and timestamp with their own HMAC code; a real werift camera brings camera.online,
// camera.offline and recording.gap; an export brings export.ready; scheduling the organisation's
// contract end brings contract.end_scheduled to a receiver that fails three times first. A
// receiver that never answers delays neither the camera's recording nor the other webhooks. The
// address check (private addresses refused without MIMAMORI_WEBHOOK_ALLOW_PRIVATE) is tested on
// its own below; the service here allows them, as its receivers are on loopback.
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Camera } from '../camera/index.ts';
import { assertReachable, isPrivateAddress, parseWebhookUrl } from '../signaling/webhooks/index.ts';
import { postOnce } from '../signaling/webhooks/post.ts';
import { Webhooks } from '../signaling/webhooks/index.ts';
import { Registry } from 'prom-client';
import { DeliveryQueue } from '../signaling/webhooks/DeliveryQueue.ts';
import type { DeliveryEntry } from '../signaling/webhooks/DeliveryLog.ts';
import { createLogger, type Logger } from '../signaling/log.ts';
import { FileStore, PostgresStore, type Webhook } from '../signaling/store/index.ts';
import { startService, testDatabase, type Service } from './harness.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PASSWORD = 'webhooks-Password-3141-long';
/** One attempt gives up after 1.5 s; retries after about 0.2, 0.3, 0.4, 0.5, 0.6 s (6 attempts). */
const ENV = { MIMAMORI_WEBHOOK_ALLOW_PRIVATE: '1', MIMAMORI_WEBHOOK_RETRY_MS: '200,300,400,500,600', MIMAMORI_WEBHOOK_TIMEOUT_MS: '1500', MIMAMORI_SEGMENT_SECONDS: '4' };

let svc: Service;
let adminToken = '';
let orgId = '';
let cam = { id: '', secret: '' };

// --- The receivers -----------------------------------------------------------------------------

interface Received {
  path: string;
  atMs: number;
  verified: boolean;
  /** Why the signature was refused, if it was. */
  why?: string;
  eventId: string | undefined;
  eventType: string | undefined;
  body: { id: string; type: string; occurredAt: string; orgId: string; data: Record<string, unknown> };
}

/**
 * What a receiver does with Mimamori-Signature (as the README tells integrators): the HMAC of
 * "<t>.<raw body>" under the secret, compared in constant time, and t within 5 minutes.
 */
function verify(header: string | undefined, rawBody: string, secret: string, nowS = Math.floor(Date.now() / 1000)): { ok: boolean; why?: string } {
  const parts = Object.fromEntries((header ?? '').split(',').map((kv) => kv.split('=') as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || !parts.v1) return { ok: false, why: 'no t or v1' };
  if (Math.abs(nowS - t) > 300) return { ok: false, why: 'stale timestamp' };
  const expected = crypto.createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return { ok: false, why: 'signature mismatch' };
  return { ok: true };
}

const received: Received[] = [];
const secrets = new Map<string, string>(); // path → the webhook's secret
const flakyFailures = new Map<string, number>(); // event id → failures answered
const hanging = new Set<http.ServerResponse>();
let receiverUrl = '';
const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = req.url ?? '';
    const check = verify(req.headers['mimamori-signature'] as string | undefined, raw, secrets.get(path) ?? '');
    const entry: Received = { path, atMs: Date.now(), verified: check.ok, ...(check.why ? { why: check.why } : {}), eventId: req.headers['mimamori-event-id'] as string | undefined, eventType: req.headers['mimamori-event-type'] as string | undefined, body: JSON.parse(raw) as Received['body'] };
    received.push(entry);
    if (path === '/hang') {
      hanging.add(res); // never answered
      res.on('close', () => hanging.delete(res));
      return;
    }
    if (path === '/flaky') {
      const failed = flakyFailures.get(entry.body.id) ?? 0;
      if (failed < 3) {
        flakyFailures.set(entry.body.id, failed + 1);
        res.writeHead(500).end('not yet');
        return;
      }
    }
    res.writeHead(check.ok ? 200 : 401).end();
  });
});

const at = (path: string, type: string) => received.filter((r) => r.path === path && r.body.type === type);
async function until<T>(what: string, ms: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; received: ${JSON.stringify(received.map((r) => [r.path, r.body.type, r.verified]))}\n${svc.output().slice(-2000)}`);
    await sleep(50);
  }
}

// --- Set-up ------------------------------------------------------------------------------------

const asAdmin = (p: string, init: RequestInit = {}) => svc.api(p, { ...init, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) } });
async function json<T>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  assert.is(res.status, status, `${res.url}: ${text}`);
  return JSON.parse(text) as T;
}
interface WebhookView { id: string; name: string; url: string; events: string[]; enabled: boolean }
interface Delivery { eventId: string; type: string; attempt: number; delivered: boolean; status?: number; error?: string; nextAttemptAt?: string; durationMs: number; node: string }
async function makeWebhook(path: string, events: string[]): Promise<WebhookView> {
  const made = await json<{ webhook: WebhookView; secret: string }>(await asAdmin('/api/webhooks', { method: 'POST', body: JSON.stringify({ name: `receiver ${path}`, url: `${receiverUrl}${path}`, events }) }), 201);
  assert.match(made.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
  secrets.set(path, made.secret);
  return made.webhook;
}
const hooks: Record<'ok' | 'hang' | 'flaky', WebhookView | undefined> = { ok: undefined, hang: undefined, flaky: undefined };

test.before(async () => {
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  try {
    svc = await startService({ env: ENV });
    const created = await svc.api('/api/orgs', { method: 'POST', body: JSON.stringify({ name: 'Hooks KK', admin: { username: 'hooks-admin', password: PASSWORD } }) });
    if (created.status !== 201) throw new Error(`org: ${created.status} ${await created.text()}`);
    orgId = ((await created.json()) as { org: { id: string } }).org.id;
    adminToken = await svc.login('hooks-admin', PASSWORD);
    const made = await json<{ camera: { id: string }; secret: string }>(await asAdmin('/api/cameras', { method: 'POST', body: JSON.stringify({ name: '正面玄関 entrance' }) }), 201);
    cam = { id: made.camera.id, secret: made.secret };
  } catch (err) {
    console.error('set-up failed:', err, svc?.output().slice(-3000));
    throw err;
  }
});

test.after(async () => {
  for (const res of hanging) res.destroy();
  await svc?.stop();
  receiver.closeAllConnections();
  await new Promise((r) => receiver.close(r));
});

// --- Tests -------------------------------------------------------------------------------------

test('addresses: loopback, private, link-local, metadata and mapped addresses are refused without the allow flag', async () => {
  for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00:ec2::254', '::ffff:10.0.0.1', '::ffff:7f00:1', '224.0.0.1']) {
    assert.ok(isPrivateAddress(a), `${a} is private`);
  }
  for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111']) assert.not.ok(isPrivateAddress(a), `${a} is public`);
  const refused = async (url: string, allowPrivate: boolean, pattern: RegExp) => {
    const err = await (async () => assertReachable(parseWebhookUrl(url, allowPrivate), allowPrivate))().then(() => undefined, (e: unknown) => e as { code?: string; message?: string });
    assert.ok(err, `${url} refused`);
    assert.is(err!.code, 'webhook_url_refused', url);
    assert.match(err!.message ?? '', pattern);
  };
  await refused('http://example.com/hook', false, /https/);
  await refused('https://127.0.0.1/hook', false, /127\.0\.0\.1.*MIMAMORI_WEBHOOK_ALLOW_PRIVATE/);
  await refused('https://169.254.169.254/latest/meta-data', false, /169\.254\.169\.254/);
  await refused('https://[::1]:8443/x', false, /::1/);
  await refused('https://localhost/x', false, /resolves to/);
  await refused('https://user:pw@hooks.example.com/x', false, /password/);
  await refused('not a url', true, /not a URL/);
  // Allowed: loopback over http (what this test's service runs with).
  await assertReachable(parseWebhookUrl(`${receiverUrl}/ok`, true), true);
  // At delivery too: a name that resolves to loopback is refused at connect time, and nothing arrives.
  const before = received.length;
  const port = (receiver.address() as AddressInfo).port;
  for (const url of [`http://localhost:${port}/ok`, `http://127.0.0.1:${port}/ok`]) {
    const result = await postOnce(new URL(url), '{}', {}, { timeoutMs: 1000, allowPrivate: false });
    assert.is(result.ok, false);
    assert.match(result.error ?? '', /refused.*private/, url);
  }
  assert.is(received.length, before, 'no request reached the receiver');
});

test('store: webhooks in files and in PostgreSQL (migration 6): added, changed, switched off and on, rotated, deleted, gone with their organisation', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-hooks-'));
  const quiet = createLogger('silent');
  try {
    for (const open of [() => FileStore.open(dir), async () => PostgresStore.open({ url: await testDatabase(), log: quiet, nodeId: 'n1', auditRetentionDays: 400 })]) {
      const store = await open();
      try {
        const { org, admin } = await store.addOrg('Store Hooks KK', { username: `hooks-store-${store.kind}`, passwordHash: 'scrypt$x' });
        const made = await store.addWebhook({ id: 'wh_abcdefghijkl', orgId: org.id, name: 'n', url: 'https://hooks.example.com/a', events: ['camera.online', 'export.ready'], secret: 'whsec_one', createdBy: admin!.id });
        assert.equal(store.webhooksOf(org.id), [made], store.kind);
        const off = await store.updateWebhook(made.id, { enabled: false, events: ['camera.offline'], name: 'm' });
        assert.ok(off?.disabledAt);
        assert.equal([off!.name, off!.events, off!.url], ['m', ['camera.offline'], 'https://hooks.example.com/a']);
        assert.is((await store.updateWebhook(made.id, { enabled: false }))?.disabledAt, off!.disabledAt, 'switching off twice keeps the first time');
        assert.is((await store.updateWebhook(made.id, { enabled: true }))?.disabledAt, undefined);
        assert.is((await store.rotateWebhookSecret(made.id, 'whsec_two'))?.secret, 'whsec_two');
        assert.equal(store.snapshot().webhooks, [store.webhook(made.id)]);
        assert.is(await store.deleteWebhook(made.id), true);
        assert.is(store.webhook(made.id), undefined);
        await store.addWebhook({ ...made, id: 'wh_mnopqrstuvwx' });
        await store.removeOrg(org.id, { orgId: org.id, orgName: org.name, scheduledFor: new Date().toISOString(), completedAt: new Date().toISOString(), users: 1, cameras: 0, objects: 0, bytes: 0, errors: [] });
        assert.equal(store.webhooksOf(org.id), [], `${store.kind}: gone with the organisation`);
      } finally {
        await store.close();
      }
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('queue: one hanging webhook holds one slot, the others are sent; past its bound the oldest event is dropped', async () => {
  const webhook = (id: string): Webhook => ({ id, orgId: 'org_x', name: id, url: `https://${id}.example/`, events: ['camera.online'], secret: 'whsec_x', createdBy: 'u_x', createdAt: new Date().toISOString() });
  const sent: string[] = [];
  const entries: [string, DeliveryEntry][] = [];
  const dropped: string[] = [];
  const warnings: string[] = [];
  const log = { warn: (o: { event: string }) => warnings.push(o.event), error: () => undefined } as unknown as Logger;
  const queue = new DeliveryQueue({
    nodeId: 'n1',
    retryDelaysMs: [10],
    timeoutMs: 1000,
    allowPrivate: false,
    webhook,
    attempted: (id, e) => entries.push([id, e]),
    dropped: (id, e) => dropped.push(`${id}:${e.id}`),
    // 'slow' never answers within the test (it would be cut at its timeout); the rest answer 204 at once.
    post: (url, _body, _headers, o) => {
      sent.push(url.hostname.split('.')[0]!);
      if (url.hostname.startsWith('slow')) return new Promise((r) => o.signal?.addEventListener('abort', () => r({ ok: false, error: 'cancelled', durationMs: 0 })));
      return Promise.resolve({ ok: true, status: 204, durationMs: 1 });
    },
    log,
    concurrency: 2,
    perWebhook: 1,
    maxQueued: 3,
  });
  const event = (n: number) => ({ id: `evt_${n}`, type: 'camera.online', occurredAt: new Date().toISOString(), orgId: 'org_x', data: {} });
  for (let n = 1; n <= 3; n++) queue.enqueue('slow', event(n));
  for (let n = 1; n <= 3; n++) {
    queue.enqueue(`fast${n}`, event(10 + n));
    await sleep(10);
  }
  await sleep(50);
  // slow's first event is in flight; its other two wait (one per webhook) and never block fast1..3.
  assert.equal(sent, ['slow', 'fast1', 'fast2', 'fast3']);
  assert.is(queue.inFlight, 1);
  assert.is(queue.size, 2);
  // The bound: 3 waiting at most. Two more events drop the oldest waiting (slow's evt_2, then evt_3).
  queue.enqueue('fast1', event(21));
  queue.enqueue('fast2', event(22));
  queue.enqueue('slow', event(23));
  assert.equal(dropped, ['slow:evt_2']);
  assert.ok(warnings.includes('webhook_dropped'));
  await queue.close();
  assert.is(queue.inFlight, 0);
  assert.ok(entries.filter(([id]) => id.startsWith('fast')).every(([, e]) => e.delivered && e.status === 204 && e.node === 'n1'));
});

test('queue: webhooks whose last attempt failed share half the slots, so four hanging receivers retrying do not hold a webhook that answers', async () => {
  const webhook = (id: string): Webhook => ({ id, orgId: 'org_x', name: id, url: `https://${id}.example/`, events: ['camera.online'], secret: 'whsec_x', createdBy: 'u_x', createdAt: new Date().toISOString() });
  const sent: string[] = [];
  const queue = new DeliveryQueue({
    nodeId: 'n1',
    retryDelaysMs: [0, 0, 0, 0, 0, 0, 0, 0],
    timeoutMs: 30,
    allowPrivate: false,
    webhook,
    attempted: () => undefined,
    dropped: () => undefined,
    // 'hung*' never answer: each attempt ends at its timeout, as post() does; 'fast' answers at once.
    post: (url, _body, _headers, o) => {
      sent.push(url.hostname.split('.')[0]!);
      if (url.hostname.startsWith('hung')) return new Promise((r) => setTimeout(() => r({ ok: false, error: 'timed out', durationMs: o.timeoutMs }), o.timeoutMs));
      return Promise.resolve({ ok: true, status: 204, durationMs: 1 });
    },
    log: { warn: () => undefined, error: () => undefined } as unknown as Logger,
    concurrency: 4,
    perWebhook: 1,
    maxQueued: 100,
  });
  const event = (n: number) => ({ id: `evt_${n}`, type: 'camera.online', occurredAt: new Date().toISOString(), orgId: 'org_x', data: {} });
  try {
    for (let n = 1; n <= 4; n++) queue.enqueue(`hung${n}`, event(n));
    assert.is(queue.inFlight, 4, 'unknown receivers first get every slot');
    await sleep(150); // each has failed at least once and retries at once
    assert.ok(queue.inFlight <= 2, `failing receivers hold at most half the slots (${queue.inFlight} in flight)`);
    queue.enqueue('fast', event(10));
    assert.is(sent.at(-1), 'fast', 'the answering webhook is sent at once, beside the retries');
  } finally {
    await queue.close();
  }
});

test('sources: the not_recording alert and a recorder gap become camera.not_recording and recording.gap for the camera\'s organisation', async () => {
  const hook: Webhook = { id: 'wh_fakefakefake', orgId: 'org_f', name: 'f', url: `${receiverUrl}/fake`, events: ['camera.not_recording', 'recording.gap'], secret: 'whsec_fake', createdBy: 'u_f', createdAt: new Date().toISOString() };
  const emitter = () => new EventEmitter();
  const store = Object.assign(emitter(), { webhooksOf: (org: string) => (org === 'org_f' ? [hook] : []), webhook: () => hook, camera: (id: string) => (id === 'cam_f' ? { id, orgId: 'org_f', name: 'Dock 3' } : undefined) });
  const sfu = Object.assign(emitter(), { rooms: new Map() });
  const recorder = emitter();
  const monitoring = Object.assign(emitter(), { registry: new Registry() });
  const quiet = createLogger('silent');
  const webhooks = Webhooks.create({ store: store as never, sfu: sfu as never, recorder: recorder as never, log: quiet, nodeId: 'n1', settings: { allowPrivate: true, retryDelaysMs: [], timeoutMs: 1000 } });
  secrets.set('/fake', hook.secret);
  webhooks.watchMonitoring(monitoring as never);
  try {
    monitoring.emit('alert', { cameraId: 'cam_f', kind: 'not_recording', sinceMs: Date.UTC(2026, 11, 6, 1, 2, 3) });
    monitoring.emit('alert', { cameraId: 'cam_f', kind: 'disk_full', sinceMs: 0 });
    recorder.emit('gap', 'cam_f', { fromMs: Date.UTC(2026, 11, 6, 1, 0, 0), toMs: Date.UTC(2026, 11, 6, 1, 0, 30), reason: 'camera-offline' });
    recorder.emit('gap', 'cam_unknown', { fromMs: 0, toMs: 1, reason: 'camera-offline' });
    const alert = await until('camera.not_recording at /fake', 5000, () => at('/fake', 'camera.not_recording')[0]);
    assert.ok(alert.verified, alert.why);
    assert.equal(alert.body.data, { cameraId: 'cam_f', cameraName: 'Dock 3', since: '2026-12-06T01:02:03.000Z' });
    const gap = await until('recording.gap at /fake', 5000, () => at('/fake', 'recording.gap')[0]);
    assert.equal(gap.body.data, { cameraId: 'cam_f', cameraName: 'Dock 3', from: '2026-12-06T01:00:00.000Z', to: '2026-12-06T01:00:30.000Z', reason: 'camera-offline' });
    await sleep(200);
    assert.is(received.filter((r) => r.path === '/fake').length, 2, 'nothing for the disk_full alert or an unknown camera');
    assert.equal(webhooks.deliveries(hook.id).map((d) => [d.type, d.delivered]).sort(), [['camera.not_recording', true], ['recording.gap', true]]);
    assert.match(await monitoring.registry.metrics(), /mimamori_webhook_deliveries_total 2/);
  } finally {
    await webhooks.close();
  }
});

test('webhooks are for organisation administrators: other users and API keys get 403', async () => {
  const viewer = await json<{ user: { id: string } }>(await asAdmin('/api/users', { method: 'POST', body: JSON.stringify({ username: 'hooks-viewer', password: PASSWORD, role: 'viewer' }) }), 201);
  assert.ok(viewer.user.id);
  const viewerToken = await svc.login('hooks-viewer', PASSWORD);
  const key = await json<{ key: string }>(await asAdmin('/api/api-keys', { method: 'POST', body: JSON.stringify({ name: 'hooks key', scope: 'manage_cameras' }) }), 201);
  const body = JSON.stringify({ name: 'x', url: `${receiverUrl}/ok`, events: ['camera.online'] });
  for (const [who, token, code] of [['viewer', viewerToken, 'forbidden'], ['API key', key.key, 'api_key_not_allowed']] as const) {
    for (const [method, path] of [['GET', '/api/webhooks'], ['POST', '/api/webhooks']] as const) {
      const res = await svc.api(path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(method === 'POST' ? { body } : {}) });
      const answer = (await res.json()) as { error?: { code?: string } };
      assert.is(res.status, 403, `${who} ${method} ${path}`);
      assert.is(answer.error?.code, code, `${who} ${method} ${path}`);
    }
  }
  const bad = await asAdmin('/api/webhooks', { method: 'POST', body: JSON.stringify({ name: 'x', url: `${receiverUrl}/ok`, events: ['camera.exploded'] }) });
  assert.is(bad.status, 400);
});

test('create shows the secret once; the list never does; the test button is signed, verified by the receiver and logged', async () => {
  hooks.ok = await makeWebhook('/ok', ['camera.online', 'camera.offline', 'recording.gap', 'export.ready', 'export.failed', 'contract.end_scheduled', 'camera.not_recording']);
  const listText = await (await asAdmin('/api/webhooks')).text();
  assert.ok(listText.includes(hooks.ok.id));
  assert.not.ok(listText.includes(secrets.get('/ok')!), 'the list has no secret');
  assert.not.ok(listText.includes('whsec_'), 'the list has no secret');

  const { delivery } = await json<{ delivery: Delivery }>(await asAdmin(`/api/webhooks/${hooks.ok.id}/test`, { method: 'POST' }));
  assert.is(delivery.delivered, true, JSON.stringify(delivery));
  assert.is(delivery.status, 200);
  const got = at('/ok', 'webhook.test').at(-1)!;
  assert.ok(got.verified, got.why);
  assert.is(got.eventId, got.body.id);
  assert.is(got.eventType, 'webhook.test');
  assert.is(got.body.orgId, orgId);
  assert.match(got.body.id, /^evt_/);
  assert.match(got.body.occurredAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.is(got.body.data.webhookId, hooks.ok.id);
  // The receiver's checks do refuse what they should: another secret, a stale timestamp.
  const raw = JSON.stringify(got.body);
  const t = Math.floor(Date.now() / 1000);
  const sign = (secret: string, ts: number) => `t=${ts},v1=${crypto.createHmac('sha256', secret).update(`${ts}.${raw}`).digest('hex')}`;
  assert.ok(verify(sign(secrets.get('/ok')!, t), raw, secrets.get('/ok')!).ok);
  assert.is(verify(sign('whsec_other', t), raw, secrets.get('/ok')!).why, 'signature mismatch');
  assert.is(verify(sign(secrets.get('/ok')!, t - 301), raw, secrets.get('/ok')!).why, 'stale timestamp');

  const detail = await json<{ webhook: WebhookView; deliveries: Delivery[] }>(await asAdmin(`/api/webhooks/${hooks.ok.id}`));
  assert.not.ok(JSON.stringify(detail).includes('whsec_'));
  assert.is(detail.deliveries[0]?.type, 'webhook.test');
  assert.is(detail.deliveries[0]?.eventId, got.body.id);

  // Rotation: a new secret, shown once; deliveries are signed with it from now on.
  const old = secrets.get('/ok')!;
  const rotated = await json<{ secret: string }>(await asAdmin(`/api/webhooks/${hooks.ok.id}/secret`, { method: 'POST' }));
  assert.is.not(rotated.secret, old);
  secrets.set('/ok', rotated.secret);
  await json(await asAdmin(`/api/webhooks/${hooks.ok.id}/test`, { method: 'POST' }));
  assert.ok(at('/ok', 'webhook.test').at(-1)!.verified, 'signed with the new secret');

  // Disabled: the test button still works; events are not sent (checked with the camera below, after enabling again).
  const off = await json<{ webhook: WebhookView }>(await asAdmin(`/api/webhooks/${hooks.ok.id}`, { method: 'PATCH', body: JSON.stringify({ enabled: false }) }));
  assert.is(off.webhook.enabled, false);
  const on = await json<{ webhook: WebhookView }>(await asAdmin(`/api/webhooks/${hooks.ok.id}`, { method: 'PATCH', body: JSON.stringify({ enabled: true }) }));
  assert.is(on.webhook.enabled, true);
});

test('a real camera: camera.online, recording.gap and camera.offline arrive signed, while a receiver that never answers delays neither the recording nor them', async () => {
  hooks.hang = await makeWebhook('/hang', ['camera.online', 'camera.offline', 'recording.gap']);
  const publish = async (ms: number) => {
    const camera = await Camera.create({ whipUrl: `${svc.url}/whip/${cam.id}`, token: await svc.publishToken(cam.id, cam.secret), width: 320, height: 180, kbps: 300, fps: 30 });
    await sleep(ms);
    await camera.close();
  };
  const a0 = Date.now();
  const first = publish(7000);
  const online = await until('camera.online at /ok', 8000, () => at('/ok', 'camera.online')[0]);
  assert.ok(online.verified, online.why);
  assert.equal(online.body.data, { cameraId: cam.id, cameraName: '正面玄関 entrance' });
  // The hanging receiver got the same event and holds it: /ok was not kept waiting for it.
  const held = await until('camera.online at /hang', 3000, () => at('/hang', 'camera.online')[0]);
  assert.is(held.body.id, online.body.id);
  assert.ok(online.atMs - Date.parse(online.body.occurredAt) < 1000, `delivered ${online.atMs - Date.parse(online.body.occurredAt)} ms after the event`);
  await first;
  const a1 = Date.now();
  const offline = await until('camera.offline at /ok', 5000, () => at('/ok', 'camera.offline')[0]);
  assert.ok(offline.verified, offline.why);
  assert.is(offline.body.data.cameraId, cam.id);
  await sleep(1500);
  await publish(4000);
  const gap = await until('recording.gap at /ok', 8000, () => at('/ok', 'recording.gap')[0]);
  assert.ok(gap.verified, gap.why);
  assert.is(gap.body.data.cameraId, cam.id);
  assert.is(gap.body.data.reason, 'camera-offline');
  assert.ok(Date.parse(gap.body.data.to as string) > Date.parse(gap.body.data.from as string));
  assert.ok(Math.abs(Date.parse(gap.body.data.from as string) - a1) < 2500, 'the gap starts where the camera dropped');
  await until('the second camera.offline at /ok', 5000, () => at('/ok', 'camera.offline')[1]);

  // Meanwhile the hanging receiver was tried again and again (each attempt cut at the timeout).
  const hangLog = await json<{ deliveries: Delivery[] }>(await asAdmin(`/api/webhooks/${hooks.hang!.id}`));
  assert.ok(hangLog.deliveries.length >= 2, JSON.stringify(hangLog.deliveries));
  for (const d of hangLog.deliveries) {
    assert.is(d.delivered, false);
    assert.match(d.error ?? '', /timeout/);
    assert.ok(d.durationMs >= 1400 && d.durationMs < 3000, `an attempt took ${d.durationMs} ms`);
  }
  // The camera recorded normally: the first publishing is one span, from its start to its end, no gap inside.
  const t = await json<{ spans: { fromMs: number; toMs: number }[]; gaps: { fromMs: number; toMs: number; reason: string }[] }>(
    await asAdmin(`/api/cameras/${cam.id}/timeline?from=${a0 - 60_000}&to=${Date.now() + 60_000}`),
  );
  const span = t.spans[0]!;
  assert.ok(span.toMs - span.fromMs > 7000 - 2500, `recorded ${span.toMs - span.fromMs} ms of 7000: ${JSON.stringify(t)}`);
  assert.ok(!t.gaps.some((g) => g.fromMs >= span.fromMs && g.toMs <= span.toMs), JSON.stringify(t.gaps));
  assert.is(t.gaps.filter((g) => g.fromMs >= a0).length, 1, `one gap, between the two publishings: ${JSON.stringify(t.gaps)}`);
  hooks.hang = (await asAdmin(`/api/webhooks/${hooks.hang!.id}`, { method: 'DELETE' })).status === 204 ? undefined : hooks.hang;
  assert.is(hooks.hang, undefined);
});

test('export.ready when an export finishes', async () => {
  // Everything recorded is in S3 before the export reads it.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = (await (await svc.api('/api/recorder')).json()) as { upload: { queued: number }; spoolBytes: number; cameras: { recording: boolean }[] };
    if (!status.cameras.some((c) => c.recording) && status.upload.queued === 0 && status.spoolBytes === 0) break;
    if (Date.now() > deadline) throw new Error(`uploads did not finish: ${JSON.stringify(status)}`);
    await sleep(250);
  }
  const tl = await json<{ spans: { fromMs: number; toMs: number }[] }>(await asAdmin(`/api/cameras/${cam.id}/timeline?from=${Date.now() - 600_000}&to=${Date.now()}`));
  const span = tl.spans[0]!;
  const made = await json<{ export: { id: string } }>(await asAdmin(`/api/cameras/${cam.id}/exports`, { method: 'POST', body: JSON.stringify({ from: span.fromMs + 500, to: span.fromMs + 3500, name: 'for the insurer' }) }), 202);
  const ready = await until('export.ready at /ok', 30_000, () => at('/ok', 'export.ready').find((r) => r.body.data.exportId === made.export.id));
  assert.ok(ready.verified, ready.why);
  assert.is(ready.body.data.cameraId, cam.id);
  assert.match(ready.body.data.name as string, /^for the insurer/);
  assert.ok((ready.body.data.bytes as number) > 0);
});

test('contract.end_scheduled; a receiver that fails three times gets the event on the 4th attempt, and its log shows all four', async () => {
  hooks.flaky = await makeWebhook('/flaky', ['contract.end_scheduled']);
  const atIso = new Date(Date.now() + 30 * 86_400_000).toISOString();
  const scheduled = await svc.api(`/api/orgs/${orgId}/deletion`, { method: 'PUT', body: JSON.stringify({ at: atIso }) });
  assert.is(scheduled.status, 200, await scheduled.clone().text());
  const got = await until('contract.end_scheduled at /ok', 5000, () => at('/ok', 'contract.end_scheduled')[0]);
  assert.ok(got.verified, got.why);
  assert.is(got.body.data.at, atIso);
  assert.is(got.body.data.orgName, 'Hooks KK');
  // Each retry waits about 0.2, 0.3, 0.4 s (this test's MIMAMORI_WEBHOOK_RETRY_MS).
  const fourth = await until('the 4th attempt at /flaky', 8000, () => at('/flaky', 'contract.end_scheduled')[3]);
  const attempts = at('/flaky', 'contract.end_scheduled');
  assert.is(attempts.length, 4);
  assert.ok(attempts.every((a) => a.verified && a.body.id === got.body.id && a.eventId === got.body.id), 'every attempt signed afresh, one event id');
  assert.ok(fourth.atMs - attempts[0]!.atMs >= (200 + 300 + 400) * 0.75, 'the retries waited');
  await sleep(300);
  const log = await json<{ deliveries: Delivery[] }>(await asAdmin(`/api/webhooks/${hooks.flaky.id}`));
  const mine = log.deliveries.filter((d) => d.eventId === got.body.id);
  assert.equal(mine.map((d) => [d.attempt, d.delivered, d.status]), [[4, true, 200], [3, false, 500], [2, false, 500], [1, false, 500]]);
  assert.ok(mine.slice(1).every((d) => d.nextAttemptAt && d.error === 'answered 500'));
  assert.is(mine[0]!.nextAttemptAt, undefined);
  assert.is(at('/flaky', 'contract.end_scheduled').length, 4, 'nothing after the delivery');
  await json(await svc.api(`/api/orgs/${orgId}/deletion`, { method: 'DELETE' }));
});

test.run();
