// What browsers are told to allow on Mimamori's pages. The pages run only their own bundled
// scripts (no inline script, no eval: zod parses without generating code, see client/noEval.ts);
// video comes from this service (HLS segments, previews) or from blob: URLs (hls.js feeds the
// video element through Media Source, and runs its transmuxer in a blob: worker); the live view
// talks to this service over fetch and WebSocket. Nothing may frame a page (a guard's screen is
// not to be shown inside another site), and HSTS keeps browsers on TLS once they have used it.
import type { Context } from 'hono';

/** A Host header a policy may name (host or [v6], optional port): anything else is left out. */
const HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

let last: { host: string | undefined; policy: string } | undefined;

/** The Content-Security-Policy of the web app's pages (and of every other answer: it costs nothing there). */
export function pagePolicy(host: string | undefined): string {
  if (last && last.host === host) return last.policy; // nearly every request names the same host
  // 'self' covers ws: and wss: of the same host in current browsers; they are named as well.
  const sockets = host && HOST.test(host) ? ` ws://${host} wss://${host}` : '';
  const policy = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "worker-src 'self' blob:",
    `connect-src 'self'${sockets}`,
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  last = { host, policy };
  return policy;
}

/**
 * The documentation page's: Swagger UI sets style attributes from its scripts (React), so styles
 * may be inline there, and only there; its scripts are still only its bundled files.
 */
export const DOCS_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** A year; browsers keep using TLS for the host that long after they last saw it. */
export const STRICT_TRANSPORT_SECURITY = 'max-age=31536000';

/** The request came over TLS: to this service, or to the load balancer in front of it. */
export const secureRequest = (c: Context): boolean => c.req.header('x-forwarded-proto') === 'https' || c.req.url.startsWith('https:');
