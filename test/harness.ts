// Starts the real service in a child process on loopback with a fresh data dir, for tests and
// benchmarks. restart() kills and starts it again on the same port and data.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { matchFrames, Viewer, type Camera, type ViewerStats } from '../camera/index.ts';
import pg from 'pg';
import { io, type Socket } from 'socket.io-client';
import { TestPostgres } from './postgres.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Service {
  url: string;
  port: number;
  dataDir: string;
  /** Set when the metadata is in PostgreSQL. */
  databaseUrl?: string;
  adminUsername: string;
  adminPassword: string;
  adminToken: string;
  /** fetch against the service with the admin's token (unless init sets Authorization). */
  api(pathname: string, init?: RequestInit): Promise<Response>;
  login(username: string, password: string): Promise<string>;
  createCamera(name: string): Promise<{ id: string; secret: string }>;
  createUser(username: string, password: string, role?: 'admin' | 'operator' | 'viewer'): Promise<{ id: string }>;
  grant(userId: string, cameraId: string): Promise<void>;
  publishToken(cameraId: string, secret: string): Promise<string>;
  /** Stops it (SIGTERM, unless it exited already) and starts it again; `root`: from that checkout (an upgrade). */
  restart(options?: { root?: string }): Promise<void>;
  /** SIGKILL, no clean shutdown. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: a process that stops and later wakes up believing nothing happened. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
  /** Output of the service so far (for debugging failures). */
  output(): string;
  /** The process's exit code once it exited by itself or was stopped (null: by a signal; undefined: running). */
  exitCode(): number | null | undefined;
  /** The token signing secret the service generated (its data dir, or its database): tests forge and expire tokens with it. */
  jwtSecret(): Promise<string>;
}

export interface ServiceOptions {
  port?: number;
  workers?: number;
  env?: Record<string, string>;
  /** The service speaks HTTPS (with MIMAMORI_TLS set in env); health checks skip verification. */
  https?: boolean;
  /**
   * Metadata in this PostgreSQL database (several services given one are nodes of one cluster).
   * Without it, MIMAMORI_TEST_STORE=postgres gives each service a database of its own on a test
   * server the harness starts; otherwise the service keeps files in its data dir.
   */
  databaseUrl?: string;
  /** Run on this data dir (kept when the service stops) instead of a fresh one (removed). */
  dataDir?: string;
  /** Run inside this network namespace (test/netns.ts), listening and announcing `address`. */
  netns?: { name: string; address: string };
  /** Run the service of this checkout (another release: test/release.ts) instead of this one. */
  root?: string;
}

let testServer: Promise<TestPostgres> | undefined;
let databases = 0;

/** A fresh database on the harness's own PostgreSQL (started on first use, stopped when the process exits). */
export async function testDatabase(): Promise<string> {
  testServer ??= TestPostgres.start();
  return (await testServer).createDatabase(`service_${process.pid}_${++databases}`);
}

/** The test server, for tests that stop and restart it (a database outage). */
export function testPostgres(): Promise<TestPostgres> {
  testServer ??= TestPostgres.start();
  return testServer;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** GET /healthz, accepting the self-signed certificate of an HTTPS test service. */
function healthy(url: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? https.get : http.get;
    get(`${url}/healthz`, { rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    }).on('error', reject);
  });
}

/** The service's Node/V8 flags (bin/node-flags), as bin/mimamori passes them; none in a checkout older than that file. */
async function nodeFlags(root: string): Promise<string[]> {
  const text = await fs.readFile(path.join(root, 'bin', 'node-flags'), 'utf8').catch(() => '');
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

export async function startService(options: ServiceOptions = {}): Promise<Service> {
  const dataDir = options.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-test-')));
  const port = options.port ?? (await freePort());
  const adminUsername = 'admin';
  const adminPassword = 'test-admin-password-1';
  const host = options.netns?.address ?? '127.0.0.1';
  const url = `${options.https ? 'https' : 'http'}://${host}:${port}`;
  const databaseUrl = options.databaseUrl ?? (process.env.MIMAMORI_TEST_STORE === 'postgres' ? await testDatabase() : undefined);
  let child: ChildProcess | undefined;
  let out = '';
  let root = options.root ?? ROOT;

  const launch = async () => {
    out += `--- start ${new Date().toISOString()}\n`;
    const command = [process.execPath, ...(await nodeFlags(root)), '--import', 'tsx', path.join(root, 'bin', 'mimamori.ts'), 'start'];
    // `ip netns exec` execs the command itself: the child's pid is the service's (kill, SIGSTOP).
    if (options.netns) command.unshift('/usr/sbin/ip', 'netns', 'exec', options.netns.name);
    child = spawn(command[0]!, command.slice(1), {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        MIMAMORI_DATA_DIR: dataDir,
        MIMAMORI_HOST: host,
        MIMAMORI_PORT: String(port),
        MIMAMORI_TLS: 'off',
        MIMAMORI_ADMIN_USERNAME: adminUsername,
        MIMAMORI_ADMIN_PASSWORD: adminPassword,
        MIMAMORI_ANNOUNCED_ADDRESS: host,
        MIMAMORI_RTC_LISTEN_IP: host,
        MIMAMORI_WORKERS: String(options.workers ?? 1),
        MIMAMORI_LOG_LEVEL: process.env.MIMAMORI_LOG_LEVEL ?? 'warn',
        // Every answer is parsed with its documented schema: a route whose answer drifts from the
        // OpenAPI document fails the test that called it (500, logged as a contract violation).
        MIMAMORI_CHECK_ANSWERS: process.env.MIMAMORI_CHECK_ANSWERS ?? '1',
        // Access tokens live 10 minutes in service; the harness's admin token must outlast a long test.
        MIMAMORI_ACCESS_TOKEN_TTL_S: '3600',
        ...(databaseUrl ? { MIMAMORI_DATABASE_URL: databaseUrl } : {}),
        ...options.env,
      },
    });
    child.stdout!.on('data', (d: Buffer) => (out += d));
    child.stderr!.on('data', (d: Buffer) => (out += d));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}:\n${out}`);
      try {
        if (await healthy(url)) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`service did not become healthy in 30 s:\n${out}`);
  };

  const exit = async (signal: NodeJS.Signals) => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const done = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
  };

  await launch();

  const rawLogin = async (username: string, password: string): Promise<string> => {
    const res = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { token: string }).token;
  };
  // fetch() cannot skip certificate checks, so an HTTPS test service gets no admin token here.
  const adminToken = options.https ? '' : await rawLogin(adminUsername, adminPassword);

  const api = (pathname: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${adminToken}`);
    if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
    return fetch(`${url}${pathname}`, { ...init, headers });
  };
  const json = async <T>(res: Response): Promise<T> => {
    if (!res.ok) throw new Error(`${res.url}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };

  return {
    url,
    port,
    dataDir,
    ...(databaseUrl ? { databaseUrl } : {}),
    adminUsername,
    adminPassword,
    adminToken,
    api,
    login: rawLogin,
    async createCamera(name) {
      const body = await json<{ camera: { id: string }; secret: string }>(await api('/api/cameras', { method: 'POST', body: JSON.stringify({ name }) }));
      return { id: body.camera.id, secret: body.secret };
    },
    async createUser(username, password, role = 'viewer') {
      const body = await json<{ user: { id: string } }>(
        await api('/api/users', { method: 'POST', body: JSON.stringify({ username, password, role }) }),
      );
      return { id: body.user.id };
    },
    async grant(userId, cameraId) {
      await json(await api(`/api/cameras/${cameraId}/grants/${userId}`, { method: 'PUT' }));
    },
    async publishToken(cameraId, secret) {
      const res = await fetch(`${url}/api/cameras/${cameraId}/publish-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ secret }),
      });
      return (await json<{ token: string }>(res)).token;
    },
    async restart(again) {
      await exit('SIGTERM');
      if (again?.root) root = again.root;
      await launch();
    },
    async kill() {
      await exit('SIGKILL');
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async stop() {
      await exit('SIGTERM');
      if (!options.dataDir) await fs.rm(dataDir, { recursive: true, force: true });
    },
    output: () => out,
    exitCode: () => (child && (child.exitCode !== null || child.signalCode !== null) ? child.exitCode : undefined),
    async jwtSecret() {
      if (!databaseUrl) return (JSON.parse(await fs.readFile(path.join(dataDir, 'secrets.json'), 'utf8')) as { jwtSecret: string }).jwtSecret;
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        return (await client.query<{ value: string }>("SELECT value FROM service_secrets WHERE name = 'jwtSecret'")).rows[0]!.value;
      } finally {
        await client.end();
      }
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `mimamori ARGS` as an operator runs it, with these settings in its environment. */
export function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bin', 'mimamori.ts'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MIMAMORI_LOG_LEVEL: 'warn', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

export interface CliLine {
  /** Date.now() when the line arrived. */
  at: number;
  text: string;
}

/** A long-running `mimamori` command (e.g. `camera`), its output read line by line as it comes. */
export interface CliProcess {
  /** Lines of stdout and stderr so far, in arrival order. */
  readonly lines: readonly CliLine[];
  /** The first line at index `from` or later matching `pattern`; rejects after `timeoutMs` or when the command exits. */
  waitForLine(pattern: RegExp, timeoutMs: number, from?: number): Promise<CliLine & { index: number }>;
  /** SIGINT (SIGKILL 5 s later if it is still running); resolves with the exit code. Idempotent. */
  stop(): Promise<number | null>;
}

/** Starts `mimamori ARGS` and keeps it running until stop(). */
export function spawnCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bin', 'mimamori.ts'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MIMAMORI_LOG_LEVEL: 'warn', ...env },
  });
  const lines: CliLine[] = [];
  const waiters = new Set<() => void>();
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let ended = false;
  void exited.then(() => {
    ended = true;
    for (const w of waiters) w();
  });
  const reader = () => {
    let partial = '';
    return (d: Buffer) => {
      const parts = (partial + d.toString()).split('\n');
      partial = parts.pop()!;
      const at = Date.now();
      for (const text of parts) lines.push({ at, text });
      for (const w of waiters) w();
    };
  };
  child.stdout!.on('data', reader());
  child.stderr!.on('data', reader());
  let stopping: Promise<number | null> | undefined;
  return {
    lines,
    waitForLine(pattern, timeoutMs, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const index = lines.findIndex((l, i) => i >= from && pattern.test(l.text));
          if (index >= 0) return done(() => resolve({ ...lines[index]!, index }));
          if (ended) return done(() => reject(new Error(`mimamori ${args[0]} exited before printing ${pattern}:\n${lines.map((l) => l.text).join('\n')}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`mimamori ${args[0]} printed no ${pattern} in ${timeoutMs} ms:\n${lines.map((l) => l.text).join('\n')}`))), timeoutMs);
        const done = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    stop() {
      stopping ??= (async () => {
        if (!ended) child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      })();
      return stopping;
    },
  };
}

/** A WHEP viewer (as admin) gets `n` frames of `camera`, each one the camera sent, in order. */
export async function assertWatchable(svc: Service, cameraId: string, camera: Camera, n = 10): Promise<ViewerStats> {
  const viewer = await Viewer.create({ whepUrl: `${svc.url}/whep/${cameraId}`, token: svc.adminToken });
  try {
    await viewer.waitForFrames(n, 10_000);
    assert.is(matchFrames(camera.frames, viewer.frames).unmatched, 0, 'every received frame is one the camera sent, in order');
    return viewer.stats;
  } finally {
    await viewer.close();
  }
}

/** A socket.io connection to the service over WebSocket, without reconnection: rejects with the server's refusal. */
export function connectSocket(url: string, token: string | undefined): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(url, { auth: token ? { token } : {}, transports: ['websocket'], reconnection: false });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}
