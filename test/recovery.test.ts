// A mediasoup worker that dies is replaced; the cameras and viewers it served are told to join
// again, and media flows again. Also: HTTPS with the generated certificate, TLS 1.2 minimum.
import https from 'node:https';
import tls from 'node:tls';
import { io, type Socket } from 'socket.io-client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Camera } from '../camera/index.ts';
import { assertWatchable, startService, type Service } from './harness.ts';

let svc: Service;
let cam: { id: string; secret: string };

test.before(async () => {
  svc = await startService({ workers: 1 });
  cam = await svc.createCamera('Dock');
});
test.after(async () => {
  await svc?.stop();
});

type SfuState = { workers: { index: number; pid: number }[]; cameras: { id: string; live: boolean }[] };
const sfuState = async () => (await (await svc.api('/api/sfu')).json()) as SfuState;

test('worker killed: viewers are told to rejoin, a new worker takes over, media flows again', async () => {
  const token = await svc.publishToken(cam.id, cam.secret);
  const camera = await Camera.create({ whipUrl: `${svc.url}/whip/${cam.id}`, token, width: 320, height: 180, kbps: 300 });
  const socket: Socket = io(svc.url, { auth: { token: svc.adminToken }, transports: ['websocket'], reconnection: false });
  try {
    await new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(undefined));
      socket.once('connect_error', reject);
    });
    const join = (await socket.emitWithAck('request', { method: 'join', data: { cameraId: cam.id, role: 'viewer' } })) as {
      ok: boolean;
      data: { live: boolean };
    };
    assert.ok(join.ok);
    assert.is(join.data.live, true);
    const before = await sfuState();
    const pid = before.workers[0]!.pid;
    const rejoin = new Promise<{ method: string; data: { cameraId: string } }>((resolve) => {
      socket.on('notification', (n: { method: string; data: { cameraId: string } }) => {
        if (n.method === 'rejoin') resolve(n);
      });
    });
    process.kill(pid, 'SIGKILL');
    const note = await Promise.race([rejoin, new Promise<never>((_, r) => setTimeout(() => r(new Error('no rejoin notification')), 10_000))]);
    assert.is(note.data.cameraId, cam.id);
    // A new worker in the same slot.
    let after = await sfuState();
    for (let i = 0; i < 50 && (after.workers[0]?.pid === pid || !after.workers[0]); i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await sfuState();
    }
    assert.is.not(after.workers[0]!.pid, pid);
    // The old camera session is gone with the worker; the camera publishes again (as the
    // browser camera page and `mimamori camera` do by themselves) and viewers get frames.
    const again = await Camera.create({ whipUrl: `${svc.url}/whip/${cam.id}`, token, width: 320, height: 180, kbps: 300 });
    try {
      const rejoined = (await socket.emitWithAck('request', { method: 'join', data: { cameraId: cam.id, role: 'viewer' } })) as {
        ok: boolean;
        data: { live: boolean };
      };
      assert.ok(rejoined.ok);
      assert.is(rejoined.data.live, true);
      await assertWatchable(svc, cam.id, again);
    } finally {
      await again.close();
    }
  } finally {
    socket.close();
    await camera.close();
  }
});

test('HTTPS: generated self-signed certificate, TLS 1.2 minimum, TLS 1.1 refused', async () => {
  const tlsSvc = await startService({ env: { MIMAMORI_TLS: 'self-signed' }, https: true });
  try {
    const status = await new Promise<number>((resolve, reject) => {
      https
        .get(`${tlsSvc.url}/healthz`, { rejectUnauthorized: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
    assert.is(status, 200);
    const port = tlsSvc.port;
    const protocol = await new Promise<string | null>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, () => {
        resolve(s.getProtocol());
        s.end();
      });
      s.on('error', reject);
    });
    assert.ok(protocol === 'TLSv1.2' || protocol === 'TLSv1.3', String(protocol));
    const old = await new Promise<string>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' }, () => {
        resolve('connected');
        s.end();
      });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    // The client can speak TLS 1.1 (checked against a permissive server); ours answers with a protocol alert.
    assert.is(old, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'TLS 1.1 must be refused');
  } finally {
    await tlsSvc.stop();
  }
});

test.run();
