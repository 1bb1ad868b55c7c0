// The running service marks its data dir with its pid, so `mimamori restore` can refuse to
// replace metadata under a live service (which would keep its old state in memory and write it
// back over the restored files).
import fs from 'node:fs/promises';
import path from 'node:path';
import { IN_USE_FILE } from './files.ts';

export async function markInUse(dataDir: string): Promise<void> {
  await fs.writeFile(path.join(dataDir, IN_USE_FILE), `${process.pid}\n`, { mode: 0o644 });
}

/** Removes the mark if it is still ours. */
export async function releaseInUse(dataDir: string): Promise<void> {
  const file = path.join(dataDir, IN_USE_FILE);
  try {
    if (Number((await fs.readFile(file, 'utf8')).trim()) === process.pid) await fs.rm(file, { force: true });
  } catch {
    // already gone
  }
}

/** The pid of a live process that marked `dataDir`, or undefined (no mark, or a crashed service's stale one). */
export async function serviceRunningOn(dataDir: string): Promise<number | undefined> {
  let pid: number;
  try {
    pid = Number((await fs.readFile(path.join(dataDir, IN_USE_FILE), 'utf8')).trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}
