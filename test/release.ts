// Another release of Mimamori for tests of nodes of two releases side by side (a rolling upgrade):
// the files of an earlier commit, from this clone's own history (git archive), beside this
// checkout's installed packages and mediasoup worker (the commit must use the same ones).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Unpacks `commit` into a fresh folder (removed when the process exits); its path. */
export function checkoutRelease(commit: string): string {
  try {
    execFileSync('git', ['-C', ROOT, 'cat-file', '-e', `${commit}^{commit}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`commit ${commit} (the release before) is not in this clone's history: run the tests in a full clone (git clone, not --depth)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mimamori-release-${commit.slice(0, 8)}-`));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  execFileSync('bash', ['-c', `git -C "$1" archive --format=tar "$2" | tar -x -C "$3"`, 'archive', ROOT, commit, dir]);
  for (const shared of ['node_modules', '.mimamori']) fs.symlinkSync(path.join(ROOT, shared), path.join(dir, shared));
  return dir;
}
