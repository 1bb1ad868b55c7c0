// The metadata in memory, as both stores keep it: every request reads here synchronously (a camera
// list looks up thousands of rows), and every change, made here or learnt from another node,
// passes through put()/drop() so that one 'change' event tells the rest of the service.
import { EventEmitter } from 'node:events';
import { isDeepStrictEqual } from 'node:util';
import {
  emptySnapshot,
  RIGHTS,
  ROLE_RIGHTS,
  ROW_KEY,
  TABLES,
  type Announcement,
  type ApiKey,
  type Camera,
  type CameraGroup,
  type Change,
  type DataKeyRow,
  type DeletionReport,
  type ExportJob,
  type Grant,
  type Hold,
  type Kiosk,
  type Org,
  type Preferences,
  type Right,
  type Rows,
  type SavedLayout,
  type Share,
  type Snapshot,
  type Table,
  type User,
  type Webhook,
} from './model.ts';
import type { WrappedKey } from '../../recorder/seal/index.ts';

type Tables = { [T in Table]: Map<string, Rows[T]> };

export interface CatalogEvents {
  /** After the row is in place (or gone): listeners read the catalog as it now is. */
  change: [change: Change];
}

const NO_RIGHTS: ReadonlySet<Right> = new Set();
const ALL_RIGHTS: ReadonlySet<Right> = new Set(RIGHTS);

export class Catalog {
  readonly #tables: Tables = Object.fromEntries(TABLES.map((t) => [t, new Map()])) as unknown as Tables;
  /** Arrays handed out by the list getters, rebuilt after their table changes. */
  readonly #lists = new Map<Table, readonly unknown[]>();
  readonly #byName = new Map<string, User>();
  readonly #kioskByToken = new Map<string, Kiosk>();
  readonly #events = new EventEmitter<CatalogEvents>();

  /** Listeners run synchronously, in the step that changed the row; one that throws is reported (listenerFailed), never stops the change. */
  on<E extends keyof CatalogEvents>(event: E, listener: (...args: CatalogEvents[E]) => void): this {
    this.#events.on(event, listener as never);
    return this;
  }
  off<E extends keyof CatalogEvents>(event: E, listener: (...args: CatalogEvents[E]) => void): this {
    this.#events.off(event, listener as never);
    return this;
  }

  // --- Changing (the stores only) ------------------------------------------------------------

  protected row<T extends Table>(table: T, key: string): Rows[T] | undefined {
    return this.#tables[table].get(key);
  }

  protected rows<T extends Table>(table: T): readonly Rows[T][] {
    let list = this.#lists.get(table) as readonly Rows[T][] | undefined;
    if (!list) this.#lists.set(table, (list = [...this.#tables[table].values()]));
    return list;
  }

  /** Adds or replaces a row (rows are replaced whole, never changed in place: readers may hold the old one). */
  protected put<T extends Table>(table: T, row: Rows[T]): void {
    const key = ROW_KEY[table](row);
    const before = this.#tables[table].get(key);
    this.#tables[table].set(key, row);
    this.#lists.delete(table);
    this.#reindex(table, before, row);
    this.#emit({ table, key, before, after: row } as Change);
  }

  protected drop<T extends Table>(table: T, key: string): Rows[T] | undefined {
    const before = this.#tables[table].get(key);
    if (!before) return undefined;
    this.#tables[table].delete(key);
    this.#lists.delete(table);
    this.#reindex(table, before, undefined);
    this.#emit({ table, key, before, after: undefined } as Change);
    return before;
  }

  /**
   * Makes the catalog hold exactly `snapshot` (a reload after missed changes): only rows that
   * differ are put or dropped, so listeners hear of exactly what changed meanwhile.
   */
  protected replaceAll(snapshot: Snapshot): void {
    for (const table of TABLES) {
      const next = new Map<string, Rows[typeof table]>();
      for (const row of snapshot[table]) next.set(ROW_KEY[table](row as never), row);
      for (const key of [...this.#tables[table].keys()]) if (!next.has(key)) this.drop(table, key);
      for (const [key, row] of next) {
        const before = this.#tables[table].get(key);
        if (!before || !isDeepStrictEqual(before, row)) this.put(table, row);
      }
    }
  }

  /** Every row of every table, as plain arrays (backups, migrate-store). */
  snapshot(): Snapshot {
    const out = emptySnapshot();
    for (const table of TABLES) (out[table] as unknown[]) = structuredClone([...this.#tables[table].values()]);
    return out;
  }

  #reindex<T extends Table>(table: T, before: Rows[T] | undefined, after: Rows[T] | undefined): void {
    if (table === 'users') {
      const b = before as User | undefined;
      if (b && this.#byName.get(b.username) === b) this.#byName.delete(b.username);
      if (after) this.#byName.set((after as User).username, after as User);
    } else if (table === 'kiosks') {
      const b = before as Kiosk | undefined;
      if (b && this.#kioskByToken.get(b.tokenHash) === b) this.#kioskByToken.delete(b.tokenHash);
      if (after) this.#kioskByToken.set((after as Kiosk).tokenHash, after as Kiosk);
    }
  }

  #emit(change: Change): void {
    // A listener that fails must not stop the change reaching memory, nor the other listeners.
    for (const listener of this.#events.listeners('change')) {
      try {
        (listener as (c: Change) => void)(change);
      } catch (error) {
        this.listenerFailed(error, change);
      }
    }
  }

  /** A 'change' listener threw (the stores log it). */
  protected listenerFailed(error: unknown, change: Change): void {
    console.error(`a listener of ${change.table} changes failed:`, error);
  }

  // --- Organisations, users, cameras ---------------------------------------------------------

  get orgs(): readonly Org[] {
    return this.rows('orgs');
  }
  org(id: string): Org | undefined {
    return this.row('orgs', id);
  }
  get deletionReports(): readonly DeletionReport[] {
    return this.rows('deletionReports');
  }

  get users(): readonly User[] {
    return this.rows('users');
  }
  usersOf(orgId: string): readonly User[] {
    return this.rows('users').filter((u) => u.orgId === orgId);
  }
  userById(id: string): User | undefined {
    return this.row('users', id);
  }
  userByName(username: string): User | undefined {
    return this.#byName.get(username);
  }

  get cameras(): readonly Camera[] {
    return this.rows('cameras');
  }
  camerasOf(orgId: string): readonly Camera[] {
    return this.rows('cameras').filter((c) => c.orgId === orgId);
  }
  camera(id: string): Camera | undefined {
    return this.row('cameras', id);
  }

  // --- Groups and grants ---------------------------------------------------------------------

  groupsOf(orgId: string): readonly CameraGroup[] {
    return this.rows('groups').filter((g) => g.orgId === orgId);
  }
  group(id: string): CameraGroup | undefined {
    return this.row('groups', id);
  }
  /**
   * The cameras of a group and of every group below it, each once: a grant on a site, or an API
   * key limited to it, covers its floors (a cycle of parents, which the store refuses, is walked once).
   */
  camerasUnder(groupId: string): ReadonlySet<string> {
    const root = this.group(groupId);
    const out = new Set<string>();
    if (!root) return out;
    const children = new Map<string, CameraGroup[]>();
    for (const g of this.groupsOf(root.orgId)) {
      if (g.parentId === undefined) continue;
      let list = children.get(g.parentId);
      if (!list) children.set(g.parentId, (list = []));
      list.push(g);
    }
    const seen = new Set<string>();
    const walk = (group: CameraGroup) => {
      if (seen.has(group.id)) return;
      seen.add(group.id);
      for (const cameraId of group.cameraIds) out.add(cameraId);
      for (const child of children.get(group.id) ?? []) walk(child);
    };
    walk(root);
    return out;
  }
  grantsOf(userId: string): readonly Grant[] {
    return this.rows('grants').filter((g) => g.userId === userId);
  }
  grantsIn(orgId: string): readonly Grant[] {
    return this.rows('grants').filter((g) => g.orgId === orgId);
  }
  grant(id: string): Grant | undefined {
    return this.row('grants', id);
  }

  /** What `user` may do with a camera: nothing outside their organisation, everything for its admins. */
  rightsOn(user: User, cameraId: string): ReadonlySet<Right> {
    return this.rightsOf(user)(cameraId);
  }

  /**
   * `rightsOn` for many cameras (a camera list): the user's grants are gathered once, so a list of
   * thousands of cameras costs one pass over the grants, not one per camera.
   */
  rightsOf(user: User): (cameraId: string) => ReadonlySet<Right> {
    const inOrg = (cameraId: string) => this.camera(cameraId)?.orgId === user.orgId;
    if (user.role === 'admin') return (cameraId) => (inOrg(cameraId) ? ALL_RIGHTS : NO_RIGHTS);
    const ceiling = ROLE_RIGHTS[user.role];
    const byCamera = new Map<string, Set<Right>>();
    const add = (cameraId: string, rights: readonly Right[]) => {
      let set = byCamera.get(cameraId);
      if (!set) byCamera.set(cameraId, (set = new Set()));
      for (const r of rights) if (ceiling.includes(r)) set.add(r);
    };
    for (const g of this.rows('grants')) {
      if (g.userId !== user.id) continue;
      if (g.cameraId !== undefined) add(g.cameraId, g.rights);
      else if (g.groupId !== undefined) for (const cameraId of this.camerasUnder(g.groupId)) add(cameraId, g.rights);
    }
    return (cameraId) => (inOrg(cameraId) ? (byCamera.get(cameraId) ?? NO_RIGHTS) : NO_RIGHTS);
  }

  // --- Notices, keys, holds ------------------------------------------------------------------

  announcementsFor(orgId: string | undefined): readonly Announcement[] {
    return this.rows('announcements').filter((a) => a.orgId === null || a.orgId === orgId);
  }
  announcement(id: string): Announcement | undefined {
    return this.row('announcements', id);
  }
  wrappedKey(cameraId: string): WrappedKey | undefined {
    return this.row('dataKeys', cameraId)?.key;
  }
  wrappedKeys(): readonly DataKeyRow[] {
    return this.rows('dataKeys');
  }
  holdsOf(cameraId: string): readonly Hold[] {
    return this.rows('holds').filter((h) => h.cameraId === cameraId);
  }

  // --- Shares, kiosks, exports, preferences --------------------------------------------------

  share(id: string): Share | undefined {
    return this.row('shares', id);
  }
  sharesBy(userId: string | undefined): readonly Share[] {
    return userId === undefined ? this.rows('shares') : this.rows('shares').filter((s) => s.createdBy === userId);
  }
  get kiosks(): readonly Kiosk[] {
    return this.rows('kiosks');
  }
  kiosk(id: string): Kiosk | undefined {
    return this.row('kiosks', id);
  }
  kioskByTokenHash(tokenHash: string): Kiosk | undefined {
    return this.#kioskByToken.get(tokenHash);
  }
  apiKey(id: string): ApiKey | undefined {
    return this.row('apiKeys', id);
  }
  /** Every key of the organisation, revoked ones included. */
  apiKeysOf(orgId: string): readonly ApiKey[] {
    return this.rows('apiKeys').filter((k) => k.orgId === orgId);
  }
  webhook(id: string): Webhook | undefined {
    return this.row('webhooks', id);
  }
  /** Every webhook of the organisation, disabled ones included. */
  webhooksOf(orgId: string): readonly Webhook[] {
    return this.rows('webhooks').filter((w) => w.orgId === orgId);
  }
  exportJob(id: string): ExportJob | undefined {
    return this.row('exports', id);
  }
  exportsBy(userId: string | undefined): readonly ExportJob[] {
    return userId === undefined ? this.rows('exports') : this.rows('exports').filter((e) => e.createdBy === userId);
  }
  preferences(userId: string): Preferences {
    return this.row('preferences', userId)?.preferences ?? {};
  }
  /** Every saved layout of the organisation: its shared ones and each of its users' own. */
  layoutsOf(orgId: string): readonly SavedLayout[] {
    return this.rows('layouts').filter((l) => l.orgId === orgId);
  }
  layout(id: string): SavedLayout | undefined {
    return this.row('layouts', id);
  }

  /** Cameras whose media the node holds (their last publishing session went to it). */
  camerasOwnedBy(nodeId: string): readonly Rows['owners'][] {
    return this.rows('owners').filter((o) => o.nodeId === nodeId);
  }

  // --- Account security state (read by signaling/accounts) -----------------------------------

  session(id: string): Rows['sessions'] | undefined {
    return this.row('sessions', id);
  }
  sessionsOf(userId: string): readonly Rows['sessions'][] {
    return this.rows('sessions').filter((f) => f.userId === userId);
  }
  /** Names and addresses whose failed sign-ins are counted now. */
  trackedFailures(): number {
    return this.rows('loginFailures').length + this.rows('addressFailures').length;
  }
  loginFailures(name: string): Rows['loginFailures'] | undefined {
    return this.row('loginFailures', name);
  }
  addressFailures(address: string): Rows['addressFailures'] | undefined {
    return this.row('addressFailures', address);
  }
  totpKey(userId: string): Rows['totp'] | undefined {
    return this.row('totp', userId);
  }
}
