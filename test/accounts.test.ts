// Accounts against the real service: the password policy, throttling and lockout (with an
// administrator's unlock), TOTP, rotating refresh tokens (reuse revokes the family and is audited),
// sign-out of one session and everywhere (access tokens and live sockets end at once), the cookie
// path's CSRF guard, and roles read from the store on every request.
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { io, type Socket } from 'socket.io-client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { base32Decode, checkPasswordPolicy, hotp, TOTP_STEP_S } from '../signaling/accounts/index.ts';
import { launchChromium } from './chromium.ts';
import { startService, type Service } from './harness.ts';

let svc: Service;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.before(async () => {
  // The service's own access-token lifetime (the harness default is an hour).
  svc = await startService({ env: { MIMAMORI_ACCESS_TOKEN_TTL_S: '600' } });
});
test.after(async () => {
  await svc?.stop();
});

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown> & { error?: { code: string; message: string; lockedUntil?: string } };
}

/** A request from a chosen loopback address (127.0.0.x), so address throttling can be tested apart. */
function call(method: string, pathname: string, o: { body?: unknown; headers?: Record<string, string>; from?: string } = {}): Promise<Reply> {
  const url = new URL(pathname, svc.url);
  const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method,
        localAddress: o.from ?? '127.0.0.1',
        headers: { ...(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}), ...o.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? (JSON.parse(text) as Reply['body']) : {} });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const login = (username: string, password: string, extra: { totp?: string; from?: string; headers?: Record<string, string> } = {}) =>
  call('POST', '/api/auth/login', { body: { username, password, ...(extra.totp ? { totp: extra.totp } : {}) }, from: extra.from, headers: extra.headers });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const me = (token: string) => call('GET', '/api/auth/me', { headers: bearer(token) });

function assertClearError(r: Reply, status: number, code: string): void {
  assert.is(r.status, status, JSON.stringify(r.body));
  assert.is(r.body.error?.code, code, JSON.stringify(r.body));
  assert.ok((r.body.error?.message.length ?? 0) > 15, 'the message says what to do');
}

async function newUser(username: string, password: string, role: 'admin' | 'viewer' = 'viewer'): Promise<string> {
  return (await svc.createUser(username, password, role)).id;
}

/** Audit rows wherever the service keeps them (db.json's audit array, or the day files under audit/). */
async function auditRows(): Promise<{ actor: string; action: string; outcome: string; detail?: Record<string, unknown> }[]> {
  const rows: { actor: string; action: string; outcome: string; detail?: Record<string, unknown> }[] = [];
  try {
    const db = JSON.parse(await fs.readFile(path.join(svc.dataDir, 'db.json'), 'utf8')) as { audit?: typeof rows };
    rows.push(...(db.audit ?? []));
  } catch {
    // no db audit
  }
  const dir = path.join(svc.dataDir, 'audit');
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith('.jsonl')) continue;
    for (const line of (await fs.readFile(path.join(dir, name), 'utf8')).split('\n')) if (line.trim()) rows.push(JSON.parse(line) as (typeof rows)[number]);
  }
  return rows;
}

async function waitForAudit(match: (row: Awaited<ReturnType<typeof auditRows>>[number]) => boolean): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    if ((await auditRows()).some(match)) return true;
    await sleep(100);
  }
  return false;
}

test('password policy: length over composition, not the username, not a common password', async () => {
  assert.match(checkPasswordPolicy('short-pw1') ?? '', /at least 12 characters/);
  assert.match(checkPasswordPolicy('hanako-yamada-2026', { username: 'hanako.yamada' }) ?? '', /username/);
  assert.match(checkPasswordPolicy('password1234') ?? '', /common|guessed/);
  assert.match(checkPasswordPolicy('Password2026!') ?? '', /guessed/);
  assert.match(checkPasswordPolicy('aaaaaaaaaaaaaaaa') ?? '', /repeats/);
  assert.match(checkPasswordPolicy('1234567890123') ?? '', /common|run/);
  assert.is(checkPasswordPolicy('rice paddy lantern umbrella'), undefined, 'a few words pass without symbols or digits');
  assert.is(checkPasswordPolicy('見守りカメラの合言葉です'), undefined, 'any Unicode counts');

  const weak = await call('POST', '/api/users', { headers: bearer(svc.adminToken), body: { username: 'taro', password: 'taro-password' } });
  assertClearError(weak, 400, 'invalid_request');
  assert.match(weak.body.error!.message, /username/);
  const short = await call('POST', '/api/users', { headers: bearer(svc.adminToken), body: { username: 'jiro', password: 'short' } });
  assertClearError(short, 400, 'invalid_request');
  assert.match(short.body.error!.message, /at least 12/);
});

test('login: a short-lived access token, a refresh token and a safe refresh cookie', async () => {
  const r = await login(svc.adminUsername, svc.adminPassword);
  assert.is(r.status, 200);
  assert.type(r.body.token, 'string');
  assert.match(String(r.body.refreshToken), /^mrt_/);
  const ttl = Date.parse(String(r.body.expiresAt)) - Date.now();
  assert.ok(ttl > 590_000 && ttl <= 600_000, `access token lives 10 minutes (${ttl} ms)`);
  const claims = jwt.decode(String(r.body.token)) as Record<string, unknown>;
  assert.equal(Object.keys(claims).sort(), ['exp', 'iat', 'iss', 'sid', 'sub', 'typ'], 'no role in the token: it is read from the store');
  const cookie = String(r.headers['set-cookie']?.[0]);
  assert.match(cookie, /^mimamori_refresh=mrt_/);
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.match(cookie, /Path=\/api\/auth/);
  assert.not.match(cookie, /Secure/, 'plain HTTP here (Secure with TLS)');
  // The browser client (its header) gets the refresh token in the cookie only.
  const browser = await login(svc.adminUsername, svc.adminPassword, { headers: { 'x-mimamori-client': '1' } });
  assert.is(browser.status, 200);
  assert.is(browser.body.refreshToken, undefined);
  assert.match(String(browser.headers['set-cookie']?.[0]), /^mimamori_refresh=mrt_/);
});

test('refresh rotates; reusing a used refresh token revokes the whole family and is audited', async () => {
  const userId = await newUser('rotator', 'rotating-door-hinge');
  const first = await login('rotator', 'rotating-door-hinge');
  const r1 = String(first.body.refreshToken);
  const second = await call('POST', '/api/auth/refresh', { body: { refreshToken: r1 } });
  assert.is(second.status, 200);
  const r2 = String(second.body.refreshToken);
  assert.is.not(r2, r1, 'a new refresh token each time');
  assert.is((await me(String(second.body.token))).status, 200);
  const third = await call('POST', '/api/auth/refresh', { body: { refreshToken: r2 } });
  assert.is(third.status, 200);
  const r3 = String(third.body.refreshToken);
  const access3 = String(third.body.token);

  // Another family of the same user is not touched by this family's revocation.
  const other = await login('rotator', 'rotating-door-hinge');

  // r1 is presented again (a copy was stolen): the family ends, for the thief and the owner.
  assertClearError(await call('POST', '/api/auth/refresh', { body: { refreshToken: r1 } }), 401, 'refresh_reused');
  assertClearError(await call('POST', '/api/auth/refresh', { body: { refreshToken: r3 } }), 401, 'session_revoked');
  assertClearError(await me(access3), 401, 'session_revoked');
  assert.is((await me(String(other.body.token))).status, 200, 'the other sign-in stands');
  assertClearError(await call('POST', '/api/auth/refresh', { body: { refreshToken: 'mrt_nonsense' } }), 401, 'refresh_invalid');
  assert.ok(await waitForAudit((a) => a.action === 'auth.refresh_reused' && a.actor === `u:${userId}` && a.outcome === 'refused'), 'a security audit row');
});

test('the refresh cookie needs the client header and the same origin (CSRF)', async () => {
  const first = await login(svc.adminUsername, svc.adminPassword, { headers: { 'x-mimamori-client': '1' } });
  const cookie = String(first.headers['set-cookie']?.[0]).split(';')[0]!;
  const host = new URL(svc.url).host;
  // A cross-site form or fetch carries the cookie but cannot add the header without a preflight.
  assertClearError(await call('POST', '/api/auth/refresh', { headers: { cookie } }), 403, 'csrf_refused');
  assertClearError(await call('POST', '/api/auth/refresh', { headers: { cookie, 'x-mimamori-client': '1', origin: 'https://evil.example' } }), 403, 'csrf_refused');
  assertClearError(await call('POST', '/api/auth/logout', { headers: { cookie } }), 403, 'csrf_refused');
  // The API outside /api/auth takes Bearer tokens only: the cookie alone is nobody.
  assertClearError(await call('GET', '/api/cameras', { headers: { cookie } }), 401, 'unauthorized');

  const ok = await call('POST', '/api/auth/refresh', { headers: { cookie, 'x-mimamori-client': '1', origin: `http://${host}` } });
  assert.is(ok.status, 200, JSON.stringify(ok.body));
  assert.is(ok.body.refreshToken, undefined, 'the browser\'s refresh token stays in the cookie');
  const next = String(ok.headers['set-cookie']?.[0]).split(';')[0]!;
  assert.is.not(next, cookie);
  // Two tabs refreshing at once: the just-replaced cookie still gets an access token (no new cookie) for a few seconds.
  const race = await call('POST', '/api/auth/refresh', { headers: { cookie, 'x-mimamori-client': '1' } });
  assert.is(race.status, 200, JSON.stringify(race.body));
  assert.is(race.headers['set-cookie'], undefined);
  // Logging out with the cookie ends the family.
  const out = await call('POST', '/api/auth/logout', { headers: { cookie: next, 'x-mimamori-client': '1' } });
  assert.is(out.status, 204);
  assert.match(String(out.headers['set-cookie']?.[0]), /mimamori_refresh=;/);
  assertClearError(await call('POST', '/api/auth/refresh', { headers: { cookie: next, 'x-mimamori-client': '1' } }), 401, 'session_revoked');
  assertClearError(await me(String(ok.body.token)), 401, 'session_revoked');
});

function connect(token: string): Promise<{ socket: Socket; denied: { code: string }[]; disconnected: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = io(svc.url, { auth: { token }, transports: ['websocket'], reconnection: false });
    const denied: { code: string }[] = [];
    socket.on('denied', (d: { code: string }) => denied.push(d));
    const disconnected = new Promise<string>((r) => socket.on('disconnect', (reason) => r(reason)));
    socket.once('connect', () => resolve({ socket, denied, disconnected }));
    socket.once('connect_error', (e) => reject(e));
  });
}
const ask = (socket: Socket, request: unknown) =>
  new Promise<{ ok: boolean; error?: { code: string } }>((resolve) => socket.emit('request', request, (r: { ok: boolean; error?: { code: string } }) => resolve(r)));

test('a live socket outlives its access token while the session stands; sign out everywhere ends tokens and sockets', async () => {
  const userId = await newUser('watcher', 'watching-over-you');
  const a = await login('watcher', 'watching-over-you');
  const b = await login('watcher', 'watching-over-you');
  const jwtSecret = await svc.jwtSecret();
  const sid = (jwt.decode(String(a.body.token)) as { sid: string }).sid;
  // Long enough to connect on a busy machine; the request below is made after it expired.
  const shortLived = jwt.sign({ typ: 'user', sub: userId, sid }, jwtSecret, { issuer: 'mimamori', expiresIn: 5 });
  const expMs = (jwt.decode(shortLived) as { exp: number }).exp * 1000;
  const live = await connect(shortLived);
  const other = await connect(String(b.body.token));
  await sleep(Math.max(0, expMs - Date.now() + 1100));
  assert.is((await ask(live.socket, { method: 'leave', data: { cameraId: 'c_none' } })).ok, true, 'the connection is tied to the session, not to the token\'s expiry');

  const out = await call('POST', '/api/auth/logout-all', { headers: bearer(String(a.body.token)) });
  assert.is(out.status, 200);
  assert.is(out.body.revoked, 2);
  assert.is(await live.disconnected, 'io server disconnect');
  assert.is(await other.disconnected, 'io server disconnect');
  assert.ok(live.denied.some((d) => d.code === 'session_revoked'), JSON.stringify(live.denied));
  assertClearError(await me(String(a.body.token)), 401, 'session_revoked');
  assertClearError(await me(String(b.body.token)), 401, 'session_revoked');
  assertClearError(await call('POST', '/api/auth/refresh', { body: { refreshToken: b.body.refreshToken } }), 401, 'session_revoked');
  const again = await connect(String(b.body.token)).then(
    () => undefined,
    (e: Error) => JSON.parse(e.message) as { code: string },
  );
  assert.is(again?.code, 'session_revoked', 'a revoked session cannot reconnect');
  assert.ok(await waitForAudit((r) => r.action === 'auth.logout_all' && r.actor === `u:${userId}`));

  // An administrator can sign someone else out everywhere, too.
  const c = await login('watcher', 'watching-over-you');
  assert.is((await call('POST', `/api/users/${userId}/logout-all`, { headers: bearer(svc.adminToken) })).status, 200);
  assertClearError(await me(String(c.body.token)), 401, 'session_revoked');
  assertClearError(await call('POST', `/api/users/${userId}/logout-all`, { headers: bearer(String((await login('watcher', 'watching-over-you')).body.token)) }), 403, 'forbidden');
});

test('TOTP: set up, confirm, then sign-in needs a current code, once', async () => {
  await newUser('hanako', 'tea-ceremony-kettle');
  const session = String((await login('hanako', 'tea-ceremony-kettle')).body.token);
  // Stay clear of a step boundary so "previous, current, next step" mean what this test thinks.
  const into = (Date.now() / 1000) % TOTP_STEP_S;
  if (into > TOTP_STEP_S - 4) await sleep((TOTP_STEP_S - into + 0.5) * 1000);
  const setup = await call('POST', '/api/auth/totp/setup', { headers: bearer(session) });
  assert.is(setup.status, 200);
  assert.match(String(setup.body.uri), /^otpauth:\/\/totp\/Mimamori:hanako\?secret=[A-Z2-7]+&issuer=Mimamori/);
  const secret = base32Decode(String(setup.body.secret));
  const step = Math.floor(Date.now() / 1000 / TOTP_STEP_S);
  const code = (s: number) => hotp(secret, s);

  assertClearError(await call('POST', '/api/auth/totp/confirm', { headers: bearer(session), body: { code: code(step + 5) } }), 400, 'totp_invalid');
  assert.is((await call('POST', '/api/auth/totp/confirm', { headers: bearer(session), body: { code: code(step - 1) } })).status, 200, 'the previous step is in the window');
  assert.ok(await waitForAudit((r) => r.action === 'auth.totp_enabled'));
  assert.is((await call('POST', '/api/auth/totp/setup', { headers: bearer(session) })).status, 409);

  assertClearError(await login('hanako', 'tea-ceremony-kettle'), 401, 'totp_required');
  assertClearError(await login('hanako', 'wrong-password-here', { totp: code(step) }), 401, 'invalid_credentials');
  assertClearError(await login('hanako', 'tea-ceremony-kettle', { totp: code(step + 3) }), 401, 'totp_invalid');
  assertClearError(await login('hanako', 'tea-ceremony-kettle', { totp: code(step - 1) }), 401, 'totp_invalid');
  const ok = await login('hanako', 'tea-ceremony-kettle', { totp: code(step) });
  assert.is(ok.status, 200, JSON.stringify(ok.body));
  const reused = await login('hanako', 'tea-ceremony-kettle', { totp: code(step) });
  assertClearError(reused, 401, 'totp_invalid');
  assert.match(reused.body.error!.message, /already used/);

  // The secret is sealed at rest, and the file is private.
  const file = path.join(svc.dataDir, 'accounts.json');
  assert.is((await fs.stat(file)).mode & 0o777, 0o600);
  assert.not.ok((await fs.readFile(file, 'utf8')).includes(String(setup.body.secret)));

  // Turning it off takes the password and a fresh code.
  assertClearError(await call('DELETE', '/api/auth/totp', { headers: bearer(session), body: { password: 'tea-ceremony-kettle', code: code(step) } }), 400, 'totp_invalid');
  assert.is((await call('DELETE', '/api/auth/totp', { headers: bearer(session), body: { password: 'tea-ceremony-kettle', code: code(step + 1) } })).status, 200);
  assert.is((await login('hanako', 'tea-ceremony-kettle')).status, 200);
});

test('RFC 6238 test vectors (SHA-1, 8 digits)', () => {
  const secret = Buffer.from('12345678901234567890');
  const vectors: [number, string][] = [[59, '94287082'], [1111111109, '07081804'], [1111111111, '14050471'], [1234567890, '89005924'], [2000000000, '69279037'], [20000000000, '65353130']];
  for (const [t, expected] of vectors) assert.is(hotp(secret, Math.floor(t / 30), 8), expected, `T=${t}`);
});

test('password change: policy, current password, other sessions signed out', async () => {
  await newUser('jiro', 'bamboo-forest-path');
  const a = String((await login('jiro', 'bamboo-forest-path')).body.token);
  const b = String((await login('jiro', 'bamboo-forest-path')).body.token);
  assertClearError(await call('POST', '/api/auth/password', { headers: bearer(a), body: { current: 'nope-nope-nope', next: 'mountain-river-stone' } }), 400, 'wrong_password');
  assertClearError(await call('POST', '/api/auth/password', { headers: bearer(a), body: { current: 'bamboo-forest-path', next: 'jiro-jiro-jiro-1' } }), 422, 'weak_password');
  const changed = await call('POST', '/api/auth/password', { headers: bearer(a), body: { current: 'bamboo-forest-path', next: 'mountain-river-stone' } });
  assert.is(changed.status, 200, JSON.stringify(changed.body));
  assert.is((await me(a)).status, 200, 'this session stays');
  assertClearError(await me(b), 401, 'session_revoked');
  assertClearError(await login('jiro', 'bamboo-forest-path'), 401, 'invalid_credentials');
  assert.is((await login('jiro', 'mountain-river-stone')).status, 200);
});

test('a demoted administrator loses admin rights at once, with the same token', async () => {
  const id = await newUser('boss', 'corner-office-window', 'admin');
  const token = String((await login('boss', 'corner-office-window')).body.token);
  assert.is((await call('GET', '/api/users', { headers: bearer(token) })).status, 200);
  const demote = await call('PATCH', `/api/users/${id}`, { headers: bearer(svc.adminToken), body: { role: 'viewer' } });
  assert.is(demote.status, 200, JSON.stringify(demote.body));
  assert.is((await call('GET', '/api/users', { headers: bearer(token) })).status, 403);
  const cam = await svc.createCamera('Gate');
  assert.is((await call('POST', `/api/cameras/${cam.id}/publish-token`, { headers: bearer(token), body: {} })).status >= 403, true, 'no publish token without the camera secret');
});

test('Chromium: sign-in asks for the code, survives a reload and a new tab through the cookie, and sign-out ends it', async () => {
  await newUser('sakura', 'cherry-blossom-river');
  const session = String((await login('sakura', 'cherry-blossom-river')).body.token);
  const into = (Date.now() / 1000) % TOTP_STEP_S;
  if (into > TOTP_STEP_S - 6) await sleep((TOTP_STEP_S - into + 0.5) * 1000);
  const secret = base32Decode(String((await call('POST', '/api/auth/totp/setup', { headers: bearer(session) })).body.secret));
  const step = Math.floor(Date.now() / 1000 / TOTP_STEP_S);
  assert.is((await call('POST', '/api/auth/totp/confirm', { headers: bearer(session), body: { code: hotp(secret, step - 1) } })).status, 200);

  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    const signedIn = '.user:not([hidden]) .user-name';
    await page.goto(`${svc.url}/`);
    await page.fill('#username', 'sakura');
    await page.fill('#password', 'cherry-blossom-river');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#totp', { state: 'visible', timeout: 10_000 });
    await page.fill('#totp', hotp(secret, step));
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector(signedIn, { timeout: 10_000 });
    const cookie = (await browser.context.cookies()).find((c) => c.name === 'mimamori_refresh');
    assert.ok(cookie?.httpOnly && cookie.sameSite === 'Strict' && cookie.path === '/api/auth', JSON.stringify(cookie));
    assert.is(await page.evaluate('document.cookie'), '', 'page scripts cannot read the refresh token');

    await page.reload();
    await page.waitForSelector(signedIn, { timeout: 10_000 });
    // A new tab has no access token of its own: it resumes the session from the cookie.
    const tab = await browser.context.newPage();
    await tab.goto(`${svc.url}/`);
    await tab.waitForSelector(signedIn, { timeout: 10_000 });
    assert.is(await tab.evaluate('sessionStorage.length > 0'), true);

    await tab.click('#logout');
    await tab.waitForSelector('#login-form', { timeout: 10_000 });
    await page.evaluate('sessionStorage.clear()');
    await page.reload();
    await page.waitForSelector('#login-form', { timeout: 10_000 });
    assert.not.ok((await browser.context.cookies()).some((c) => c.name === 'mimamori_refresh' && c.value), 'the cookie is gone');
  } finally {
    await browser.close();
  }
});

test('Chromium: with 8-second access tokens the page refreshes them by itself and keeps working', async () => {
  const short = await startService({ env: { MIMAMORI_ACCESS_TOKEN_TTL_S: '8' } });
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.goto(`${short.url}/`);
    await page.fill('#username', short.adminUsername);
    await page.fill('#password', short.adminPassword);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('.user:not([hidden]) .user-name', { timeout: 10_000 });
    const first = (await page.evaluate('sessionStorage.getItem("mimamori.token")')) as string;
    await sleep(12_000);
    const now = (await page.evaluate('sessionStorage.getItem("mimamori.token")')) as string;
    assert.is.not(now, first, 'a new access token before the old one ran out');
    const status = await page.evaluate('fetch("/api/cameras", { headers: { authorization: "Bearer " + sessionStorage.getItem("mimamori.token") } }).then((r) => r.status)');
    assert.is(status, 200);
    assert.is(await page.isVisible('#login-form'), false, 'still signed in');
  } finally {
    await browser.close();
    await short.stop();
  }
});

test('lockout after 10 failures (names that do not exist lock too), admin unlock; address throttling with Retry-After', async () => {
  const id = await newUser('locky', 'keys-under-the-mat');
  for (let i = 1; i <= 9; i++) assertClearError(await login('locky', `guess-number-${i}`, { from: '127.0.0.2' }), 401, 'invalid_credentials');
  const locked = await login('locky', 'guess-number-10', { from: '127.0.0.2' });
  assertClearError(locked, 423, 'account_locked');
  const until = Date.parse(String(locked.body.error?.lockedUntil));
  assert.ok(Math.abs(until - Date.now() - 15 * 60_000) < 5000, 'locked for 15 minutes');
  assert.match(locked.body.error!.message, /locked until \d{4}-/);
  assert.ok(Number(locked.headers['retry-after']) > 800);
  // Even the right password, from anywhere, until then.
  assertClearError(await login('locky', 'keys-under-the-mat', { from: '127.0.0.5' }), 423, 'account_locked');
  assert.ok(await waitForAudit((r) => r.action === 'auth.lockout' && r.actor === `u:${id}`));

  // A name nobody has answers exactly alike, lockout included: lockout does not reveal accounts.
  for (let i = 1; i <= 9; i++) assertClearError(await login('nobody-here', `guess-${i}`, { from: '127.0.0.3' }), 401, 'invalid_credentials');
  assertClearError(await login('nobody-here', 'guess-10', { from: '127.0.0.3' }), 423, 'account_locked');

  const unlock = await call('POST', `/api/users/${id}/unlock`, { headers: bearer(svc.adminToken) });
  assert.equal([unlock.status, unlock.body.wasLocked], [200, true]);
  assert.is((await login('locky', 'keys-under-the-mat', { from: '127.0.0.2' })).status, 200);

  // One address spraying many names: 20 failures are free, then each attempt waits, doubling.
  for (let i = 0; i < 20; i++) assertClearError(await login(`spray-${i}`, 'whatever-password', { from: '127.0.0.4' }), 401, 'invalid_credentials');
  const slow = await login('spray-20', 'whatever-password', { from: '127.0.0.4' });
  assertClearError(slow, 429, 'too_many_attempts');
  assert.is(slow.headers['retry-after'], '1');
  assert.is((await login(svc.adminUsername, svc.adminPassword, { from: '127.0.0.6' })).status, 200, 'other addresses are not slowed');
  await sleep(1100);
  assertClearError(await login('spray-21', 'whatever-password', { from: '127.0.0.4' }), 401, 'invalid_credentials');
  const slower = await login('spray-22', 'whatever-password', { from: '127.0.0.4' });
  assertClearError(slower, 429, 'too_many_attempts');
  assert.is(slower.headers['retry-after'], '2');
});

test.run();
