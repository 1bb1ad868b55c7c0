// The `mimamori` command line. `bin/mimamori` (bash) runs set-up first, then this.
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config/index.ts';

const USAGE = `usage: mimamori <command> [options]

commands:
  start                 start the service (configuration from MIMAMORI_* environment variables; see README)
  camera                publish a synthetic H.264 + Opus camera over WHIP
      --url URL           service URL (default https://127.0.0.1:8443)
      --camera ID         camera id (from the admin page)
      --secret SECRET     the camera's secret (or MIMAMORI_CAMERA_SECRET)
      --kbps N            video bitrate (default 800)
      --seconds N         how long to publish (default: until interrupted)
      --size WxH          video size (default 640x360)
      --fps N             frame rate (default 30)
      --no-audio          video only
      --file PATH         loop this H.264 Annex-B file (no B-frames) instead of the test pattern
      --insecure          accept a self-signed HTTPS certificate
  verify                re-read a camera's recordings, open every fragment, report gaps and damage
      --camera ID         camera id
      --from TIME         start (ISO 8601 with zone, e.g. 2026-11-26T09:00+09:00, or ms since epoch)
      --to TIME           end (same forms)
      --json              print the report as JSON
                          (reads MIMAMORI_DATA_DIR and the S3 settings like start; exit 1 if anything fails to open)
  export                write a clip of a camera's recordings as an MP4 file (exact range, faststart)
      --camera ID         camera id
      --from TIME         start (same forms as verify)
      --to TIME           end
      --out FILE          where to write it ("-" for standard output)
                          (reads what is uploaded to S3; the last minute still on the spool of a
                          running service is not included)
  backup                back up the metadata now (db.json, secrets, accounts, audit, …, or with
                          MIMAMORI_DATABASE_URL the database's rows, audit rows and secrets in one
                          transaction; not the video, not the master key), sealed under the current
                          master key, to backups/ in
                          the bucket. The running service does this daily. Kept: the newest generations
                          (MIMAMORI_BACKUP_DAILY, default 7) and the first of each month, UTC, for the
                          newest months (MIMAMORI_BACKUP_MONTHLY, default 60 = five years; 0 = none);
                          the others are removed after each successful backup
  backups               list the backup generations in the bucket, oldest first: time (UTC and Tokyo),
                          size, master key, and whether kept as daily, monthly or both
  restore               bring the metadata of a backup back into MIMAMORI_DATA_DIR (a fresh machine),
                          or with MIMAMORI_DATABASE_URL into that database, which must be empty; a
                          backup of either store restores into either
      --generation NAME   which one (default the newest; names from "mimamori backups")
      --force             replace metadata already in the data dir
                          (needs the master key the backup was sealed with: MIMAMORI_MASTER_KEYS, or
                          the master-keys.json you kept copied into the data dir; stop the service
                          on that data dir first)
  migrate-store         copy the metadata into an empty store of the other kind and check the copy
      --to URL|DIR        postgres://user:password@host:5432/database: from the data dir (stop the
                          service first); DIR: from MIMAMORI_DATABASE_URL into that folder
  drain NODE            a node of the cluster (MIMAMORI_DATABASE_URL) leaves on purpose: out of the load
                          balancer, its cameras moved one at a time, its viewers sent elsewhere, then it
                          stops (as on SIGTERM); its log says what it could not move
  rolling-restart       restart every node of the cluster (MIMAMORI_DATABASE_URL) one by one, e.g. to
                          upgrade it: each is drained (cameras moved, no hole in any recording), stops,
                          and must be started again by its supervisor (systemd Restart=always) — with
                          the new release for an upgrade — before the next one's turn
      --nodes A,B,...     only these nodes, in this order (default: every running node, by id)
      --drain-timeout-s N a node must have drained and stopped within N s (default 180)
      --restart-timeout-s N  …and be back, up, within N s after it stopped (default 180)
      --settle-s N        wait after a node is back, for the load balancer to take it in (default 5)
  s3                    run the embedded S3-compatible server (s3rver) on its own, for the nodes of a
                          small cluster or a test; prints the MIMAMORI_S3_* settings the nodes need
      --folder DIR        where the objects are kept (created; the key pair is kept there too)
      --host HOST         listen address (default 127.0.0.1; the nodes' network for a cluster)
      --port N            listen port (default 4568; 0 = any free port)
      --bucket NAME       bucket to create (default mimamori)
      --access-key-id ID  the key pair to accept (or MIMAMORI_S3_ACCESS_KEY_ID and
      --secret-access-key SECRET  MIMAMORI_S3_SECRET_ACCESS_KEY, which keep the secret out of ps);
                          default: generated once into the folder, the secret printed once
                          (plain HTTP; every request must be signed with the key pair)
  haproxy-config        print an HAProxy 2.6 configuration (Debian 12's haproxy) for several nodes
      --node NAME=HOST:PORT  a node's HTTP(S) address (repeat for each node)
      --nodes-file FILE   one NAME=HOST:PORT per line (# comments), besides any --node
      --listen HOST:PORT  where HAProxy listens (default 0.0.0.0:443)
      --tls MODE          passthrough (default): TCP, the nodes terminate TLS with their own certificates;
                          terminate: HTTP mode, HAProxy terminates TLS with --cert and forwards plain
                          HTTP (nodes with MIMAMORI_TLS=off on a private network) with X-Forwarded-For/Proto
      --cert FILE         terminate: PEM with the certificate chain and the private key (absolute path)
      --node-tls          terminate: forward over HTTPS instead (the nodes' certificates are not verified)
      --balance ALGO      leastconn (default: spreads the long-lived websockets) or roundrobin
      --stats HOST:PORT   statistics page, loopback only (default 127.0.0.1:8404; "off" for none)
      --check-interval MS GET /readyz every MS (default 2000): out after 3 failures, back after 2 passes
      --maxconn N         connections HAProxy holds at most (default 20000)
      --foreground        for haproxy run by hand, not as Debian's service: no chroot or user, logs on stdout
`;

async function start(): Promise<void> {
  const config = loadConfig();
  const { Service } = await import('../signaling/index.ts');
  const { service, info } = await Service.create(config);
  const lines = [`Mimamori is running at ${info.url}`, `  admin user: ${config.admin.username}`];
  if (info.generatedAdminPassword) {
    lines.push(`  admin password (shown only this once; keep it safe): ${info.generatedAdminPassword}`);
  }
  if (config.tls.mode === 'self-signed') lines.push('  (self-signed certificate: your browser will ask you to accept it once)');
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // A node of a cluster moves its cameras and viewers to the other nodes before it stops.
    if (service.drain && signal === 'SIGTERM') {
      process.stderr.write(`${signal}: draining, then stopping\n`);
      await service.drain.start('SIGTERM');
    }
    process.stderr.write(`${signal}: stopping\n`);
    await service.close();
    process.exit(0);
  };
  service.drain?.on('done', (report) => {
    const left = report.left.length ? `; still here: ${report.left.join(', ')} (${report.note ?? ''})` : '';
    process.stderr.write(`drained in ${((report.endedAtMs - report.startedAtMs) / 1000).toFixed(1)} s: ${report.moved.length} camera(s) moved, ${report.ended.length} ended to reconnect elsewhere${left}\n`);
    void stop('drained');
  });
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

async function camera(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    // A camera secret is base64url and may start with '-', which parseArgs would take for an option.
    args: joinValues(argv, ['--secret', '--camera']),
    options: {
      url: { type: 'string', default: 'https://127.0.0.1:8443' },
      camera: { type: 'string' },
      secret: { type: 'string' },
      kbps: { type: 'string', default: '800' },
      seconds: { type: 'string' },
      size: { type: 'string', default: '640x360' },
      fps: { type: 'string', default: '30' },
      'no-audio': { type: 'boolean', default: false },
      insecure: { type: 'boolean', default: false },
      file: { type: 'string' },
    },
  });
  const secret = values.secret ?? process.env.MIMAMORI_CAMERA_SECRET;
  if (!values.camera || !secret) throw new UsageError('camera needs --camera ID and --secret SECRET (both shown when an admin adds the camera)');
  const size = /^(\d+)x(\d+)$/.exec(values.size);
  if (!size) throw new UsageError('--size must look like 640x360');
  if (values.insecure) process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  const { runCameraCommand } = await import('../camera/cli.ts');
  await runCameraCommand({
    url: values.url,
    cameraId: values.camera,
    secret,
    kbps: Number(values.kbps),
    seconds: values.seconds === undefined ? Infinity : Number(values.seconds),
    width: Number(size[1]),
    height: Number(size[2]),
    fps: Number(values.fps),
    audio: !values['no-audio'],
    file: values.file,
  });
}

/** Reads from the configured metadata store (files or PostgreSQL) and closes it again. */
async function readCatalog<T>(config: Config, read: (store: import('../signaling/store/index.ts').Store) => T): Promise<T> {
  const { openStore } = await import('../signaling/store/index.ts');
  const { createLogger } = await import('../signaling/log.ts');
  const store = await openStore(config, createLogger('warn'), { readOnly: true });
  try {
    return read(store);
  } finally {
    await store.close();
  }
}

function parseInstant(name: string, value: string | undefined): number {
  if (value === undefined) throw new UsageError(`verify needs --${name} TIME`);
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new UsageError(`--${name} ${value}: not a time; use ISO 8601 with a zone (2026-11-26T09:00+09:00) or ms since the epoch`);
  return ms;
}

async function verify(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { camera: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  if (!values.camera) throw new UsageError('verify needs --camera ID');
  const fromMs = parseInstant('from', values.from);
  const toMs = parseInstant('to', values.to);
  if (toMs <= fromMs) throw new UsageError('--to must be after --from');
  const config = loadConfig();
  const { indexWriter, MasterKeys, openStorage, RecordingIndex, verifyRange } = await import('../recorder/index.ts');
  const { unwrapDataKey } = await import('../recorder/seal/index.ts');
  const cameraId = values.camera;
  const wrapped = await readCatalog(config, (store) => store.wrappedKey(cameraId));
  const dataKey = wrapped ? unwrapDataKey(await MasterKeys.load({ dataDir: config.dataDir }), wrapped) : undefined;
  // The embedded store is a folder: a second server on it (any free port) reads it safely.
  const storage = await openStorage(config, { port: 0 });
  try {
    const keys = { dataKey: async () => dataKey ?? new Uint8Array(32) };
    const index = dataKey ? new RecordingIndex({ dir: `${config.dataDir}/index`, store: storage.store, keys, writer: config.internalUrl ? indexWriter(config.nodeId) : '' }) : undefined;
    const report = await verifyRange({ store: storage.store, dataKey, cameraId, fromMs, toMs, index });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      const iso = (ms: number) => new Date(ms).toISOString();
      const lines = [
        `camera ${cameraId}, ${iso(fromMs)} – ${iso(toMs)}`,
        `  ${report.objects} objects, ${report.fragments} fragments opened, ${(report.bytes / 1e6).toFixed(1)} MB, ${(report.recordedMs / 1000).toFixed(1)} s recorded`,
        ...report.gaps.map((g) => `  gap ${iso(g.fromMs)} – ${iso(g.toMs)} (${((g.toMs - g.fromMs) / 1000).toFixed(1)} s, ${g.reason})`),
        ...report.failures.map((f) => `  FAILED ${f.key}: ${f.code}: ${f.message}`),
        report.failures.length === 0 ? '  every object opened cleanly' : `  ${report.failures.length} objects failed to open`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    process.exitCode = report.failures.length > 0 ? 1 : 0;
  } finally {
    await storage.close();
  }
}

async function exportClip(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { camera: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' } },
  });
  if (!values.camera) throw new UsageError('export needs --camera ID');
  if (!values.out) throw new UsageError('export needs --out FILE');
  const fromMs = parseInstant('from', values.from);
  const toMs = parseInstant('to', values.to);
  if (toMs <= fromMs) throw new UsageError('--to must be after --from');
  const config = loadConfig();
  const { indexWriter, MasterKeys, openStorage, PendingSegments, RecordingIndex } = await import('../recorder/index.ts');
  const { unwrapDataKey } = await import('../recorder/seal/index.ts');
  const { Playback } = await import('../playback/index.ts');
  const cameraId = values.camera;
  const wrapped = await readCatalog(config, (store) => (store.camera(cameraId) ? store.wrappedKey(cameraId) : undefined));
  if (!wrapped) throw new UsageError(`camera ${cameraId} does not exist or has never been recorded`);
  const dataKey = unwrapDataKey(await MasterKeys.load({ dataDir: config.dataDir }), wrapped);
  const storage = await openStorage(config, { port: 0 });
  try {
    const keys = { dataKey: async () => dataKey };
    const index = new RecordingIndex({ dir: `${config.dataDir}/index`, store: storage.store, keys, writer: config.internalUrl ? indexWriter(config.nodeId) : '' });
    const playback = new Playback({ recorder: { index, pending: new PendingSegments(), store: storage.store, keys } });
    const clip = await playback.clip(cameraId, fromMs, toMs);
    const fs = await import('node:fs');
    const { pipeline } = await import('node:stream/promises');
    const { Readable } = await import('node:stream');
    const toStdout = values.out === '-';
    const temp = `${values.out}.part`;
    let last = -1;
    const progress = (f: number) => {
      const pct = Math.floor(f * 100);
      if (pct !== last && !toStdout && process.stderr.isTTY) process.stderr.write(`\r${pct}%`);
      last = pct;
    };
    await pipeline(Readable.from(clip.stream(progress)), toStdout ? process.stdout : fs.createWriteStream(temp, { mode: 0o600 }));
    if (!toStdout) await fs.promises.rename(temp, values.out);
    const iso = (ms: number) => new Date(ms).toISOString();
    process.stderr.write(
      `${process.stderr.isTTY ? '\r' : ''}${toStdout ? 'clip' : values.out}: ${iso(clip.startMs)} + ${(clip.durationMs / 1000).toFixed(3)} s, ${(clip.bytes / 1e6).toFixed(1)} MB` +
        `${clip.gaps.map((g) => `\n  gap ${iso(g.fromMs)} – ${iso(g.toMs)} (${g.reason}): the last frame is held`).join('')}\n`,
    );
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'no_recording' || code === 'codec_changed' || code === 'range_invalid') throw new UsageError((error as Error).message);
    throw error;
  } finally {
    await storage.close();
  }
}

/** A backup, restore or key problem whose message says what to do: printed without a stack. */
function explained(error: unknown): never {
  const name = (error as { name?: unknown }).name;
  if (name === 'BackupError' || name === 'SealError' || name === 'StoreError') throw new CommandError((error as Error).message);
  throw error;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/** For one item of a listing: a damaged object is shown as `shown`; anything else (S3 down) fails the command. */
const explainedOr =
  (shown: string) =>
  (error: unknown): string => {
    if ((error as { name?: unknown }).name === 'BackupError') return shown;
    throw error;
  };

async function backup(): Promise<void> {
  const config = loadConfig();
  const { backUp } = await import('../backup/index.ts');
  const { MasterKeys, openStorage } = await import('../recorder/index.ts');
  const fs = await import('node:fs');
  // MasterKeys.load would create a new key in an empty folder: check there is something first.
  if (!config.databaseUrl && !fs.existsSync(`${config.dataDir}/db.json`)) throw new CommandError(`${config.dataDir} holds no db.json: nothing to back up; check MIMAMORI_DATA_DIR`);
  const storage = await openStorage(config, { port: 0 });
  const { backupFilesOf, openStore } = await import('../signaling/store/index.ts');
  const { createLogger } = await import('../signaling/log.ts');
  const metadata = config.databaseUrl ? await openStore(config, createLogger('warn'), { readOnly: true }) : undefined;
  try {
    const masterKeys = await MasterKeys.load({ dataDir: config.dataDir });
    const r = await backUp({ dataDir: config.dataDir, store: storage.store, masterKeys, retention: config.backup.retention, ...(metadata ? { metadata: () => backupFilesOf(metadata, config.dataDir) } : {}) });
    const lines = [
      `backup ${r.generation}: ${r.files} files, ${kb(r.metadataBytes)} of metadata, ${kb(r.bytes)} sealed with master key "${r.masterKeyId}", in ${r.ms} ms`,
      `  ${storage.store.description}/${r.key}`,
      r.pruneError
        ? `  old generations could not be removed (${r.pruneError}); the next backup tries again`
        : `  ${r.kept} generations kept (${r.keptAs.daily} daily, ${r.keptAs.monthly} monthly)${r.deleted.length ? `; removed ${r.deleted.join(', ')}` : ''}`,
      ...(r.settled ? [] : ['  files kept changing while read: each is whole, but they may be milliseconds apart']),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } catch (error) {
    explained(error);
  } finally {
    await metadata?.close();
    await storage.close();
  }
}

/** Japan keeps no summer time: Tokyo is UTC+9 all year, so a fixed offset is exact. */
const tokyoTime = (ms: number) => `${new Date(ms + 9 * 3_600_000).toISOString().slice(0, 19)}+09:00`;

async function backups(): Promise<void> {
  const config = loadConfig();
  const { decideRetention, listGenerations, sealedWith } = await import('../backup/index.ts');
  const { openStorage } = await import('../recorder/index.ts');
  const storage = await openStorage(config, { port: 0 });
  try {
    const generations = await listGenerations(storage.store);
    if (generations.length === 0) {
      process.stdout.write(`no backups in ${storage.store.description}\n`);
      return;
    }
    const { daily, monthly } = config.backup.retention;
    // The master key each needs: a monthly generation can be years older than the last rotation.
    const keys = new Map(await Promise.all(generations.map(async (g) => [g.key, await sealedWith(storage.store, g).catch(explainedOr('(header unreadable)'))] as const)));
    const rows = decideRetention(generations, config.backup.retention).map((v) => [
      v.generation.name,
      new Date(v.generation.atMs).toISOString(),
      tokyoTime(v.generation.atMs),
      kb(v.generation.bytes),
      keys.get(v.generation.key)!,
      v.keptAs ?? `removed by the next backup: ${v.reason}`,
    ]);
    const table = [['NAME', 'UTC', 'ASIA/TOKYO', 'SIZE', 'MASTER KEY', 'KEPT AS'], ...rows];
    const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
    const lines = table.map((row) => row.map((cell, c) => (c === 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd());
    const kept = `kept: the newest ${daily} (daily)${monthly > 0 ? ` and the first of each month (UTC) for the newest ${monthly} months with a backup (monthly)` : '; monthly keeping is off'}`;
    process.stdout.write(`${lines.join('\n')}\n(${generations.length} in ${storage.store.description}; ${kept}; restore --generation NAME)\n`);
  } catch (error) {
    explained(error);
  } finally {
    await storage.close();
  }
}

async function restoreBackup(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { generation: { type: 'string' }, force: { type: 'boolean', default: false } } });
  const config = loadConfig();
  if (config.databaseUrl) return restoreIntoDatabase(config, values.generation, values.force);
  const { restore } = await import('../backup/index.ts');
  const { openStorage } = await import('../recorder/index.ts');
  const { dataDirFilesOf, exportOfFiles } = await import('../signaling/store/index.ts');
  const started = Date.now();
  const storage = await openStorage(config, { port: 0 });
  try {
    // A backup of a database store comes back as a data dir's files.
    const r = await restore({ dataDir: config.dataDir, store: storage.store, generation: values.generation, force: values.force, filesOf: async (files) => dataDirFilesOf(await exportOfFiles(files)) });
    const lines = [
      `restored backup ${r.generation} (made ${r.createdAt}) into ${config.dataDir} in ${Date.now() - started} ms:`,
      `  ${r.users} users, ${r.cameras} cameras, ${r.grants} grants, ${r.keys} camera data keys (each opens with the configured master key)`,
      `  ${r.files.length} files, ${kb(r.bytes)}: ${r.files.join(', ')}`,
      ...(r.removed.length ? [`  removed (not in the backup): ${r.removed.join(', ')}`] : []),
      'Start the service on this data dir with the same S3 and master key settings; recordings play as before.',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } catch (error) {
    explained(error);
  } finally {
    await storage.close();
  }
}

/** restore with MIMAMORI_DATABASE_URL: any generation (of either store) into that database, which must be empty. */
async function restoreIntoDatabase(config: Config, generation: string | undefined, force: boolean): Promise<void> {
  if (force) throw new UsageError('--force does not apply to a database: restore into an empty one (create a new database and point MIMAMORI_DATABASE_URL at it)');
  const { assertDataKeysOpen, openGeneration } = await import('../backup/index.ts');
  const { openStorage } = await import('../recorder/index.ts');
  const { exportOfFiles, PostgresStore } = await import('../signaling/store/index.ts');
  const { createLogger } = await import('../signaling/log.ts');
  const started = Date.now();
  const storage = await openStorage(config, { port: 0 });
  try {
    const { header, files, masterKeys } = await openGeneration({ dataDir: config.dataDir, store: storage.store, generation });
    const data = await exportOfFiles(files);
    assertDataKeysOpen(masterKeys, data.rows.dataKeys, header.name);
    const target = await PostgresStore.open({ url: config.databaseUrl!, log: createLogger('warn'), nodeId: config.nodeId, auditRetentionDays: config.audit.retentionDays, readOnly: true });
    try {
      const { dropped } = await target.importAll(data);
      process.stdout.write(
        [
          `restored backup ${header.name} (made ${header.createdAt}) into ${target.description} in ${Date.now() - started} ms:`,
          `  ${data.rows.users.length} users, ${data.rows.cameras.length} cameras, ${data.rows.grants.length} grants, ${data.rows.dataKeys.length} camera data keys (each opens with the configured master key), ${data.audit.length} audit rows`,
          ...(dropped.length ? [`  left out, naming rows that no longer exist: ${dropped.join(', ')}`] : []),
          'Start the service with the same MIMAMORI_DATABASE_URL, S3 and master key settings; recordings play as before.',
        ].join('\n') + '\n',
      );
    } finally {
      await target.close();
    }
  } catch (error) {
    explained(error);
  } finally {
    await storage.close();
  }
}

/** drain NODE: asks the node (its internal API, with the cluster secret from the database) to drain. */
async function drainCommand(argv: string[]): Promise<void> {
  const { positionals } = parseArgs({ args: argv, options: {}, allowPositionals: true });
  const nodeId = positionals[0];
  if (!nodeId || positionals.length > 1) throw new UsageError('drain needs the node id: mimamori drain NODE (see GET /api/sfu for the nodes)');
  const url = process.env.MIMAMORI_DATABASE_URL;
  if (!url) throw new UsageError('drain needs MIMAMORI_DATABASE_URL (run it with a node\'s settings)');
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let internalUrl: string | undefined;
  let secret: string | undefined;
  try {
    internalUrl = (await client.query<{ internal_url: string }>("SELECT internal_url FROM nodes WHERE id = $1 AND seen_at > now() - interval '3 seconds'", [nodeId])).rows[0]?.internal_url;
    secret = (await client.query<{ value: string }>("SELECT value FROM service_secrets WHERE name = 'clusterSecret'")).rows[0]?.value;
  } finally {
    await client.end();
  }
  if (!internalUrl || !secret) throw new CommandError(`node ${nodeId} is not a live node of this cluster (its heartbeat is older than 3 s, or it never ran)`);
  const { callNode } = await import('../signaling/cluster/internal.ts');
  await callNode({ url: internalUrl, secret, method: 'POST', path: '/internal/drain', body: { reason: 'mimamori drain' }, timeoutMs: 5000 });
  process.stdout.write(`${nodeId} is draining; it stops when its cameras and viewers are elsewhere (GET /api/sfu shows it as draining until then)\n`);
}

/** rolling-restart: drains every node in turn and waits until its supervisor has it back. */
async function rollingRestartCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { nodes: { type: 'string' }, 'drain-timeout-s': { type: 'string', default: '180' }, 'restart-timeout-s': { type: 'string', default: '180' }, 'settle-s': { type: 'string', default: '5' } },
  });
  const databaseUrl = process.env.MIMAMORI_DATABASE_URL;
  if (!databaseUrl) throw new UsageError('rolling-restart needs MIMAMORI_DATABASE_URL (run it with a node\'s settings)');
  const seconds = (name: 'drain-timeout-s' | 'restart-timeout-s' | 'settle-s', min: number): number => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < min || n > 3600) throw new UsageError(`--${name} must be a number of seconds from ${min} to 3600, not "${values[name]}"`);
    return n * 1000;
  };
  const nodes = values.nodes?.split(',').map((n) => n.trim()).filter(Boolean);
  const { rollingRestart, RollingRestartError } = await import('../signaling/cluster/rollingRestart.ts');
  const say = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  try {
    const done = await rollingRestart({ databaseUrl, ...(nodes?.length ? { nodes } : {}), drainTimeoutMs: seconds('drain-timeout-s', 1), restartTimeoutMs: seconds('restart-timeout-s', 1), settleMs: seconds('settle-s', 0), say });
    say(`rolling restart done: ${done.restarted.length} node(s) restarted one by one in ${(done.ms / 1000).toFixed(0)} s (${done.restarted.join(', ')})`);
  } catch (error) {
    if (error instanceof RollingRestartError) throw new CommandError(error.message);
    throw error;
  }
}

/** migrate-store --to postgres://… | DIR: the configured store's metadata into an empty store of the other kind. */
async function migrateStoreCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { to: { type: 'string' } } });
  if (!values.to) throw new UsageError('migrate-store needs --to postgres://user:password@host:5432/database (from the data dir) or --to DIR (from MIMAMORI_DATABASE_URL)');
  const config = loadConfig();
  const toDatabase = /^postgres(ql)?:\/\//.test(values.to);
  if (toDatabase === Boolean(config.databaseUrl)) {
    throw new UsageError(toDatabase ? 'the configured store is already PostgreSQL (MIMAMORI_DATABASE_URL); migrate-store copies from the data dir into a database, or from the database into a folder' : 'the configured store is the data dir; give --to postgres://… to copy it into PostgreSQL');
  }
  const { serviceRunningOn } = await import('../backup/index.ts');
  if (!toDatabase) {
    // Nothing to do with a running service: the target is a new folder.
  } else {
    const pid = await serviceRunningOn(config.dataDir);
    if (pid !== undefined) throw new CommandError(`a Mimamori service (pid ${pid}) runs on ${config.dataDir}: stop it first (what it changed after the copy would be lost), migrate, then start it with MIMAMORI_DATABASE_URL`);
  }
  const { FileStore, migrateStore, openStore, PostgresStore } = await import('../signaling/store/index.ts');
  const { createLogger } = await import('../signaling/log.ts');
  const log = createLogger('warn');
  const from = await openStore(config, log, { readOnly: true });
  try {
    const to = toDatabase
      ? await PostgresStore.open({ url: values.to, log, nodeId: config.nodeId, auditRetentionDays: 36_500 })
      : await FileStore.openWithAudit({ dataDir: values.to, log, auditRetentionDays: 36_500 });
    try {
      const r = await migrateStore(from, to);
      const counts = Object.entries(r.rows).map(([table, n]) => `${n} ${table}`).join(', ');
      process.stdout.write(
        [
          `copied ${from.description} into ${to.description} in ${r.ms} ms and checked it:`,
          `  ${counts || 'no rows'}; ${r.auditRows} audit rows, the chain verified`,
          ...(r.dropped.length ? [`  left out, naming rows that no longer exist: ${r.dropped.join(', ')}`] : []),
          toDatabase
            ? `Start the service with MIMAMORI_DATABASE_URL=${values.to.replace(/:[^:@/]*@/, ':***@')} (keep MIMAMORI_DATA_DIR: its master key, TLS and TURN files stay there).`
            : `Start the service with MIMAMORI_DATA_DIR=${values.to} and without MIMAMORI_DATABASE_URL (copy master-keys.json there, or keep MIMAMORI_MASTER_KEYS).`,
        ].join('\n') + '\n',
      );
    } finally {
      await to.close();
    }
  } catch (error) {
    explained(error);
  } finally {
    await from.close();
  }
}

/** Default port of `mimamori s3`: s3rver's own. */
const S3_DEFAULT_PORT = 4568;

/** s3rver makes ListObjectsV2 continuation tokens with DES, which Node's OpenSSL 3 offers only in its legacy provider. */
function desAvailable(): boolean {
  try {
    crypto.createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return true;
  } catch {
    return false;
  }
}

/** The address to print for a server listening on every address: the first non-internal IPv4, as the service guesses its own. */
function reachableHost(host: string): { host: string; guessed: boolean } {
  if (host !== '0.0.0.0' && host !== '::') return { host, guessed: false };
  const found = Object.values(os.networkInterfaces()).flatMap((a) => a ?? []).find((a) => a.family === 'IPv4' && !a.internal);
  return { host: found?.address ?? '127.0.0.1', guessed: true };
}

async function s3Server(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      folder: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: String(S3_DEFAULT_PORT) },
      bucket: { type: 'string', default: 'mimamori' },
      'access-key-id': { type: 'string' },
      'secret-access-key': { type: 'string' },
    },
  });
  if (!values.folder) throw new UsageError('s3 needs --folder DIR (where the objects and the key pair are kept)');
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) throw new UsageError(`--port ${values.port}: give a port from 0 to 65535 (0 = any free port)`);
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(values.bucket)) throw new UsageError(`--bucket ${values.bucket}: 3–63 lower-case letters, digits, dots and hyphens`);
  const accessKeyId = values['access-key-id'] ?? process.env.MIMAMORI_S3_ACCESS_KEY_ID;
  const secretAccessKey = values['secret-access-key'] ?? process.env.MIMAMORI_S3_SECRET_ACCESS_KEY;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) throw new UsageError('give both --access-key-id and --secret-access-key (or neither: a key pair is generated)');
  if (accessKeyId !== undefined && !/^[A-Za-z0-9_-]{3,128}$/.test(accessKeyId)) throw new UsageError('--access-key-id: 3–128 letters, digits, - or _');
  if (secretAccessKey !== undefined && secretAccessKey.length < 16) throw new UsageError('--secret-access-key: at least 16 characters');
  if (!desAvailable()) {
    throw new CommandError('s3 needs Node\'s legacy OpenSSL provider (s3rver pages ListObjectsV2 with DES): run it as bin/mimamori s3, or node --openssl-legacy-provider --import tsx bin/mimamori.ts s3');
  }
  const { assertWritableFolder, EmbeddedS3, folderCredentials, nodeSettings } = await import('../recorder/store/index.ts');
  const folder = path.resolve(values.folder);
  await assertWritableFolder(folder);
  const given = accessKeyId !== undefined && secretAccessKey !== undefined ? { accessKeyId, secretAccessKey } : undefined;
  const kept = given ? undefined : await folderCredentials(folder);
  const credentials = given ?? kept!.credentials;
  const server = await EmbeddedS3.start({ directory: folder, host: values.host, port, bucket: values.bucket, credentials });
  const shown = reachableHost(values.host);
  const endpoint = `http://${shown.host.includes(':') ? `[${shown.host}]` : shown.host}:${server.port}`;
  const secret = given ? 'given' : kept!.generated ? 'show' : 'kept';
  const lines = [
    `Mimamori S3 server (s3rver) on ${values.host}:${server.port}, bucket "${values.bucket}", objects in ${folder}`,
    ...(kept?.generated ? [`  key pair generated into ${kept.file} (0600); the secret is shown only this once: keep it with the nodes' settings`] : []),
    `Give every node these settings${shown.guessed ? ` (${shown.host} is a guess: use the address the nodes reach this machine at)` : ''}:`,
    ...nodeSettings({ endpoint, bucket: values.bucket, credentials, secret, file: kept?.file ?? '' }).map((l) => `  ${l}`),
    'Plain HTTP: requests are signed and recordings are sealed by the nodes, but keep it on the nodes\' private network.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    await server.close();
    process.stderr.write(`${signal}: stopped\n`);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

async function haproxyConfigCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      node: { type: 'string', multiple: true, default: [] },
      'nodes-file': { type: 'string' },
      listen: { type: 'string' },
      tls: { type: 'string', default: 'passthrough' },
      cert: { type: 'string' },
      'node-tls': { type: 'boolean', default: false },
      balance: { type: 'string', default: 'leastconn' },
      stats: { type: 'string' },
      'check-interval': { type: 'string' },
      maxconn: { type: 'string' },
      foreground: { type: 'boolean', default: false },
    },
  });
  const h = await import('../haproxy-config/index.ts');
  const fs = await import('node:fs/promises');
  const positive = (name: string, text: string | undefined, fallback: number) => {
    if (text === undefined) return fallback;
    if (!/^[1-9]\d*$/.test(text)) throw new UsageError(`--${name} ${text}: give a whole number above 0`);
    return Number(text);
  };
  try {
    let fileNodes: import('../haproxy-config/index.ts').HaproxyNode[] = [];
    if (values['nodes-file'] !== undefined) {
      const file = values['nodes-file'];
      const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new UsageError(`--nodes-file ${file}: cannot read it (${err.code ?? err.message})`);
      });
      fileNodes = h.parseNodesFile(text, file);
    }
    if (values.tls !== 'passthrough' && values.tls !== 'terminate') throw new UsageError(`--tls ${values.tls}: give passthrough or terminate`);
    if (values.tls === 'terminate' && !values.cert) throw new UsageError('--tls terminate needs --cert FILE (a PEM with the certificate chain and the private key)');
    if (values.tls === 'passthrough' && (values.cert || values['node-tls'])) throw new UsageError('--cert and --node-tls go with --tls terminate; with passthrough the nodes use their own certificates');
    if (values.balance !== 'leastconn' && values.balance !== 'roundrobin') throw new UsageError(`--balance ${values.balance}: give leastconn or roundrobin`);
    const text = h.haproxyConfig({
      nodes: [...values.node.map(h.parseNode), ...fileNodes],
      listen: values.listen === undefined ? h.DEFAULTS.listen : h.parseAddress(values.listen, '--listen'),
      tls: values.tls === 'terminate' ? { mode: 'terminate', certFile: values.cert!, nodeTls: values['node-tls'] } : { mode: 'passthrough' },
      balance: values.balance,
      ...(values.stats === 'off' ? {} : { stats: values.stats === undefined ? h.DEFAULTS.stats : h.parseAddress(values.stats, '--stats') }),
      timeouts: h.DEFAULT_TIMEOUTS,
      check: { ...h.DEFAULT_CHECK, intervalMs: positive('check-interval', values['check-interval'], h.DEFAULT_CHECK.intervalMs) },
      maxconn: positive('maxconn', values.maxconn, h.DEFAULTS.maxconn),
      run: values.foreground ? 'foreground' : 'service',
    });
    process.stdout.write(text);
  } catch (error) {
    if (error instanceof h.HaproxyConfigError) throw new UsageError(error.message);
    throw error;
  }
}

/** `--name value` as `--name=value` for options whose value may start with '-' (secrets, ids). */
function joinValues(argv: readonly string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (names.includes(arg) && i + 1 < argv.length) out.push(`${arg}=${argv[++i]}`);
    else out.push(arg);
  }
  return out;
}

class UsageError extends Error {}
class CommandError extends Error {}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'start':
      return start();
    case 'camera':
      return camera(rest);
    case 'verify':
      return verify(rest);
    case 'export':
      return exportClip(rest);
    case 'backup':
      return backup();
    case 'backups':
      return backups();
    case 'restore':
      return restoreBackup(rest);
    case 'migrate-store':
      return migrateStoreCommand(rest);
    case 's3':
      return s3Server(rest);
    case 'drain':
      return drainCommand(rest);
    case 'rolling-restart':
      return rollingRestartCommand(rest);
    case 'haproxy-config':
      return haproxyConfigCommand(rest);
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main().catch((err: unknown) => {
  if (err instanceof UsageError || err instanceof ConfigError) {
    process.stderr.write(`mimamori: ${err.message}\n\n${err instanceof UsageError ? USAGE : ''}`);
    process.exit(2);
  }
  // Errors whose message says what was wrong and what to do (a database or S3 that is not there,
  // a master key that does not fit): no stack trace.
  const explainedName = (err as { name?: unknown }).name;
  if (err instanceof CommandError || explainedName === 'StoreError' || explainedName === 'SealError' || explainedName === 'BackupError') {
    process.stderr.write(`mimamori: ${(err as Error).message}\n`);
    process.exit(1);
  }
  process.stderr.write(`mimamori: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
