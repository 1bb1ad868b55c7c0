// Service configuration: environment variables with embedded defaults, read once at start-up.
// Every variable is documented in the README's "Configuration" section.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

/**
 * A whole number from an environment variable, strictly: '' or '7.5' is an error, where
 * z.coerce.number would read '' as 0 (for MIMAMORI_BACKUP_MONTHLY: five years of backups off).
 */
function wholeNumber(min: number, max: number, fallback: number, meaning: string) {
  return z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return fallback;
      const n = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
      if (n >= min && n <= max) return n;
      ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max} (${meaning}), not "${text}"` });
      return z.NEVER;
    });
}

const env = z.object({
  MIMAMORI_DATA_DIR: z.string().default('data'),
  MIMAMORI_HOST: z.string().default('0.0.0.0'),
  MIMAMORI_PORT: z.coerce.number().int().min(0).max(65535).default(8443),
  /** 'self-signed' (generated once, kept in the data dir), 'files' (MIMAMORI_TLS_CERT/KEY) or 'off'. */
  MIMAMORI_TLS: z.enum(['self-signed', 'files', 'off']).default('self-signed'),
  MIMAMORI_TLS_CERT: z.string().optional(),
  MIMAMORI_TLS_KEY: z.string().optional(),
  /** Address put in ICE candidates: the one cameras and viewers reach this machine at. */
  MIMAMORI_ANNOUNCED_ADDRESS: z.string().optional(),
  MIMAMORI_RTC_LISTEN_IP: z.string().default('0.0.0.0'),
  MIMAMORI_RTC_MIN_PORT: z.coerce.number().int().min(1024).max(65535).default(40000),
  MIMAMORI_RTC_MAX_PORT: z.coerce.number().int().min(1024).max(65535).default(49999),
  MIMAMORI_RTC_CONNECT_TIMEOUT_MS: wholeNumber(1000, 600_000, 30_000, 'ms a WHIP/WHEP peer may take to connect, or stay disconnected, before its session is ended'),
  MIMAMORI_WORKERS: z.coerce.number().int().min(1).max(256).optional(),
  /** Viewers of one camera on one router before the next viewers are piped to another worker. */
  MIMAMORI_VIEWERS_PER_ROUTER: z.coerce.number().int().min(1).default(400),
  MIMAMORI_ADMIN_USERNAME: z.string().min(1).default('admin'),
  /** Taken as the first admin's password on first start; otherwise one is generated and printed once. */
  MIMAMORI_ADMIN_PASSWORD: z.string().min(8).optional(),
  /** JWT signing secret; generated once and kept by the metadata store (data dir or database) when unset. */
  MIMAMORI_JWT_SECRET: z.string().min(32).optional(),
  /** postgres://user:password@host:port/database: metadata in PostgreSQL instead of files in the data dir. */
  MIMAMORI_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/[^\s]+$/, 'must look like postgres://user:password@host:5432/database')
    .optional(),
  /**
   * How the other nodes of a cluster reach this one's internal API (http://10.0.0.5:8444): set on
   * every node of a cluster, which then needs PostgreSQL and a real S3.
   */
  MIMAMORI_INTERNAL_URL: z.string().url('must be a URL like http://10.0.0.5:8444').optional(),
  /**
   * Load balancers allowed to say who the client is (X-Forwarded-For): comma-separated addresses
   * or CIDR ranges. Unset: the socket's peer is the client.
   */
  MIMAMORI_TRUSTED_PROXIES: z
    .string()
    .default('')
    .refine((s) => s.split(',').map((x) => x.trim()).filter(Boolean).every((x) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(x)), 'use comma-separated addresses or CIDR ranges, e.g. 10.0.0.2,10.0.1.0/24'),
  /** This node's name among several sharing a database (default: the host name). */
  MIMAMORI_NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'use 1-64 letters, digits, dots, dashes or underscores')
    .optional(),
  MIMAMORI_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** STUN servers handed to clients, comma separated (none by default: the SFU has a public address). */
  MIMAMORI_STUN_URLS: z.string().default(''),
  /** S3-compatible endpoint for recordings; unset = the embedded store on a folder in the data dir. */
  MIMAMORI_S3_ENDPOINT: z.string().url().optional(),
  MIMAMORI_S3_BUCKET: z.string().min(3).default('mimamori'),
  MIMAMORI_S3_REGION: z.string().default('us-east-1'),
  MIMAMORI_S3_ACCESS_KEY_ID: z.string().optional(),
  MIMAMORI_S3_SECRET_ACCESS_KEY: z.string().optional(),
  MIMAMORI_S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).default('true'),
  /** Port of the embedded S3 server on loopback (0 = any free port). */
  MIMAMORI_EMBEDDED_S3_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** Recording: segment (one S3 object) and fragment lengths. */
  MIMAMORI_SEGMENT_SECONDS: z.coerce.number().min(2).max(600).default(60),
  // Drain (a node of a cluster leaving on purpose): whole drain, the load balancer's time to take
  // the node out (HAProxy's default check: 3 × 2 s), a camera's time to publish elsewhere.
  MIMAMORI_DRAIN_TIMEOUT_S: z.coerce.number().min(1).max(3600).default(120),
  MIMAMORI_DRAIN_LB_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(7000),
  MIMAMORI_DRAIN_CAMERA_WAIT_MS: z.coerce.number().int().min(500).max(60_000).default(8000),
  MIMAMORI_FRAGMENT_MS: z.coerce.number().int().min(200).max(10_000).default(1000),
  /** Local spool cap; beyond it the oldest not-yet-uploaded segments are dropped (with an alert). */
  MIMAMORI_SPOOL_QUOTA_MB: z.coerce.number().min(1).default(4096),
  /** Default retention for cameras without their own. */
  MIMAMORI_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Metadata backups to S3: hours between them (0 = only from the command line), and the first look after start. */
  MIMAMORI_BACKUP_INTERVAL_HOURS: z.coerce.number().min(0).max(24 * 30).default(24),
  MIMAMORI_BACKUP_DELAY_SECONDS: z.coerce.number().min(0).max(86400).default(60),
  /** Backup generations kept: the newest N, and the first of each month (UTC) for the newest N months (backup/retention.ts). */
  MIMAMORI_BACKUP_DAILY: wholeNumber(1, 3650, 7, 'the newest backup generations kept; at least 1, the backup just made'),
  MIMAMORI_BACKUP_MONTHLY: wholeNumber(0, 1200, 60, 'months whose first backup is kept; 60 is five years, 0 keeps none'),
  /** Master keys "id:base64,id:base64" (first is current); unset = generated in the data dir. */
  MIMAMORI_MASTER_KEYS: z.string().optional(),
  /** Bearer token for GET /metrics; unset = /metrics answers loopback callers only. */
  MIMAMORI_METRICS_TOKEN: z.string().min(16).optional(),
  /** GET /readyz fails when the data dir's file system has less free space than this. */
  MIMAMORI_READY_MIN_FREE_MB: z.coerce.number().min(0).default(1024),
  /** Days the audit log keeps its day files (its own retention, apart from recordings'). */
  MIMAMORI_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36500).default(400),
  /** Calls per second each API key may make on average, and how many at once (token bucket, per node). */
  MIMAMORI_API_KEY_RATE: wholeNumber(1, 100_000, 20, 'calls per second per API key'),
  MIMAMORI_API_KEY_BURST: wholeNumber(1, 100_000, 40, 'calls an API key may make at once'),
  /** 1: webhooks may go to loopback, private, link-local and metadata addresses, and over plain http (tests, closed networks). */
  MIMAMORI_WEBHOOK_ALLOW_PRIVATE: z.enum(['0', '1']).default('0'),
  /** Waits before each retry of a webhook delivery, ms, comma-separated (attempts = waits + 1). */
  MIMAMORI_WEBHOOK_RETRY_MS: z
    .string()
    .regex(/^\s*\d+(\s*,\s*\d+){0,9}\s*$/, 'must be 1 to 10 whole numbers of ms, comma-separated, like 1000,4000,16000,64000,300000')
    .default('1000,4000,16000,64000,300000'),
  /** One delivery attempt gives up after this long. */
  MIMAMORI_WEBHOOK_TIMEOUT_MS: wholeNumber(100, 60_000, 10_000, 'ms one webhook delivery attempt may take'),
  /** TURN relay: 'embedded' (we run Debian's coturn), 'external' (an operator's coturn) or 'off'. Unset: see turnMode(). */
  MIMAMORI_TURN: z.enum(['embedded', 'external', 'off']).optional(),
  /** External TURN: URLs handed to clients as given (turn:host:3478?transport=udp, …), and its static-auth-secret. */
  MIMAMORI_TURN_URLS: z.string().default(''),
  MIMAMORI_TURN_SECRET: z.string().min(16).optional(),
  /** Host (name or address) put in the embedded TURN URLs; default the announced address. */
  MIMAMORI_TURN_HOST: z.string().optional(),
  MIMAMORI_TURN_LISTEN_IP: z.string().optional(),
  MIMAMORI_TURN_PORT: z.coerce.number().int().min(1).max(65535).default(3478),
  /** TURN over TLS (turns:); 0 = none. Only offered with MIMAMORI_TLS=files (a certificate browsers trust). */
  MIMAMORI_TURN_TLS_PORT: z.coerce.number().int().min(0).max(65535).default(5349),
  MIMAMORI_TURN_RELAY_MIN_PORT: z.coerce.number().int().min(1024).max(65535).default(50000),
  MIMAMORI_TURN_RELAY_MAX_PORT: z.coerce.number().int().min(1024).max(65535).default(50999),
  /** Peers the embedded relay may reach, comma-separated addresses or a-b ranges; default the announced address (the SFU). */
  MIMAMORI_TURN_PEERS: z.string().optional(),
  /** Lifetime of the TURN credentials handed out with a join (seconds). */
  MIMAMORI_TURN_CREDENTIAL_TTL: z.coerce.number().int().min(60).max(7 * 86400).default(3600),
  MIMAMORI_TURN_BIN: z.string().default('/usr/bin/turnserver'),
});

export interface Config {
  dataDir: string;
  host: string;
  port: number;
  tls: { mode: 'self-signed' } | { mode: 'files'; certFile: string; keyFile: string } | { mode: 'off' };
  rtc: {
    listenIp: string;
    announcedAddress: string;
    minPort: number;
    maxPort: number;
    connectTimeoutMs: number;
  };
  workers: number;
  viewersPerRouter: number;
  admin: { username: string; password?: string };
  jwtSecret?: string;
  /** Metadata in PostgreSQL when set; files in dataDir otherwise. */
  databaseUrl?: string;
  nodeId: string;
  /** Set in a cluster: how the other nodes reach this one. */
  internalUrl?: string;
  /** Proxies whose X-Forwarded-For is believed. */
  trustedProxies: string[];
  drain: { timeoutMs: number; leaveBalancerMs: number; perCameraMs: number };
  logLevel: string;
  stunUrls: string[];
  s3?: { endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string; forcePathStyle: boolean };
  /** Set when no S3 endpoint is configured. */
  embeddedS3: { port: number; bucket: string };
  recording: { segmentSeconds: number; fragmentMs: number; spoolQuotaBytes: number; retentionDays: number };
  backup: { intervalMs: number; startDelayMs: number; retention: { daily: number; monthly: number } };
  monitoring: { metricsToken?: string; minFreeDiskBytes: number };
  audit: { retentionDays: number };
  /** The per-key rate limit (each node counts its own calls). */
  apiKeys: { ratePerSecond: number; burst: number };
  /** Webhook deliveries (signaling/webhooks/): private addresses allowed, retry waits, one attempt's timeout. */
  webhooks: { allowPrivate: boolean; retryDelaysMs: number[]; timeoutMs: number };
  turn: TurnConfig;
}

/** TURN relay settings (see turn-config/ and the README's TURN section). */
export type TurnConfig =
  | { mode: 'off' }
  | { mode: 'external'; urls: string[]; secret: string; credentialTtlSeconds: number }
  | {
      mode: 'embedded';
      bin: string;
      host: string;
      listenIp: string;
      port: number;
      /** 0 = no TURN over TLS. */
      tlsPort: number;
      relayMinPort: number;
      relayMaxPort: number;
      /** Addresses or a-b ranges the relay may send to; everything else is denied. */
      peers: string[];
      /** Shared secret; unset = generated and kept in the data dir. */
      secret?: string;
      credentialTtlSeconds: number;
    };

/** This release (package.json), for heartbeats and logs: nodes of two releases side by side say so. */
export const RELEASE: string = (JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The first non-internal IPv4 address, so a phone on the same LAN reaches the SFU. */
function guessAnnouncedAddress(): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal) return a.address;
    }
  }
  return '127.0.0.1';
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = env.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}\nFix these environment variables (see README, Configuration).`);
  }
  const e = parsed.data;
  if (e.MIMAMORI_RTC_MIN_PORT > e.MIMAMORI_RTC_MAX_PORT) {
    throw new ConfigError('MIMAMORI_RTC_MIN_PORT must not exceed MIMAMORI_RTC_MAX_PORT');
  }
  let tls: Config['tls'];
  if (e.MIMAMORI_TLS === 'files') {
    if (!e.MIMAMORI_TLS_CERT || !e.MIMAMORI_TLS_KEY) {
      throw new ConfigError('MIMAMORI_TLS=files needs MIMAMORI_TLS_CERT and MIMAMORI_TLS_KEY (PEM file paths)');
    }
    tls = { mode: 'files', certFile: e.MIMAMORI_TLS_CERT, keyFile: e.MIMAMORI_TLS_KEY };
  } else {
    tls = { mode: e.MIMAMORI_TLS };
  }
  const announcedAddress = e.MIMAMORI_ANNOUNCED_ADDRESS ?? guessAnnouncedAddress();
  const listenIp = e.MIMAMORI_RTC_LISTEN_IP;
  let s3: Config['s3'];
  if (e.MIMAMORI_S3_ENDPOINT) {
    if (!e.MIMAMORI_S3_ACCESS_KEY_ID || !e.MIMAMORI_S3_SECRET_ACCESS_KEY) {
      throw new ConfigError('MIMAMORI_S3_ENDPOINT needs MIMAMORI_S3_ACCESS_KEY_ID and MIMAMORI_S3_SECRET_ACCESS_KEY');
    }
    s3 = {
      endpoint: e.MIMAMORI_S3_ENDPOINT,
      bucket: e.MIMAMORI_S3_BUCKET,
      region: e.MIMAMORI_S3_REGION,
      accessKeyId: e.MIMAMORI_S3_ACCESS_KEY_ID,
      secretAccessKey: e.MIMAMORI_S3_SECRET_ACCESS_KEY,
      forcePathStyle: e.MIMAMORI_S3_FORCE_PATH_STYLE === 'true',
    };
  }
  return {
    s3,
    embeddedS3: { port: e.MIMAMORI_EMBEDDED_S3_PORT, bucket: e.MIMAMORI_S3_BUCKET },
    recording: {
      segmentSeconds: e.MIMAMORI_SEGMENT_SECONDS,
      fragmentMs: e.MIMAMORI_FRAGMENT_MS,
      spoolQuotaBytes: Math.round(e.MIMAMORI_SPOOL_QUOTA_MB * 1024 * 1024),
      retentionDays: e.MIMAMORI_RETENTION_DAYS,
    },
    backup: {
      intervalMs: Math.round(e.MIMAMORI_BACKUP_INTERVAL_HOURS * 3_600_000),
      startDelayMs: Math.round(e.MIMAMORI_BACKUP_DELAY_SECONDS * 1000),
      retention: { daily: e.MIMAMORI_BACKUP_DAILY, monthly: e.MIMAMORI_BACKUP_MONTHLY },
    },
    turn: turnConfig(e, announcedAddress, listenIp),
    monitoring: { metricsToken: e.MIMAMORI_METRICS_TOKEN, minFreeDiskBytes: Math.round(e.MIMAMORI_READY_MIN_FREE_MB * 1024 * 1024) },
    audit: { retentionDays: e.MIMAMORI_AUDIT_RETENTION_DAYS },
    apiKeys: { ratePerSecond: e.MIMAMORI_API_KEY_RATE, burst: e.MIMAMORI_API_KEY_BURST },
    webhooks: {
      allowPrivate: e.MIMAMORI_WEBHOOK_ALLOW_PRIVATE === '1',
      retryDelaysMs: e.MIMAMORI_WEBHOOK_RETRY_MS.split(',').map((x) => Number(x.trim())),
      timeoutMs: e.MIMAMORI_WEBHOOK_TIMEOUT_MS,
    },
    dataDir: path.resolve(e.MIMAMORI_DATA_DIR),
    host: e.MIMAMORI_HOST,
    port: e.MIMAMORI_PORT,
    tls,
    rtc: {
      listenIp,
      announcedAddress,
      minPort: e.MIMAMORI_RTC_MIN_PORT,
      maxPort: e.MIMAMORI_RTC_MAX_PORT,
      connectTimeoutMs: e.MIMAMORI_RTC_CONNECT_TIMEOUT_MS,
    },
    workers: e.MIMAMORI_WORKERS ?? os.availableParallelism(),
    viewersPerRouter: e.MIMAMORI_VIEWERS_PER_ROUTER,
    admin: { username: e.MIMAMORI_ADMIN_USERNAME, password: e.MIMAMORI_ADMIN_PASSWORD },
    jwtSecret: e.MIMAMORI_JWT_SECRET,
    ...(e.MIMAMORI_DATABASE_URL ? { databaseUrl: e.MIMAMORI_DATABASE_URL } : {}),
    nodeId: e.MIMAMORI_NODE_ID ?? os.hostname(),
    ...(e.MIMAMORI_INTERNAL_URL ? { internalUrl: clusterUrl(e) } : {}),
    trustedProxies: e.MIMAMORI_TRUSTED_PROXIES.split(',').map((x) => x.trim()).filter(Boolean),
    drain: { timeoutMs: Math.round(e.MIMAMORI_DRAIN_TIMEOUT_S * 1000), leaveBalancerMs: e.MIMAMORI_DRAIN_LB_WAIT_MS, perCameraMs: e.MIMAMORI_DRAIN_CAMERA_WAIT_MS },
    logLevel: e.MIMAMORI_LOG_LEVEL,
    stunUrls: e.MIMAMORI_STUN_URLS.split(',').map((s) => s.trim()).filter(Boolean),
  };
}

/** A cluster's nodes share their metadata and recordings: PostgreSQL and an S3 all of them reach. */
function clusterUrl(e: { MIMAMORI_INTERNAL_URL?: string; MIMAMORI_DATABASE_URL?: string; MIMAMORI_S3_ENDPOINT?: string }): string {
  if (!e.MIMAMORI_DATABASE_URL) {
    throw new ConfigError('MIMAMORI_INTERNAL_URL (a node of a cluster) needs MIMAMORI_DATABASE_URL: the nodes share their metadata in PostgreSQL; a data dir\'s files belong to one process');
  }
  if (!e.MIMAMORI_S3_ENDPOINT) {
    throw new ConfigError('MIMAMORI_INTERNAL_URL (a node of a cluster) needs MIMAMORI_S3_ENDPOINT: every node reads the recordings of every camera, and the in-process S3 server is one node\'s; run "mimamori s3" (or a real S3) and point every node at it');
  }
  return e.MIMAMORI_INTERNAL_URL!;
}

function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || address.startsWith('127.');
}

/**
 * Unset MIMAMORI_TURN means embedded when coturn is installed and the SFU is announced on a real
 * address; off otherwise (a relay for an SFU only this machine can reach helps nobody).
 */
function turnConfig(e: z.infer<typeof env>, announcedAddress: string, rtcListenIp: string): TurnConfig {
  const credentialTtlSeconds = e.MIMAMORI_TURN_CREDENTIAL_TTL;
  const mode = e.MIMAMORI_TURN ?? (e.MIMAMORI_TURN_URLS ? 'external' : fs.existsSync(e.MIMAMORI_TURN_BIN) && !isLoopback(announcedAddress) ? 'embedded' : 'off');
  if (mode === 'off') return { mode };
  if (mode === 'external') {
    const urls = e.MIMAMORI_TURN_URLS.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = urls.filter((u) => !/^turns?:[^\s]+$/.test(u));
    if (!urls.length || bad.length) {
      throw new ConfigError(`MIMAMORI_TURN=external needs MIMAMORI_TURN_URLS as comma-separated turn:/turns: URLs${bad.length ? ` (not TURN URLs: ${bad.join(', ')})` : ''}`);
    }
    if (!e.MIMAMORI_TURN_SECRET) throw new ConfigError('MIMAMORI_TURN=external needs MIMAMORI_TURN_SECRET (the static-auth-secret of that coturn, >= 16 characters)');
    return { mode, urls, secret: e.MIMAMORI_TURN_SECRET, credentialTtlSeconds };
  }
  if (!fs.existsSync(e.MIMAMORI_TURN_BIN)) {
    throw new ConfigError(`MIMAMORI_TURN=embedded needs coturn at ${e.MIMAMORI_TURN_BIN}: install Debian's coturn (setup/setup.sh does, as root), set MIMAMORI_TURN_BIN, or set MIMAMORI_TURN=off`);
  }
  if (e.MIMAMORI_TURN_RELAY_MIN_PORT > e.MIMAMORI_TURN_RELAY_MAX_PORT) {
    throw new ConfigError('MIMAMORI_TURN_RELAY_MIN_PORT must not exceed MIMAMORI_TURN_RELAY_MAX_PORT');
  }
  const relayOverlapsRtc = e.MIMAMORI_TURN_RELAY_MIN_PORT <= e.MIMAMORI_RTC_MAX_PORT && e.MIMAMORI_RTC_MIN_PORT <= e.MIMAMORI_TURN_RELAY_MAX_PORT;
  if (relayOverlapsRtc) {
    throw new ConfigError('the TURN relay port range (MIMAMORI_TURN_RELAY_MIN/MAX_PORT) overlaps the media port range (MIMAMORI_RTC_MIN/MAX_PORT); pick ranges apart');
  }
  const peers = (e.MIMAMORI_TURN_PEERS ?? announcedAddress).split(',').map((s) => s.trim()).filter(Boolean);
  return {
    mode,
    bin: e.MIMAMORI_TURN_BIN,
    host: e.MIMAMORI_TURN_HOST ?? announcedAddress,
    listenIp: e.MIMAMORI_TURN_LISTEN_IP ?? rtcListenIp,
    port: e.MIMAMORI_TURN_PORT,
    tlsPort: e.MIMAMORI_TLS === 'files' ? e.MIMAMORI_TURN_TLS_PORT : 0,
    relayMinPort: e.MIMAMORI_TURN_RELAY_MIN_PORT,
    relayMaxPort: e.MIMAMORI_TURN_RELAY_MAX_PORT,
    peers,
    secret: e.MIMAMORI_TURN_SECRET,
    credentialTtlSeconds,
  };
}

/**
 * A secret the service generates on first start and keeps (0600) in a JSON file of the data dir
 * under `field`: the JWT secret, the TURN shared secret. Kept, so restarts do not sign everyone out.
 */
export async function persistentSecret(file: string, field: string, bytes: number): Promise<string> {
  try {
    const value = (JSON.parse(await fs.promises.readFile(file, 'utf8')) as Record<string, unknown>)[field];
    if (typeof value === 'string' && value.length >= 32) return value;
  } catch {
    // first start
  }
  const secret = crypto.randomBytes(bytes).toString('base64url');
  await fs.promises.writeFile(file, JSON.stringify({ [field]: secret }), { mode: 0o600 });
  return secret;
}
