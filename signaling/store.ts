// Accounts, cameras and grants in a lowdb JSON file: small, slowly changing data only.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { JSONFilePreset } from 'lowdb/node';
import type { Low } from 'lowdb';
import type { WrappedKey } from '../recorder/seal/index.ts';
import type { ExportRecord } from '../playback/index.ts';

/**
 * A user's role in their organisation. Admins may do everything in it; operators and viewers act
 * on the cameras granted to them, with at most the rights of their role (ROLE_RIGHTS).
 */
export type Role = 'admin' | 'operator' | 'viewer';
export const ROLES: readonly Role[] = ['admin', 'operator', 'viewer'];

/** What a grant can allow on a camera. `manage`: change its settings and rotate its secret. */
export type Right = 'live' | 'playback' | 'export' | 'share' | 'manage';
export const RIGHTS: readonly Right[] = ['live', 'playback', 'export', 'share', 'manage'];

/** The most a grant can give each role: a viewer watches, an operator also exports, shares and manages. */
export const ROLE_RIGHTS: Record<Role, readonly Right[]> = {
  admin: RIGHTS,
  operator: RIGHTS,
  viewer: ['live', 'playback'],
};

/** A customer (tenant). Nobody sees another organisation's users, cameras, recordings or logs. */
export interface Org {
  id: string;
  name: string;
  createdAt: string;
  /** Contract end: after `at`, every recording, index, camera and account of it is deleted. */
  deletion?: { at: string; requestedAt: string; requestedBy: string };
}

/** What a contract end removed, kept after the organisation itself is gone. */
export interface DeletionReport {
  orgId: string;
  orgName: string;
  scheduledFor: string;
  completedAt: string;
  users: number;
  cameras: number;
  /** Objects and bytes removed from S3 (segments, indexes, exports). */
  objects: number;
  bytes: number;
  errors: string[];
}

export interface User {
  id: string;
  orgId: string;
  username: string;
  /** `scrypt$N$r$p$salt$hash`, base64 parts. */
  passwordHash: string;
  role: Role;
  /** Runs the service itself: creates organisations and ends contracts (not their content). */
  platform?: boolean;
  createdAt: string;
}

export interface Camera {
  id: string;
  orgId: string;
  name: string;
  /** SHA-256 of the camera secret (the secret is 256 random bits, so a fast hash suffices). */
  secretHash: string;
  /** After a rotation the old secret still works until `until`, so the camera can be reconfigured without downtime. */
  previousSecret?: { hash: string; until: string };
  createdAt: string;
  /** Continuous recording (on by default) and how many days recordings are kept. */
  recording?: { enabled: boolean; retentionDays?: number };
}

/** A legal hold: recordings of a camera in [fromMs, toMs) are kept past retention until removed. */
export interface Hold {
  id: string;
  cameraId: string;
  fromMs: number;
  toMs: number;
  reason: string;
  createdAt: string;
  createdBy: string;
}

/** Cameras named together (a site, a floor) so one grant covers them all. */
export interface CameraGroup {
  id: string;
  orgId: string;
  name: string;
  cameraIds: string[];
  createdAt: string;
}

/** Rights of one user on one camera or on every camera of a group. Admins need none. */
export interface Grant {
  id: string;
  orgId: string;
  userId: string;
  cameraId?: string;
  groupId?: string;
  rights: Right[];
  createdAt: string;
  createdBy: string;
}

/** A notice shown in a banner to every signed-in user of its organisation (or of all, when orgId is null). */
export interface Announcement {
  id: string;
  orgId: string | null;
  kind: 'maintenance' | 'incident' | 'info';
  message: string;
  startsAt: string;
  endsAt: string;
  createdAt: string;
  createdBy: string;
}

/** A link that lets anyone holding it watch a clip or a camera live until it expires or is revoked. */
export interface Share {
  /** 128 random bits: the link itself, so it cannot be guessed. */
  id: string;
  cameraId: string;
  kind: 'clip' | 'live';
  fromMs?: number;
  toMs?: number;
  expiresAt: string;
  /** scrypt, when the link needs a password. */
  passwordHash?: string;
  createdBy: string;
  createdAt: string;
  revokedAt?: string;
  uses: number;
}

/** A wall display: view-only, bound to its cameras; its device token is kept hashed. */
export interface Kiosk {
  id: string;
  orgId: string;
  name: string;
  cameraIds: string[];
  layout: 1 | 4 | 9 | 16;
  rotateSeconds: number;
  tokenHash: string;
  /** Incremented by every token rotation: access tokens of older generations stop. */
  generation: number;
  createdAt: string;
  createdBy: string;
}

/** An export job: what ExportJobs runs and updates, plus who asked for it and its file name. */
export interface ExportJob extends ExportRecord {
  name: string;
  createdAt: string;
  createdBy: string;
}

export interface Preferences {
  layout?: 1 | 4 | 9 | 16;
}

interface Data {
  version: 2;
  orgs: Org[];
  deletionReports: DeletionReport[];
  users: User[];
  cameras: Camera[];
  groups: CameraGroup[];
  grants: Grant[];
  announcements: Announcement[];
  /** Per-camera data keys, wrapped by the master key (never stored unwrapped). */
  keys: { cameraId: string; key: WrappedKey }[];
  holds: Hold[];
  shares: Share[];
  kiosks: Kiosk[];
  exports: ExportJob[];
  preferences: { userId: string; preferences: Preferences }[];
}

const empty = (): Data => ({
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

/** The organisation that data from before organisations existed (version 1) moves into. */
const FIRST_ORG_NAME = 'Default';

export class Store {
  readonly #db: Low<Data>;

  static async open(dataDir: string): Promise<Store> {
    await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
    const db = await JSONFilePreset<Data>(path.join(dataDir, 'db.json'), empty());
    // Files written before the recorder existed lack these collections.
    db.data.keys ??= [];
    db.data.holds ??= [];
    db.data.shares ??= [];
    db.data.kiosks ??= [];
    db.data.exports ??= [];
    db.data.preferences ??= [];
    if (migrateToOrgs(db.data)) await db.write();
    return new Store(db);
  }

  // Every request looks users and cameras up by id, thousands of times for a camera list.
  readonly #users = new IdIndex<User>();
  readonly #cameras = new IdIndex<Camera>();

  private constructor(db: Low<Data>) {
    this.#db = db;
  }

  get users(): readonly User[] {
    return this.#db.data.users;
  }
  get cameras(): readonly Camera[] {
    return this.#db.data.cameras;
  }
  usersOf(orgId: string): readonly User[] {
    return this.#db.data.users.filter((u) => u.orgId === orgId);
  }
  camerasOf(orgId: string): readonly Camera[] {
    return this.#db.data.cameras.filter((c) => c.orgId === orgId);
  }

  userById(id: string): User | undefined {
    return this.#users.get(this.#db.data.users).get(id);
  }
  userByName(username: string): User | undefined {
    return this.#db.data.users.find((u) => u.username === username);
  }
  camera(id: string): Camera | undefined {
    return this.#cameras.get(this.#db.data.cameras).get(id);
  }

  // --- Organisations -------------------------------------------------------------------------

  get orgs(): readonly Org[] {
    return this.#db.data.orgs;
  }
  org(id: string): Org | undefined {
    return this.#db.data.orgs.find((o) => o.id === id);
  }
  async addOrg(name: string): Promise<Org> {
    const row: Org = { id: newId('org'), name, createdAt: new Date().toISOString() };
    this.#db.data.orgs.push(row);
    await this.#db.write();
    return row;
  }
  async updateOrg(id: string, change: (o: Org) => void): Promise<Org | undefined> {
    const org = this.org(id);
    if (!org) return undefined;
    change(org);
    await this.#db.write();
    return org;
  }
  get deletionReports(): readonly DeletionReport[] {
    return this.#db.data.deletionReports;
  }
  /**
   * Removes the organisation and every row that belongs to it (its recordings must be deleted
   * first), keeping only the deletion report.
   */
  async removeOrg(id: string, report: DeletionReport): Promise<void> {
    const d = this.#db.data;
    const cameraIds = new Set(d.cameras.filter((c) => c.orgId === id).map((c) => c.id));
    const userIds = new Set(d.users.filter((u) => u.orgId === id).map((u) => u.id));
    d.orgs = d.orgs.filter((o) => o.id !== id);
    d.users = d.users.filter((u) => u.orgId !== id);
    d.cameras = d.cameras.filter((c) => c.orgId !== id);
    d.groups = d.groups.filter((g) => g.orgId !== id);
    d.grants = d.grants.filter((g) => g.orgId !== id);
    d.announcements = d.announcements.filter((a) => a.orgId !== id);
    d.kiosks = d.kiosks.filter((k) => k.orgId !== id);
    d.keys = d.keys.filter((k) => !cameraIds.has(k.cameraId));
    d.holds = d.holds.filter((h) => !cameraIds.has(h.cameraId));
    d.shares = d.shares.filter((s) => !cameraIds.has(s.cameraId));
    d.exports = d.exports.filter((e) => !cameraIds.has(e.cameraId));
    d.preferences = d.preferences.filter((p) => !userIds.has(p.userId));
    d.deletionReports.push(report);
    await this.#db.write();
  }

  // --- Users ---------------------------------------------------------------------------------

  async addUser(user: Omit<User, 'id' | 'createdAt'>): Promise<User> {
    const row: User = { ...user, id: newId('u'), createdAt: new Date().toISOString() };
    this.#db.data.users.push(row);
    await this.#db.write();
    return row;
  }
  async updateUser(id: string, change: (u: User) => void): Promise<User | undefined> {
    const user = this.userById(id);
    if (!user) return undefined;
    change(user);
    await this.#db.write();
    return user;
  }
  async deleteUser(id: string): Promise<boolean> {
    const before = this.#db.data.users.length;
    this.#db.data.users = this.#db.data.users.filter((u) => u.id !== id);
    this.#db.data.grants = this.#db.data.grants.filter((g) => g.userId !== id);
    this.#db.data.preferences = this.#db.data.preferences.filter((p) => p.userId !== id);
    await this.#db.write();
    return this.#db.data.users.length < before;
  }

  // --- Cameras -------------------------------------------------------------------------------

  async addCamera(orgId: string, name: string, secretHash: string): Promise<Camera> {
    const row: Camera = { id: newId('cam'), orgId, name, secretHash, createdAt: new Date().toISOString() };
    this.#db.data.cameras.push(row);
    await this.#db.write();
    return row;
  }

  /** A new secret; the old one keeps working until `graceUntil` (if given) so the camera is never cut off. */
  async setCameraSecret(id: string, secretHash: string, graceUntil?: Date): Promise<void> {
    const cam = this.camera(id);
    if (!cam) return;
    if (graceUntil) cam.previousSecret = { hash: cam.secretHash, until: graceUntil.toISOString() };
    else delete cam.previousSecret;
    cam.secretHash = secretHash;
    await this.#db.write();
  }

  async updateCamera(id: string, change: { name?: string; recording?: { enabled?: boolean; retentionDays?: number } }): Promise<Camera | undefined> {
    const cam = this.camera(id);
    if (!cam) return undefined;
    if (change.name !== undefined) cam.name = change.name;
    if (change.recording) cam.recording = { enabled: change.recording.enabled ?? cam.recording?.enabled ?? true, retentionDays: change.recording.retentionDays ?? cam.recording?.retentionDays };
    await this.#db.write();
    return cam;
  }

  /** Deletes the camera, its grants, holds and data key (its recordings must be deleted first). */
  async deleteCamera(id: string): Promise<boolean> {
    const before = this.#db.data.cameras.length;
    this.#db.data.cameras = this.#db.data.cameras.filter((c) => c.id !== id);
    this.#db.data.grants = this.#db.data.grants.filter((g) => g.cameraId !== id);
    this.#db.data.holds = this.#db.data.holds.filter((h) => h.cameraId !== id);
    this.#db.data.keys = this.#db.data.keys.filter((k) => k.cameraId !== id);
    this.#db.data.shares = this.#db.data.shares.filter((s) => s.cameraId !== id);
    this.#db.data.exports = this.#db.data.exports.filter((e) => e.cameraId !== id);
    for (const k of this.#db.data.kiosks) k.cameraIds = k.cameraIds.filter((c) => c !== id);
    for (const g of this.#db.data.groups) g.cameraIds = g.cameraIds.filter((c) => c !== id);
    await this.#db.write();
    return this.#db.data.cameras.length < before;
  }

  // --- Groups and grants ---------------------------------------------------------------------

  groupsOf(orgId: string): readonly CameraGroup[] {
    return this.#db.data.groups.filter((g) => g.orgId === orgId);
  }
  group(id: string): CameraGroup | undefined {
    return this.#db.data.groups.find((g) => g.id === id);
  }
  async addGroup(group: Omit<CameraGroup, 'id' | 'createdAt'>): Promise<CameraGroup> {
    const row: CameraGroup = { ...group, id: newId('grp'), createdAt: new Date().toISOString() };
    this.#db.data.groups.push(row);
    await this.#db.write();
    return row;
  }
  async updateGroup(id: string, change: (g: CameraGroup) => void): Promise<CameraGroup | undefined> {
    const group = this.group(id);
    if (!group) return undefined;
    change(group);
    await this.#db.write();
    return group;
  }
  async deleteGroup(id: string): Promise<boolean> {
    const before = this.#db.data.groups.length;
    this.#db.data.groups = this.#db.data.groups.filter((g) => g.id !== id);
    this.#db.data.grants = this.#db.data.grants.filter((g) => g.groupId !== id);
    await this.#db.write();
    return this.#db.data.groups.length < before;
  }

  grantsOf(userId: string): readonly Grant[] {
    return this.#db.data.grants.filter((g) => g.userId === userId);
  }
  grantsIn(orgId: string): readonly Grant[] {
    return this.#db.data.grants.filter((g) => g.orgId === orgId);
  }
  grant(id: string): Grant | undefined {
    return this.#db.data.grants.find((g) => g.id === id);
  }
  /** Sets the rights of a user on a camera or group (one grant per pair; empty rights remove it). */
  async setGrant(row: { orgId: string; userId: string; cameraId?: string; groupId?: string; rights: Right[]; createdBy: string }): Promise<Grant | undefined> {
    const same = (g: Grant) => g.userId === row.userId && g.cameraId === row.cameraId && g.groupId === row.groupId;
    const existing = this.#db.data.grants.find(same);
    let result: Grant | undefined;
    if (row.rights.length === 0) this.#db.data.grants = this.#db.data.grants.filter((g) => !same(g));
    else if (existing) {
      existing.rights = row.rights;
      result = existing;
    } else {
      result = { ...row, id: newId('grant'), createdAt: new Date().toISOString() };
      this.#db.data.grants.push(result);
    }
    await this.#db.write();
    return result;
  }
  async deleteGrant(id: string): Promise<Grant | undefined> {
    const grant = this.grant(id);
    this.#db.data.grants = this.#db.data.grants.filter((g) => g.id !== id);
    await this.#db.write();
    return grant;
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
    const none: ReadonlySet<Right> = new Set();
    const inOrg = (cameraId: string) => this.camera(cameraId)?.orgId === user.orgId;
    if (user.role === 'admin') {
      const all: ReadonlySet<Right> = new Set(RIGHTS);
      return (cameraId) => (inOrg(cameraId) ? all : none);
    }
    const ceiling = ROLE_RIGHTS[user.role];
    const byCamera = new Map<string, Set<Right>>();
    const add = (cameraId: string, rights: readonly Right[]) => {
      let set = byCamera.get(cameraId);
      if (!set) byCamera.set(cameraId, (set = new Set()));
      for (const r of rights) if (ceiling.includes(r)) set.add(r);
    };
    for (const g of this.#db.data.grants) {
      if (g.userId !== user.id) continue;
      if (g.cameraId !== undefined) add(g.cameraId, g.rights);
      else if (g.groupId !== undefined) for (const cameraId of this.group(g.groupId)?.cameraIds ?? []) add(cameraId, g.rights);
    }
    return (cameraId) => (inOrg(cameraId) ? (byCamera.get(cameraId) ?? none) : none);
  }

  // --- Announcements -------------------------------------------------------------------------

  announcementsFor(orgId: string | undefined): readonly Announcement[] {
    return this.#db.data.announcements.filter((a) => a.orgId === null || a.orgId === orgId);
  }
  announcement(id: string): Announcement | undefined {
    return this.#db.data.announcements.find((a) => a.id === id);
  }
  async addAnnouncement(row: Omit<Announcement, 'id' | 'createdAt'>): Promise<Announcement> {
    const a: Announcement = { ...row, id: newId('ann'), createdAt: new Date().toISOString() };
    this.#db.data.announcements.push(a);
    await this.#db.write();
    return a;
  }
  async deleteAnnouncement(id: string): Promise<void> {
    this.#db.data.announcements = this.#db.data.announcements.filter((a) => a.id !== id);
    await this.#db.write();
  }

  wrappedKey(cameraId: string): WrappedKey | undefined {
    return this.#db.data.keys.find((k) => k.cameraId === cameraId)?.key;
  }
  wrappedKeys(): readonly { cameraId: string; key: WrappedKey }[] {
    return this.#db.data.keys;
  }
  async saveWrappedKeys(entries: readonly { cameraId: string; key: WrappedKey }[]): Promise<void> {
    for (const entry of entries) {
      const existing = this.#db.data.keys.find((k) => k.cameraId === entry.cameraId);
      if (existing) existing.key = entry.key;
      else this.#db.data.keys.push({ cameraId: entry.cameraId, key: entry.key });
    }
    await this.#db.write();
  }

  holdsOf(cameraId: string): readonly Hold[] {
    return this.#db.data.holds.filter((h) => h.cameraId === cameraId);
  }
  async addHold(hold: Omit<Hold, 'id' | 'createdAt'>): Promise<Hold> {
    const row: Hold = { ...hold, id: newId('hold'), createdAt: new Date().toISOString() };
    this.#db.data.holds.push(row);
    await this.#db.write();
    return row;
  }
  async removeHold(cameraId: string, id: string): Promise<boolean> {
    const before = this.#db.data.holds.length;
    this.#db.data.holds = this.#db.data.holds.filter((h) => !(h.id === id && h.cameraId === cameraId));
    await this.#db.write();
    return this.#db.data.holds.length < before;
  }

  // --- Shares --------------------------------------------------------------------------------

  share(id: string): Share | undefined {
    return this.#db.data.shares.find((s) => s.id === id);
  }
  sharesBy(userId: string | undefined): readonly Share[] {
    return userId === undefined ? this.#db.data.shares : this.#db.data.shares.filter((s) => s.createdBy === userId);
  }
  async addShare(share: Omit<Share, 'id' | 'createdAt' | 'uses'>): Promise<Share> {
    const row: Share = { ...share, id: crypto.randomBytes(16).toString('base64url'), createdAt: new Date().toISOString(), uses: 0 };
    this.#db.data.shares.push(row);
    await this.#db.write();
    return row;
  }
  async updateShare(id: string, change: (s: Share) => void): Promise<Share | undefined> {
    const share = this.share(id);
    if (!share) return undefined;
    change(share);
    await this.#db.write();
    return share;
  }

  // --- Kiosks --------------------------------------------------------------------------------

  get kiosks(): readonly Kiosk[] {
    return this.#db.data.kiosks;
  }
  kiosk(id: string): Kiosk | undefined {
    return this.#db.data.kiosks.find((k) => k.id === id);
  }
  kioskByTokenHash(tokenHash: string): Kiosk | undefined {
    return this.#db.data.kiosks.find((k) => k.tokenHash === tokenHash);
  }
  async addKiosk(kiosk: Omit<Kiosk, 'id' | 'createdAt' | 'generation'>): Promise<Kiosk> {
    const row: Kiosk = { ...kiosk, id: newId('kiosk'), createdAt: new Date().toISOString(), generation: 1 };
    this.#db.data.kiosks.push(row);
    await this.#db.write();
    return row;
  }
  async updateKiosk(id: string, change: (k: Kiosk) => void): Promise<Kiosk | undefined> {
    const kiosk = this.kiosk(id);
    if (!kiosk) return undefined;
    change(kiosk);
    await this.#db.write();
    return kiosk;
  }
  async deleteKiosk(id: string): Promise<boolean> {
    const before = this.#db.data.kiosks.length;
    this.#db.data.kiosks = this.#db.data.kiosks.filter((k) => k.id !== id);
    await this.#db.write();
    return this.#db.data.kiosks.length < before;
  }

  // --- Exports -------------------------------------------------------------------------------

  exportJob(id: string): ExportJob | undefined {
    return this.#db.data.exports.find((e) => e.id === id);
  }
  exportsBy(userId: string | undefined): readonly ExportJob[] {
    return userId === undefined ? this.#db.data.exports : this.#db.data.exports.filter((e) => e.createdBy === userId);
  }
  async addExport(job: Omit<ExportJob, 'id' | 'createdAt' | 'status' | 'progress'>): Promise<ExportJob> {
    const row: ExportJob = { ...job, id: newId('exp'), createdAt: new Date().toISOString(), status: 'queued', progress: 0 };
    this.#db.data.exports.push(row);
    await this.#db.write();
    return row;
  }
  /** Progress changes often: `persist: false` keeps them in memory until the next write. */
  async updateExport(id: string, change: (e: ExportJob) => void, persist = true): Promise<ExportJob | undefined> {
    const job = this.exportJob(id);
    if (!job) return undefined;
    change(job);
    if (persist) await this.#db.write();
    return job;
  }
  async deleteExport(id: string): Promise<void> {
    this.#db.data.exports = this.#db.data.exports.filter((e) => e.id !== id);
    await this.#db.write();
  }

  // --- Preferences -------------------------------------------------------------------------

  preferences(userId: string): Preferences {
    return this.#db.data.preferences.find((p) => p.userId === userId)?.preferences ?? {};
  }
  async setPreferences(userId: string, preferences: Preferences): Promise<Preferences> {
    const row = this.#db.data.preferences.find((p) => p.userId === userId);
    if (row) row.preferences = { ...row.preferences, ...preferences };
    else this.#db.data.preferences.push({ userId, preferences });
    await this.#db.write();
    return this.preferences(userId);
  }
}

/**
 * Rows by id, rebuilt when the array is replaced (deletions filter into a new one) or grows (pushes);
 * rows are changed in place and never change their id, so that is enough to stay right.
 */
class IdIndex<T extends { id: string }> {
  #rows: readonly T[] | undefined;
  #length = 0;
  #map = new Map<string, T>();

  get(rows: readonly T[]): ReadonlyMap<string, T> {
    if (rows !== this.#rows || rows.length !== this.#length) {
      this.#map = new Map(rows.map((r) => [r.id, r]));
      this.#rows = rows;
      this.#length = rows.length;
    }
    return this.#map;
  }
}

/** Ids are random and opaque (never sequential: they appear in URLs). */
function newId(prefix: string): string {
  return `${prefix}_${crypto.randomBytes(9).toString('base64url')}`;
}

/**
 * Version 1 files (before organisations): everything moves into one first organisation, the
 * existing admins become its admins and platform operators, 'view' grants become live+playback.
 * Returns whether anything changed.
 */
function migrateToOrgs(d: Data): boolean {
  d.orgs ??= [];
  d.deletionReports ??= [];
  d.groups ??= [];
  d.announcements ??= [];
  const legacy = [...d.users, ...d.cameras, ...d.kiosks].some((r) => !(r as { orgId?: string }).orgId) || d.grants.some((g) => !g.id);
  if (!legacy && (d.version as number) === 2) return false;
  let first = d.orgs[0];
  if (!first && (d.users.length > 0 || d.cameras.length > 0)) {
    first = { id: newId('org'), name: FIRST_ORG_NAME, createdAt: new Date().toISOString() };
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
