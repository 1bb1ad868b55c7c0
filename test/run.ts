// Runs every test file in its own process (uvu has no cross-file summary) and ends with the line
// CI reads: "N passed, N failed, N skipped". Usage: node --import tsx test/run.ts [name-filter]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.test.ts') && (!filter || f.includes(filter)))
  .sort();

// uvu prints "  Total:     N\n  Passed:    N\n  Skipped:   N" per file.
const count = (text: string, label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(text)?.[1] ?? 0);
// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

let passed = 0;
let failed = 0;
let skipped = 0;
const FILE_TIMEOUT_MS = 15 * 60_000;

for (const file of files) {
  const started = Date.now();
  process.stdout.write(`\n=== ${file}\n`);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(dir, file)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d;
    process.stdout.write(d);
  });
  child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
  const timer = setTimeout(() => child.kill('SIGKILL'), FILE_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(timer);
  const text = plain(out);
  const total = count(text, 'Total');
  const ok = count(text, 'Passed');
  const skip = count(text, 'Skipped');
  passed += ok;
  skipped += skip;
  // uvu's Total leaves skipped tests out.
  let bad = Math.max(0, total - ok);
  // A crashed or killed file, or one whose summary never printed, counts as one failure.
  if (code !== 0 && bad === 0) bad = 1;
  failed += bad;
  process.stdout.write(`=== ${file}: ${ok} passed, ${bad} failed (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}

process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failed > 0 ? 1 : 0);
