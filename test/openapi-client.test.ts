// An integration written the way a customer writes one: a client generated from /api/openapi.json
// (openapi-typescript, in this test) and openapi-fetch, typechecked against the generated types,
// signed in with API keys only. It provisions a camera, reads its timeline, exports a clip and
// downloads it; a revoked key then gets 401. The MP4 it downloads is checked with ffprobe.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import openapiTS, { astToString } from 'openapi-typescript';
import { Camera } from '../camera/index.ts';
import { startService, type Service } from './harness.ts';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let svc: Service;
let dir: string;

test.before(async () => {
  svc = await startService({ env: { MIMAMORI_SEGMENT_SECONDS: '2' } });
  // Inside the checkout, so the script resolves openapi-fetch from node_modules.
  dir = await fs.mkdtemp(path.join(ROOT, 'test', '.openapi-client-'));
});
test.after(async () => {
  await svc?.stop();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

/** The integration, as a customer would write it against the generated `paths`. */
const INTEGRATION = String.raw`
import createClient from 'openapi-fetch';
import type { paths } from './api.ts';

export interface Steps {
  /** Publishes the camera for a few seconds (the integration's site installs it). */
  publish(cameraId: string, secret: string): Promise<void>;
}

export async function integrate(baseUrl: string, keys: { provisioning: string; clips: string }, steps: Steps) {
  const provisioning = createClient<paths>({ baseUrl, headers: { authorization: 'Bearer ' + keys.provisioning } });
  const clips = createClient<paths>({ baseUrl, headers: { authorization: 'Bearer ' + keys.clips } });

  const before = await provisioning.GET('/api/cameras');
  if (!before.data) throw new Error('list cameras: ' + JSON.stringify(before.error));
  const created = await provisioning.POST('/api/cameras', { body: { name: '搬入口 Loading dock' } });
  if (!created.data) throw new Error('create camera: ' + JSON.stringify(created.error));
  const camera = created.data.camera;
  await steps.publish(camera.id, created.data.secret);

  const now = Date.now();
  const timeline = await clips.GET('/api/cameras/{id}/timeline', { params: { path: { id: camera.id }, query: { from: now - 600_000, to: now } } });
  if (!timeline.data) throw new Error('timeline: ' + JSON.stringify(timeline.error));
  const span = timeline.data.spans[0];
  if (!span) throw new Error('nothing recorded: ' + JSON.stringify(timeline.data));
  const from = span.fromMs + 500;
  const to = Math.min(span.toMs, from + 3000);
  const started = await clips.POST('/api/cameras/{id}/exports', { params: { path: { id: camera.id } }, body: { from, to, name: 'dock-clip' } });
  if (!started.data) throw new Error('export: ' + JSON.stringify(started.error));
  let job = started.data.export;
  for (let i = 0; i < 120 && (job.status === 'queued' || job.status === 'running'); i++) {
    await new Promise((r) => setTimeout(r, 250));
    const polled = await clips.GET('/api/exports/{id}', { params: { path: { id: job.id } } });
    if (!polled.data) throw new Error('export status: ' + JSON.stringify(polled.error));
    job = polled.data.export;
  }
  if (job.status !== 'done') throw new Error('export ended ' + job.status + ': ' + JSON.stringify(job.error));
  const file = await clips.GET('/api/exports/{id}/file', { params: { path: { id: job.id } }, parseAs: 'arrayBuffer' });
  if (!file.data) throw new Error('download: ' + JSON.stringify(file.error));
  return { cameraId: camera.id, listedBefore: before.data.cameras.length, mp4: new Uint8Array(file.data), bytes: job.bytes, from, to };
}

/** After the key was revoked. */
export async function listWith(baseUrl: string, key: string) {
  const client = createClient<paths>({ baseUrl, headers: { authorization: 'Bearer ' + key } });
  const { response, error } = await client.GET('/api/cameras');
  return { status: response.status, error };
}
`;

test('a client generated from the OpenAPI document runs an integration with API keys, and a revoked key gets 401', async () => {
  // Keys, as an organisation administrator makes them.
  const makeKey = async (name: string, scope: string) => {
    const res = await svc.api('/api/api-keys', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, scope }) });
    assert.is(res.status, 201, await res.clone().text());
    return ((await res.json()) as { apiKey: { id: string }; key: string });
  };
  const provisioning = await makeKey('provisioning script', 'manage_cameras');
  const clips = await makeKey('clip archive', 'export');

  // Generate the client types from the running service's document, and typecheck the integration.
  const document = (await (await fetch(`${svc.url}/api/openapi.json`)).json()) as Parameters<typeof openapiTS>[0];
  await fs.writeFile(path.join(dir, 'api.ts'), astToString(await openapiTS(document)));
  await fs.writeFile(path.join(dir, 'integration.ts'), INTEGRATION);
  const tsc = await run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--target', 'ES2022', '--module', 'ESNext', '--moduleResolution', 'bundler', '--allowImportingTsExtensions', '--skipLibCheck', path.join(dir, 'integration.ts')], { cwd: ROOT }).catch((e: { stdout: string }) => e);
  assert.is(tsc.stdout, '', `the integration typechecks against the generated client:\n${tsc.stdout}`);
  // A mistake the generated types catch: a field that does not exist.
  await fs.writeFile(path.join(dir, 'wrong.ts'), INTEGRATION.replace("body: { name: '搬入口 Loading dock' }", "body: { title: '搬入口 Loading dock' }"));
  const wrong = await run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--target', 'ES2022', '--module', 'ESNext', '--moduleResolution', 'bundler', '--allowImportingTsExtensions', '--skipLibCheck', path.join(dir, 'wrong.ts')], { cwd: ROOT }).catch((e: { stdout: string }) => e);
  assert.match(wrong.stdout, /title/, 'a wrong body field does not typecheck');

  const integration = (await import(pathToFileURL(path.join(dir, 'integration.ts')).href)) as {
    integrate: (baseUrl: string, keys: { provisioning: string; clips: string }, steps: { publish(cameraId: string, secret: string): Promise<void> }) => Promise<{ cameraId: string; listedBefore: number; mp4: Uint8Array; bytes?: number; from: number; to: number }>;
    listWith: (baseUrl: string, key: string) => Promise<{ status: number; error: unknown }>;
  };
  const result = await integration.integrate(svc.url, { provisioning: provisioning.key, clips: clips.key }, {
    async publish(cameraId, secret) {
      const camera = await Camera.create({ whipUrl: `${svc.url}/whip/${cameraId}`, token: await svc.publishToken(cameraId, secret), width: 320, height: 180, kbps: 300, fps: 30 });
      await new Promise((r) => setTimeout(r, 7000));
      await camera.close();
      // The last segment reaches the index.
      await new Promise((r) => setTimeout(r, 1500));
    },
  });
  assert.is(result.listedBefore, 0);
  assert.is(result.mp4.length, result.bytes);
  const file = path.join(dir, 'clip.mp4');
  await fs.writeFile(file, result.mp4);
  const probe = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
  const seconds = Number(probe.stdout.trim());
  assert.ok(Math.abs(seconds - (result.to - result.from) / 1000) < 0.6, `the clip plays ${seconds} s for ${(result.to - result.from) / 1000} s asked`);

  // Every call is audited under the key's name.
  const rows = ((await (await svc.api(`/api/audit?actor=a:${clips.apiKey.id}&limit=50`)).json()) as { rows: { action: string; detail?: { apiKey?: string } }[] }).rows;
  assert.ok(rows.some((r) => r.action === 'export.create' && r.detail?.apiKey === 'clip archive'), JSON.stringify(rows.map((r) => r.action)));

  assert.is((await svc.api(`/api/api-keys/${clips.apiKey.id}`, { method: 'DELETE' })).status, 204);
  const after = await integration.listWith(svc.url, clips.key);
  assert.is(after.status, 401);
  assert.equal((after.error as { error: { code: string } }).error.code, 'api_key_revoked');
});

test.run();
