// Data keys: one random AES-256 key per camera, stored only wrapped (AES-256-GCM) by a master key.
import crypto from 'node:crypto';
import { SealError } from './errors.ts';
import type { MasterKey, MasterKeys } from './MasterKeys.ts';

export interface WrappedKey {
  masterKeyId: string;
  /** base64 of nonce(12) | ciphertext(32) | tag(16); AES-256-GCM, AAD = `mimamori/datakey/v1\0${keyId}` */
  wrapped: string;
  keyId: string;
}

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const WRAPPED_BYTES = NONCE_BYTES + KEY_BYTES + TAG_BYTES;

const aad = (keyId: string) => Buffer.from(`mimamori/datakey/v1\0${keyId}`, 'utf8');

function checkKeyId(keyId: string): void {
  if (typeof keyId !== 'string' || keyId === '' || keyId.includes('\0')) {
    throw new TypeError('keyId must be a non-empty string without NUL characters');
  }
}

/** 32 random bytes (in a fresh array, not Buffer's shared pool). */
export function newDataKey(): Uint8Array {
  return crypto.randomFillSync(new Uint8Array(KEY_BYTES));
}

export function wrapDataKey(master: MasterKey, keyId: string, dataKey: Uint8Array): WrappedKey {
  if (!(master?.key instanceof Uint8Array) || master.key.length !== KEY_BYTES) {
    throw new TypeError(`master.key must be ${KEY_BYTES} bytes`);
  }
  checkKeyId(keyId);
  if (!(dataKey instanceof Uint8Array) || dataKey.length !== KEY_BYTES) throw new TypeError(`dataKey must be ${KEY_BYTES} bytes`);
  const nonce = crypto.randomBytes(NONCE_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', master.key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(keyId));
  const sealed = Buffer.concat([nonce, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
  return { masterKeyId: master.id, wrapped: sealed.toString('base64'), keyId };
}

/**
 * Unwraps with the master key the record names. SealError 'master_key_missing' if that key is not
 * configured, 'data_key_tampered' if the wrapped bytes do not authenticate.
 */
export function unwrapDataKey(masters: MasterKeys, w: WrappedKey): Uint8Array {
  checkKeyId(w.keyId);
  const master = masters.get(w.masterKeyId);
  if (!master) {
    throw new SealError(
      'master_key_missing',
      `data key "${w.keyId}" is wrapped by master key "${w.masterKeyId}", which is not configured (have: ${masters.ids.join(', ')}); ` +
        `add it to MIMAMORI_MASTER_KEYS or to master-keys.json in the data directory (keys now come from ${masters.source})`,
    );
  }
  const tampered = (why: string, cause?: unknown) =>
    new SealError(
      'data_key_tampered',
      `wrapped data key "${w.keyId}" (master key "${w.masterKeyId}") ${why}; it was altered or belongs to another key id — restore it from a backup`,
      { cause },
    );
  const bytes = typeof w.wrapped === 'string' ? Buffer.from(w.wrapped, 'base64') : undefined;
  if (!bytes || bytes.length !== WRAPPED_BYTES) throw tampered(`is not ${WRAPPED_BYTES} bytes of base64`);
  const decipher = crypto.createDecipheriv('aes-256-gcm', master.key, bytes.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(aad(w.keyId));
  decipher.setAuthTag(bytes.subarray(NONCE_BYTES + KEY_BYTES));
  const key = new Uint8Array(KEY_BYTES);
  key.set(decipher.update(bytes.subarray(NONCE_BYTES, NONCE_BYTES + KEY_BYTES)));
  try {
    decipher.final();
  } catch (err) {
    key.fill(0);
    throw tampered('failed authentication', err);
  }
  return key;
}
