// Restoring a backup generation into a data dir (a fresh machine's, usually). Everything is
// checked before anything is written: the service is not running there, the master key opens the
// backup and every camera's data key in it, and no metadata would be overwritten without --force.
import fs from 'node:fs/promises';
import path from 'node:path';
import { MASTER_KEYS_ENV, MASTER_KEYS_FILE, MasterKeys, SealError, unwrapDataKey, type WrappedKey } from '../recorder/seal/index.ts';
import type { ObjectStore } from '../recorder/store/index.ts';
import { generationKey, listGenerations, STORE_ROWS_FILE, type Generation } from './Backups.ts';
import { BackupError } from './errors.ts';
import { existingMetadata, writeMetadata, type MetadataFile, type MetadataPath } from './files.ts';
import { serviceRunningOn } from './inUse.ts';
import { openBackup, type BackupHeader } from './sealed.ts';

export interface RestoreOptions {
  dataDir: string;
  store: ObjectStore;
  /** where MIMAMORI_MASTER_KEYS is read (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** a generation name (or its object key); default the newest */
  generation?: string;
  /** replace metadata already in dataDir */
  force?: boolean;
  /**
   * Turns the files of a database store's backup (store/…) into data-dir files (db.json, …): the
   * caller knows the stores; without it such a backup is refused here.
   */
  filesOf?: (files: MetadataFile[]) => Promise<MetadataFile[]>;
}

export interface RestoreReport {
  generation: string;
  createdAt: string;
  files: MetadataPath[];
  bytes: number;
  users: number;
  cameras: number;
  grants: number;
  /** cameras' wrapped data keys, each checked to unwrap with the configured master keys */
  keys: number;
  /** metadata files of the replaced state that the backup does not have (with --force) */
  removed: MetadataPath[];
}

/**
 * The master keys for a restore: from MIMAMORI_MASTER_KEYS, or the master-keys.json the operator
 * put into the data dir. Never generated here (MasterKeys.load would make a new, useless one).
 */
async function masterKeysForRestore(dataDir: string, env: NodeJS.ProcessEnv): Promise<MasterKeys> {
  const fromEnv = env[MASTER_KEYS_ENV]?.trim();
  if (!fromEnv) {
    try {
      await fs.access(path.join(dataDir, MASTER_KEYS_FILE));
    } catch {
      throw new BackupError(
        'master_key_needed',
        `restore needs the master key the backup was sealed with, and none is configured: set ${MASTER_KEYS_ENV}="id:base64,…", ` +
          `or copy the ${MASTER_KEYS_FILE} you kept into ${dataDir}. Without it neither the backups nor the recordings can be opened`,
      );
    }
  }
  return MasterKeys.load({ dataDir, env });
}

function pick(generations: readonly Generation[], wanted: string | undefined, where: string): Generation {
  if (generations.length === 0) throw new BackupError('backup_not_found', `there is no backup in ${where}; check the S3 settings (MIMAMORI_S3_*) point at the bucket the backups went to`);
  if (wanted === undefined) return generations.at(-1)!;
  const found = generations.find((g) => g.name === wanted || g.key === wanted || g.key === generationKey(wanted));
  if (!found) {
    throw new BackupError('backup_not_found', `no backup generation "${wanted}" in ${where}; there are: ${generations.map((g) => g.name).join(', ')} (see "mimamori backups")`);
  }
  return found;
}

interface DbCounts {
  users: number;
  cameras: number;
  grants: number;
  keys: { cameraId: string; key: WrappedKey }[];
}

function countsOf(dbJson: Buffer): DbCounts {
  let db: { users?: unknown[]; cameras?: unknown[]; grants?: unknown[]; keys?: { cameraId: string; key: WrappedKey }[] };
  try {
    db = JSON.parse(dbJson.toString('utf8')) as typeof db;
  } catch (err) {
    throw new BackupError('backup_damaged', 'the backup opens but its db.json is not JSON; restore another generation', { cause: err });
  }
  return { users: db.users?.length ?? 0, cameras: db.cameras?.length ?? 0, grants: db.grants?.length ?? 0, keys: db.keys ?? [] };
}

/** A generation, opened: its header and files, and the master keys that opened it. */
export async function openGeneration(o: Pick<RestoreOptions, 'dataDir' | 'store' | 'env' | 'generation'>): Promise<{ header: BackupHeader; files: MetadataFile[]; masterKeys: MasterKeys }> {
  const masterKeys = await masterKeysForRestore(path.resolve(o.dataDir), o.env ?? process.env);
  const generation = pick(await listGenerations(o.store), o.generation, o.store.description);
  const { header, files } = await openBackup(masterKeys, await o.store.get(generation.key));
  return { header, files, masterKeys };
}

/** Recordings play again only if every camera's data key unwraps: checked before anything is written. */
export function assertDataKeysOpen(masterKeys: MasterKeys, keys: readonly { cameraId: string; key: WrappedKey }[], generation: string): void {
  for (const { cameraId, key } of keys) {
    try {
      unwrapDataKey(masterKeys, key).fill(0);
    } catch (err) {
      if (!(err instanceof SealError)) throw err;
      throw new BackupError(
        err.code === 'master_key_missing' ? 'master_key_missing' : 'wrong_master_key',
        `camera ${cameraId}'s data key in backup ${generation} does not open with the configured master keys (${err.message}); its recordings could not be played. ` +
          `Configure every master key you kept (${MASTER_KEYS_ENV} or ${MASTER_KEYS_FILE}), then restore again`,
        { cause: err },
      );
    }
  }
}

export async function restore(o: RestoreOptions): Promise<RestoreReport> {
  const dataDir = path.resolve(o.dataDir);
  const pid = await serviceRunningOn(dataDir);
  if (pid !== undefined) {
    throw new BackupError('service_running', `a Mimamori service (pid ${pid}) is running on ${dataDir}; stop it first (it would write its old state back over the restored files), then restore`);
  }
  const opened = await openGeneration(o);
  const { header, masterKeys } = opened;
  let files = opened.files;
  // A backup of a database store, restored into a data dir: its rows become db.json and the rest.
  if (!files.some((f) => f.path === 'db.json') && files.some((f) => f.path === STORE_ROWS_FILE)) {
    if (!o.filesOf) throw new BackupError('backup_damaged', `backup ${header.name} is of a database store; restore it with MIMAMORI_DATABASE_URL set, or through the command line`);
    files = await o.filesOf(files);
  }

  const db = files.find((f) => f.path === 'db.json');
  if (!db) throw new BackupError('backup_damaged', `backup ${header.name} has no db.json; restore another generation`);
  const counts = countsOf(db.data);
  assertDataKeysOpen(masterKeys, counts.keys, header.name);

  const existing = await existingMetadata(dataDir);
  if (existing.length > 0 && !o.force) {
    const shown = existing.slice(0, 5).join(', ') + (existing.length > 5 ? `, … (${existing.length} files)` : '');
    throw new BackupError(
      'data_dir_not_empty',
      `${dataDir} already holds metadata (${shown}); restoring would replace it. Point MIMAMORI_DATA_DIR at an empty folder, or add --force to replace it with backup ${header.name}`,
    );
  }
  const removed = await writeMetadata(dataDir, files, true);
  return {
    generation: header.name,
    createdAt: header.createdAt,
    files: files.map((f) => f.path),
    bytes: files.reduce((n, f) => n + f.data.length, 0),
    users: counts.users,
    cameras: counts.cameras,
    grants: counts.grants,
    keys: counts.keys.length,
    removed,
  };
}
