// The HAProxy test harness (test/haproxy.ts) with Debian's HAProxy 2.6 in front of two small
// stand-in nodes whose /readyz a test turns on and off: requests reach both, /readyz decides
// within the check interval (in TLS passthrough, with the check over its own TLS connection, and
// with TLS terminated), the forwarded headers, a reload, stop and restart, and nothing left behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { generate } from 'selfsigned';
import { TestHaproxy } from './haproxy.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const timings: string[] = [];

/** A stand-in node: /readyz answers 200 or 503 as told; anything else answers its name and the headers it got. */
interface FakeNode {
  name: string;
  port: number;
  ready: boolean;
  close(): Promise<void>;
}

let pem: { cert: string; key: string };
let certFile: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mimamori-haproxy-harness-'));

test.before(async () => {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', algorithm: 'sha256' });
  pem = { cert: pems.cert, key: pems.private };
  certFile = path.join(tmp, 'lb.pem');
  fs.writeFileSync(certFile, `${pems.cert.trim()}\n${pems.private.trim()}\n`, { mode: 0o600 });
});
test.after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`\n  ${timings.join('; ')}`);
});

async function fakeNode(name: string, secure: boolean): Promise<FakeNode> {
  const node = { name, port: 0, ready: true } as FakeNode;
  const listener: http.RequestListener = (req, res) => {
    if (req.url === '/readyz') {
      res.writeHead(node.ready ? 200 : 503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ node: name, headers: req.headers }));
  };
  const server = secure ? https.createServer({ cert: pem.cert, key: pem.key }, listener) : http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  node.port = (server.address() as net.AddressInfo).port;
  node.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return node;
}

/** GET through HAProxy on a new connection (HAProxy balances connections in TCP mode). */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: { node: string; headers: Record<string, string> } }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { agent: false, rejectUnauthorized: false, headers }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : {} }));
      })
      .on('error', reject);
  });
}

async function whoAnswers(lb: TestHaproxy, n: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const { body } = await get(`${lb.url}/who`);
    seen[body.node] = (seen[body.node] ?? 0) + 1;
  }
  return seen;
}

for (const mode of ['passthrough', 'terminate'] as const) {
  test(`${mode}: both nodes answer; /readyz 503 takes a node out within the check interval, 200 brings it back`, async () => {
    const secure = mode === 'passthrough';
    const a = await fakeNode('a', secure);
    const b = await fakeNode('b', secure);
    const lb = await TestHaproxy.start({
      nodes: [
        { name: 'a', host: '127.0.0.1', port: a.port },
        { name: 'b', host: '127.0.0.1', port: b.port },
      ],
      tls: mode === 'passthrough' ? { mode } : { mode, certFile },
    });
    try {
      await lb.waitFor('a', 'UP');
      await lb.waitFor('b', 'UP');
      assert.equal(await whoAnswers(lb, 10), { a: 5, b: 5 }, 'least connections alternates between idle nodes');

      b.ready = false;
      const outMs = await lb.waitFor('b', 'DOWN');
      // inter 500 ms, fall 2: out after two failed checks, so within ~1 s of the change plus one check.
      assert.ok(outMs <= 2000, `out ${outMs} ms after /readyz turned 503`);
      const down = (await lb.servers()).b!;
      assert.is(down.check, 'L7STS', 'taken out for the status, not for a connection failure');
      assert.is(down.code, '503');
      assert.equal(await whoAnswers(lb, 6), { a: 6 }, 'nothing goes to the unready node');

      b.ready = true;
      const backMs = await lb.waitFor('b', 'UP');
      assert.ok(backMs <= 2000, `back ${backMs} ms after /readyz answered 200 again`);
      timings.push(`${mode}: out ${outMs} ms after /readyz 503, back ${backMs} ms after 200`);
      assert.equal(await whoAnswers(lb, 4), { a: 2, b: 2 });

      await b.close();
      await lb.waitFor('b', 'DOWN');
      assert.is((await lb.servers()).b!.check, 'L4CON', 'a stopped node is out too (connection refused)');
      assert.equal(await whoAnswers(lb, 4), { a: 4 });
    } finally {
      await lb.close();
      await a.close();
      await b.close();
    }
  });
}

test('terminate: the nodes get X-Forwarded-For and -Proto from HAProxy alone; a client\'s own are dropped', async () => {
  const a = await fakeNode('a', false);
  const lb = await TestHaproxy.start({ nodes: [{ name: 'a', host: '127.0.0.1', port: a.port }], tls: { mode: 'terminate', certFile } });
  try {
    await lb.waitFor('a', 'UP');
    const { body } = await get(`${lb.url}/who`, { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'http', forwarded: 'for=203.0.113.9', 'x-real-ip': '203.0.113.9' });
    assert.is(body.headers['x-forwarded-for'], '127.0.0.1');
    assert.is(body.headers['x-forwarded-proto'], 'https');
    assert.is(body.headers.forwarded, undefined);
    assert.is(body.headers['x-real-ip'], undefined);
  } finally {
    await lb.close();
    await a.close();
  }
});

test('terminate: a client that sends nothing is cut after the short HTTP timeout', async () => {
  const a = await fakeNode('a', false);
  const lb = await TestHaproxy.start({ nodes: [{ name: 'a', host: '127.0.0.1', port: a.port }], tls: { mode: 'terminate', certFile }, timeouts: { clientMs: 1000, httpRequestMs: 1000 } });
  try {
    const started = Date.now();
    const socket = tls.connect({ host: '127.0.0.1', port: lb.port, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.once('close', () => resolve());
      socket.resume();
    });
    const ms = Date.now() - started;
    assert.ok(ms >= 900 && ms < 3000, `closed after ${ms} ms`);
  } finally {
    await lb.close();
    await a.close();
  }
});

test('reload swaps the configuration (a node removed) without a restart; stop, restart on the same port, close leaves nothing', async () => {
  const a = await fakeNode('a', true);
  const b = await fakeNode('b', true);
  const nodes = [
    { name: 'a', host: '127.0.0.1', port: a.port },
    { name: 'b', host: '127.0.0.1', port: b.port },
  ];
  const lb = await TestHaproxy.start({ nodes });
  try {
    const master = lb.pid;
    await lb.waitFor('b', 'UP');
    await lb.reload({ nodes: [nodes[0]!] });
    assert.is(lb.pid, master, 'the same master process');
    assert.equal(Object.keys(await lb.servers()), ['a']);
    await lb.waitFor('a', 'UP');
    assert.equal(await whoAnswers(lb, 4), { a: 4 });
    assert.match(fs.readFileSync(lb.configFile, 'utf8'), `server a 127.0.0.1:${a.port}`);
    const bad = await lb.reload({ nodes: [] }).catch((e: unknown) => e);
    assert.instance(bad, Error, 'an invalid configuration is refused before HAProxy sees it');
    assert.equal(Object.keys(await lb.servers()), ['a'], 'and the running one stays');

    await lb.stop();
    assert.is(lb.pid, undefined);
    const refused = await get(`${lb.url}/who`).catch((e: NodeJS.ErrnoException) => e.code);
    assert.is(refused, 'ECONNREFUSED');
    await lb.restart();
    await lb.waitFor('a', 'UP');
    assert.equal(await whoAnswers(lb, 2), { a: 2 });
  } finally {
    await lb.close();
    await a.close();
    await b.close();
  }
  assert.not.ok(fs.existsSync(lb.dir), 'its folder is removed');
  await lb.close(); // idempotent
});

test('a test process that exits without close() leaves no HAProxy and no folder behind', async () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const script = `
    import { TestHaproxy } from ${JSON.stringify(path.join(here, 'haproxy.ts'))};
    const lb = await TestHaproxy.start({ nodes: [{ name: 'a', host: '127.0.0.1', port: 9 }] });
    console.log(JSON.stringify({ pid: lb.pid, dir: lb.dir }));
    process.exit(0);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: path.join(here, '..'), stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  await new Promise((r) => child.once('exit', r));
  const { pid, dir } = JSON.parse(out) as { pid: number; dir: string };
  await sleep(300);
  // Dead, or a zombie: its parent is gone and this machine's init may never reap it.
  const state = (() => {
    try {
      return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0];
    } catch {
      return 'gone';
    }
  })();
  assert.ok(state === 'gone' || state === 'Z', `HAProxy ${pid} was killed (state ${state})`);
  assert.not.ok(fs.existsSync(dir), 'its folder was removed');
});

test.run();
