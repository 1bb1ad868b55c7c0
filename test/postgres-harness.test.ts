// The PostgreSQL test harness (test/postgres.ts) against a real PostgreSQL 15: connect over TCP with a
// password, survive a stop and restart with the data, a second database, and nothing left behind.
import fs from 'node:fs';
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import pg from 'pg';
import { TestPostgres } from './postgres.ts';

const timings: string[] = [];
async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await fn();
  timings.push(`${label} ${Math.round(performance.now() - started)} ms`);
  return result;
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The error a connection attempt fails with, or undefined when it connects. */
async function connectError(url: string): Promise<NodeJS.ErrnoException | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
  await client.end();
  return undefined;
}

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  assert.unreachable('expected a rejection');
  throw new Error('unreachable');
}

/** The postmaster and its children (backends, checkpointer...), from /proc. */
function serverProcesses(postmaster: number): number[] {
  const pids = [postmaster];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid ...; comm may hold spaces and parentheses, so read after the last ')'.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) pids.push(Number(entry));
    } catch {
      // The process ended while we listed /proc.
    }
  }
  return pids;
}

/** A process that exists and is not a zombie (our container's init may not reap orphans). */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Processes whose command line names our folder (pg_ctl, postgres -D <dir>/data...). */
function processesMentioning(dir: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir) && alive(Number(entry))) found.push(Number(entry));
    } catch {
      // The process ended while we listed /proc.
    }
  }
  return found;
}

test('start, stop (outage), restart with the data, a busy port, a second database, close leaves nothing', async () => {
  const server = await timed('start (initdb + start + CREATE DATABASE)', () => TestPostgres.start());
  let closed = false;
  try {
    const url = new URL(server.url);
    assert.is(url.protocol, 'postgres:');
    assert.is(url.hostname, '127.0.0.1');
    assert.is(Number(url.port), server.port);
    assert.ok(url.password.length >= 16, 'a random password');

    // Password auth over TCP: the URL works, a wrong password does not.
    await withClient(server.url, async (client) => {
      const { rows } = await client.query<{ version: string; method: string }>(
        "SELECT current_setting('server_version_num') AS version, current_setting('password_encryption') AS method",
      );
      assert.match(rows[0]!.version, /^15/);
      assert.is(rows[0]!.method, 'scram-sha-256');
      await client.query('CREATE TABLE cameras (id text PRIMARY KEY, epoch bigint NOT NULL)');
      await client.query("INSERT INTO cameras VALUES ('cam-1', 7)");
    });
    const wrong = new URL(server.url);
    wrong.password = 'not-the-password';
    const authError = await connectError(wrong.href);
    assert.ok(authError, 'a wrong password is refused');
    assert.match(authError.message, /password authentication failed/);

    const postmaster = server.pid;
    assert.ok(postmaster, 'postmaster.pid names the server');
    const processes = serverProcesses(postmaster);
    assert.ok(processes.length > 1, 'the postmaster has children');

    // Outage: the data stays, connections are refused.
    await timed('stop (fast)', () => server.stop());
    assert.is(server.pid, undefined);
    const refused = await connectError(server.url);
    assert.ok(refused, 'connecting to a stopped server fails');
    assert.is(refused.code, 'ECONNREFUSED', String(refused));

    // Someone else on the port: restart fails and says why, with the end of the server log.
    const squatter = net.createServer();
    await new Promise<void>((resolve, reject) => {
      squatter.once('error', reject);
      squatter.listen(server.port, '127.0.0.1', resolve);
    });
    const busy = await rejection(server.restart());
    await new Promise((resolve) => squatter.close(resolve));
    assert.match(busy.message, /did not start/);
    assert.match(busy.message, /could not bind IPv4 address "127\.0\.0\.1": Address already in use/, busy.message);

    await timed('restart', () => server.restart());
    assert.match((await rejection(server.restart())).message, /not stopped/);
    await withClient(server.url, async (client) => {
      const { rows } = await client.query('SELECT id, epoch FROM cameras');
      assert.equal(rows, [{ id: 'cam-1', epoch: '7' }]);
      await client.query("UPDATE cameras SET epoch = 8 WHERE id = 'cam-1'");
    });

    // A crash-like stop keeps committed rows too (fsync is on; recovery on restart).
    await timed('stop (immediate)', () => server.stop('immediate'));
    await timed('restart after immediate stop (crash recovery)', () => server.restart());
    await withClient(server.url, async (client) => {
      const { rows } = await client.query('SELECT epoch FROM cameras');
      assert.equal(rows, [{ epoch: '8' }]);
    });

    // A second database on the same server: fresh and empty.
    assert.instance(await rejection(server.createDatabase('')), TypeError);
    const secondUrl = await timed('createDatabase', () => server.createDatabase('node-b'));
    assert.is(new URL(secondUrl).pathname, '/node-b');
    await withClient(secondUrl, async (client) => {
      const { rows } = await client.query<{ db: string; n: string }>(
        "SELECT current_database() AS db, (SELECT count(*) FROM pg_tables WHERE schemaname = 'public') AS n",
      );
      assert.equal(rows, [{ db: 'node-b', n: '0' }]);
    });

    const postmasterAgain = server.pid;
    assert.ok(postmasterAgain);
    const beforeClose = serverProcesses(postmasterAgain);
    const dir = server.dir;
    assert.ok(fs.existsSync(dir));
    await timed('close', () => server.close());
    closed = true;
    await server.close(); // idempotent

    assert.not.ok(fs.existsSync(dir), 'the temporary folder is gone');
    assert.equal(beforeClose.filter(alive), [], 'no server process remains');
    assert.equal(processes.filter(alive), [], 'no process of the first run remains');
    assert.equal(processesMentioning(dir), [], 'no process names our folder');
    const gone = await connectError(server.url);
    assert.is(gone?.code, 'ECONNREFUSED', String(gone));
  } finally {
    if (!closed) await server.close();
    console.log(`  ${timings.join('; ')}`);
  }
});

test('programmer errors throw TypeError', async () => {
  assert.instance(await rejection(TestPostgres.start({ port: 0 })), TypeError);
  assert.instance(await rejection(TestPostgres.start({ port: 70_000 })), TypeError);
  assert.instance(await rejection(TestPostgres.start({ port: 5432.5 })), TypeError);
});

test.run();
