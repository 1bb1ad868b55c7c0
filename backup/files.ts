// Which files of the data dir are metadata, reading them as one consistent snapshot, and putting
// them back atomically.
//
// A backup holds every file of the data dir except the few named in NOT_METADATA. The rule is
// written as exclusions on purpose: a metadata file someone adds later (accounts, an audit log
// folder, …) is in the next backup without anyone having to remember to list it here.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { MASTER_KEYS_FILE } from '../recorder/seal/index.ts';
import { BackupError } from './errors.ts';

/** Written by the running service (see inUse.ts), so a restore can refuse to run under it. */
export const IN_USE_FILE = 'service.pid';

/** Paths in the data dir (a file, or a folder with all it holds) that are not backed up, and why. */
export const NOT_METADATA: ReadonlyMap<string, string> = new Map([
  ['spool', 'recordings still waiting for upload: video, which is not backed up'],
  ['index', 'a cache of the recording index; rebuilt from S3 when missing'],
  ['s3', 'the embedded object store: the recordings themselves, and the backups'],
  [MASTER_KEYS_FILE, 'the master key: a backup must not carry the key that opens it; the operator keeps it'],
  [IN_USE_FILE, 'marks the service running on this folder; meaningless anywhere else'],
  ['turn/turndb', "coturn's own SQLite user database, written by coturn while it runs; unused with time-limited credentials (the secret is turn/secret.json)"],
]);

/** Process ids (`*.pid`, e.g. coturn's) mean nothing after a restart or on another machine. */
const isProcessId = (relative: string): boolean => relative.endsWith('.pid');

/** A path (relative, '/'-separated) inside the data dir. */
export type MetadataPath = string;

export interface MetadataFile {
  path: MetadataPath;
  /** permission bits (e.g. 0o600 for secrets) */
  mode: number;
  data: Buffer;
}

export interface MetadataSnapshot {
  files: MetadataFile[];
  /** false when files kept changing over every attempt: each file is still whole, but they may be milliseconds apart */
  settled: boolean;
}

const ATTEMPTS = 5;

/**
 * Hidden names are the temporary files of atomic writes (lowdb's `.db.json.tmp`, the master keys'
 * `.master-keys.json.<pid>.<random>.tmp`) and restore's staging folder: never whole metadata.
 */
const isTemporary = (name: string): boolean => name.startsWith('.');

/** Whether the backup covers this path of the data dir. */
export function isMetadata(relative: MetadataPath): boolean {
  if (relative === '' || relative.split('/').some(isTemporary) || isProcessId(relative)) return false;
  for (const excluded of NOT_METADATA.keys()) if (relative === excluded || relative.startsWith(`${excluded}/`)) return false;
  return true;
}

interface Seen {
  path: MetadataPath;
  absolute: string;
  size: number;
  mtimeMs: number;
  ino: number;
  mode: number;
}

/** Every metadata file under `dataDir` (regular files only; links and sockets are not metadata). */
async function walk(dataDir: string): Promise<Seen[]> {
  const out: Seen[] = [];
  const visit = async (relative: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(path.join(dataDir, relative), { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // removed while walking: the next attempt sees it
      throw err;
    }
    for (const entry of entries) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (!isMetadata(child)) continue;
      if (entry.isDirectory()) await visit(child);
      else if (entry.isFile()) {
        const absolute = path.join(dataDir, child);
        try {
          const st = await fs.stat(absolute);
          out.push({ path: child, absolute, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, mode: st.mode & 0o777 });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
    }
  };
  await visit('');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

const sameFiles = (a: readonly Seen[], b: readonly Seen[]): boolean =>
  a.length === b.length && a.every((x, i) => x.path === b[i]!.path && x.size === b[i]!.size && x.mtimeMs === b[i]!.mtimeMs && x.ino === b[i]!.ino);

/**
 * Reads a file the way its writer leaves it whole: a `.json` file must parse (lowdb and the
 * master keys replace theirs by rename, but a plain writeFile can be caught half-written); an
 * append-only `.jsonl` log is cut after its last complete line. undefined: caught mid-write.
 */
async function readWhole(file: Seen): Promise<Buffer | undefined> {
  let data: Buffer;
  try {
    data = await fs.readFile(file.absolute);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (file.path.endsWith('.json')) {
    try {
      JSON.parse(data.toString('utf8'));
    } catch {
      return undefined;
    }
  } else if (file.path.endsWith('.jsonl')) {
    data = data.subarray(0, data.lastIndexOf(0x0a) + 1);
  }
  return data;
}

/**
 * A consistent snapshot of the metadata: every file read, then the folder looked at again; if
 * anything changed meanwhile (a write landed), read again, up to a few times.
 */
export async function readMetadata(dataDir: string): Promise<MetadataSnapshot> {
  let lastProblem = '';
  let last: MetadataFile[] | undefined;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const before = await walk(dataDir);
    const files: MetadataFile[] = [];
    let whole = true;
    for (const seen of before) {
      const data = await readWhole(seen);
      if (!data) {
        whole = false;
        lastProblem = `${seen.path} vanished or was not whole JSON while being read`;
        break;
      }
      files.push({ path: seen.path, mode: seen.mode, data });
    }
    if (whole) {
      last = files;
      if (sameFiles(before, await walk(dataDir))) return { files, settled: true };
      lastProblem = 'files changed while being read';
    }
    await new Promise((r) => setTimeout(r, 50 * attempt));
  }
  if (last) return { files: last, settled: false };
  throw new BackupError(
    'metadata_unreadable',
    `could not read the metadata in ${dataDir} whole in ${ATTEMPTS} attempts (${lastProblem}); if a file there is damaged, repair or remove it, else the next attempt will do`,
  );
}

/** The metadata paths present in `dataDir` now (what a restore would replace). */
export async function existingMetadata(dataDir: string): Promise<MetadataPath[]> {
  return (await walk(dataDir)).map((f) => f.path);
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Puts `files` into `dataDir`: each written and fsynced into a hidden staging folder there first,
 * then renamed into place (a rename replaces a file atomically, so no reader sees half a file).
 * With `removeOthers`, metadata files not in `files` are removed (a newer state's leftovers).
 * Returns the paths removed.
 */
export async function writeMetadata(dataDir: string, files: readonly MetadataFile[], removeOthers: boolean): Promise<MetadataPath[]> {
  for (const f of files) {
    if (!isMetadata(f.path) || f.path.split('/').some((p) => p === '' || p === '.' || p === '..') || path.isAbsolute(f.path)) {
      throw new BackupError('backup_damaged', `the backup names a file "${f.path}" that a backup never holds; it was not made by Mimamori or was altered`);
    }
  }
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const stage = path.join(dataDir, `.restore-${crypto.randomBytes(6).toString('hex')}`);
  await fs.mkdir(stage, { mode: 0o700 });
  try {
    for (const [i, f] of files.entries()) {
      const handle = await fs.open(path.join(stage, String(i)), 'wx', f.mode & 0o777);
      try {
        await handle.chmod(f.mode & 0o777); // whatever the umask
        await handle.writeFile(f.data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    const dirs = new Set<string>([dataDir]);
    for (const [i, f] of files.entries()) {
      const target = path.join(dataDir, ...f.path.split('/'));
      await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      await fs.rename(path.join(stage, String(i)), target);
      dirs.add(path.dirname(target));
    }
    const removed: MetadataPath[] = [];
    if (removeOthers) {
      const restored = new Set(files.map((f) => f.path));
      for (const stale of await existingMetadata(dataDir)) {
        if (restored.has(stale)) continue;
        await fs.rm(path.join(dataDir, ...stale.split('/')), { force: true });
        removed.push(stale);
      }
    }
    for (const dir of dirs) await fsyncDir(dir);
    return removed;
  } finally {
    await fs.rm(stage, { recursive: true, force: true });
  }
}
