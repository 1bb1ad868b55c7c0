// TURN: the embedded coturn (Debian's turnserver) relays live video to a Chromium viewer that may use
// relay candidates only, with the credentials the join handed out; stale credentials are refused.
// Also: the REST-API credential format, the generated turnserver.conf, the configuration rules,
// the order of the ICE servers in a join, and the supervisor restarting a coturn that died.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Camera } from '../camera/index.ts';
import { ConfigError, loadConfig } from '../config/index.ts';
import { embeddedTurnUrls, turnCredentials, turnServerConf, type EmbeddedTurn } from '../turn-config/index.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';
import { freePort, startService, type Service } from './harness.ts';

const TURN_BIN = '/usr/bin/turnserver';

// --- Unit: credentials, configuration ------------------------------------------------------------

test('turnCredentials: username "<expiry>:<identity>", credential base64 HMAC-SHA1(secret, username)', () => {
  const now = Date.UTC(2026, 10, 27, 0, 0, 0);
  const c = turnCredentials('a-shared-secret-of-enough-length', 'user:u1', 3600, now);
  assert.is(c.username, `${now / 1000 + 3600}:user:u1`);
  assert.is(c.expiresAtMs, now + 3600_000);
  // Independent implementation: openssl's HMAC.
  const openssl = spawnSync('openssl', ['dgst', '-sha1', '-hmac', 'a-shared-secret-of-enough-length', '-binary'], { input: c.username });
  assert.is(c.credential, openssl.stdout.toString('base64'));
  const stale = turnCredentials('a-shared-secret-of-enough-length', 'user:u1', -60, now);
  assert.ok(Number(stale.username.split(':')[0]) * 1000 < now, 'a negative ttl gives an expiry in the past');
});

const embedded = (over: Partial<EmbeddedTurn> = {}): EmbeddedTurn => ({
  mode: 'embedded',
  bin: TURN_BIN,
  host: '203.0.113.7',
  listenIp: '0.0.0.0',
  port: 3478,
  tlsPort: 0,
  relayMinPort: 50000,
  relayMaxPort: 50999,
  peers: ['203.0.113.7'],
  credentialTtlSeconds: 3600,
  ...over,
});

test('turnserver.conf: REST-API secret, relay only to the SFU, loopback only when asked, TLS only with a certificate', () => {
  const conf = turnServerConf({ turn: embedded(), secret: 's3cret-s3cret-s3cret', stateDir: '/var/lib/x' });
  const lines = conf.split('\n');
  for (const want of ['use-auth-secret', 'static-auth-secret=s3cret-s3cret-s3cret', 'listening-port=3478', 'min-port=50000', 'max-port=50999', 'no-cli', 'no-multicast-peers', 'denied-peer-ip=0.0.0.0-255.255.255.255', 'allowed-peer-ip=203.0.113.7', 'no-tls', 'no-dtls', 'log-file=stdout']) {
    assert.ok(lines.includes(want), `has "${want}"`);
  }
  assert.not.ok(lines.includes('allow-loopback-peers'), 'loopback peers stay refused in production');
  assert.not.ok(lines.some((l) => l.startsWith('listening-ip=')), '0.0.0.0 listens everywhere (no listening-ip)');
  assert.not.ok(lines.some((l) => /^(verbose|Verbose|no-auth)$/.test(l)), 'no verbose logging (it would print credentials), never no-auth');

  const loop = turnServerConf({ turn: embedded({ host: '127.0.0.1', listenIp: '127.0.0.1', peers: ['127.0.0.1'] }), secret: 'x'.repeat(20), stateDir: '/s' }).split('\n');
  assert.ok(loop.includes('allow-loopback-peers') && loop.includes('allowed-peer-ip=127.0.0.1') && loop.includes('relay-ip=127.0.0.1'));

  const tls = turnServerConf({ turn: embedded({ tlsPort: 5349 }), secret: 'x'.repeat(20), stateDir: '/s', tls: { certFile: '/c.pem', keyFile: '/k.pem' } }).split('\n');
  assert.ok(tls.includes('tls-listening-port=5349') && tls.includes('cert=/c.pem') && tls.includes('pkey=/k.pem') && tls.includes('no-tlsv1'));
  assert.not.ok(tls.includes('no-tls'));
});

test('TURN URLs: UDP first, then TCP, then TLS', () => {
  assert.equal(embeddedTurnUrls({ host: 'turn.example.jp', port: 3478, tlsPort: 5349 }), {
    stun: 'stun:turn.example.jp:3478',
    turn: ['turn:turn.example.jp:3478?transport=udp', 'turn:turn.example.jp:3478?transport=tcp', 'turns:turn.example.jp:5349?transport=tcp'],
  });
  assert.equal(embeddedTurnUrls({ host: '2001:db8::1', port: 3478, tlsPort: 0 }).turn, ['turn:[2001:db8::1]:3478?transport=udp', 'turn:[2001:db8::1]:3478?transport=tcp']);
});

test('configuration: off for a loopback SFU unless asked; external needs URLs and the secret; TURNS only with real certificates', () => {
  assert.is(loadConfig({ MIMAMORI_ANNOUNCED_ADDRESS: '127.0.0.1' }).turn.mode, 'off');
  if (fs.existsSync(TURN_BIN)) assert.is(loadConfig({ MIMAMORI_ANNOUNCED_ADDRESS: '203.0.113.7' }).turn.mode, 'embedded');
  const ext = loadConfig({ MIMAMORI_TURN_URLS: 'turns:t.example:443?transport=tcp,turn:t.example:3478', MIMAMORI_TURN_SECRET: 'sixteen-chars-at-least' }).turn;
  assert.is(ext.mode, 'external');
  assert.throws(() => loadConfig({ MIMAMORI_TURN: 'external', MIMAMORI_TURN_URLS: 'turn:t.example:3478' }), (e: unknown) => e instanceof ConfigError && /MIMAMORI_TURN_SECRET/.test(e.message));
  assert.throws(() => loadConfig({ MIMAMORI_TURN: 'external', MIMAMORI_TURN_URLS: 'http://t.example', MIMAMORI_TURN_SECRET: 'sixteen-chars-at-least' }), /not TURN URLs/);
  if (fs.existsSync(TURN_BIN)) {
    const selfSigned = loadConfig({ MIMAMORI_TURN: 'embedded', MIMAMORI_ANNOUNCED_ADDRESS: '203.0.113.7' }).turn;
    assert.ok(selfSigned.mode === 'embedded' && selfSigned.tlsPort === 0, 'a self-signed certificate is no use for turns: (browsers check it)');
    assert.throws(() => loadConfig({ MIMAMORI_TURN: 'embedded', MIMAMORI_TURN_RELAY_MIN_PORT: '45000', MIMAMORI_TURN_RELAY_MAX_PORT: '46000' }), /overlaps the media port range/);
  }
  assert.throws(() => loadConfig({ MIMAMORI_TURN: 'embedded', MIMAMORI_TURN_BIN: '/nonexistent/turnserver' }), /install Debian's coturn/);
});

// --- A tiny TURN client (RFC 5766 Allocate/Refresh with long-term credentials) -------------------

type StunAttrs = Map<number, Buffer>;
const ATTR = { USERNAME: 0x0006, MESSAGE_INTEGRITY: 0x0008, ERROR_CODE: 0x0009, LIFETIME: 0x000d, REALM: 0x0014, NONCE: 0x0015, REQUESTED_TRANSPORT: 0x0019 };

function stunMessage(type: number, attrs: [number, Buffer][], key?: Buffer): { data: Buffer; id: Buffer } {
  const id = crypto.randomBytes(12);
  const body = Buffer.concat(
    attrs.map(([t, v]) => {
      const head = Buffer.alloc(4);
      head.writeUInt16BE(t, 0);
      head.writeUInt16BE(v.length, 2);
      return Buffer.concat([head, v, Buffer.alloc((4 - (v.length % 4)) % 4)]);
    }),
  );
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(body.length + (key ? 24 : 0), 2);
  header.writeUInt32BE(0x2112a442, 4);
  id.copy(header, 8);
  let data = Buffer.concat([header, body]);
  if (key) {
    const mi = Buffer.alloc(4);
    mi.writeUInt16BE(ATTR.MESSAGE_INTEGRITY, 0);
    mi.writeUInt16BE(20, 2);
    data = Buffer.concat([data, mi, crypto.createHmac('sha1', key).update(data).digest()]);
  }
  return { data, id };
}

function parseStun(msg: Buffer): { type: number; id: Buffer; attrs: StunAttrs; error?: number } {
  const attrs: StunAttrs = new Map();
  for (let at = 20; at + 4 <= msg.length; ) {
    const t = msg.readUInt16BE(at);
    const len = msg.readUInt16BE(at + 2);
    attrs.set(t, msg.subarray(at + 4, at + 4 + len));
    at += 4 + len + ((4 - (len % 4)) % 4);
  }
  const e = attrs.get(ATTR.ERROR_CODE);
  return { type: msg.readUInt16BE(0), id: msg.subarray(8, 20), attrs, error: e ? e[2]! * 100 + e[3]! : undefined };
}

/** One client 5-tuple to the TURN server (a TURN session is bound to it). */
class TurnClient {
  readonly #socket = dgram.createSocket('udp4');
  #realm: Buffer = Buffer.alloc(0);
  #nonce: Buffer = Buffer.alloc(0);
  constructor(
    private readonly port: number,
    private readonly username: string,
    private readonly password: string,
  ) {}

  #request(type: number, attrs: [number, Buffer][], auth: boolean) {
    const key = auth ? crypto.createHash('md5').update(`${this.username}:${this.#realm.toString()}:${this.password}`).digest() : undefined;
    const authAttrs: [number, Buffer][] = auth ? [[ATTR.USERNAME, Buffer.from(this.username)], [ATTR.REALM, this.#realm], [ATTR.NONCE, this.#nonce]] : [];
    const { data, id } = stunMessage(type, [...attrs, ...authAttrs], key);
    return new Promise<ReturnType<typeof parseStun>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer from the TURN server')), 3000);
      const onMessage = (msg: Buffer) => {
        const parsed = parseStun(msg);
        if (!parsed.id.equals(id)) return;
        clearTimeout(timer);
        this.#socket.off('message', onMessage);
        resolve(parsed);
      };
      this.#socket.on('message', onMessage);
      this.#socket.send(data, this.port, '127.0.0.1');
    });
  }

  /** Allocate a UDP relay: 0 when granted, else the STUN error code (401 = credentials refused). */
  async allocate(): Promise<number> {
    const transport: [number, Buffer] = [ATTR.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0])];
    const challenge = await this.#request(0x0003, [transport], false);
    if (challenge.error !== 401) throw new Error(`expected a 401 challenge, got ${challenge.error}`);
    this.#realm = challenge.attrs.get(ATTR.REALM)!;
    this.#nonce = challenge.attrs.get(ATTR.NONCE)!;
    const answer = await this.#request(0x0003, [transport], true);
    return answer.type === 0x0103 ? 0 : answer.error ?? -1;
  }

  /** Refresh the allocation: 0 when granted, else the STUN error code. */
  async refresh(lifetimeSeconds = 600): Promise<number> {
    const life = Buffer.alloc(4);
    life.writeUInt32BE(lifetimeSeconds);
    const answer = await this.#request(0x0004, [[ATTR.LIFETIME, life]], true);
    return answer.type === 0x0104 ? 0 : answer.error ?? -1;
  }

  close(): void {
    this.#socket.close();
  }
}

// --- Against the real service with its embedded coturn -------------------------------------------

let service: Service;
let turnPort = 0;
const haveCoturn = fs.existsSync(TURN_BIN);
const haveChromium = fs.existsSync(CHROMIUM_PATH);

const secret = () => (JSON.parse(fs.readFileSync(`${service.dataDir}/turn/secret.json`, 'utf8')) as { secret: string }).secret;
const coturnPid = () => Number(fs.readFileSync(`${service.dataDir}/turn/turnserver.pid`, 'utf8').trim());

test('the service runs coturn; it relays only with fresh credentials (stale ones: 401)', async () => {
  if (!haveCoturn) throw new Error(`coturn not found at ${TURN_BIN}; install it with "bash setup/setup.sh" as root`);
  turnPort = await freePort();
  // A relay port range of our own, apart from the media ports and other test runs.
  const relayMin = 52000 + Math.floor(Math.random() * 60) * 100;
  service = await startService({
    env: {
      MIMAMORI_TURN: 'embedded',
      MIMAMORI_TURN_PORT: String(turnPort),
      MIMAMORI_TURN_RELAY_MIN_PORT: String(relayMin),
      MIMAMORI_TURN_RELAY_MAX_PORT: String(relayMin + 99),
    },
  });
  const conf = fs.statSync(`${service.dataDir}/turn/turnserver.conf`);
  assert.is(conf.mode & 0o777, 0o600, 'the generated configuration (it holds the secret) is private');
  assert.is(fs.statSync(`${service.dataDir}/turn/secret.json`).mode & 0o777, 0o600);

  const fresh = turnCredentials(secret(), 'test:fresh', 3, Date.now());
  const ok = new TurnClient(turnPort, fresh.username, fresh.credential);
  try {
    assert.is(await ok.allocate(), 0, 'fresh credentials get a relay allocation');
    // After they expire, the allocation they opened is still refreshed: a days-long live view
    // keeps its relay; only new allocations need fresh credentials.
    await new Promise((r) => setTimeout(r, 4500));
    assert.is(await ok.refresh(), 0, 'an allocation outlives the credentials that opened it');
  } finally {
    ok.close();
  }
  const stale = turnCredentials(secret(), 'test:stale', -60);
  const refused = new TurnClient(turnPort, stale.username, stale.credential);
  try {
    assert.is(await refused.allocate(), 401, 'expired credentials are refused');
  } finally {
    refused.close();
  }
  const forged = new TurnClient(turnPort, fresh.username.replace(/^\d+/, String(Math.floor(Date.now() / 1000) + 86400)), fresh.credential);
  try {
    assert.is(await forged.allocate(), 401, 'an expiry pushed forward without the secret is refused');
  } finally {
    forged.close();
  }
});

// The viewer's peer connections may use relay candidates only; each one is recorded with the ICE
// servers mediasoup-client gave it (the join's).
const FORCE_RELAY = `(() => {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(config = {}, ...rest) {
      super({ ...config, iceTransportPolicy: 'relay' }, ...rest);
      window.__pcs.push({ pc: this, iceServers: JSON.parse(JSON.stringify(config.iceServers ?? [])) });
    }
  };
})();`;
type PcRecord = { pc: { getStats(): Promise<Map<string, Record<string, unknown>>>; connectionState: string }; iceServers: { urls: string[]; username?: string; credential?: string }[] };
type W = { __pcs: PcRecord[]; __mimamori: { tiles(): { cameraId: string; state: string; framesDecoded: number }[] } };

async function framesOf(page: Page, cameraId: string): Promise<number> {
  return page.evaluate((id) => (globalThis as unknown as W).__mimamori.tiles().find((t) => t.cameraId === id)?.framesDecoded ?? 0, cameraId);
}

test('Chromium with iceTransportPolicy "relay" gets live video through coturn with the issued credentials', async () => {
  if (!haveChromium) throw new Error(`Chromium not found at ${CHROMIUM_PATH}; install it with "bash setup/setup.sh --test"`);
  const built = spawnSync('bash', ['setup/client.sh'], { cwd: new URL('..', import.meta.url), stdio: 'inherit' });
  assert.is(built.status, 0, 'the browser client builds');
  const cam = await service.createCamera('Relay test');
  const token = await service.publishToken(cam.id, cam.secret);
  const camera = await Camera.create({ whipUrl: `${service.url}/whip/${cam.id}`, token, width: 320, height: 180, kbps: 300, fps: 30 });
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  const log: string[] = [];
  try {
    const context = await browser.newContext({ locale: 'en-US' });
    await context.addInitScript({ content: FORCE_RELAY });
    const page = await context.newPage();
    page.on('console', (m) => log.push(`[${m.type()}] ${m.text()}`));
    await page.goto(`${service.url}/`);
    await page.fill('#username', service.adminUsername);
    await page.fill('#password', service.adminPassword);
    const signedInAt = Date.now();
    await page.click('#login-form button[type=submit]');
    await page.waitForFunction((id) => ((globalThis as unknown as W).__mimamori.tiles().find((t) => t.cameraId === id)?.framesDecoded ?? 0) > 0, cam.id, {
      timeout: 30_000,
      polling: 50,
    });
    const firstFrameMs = Date.now() - signedInAt;

    const before = await framesOf(page, cam.id);
    await page.waitForTimeout(2000);
    const after = await framesOf(page, cam.id);
    assert.ok(after > before + 20, `relayed frames keep coming (${before} → ${after} in 2 s)`);

    const seen = await page.evaluate(async () => {
      const out = [];
      for (const { pc, iceServers } of (globalThis as unknown as W).__pcs) {
        if (pc.connectionState !== 'connected') continue;
        const stats = [...(await pc.getStats()).values()];
        const transport = stats.find((s) => s.type === 'transport');
        const pair = stats.find((s) => s.id === transport?.selectedCandidatePairId);
        const local = stats.find((s) => s.id === pair?.localCandidateId);
        out.push({ iceServers, localType: local?.candidateType, relayProtocol: local?.relayProtocol, bytesReceived: Number(pair?.bytesReceived ?? 0) });
      }
      return out;
    });
    assert.ok(seen.length >= 1, 'the viewer has a connected peer connection');
    const media = seen.find((s) => s.bytesReceived > 0)!;
    assert.ok(media, 'media arrives on a connected peer connection');
    assert.is(media.localType, 'relay', 'the selected candidate pair is a relay candidate');
    assert.is(media.relayProtocol, 'udp', 'the relay is reached over UDP first');

    // The join's ICE servers, as mediasoup-client handed them to the peer connection.
    const servers = media.iceServers;
    const host = '127.0.0.1';
    assert.equal(servers[0]?.urls, [`stun:${host}:${turnPort}`], 'STUN first, without credentials');
    assert.equal(servers[1]?.urls, [`turn:${host}:${turnPort}?transport=udp`, `turn:${host}:${turnPort}?transport=tcp`], 'then TURN over UDP, then TCP (no TLS without a certificate)');
    const [expiry, kind] = (servers[1]?.username ?? '').split(':');
    assert.is(kind, 'user', 'the credential names the signed-in user');
    const ttl = Number(expiry) - Date.now() / 1000;
    assert.ok(ttl > 3500 && ttl <= 3600, `credentials last the configured hour (${ttl.toFixed(0)} s left)`);

    // WHEP answers carry the same ICE servers as Link headers (RFC 9725), credentials for the caller.
    const whep = await page.evaluate(
      async ({ url, token }) => {
        const G = globalThis as unknown as { RTCPeerConnection: new () => any; fetch: typeof fetch };
        const pc = new G.RTCPeerConnection();
        pc.addTransceiver('video', { direction: 'recvonly' });
        await pc.setLocalDescription(await pc.createOffer());
        const res = await G.fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/sdp' }, body: pc.localDescription.sdp });
        const location = res.headers.get('location');
        if (location) await G.fetch(location, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
        pc.close();
        return { status: res.status, link: res.headers.get('link') ?? '' };
      },
      { url: `${service.url}/whep/${cam.id}`, token: service.adminToken },
    );
    assert.is(whep.status, 201);
    const links = whep.link.split(/,\s*(?=<)/);
    assert.equal(
      links.map((l) => /^<([^>]+)>/.exec(l)?.[1]),
      [`stun:${host}:${turnPort}`, `turn:${host}:${turnPort}?transport=udp`, `turn:${host}:${turnPort}?transport=tcp`],
      `Link headers list STUN, TURN UDP, TURN TCP (${whep.link})`,
    );
    assert.ok(links.slice(1).every((l) => /rel="ice-server"; username="\d+:user:[^"]+"; credential="[^"]+"; credential-type="password"/.test(l)), 'TURN links carry the caller\'s credentials');
    assert.ok(links[0]?.endsWith('rel="ice-server"'), 'the STUN link has no credentials');

    // Beside it, the same page without the relay policy (direct to the SFU), in the same run.
    const direct = await (await browser.newContext({ locale: 'en-US' })).newPage();
    await direct.goto(`${service.url}/`);
    await direct.fill('#username', service.adminUsername);
    await direct.fill('#password', service.adminPassword);
    const directAt = Date.now();
    await direct.click('#login-form button[type=submit]');
    await direct.waitForFunction((id) => ((globalThis as unknown as W).__mimamori.tiles().find((t) => t.cameraId === id)?.framesDecoded ?? 0) > 0, cam.id, {
      timeout: 30_000,
      polling: 50,
    });
    const directFirstFrameMs = Date.now() - directAt;
    console.log(JSON.stringify({ metric: 'first_frame_after_sign_in_ms', relay: firstFrameMs, direct: directFirstFrameMs, relayedFramesIn2s: after - before }));
  } catch (err) {
    console.error(`--- browser console\n${log.slice(-60).join('\n')}\n--- service output (tail)\n${service.output().slice(-4000)}`);
    throw err;
  } finally {
    await browser.close();
    await camera.close();
  }
});

test('Chromium gathers no relay candidate with stale credentials (coturn answers 401)', async () => {
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    await page.goto(`${service.url}/`);
    const gather = (server: { urls: string; username: string; credential: string }) =>
      page.evaluate(async (iceServer) => {
        const G = globalThis as unknown as { RTCPeerConnection: new (c: unknown) => any };
        const pc = new G.RTCPeerConnection({ iceServers: [iceServer], iceTransportPolicy: 'relay' });
        const candidates: string[] = [];
        const errors: number[] = [];
        pc.addEventListener('icecandidate', (e: any) => e.candidate && candidates.push(e.candidate.candidate));
        pc.addEventListener('icecandidateerror', (e: any) => errors.push(e.errorCode));
        pc.createDataChannel('probe');
        await pc.setLocalDescription(await pc.createOffer());
        // (no named function here: tsx would wrap it in a helper the page does not have)
        await new Promise<void>((resolve) => {
          pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
          setTimeout(resolve, 10_000);
        });
        pc.close();
        return { relay: candidates.filter((c) => / typ relay /.test(c)).length, errors };
      }, server);
    const urls = `turn:127.0.0.1:${turnPort}?transport=udp`;
    const fresh = turnCredentials(secret(), 'test:fresh', 600);
    const good = await gather({ urls, username: fresh.username, credential: fresh.credential });
    assert.ok(good.relay >= 1, `fresh credentials give a relay candidate (${JSON.stringify(good)})`);
    const stale = turnCredentials(secret(), 'test:stale', -60);
    const bad = await gather({ urls, username: stale.username, credential: stale.credential });
    assert.is(bad.relay, 0, 'stale credentials give no relay candidate');
    assert.ok(bad.errors.includes(401), `coturn refused them with 401 (${JSON.stringify(bad.errors)})`);
  } finally {
    await browser.close();
  }
});

test('a coturn that dies is restarted by the service', async () => {
  const pid = coturnPid();
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  let next = 0;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    try {
      next = coturnPid();
    } catch {
      continue;
    }
    if (next !== pid) break;
  }
  assert.ok(next && next !== pid, `a new coturn runs (pid ${pid} → ${next})`);
  const fresh = turnCredentials(secret(), 'test:after-restart', 60);
  let code = -1;
  while (Date.now() < deadline && code !== 0) {
    const client = new TurnClient(turnPort, fresh.username, fresh.credential);
    code = await client.allocate().catch(() => -1);
    client.close();
  }
  assert.is(code, 0, 'the restarted coturn relays with the same secret');
});

test.after(async () => {
  const pidFile = service ? `${service.dataDir}/turn/turnserver.pid` : '';
  const pid = pidFile && fs.existsSync(pidFile) ? coturnPid() : 0;
  await service?.stop();
  if (pid) assert.not.ok(fs.existsSync(`/proc/${pid}`) && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('turnserver'), 'coturn stops with the service');
});

test.run();
