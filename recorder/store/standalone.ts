// The embedded S3 server run on its own (`mimamori s3`): for a small cluster whose nodes need one
// shared store, or for a test. Its key pair lives in the folder it serves; this module makes it
// once, checks the folder can be written, and says what the nodes should be given.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { StoreError } from './errors.ts';
import type { S3Credentials } from './sigv4.ts';

/** In the served folder, where no bucket can collide with it (bucket names never start with a dot). */
export const CREDENTIALS_FILE = '.mimamori-s3-credentials.json';

/** Access key ids look like AWS's: upper-case letters and digits. */
const KEY_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function newCredentials(): S3Credentials {
  const id = [...crypto.randomBytes(17)].map((b) => KEY_ID_ALPHABET[b % 32]).join('');
  return { accessKeyId: `MMR${id}`, secretAccessKey: crypto.randomBytes(30).toString('base64url') };
}

function isCredentials(value: unknown): value is S3Credentials {
  const v = value as Partial<S3Credentials> | null;
  return typeof v?.accessKeyId === 'string' && typeof v.secretAccessKey === 'string' && v.accessKeyId !== '' && v.secretAccessKey.length >= 16;
}

/**
 * The key pair kept in `folder` (0600), made on the first start. `generated` says the secret is
 * new: the only time it is shown.
 */
export async function folderCredentials(folder: string): Promise<{ credentials: S3Credentials; generated: boolean; file: string }> {
  const file = path.join(folder, CREDENTIALS_FILE);
  let text: string | undefined;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw unusable(folder, err);
  }
  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // reported below
    }
    if (!isCredentials(parsed)) throw new StoreError('failed', `${file} is not a key pair this command wrote; restore it from a copy, or remove it to make a new one (then give every node the new one)`);
    return { credentials: parsed, generated: false, file };
  }
  const credentials = newCredentials();
  try {
    // 'wx': two servers started at once on one folder never end up with different keys.
    await fs.writeFile(file, `${JSON.stringify(credentials)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return folderCredentials(folder);
    throw unusable(folder, err);
  }
  return { credentials, generated: true, file };
}

function unusable(folder: string, err: unknown): StoreError {
  const code = (err as NodeJS.ErrnoException).code ?? String(err);
  return new StoreError('failed', `cannot use ${folder} for the S3 server (${code}): give a folder this user may create and write, with --folder`, { cause: err });
}

/** Creates `folder` if needed and proves a file can be written there (s3rver would only fail on the first put). */
export async function assertWritableFolder(folder: string): Promise<void> {
  const probe = path.join(folder, `.write-probe-${process.pid}`);
  try {
    await fs.mkdir(folder, { recursive: true, mode: 0o700 });
    await fs.writeFile(probe, '');
    await fs.rm(probe);
  } catch (err) {
    throw unusable(folder, err);
  }
}

export interface NodeSettingsInput {
  endpoint: string;
  bucket: string;
  credentials: S3Credentials;
  /** show: just generated, print it (the only time); kept: say where it is; given: the operator has it. */
  secret: 'show' | 'kept' | 'given';
  /** Where a kept secret is. */
  file: string;
}

/** The MIMAMORI_S3_* lines every node of the cluster needs, to print. */
export function nodeSettings(o: NodeSettingsInput): string[] {
  return [
    `MIMAMORI_S3_ENDPOINT=${o.endpoint}`,
    `MIMAMORI_S3_BUCKET=${o.bucket}`,
    'MIMAMORI_S3_REGION=us-east-1',
    'MIMAMORI_S3_FORCE_PATH_STYLE=true',
    `MIMAMORI_S3_ACCESS_KEY_ID=${o.credentials.accessKeyId}`,
    `MIMAMORI_S3_SECRET_ACCESS_KEY=${o.secret === 'show' ? o.credentials.secretAccessKey : o.secret === 'kept' ? `(in ${o.file}; shown only at the first start)` : '(the one given)'}`,
  ];
}
