// A real, throwaway PostgreSQL 15 server for tests: initdb into a fresh temporary folder, started on
// 127.0.0.1 and its own port, with password (SCRAM) authentication over TCP. No mock database.
//
//   const pg = await TestPostgres.start();
//   try { ...connect to pg.url... } finally { await pg.close(); }
//
// stop() and restart() keep the data, to test a database outage and recovery. The binaries are
// Debian's postgresql-15 (installed by `bash setup/setup.sh --test`), found in their fixed folder,
// never on PATH; the default cluster 15/main that package creates is never used.
//
// PostgreSQL refuses to run as root: as root, every server program runs as Debian's unprivileged
// `postgres` system user (runuser) and the temporary folder belongs to it. Otherwise they run as the
// current user.
//
// A test that forgets close() or crashes leaves no server behind where avoidable: a process 'exit'
// handler stops every server still running (pg_ctl stop -m immediate) and removes its folder. Death
// by a signal (SIGKILL, an unhandled SIGINT) skips 'exit' handlers; those leave a server running.
import { execFile, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

/** Where Debian's postgresql-15 puts initdb, pg_ctl and postgres. */
export const PG_BIN = '/usr/lib/postgresql/15/bin';

const SUPERUSER = 'mimamori';
const DEFAULT_DATABASE = 'mimamori';
/** The unprivileged account that runs the server when the tests run as root (Debian's package creates it). */
const SERVER_USER = 'postgres';
/** How many free ports start() tries when another process takes the one it picked first. */
const PORT_ATTEMPTS = 3;

// Suited to tests on a small (2-core) machine. fsync stays on: tests of an outage or an
// immediate stop see real durability. After an immediate stop, the server flushes its whole data
// folder before crash recovery; syncfs does that in one call (~0.5 s here) instead of an fsync per
// file (~3 s), with the same guarantee.
const SETTINGS: Record<string, string> = {
  listen_addresses: "'127.0.0.1'",
  shared_buffers: "'32MB'",
  max_connections: '200',
  log_min_messages: 'warning',
  recovery_init_sync_method: 'syncfs',
};

export interface TestPostgresOptions {
  /** Port on 127.0.0.1; by default a free one. */
  port?: number;
  /**
   * Listen on this address too and let clients of `network` (CIDR) in with a password: nodes in
   * network namespaces the test made reach the server through their bridge.
   */
  alsoListen?: { address: string; network: string };
}

export type StopMode = 'fast' | 'immediate';

type State = 'running' | 'stopped' | 'closed';

const execFileAsync = promisify(execFile);
const asRoot = () => process.getuid?.() === 0;

/** Servers not yet closed, each with its synchronous clean-up, for the 'exit' handler. */
const live = new Map<TestPostgres, () => void>();
let exitHandlerInstalled = false;

export class TestPostgres {
  readonly #dir: string;
  readonly #password: string;
  #port: number;
  #state: State = 'stopped';
  #closing: Promise<void> | undefined;

  /**
   * initdb into a fresh temporary folder, start the server on 127.0.0.1 and a free port (or
   * options.port) and create the database `url` names. Throws an Error with the end of the server
   * log when the server does not start.
   */
  static async start(options: TestPostgresOptions = {}): Promise<TestPostgres> {
    const { port } = options;
    if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
      throw new TypeError(`port must be an integer in 1..65535, got ${String(port)}`);
    }
    checkBinaries();
    const dir = await makeDir();
    const password = crypto.randomBytes(24).toString('base64url');
    try {
      await initdb(dir, password, options.alsoListen);
    } catch (err) {
      await fsp.rm(dir, { recursive: true, force: true });
      throw err;
    }
    const server = new TestPostgres(dir, password, port ?? 0);
    live.set(server, () => server.#reapSync());
    installExitHandler();
    try {
      for (let attempt = 1; ; attempt++) {
        if (port === undefined) server.#port = await freePort();
        await writePort(dir, server.#port);
        try {
          await server.#pgCtlStart();
          break;
        } catch (err) {
          // Another process may take the port between freePort() and the server binding it.
          const portTaken = /could not bind|Address already in use/i.test(String(err));
          if (port !== undefined || !portTaken || attempt >= PORT_ATTEMPTS) throw err;
        }
      }
      server.#state = 'running';
      await server.createDatabase(DEFAULT_DATABASE);
    } catch (err) {
      await server.close().catch((closeErr: unknown) => {
        throw new AggregateError([err, closeErr], `${(err as Error).message}; then close() failed too`);
      });
      throw err;
    }
    return server;
  }

  private constructor(dir: string, password: string, port: number) {
    this.#dir = dir;
    this.#password = password;
    this.#port = port;
  }

  /** postgres://USER:PASSWORD@127.0.0.1:PORT/mimamori, the superuser, password auth over TCP. */
  get url(): string {
    return this.#urlFor(DEFAULT_DATABASE);
  }

  get port(): number {
    return this.#port;
  }

  /** The temporary folder: data/ (the cluster), server.log, and the Unix socket. Gone after close(). */
  get dir(): string {
    return this.#dir;
  }

  /** PID of the postmaster while it runs (from postmaster.pid), else undefined. */
  get pid(): number | undefined {
    if (this.#state !== 'running') return undefined;
    try {
      const pid = Number(fs.readFileSync(this.#pidFile, 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** The server log so far (for a failing test's message); '' after close(). */
  log(): string {
    try {
      return fs.readFileSync(path.join(this.#dir, 'server.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Creates a fresh, empty database on this server and returns its URL (same user and password). */
  async createDatabase(name: string): Promise<string> {
    if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name) > 63) {
      throw new TypeError(`database name must be 1..63 bytes, got ${JSON.stringify(name)}`);
    }
    this.#assertRunning('createDatabase');
    const client = new pg.Client({ connectionString: this.#urlFor('postgres') });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
    } finally {
      await client.end();
    }
    return this.#urlFor(name);
  }

  /**
   * Stops the server and keeps its data, to simulate a database outage. 'fast' (the default)
   * disconnects clients and shuts down cleanly; 'immediate' is like a crash (recovery on restart).
   */
  async stop(mode: StopMode = 'fast'): Promise<void> {
    if (mode !== 'fast' && mode !== 'immediate') throw new TypeError(`stop mode must be 'fast' or 'immediate', got ${String(mode)}`);
    this.#assertRunning('stop');
    await this.#pgCtl(['stop', '-w', '-m', mode, '-D', path.join(this.#dir, 'data')]);
    this.#state = 'stopped';
  }

  /** Starts the stopped server again, on the same port with the same data. */
  async restart(): Promise<void> {
    if (this.#state !== 'stopped') throw new Error(`TestPostgres.restart: the server is ${this.#state}, not stopped`);
    await this.#pgCtlStart();
    this.#state = 'running';
  }

  /**
   * Stops the server (immediate: the data is thrown away anyway) if a postmaster runs, whatever
   * state we believe it is in, and removes the temporary folder. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = 'closed';
      try {
        if (fs.existsSync(this.#pidFile)) {
          await this.#pgCtl(['stop', '-w', '-m', 'immediate', '-D', path.join(this.#dir, 'data')]).catch((err: unknown) => {
            // A postmaster killed from outside leaves its pid file behind: nothing left to stop.
            if (!/No such process/.test(String(err))) throw err;
          });
        }
      } finally {
        live.delete(this);
        await fsp.rm(this.#dir, { recursive: true, force: true });
      }
    })();
    return this.#closing;
  }

  get #pidFile(): string {
    return path.join(this.#dir, 'data', 'postmaster.pid');
  }

  #urlFor(database: string): string {
    const user = encodeURIComponent(SUPERUSER);
    return `postgres://${user}:${encodeURIComponent(this.#password)}@127.0.0.1:${this.#port}/${encodeURIComponent(database)}`;
  }

  #assertRunning(what: string): void {
    if (this.#state !== 'running') throw new Error(`TestPostgres.${what}: the server is ${this.#state}`);
  }

  async #pgCtlStart(): Promise<void> {
    const logFile = path.join(this.#dir, 'server.log');
    try {
      await this.#pgCtl(['start', '-w', '-t', '30', '-D', path.join(this.#dir, 'data'), '-l', logFile]);
    } catch (err) {
      const tail = this.log().split('\n').slice(-30).join('\n');
      throw new Error(`PostgreSQL did not start on 127.0.0.1:${this.#port}: ${(err as Error).message}\n--- end of ${logFile}:\n${tail}`, {
        cause: err,
      });
    }
  }

  #pgCtl(args: string[]): Promise<void> {
    return run('pg_ctl', args, this.#dir);
  }

  /** For the 'exit' handler: synchronous, best effort. */
  #reapSync(): void {
    if (fs.existsSync(this.#pidFile)) {
      const [file, args] = command('pg_ctl', ['stop', '-m', 'immediate', '-D', path.join(this.#dir, 'data')]);
      spawnSync(file, args, { cwd: this.#dir, env: serverEnv(), stdio: 'ignore', timeout: 10_000 });
    }
    this.#state = 'closed';
    fs.rmSync(this.#dir, { recursive: true, force: true });
  }
}

function checkBinaries(): void {
  for (const program of ['initdb', 'pg_ctl', 'postgres']) {
    if (!fs.existsSync(path.join(PG_BIN, program))) {
      throw new Error(
        `PostgreSQL 15 is not installed (${path.join(PG_BIN, program)} is missing). ` +
          'Run `bash setup/setup.sh --test`, or `apt-get install postgresql-15`.',
      );
    }
  }
  if (asRoot() && spawnSync('id', ['-u', SERVER_USER], { stdio: 'ignore' }).status !== 0) {
    throw new Error(
      `PostgreSQL refuses to run as root and there is no '${SERVER_USER}' user to run it as. ` +
        'Install Debian\'s package (`apt-get install postgresql-15`), which creates it, or run the tests as an unprivileged user.',
    );
  }
}

/** A fresh 0700 folder, owned by the user the server runs as. */
async function makeDir(): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'mimamori-pg-'));
  await fsp.chmod(dir, 0o700);
  if (asRoot()) {
    const { uid, gid } = serverUser();
    await fsp.chown(dir, uid, gid);
  }
  return dir;
}

function serverUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(spawnSync('id', [flag, SERVER_USER], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

async function initdb(dir: string, password: string, alsoListen?: TestPostgresOptions['alsoListen']): Promise<void> {
  const pwfile = path.join(dir, 'pwfile');
  await fsp.writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (asRoot()) {
    const { uid, gid } = serverUser();
    await fsp.chown(pwfile, uid, gid);
  }
  try {
    await run('initdb', [
      '-D', path.join(dir, 'data'),
      '-U', SUPERUSER,
      `--pwfile=${pwfile}`,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '-E', 'UTF8',
      `--locale=${utf8Locale() ? 'C.UTF-8' : 'C'}`,
      '--no-sync', // only initdb's final flush of the new files; the server itself keeps fsync on
      '--no-instructions',
    ], dir);
  } finally {
    await fsp.rm(pwfile, { force: true });
  }
  // initdb of PostgreSQL 15 has no -c: append the settings (later lines win).
  const settings = {
    ...SETTINGS,
    unix_socket_directories: `'${dir.replaceAll("'", "''")}'`,
    ...(alsoListen ? { listen_addresses: `'127.0.0.1,${alsoListen.address}'` } : {}),
  };
  if (alsoListen) await fsp.appendFile(path.join(dir, 'data', 'pg_hba.conf'), `host all all ${alsoListen.network} scram-sha-256\n`);
  const lines = Object.entries(settings).map(([key, value]) => `${key} = ${value}`);
  await fsp.appendFile(path.join(dir, 'data', 'postgresql.conf'), `\n# test/postgres.ts\n${lines.join('\n')}\n`);
}

async function writePort(dir: string, port: number): Promise<void> {
  await fsp.appendFile(path.join(dir, 'data', 'postgresql.conf'), `port = ${port}\n`);
}

let utf8LocaleCache: boolean | undefined;
function utf8Locale(): boolean {
  utf8LocaleCache ??= /^c\.utf-?8$/im.test(spawnSync('locale', ['-a'], { encoding: 'utf8' }).stdout ?? '');
  return utf8LocaleCache;
}

/** The command line for one of PostgreSQL's programs: through runuser when we are root. */
function command(program: string, args: string[]): [string, string[]] {
  const file = path.join(PG_BIN, program);
  return asRoot() ? ['runuser', ['-u', SERVER_USER, '--', file, ...args]] : [file, args];
}

/** Our environment minus PG* variables (PGDATA, PGPORT, PGOPTIONS...) that would steer the programs. */
function serverEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PG')));
}

async function run(program: string, args: string[], cwd: string): Promise<void> {
  const [file, argv] = command(program, args);
  try {
    // cwd: the server user may not be allowed into ours.
    await execFileAsync(file, argv, { cwd, env: serverEnv(), timeout: 60_000 });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    const output = `${stdout ?? ''}${stderr ?? ''}`.trim();
    throw new Error(`${program} ${args[0] ?? ''} failed: ${output || (err as Error).message}`, { cause: err });
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    for (const reap of live.values()) {
      try {
        reap();
      } catch {
        // Best effort while exiting: one folder we cannot remove must not keep the next server running.
      }
    }
    live.clear();
  });
}
