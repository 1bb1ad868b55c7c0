// The socket.io half of the contract, for the OpenAPI document: every request, reply, notification
// and event schema of signaling/protocol.ts as JSON Schema in components.schemas, the `x-socket-io`
// extension that ties each request method to its reply, and how to use the transport. Built from
// the same zod schemas the server checks against and the browser parses with.
import { eventSchemas, notificationSchema, replyEnvelopeOf, replySchemas, requestSchema } from '../protocol.ts';
import { jsonSchema } from './jsonSchema.ts';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

export const SOCKET_IO_DESCRIPTION = [
  '## Live signaling (socket.io)',
  'Live view and publishing are negotiated over socket.io (v4) on this service\'s origin, path `/socket.io`, preferably with `transports: [\'websocket\']` (a load balancer without stickiness cannot follow a long-polling upgrade).',
  'Connect with `io(origin, { auth: { token } })`: a signed-in user\'s access token or an API key to watch, a camera\'s publish token to publish, a kiosk or opened share token to watch what it allows (not a playback token). A refused token ends the attempt with `connect_error`, whose message is the JSON `{ "code", "message" }` of the REST errors.',
  'Each request is `socket.emit(\'request\', { method, data }, ack)` (schemas `SocketRequest.<method>`); the ack receives `{ "ok": true, "data" }` or `{ "ok": false, "error": { "code", "message" } }` (schemas `SocketReply.<method>`). The server pushes the events `notification` (`SocketNotification.<method>`), `leaving` and `denied` (`SocketEvent.<name>`).',
  'The top-level `x-socket-io` extension maps every request method to its request and reply schemas and lists the notifications and events.',
].join('\n\n');

/** components.schemas entries of the socket protocol, and the `x-socket-io` index of them. */
export function socketIoContract(): { schemas: Record<string, unknown>; extension: Record<string, unknown> } {
  const schemas: Record<string, unknown> = {};
  const requests: Record<string, { request: object; reply: object }> = {};
  for (const option of requestSchema.options) {
    const method = option.shape.method.value;
    schemas[`SocketRequest.${method}`] = jsonSchema(option, 'input');
    schemas[`SocketReply.${method}`] = { description: `The ack of \`${method}\`: its data, or the error that refused it.`, ...jsonSchema(replyEnvelopeOf(replySchemas[method]), 'output') };
    requests[method] = { request: ref(`SocketRequest.${method}`), reply: ref(`SocketReply.${method}`) };
  }
  const notifications: Record<string, object> = {};
  for (const option of notificationSchema.options) {
    const method = option.shape.method.value;
    schemas[`SocketNotification.${method}`] = jsonSchema(option, 'output');
    notifications[method] = ref(`SocketNotification.${method}`);
  }
  const events: Record<string, object> = {};
  for (const name of Object.keys(eventSchemas) as (keyof typeof eventSchemas)[]) {
    // 'notification' is the union of the notifications above: documented by reference to them.
    schemas[`SocketEvent.${name}`] = name === 'notification' ? { description: 'One of the notifications, by `method`.', oneOf: Object.values(notifications) } : jsonSchema(eventSchemas[name], 'output');
    events[name] = ref(`SocketEvent.${name}`);
  }
  return {
    schemas,
    extension: {
      path: '/socket.io',
      auth: '{ token }: a user access token, API key, camera publish token, kiosk or share token',
      // socket.emit('request', <requests[method].request>, ack): the ack receives <requests[method].reply>.
      requestEvent: 'request',
      requests,
      // Pushed as socket.io event 'notification'.
      notifications,
      events,
    },
  };
}
