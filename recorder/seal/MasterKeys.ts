// Master keys: the keys that wrap per-camera data keys (envelope encryption).
// From the environment (MIMAMORI_MASTER_KEYS, read-only here) or from `${dataDir}/master-keys.json`,
// created on first start with a random key. Key bytes are never logged or put in messages:
// MasterKey objects and MasterKeys print only their ids.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { inspect } from 'node:util';
import { SealError } from './errors.ts';

export interface MasterKey {
  id: string;
  key: Uint8Array;
}

export const MASTER_KEYS_ENV = 'MIMAMORI_MASTER_KEYS';
export const MASTER_KEYS_FILE = 'master-keys.json';

const KEY_BYTES = 32;
const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64_PATTERN = /^[A-Za-z0-9+/_-]+={0,2}$/;
const GENERATE_HINT = 'generate one with `openssl rand -base64 32`';

interface KeysFile {
  current: string;
  keys: Record<string, string>;
}

function masterKey(id: string, key: Uint8Array): MasterKey {
  const redacted = `MasterKey { id: ${JSON.stringify(id)}, key: <${KEY_BYTES} bytes> }`;
  return Object.freeze({
    id,
    key,
    [inspect.custom]: () => redacted,
    toJSON: () => ({ id }),
  });
}

/** Decodes 32 bytes of base64 (standard or url alphabet) into a fresh, unpooled array. */
function decodeKey(id: string, text: unknown, where: string): MasterKey {
  if (!ID_PATTERN.test(id)) {
    throw new SealError('master_key_invalid', `master key id ${JSON.stringify(id)} in ${where} is not valid; use 1–64 letters, digits, '.', '_' or '-'`);
  }
  const decoded = typeof text === 'string' && BASE64_PATTERN.test(text.trim()) ? Buffer.from(text.trim(), 'base64') : undefined;
  if (!decoded || decoded.length !== KEY_BYTES) {
    const got = decoded ? `${decoded.length} bytes` : 'not base64';
    throw new SealError('master_key_invalid', `master key "${id}" in ${where} is not ${KEY_BYTES} bytes of base64 (${got}); ${GENERATE_HINT}`);
  }
  const key = new Uint8Array(decoded);
  decoded.fill(0);
  return masterKey(id, key);
}

function generateKey(taken: ReadonlySet<string>): MasterKey {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  let id: string;
  do id = `mk-${day}-${crypto.randomBytes(4).toString('hex')}`;
  while (taken.has(id));
  return masterKey(id, crypto.randomFillSync(new Uint8Array(KEY_BYTES)));
}

function parseEnv(value: string): MasterKey[] {
  const where = `environment variable ${MASTER_KEYS_ENV}`;
  const keys: MasterKey[] = [];
  for (const entry of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const colon = entry.indexOf(':');
    if (colon <= 0) {
      throw new SealError('master_key_invalid', `${where} must be "id1:base64,id2:base64" (current key first); an entry has no "id:"`);
    }
    const id = entry.slice(0, colon).trim();
    if (keys.some((k) => k.id === id)) {
      throw new SealError('master_key_invalid', `${where} names master key "${id}" twice; keep one entry per id`);
    }
    keys.push(decodeKey(id, entry.slice(colon + 1), where));
  }
  if (keys.length === 0) {
    throw new SealError('master_key_invalid', `${where} is set but holds no keys; set "id:base64" (${GENERATE_HINT}) or unset it to use ${MASTER_KEYS_FILE}`);
  }
  return keys;
}

function parseFile(text: string, file: string): MasterKey[] {
  const restore = `restore it from a backup; without its keys existing recordings cannot be decrypted (do not delete it)`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SealError('master_key_invalid', `${file} is not valid JSON; ${restore}`);
  }
  const shape = parsed as Partial<KeysFile> | null;
  if (typeof shape !== 'object' || shape === null || typeof shape.current !== 'string' || typeof shape.keys !== 'object' || shape.keys === null) {
    throw new SealError('master_key_invalid', `${file} must hold {"current": id, "keys": {id: base64}}; ${restore}`);
  }
  const keys = Object.entries(shape.keys).map(([id, value]) => decodeKey(id, value, file));
  const current = keys.find((k) => k.id === shape.current);
  if (!current) {
    throw new SealError('master_key_invalid', `${file} names current master key "${shape.current}" but does not contain it; ${restore}`);
  }
  return [current, ...keys.filter((k) => k !== current)];
}

function serialize(keys: readonly MasterKey[]): string {
  const [current] = keys;
  const body: KeysFile = {
    current: current!.id,
    keys: Object.fromEntries(keys.map((k) => [k.id, Buffer.from(k.key).toString('base64')])),
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}

/**
 * Writes `text` to `file` through a 0600 temp file, fsync, then rename (or, with `exclusive`,
 * a hard link that fails with EEXIST if the file appeared meanwhile), then fsyncs the directory.
 */
async function writeAtomic(file: string, text: string, exclusive: boolean): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'wx', 0o600);
  try {
    await handle.chmod(0o600); // whatever the umask
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    if (exclusive) {
      await fs.link(tmp, file);
      await fs.unlink(tmp);
    } else {
      await fs.rename(tmp, file);
    }
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  const dirHandle = await fs.open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

const ioError = (action: string, file: string, err: unknown) =>
  new SealError(
    'master_keys_io',
    `could not ${action} ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}); check that the data directory is writable by this user and the disk has space`,
    { cause: err },
  );

export class MasterKeys {
  readonly #file: string | undefined; // undefined: keys from the environment
  #keys: readonly MasterKey[]; // current first
  #pending: Promise<unknown> = Promise.resolve();

  private constructor(keys: readonly MasterKey[], file: string | undefined) {
    this.#keys = keys;
    this.#file = file;
  }

  /**
   * MIMAMORI_MASTER_KEYS="id1:base64,id2:base64" if set (first = current; the others only unwrap),
   * else `${dataDir}/master-keys.json`, created with a new random key on first start.
   */
  static async load(options: { dataDir: string; env?: NodeJS.ProcessEnv }): Promise<MasterKeys> {
    if (typeof options?.dataDir !== 'string' || options.dataDir === '') throw new TypeError('MasterKeys.load: dataDir is required');
    const fromEnv = (options.env ?? process.env)[MASTER_KEYS_ENV];
    if (fromEnv !== undefined && fromEnv.trim() !== '') return new MasterKeys(parseEnv(fromEnv), undefined);

    const file = path.resolve(options.dataDir, MASTER_KEYS_FILE);
    const existing = await MasterKeys.#read(file);
    if (existing) return new MasterKeys(existing, file);

    const first = generateKey(new Set());
    try {
      await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      await writeAtomic(file, serialize([first]), true);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('create', file, err);
      // Another process created it first: use theirs.
      const theirs = await MasterKeys.#read(file);
      if (!theirs) throw ioError('read', file, err);
      return new MasterKeys(theirs, file);
    }
    return new MasterKeys([first], file);
  }

  static async #read(file: string): Promise<MasterKey[] | undefined> {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw ioError('read', file, err);
    }
    return parseFile(text, file);
  }

  /** The key that wraps new data keys. */
  get current(): MasterKey {
    return this.#keys[0]!;
  }

  get(id: string): MasterKey | undefined {
    return this.#keys.find((k) => k.id === id);
  }

  /** All ids, current first. */
  get ids(): string[] {
    return this.#keys.map((k) => k.id);
  }

  /** Where the keys come from, for messages: the environment variable or the file path. */
  get source(): string {
    return this.#file ?? `environment variable ${MASTER_KEYS_ENV}`;
  }

  /**
   * File mode only: makes a new random key current and keeps the old ones (still needed to unwrap
   * until their data keys are re-wrapped). Persists before returning the new key.
   */
  rotate(): Promise<MasterKey> {
    return this.#serialized(async (file) => {
      const next = generateKey(new Set(this.ids));
      const keys = [next, ...this.#keys];
      await this.#persist(file, keys);
      return next;
    }, 'rotate');
  }

  /** File mode only: drops every key except the current one and `idsInUse`. Returns the dropped ids. */
  retire(idsInUse: readonly string[]): Promise<string[]> {
    if (!Array.isArray(idsInUse) || idsInUse.some((id) => typeof id !== 'string')) {
      return Promise.reject(new TypeError('retire: idsInUse must be an array of master key ids'));
    }
    return this.#serialized(async (file) => {
      const keep = new Set([this.current.id, ...idsInUse]);
      const dropped = this.#keys.filter((k) => !keep.has(k.id));
      if (dropped.length === 0) return [];
      await this.#persist(
        file,
        this.#keys.filter((k) => keep.has(k.id)),
      );
      return dropped.map((k) => k.id);
    }, 'retire');
  }

  async #persist(file: string, keys: readonly MasterKey[]): Promise<void> {
    try {
      await writeAtomic(file, serialize(keys), false);
    } catch (err) {
      throw ioError('write', file, err);
    }
    this.#keys = keys;
  }

  #serialized<T>(fn: (file: string) => Promise<T>, action: string): Promise<T> {
    const file = this.#file;
    if (file === undefined) {
      return Promise.reject(
        new SealError(
          'master_keys_readonly',
          `cannot ${action} master keys that come from ${MASTER_KEYS_ENV}; change the variable instead (new key first, keep the old ones until their data keys are re-wrapped) and restart`,
        ),
      );
    }
    const run = this.#pending.then(() => fn(file));
    this.#pending = run.catch(() => undefined); // the next call runs even if this one failed
    return run;
  }

  [inspect.custom](): string {
    return `MasterKeys { current: ${JSON.stringify(this.current.id)}, ids: ${JSON.stringify(this.ids)}, source: ${JSON.stringify(this.source)} }`;
  }

  toJSON(): { current: string; ids: string[] } {
    return { current: this.current.id, ids: this.ids };
  }
}
