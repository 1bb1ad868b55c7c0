// Two real service processes (their own self-signed TLS, metadata in files each) behind Debian's
// HAProxy 2.6, configured by the same generator operators use, in both TLS modes at once: TLS
// passthrough (the default) and TLS terminated on HAProxy, re-encrypted to the nodes. Node B
// records to a standalone `mimamori s3`; stopping that makes B's /readyz answer 503.
//
// Requests reach both nodes; /readyz decides (B out within the check interval once it answers
// 503, back once it answers 200; a killed node out as well); a socket.io websocket stays up through
// HAProxy far longer than its HTTP timeouts, and only because of `timeout tunnel`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import { io, type Socket } from 'socket.io-client';
import { startService, type Service } from './harness.ts';
import { TestHaproxy } from './haproxy.ts';
import { S3Process } from './s3.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** HTTP timeouts far below the defaults (30 s / 1 min), so a test sees what outlives them. */
const SHORT = { clientMs: 2000, serverMs: 2000, httpRequestMs: 2000, keepAliveMs: 2000 };
/** The test harness checks every 500 ms, out after 2 failures, back after 2 passes. */
const CHECK_WINDOW_MS = 2 * 500;

let s3: S3Process;
let a: Service;
let b: Service;
let passthrough: TestHaproxy;
let terminate: TestHaproxy;
let tokenA: string;
let tokenB: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mimamori-haproxy-nodes-'));
const timings: string[] = [];

interface Answer {
  status: number;
  text: string;
}

/** One request on its own connection (HAProxy balances connections in TCP mode), certificates unchecked. */
function request(url: string, init: { method?: string; token?: string; body?: unknown } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    const req = https.request(
      url,
      {
        method: init.method ?? 'GET',
        agent: false,
        rejectUnauthorized: false,
        headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function login(svc: Service): Promise<string> {
  const r = await request(`${svc.url}/api/auth/login`, { method: 'POST', body: { username: svc.adminUsername, password: svc.adminPassword } });
  if (r.status !== 200) throw new Error(`login at ${svc.url}: ${r.status} ${r.text}`);
  return (JSON.parse(r.text) as { token: string }).token;
}

/** Which node answered: each has its own accounts, so A's token is good on A only. */
async function whoAnswers(lb: TestHaproxy, n: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const { status, text } = await request(`${lb.url}/api/auth/account`, { token: tokenA });
    const who = status === 200 ? 'a' : status === 401 ? 'b' : `${status} ${text}`;
    seen[who] = (seen[who] ?? 0) + 1;
  }
  return seen;
}

async function readyz(svc: Service): Promise<number> {
  return (await request(`${svc.url}/readyz`)).status;
}

async function waitReadyz(svc: Service, status: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await readyz(svc)) !== status) {
    if (Date.now() > deadline) throw new Error(`${svc.url}/readyz did not answer ${status} in ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** A socket.io websocket through `lb` to the node `token` belongs to (a connection landing on the other is refused there; try again). */
async function websocketTo(lb: TestHaproxy, token: string): Promise<Socket> {
  for (let attempt = 1; attempt <= 8; attempt++) {
    const socket = io(lb.url, { auth: { token }, transports: ['websocket'], reconnection: false, rejectUnauthorized: false, forceNew: true });
    const connected = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('connect_error', () => resolve(false));
    });
    if (connected) return socket;
    socket.close();
  }
  throw new Error(`no websocket through ${lb.url} reached the token's node in 8 attempts`);
}

/** A request over the socket (leaving a camera it never joined) and its answer: the connection carries traffic both ways. */
function roundTrip(socket: Socket): Promise<{ ok: boolean; error?: { code: string } }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer over the websocket in 5 s')), 5000);
    socket.emit('request', { method: 'leave', data: { cameraId: 'no-such-camera' } }, (r: { ok: boolean; error?: { code: string } }) => {
      clearTimeout(timer);
      resolve(r);
    });
  });
}

test.before(async () => {
  s3 = await S3Process.start();
  const env = { MIMAMORI_TLS: 'self-signed' };
  [a, b] = await Promise.all([startService({ https: true, env }), startService({ https: true, env: { ...env, ...s3.env } })]);
  [tokenA, tokenB] = await Promise.all([login(a), login(b)]);
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', algorithm: 'sha256' });
  const certFile = path.join(tmp, 'lb.pem');
  fs.writeFileSync(certFile, `${pems.cert.trim()}\n${pems.private.trim()}\n`, { mode: 0o600 });
  const nodes = [
    { name: 'a', host: '127.0.0.1', port: a.port },
    { name: 'b', host: '127.0.0.1', port: b.port },
  ];
  [passthrough, terminate] = await Promise.all([
    TestHaproxy.start({ nodes, tls: { mode: 'passthrough' }, timeouts: SHORT }),
    TestHaproxy.start({ nodes, tls: { mode: 'terminate', certFile, nodeTls: true }, timeouts: SHORT }),
  ]);
  for (const lb of [passthrough, terminate]) {
    await lb.waitFor('a', 'UP');
    await lb.waitFor('b', 'UP');
  }
});

test.after(async () => {
  await Promise.all([passthrough?.close(), terminate?.close()]);
  await Promise.all([a?.stop(), b?.stop()]);
  await s3?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`\n  ${timings.join('\n  ')}`);
});

test('requests through HAProxy reach both nodes, in both TLS modes', async () => {
  for (const lb of [passthrough, terminate]) {
    const seen = await whoAnswers(lb, 10);
    assert.equal(seen, { a: 5, b: 5 }, `${lb === passthrough ? 'passthrough' : 'terminate'}: ${JSON.stringify(seen)}`);
  }
  // Terminated: the node sees HTTPS through X-Forwarded-Proto (its refresh cookie stays Secure).
  const r = await request(`${terminate.url}/readyz`);
  assert.is(r.status, 200);
});

test('/readyz decides: S3 gone, node B answers 503 and is out within the check interval; S3 back, B is back', async () => {
  assert.is(await s3.stop('SIGTERM'), 0);
  await waitReadyz(b, 503);
  const t0 = Date.now();
  await Promise.all([passthrough.waitFor('b', 'DOWN'), terminate.waitFor('b', 'DOWN')]);
  const outMs = Date.now() - t0;
  timings.push(`B out ${outMs} ms after its /readyz answered 503 (both HAProxies; checks every 500 ms, out after 2)`);
  assert.ok(outMs <= CHECK_WINDOW_MS + 1500, `out after ${outMs} ms`);
  for (const lb of [passthrough, terminate]) {
    const state = (await lb.servers()).b!;
    assert.is(state.code, '503', 'taken out for its answer');
    assert.equal(await whoAnswers(lb, 6), { a: 6 }, 'nothing goes to the unready node');
  }
  assert.is(await readyz(a), 200, 'A is unaffected');

  await s3.restart();
  await waitReadyz(b, 200);
  const t1 = Date.now();
  await Promise.all([passthrough.waitFor('b', 'UP'), terminate.waitFor('b', 'UP')]);
  const backMs = Date.now() - t1;
  timings.push(`B back ${backMs} ms after its /readyz answered 200`);
  assert.ok(backMs <= CHECK_WINDOW_MS + 1500, `back after ${backMs} ms`);
  for (const lb of [passthrough, terminate]) assert.equal(await whoAnswers(lb, 4), { a: 2, b: 2 });
});

test('a node that is killed is out (connection refused); restarted, it is back', async () => {
  await b.kill();
  const t0 = Date.now();
  await Promise.all([passthrough.waitFor('b', 'DOWN'), terminate.waitFor('b', 'DOWN')]);
  timings.push(`B out ${Date.now() - t0} ms after SIGKILL`);
  assert.is((await passthrough.servers()).b!.check, 'L4CON');
  assert.equal(await whoAnswers(passthrough, 4), { a: 4 });
  await b.restart();
  await Promise.all([passthrough.waitFor('b', 'UP'), terminate.waitFor('b', 'UP')]);
  tokenB = await login(b);
  assert.equal(await whoAnswers(terminate, 4), { a: 2, b: 2 });
});

test('socket.io websockets through HAProxy to both nodes stay up 3× longer than its HTTP timeouts, idle', async () => {
  const sockets: [string, Socket][] = [];
  try {
    for (const [mode, lb] of [['passthrough', passthrough], ['terminate', terminate]] as const) {
      sockets.push([`${mode} → a`, await websocketTo(lb, tokenA)], [`${mode} → b`, await websocketTo(lb, tokenB)]);
    }
    const dropped: string[] = [];
    for (const [name, socket] of sockets) socket.on('disconnect', (reason) => dropped.push(`${name}: ${reason}`));
    const idleMs = 3 * SHORT.clientMs;
    await sleep(idleMs);
    assert.equal(dropped, [], `no websocket dropped in ${idleMs} ms of silence`);
    for (const [name, socket] of sockets) {
      const answer = await roundTrip(socket);
      assert.type(answer.ok, 'boolean', `${name}: an answer came back (${JSON.stringify(answer)})`);
    }
    for (const lb of [passthrough, terminate]) {
      const servers = await lb.servers();
      assert.ok(servers.a!.current >= 1 && servers.b!.current >= 1, `both nodes hold a websocket: ${JSON.stringify(servers)}`);
    }
    timings.push(`4 websockets (2 per HAProxy, one per node) idle ${idleMs} ms with client/server timeouts of ${SHORT.clientMs} ms: none dropped`);
  } finally {
    for (const [, socket] of sockets) socket.close();
  }
});

test('the control: with a short tunnel timeout the same websocket is cut; a silent HTTP client is cut by the short timeouts', async () => {
  for (const [mode, lb] of [['passthrough', passthrough], ['terminate', terminate]] as const) {
    await lb.reload({ timeouts: { ...SHORT, tunnelMs: SHORT.clientMs } });
    const socket = await websocketTo(lb, tokenA);
    try {
      const started = Date.now();
      const reason = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${mode}: still up after 10 s with a ${SHORT.clientMs} ms tunnel timeout`)), 10_000);
        socket.once('disconnect', (r) => {
          clearTimeout(timer);
          resolve(r);
        });
      });
      const ms = Date.now() - started;
      timings.push(`${mode}: with timeout tunnel ${SHORT.clientMs} ms the idle websocket was cut after ${ms} ms (${reason})`);
      assert.ok(ms >= SHORT.clientMs - 200, `${mode}: cut after ${ms} ms`);
    } finally {
      socket.close();
      await lb.reload({ timeouts: SHORT });
    }
  }
  // HTTP mode: a client that opens a connection and says nothing is cut after timeout http-request.
  const started = Date.now();
  const raw = tls.connect({ host: '127.0.0.1', port: terminate.port, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    raw.once('error', reject);
    raw.once('close', () => resolve());
    raw.resume();
  });
  const ms = Date.now() - started;
  timings.push(`terminate: a silent client was cut after ${ms} ms`);
  assert.ok(ms >= SHORT.httpRequestMs - 200 && ms < SHORT.httpRequestMs + 2000, `cut after ${ms} ms`);
});

test.run();
