// The embedded store: metadata in the data folder, as it has always been on disk — db.json (lowdb)
// for organisations, people, cameras and rights, accounts.json (0600) for sessions, lockouts and
// second factors, and the audit day files. One process owns the folder, so every write is atomic
// by running to completion in memory before the file is written.
import fs from 'node:fs/promises';
import path from 'node:path';
import { Low } from 'lowdb';
import { persistentSecret } from '../../config/index.ts';
import { FileAuditLog } from '../audit/index.ts';
import { createLogger, type Logger } from '../log.ts';
import { StoreError } from './errors.ts';
import { PrivateJsonFile } from './PrivateJsonFile.ts';
import { FIRST_ORG_NAME, newId } from './ids.ts';
import type { Announcement, ApiKey, Webhook, Camera, CameraGroup, Change, DataKeyRow, DeletionReport, ExportJob, Grant, Hold, Kiosk, Org, Preferences, Rows, SavedLayout, SessionFamily, Share, Table, TotpKey, User } from './model.ts';
import { Operations, type ScalarField, type Tx } from './Operations.ts';
import type { SharedSecretName, Store, StoreHealth } from './Store.ts';
import type { MetadataExport, NodeInfo } from './model.ts';

/** db.json as written since organisations (version 2). */
interface DbJson {
  version: 2;
  orgs: Org[];
  deletionReports: DeletionReport[];
  users: User[];
  cameras: Camera[];
  groups: CameraGroup[];
  grants: Grant[];
  announcements: Announcement[];
  keys: DataKeyRow[];
  holds: Hold[];
  shares: Share[];
  kiosks: Kiosk[];
  /** Since API keys (absent from files written before). */
  apiKeys: ApiKey[];
  /** Since webhooks (absent from files written before). */
  webhooks: Webhook[];
  exports: ExportJob[];
  preferences: { userId: string; preferences: Preferences }[];
  /** Since saved layouts (absent from files written before). */
  layouts: SavedLayout[];
}

/** accounts.json: rows keyed by id, name or user id. */
interface AccountsJson {
  version: 1;
  families: Record<string, SessionFamily>;
  failures: Record<string, { at: number[]; lockedUntilMs?: number }>;
  totp: Record<string, Omit<TotpKey, 'userId'>>;
}

/** Which file a table is saved in; addressFailures stay in memory (addresses change, and a restart forgiving them is fine). */
const FILE_OF: Record<Table, 'db' | 'accounts' | undefined> = {
  orgs: 'db',
  deletionReports: 'db',
  users: 'db',
  cameras: 'db',
  groups: 'db',
  grants: 'db',
  announcements: 'db',
  dataKeys: 'db',
  holds: 'db',
  shares: 'db',
  kiosks: 'db',
  apiKeys: 'db',
  webhooks: 'db',
  exports: 'db',
  preferences: 'db',
  layouts: 'db',
  sessions: 'accounts',
  loginFailures: 'accounts',
  addressFailures: undefined,
  totp: 'accounts',
  // One node owns every camera; its epochs start again with the process.
  owners: undefined,
};

export interface FileStoreOptions {
  dataDir: string;
  log: Logger;
  auditRetentionDays: number;
}

export class FileStore extends Operations implements Store {
  readonly kind = 'files';
  readonly #dataDir: string;
  readonly #db: Low<DbJson>;
  readonly #dbFile: PrivateJsonFile<DbJson>;
  readonly #accounts: PrivateJsonFile<AccountsJson>;
  #audit: FileAuditLog | undefined;
  #log: Logger | undefined;
  /** The operation before the next one (see transact). */
  #exclusive: Promise<void> = Promise.resolve();

  /** The metadata files only (no audit log): tools that read the catalog, tests. */
  static async open(dataDir: string): Promise<FileStore> {
    await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
    const dbFile = new PrivateJsonFile<DbJson>(path.join(dataDir, 'db.json'));
    const db = new Low<DbJson>(dbFile, emptyDb());
    await db.read();
    const store = new FileStore(dataDir, dbFile, db);
    const migrated = migrateDb(db.data);
    store.#loadDb(db.data);
    await store.#loadAccounts();
    if (migrated) await store.#saveDb();
    return store;
  }

  /** The store with its audit log, as the service runs it. */
  static async openWithAudit(o: FileStoreOptions): Promise<FileStore> {
    const store = await FileStore.open(o.dataDir);
    store.#audit = await FileAuditLog.open({ dir: path.join(o.dataDir, 'audit'), retentionDays: o.auditRetentionDays, log: o.log });
    store.#log = o.log;
    return store;
  }

  private constructor(dataDir: string, dbFile: PrivateJsonFile<DbJson>, db: Low<DbJson>) {
    super();
    this.#dataDir = dataDir;
    this.#dbFile = dbFile;
    this.#db = db;
    this.#accounts = new PrivateJsonFile(path.join(dataDir, 'accounts.json'));
  }

  get description(): string {
    return `files in ${this.#dataDir}`;
  }
  get audit(): FileAuditLog {
    if (!this.#audit) throw new TypeError('FileStore: opened without its audit log (use openWithAudit)');
    return this.#audit;
  }
  health(): StoreHealth {
    return { up: true };
  }
  sharedSecret(name: SharedSecretName, bytes: number): Promise<string> {
    // One secret per file: persistentSecret writes its file with that one field.
    return persistentSecret(path.join(this.#dataDir, name === 'jwtSecret' ? 'secrets.json' : `${name}.json`), name, bytes);
  }
  async sync(): Promise<void> {
    // One process owns the folder: memory is always current.
  }
  async close(): Promise<void> {
    await Promise.all([this.#accounts.settled(), this.#dbFile.settled()]);
    await this.#audit?.close();
  }

  // --- Whole store ---------------------------------------------------------------------------

  async exportAll(): Promise<MetadataExport> {
    const audit = this.#audit ?? (await FileAuditLog.open({ dir: path.join(this.#dataDir, 'audit'), retentionDays: 36_500, log: createLogger('silent') }));
    try {
      return { rows: this.snapshot(), audit: await audit.lines(), secrets: await readSecrets(this.#dataDir) };
    } finally {
      if (audit !== this.#audit) await audit.close();
    }
  }

  async importAll(data: MetadataExport): Promise<{ dropped: string[] }> {
    await this.load(data.rows);
    await this.audit.importLines(data.audit);
    if (data.secrets.jwtSecret) await fs.writeFile(path.join(this.#dataDir, 'secrets.json'), JSON.stringify({ jwtSecret: data.secrets.jwtSecret }), { mode: 0o600 });
    return { dropped: [] };
  }

  async claimBackupSlot(): Promise<boolean> {
    return true; // one process owns the folder
  }

  // One node: no heartbeats to keep, no other node to list.
  async heartbeat(): Promise<void> {}
  async listNodes(): Promise<{ nodes: NodeInfo[]; nowMs: number }> {
    return { nodes: [], nowMs: Date.now() };
  }
  async forgetNode(): Promise<void> {}

  // --- Transactions --------------------------------------------------------------------------

  /**
   * Operations run one at a time against memory (their reads and writes resolve at once), then
   * the files they touched are written; the answer waits for the write.
   */
  protected async transact<R>(operation: (tx: Tx) => Promise<R>): Promise<R> {
    const touched = new Set<'db' | 'accounts'>();
    const run = this.#exclusive.then(() => operation(this.#tx(touched)));
    this.#exclusive = run.then(
      () => undefined,
      () => undefined,
    );
    const result = await run;
    try {
      await Promise.all([touched.has('db') ? this.#saveDb() : undefined, touched.has('accounts') ? this.#saveAccounts() : undefined]);
    } catch (error) {
      // Files are replaced whole (temp file + rename): a failed write leaves the last good one.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        throw new StoreError(
          'database_unavailable',
          `the change could not be saved: the disk of the data folder (${this.#dataDir}) is full; free space there and try again (the saved metadata is intact; this node keeps the change in memory until its next save succeeds)`,
          { cause: error },
        );
      }
      throw error;
    }
    return result;
  }

  protected putLocal<T extends Table>(table: T, row: Rows[T]): void {
    this.put(table, row);
  }

  protected override listenerFailed(error: unknown, change: Change): void {
    if (this.#log) this.#log.error({ event: 'store_listener_failed', table: change.table, err: error }, 'reacting to a change of the metadata failed');
    else super.listenerFailed(error, change);
  }

  #tx(touched: Set<'db' | 'accounts'>): Tx {
    const mark = (table: Table) => {
      const file = FILE_OF[table];
      if (file) touched.add(file);
    };
    return {
      get: async (table, key) => this.row(table, key),
      where: async <T extends Table>(table: T, field: ScalarField<T>, value: string | boolean) => this.rows(table).filter((r) => (r[field] ?? false) === value),
      holding: async (table, cameraId) => this.rows(table).filter((r) => r.cameraIds.includes(cameraId)),
      firstOrg: async () => this.rows('orgs')[0],
      isEmpty: async (table) => this.rows(table).length === 0,
      put: async (table, row) => {
        mark(table);
        this.put(table, row);
      },
      drop: async (table, key) => {
        mark(table);
        this.drop(table, key);
      },
    };
  }

  // --- Files ---------------------------------------------------------------------------------

  #loadDb(d: DbJson): void {
    for (const o of d.orgs) this.put('orgs', o);
    for (const r of d.deletionReports) this.put('deletionReports', r);
    for (const u of d.users) this.put('users', u);
    for (const c of d.cameras) this.put('cameras', c);
    for (const g of d.groups) this.put('groups', g);
    for (const g of d.grants) this.put('grants', g);
    for (const a of d.announcements) this.put('announcements', a);
    for (const k of d.keys) this.put('dataKeys', k);
    for (const h of d.holds) this.put('holds', h);
    for (const s of d.shares) this.put('shares', s);
    for (const k of d.kiosks) this.put('kiosks', k);
    for (const k of d.apiKeys) this.put('apiKeys', k);
    for (const w of d.webhooks) this.put('webhooks', w);
    for (const e of d.exports) this.put('exports', e);
    for (const p of d.preferences) this.put('preferences', p);
    for (const l of d.layouts) this.put('layouts', l);
  }

  #saveDb(): Promise<void> {
    this.#db.data = {
      version: 2,
      orgs: [...this.rows('orgs')],
      deletionReports: [...this.rows('deletionReports')],
      users: [...this.rows('users')],
      cameras: [...this.rows('cameras')],
      groups: [...this.rows('groups')],
      grants: [...this.rows('grants')],
      announcements: [...this.rows('announcements')],
      keys: [...this.rows('dataKeys')],
      holds: [...this.rows('holds')],
      shares: [...this.rows('shares')],
      kiosks: [...this.rows('kiosks')],
      apiKeys: [...this.rows('apiKeys')],
      webhooks: [...this.rows('webhooks')],
      exports: [...this.rows('exports')],
      preferences: [...this.rows('preferences')],
      layouts: [...this.rows('layouts')],
    };
    return this.#db.write();
  }

  async #loadAccounts(): Promise<void> {
    let parsed: Partial<AccountsJson> = {};
    try {
      parsed = (await this.#accounts.read()) ?? {};
    } catch (err) {
      throw new Error(`cannot read ${this.#accounts.file}: ${(err as Error).message}; fix or remove the file (removing it signs everyone out and turns TOTP off)`);
    }
    for (const f of Object.values(parsed.families ?? {})) this.put('sessions', f);
    for (const [name, e] of Object.entries(parsed.failures ?? {})) this.put('loginFailures', { name, ...e });
    for (const [userId, t] of Object.entries(parsed.totp ?? {})) this.put('totp', { userId, ...t });
  }

  /** Under many refreshes at once, one write per turn (see PrivateJsonFile.save). */
  #saveAccounts(): Promise<void> {
    return this.#accounts.save(() => ({
      version: 1,
      families: Object.fromEntries(this.rows('sessions').map((f) => [f.id, f])),
      failures: Object.fromEntries(this.rows('loginFailures').map(({ name, ...e }) => [name, e])),
      totp: Object.fromEntries(this.rows('totp').map(({ userId, ...t }) => [userId, t])),
    }));
  }
}

const now = () => new Date().toISOString();


/** The generated secrets kept in the data folder (none before the service first ran). */
async function readSecrets(dataDir: string): Promise<MetadataExport['secrets']> {
  try {
    const parsed = JSON.parse(await fs.readFile(path.join(dataDir, 'secrets.json'), 'utf8')) as { jwtSecret?: unknown };
    return typeof parsed.jwtSecret === 'string' ? { jwtSecret: parsed.jwtSecret } : {};
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

const emptyDb = (): DbJson => ({
  version: 2,
  orgs: [],
  deletionReports: [],
  users: [],
  cameras: [],
  groups: [],
  grants: [],
  announcements: [],
  keys: [],
  holds: [],
  shares: [],
  kiosks: [],
  apiKeys: [],
  webhooks: [],
  exports: [],
  preferences: [],
  layouts: [],
});

/**
 * Files written before the recorder existed lack some collections; version 1 files (before
 * organisations) move into one first organisation: the existing admins become its admins and
 * platform operators, 'view' grants become live+playback. Returns whether anything changed.
 */
function migrateDb(d: DbJson): boolean {
  d.keys ??= [];
  d.holds ??= [];
  d.shares ??= [];
  d.kiosks ??= [];
  d.apiKeys ??= [];
  d.webhooks ??= [];
  d.exports ??= [];
  d.preferences ??= [];
  d.layouts ??= [];
  d.orgs ??= [];
  d.deletionReports ??= [];
  d.groups ??= [];
  d.announcements ??= [];
  const legacy = [...d.users, ...d.cameras, ...d.kiosks].some((r) => !(r as { orgId?: string }).orgId) || d.grants.some((g) => !g.id);
  if (!legacy && (d.version as number) === 2) return false;
  let first = d.orgs[0];
  if (!first && (d.users.length > 0 || d.cameras.length > 0)) {
    first = { id: newId('org'), name: FIRST_ORG_NAME, createdAt: now() };
    d.orgs.push(first);
  }
  if (first) {
    const orgId = first.id;
    for (const u of d.users) {
      if (u.orgId) continue;
      u.orgId = orgId;
      if (u.role === 'admin') u.platform = true;
    }
    for (const c of d.cameras) c.orgId ||= orgId;
    for (const k of d.kiosks) k.orgId ||= orgId;
    for (const g of d.grants as (Grant & { rights: string[] })[]) {
      if (g.id) continue;
      g.id = newId('grant');
      g.orgId = orgId;
      g.rights = ['live', 'playback'];
      g.createdBy ??= 'migration';
    }
  }
  d.version = 2;
  return true;
}
