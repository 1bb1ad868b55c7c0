// Accounts, cameras and grants in a lowdb JSON file: small, slowly changing data only.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { JSONFilePreset } from 'lowdb/node';
import type { Low } from 'lowdb';
import type { WrappedKey } from '../recorder/seal/index.ts';
import type { ExportRecord } from '../playback/index.ts';

export type Role = 'admin' | 'viewer';

export interface User {
  id: string;
  username: string;
  /** `scrypt$N$r$p$salt$hash`, base64 parts. */
  passwordHash: string;
  role: Role;
  createdAt: string;
}

export interface Camera {
  id: string;
  name: string;
  /** SHA-256 of the camera secret (the secret is 256 random bits, so a fast hash suffices). */
  secretHash: string;
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

/** A user's right to watch a camera. Admins need none. */
export interface Grant {
  userId: string;
  cameraId: string;
  rights: 'view'[];
  createdAt: string;
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

/** Who did what, when, from where. Appended only; issue 5 gives it its own retention and search. */
export interface AuditEntry {
  at: string;
  /** `u:<id>`, `s:<shareId>`, `k:<kioskId>` or `anonymous`. */
  actor: string;
  action: string;
  cameraId?: string;
  ip?: string;
  outcome: 'ok' | 'refused';
  detail?: Record<string, unknown>;
}

export interface Preferences {
  layout?: 1 | 4 | 9 | 16;
}

interface Data {
  version: 1;
  users: User[];
  cameras: Camera[];
  grants: Grant[];
  /** Per-camera data keys, wrapped by the master key (never stored unwrapped). */
  keys: { cameraId: string; key: WrappedKey }[];
  holds: Hold[];
  shares: Share[];
  kiosks: Kiosk[];
  exports: ExportJob[];
  audit: AuditEntry[];
  preferences: { userId: string; preferences: Preferences }[];
}

const empty = (): Data => ({ version: 1, users: [], cameras: [], grants: [], keys: [], holds: [], shares: [], kiosks: [], exports: [], audit: [], preferences: [] });

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
    db.data.audit ??= [];
    db.data.preferences ??= [];
    return new Store(db);
  }

  private constructor(db: Low<Data>) {
    this.#db = db;
  }

  get users(): readonly User[] {
    return this.#db.data.users;
  }
  get cameras(): readonly Camera[] {
    return this.#db.data.cameras;
  }

  userById(id: string): User | undefined {
    return this.#db.data.users.find((u) => u.id === id);
  }
  userByName(username: string): User | undefined {
    return this.#db.data.users.find((u) => u.username === username);
  }
  camera(id: string): Camera | undefined {
    return this.#db.data.cameras.find((c) => c.id === id);
  }

  async addUser(user: Omit<User, 'id' | 'createdAt'>): Promise<User> {
    const row: User = { ...user, id: newId('u'), createdAt: new Date().toISOString() };
    this.#db.data.users.push(row);
    await this.#db.write();
    return row;
  }

  async addCamera(name: string, secretHash: string): Promise<Camera> {
    const row: Camera = { id: newId('cam'), name, secretHash, createdAt: new Date().toISOString() };
    this.#db.data.cameras.push(row);
    await this.#db.write();
    return row;
  }

  async setCameraSecret(id: string, secretHash: string): Promise<void> {
    const cam = this.camera(id);
    if (!cam) return;
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
    await this.#db.write();
    return this.#db.data.cameras.length < before;
  }

  mayView(user: User, cameraId: string): boolean {
    if (!this.camera(cameraId)) return false;
    if (user.role === 'admin') return true;
    return this.#db.data.grants.some((g) => g.userId === user.id && g.cameraId === cameraId && g.rights.includes('view'));
  }

  async grant(userId: string, cameraId: string): Promise<void> {
    if (this.#db.data.grants.some((g) => g.userId === userId && g.cameraId === cameraId)) return;
    this.#db.data.grants.push({ userId, cameraId, rights: ['view'], createdAt: new Date().toISOString() });
    await this.#db.write();
  }

  async revoke(userId: string, cameraId: string): Promise<void> {
    this.#db.data.grants = this.#db.data.grants.filter((g) => !(g.userId === userId && g.cameraId === cameraId));
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

  // --- Audit, preferences --------------------------------------------------------------------

  async audit(entry: Omit<AuditEntry, 'at'>): Promise<void> {
    this.#db.data.audit.push({ at: new Date().toISOString(), ...entry });
    await this.#db.write();
  }
  auditEntries(filter: { cameraId?: string; action?: string } = {}): readonly AuditEntry[] {
    return this.#db.data.audit.filter((a) => (filter.cameraId === undefined || a.cameraId === filter.cameraId) && (filter.action === undefined || a.action.startsWith(filter.action)));
  }
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

  grantsOf(userId: string): readonly Grant[] {
    return this.#db.data.grants.filter((g) => g.userId === userId);
  }
}

/** Ids are random and opaque (never sequential: they appear in URLs). */
function newId(prefix: string): string {
  return `${prefix}_${crypto.randomBytes(9).toString('base64url')}`;
}
