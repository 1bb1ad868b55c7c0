// Every write of the store, written once against a transaction (Tx): the files store runs it on
// its memory inside one process, PostgreSQL inside a database transaction that holds the store's
// write lock. So the rules (the last administrator stays, one grant per user and camera, a
// refresh token is good once, the first data key wins) are the same code in both, and atomic in
// both: across nodes because the database serialises these transactions.
import type { WrappedKey } from '../../recorder/seal/index.ts';
import { Catalog } from './Catalog.ts';
import { lastAdmin, StoreError, usernameTaken } from './errors.ts';
import { FIRST_ORG_NAME, newId, newShareId } from './ids.ts';
import {
  MAX_GROUP_DEPTH,
  MAX_LAYOUTS_PER_ORG,
  MAX_LAYOUTS_PER_USER,
  TABLES,
  type Announcement,
  type ApiKey,
  type Camera,
  type CameraChange,
  type CameraOwner,
  type CameraGroup,
  type CameraGroupChange,
  type DataKeyRow,
  type DeletionReport,
  type ExportJob,
  type Grant,
  type GrantRequest,
  type Hold,
  type Kiosk,
  type KioskChange,
  type LayoutChange,
  type LockoutPolicy,
  type NewUser,
  type Org,
  type OrgDeletion,
  type Preferences,
  type Role,
  type Rows,
  type SavedLayout,
  type SessionFamily,
  type Share,
  type Snapshot,
  type Table,
  type User,
  type Webhook,
  type WebhookChange,
} from './model.ts';
import type { ExportPatch } from './Store.ts';

/** Fields of a table's rows that hold a plain value (what `where` can compare). */
export type ScalarField<T extends Table> = { [K in keyof Rows[T]]-?: Rows[T][K] extends string | number | boolean | null | undefined ? K : never }[keyof Rows[T]] & string;

/** What an operation may do while it runs: read the store as it is now, and change it. */
export interface Tx {
  get<T extends Table>(table: T, key: string): Promise<Rows[T] | undefined>;
  where<T extends Table>(table: T, field: ScalarField<T>, value: string | boolean): Promise<Rows[T][]>;
  /** Groups, kiosks or saved layouts whose camera list holds the camera. */
  holding<T extends 'groups' | 'kiosks' | 'layouts'>(table: T, cameraId: string): Promise<Rows[T][]>;
  /** The oldest organisation (the first one, made at first start). */
  firstOrg(): Promise<Org | undefined>;
  isEmpty(table: Table): Promise<boolean>;
  /** Adds or replaces the whole row. */
  put<T extends Table>(table: T, row: Rows[T]): Promise<void>;
  drop(table: Table, key: string): Promise<void>;
}

export abstract class Operations extends Catalog {
  /** Runs `operation` as one atomic change of the store. */
  protected abstract transact<R>(operation: (tx: Tx) => Promise<R>): Promise<R>;
  /** A change kept in this node's memory only (export progress between saves). */
  protected abstract putLocal<T extends Table>(table: T, row: Rows[T]): void;

  // --- Organisations -------------------------------------------------------------------------

  addOrg(name: string, firstAdmin?: Omit<NewUser, 'orgId' | 'role' | 'platform'>): Promise<{ org: Org; admin?: User }> {
    return this.transact(async (tx) => {
      if (firstAdmin && (await tx.where('users', 'username', firstAdmin.username)).length > 0) throw usernameTaken(firstAdmin.username);
      const org: Org = { id: newId('org'), name, createdAt: now() };
      await tx.put('orgs', org);
      if (!firstAdmin) return { org };
      const admin: User = { ...firstAdmin, orgId: org.id, role: 'admin', id: newId('u'), createdAt: now() };
      await tx.put('users', admin);
      return { org, admin };
    });
  }
  renameOrg(id: string, name: string): Promise<Org | undefined> {
    return this.#change('orgs', id, (o) => ({ ...o, name }));
  }
  setOrgDeletion(id: string, deletion: OrgDeletion | undefined): Promise<Org | undefined> {
    return this.#change('orgs', id, ({ deletion: _old, ...o }) => (deletion ? { ...o, deletion } : o));
  }
  removeOrg(id: string, report: DeletionReport): Promise<void> {
    return this.transact(async (tx) => {
      for (const cam of await tx.where('cameras', 'orgId', id)) await dropCamera(tx, cam.id);
      for (const user of await tx.where('users', 'orgId', id)) await dropUser(tx, user.id);
      for (const g of await tx.where('grants', 'orgId', id)) await tx.drop('grants', g.id);
      for (const g of await tx.where('groups', 'orgId', id)) await tx.drop('groups', g.id);
      for (const l of await tx.where('layouts', 'orgId', id)) await tx.drop('layouts', l.id);
      for (const a of await tx.where('announcements', 'orgId', id)) await tx.drop('announcements', a.id);
      for (const k of await tx.where('kiosks', 'orgId', id)) await tx.drop('kiosks', k.id);
      for (const k of await tx.where('apiKeys', 'orgId', id)) await tx.drop('apiKeys', k.id);
      for (const w of await tx.where('webhooks', 'orgId', id)) await tx.drop('webhooks', w.id);
      await tx.drop('orgs', id);
      await tx.put('deletionReports', report);
    });
  }
  ensurePlatformAdmin(username: string, passwordHash: string): Promise<{ created: boolean; user: User }> {
    return this.transact(async (tx) => {
      const existing = (await tx.where('users', 'platform', true))[0];
      if (existing) return { created: false, user: existing };
      if ((await tx.where('users', 'username', username)).length > 0) throw usernameTaken(username);
      let org = await tx.firstOrg();
      if (!org) await tx.put('orgs', (org = { id: newId('org'), name: FIRST_ORG_NAME, createdAt: now() }));
      const user: User = { id: newId('u'), orgId: org.id, username, role: 'admin', platform: true, passwordHash, createdAt: now() };
      await tx.put('users', user);
      return { created: true, user };
    });
  }

  // --- Users ---------------------------------------------------------------------------------

  addUser(user: NewUser): Promise<User> {
    return this.transact(async (tx) => {
      if ((await tx.where('users', 'username', user.username)).length > 0) throw usernameTaken(user.username);
      const row: User = { ...withoutUndefined(user), id: newId('u'), createdAt: now() };
      await tx.put('users', row);
      return row;
    });
  }
  setUserRole(id: string, role: Role): Promise<User | undefined> {
    return this.transact(async (tx) => {
      const user = await tx.get('users', id);
      if (!user) return undefined;
      if (role !== 'admin' && (await isLastAdmin(tx, user))) throw lastAdmin();
      const row = { ...user, role };
      await tx.put('users', row);
      return row;
    });
  }
  setUserPassword(id: string, passwordHash: string): Promise<User | undefined> {
    return this.#change('users', id, (u) => ({ ...u, passwordHash }));
  }
  deleteUser(id: string): Promise<boolean> {
    return this.transact(async (tx) => {
      const user = await tx.get('users', id);
      if (!user) return false;
      if (await isLastAdmin(tx, user)) throw lastAdmin();
      await dropUser(tx, id);
      return true;
    });
  }

  // --- Cameras -------------------------------------------------------------------------------

  addCamera(orgId: string, name: string, secretHash: string): Promise<Camera> {
    return this.#add('cameras', { id: newId('cam'), orgId, name, secretHash, createdAt: now() });
  }
  setCameraSecret(id: string, secretHash: string, graceUntil?: Date): Promise<Camera | undefined> {
    return this.#change('cameras', id, ({ previousSecret: _old, ...cam }) => ({
      ...cam,
      secretHash,
      ...(graceUntil ? { previousSecret: { hash: cam.secretHash, until: graceUntil.toISOString() } } : {}),
    }));
  }
  updateCamera(id: string, change: CameraChange): Promise<Camera | undefined> {
    return this.#change('cameras', id, (cam) => applyCameraChange(cam, change));
  }
  deleteCamera(id: string): Promise<boolean> {
    return this.transact(async (tx) => {
      if (!(await tx.get('cameras', id))) return false;
      await dropCamera(tx, id);
      return true;
    });
  }

  // --- Groups and grants ---------------------------------------------------------------------

  addGroup(group: Omit<CameraGroup, 'id' | 'createdAt'>): Promise<CameraGroup> {
    return this.transact(async (tx) => {
      const row: CameraGroup = { ...withoutUndefined(group), id: newId('grp'), createdAt: now() };
      if (row.parentId !== undefined) await checkPlace(tx, row, row.parentId);
      await tx.put('groups', row);
      return row;
    });
  }
  updateGroup(id: string, change: CameraGroupChange): Promise<CameraGroup | undefined> {
    // In one transaction with the checks: two moves at once (on two nodes) cannot close a cycle.
    return this.transact(async (tx) => {
      const group = await tx.get('groups', id);
      if (!group) return undefined;
      const { parentId: _old, ...rest } = group;
      const parentId = change.parentId === undefined ? group.parentId : (change.parentId ?? undefined);
      const row: CameraGroup = {
        ...rest,
        ...(change.name !== undefined ? { name: change.name } : {}),
        ...(change.cameraIds ? { cameraIds: change.cameraIds } : {}),
        ...(parentId !== undefined ? { parentId } : {}),
      };
      if (parentId !== undefined && parentId !== group.parentId) await checkPlace(tx, row, parentId);
      await tx.put('groups', row);
      return row;
    });
  }
  deleteGroup(id: string): Promise<boolean> {
    return this.transact(async (tx) => {
      const group = await tx.get('groups', id);
      if (!group) return false;
      for (const g of await tx.where('grants', 'groupId', id)) await tx.drop('grants', g.id);
      // Its children take its place under its parent (or at the top): nothing is left hanging.
      for (const child of await tx.where('groups', 'parentId', id)) {
        const { parentId: _gone, ...rest } = child;
        await tx.put('groups', group.parentId !== undefined ? { ...rest, parentId: group.parentId } : rest);
      }
      await tx.drop('groups', id);
      return true;
    });
  }
  setGrant(request: GrantRequest): Promise<Grant | undefined> {
    return this.transact(async (tx) => {
      const existing = (await tx.where('grants', 'userId', request.userId)).find((g) => g.cameraId === request.cameraId && g.groupId === request.groupId);
      if (request.rights.length === 0) {
        if (existing) await tx.drop('grants', existing.id);
        return undefined;
      }
      const row: Grant = existing ? { ...existing, rights: request.rights } : { ...withoutUndefined(request), id: newId('grant'), createdAt: now() };
      await tx.put('grants', row);
      return row;
    });
  }
  deleteGrant(id: string): Promise<Grant | undefined> {
    return this.transact(async (tx) => {
      const grant = await tx.get('grants', id);
      if (grant) await tx.drop('grants', id);
      return grant;
    });
  }

  // --- Notices, keys, holds ------------------------------------------------------------------

  addAnnouncement(row: Omit<Announcement, 'id' | 'createdAt'>): Promise<Announcement> {
    return this.#add('announcements', { ...row, id: newId('ann'), createdAt: now() });
  }
  async deleteAnnouncement(id: string): Promise<void> {
    await this.#remove('announcements', id);
  }
  addWrappedKey(cameraId: string, key: WrappedKey): Promise<WrappedKey> {
    return this.transact(async (tx) => {
      const existing = await tx.get('dataKeys', cameraId);
      if (existing) return existing.key;
      await tx.put('dataKeys', { cameraId, key });
      return key;
    });
  }
  async saveWrappedKeys(entries: readonly DataKeyRow[]): Promise<void> {
    await this.transact(async (tx) => {
      for (const e of entries) await tx.put('dataKeys', { cameraId: e.cameraId, key: e.key });
    });
  }
  addHold(hold: Omit<Hold, 'id' | 'createdAt'>): Promise<Hold> {
    return this.#add('holds', { ...hold, id: newId('hold'), createdAt: now() });
  }
  removeHold(cameraId: string, id: string): Promise<boolean> {
    return this.transact(async (tx) => {
      if ((await tx.get('holds', id))?.cameraId !== cameraId) return false;
      await tx.drop('holds', id);
      return true;
    });
  }

  // --- Shares --------------------------------------------------------------------------------

  addShare(share: Omit<Share, 'id' | 'createdAt' | 'uses' | 'passwordFailures'>): Promise<Share> {
    return this.#add('shares', { ...withoutUndefined(share), id: newShareId(), createdAt: now(), uses: 0 });
  }
  shareOpened(id: string): Promise<Share | undefined> {
    return this.#change('shares', id, ({ passwordFailures: _f, ...s }) => ({ ...s, uses: s.uses + 1 }));
  }
  async sharePasswordFailed(id: string, nowMs: number, windowMs: number): Promise<number> {
    const share = await this.#change('shares', id, (s) => ({ ...s, passwordFailures: [...recent(s.passwordFailures, nowMs, windowMs), nowMs].slice(-64) }));
    return share?.passwordFailures?.length ?? 0;
  }
  revokeShare(id: string): Promise<Share | undefined> {
    return this.#change('shares', id, (s) => (s.revokedAt ? s : { ...s, revokedAt: now() }));
  }

  // --- Kiosks --------------------------------------------------------------------------------

  addKiosk(kiosk: Omit<Kiosk, 'id' | 'createdAt' | 'generation'>): Promise<Kiosk> {
    return this.#add('kiosks', { ...kiosk, id: newId('kiosk'), createdAt: now(), generation: 1 });
  }
  updateKiosk(id: string, change: KioskChange): Promise<Kiosk | undefined> {
    return this.#change('kiosks', id, (k) => ({ ...k, ...withoutUndefined(change) }));
  }
  rotateKioskToken(id: string, tokenHash: string): Promise<Kiosk | undefined> {
    return this.#change('kiosks', id, (k) => ({ ...k, tokenHash, generation: k.generation + 1 }));
  }
  deleteKiosk(id: string): Promise<boolean> {
    return this.#remove('kiosks', id);
  }

  // --- API keys ------------------------------------------------------------------------------

  addApiKey(key: Omit<ApiKey, 'createdAt' | 'lastUsedAt' | 'revokedAt' | 'revokedBy'>): Promise<ApiKey> {
    return this.#add('apiKeys', { ...withoutUndefined(key), createdAt: now() });
  }
  revokeApiKey(id: string, by: string): Promise<ApiKey | undefined> {
    return this.#change('apiKeys', id, (k) => (k.revokedAt ? k : { ...k, revokedAt: now(), revokedBy: by }));
  }
  async apiKeyUsed(id: string, at: Date, minIntervalMs: number): Promise<void> {
    const recent = (k: ApiKey | undefined) => !k || (k.lastUsedAt !== undefined && Date.parse(k.lastUsedAt) > at.getTime() - minIntervalMs);
    // Memory first (it follows every node's writes): most calls stop here without a transaction.
    if (recent(this.apiKey(id))) return;
    await this.transact(async (tx) => {
      const key = await tx.get('apiKeys', id);
      if (!key || recent(key)) return;
      await tx.put('apiKeys', { ...key, lastUsedAt: at.toISOString() });
    });
  }

  // --- Webhooks ------------------------------------------------------------------------------

  addWebhook(webhook: Omit<Webhook, 'createdAt' | 'disabledAt'>): Promise<Webhook> {
    return this.#add('webhooks', { ...withoutUndefined(webhook), events: [...webhook.events], createdAt: now() });
  }
  updateWebhook(id: string, change: WebhookChange): Promise<Webhook | undefined> {
    return this.#change('webhooks', id, ({ disabledAt, ...w }) => {
      const off = change.enabled === undefined ? disabledAt : change.enabled ? undefined : (disabledAt ?? now());
      return {
        ...w,
        ...(change.name !== undefined ? { name: change.name } : {}),
        ...(change.url !== undefined ? { url: change.url } : {}),
        ...(change.events !== undefined ? { events: [...change.events] } : {}),
        ...(off !== undefined ? { disabledAt: off } : {}),
      };
    });
  }
  rotateWebhookSecret(id: string, secret: string): Promise<Webhook | undefined> {
    return this.#change('webhooks', id, (w) => ({ ...w, secret }));
  }
  deleteWebhook(id: string): Promise<boolean> {
    return this.#remove('webhooks', id);
  }

  // --- Exports -------------------------------------------------------------------------------

  addExport(job: Omit<ExportJob, 'id' | 'createdAt' | 'status' | 'progress' | 'owner'>): Promise<ExportJob> {
    return this.#add('exports', { ...job, id: newId('exp'), createdAt: now(), status: 'queued', progress: 0 });
  }
  claimExport(id: string, owner: string): Promise<boolean> {
    return this.transact(async (tx) => {
      const job = await tx.get('exports', id);
      if (!job || (job.status !== 'queued' && job.status !== 'running') || (job.owner !== undefined && job.owner !== owner)) return false;
      await tx.put('exports', { ...job, owner });
      return true;
    });
  }
  async updateExport(id: string, patch: ExportPatch, options: { persist?: boolean } = {}): Promise<ExportJob | undefined> {
    if (options.persist === false) {
      const job = this.exportJob(id);
      if (!job) return undefined;
      const row = { ...job, ...patch };
      this.putLocal('exports', row);
      return row;
    }
    return this.#change('exports', id, (job) => ({ ...job, ...patch }));
  }
  async deleteExport(id: string): Promise<void> {
    await this.#remove('exports', id);
  }

  // --- Preferences ---------------------------------------------------------------------------

  setPreferences(userId: string, preferences: Preferences): Promise<Preferences> {
    return this.transact(async (tx) => {
      const merged = { ...(await tx.get('preferences', userId))?.preferences, ...preferences };
      await tx.put('preferences', { userId, preferences: merged });
      return merged;
    });
  }

  addLayout(layout: Omit<SavedLayout, 'id' | 'createdAt' | 'updatedAt'>): Promise<SavedLayout> {
    return this.transact(async (tx) => {
      // Counted inside the transaction: two saves at once (two tabs, two nodes) cannot pass the limit.
      const existing = await tx.where('layouts', 'orgId', layout.orgId);
      if (layout.userId !== undefined) {
        if (existing.filter((l) => l.userId === layout.userId).length >= MAX_LAYOUTS_PER_USER) {
          throw new StoreError('layout_limit', `you keep ${MAX_LAYOUTS_PER_USER} layouts of your own, as many as you may; delete one first`);
        }
      } else if (existing.filter((l) => l.userId === undefined).length >= MAX_LAYOUTS_PER_ORG) {
        throw new StoreError('layout_limit', `the organisation keeps ${MAX_LAYOUTS_PER_ORG} shared layouts, as many as it may; delete one first`);
      }
      const at = now();
      const row: SavedLayout = { ...withoutUndefined(layout), cameraIds: fitSlots(layout.cameraIds, layout.size), id: newId('lay'), createdAt: at, updatedAt: at };
      await tx.put('layouts', row);
      return row;
    });
  }
  updateLayout(id: string, change: LayoutChange): Promise<SavedLayout | undefined> {
    return this.#change('layouts', id, (l) => {
      const size = change.size ?? l.size;
      return { ...l, ...(change.name !== undefined ? { name: change.name } : {}), size, cameraIds: fitSlots(change.cameraIds ?? l.cameraIds, size), updatedAt: now() };
    });
  }
  deleteLayout(id: string): Promise<boolean> {
    return this.#remove('layouts', id);
  }

  // --- Account security state ----------------------------------------------------------------

  async addSession(family: SessionFamily): Promise<void> {
    await this.#add('sessions', family);
  }
  rotateSession(id: string, from: string, to: string, nowMs: number, keepUsed: number): Promise<boolean> {
    return this.transact(async (tx) => {
      const f = await tx.get('sessions', id);
      if (!f || f.revokedAtMs !== undefined || f.currentHash !== from) return false;
      await tx.put('sessions', { ...f, usedHashes: [...f.usedHashes, from].slice(-keepUsed), previousHash: from, rotatedAtMs: nowMs, currentHash: to, lastUsedAtMs: nowMs });
      return true;
    });
  }
  revokeSession(id: string, reason: string, nowMs: number): Promise<boolean> {
    return this.transact(async (tx) => {
      const f = await tx.get('sessions', id);
      if (!f || f.revokedAtMs !== undefined) return false;
      await tx.put('sessions', { ...f, revokedAtMs: nowMs, revokedReason: reason });
      return true;
    });
  }
  revokeSessionsOf(userId: string, reason: string, nowMs: number, keep?: string): Promise<string[]> {
    return this.transact(async (tx) => {
      const revoked: string[] = [];
      for (const f of await tx.where('sessions', 'userId', userId)) {
        if (f.revokedAtMs !== undefined || f.id === keep) continue;
        await tx.put('sessions', { ...f, revokedAtMs: nowMs, revokedReason: reason });
        revoked.push(f.id);
      }
      return revoked;
    });
  }
  recordLoginFailure(name: string, nowMs: number, policy: LockoutPolicy): Promise<{ failures: number; lockedUntilMs?: number }> {
    return this.transact(async (tx) => {
      const entry = await tx.get('loginFailures', name);
      let at = [...recent(entry?.at, nowMs, policy.windowMs), nowMs].slice(-policy.failures);
      let lockedUntilMs = entry?.lockedUntilMs;
      let locked: number | undefined;
      if (at.length >= policy.failures) {
        locked = lockedUntilMs = nowMs + policy.lockMs;
        at = [];
      }
      await tx.put('loginFailures', { name, at, ...(lockedUntilMs !== undefined ? { lockedUntilMs } : {}) });
      return { failures: at.length, ...(locked !== undefined ? { lockedUntilMs: locked } : {}) };
    });
  }
  admitLogin(name: string, nowMs: number): Promise<number | undefined> {
    return this.transact(async (tx) => {
      const entry = await tx.get('loginFailures', name);
      if (!entry) return undefined;
      if ((entry.lockedUntilMs ?? 0) > nowMs) return entry.lockedUntilMs;
      await tx.drop('loginFailures', name);
      return undefined;
    });
  }
  clearLoginFailures(name: string, nowMs: number): Promise<boolean> {
    return this.transact(async (tx) => {
      const entry = await tx.get('loginFailures', name);
      if (!entry) return false;
      await tx.drop('loginFailures', name);
      return (entry.lockedUntilMs ?? 0) > nowMs;
    });
  }
  recordAddressFailure(address: string, nowMs: number, windowMs: number): Promise<number[]> {
    return this.transact(async (tx) => {
      const at = [...recent((await tx.get('addressFailures', address))?.at, nowMs, windowMs), nowMs].slice(-64);
      await tx.put('addressFailures', { address, at });
      return at;
    });
  }
  beginTotp(userId: string, sealed: string): Promise<boolean> {
    return this.transact(async (tx) => {
      if ((await tx.get('totp', userId))?.enabled) return false;
      await tx.put('totp', { userId, sealed, enabled: false });
      return true;
    });
  }
  useTotpStep(userId: string, step: number, enable: boolean): Promise<boolean> {
    return this.transact(async (tx) => {
      const key = await tx.get('totp', userId);
      if (!key || (key.lastStep !== undefined && step <= key.lastStep)) return false;
      await tx.put('totp', { ...key, lastStep: step, enabled: key.enabled || enable });
      return true;
    });
  }
  async deleteTotp(userId: string): Promise<void> {
    await this.#remove('totp', userId);
  }
  async pruneAccounts(nowMs: number, sessionEnd: (f: SessionFamily) => number, keepEndedMs: number, failureWindowMs: number, maxTracked = Infinity): Promise<void> {
    // Candidates from memory (every node holds them all); each is dropped only if still ended.
    const ended = (f: SessionFamily) => (f.revokedAtMs ?? sessionEnd(f)) + keepEndedMs < nowMs;
    const stale = (at: readonly number[]) => at.every((t) => t <= nowMs - failureWindowMs);
    const sessions = this.rows('sessions').filter(ended).map((f) => f.id);
    // Past `maxTracked` names or addresses (names that do not exist count too: a spray of them),
    // the least recent failures are forgotten early, as long as they hold no lockout.
    const last = (at: readonly number[]) => at.reduce((a, b) => Math.max(a, b), 0);
    const overflow = <T extends { at: number[] }>(rows: readonly T[], droppable: (e: T) => boolean) => {
      const excess = rows.length - maxTracked;
      return excess <= 0 ? [] : rows.filter(droppable).sort((a, b) => last(a.at) - last(b.at)).slice(0, excess);
    };
    const unlocked = (e: { lockedUntilMs?: number }) => (e.lockedUntilMs ?? 0) < nowMs;
    const staleNames = this.rows('loginFailures').filter((e) => unlocked(e) && stale(e.at));
    const staleAddresses = this.rows('addressFailures').filter((e) => stale(e.at));
    const dropping = new Set<object>([...staleNames, ...staleAddresses]);
    const freshNames = this.rows('loginFailures').filter((e) => !dropping.has(e));
    const freshAddresses = this.rows('addressFailures').filter((e) => !dropping.has(e));
    const names = [...staleNames, ...overflow(freshNames, unlocked)].map((e) => e.name);
    const addresses = [...staleAddresses, ...overflow(freshAddresses, () => true)].map((e) => e.address);
    if (sessions.length + names.length + addresses.length === 0) return;
    await this.transact(async (tx) => {
      for (const id of sessions) {
        const f = await tx.get('sessions', id);
        if (f && ended(f)) await tx.drop('sessions', id);
      }
      for (const name of names) {
        const e = await tx.get('loginFailures', name);
        if (e && unlocked(e)) await tx.drop('loginFailures', name);
      }
      for (const address of addresses) await tx.drop('addressFailures', address);
    });
  }

  // --- Cluster -------------------------------------------------------------------------------

  claimCamera(cameraId: string, nodeId: string, nowMs: number): Promise<CameraOwner> {
    return this.transact(async (tx) => {
      const row: CameraOwner = { cameraId, nodeId, epoch: ((await tx.get('owners', cameraId))?.epoch ?? 0) + 1, sinceMs: nowMs };
      await tx.put('owners', row);
      return row;
    });
  }
  owner(cameraId: string): CameraOwner | undefined {
    return this.row('owners', cameraId);
  }
  requestMove(cameraId: string, epoch: number): Promise<boolean> {
    return this.transact(async (tx) => {
      const row = await tx.get('owners', cameraId);
      if (!row || row.epoch !== epoch) return false;
      await tx.put('owners', { ...row, moveRequestedEpoch: epoch });
      return true;
    });
  }

  // --- Whole store ---------------------------------------------------------------------------

  async load(snapshot: Snapshot): Promise<void> {
    await this.transact(async (tx) => {
      for (const table of TABLES) {
        if (!(await tx.isEmpty(table))) throw new StoreError('store_not_empty', `the store already holds ${table}; restore or migrate into an empty one`);
      }
      // Snapshots of older releases lack the tables added since.
      for (const table of TABLES) for (const row of (snapshot[table] ?? []) as Rows[typeof table][]) await tx.put(table, row);
    });
  }

  // --- Shapes of operations ------------------------------------------------------------------

  #add<T extends Table>(table: T, row: Rows[T]): Promise<Rows[T]> {
    return this.transact(async (tx) => {
      await tx.put(table, row);
      return row;
    });
  }
  #change<T extends Table>(table: T, key: string, next: (row: Rows[T]) => Rows[T]): Promise<Rows[T] | undefined> {
    return this.transact(async (tx) => {
      const row = await tx.get(table, key);
      if (!row) return undefined;
      const changed = next(row);
      await tx.put(table, changed);
      return changed;
    });
  }
  #remove(table: Table, key: string): Promise<boolean> {
    return this.transact(async (tx) => {
      if (!(await tx.get(table, key))) return false;
      await tx.drop(table, key);
      return true;
    });
  }
}

async function isLastAdmin(tx: Tx, user: User): Promise<boolean> {
  return user.role === 'admin' && (await tx.where('users', 'orgId', user.orgId)).filter((u) => u.role === 'admin').length === 1;
}

async function dropUser(tx: Tx, id: string): Promise<void> {
  for (const g of await tx.where('grants', 'userId', id)) await tx.drop('grants', g.id);
  for (const l of await tx.where('layouts', 'userId', id)) await tx.drop('layouts', l.id);
  await tx.drop('preferences', id);
  await tx.drop('users', id);
}

/** The camera and everything that names it: grants, holds, shares, exports, its data key, its places in groups, kiosks and saved layouts. */
async function dropCamera(tx: Tx, id: string): Promise<void> {
  for (const g of await tx.where('grants', 'cameraId', id)) await tx.drop('grants', g.id);
  for (const h of await tx.where('holds', 'cameraId', id)) await tx.drop('holds', h.id);
  for (const s of await tx.where('shares', 'cameraId', id)) await tx.drop('shares', s.id);
  for (const e of await tx.where('exports', 'cameraId', id)) await tx.drop('exports', e.id);
  await tx.drop('dataKeys', id);
  for (const k of await tx.holding('kiosks', id)) await tx.put('kiosks', { ...k, cameraIds: k.cameraIds.filter((c) => c !== id) });
  for (const g of await tx.holding('groups', id)) await tx.put('groups', { ...g, cameraIds: g.cameraIds.filter((c) => c !== id) });
  // A layout keeps its shape: the camera's slot becomes empty, the others stay where they were.
  for (const l of await tx.holding('layouts', id)) await tx.put('layouts', { ...l, cameraIds: l.cameraIds.map((c) => (c === id ? null : c)) });
  await tx.drop('cameras', id);
}

/**
 * Whether `group` may sit under `parentId`: a group of its organisation, not itself nor one of its
 * descendants, and the tree no deeper than MAX_GROUP_DEPTH (the group's own subtree included).
 */
async function checkPlace(tx: Tx, group: CameraGroup, parentId: string): Promise<void> {
  const parent = await tx.get('groups', parentId);
  if (!parent || parent.orgId !== group.orgId) throw new StoreError('group_not_found', `group "${parentId}" does not exist or you may not see it; choose a group of your organisation as the parent`);
  // Up from the parent: meeting the group itself means the move would close a loop.
  let depth = 1;
  const seen = new Set<string>();
  for (let at: CameraGroup | undefined = parent; at; at = at.parentId === undefined ? undefined : await tx.get('groups', at.parentId)) {
    if (at.id === group.id) throw new StoreError('group_cycle', `"${group.name}" cannot go under "${parent.name}": that is the group itself or one of its own subgroups; choose a group outside it`);
    if (seen.has(at.id)) break; // a loop left by an older release: stop climbing
    seen.add(at.id);
    depth += 1;
  }
  const total = depth + (await subtreeHeight(tx, group.id, 0)) - 1;
  if (total > MAX_GROUP_DEPTH) {
    throw new StoreError('group_too_deep', `"${group.name}" under "${parent.name}" would make the tree of groups ${total} levels deep; at most ${MAX_GROUP_DEPTH} are allowed, so choose a parent nearer the top`);
  }
}

/** Levels of the subtree under a group, the group included (1: no children). */
async function subtreeHeight(tx: Tx, id: string, below: number): Promise<number> {
  if (below > MAX_GROUP_DEPTH) return below; // already too deep to matter (and safe against a stored loop)
  let height = 1;
  for (const child of await tx.where('groups', 'parentId', id)) height = Math.max(height, 1 + (await subtreeHeight(tx, child.id, below + 1)));
  return height;
}

/** At most size² slots: a grid made smaller keeps its first ones. */
function fitSlots(cameraIds: readonly (string | null)[], size: number): (string | null)[] {
  return cameraIds.slice(0, size * size);
}

const now = () => new Date().toISOString();
const recent = (at: readonly number[] | undefined, nowMs: number, windowMs: number) => (at ?? []).filter((t) => t > nowMs - windowMs);

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
