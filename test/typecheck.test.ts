// The whole code base type-checks under strict (server, tests, client and its Vite config).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

for (const project of ['tsconfig.json', 'client/tsconfig.json', 'client/tsconfig.node.json']) {
  test(`tsc --noEmit -p ${project}`, async () => {
    const result = await promisify(execFile)(process.execPath, [tsc, '--noEmit', '-p', project], { cwd: ROOT }).then(
      () => '',
      (err: { stdout?: string }) => err.stdout ?? String(err),
    );
    assert.is(result, '', result);
  });
}

test.run();
