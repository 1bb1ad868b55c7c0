// Playback, export, share links and kiosk tokens over HTTP against the real service: a werift
// camera recorded through mediasoup into the embedded S3, then read back the way a player does
// (playlist, init segments, fragments by relative URL) and checked with Debian's ffmpeg.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { Camera } from '../camera/index.ts';
import { startService, type Service } from './harness.ts';
import { decodeErrors, ffprobe } from './recordings.ts';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let svc: Service;
let tmp: string;
let cam: { id: string; secret: string };
let other: { id: string; secret: string };
/** First recording [a0, a1), a gap, second recording [b0, b1). */
let a0 = 0;
let a1 = 0;
let b0 = 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Window {
  url: string;
  token: string;
  startMs: number;
  endMs: number;
  requestedMs: number;
  live: boolean;
  gap?: { fromMs: number; toMs: number; reason: string };
  gaps: { fromMs: number; toMs: number; reason: string }[];
  entries: { wallMs: number; mediaS: number; durS: number }[];
}

async function json<T>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  assert.is(res.status, status, `${res.url}: ${text}`);
  return JSON.parse(text) as T;
}

async function startPlayback(cameraId: string, at: number, token?: string): Promise<Window> {
  const res = await svc.api(`/api/cameras/${cameraId}/playback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ at }),
  });
  return json<Window>(res);
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return { status: res.status, ...body.error };
}

async function publish(cameraId: string, secret: string, ms: number): Promise<void> {
  const camera = await Camera.create({ whipUrl: `${svc.url}/whip/${cameraId}`, token: await svc.publishToken(cameraId, secret), width: 320, height: 180, kbps: 300, fps: 30 });
  await sleep(ms);
  await camera.close();
}

async function drained(): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = (await (await svc.api('/api/recorder')).json()) as { upload: { queued: number }; spoolBytes: number; cameras: { recording: boolean }[] };
    // Sessions stopped too: a stopping session's last segment may not be on the spool yet.
    if (!status.cameras.some((c) => c.recording) && status.upload.queued === 0 && status.spoolBytes === 0) return;
    if (Date.now() > deadline) throw new Error(`uploads did not finish: ${JSON.stringify(status)}`);
    await sleep(250);
  }
}

/** Fetches a window the way a player does and writes each continuity as one fMP4 file. */
async function fetchWindow(w: Window): Promise<string[]> {
  const base = new URL(w.url, svc.url);
  const playlist = await (await fetch(base)).text();
  assert.ok(playlist.startsWith('#EXTM3U'), playlist.slice(0, 200));
  const files: string[] = [];
  let parts: Buffer[] = [];
  let map = '';
  const flush = async () => {
    if (parts.length === 0) return;
    const file = path.join(tmp, `window-${files.length}-${Date.now()}.mp4`);
    await fs.writeFile(file, Buffer.concat(parts));
    files.push(file);
    parts = [];
  };
  for (const line of playlist.split('\n')) {
    if (line === '#EXT-X-DISCONTINUITY') {
      await flush();
      map = '';
    }
    const m = /^#EXT-X-MAP:URI="(.+)"$/.exec(line);
    const uri = m ? m[1]! : line && !line.startsWith('#') ? line : undefined;
    if (!uri) continue;
    if (m && uri === map) continue;
    if (m) map = uri;
    const res = await fetch(new URL(uri, base));
    assert.is(res.status, 200, `${uri}: ${await res.clone().text()}`);
    parts.push(Buffer.from(await res.arrayBuffer()));
  }
  await flush();
  return files;
}

test.before(async () => {
  svc = await startService({ env: { MIMAMORI_SEGMENT_SECONDS: '4' } });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-play-'));
  cam = await svc.createCamera('Lobby');
  other = await svc.createCamera('Back door');
  a0 = Date.now();
  await publish(cam.id, cam.secret, 9000);
  a1 = Date.now();
  await sleep(4000);
  b0 = Date.now();
  await publish(cam.id, cam.secret, 5000);
  await drained();
});
test.after(async () => {
  await svc?.stop();
  await fs.rm(tmp, { recursive: true, force: true });
});

test('the timeline has both recordings, the gap between them with its reason, and the events', async () => {
  const t = await json<{ spans: { fromMs: number; toMs: number }[]; gaps: { fromMs: number; toMs: number; reason: string }[]; events: { kind: string; atMs: number }[]; liveEdgeMs: number }>(
    await svc.api(`/api/cameras/${cam.id}/timeline?from=${a0 - 60_000}&to=${Date.now() + 60_000}`),
  );
  assert.is(t.spans.length, 2, JSON.stringify(t.spans));
  assert.ok(Math.abs(t.spans[0]!.toMs - a1) < 1500, 'the first span ends where the camera dropped');
  assert.ok(Math.abs(t.spans[1]!.fromMs - b0) < 1500, 'the second starts where it came back');
  const gap = t.gaps.find((g) => g.reason === 'camera-offline');
  assert.ok(gap, JSON.stringify(t.gaps));
  assert.is(gap!.fromMs, t.spans[0]!.toMs);
  assert.is(gap!.toMs, t.spans[1]!.fromMs);
  assert.equal(t.events.map((e) => e.kind), ['camera-offline', 'camera-online']);
  assert.is(t.liveEdgeMs, t.spans[1]!.toMs);
});

test('a playback window plays through the gap: playlist, init and fragments decode; the gap is reported', async () => {
  const at = a0 + 2500;
  const w = await startPlayback(cam.id, at);
  assert.ok(w.startMs <= at && at - w.startMs < 2500, `starts at the keyframe before the asked time (${at - w.startMs} ms before)`);
  assert.not.ok(w.gap, 'the asked time is recorded');
  assert.not.ok(w.live);
  assert.is(w.gaps.length, 1, 'the gap inside the window is listed');
  assert.is(w.gaps[0]!.reason, 'camera-offline');
  assert.ok(w.entries.length > 5);
  for (let i = 1; i < w.entries.length; i++) {
    const prev = w.entries[i - 1]!;
    assert.ok(Math.abs(w.entries[i]!.mediaS - (prev.mediaS + prev.durS)) < 0.002, 'media time runs on without the gap');
  }
  const files = await fetchWindow(w);
  assert.is(files.length, 2, 'two continuities: before and after the gap');
  let frames = 0;
  for (const file of files) {
    assert.is(await decodeErrors(file), '', 'ffmpeg decodes what a player gets');
    const probe = await ffprobe(file);
    const video = probe.streams.find((s) => s.codec_type === 'video')!;
    assert.is(video.width, 320);
    frames += Number(video.nb_read_frames);
  }
  const durS = w.entries.reduce((n, e) => n + e.durS, 0);
  assert.ok(Math.abs(frames / 30 - durS) < 0.5, `${frames} frames for ${durS.toFixed(2)} s of entries`);
});

test('a time in the gap starts at the next recording and says where the gap is', async () => {
  const w = await startPlayback(cam.id, a1 + 2000);
  assert.ok(w.gap, 'the gap is reported');
  assert.is(w.gap!.reason, 'camera-offline');
  assert.ok(w.gap!.fromMs <= a1 + 2000 && w.gap!.toMs > a1 + 2000);
  assert.is(w.startMs, w.gap!.toMs, 'playback starts where the recording resumes');
  const after = await svc.api(`/api/cameras/${cam.id}/playback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ at: Date.now() + 3_600_000 }) });
  const e = await errorOf(after);
  assert.is(e.status, 404);
  assert.is(e.code, 'no_recording');
  assert.match(e.message, /latest recording ends/);
});

test('a preview is one decodable frame of the keyframe at or before the asked time', async () => {
  const w = await startPlayback(cam.id, a0 + 3000);
  const base = new URL(w.url, svc.url);
  const res = await fetch(new URL(`preview.mp4?at=${a0 + 3000}`, base));
  assert.is(res.status, 200, await res.clone().text());
  assert.ok(Number(res.headers.get('x-preview-at')) <= a0 + 3000);
  const file = path.join(tmp, 'preview.mp4');
  await fs.writeFile(file, Buffer.from(await res.arrayBuffer()));
  const probe = await ffprobe(file);
  assert.is(probe.streams.length, 1, 'video only');
  assert.is(probe.streams[0]!.nb_read_frames, '1');
  assert.is(await decodeErrors(file), '');
  const inGap = await fetch(new URL(`preview.mp4?at=${a1 + 2000}`, base));
  assert.is((await errorOf(inGap)).code, 'no_recording');
});

test('a clip downloads as a progressive MP4 of the asked length that decodes; an export job does the same', async () => {
  const w = await startPlayback(cam.id, a0 + 2000);
  const from = a0 + 2345;
  const to = from + 4000;
  const res = await fetch(new URL(`clip.mp4?from=${from}&to=${to}&name=lobby`, new URL(w.url, svc.url)));
  assert.is(res.status, 200, await res.clone().text());
  assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="lobby.mp4"/);
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.is(bytes.length, Number(res.headers.get('content-length')));
  const file = path.join(tmp, 'clip.mp4');
  await fs.writeFile(file, bytes);
  assert.is(await decodeErrors(file), '');
  const probe = await ffprobe(file);
  assert.ok(Math.abs(Number(probe.format.duration) - 4) <= 1 / 30 + 0.01, `duration ${probe.format.duration} s for 4 s asked`);
  // faststart: moov before mdat.
  assert.ok(bytes.indexOf('moov') < bytes.indexOf('mdat'), 'moov comes before mdat');

  const created = await json<{ export: { id: string; status: string } }>(
    await svc.api(`/api/cameras/${cam.id}/exports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: a0 + 1000, to: b0 + 3000, name: 'across the gap' }) }),
    202,
  );
  let job: { status: string; progress: number; downloadUrl?: string; gaps?: { reason: string }[]; bytes?: number; durationMs?: number };
  const deadline = Date.now() + 60_000;
  for (;;) {
    job = (await json<{ export: typeof job }>(await svc.api(`/api/exports/${created.export.id}`))).export;
    if (job.status === 'done' || job.status === 'failed') break;
    assert.ok(Date.now() < deadline, 'export finishes');
    await sleep(200);
  }
  assert.is(job.status, 'done', JSON.stringify(job));
  assert.is(job.gaps?.[0]?.reason, 'camera-offline', 'the gap inside the export is listed');
  const download = await fetch(new URL(job.downloadUrl!, svc.url));
  assert.is(download.status, 200, await download.clone().text());
  const exported = path.join(tmp, 'export.mp4');
  await fs.writeFile(exported, Buffer.from(await download.arrayBuffer()));
  assert.is(await decodeErrors(exported), '');
  const p = await ffprobe(exported);
  const expectedS = (b0 + 3000 - (a0 + 1000)) / 1000;
  assert.ok(Math.abs(Number(p.format.duration) - expectedS) < 0.1, `export lasts ${p.format.duration} s: the wall-clock length ${expectedS} s, the gap held`);
  // Exports survive retention: they are not under recordings/; deleting removes them.
  const del = await svc.api(`/api/exports/${created.export.id}`, { method: 'DELETE' });
  assert.is(del.status, 204);
  assert.is((await fetch(new URL(job.downloadUrl!, svc.url))).status, 404);
});

test('mimamori export writes the same exact-range clip from the command line, and refuses an empty range clearly', async () => {
  const out = path.join(tmp, 'cli.mp4');
  const env = { ...process.env, MIMAMORI_DATA_DIR: svc.dataDir };
  const args = (from: number, to: number) => ['--import', 'tsx', path.join(ROOT, 'bin/mimamori.ts'), 'export', '--camera', cam.id, '--from', new Date(from).toISOString(), '--to', String(to), '--out', out];
  const { stderr } = await run(process.execPath, args(a0 + 1500, a0 + 4500), { cwd: ROOT, env });
  assert.match(stderr, /cli\.mp4: .* \+ 3\.000 s/);
  assert.is(await decodeErrors(out), '');
  const probe = await ffprobe(out);
  assert.ok(Math.abs(Number(probe.format.duration) - 3) <= 1 / 30 + 0.01, `duration ${probe.format.duration}`);
  const empty = await run(process.execPath, args(a0 - 600_000, a0 - 300_000), { cwd: ROOT, env }).then(
    () => ({ code: 0, stderr: '' }),
    (e: { code: number; stderr: string }) => e,
  );
  assert.is(empty.code, 2);
  assert.match(empty.stderr, /nothing was recorded between/);
});

test('share links: password, wrong password audited, range enforced, revocation and expiry give clear errors', async () => {
  const from = a0 + 1000;
  const to = a0 + 6000;
  const created = await json<{ share: { id: string; url: string } }>(
    await svc.api('/api/shares', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ cameraId: cam.id, kind: 'clip', from, to, expiresInHours: 24, password: 'correct horse' }) }),
    201,
  );
  const id = created.share.id;
  assert.match(created.share.url, new RegExp(`/share.html#${id}$`));
  const info = await json<{ needsPassword: boolean; kind: string }>(await fetch(`${svc.url}/api/shares/${id}`));
  assert.ok(info.needsPassword);
  const open = (password?: string) => fetch(`${svc.url}/api/shares/${id}/open`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(password === undefined ? {} : { password }) });
  const wrong = await errorOf(await open('wrong one'));
  assert.is(wrong.status, 401);
  assert.is(wrong.code, 'wrong_password');
  const ok = await json<{ token: string; camera: { id: string }; fromMs: number; toMs: number }>(await open('correct horse'));
  assert.is(ok.camera.id, cam.id);
  // The share token plays inside its range only, and nothing else.
  const w = await startPlayback(cam.id, a0 - 60_000, ok.token);
  assert.ok(w.startMs >= from - 2500 && w.endMs <= to + 1500, `window ${w.startMs - a0}..${w.endMs - a0} inside the share ${from - a0}..${to - a0}`);
  assert.is((await errorOf(await svc.api(`/api/cameras/${other.id}/timeline?from=${a0}&to=${Date.now()}`, { headers: { authorization: `Bearer ${ok.token}` } }))).status, 404);
  // Its timeline is the clip's, whatever range is asked for: nothing recorded around it shows.
  const around = await json<{ from: number; to: number; spans: { fromMs: number; toMs: number }[]; events: { atMs: number }[] }>(
    await svc.api(`/api/cameras/${cam.id}/timeline?from=${a0 - 3_600_000}&to=${Date.now()}`, { headers: { authorization: `Bearer ${ok.token}` } }),
  );
  assert.equal([around.from, around.to], [from, to]);
  assert.ok(around.spans.length > 0 && around.spans.every((sp) => sp.fromMs >= from && sp.toMs <= to), JSON.stringify(around.spans));
  assert.ok(around.events.every((e) => e.atMs >= from && e.atMs <= to), JSON.stringify(around.events));
  assert.is((await errorOf(await svc.api('/api/cameras', { headers: { authorization: `Bearer ${ok.token}` } }))).status, 403);
  const nopass = await fetch(`${svc.url}/api/shares/${id}/open`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.is((await errorOf(nopass)).code, 'wrong_password', 'no password given');
  // Every use is audited: the refusals with their reason and the caller's address, the success.
  type AuditRow = { actor: string; action: string; outcome: string; ip?: string; cameraId?: string; detail?: { code?: string } };
  const auditRows = async (query: string) => ((await json<{ rows: AuditRow[] }>(await svc.api(`/api/audit?${query}`))).rows);
  // Newest first: reversed to the order they happened in. A search sees every row appended before it.
  const uses = (await auditRows(`actor=s:${id}&action=share.open`)).reverse();
  assert.equal(uses.map((a) => [a.outcome, a.detail?.code]), [['refused', 'wrong_password'], ['ok', undefined], ['refused', 'wrong_password']]);
  assert.ok(uses.every((a) => a.cameraId === cam.id && a.ip && /127\.0\.0\.1/.test(a.ip)), JSON.stringify(uses));
  assert.ok((await auditRows(`actor=s:${id}&action=playback.start`)).length > 0, 'playback through the share is audited');
  // Revoked: a clear 410, and the old share token stops too.
  assert.is((await svc.api(`/api/shares/${id}`, { method: 'DELETE' })).status, 204);
  const revoked = await errorOf(await open('correct horse'));
  assert.is(revoked.status, 410);
  assert.is(revoked.code, 'share_revoked');
  assert.is((await errorOf(await fetch(new URL(w.url, svc.url)))).code, 'share_revoked', 'the playlist of the revoked share stops');
  // Expiry.
  const short = await json<{ share: { id: string } }>(
    await svc.api('/api/shares', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ cameraId: cam.id, kind: 'live', expiresInSeconds: 5 }) }),
    201,
  );
  const liveToken = await json<{ token: string; kind: string }>(await fetch(`${svc.url}/api/shares/${short.share.id}/open`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
  assert.is(liveToken.kind, 'live');
  await sleep(5500);
  const expired = await errorOf(await fetch(`${svc.url}/api/shares/${short.share.id}/open`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
  assert.is(expired.status, 410);
  assert.is(expired.code, 'share_expired');
  // Too many wrong passwords.
  const guarded = await json<{ share: { id: string } }>(
    await svc.api('/api/shares', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ cameraId: cam.id, kind: 'live', expiresInHours: 1, password: 'secret-pass' }) }),
    201,
  );
  const tries: number[] = [];
  for (let i = 0; i < 6; i++) tries.push((await fetch(`${svc.url}/api/shares/${guarded.share.id}/open`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: `guess-${i}` }) })).status);
  assert.equal(tries, [401, 401, 401, 401, 401, 429]);
});

test('kiosk tokens: a session for a valid device token; rotation and deletion revoke it', async () => {
  const created = await json<{ kiosk: { id: string }; token: string; url: string }>(
    await svc.api('/api/kiosks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Control room', cameraIds: [cam.id], layout: 4, rotateSeconds: 30 }) }),
    201,
  );
  assert.match(created.url, /^\/kiosk\.html#token=/);
  const session = (token: string) => fetch(`${svc.url}/api/kiosk/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  const s = await json<{ accessToken: string; kiosk: { cameras: { id: string; name: string }[]; layout: number } }>(await session(created.token));
  assert.equal(s.kiosk.cameras, [{ id: cam.id, name: 'Lobby' }]);
  // View-only: the kiosk token is no user token.
  assert.is((await svc.api('/api/cameras', { headers: { authorization: `Bearer ${s.accessToken}` } })).status, 403);
  assert.is((await svc.api(`/api/cameras/${cam.id}/timeline?from=${a0}&to=${Date.now()}`, { headers: { authorization: `Bearer ${s.accessToken}` } })).status, 404);
  const rotated = await json<{ token: string }>(await svc.api(`/api/kiosks/${created.kiosk.id}/token`, { method: 'POST' }));
  assert.is((await errorOf(await session(created.token))).code, 'kiosk_revoked', 'the old device token stops');
  await json(await session(rotated.token));
  assert.is((await svc.api(`/api/kiosks/${created.kiosk.id}`, { method: 'DELETE' })).status, 204);
  const gone = await errorOf(await session(rotated.token));
  assert.is(gone.status, 401);
  assert.is(gone.code, 'kiosk_revoked');
});

test('unauthorised and malformed playback, export and share requests get clear errors', async () => {
  const viewer = await svc.createUser('guest', 'visiting-pass-7731');
  const viewerToken = await svc.login('guest', 'visiting-pass-7731');
  const asViewer = { authorization: `Bearer ${viewerToken}` };
  // A camera the caller may not see does not exist for them.
  assert.is((await errorOf(await svc.api(`/api/cameras/${cam.id}/timeline?from=${a0}&to=${Date.now()}`, { headers: asViewer }))).status, 404);
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    svc.api(`/api/cameras/${cam.id}/playback`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  assert.is((await errorOf(await post({ at: a0 }, asViewer))).status, 404);
  await svc.grant(viewer.id, cam.id);
  const w = await json<Window>(await post({ at: a0 + 1000 }, asViewer));
  // Ranges: inverted, huge, garbage.
  assert.is((await errorOf(await svc.api(`/api/cameras/${cam.id}/timeline?from=${a0}&to=${a0 - 1}`))).code, 'invalid_request');
  assert.is((await errorOf(await svc.api(`/api/cameras/${cam.id}/timeline?from=0&to=${Date.now()}`))).code, 'invalid_request');
  assert.is((await errorOf(await post({ at: 'yesterday' }))).code, 'invalid_request');
  assert.is((await errorOf(await post({ at: a0 + 5000, to: a0 }))).code, 'invalid_request');
  const exp = (body: unknown) => svc.api(`/api/cameras/${cam.id}/exports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.is((await errorOf(await exp({ from: a0, to: a0 + 30 * 86_400_000 }))).code, 'invalid_request');
  assert.is((await errorOf(await exp({ from: a0 + 10, to: a0 }))).code, 'invalid_request');
  // Path tricks and foreign tokens on the playback URLs.
  const base = new URL(w.url, svc.url).href;
  for (const trick of ['s/..%2F..%2Fdb.json/init.mp4', 's/20261127T000000000Z_abc_0/..%2Finit.mp4', 's/20261127T000000000Z_abc_0/1-2.m4s%00', '..%2F..%2Fapi%2Fcameras']) {
    const res = await fetch(`${base.replace(/index\.m3u8$/, '')}${trick}`);
    assert.ok(res.status === 400 || res.status === 404, `${trick}: ${res.status}`);
  }
  const missing = await fetch(`${base.replace(/index\.m3u8$/, '')}s/20200101T000000000Z_abc_0/init.mp4`);
  assert.is((await errorOf(missing)).code, 'out_of_window');
  const forged = w.token.slice(0, -4) + (w.token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  assert.is((await errorOf(await fetch(`${svc.url}/api/play/${forged}/index.m3u8`))).code, 'unauthorized');
  assert.is((await errorOf(await fetch(`${svc.url}/api/play/${viewerToken}/index.m3u8`))).code, 'unauthorized', 'a user token is no playback token');
  assert.is((await errorOf(await svc.api('/api/cameras', { headers: { authorization: `Bearer ${w.token}` } }))).status, 403, 'a playback token is no user token');
  // Revoking the grant stops the viewer's playback token at once.
  assert.is((await svc.api(`/api/cameras/${cam.id}/grants/${viewer.id}`, { method: 'DELETE' })).status, 204);
  assert.is((await fetch(new URL(w.url, svc.url))).status, 404);
  // Shares: the viewer cannot share a camera they may not see; malformed bodies.
  const share = (body: unknown, headers: Record<string, string> = {}) => svc.api('/api/shares', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  assert.is((await errorOf(await share({ cameraId: cam.id, kind: 'live', expiresInHours: 1 }, asViewer))).status, 404);
  assert.is((await errorOf(await share({ cameraId: cam.id, kind: 'clip', expiresInHours: 1 }))).code, 'invalid_request');
  assert.is((await errorOf(await share({ cameraId: cam.id, kind: 'live', expiresInHours: 10_000 }))).code, 'invalid_request');
  assert.is((await errorOf(await share({ cameraId: '../etc', kind: 'live', expiresInHours: 1 }))).code, 'invalid_request');
  assert.is((await errorOf(await fetch(`${svc.url}/api/shares/AAAAAAAAAAAAAAAAAAAAAA`))).code, 'share_not_found');
  assert.is((await errorOf(await fetch(`${svc.url}/api/shares/..%2F..%2Fx`))).status, 400);
  assert.is((await errorOf(await fetch(`${svc.url}/api/kiosk/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'x'.repeat(43) }) }))).code, 'kiosk_revoked');
});

test('a playback URL and a download link end with the session they were made in (sign-out)', async () => {
  const token = await svc.login(svc.adminUsername, svc.adminPassword);
  const w = await startPlayback(cam.id, a0 + 500, token);
  assert.is((await fetch(new URL(w.url, svc.url))).status, 200, 'the playlist plays while the session lasts');
  assert.is((await svc.api('/api/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' })).status, 204);
  const after = await errorOf(await fetch(new URL(w.url, svc.url)));
  assert.equal([after.status, after.code], [401, 'session_revoked'], 'signed out: its playback URL stops too');
});

test('the live edge: while a camera records, playback at "now" reads the spool and the playlist keeps growing', async () => {
  const camera = await Camera.create({ whipUrl: `${svc.url}/whip/${other.id}`, token: await svc.publishToken(other.id, other.secret), width: 320, height: 180, kbps: 300, fps: 30 });
  try {
    await sleep(3500);
    const w = await startPlayback(other.id, Date.now());
    assert.ok(w.live, 'the window reaches the live edge');
    assert.ok(Date.now() - w.endMs < 3500, `${Date.now() - w.endMs} ms behind real time`);
    const first = await (await fetch(new URL(w.url, svc.url))).text();
    assert.not.match(first, /#EXT-X-ENDLIST/);
    assert.match(first, /#EXT-X-PLAYLIST-TYPE:EVENT/);
    await sleep(3000);
    const later = await (await fetch(new URL(w.url, svc.url))).text();
    assert.ok(later.startsWith(first.slice(0, first.lastIndexOf('#EXT-X-PROGRAM-DATE-TIME'))), 'entries are only appended');
    assert.ok(later.split('#EXTINF').length > first.split('#EXTINF').length, 'new entries appear');
    const files = await fetchWindow(w);
    for (const file of files) assert.is(await decodeErrors(file), '');
  } finally {
    await camera.close();
  }
});

test.run();
