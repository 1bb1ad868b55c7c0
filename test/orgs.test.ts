// Organisations beyond the permission matrix: contract end deletes a real recording and every
// account with a report, announcements reach the right people, camera groups and role changes
// take effect at once, secret rotation keeps the old secret for its grace period, and a file from
// before organisations moves into one.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Camera } from '../camera/index.ts';
import { FileStore as Store } from '../signaling/store/index.ts';
import { startService, type Service } from './harness.ts';

const PASSWORD = 'orgs-Password-2718-long';
let svc: Service;

test.before(async () => {
  svc = await startService({ env: { MIMAMORI_SEGMENT_SECONDS: '2' } });
});
test.after(async () => {
  await svc?.stop();
});

/** fetch as `token` (JSON body), answering status and parsed body. */
async function as<T = Record<string, unknown>>(token: string, pathname: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  const res = await svc.api(pathname, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
}

async function newOrg(name: string, admin: string): Promise<{ orgId: string; token: string }> {
  const r = await as<{ org: { id: string } }>(svc.adminToken, '/api/orgs', { method: 'POST', body: { name, admin: { username: admin, password: PASSWORD } } });
  assert.is(r.status, 201, JSON.stringify(r.body));
  return { orgId: r.body.org.id, token: await svc.login(admin, PASSWORD) };
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (entry.isFile()) out.push(path.join(entry.parentPath, entry.name));
  }
  return out;
}

test('contract end: warned in advance, then every recording, camera and account is gone, with a report', async () => {
  const { orgId, token } = await newOrg('Ending KK', 'admin-ending');
  const cam = (await as<{ camera: { id: string }; secret: string }>(token, '/api/cameras', { method: 'POST', body: { name: 'Gate' } })).body;
  const publish = (await as<{ token: string }>(token, `/api/cameras/${cam.camera.id}/publish-token`, { method: 'POST', body: { secret: cam.secret } })).body.token;
  const camera = await Camera.create({ whipUrl: `${svc.url}/whip/${cam.camera.id}`, token: publish, width: 320, height: 180, kbps: 300, fps: 30 });
  await sleep(5000);
  await camera.close();
  // Wait until the recording is in the embedded S3 (the spool is empty and the session stopped).
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = (await as<{ upload: { queued: number }; spoolBytes: number; cameras: { cameraId: string; recording: boolean }[] }>(svc.adminToken, '/api/recorder')).body;
    const onS3 = (await filesUnder(path.join(svc.dataDir, 's3'))).filter((f) => f.includes(cam.camera.id));
    if (status.upload.queued === 0 && status.spoolBytes === 0 && !status.cameras.some((c) => c.cameraId === cam.camera.id && c.recording) && onS3.length >= 2) break;
    if (Date.now() > deadline) throw new Error(`the recording did not reach S3: ${JSON.stringify(status)}`);
    await sleep(250);
  }

  // Scheduling: not in the past, never the operator's own organisation; its users are warned and it is audited.
  assert.is((await as(svc.adminToken, `/api/orgs/${orgId}/deletion`, { method: 'PUT', body: { at: Date.now() - 1000 } })).status, 400);
  const ownOrg = (await as<{ org: { id: string } }>(svc.adminToken, '/api/orgs/current')).body.org.id;
  assert.is((await as(svc.adminToken, `/api/orgs/${ownOrg}/deletion`, { method: 'PUT', body: { at: Date.now() + 3_600_000 } })).status, 409);
  const at = Date.now() + 2500;
  assert.is((await as(svc.adminToken, `/api/orgs/${orgId}/deletion`, { method: 'PUT', body: { at } })).status, 200);
  const notices = (await as<{ announcements: { kind: string; endsAt: string }[] }>(token, '/api/announcements')).body.announcements;
  assert.equal(
    notices.filter((n) => n.kind === 'contract_end').map((n) => Date.parse(n.endsAt)),
    [at],
  );
  const audit = JSON.stringify((await as(token, '/api/audit?action=org.')).body);
  assert.match(audit, /org\.deletion_scheduled/, 'the customer’s admins see the scheduling in their audit log');

  // After the date: gone, with a report.
  const until = Date.now() + 40_000;
  for (;;) {
    const orgs = (await as<{ orgs: { id: string }[] }>(svc.adminToken, '/api/orgs')).body.orgs;
    if (!orgs.some((o) => o.id === orgId)) break;
    if (Date.now() > until) throw new Error(`the organisation was not deleted: ${svc.output().slice(-2000)}`);
    await sleep(500);
  }
  const reports = (await as<{ reports: { orgId: string; users: number; cameras: number; objects: number; bytes: number; errors: string[] }[] }>(svc.adminToken, '/api/orgs/deletion-reports')).body.reports;
  const report = reports.find((r) => r.orgId === orgId);
  assert.ok(report, 'a deletion report is kept');
  assert.is(report.users, 1);
  assert.is(report.cameras, 1);
  assert.ok(report.objects >= 2 && report.bytes > 0, JSON.stringify(report));
  assert.equal(report.errors, []);
  assert.equal((await filesUnder(path.join(svc.dataDir, 's3'))).filter((f) => f.includes(cam.camera.id)), [], 'no object of the camera is left in S3');
  assert.is((await as(token, '/api/cameras')).status, 401, 'its accounts are gone');
  const login = await fetch(`${svc.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin-ending', password: PASSWORD }) });
  assert.is(login.status, 401);
  const db = await fs.readFile(path.join(svc.dataDir, 'db.json'), 'utf8');
  const parsed = JSON.parse(db) as { users: { orgId: string }[]; cameras: { orgId: string }[]; keys: { cameraId: string }[] };
  assert.not.ok(parsed.users.some((u) => u.orgId === orgId) || parsed.cameras.some((c) => c.orgId === orgId) || parsed.keys.some((k) => k.cameraId === cam.camera.id));
});

test('announcements reach their organisation (or everyone), in their time window', async () => {
  const a = await newOrg('Notice A', 'admin-notice-a');
  const b = await newOrg('Notice B', 'admin-notice-b');
  await as(a.token, '/api/users', { method: 'POST', body: { username: 'viewer-notice-a', password: PASSWORD, role: 'viewer' } });
  const viewer = await svc.login('viewer-notice-a', PASSWORD);
  const now = Date.now();
  const posted = await as<{ announcement: { id: string } }>(a.token, '/api/announcements', { method: 'POST', body: { kind: 'maintenance', message: '2時から3時まで保守作業', endsAt: now + 3_600_000 } });
  assert.is(posted.status, 201);
  await as(a.token, '/api/announcements', { method: 'POST', body: { kind: 'info', message: 'later', startsAt: now + 7_200_000, endsAt: now + 9_000_000 } });
  const seen = async (token: string, q = '') => (await as<{ announcements: { message: string }[] }>(token, `/api/announcements${q}`)).body.announcements.map((n) => n.message);
  assert.equal(await seen(viewer), ['2時から3時まで保守作業']);
  assert.equal(await seen(b.token), [], 'another organisation sees none of it');
  assert.equal((await seen(a.token, '?all=1')).sort(), ['2時から3時まで保守作業', 'later'], 'admins see scheduled ones too');
  assert.is((await as(a.token, '/api/announcements', { method: 'POST', body: { kind: 'incident', message: 'x', endsAt: now + 1000, everyone: true } })).status, 403);
  assert.is((await as(svc.adminToken, '/api/announcements', { method: 'POST', body: { kind: 'incident', message: 'service-wide', endsAt: now + 60_000, everyone: true } })).status, 201);
  assert.ok((await seen(b.token)).includes('service-wide'));
  // A kiosk of A sees A's notice.
  const cam = (await as<{ camera: { id: string } }>(a.token, '/api/cameras', { method: 'POST', body: { name: 'Lobby' } })).body.camera.id;
  const kiosk = (await as<{ token: string }>(a.token, '/api/kiosks', { method: 'POST', body: { name: 'Wall', cameraIds: [cam], layout: 1, rotateSeconds: 10 } })).body.token;
  const session = (await (await fetch(`${svc.url}/api/kiosk/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: kiosk }) })).json()) as { accessToken: string };
  assert.ok((await seen(session.accessToken)).includes('2時から3時まで保守作業'));
  // B cannot delete A's; A can.
  assert.is((await as(b.token, `/api/announcements/${posted.body.announcement.id}`, { method: 'DELETE' })).status, 404);
  assert.is((await as(a.token, `/api/announcements/${posted.body.announcement.id}`, { method: 'DELETE' })).status, 204);
  assert.not.ok((await seen(viewer)).includes('2時から3時まで保守作業'));
});

test('groups, grants and roles take effect at the next request', async () => {
  const { token } = await newOrg('Groups KK', 'admin-groups');
  const mkCam = async (name: string) => (await as<{ camera: { id: string } }>(token, '/api/cameras', { method: 'POST', body: { name } })).body.camera.id;
  const cam1 = await mkCam('Floor 1');
  const cam2 = await mkCam('Floor 2');
  const user = (await as<{ user: { id: string } }>(token, '/api/users', { method: 'POST', body: { username: 'op-groups', password: PASSWORD, role: 'operator' } })).body.user.id;
  const op = await svc.login('op-groups', PASSWORD);
  const visible = async () => (await as<{ cameras: { id: string; rights: string[] }[] }>(op, '/api/cameras')).body.cameras.map((c) => [c.id, c.rights.join(',')]);
  assert.equal(await visible(), []);
  const group = (await as<{ group: { id: string } }>(token, '/api/groups', { method: 'POST', body: { name: 'Site', cameraIds: [cam1] } })).body.group.id;
  assert.is((await as(token, '/api/grants', { method: 'PUT', body: { userId: user, groupId: group, rights: ['live', 'playback', 'export'] } })).status, 200);
  assert.equal(await visible(), [[cam1, 'live,playback,export']]);
  await as(token, `/api/groups/${group}`, { method: 'PATCH', body: { cameraIds: [cam1, cam2] } });
  assert.equal((await visible()).map((v) => v[0]).sort(), [cam1, cam2].sort(), 'a camera added to the group is covered by its grant');
  // The operator may export; demoted to viewer, the same token may not (roles are never read from tokens).
  const exportBody = { from: Date.now() - 120_000, to: Date.now() - 60_000 };
  assert.not.equal((await as(op, `/api/cameras/${cam1}/exports`, { method: 'POST', body: exportBody })).status, 403);
  assert.is((await as(token, `/api/users/${user}`, { method: 'PATCH', body: { role: 'viewer' } })).status, 200);
  const refused = await as<{ error: { code: string } }>(op, `/api/cameras/${cam1}/exports`, { method: 'POST', body: exportBody });
  assert.is(refused.status, 403);
  assert.is(refused.body.error.code, 'right_missing');
  assert.equal((await visible())[0]?.[1], 'live,playback', 'a viewer keeps only what the role allows');
  // The organisation always keeps an administrator.
  const me = (await as<{ user: { id: string } }>(token, '/api/auth/me')).body.user.id;
  assert.is((await as(token, `/api/users/${me}`, { method: 'PATCH', body: { role: 'viewer' } })).status, 409);
  assert.is((await as(token, `/api/users/${me}`, { method: 'DELETE' })).status, 409);
  // Deleting the group takes its grant with it.
  assert.is((await as(token, `/api/groups/${group}`, { method: 'DELETE' })).status, 204);
  assert.equal(await visible(), []);
});

test('secret rotation: the old secret works for its grace period, or stops at once', async () => {
  const cam = await svc.createCamera('Rotating');
  const tokenFor = (secret: string) => fetch(`${svc.url}/api/cameras/${cam.id}/publish-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret }) });
  const second = (await as<{ secret: string; previousSecretValidUntil: string }>(svc.adminToken, `/api/cameras/${cam.id}/secret`, { method: 'POST', body: { graceHours: 1 } })).body;
  assert.ok(Math.abs(Date.parse(second.previousSecretValidUntil) - (Date.now() + 3_600_000)) < 60_000);
  assert.is((await tokenFor(cam.secret)).status, 200, 'the old secret still works during the grace period');
  assert.is((await tokenFor(second.secret)).status, 200);
  // A leaked secret: rotate with no grace, and the one before stops immediately.
  const third = (await as<{ secret: string; previousSecretValidUntil: null }>(svc.adminToken, `/api/cameras/${cam.id}/secret`, { method: 'POST', body: { graceHours: 0 } })).body;
  assert.is(third.previousSecretValidUntil, null);
  assert.is((await tokenFor(second.secret)).status, 401);
  assert.is((await tokenFor(cam.secret)).status, 401);
  assert.is((await tokenFor(third.secret)).status, 200);
});

test('a data file from before organisations moves into one first organisation', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-migrate-'));
  try {
    const v1 = {
      version: 1,
      users: [
        { id: 'u_admin', username: 'admin', passwordHash: 'x', role: 'admin', createdAt: '2026-01-01T00:00:00Z' },
        { id: 'u_viewer', username: 'guard', passwordHash: 'x', role: 'viewer', createdAt: '2026-01-01T00:00:00Z' },
      ],
      cameras: [{ id: 'cam_1', name: 'Gate', secretHash: 'h', createdAt: '2026-01-01T00:00:00Z' }],
      grants: [{ userId: 'u_viewer', cameraId: 'cam_1', rights: ['view'], createdAt: '2026-01-01T00:00:00Z' }],
      keys: [],
      kiosks: [],
    };
    await fs.writeFile(path.join(dir, 'db.json'), JSON.stringify(v1));
    const store = await Store.open(dir);
    assert.is(store.orgs.length, 1);
    const orgId = store.orgs[0]!.id;
    assert.ok(store.users.every((u) => u.orgId === orgId));
    assert.is(store.userById('u_admin')?.platform, true, 'the existing admin keeps running the service');
    assert.is(store.camera('cam_1')?.orgId, orgId);
    assert.equal([...store.rightsOn(store.userById('u_viewer')!, 'cam_1')].sort(), ['live', 'playback']);
    const written = JSON.parse(await fs.readFile(path.join(dir, 'db.json'), 'utf8')) as { version: number };
    assert.is(written.version, 2);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test.run();
