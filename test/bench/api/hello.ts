// The baseline for `npm run bench -- api`: a bare Hono app on the same @hono/node-server request
// listener and node:http server the service uses, in its own process like the service.
// GET / is hello-world; GET /json answers a fixed body the parent sends (the camera list as the
// service returned it), so serialising and sending the same bytes can be told apart from the rest.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';

let json: unknown = {};
process.on('message', (m: { json?: unknown }) => {
  if (m.json !== undefined) json = m.json;
  process.send?.({ ok: true });
});

const app = new Hono().get('/', (c) => c.text('Hello Hono!')).get('/json', (c) => c.json(json as object));
const server = http.createServer(getRequestListener(app.fetch));
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('disconnect', () => process.exit(0));
