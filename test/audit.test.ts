// The audit log: the AuditLog files on their own (hash chain, tampering, retention with a moved
// clock, torn tails, reopening), then the real service — rows for sign-ins, share links, exports
// and live views, search filters and paging, CSV/JSONL export, 405 for every changing method,
// 403 for a viewer, old rows carried over from db.json, retention and a restart.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Socket } from 'socket.io-client';
import { FileAuditLog as AuditLog, importLegacyAudit, type AuditRow } from '../signaling/audit/index.ts';
import { createLogger } from '../signaling/log.ts';
import { startService, type Service, connectSocket } from './harness.ts';

const DAY = 86_400_000;
const log = createLogger('silent');
const tmpDirs: string[] = [];
async function tmpDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-audit-'));
  tmpDirs.push(dir);
  return dir;
}

test.after(async () => {
  for (const d of tmpDirs) await fs.rm(d, { recursive: true, force: true });
});

// --- AuditLog on its own ----------------------------------------------------------------------

test('AuditLog: rows chain across day files; verify names the changed, removed or cut-off row', async () => {
  const dir = await tmpDir();
  let now = Date.parse('2026-03-01T23:59:59.000Z');
  const audit = await AuditLog.open({ dir, retentionDays: 400, log, now: () => now });
  const a = audit.append({ actor: 'u:1', action: 'auth.login', outcome: 'ok', ip: '10.0.0.1', detail: { password: 'hunter2', passwordSet: true, token: 'abc' } });
  const b = audit.append({ actor: 'u:1', action: 'live.view', outcome: 'ok', cameraId: 'cam1' });
  now += 2000; // past midnight UTC: a new day file
  const c = await audit.append({ actor: 's:x', action: 'share.open', outcome: 'refused', cameraId: 'cam1', detail: { code: 'wrong_password' } });
  const [ra, rb] = await Promise.all([a, b]);
  assert.equal([ra.seq, rb.seq, c.seq], [1, 2, 3]);
  assert.is(rb.prev, ra.hash);
  assert.is(c.prev, rb.hash);
  assert.equal(ra.detail, { password: '[redacted]', passwordSet: true, token: '[redacted]' }, 'secret-looking values never reach the file');
  assert.equal((await fs.readdir(dir)).sort(), ['2026-03-01.jsonl', '2026-03-02.jsonl']);
  assert.equal(await audit.verify(), { ok: true, files: 2, rows: 3, firstSeq: 1, lastSeq: 3 });

  // Newest first, filters, paging with the cursor.
  const all = await audit.search({});
  assert.equal(all.rows.map((r) => r.seq), [3, 2, 1]);
  assert.equal((await audit.search({ action: 'auth.' })).rows.map((r) => r.seq), [1]);
  assert.equal((await audit.search({ cameraId: 'cam1', outcome: 'refused' })).rows.map((r) => r.seq), [3]);
  assert.equal((await audit.search({ text: 'WRONG_pass' })).rows.map((r) => r.seq), [3]);
  assert.equal((await audit.search({ from: Date.parse('2026-03-02T00:00:00Z') })).rows.map((r) => r.seq), [3]);
  assert.equal((await audit.search({ to: Date.parse('2026-03-02T00:00:00Z') })).rows.map((r) => r.seq), [2, 1]);
  const p1 = await audit.search({ limit: 2 });
  assert.equal(p1.rows.map((r) => r.seq), [3, 2]);
  assert.ok(p1.nextCursor);
  const p2 = await audit.search({ limit: 2, cursor: p1.nextCursor });
  assert.equal(p2.rows.map((r) => r.seq), [1]);
  assert.is(p2.nextCursor, undefined);
  await audit.close();

  // Reopened: the chain continues where it stopped.
  const again = await AuditLog.open({ dir, retentionDays: 400, log, now: () => now });
  const d = await again.append({ actor: 'system', action: 'settings.change', outcome: 'ok' });
  assert.equal([d.seq, d.prev], [4, c.hash]);

  // A changed row (same length, other actor) is named by file and line.
  const day2 = path.join(dir, '2026-03-02.jsonl');
  const original = await fs.readFile(day2, 'utf8');
  await fs.writeFile(day2, original.replace('"actor":"s:x"', '"actor":"s:y"'));
  const changed = await again.verify();
  assert.equal(changed.ok ? undefined : [changed.file, changed.line, changed.seq], ['2026-03-02.jsonl', 1, 3]);
  assert.match(changed.ok ? '' : changed.reason, /changed after it was written/);
  // A removed row breaks the chain at the row after it.
  await fs.writeFile(day2, original.split('\n').slice(1).join('\n'));
  const removed = await again.verify();
  assert.equal(removed.ok ? undefined : [removed.file, removed.line, removed.seq], ['2026-03-02.jsonl', 1, 4]);
  assert.match(removed.ok ? '' : removed.reason, /chain is broken/);
  // The oldest rows removed by hand (not by retention) are noticed too.
  await fs.writeFile(day2, original);
  const day1 = path.join(dir, '2026-03-01.jsonl');
  const first = await fs.readFile(day1, 'utf8');
  await fs.rm(day1);
  const headless = await again.verify();
  assert.match(headless.ok ? '' : headless.reason, /oldest rows were removed other than by retention/);
  await fs.writeFile(day1, first);
  assert.ok((await again.verify()).ok);
  await again.close();

  // A torn last line (crash mid-write) is cut off at open and the cut is itself a row.
  await fs.appendFile(day2, '{"seq":5,"at":"2026-03-02T00:0');
  const recovered = await AuditLog.open({ dir, retentionDays: 400, log, now: () => now });
  const rows = (await recovered.search({ action: 'audit.recovered' })).rows;
  assert.is(rows.length, 1);
  assert.equal(rows[0]!.detail, { file: '2026-03-02.jsonl', droppedBytes: 30 });
  assert.ok((await recovered.verify()).ok);
  await recovered.close();
});

test('AuditLog: retention removes whole day files past it, audits the removal, and the chain still verifies', async () => {
  const dir = await tmpDir();
  let now = Date.parse('2026-01-01T12:00:00Z');
  const audit = await AuditLog.open({ dir, retentionDays: 10, log, now: () => now });
  for (let day = 0; day < 15; day++) {
    await audit.append({ actor: 'u:1', action: 'playback.start', outcome: 'ok', cameraId: 'cam1', detail: { day } });
    now += DAY;
  }
  assert.is((await fs.readdir(dir)).length, 15);
  const removed = await audit.applyRetention();
  // now = Jan 16 12:00; the cutoff is Jan 6: Jan 1–5 go.
  assert.equal(removed, ['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04', '2026-01-05']);
  const [row] = (await audit.search({ action: 'audit.retention' })).rows;
  assert.equal(row?.detail?.removedDays, removed);
  assert.is(row?.actor, 'system');
  assert.equal(await audit.verify(), { ok: true, files: 11, rows: 11, firstSeq: 6, lastSeq: 16 });
  assert.equal(await audit.applyRetention(), [], 'nothing more to remove');
  await audit.close();
});

test('AuditLog: rows from db.json are carried over once, with their own time', async () => {
  const dataDir = await tmpDir();
  const legacy = [
    { at: '2025-12-01T01:02:03.000Z', actor: 's:abc', action: 'share.open', cameraId: 'cam1', ip: '127.0.0.1', outcome: 'refused', detail: { code: 'wrong_password' } },
    { at: '2025-12-01T01:02:04.000Z', actor: 's:abc', action: 'share.open', cameraId: 'cam1', outcome: 'ok' },
  ];
  await fs.writeFile(path.join(dataDir, 'db.json'), JSON.stringify({ version: 1, audit: legacy }));
  const audit = await AuditLog.open({ dir: path.join(dataDir, 'audit'), retentionDays: 400, log });
  assert.is(await importLegacyAudit(audit, dataDir, log), 2);
  assert.is(await importLegacyAudit(audit, dataDir, log), 0, 'only once');
  const rows = (await audit.search({ action: 'share.open' })).rows;
  assert.equal(rows.map((r) => [r.at, r.outcome, r.detail?.importedFrom]), [
    ['2025-12-01T01:02:04.000Z', 'ok', 'db.json'],
    ['2025-12-01T01:02:03.000Z', 'refused', 'db.json'],
  ]);
  assert.is((await audit.search({ action: 'audit.migrate' })).rows.length, 1);
  assert.ok((await audit.verify()).ok);
  await audit.close();
});

// --- The service --------------------------------------------------------------------------------

let svc: Service;

interface Page {
  rows: AuditRow[];
  nextCursor?: string;
}
async function search(query: string, token?: string): Promise<Page> {
  const res = await svc.api(`/api/audit?${query}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const text = await res.text();
  assert.is(res.status, 200, text);
  return JSON.parse(text) as Page;
}
const connect = (token: string | undefined) => connectSocket(svc.url, token);

/** Minimal CSV reader: quoted cells, doubled quotes, CRLF rows. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(cell), (cell = '');
    else if (ch === '\r') continue;
    else if (ch === '\n') row.push(cell), rows.push(row), (row = []), (cell = '');
    else cell += ch;
  }
  return rows;
}

test('service: audited actions, search, export, 405 for changes, 403 for viewers, retention and restart', async () => {
  svc = await startService();
  try {
    const cam = await svc.createCamera('Entrance 入口');
    const other = await svc.createCamera('Back door');
    const viewer = await svc.createUser('viewer1', 'viewer-password-1');
    await svc.grant(viewer.id, cam.id);
    const viewerToken = await svc.login('viewer1', 'viewer-password-1');
    const wrong = await fetch(`${svc.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'viewer1', password: 'not-the-password' }) });
    assert.is(wrong.status, 401);

    // Share link: created, opened with a wrong and the right password.
    const created = await svc.api('/api/shares', { method: 'POST', body: JSON.stringify({ cameraId: cam.id, kind: 'live', expiresInHours: 1, password: 'correct horse' }) });
    assert.is(created.status, 201, await created.clone().text());
    const shareId = ((await created.json()) as { share: { id: string } }).share.id;
    const open = (password: string) => fetch(`${svc.url}/api/shares/${shareId}/open`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password }) });
    assert.is((await open('wrong')).status, 401);
    assert.is((await open('correct horse')).status, 200);

    // An export (queued even with nothing recorded: the job reports that itself).
    const exp = await svc.api(`/api/cameras/${cam.id}/exports`, { method: 'POST', body: JSON.stringify({ from: Date.now() - 60_000, to: Date.now() - 30_000 }) });
    assert.ok(exp.status === 201 || exp.status === 202, await exp.clone().text());

    // Live view over socket.io: allowed on the granted camera, refused on the other.
    const socket = await connect(viewerToken);
    try {
      const ok = (await socket.timeout(5000).emitWithAck('request', { method: 'join', data: { cameraId: cam.id, role: 'viewer' } })) as { ok: boolean };
      assert.ok(ok.ok, JSON.stringify(ok));
      const refused = (await socket.timeout(5000).emitWithAck('request', { method: 'join', data: { cameraId: other.id, role: 'viewer' } })) as { ok: boolean };
      assert.not.ok(refused.ok);
    } finally {
      socket.close();
    }
    // And over WHEP (the camera is not live: the session is refused after authorization, not audited as a view).
    const whepNoToken = await fetch(`${svc.url}/whep/${cam.id}`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\n' });
    assert.is(whepNoToken.status, 401);

    // --- Rows for each action, with who, what, which camera, when and from where.
    const logins = await search(`action=auth.login&actor=u:${viewer.id}`);
    assert.ok(logins.rows.some((r) => r.action === 'auth.login' && r.outcome === 'ok' && r.ip && r.requestId), JSON.stringify(logins.rows));
    assert.ok((await search('action=auth.login_failed')).rows.some((r) => r.detail?.username === 'viewer1'));
    const opens = (await search(`action=share.open&actor=s:${shareId}`)).rows;
    assert.equal(opens.map((r) => [r.outcome, r.detail?.code]), [['ok', undefined], ['refused', 'wrong_password']], 'newest first');
    assert.ok(opens.every((r) => r.cameraId === cam.id && /127\.0\.0\.1/.test(r.ip ?? '') && r.userAgent !== undefined));
    assert.is((await search(`action=share.create&cameraId=${cam.id}`)).rows.length, 1);
    assert.is((await search(`action=export.create&cameraId=${cam.id}`)).rows.length, 1);
    const views = (await search('action=live.view')).rows;
    assert.equal(views.map((r) => [r.actor, r.cameraId, r.outcome]).sort(), [
      ['anonymous', cam.id, 'refused'],
      [`u:${viewer.id}`, cam.id, 'ok'],
      [`u:${viewer.id}`, other.id, 'refused'],
    ].sort());
    assert.ok(views.every((r) => r.ip && /127\.0\.0\.1/.test(r.ip)), JSON.stringify(views));
    assert.match(views[0]!.at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'stored in UTC');

    // --- Filters: action prefix, outcome, text, time range, paging.
    const shareRows = (await search('action=share.')).rows;
    assert.ok(shareRows.length >= 3 && shareRows.every((r) => r.action.startsWith('share.')));
    assert.ok((await search('outcome=refused')).rows.every((r) => r.outcome === 'refused'));
    assert.ok((await search('text=VIEWER1')).rows.length >= 1);
    assert.is((await search(`from=${Date.now() + 60_000}`)).rows.length, 0);
    const page1 = await search('limit=2');
    assert.is(page1.rows.length, 2);
    assert.ok(page1.rows[0]!.seq > page1.rows[1]!.seq, 'newest first');
    const page2 = await search(`limit=2&cursor=${encodeURIComponent(page1.nextCursor!)}`);
    assert.ok(page2.rows[0]!.seq < page1.rows[1]!.seq);

    // Clear 400s.
    for (const [q, field] of [['outcome=maybe', 'outcome'], ['cursor=nope', 'cursor'], ['from=yesterday', 'from'], ['colour=red', 'colour'], ['from=2000&to=1000', 'to must be after from']] as const) {
      const res = await svc.api(`/api/audit?${q}`);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.is(res.status, 400, q);
      assert.ok(body.error.message.includes(field), `${q}: ${body.error.message}`);
    }

    // --- A viewer may not read it.
    const denied = await svc.api('/api/audit', { headers: { authorization: `Bearer ${viewerToken}` } });
    assert.is(denied.status, 403);
    assert.is((await svc.api('/api/audit/export', { headers: { authorization: `Bearer ${viewerToken}` } })).status, 403);
    assert.is((await fetch(`${svc.url}/api/audit`)).status, 401);

    // --- CSV export: BOM, header, the rows above; the first column in the asked zone.
    const csvRes = await svc.api(`/api/audit/export?format=csv&tz=Asia/Tokyo&cameraId=${cam.id}`);
    assert.is(csvRes.status, 200);
    assert.match(csvRes.headers.get('content-type') ?? '', /text\/csv/);
    assert.match(csvRes.headers.get('content-disposition') ?? '', /attachment; filename="mimamori-audit-\d{8}-\d{4}\.csv"/);
    const bytes = new Uint8Array(await csvRes.arrayBuffer());
    assert.equal([...bytes.slice(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM for Excel');
    const table = parseCsv(new TextDecoder().decode(bytes.slice(3)));
    const header = table[0]!;
    assert.is(header[0], 'time (Asia/Tokyo)');
    const col = (name: string) => header.indexOf(name);
    const body = table.slice(1);
    assert.ok(body.length >= 6, `${body.length} rows`);
    assert.ok(body.every((r) => r[col('camera_id')] === cam.id));
    assert.ok(body.some((r) => r[col('action')] === 'share.open' && r[col('outcome')] === 'refused' && (r[col('detail')] ?? '').includes('wrong_password')));
    const someRow = body[0]!;
    const utc = Date.parse(someRow[col('time_utc')]!);
    const local = Date.parse(`${someRow[0]!.replace(' ', 'T')}Z`);
    assert.is(local - utc, 9 * 3600_000 - (utc % 1000), 'the first column is Tokyo time');
    assert.ok(Date.parse(body[0]![col('time_utc')]!) <= Date.parse(body[body.length - 1]![col('time_utc')]!), 'oldest first');

    // JSONL export: one row per line, chained.
    const jsonl = await (await svc.api('/api/audit/export?format=jsonl&action=share.')).text();
    const lines = jsonl.trim().split('\n').map((l) => JSON.parse(l) as AuditRow);
    assert.ok(lines.length >= 3 && lines.every((r) => r.action.startsWith('share.') && r.hash.length === 64));

    // Reading and exporting are audited.
    const reads = (await search('action=audit.export&limit=1000')).rows;
    assert.ok(reads.some((r) => r.detail?.format === 'csv') && reads.some((r) => r.detail?.format === 'json'));

    // --- An organisation's admin reads that organisation's rows only.
    const orgRes = await svc.api('/api/orgs', { method: 'POST', body: JSON.stringify({ name: 'Tenant B', admin: { username: 'tenant-admin', password: 'lantern-orchard-5521' } }) });
    assert.is(orgRes.status, 201, await orgRes.clone().text());
    const orgId = ((await orgRes.json()) as { org: { id: string } }).org.id;
    const tenantToken = await svc.login('tenant-admin', 'lantern-orchard-5521');
    const tenantCam = await svc.api('/api/cameras', { method: 'POST', headers: { authorization: `Bearer ${tenantToken}` }, body: JSON.stringify({ name: 'Tenant camera' }) });
    assert.is(tenantCam.status, 201, await tenantCam.clone().text());
    const tenantRows = (await search('limit=1000', tenantToken)).rows;
    assert.ok(tenantRows.length >= 2, JSON.stringify(tenantRows));
    assert.ok(tenantRows.every((r) => r.orgId === orgId), 'only its own organisation');
    assert.ok(tenantRows.some((r) => r.action === 'auth.login') && tenantRows.some((r) => r.action === 'camera.create'));
    assert.is((await svc.api(`/api/audit?orgId=${logins.rows[0]!.orgId}`, { headers: { authorization: `Bearer ${tenantToken}` } })).status, 403);
    assert.is((await svc.api('/api/audit/verify', { headers: { authorization: `Bearer ${tenantToken}` } })).status, 403);
    assert.ok((await search(`orgId=${orgId}`)).rows.length >= tenantRows.length, 'the operator sees every organisation');

    // --- Nothing changes it through the API.
    const before = (await (await svc.api('/api/audit/verify')).json()) as { ok: boolean; rows: number };
    assert.ok(before.ok, JSON.stringify(before));
    const snapshot = await fs.readFile(path.join(svc.dataDir, 'audit', `${new Date().toISOString().slice(0, 10)}.jsonl`), 'utf8');
    let attempts = 0;
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      for (const p of ['/api/audit', '/api/audit/', '/api/audit/export', `/api/audit/${logins.rows[0]!.seq}`, '/api/audit/verify']) {
        const res = await svc.api(p, { method, body: method === 'DELETE' ? undefined : JSON.stringify({ actor: 'someone else', outcome: 'ok' }) });
        const err = (await res.json()) as { error: { code: string; message: string } };
        assert.is(res.status, 405, `${method} ${p}`);
        assert.is(res.headers.get('allow'), 'GET');
        assert.is(err.error.code, 'audit_immutable');
        assert.match(err.error.message, /cannot be changed/);
        attempts++;
      }
    }
    const after = (await (await svc.api('/api/audit/verify')).json()) as { ok: boolean; rows: number };
    assert.ok(after.ok);
    const nowText = await fs.readFile(path.join(svc.dataDir, 'audit', `${new Date().toISOString().slice(0, 10)}.jsonl`), 'utf8');
    assert.ok(nowText.startsWith(snapshot), 'every earlier row is still there, byte for byte');
    assert.is((await search(`action=audit.change_refused&limit=1000`)).rows.length, attempts, 'each attempt is recorded, nothing else changed');

    // --- Tampering with a file on disk is detected.
    const todayFile = path.join(svc.dataDir, 'audit', `${new Date().toISOString().slice(0, 10)}.jsonl`);
    // verify answers only once every row so far is on disk: no write of ours races the service's.
    assert.ok(((await (await svc.api('/api/audit/verify')).json()) as { ok: boolean }).ok);
    const text = await fs.readFile(todayFile, 'utf8');
    await fs.writeFile(todayFile, text.replace(`"actor":"s:${shareId}"`, `"actor":"s:${'x'.repeat(shareId.length)}"`));
    const tampered = (await (await svc.api('/api/audit/verify')).json()) as { ok: boolean; line?: number; reason?: string };
    assert.not.ok(tampered.ok);
    assert.match(tampered.reason ?? '', /changed after it was written/);
    await fs.writeFile(todayFile, await fs.readFile(todayFile, 'utf8').then((t) => t.replace(`"actor":"s:${'x'.repeat(shareId.length)}"`, `"actor":"s:${shareId}"`)));
    assert.ok(((await (await svc.api('/api/audit/verify')).json()) as { ok: boolean }).ok, 'restored');

    // --- Retention and restart: an old day file (the log's own retention, default 400 days) goes,
    // the removal is audited, and every row of today survives the restart.
    const old = new Date(Date.now() - 401 * DAY).toISOString().slice(0, 10);
    await fs.writeFile(path.join(svc.dataDir, 'audit', `${old}.jsonl`), '{"seq":0}\n');
    const lastSeq = (await search('limit=1')).rows[0]!.seq;
    await svc.restart();
    assert.not.ok((await fs.readdir(path.join(svc.dataDir, 'audit'))).includes(`${old}.jsonl`));
    const retention = (await search('action=audit.retention')).rows;
    assert.equal(retention[0]?.detail?.removedDays, [old]);
    assert.ok(retention[0]!.seq > lastSeq, 'the chain continues after the restart');
    assert.is((await search(`action=share.open&actor=s:${shareId}`)).rows.length, 2, 'rows survive the restart');
    const verified = (await (await svc.api('/api/audit/verify')).json()) as { ok: boolean };
    assert.ok(verified.ok, JSON.stringify(verified));
  } catch (err) {
    console.error(svc.output().slice(-4000));
    throw err;
  } finally {
    await svc.stop();
  }
});

test.run();
