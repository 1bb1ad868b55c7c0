// Two service processes on one PostgreSQL, as two nodes of a cluster: what one node changes, the
// other enforces within a second (grants, demotions, deletions, new cameras, notices, a live
// viewer's lost grant); one refresh token presented to both at once is good once; failed sign-ins
// spread over both lock the account. Then the database goes away for 30 s while a camera records
// and a viewer on the other node watches it (relayed): nothing of either stops, changes answer 503 database_unavailable, and
// everything works again once it is back, with no hole in the recording.
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { io, type Socket } from 'socket.io-client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Camera, Viewer } from '../camera/index.ts';
import { freePort, startService, testDatabase, testPostgres, type Service } from './harness.ts';
import { S3Process } from './s3.ts';

const PASSWORD = 'nodes-Password-8080-long';
const MASTER_KEYS = `mk-nodes:${crypto.randomBytes(32).toString('base64')}`;
// A node of a cluster serves /metrics only with the token.
const METRICS_TOKEN = crypto.randomBytes(16).toString('hex');
const metrics = async (svc: Service) => (await fetch(`${svc.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
let a: Service;
let b: Service;
let s3: S3Process;
let counter = 0;
const unique = (p: string) => `${p}-${Date.now().toString(36)}${counter++}`;

test.before(async () => {
  const databaseUrl = await testDatabase();
  // Nodes of a cluster share one object store (the in-process one is a single node's).
  s3 = await S3Process.start();
  const node = async (id: string) => {
    const port = await freePort();
    return startService({
      port,
      databaseUrl,
      env: {
        MIMAMORI_NODE_ID: id,
        // Nodes of a cluster: heartbeats, camera holders and relays live in the database too.
        MIMAMORI_INTERNAL_URL: `http://127.0.0.1:${await freePort()}`,
        MIMAMORI_MASTER_KEYS: MASTER_KEYS,
        MIMAMORI_SEGMENT_SECONDS: '2',
        // Disjoint media ports, as on two machines.
        MIMAMORI_RTC_MIN_PORT: id === 'node-a' ? '41000' : '43000',
        MIMAMORI_RTC_MAX_PORT: id === 'node-a' ? '41999' : '43999',
        MIMAMORI_METRICS_TOKEN: METRICS_TOKEN,
        ...s3.env,
      },
    });
  };
  // Both at once on an empty database: migrations and the first administrator happen once.
  [a, b] = await Promise.all([node('node-a'), node('node-b')]);
});
test.after(async () => {
  await a?.stop();
  await b?.stop();
  await s3?.close();
});

async function call(svc: Service, token: string, method: string, pathname: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${svc.url}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Polls until `check` holds; returns how long it took. Fails after `limitMs`. */
async function within(what: string, limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > limitMs) assert.unreachable(`${what}: not within ${limitMs} ms`);
    await sleep(10);
  }
}

function errorCode(r: { body: Record<string, unknown> }): string | undefined {
  return (r.body.error as { code?: string } | undefined)?.code;
}

test('one administrator for two nodes started at once; a token from one node works on the other', async () => {
  const users = (await call(a, a.adminToken, 'GET', '/api/users')).body.users as { username: string }[];
  assert.is(users.filter((u) => u.username === 'admin').length, 1);
  assert.is((await call(b, a.adminToken, 'GET', '/api/cameras')).status, 200, 'signed in on A, accepted by B');
});

test('a change on one node is enforced by the other within a second: camera, grant, demotion, notice, deletion', async () => {
  const lags: Record<string, number> = {};
  const cam = (await call(a, a.adminToken, 'POST', '/api/cameras', { name: unique('Gate') })).body.camera as { id: string };
  lags.camera = await within('new camera on B', 1000, async () => (await call(b, b.adminToken, 'GET', `/api/cameras/${cam.id}`)).status === 200);

  const operator = (await call(a, a.adminToken, 'POST', '/api/users', { username: unique('op'), password: PASSWORD, role: 'operator' })).body.user as { id: string; username: string };
  const opToken = await b.login(operator.username, PASSWORD);
  assert.is((await call(b, opToken, 'GET', `/api/cameras/${cam.id}`)).status, 404, 'no grant yet');
  assert.is((await call(a, a.adminToken, 'PUT', '/api/grants', { userId: operator.id, cameraId: cam.id, rights: ['live', 'playback', 'manage'] })).status, 200);
  lags.grant = await within('grant on B', 1000, async () => (await call(b, opToken, 'GET', `/api/cameras/${cam.id}`)).status === 200);

  assert.is((await call(b, opToken, 'PATCH', `/api/cameras/${cam.id}`, { name: 'Renamed by operator' })).status, 200, 'manage holds while an operator');
  assert.is((await call(a, a.adminToken, 'PATCH', `/api/users/${operator.id}`, { role: 'viewer' })).status, 200);
  lags.demotion = await within('demotion on B', 1000, async () => errorCode(await call(b, opToken, 'PATCH', `/api/cameras/${cam.id}`, { name: 'Again' })) === 'right_missing');

  const notice = (await call(a, a.adminToken, 'POST', '/api/announcements', { kind: 'maintenance', message: unique('点検'), startsAt: Date.now() - 1000, endsAt: Date.now() + 3_600_000 })).body.announcement as { id: string; message: string };
  lags.notice = await within('notice on B', 1000, async () => ((await call(b, opToken, 'GET', '/api/announcements')).body.announcements as { id: string }[]).some((n) => n.id === notice.id));

  assert.is((await call(a, a.adminToken, 'DELETE', `/api/users/${operator.id}`)).status, 204);
  lags.deletion = await within('deletion on B', 1000, async () => (await call(b, opToken, 'GET', '/api/cameras')).status === 401);
  console.log(`  change on A enforced on B after (ms): ${JSON.stringify(Object.fromEntries(Object.entries(lags).map(([k, v]) => [k, Math.round(v)])))}`);
});

test('a viewer watching on one node is stopped when an administrator on the other takes the grant away', async () => {
  const cam = (await call(a, a.adminToken, 'POST', '/api/cameras', { name: unique('Dock') })).body.camera as { id: string };
  const viewer = (await call(a, a.adminToken, 'POST', '/api/users', { username: unique('guard'), password: PASSWORD, role: 'viewer' })).body.user as { id: string; username: string };
  assert.is((await call(a, a.adminToken, 'PUT', `/api/cameras/${cam.id}/grants/${viewer.id}`)).status, 200);
  const token = await b.login(viewer.username, PASSWORD);
  const socket: Socket = io(b.url, { auth: { token }, transports: ['websocket'], reconnection: false });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const join = await new Promise<{ ok: boolean }>((resolve) => socket.emit('request', { method: 'join', data: { cameraId: cam.id, role: 'viewer' } }, resolve));
    assert.ok(join.ok, JSON.stringify(join));
    const denied = new Promise<{ cameraId: string; code: string }>((resolve) => socket.once('denied', resolve));
    const started = performance.now();
    assert.is((await call(a, a.adminToken, 'DELETE', `/api/cameras/${cam.id}/grants/${viewer.id}`)).status, 204);
    const d = await Promise.race([denied, sleep(1000).then(() => undefined)]);
    assert.ok(d, 'the viewer on B was stopped within a second');
    assert.equal([d!.cameraId, d!.code], [cam.id, 'grant_revoked']);
    console.log(`  grant revoked on A, viewer on B stopped after ${Math.round(performance.now() - started)} ms`);
  } finally {
    socket.close();
  }
});

test('one refresh token presented to both nodes at once: one wins, the other ends the session everywhere', async () => {
  const user = (await call(a, a.adminToken, 'POST', '/api/users', { username: unique('twice'), password: PASSWORD, role: 'viewer' })).body.user as { username: string };
  const login = (await (await fetch(`${a.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user.username, password: PASSWORD }) })).json()) as { token: string; refreshToken: string };
  const refresh = (svc: Service) => fetch(`${svc.url}/api/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: login.refreshToken }) });
  const answers = await Promise.all([refresh(a), refresh(b)]);
  const statuses = answers.map((r) => r.status).sort();
  const bodies = (await Promise.all(answers.map((r) => r.json()))) as { refreshToken?: string; error?: { code: string } }[];
  assert.equal(statuses, [200, 401], JSON.stringify(bodies));
  assert.ok(bodies.some((x) => x.error?.code === 'refresh_reused'), 'the loser sees the reuse');
  const winner = bodies.find((x) => x.refreshToken)!;
  // The family is revoked: the winner's new refresh token and the first access token stop on both nodes.
  const again = await fetch(`${b.url}/api/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: winner.refreshToken }) });
  assert.is(again.status, 401);
  assert.is(((await again.json()) as { error: { code: string } }).error.code, 'session_revoked');
  await within('access token refused on both', 1000, async () => errorCode(await call(a, login.token, 'GET', '/api/cameras')) === 'session_revoked' && errorCode(await call(b, login.token, 'GET', '/api/cameras')) === 'session_revoked');
});

test('ten failed sign-ins spread over both nodes lock the account on both', async () => {
  const user = (await call(a, a.adminToken, 'POST', '/api/users', { username: unique('locked'), password: PASSWORD, role: 'viewer' })).body.user as { username: string };
  const attempt = (svc: Service, password: string) =>
    fetch(`${svc.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user.username, password }) });
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) statuses.push((await attempt(i % 2 ? b : a, `wrong-${i}`)).status);
  assert.equal(statuses, [401, 401, 401, 401, 401, 401, 401, 401, 401, 423], 'the tenth failure, whichever node, locks');
  assert.is((await attempt(a, PASSWORD)).status, 423, 'locked on A even with the right password');
  assert.is((await attempt(b, PASSWORD)).status, 423, 'and on B');
});

test('PostgreSQL stopped for 30 s: recording and live video relayed to the other node go on, changes answer 503, all works again after', async () => {
  const server = await testPostgres();
  const cam = (await call(a, a.adminToken, 'POST', '/api/cameras', { name: unique('Outage') })).body.camera as { id: string };
  const secret = ((await call(a, a.adminToken, 'POST', `/api/cameras/${cam.id}/secret`, { graceHours: 0 })).body.secret) as string;
  const publish = await a.publishToken(cam.id, secret);
  const camera = await Camera.create({ whipUrl: `${a.url}/whip/${cam.id}`, token: publish, width: 320, height: 180, kbps: 300, fps: 15 });
  // Watched on the other node: the camera's media is relayed from its holder, and must stay so.
  const viewer = await Viewer.create({ whepUrl: `${b.url}/whep/${cam.id}`, token: b.adminToken });
  try {
    await viewer.waitForFrames(15, 15_000);
    await sleep(3000);
    const outageFrom = Date.now();
    await server.stop('fast');
    try {
      const framesAtStop = viewer.stats.framesReceived;
      // Changes and sign-ins: 503, saying what is wrong.
      const write = await within('a change refused with 503', 10_000, async () => (await call(a, a.adminToken, 'POST', '/api/cameras', { name: 'during outage' })).status === 503);
      void write;
      const refused = await call(a, a.adminToken, 'POST', '/api/cameras', { name: 'during outage' });
      assert.is(errorCode(refused), 'database_unavailable');
      assert.match((refused.body.error as { message: string }).message, /unreachable.*nothing was changed/);
      const login = await fetch(`${a.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: a.adminUsername, password: a.adminPassword }) });
      assert.is(login.status, 503);
      // Reads answer from memory; readiness names the database but keeps the node in service.
      assert.is((await call(a, a.adminToken, 'GET', `/api/cameras/${cam.id}`)).status, 200);
      const ready = (await (await fetch(`${a.url}/readyz`)).json()) as { ready: boolean; checks: { database: { ok: boolean; message?: string } }; degraded?: string[] };
      assert.is(ready.checks.database.ok, false);
      assert.equal(ready.degraded, ['database']);
      assert.is(ready.ready, true, 'live video and recording need no database: the node stays in service');
      assert.match(await metrics(a), /^mimamori_database_up 0$/m);
      await sleep(Math.max(0, outageFrom + 30_000 - Date.now()));
      assert.ok(viewer.stats.framesReceived > framesAtStop + 15 * 20, `the viewer kept watching (${viewer.stats.framesReceived - framesAtStop} frames during the outage)`);
    } finally {
      await server.restart();
    }
    const outageTo = Date.now();
    await within('changes accepted again', 15_000, async () => (await call(a, a.adminToken, 'POST', '/api/cameras', { name: unique('after') })).status === 201);
    assert.match(await metrics(a), /^mimamori_database_up 1$/m);
    assert.ok((await b.login(a.adminUsername, a.adminPassword)).length > 0, 'sign-in works again, on either node');
    await sleep(6000);
    await camera.close();
    // The recording covers the outage without a hole.
    const recordings = await within('recording uploaded past the outage', 30_000, async () => {
      const r = await call(a, a.adminToken, 'GET', `/api/cameras/${cam.id}/recordings?from=${outageFrom - 2000}&to=${outageTo + 2000}`);
      const segments = r.body.segments as { endMs: number }[] | undefined;
      return (segments?.at(-1)?.endMs ?? 0) >= outageTo + 2000;
    });
    void recordings;
    const r = await call(a, a.adminToken, 'GET', `/api/cameras/${cam.id}/recordings?from=${outageFrom - 2000}&to=${outageTo + 2000}`);
    assert.equal(r.body.gaps, [], `no gap in the recording across the outage: ${JSON.stringify(r.body.gaps)}`);
  } finally {
    await viewer.close();
    await camera.close();
  }
});

test.run();
