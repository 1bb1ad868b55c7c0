// The embedded store: metadata in the data folder, as it has always been on disk — db.json (lowdb)
// for organisations, people, cameras and rights, accounts.json (0600) for sessions, lockouts and
// second factors, and the audit day files. One process owns the folder, so every write is atomic
// by running to completion in memory before the file is written.
import fs from 'node:fs/promises';
import path from 'node:path';
import { JSONFilePreset } from 'lowdb/node';
import type { Low } from 'lowdb';
import type { WrappedKey } from '../../recorder/seal/index.ts';
import { FileAuditLog } from '../audit/index.ts';
import type { Logger } from '../log.ts';
import { persistentSecret } from '../../config/index.ts';
import { Catalog } from './Catalog.ts';
import { lastAdmin, StoreError, usernameTaken } from './errors.ts';
import {
  TABLES,
  type Announcement,
  type Camera,
  type CameraChange,
  type CameraGroup,
  type DataKeyRow,
  type DeletionReport,
  type ExportJob,
  type Grant,
  type GrantRequest,
  type Hold,
  type Kiosk,
  type KioskChange,
  type LockoutPolicy,
  type NewUser,
  type Org,
  type OrgDeletion,
  type Preferences,
  type Role,
  type Rows,
  type SessionFamily,
  type Share,
  type Snapshot,
  type Table,
  type TotpKey,
  type User,
} from './model.ts';
import { newId, newShareId, FIRST_ORG_NAME } from './ids.ts';
import type { ExportPatch, Store, StoreHealth } from './Store.ts';

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
  exports: ExportJob[];
  preferences: { userId: string; preferences: Preferences }[];
}

/** accounts.json: rows keyed by id, name or user id. */
interface AccountsJson {
  version: 1;
  families: Record<string, SessionFamily>;
  failures: Record<string, { at: number[]; lockedUntilMs?: number }>;
  totp: Record<string, Omit<TotpKey, 'userId'>>;
}

const DB_TABLES = ['orgs', 'deletionReports', 'users', 'cameras', 'groups', 'grants', 'announcements', 'dataKeys', 'holds', 'shares', 'kiosks', 'exports', 'preferences'] as const satisfies readonly Table[];
const ACCOUNT_TABLES = ['sessions', 'loginFailures', 'totp'] as const satisfies readonly Table[];
// addressFailures stay in memory: addresses change, and a restart forgiving them is fine.

export interface FileStoreOptions {
  dataDir: string;
  log: Logger;
  auditRetentionDays: number;
}

export class FileStore extends Catalog implements Store {
  readonly kind = 'files';
  readonly #dataDir: string;
  readonly #db: Low<DbJson>;
  readonly #accountsFile: string;
  #audit: FileAuditLog | undefined;
  #accountsWriting: Promise<void> = Promise.resolve();
  /** The accounts write that will take the next state, while it has not started (see #saveAccounts). */
  #accountsQueued: Promise<void> | undefined;

  /** The metadata files only (no audit log): tools that read the catalog, tests. */
  static async open(dataDir: string): Promise<FileStore> {
    await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
    const db = await JSONFilePreset<DbJson>(path.join(dataDir, 'db.json'), emptyDb());
    const store = new FileStore(dataDir, db);
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
    return store;
  }

  private constructor(dataDir: string, db: Low<DbJson>) {
    super();
    this.#dataDir = dataDir;
    this.#db = db;
    this.#accountsFile = path.join(dataDir, 'accounts.json');
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
  sharedSecret(name: 'jwtSecret', bytes: number): Promise<string> {
    return persistentSecret(path.join(this.#dataDir, 'secrets.json'), name, bytes);
  }
  async sync(): Promise<void> {
    // One process owns the folder: memory is always current.
  }
  async close(): Promise<void> {
    await this.#accountsWriting.catch(() => undefined);
    await this.#audit?.close();
  }

  // --- Organisations -------------------------------------------------------------------------

  async addOrg(name: string, firstAdmin?: Omit<NewUser, 'orgId' | 'role' | 'platform'>): Promise<{ org: Org; admin?: User }> {
    if (firstAdmin && this.userByName(firstAdmin.username)) throw usernameTaken(firstAdmin.username);
    const org: Org = { id: newId('org'), name, createdAt: now() };
    this.put('orgs', org);
    let admin: User | undefined;
    if (firstAdmin) this.put('users', (admin = { ...firstAdmin, orgId: org.id, role: 'admin', id: newId('u'), createdAt: now() }));
    await this.#saveDb();
    return { org, ...(admin ? { admin } : {}) };
  }
  async renameOrg(id: string, name: string): Promise<Org | undefined> {
    return this.#change('orgs', id, (o) => ({ ...o, name }));
  }
  async setOrgDeletion(id: string, deletion: OrgDeletion | undefined): Promise<Org | undefined> {
    return this.#change('orgs', id, ({ deletion: _old, ...o }) => (deletion ? { ...o, deletion } : o));
  }
  async removeOrg(id: string, report: DeletionReport): Promise<void> {
    for (const cam of this.camerasOf(id)) this.#dropCamera(cam.id);
    for (const user of this.usersOf(id)) this.#dropUser(user.id);
    for (const g of this.groupsOf(id)) this.drop('groups', g.id);
    for (const g of this.grantsIn(id)) this.drop('grants', g.id);
    for (const a of this.rows('announcements')) if (a.orgId === id) this.drop('announcements', a.id);
    for (const k of this.kiosks) if (k.orgId === id) this.drop('kiosks', k.id);
    this.drop('orgs', id);
    this.put('deletionReports', report);
    await this.#saveDb();
  }
  async ensurePlatformAdmin(username: string, passwordHash: string): Promise<{ created: boolean; user: User }> {
    const existing = this.users.find((u) => u.platform);
    if (existing) return { created: false, user: existing };
    if (this.userByName(username)) throw usernameTaken(username);
    let org = this.orgs[0];
    if (!org) this.put('orgs', (org = { id: newId('org'), name: FIRST_ORG_NAME, createdAt: now() }));
    const user: User = { id: newId('u'), orgId: org.id, username, role: 'admin', platform: true, passwordHash, createdAt: now() };
    this.put('users', user);
    await this.#saveDb();
    return { created: true, user };
  }

  // --- Users ---------------------------------------------------------------------------------

  async addUser(user: NewUser): Promise<User> {
    if (this.userByName(user.username)) throw usernameTaken(user.username);
    const row: User = { ...user, id: newId('u'), createdAt: now() };
    this.put('users', row);
    await this.#saveDb();
    return row;
  }
  async setUserRole(id: string, role: Role): Promise<User | undefined> {
    const user = this.userById(id);
    if (!user) return undefined;
    if (role !== 'admin' && this.#isLastAdmin(user)) throw lastAdmin();
    return this.#change('users', id, (u) => ({ ...u, role }));
  }
  async setUserPassword(id: string, passwordHash: string): Promise<User | undefined> {
    return this.#change('users', id, (u) => ({ ...u, passwordHash }));
  }
  async deleteUser(id: string): Promise<boolean> {
    const user = this.userById(id);
    if (!user) return false;
    if (this.#isLastAdmin(user)) throw lastAdmin();
    this.#dropUser(id);
    await this.#saveDb();
    return true;
  }
  #isLastAdmin(user: User): boolean {
    return user.role === 'admin' && this.usersOf(user.orgId).filter((u) => u.role === 'admin').length === 1;
  }
  #dropUser(id: string): void {
    for (const g of this.grantsOf(id)) this.drop('grants', g.id);
    this.drop('preferences', id);
    this.drop('users', id);
  }

  // --- Cameras -------------------------------------------------------------------------------

  async addCamera(orgId: string, name: string, secretHash: string): Promise<Camera> {
    const row: Camera = { id: newId('cam'), orgId, name, secretHash, createdAt: now() };
    this.put('cameras', row);
    await this.#saveDb();
    return row;
  }
  async setCameraSecret(id: string, secretHash: string, graceUntil?: Date): Promise<Camera | undefined> {
    return this.#change('cameras', id, ({ previousSecret: _old, ...cam }) => ({
      ...cam,
      secretHash,
      ...(graceUntil ? { previousSecret: { hash: cam.secretHash, until: graceUntil.toISOString() } } : {}),
    }));
  }
  async updateCamera(id: string, change: CameraChange): Promise<Camera | undefined> {
    return this.#change('cameras', id, (cam) => applyCameraChange(cam, change));
  }
  async deleteCamera(id: string): Promise<boolean> {
    if (!this.camera(id)) return false;
    this.#dropCamera(id);
    await this.#saveDb();
    return true;
  }
  #dropCamera(id: string): void {
    for (const g of this.rows('grants')) if (g.cameraId === id) this.drop('grants', g.id);
    for (const h of this.holdsOf(id)) this.drop('holds', h.id);
    for (const s of this.rows('shares')) if (s.cameraId === id) this.drop('shares', s.id);
    for (const e of this.rows('exports')) if (e.cameraId === id) this.drop('exports', e.id);
    this.drop('dataKeys', id);
    for (const k of this.kiosks) if (k.cameraIds.includes(id)) this.put('kiosks', { ...k, cameraIds: k.cameraIds.filter((c) => c !== id) });
    for (const g of this.rows('groups')) if (g.cameraIds.includes(id)) this.put('groups', { ...g, cameraIds: g.cameraIds.filter((c) => c !== id) });
    this.drop('cameras', id);
  }

  // --- Groups and grants ---------------------------------------------------------------------

  async addGroup(group: Omit<CameraGroup, 'id' | 'createdAt'>): Promise<CameraGroup> {
    const row: CameraGroup = { ...group, id: newId('grp'), createdAt: now() };
    this.put('groups', row);
    await this.#saveDb();
    return row;
  }
  async updateGroup(id: string, change: { name?: string; cameraIds?: string[] }): Promise<CameraGroup | undefined> {
    return this.#change('groups', id, (g) => ({ ...g, ...(change.name !== undefined ? { name: change.name } : {}), ...(change.cameraIds ? { cameraIds: change.cameraIds } : {}) }));
  }
  async deleteGroup(id: string): Promise<boolean> {
    if (!this.group(id)) return false;
    for (const g of this.rows('grants')) if (g.groupId === id) this.drop('grants', g.id);
    this.drop('groups', id);
    await this.#saveDb();
    return true;
  }
  async setGrant(request: GrantRequest): Promise<Grant | undefined> {
    const existing = this.rows('grants').find((g) => g.userId === request.userId && g.cameraId === request.cameraId && g.groupId === request.groupId);
    let result: Grant | undefined;
    if (request.rights.length === 0) {
      if (existing) this.drop('grants', existing.id);
    } else if (existing) {
      this.put('grants', (result = { ...existing, rights: request.rights }));
    } else {
      this.put('grants', (result = { ...withoutUndefined(request), id: newId('grant'), createdAt: now() }));
    }
    await this.#saveDb();
    return result;
  }
  async deleteGrant(id: string): Promise<Grant | undefined> {
    const grant = this.drop('grants', id);
    await this.#saveDb();
    return grant;
  }

  // --- Notices, keys, holds ------------------------------------------------------------------

  async addAnnouncement(row: Omit<Announcement, 'id' | 'createdAt'>): Promise<Announcement> {
    const a: Announcement = { ...row, id: newId('ann'), createdAt: now() };
    this.put('announcements', a);
    await this.#saveDb();
    return a;
  }
  async deleteAnnouncement(id: string): Promise<void> {
    this.drop('announcements', id);
    await this.#saveDb();
  }
  async addWrappedKey(cameraId: string, key: WrappedKey): Promise<WrappedKey> {
    const existing = this.wrappedKey(cameraId);
    if (existing) return existing;
    this.put('dataKeys', { cameraId, key });
    await this.#saveDb();
    return key;
  }
  async saveWrappedKeys(entries: readonly DataKeyRow[]): Promise<void> {
    for (const e of entries) this.put('dataKeys', { cameraId: e.cameraId, key: e.key });
    await this.#saveDb();
  }
  async addHold(hold: Omit<Hold, 'id' | 'createdAt'>): Promise<Hold> {
    const row: Hold = { ...hold, id: newId('hold'), createdAt: now() };
    this.put('holds', row);
    await this.#saveDb();
    return row;
  }
  async removeHold(cameraId: string, id: string): Promise<boolean> {
    if (this.row('holds', id)?.cameraId !== cameraId) return false;
    this.drop('holds', id);
    await this.#saveDb();
    return true;
  }

  // --- Shares --------------------------------------------------------------------------------

  async addShare(share: Omit<Share, 'id' | 'createdAt' | 'uses' | 'passwordFailures'>): Promise<Share> {
    const row: Share = { ...withoutUndefined(share), id: newShareId(), createdAt: now(), uses: 0 };
    this.put('shares', row);
    await this.#saveDb();
    return row;
  }
  async shareOpened(id: string): Promise<Share | undefined> {
    return this.#change('shares', id, ({ passwordFailures: _f, ...s }) => ({ ...s, uses: s.uses + 1 }));
  }
  async sharePasswordFailed(id: string, nowMs: number, windowMs: number): Promise<number> {
    const share = await this.#change('shares', id, (s) => ({ ...s, passwordFailures: [...(s.passwordFailures ?? []).filter((t) => t > nowMs - windowMs), nowMs].slice(-64) }));
    return share?.passwordFailures?.length ?? 0;
  }
  async revokeShare(id: string): Promise<Share | undefined> {
    return this.#change('shares', id, (s) => (s.revokedAt ? s : { ...s, revokedAt: now() }));
  }

  // --- Kiosks --------------------------------------------------------------------------------

  async addKiosk(kiosk: Omit<Kiosk, 'id' | 'createdAt' | 'generation'>): Promise<Kiosk> {
    const row: Kiosk = { ...kiosk, id: newId('kiosk'), createdAt: now(), generation: 1 };
    this.put('kiosks', row);
    await this.#saveDb();
    return row;
  }
  async updateKiosk(id: string, change: KioskChange): Promise<Kiosk | undefined> {
    return this.#change('kiosks', id, (k) => ({ ...k, ...withoutUndefined(change) }));
  }
  async rotateKioskToken(id: string, tokenHash: string): Promise<Kiosk | undefined> {
    return this.#change('kiosks', id, (k) => ({ ...k, tokenHash, generation: k.generation + 1 }));
  }
  async deleteKiosk(id: string): Promise<boolean> {
    const gone = this.drop('kiosks', id) !== undefined;
    await this.#saveDb();
    return gone;
  }

  // --- Exports -------------------------------------------------------------------------------

  async addExport(job: Omit<ExportJob, 'id' | 'createdAt' | 'status' | 'progress' | 'owner'>): Promise<ExportJob> {
    const row: ExportJob = { ...job, id: newId('exp'), createdAt: now(), status: 'queued', progress: 0 };
    this.put('exports', row);
    await this.#saveDb();
    return row;
  }
  async claimExport(id: string, owner: string): Promise<boolean> {
    const job = this.exportJob(id);
    if (!job || (job.status !== 'queued' && job.status !== 'running') || (job.owner !== undefined && job.owner !== owner)) return false;
    this.put('exports', { ...job, owner });
    await this.#saveDb();
    return true;
  }
  async updateExport(id: string, patch: ExportPatch, options: { persist?: boolean } = {}): Promise<ExportJob | undefined> {
    const job = this.exportJob(id);
    if (!job) return undefined;
    const row = { ...job, ...patch };
    this.put('exports', row);
    if (options.persist !== false) await this.#saveDb();
    return row;
  }
  async deleteExport(id: string): Promise<void> {
    this.drop('exports', id);
    await this.#saveDb();
  }

  // --- Preferences ---------------------------------------------------------------------------

  async setPreferences(userId: string, preferences: Preferences): Promise<Preferences> {
    const merged = { ...this.preferences(userId), ...preferences };
    this.put('preferences', { userId, preferences: merged });
    await this.#saveDb();
    return merged;
  }

  // --- Account security state ----------------------------------------------------------------

  async addSession(family: SessionFamily): Promise<void> {
    this.put('sessions', family);
    await this.#saveAccounts();
  }
  async rotateSession(id: string, from: string, to: string, nowMs: number, keepUsed: number): Promise<boolean> {
    const f = this.session(id);
    if (!f || f.revokedAtMs !== undefined || f.currentHash !== from) return false;
    this.put('sessions', { ...f, usedHashes: [...f.usedHashes, from].slice(-keepUsed), previousHash: from, rotatedAtMs: nowMs, currentHash: to, lastUsedAtMs: nowMs });
    await this.#saveAccounts();
    return true;
  }
  async revokeSession(id: string, reason: string, nowMs: number): Promise<boolean> {
    const f = this.session(id);
    if (!f || f.revokedAtMs !== undefined) return false;
    this.put('sessions', { ...f, revokedAtMs: nowMs, revokedReason: reason });
    await this.#saveAccounts();
    return true;
  }
  async revokeSessionsOf(userId: string, reason: string, nowMs: number, keep?: string): Promise<string[]> {
    const revoked: string[] = [];
    for (const f of this.sessionsOf(userId)) {
      if (f.revokedAtMs !== undefined || f.id === keep) continue;
      this.put('sessions', { ...f, revokedAtMs: nowMs, revokedReason: reason });
      revoked.push(f.id);
    }
    if (revoked.length) await this.#saveAccounts();
    return revoked;
  }
  async recordLoginFailure(name: string, nowMs: number, policy: LockoutPolicy): Promise<{ failures: number; lockedUntilMs?: number }> {
    const entry = this.loginFailures(name);
    let at = [...(entry?.at ?? []).filter((t) => t > nowMs - policy.windowMs), nowMs].slice(-policy.failures);
    let lockedUntilMs = entry?.lockedUntilMs;
    let locked: number | undefined;
    if (at.length >= policy.failures) {
      locked = lockedUntilMs = nowMs + policy.lockMs;
      at = [];
    }
    this.put('loginFailures', { name, at, ...(lockedUntilMs !== undefined ? { lockedUntilMs } : {}) });
    await this.#saveAccounts();
    return { failures: at.length, ...(locked !== undefined ? { lockedUntilMs: locked } : {}) };
  }
  async clearLoginFailures(name: string, nowMs: number): Promise<boolean> {
    const entry = this.drop('loginFailures', name);
    if (!entry) return false;
    await this.#saveAccounts();
    return (entry.lockedUntilMs ?? 0) > nowMs;
  }
  async recordAddressFailure(address: string, nowMs: number, windowMs: number): Promise<number[]> {
    const at = [...(this.addressFailures(address)?.at ?? []).filter((t) => t > nowMs - windowMs), nowMs].slice(-64);
    this.put('addressFailures', { address, at });
    return at;
  }
  async beginTotp(userId: string, sealed: string): Promise<boolean> {
    if (this.totpKey(userId)?.enabled) return false;
    this.put('totp', { userId, sealed, enabled: false });
    await this.#saveAccounts();
    return true;
  }
  async useTotpStep(userId: string, step: number, enable: boolean): Promise<boolean> {
    const key = this.totpKey(userId);
    if (!key || (key.lastStep !== undefined && step <= key.lastStep)) return false;
    this.put('totp', { ...key, lastStep: step, enabled: key.enabled || enable });
    await this.#saveAccounts();
    return true;
  }
  async deleteTotp(userId: string): Promise<void> {
    if (!this.drop('totp', userId)) return;
    await this.#saveAccounts();
  }
  async pruneAccounts(nowMs: number, sessionEnd: (f: SessionFamily) => number, keepEndedMs: number, failureWindowMs: number): Promise<void> {
    let changed = false;
    for (const f of this.rows('sessions')) {
      if ((f.revokedAtMs ?? sessionEnd(f)) + keepEndedMs < nowMs) changed = this.drop('sessions', f.id) !== undefined || changed;
    }
    for (const e of this.rows('loginFailures')) {
      if ((e.lockedUntilMs ?? 0) < nowMs && e.at.every((t) => t <= nowMs - failureWindowMs)) changed = this.drop('loginFailures', e.name) !== undefined || changed;
    }
    for (const e of this.rows('addressFailures')) if (e.at.every((t) => t <= nowMs - failureWindowMs)) this.drop('addressFailures', e.address);
    if (changed) await this.#saveAccounts();
  }

  // --- Whole store ---------------------------------------------------------------------------

  async load(snapshot: Snapshot): Promise<void> {
    if (TABLES.some((t) => this.rows(t).length > 0)) throw new StoreError('store_not_empty', `${this.#dataDir} already holds metadata; load into an empty data folder`);
    this.replaceAll(snapshot);
    await this.#saveDb();
    await this.#saveAccounts();
  }

  // --- Files ---------------------------------------------------------------------------------

  async #change<T extends 'orgs' | 'users' | 'cameras' | 'groups' | 'shares' | 'kiosks'>(table: T, id: string, next: (row: Rows[T]) => Rows[T]): Promise<Rows[T] | undefined> {
    const row = this.row(table, id);
    if (!row) return undefined;
    const changed = next(row);
    this.put(table, changed);
    await this.#saveDb();
    return changed;
  }

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
    for (const e of d.exports) this.put('exports', e);
    for (const p of d.preferences) this.put('preferences', p);
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
      exports: [...this.rows('exports')],
      preferences: [...this.rows('preferences')],
    };
    return this.#db.write();
  }

  async #loadAccounts(): Promise<void> {
    let parsed: Partial<AccountsJson> = {};
    try {
      parsed = JSON.parse(await fs.readFile(this.#accountsFile, 'utf8')) as Partial<AccountsJson>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${this.#accountsFile}: ${(err as Error).message}; fix or remove the file (removing it signs everyone out and turns TOTP off)`);
    }
    for (const f of Object.values(parsed.families ?? {})) this.put('sessions', f);
    for (const [name, e] of Object.entries(parsed.failures ?? {})) this.put('loginFailures', { name, ...e });
    for (const [userId, t] of Object.entries(parsed.totp ?? {})) this.put('totp', { userId, ...t });
  }

  /**
   * Writes are serialized and atomic (temp file + rename), 0600: the file holds secrets. Saves that
   * arrive while a write runs share the next write, which takes the state as it is when it starts:
   * under many refreshes at once, one write per turn instead of one per refresh.
   */
  #saveAccounts(): Promise<void> {
    if (!this.#accountsQueued) {
      this.#accountsQueued = this.#accountsWriting
        .catch(() => undefined)
        .then(async () => {
          this.#accountsQueued = undefined;
          const state: AccountsJson = {
            version: 1,
            families: Object.fromEntries(this.rows('sessions').map((f) => [f.id, f])),
            failures: Object.fromEntries(this.rows('loginFailures').map(({ name, ...e }) => [name, e])),
            totp: Object.fromEntries(this.rows('totp').map(({ userId, ...t }) => [userId, t])),
          };
          const tmp = `${this.#accountsFile}.${process.pid}.tmp`;
          await fs.writeFile(tmp, JSON.stringify(state), { mode: 0o600 });
          await fs.rename(tmp, this.#accountsFile);
        });
      this.#accountsWriting = this.#accountsQueued;
    }
    return this.#accountsQueued;
  }
}

/** Which tables the files hold where (the PostgreSQL store has one table each). */
export const FILE_TABLES = { db: DB_TABLES, accounts: ACCOUNT_TABLES } as const;

const now = () => new Date().toISOString();

export function applyCameraChange(cam: Camera, change: CameraChange): Camera {
  const next = { ...cam };
  if (change.name !== undefined) next.name = change.name;
  if (change.recording) {
    const retentionDays = change.recording.retentionDays ?? cam.recording?.retentionDays;
    next.recording = { enabled: change.recording.enabled ?? cam.recording?.enabled ?? true, ...(retentionDays !== undefined ? { retentionDays } : {}) };
  }
  return next;
}

/** Optional fields are absent, never `undefined`, so rows compare and serialise the same from every store. */
export function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
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
  exports: [],
  preferences: [],
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
  d.exports ??= [];
  d.preferences ??= [];
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
