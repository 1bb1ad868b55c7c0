// The API contract: /api/openapi.json describes every route the service serves (the service will
// not start with an undocumented one), every documented route is served, and real answers (the
// errors every route gives to strangers and to unknown ids, and the successes of a scripted walk)
// validate against the documented schemas. The documentation page opens in Chromium without
// network. (Every other test's answers are checked too: the harness sets MIMAMORI_CHECK_ANSWERS.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Ajv2020 from 'ajv/dist/2020.js';
import { ERROR_CODES } from '../signaling/wire/index.ts';
import { launchChromium } from './chromium.ts';
import { startService, type Service } from './harness.ts';

type Json = Record<string, unknown>;
interface Operation {
  summary?: string;
  tags?: string[];
  security?: Json[];
  'x-access'?: string;
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, { schema?: Json }> }>;
}
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

let svc: Service;
let doc: { openapi: string; paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>; components: { schemas: Json; securitySchemes: Json } };
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
const validators = new Map<Json, ReturnType<typeof ajv.compile>>();

test.before(async () => {
  svc = await startService();
  const res = await fetch(`${svc.url}/api/openapi.json`);
  assert.is(res.status, 200);
  doc = (await res.json()) as typeof doc;
  ajv.addSchema({ $id: 'openapi', components: doc.components }, 'openapi');
});
test.after(async () => {
  await svc?.stop();
});

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method]! })));

/** The documented schema of `status`'s JSON answer, compiled once (refs resolve into the document). */
function validatorOf(schema: Json) {
  let v = validators.get(schema);
  if (!v) validators.set(schema, (v = ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/')))));
  return v;
}

/** Checks one real answer against the operation's documentation; returns a complaint or undefined. */
async function checkAnswer(where: string, op: Operation, res: Response): Promise<string | undefined> {
  const documented = op.responses[String(res.status)];
  const text = await res.text();
  if (!documented) return `${where}: answered ${res.status} (${text.slice(0, 200)}), which is not documented (${Object.keys(op.responses).join(', ')})`;
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('application/json')) return undefined;
  const schema = documented.content?.['application/json']?.schema;
  if (!schema) return `${where}: answered JSON with ${res.status}, documented without a JSON schema`;
  const v = validatorOf(schema);
  const body = JSON.parse(text) as unknown;
  if (!v(body)) return `${where}: ${res.status} ${text.slice(0, 300)} does not validate: ${ajv.errorsText(v.errors)}`;
  return undefined;
}

const fill = (path: string) => path.replace(/\{[^}]+\}/g, 'x1');

test('the document is OpenAPI 3.1, and every operation has a summary, its access, security and documented answers', () => {
  assert.is(doc.openapi, '3.1.0');
  const ops = operations();
  assert.ok(ops.length >= 90, `${ops.length} operations documented`);
  for (const name of ['user', 'refreshCookie', 'camera', 'kiosk', 'share', 'playback']) assert.ok(doc.components.securitySchemes[name], `security scheme ${name}`);
  const complaints: string[] = [];
  const ids = new Map<string, string>();
  for (const { path, method, op } of ops) {
    const where = `${method.toUpperCase()} ${path}`;
    const id = (op as { operationId?: string }).operationId;
    if (!id) complaints.push(`${where}: no operationId`);
    else if (ids.has(id)) complaints.push(`${where}: operationId ${id} is ${ids.get(id)}'s too`);
    else ids.set(id, where);
    if (!op.summary) complaints.push(`${where}: no summary`);
    if (!op.tags?.length) complaints.push(`${where}: no tag`);
    if (!op['x-access']) complaints.push(`${where}: who may call it is not said`);
    if (!Array.isArray(op.security)) complaints.push(`${where}: no security`);
    // A route may only refuse (the append-only audit log's writes, trickle ICE): then that is its answer.
    if (!Object.keys(op.responses).some((s) => s !== '500')) complaints.push(`${where}: no answer documented`);
    for (const [status, response] of Object.entries(op.responses)) {
      const schema = response.content?.['application/json']?.schema;
      if (schema) validatorOf(schema); // compiles, or throws
      if (Number(status) >= 400 && schema?.allOf) {
        const codes = ((schema?.allOf as Json[] | undefined)?.[1] as { properties: { error: { properties: { code: { enum: string[] } } } } } | undefined)?.properties.error.properties.code.enum ?? [];
        if (!codes.length) complaints.push(`${where}: ${status} lists no error code`);
        for (const code of codes) {
          if (!(code in ERROR_CODES)) complaints.push(`${where}: ${code} (${status}) is not in the error table`);
        }
      }
    }
    for (const name of [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])) {
      if (!op.parameters?.some((p) => p.in === 'path' && p.name === name)) complaints.push(`${where}: path parameter ${name} undocumented`);
    }
  }
  assert.equal(complaints, []);
});

/**
 * fetch, sent again once when the pooled connection it went out on was closed under it (the
 * service's keep-alive timeout ending just as the request left, seen under load): the walk's calls
 * change nothing (ids that do not exist, empty bodies), so a second try is harmless. A service that
 * really stopped answering fails the second try too, with the cause named.
 */
async function fetchOnce(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    const code = ((err as { cause?: { code?: string } }).cause?.code) ?? '';
    if (!/^(ECONNRESET|EPIPE|UND_ERR_SOCKET|UND_ERR_CLOSED)$/.test(code)) throw err;
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
    } catch (again) {
      throw new Error(`${init.method} ${url}: ${(again as Error).message} (${String((again as { cause?: unknown }).cause)}), after ${code} on the first try`);
    }
  }
}

/** Calls every documented route once: as `token` (or nobody), with ids that do not exist and an empty body. */
async function walk(token: string | undefined, skip: ReadonlySet<string> = new Set()): Promise<{ complaints: string[]; statuses: Map<string, number> }> {
  const complaints: string[] = [];
  const statuses = new Map<string, number>();
  for (const { path, method, op } of operations()) {
    const where = `${method.toUpperCase()} ${path}`;
    if (skip.has(where)) continue;
    const hasBody = method !== 'get' && method !== 'delete';
    const sdp = op.requestBody && !op.requestBody.content['application/json'];
    const res = await fetchOnce(svc.url + fill(path), {
      method: method.toUpperCase(),
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(hasBody ? { 'content-type': sdp ? 'application/sdp' : 'application/json' } : {}),
      },
      ...(hasBody ? { body: sdp ? 'v=0\r\n' : '{}' } : {}),
      signal: AbortSignal.timeout(10_000),
      redirect: 'manual',
    });
    statuses.set(where, res.status);
    if (res.status === 404 && (res.headers.get('content-type') ?? '').startsWith('application/json')) {
      const body = (await res.clone().json()) as { error?: { message?: string } };
      if (body.error?.message?.startsWith('no API route')) complaints.push(`${where}: documented, but not served`);
    }
    // A stream (server-sent events) is checked by its headers only.
    if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      await res.body?.cancel();
      if (!op.responses[String(res.status)]) complaints.push(`${where}: answered ${res.status}, not documented`);
      continue;
    }
    const complaint = await checkAnswer(where, op, res);
    if (complaint) complaints.push(complaint);
  }
  return { complaints, statuses };
}

test('every documented route is served, and what it answers a stranger is documented', async () => {
  const { complaints, statuses } = await walk(undefined);
  assert.equal(complaints, []);
  // Routes that need credentials refuse a stranger.
  for (const { path, method, op } of operations()) {
    const needs = op.security!.length > 0 && !op.security!.some((s) => Object.keys(s).length === 0);
    const status = statuses.get(`${method.toUpperCase()} ${path}`)!;
    if (needs && !path.startsWith('/api/play/') && !path.startsWith('/metrics')) assert.ok([400, 401, 403, 404, 405, 415].includes(status), `${method} ${path} answered ${status} to a stranger`);
  }
});

test('what every route answers an administrator for ids that do not exist is documented', async () => {
  const token = await svc.login(svc.adminUsername, svc.adminPassword);
  // These act on the caller's own session or keys whatever the body says.
  const skip = new Set(['POST /api/auth/logout', 'POST /api/auth/logout-all', 'POST /api/recorder/master-key/rotate']);
  const { complaints } = await walk(token, skip);
  assert.equal(complaints, []);
});

test('a scripted walk: each success answer validates against its documented schema', async () => {
  const token = svc.adminToken;
  const complaints: string[] = [];
  const call = async (method: string, path: string, body?: unknown): Promise<Json> => {
    const res = await fetch(svc.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const documentedPath = Object.keys(doc.paths).find((p) => new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path.split('?')[0]!) && doc.paths[p]![method.toLowerCase() as 'get']);
    assert.ok(documentedPath, `${method} ${path} is documented`);
    const op = doc.paths[documentedPath!]![method.toLowerCase() as 'get']!;
    const text = await res.clone().text();
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${text}`);
    const complaint = await checkAnswer(`${method} ${documentedPath}`, op, res);
    if (complaint) complaints.push(complaint);
    const type = res.headers.get('content-type') ?? '';
    return type.startsWith('application/json') && text ? (JSON.parse(text) as Json) : {};
  };
  const now = Date.now();
  const { camera } = (await call('POST', '/api/cameras', { name: '正門 Front gate' })) as { camera: { id: string } };
  await call('GET', '/api/cameras');
  await call('GET', `/api/cameras/${camera.id}`);
  await call('PATCH', `/api/cameras/${camera.id}`, { name: '正門', recording: { retentionDays: 30 } });
  await call('GET', `/api/cameras/${camera.id}/timeline?from=${now - 3_600_000}&to=${now}`);
  await call('GET', `/api/cameras/${camera.id}/recordings?from=${now - 3_600_000}&to=${now}`);
  await call('GET', `/api/cameras/${camera.id}/holds`);
  const { user } = (await call('POST', '/api/users', { username: 'sato', password: 'openapi-Password-31415', role: 'viewer' })) as { user: { id: string } };
  await call('GET', '/api/users');
  await call('PATCH', `/api/users/${user.id}`, { role: 'operator' });
  await call('PUT', `/api/cameras/${camera.id}/grants/${user.id}`, { rights: ['live', 'playback'] });
  await call('GET', '/api/grants');
  const { group } = (await call('POST', '/api/groups', { name: '本社 1F', cameraIds: [] })) as { group: { id: string } };
  await call('GET', '/api/groups');
  await call('PATCH', `/api/groups/${group.id}`, { cameraIds: [camera.id] });
  await call('GET', '/api/kiosks');
  await call('GET', '/api/shares');
  await call('GET', '/api/announcements');
  await call('GET', '/api/orgs/current');
  await call('GET', '/api/orgs');
  await call('GET', '/api/exports');
  await call('GET', '/api/auth/me');
  await call('GET', '/api/auth/account');
  await call('GET', '/api/me/preferences');
  await call('GET', '/api/sfu');
  await call('GET', '/api/recorder');
  await call('GET', '/api/recorder/alerts');
  await call('GET', '/api/audit?limit=5');
  await call('GET', '/api/audit/verify');
  await call('DELETE', `/api/cameras/${camera.id}/grants/${user.id}`);
  await call('DELETE', `/api/users/${user.id}`);
  await call('DELETE', `/api/cameras/${camera.id}`);
  assert.equal(complaints, []);
});

test('the documentation page opens in Chromium with no network but the service, and lists the routes', async () => {
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    const elsewhere: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(svc.url)) return route.continue();
      elsewhere.push(url);
      return route.abort();
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${svc.url}/api/docs`);
    await page.waitForSelector('.opblock-summary-path', { timeout: 30_000 });
    const paths = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.textContent?.replace(/\u200b/g, '').trim() ?? ''));
    assert.ok(paths.includes('/api/cameras/{id}/timeline'), `listed: ${paths.slice(0, 10).join(', ')}…`);
    assert.is(paths.length, operations().length);
    assert.equal(elsewhere, []);
    assert.equal(errors, []);
  } finally {
    await browser.close();
  }
});

test.run();
