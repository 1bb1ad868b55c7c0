// `npm run bench -- api`: the REST API under concurrent load (login, token refresh, camera list,
// timeline; the camera list also with an API key, and the µs of checking its answer against its
// documented schema) beside a bare Hono server sending the same body, measured in the same run
// (runs alternated), then N idle authenticated
// socket.io connections: the service's memory per connection and whether requests still answer.
//
// Three kinds of process, so the load generator never shares an event loop with a server: the
// service (test/harness.ts) and the hello-world (api/hello.ts) are children; autocannon runs here;
// the idle sockets are held by api/sockets.ts children (each with its own fd limit). The service's
// memory is read after a full GC through a preloaded probe (api/probe.ts).
// Options: --sockets N (10000), --duration S per route (10), --connections C (20),
// --phases http,sockets (both), --cpu-prof DIR (V8 CPU profile of the service, written on exit),
// --store postgres: also two service nodes on one real PostgreSQL (test/postgres.ts): the camera
// list, login and refresh on a node (its camera list alternating with the files service's, both
// measured in this run), and how long a grant change on node A takes until node B enforces it.
// Prints JSON lines; the last is the summary.
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { io, type Socket } from 'socket.io-client';
import { hashPassword } from '../../signaling/auth.ts';
import { CameraList } from '../../signaling/wire/answers/index.ts';
import { answerProblem, describe, reply } from '../../signaling/wire/index.ts';
import { Hono, type Context } from 'hono';
import { startService, testDatabase, type Service } from '../harness.ts';
import { emit, percentile, round, sleep } from './figures.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  args: process.argv.slice(3),
  options: {
    sockets: { type: 'string', default: process.env.BENCH_API_SOCKETS ?? '10000' },
    duration: { type: 'string', default: process.env.BENCH_API_DURATION ?? '10' },
    connections: { type: 'string', default: process.env.BENCH_API_CONNECTIONS ?? '20' },
    phases: { type: 'string', default: process.env.BENCH_API_PHASES ?? 'http,sockets' },
    'cpu-prof': { type: 'string' },
    store: { type: 'string', default: process.env.BENCH_API_STORE ?? 'files' },
  },
});
if (opts.store !== 'files' && opts.store !== 'postgres') throw new Error(`--store ${opts.store}: use files (the default) or postgres`);
const SOCKETS = Number(opts.sockets);
const DURATION = Number(opts.duration);
const CONNECTIONS = Number(opts.connections);
const PHASES = new Set(opts.phases.split(','));
/** The organisation's cameras: the camera list is measured as one page of them. */
const CAMERAS = 1000;
/** Cameras per page of the measured camera list (GET /api/cameras?limit=). */
const PAGE = 50;
const LIST_PATH = `/api/cameras?limit=${PAGE}`;
/** Cameras made at once while seeding. */
const SEED_CONCURRENCY = 8;
/** Cameras the viewer account is granted (of CAMERAS). */
const GRANTED = 25;
/** Accounts the login load rotates over, so a per-account lockout is not what gets measured. */
const LOGIN_ACCOUNTS = 8;
const LOGIN_PASSWORD = 'amber-harbor-91-kite';
const VIEWER_PASSWORD = 'quiet-lantern-47-moss';
/** scrypt is CPU-bound on the libuv pool (4 threads): more connections only queue. */
const LOGIN_CONNECTIONS = 4;
const REFRESH_CONNECTIONS = Math.min(CONNECTIONS, 16);
/** Idle sockets per load process (ulimit -n is 20000 per process). */
const SOCKETS_PER_PROCESS = 2500;
const RTT_SAMPLES = 100;
/** Alternating bare-server (same body) / camera-list runs (plus a closing bare-server run). */
const PAIR_ROUNDS = 2;
/** Alternating files-store / PostgreSQL-store camera-list runs (the ratio is what is compared). */
const PG_PAIR_ROUNDS = 3;
/** Grant changes (set and revoke, alternately) timed from node A's answer to node B enforcing them. */
const GRANT_CHANGES = 40;


interface Row {
  route: string;
  connections: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  requests: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statuses: Record<string, number>;
}

/** One autocannon run against `url`; with warm-up, a short unrecorded run first (JIT, caches). */
async function load(route: string, options: autocannon.Options, warmup = true): Promise<Row> {
  if (warmup) await autocannon({ ...options, duration: 2 });
  const r = await autocannon(options);
  const statuses = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count ?? 0]));
  const row: Row = {
    route,
    connections: options.connections ?? 10,
    rps: round(r.requests.average),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    requests: r.requests.total,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    statuses,
  };
  emit({ phase: 'http', ...row });
  return row;
}

/** Several runs of one route as one row: mean rate, worst p99, summed counts. */
function combine(runs: Row[]): Row {
  const sum = (f: (r: Row) => number) => runs.reduce((a, r) => a + f(r), 0);
  const statuses: Record<string, number> = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  return {
    route: runs[0]!.route.replace(/ #\d+$/, ''),
    connections: runs[0]!.connections,
    rps: round(sum((r) => r.rps) / runs.length),
    p50_ms: Math.max(...runs.map((r) => r.p50_ms)),
    p99_ms: Math.max(...runs.map((r) => r.p99_ms)),
    requests: sum((r) => r.requests),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    non2xx: sum((r) => r.non2xx),
    statuses,
  };
}

/** Unlabelled samples of the service's Prometheus text (GET /metrics is allowed from loopback). */
async function metrics(svc: Service): Promise<Map<string, number>> {
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_:][a-z0-9_:]*) (\S+)$/i.exec(line);
    if (match) m.set(match[1]!, Number(match[2]));
  }
  return m;
}

interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
}

/** The service's memory after a full GC: the probe writes process.memoryUsage() on SIGUSR2. */
async function serviceMemory(probeDir: string): Promise<Memory> {
  const pid = Number(await fs.readFile(path.join(probeDir, 'pid'), 'utf8'));
  const file = path.join(probeDir, 'memory.json');
  await fs.rm(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 100; i++) {
    await sleep(100);
    const text = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (text) return JSON.parse(text) as Memory;
  }
  throw new Error('the service did not report its memory');
}

function forkChild(file: string): ChildProcess {
  return fork(path.join(here, 'api', file), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}
function nextMessage<T>(child: ChildProcess, accept: (m: any) => boolean): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if (!accept(m)) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m as T);
    };
    const onExit = (code: number | null) => reject(new Error(`child exited (${code}) before answering`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Seconds until a JWT expires (no verification: it is our own, we only schedule a re-login). */
function secondsLeft(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp?: number };
  return (payload.exp ?? 0) - Date.now() / 1000;
}

// Access tokens are short-lived: log in once, and again only when one is about to run out.
class Session {
  #token: string;
  constructor(
    private readonly svc: Service,
    private readonly username: string,
    private readonly password: string,
    token: string,
  ) {
    this.#token = token;
  }
  static async open(svc: Service, username: string, password: string): Promise<Session> {
    return new Session(svc, username, password, await svc.login(username, password));
  }
  async token(): Promise<string> {
    if (secondsLeft(this.#token) < 120) this.#token = await this.svc.login(this.username, this.password);
    return this.#token;
  }
}

async function seed(svc: Service) {
  const cameras: string[] = new Array(CAMERAS);
  let next = 0;
  await Promise.all(
    Array.from({ length: SEED_CONCURRENCY }, async () => {
      while (next < CAMERAS) {
        const i = next++;
        cameras[i] = (await svc.createCamera(`bench camera ${i}`)).id;
      }
    }),
  );
  const viewer = await svc.createUser('bench-viewer', VIEWER_PASSWORD, 'viewer');
  for (const id of cameras.slice(0, GRANTED)) await svc.grant(viewer.id, id);
  const loginUsers: string[] = [];
  for (let i = 0; i < LOGIN_ACCOUNTS; i++) {
    const username = `bench-login-${i}`;
    await svc.createUser(username, LOGIN_PASSWORD, 'viewer');
    loginUsers.push(username);
  }
  return { cameras, loginUsers };
}

let scryptMs: number | null = null;
let validateUs: number | null = null;
let contract = null as { bareUs: number; describedUs: number } | null;

/**
 * µs to check one camera-list answer (50 cameras) against its documented schema, as the service
 * does with MIMAMORI_CHECK_ANSWERS=1 (tests): JSON round trip, parse, no field beyond the schema.
 * Production does not validate answers at run time; this is what it would cost per request.
 */
/**
 * µs the contract adds to one request in production (MIMAMORI_CHECK_ANSWERS off): the describe()
 * middleware and reply() around the same camera-list body, against a bare route answering c.json,
 * in this process through Hono's app.request (no sockets), alternating so drift hits both alike.
 */
async function contractOverhead(listBody: object): Promise<{ bareUs: number; describedUs: number }> {
  const handler = (c: Context) => c.json(listBody);
  const bare = new Hono().get('/api/cameras', handler);
  const doc = { summary: 'List cameras', tag: 'Cameras', auth: ['user'] as const, access: 'anyone', answer: { description: 'The cameras', schema: CameraList } };
  const described = new Hono().get('/api/cameras', describe(doc), (c) => reply(c, CameraList, listBody as never));
  const time = async (app: Hono, n: number) => {
    const t = performance.now();
    for (let i = 0; i < n; i++) await (await app.request('/api/cameras')).arrayBuffer();
    return ((performance.now() - t) * 1000) / n;
  };
  await time(bare, 2000);
  await time(described, 2000);
  // Pairs of short runs, the order flipped each time; the median of the pairs' differences (two
  // medians taken apart let a garbage collection in one side's runs swing the figure by ±8 %).
  const bareRuns: number[] = [];
  const differences: number[] = [];
  for (let round = 0; round < 15; round++) {
    const first = round % 2 === 0 ? bare : described;
    const a = await time(first, 1500);
    const b = await time(first === bare ? described : bare, 1500);
    const [bareUs, describedUs] = first === bare ? [a, b] : [b, a];
    bareRuns.push(bareUs);
    differences.push(describedUs - bareUs);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const bareUs = median(bareRuns);
  return { bareUs, describedUs: bareUs + median(differences) };
}

function validationCost(listBody: unknown): number {
  for (let i = 0; i < 200; i++) answerProblem(CameraList, listBody);
  const n = 2000;
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    const problem = answerProblem(CameraList, listBody);
    if (problem) throw new Error(`the camera list does not match its schema: ${problem}`);
  }
  return ((performance.now() - t) * 1000) / n;
}

async function httpPhase(svc: Service, admin: Session, viewer: Session, cameras: string[], loginUsers: string[]) {
  const hello = forkChild('hello.ts');
  const { port: helloPort } = await nextMessage<{ port: number }>(hello, (m) => typeof m?.port === 'number');
  const helloUrl = `http://127.0.0.1:${helloPort}`;
  const base = { connections: CONNECTIONS, duration: DURATION };
  const rows: Record<string, Row | null> = {};
  const notes: string[] = [];
  const runs = { helloJson: [] as number[], cameraList: [] as number[] };
  try {
    const bearer = async (s: Session) => ({ authorization: `Bearer ${await s.token()}` });
    // The same page's bytes from the bare server: what serialising and sending them costs alone.
    const listBody = (await (await svc.api(LIST_PATH, { headers: await bearer(admin) })).json()) as { cameras: unknown[]; total: number };
    if (listBody.cameras.length !== PAGE || listBody.total !== CAMERAS) throw new Error(`the camera list answered ${listBody.cameras.length} of ${listBody.total} cameras, not a page of ${PAGE} of ${CAMERAS}`);
    hello.send({ json: listBody });
    await nextMessage(hello, (m) => m?.ok === true);
    const viewerList = (await (await svc.api(LIST_PATH, { headers: await bearer(viewer) })).json()) as { cameras: unknown[] };
    emit({ phase: 'setup', cameras: cameras.length, page: PAGE, camera_list_bytes: JSON.stringify(listBody).length, viewer_cameras: viewerList.cameras.length });

    // The comparison the issue asks for, the bare server sending the page's body against the
    // camera list, alternates: the machine is shared, and other load comes and goes within
    // seconds. Rates are the means of the runs, p99 the worst run's.
    const helloJsons: Row[] = [];
    const lists: Row[] = [];
    for (let round = 1; round <= PAIR_ROUNDS; round++) {
      helloJsons.push(await load(`GET /json (bare Hono, the camera-list page's body) #${round}`, { ...base, url: `${helloUrl}/json` }));
      lists.push(await load(`GET ${LIST_PATH} (admin, ${CAMERAS} cameras) #${round}`, { ...base, url: `${svc.url}${LIST_PATH}`, headers: await bearer(admin) }));
    }
    helloJsons.push(await load(`GET /json (bare Hono, the camera-list page's body) #${PAIR_ROUNDS + 1}`, { ...base, url: `${helloUrl}/json` }));
    rows.hello_json = combine(helloJsons);
    rows.cameras_admin = combine(lists);
    runs.helloJson = helloJsons.map((h) => h.rps);
    runs.cameraList = lists.map((l) => l.rps);
    // The list as built each time: a query nobody asked before (an unknown parameter, ignored by
    // the list, changes it), so no page the service kept for the caller can be sent again.
    let fresh = 0;
    rows.cameras_admin_fresh = await load(`GET ${LIST_PATH} (admin, ${CAMERAS} cameras, a new query each time)`, {
      ...base,
      url: svc.url,
      requests: [{ method: 'GET', path: LIST_PATH, headers: await bearer(admin), setupRequest: (req) => ({ ...req, path: `${LIST_PATH}&bench=${fresh++}` }) }],
    });
    rows.hello = await load('GET / (hello-world, bare Hono)', { ...base, url: `${helloUrl}/` });
    rows.cameras_viewer = await load(`GET ${LIST_PATH} (viewer, ${GRANTED} of ${CAMERAS} granted)`, {
      ...base,
      url: `${svc.url}${LIST_PATH}`,
      headers: await bearer(viewer),
    });
    // The same list for an integration's API key (read scope; the per-key rate limit is lifted
    // for the bench, see the service's env), beside the admin's token above.
    const created = await svc.api('/api/api-keys', { method: 'POST', headers: { ...(await bearer(admin)), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench integration', scope: 'read' }) });
    if (created.status !== 201) throw new Error(`creating the bench's API key: ${created.status} ${await created.text()}`);
    const apiKey = ((await created.json()) as { key: string }).key;
    rows.cameras_api_key = await load(`GET ${LIST_PATH} (API key, read scope, ${CAMERAS} cameras)`, { ...base, url: `${svc.url}${LIST_PATH}`, headers: { authorization: `Bearer ${apiKey}` } });
    validateUs = validationCost(listBody);
    contract = await contractOverhead(listBody as object);
    const to = Date.now();
    rows.timeline = await load('GET /api/cameras/:id/timeline (24 h, no recordings)', {
      ...base,
      url: `${svc.url}/api/cameras/${cameras[0]}/timeline?from=${to - 86_400_000}&to=${to}`,
      headers: await bearer(admin),
    });

    rows.refresh = await refreshLoad(svc, loginUsers, notes);

    // Login's floor: the service's own scrypt, one hash at a time, here (the parent is idle now).
    const hashes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await hashPassword('bench-scrypt-baseline');
      hashes.push(performance.now() - t);
    }
    scryptMs = round(percentile(hashes, 50));
    emit({ phase: 'setup', scrypt_ms: scryptMs, login_ceiling_rps: round((Math.min(os.availableParallelism(), 4) * 1000) / scryptMs) });
    rows.login = await loginLoad(svc, loginUsers, LOGIN_PASSWORD);
    // Wrong passwords cost the same scrypt; a lockout or throttle shows here as 429s.
    rows.login_wrong = await loginLoad(svc, loginUsers, 'wrong-password-0', 'POST /api/auth/login (wrong password, expect 401)');
  } finally {
    hello.kill();
  }
  return { rows, notes, runs };
}

/** Sign-ins rotating over the accounts (so a per-account lockout is not what gets measured). */
async function loginLoad(svc: Service, loginUsers: string[], password: string, route = `POST /api/auth/login (scrypt, ${loginUsers.length} accounts rotated)`): Promise<Row> {
  let n = 0;
  const row = await load(
    route,
    {
      connections: LOGIN_CONNECTIONS,
      duration: DURATION,
      url: svc.url,
      requests: [
        {
          method: 'POST',
          path: '/api/auth/login',
          headers: { 'content-type': 'application/json' },
          setupRequest: (req) => ({ ...req, body: JSON.stringify({ username: loginUsers[n++ % loginUsers.length], password }) }),
        },
      ],
    },
    false,
  );
  await sleep(3000); // the service still hashes the requests autocannon abandoned at the end
  return row;
}

/**
 * --store postgres: two nodes on one PostgreSQL. The camera list on node A alternates with the
 * files service's (the machine's load shifts within seconds: the pair is measured side by side);
 * login and refresh on A; then grant changes made on A, each timed until B answers accordingly.
 */
async function postgresPhase(files: Service, filesAdmin: Session) {
  const databaseUrl = await testDatabase();
  const node = (id: string, min: number) =>
    startService({ workers: 1, databaseUrl, env: { MIMAMORI_NODE_ID: id, MIMAMORI_RTC_MIN_PORT: String(min), MIMAMORI_RTC_MAX_PORT: String(min + 999) } });
  const [a, b] = await Promise.all([node('bench-a', 41000), node('bench-b', 43000)]);
  try {
    const { cameras, loginUsers } = await seed(a);
    const admin = await Session.open(a, a.adminUsername, a.adminPassword);
    const base = { connections: CONNECTIONS, duration: DURATION };
    const bearer = async (s: Session) => ({ authorization: `Bearer ${await s.token()}` });
    const filesLists: Row[] = [];
    const pgLists: Row[] = [];
    for (let round = 1; round <= PG_PAIR_ROUNDS; round++) {
      filesLists.push(await load(`GET ${LIST_PATH} (files store, admin, ${CAMERAS} cameras) #${round}`, { ...base, url: `${files.url}${LIST_PATH}`, headers: await bearer(filesAdmin) }));
      pgLists.push(await load(`GET ${LIST_PATH} (PostgreSQL store, admin, ${CAMERAS} cameras) #${round}`, { ...base, url: `${a.url}${LIST_PATH}`, headers: await bearer(admin) }));
    }
    const notes: string[] = [];
    const refresh = await refreshLoad(a, loginUsers, notes);
    const login = await loginLoad(a, loginUsers, LOGIN_PASSWORD, `POST /api/auth/login (PostgreSQL store, scrypt, ${loginUsers.length} accounts rotated)`);

    // A grant set or revoked on A, until B's answer to the viewer says so (polled back to back).
    const viewer = await a.createUser('bench-grant-viewer', VIEWER_PASSWORD, 'viewer');
    const viewerToken = await b.login('bench-grant-viewer', VIEWER_PASSWORD);
    const camera = cameras[GRANTED]!;
    const adminToken = await admin.token();
    const lags: number[] = [];
    for (let i = 0; i < GRANT_CHANGES; i++) {
      const granting = i % 2 === 0;
      const res = await fetch(`${a.url}/api/cameras/${camera}/grants/${viewer.id}`, { method: granting ? 'PUT' : 'DELETE', headers: { authorization: `Bearer ${adminToken}` } });
      if (!res.ok) throw new Error(`grant change on A: ${res.status} ${await res.text()}`);
      const changed = performance.now();
      const want = granting ? 200 : 404;
      for (;;) {
        const seen = await fetch(`${b.url}/api/cameras/${camera}`, { headers: { authorization: `Bearer ${viewerToken}` } });
        await seen.arrayBuffer();
        if (seen.status === want) break;
        if (performance.now() - changed > 10_000) throw new Error(`node B did not enforce a grant change within 10 s (status ${seen.status})`);
      }
      lags.push(performance.now() - changed);
      emit({ phase: 'postgres', step: 'grant_change', granting, ms: round(lags.at(-1)!, 1) });
    }
    return {
      filesList: combine(filesLists),
      pgList: combine(pgLists),
      filesRuns: filesLists.map((r) => r.rps),
      pgRuns: pgLists.map((r) => r.rps),
      login,
      refresh,
      grantChangeP50: round(percentile(lags, 50), 1),
      grantChangeP99: round(percentile(lags, 99), 1),
      grantChangeMax: round(Math.max(...lags), 1),
      notes,
    };
  } finally {
    await a.stop();
    await b.stop();
  }
}

/**
 * POST /api/auth/refresh: refresh tokens are single-use (reusing one revokes its family), so every
 * request takes a token from a pool that the previous answers refill; a failed answer loses one.
 * The pool starts with a login per connection plus spares.
 */
async function refreshLoad(svc: Service, loginUsers: string[], notes: string[]): Promise<Row | null> {
  const pool: string[] = [];
  let refused = 0;
  for (let i = 0; i < REFRESH_CONNECTIONS * 2; i++) {
    const res = await fetch(`${svc.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: loginUsers[i % loginUsers.length], password: LOGIN_PASSWORD }),
    });
    const body = (await res.json()) as { refreshToken?: string };
    if (!res.ok) refused++;
    else if (typeof body.refreshToken === 'string') pool.push(body.refreshToken);
  }
  const probe = await fetch(`${svc.url}/api/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  if (probe.status === 404) {
    notes.push('POST /api/auth/refresh does not exist in this build: refresh_rps is null');
    return null;
  }
  if (pool.length === 0) {
    notes.push(`login returned no refreshToken (${refused} logins refused): refresh not measured`);
    return null;
  }
  const connections = Math.min(REFRESH_CONNECTIONS, pool.length);
  if (refused) notes.push(`${refused} of ${REFRESH_CONNECTIONS * 2} logins for the refresh pool were refused`);
  let exhausted = 0;
  const row = await load(
    `POST /api/auth/refresh (rotating, each token used once)`,
    {
      connections,
      duration: DURATION,
      url: svc.url,
      requests: [
        {
          method: 'POST',
          path: '/api/auth/refresh',
          headers: { 'content-type': 'application/json' },
          setupRequest: (req) => {
            const refreshToken = pool.shift();
            if (refreshToken === undefined) exhausted++;
            // An empty pool (answers failed) sends a token that is sure to be refused: counted as non-2xx.
            return { ...req, body: JSON.stringify({ refreshToken: refreshToken ?? 'exhausted' }) };
          },
          onResponse: (status, body) => {
            if (status !== 200) return;
            const next = (JSON.parse(body) as { refreshToken?: unknown }).refreshToken;
            if (typeof next === 'string') pool.push(next);
          },
        },
      ],
    },
    false,
  );
  if (exhausted) notes.push(`refresh token pool ran dry ${exhausted} times (failed refreshes lose their chain)`);
  return row;
}

/** Request round trips over socket.io: an invalid request's error ack, and join + leave as viewer. */
async function roundTrips(svc: Service, token: string, cameraId: string) {
  const connect = () =>
    new Promise<Socket>((resolve, reject) => {
      const s = io(svc.url, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true });
      s.once('connect', () => resolve(s));
      s.once('connect_error', reject);
    });
  const a = await connect();
  const b = await connect();
  try {
    const invalid: number[] = [];
    const join: number[] = [];
    for (let i = 0; i < RTT_SAMPLES; i++) {
      let t = performance.now();
      const reply = (await a.timeout(10_000).emitWithAck('request', { method: 'nope' })) as { ok: boolean };
      if (reply.ok) throw new Error('an invalid request was accepted');
      invalid.push(performance.now() - t);
      t = performance.now();
      const joined = (await b.timeout(10_000).emitWithAck('request', { method: 'join', data: { cameraId, role: 'viewer' } })) as { ok: boolean; error?: unknown };
      if (!joined.ok) throw new Error(`join failed: ${JSON.stringify(joined.error)}`);
      join.push(performance.now() - t);
      await b.timeout(10_000).emitWithAck('request', { method: 'leave', data: { cameraId } });
      await sleep(10); // stay under the per-connection request rate (50/s, burst 200)
    }
    return {
      invalid_p50_ms: round(percentile(invalid, 50), 2),
      invalid_p99_ms: round(percentile(invalid, 99), 2),
      join_p50_ms: round(percentile(join, 50), 2),
      join_p99_ms: round(percentile(join, 99), 2),
    };
  } finally {
    a.disconnect();
    b.disconnect();
  }
}

async function socketPhase(svc: Service, probeDir: string, viewer: Session, cameraId: string) {
  const rtt0 = await roundTrips(svc, await viewer.token(), cameraId);
  emit({ phase: 'sockets', step: 'round_trips', sockets: 0, ...rtt0 });
  await sleep(2000);
  const mem0 = await serviceMemory(probeDir);
  const before = { rss: mem0.rss, heap: mem0.heapUsed, gauge: (await metrics(svc)).get('mimamori_socket_connections') ?? NaN };
  emit({ phase: 'sockets', step: 'before', rss_mb: round(before.rss / 2 ** 20), heap_mb: round(before.heap / 2 ** 20), server_sockets: before.gauge });

  const token = await viewer.token();
  const children: ChildProcess[] = [];
  const openCpu0 = (await metrics(svc)).get('process_cpu_seconds_total') ?? NaN;
  const t0 = performance.now();
  try {
    const opened: { connected: number; failed: number; errors: Record<string, number>; rssMb: number; seconds: number }[] = [];
    for (let left = SOCKETS; left > 0; left -= SOCKETS_PER_PROCESS) children.push(forkChild('sockets.ts'));
    await Promise.all(
      children.map(async (child, i) => {
        const count = Math.min(SOCKETS_PER_PROCESS, SOCKETS - i * SOCKETS_PER_PROCESS);
        const done = nextMessage<(typeof opened)[number]>(child, (m) => m?.type === 'opened');
        child.send({ cmd: 'open', url: svc.url, token, count, concurrency: 50 });
        opened.push(await done);
      }),
    );
    const openSeconds = (performance.now() - t0) / 1000;
    const connected = opened.reduce((s, o) => s + o.connected, 0);
    const failed = opened.reduce((s, o) => s + o.failed, 0);
    const errors: Record<string, number> = {};
    for (const o of opened) for (const [k, v] of Object.entries(o.errors)) errors[k] = (errors[k] ?? 0) + v;
    // seconds: from fork to the last connection (incl. loading the load process); open_seconds: opening only.
    const openOnly = Math.max(...opened.map((o) => o.seconds));
    // Whether opening is limited by the service: its CPU per connection while they opened.
    const openCpu = ((await metrics(svc)).get('process_cpu_seconds_total') ?? NaN) - openCpu0;
    emit({
      phase: 'sockets',
      step: 'opened',
      connected,
      failed,
      errors,
      seconds: round(openSeconds),
      open_seconds: round(openOnly),
      per_second: round(connected / openOnly),
      service_cpu_pct: round((openCpu / openSeconds) * 100),
      service_cpu_ms_per_connect: connected ? round((openCpu * 1000) / connected, 2) : NaN,
      load_process_rss_mb: opened.map((o) => o.rssMb),
    });

    await sleep(3000);
    const mem1 = await serviceMemory(probeDir);
    const m1 = await metrics(svc);
    const cpu0 = m1.get('process_cpu_seconds_total') ?? NaN;
    const after = { rss: mem1.rss, heap: mem1.heapUsed, gauge: m1.get('mimamori_socket_connections') ?? NaN };
    const rtt = await roundTrips(svc, await viewer.token(), cameraId);
    // Idle cost: socket.io's heartbeat (pingInterval 25 s) over every connection.
    const idleStart = performance.now();
    await sleep(10_000);
    const cpu1 = (await metrics(svc)).get('process_cpu_seconds_total') ?? NaN;
    const idleCpuPct = round(((cpu1 - cpu0) / ((performance.now() - idleStart) / 1000)) * 100);
    const still = await Promise.all(
      children.map((c) => {
        const reply = nextMessage<{ connected: number; disconnects: number }>(c, (m) => m?.type === 'count');
        c.send({ cmd: 'count' });
        return reply;
      }),
    );
    const stillConnected = still.reduce((s, x) => s + x.connected, 0);
    const disconnects = still.reduce((s, x) => s + x.disconnects, 0);
    const result = {
      sockets: connected,
      failed,
      server_sockets: after.gauge - before.gauge,
      still_connected: stillConnected,
      disconnects,
      rss_mb: round(after.rss / 2 ** 20),
      heap_mb: round(after.heap / 2 ** 20),
      kb_per_socket: connected ? round((after.rss - before.rss) / connected / 1024, 2) : NaN,
      heap_kb_per_socket: connected ? round((after.heap - before.heap) / connected / 1024, 2) : NaN,
      idle_cpu_pct: idleCpuPct,
      ...rtt,
      invalid_p99_ms_idle: rtt0.invalid_p99_ms,
      join_p99_ms_idle: rtt0.join_p99_ms,
    };
    emit({ phase: 'sockets', step: 'after', ...result });
    return result;
  } finally {
    for (const c of children) {
      c.send({ cmd: 'close' });
    }
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  }
}

const cpuProf = opts['cpu-prof'];
const probeDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-bench-api-'));
const svc = await startService({
  workers: 1,
  env: {
    NODE_OPTIONS: `--import tsx --import ${path.join(here, 'api', 'probe.ts')}`,
    MIMAMORI_BENCH_PROBE_DIR: probeDir,
    // One API key is loaded as hard as a user's token: its per-key limit would measure 429s.
    MIMAMORI_API_KEY_RATE: '100000',
    MIMAMORI_API_KEY_BURST: '100000',
    ...(cpuProf ? { MIMAMORI_BENCH_CPU_PROF_DIR: path.resolve(cpuProf) } : {}),
  },
}).catch(async (error: unknown) => {
  await fs.rm(probeDir, { recursive: true, force: true });
  throw error;
});
try {
  const { cameras, loginUsers } = await seed(svc);
  const admin = await Session.open(svc, svc.adminUsername, svc.adminPassword);
  const viewer = await Session.open(svc, 'bench-viewer', VIEWER_PASSWORD);
  // Sockets first: the login phases may trip a lockout, and the sockets need a login.
  const sock = PHASES.has('sockets') ? await socketPhase(svc, probeDir, viewer, cameras[0]!) : undefined;
  const http = PHASES.has('http') ? await httpPhase(svc, admin, viewer, cameras, loginUsers) : undefined;
  const pg = opts.store === 'postgres' ? await postgresPhase(svc, admin) : undefined;
  // (--phases none --store postgres: the PostgreSQL figures alone.)
  const r = http?.rows ?? {};
  const helloRps = r.hello?.rps ?? null;
  const failures = Object.fromEntries(
    Object.entries(r)
      .filter(([k, row]) => row && k !== 'login_wrong' && (row.errors || row.timeouts || row.non2xx))
      .map(([k, row]) => [k, { errors: row!.errors, timeouts: row!.timeouts, non2xx: row!.non2xx }]),
  );
  emit({
    bench: 'api',
    login_rps: r.login?.rps ?? null,
    camera_list_rps: r.cameras_admin?.rps ?? null,
    camera_list_p99_ms: r.cameras_admin?.p99_ms ?? null,
    hello_rps: helloRps,
    sockets: sock?.sockets ?? null,
    kb_per_socket: sock?.kb_per_socket ?? null,
    refresh_rps: r.refresh?.rps ?? null,
    camera_list_viewer_rps: r.cameras_viewer?.rps ?? null,
    api_key_rps: r.cameras_api_key?.rps ?? null,
    api_key_p99_ms: r.cameras_api_key?.p99_ms ?? null,
    api_key_over_token: r.cameras_api_key && r.cameras_admin ? round(r.cameras_api_key.rps / r.cameras_admin.rps, 2) : null,
    openapi_validate_us: validateUs === null ? null : round(validateUs, 1),
    // What validating every answer would cost the camera list at its measured rate (one core: µs per second used).
    openapi_validate_cost_pct: validateUs !== null && r.cameras_admin ? round((validateUs * r.cameras_admin.rps) / 10_000, 1) : null,
    // The contract as it runs in production (answers typed, not parsed): describe() + reply() per request.
    contract_route_us: contract ? round(contract.describedUs, 2) : null,
    bare_route_us: contract ? round(contract.bareUs, 2) : null,
    contract_cost_pct: contract && r.cameras_admin ? round(((contract.describedUs - contract.bareUs) * r.cameras_admin.rps) / 10_000, 2) : null,
    contract_cost_goal_pct: 5,
    timeline_rps: r.timeline?.rps ?? null,
    timeline_p99_ms: r.timeline?.p99_ms ?? null,
    hello_json_rps: r.hello_json?.rps ?? null,
    hello_p99_ms: r.hello?.p99_ms ?? null,
    hello_json_rps_runs: http?.runs.helloJson ?? null,
    camera_list_rps_runs: http?.runs.cameraList ?? null,
    hello_over_camera_list: helloRps && r.cameras_admin ? round(helloRps / r.cameras_admin.rps, 2) : null,
    // The goal: a page of the list at ≥ 0.8× the bare server sending the same body.
    camera_list_over_hello_json: r.hello_json && r.cameras_admin ? round(r.cameras_admin.rps / r.hello_json.rps, 2) : null,
    camera_list_over_hello_json_goal: 0.8,
    camera_list_page: PAGE,
    // Pages the service kept for the caller are sent again while nothing changed; the bench asks the
    // same page over and over. A page built anew each time (another query every request):
    camera_list_fresh_rps: r.cameras_admin_fresh?.rps ?? null,
    camera_list_fresh_over_hello_json: r.hello_json && r.cameras_admin_fresh ? round(r.cameras_admin_fresh.rps / r.hello_json.rps, 2) : null,
    camera_list_cameras: CAMERAS,
    login_p99_ms: r.login?.p99_ms ?? null,
    scrypt_ms: scryptMs,
    login_wrong_rps: r.login_wrong?.rps ?? null,
    login_wrong_statuses: r.login_wrong?.statuses ?? null,
    connections: CONNECTIONS,
    // Errors, timeouts and non-2xx over every route but the wrong-password one (where 401 is the point).
    errors_total: Object.values(failures).reduce((a, f) => a + f.errors + f.timeouts + f.non2xx, 0),
    failures,
    socket_failed: sock?.failed ?? null,
    server_sockets: sock?.server_sockets ?? null,
    heap_kb_per_socket: sock?.heap_kb_per_socket ?? null,
    socket_idle_cpu_pct: sock?.idle_cpu_pct ?? null,
    socket_request_p99_ms: sock?.invalid_p99_ms ?? null,
    socket_join_p99_ms: sock?.join_p99_ms ?? null,
    socket_request_p99_ms_idle: sock?.invalid_p99_ms_idle ?? null,
    ...(pg
      ? {
          store: 'postgres',
          pg_camera_list_rps: pg.pgList.rps,
          files_camera_list_rps_beside_pg: pg.filesList.rps,
          pg_over_files_camera_list: round(pg.pgList.rps / pg.filesList.rps, 2),
          pg_camera_list_p99_ms: pg.pgList.p99_ms,
          pg_camera_list_rps_runs: pg.pgRuns,
          files_camera_list_rps_runs_beside_pg: pg.filesRuns,
          pg_login_rps: pg.login.rps,
          pg_refresh_rps: pg.refresh?.rps ?? null,
          pg_refresh_p99_ms: pg.refresh?.p99_ms ?? null,
          pg_grant_change_ms_p50: pg.grantChangeP50,
          pg_grant_change_ms_p99: pg.grantChangeP99,
          pg_grant_change_ms_max: pg.grantChangeMax,
          pg_errors_total: [pg.pgList, pg.login, pg.refresh].reduce((n, row) => n + (row ? row.errors + row.timeouts + row.non2xx : 0), 0),
        }
      : {}),
    notes: [...(http?.notes ?? []), ...(pg?.notes ?? [])],
  });
} finally {
  await svc.stop();
  await fs.rm(probeDir, { recursive: true, force: true });
}
