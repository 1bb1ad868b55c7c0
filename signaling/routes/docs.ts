// The API's own documentation: the OpenAPI document built from the routes, and a Swagger UI page
// served from the installed package (no CDN: it works on a machine without internet).
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Hono, type Context } from 'hono';
import { RELEASE } from '../../config/index.ts';
import { DOCS_POLICY } from '../browserPolicy.ts';
import type { AppEnv } from '../context.ts';
import { describe, openApiDocument, type ServedRoute } from '../wire/index.ts';

const SWAGGER_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const ASSETS = {
  'swagger-ui.css': { file: 'swagger-ui.css', type: 'text/css; charset=utf-8' },
  'swagger-ui-bundle.js': { file: 'swagger-ui-bundle.js', type: 'text/javascript; charset=utf-8' },
} as const;

const INFO = {
  title: 'Mimamori API',
  version: RELEASE,
  description: [
    'Cloud video recording for cameras: live view over WebRTC, encrypted recordings on S3, playback, clips and exports.',
    'Errors are `{ "error": { "code", "message" } }`: branch on the code; the message says what was wrong and what to do.',
    'Times are milliseconds since the epoch (UTC) in JSON; query parameters also take ISO 8601 with a zone.',
    'Every route checks the caller\'s grant: a camera the caller may not see answers 404, a right the caller lacks 403.',
  ].join('\n\n'),
};

/** Routes the document does not cover: the web app's static files. */
const ignore = (method: string, p: string) => p === '/' || p === '/*' || (method === 'GET' && !p.startsWith('/api') && !p.startsWith('/whip') && !p.startsWith('/whep') && !['/healthz', '/readyz', '/metrics'].includes(p));

/**
 * The document of the app whose route table `served` reads, as JSON. Built once; it throws when a
 * served route has no `describe()`, so the app is built with `apiDocument` called once all routes
 * are in: a route cannot be served undocumented (the service does not start).
 */
export function apiDocument(served: () => readonly ServedRoute[]): () => string {
  let document: string | undefined;
  return () => (document ??= JSON.stringify(openApiDocument(served(), INFO, { ignore })));
}

export function docsRoutes(document: () => string) {
  const assets = new Map<string, Buffer>();
  const tag = 'Documentation';
  const asset = async (c: Context, name: keyof typeof ASSETS) => {
    const { file, type } = ASSETS[name];
    let bytes = assets.get(file);
    if (!bytes) assets.set(file, (bytes = await fs.readFile(path.join(SWAGGER_DIR, file))));
    return c.body(new Uint8Array(bytes), 200, { 'Content-Type': type, 'Cache-Control': 'public, max-age=86400' });
  };
  return new Hono<AppEnv>()
    .get('/openapi.json', describe({ summary: 'This API as an OpenAPI 3.1 document', tag, auth: ['none'], access: 'anyone', answer: { description: 'The OpenAPI document', schema: undefined } }), (c) => {
      c.header('Cache-Control', 'no-cache');
      return c.body(document(), 200, { 'Content-Type': 'application/json; charset=utf-8' });
    })
    .get('/docs', describe({ summary: 'The API documentation page', tag, auth: ['none'], access: 'anyone', answer: { description: 'An HTML page (Swagger UI) reading /api/openapi.json', mediaType: 'text/html' } }), (c) => {
      c.header('Content-Security-Policy', DOCS_POLICY);
      return c.html(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">' +
          '<title>Mimamori API</title><link rel="stylesheet" href="/api/docs/swagger-ui.css"></head>' +
          '<body><div id="api"></div><script src="/api/docs/swagger-ui-bundle.js"></script><script src="/api/docs/docs.js"></script></body></html>',
      );
    })
    .get('/docs/docs.js', describe({ summary: 'The documentation page\'s script', tag, auth: ['none'], access: 'anyone', answer: { description: 'JavaScript', mediaType: 'text/javascript' } }), (c) =>
      c.body("window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#api', deepLinking: true, docExpansion: 'list', tryItOutEnabled: false });\n", 200, {
        'Content-Type': 'text/javascript; charset=utf-8',
        'Cache-Control': 'no-cache',
      }),
    )
    .get('/docs/swagger-ui.css', describe({ summary: 'The documentation page\'s style sheet (Swagger UI, bundled)', tag, auth: ['none'], access: 'anyone', answer: { description: 'CSS', mediaType: 'text/css' } }), (c) => asset(c, 'swagger-ui.css'))
    .get('/docs/swagger-ui-bundle.js', describe({ summary: 'The documentation page\'s viewer (Swagger UI, bundled)', tag, auth: ['none'], access: 'anyone', answer: { description: 'JavaScript', mediaType: 'text/javascript' } }), (c) => asset(c, 'swagger-ui-bundle.js'));
}
