// Accounts, cameras and grants in a lowdb JSON file: small, slowly changing data only.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { JSONFilePreset } from 'lowdb/node';
import type { Low } from 'lowdb';

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
}

const empty = (): Data => ({ version: 1, users: [], cameras: [], grants: [] });

export class Store {
  readonly #db: Low<Data>;

  static async open(dataDir: string): Promise<Store> {
    await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
    const db = await JSONFilePreset<Data>(path.join(dataDir, 'db.json'), empty());
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

  async deleteCamera(id: string): Promise<boolean> {
    const before = this.#db.data.cameras.length;
    this.#db.data.cameras = this.#db.data.cameras.filter((c) => c.id !== id);
    this.#db.data.grants = this.#db.data.grants.filter((g) => g.cameraId !== id);
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

  grantsOf(userId: string): readonly Grant[] {
    return this.#db.data.grants.filter((g) => g.userId === userId);
  }
}

/** Ids are random and opaque (never sequential: they appear in URLs). */
function newId(prefix: string): string {
  return `${prefix}_${crypto.randomBytes(9).toString('base64url')}`;
}
