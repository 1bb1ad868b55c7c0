// Metadata backups against the real parts: the service (child process) with its S3 on an embedded
// S3 server of its own folder outside the data dir (as in production, where S3 is a separate
// service), a werift camera recorded through mediasoup, the `mimamori` command line as a child
// process. Back up, wipe the data dir, restore, start again: users, grants, cameras and the
// recording are back, and the recording decodes. Which generations are kept: a table of named
// cases for the pure decision, six years simulated, and dated generations through the real S3.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Backups, backUp, decideRetention, DEFAULT_RETENTION, isMetadata, listGenerations, monthOf, openBackup, type Generation, type KeptAs, type Retention } from '../backup/index.ts';
import { Camera } from '../camera/index.ts';
import { ConfigError, loadConfig } from '../config/index.ts';
import { MasterKeys } from '../recorder/seal/index.ts';
import { EmbeddedS3, S3ObjectStore, type ObjectStore } from '../recorder/store/index.ts';
import { cli as runCli, freePort, startService, type Service } from './harness.ts';
import { decodeErrors, ffprobe } from './recordings.ts';

const BUCKET = 'backup-test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The master key lives outside the data dir (the operator keeps it); a second one of the same id
// stands for "the key of another machine".
const MASTER_KEYS = `mk-backup-test:${crypto.randomBytes(32).toString('base64')}`;
const OTHER_MASTER_KEYS = `mk-backup-test:${crypto.randomBytes(32).toString('base64')}`;

let s3: EmbeddedS3;
let store: S3ObjectStore;
let s3Dir: string;
let dataDir: string;
let tmp: string;
let svc: Service | undefined;
let cam: { id: string; secret: string };
let backDoor: { id: string; secret: string };
let recordedFromMs = 0;
let recordedToMs = 0;
const hana = { username: 'hana', password: 'blue-teapot-7781', id: '' };
const kenji = { username: 'kenji', password: 'quiet-harbor-2049', id: '' };

const serviceEnv = (): Record<string, string> => ({
  MIMAMORI_S3_ENDPOINT: `http://127.0.0.1:${s3.port}`,
  MIMAMORI_S3_BUCKET: BUCKET,
  MIMAMORI_S3_ACCESS_KEY_ID: s3.options.accessKeyId,
  MIMAMORI_S3_SECRET_ACCESS_KEY: s3.options.secretAccessKey,
  MIMAMORI_DATA_DIR: dataDir,
  MIMAMORI_MASTER_KEYS: MASTER_KEYS,
  MIMAMORI_SEGMENT_SECONDS: '2',
  MIMAMORI_BACKUP_DELAY_SECONDS: '1',
});

/** `mimamori ARGS` as an operator runs it, with the service's settings. */
const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { ...serviceEnv(), ...env });

async function json<T>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  assert.is(res.status, status, `${res.url}: ${text}`);
  return JSON.parse(text) as T;
}

async function drained(s: Service): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = (await (await s.api('/api/recorder')).json()) as { upload: { queued: number }; spoolBytes: number; cameras: { recording: boolean }[] };
    if (!status.cameras.some((c) => c.recording) && status.upload.queued === 0 && status.spoolBytes === 0) return;
    if (Date.now() > deadline) throw new Error(`uploads did not finish: ${JSON.stringify(status)}`);
    await sleep(250);
  }
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const dirEntries = async (dir: string) => (await fs.readdir(dir)).sort();

test.before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-backup-'));
  s3Dir = path.join(tmp, 's3');
  dataDir = path.join(tmp, 'data');
  s3 = await EmbeddedS3.start({ directory: s3Dir, bucket: BUCKET });
  store = await S3ObjectStore.create({ ...s3.options, createBucket: true });
  svc = await startService({ env: serviceEnv() });
});

test.after(async () => {
  await svc?.stop();
  store?.close();
  await s3?.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

test('what is metadata: everything but video, caches, the master key, process ids and temporary files', () => {
  for (const p of ['db.json', 'secrets.json', 'accounts.json', 'audit/2026-11-27.jsonl', 'tls/self-signed-key.pem', 'turn/secret.json', 'something-new.json', 'new/folder/file']) {
    assert.ok(isMetadata(p), p);
  }
  for (const p of ['spool/cam/x.part', 'index/cam/1.summary.json', 's3/mimamori/backups/x.mmb', 'master-keys.json', 'service.pid', 'turn/turnserver.pid', 'turn/turndb', '.db.json.tmp', 'audit/.x.tmp', '.restore-ab12/0']) {
    assert.not.ok(isMetadata(p), p);
  }
});

// Which generations stay. Names here are the backups' UTC times; every generation not listed in
// `kept` is expected to be deleted.
const DAY_MS = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
/** n backups a day apart at 03:00 UTC from the day `from` */
const days = (from: string, n: number) => Array.from({ length: n }, (_, i) => iso(Date.parse(`${from}T03:00:00.000Z`) + i * DAY_MS));
/** the first of every month at 03:00 UTC, `from` (YYYY-MM) to `to` inclusive */
function monthFirsts(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = new Date(`${from}-01T03:00:00.000Z`); iso(d.getTime()).slice(0, 7) <= to; d.setUTCMonth(d.getUTCMonth() + 1)) out.push(iso(d.getTime()));
  return out;
}
const dated = (names: readonly string[]) => names.map((name) => ({ name, atMs: Date.parse(name) }));
const verdictsByName = (names: readonly string[], retention: Retention) =>
  Object.fromEntries(decideRetention(dated(names), retention).map((v) => [v.generation.name, v.keptAs ?? 'deleted']));

interface RetentionCase {
  name: string;
  retention: Retention;
  backups: string[];
  kept: Record<string, KeptAs>;
}

const sixtyThreeMonths = monthFirsts('2021-10', '2026-12');
const RETENTION_CASES: RetentionCase[] = [
  { name: 'no backups yet', retention: { daily: 7, monthly: 60 }, backups: [], kept: {} },
  {
    name: 'fewer than the daily count: all kept; the first is also its month\'s',
    retention: { daily: 7, monthly: 60 },
    backups: days('2026-11-01', 3),
    kept: { '2026-11-01T03:00:00.000Z': 'daily+monthly', '2026-11-02T03:00:00.000Z': 'daily', '2026-11-03T03:00:00.000Z': 'daily' },
  },
  {
    name: 'ten days in one month: the newest 7 and the month\'s first',
    retention: { daily: 7, monthly: 60 },
    backups: days('2026-11-20', 10),
    kept: Object.fromEntries([['2026-11-20T03:00:00.000Z', 'monthly'], ...days('2026-11-23', 7).map((d) => [d, 'daily'])]),
  },
  {
    name: 'month boundary in UTC, not Tokyo: 15:00Z on the 30th is December in Tokyo but November here',
    retention: { daily: 1, monthly: 60 },
    backups: ['2026-11-30T14:59:59.999Z', '2026-11-30T15:00:00.000Z', '2026-11-30T23:59:59.999Z', '2026-12-01T00:00:00.000Z', '2026-12-01T00:00:00.001Z', '2026-12-02T03:00:00.000Z'],
    kept: { '2026-11-30T14:59:59.999Z': 'monthly', '2026-12-01T00:00:00.000Z': 'monthly', '2026-12-02T03:00:00.000Z': 'daily' },
  },
  {
    name: 'several backups a day (by hand, after a key rotation): each is a generation; the month\'s first is the earliest',
    retention: { daily: 3, monthly: 60 },
    backups: ['2026-12-01T00:30:00.000Z', '2026-12-01T03:00:00.000Z', '2026-12-01T09:15:00.000Z', '2026-12-01T21:00:00.000Z', '2026-12-02T03:00:00.000Z'],
    kept: { '2026-12-01T00:30:00.000Z': 'monthly', '2026-12-01T09:15:00.000Z': 'daily', '2026-12-01T21:00:00.000Z': 'daily', '2026-12-02T03:00:00.000Z': 'daily' },
  },
  {
    name: 'a month without a backup (October) is not counted: 3 months reach back to September',
    retention: { daily: 1, monthly: 3 },
    backups: ['2026-08-01T03:00:00.000Z', '2026-08-15T03:00:00.000Z', '2026-09-01T03:00:00.000Z', '2026-11-01T03:00:00.000Z', '2026-11-20T03:00:00.000Z', '2026-12-01T03:00:00.000Z'],
    kept: { '2026-09-01T03:00:00.000Z': 'monthly', '2026-11-01T03:00:00.000Z': 'monthly', '2026-12-01T03:00:00.000Z': 'daily+monthly' },
  },
  {
    name: '63 months: the firsts of the newest 60 stay, 2021-10 to 2021-12 go',
    retention: { daily: 7, monthly: 60 },
    backups: [...sixtyThreeMonths, ...days('2026-12-02', 6)],
    kept: Object.fromEntries([
      ...sixtyThreeMonths.slice(3, -1).map((m) => [m, 'monthly']),
      ['2026-12-01T03:00:00.000Z', 'daily+monthly'],
      ...days('2026-12-02', 6).map((d) => [d, 'daily']),
    ]),
  },
  {
    name: 'year boundary and a leap day',
    retention: { daily: 1, monthly: 60 },
    backups: ['2027-12-31T23:59:59.999Z', '2028-01-01T00:00:00.000Z', '2028-02-29T12:00:00.000Z', '2028-02-29T13:00:00.000Z', '2028-03-01T00:00:00.000Z'],
    kept: { '2027-12-31T23:59:59.999Z': 'monthly', '2028-01-01T00:00:00.000Z': 'monthly', '2028-02-29T12:00:00.000Z': 'monthly', '2028-03-01T00:00:00.000Z': 'daily+monthly' },
  },
  {
    name: 'monthly 0: only the newest, the month\'s first too',
    retention: { daily: 2, monthly: 0 },
    backups: days('2026-11-01', 3),
    kept: { '2026-11-02T03:00:00.000Z': 'daily', '2026-11-03T03:00:00.000Z': 'daily' },
  },
  {
    name: 'monthly 1: the current month\'s first only',
    retention: { daily: 1, monthly: 1 },
    backups: ['2026-10-01T03:00:00.000Z', '2026-11-01T03:00:00.000Z', '2026-11-02T03:00:00.000Z'],
    kept: { '2026-11-01T03:00:00.000Z': 'monthly', '2026-11-02T03:00:00.000Z': 'daily' },
  },
];

test('retention: which generations stay, table of named cases', () => {
  const wrong: string[] = [];
  for (const c of RETENTION_CASES) {
    const expected = Object.fromEntries(c.backups.map((b) => [b, c.kept[b] ?? 'deleted']));
    assert.equal(Object.keys(c.kept).filter((k) => !c.backups.includes(k)), [], `${c.name}: kept names a backup it does not have`);
    const got = verdictsByName(c.backups, c.retention);
    const shuffled = verdictsByName([...c.backups].reverse(), c.retention); // listing order does not matter
    if (JSON.stringify(got) !== JSON.stringify(expected)) wrong.push(`${c.name}:\n  expected ${JSON.stringify(expected)}\n  got      ${JSON.stringify(got)}`);
    if (JSON.stringify(shuffled) !== JSON.stringify(expected)) wrong.push(`${c.name} (listed newest first): got ${JSON.stringify(shuffled)}`);
  }
  assert.ok(wrong.length === 0, `\n${wrong.join('\n')}`);
});

test('retention: reasons say why, whole verdicts compared', () => {
  const backups = ['2021-11-01T03:00:00.000Z', '2026-10-01T03:00:00.000Z', '2026-10-09T03:00:00.000Z', '2026-11-01T03:00:00.000Z', '2026-11-02T03:00:00.000Z'];
  const verdicts = decideRetention(dated(backups), { daily: 2, monthly: 2 }).map(({ generation, ...v }) => ({ name: generation.name, ...v }));
  assert.equal(verdicts, [
    { name: backups[0], month: '2021-11', keptAs: undefined, reason: 'older than the newest 2, and 2021-11 is older than the newest 2 months with a backup' },
    { name: backups[1], month: '2026-10', keptAs: 'monthly', reason: 'the first of 2026-10 (UTC), one of the newest 2 months with a backup' },
    { name: backups[2], month: '2026-10', keptAs: undefined, reason: 'older than the newest 2, and not the first of 2026-10 (UTC): 2026-10-01T03:00:00.000Z is' },
    { name: backups[3], month: '2026-11', keptAs: 'daily+monthly', reason: 'one of the newest 2, and the first of 2026-11 (UTC), one of the newest 2 months with a backup' },
    { name: backups[4], month: '2026-11', keptAs: 'daily', reason: 'one of the newest 2' },
  ]);
  assert.is(decideRetention(dated(backups), { daily: 1, monthly: 0 })[0]!.reason, 'older than the newest 1; monthly keeping is off');
  assert.is(decideRetention(dated(backups), { daily: 1, monthly: 0 })[4]!.reason, 'the newest');
});

test('retention: daily 0 (which would delete the backup just made) and broken counts are refused', () => {
  for (const r of [{ daily: 0, monthly: 60 }, { daily: 0, monthly: 0 }, { daily: 1.5, monthly: 60 }, { daily: 7, monthly: -1 }, { daily: 7, monthly: Number.NaN }]) {
    assert.throws(() => decideRetention(dated(days('2026-11-01', 3)), r), (err: unknown) => err instanceof TypeError, JSON.stringify(r));
  }
});

test('retention: six years of daily backups pruned after each one, as backUp does', () => {
  const retention = { daily: 7, monthly: 60 };
  // Every day at 03:00 UTC from 2021-01-01 to 2026-12-31; none in July 2023 (the service was
  // down); a second one by hand on the 1st of every quarter's first month.
  const made: string[] = [];
  for (let ms = Date.parse('2021-01-01T03:00:00.000Z'); ms <= Date.parse('2026-12-31T03:00:00.000Z'); ms += DAY_MS) {
    if (monthOf(ms) === '2023-07') continue;
    made.push(iso(ms));
    if (iso(ms).slice(5, 10).match(/^(01|04|07|10)-01$/)) made.push(iso(ms + 7 * 3_600_000));
  }
  const firstOf = new Map<string, string>();
  for (const m of made) if (!firstOf.has(m.slice(0, 7))) firstOf.set(m.slice(0, 7), m);
  const monthsMade: string[] = [];
  let bucket: string[] = [];
  const problems: string[] = [];
  let largest = 0;
  for (const [i, name] of made.entries()) {
    if (!monthsMade.includes(name.slice(0, 7))) monthsMade.push(name.slice(0, 7));
    bucket.push(name);
    const verdicts = decideRetention(dated(bucket), retention);
    for (const { generation: g } of verdicts.filter((v) => !v.keptAs)) {
      const newer = made.slice(0, i + 1).filter((n) => n > g.name).length;
      const newerMonths = monthsMade.filter((m) => m > g.name.slice(0, 7)).length;
      // Deleted exactly when it has just fallen out of the newest 7, or, a month's first, when its month just fell out of the newest 60.
      const due = firstOf.get(g.name.slice(0, 7)) === g.name ? newer >= 7 && newerMonths === 60 : newer === 7;
      if (!due) problems.push(`${g.name} deleted after ${name} (${newer} newer, ${newerMonths} newer months)`);
    }
    bucket = verdicts.filter((v) => v.keptAs).map((v) => v.generation.name);
    largest = Math.max(largest, bucket.length);
  }
  assert.equal(problems.slice(0, 5), []);
  const expectedMonthly = monthsMade.slice(-60).map((m) => firstOf.get(m)!);
  assert.equal(bucket, [...new Set([...expectedMonthly, ...made.slice(-7)])].sort());
  assert.is(expectedMonthly[0], '2021-12-01T03:00:00.000Z', 'the gap month makes the kept span one calendar month longer');
  assert.ok(largest <= 67, `at most 7 + 60 generations at any time (${largest})`);
});

test('retention: a listing that misses generations (lists late, or cut short) never deletes more', () => {
  const all = dated([...monthFirsts('2020-01', '2026-12'), ...days('2026-11-20', 20), '2026-12-05T09:00:00.000Z']);
  const deletedOf = (gs: typeof all, r: Retention) => decideRetention(gs, r).filter((v) => !v.keptAs).map((v) => v.generation.name);
  let seed = 7;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  for (const retention of [{ daily: 7, monthly: 60 }, { daily: 3, monthly: 5 }, { daily: 1, monthly: 0 }]) {
    const full = new Set(deletedOf(all, retention));
    for (let n = 0; n < 200; n++) {
      const seen = all.filter(() => random() < 0.8);
      const extra = deletedOf(seen, retention).filter((name) => !full.has(name));
      assert.equal(extra, [], `${JSON.stringify(retention)}: a partial listing would delete ${extra.join(', ')}`);
    }
  }
});

test('configuration: MIMAMORI_BACKUP_DAILY and MIMAMORI_BACKUP_MONTHLY, checked with clear errors', () => {
  const base = { MIMAMORI_TURN: 'off' };
  assert.equal(loadConfig(base).backup.retention, { daily: 7, monthly: 60 });
  assert.equal(loadConfig({ ...base, MIMAMORI_BACKUP_DAILY: '14', MIMAMORI_BACKUP_MONTHLY: '0' }).backup.retention, { daily: 14, monthly: 0 });
  const refused: [Record<string, string>, RegExp][] = [
    [{ MIMAMORI_BACKUP_DAILY: '0' }, /MIMAMORI_BACKUP_DAILY: must be a whole number from 1 to 3650 \(.*the backup just made\), not "0"/],
    [{ MIMAMORI_BACKUP_DAILY: '7.5' }, /MIMAMORI_BACKUP_DAILY: .* not "7\.5"/],
    // z.coerce would read '' as 0: five years of backups off by an empty variable
    [{ MIMAMORI_BACKUP_MONTHLY: '' }, /MIMAMORI_BACKUP_MONTHLY: must be a whole number from 0 to 1200 \(.*60 is five years, 0 keeps none\), not ""/],
    [{ MIMAMORI_BACKUP_MONTHLY: '-1' }, /MIMAMORI_BACKUP_MONTHLY: .* not "-1"/],
    [{ MIMAMORI_BACKUP_MONTHLY: 'five years' }, /MIMAMORI_BACKUP_MONTHLY: .* not "five years"/],
  ];
  for (const [env, message] of refused) {
    try {
      loadConfig({ ...base, ...env });
      assert.unreachable(JSON.stringify(env));
    } catch (err) {
      assert.instance(err, ConfigError, JSON.stringify(env));
      assert.match((err as Error).message, message);
    }
  }
});

test('the service backs up shortly after start, marks its data dir in use, and /metrics says when', async () => {
  const first = await until('the first scheduled backup', 20_000, async () => (await listGenerations(store))[0]);
  assert.match(first.key, /^backups\/\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z\.mmb$/);
  const seconds = await until('the backup metric', 5000, async () => {
    const text = await (await fetch(`${svc!.url}/metrics`)).text();
    const m = /^mimamori_backup_last_success_timestamp_seconds (\S+)$/m.exec(text);
    return m && Number(m[1]) > 0 ? Number(m[1]) : undefined; // 0 until the first is known
  });
  assert.ok(Math.abs(seconds * 1000 - first.atMs) < 2000, `metric ${seconds} s vs backup at ${first.atMs} ms`);
  assert.ok((await dirEntries(dataDir)).includes('service.pid'));
});

test('users, grants, cameras and a recording; `mimamori backup` seals them: nothing readable in the object', async () => {
  const s = svc!;
  hana.id = (await s.createUser(hana.username, hana.password)).id;
  kenji.id = (await s.createUser(kenji.username, kenji.password, 'admin')).id;
  cam = await s.createCamera('Lobby');
  backDoor = await s.createCamera('Back door');
  await s.grant(hana.id, cam.id);
  recordedFromMs = Date.now();
  const camera = await Camera.create({ whipUrl: `${s.url}/whip/${cam.id}`, token: await s.publishToken(cam.id, cam.secret), width: 320, height: 180, kbps: 300, fps: 30 });
  await sleep(6000);
  await camera.close();
  recordedToMs = Date.now();
  await drained(s);
  // A metadata file nobody told the backup about, appended to as a log is: in the backup, cut
  // after its last whole line.
  await fs.mkdir(path.join(dataDir, 'future'), { recursive: true });
  await fs.writeFile(path.join(dataDir, 'future', 'log.jsonl'), '{"a":1}\n{"b":2}\n{"c":', { mode: 0o600 });

  const r = await cli(['backup']);
  assert.is(r.code, 0, r.stderr);
  process.stdout.write(`  mimamori backup: ${r.stdout.split('\n')[0]} (command ${r.ms} ms)\n`);
  const newest = (await listGenerations(store)).at(-1)!;
  assert.ok(r.stdout.includes(newest.name), r.stdout);
  const bytes = Buffer.from(await store.get(newest.key));
  const db = await fs.readFile(path.join(dataDir, 'db.json'), 'utf8');
  const secrets = JSON.parse(await fs.readFile(path.join(dataDir, 'secrets.json'), 'utf8')) as { jwtSecret: string };
  const hashes = [...db.matchAll(/"passwordHash":\s*"([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(hashes.length >= 3, 'the data dir holds the users\' password hashes');
  for (const plain of [hana.username, kenji.username, 'Lobby', cam.id, 'scrypt', secrets.jwtSecret, ...hashes, MASTER_KEYS.split(':')[1]!, '"a":1']) {
    assert.not.ok(bytes.includes(plain), `the sealed backup does not contain ${plain.slice(0, 12)}…`);
  }

  // What is inside, opened with the master key: the metadata and nothing else.
  const opened = await openBackup(await MasterKeys.load({ dataDir, env: { MIMAMORI_MASTER_KEYS: MASTER_KEYS } }), bytes);
  const paths = opened.files.map((f) => f.path);
  assert.ok(paths.includes('db.json') && paths.includes('secrets.json'), paths.join(', '));
  process.stdout.write(`  backed up: ${paths.join(', ')}\n`);
  assert.not.ok(paths.some((p) => /^(spool|index|s3|master-keys\.json|service\.pid)(\/|$)/.test(p)), `no video, cache, key or pid: ${paths.join(', ')}`);
  assert.is(opened.files.find((f) => f.path === 'future/log.jsonl')?.data.toString(), '{"a":1}\n{"b":2}\n');
  assert.is(opened.files.find((f) => f.path === 'secrets.json')?.mode, 0o600);
});

test(`nine backups leave the newest ${DEFAULT_RETENTION.daily} and the first of the month (the default retention)`, async () => {
  const masterKeys = await MasterKeys.load({ dataDir, env: { MIMAMORI_MASTER_KEYS: MASTER_KEYS } });
  const made = new Map((await listGenerations(store)).map((g) => [g.key, g]));
  const times: number[] = [];
  while (made.size < 9) {
    const started = Date.now();
    const r = await backUp({ dataDir, store, masterKeys });
    times.push(Date.now() - started);
    assert.is(r.pruneError, undefined);
    for (const g of await listGenerations(store)) made.set(g.key, g);
  }
  const all = [...made.values()].sort((a, b) => a.atMs - b.atMs);
  const newest = all.slice(-DEFAULT_RETENTION.daily);
  const monthFirsts = all.filter((g, i) => i === 0 || monthOf(g.atMs) !== monthOf(all[i - 1]!.atMs));
  const after = await listGenerations(store);
  assert.equal(after.map((g) => g.name), all.filter((g) => newest.includes(g) || monthFirsts.includes(g)).map((g) => g.name));
  assert.ok(after.some((g) => g.key === all[0]!.key), 'the first of the month stays');
  assert.ok(after.every((g, i) => i === 0 || g.atMs > after[i - 1]!.atMs), 'names sort by time');
  process.stdout.write(`  backup in-process: ${times.join(', ')} ms; object ${after.at(-1)!.bytes} bytes; ${after.length} of ${all.length} kept\n`);
});

test('a failing backup is logged with its reason and tried again; when S3 is back it succeeds; close releases the data dir', async () => {
  const dir = path.join(tmp, 'retry-data');
  await fs.mkdir(dir);
  await fs.writeFile(path.join(dir, 'db.json'), JSON.stringify({ users: [] }));
  const port = await freePort(); // nothing listens there yet: S3 is down
  const downStore = await S3ObjectStore.create({ ...s3.options, endpoint: `http://127.0.0.1:${port}`, bucket: 'retry', requestTimeoutMs: 1000, createBucket: false });
  const lines: { event?: string; reason?: string; code?: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
  const masterKeys = await MasterKeys.load({ dataDir: dir, env: { MIMAMORI_MASTER_KEYS: MASTER_KEYS } });
  const backups = await Backups.start({ dataDir: dir, store: downStore, masterKeys, log, intervalMs: 3_600_000, startDelayMs: 0, retryMs: 300 });
  let revived: EmbeddedS3 | undefined;
  try {
    assert.ok((await dirEntries(dir)).includes('service.pid'));
    await until('two failed attempts', 20_000, async () => (lines.filter((l) => l.event === 'backup_failed').length >= 2 ? true : undefined));
    const failure = lines.find((l) => l.event === 'backup_failed')!;
    assert.is(failure.code, 'unavailable');
    assert.ok(failure.reason && failure.reason.length > 10, `a reason: ${failure.reason}`);
    assert.is(backups.lastSuccessMs, undefined);
    revived = await EmbeddedS3.start({ directory: path.join(tmp, 's3-retry'), port, bucket: 'retry' });
    await until('a backup once S3 is back', 20_000, async () => lines.find((l) => l.event === 'backup_done'));
    assert.ok(backups.lastSuccessMs! > 0);
    assert.is((await listGenerations(downStore)).length, 1);
  } finally {
    await backups.close();
    downStore.close();
    await revived?.close();
  }
  assert.not.ok((await dirEntries(dir)).includes('service.pid'), 'released on close');
});

test('a new master key (a rotation) is followed by a backup sealed with it; older ones need the retired key', async () => {
  const dir = path.join(tmp, 'rotation-data');
  await fs.mkdir(dir);
  await fs.writeFile(path.join(dir, 'db.json'), JSON.stringify({ users: [] }));
  const rotationStore = await S3ObjectStore.create({ ...s3.options, bucket: 'rotation', createBucket: true });
  const done: { generation: string; masterKeyId: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void ((l) => l.event === 'backup_done' && done.push(l))(JSON.parse(line) as { event?: string } & (typeof done)[number]) });
  const masterKeys = await MasterKeys.load({ dataDir: dir, env: {} }); // the file, generated
  const backups = await Backups.start({ dataDir: dir, store: rotationStore, masterKeys, log, intervalMs: 3_600_000, startDelayMs: 0, keyCheckMs: 200 });
  try {
    await until('the first backup', 20_000, async () => done[0]);
    const before = masterKeys.current.id;
    assert.is(done[0]!.masterKeyId, before);
    const next = await masterKeys.rotate();
    await masterKeys.retire([next.id]); // as DataKeys.rotateMaster does once the data keys are re-wrapped
    const after = await until('a backup under the new key', 20_000, async () => done[1]);
    assert.is(after.masterKeyId, next.id);
    const [older, newer] = await listGenerations(rotationStore);
    await openBackup(masterKeys, await rotationStore.get(newer!.key));
    try {
      await openBackup(masterKeys, await rotationStore.get(older!.key));
      assert.unreachable('the older generation needs the retired key');
    } catch (err) {
      assert.is((err as { code?: string }).code, 'master_key_missing');
      assert.ok((err as Error).message.includes(before), (err as Error).message);
    }
  } finally {
    await backups.close();
    rotationStore.close();
  }
});

test('dated generations through the real S3: pruned after each upload by daily and monthly keeping; listed; any restores; a failed delete costs nothing', async () => {
  const bucket = 'retention-test';
  const dir = path.join(tmp, 'retention-data');
  await fs.mkdir(dir);
  const retentionStore = await S3ObjectStore.create({ ...s3.options, bucket, createBucket: true });
  const masterKeys = await MasterKeys.load({ dataDir: dir, env: { MIMAMORI_MASTER_KEYS: MASTER_KEYS } });
  const retention = { daily: 3, monthly: 3 };
  const name = (at: string) => at.replace(/:/g, '-');
  /** one backup "at" a time, with that time in its db.json so a restore shows which came back */
  const backUpAt = async (at: string, onto: ObjectStore = retentionStore) => {
    await fs.writeFile(path.join(dir, 'db.json'), JSON.stringify({ users: [], madeAt: at }));
    return backUp({ dataDir: dir, store: onto, masterKeys, retention, now: () => Date.parse(at) });
  };
  // Each backup, and what its pruning removes (daily 3, monthly 3).
  const steps: [string, string[]][] = [
    ['2026-07-31T23:59:59.000Z', []],
    ['2026-08-01T00:00:00.000Z', []], // August's first, a second after July's
    ['2026-08-01T12:00:00.000Z', []], // a second one that day
    ['2026-08-20T03:00:00.000Z', []], // July's first is still one of 3 months
    ['2026-10-05T03:00:00.000Z', []], // no September: October is the third month
    ['2026-10-31T15:30:00.000Z', ['2026-08-01T12:00:00.000Z']], // 1 November in Tokyo, October in UTC
    ['2026-11-01T03:00:00.000Z', ['2026-07-31T23:59:59.000Z', '2026-08-20T03:00:00.000Z']], // a fourth month: July goes
    ['2026-11-02T03:00:00.000Z', []],
    ['2026-11-02T03:00:01.000Z', ['2026-10-31T15:30:00.000Z']],
    ['2026-11-03T03:00:00.000Z', []],
  ];
  try {
    for (const [at, removes] of steps) {
      const r = await backUpAt(at);
      assert.is(r.pruneError, undefined, at);
      assert.equal(r.deleted, removes.map(name), `pruning after the backup of ${at}`);
    }
    const kept: Record<string, string> = {
      '2026-08-01T00:00:00.000Z': 'monthly',
      '2026-10-05T03:00:00.000Z': 'monthly',
      '2026-11-01T03:00:00.000Z': 'monthly',
      '2026-11-02T03:00:00.000Z': 'daily',
      '2026-11-02T03:00:01.000Z': 'daily',
      '2026-11-03T03:00:00.000Z': 'daily',
    };
    const generations = await listGenerations(retentionStore);
    assert.equal(generations.map((g) => g.name), Object.keys(kept).map(name));

    // `mimamori backups` with the same settings: every generation, its times, size, key and why it stays.
    const env = { MIMAMORI_S3_BUCKET: bucket, MIMAMORI_BACKUP_DAILY: '3', MIMAMORI_BACKUP_MONTHLY: '3' };
    const listed = await cli(['backups'], env);
    assert.is(listed.code, 0, listed.stderr);
    process.stdout.write(`  mimamori backups:\n${listed.stdout.trimEnd().replace(/^/gm, '    ')}\n`);
    const rows = listed.stdout.split('\n').filter((l) => /^\d{4}-/.test(l)).map((l) => l.split(/ {2,}/));
    assert.equal(
      rows.map(([n, , , , key, keptAs]) => [n, key, keptAs]),
      generations.map((g) => [g.name, 'mk-backup-test', kept[new Date(g.atMs).toISOString()]]),
    );
    for (const [row, g] of rows.map((row, i) => [row, generations[i]!] as const)) {
      assert.is(row[1], new Date(g.atMs).toISOString());
      assert.is(row[3], `${(g.bytes / 1024).toFixed(1)} KiB`);
    }
    assert.equal(rows.find((row) => row[0] === name('2026-11-01T03:00:00.000Z'))!.slice(1, 3), ['2026-11-01T03:00:00.000Z', '2026-11-01T12:00:00+09:00']);
    assert.match(listed.stdout, /kept: the newest 3 \(daily\) and the first of each month \(UTC\) for the newest 3 months with a backup \(monthly\)/);

    // With monthly keeping turned off the listing says what the next backup would remove, and removes nothing.
    const off = await cli(['backups'], { ...env, MIMAMORI_BACKUP_MONTHLY: '0' });
    assert.is(off.code, 0, off.stderr);
    assert.match(off.stdout, /2026-08-01T00-00-00\.000Z .* removed by the next backup: older than the newest 3; monthly keeping is off/);
    assert.is((await listGenerations(retentionStore)).length, 6);
    const invalid = await cli(['backups'], { ...env, MIMAMORI_BACKUP_MONTHLY: '-1' });
    assert.is(invalid.code, 2);
    assert.match(invalid.stderr, /MIMAMORI_BACKUP_MONTHLY: must be a whole number from 0 to 1200/);

    // The oldest monthly generation restores like the newest.
    const target = path.join(tmp, 'retention-restored');
    await fs.mkdir(target);
    const restored = await cli(['restore', '--generation', name('2026-08-01T00:00:00.000Z')], { ...env, MIMAMORI_DATA_DIR: target });
    assert.is(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /restored backup 2026-08-01T00-00-00\.000Z \(made 2026-08-01T00:00:00\.000Z\)/);
    assert.is((JSON.parse(await fs.readFile(path.join(target, 'db.json'), 'utf8')) as { madeAt: string }).madeAt, '2026-08-01T00:00:00.000Z');

    // S3 refuses the delete: the new backup is there, every older one too; the next backup prunes.
    const refusingDeletes: ObjectStore = {
      description: retentionStore.description,
      put: (key, body) => retentionStore.put(key, body),
      get: (key, range) => retentionStore.get(key, range),
      head: (key) => retentionStore.head(key),
      list: (prefix) => retentionStore.list(prefix),
      delete: async () => {
        throw new Error('DeleteObjects refused (test)');
      },
    };
    const failed = await backUpAt('2026-12-01T03:00:00.000Z', refusingDeletes);
    assert.is(failed.pruneError, 'DeleteObjects refused (test)');
    assert.equal(failed.deleted, []);
    assert.equal((await listGenerations(retentionStore)).map((g) => g.name), [...Object.keys(kept), '2026-12-01T03:00:00.000Z'].map(name));
    const next = await backUpAt('2026-12-02T03:00:00.000Z');
    assert.equal(next.deleted, ['2026-08-01T00:00:00.000Z', '2026-11-02T03:00:00.000Z', '2026-11-02T03:00:01.000Z'].map(name));
    assert.equal(next.keptAs, { daily: 3, monthly: 3 });
    assert.equal(
      (await listGenerations(retentionStore)).map((g) => g.name),
      ['2026-10-05T03:00:00.000Z', '2026-11-01T03:00:00.000Z', '2026-11-03T03:00:00.000Z', '2026-12-01T03:00:00.000Z', '2026-12-02T03:00:00.000Z'].map(name),
    );
  } finally {
    retentionStore.close();
  }
});

let restoredGeneration: Generation;

test('wiped data dir: restore refuses the wrong master key and a missing one, writing nothing; restores with the right one', async () => {
  await svc!.stop();
  svc = undefined;
  await fs.rm(dataDir, { recursive: true, force: true });
  await fs.mkdir(dataDir);
  restoredGeneration = (await listGenerations(store)).at(-1)!;

  const wrong = await cli(['restore'], { MIMAMORI_MASTER_KEYS: OTHER_MASTER_KEYS });
  assert.is(wrong.code, 1, wrong.stdout + wrong.stderr);
  assert.match(wrong.stderr, /sealed with another master key/);
  assert.equal(await dirEntries(dataDir), [], 'nothing written');

  const none = await cli(['restore'], { MIMAMORI_MASTER_KEYS: '' });
  assert.is(none.code, 1, none.stdout + none.stderr);
  assert.match(none.stderr, /MIMAMORI_MASTER_KEYS/);
  assert.match(none.stderr, /master-keys\.json/);
  assert.equal(await dirEntries(dataDir), [], 'nothing written, and no master key generated');

  const ok = await cli(['restore']);
  assert.is(ok.code, 0, ok.stderr);
  process.stdout.write(`  mimamori restore: ${ok.stdout.split('\n').slice(0, 2).join(' / ')} (command ${ok.ms} ms)\n`);
  assert.ok(ok.stdout.includes(restoredGeneration.name), ok.stdout);
  assert.match(ok.stdout, /3 users, 2 cameras, 1 grants, 1 camera data keys/);
  const restored = await dirEntries(dataDir);
  assert.ok(restored.includes('db.json') && restored.includes('secrets.json') && restored.includes('future'), restored.join(', '));
  assert.not.ok(restored.includes('master-keys.json'), 'the key is not restored: it was never backed up');
  assert.is((await fs.stat(path.join(dataDir, 'secrets.json'))).mode & 0o777, 0o600);
  assert.not.ok(restored.some((n) => n.startsWith('.')), `no staging leftovers: ${restored.join(', ')}`);
});

test('restore into a data dir that holds metadata refuses without --force', async () => {
  const db = await fs.readFile(path.join(dataDir, 'db.json'));
  await fs.writeFile(path.join(dataDir, 'stale.json'), '{}');
  const refused = await cli(['restore']);
  assert.is(refused.code, 1, refused.stdout + refused.stderr);
  assert.match(refused.stderr, /already holds metadata/);
  assert.match(refused.stderr, /--force/);
  assert.ok((await fs.readFile(path.join(dataDir, 'db.json'))).equals(db), 'untouched');

  const forced = await cli(['restore', '--force', '--generation', restoredGeneration.name]);
  assert.is(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /removed \(not in the backup\): stale\.json/);
  assert.not.ok((await dirEntries(dataDir)).includes('stale.json'));
});

test('the service on the restored data dir: same logins, grants and cameras; the recording is on the timeline and decodes', async () => {
  svc = await startService({ env: serviceEnv() }); // logs in as the admin with the same password
  const s = svc;
  const hanaToken = await s.login(hana.username, hana.password);
  await s.login(kenji.username, kenji.password);
  const wrongPassword = await fetch(`${s.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: hana.username, password: 'not-her-password' }),
  });
  assert.is(wrongPassword.status, 401);

  const all = await json<{ cameras: { id: string; name: string }[] }>(await s.api('/api/cameras'));
  assert.equal(all.cameras.map((c) => c.name).sort(), ['Back door', 'Lobby']);
  assert.ok(all.cameras.some((c) => c.id === backDoor.id));
  const hers = await json<{ cameras: { id: string }[] }>(await s.api('/api/cameras', { headers: { authorization: `Bearer ${hanaToken}` } }));
  assert.equal(hers.cameras.map((c) => c.id), [cam.id], 'her grant came back');

  const timeline = await json<{ spans: { fromMs: number; toMs: number }[] }>(
    await s.api(`/api/cameras/${cam.id}/timeline?from=${recordedFromMs - 60_000}&to=${Date.now()}`, { headers: { authorization: `Bearer ${hanaToken}` } }),
  );
  assert.is(timeline.spans.length, 1, JSON.stringify(timeline.spans));
  const span = timeline.spans[0]!;
  assert.ok(span.fromMs - recordedFromMs < 2500 && span.toMs > recordedToMs - 2500, `span ${JSON.stringify(span)} covers the recording ${recordedFromMs}–${recordedToMs}`);

  const w = await json<{ url: string }>(
    await s.api(`/api/cameras/${cam.id}/playback`, { method: 'POST', body: JSON.stringify({ at: span.fromMs + 500 }) }),
  ); // as the admin: a clip download is an export, a right of its own
  const from = span.fromMs + 1000;
  const res = await fetch(new URL(`clip.mp4?from=${from}&to=${from + 3000}`, new URL(w.url, s.url)));
  assert.is(res.status, 200, await res.clone().text());
  const file = path.join(tmp, 'restored-clip.mp4');
  await fs.writeFile(file, Buffer.from(await res.arrayBuffer()));
  assert.is(await decodeErrors(file), '');
  const probe = await ffprobe(file);
  assert.ok(Math.abs(Number(probe.format.duration) - 3) < 0.1, `clip of ${probe.format.duration} s`);
  assert.ok(Number(probe.streams.find((st) => st.codec_type === 'video')?.nb_read_frames) > 60, 'frames decoded');

  // While the service runs on it, restore refuses even with --force.
  const running = await cli(['restore', '--force']);
  assert.is(running.code, 1, running.stdout + running.stderr);
  assert.match(running.stderr, /is running on/);
});

test.run();
