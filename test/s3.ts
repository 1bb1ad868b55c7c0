// `mimamori s3` as an operator runs it, as a child process on loopback, for tests of several
// nodes sharing one store. The settings it prints are parsed back, as a person would copy them.
//
//   const s3 = await S3Process.start();
//   try { ...startService({ env: s3.env })... } finally { await s3.close(); }
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface S3ProcessOptions {
  /** Serve this folder (kept) instead of a fresh temporary one (removed by close()). */
  folder?: string;
  /** Default 0: any free port (a restart keeps the one it got). */
  port?: number;
  /** More command-line options. */
  args?: string[];
}

/** Started by start(), not yet closed: killed by the 'exit' handler should a test forget. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Runs `mimamori s3 ARGS` until it prints its settings (or exits); its output so far. */
export function runS3Command(args: string[], env: Record<string, string> = {}): { child: ChildProcess; ready: Promise<{ stdout: string; stderr: string; code: number | null }> } {
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', path.join(ROOT, 'bin', 'mimamori.ts'), 's3', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let stdout = '';
  let stderr = '';
  const ready = new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mimamori s3 printed no settings in 20 s:\n${stdout}${stderr}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d;
      if (/SECRET_ACCESS_KEY=.*\n[\s\S]*private network/.test(stdout)) {
        clearTimeout(timer);
        resolve({ stdout, stderr, code: null });
      }
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
  });
  return { child, ready };
}

/** The value of `NAME=value` in printed settings. */
export function setting(output: string, name: string): string | undefined {
  return new RegExp(`^\\s*${name}=(.*)$`, 'm').exec(output)?.[1];
}

export class S3Process {
  readonly #folder: string;
  readonly #ownFolder: boolean;
  readonly #args: string[];
  #port: number;
  #child: ChildProcess | undefined;
  #output = '';
  #env: Record<string, string> = {};
  /** The secret printed at the first start (later starts print where it is kept). */
  #secret = '';

  static async start(options: S3ProcessOptions = {}): Promise<S3Process> {
    const folder = options.folder ?? (await fsp.mkdtemp(path.join(os.tmpdir(), 'mimamori-s3-')));
    const s3 = new S3Process(folder, options.folder === undefined, options.port ?? 0, options.args ?? []);
    await s3.restart();
    return s3;
  }

  private constructor(folder: string, ownFolder: boolean, port: number, args: string[]) {
    this.#folder = folder;
    this.#ownFolder = ownFolder;
    this.#port = port;
    this.#args = args;
  }

  get folder(): string {
    return this.#folder;
  }

  get port(): number {
    return this.#port;
  }

  /** MIMAMORI_S3_* as printed, with the secret from the first start. */
  get env(): Record<string, string> {
    return { ...this.#env, MIMAMORI_S3_SECRET_ACCESS_KEY: this.#secret };
  }

  get pid(): number | undefined {
    return this.#child?.exitCode === null ? this.#child.pid : undefined;
  }

  output(): string {
    return this.#output;
  }

  /** Starts it (again), on the same port and folder. */
  async restart(): Promise<void> {
    if (this.pid !== undefined) throw new Error('S3Process.restart: it is running; stop() it first');
    const { child, ready } = runS3Command(['--folder', this.#folder, '--port', String(this.#port), ...this.#args]);
    this.#child = child;
    const { stdout, stderr, code } = await ready;
    this.#output += stdout + stderr;
    child.stdout!.on('data', (d: Buffer) => (this.#output += d));
    child.stderr!.on('data', (d: Buffer) => (this.#output += d));
    if (code !== null) throw new Error(`mimamori s3 exited with ${code}:\n${stdout}${stderr}`);
    const endpoint = setting(stdout, 'MIMAMORI_S3_ENDPOINT')!;
    this.#port = Number(new URL(endpoint).port);
    const secret = setting(stdout, 'MIMAMORI_S3_SECRET_ACCESS_KEY')!;
    if (!secret.startsWith('(')) this.#secret = secret;
    this.#env = Object.fromEntries(['ENDPOINT', 'BUCKET', 'REGION', 'FORCE_PATH_STYLE', 'ACCESS_KEY_ID'].map((n) => [`MIMAMORI_S3_${n}`, setting(stdout, `MIMAMORI_S3_${n}`)!]));
  }

  /** Sends `signal` and waits for the exit: its exit code (or signal name). SIGKILL after 5 s. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string | null> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig)));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const result = await exited;
    clearTimeout(timer);
    return result;
  }

  /** Stops it and removes the folder it made. Idempotent. */
  async close(): Promise<void> {
    await this.stop();
    if (this.#ownFolder && fs.existsSync(this.#folder)) await fsp.rm(this.#folder, { recursive: true, force: true });
  }
}
