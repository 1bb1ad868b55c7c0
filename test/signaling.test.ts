// Auth and bad input against the real service: every refusal is a clear { error: { code, message } }
// and the service keeps serving others afterwards.
import jwt from 'jsonwebtoken';
import type { Socket } from 'socket.io-client';
import http from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startService, type Service, connectSocket } from './harness.ts';

let svc: Service;
let cam: { id: string; secret: string };
let other: { id: string; secret: string };
let viewer: { id: string; token: string };

test.before(async () => {
  svc = await startService();
  cam = await svc.createCamera('Entrance 入口');
  other = await svc.createCamera('Warehouse');
  const u = await svc.createUser('viewer1', 'viewer-password-1');
  await svc.grant(u.id, cam.id);
  viewer = { id: u.id, token: await svc.login('viewer1', 'viewer-password-1') };
});
test.after(async () => {
  await svc?.stop();
});

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { error?: { code: string; message: string } };
  assert.ok(body.error, `expected an error body, got ${JSON.stringify(body)}`);
  assert.type(body.error.message, 'string');
  assert.ok(body.error.message.length > 10, 'the message says what to do');
  return { status: res.status, code: body.error.code, message: body.error.message };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

test('login: right password gives a token, wrong one a clear 401', async () => {
  const ok = await fetch(`${svc.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'viewer1', password: 'viewer-password-1' }),
  });
  assert.is(ok.status, 200);
  const body = (await ok.json()) as { token: string; user: { role: string } };
  assert.is(body.user.role, 'viewer');
  const bad = await fetch(`${svc.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'viewer1', password: 'nope' }),
  });
  assert.equal(await errorOf(bad), { status: 401, code: 'invalid_credentials', message: 'wrong username or password' });
  const malformed = await fetch(`${svc.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":' });
  assert.is((await errorOf(malformed)).status, 400);
});

test('camera list: viewers see only granted cameras; no/forged/expired token refused', async () => {
  const res = await svc.api('/api/cameras', { headers: bearer(viewer.token) });
  const { cameras } = (await res.json()) as { cameras: { id: string }[] };
  assert.equal(cameras.map((c) => c.id), [cam.id]);
  const admin = (await (await svc.api('/api/cameras')).json()) as { cameras: unknown[] };
  assert.is(admin.cameras.length, 2);

  const none = await fetch(`${svc.url}/api/cameras`);
  assert.is((await errorOf(none)).code, 'unauthorized');
  const forged = jwt.sign({ typ: 'user', sub: viewer.id, role: 'admin' }, 'x'.repeat(48), { issuer: 'mimamori', expiresIn: 60 });
  const f = await errorOf(await fetch(`${svc.url}/api/cameras`, { headers: bearer(forged) }));
  assert.equal([f.status, f.code], [401, 'unauthorized']);
  const garbage = await errorOf(await fetch(`${svc.url}/api/cameras`, { headers: bearer('not.a.jwt') }));
  assert.is(garbage.status, 401);
});

test('expired token is refused with token_expired', async () => {
  // An expired token signed with the real secret: get it by reading the data dir's secret.
  const jwtSecret = await svc.jwtSecret();
  const expired = jwt.sign({ typ: 'user', sub: viewer.id, role: 'viewer', exp: Math.floor(Date.now() / 1000) - 10 }, jwtSecret, {
    issuer: 'mimamori',
  });
  const e = await errorOf(await fetch(`${svc.url}/api/cameras`, { headers: bearer(expired) }));
  assert.equal([e.status, e.code], [401, 'token_expired']);
});

test('admin-only routes refuse viewers; unknown camera is 404', async () => {
  const r = await errorOf(
    await svc.api('/api/cameras', { method: 'POST', headers: bearer(viewer.token), body: JSON.stringify({ name: 'x' }) }),
  );
  assert.equal([r.status, r.code], [403, 'forbidden']);
  const nf = await errorOf(await svc.api('/api/cameras/cam_nothere'));
  assert.equal([nf.status, nf.code], [404, 'camera_not_found']);
  const other404 = await errorOf(await svc.api(`/api/cameras/${other.id}`, { headers: bearer(viewer.token) }));
  assert.is(other404.status, 404, 'a camera without a grant looks like no camera');
  const badName = await errorOf(await svc.api('/api/cameras', { method: 'POST', body: JSON.stringify({ name: '' }) }));
  assert.equal([badName.status, badName.code], [400, 'invalid_request']);
});

test('publish token: only with the right secret', async () => {
  const token = await svc.publishToken(cam.id, cam.secret);
  assert.ok(token.split('.').length === 3);
  const wrong = await fetch(`${svc.url}/api/cameras/${cam.id}/publish-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ secret: other.secret }),
  });
  assert.is((await errorOf(wrong)).code, 'invalid_camera_secret');
});

test('WHIP: no token, wrong token, wrong content type, bad SDP, oversized body', async () => {
  const post = (headers: Record<string, string>, body: string) => fetch(`${svc.url}/whip/${cam.id}`, { method: 'POST', headers, body });
  const sdpType = { 'content-type': 'application/sdp' };
  assert.is((await errorOf(await post(sdpType, 'v=0\r\n'))).status, 401);
  assert.is((await errorOf(await post({ ...sdpType, ...bearer(viewer.token) }, 'v=0\r\n'))).status, 403);
  const otherToken = await svc.publishToken(other.id, other.secret);
  assert.is((await errorOf(await post({ ...sdpType, ...bearer(otherToken) }, 'v=0\r\n'))).status, 403, 'another camera\'s token');
  const token = await svc.publishToken(cam.id, cam.secret);
  const wrongType = await errorOf(await post({ 'content-type': 'text/plain', ...bearer(token) }, 'v=0\r\n'));
  assert.equal([wrongType.status, wrongType.code], [415, 'unsupported_media_type']);
  const notSdp = await errorOf(await post({ ...sdpType, ...bearer(token) }, 'hello'));
  assert.equal([notSdp.status, notSdp.code], [400, 'bad_sdp']);
  const noMedia = await errorOf(await post({ ...sdpType, ...bearer(token) }, 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n'));
  assert.is(noMedia.code, 'bad_sdp');
  const noFingerprint =
    'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=sendonly\r\na=rtpmap:96 H264/90000\r\n';
  const nf = await errorOf(await post({ ...sdpType, ...bearer(token) }, noFingerprint));
  assert.ok(nf.message.includes('fingerprint'), nf.message);
  const theora = noFingerprint.replace('H264', 'theora') + 'a=fingerprint:sha-256 ' + Array(32).fill('AA').join(':') + '\r\na=setup:actpass\r\n';
  const codec = await errorOf(await post({ ...sdpType, ...bearer(token) }, theora));
  assert.ok(codec.message.includes('H.264'), codec.message);
  const huge = await errorOf(await post({ ...sdpType, ...bearer(token) }, 'v=0\r\n' + 'a=x\r\n'.repeat(40_000)));
  assert.equal([huge.status, huge.code], [413, 'sdp_too_large']);
  const whep = await errorOf(await fetch(`${svc.url}/whep/${cam.id}`, { method: 'POST', headers: { ...sdpType, ...bearer(token) }, body: 'v=0\r\n' }));
  assert.is(whep.status, 403, 'a camera token cannot watch');
});

const connect = (token: string | undefined) => connectSocket(svc.url, token);
const request = (socket: Socket, payload: unknown) =>
  socket.timeout(5000).emitWithAck('request', payload) as Promise<{ ok: boolean; data?: unknown; error?: { code: string; message: string } }>;

test('socket: no token and forged token are refused at connect', async () => {
  for (const token of [undefined, 'garbage', jwt.sign({ typ: 'user', sub: viewer.id, role: 'admin' }, 'y'.repeat(40))]) {
    const err = await connect(token).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.ok(err, 'connection refused');
    assert.is((JSON.parse(err.message) as { code: string }).code, 'unauthorized');
  }
});

test('socket: malformed, oversized, wrong-grant and unknown-camera requests get clear errors', async () => {
  const socket = await connect(viewer.token);
  try {
    const malformed = await request(socket, { method: 'join', data: { cameraId: 42 } });
    assert.equal([malformed.ok, malformed.error?.code], [false, 'invalid_request']);
    const unknownMethod = await request(socket, { method: 'explode', data: {} });
    assert.is(unknownMethod.error?.code, 'invalid_request');
    const notObject = await request(socket, 'hello');
    assert.is(notObject.error?.code, 'invalid_request');
    const big = await request(socket, { method: 'join', data: { cameraId: cam.id, pad: 'x'.repeat(100_000) } });
    assert.is(big.error?.code, 'message_too_large');
    const noGrant = await request(socket, { method: 'join', data: { cameraId: other.id, role: 'viewer' } });
    assert.is(noGrant.error?.code, 'camera_not_found');
    const unknown = await request(socket, { method: 'join', data: { cameraId: 'cam_unknown', role: 'viewer' } });
    assert.is(unknown.error?.code, 'camera_not_found');
    const publish = await request(socket, { method: 'join', data: { cameraId: cam.id, role: 'camera' } });
    assert.is(publish.error?.code, 'forbidden', 'a viewer cannot publish');
    const notJoined = await request(socket, { method: 'createTransport', data: { cameraId: cam.id, direction: 'recv' } });
    assert.is(notJoined.error?.code, 'not_joined');
    // The same connection still works after all that.
    const join = await request(socket, { method: 'join', data: { cameraId: cam.id, role: 'viewer' } });
    assert.ok(join.ok, JSON.stringify(join.error));
    const t = await request(socket, { method: 'createTransport', data: { cameraId: cam.id, direction: 'recv' } });
    assert.ok(t.ok);
    const stolen = await request(socket, { method: 'connectTransport', data: { cameraId: cam.id, transportId: 'not-mine', dtlsParameters: {} } });
    assert.is(stolen.error?.code, 'transport_not_found');
  } finally {
    socket.close();
  }
});

test('socket: a leave sent while the join is under way wins: the join answers join_cancelled and nothing stays joined', async () => {
  // A camera nobody joined yet: its room (a router on a worker) is made during the join, so the
  // leave arrives while the join awaits it.
  const fresh = await svc.createCamera('Loading dock');
  await svc.grant(viewer.id, fresh.id);
  const socket = await connect(viewer.token);
  try {
    const join = request(socket, { method: 'join', data: { cameraId: fresh.id, role: 'viewer' } });
    const leave = request(socket, { method: 'leave', data: { cameraId: fresh.id } });
    const [joined, left] = await Promise.all([join, leave]);
    assert.ok(left.ok, JSON.stringify(left.error));
    assert.is(joined.ok, false, 'the join gave up');
    assert.is(joined.error?.code, 'join_cancelled');
    assert.match(joined.error?.message ?? '', /join again/);
    const t = await request(socket, { method: 'createTransport', data: { cameraId: fresh.id, direction: 'recv' } });
    assert.is(t.error?.code, 'not_joined', 'the viewer is not joined');
    // Joining again works as usual.
    const again = await request(socket, { method: 'join', data: { cameraId: fresh.id, role: 'viewer' } });
    assert.ok(again.ok, JSON.stringify(again.error));
  } finally {
    socket.close();
  }
});

test('socket: a leave sent while a transport is being made closes that transport too (no viewer stays on the server)', async () => {
  const socket = await connect(viewer.token);
  const viewersOf = async (id: string) => {
    const sfu = (await (await svc.api('/api/sfu')).json()) as { cameras: { id: string; viewers: number }[] };
    return sfu.cameras.find((c) => c.id === id)?.viewers ?? 0;
  };
  try {
    let crossed = 0;
    for (let round = 0; round < 5; round++) {
      const join = await request(socket, { method: 'join', data: { cameraId: cam.id, role: 'viewer' } });
      assert.ok(join.ok, JSON.stringify(join.error));
      // A tile closed right after it opened: its leave reaches the server while the transport is made.
      const made = request(socket, { method: 'createTransport', data: { cameraId: cam.id, direction: 'recv' } });
      const left = request(socket, { method: 'leave', data: { cameraId: cam.id } });
      const [t, l] = await Promise.all([made, left]);
      assert.ok(l.ok, JSON.stringify(l.error));
      if (!t.ok) {
        // The leave came while the transport was being made (as nearly always): the transport is refused.
        crossed += 1;
        assert.is(t.error?.code, 'not_joined');
        assert.match(t.error?.message ?? '', /join again/);
      }
      assert.is(await viewersOf(cam.id), 0, `round ${round}: no viewer left on the server`);
    }
    assert.ok(crossed > 0, 'the leave crossed a transport being made at least once');
  } finally {
    socket.close();
  }
});

test('socket: revoking a grant stops the viewer at once', async () => {
  const socket = await connect(viewer.token);
  try {
    const join = await request(socket, { method: 'join', data: { cameraId: cam.id, role: 'viewer' } });
    assert.ok(join.ok);
    const denied = new Promise<{ cameraId: string; code: string }>((r) => socket.once('denied', r));
    const res = await svc.api(`/api/cameras/${cam.id}/grants/${viewer.id}`, { method: 'DELETE' });
    assert.is(res.status, 204);
    const d = await denied;
    assert.equal([d.cameraId, d.code], [cam.id, 'grant_revoked']);
    const again = await request(socket, { method: 'createTransport', data: { cameraId: cam.id, direction: 'recv' } });
    assert.is(again.ok, false);
  } finally {
    socket.close();
    await svc.grant(viewer.id, cam.id);
  }
});

test('service still healthy after the bad input', async () => {
  // A fresh connection: fetch may reuse a kept-alive one the server is closing at that moment
  // ("other side closed"), which says nothing about the service's health.
  const status = await new Promise<number | string>((resolve) => {
    http
      .get(`${svc.url}/healthz`, { agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', (err) => resolve(`${err.message}; service output:\n${svc.output().slice(-3000)}`));
  });
  assert.is(status, 200);
});

test.run();
