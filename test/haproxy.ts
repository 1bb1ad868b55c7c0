// A real HAProxy for tests: Debian's /usr/sbin/haproxy (2.6) as a child process, on 127.0.0.1 and
// free ports, with a configuration from the same generator operators use
// (haproxy-config/index.ts), run in the foreground variant. No mock load balancer.
//
//   const lb = await TestHaproxy.start({ nodes: [{ name: 'a', host: '127.0.0.1', port: 8443 }] });
//   try { ...requests to lb.url..., await lb.waitFor('a', 'DOWN') } finally { await lb.close(); }
//
// It runs in master-worker mode (-W, as Debian's service does), so reload() swaps the
// configuration the way `systemctl reload haproxy` does. Server states come from the stats
// page's CSV. stop() and restart() keep the folder; close() removes it. A test that forgets close()
// or crashes leaves no HAProxy behind where avoidable: a process 'exit' handler kills every one
// still running (its process group). Death by a signal skips 'exit' handlers.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { generate } from 'selfsigned';
import {
  DEFAULT_CHECK,
  DEFAULT_TIMEOUTS,
  haproxyConfig,
  type HaproxyNode,
  type HaproxyOptions,
  type HealthCheck,
  type Timeouts,
  type TlsChoice,
} from '../haproxy-config/index.ts';
import { freePort } from './harness.ts';

/**
 * One GET of the stats page on a connection of its own. fetch() keeps connections alive, and the
 * worker a reload retires closes its idle ones: the next request on one failed ("fetch failed").
 */
function statsPage(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HAProxy's stats page answered ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

export const HAPROXY_BIN = '/usr/sbin/haproxy';

/** How many free ports start() tries when another process takes the ones it picked. */
const PORT_ATTEMPTS = 3;

/** Checks every half second, out after 2 failures and back after 2 passes: tests wait seconds, not tens. */
const TEST_CHECK: HealthCheck = { ...DEFAULT_CHECK, intervalMs: 500, fall: 2, rise: 2 };

export interface TestHaproxyOptions {
  nodes: HaproxyNode[];
  /**
   * Default passthrough. 'self-signed': terminate mode with a self-signed certificate for
   * localhost made in HAProxy's own folder (clients of the test then accept it).
   */
  tls?: TlsChoice | 'self-signed';
  balance?: HaproxyOptions['balance'];
  timeouts?: Partial<Timeouts>;
  check?: Partial<HealthCheck>;
}

/** One server as the stats page shows it. */
export interface ServerState {
  /** UP, DOWN, "UP 1/2" (failing, not yet out), "DOWN 1/2" (passing, not yet in), MAINT, … */
  status: string;
  /** The last check: L7OK, L7STS (wrong status), L4CON (refused), L4TOUT, … */
  check: string;
  /** The HTTP status the last check got. */
  code: string;
  /** Connections open to it now, and in total. */
  current: number;
  total: number;
}

const execFileAsync = promisify(execFile);

/** Started and not yet closed, each with its synchronous clean-up, for the 'exit' handler. */
const live = new Map<TestHaproxy, () => void>();
let exitHandlerInstalled = false;

/** `haproxy -c` on a configuration text: whether it is valid, and everything HAProxy said. */
export async function checkConfig(text: string): Promise<{ valid: boolean; output: string }> {
  assertInstalled();
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'mimamori-haproxy-check-'));
  try {
    const file = path.join(dir, 'haproxy.cfg');
    await fsp.writeFile(file, text);
    try {
      const { stdout, stderr } = await execFileAsync(HAPROXY_BIN, ['-c', '-f', file], { timeout: 30_000 });
      return { valid: true, output: `${stdout}${stderr}` };
    } catch (err) {
      const { stdout, stderr } = err as { stdout?: string; stderr?: string };
      return { valid: false, output: `${stdout ?? ''}${stderr ?? ''}` || String(err) };
    }
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

function assertInstalled(): void {
  if (!fs.existsSync(HAPROXY_BIN)) {
    throw new Error(`HAProxy is not installed (${HAPROXY_BIN} is missing). Run \`bash setup/setup.sh --test\`, or \`apt-get install haproxy\`.`);
  }
}

export class TestHaproxy {
  readonly #dir: string;
  #options: TestHaproxyOptions;
  #port = 0;
  #statsPort = 0;
  #child: ChildProcess | undefined;
  #output = '';
  #closing: Promise<void> | undefined;

  /** Writes the configuration into a fresh temporary folder, validates it, starts HAProxy and waits until it serves. */
  static async start(options: TestHaproxyOptions): Promise<TestHaproxy> {
    assertInstalled();
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'mimamori-haproxy-'));
    const lb = new TestHaproxy(dir, options);
    live.set(lb, () => lb.#reapSync());
    installExitHandler();
    try {
      if (options.tls === 'self-signed') await lb.#makeCertificate();
      for (let attempt = 1; ; attempt++) {
        lb.#port = await freePort();
        lb.#statsPort = await freePort();
        try {
          await lb.#launch();
          break;
        } catch (err) {
          // Another process may take a port between freePort() and HAProxy binding it.
          if (!/cannot bind|Address already in use/i.test(String(err)) || attempt >= PORT_ATTEMPTS) throw err;
        }
      }
    } catch (err) {
      await lb.close();
      throw err;
    }
    return lb;
  }

  get #certFile(): string {
    return path.join(this.#dir, 'self-signed.pem');
  }

  /** A certificate and key for localhost in one PEM, as HAProxy's `crt` takes them. */
  async #makeCertificate(): Promise<void> {
    if (fs.existsSync(this.#certFile)) return;
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', algorithm: 'sha256' });
    await fsp.writeFile(this.#certFile, `${pems.cert.trim()}\n${pems.private.trim()}\n`, { mode: 0o600 });
  }

  private constructor(dir: string, options: TestHaproxyOptions) {
    this.#dir = dir;
    this.#options = options;
  }

  get port(): number {
    return this.#port;
  }

  /** Where clients connect: https (passthrough and terminate both speak TLS to clients). */
  get url(): string {
    return `https://127.0.0.1:${this.#port}`;
  }

  get statsUrl(): string {
    return `http://127.0.0.1:${this.#statsPort}/`;
  }

  get dir(): string {
    return this.#dir;
  }

  get configFile(): string {
    return path.join(this.#dir, 'haproxy.cfg');
  }

  /** The master's pid while it runs. */
  get pid(): number | undefined {
    return this.#child?.exitCode === null && this.#child.signalCode === null ? this.#child.pid : undefined;
  }

  /** The configuration it runs (or will run at the next start or reload). */
  config(): string {
    return haproxyConfig({
      nodes: this.#options.nodes,
      listen: { host: '127.0.0.1', port: this.#port },
      tls: this.#options.tls === 'self-signed' ? { mode: 'terminate', certFile: this.#certFile } : (this.#options.tls ?? { mode: 'passthrough' }),
      balance: this.#options.balance ?? 'leastconn',
      stats: { host: '127.0.0.1', port: this.#statsPort },
      timeouts: { ...DEFAULT_TIMEOUTS, ...this.#options.timeouts },
      check: { ...TEST_CHECK, ...this.#options.check },
      maxconn: 1000,
      run: 'foreground',
    });
  }

  /** HAProxy's output so far: start-up messages and its log lines. */
  output(): string {
    return this.#output;
  }

  /** Every server of the nodes backend, by name. */
  async servers(): Promise<Record<string, ServerState>> {
    const text = await statsPage(`${this.statsUrl};csv;norefresh`);
    const [head, ...rows] = text.trim().split('\n');
    const columns = head!.replace(/^# /, '').split(',');
    const col = (row: string[], name: string) => row[columns.indexOf(name)] ?? '';
    const out: Record<string, ServerState> = {};
    for (const row of rows.map((r) => r.split(','))) {
      if (col(row, 'pxname') !== 'nodes' || col(row, 'svname') === 'BACKEND') continue;
      out[col(row, 'svname')] = {
        status: col(row, 'status'),
        check: col(row, 'check_status'),
        code: col(row, 'check_code'),
        current: Number(col(row, 'scur')),
        total: Number(col(row, 'stot')),
      };
    }
    return out;
  }

  /** Waits until server `name` is exactly `status` (UP, DOWN); the milliseconds it took. */
  async waitFor(name: string, status: 'UP' | 'DOWN', timeoutMs = 20_000): Promise<number> {
    const started = Date.now();
    let last: ServerState | undefined;
    while (Date.now() - started < timeoutMs) {
      last = (await this.servers())[name];
      if (last?.status === status) return Date.now() - started;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`server ${name} did not become ${status} in ${timeoutMs} ms: ${JSON.stringify(last)}\n${this.#output.slice(-2000)}`);
  }

  /**
   * Applies changed options the way `systemctl reload` does (SIGUSR2 to the master: a new worker
   * takes the listeners; the old one finishes its connections). Validated with `haproxy -c` first.
   */
  async reload(changes: Partial<TestHaproxyOptions> = {}): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) throw new Error('TestHaproxy.reload: HAProxy is not running');
    const previous = this.#options;
    this.#options = { ...previous, ...changes };
    try {
      if (changes.tls === 'self-signed') await this.#makeCertificate();
      const text = this.config();
      const check = await checkConfig(text);
      if (!check.valid) throw new Error(`the new configuration is not valid:\n${check.output}`);
      await fsp.writeFile(this.configFile, text);
    } catch (err) {
      this.#options = previous;
      throw err;
    }
    const loaded = (this.#output.match(/Loading (success|failure)/g) ?? []).length;
    process.kill(pid, 'SIGUSR2');
    const deadline = Date.now() + 20_000;
    while ((this.#output.match(/Loading (success|failure)/g) ?? []).length <= loaded) {
      if (Date.now() > deadline) throw new Error(`HAProxy did not reload in 20 s:\n${this.#output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    if (/Loading failure/.test(this.#output.split('Reloading HAProxy').at(-1)!)) throw new Error(`HAProxy failed to reload:\n${this.#output.slice(-2000)}`);
  }

  /** Stops HAProxy (hard: open connections are cut) and keeps the folder. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => this.#killGroup(), 5000);
    await exited;
    clearTimeout(timer);
  }

  /** Starts it again after stop(), on the same ports. */
  async restart(): Promise<void> {
    if (this.pid !== undefined) throw new Error('TestHaproxy.restart: HAProxy is running; stop() it first');
    await this.#launch();
  }

  /** Stops HAProxy and removes the folder. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.stop();
      } finally {
        live.delete(this);
        await fsp.rm(this.#dir, { recursive: true, force: true });
      }
    })();
    return this.#closing;
  }

  async #launch(): Promise<void> {
    await fsp.writeFile(this.configFile, this.config());
    this.#output += `--- start ${new Date().toISOString()}\n`;
    // -W: master-worker, as Debian's service runs it (reload by SIGUSR2); -db: in the foreground.
    // detached: its own process group, so the exit handler can take master and worker together.
    const child = spawn(HAPROXY_BIN, ['-W', '-db', '-f', this.configFile], { cwd: this.#dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.#child = child;
    child.stdout!.on('data', (d: Buffer) => (this.#output += d));
    child.stderr!.on('data', (d: Buffer) => (this.#output += d));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`HAProxy exited (${child.exitCode ?? child.signalCode}):\n${this.#output}`);
      try {
        await this.servers();
        return;
      } catch {
        // not serving yet
      }
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`HAProxy did not serve its stats page in 20 s:\n${this.#output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** For the 'exit' handler and a stop that hangs: master and workers at once. */
  #killGroup(): void {
    const pid = this.#child?.pid;
    if (pid === undefined || this.#child?.exitCode !== null || this.#child.signalCode !== null) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** For the 'exit' handler: synchronous, best effort. */
  #reapSync(): void {
    this.#killGroup();
    fs.rmSync(this.#dir, { recursive: true, force: true });
  }
}

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    for (const reap of live.values()) {
      try {
        reap();
      } catch {
        // Best effort while exiting: one folder we cannot remove must not keep the next HAProxy running.
      }
    }
    live.clear();
  });
}
