// The embedded S3 server in a child process of its own (the service's default store). In the
// recording process it took about a fifth of the event loop at 150 cameras (s3rver's request
// handling, its MD5 of every body, its file streams and their garbage), time the cameras' packets
// wait for. The child lives only while its parent does (it exits when the IPC channel closes); a
// child that dies is started again on the same port, and the uploader's retries and the spool
// carry the recordings over the pause. Every request must be signed with a key pair made for
// this start, handed over the IPC channel (never in argv or the environment), so another local
// user cannot read, replace or delete objects through the port.
import { fork, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { embeddedS3Options } from './EmbeddedS3.ts';
import { StoreError } from './errors.ts';
import type { S3Credentials } from './sigv4.ts';
import type { S3Options } from './types.ts';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'embeddedS3Child.ts');
/** A child that does not answer its start within this long is killed and the start fails. */
const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const RESTART_PAUSE_MS = [500, 1_000, 2_000, 5_000, 10_000];

/** What the parent sends the child once, and what the child answers. */
export interface ChildStart {
  directory: string;
  host: string;
  port: number;
  bucket: string;
  credentials: S3Credentials;
}
export type ChildAnswer = { ok: true; port: number } | { ok: false; code: string; message: string };

export interface EmbeddedS3ProcessOptions {
  directory: string;
  /** default 127.0.0.1 */
  host?: string;
  /** default 0 (an ephemeral port, kept for restarts) */
  port?: number;
  bucket: string;
  /** The child exited unexpectedly (it is being started again), or a restart failed. */
  onTrouble?: (what: { event: 's3_process_exited' | 's3_process_restart_failed'; code?: number | null; signal?: string | null; error?: string }) => void;
}

export class EmbeddedS3Process {
  readonly #o: EmbeddedS3ProcessOptions & { host: string };
  readonly #credentials: S3Credentials;
  #port: number;
  #child: ChildProcess | undefined;
  #closing: Promise<void> | undefined;
  #restarts = 0;
  #restartTimer: NodeJS.Timeout | undefined;

  private constructor(o: EmbeddedS3ProcessOptions, credentials: S3Credentials) {
    this.#o = { ...o, host: o.host ?? '127.0.0.1' };
    this.#credentials = credentials;
    this.#port = o.port ?? 0;
  }

  static async start(o: EmbeddedS3ProcessOptions): Promise<EmbeddedS3Process> {
    const server = new EmbeddedS3Process(o, { accessKeyId: `MMRL${crypto.randomBytes(12).toString('hex').toUpperCase()}`, secretAccessKey: crypto.randomBytes(30).toString('base64url') });
    await server.#spawn();
    return server;
  }

  /** What S3ObjectStore.create needs to talk to the child. */
  get options(): S3Options {
    return embeddedS3Options(this.#o.host, this.#port, this.#o.bucket, this.#credentials);
  }

  get port(): number {
    return this.#port;
  }

  /** The child's process id (undefined between a crash and its restart). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** How many times the child was started again after it died. */
  get restarts(): number {
    return this.#restarts;
  }

  async #spawn(): Promise<void> {
    const child = fork(CHILD, [], { execArgv: loaderFlags(process.execArgv), stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json' });
    const answer = await new Promise<ChildAnswer>((resolve) => {
      const timer = setTimeout(() => resolve({ ok: false, code: 'timeout', message: `no answer within ${START_TIMEOUT_MS} ms` }), START_TIMEOUT_MS);
      child.once('message', (m) => {
        clearTimeout(timer);
        resolve(m as ChildAnswer);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ ok: false, code: 'exited', message: `the process exited (${signal ?? code}) before it served` });
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        resolve({ ok: false, code: 'spawn', message: err.message });
      });
      const start: ChildStart = { directory: this.#o.directory, host: this.#o.host, port: this.#port, bucket: this.#o.bucket, credentials: this.#credentials };
      child.send(start);
    });
    if (!answer.ok) {
      child.kill('SIGKILL');
      throw new StoreError('failed', `cannot start the embedded S3 server's process on ${this.#o.host}:${this.#port || 'any port'}: ${answer.message}`);
    }
    this.#port = answer.port;
    this.#child = child;
    child.once('exit', (code, signal) => {
      if (this.#child !== child) return;
      this.#child = undefined;
      if (this.#closing) return;
      this.#o.onTrouble?.({ event: 's3_process_exited', code, signal });
      this.#scheduleRestart(0);
    });
  }

  #scheduleRestart(attempt: number): void {
    this.#restartTimer = setTimeout(() => {
      if (this.#closing) return;
      this.#spawn().then(
        () => {
          this.#restarts += 1;
        },
        (error: unknown) => {
          this.#o.onTrouble?.({ event: 's3_process_restart_failed', error: (error as Error).message });
          this.#scheduleRestart(attempt + 1);
        },
      );
    }, RESTART_PAUSE_MS[Math.min(attempt, RESTART_PAUSE_MS.length - 1)]);
  }

  /** Idempotent. The child finishes open requests briefly (its own grace), then exits. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearTimeout(this.#restartTimer);
      const child = this.#child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    })();
    return this.#closing;
  }
}

/**
 * The parent's module loader flags (tsx) and OpenSSL choice, without its debugger or profiler
 * flags (a child must not try to open the same inspector port or write the parent's profile).
 */
function loaderFlags(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const flag = execArgv[i]!;
    if (['--import', '--require', '-r', '--loader', '--experimental-loader'].includes(flag) && i + 1 < execArgv.length) {
      out.push(flag, execArgv[++i]!);
    } else if (/^--(import|require|loader|experimental-loader)=/.test(flag) || flag === '--openssl-legacy-provider' || flag.startsWith('--max-old-space-size')) {
      out.push(flag);
    }
  }
  return out;
}
