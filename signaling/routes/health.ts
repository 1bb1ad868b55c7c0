import crypto from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { AppEnv, Deps } from '../context.ts';
import { forbidden, unauthorized } from '../errors.ts';
import { bearerToken, clientIp } from '../middleware.ts';
import { Alive, READINESS_CHECKS, Readiness } from '../wire/answers/index.ts';
import { describe, reply, type Same } from '../wire/index.ts';
import type { CheckName, Monitoring } from '../monitoring.ts';

/** Headers a reverse proxy adds: such a request is not from this machine even if it arrives on loopback. */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const;

/**
 * For load balancers and Prometheus: /healthz (the process answers), /readyz (it can do its job)
 * without auth and without internal detail; /metrics with a bearer token or from loopback only.
 */
const tag = 'Health';
// The answers module cannot import the monitoring: its documented checks must be the monitoring's.
true satisfies Same<(typeof READINESS_CHECKS)[number], CheckName>;

export function healthRoutes(deps: Pick<Deps, 'config'>, monitoring: Monitoring) {
  return new Hono<AppEnv>()
    .get('/healthz', describe({ summary: 'Is the process alive', tag, auth: ['none'], access: 'anyone (load balancers)', answer: { description: 'The process answers', schema: Alive, example: { ok: true } } }), (c) => reply(c, Alive, { ok: true }))
    .get('/readyz', describe({
      summary: 'Can this node do its job',
      description: 'Ready when the metadata store, the object storage, the mediasoup workers and the spool disk all work. A load balancer sends cameras and viewers only to ready nodes.',
      tag, auth: ['none'], access: 'anyone (load balancers)',
      answer: [
        { description: 'Ready: every check passed (or only degraded ones failed)', schema: Readiness },
        { status: 503, description: 'Not ready: `failed` names the checks that failed, each check says why', schema: Readiness },
      ],
    }), async (c) => {
      const readiness = await monitoring.readiness();
      c.header('Cache-Control', 'no-store');
      if (readiness.ready) return reply(c, Readiness, readiness);
      const failed = Object.entries(readiness.checks)
        .filter(([name, check]) => !check.ok && !readiness.degraded?.includes(name as never))
        .map(([name]) => name as CheckName);
      return reply(c, Readiness, { ...readiness, failed }, 503);
    })
    .get('/metrics', describe({
      summary: 'Prometheus metrics',
      tag, auth: ['none'],
      access: 'with MIMAMORI_METRICS_TOKEN set, callers sending it as a bearer token; otherwise callers on this machine only',
      answer: { description: 'Metrics in the Prometheus text format', mediaType: 'text/plain' },
      errors: ['unauthorized', 'forbidden'],
    }), async (c) => {
      allowMetrics(c, deps.config.monitoring.metricsToken, deps.config.internalUrl !== undefined);
      c.header('Cache-Control', 'no-store');
      return c.body(await monitoring.metrics(), 200, { 'Content-Type': monitoring.contentType });
    });
}

/** With MIMAMORI_METRICS_TOKEN: that bearer token from anywhere. Without: direct loopback callers only. */
function allowMetrics(c: Context<AppEnv>, token: string | undefined, clustered: boolean): void {
  if (token !== undefined) {
    const given = bearerToken(c.req.header('authorization'));
    if (given === undefined || !sameSecret(given, token)) throw unauthorized('send "Authorization: Bearer <MIMAMORI_METRICS_TOKEN>"');
    return;
  }
  // A node of a cluster sits behind a load balancer, which may well run on this machine: every
  // caller could look local, so only the token opens /metrics there.
  if (clustered) throw forbidden('this node is part of a cluster: set MIMAMORI_METRICS_TOKEN and scrape /metrics with it');
  const proxied = PROXY_HEADERS.some((h) => c.req.header(h) !== undefined);
  if (proxied || !isLoopback(clientIp(c))) {
    throw forbidden('metrics are served to this machine only; set MIMAMORI_METRICS_TOKEN to scrape them from elsewhere');
  }
}

function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4 === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** Constant-time comparison of two strings of any length. */
function sameSecret(a: string, b: string): boolean {
  const hash = (s: string) => crypto.createHash('sha256').update(s).digest();
  return crypto.timingSafeEqual(hash(a), hash(b));
}
