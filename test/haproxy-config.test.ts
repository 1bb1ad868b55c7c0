// The HAProxy configuration generator (haproxy-config/index.ts): two whole configurations compared
// line for line, a table of named inputs (what each must and must not produce, or the error it
// must give), every valid one checked by Debian's HAProxy 2.6 itself (`haproxy -c`, no warnings),
// and the command line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';
import {
  DEFAULT_CHECK,
  DEFAULT_TIMEOUTS,
  DEFAULTS,
  duration,
  haproxyConfig,
  HaproxyConfigError,
  parseAddress,
  parseNode,
  parseNodesFile,
  type HaproxyOptions,
} from '../haproxy-config/index.ts';
import { cli } from './harness.ts';
import { checkConfig } from './haproxy.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'mimamori-haproxy-config-'));
const certFile = path.join(tmp, 'site.pem');

test.before(async () => {
  const pems = await generate([{ name: 'commonName', value: 'mimamori.example' }], { keyType: 'ec', algorithm: 'sha256' });
  await fs.writeFile(certFile, `${pems.cert.trim()}\n${pems.private.trim()}\n`, { mode: 0o600 });
});
test.after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const THREE = [
  { name: 'node1', host: '10.0.0.11', port: 8443 },
  { name: 'node2', host: '10.0.0.12', port: 8443 },
  { name: 'node3', host: '10.0.0.13', port: 8443 },
];

const base: HaproxyOptions = {
  nodes: THREE,
  listen: DEFAULTS.listen,
  tls: { mode: 'passthrough' },
  balance: DEFAULTS.balance,
  stats: DEFAULTS.stats,
  timeouts: DEFAULT_TIMEOUTS,
  check: DEFAULT_CHECK,
  maxconn: DEFAULTS.maxconn,
  run: DEFAULTS.run,
};

const PASSTHROUGH = `# HAProxy 2.6 configuration for Mimamori, made by:
#   mimamori haproxy-config --listen 0.0.0.0:443 --tls passthrough --balance leastconn --stats 127.0.0.1:8404 --check-interval 2000 --maxconn 20000 --node node1=10.0.0.11:8443 --node node2=10.0.0.12:8443 --node node3=10.0.0.13:8443
# (run it again rather than editing this). TLS passthrough: HAProxy forwards TCP; each node terminates TLS with its own certificate.
# Media does not pass through here: cameras and viewers reach each node at its
# MIMAMORI_ANNOUNCED_ADDRESS and media ports (open those straight to the nodes).

global
    log /dev/log local0
    chroot /var/lib/haproxy
    user haproxy
    group haproxy
    stats socket /run/haproxy/admin.sock mode 660 level admin
    maxconn 20000

defaults
    log global
    # A node that refuses a connection or does not answer it in time (cut off, not refusing):
    # try again, each time on another node.
    retries 3
    option redispatch 1
    timeout connect 1s
    timeout client 30s
    timeout server 1m
    # Websockets: socket.io pings every 25 s; a kiosk stays connected for days.
    timeout tunnel 1h
    timeout client-fin 30s
    timeout server-fin 30s
    timeout check 3s

frontend mimamori
    mode tcp
    bind 0.0.0.0:443
    option tcplog
    default_backend nodes

backend nodes
    mode tcp
    balance leastconn
    # In only while GET /readyz answers 200 (503: not ready).
    option httpchk
    http-check send meth GET uri /readyz ver HTTP/1.1 hdr host haproxy-check
    http-check expect status 200
    default-server check check-ssl verify none inter 2s fall 3 rise 2
    server node1 10.0.0.11:8443
    server node2 10.0.0.12:8443
    server node3 10.0.0.13:8443

# Which nodes are in, their checks and connections. No password: loopback only.
frontend stats
    mode http
    bind 127.0.0.1:8404
    stats enable
    stats uri /
    stats refresh 5s
    no log
`;

test('the default: TLS passthrough in front of three nodes, whole', () => {
  assert.fixture(haproxyConfig(base), PASSTHROUGH);
});

test('TLS terminated on HAProxy, plain HTTP to the nodes, whole from the frontend on', () => {
  const text = haproxyConfig({ ...base, tls: { mode: 'terminate', certFile: '/etc/haproxy/mimamori.pem' } });
  const from = text.slice(text.indexOf('frontend mimamori'));
  assert.fixture(
    from,
    `frontend mimamori
    mode http
    bind 0.0.0.0:443 ssl crt '/etc/haproxy/mimamori.pem' alpn http/1.1
    option httplog
    timeout http-request 10s
    timeout http-keep-alive 10s
    # The nodes hear from HAProxy alone who the client is: whatever a client says about it is dropped.
    http-request del-header forwarded
    http-request del-header x-forwarded-for
    http-request del-header x-real-ip
    http-request set-header x-forwarded-proto https
    option forwardfor
    default_backend nodes

backend nodes
    mode http
    balance leastconn
    # A new connection to a node per request: one cut off is passed over within the connect timeout.
    option http-server-close
    # In only while GET /readyz answers 200 (503: not ready).
    option httpchk
    http-check send meth GET uri /readyz ver HTTP/1.1 hdr host haproxy-check
    http-check expect status 200
    default-server check inter 2s fall 3 rise 2
    server node1 10.0.0.11:8443
    server node2 10.0.0.12:8443
    server node3 10.0.0.13:8443

# Which nodes are in, their checks and connections. No password: loopback only.
frontend stats
    mode http
    bind 127.0.0.1:8404
    stats enable
    stats uri /
    stats refresh 5s
    no log
`,
  );
  assert.match(text, '    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets\n', 'TLS 1.2 at least, as the nodes');
});

interface Case {
  name: string;
  options: (o: HaproxyOptions) => HaproxyOptions;
  has?: string[];
  lacks?: string[];
  error?: RegExp;
}

const CASES: Case[] = [
  { name: 'passthrough: checks over their own TLS connection', options: (o) => o, has: ['default-server check check-ssl verify none inter 2s fall 3 rise 2', 'mode tcp'], lacks: ['ssl crt', 'forwardfor'] },
  { name: 'terminate with TLS to the nodes', options: (o) => ({ ...o, tls: { mode: 'terminate', certFile, nodeTls: true } }), has: ['default-server check ssl verify none inter', `ssl crt '${certFile}'`, '--node-tls'], lacks: ['check-ssl'] },
  { name: 'terminate, plain HTTP to the nodes', options: (o) => ({ ...o, tls: { mode: 'terminate', certFile } }), has: ['default-server check inter 2s', 'option forwardfor', 'x-forwarded-proto https'], lacks: ['verify none'] },
  { name: 'round robin', options: (o) => ({ ...o, balance: 'roundrobin' }), has: ['    balance roundrobin'], lacks: ['leastconn'] },
  { name: 'no stats page', options: (o) => ({ ...o, stats: undefined }), has: ['--stats off'], lacks: ['frontend stats', 'stats enable'] },
  { name: 'stats on IPv6 loopback', options: (o) => ({ ...o, stats: { host: '::1', port: 9000 } }), has: ['bind [::1]:9000'] },
  { name: 'IPv6 and host-name nodes', options: (o) => ({ ...o, nodes: [{ name: 'v6', host: '2001:db8::7', port: 8443 }, { name: 'dns', host: 'localhost', port: 8443 }] }), has: ['server v6 [2001:db8::7]:8443', 'server dns localhost:8443'] },
  { name: 'listening on IPv6', options: (o) => ({ ...o, listen: { host: '::', port: 8443 } }), has: ['    bind [::]:8443'] },
  { name: 'one node', options: (o) => ({ ...o, nodes: [THREE[0]!] }), has: ['server node1 10.0.0.11:8443'], lacks: ['node2'] },
  { name: 'foreground: no chroot, logs on stdout', options: (o) => ({ ...o, run: 'foreground' }), has: ['log stdout format raw local0', '--foreground'], lacks: ['chroot', 'user haproxy', '/run/haproxy'] },
  { name: 'fast checks and short timeouts', options: (o) => ({ ...o, check: { intervalMs: 500, fall: 2, rise: 1 }, timeouts: { ...o.timeouts, clientMs: 1500, tunnelMs: 90_000 } }), has: ['inter 500ms fall 2 rise 1', 'timeout client 1500ms', 'timeout tunnel 90s'] },
  { name: 'no nodes', options: (o) => ({ ...o, nodes: [] }), error: /no nodes: give --node NAME=HOST:PORT/ },
  { name: 'two nodes of one name', options: (o) => ({ ...o, nodes: [THREE[0]!, { ...THREE[1]!, name: 'node1' }] }), error: /two nodes are named node1/ },
  { name: 'two nodes at one address', options: (o) => ({ ...o, nodes: [THREE[0]!, { ...THREE[0]!, name: 'other' }] }), error: /two nodes are at 10.0.0.11:8443/ },
  { name: 'stats page off loopback', options: (o) => ({ ...o, stats: { host: '0.0.0.0', port: 8404 } }), error: /loopback only/ },
  { name: 'stats on the frontend\'s port', options: (o) => ({ ...o, stats: { host: '127.0.0.1', port: 443 } }), error: /give --stats another port/ },
  { name: 'a relative certificate path', options: (o) => ({ ...o, tls: { mode: 'terminate', certFile: 'site.pem' } }), error: /give the absolute path/ },
  { name: 'a certificate path with a space', options: (o) => ({ ...o, tls: { mode: 'terminate', certFile: '/etc/my certs/site.pem' } }), error: /without quotes, backslashes or spaces/ },
];

test('a table of named inputs: the lines each must and must not produce, or its error', () => {
  const wrong: string[] = [];
  for (const c of CASES) {
    let text: string;
    try {
      text = haproxyConfig(c.options(base));
    } catch (err) {
      if (!c.error) wrong.push(`${c.name}: threw ${(err as Error).message}`);
      else if (!(err instanceof HaproxyConfigError) || !c.error.test(err.message)) wrong.push(`${c.name}: wrong error ${String(err)}`);
      continue;
    }
    if (c.error) wrong.push(`${c.name}: no error`);
    for (const line of c.has ?? []) if (!text.includes(line)) wrong.push(`${c.name}: lacks ${JSON.stringify(line)}`);
    for (const line of c.lacks ?? []) if (text.includes(line)) wrong.push(`${c.name}: has ${JSON.stringify(line)}`);
  }
  assert.equal(wrong, []);
});

test('HAProxy 2.6 takes every valid configuration of the table without a warning (haproxy -c)', async () => {
  const wrong: string[] = [];
  for (const c of CASES.filter((x) => !x.error)) {
    const { valid, output } = await checkConfig(haproxyConfig(c.options(base)));
    if (!valid || /\[(WARNING|ALERT)\]/.test(output)) wrong.push(`${c.name}:\n${output}`);
  }
  assert.equal(wrong, []);
  // And HAProxy does notice a broken one: the check is a real check.
  const broken = await checkConfig(haproxyConfig(base).replace('    balance leastconn', '    balance fastest'));
  assert.not.ok(broken.valid, broken.output);
});

test('nodes and addresses: NAME=HOST:PORT, IPv6 in brackets, a nodes file with comments; errors say what to give', () => {
  assert.equal(parseNode('a=10.0.0.1:8443'), { name: 'a', host: '10.0.0.1', port: 8443 });
  assert.equal(parseNode('node-2.tokyo=[fd00::2]:443'), { name: 'node-2.tokyo', host: 'fd00::2', port: 443 });
  assert.equal(parseNode('b=mimamori-b.internal:8443'), { name: 'b', host: 'mimamori-b.internal', port: 8443 });
  assert.equal(parseAddress('127.0.0.1:8404', '--stats'), { host: '127.0.0.1', port: 8404 });
  assert.equal(parseNodesFile('# the cluster\na=10.0.0.1:8443\n\n  b=10.0.0.2:8443   # rack 2\n'), [
    { name: 'a', host: '10.0.0.1', port: 8443 },
    { name: 'b', host: '10.0.0.2', port: 8443 },
  ]);
  const errors: [() => unknown, RegExp][] = [
    [() => parseNode('10.0.0.1:8443'), /give NAME=HOST:PORT/],
    [() => parseNode('a b=10.0.0.1:8443'), /give NAME=HOST:PORT/],
    [() => parseNode('a=10.0.0.1'), /give HOST:PORT/],
    [() => parseNode('a=10.0.0.1:0'), /the port must be 1–65535/],
    [() => parseNode('a=10.0.0.1:70000'), /the port must be 1–65535/],
    [() => parseNode('a=[12345::1]:8443'), /is not an IP address or host name/],
    [() => parseNode('a=::1:8443'), /give HOST:PORT \(an IPv6 address in brackets/],
    [() => parseNode('a=bad_host:8443'), /is not an IP address or host name/],
    [() => parseNodesFile('a=10.0.0.1:8443\nb=10.0.0.2\n', 'nodes.txt'), /^nodes.txt line 2: node b "10.0.0.2"/],
  ];
  const wrong = errors.filter(([fn, re]) => {
    try {
      fn();
      return true;
    } catch (err) {
      return !(err instanceof HaproxyConfigError) || !re.test(err.message);
    }
  });
  assert.is(wrong.length, 0, wrong.map(([fn]) => fn.toString()).join('\n'));
  assert.equal([duration(2000), duration(60_000), duration(3_600_000), duration(1500), duration(90_000)], ['2s', '1m', '1h', '1500ms', '90s']);
});

test('mimamori haproxy-config: prints what the generator makes; nodes from options and a file; usage errors exit 2', async () => {
  const nodesFile = path.join(tmp, 'nodes.txt');
  await fs.writeFile(nodesFile, '# more nodes\nnode2=10.0.0.12:8443\nnode3=10.0.0.13:8443\n');
  const printed = await cli(['haproxy-config', '--node', 'node1=10.0.0.11:8443', '--nodes-file', nodesFile]);
  assert.is(printed.code, 0, printed.stderr);
  assert.fixture(printed.stdout, PASSTHROUGH);

  const terminate = await cli(['haproxy-config', '--node', 'a=127.0.0.1:8080', '--tls', 'terminate', '--cert', certFile, '--listen', '127.0.0.1:8443', '--stats', 'off', '--check-interval', '1000', '--foreground']);
  assert.is(terminate.code, 0, terminate.stderr);
  assert.match(terminate.stdout, 'inter 1s fall 3 rise 2');
  const { valid, output } = await checkConfig(terminate.stdout);
  assert.ok(valid && !/WARNING/.test(output), output);

  const usage: [string[], RegExp][] = [
    [['haproxy-config'], /no nodes: give --node NAME=HOST:PORT for each node/],
    [['haproxy-config', '--node', 'a=10.0.0.1:8443', '--tls', 'terminate'], /--tls terminate needs --cert FILE/],
    [['haproxy-config', '--node', 'a=10.0.0.1:8443', '--tls', 'offload'], /--tls offload: give passthrough or terminate/],
    [['haproxy-config', '--node', 'a=10.0.0.1:8443', '--cert', certFile], /--cert and --node-tls go with --tls terminate/],
    [['haproxy-config', '--node', 'a=10.0.0.1:8443', '--stats', '10.0.0.5:8404'], /loopback only/],
    [['haproxy-config', '--node', 'a=10.0.0.1:8443', '--check-interval', '0'], /--check-interval 0: give a whole number above 0/],
    [['haproxy-config', '--nodes-file', path.join(tmp, 'missing.txt')], /--nodes-file .*missing.txt: cannot read it \(ENOENT\)/],
  ];
  const wrong: string[] = [];
  for (const [args, re] of usage) {
    const r = await cli(args);
    if (r.code !== 2 || !re.test(r.stderr) || r.stdout !== '') wrong.push(`${args.join(' ')}: exit ${r.code}, ${r.stderr.split('\n')[0]}`);
  }
  assert.equal(wrong, []);
});

test.run();
