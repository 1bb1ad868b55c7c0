// Per-camera data keys (AES-256), kept wrapped by the master key in the metadata store and held
// unwrapped only in memory. Rotating the master key re-wraps the data keys; media stay as they are.

import crypto from 'node:crypto';
import { MasterKeys, newDataKey, unwrapDataKey, wrapDataKey, type WrappedKey } from './seal/index.ts';

/** Where wrapped keys live (the service's metadata store, which several nodes may share). */
export interface KeyCatalog {
  wrappedKey(cameraId: string): WrappedKey | undefined;
  /** Stores a camera's first key; if another node stored one first, returns that one instead. */
  addWrappedKey(cameraId: string, key: WrappedKey): Promise<WrappedKey>;
  saveWrappedKeys(entries: readonly { cameraId: string; key: WrappedKey }[]): Promise<void>;
  wrappedKeys(): readonly { cameraId: string; key: WrappedKey }[];
}

export class DataKeys {
  readonly #masters: MasterKeys;
  readonly #catalog: KeyCatalog;
  readonly #plain = new Map<string, Uint8Array>();
  readonly #creating = new Map<string, Promise<Uint8Array>>();

  constructor(masters: MasterKeys, catalog: KeyCatalog) {
    this.#masters = masters;
    this.#catalog = catalog;
  }

  /** The camera's data key, created (and stored wrapped) on first use. */
  async dataKey(cameraId: string): Promise<Uint8Array> {
    const cached = this.#plain.get(cameraId);
    if (cached) return cached;
    const wrapped = this.#catalog.wrappedKey(cameraId);
    if (wrapped) {
      const key = unwrapDataKey(this.#masters, wrapped);
      this.#plain.set(cameraId, key);
      return key;
    }
    const pending = this.#creating.get(cameraId);
    if (pending) return pending;
    const creating = (async () => {
      const fresh = newDataKey();
      const keyId = `dk_${crypto.randomBytes(6).toString('hex')}`;
      // Two nodes may create a camera's key at once: whichever was stored first is the key.
      const stored = await this.#catalog.addWrappedKey(cameraId, wrapDataKey(this.#masters.current, keyId, fresh));
      const key = stored.keyId === keyId ? fresh : unwrapDataKey(this.#masters, stored);
      this.#plain.set(cameraId, key);
      return key;
    })();
    this.#creating.set(cameraId, creating);
    try {
      return await creating;
    } finally {
      this.#creating.delete(cameraId);
    }
  }

  /** Existing key only (reading recordings never creates keys). */
  existingKey(cameraId: string): Uint8Array | undefined {
    const cached = this.#plain.get(cameraId);
    if (cached) return cached;
    const wrapped = this.#catalog.wrappedKey(cameraId);
    if (!wrapped) return undefined;
    const key = unwrapDataKey(this.#masters, wrapped);
    this.#plain.set(cameraId, key);
    return key;
  }

  forget(cameraId: string): void {
    this.#plain.delete(cameraId);
  }

  /**
   * New master key; every data key re-wrapped with it; master keys no longer used retired.
   * Returns the new master key id and how many data keys were re-wrapped.
   */
  async rotateMaster(): Promise<{ masterKeyId: string; rewrapped: number; retired: string[] }> {
    const master = await this.#masters.rotate();
    const entries = this.#catalog.wrappedKeys().map(({ cameraId, key }) => ({
      cameraId,
      key: wrapDataKey(master, key.keyId, unwrapDataKey(this.#masters, key)),
    }));
    await this.#catalog.saveWrappedKeys(entries);
    const retired = await this.#masters.retire([master.id]);
    return { masterKeyId: master.id, rewrapped: entries.length, retired };
  }
}
