// `mimamori s3`: the embedded S3 server as its own process. A service records a camera to it
// through the settings it prints, the recordings verify, it stops cleanly on SIGTERM and SIGINT,
// comes back with the same key pair, and refuses to start with a clear message when it cannot.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Camera } from '../camera/index.ts';
import { CREDENTIALS_FILE, S3ObjectStore, type S3Options } from '../recorder/store/index.ts';
import { cli, freePort, startService } from './harness.ts';
import { runS3Command, S3Process, setting } from './s3.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const STACK = /\n\s+at /;

/** S3ObjectStore options from the settings the command printed, as a node reads them (ListObjectsV2). */
function storeOptions(s3: S3Process, listPageSize?: number): S3Options & { listPageSize?: number } {
  const e = s3.env;
  return {
    endpoint: e.MIMAMORI_S3_ENDPOINT!,
    bucket: e.MIMAMORI_S3_BUCKET!,
    region: e.MIMAMORI_S3_REGION!,
    accessKeyId: e.MIMAMORI_S3_ACCESS_KEY_ID!,
    secretAccessKey: e.MIMAMORI_S3_SECRET_ACCESS_KEY!,
    forcePathStyle: e.MIMAMORI_S3_FORCE_PATH_STYLE === 'true',
    ...(listPageSize ? { listPageSize } : {}),
  };
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

test('prints the nodes\' settings with a key pair made once; the SDK puts, gets and pages ListObjectsV2 through it', async () => {
  const s3 = await S3Process.start();
  try {
    const out = s3.output();
    assert.match(out, `objects in ${s3.folder}`);
    assert.match(out, /shown only this once/);
    assert.is(s3.env.MIMAMORI_S3_ENDPOINT, `http://127.0.0.1:${s3.port}`);
    assert.is(s3.env.MIMAMORI_S3_BUCKET, 'mimamori');
    assert.match(s3.env.MIMAMORI_S3_ACCESS_KEY_ID!, /^MMR[A-Z2-7]{17}$/);
    assert.ok(s3.env.MIMAMORI_S3_SECRET_ACCESS_KEY!.length >= 40, 'a long random secret');
    const file = path.join(s3.folder, CREDENTIALS_FILE);
    assert.is(fs.statSync(file).mode & 0o777, 0o600, 'the key pair is readable by its owner only');

    // Nodes list with ListObjectsV2; s3rver's continuation tokens need DES (the legacy provider).
    const store = await S3ObjectStore.create({ ...storeOptions(s3, 2), createBucket: false });
    try {
      for (let i = 0; i < 5; i++) await store.put(`p/${i}.bin`, new Uint8Array([i]));
      const keys: string[] = [];
      for await (const o of store.list('p/')) keys.push(o.key);
      assert.equal(keys, ['p/0.bin', 'p/1.bin', 'p/2.bin', 'p/3.bin', 'p/4.bin'], 'three pages of ListObjectsV2');
      assert.equal([...(await store.get('p/3.bin'))], [3]);
    } finally {
      store.close();
    }
    const unsigned = await fetch(`${s3.env.MIMAMORI_S3_ENDPOINT}/mimamori/p/0.bin`);
    assert.is(unsigned.status, 403, 'an unsigned request is refused');
    await unsigned.body?.cancel();

    // Stops on SIGINT too, and comes back on the same folder with the same key pair, secret not shown again.
    assert.is(await s3.stop('SIGINT'), 0);
    assert.match(s3.output(), 'SIGINT: stopped');
    await s3.restart();
    const again = s3.output().split('Mimamori S3 server').at(-1)!;
    assert.is(setting(again, 'MIMAMORI_S3_ACCESS_KEY_ID'), s3.env.MIMAMORI_S3_ACCESS_KEY_ID);
    assert.match(setting(again, 'MIMAMORI_S3_SECRET_ACCESS_KEY')!, `(in ${file}; shown only at the first start)`);
    assert.not.match(again, s3.env.MIMAMORI_S3_SECRET_ACCESS_KEY!);
    const store2 = await S3ObjectStore.create({ ...storeOptions(s3), createBucket: false });
    try {
      assert.equal([...(await store2.get('p/4.bin'))], [4], 'the objects are still there');
    } finally {
      store2.close();
    }
  } finally {
    await s3.close();
  }
  assert.not.ok(fs.existsSync(s3.folder), 'close() removes its folder');
});

test('a service records to it with the printed settings; the recordings verify; SIGTERM stops it and frees the port', async () => {
  const s3 = await S3Process.start();
  const svc = await startService({ env: { ...s3.env, MIMAMORI_SEGMENT_SECONDS: '2' } });
  try {
    const cam = await svc.createCamera('Gate');
    const from = Date.now() - 1000;
    const camera = await Camera.create({ whipUrl: `${svc.url}/whip/${cam.id}`, token: await svc.publishToken(cam.id, cam.secret), width: 320, height: 180, kbps: 300, fps: 15 });
    await sleep(5000);
    await camera.close();
    const deadline = Date.now() + 30_000;
    for (;;) {
      const status = (await (await svc.api('/api/recorder')).json()) as { upload: { queued: number }; spoolBytes: number; cameras: { cameraId: string; recording: boolean }[] };
      if (status.upload.queued === 0 && status.spoolBytes === 0 && !status.cameras.some((c) => c.cameraId === cam.id && c.recording)) break;
      if (Date.now() > deadline) throw new Error(`uploads did not finish: ${JSON.stringify(status)}\n${svc.output().slice(-2000)}`);
      await sleep(250);
    }
    const store = await S3ObjectStore.create({ ...storeOptions(s3), createBucket: false });
    const segments: string[] = [];
    try {
      for await (const o of store.list(`recordings/${cam.id}/`)) segments.push(o.key);
    } finally {
      store.close();
    }
    assert.ok(segments.length >= 2, `segments of ~2 s in the standalone store: ${segments.join(', ')}`);
    assert.ok(fs.readdirSync(path.join(s3.folder, 'mimamori')).includes('recordings'), 'in the folder it serves');

    const verify = await cli(['verify', '--camera', cam.id, '--from', String(from), '--to', String(Date.now())], { ...s3.env, MIMAMORI_DATA_DIR: svc.dataDir });
    assert.is(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, 'every object opened cleanly');

    assert.is(await s3.stop('SIGTERM'), 0, 'exit status 0 on SIGTERM');
    assert.match(s3.output(), 'SIGTERM: stopped');
    assert.ok(await portFree(s3.port), 'the port is free again');
  } finally {
    await svc.stop();
    await s3.close();
  }
});

test('refuses with a message saying what to do, without a stack trace', async () => {
  const taken = await S3Process.start();
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'mimamori-s3-bad-'));
  try {
    const cases: [string, string[], number, RegExp][] = [
      ['the port is taken', ['--folder', dir, '--port', String(taken.port)], 1, /EADDRINUSE\); another process uses that port; pick another or stop it/],
      ['the folder is under a file', ['--folder', '/etc/hostname/s3'], 1, /cannot use \/etc\/hostname\/s3 for the S3 server \(ENOTDIR\): give a folder this user may create and write, with --folder/],
      ['no folder', [], 2, /s3 needs --folder DIR/],
      ['a bad port', ['--folder', dir, '--port', 'http'], 2, /--port http: give a port from 0 to 65535/],
      ['half a key pair', ['--folder', dir, '--access-key-id', 'ABCDEF'], 2, /give both --access-key-id and --secret-access-key/],
    ];
    const wrong: string[] = [];
    for (const [name, args, code, message] of cases) {
      const { ready } = runS3Command(args);
      const r = await ready;
      if (r.code !== code) wrong.push(`${name}: exit ${r.code}, not ${code}: ${r.stdout}${r.stderr}`);
      if (!message.test(r.stderr)) wrong.push(`${name}: said ${JSON.stringify(r.stderr)}`);
      if (STACK.test(r.stderr)) wrong.push(`${name}: a stack trace`);
    }
    assert.equal(wrong, []);

    // Without the legacy provider (node run by hand without bin/mimamori).
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
    const plain = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bin', 'mimamori.ts'), 's3', '--folder', dir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    plain.stderr!.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise((r) => plain.once('exit', r));
    assert.is(code, 1);
    assert.match(stderr, 'run it as bin/mimamori s3, or node --openssl-legacy-provider');

    // A given key pair is used, not written to the folder; the secret is not printed.
    const given = await S3Process.start({ folder: dir, port: await freePort(), args: ['--access-key-id', 'MYKEY123'] }).catch((e: unknown) => e);
    assert.instance(given, Error, 'a given id needs its secret');
    const own = path.join(dir, 'given');
    const { child, ready } = runS3Command(['--folder', own, '--port', '0'], { MIMAMORI_S3_ACCESS_KEY_ID: 'MYKEY123', MIMAMORI_S3_SECRET_ACCESS_KEY: 'my-own-secret-of-length' });
    const r = await ready;
    child.kill('SIGTERM');
    assert.is(setting(r.stdout, 'MIMAMORI_S3_ACCESS_KEY_ID'), 'MYKEY123');
    assert.is(setting(r.stdout, 'MIMAMORI_S3_SECRET_ACCESS_KEY'), '(the one given)');
    assert.not.ok(fs.existsSync(path.join(own, CREDENTIALS_FILE)), 'no key pair written');
  } finally {
    await taken.close();
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

test.run();
