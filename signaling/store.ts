// Accounts, cameras and grants in a lowdb JSON file: small, slowly changing data only.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { JSONFilePreset } from 'lowdb/node';
import type { Low } from 'lowdb';
import type { WrappedKey } from '../recorder/seal/index.ts';

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

interface Data {
  version: 1;
  users: User[];
  cameras: Camera[];
  grants: Grant[];
  /** Per-camera data keys, wrapped by the master key (never stored unwrapped). */
  keys: { cameraId: string; key: WrappedKey }[];
  holds: Hold[];
}

const empty = (): Data => ({ version: 1, users: [], cameras: [], grants: [], keys: [], holds: [] });

export class Store {
  readonly #db: Low<Data>;

  static async open(dataDir: string): Promise<Store> {
    await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
    const db = await JSONFilePreset<Data>(path.join(dataDir, 'db.json'), empty());
    // Files written before the recorder existed lack these collections.
    db.data.keys ??= [];
    db.data.holds ??= [];
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

  grantsOf(userId: string): readonly Grant[] {
    return this.#db.data.grants.filter((g) => g.userId === userId);
  }
}

/** Ids are random and opaque (never sequential: they appear in URLs). */
function newId(prefix: string): string {
  return `${prefix}_${crypto.randomBytes(9).toString('base64url')}`;
}
