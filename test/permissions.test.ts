// The role/grant matrix: every route and socket event, called by each role of the camera's own
// organisation and of another one, by a camera, with no token, an expired token and a forged one —
// each allowed or refused exactly as designed. API keys of organisation A are callers too: one per
// scope, one limited to a camera group without camera A, a revoked one and an expired one. Allowed means "not refused for who you are" (a
// 404 no_recording or a 400 about the body still shows the caller got through); refused means
// 401, 403 or a *_not_found that hides the resource.
import { readFile } from 'node:fs/promises';
import jwt from 'jsonwebtoken';
import { io, type Socket } from 'socket.io-client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startService, type Service } from './harness.ts';

type Key = 'keyReadA' | 'keyLiveA' | 'keyExportA' | 'keyManageA' | 'keyGroupA';
type Who = 'none' | 'expired' | 'forged' | 'camera' | 'kioskA' | 'shareA' | 'platform' | 'adminA' | 'operatorA' | 'viewerA' | 'strangerA' | 'adminB' | 'viewerB' | Key | 'keyRevokedA' | 'keyExpiredA';
/** Working API keys of organisation A (made by adminA): one per scope, and an export key limited to a group without camera A. */
const KEYS: Key[] = ['keyReadA', 'keyLiveA', 'keyExportA', 'keyManageA', 'keyGroupA'];
const EVERYONE: Who[] = ['none', 'expired', 'forged', 'camera', 'kioskA', 'shareA', 'platform', 'adminA', 'operatorA', 'viewerA', 'strangerA', 'adminB', 'viewerB', ...KEYS, 'keyRevokedA', 'keyExpiredA'];
const USERS: Who[] = ['platform', 'adminA', 'operatorA', 'viewerA', 'strangerA', 'adminB', 'viewerB'];

let svc: Service;
const tokens = new Map<Who, string>();
const ids = { camA: '', camB: '', grantee: '', strangerA: '', viewerA: '', userIn: { a: '', b: '' } };
const PASSWORD = 'matrix-Password-4711-long';
let counter = 0;
const unique = (p: string) => `${p}${Date.now().toString(36)}${counter++}`;

test.before(async () => {
  try {
    await setUp();
  } catch (err) {
    // uvu swallows errors thrown in hooks: say what failed.
    console.error('set-up failed:', err, svc?.output().slice(-3000));
    throw err;
  }
});

async function setUp() {
  // info: the last test reads the request log.
  svc = await startService({ env: { MIMAMORI_LOG_LEVEL: 'info' } });
  tokens.set('platform', svc.adminToken);
  const camA = await svc.createCamera('camera A');
  ids.camA = camA.id;
  const mk = async (name: string, role: 'admin' | 'operator' | 'viewer') => (await svc.createUser(name, PASSWORD, role)).id;
  const adminA = await mk('admin-a', 'admin');
  const operatorA = await mk('operator-a', 'operator');
  ids.viewerA = await mk('viewer-a', 'viewer');
  ids.strangerA = await mk('stranger-a', 'viewer');
  ids.grantee = await mk('grantee-a', 'viewer');
  void adminA;
  // Operator: every right on camera A; viewer: the viewer's rights (live, playback).
  const operatorGrant = await svc.api('/api/grants', { method: 'PUT', body: JSON.stringify({ userId: operatorA, cameraId: ids.camA, rights: ['live', 'playback', 'export', 'share', 'manage'] }) });
  if (operatorGrant.status !== 200) throw new Error(`grant: ${operatorGrant.status} ${await operatorGrant.text()}`);
  await svc.grant(ids.viewerA, ids.camA);

  // Organisation B with its own admin, viewer and camera.
  const created = await svc.api('/api/orgs', { method: 'POST', body: JSON.stringify({ name: 'Other KK', admin: { username: 'admin-b', password: PASSWORD } }) });
  if (created.status !== 201) throw new Error(`organisation: ${created.status} ${await created.text()}`);
  const adminBToken = await svc.login('admin-b', PASSWORD);
  const asB = (p: string, init: RequestInit = {}) => svc.api(p, { ...init, headers: { authorization: `Bearer ${adminBToken}`, 'content-type': 'application/json' } });
  ids.camB = ((await (await asB('/api/cameras', { method: 'POST', body: JSON.stringify({ name: 'camera B' }) })).json()) as { camera: { id: string } }).camera.id;
  const viewerB = ((await (await asB('/api/users', { method: 'POST', body: JSON.stringify({ username: 'viewer-b', password: PASSWORD, role: 'viewer' }) })).json()) as { user: { id: string } }).user.id;
  const grantB = await asB(`/api/cameras/${ids.camB}/grants/${viewerB}`, { method: 'PUT' });
  if (grantB.status !== 200) throw new Error(`grant B: ${grantB.status} ${await grantB.text()}`);

  for (const [who, name] of [['adminA', 'admin-a'], ['operatorA', 'operator-a'], ['viewerA', 'viewer-a'], ['strangerA', 'stranger-a'], ['viewerB', 'viewer-b']] as const) {
    tokens.set(who, await svc.login(name, PASSWORD));
  }
  tokens.set('adminB', adminBToken);
  const jwtSecret = await svc.jwtSecret();
  tokens.set('expired', jwt.sign({ typ: 'user', sub: adminA, sid: 'x', exp: Math.floor(Date.now() / 1000) - 10 }, jwtSecret, { algorithm: 'HS256', issuer: 'mimamori' }));
  tokens.set('forged', jwt.sign({ typ: 'user', sub: adminA, sid: 'x' }, 'not-the-secret-of-this-service-at-all-000', { algorithm: 'HS256', issuer: 'mimamori', expiresIn: 600 }));
  tokens.set('camera', await svc.publishToken(ids.camA, camA.secret));
  // A wall display and an opened live share link of camera A: live view of it, nothing else.
  const kiosk = (await (await svc.api('/api/kiosks', { method: 'POST', body: JSON.stringify({ name: 'wall', cameraIds: [ids.camA], layout: 1, rotateSeconds: 10 }) })).json()) as { token: string };
  const kioskSession = await fetch(`${svc.url}/api/kiosk/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: kiosk.token }) });
  tokens.set('kioskA', ((await kioskSession.json()) as { accessToken: string }).accessToken);
  const share = (await (await svc.api('/api/shares', { method: 'POST', body: JSON.stringify({ cameraId: ids.camA, kind: 'live', expiresInHours: 1 }) })).json()) as { share: { id: string } };
  const opened = await fetch(`${svc.url}/api/shares/${share.share.id}/open`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  if (!opened.ok) throw new Error(`share open: ${opened.status} ${await opened.text()}`);
  tokens.set('shareA', ((await opened.json()) as { token: string }).token);

  // API keys of organisation A, made by its admin. The group key sees only a camera of its own group.
  const asAdminA = (p: string, init: RequestInit = {}) => svc.api(p, { ...init, headers: { authorization: `Bearer ${tokens.get('adminA')}`, 'content-type': 'application/json' } });
  const camG = await svc.createCamera('camera G');
  const groupG = ((await (await asAdminA('/api/groups', { method: 'POST', body: JSON.stringify({ name: 'site G', cameraIds: [camG.id] }) })).json()) as { group: { id: string } }).group.id;
  const makeKey = async (name: string, scope: string, extra: Record<string, unknown> = {}) => {
    const res = await asAdminA('/api/api-keys', { method: 'POST', body: JSON.stringify({ name, scope, ...extra }) });
    if (res.status !== 201) throw new Error(`API key ${name}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { apiKey: { id: string }; key: string };
  };
  tokens.set('keyReadA', (await makeKey('read', 'read')).key);
  tokens.set('keyLiveA', (await makeKey('live', 'live')).key);
  tokens.set('keyExportA', (await makeKey('export', 'export')).key);
  tokens.set('keyManageA', (await makeKey('manage', 'manage_cameras')).key);
  tokens.set('keyGroupA', (await makeKey('group', 'export', { groupId: groupG })).key);
  const revoked = await makeKey('revoked', 'export');
  const revoke = await asAdminA(`/api/api-keys/${revoked.apiKey.id}`, { method: 'DELETE' });
  if (revoke.status !== 204) throw new Error(`revoke: ${revoke.status} ${await revoke.text()}`);
  tokens.set('keyRevokedA', revoked.key);
  const expiresAt = Date.now() + 1500;
  tokens.set('keyExpiredA', (await makeKey('expired', 'export', { expiresAt })).key);
  await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now() + 100)));
}

test.after(async () => {
  await svc?.stop();
});

interface Call {
  method: string;
  path: string | (() => Promise<string>);
  body?: unknown | (() => unknown);
  contentType?: string;
}

async function call(who: Who, c: Call): Promise<{ status: number; code: string | undefined; text: string }> {
  const path = typeof c.path === 'function' ? await c.path() : c.path;
  const headers: Record<string, string> = {};
  const token = tokens.get(who);
  // The harness adds the platform admin's token unless told otherwise: 'none' sends an empty scheme.
  headers.authorization = token ? `Bearer ${token}` : 'None';
  let body: string | undefined;
  if (c.body !== undefined) {
    const value = typeof c.body === 'function' ? (c.body as () => unknown)() : c.body;
    body = typeof value === 'string' ? value : JSON.stringify(value);
    headers['content-type'] = c.contentType ?? 'application/json';
  }
  const res = await svc.api(path, { method: c.method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    // not JSON (SDP answers, files)
  }
  return { status: res.status, code, text };
}

const refused = (r: { status: number; code: string | undefined }) =>
  r.status === 401 || r.status === 403 || (r.code !== undefined && r.code.endsWith('_not_found') && r.code !== 'segment_not_found');

const hour = 3_600_000;
const range = () => `from=${Date.now() - hour}&to=${Date.now()}`;
const freshCameraA = async () => (await svc.createCamera(unique('spare-'))).id;
/** Something of organisation A made by its platform admin, for routes that change or delete one. */
const madeInA = async <T>(pathname: string, body: unknown, pick: (b: T) => string, method = 'POST') => {
  const res = await svc.api(pathname, { method, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${pathname}: ${res.status} ${await res.text()}`);
  return pick((await res.json()) as T);
};
const freshUserA = () => madeInA<{ user: { id: string } }>('/api/users', { username: unique('x'), password: PASSWORD, role: 'viewer' }, (b) => b.user.id);
const freshGroupA = () => madeInA<{ group: { id: string } }>('/api/groups', { name: unique('g'), cameraIds: [ids.camA] }, (b) => b.group.id);
const freshKioskA = () => madeInA<{ kiosk: { id: string } }>('/api/kiosks', { name: unique('k'), cameraIds: [ids.camA], layout: 1, rotateSeconds: 10 }, (b) => b.kiosk.id);
const freshShareA = () => madeInA<{ share: { id: string } }>('/api/shares', { cameraId: ids.camA, kind: 'live', expiresInHours: 1 }, (b) => b.share.id);
const freshNoticeA = () => madeInA<{ announcement: { id: string } }>('/api/announcements', { kind: 'info', message: 'x', endsAt: Date.now() + hour }, (b) => b.announcement.id);
const freshHoldA = () => madeInA<{ hold: { id: string } }>(`/api/cameras/${ids.camA}/holds`, { from: Date.now() - hour, to: Date.now(), reason: 'matrix' }, (b) => b.hold.id);
const freshGrantA = async () => {
  const userId = await freshUserA();
  return madeInA<{ grant: { id: string } }>('/api/grants', { userId, cameraId: ids.camA, rights: ['live'] }, (b) => b.grant.id, 'PUT');
};
const freshOrg = () => madeInA<{ org: { id: string } }>('/api/orgs', { name: unique('o'), admin: { username: unique('oa'), password: PASSWORD } }, (b) => b.org.id);

/** Route → who gets through. Everyone else must be refused. */
const ROUTES: { name: string; call: Call; allowed: Who[] }[] = [
  { name: 'list cameras', call: { method: 'GET', path: '/api/cameras' }, allowed: [...USERS, ...KEYS] },
  { name: 'list a page of cameras', call: { method: 'GET', path: '/api/cameras?limit=2&sort=attention' }, allowed: [...USERS, ...KEYS] },
  { name: 'list sites with counts', call: { method: 'GET', path: '/api/sites' }, allowed: [...USERS, ...KEYS] },
  { name: 'camera health', call: { method: 'GET', path: '/api/camera-health' }, allowed: [...USERS, ...KEYS] },
  { name: 'list saved layouts', call: { method: 'GET', path: '/api/layouts' }, allowed: USERS },
  { name: 'save a layout of one\'s own', call: { method: 'POST', path: '/api/layouts', body: () => ({ name: unique('l'), scope: 'user', size: 2, cameraIds: [] }) }, allowed: USERS },
  { name: 'save an organisation layout', call: { method: 'POST', path: '/api/layouts', body: () => ({ name: unique('l'), scope: 'organisation', size: 2, cameraIds: [] }) }, allowed: ['platform', 'adminA', 'adminB'] },
  { name: 'read camera', call: { method: 'GET', path: () => Promise.resolve(`/api/cameras/${ids.camA}`) }, allowed: ['platform', 'adminA', 'operatorA', 'viewerA', 'keyReadA', 'keyLiveA', 'keyExportA', 'keyManageA'] },
  { name: 'rename camera', call: { method: 'PATCH', path: () => Promise.resolve(`/api/cameras/${ids.camA}`), body: { name: 'camera A' } }, allowed: ['platform', 'adminA', 'operatorA', 'keyManageA'] },
  { name: 'rotate secret', call: { method: 'POST', path: () => Promise.resolve(`/api/cameras/${ids.camA}/secret`), body: { graceHours: 1 } }, allowed: ['platform', 'adminA', 'operatorA', 'keyManageA'] },
  { name: 'publish token without secret', call: { method: 'POST', path: () => Promise.resolve(`/api/cameras/${ids.camA}/publish-token`), body: {} }, allowed: ['platform', 'adminA', 'operatorA'] },
  { name: 'create camera', call: { method: 'POST', path: '/api/cameras', body: () => ({ name: unique('new-') }) }, allowed: ['platform', 'adminA', 'adminB', 'keyManageA'] },
  { name: 'delete camera', call: { method: 'DELETE', path: () => freshCameraA().then((id) => `/api/cameras/${id}`) }, allowed: ['platform', 'adminA'] },
  { name: 'list recordings', call: { method: 'GET', path: () => Promise.resolve(`/api/cameras/${ids.camA}/recordings?${range()}`) }, allowed: ['platform', 'adminA', 'operatorA', 'viewerA', 'keyReadA', 'keyExportA'] },
  { name: 'delete recordings', call: { method: 'DELETE', path: () => freshCameraA().then((id) => `/api/cameras/${id}/recordings`) }, allowed: ['platform', 'adminA'] },
  { name: 'list holds', call: { method: 'GET', path: () => Promise.resolve(`/api/cameras/${ids.camA}/holds`) }, allowed: ['platform', 'adminA'] },
  { name: 'add hold', call: { method: 'POST', path: () => Promise.resolve(`/api/cameras/${ids.camA}/holds`), body: () => ({ from: Date.now() - hour, to: Date.now(), reason: 'matrix' }) }, allowed: ['platform', 'adminA'] },
  { name: 'grant on camera', call: { method: 'PUT', path: () => Promise.resolve(`/api/cameras/${ids.camA}/grants/${ids.grantee}`) }, allowed: ['platform', 'adminA'] },
  { name: 'revoke on camera', call: { method: 'DELETE', path: () => Promise.resolve(`/api/cameras/${ids.camA}/grants/${ids.grantee}`) }, allowed: ['platform', 'adminA'] },
  { name: 'timeline', call: { method: 'GET', path: () => Promise.resolve(`/api/cameras/${ids.camA}/timeline?${range()}`) }, allowed: ['platform', 'adminA', 'operatorA', 'viewerA', 'keyReadA', 'keyExportA'] },
  { name: 'start playback', call: { method: 'POST', path: () => Promise.resolve(`/api/cameras/${ids.camA}/playback`), body: () => ({ at: Date.now() - 60_000 }) }, allowed: ['platform', 'adminA', 'operatorA', 'viewerA', 'keyReadA', 'keyExportA'] },
  { name: 'export', call: { method: 'POST', path: () => Promise.resolve(`/api/cameras/${ids.camA}/exports`), body: () => ({ from: Date.now() - 120_000, to: Date.now() - 60_000 }) }, allowed: ['platform', 'adminA', 'operatorA', 'keyExportA'] },
  // Share links, kiosks and API keys may list exports (their own) and read notices.
  { name: 'list exports', call: { method: 'GET', path: '/api/exports' }, allowed: [...USERS, 'kioskA', 'shareA', ...KEYS] },
  { name: 'share', call: { method: 'POST', path: '/api/shares', body: () => ({ cameraId: ids.camA, kind: 'live', expiresInHours: 1 }) }, allowed: ['platform', 'adminA', 'operatorA'] },
  { name: 'list shares', call: { method: 'GET', path: '/api/shares' }, allowed: USERS },
  { name: 'list kiosks', call: { method: 'GET', path: '/api/kiosks' }, allowed: ['platform', 'adminA', 'adminB'] },
  { name: 'create kiosk', call: { method: 'POST', path: '/api/kiosks', body: () => ({ name: unique('k'), cameraIds: [ids.camA], layout: 1, rotateSeconds: 10 }) }, allowed: ['platform', 'adminA'] },
  { name: 'list users', call: { method: 'GET', path: '/api/users' }, allowed: ['platform', 'adminA', 'adminB'] },
  { name: 'create user', call: { method: 'POST', path: '/api/users', body: () => ({ username: unique('u'), password: PASSWORD, role: 'viewer' }) }, allowed: ['platform', 'adminA', 'adminB'] },
  { name: 'change role', call: { method: 'PATCH', path: () => Promise.resolve(`/api/users/${ids.grantee}`), body: { role: 'viewer' } }, allowed: ['platform', 'adminA'] },
  { name: 'list groups', call: { method: 'GET', path: '/api/groups' }, allowed: USERS },
  { name: 'create group', call: { method: 'POST', path: '/api/groups', body: () => ({ name: unique('g'), cameraIds: [ids.camA] }) }, allowed: ['platform', 'adminA'] },
  { name: 'list grants', call: { method: 'GET', path: '/api/grants' }, allowed: ['platform', 'adminA', 'adminB'] },
  { name: 'set grant', call: { method: 'PUT', path: '/api/grants', body: () => ({ userId: ids.grantee, cameraId: ids.camA, rights: ['live'] }) }, allowed: ['platform', 'adminA'] },
  { name: 'own organisation', call: { method: 'GET', path: '/api/orgs/current' }, allowed: USERS },
  { name: 'list organisations', call: { method: 'GET', path: '/api/orgs' }, allowed: ['platform'] },
  { name: 'create organisation', call: { method: 'POST', path: '/api/orgs', body: () => ({ name: unique('org'), admin: { username: unique('oa'), password: PASSWORD } }) }, allowed: ['platform'] },
  { name: 'announcements', call: { method: 'GET', path: '/api/announcements' }, allowed: [...USERS, 'kioskA', 'shareA', ...KEYS] },
  { name: 'post announcement', call: { method: 'POST', path: '/api/announcements', body: () => ({ kind: 'maintenance', message: 'matrix', endsAt: Date.now() + hour }) }, allowed: ['platform', 'adminA', 'adminB'] },
  { name: 'recorder status', call: { method: 'GET', path: '/api/recorder' }, allowed: ['platform'] },
  { name: 'recorder alerts', call: { method: 'GET', path: '/api/recorder/alerts' }, allowed: ['platform', 'adminA', 'adminB'] },
  { name: 'media server status', call: { method: 'GET', path: '/api/sfu' }, allowed: ['platform'] },
  { name: 'audit log', call: { method: 'GET', path: '/api/audit' }, allowed: ['platform', 'adminA', 'adminB'] },
  { name: 'audit log filter choices (names of people, cameras, sites)', call: { method: 'GET', path: '/api/audit/choices' }, allowed: ['platform', 'adminA', 'adminB'] },
  { name: 'preferences', call: { method: 'GET', path: '/api/me/preferences' }, allowed: USERS },
  { name: 'who am I', call: { method: 'GET', path: '/api/auth/me' }, allowed: USERS },
  { name: 'delete user', call: { method: 'DELETE', path: () => freshUserA().then((id) => `/api/users/${id}`) }, allowed: ['platform', 'adminA'] },
  { name: 'unlock user', call: { method: 'POST', path: () => Promise.resolve(`/api/users/${ids.grantee}/unlock`) }, allowed: ['platform', 'adminA'] },
  { name: 'sign a user out everywhere', call: { method: 'POST', path: () => freshUserA().then((id) => `/api/users/${id}/logout-all`) }, allowed: ['platform', 'adminA'] },
  { name: 'delete grant', call: { method: 'DELETE', path: () => freshGrantA().then((id) => `/api/grants/${id}`) }, allowed: ['platform', 'adminA'] },
  { name: 'rename group', call: { method: 'PATCH', path: () => freshGroupA().then((id) => `/api/groups/${id}`), body: { name: 'renamed' } }, allowed: ['platform', 'adminA'] },
  { name: 'delete group', call: { method: 'DELETE', path: () => freshGroupA().then((id) => `/api/groups/${id}`) }, allowed: ['platform', 'adminA'] },
  { name: 'update kiosk', call: { method: 'PATCH', path: () => freshKioskA().then((id) => `/api/kiosks/${id}`), body: { rotateSeconds: 20 } }, allowed: ['platform', 'adminA'] },
  { name: 'rotate kiosk token', call: { method: 'POST', path: () => freshKioskA().then((id) => `/api/kiosks/${id}/token`) }, allowed: ['platform', 'adminA'] },
  { name: 'delete kiosk', call: { method: 'DELETE', path: () => freshKioskA().then((id) => `/api/kiosks/${id}`) }, allowed: ['platform', 'adminA'] },
  { name: 'revoke share', call: { method: 'DELETE', path: () => freshShareA().then((id) => `/api/shares/${id}`) }, allowed: ['platform', 'adminA'] },
  { name: 'delete notice', call: { method: 'DELETE', path: () => freshNoticeA().then((id) => `/api/announcements/${id}`) }, allowed: ['platform', 'adminA'] },
  { name: 'remove hold', call: { method: 'DELETE', path: () => freshHoldA().then((id) => `/api/cameras/${ids.camA}/holds/${id}`) }, allowed: ['platform', 'adminA'] },
  { name: 'schedule contract end', call: { method: 'PUT', path: () => freshOrg().then((id) => `/api/orgs/${id}/deletion`), body: () => ({ at: Date.now() + 86_400_000 }) }, allowed: ['platform'] },
  { name: 'rename organisation', call: { method: 'PATCH', path: () => freshOrg().then((id) => `/api/orgs/${id}`), body: { name: 'renamed' } }, allowed: ['platform'] },
  { name: 'deletion reports', call: { method: 'GET', path: '/api/orgs/deletion-reports' }, allowed: ['platform'] },
  { name: 'rotate master key', call: { method: 'POST', path: '/api/recorder/master-key/rotate' }, allowed: ['platform'] },
  { name: 'export audit log', call: { method: 'GET', path: '/api/audit/export?format=csv' }, allowed: ['platform', 'adminA', 'adminB'] },
  { name: 'save preferences', call: { method: 'PUT', path: '/api/me/preferences', body: { layout: 4 } }, allowed: USERS },
  { name: 'my sessions', call: { method: 'GET', path: '/api/auth/account' }, allowed: USERS },
  { name: 'set up TOTP', call: { method: 'POST', path: '/api/auth/totp/setup' }, allowed: USERS },
  // WHEP with a garbage offer: those allowed get a 400 about the SDP, the rest are refused first.
  { name: 'WHEP view', call: { method: 'POST', path: () => Promise.resolve(`/whep/${ids.camA}`), body: 'not sdp', contentType: 'application/sdp' }, allowed: ['platform', 'adminA', 'operatorA', 'viewerA', 'keyLiveA'] },
  // API keys are for integrations: only administrators make and revoke them, never with a key.
  { name: 'list API keys', call: { method: 'GET', path: '/api/api-keys' }, allowed: ['platform', 'adminA', 'adminB'] },
  { name: 'create API key', call: { method: 'POST', path: '/api/api-keys', body: () => ({ name: unique('k'), scope: 'read' }) }, allowed: ['platform', 'adminA', 'adminB'] },
  // Webhooks: administrators only, never with a key. This service refuses loopback URLs (400
  // webhook_url_refused, past the permission check): the matrix checks who gets that far.
  { name: 'list webhooks', call: { method: 'GET', path: '/api/webhooks' }, allowed: ['platform', 'adminA', 'adminB'] },
  { name: 'create webhook', call: { method: 'POST', path: '/api/webhooks', body: () => ({ name: unique('w'), url: 'https://127.0.0.1/hook', events: ['camera.offline'] }) }, allowed: ['platform', 'adminA', 'adminB'] },
];

test('REST: every route refuses or allows each caller exactly as designed', async () => {
  const wrong: string[] = [];
  for (const route of ROUTES) {
    for (const who of EVERYONE) {
      const r = await call(who, route.call);
      const got = refused(r) ? 'refused' : r.status >= 500 ? 'error' : 'allowed';
      const want = route.allowed.includes(who) ? 'allowed' : 'refused';
      if (got !== want) wrong.push(`${route.name} as ${who}: ${want} expected, got ${r.status} ${r.text.slice(0, 160)}`);
      // The three kinds of bad token say which they are.
      if (who === 'none' && r.status !== 401) wrong.push(`${route.name} without a token: 401 expected, got ${r.status}`);
      if (who === 'expired' && r.code !== 'token_expired') wrong.push(`${route.name} with an expired token: token_expired expected, got ${r.status} ${r.code}`);
      if (who === 'forged' && r.code !== 'unauthorized') wrong.push(`${route.name} with a forged token: unauthorized expected, got ${r.status} ${r.code}`);
      if (who === 'keyRevokedA' && r.code !== 'api_key_revoked') wrong.push(`${route.name} with a revoked API key: api_key_revoked expected, got ${r.status} ${r.code}`);
      if (who === 'keyExpiredA' && r.code !== 'api_key_expired') wrong.push(`${route.name} with an expired API key: api_key_expired expected, got ${r.status} ${r.code}`);
      // Routes for people say so to a working key (rather than "not found" or a bare 403).
      if ((KEYS as Who[]).includes(who) && r.status === 403 && r.code !== 'api_key_not_allowed' && r.code !== 'right_missing') wrong.push(`${route.name} as ${who}: api_key_not_allowed or right_missing expected, got ${r.code}`);
    }
  }
  assert.equal(wrong, [], `${wrong.length} wrong answers:\n${wrong.join('\n')}`);
});

test('REST: lists never show another organisation’s cameras, users, groups or kiosks', async () => {
  const asB = (p: string) => call('adminB', { method: 'GET', path: p });
  const cams = JSON.parse((await asB('/api/cameras')).text) as { cameras: { id: string }[] };
  // B made more cameras in the matrix; none of A's may appear.
  assert.ok(cams.cameras.some((c) => c.id === ids.camB));
  assert.not.ok(cams.cameras.some((c) => c.id === ids.camA));
  const users = JSON.parse((await asB('/api/users')).text) as { users: { username: string; orgId: string }[] };
  const orgB = users.users.find((u) => u.username === 'admin-b')!.orgId;
  assert.ok(users.users.every((u) => u.orgId === orgB && !u.username.endsWith('-a')), JSON.stringify(users.users));
  for (const p of ['/api/groups', '/api/kiosks', '/api/grants', '/api/shares', '/api/exports']) {
    const text = (await asB(p)).text;
    assert.not.ok(text.includes(ids.camA), `${p} shows camera A to organisation B`);
  }
  const audit = (await asB('/api/audit')).text;
  assert.not.ok(audit.includes(ids.camA), 'the audit log of B shows nothing of A');
  // A viewer sees only granted cameras, with the rights they hold on each.
  const mine = JSON.parse((await call('viewerA', { method: 'GET', path: '/api/cameras' })).text) as { cameras: { id: string; rights: string[] }[] };
  assert.equal(mine.cameras.map((c) => [c.id, c.rights]), [[ids.camA, ['live', 'playback']]]);
  assert.equal((JSON.parse((await call('strangerA', { method: 'GET', path: '/api/cameras' })).text) as { cameras: unknown[] }).cameras, []);
});

test('REST: a grant never gives more than the role allows', async () => {
  const r = await call('adminA', { method: 'PUT', path: '/api/grants', body: { userId: ids.grantee, cameraId: ids.camA, rights: ['live', 'export'] } });
  assert.is(r.status, 400);
  assert.is(r.code, 'right_not_allowed_for_role');
  assert.match(r.text, /viewer cannot hold export/);
});

function connect(token: string | undefined): Promise<{ socket?: Socket; error?: { code: string } }> {
  return new Promise((resolve) => {
    const socket = io(svc.url, { transports: ['websocket'], reconnection: false, ...(token ? { auth: { token } } : {}) });
    socket.once('connect', () => resolve({ socket }));
    socket.once('connect_error', (err) => {
      socket.close();
      resolve({ error: JSON.parse(err.message) as { code: string } });
    });
  });
}

type Ack = { ok: true; data: unknown } | { ok: false; error: { code: string; message: string } };
const request = (s: Socket, method: string, data: unknown) => s.timeout(10_000).emitWithAck('request', { method, data }) as Promise<Ack>;

test('socket.io: connecting and every event, for each caller', async () => {
  const wrong: string[] = [];
  for (const who of ['none', 'expired', 'forged'] as const) {
    const { socket, error } = await connect(tokens.get(who));
    socket?.close();
    const want = who === 'expired' ? 'token_expired' : 'unauthorized';
    if (error?.code !== want) wrong.push(`connect as ${who}: ${want} expected, got ${JSON.stringify(error ?? 'connected')}`);
  }
  for (const [who, want] of [['keyRevokedA', 'api_key_revoked'], ['keyExpiredA', 'api_key_expired']] as const) {
    const { socket, error } = await connect(tokens.get(who));
    socket?.close();
    if (error?.code !== want) wrong.push(`connect as ${who}: ${want} expected, got ${JSON.stringify(error ?? 'connected')}`);
  }
  const viewers: Who[] = ['platform', 'adminA', 'operatorA', 'viewerA', 'kioskA', 'shareA', 'keyLiveA'];
  for (const who of ['camera', 'kioskA', 'shareA', ...USERS, ...KEYS] as Who[]) {
    const { socket, error } = await connect(tokens.get(who));
    if (!socket) {
      wrong.push(`connect as ${who}: ${JSON.stringify(error)}`);
      continue;
    }
    try {
      // Before joining, every camera event is refused for everyone.
      for (const [method, data] of [
        ['createTransport', { cameraId: ids.camA, direction: 'recv' }],
        ['connectTransport', { cameraId: ids.camA, transportId: 't', dtlsParameters: {} }],
        ['restartIce', { cameraId: ids.camA, transportId: 't' }],
        ['produce', { cameraId: ids.camA, transportId: 't', kind: 'video', rtpParameters: {} }],
        ['closeProducer', { cameraId: ids.camA, producerId: 'p' }],
        ['consume', { cameraId: ids.camA, transportId: 't', rtpCapabilities: {} }],
        ['resumeConsumer', { cameraId: ids.camA, consumerId: 'c' }],
        ['setPreferredLayers', { cameraId: ids.camA, consumerId: 'c', spatialLayer: 0 }],
      ] as const) {
        const r = await request(socket, method, data);
        if (r.ok) wrong.push(`${method} before join as ${who}: refused expected, got ok`);
      }
      const asViewer = await request(socket, 'join', { cameraId: ids.camA, role: 'viewer' });
      const wantViewer = viewers.includes(who);
      if (asViewer.ok !== wantViewer) wrong.push(`join A as viewer, ${who}: ${wantViewer ? 'allowed' : 'refused'} expected, got ${JSON.stringify(asViewer)}`);
      const asCamera = await request(socket, 'join', { cameraId: ids.camA, role: 'camera' });
      if (asCamera.ok !== (who === 'camera')) wrong.push(`join A as camera, ${who}: got ${JSON.stringify(asCamera)}`);
      const otherOrg = await request(socket, 'join', { cameraId: ids.camB, role: 'viewer' });
      const wantB = who === 'adminB' || who === 'viewerB';
      if (otherOrg.ok !== wantB) wrong.push(`join B as viewer, ${who}: got ${JSON.stringify(otherOrg)}`);
      if (wantViewer) {
        const t = await request(socket, 'createTransport', { cameraId: ids.camA, direction: 'recv' });
        if (!t.ok) wrong.push(`createTransport after join as ${who}: ${JSON.stringify(t)}`);
        const produce = await request(socket, 'produce', { cameraId: ids.camA, transportId: 'x', kind: 'video', rtpParameters: {} });
        if (produce.ok) wrong.push(`a viewer (${who}) could produce`);
      }
    } finally {
      socket.close();
    }
  }
  assert.equal(wrong, [], wrong.join('\n'));
});

test('socket.io: taking the grant away stops a watching viewer at once', async () => {
  const { socket } = await connect(tokens.get('viewerA'));
  assert.ok(socket);
  try {
    assert.ok((await request(socket, 'join', { cameraId: ids.camA, role: 'viewer' })).ok);
    const denied = new Promise<{ code: string }>((resolve) => socket.once('denied', resolve));
    const grants = JSON.parse((await call('adminA', { method: 'GET', path: `/api/grants?userId=${ids.viewerA}` })).text) as { grants: { id: string }[] };
    assert.is(grants.grants.length, 1);
    assert.is((await call('adminA', { method: 'DELETE', path: `/api/grants/${grants.grants[0]!.id}` })).status, 204);
    assert.is((await denied).code, 'grant_revoked');
    const again = await request(socket, 'join', { cameraId: ids.camA, role: 'viewer' });
    assert.is(again.ok, false);
  } finally {
    socket.close();
  }
});

test('logs: one JSON line per request with its request id, and no password or token anywhere', async () => {
  const res = await svc.api('/api/cameras', { headers: { 'x-request-id': 'matrix-trace-1' } });
  assert.is(res.headers.get('x-request-id'), 'matrix-trace-1');
  // Every answer, errors included, forbids framing and type sniffing.
  for (const r of [res, await svc.api('/api/nothing-here'), await svc.api('/api/cameras/x', { method: 'PATCH', body: '{bad' })]) {
    assert.is(r.headers.get('x-content-type-options'), 'nosniff');
    assert.is(r.headers.get('x-frame-options'), 'DENY');
  }
  await new Promise((r) => setTimeout(r, 200));
  const lines = svc
    .output()
    .split('\n')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  const line = lines.find((l) => l.event === 'request' && l.requestId === 'matrix-trace-1');
  assert.ok(line, 'the request is logged with the id the caller sent');
  assert.is(line.path, '/api/cameras');
  assert.is(line.status, 200);
  const all = svc.output();
  assert.not.ok(all.includes(PASSWORD), 'no password in the logs');
  // A JWT's signature, or an API key's secret part.
  for (const [who, token] of tokens) assert.not.ok(all.includes(token.startsWith('mk_') ? token.slice(20) : token.split('.')[2]!), `no ${who} token in the logs`);
});

test.run();
