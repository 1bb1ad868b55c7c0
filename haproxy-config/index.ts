// HAProxy in front of several Mimamori nodes: the configuration, as a pure function of the nodes
// and a few choices (`mimamori haproxy-config` prints it; test/haproxy.ts runs it). Written for
// HAProxy 2.6, Debian 12's package.
//
// Only HTTP(S) passes through HAProxy: the API, the pages, socket.io signaling, WHIP/WHEP offers
// and playback. Media (ICE over UDP/TCP, TURN) goes straight to the node a camera or viewer was
// placed on, at the node's MIMAMORI_ANNOUNCED_ADDRESS and media ports.
//
// Choices, and why:
// - TLS passthrough by default (TCP mode): the nodes already serve HTTPS, keys stay on them, and
//   HAProxy needs no certificate. `terminate` (HTTP mode) when the certificate should live on
//   HAProxy, or to see requests (logs per request, X-Forwarded-For/Proto to the nodes).
// - `balance leastconn`: most of what a browser holds open is a socket.io websocket that lives
//   as long as the page (a kiosk: days). Round robin spreads connections *opened*; after a node
//   restarts it would take only its share of the new ones while the others keep the old. Least
//   connections spreads what is open now. HAProxy round-robins among servers of equal load, so
//   short requests still alternate.
// - No stickiness: socket.io clients use the websocket transport only (one connection, no
//   long-polling requests that must return to the same node); any node answers any API request.
// - Health: GET /readyz, 200 = ready, 503 = not (a dead worker, S3 unreachable, disk full).
//   In passthrough mode the check is still HTTP, over its own TLS connection (`check-ssl`;
//   `verify none`: the nodes' certificates are often self-signed, and the check sends nothing secret).
// - Timeouts: short ones for HTTP (a silent client or node is cut), `timeout tunnel` for
//   websockets, which socket.io keeps quiet for 25 s between pings.
import net from 'node:net';

export interface HaproxyNode {
  /** HAProxy's server name (logs, stats page). */
  name: string;
  host: string;
  port: number;
}

export interface Address {
  host: string;
  port: number;
}

export type TlsChoice =
  /** TCP mode: the nodes terminate TLS (their MIMAMORI_TLS certificates). */
  | { mode: 'passthrough' }
  /**
   * HTTP mode: HAProxy terminates TLS with `certFile` (PEM: certificate chain and key) and talks
   * to the nodes in plain HTTP (MIMAMORI_TLS=off on a private network), or over HTTPS with
   * `nodeTls` (their certificates not verified).
   */
  | { mode: 'terminate'; certFile: string; nodeTls?: boolean };

export interface Timeouts {
  connectMs: number;
  /** A client or node that says nothing for this long (HTTP requests, TLS handshakes) is cut. */
  clientMs: number;
  serverMs: number;
  /** An HTTP request must arrive whole within this (HTTP mode). */
  httpRequestMs: number;
  /** An idle keep-alive connection is closed after this (HTTP mode). */
  keepAliveMs: number;
  /** A websocket (or, in TCP mode, any established connection) may stay quiet this long. */
  tunnelMs: number;
  /** A readiness check gets this long to answer. */
  checkMs: number;
}

export interface HealthCheck {
  intervalMs: number;
  /** Failed checks in a row before a node is taken out. */
  fall: number;
  /** Passed checks in a row before it is put back. */
  rise: number;
}

export interface HaproxyOptions {
  nodes: readonly HaproxyNode[];
  listen: Address;
  tls: TlsChoice;
  balance: 'leastconn' | 'roundrobin';
  /** The statistics page: loopback only. Omit for none. */
  stats?: Address;
  timeouts: Timeouts;
  check: HealthCheck;
  maxconn: number;
  /**
   * `service`: Debian's haproxy.service (chroot, runs as the haproxy user, its admin socket,
   * logs to syslog). `foreground`: a process run by hand or by a test, logging to stdout.
   */
  run: 'service' | 'foreground';
}

export const DEFAULT_TIMEOUTS: Timeouts = {
  // HAProxy and the nodes share a network: a connection not made in a second goes to another node.
  connectMs: 1_000,
  clientMs: 30_000,
  // Playback and clip downloads stream steadily; a minute of silence from a node means trouble.
  serverMs: 60_000,
  httpRequestMs: 10_000,
  keepAliveMs: 10_000,
  tunnelMs: 3_600_000,
  // /readyz gives S3 2 s.
  checkMs: 3_000,
};

/** A node that stops being ready is out within about fall × interval, and back after rise × interval. */
export const DEFAULT_CHECK: HealthCheck = { intervalMs: 2_000, fall: 3, rise: 2 };

export const DEFAULTS = {
  listen: { host: '0.0.0.0', port: 443 },
  stats: { host: '127.0.0.1', port: 8404 },
  balance: 'leastconn',
  maxconn: 20_000,
  run: 'service',
} as const;

/** An operator's input that cannot make a configuration; the message says what to give instead. */
export class HaproxyConfigError extends Error {
  override name = 'HaproxyConfigError';
}

const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** `HOST:PORT`, `[IPV6]:PORT`; `what` names it in errors. */
export function parseAddress(text: string, what: string): Address {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || host === undefined) throw new HaproxyConfigError(`${what} "${text}": give HOST:PORT (an IPv6 address in brackets: [2001:db8::1]:8443)`);
  if (m[1] !== undefined ? net.isIPv6(host) === false : !(net.isIPv4(host) || DNS_NAME.test(host))) {
    throw new HaproxyConfigError(`${what} "${text}": ${host} is not an IP address or host name`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new HaproxyConfigError(`${what} "${text}": the port must be 1–65535`);
  return { host, port };
}

/** `NAME=HOST:PORT` (a --node option, or a line of a nodes file). */
export function parseNode(spec: string): HaproxyNode {
  const eq = spec.indexOf('=');
  const name = spec.slice(0, Math.max(eq, 0)).trim();
  if (eq < 0 || !NODE_NAME.test(name)) {
    throw new HaproxyConfigError(`node "${spec}": give NAME=HOST:PORT, NAME of 1–32 letters, digits, '.', '-' or '_' (e.g. node1=10.0.0.11:8443; MIMAMORI_NODE_ID is a good name)`);
  }
  return { name, ...parseAddress(spec.slice(eq + 1), `node ${name}`) };
}

/** A nodes file: one NAME=HOST:PORT per line; blank lines and `#` comments are skipped. */
export function parseNodesFile(text: string, file = 'nodes file'): HaproxyNode[] {
  const nodes: HaproxyNode[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    try {
      nodes.push(parseNode(line));
    } catch (err) {
      throw new HaproxyConfigError(`${file} line ${i + 1}: ${(err as Error).message}`);
    }
  }
  return nodes;
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

/** Checks what the CLI cannot (the whole set); throws HaproxyConfigError saying what to change. */
export function checkOptions(o: HaproxyOptions): void {
  if (o.nodes.length === 0) throw new HaproxyConfigError('no nodes: give --node NAME=HOST:PORT for each node (or --nodes-file FILE)');
  const seen = new Map<string, string>();
  for (const n of o.nodes) {
    const where = `${n.host}:${n.port}`;
    if (seen.has(n.name)) throw new HaproxyConfigError(`two nodes are named ${n.name}: give each its own name`);
    if ([...seen.values()].includes(where)) throw new HaproxyConfigError(`two nodes are at ${where}: each node needs its own address or port`);
    seen.set(n.name, where);
  }
  if (o.stats && !isLoopback(o.stats.host)) {
    throw new HaproxyConfigError(`stats ${o.stats.host}:${o.stats.port}: the statistics page has no password, so it listens on loopback only (127.0.0.1); reach it through ssh -L`);
  }
  if (o.stats && o.stats.port === o.listen.port && (o.stats.host === o.listen.host || o.listen.host === '0.0.0.0' || o.listen.host === '::')) {
    throw new HaproxyConfigError(`the statistics page and the nodes' frontend both want port ${o.listen.port}: give --stats another port`);
  }
  if (o.tls.mode === 'terminate') {
    const file = o.tls.certFile;
    if (!file.startsWith('/')) throw new HaproxyConfigError(`--cert ${file}: give the absolute path (HAProxy starts in /)`);
    if (/['\s\\]/.test(file)) throw new HaproxyConfigError(`--cert ${file}: move the file to a path without quotes, backslashes or spaces`);
  }
  for (const [name, value] of Object.entries({ ...o.timeouts, checkIntervalMs: o.check.intervalMs })) {
    if (!Number.isInteger(value) || value < 1) throw new TypeError(`haproxyConfig: ${name} must be a positive integer (ms)`);
  }
  if (!Number.isInteger(o.check.fall) || o.check.fall < 1 || !Number.isInteger(o.check.rise) || o.check.rise < 1) throw new TypeError('haproxyConfig: check.fall and check.rise must be positive integers');
  if (!Number.isInteger(o.maxconn) || o.maxconn < 1) throw new TypeError('haproxyConfig: maxconn must be a positive integer');
}

/** HAProxy's time format: the largest whole unit. */
export function duration(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

const address = (a: Address) => `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;

/** The command that makes this configuration again, for its header. */
function commandLine(o: HaproxyOptions): string {
  const parts = ['mimamori haproxy-config', `--listen ${address(o.listen)}`, `--tls ${o.tls.mode}`];
  if (o.tls.mode === 'terminate') parts.push(`--cert ${o.tls.certFile}`, ...(o.tls.nodeTls ? ['--node-tls'] : []));
  parts.push(`--balance ${o.balance}`, `--stats ${o.stats ? address(o.stats) : 'off'}`, `--check-interval ${o.check.intervalMs}`, `--maxconn ${o.maxconn}`);
  if (o.run === 'foreground') parts.push('--foreground');
  parts.push(...o.nodes.map((n) => `--node ${n.name}=${address(n)}`));
  return parts.join(' ');
}

function globalSection(o: HaproxyOptions): string[] {
  const lines = ['global'];
  if (o.run === 'service') {
    lines.push(
      '    log /dev/log local0',
      '    chroot /var/lib/haproxy',
      '    user haproxy',
      '    group haproxy',
      '    stats socket /run/haproxy/admin.sock mode 660 level admin',
    );
  } else {
    lines.push('    log stdout format raw local0');
  }
  lines.push(`    maxconn ${o.maxconn}`);
  if (o.tls.mode === 'terminate') {
    // Debian's own defaults (Mozilla's "intermediate"): TLS 1.2 at least, as the nodes.
    lines.push(
      '    ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384',
      '    ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256',
      '    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets',
    );
  }
  return lines;
}

function defaultsSection(o: HaproxyOptions): string[] {
  const t = o.timeouts;
  return [
    'defaults',
    '    log global',
    '    # A node that refuses a connection or does not answer it in time (cut off, not refusing):',
    '    # try again, each time on another node.',
    '    retries 3',
    '    option redispatch 1',
    `    timeout connect ${duration(t.connectMs)}`,
    `    timeout client ${duration(t.clientMs)}`,
    `    timeout server ${duration(t.serverMs)}`,
    '    # Websockets: socket.io pings every 25 s; a kiosk stays connected for days.',
    `    timeout tunnel ${duration(t.tunnelMs)}`,
    '    timeout client-fin 30s',
    '    timeout server-fin 30s',
    `    timeout check ${duration(t.checkMs)}`,
  ];
}

function frontendSection(o: HaproxyOptions): string[] {
  const lines = ['frontend mimamori'];
  if (o.tls.mode === 'passthrough') {
    lines.push('    mode tcp', `    bind ${address(o.listen)}`, '    option tcplog');
  } else {
    const t = o.timeouts;
    lines.push(
      '    mode http',
      // HTTP/1.1 like the nodes themselves; websockets over HTTP/2 (RFC 8441) are untested here.
      `    bind ${address(o.listen)} ssl crt '${o.tls.certFile}' alpn http/1.1`,
      '    option httplog',
      `    timeout http-request ${duration(t.httpRequestMs)}`,
      `    timeout http-keep-alive ${duration(t.keepAliveMs)}`,
      '    # The nodes hear from HAProxy alone who the client is: whatever a client says about it is dropped.',
      '    http-request del-header forwarded',
      '    http-request del-header x-forwarded-for',
      '    http-request del-header x-real-ip',
      '    http-request set-header x-forwarded-proto https',
      '    option forwardfor',
    );
  }
  lines.push('    default_backend nodes');
  return lines;
}

function backendSection(o: HaproxyOptions): string[] {
  const c = o.check;
  const tcp = o.tls.mode === 'passthrough';
  const nodeTls = o.tls.mode === 'terminate' && o.tls.nodeTls;
  // check-ssl: the check's own TLS connection while traffic passes through untouched.
  const serverTls = tcp ? ' check-ssl verify none' : nodeTls ? ' ssl verify none' : '';
  return [
    'backend nodes',
    `    mode ${tcp ? 'tcp' : 'http'}`,
    `    balance ${o.balance}`,
    // An idle connection kept to a node that was cut off meanwhile would hold a request until
    // `timeout server`; a new one per request fails over within `timeout connect`.
    ...(tcp ? [] : ['    # A new connection to a node per request: one cut off is passed over within the connect timeout.', '    option http-server-close']),
    '    # In only while GET /readyz answers 200 (503: not ready).',
    '    option httpchk',
    '    http-check send meth GET uri /readyz ver HTTP/1.1 hdr host haproxy-check',
    '    http-check expect status 200',
    `    default-server check${serverTls} inter ${duration(c.intervalMs)} fall ${c.fall} rise ${c.rise}`,
    ...o.nodes.map((n) => `    server ${n.name} ${address(n)}`),
  ];
}

function statsSection(stats: Address): string[] {
  return [
    '# Which nodes are in, their checks and connections. No password: loopback only.',
    'frontend stats',
    '    mode http',
    `    bind ${address(stats)}`,
    '    stats enable',
    '    stats uri /',
    '    stats refresh 5s',
    '    no log',
  ];
}

/** The whole haproxy.cfg for `o`. Throws HaproxyConfigError for input an operator must change. */
export function haproxyConfig(o: HaproxyOptions): string {
  checkOptions(o);
  const mode =
    o.tls.mode === 'passthrough'
      ? 'TLS passthrough: HAProxy forwards TCP; each node terminates TLS with its own certificate.'
      : `HAProxy terminates TLS and forwards HTTP${o.tls.mode === 'terminate' && o.tls.nodeTls ? 'S' : ''} to the nodes with X-Forwarded-For/Proto.`;
  const sections = [
    [
      '# HAProxy 2.6 configuration for Mimamori, made by:',
      `#   ${commandLine(o)}`,
      '# (run it again rather than editing this). ' + mode,
      '# Media does not pass through here: cameras and viewers reach each node at its',
      '# MIMAMORI_ANNOUNCED_ADDRESS and media ports (open those straight to the nodes).',
    ],
    globalSection(o),
    defaultsSection(o),
    frontendSection(o),
    backendSection(o),
    ...(o.stats ? [statsSection(o.stats)] : []),
  ];
  return `${sections.map((s) => s.join('\n')).join('\n\n')}\n`;
}
