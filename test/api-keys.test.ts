// API keys for integrations: made by organisation administrators and shown once, listed without
// secrets, limited by scope and camera group, stopped by expiry, revocation or their creator's
// demotion, audited under their name, rate-limited with 429 + Retry-After. The permission matrix
// (permissions.test.ts) calls every route with one key per scope; this file covers the rest.
// MIMAMORI_TEST_STORE=postgres runs it against PostgreSQL (api-keys-postgres.test.ts).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKeyRateLimiter, apiKeyIdOf, authenticateApiKey, newApiKey } from '../signaling/apiKeys.ts';
import { FileStore } from '../signaling/store/index.ts';
import { startService, type Service } from './harness.ts';

let svc: Service;
const PASSWORD = 'api-keys-Password-2718-long';
let adminToken = '';
const ids = { org: '', camA: '', camG: '', group: '', admin2: '' };
/** A small bucket, so the rate-limit test needs few calls: 10 a second, 20 at once. */
const RATE = { MIMAMORI_API_KEY_RATE: '10', MIMAMORI_API_KEY_BURST: '20' };

interface KeyView {
  id: string;
  prefix: string;
  name: string;
  scope: string;
  groupId: string | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  state: string;
}

test.before(async () => {
  try {
    svc = await startService({ env: { ...RATE, MIMAMORI_LOG_LEVEL: 'info' } });
    // An organisation of its own: its administrator makes the keys (not the service's operator).
    const created = await svc.api('/api/orgs', { method: 'POST', body: JSON.stringify({ name: 'Keys KK', admin: { username: 'keys-admin', password: PASSWORD } }) });
    if (created.status !== 201) throw new Error(`org: ${created.status} ${await created.text()}`);
    ids.org = ((await created.json()) as { org: { id: string } }).org.id;
    adminToken = await svc.login('keys-admin', PASSWORD);
    ids.camA = ((await (await asAdmin('/api/cameras', { method: 'POST', body: JSON.stringify({ name: 'entrance' }) })).json()) as { camera: { id: string } }).camera.id;
    ids.camG = ((await (await asAdmin('/api/cameras', { method: 'POST', body: JSON.stringify({ name: 'yard' }) })).json()) as { camera: { id: string } }).camera.id;
    ids.group = ((await (await asAdmin('/api/groups', { method: 'POST', body: JSON.stringify({ name: 'yard site', cameraIds: [ids.camG] }) })).json()) as { group: { id: string } }).group.id;
    const second = await asAdmin('/api/users', { method: 'POST', body: JSON.stringify({ username: 'keys-admin-2', password: PASSWORD, role: 'admin' }) });
    ids.admin2 = ((await second.json()) as { user: { id: string } }).user.id;
  } catch (err) {
    console.error('set-up failed:', err, svc?.output().slice(-3000));
    throw err;
  }
});

test.after(async () => {
  await svc?.stop();
});

const asAdmin = (p: string, init: RequestInit = {}) => svc.api(p, { ...init, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) } });
const withKey = (key: string, p: string, init: RequestInit = {}) => svc.api(p, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } });
const codeOf = async (res: Response) => ((await res.json()) as { error?: { code?: string } }).error?.code;

async function makeKey(body: Record<string, unknown>, token = adminToken): Promise<{ apiKey: KeyView; key: string }> {
  const res = await svc.api('/api/api-keys', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`create key: ${res.status} ${await res.text()}`);
  return (await res.json()) as { apiKey: KeyView; key: string };
}
const listKeys = async () => ((await (await asAdmin('/api/api-keys')).json()) as { apiKeys: KeyView[] }).apiKeys;

test('rate limiter: a bucket per key, refilled at the rate, Retry-After in whole seconds', () => {
  const limiter = new ApiKeyRateLimiter({ ratePerSecond: 2, burst: 3 });
  const t = 1_000_000;
  assert.equal([limiter.take('a', t), limiter.take('a', t), limiter.take('a', t)], [undefined, undefined, undefined]);
  assert.is(limiter.take('a', t), 1, 'empty: wait a second');
  assert.is(limiter.take('b', t), undefined, 'another key has its own bucket');
  assert.is(limiter.take('a', t + 400), 1, '0.8 of a call refilled: still wait');
  assert.is(limiter.take('a', t + 600), undefined, 'one whole call refilled after 0.5 s');
  const slow = new ApiKeyRateLimiter({ ratePerSecond: 0.2, burst: 1 });
  assert.is(slow.take('c', t), undefined);
  assert.is(slow.take('c', t), 5, 'Retry-After rounds up to the next whole second');
});

test('store: keys are kept hashed, revoked once, and their last use written at most once a minute', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-keys-'));
  try {
    let store = await FileStore.open(dir);
    const { org, admin } = await store.addOrg('Store KK', { username: 'store-admin', passwordHash: 'scrypt$x' });
    const made = newApiKey();
    assert.is(apiKeyIdOf(made.token), made.id);
    await store.addApiKey({ id: made.id, orgId: org.id, name: 'sync', scope: 'read', secretHash: made.secretHash, createdBy: admin!.id });
    assert.is(authenticateApiKey(store, made.token).id, made.id);
    const t0 = new Date('2030-01-01T00:00:00.000Z');
    await store.apiKeyUsed(made.id, t0, 60_000);
    await store.apiKeyUsed(made.id, new Date(t0.getTime() + 30_000), 60_000);
    assert.is(store.apiKey(made.id)?.lastUsedAt, t0.toISOString(), 'a use within the minute is not written');
    await store.apiKeyUsed(made.id, new Date(t0.getTime() + 61_000), 60_000);
    assert.is(store.apiKey(made.id)?.lastUsedAt, '2030-01-01T00:01:01.000Z');
    const revoked = await store.revokeApiKey(made.id, admin!.id);
    assert.ok(revoked?.revokedAt);
    assert.is((await store.revokeApiKey(made.id, 'someone else'))?.revokedBy, admin!.id, 'revoking again keeps the first revocation');
    await store.close();
    // Saved in db.json, with the hash and never the key.
    const db = await fs.readFile(path.join(dir, 'db.json'), 'utf8');
    assert.ok(db.includes(made.secretHash));
    assert.not.ok(db.includes(made.token.slice(20)));
    store = await FileStore.open(dir);
    assert.equal(store.apiKeysOf(org.id).map((k) => [k.id, k.revokedBy, k.lastUsedAt]), [[made.id, admin!.id, '2030-01-01T00:01:01.000Z']]);
    try {
      authenticateApiKey(store, made.token);
      assert.unreachable('a revoked key is refused');
    } catch (err) {
      assert.is((err as { code?: string }).code, 'api_key_revoked');
    }
    await store.close();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a key is shown once at creation and listed without its secret, with its state and last use', async () => {
  const { apiKey, key } = await makeKey({ name: 'nvr sync', scope: 'read' });
  assert.match(key, /^mk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  assert.is(apiKey.prefix, key.slice(0, 19));
  assert.is(apiKey.state, 'active');
  assert.is(apiKey.lastUsedAt, null);
  const listRes = await asAdmin('/api/api-keys');
  const text = await listRes.text();
  assert.not.ok(text.includes(key.slice(20)), 'the list never shows the secret');
  assert.not.ok(/secret|hash/i.test(text), `no secret or hash field in the list: ${text}`);
  const listed = (JSON.parse(text) as { apiKeys: KeyView[] }).apiKeys.find((k) => k.id === apiKey.id);
  assert.ok(listed);
  assert.equal({ name: listed.name, scope: listed.scope, groupId: listed.groupId, expiresAt: listed.expiresAt }, { name: 'nvr sync', scope: 'read', groupId: null, expiresAt: null });
  // A call with the key notes its last use (coalesced, written in the background).
  assert.is((await withKey(key, '/api/cameras')).status, 200);
  let used: string | null = null;
  for (let i = 0; i < 50 && !used; i++) {
    used = (await listKeys()).find((k) => k.id === apiKey.id)!.lastUsedAt;
    if (!used) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(used, 'lastUsedAt is listed after a call');
  assert.ok(Math.abs(Date.parse(used) - Date.now()) < 60_000);
  // A second call within the minute does not move it (one write a minute per key).
  assert.is((await withKey(key, '/api/cameras')).status, 200);
  await new Promise((r) => setTimeout(r, 200));
  assert.is((await listKeys()).find((k) => k.id === apiKey.id)!.lastUsedAt, used);
  // Never logged either.
  assert.not.ok(svc.output().includes(key.slice(20)), 'the key is not in the service output');
});

test('only administrators make keys; keys never make keys; the body is checked', async () => {
  const op = await asAdmin('/api/users', { method: 'POST', body: JSON.stringify({ username: 'keys-operator', password: PASSWORD, role: 'operator' }) });
  assert.is(op.status, 201);
  const opToken = await svc.login('keys-operator', PASSWORD);
  const byOperator = await svc.api('/api/api-keys', { method: 'POST', headers: { authorization: `Bearer ${opToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', scope: 'read' }) });
  assert.is(byOperator.status, 403);
  assert.is((await svc.api('/api/api-keys', { headers: { authorization: `Bearer ${opToken}` } })).status, 403);
  const { key } = await makeKey({ name: 'manager', scope: 'manage_cameras' });
  const byKey = await withKey(key, '/api/api-keys', { method: 'POST', body: JSON.stringify({ name: 'y', scope: 'read' }) });
  assert.is(byKey.status, 403);
  assert.is(await codeOf(byKey), 'api_key_not_allowed');
  const badScope = await asAdmin('/api/api-keys', { method: 'POST', body: JSON.stringify({ name: 'z', scope: 'admin' }) });
  assert.is(badScope.status, 400);
  assert.match(await badScope.text(), /scope/);
  const past = await asAdmin('/api/api-keys', { method: 'POST', body: JSON.stringify({ name: 'z', scope: 'read', expiresAt: Date.now() - 1000 }) });
  assert.is(past.status, 400);
  assert.match(await past.text(), /expiresAt must be in the future/);
  // A group of another organisation is not there for this one.
  const other = await svc.api('/api/groups', { method: 'POST', body: JSON.stringify({ name: 'not yours', cameraIds: [] }) });
  const otherGroup = ((await other.json()) as { group: { id: string } }).group.id;
  const foreign = await asAdmin('/api/api-keys', { method: 'POST', body: JSON.stringify({ name: 'z', scope: 'read', groupId: otherGroup }) });
  assert.is(foreign.status, 404);
  assert.is((await asAdmin('/api/api-keys', { method: 'POST', body: JSON.stringify({ name: 'manager', scope: 'read' }) })).status, 409, 'names of working keys are unique');
});

test('scopes: each key does what its scope allows and routes for people refuse keys, saying so', async () => {
  const read = (await makeKey({ name: 'reader', scope: 'read' })).key;
  const live = (await makeKey({ name: 'watcher', scope: 'live' })).key;
  const exp = (await makeKey({ name: 'exporter', scope: 'export' })).key;
  const manage = (await makeKey({ name: 'provisioner', scope: 'manage_cameras' })).key;
  const range = `from=${Date.now() - 3_600_000}&to=${Date.now()}`;
  const exportBody = JSON.stringify({ from: Date.now() - 120_000, to: Date.now() - 60_000 });
  const expect = async (key: string, p: string, init: RequestInit, status: number, code?: string) => {
    const res = await withKey(key, p, init);
    const body = await res.text();
    assert.is(res.status, status, `${init.method ?? 'GET'} ${p}: ${body}`);
    if (code) assert.is((JSON.parse(body) as { error: { code: string } }).error.code, code, body);
    return body;
  };
  // The camera list shows each key's rights.
  const cams = JSON.parse(await expect(read, '/api/cameras', {}, 200)) as { cameras: { id: string; rights: string[] }[] };
  assert.equal(cams.cameras.find((c) => c.id === ids.camA)?.rights, ['playback']);
  await expect(read, `/api/cameras/${ids.camA}/timeline?${range}`, {}, 200);
  await expect(read, `/api/cameras/${ids.camA}/exports`, { method: 'POST', body: exportBody }, 403, 'right_missing');
  await expect(live, `/api/cameras/${ids.camA}/timeline?${range}`, {}, 403, 'right_missing');
  await expect(exp, `/api/cameras/${ids.camA}/timeline?${range}`, {}, 200);
  await expect(exp, `/api/cameras/${ids.camA}/exports`, { method: 'POST', body: exportBody }, 202);
  await expect(exp, `/api/cameras/${ids.camA}`, { method: 'PATCH', body: JSON.stringify({ name: 'x' }) }, 403, 'right_missing');
  // manage_cameras: creates and changes cameras, never deletes them, never touches people.
  const made = JSON.parse(await expect(manage, '/api/cameras', { method: 'POST', body: JSON.stringify({ name: 'made by key' }) }, 201)) as { camera: { id: string }; secret: string };
  assert.ok(made.secret, 'the new camera\'s secret comes back to the integration that provisions it');
  await expect(manage, `/api/cameras/${made.camera.id}`, { method: 'PATCH', body: JSON.stringify({ name: 'renamed by key' }) }, 200);
  await expect(manage, `/api/cameras/${made.camera.id}`, { method: 'DELETE' }, 403, 'api_key_not_allowed');
  await expect(read, '/api/cameras', { method: 'POST', body: JSON.stringify({ name: 'nope' }) }, 403, 'right_missing');
  // Any key reads its organisation's notices (maintenance, a scheduled contract end).
  const posted = await asAdmin('/api/announcements', { method: 'POST', body: JSON.stringify({ kind: 'maintenance', message: 'メンテナンス 02:00–03:00', endsAt: new Date(Date.now() + 3_600_000).toISOString() }) });
  assert.is(posted.status, 201, await posted.clone().text());
  const notices = JSON.parse(await expect(live, '/api/announcements', {}, 200)) as { announcements: { message: string }[] };
  assert.ok(notices.announcements.some((n) => n.message === 'メンテナンス 02:00–03:00'), JSON.stringify(notices));
  for (const [method, p] of [
    ['GET', '/api/auth/me'],
    ['GET', '/api/auth/account'],
    ['POST', '/api/auth/password'],
    ['GET', '/api/me/preferences'],
    ['GET', '/api/users'],
    ['PUT', '/api/grants'],
    ['GET', '/api/orgs/current'],
    ['GET', '/api/api-keys'],
    ['GET', '/api/audit'],
  ] as const) {
    await expect(manage, p, { method, ...(method === 'GET' ? {} : { body: '{}' }) }, 403, 'api_key_not_allowed');
  }
  // Another organisation's camera does not exist for a key.
  const otherCam = await svc.createCamera('operator org camera');
  await expect(exp, `/api/cameras/${otherCam.id}/timeline?${range}`, {}, 404, 'camera_not_found');
});

test('a key limited to a camera group sees only that group, and puts the cameras it makes in it', async () => {
  const grouped = (await makeKey({ name: 'yard only', scope: 'export', groupId: ids.group })).key;
  const cams = (JSON.parse(await (await withKey(grouped, '/api/cameras')).text()) as { cameras: { id: string }[] }).cameras.map((c) => c.id);
  assert.equal(cams, [ids.camG]);
  const range = `from=${Date.now() - 3_600_000}&to=${Date.now()}`;
  assert.is((await withKey(grouped, `/api/cameras/${ids.camG}/timeline?${range}`)).status, 200);
  const outside = await withKey(grouped, `/api/cameras/${ids.camA}/timeline?${range}`);
  assert.is(outside.status, 404);
  assert.is(await codeOf(outside), 'camera_not_found');
  const manager = (await makeKey({ name: 'yard provisioner', scope: 'manage_cameras', groupId: ids.group })).key;
  const made = (await (await withKey(manager, '/api/cameras', { method: 'POST', body: JSON.stringify({ name: 'yard 2' }) })).json()) as { camera: { id: string; groupIds: string[] } };
  assert.equal(made.camera.groupIds, [ids.group]);
  assert.is((await withKey(manager, `/api/cameras/${ids.camA}`, { method: 'PATCH', body: JSON.stringify({ name: 'x' }) })).status, 404);
});

test('expiry, revocation and the creator losing admin each stop a key at once with its own code', async () => {
  const expiresAt = Date.now() + 1200;
  const { apiKey: short, key: shortKey } = await makeKey({ name: 'short lived', scope: 'read', expiresAt });
  assert.is((await withKey(shortKey, '/api/cameras')).status, 200);
  await new Promise((r) => setTimeout(r, expiresAt - Date.now() + 100));
  const expired = await withKey(shortKey, '/api/cameras');
  assert.is(expired.status, 401);
  assert.is(await codeOf(expired), 'api_key_expired');
  assert.is((await listKeys()).find((k) => k.id === short.id)!.state, 'expired');

  const { apiKey, key } = await makeKey({ name: 'to revoke', scope: 'read' });
  assert.is((await withKey(key, '/api/cameras')).status, 200);
  assert.is((await asAdmin(`/api/api-keys/${apiKey.id}`, { method: 'DELETE' })).status, 204);
  const revoked = await withKey(key, '/api/cameras');
  assert.is(revoked.status, 401);
  assert.is(await codeOf(revoked), 'api_key_revoked');
  const listed = (await listKeys()).find((k) => k.id === apiKey.id)!;
  assert.is(listed.state, 'revoked');
  assert.ok(listed.revokedAt);
  assert.is((await asAdmin('/api/api-keys/key_0000000000000000', { method: 'DELETE' })).status, 404);
  // A wrong secret for a real key, and garbage, are simply not valid.
  for (const bad of [`${key.slice(0, 20)}${'A'.repeat(43)}`, 'mk_nonsense']) {
    const res = await withKey(bad, '/api/cameras');
    assert.is(res.status, 401);
    assert.is(await codeOf(res), 'invalid_api_key');
  }

  // A key never outlives its administrator's rights: demoted, the key stops; promoted again, it works.
  const admin2Token = await svc.login('keys-admin-2', PASSWORD);
  const { key: heldKey } = await makeKey({ name: 'held by admin 2', scope: 'read' }, admin2Token);
  assert.is((await withKey(heldKey, '/api/cameras')).status, 200);
  assert.is((await asAdmin(`/api/users/${ids.admin2}`, { method: 'PATCH', body: JSON.stringify({ role: 'operator' }) })).status, 200);
  const demoted = await withKey(heldKey, '/api/cameras');
  assert.is(demoted.status, 401);
  assert.is(await codeOf(demoted), 'api_key_revoked');
  assert.match(await (await withKey(heldKey, '/api/cameras')).text(), /no longer an administrator/);
  assert.is((await asAdmin(`/api/users/${ids.admin2}`, { method: 'PATCH', body: JSON.stringify({ role: 'admin' }) })).status, 200);
  assert.is((await withKey(heldKey, '/api/cameras')).status, 200);
});

function connect(token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(svc.url, { transports: ['websocket'], reconnection: false, auth: { token } });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(new Error(err.message));
    });
  });
}
type Ack = { ok: true; data: unknown } | { ok: false; error: { code: string; message: string } };

test('live: a live key watches over socket.io; revoking it stops the viewer at once', async () => {
  const { apiKey, key } = await makeKey({ name: 'wall integration', scope: 'live' });
  const socket = await connect(key);
  try {
    const join = (await socket.timeout(10_000).emitWithAck('request', { method: 'join', data: { cameraId: ids.camA, role: 'viewer' } })) as Ack;
    assert.ok(join.ok, JSON.stringify(join));
    const denied = new Promise<{ code: string }>((resolve) => socket.once('denied', resolve));
    assert.is((await asAdmin(`/api/api-keys/${apiKey.id}`, { method: 'DELETE' })).status, 204);
    assert.is((await denied).code, 'grant_revoked');
  } finally {
    socket.close();
  }
  // A key that expires while watching stops too (the service looks every few seconds).
  const expiresAt = Date.now() + 1500;
  const expiring = await connect((await makeKey({ name: 'short watch', scope: 'live', expiresAt })).key);
  try {
    const join = (await expiring.timeout(10_000).emitWithAck('request', { method: 'join', data: { cameraId: ids.camA, role: 'viewer' } })) as Ack;
    assert.ok(join.ok, JSON.stringify(join));
    const denied = await new Promise<{ code: string; reason: string } | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 10_000);
      expiring.once('denied', (d: { code: string; reason: string }) => {
        clearTimeout(timer);
        resolve(d);
      });
    });
    assert.ok(denied, 'the viewer of an expired key is stopped');
    assert.match(denied.reason, /expired/);
    assert.ok(Date.now() >= expiresAt, 'not before the key expired');
  } finally {
    expiring.close();
  }
  // A read-only key may not watch live.
  const reader = await connect((await makeKey({ name: 'no live', scope: 'read' })).key);
  try {
    const join = (await reader.timeout(10_000).emitWithAck('request', { method: 'join', data: { cameraId: ids.camA, role: 'viewer' } })) as Ack;
    assert.is(join.ok, false);
  } finally {
    reader.close();
  }
});

test('audit: every call made with a key is a row under its id and name; making and revoking keys too', async () => {
  const { apiKey, key } = await makeKey({ name: 'audited integration', scope: 'export' });
  assert.is((await withKey(key, '/api/cameras')).status, 200);
  assert.is((await withKey(key, `/api/cameras/${ids.camA}/exports`, { method: 'POST', body: JSON.stringify({ from: Date.now() - 120_000, to: Date.now() - 60_000 }) })).status, 202);
  assert.is((await withKey(key, '/api/users')).status, 403);
  assert.is((await asAdmin(`/api/api-keys/${apiKey.id}`, { method: 'DELETE' })).status, 204);
  await new Promise((r) => setTimeout(r, 300));
  type Row = { actor: string; action: string; outcome: string; orgId?: string; cameraId?: string; detail?: Record<string, unknown> };
  const rows = ((await (await asAdmin(`/api/audit?actor=a:${apiKey.id}&limit=100`)).json()) as { rows: Row[] }).rows.reverse();
  assert.equal(
    rows.map((r) => [r.action, r.outcome, r.detail?.apiKey, r.orgId]),
    [
      ['api_key.call', 'ok', 'audited integration', ids.org],
      ['export.create', 'ok', 'audited integration', ids.org],
      ['api_key.call', 'refused', 'audited integration', ids.org],
    ],
  );
  assert.equal(rows[0]!.detail, { method: 'GET', path: '/api/cameras', status: 200, apiKey: 'audited integration' });
  assert.is(rows[1]!.cameraId, ids.camA);
  const made = ((await (await asAdmin('/api/audit?action=api_key.&limit=200')).json()) as { rows: Row[] }).rows.filter((r) => r.detail?.keyId === apiKey.id);
  assert.equal(made.map((r) => r.action).sort(), ['api_key.create', 'api_key.revoke']);
  assert.ok(made.every((r) => r.actor.startsWith('u:') && !JSON.stringify(r).includes(key.slice(20))), 'no secret in the audit log');
});

test('rate limit: past its burst a key gets 429 with Retry-After, and works again after waiting', async () => {
  const { key } = await makeKey({ name: 'busy integration', scope: 'read' });
  const other = (await makeKey({ name: 'calm integration', scope: 'read' })).key;
  const answers = await Promise.all(Array.from({ length: 50 }, () => withKey(key, '/api/cameras')));
  const limited = answers.filter((r) => r.status === 429);
  assert.ok(limited.length >= 10, `50 calls at once with burst 20: ${answers.map((r) => r.status).join(',')}`);
  assert.ok(answers.filter((r) => r.status === 200).length >= 20);
  const first = limited[0]!;
  const retryAfter = Number(first.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After: ${first.headers.get('retry-after')}`);
  assert.is(await codeOf(first), 'rate_limited');
  await Promise.all(answers.filter((r) => !r.bodyUsed).map((r) => r.body?.cancel()));
  // Per key: another key of the same organisation is not held back.
  assert.is((await withKey(other, '/api/cameras')).status, 200);
  await new Promise((r) => setTimeout(r, retryAfter * 1000));
  assert.is((await withKey(key, '/api/cameras')).status, 200);
});

test.run();
