// The metadata in PostgreSQL, shared by every node of a cluster.
//
// Reads stay in memory (the Catalog), exactly as with files: a camera list is thousands of
// synchronous lookups, which no round trip to a database could match. Writes go to PostgreSQL
// first, in a transaction that takes the store's one write lock (the change_head row), runs the
// operation's reads and writes, and commits; triggers record every changed row with the next
// version number in `changes` and NOTIFY. Every node LISTENs, and on a notification — or a once
// a second look at change_head, should a notification be lost — reads the changes after the last
// version it applied and applies them to its memory in order. The writer itself waits for its own
// version before answering, so a node always reads its own writes. A node that finds a gap (it
// was away longer than changes are kept) reloads everything in one snapshot, and every
// difference reaches its listeners as a change (a grant revoked meanwhile still stops video).
//
// When the database is unreachable, reads go on answering from memory, writes fail with 503
// database_unavailable and change nothing, and live video and recording never wait for it.
import crypto from 'node:crypto';
import pg from 'pg';
import { insertAuditRows, PostgresAuditLog } from './PostgresAuditLog.ts';
import type { Logger } from '../../log.ts';
import { StoreError } from '../errors.ts';
import { parseRow } from '../../audit/index.ts';
import { emptySnapshot, TABLES, withoutDangling, type Change, type MetadataExport, type NodeInfo, type Rows, type Snapshot, type Table } from '../model.ts';
import { Operations, type ScalarField, type Tx } from '../Operations.ts';
import type { SharedSecretName, Store, StoreHealth } from '../Store.ts';
import { databaseUnavailable, isRetryable, isUnavailable, reasonOf } from './errors.ts';
import { migrate } from './migrations.ts';
import { columnOf, TABLE_OF_SQL, TABLE_SPECS, upsertSql, type TableSpec } from './tables.ts';

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  log: Logger;
  /** Named in the database's connection list (application_name). */
  nodeId: string;
  auditRetentionDays: number;
  /** Command-line tools: load the metadata once, no change feed, no audit log. */
  readOnly?: boolean;
  /** How often change_head is looked at (also the database health check). */
  pollMs?: number;
}

/** Changes read per round trip while catching up. */
const PULL_BATCH = 5000;
/** Changes are kept this long for nodes that were briefly away; longer, and they reload. */
const KEEP_CHANGES = '1 hour';
const PRUNE_EVERY_MS = 10 * 60_000;
const LISTEN_RETRY_MAX_MS = 5000;

export class PostgresStore extends Operations implements Store {
  readonly kind = 'postgres';
  readonly description: string;
  readonly #o: PostgresStoreOptions;
  readonly #pool: pg.Pool;
  #audit: PostgresAuditLog | undefined;
  /** The version of the last change in memory. */
  #applied = 0;
  #pulling: Promise<void> | undefined;
  #pullAgain = false;
  #listener: pg.Client | undefined;
  #listenRetryMs = 250;
  #timers: NodeJS.Timeout[] = [];
  #health: StoreHealth = { up: true };
  #closed = false;
  /** Full reloads since start (a metric: each one means changes were missed). */
  reloads = 0;

  static async open(o: PostgresStoreOptions): Promise<PostgresStore> {
    const where = describeUrl(o.url);
    const pool = new pg.Pool({
      connectionString: o.url,
      max: 8,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
      // A hung database (a cut network) fails a query instead of holding a request forever.
      query_timeout: 15_000,
      keepAlive: true,
      application_name: `mimamori ${o.nodeId}`.slice(0, 63),
    });
    // An idle connection that breaks emits here; without a listener it would end the process.
    pool.on('error', (err) => o.log.warn({ event: 'database_connection_lost', reason: reasonOf(err) }, 'an idle database connection broke; it is replaced on next use'));
    const store = new PostgresStore(o, pool, where);
    try {
      await migrate(pool);
      await store.#reload('start');
      if (!o.readOnly) {
        await store.#listen();
        store.#audit = await PostgresAuditLog.open({ pool, log: o.log, retentionDays: o.auditRetentionDays, where });
        store.#every(o.pollMs ?? 1000, () => store.#poll());
        store.#every(PRUNE_EVERY_MS, () => store.#pruneChanges());
      }
    } catch (error) {
      await store.close();
      if (isUnavailable(error)) throw new StoreError('database_unavailable', `cannot start: the metadata database (${where}) is unreachable (${reasonOf(error)}); check MIMAMORI_DATABASE_URL and that PostgreSQL is running`, { cause: error });
      throw error;
    }
    return store;
  }

  private constructor(o: PostgresStoreOptions, pool: pg.Pool, where: string) {
    super();
    this.#o = o;
    this.#pool = pool;
    this.description = `PostgreSQL at ${where}`;
  }

  get audit(): PostgresAuditLog {
    if (!this.#audit) throw new TypeError('PostgresStore: opened read-only, without its audit log');
    return this.#audit;
  }

  /** The version of the last change this node has in memory. */
  get version(): number {
    return this.#applied;
  }

  health(): StoreHealth {
    return { ...this.#health };
  }

  async sharedSecret(name: SharedSecretName, bytes: number): Promise<string> {
    // The first node to ask stores one; every node then reads the same.
    await this.#pool.query('INSERT INTO service_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, crypto.randomBytes(bytes).toString('base64url')]);
    const { rows } = await this.#pool.query<{ value: string }>('SELECT value FROM service_secrets WHERE name = $1', [name]);
    return rows[0]!.value;
  }

  async sync(): Promise<void> {
    const { rows } = await this.#query<{ version: string }>('SELECT version FROM change_head');
    await this.#catchUp(Number(rows[0]!.version));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    await this.#audit?.close();
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => undefined); // already broken: nothing to end
    await this.#pulling?.catch(() => undefined); // its failure was logged where it happened
    await this.#pool.end();
  }

  // --- Writes --------------------------------------------------------------------------------

  protected async transact<R>(operation: (tx: Tx) => Promise<R>): Promise<R> {
    if (this.#closed) throw new StoreError('database_unavailable', 'the metadata store is closed (the service is stopping); try again on another node');
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.#pool.connect();
      } catch (error) {
        throw this.#unavailable(error);
      }
      let committing = false;
      let result: R;
      let version: number;
      try {
        // The store's write lock: writers one after another, so versions commit in order. It is held
        // from here to the commit, so the round trips in between are few (two statements each here).
        await client.query('BEGIN; SELECT version FROM change_head FOR UPDATE');
        result = await operation(new SqlTx(client));
        committing = true;
        const [head] = (await client.query('SELECT version FROM change_head; COMMIT')) as unknown as pg.QueryResult<{ version: string }>[];
        version = Number(head!.rows[0]!.version);
        client.release();
      } catch (error) {
        const broken = isUnavailable(error);
        if (!broken) await client.query('ROLLBACK').catch(() => undefined); // the rollback's own failure changes nothing
        client.release(broken ? (error as Error) : undefined);
        if (isRetryable(error) && attempt < 3) continue;
        if (broken && committing) {
          this.#markDown(error);
          throw new StoreError(
            'database_unavailable',
            `the connection to the metadata database (${describeUrl(this.#o.url)}) broke while the change was being saved (${reasonOf(error)}): it may or may not have been saved; look again in a moment before repeating it`,
            { cause: error },
          );
        }
        if (broken) throw this.#unavailable(error);
        throw error;
      }
      this.#markUp();
      await this.#catchUp(version).catch((error: unknown) => {
        // Committed; it reaches memory with the next successful pull.
        this.#o.log.warn({ event: 'store_catch_up_failed', reason: reasonOf(error) }, 'a change was saved but could not be read back yet');
      });
      return result;
    }
  }

  protected putLocal<T extends Table>(table: T, row: Rows[T]): void {
    this.put(table, row);
  }

  protected override listenerFailed(error: unknown, change: Change): void {
    this.#o.log.error({ event: 'store_listener_failed', table: change.table, err: error }, 'reacting to a change of the metadata failed');
  }

  // --- Whole store ---------------------------------------------------------------------------

  async exportAll(): Promise<MetadataExport> {
    return this.#readOnly(async (client) => {
      const rows = await readRows(client);
      const audit = (await client.query<{ line: string }>('SELECT line FROM audit_rows ORDER BY seq')).rows.map((r) => r.line);
      const secrets = (await client.query<{ name: string; value: string }>("SELECT name, value FROM service_secrets WHERE name = 'jwtSecret'")).rows;
      return { rows, audit, secrets: secrets.length ? { jwtSecret: secrets[0]!.value } : {} };
    });
  }

  async importAll(data: MetadataExport): Promise<{ dropped: string[] }> {
    const { rows, dropped } = withoutDangling(data.rows);
    const audit = data.audit.map((line) => {
      const row = parseRow(line);
      if (!row) throw new StoreError('schema_mismatch', `an imported audit row is not a complete row: ${line.slice(0, 80)}`);
      return { row, line };
    });
    await this.transact(async (tx) => {
      for (const table of TABLES) {
        if (!(await tx.isEmpty(table))) throw new StoreError('store_not_empty', `the database already holds ${TABLE_SPECS[table].sql}; import only into an empty one (a new database)`);
      }
      for (const table of TABLES) for (const row of rows[table] as Rows[typeof table][]) await tx.put(table, row);
      await (tx as SqlTx).raw(async (client) => {
        if ((await client.query('SELECT 1 FROM audit_rows LIMIT 1')).rows.length > 0) throw new StoreError('store_not_empty', 'the database already holds audit rows; import only into an empty one');
        await insertAuditRows(client, audit);
        const last = audit.at(-1)?.row;
        if (last) await client.query('UPDATE audit_head SET seq = $1, hash = $2', [last.seq, last.hash]);
        if (data.secrets.jwtSecret) {
          await client.query('INSERT INTO service_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value', ['jwtSecret', data.secrets.jwtSecret]);
        }
      });
    });
    return { dropped };
  }

  async claimBackupSlot(slotStartMs: number, nodeId: string): Promise<boolean> {
    // A claim an hour old is taken over: its node died or gave up before finishing.
    const { rows } = await this.#query(
      `INSERT INTO backup_slots (slot_start, node) VALUES ($1, $2)
       ON CONFLICT (slot_start) DO UPDATE SET node = EXCLUDED.node, claimed_at = now() WHERE backup_slots.claimed_at < now() - interval '1 hour'
       RETURNING node`,
      [new Date(slotStartMs), nodeId],
    );
    return rows.length > 0;
  }

  async heartbeat(node: Omit<NodeInfo, 'seenAtMs'>): Promise<void> {
    await this.#query(
      `INSERT INTO nodes (id, internal_url, release, started_at, seen_at, state, load, schema_version, protocol) VALUES ($1, $2, $3, $4, now(), $5, $6, $7, $8)
       ON CONFLICT (id) DO UPDATE SET internal_url = EXCLUDED.internal_url, release = EXCLUDED.release, started_at = EXCLUDED.started_at, seen_at = now(), state = EXCLUDED.state, load = EXCLUDED.load,
         schema_version = EXCLUDED.schema_version, protocol = EXCLUDED.protocol`,
      [node.id, node.internalUrl, node.release, new Date(node.startedAtMs), node.state, JSON.stringify(node.load), node.schemaVersion ?? null, node.protocol ?? null],
    );
  }

  async listNodes(): Promise<{ nodes: NodeInfo[]; nowMs: number }> {
    const [clock, rows] = await Promise.all([
      this.#query<{ now: Date }>('SELECT now() AS now'),
      this.#query<{ id: string; internal_url: string; release: string; started_at: Date; seen_at: Date; state: NodeInfo['state']; load: NodeInfo['load']; schema_version: number | null; protocol: number | null }>('SELECT * FROM nodes ORDER BY id'),
    ]);
    return {
      nowMs: clock.rows[0]!.now.getTime(),
      nodes: rows.rows.map((r) => ({
        id: r.id,
        internalUrl: r.internal_url,
        release: r.release,
        startedAtMs: r.started_at.getTime(),
        seenAtMs: r.seen_at.getTime(),
        state: r.state,
        load: r.load,
        ...(r.schema_version !== null ? { schemaVersion: r.schema_version } : {}),
        ...(r.protocol !== null ? { protocol: r.protocol } : {}),
      })),
    };
  }

  async forgetNode(id: string): Promise<void> {
    await this.#query('DELETE FROM nodes WHERE id = $1', [id]);
  }

  async #readOnly<R>(read: (client: pg.PoolClient) => Promise<R>): Promise<R> {
    const client = await this.#pool.connect().catch((error: unknown) => {
      throw this.#unavailable(error);
    });
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const result = await read(client);
      await client.query('COMMIT');
      return result;
    } finally {
      client.release();
    }
  }

  // --- Following the changes -----------------------------------------------------------------

  async #catchUp(version: number): Promise<void> {
    while (this.#applied < version && !this.#closed) {
      const before = this.#applied;
      await this.#pull();
      if (this.#applied === before) {
        // Nothing newer to read although a newer version committed: it was pruned. Start afresh.
        await this.#reload('changes pruned');
      }
    }
  }

  /** Reads and applies every change after the last applied one (one pull at a time; asks made meanwhile run once more after). */
  #pull(): Promise<void> {
    if (this.#pulling) {
      this.#pullAgain = true;
      return this.#pulling;
    }
    this.#pulling = (async () => {
      try {
        do {
          this.#pullAgain = false;
          await this.#pullOnce();
        } while (this.#pullAgain && !this.#closed);
      } finally {
        this.#pulling = undefined;
      }
    })();
    return this.#pulling;
  }

  async #pullOnce(): Promise<void> {
    for (;;) {
      const { rows } = await this.#query<{ version: string; tbl: string; key: string; data: Record<string, unknown> | null }>(
        'SELECT version, tbl, key, data FROM changes WHERE version > $1 ORDER BY version LIMIT $2',
        [this.#applied, PULL_BATCH],
      );
      if (rows.length === 0) return;
      if (Number(rows[0]!.version) !== this.#applied + 1) {
        await this.#reload(`changes ${this.#applied + 1}–${Number(rows[0]!.version) - 1} were pruned`);
        return;
      }
      for (const r of rows) {
        const table = TABLE_OF_SQL.get(r.tbl);
        if (table) {
          if (r.data === null) this.drop(table, r.key);
          else this.put(table, (TABLE_SPECS[table] as TableSpec<Table>).read(r.data));
        }
        this.#applied = Number(r.version);
      }
      if (rows.length < PULL_BATCH) return;
    }
  }

  /** Everything, as of one moment (one repeatable-read transaction), in place of what memory holds. */
  async #reload(why: string): Promise<void> {
    const { version, snapshot } = await this.#readOnly(async (client) => ({
      version: Number((await client.query<{ version: string }>('SELECT version FROM change_head')).rows[0]!.version),
      snapshot: await readRows(client),
    }));
    this.replaceAll(snapshot);
    this.#applied = version;
    if (why !== 'start') {
      this.reloads += 1;
      this.#o.log.warn({ event: 'store_reloaded', why, version }, 'metadata reloaded from the database');
    }
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#o.url, connectionTimeoutMillis: 5000, keepAlive: true, application_name: `mimamori ${this.#o.nodeId} listen`.slice(0, 63) });
    const lost = (err: unknown) => {
      if (this.#listener !== client) return;
      this.#listener = undefined;
      client.end().catch(() => undefined); // already broken
      this.#o.log.warn({ event: 'database_listen_lost', reason: reasonOf(err) }, 'lost the database change notifications; reconnecting (changes are still picked up once a second)');
      this.#relisten();
    };
    client.on('error', lost);
    client.on('end', () => lost(new Error('connection ended')));
    client.on('notification', () => void this.#pull().catch((error: unknown) => this.#markDown(error)));
    try {
      await client.connect();
      await client.query('LISTEN mimamori_changes');
    } catch (error) {
      client.removeAllListeners();
      await client.end().catch(() => undefined); // never connected
      throw error;
    }
    this.#listener = client;
    this.#listenRetryMs = 250;
    // Whatever changed while nobody listened.
    void this.#pull().catch((error: unknown) => this.#markDown(error));
  }

  #relisten(): void {
    if (this.#closed) return;
    const delay = this.#listenRetryMs;
    this.#listenRetryMs = Math.min(LISTEN_RETRY_MAX_MS, delay * 2);
    setTimeout(() => {
      if (this.#closed || this.#listener) return;
      this.#listen().catch(() => this.#relisten());
    }, delay).unref();
  }

  /** Once a second: is the database there, and is anything newer than memory (a lost notification)? */
  async #poll(): Promise<void> {
    try {
      const { rows } = await this.#query<{ version: string }>('SELECT version FROM change_head');
      this.#markUp();
      const head = Number(rows[0]!.version);
      if (head > this.#applied) await this.#catchUp(head);
    } catch (error) {
      this.#markDown(error);
    }
  }

  async #pruneChanges(): Promise<void> {
    await this.#query(`DELETE FROM changes WHERE at < now() - interval '${KEEP_CHANGES}'`).catch((error: unknown) => this.#markDown(error));
  }

  // --- Health --------------------------------------------------------------------------------

  #markUp(): void {
    if (this.#health.up) return;
    this.#o.log.warn({ event: 'database_up', downMs: Date.now() - (this.#health.downSinceMs ?? Date.now()) }, 'the metadata database is reachable again: writes and sign-ins work again');
    this.#health = { up: true };
    if (!this.#listener) this.#relisten();
  }

  #markDown(error: unknown): void {
    if (!isUnavailable(error)) {
      this.#o.log.error({ event: 'database_error', err: error }, 'the metadata database answered with an error');
      return;
    }
    const reason = `the metadata database (${describeUrl(this.#o.url)}) is unreachable (${reasonOf(error)}); reads answer from memory, changes and sign-ins fail until it is back — check that PostgreSQL is running and reachable`;
    if (this.#health.up) this.#o.log.error({ event: 'database_down', reason: reasonOf(error) }, reason);
    this.#health = { up: false, reason, downSinceMs: this.#health.downSinceMs ?? Date.now() };
  }

  #unavailable(error: unknown): StoreError {
    if (isUnavailable(error)) this.#markDown(error);
    return databaseUnavailable(describeUrl(this.#o.url), error);
  }

  #query<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.#pool.query<R>(sql, params);
  }

  #every(ms: number, run: () => Promise<void>): void {
    const timer = setInterval(() => void run(), ms);
    timer.unref();
    this.#timers.push(timer);
  }
}

/** Every row of every table, in creation order (inside the caller's transaction). */
async function readRows(client: pg.PoolClient): Promise<Snapshot> {
  const snapshot = emptySnapshot();
  for (const table of TABLES) {
    const spec = TABLE_SPECS[table] as TableSpec<Table>;
    const order = spec.columns.includes('created_at') ? `created_at, ${spec.key}` : spec.key;
    const { rows } = await client.query<{ j: Record<string, unknown> }>(`SELECT to_jsonb(t) AS j FROM ${spec.sql} t ORDER BY ${order}`);
    (snapshot[table] as Rows[Table][]) = rows.map((r) => spec.read(r.j));
  }
  return snapshot;
}

/** The operation's reads and writes, inside the writer's transaction. */
class SqlTx implements Tx {
  readonly #client: pg.PoolClient;

  constructor(client: pg.PoolClient) {
    this.#client = client;
  }

  async get<T extends Table>(table: T, key: string): Promise<Rows[T] | undefined> {
    const spec = TABLE_SPECS[table] as TableSpec<T>;
    return (await this.#select(spec, `WHERE ${spec.key} = $1`, [key]))[0];
  }
  where<T extends Table>(table: T, field: ScalarField<T>, value: string | boolean): Promise<Rows[T][]> {
    const spec = TABLE_SPECS[table] as TableSpec<T>;
    const column = columnOf(field);
    if (!spec.columns.includes(column)) throw new TypeError(`${spec.sql} has no column ${column}`);
    return this.#select(spec, `WHERE ${column} = $1`, [value]);
  }
  holding<T extends 'groups' | 'kiosks' | 'layouts'>(table: T, cameraId: string): Promise<Rows[T][]> {
    return this.#select(TABLE_SPECS[table] as TableSpec<T>, 'WHERE $1 = ANY (camera_ids)', [cameraId]);
  }
  async firstOrg(): Promise<Rows['orgs'] | undefined> {
    return (await this.#select(TABLE_SPECS.orgs, 'ORDER BY created_at, id LIMIT 1', []))[0];
  }
  async isEmpty(table: Table): Promise<boolean> {
    const { rows } = await this.#client.query<{ empty: boolean }>(`SELECT NOT EXISTS (SELECT 1 FROM ${TABLE_SPECS[table].sql}) AS empty`);
    return rows[0]!.empty;
  }
  async put<T extends Table>(table: T, row: Rows[T]): Promise<void> {
    const spec = TABLE_SPECS[table] as TableSpec<T>;
    await this.#client.query(upsertOf(table), spec.values(row));
  }
  async drop(table: Table, key: string): Promise<void> {
    const spec = TABLE_SPECS[table];
    await this.#client.query(`DELETE FROM ${spec.sql} WHERE ${spec.key} = $1`, [key]);
  }

  /** Statements beyond the store's tables (imports of the audit chain), in the same transaction. */
  raw<R>(run: (client: pg.PoolClient) => Promise<R>): Promise<R> {
    return run(this.#client);
  }

  async #select<T extends Table>(spec: TableSpec<T>, rest: string, params: unknown[]): Promise<Rows[T][]> {
    const { rows } = await this.#client.query<{ j: Record<string, unknown> }>(`SELECT to_jsonb(t) AS j FROM ${spec.sql} t ${rest}`, params);
    return rows.map((r) => spec.read(r.j));
  }
}

const upserts = new Map<Table, string>();
function upsertOf(table: Table): string {
  let sql = upserts.get(table);
  if (!sql) upserts.set(table, (sql = upsertSql(TABLE_SPECS[table] as TableSpec<Table>)));
  return sql;
}

/** host:port/database, never the password (it goes in logs and error messages). */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname || '/'}`;
  } catch {
    return 'the configured database';
  }
}
