// The socket.io half of the contract: /api/openapi.json documents every request method with its
// reply, every notification and event, as valid JSON Schema; and a real session (a viewer, a
// camera's own connection, a WHIP camera going live and away, a grant revoked) gets only messages
// that validate against those documented schemas. (The service also checks its own replies and
// events with MIMAMORI_CHECK_ANSWERS=1: a mismatch there answers `internal` or is not sent.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Ajv2020 from 'ajv/dist/2020.js';
import type { Socket } from 'socket.io-client';
import { Camera } from '../camera/index.ts';
import { eventSchemas, notificationSchema, requestSchema } from '../signaling/protocol.ts';
import { startService, type Service, connectSocket } from './harness.ts';

type Json = Record<string, unknown>;
interface SocketIoIndex {
  requests: Record<string, { request: { $ref: string }; reply: { $ref: string } }>;
  notifications: Record<string, { $ref: string }>;
  events: Record<string, { $ref: string }>;
}

let svc: Service;
let doc: { info: { description: string }; components: { schemas: Record<string, Json> }; 'x-socket-io': SocketIoIndex };
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });

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

const schemaName = (ref: { $ref: string }) => ref.$ref.replace('#/components/schemas/', '');
const validators = new Map<string, ReturnType<typeof ajv.compile>>();
/** The validator of one documented schema, by its components.schemas name (refs resolve in the document). */
function validatorOf(name: string) {
  let v = validators.get(name);
  if (!v) validators.set(name, (v = ajv.getSchema(`openapi#/components/schemas/${name}`)!));
  assert.ok(v, `${name} is documented`);
  return v;
}
/** Fails the test when `message` does not validate against the documented schema `name`. */
function assertDocumented(name: string, message: unknown): void {
  const v = validatorOf(name);
  assert.ok(v(message), `${name}: ${JSON.stringify(message).slice(0, 400)} does not validate: ${ajv.errorsText(v.errors)}`);
}

test('every request method, notification and event is documented, and points at schemas that exist', () => {
  const index = doc['x-socket-io'];
  const methods = requestSchema.options.map((o) => o.shape.method.value);
  assert.equal(Object.keys(index.requests).sort(), [...methods].sort(), 'x-socket-io lists exactly the request methods');
  for (const method of methods) {
    assert.is(schemaName(index.requests[method]!.request), `SocketRequest.${method}`);
    assert.is(schemaName(index.requests[method]!.reply), `SocketReply.${method}`);
  }
  const notifications = notificationSchema.options.map((o) => o.shape.method.value);
  assert.equal(Object.keys(index.notifications).sort(), [...notifications].sort());
  assert.equal(Object.keys(index.events).sort(), Object.keys(eventSchemas).sort());
  const refs = [...Object.values(index.requests).flatMap((r) => [r.request, r.reply]), ...Object.values(index.notifications), ...Object.values(index.events)];
  for (const ref of refs) assert.ok(doc.components.schemas[schemaName(ref)], `${ref.$ref} exists`);
  assert.ok(doc.info.description.includes('socket.io'), 'the document says how to use the socket transport');
});

test('every documented schema is valid JSON Schema 2020-12 and compiles', () => {
  const complaints: string[] = [];
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    if (!ajv.validateSchema(schema)) complaints.push(`${name}: ${ajv.errorsText(ajv.errors)}`);
    else validatorOf(name);
  }
  assert.equal(complaints, []);
});

test('the documented schemas refuse what the protocol does not send', () => {
  // Guards the live test below: validators that pass anything would prove nothing.
  const good = { ok: true, data: { routerRtpCapabilities: {}, iceServers: [{ urls: ['stun:x'] }], live: false } };
  assertDocumented('SocketReply.join', good);
  const wrong = [
    { ok: true, data: { ...good.data, live: 'no' } },
    { ok: true, data: { routerRtpCapabilities: {}, iceServers: [] } },
    { ok: true, data: { ...good.data, extra: 1 } },
    { ok: true },
    { ok: false, error: { code: 'x' } },
  ];
  for (const reply of wrong) assert.not.ok(validatorOf('SocketReply.join')(reply), JSON.stringify(reply));
  assert.not.ok(validatorOf('SocketEvent.notification')({ method: 'cameraLive', data: {} }));
  assert.not.ok(validatorOf('SocketEvent.notification')({ method: 'explode', data: { cameraId: 'cam1' } }));
  assert.not.ok(validatorOf('SocketEvent.denied')({ cameraId: 'cam1', code: 'because', reason: '' }));
});

const connect = (token: string | undefined) => connectSocket(svc.url, token);

/** Sends a request; its reply must validate against the method's documented reply and be ok. */
async function request(socket: Socket, method: string, data: Json): Promise<Json> {
  assertDocumented(`SocketRequest.${method}`, { method, data });
  const reply = (await socket.timeout(5000).emitWithAck('request', { method, data })) as { ok: boolean; data?: Json; error?: unknown };
  assertDocumented(`SocketReply.${method}`, reply);
  assert.ok(reply.ok, `${method}: ${JSON.stringify(reply.error)}`);
  return reply.data!;
}

/** Every 'notification', 'leaving' and 'denied' the socket receives, and what is wrong with each (validated as it arrives). */
function recordEvents(socket: Socket): { name: string; payload: Json; problem: string | undefined }[] {
  const received: { name: string; payload: Json; problem: string | undefined }[] = [];
  for (const name of Object.keys(eventSchemas)) {
    socket.on(name, (payload: Json) => {
      let problem: string | undefined;
      try {
        assertDocumented(`SocketEvent.${name}`, payload);
        if (name === 'notification') assertDocumented(`SocketNotification.${String(payload.method)}`, payload);
      } catch (err) {
        problem = (err as Error).message;
      }
      received.push({ name, payload, problem });
    });
  }
  return received;
}

let events: ReturnType<typeof recordEvents> = [];

/** Waits for what `check` finds; any event received meanwhile that breaks its documented schema fails at once. */
async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const broken = events.find((e) => e.problem);
    if (broken) assert.unreachable(broken.problem);
    const found = check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a real session: replies, notifications and events validate against the documented schemas', async () => {
  const cam = await svc.createCamera('Contract');
  const publishing = await svc.createCamera('Contract publisher');
  const user = await svc.createUser('contract-viewer', 'watching-the-door-7');
  await svc.grant(user.id, cam.id);
  const viewer = await connect(await svc.login('contract-viewer', 'watching-the-door-7'));
  events = recordEvents(viewer);
  // A camera page's own connection: join as the camera and open its send transport.
  const cameraSocket = await connect(await svc.publishToken(publishing.id, publishing.secret));
  let camera: Camera | undefined;
  try {
    const cameraJoin = await request(cameraSocket, 'join', { cameraId: publishing.id, role: 'camera' });
    const send = await request(cameraSocket, 'createTransport', { cameraId: publishing.id, direction: 'send' });
    assert.ok(Array.isArray(send.iceCandidates) && send.iceCandidates.length > 0);
    assert.ok(cameraJoin.routerRtpCapabilities);
    await request(cameraSocket, 'leave', { cameraId: publishing.id });

    const join = await request(viewer, 'join', { cameraId: cam.id, role: 'viewer' });
    assert.is(join.live, false);
    const recv = await request(viewer, 'createTransport', { cameraId: cam.id, direction: 'recv' });
    const rtpCapabilities = join.routerRtpCapabilities as Json;
    const none = await request(viewer, 'consume', { cameraId: cam.id, transportId: recv.id as string, rtpCapabilities });
    assert.equal(none.consumers, [], 'nothing to consume while the camera is offline');
    await request(viewer, 'restartIce', { cameraId: cam.id, transportId: recv.id as string });

    camera = await Camera.create({ whipUrl: `${svc.url}/whip/${cam.id}`, token: await svc.publishToken(cam.id, cam.secret), width: 320, height: 180, kbps: 300, fps: 15 });
    await waitFor('cameraLive notification', () => events.find((e) => e.payload.method === 'cameraLive'));
    await waitFor('newProducers notification', () => events.find((e) => e.payload.method === 'newProducers'));
    const { consumers } = (await request(viewer, 'consume', { cameraId: cam.id, transportId: recv.id as string, rtpCapabilities })) as { consumers: { id: string; kind: string }[] };
    assert.ok(consumers.length >= 1, 'the live camera is consumed');
    for (const consumer of consumers) {
      await request(viewer, 'resumeConsumer', { cameraId: cam.id, consumerId: consumer.id });
      if (consumer.kind === 'video') await request(viewer, 'setPreferredLayers', { cameraId: cam.id, consumerId: consumer.id, spatialLayer: 0 });
    }

    await camera.close();
    camera = undefined;
    await waitFor('cameraOffline notification', () => events.find((e) => e.payload.method === 'cameraOffline'));
    await waitFor('consumerClosed notification', () => events.find((e) => e.payload.method === 'consumerClosed'));

    const denied = svc.api(`/api/cameras/${cam.id}/grants/${user.id}`, { method: 'DELETE' });
    assert.is((await denied).status, 204);
    const event = await waitFor('denied event', () => events.find((e) => e.name === 'denied'));
    assert.equal([event.payload.cameraId, event.payload.code], [cam.id, 'grant_revoked']);
    assert.ok(events.length >= 5, `${events.length} events validated`);
    assert.equal(events.filter((e) => e.problem).map((e) => e.problem), []);
  } finally {
    await camera?.close();
    viewer.close();
    cameraSocket.close();
  }
  assert.not.ok(/contract violation|does not match its documented schema/.test(svc.output()), 'the service saw no contract violation of its own');
});

test.run();
