// A store's whole metadata as the files of a backup generation, and back, for either kind: the
// files store's backup is its data dir (db.json, accounts.json, audit/…); a database store's is
// its export as three files under store/ (rows, audit rows exactly as chained, secrets). Either
// restores into either kind: a data dir's files are read through a FileStore in a scratch
// folder, which also brings old db.json versions up to date.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readMetadata, STORE_ROWS_FILE, writeMetadata, type MetadataFile, type MetadataSnapshot } from '../../backup/index.ts';
import { createLogger } from '../log.ts';
import { StoreError } from './errors.ts';
import { FileStore } from './FileStore.ts';
import { emptySnapshot, type MetadataExport, type Snapshot } from './model.ts';
import type { Store } from './Store.ts';

const AUDIT_FILE = 'store/audit.jsonl';
const SECRETS_FILE = 'store/secrets.json';
/** Retention never runs on a scratch copy. */
const KEEP_EVERYTHING_DAYS = 36_500;

/** The backup of a store: its data dir's files (files store), or its export (database store). */
export async function backupFilesOf(store: Store, dataDir: string): Promise<MetadataSnapshot> {
  if (store.kind === 'files') return readMetadata(dataDir);
  const data = await store.exportAll();
  return { files: filesOfExport(data), settled: true };
}

export function filesOfExport(data: MetadataExport): MetadataFile[] {
  return [
    { path: STORE_ROWS_FILE, mode: 0o600, data: Buffer.from(JSON.stringify(data.rows)) },
    { path: AUDIT_FILE, mode: 0o600, data: Buffer.from(data.audit.map((line) => `${line}\n`).join('')) },
    { path: SECRETS_FILE, mode: 0o600, data: Buffer.from(JSON.stringify(data.secrets)) },
  ];
}

/** The export held by a backup's files, of either kind. */
export async function exportOfFiles(files: readonly MetadataFile[]): Promise<MetadataExport> {
  const rows = files.find((f) => f.path === STORE_ROWS_FILE);
  if (rows) {
    const text = (p: string) => files.find((f) => f.path === p)?.data.toString('utf8') ?? '';
    try {
      return {
        rows: { ...emptySnapshot(), ...(JSON.parse(rows.data.toString('utf8')) as Partial<Snapshot>) },
        audit: text(AUDIT_FILE).split('\n').filter((line) => line.length > 0),
        secrets: (JSON.parse(text(SECRETS_FILE) || '{}') as MetadataExport['secrets']) ?? {},
      };
    } catch (error) {
      throw new StoreError('schema_mismatch', `the backup's ${STORE_ROWS_FILE} or ${SECRETS_FILE} is not JSON; restore another generation`, { cause: error });
    }
  }
  return withScratch(async (dir) => {
    await writeMetadata(dir, files, false);
    const store = await FileStore.openWithAudit({ dataDir: dir, log: createLogger('silent'), auditRetentionDays: KEEP_EVERYTHING_DAYS });
    try {
      return await store.exportAll();
    } finally {
      await store.close();
    }
  });
}

/** A data dir's metadata files holding `data` (db.json, accounts.json, audit day files, secrets.json). */
export async function dataDirFilesOf(data: MetadataExport): Promise<MetadataFile[]> {
  return withScratch(async (dir) => {
    const store = await FileStore.openWithAudit({ dataDir: dir, log: createLogger('silent'), auditRetentionDays: KEEP_EVERYTHING_DAYS });
    try {
      await store.importAll(data);
    } finally {
      await store.close();
    }
    return (await readMetadata(dir)).files;
  });
}

async function withScratch<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-metadata-'));
  try {
    return await use(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
