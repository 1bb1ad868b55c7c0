// The Mimamori service: Hono (REST, WHIP/WHEP, client pages) and socket.io on one port, in front
// of the SFU. This is the only place that decides who may do what.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getRequestListener } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono, type Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { Server as SocketServer } from 'socket.io';
import { RELEASE, type Config } from '../config/index.ts';
import { onListenerFailure } from '../errors/index.ts';
import { pagePolicy, secureRequest, STRICT_TRANSPORT_SECURITY } from './browserPolicy.ts';
import { askHandover, callNode, Cluster, Drain, InternalCallError, Relays, startInternalServer } from './cluster/index.ts';
import { Sfu } from '../sfu/index.ts';
import { DataKeys, indexWriter, MasterKeys, openStorage, Recorder, type RecorderCatalog, type Storage } from '../recorder/index.ts';
import { hashPassword, Tokens } from './auth.ts';
import type { AppEnv, Deps } from './context.ts';
import { ApiError, toErrorBody, unauthorized } from './errors.ts';
import { audit, auditEvent, bearerToken, fresh, peerAddress, verifiedToken } from './middleware.ts';
import { ApiKeyRateLimiter, authenticateApiKey, isApiKeyToken, rateLimited } from './apiKeys.ts';
import { apiKeyRoutes } from './routes/apiKeys.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { Webhooks } from './webhooks/index.ts';
import { clientAddress, trustedProxies } from './clientAddress.ts';
import { accessOfClaims } from './access.ts';
import { Hub } from './Hub.ts';
import { HttpSessions, sessionCallReply, type SessionCall } from './HttpSessions.ts';
import { createLogger, type Logger } from './log.ts';
import { Peer } from './Peer.ts';
import { accountAdminRoutes, authRoutes } from './routes/auth.ts';
import { Accounts } from './accounts/index.ts';
import { cameraRoutes } from './routes/cameras.ts';
import { siteRoutes } from './routes/sites.ts';
import { userRoutes } from './routes/users.ts';
import { grantRoutes } from './routes/grants.ts';
import { groupRoutes } from './routes/groups.ts';
import { layoutRoutes } from './routes/layouts.ts';
import { orgRoutes } from './routes/orgs.ts';
import { announcementRoutes } from './routes/announcements.ts';
import { ContractEnd } from './ContractEnd.ts';
import { sfuRoutes } from './routes/sfu.ts';
import { nodeRoutes } from './routes/nodes.ts';
import { recorderRoutes } from './routes/recorder.ts';
import { cameraHealthRoutes } from './routes/cameraHealth.ts';
import { whipRoutes } from './routes/whip.ts';
import { playbackRoutes } from './routes/playback.ts';
import { exportRoutes } from './routes/exports.ts';
import { shareRoutes } from './routes/shares.ts';
import { kioskAdminRoutes, kioskSessionRoutes } from './routes/kiosks.ts';
import { meRoutes } from './routes/me.ts';
import { healthRoutes } from './routes/health.ts';
import { apiDocument, docsRoutes } from './routes/docs.ts';
import { Monitoring } from './monitoring.ts';
import { ExportJobs, Playback } from '../playback/index.ts';
import { backupFilesOf, FileStore, openStore, SCHEMA_VERSION, type Store, type User } from './store/index.ts';
import { Revocations } from './Revocations.ts';
import { Backups } from '../backup/index.ts';
import { importLegacyAudit } from './audit/index.ts';
import { auditRoutes } from './routes/audit.ts';
import { loadTls } from './tls.ts';
import { TurnRelay } from '../turn-config/index.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLIENT_DIR = path.join(ROOT, 'dist', 'client');
/** Hard cap for one socket.io message; the peer answers larger-than-protocol ones with an error. */
const SOCKET_MAX_BYTES = 1024 * 1024;
/** A draining node waits this long for its browser viewers to move by themselves (they take 1–2 s). */
const VIEWERS_MOVE_MS = 8000;

export interface StartInfo {
  url: string;
  port: number;
  /** Set only on the very first start when no admin password was configured. */
  generatedAdminPassword?: string;
}

export class Service {
  readonly #deps: Deps;
  readonly #server: http.Server | https.Server;
  readonly #io: SocketServer;
  #backups: Backups | undefined;
  #revocations: Revocations | undefined;
  #internal: http.Server | undefined;
  readonly #storage: Storage;
  readonly #monitoring: Monitoring;
  readonly #contractEnd: ContractEnd;
  #closed = false;

  static async create(config: Config, log: Logger = createLogger(config.logLevel)): Promise<{ service: Service; info: StartInfo }> {
    // A listener that throws no longer breaks the emitter's cascade (errors/emitter.ts): it is logged here.
    onListenerFailure((err, emitter, event) => log.error({ event: 'listener_failed', emitter, on: event, err }, `a listener of ${emitter} '${event}' failed; the others ran`));
    const store = await openStore(config, log);
    const audit = store.audit;
    if (store instanceof FileStore) await importLegacyAudit(store.audit, config.dataDir, log);
    const jwtSecret = config.jwtSecret ?? (await store.sharedSecret('jwtSecret', 48));
    const tokens = new Tokens(jwtSecret);
    const accounts = new Accounts(store, jwtSecret);
    const generatedAdminPassword = await ensureAdmin(store, config);
    const sfu = await Sfu.create({
      workers: config.workers,
      rtc: config.rtc,
      viewersPerRouter: config.viewersPerRouter,
    });
    sfu.on('workerDied', (index, error) => log.error({ event: 'worker_died', index, err: error }, 'mediasoup worker died; restarting it'));
    sfu.on('workerRestarted', (index, pid) => log.warn({ event: 'worker_restarted', index, pid }, 'mediasoup worker restarted'));
    const hub = new Hub(sfu);
    const revocations = new Revocations(store, hub);
    let storage: Storage;
    try {
      storage = await openStorage(config, {
        ownProcess: true,
        onTrouble: (t) => log.error(t, t.event === 's3_process_exited' ? 'the embedded S3 server\'s process exited; starting it again (uploads wait on the spool)' : 'the embedded S3 server\'s process did not start again; trying again'),
      });
    } catch (error) {
      sfu.close();
      throw error;
    }
    const masterKeys = await MasterKeys.load({ dataDir: config.dataDir });
    assertMasterKeysFor(store, masterKeys, log);
    const keys = new DataKeys(masterKeys, store);
    let recording: Recorder | undefined;
    const cluster = Cluster.start({
      store,
      sfu,
      log,
      nodeId: config.nodeId,
      ...(config.internalUrl ? { internalUrl: config.internalUrl } : {}),
      release: RELEASE,
      schemaVersion: SCHEMA_VERSION,
      load: () => ({
        cameras: [...sfu.rooms.values()].filter((r) => r.live).length,
        viewers: [...sfu.rooms.values()].reduce((n, r) => n + r.viewerCount, 0),
        recording: recording?.recordingCameraIds.size ?? 0,
      }),
    });
    const internalSecret = cluster.clustered && config.internalUrl ? await store.sharedSecret('clusterSecret', 32) : undefined;
    const recorder = await Recorder.create({
      sfu,
      store: storage.store,
      keys,
      catalog: recorderCatalog(store, config),
      dataDir: config.dataDir,
      settings: config.recording,
      log,
      // A node of a cluster writes its own index objects and marks its segments with the camera's epoch.
      // Its index objects go up every 10 s (not 5 min): the other nodes read them for playback.
      ...(cluster.clustered ? { indexFlushIntervalMs: 10_000, cluster: { writer: indexWriter(config.nodeId), holder: (id: string) => cluster.holder(id), arrival: (id: string) => cluster.arrival(id), wasDeadSince: (node: string, sinceMs: number) => cluster.wasDeadSince(node, sinceMs), handover: (from: string, cameraId: string, epoch: number, startMs: number) => askHandover({ cluster, secret: internalSecret ?? '' }, from, cameraId, epoch, startMs) } } : {}),
    });
    recording = recorder;
    log.info({ event: 'storage', store: storage.store.description }, 'recordings go to object storage');
    const playback = new Playback({ recorder });
    const exports = new ExportJobs({
      clip: (cameraId, fromMs, toMs, onProgress) => playback.clip(cameraId, fromMs, toMs, onProgress),
      store: storage.store,
      keys,
      jobs: store,
      owner: config.nodeId,
      log,
    });
    // coturn (embedded) runs beside the service; joins hand out its time-limited credentials.
    const turn = await TurnRelay.start(config, log);
    // Viewers on any node: cameras held elsewhere are relayed in over the nodes' internal API.
    let relays: Relays | undefined;
    let drain: Drain | undefined;
    let internal: http.Server | undefined;
    // Set once the socket server exists: a drain sends this node's viewers elsewhere.
    let endViewers = async (_untilMs: number) => {};
    // A WHIP/WHEP session's later requests reach any node: those for another node's are passed on.
    const httpSessions = new HttpSessions({
      nodeId: config.nodeId,
      ...(cluster.clustered && internalSecret
        ? {
            forward: async (nodeId: string, call: SessionCall) => {
              const node = cluster.nodes().find((n) => n.id === nodeId && n.alive);
              // Its node is gone, and the session with it.
              if (!node) throw new ApiError(404, 'session_not_found', `session ${call.sessionId} not found (its node ${nodeId} is not running)`);
              try {
                return await callNode({ url: node.internalUrl, secret: internalSecret, method: 'POST', path: '/internal/http-sessions', body: call, reply: sessionCallReply, timeoutMs: 3000 });
              } catch (err) {
                if (err instanceof InternalCallError && err.status === 404) throw new ApiError(404, 'session_not_found', `session ${call.sessionId} not found (it ended)`);
                if (err instanceof InternalCallError) throw new ApiError(503, 'node_unreachable', `the node of session ${call.sessionId} did not answer; try again`);
                throw err;
              }
            },
          }
        : {}),
    });
    if (cluster.clustered && config.internalUrl && internalSecret) {
      const secret = internalSecret;
      relays = new Relays({ cluster, store, sfu, log, secret, listen: { ip: config.rtc.listenIp, announcedAddress: new URL(config.internalUrl).hostname } });
      drain = new Drain({
        cluster,
        store,
        sfu,
        log,
        // Frames up to the cut are still arriving from the camera's old session: give them a moment.
        handover: async (cameraId, startMs) => recorder.handover(cameraId, startMs) && (await new Promise<boolean>((r) => setTimeout(() => r(true), 400))),
        uploaded: () => recorder.finish(),
        viewersFollowed: (cameraId) => relays!.followed(cameraId),
        endViewers: (untilMs) => endViewers(untilMs),
        secret,
        audit: (cameraId, detail) => void auditEvent(deps, {}, { actor: `node:${config.nodeId}`, action: 'camera.moved', cameraId, outcome: 'ok', detail }),
        ...config.drain,
      });
      const app = new Hono().route('/', relays.routes()).route('/', drain.routes()).route('/', httpSessions.routes());
      internal = await startInternalServer({ url: config.internalUrl, secret, app, log });
    }
    // Webhooks hear of cameras, gaps and exports from here on; this node delivers what happens on it.
    const webhooks = Webhooks.create({ store, sfu, recorder, log, nodeId: config.nodeId, settings: config.webhooks });
    const deps: Deps = { config, store, tokens, accounts, sfu, log, hub, httpSessions, recorder, playback, exports, audit, turn, cluster, webhooks, ...(relays ? { relays } : {}), ...(drain ? { drain } : {}) };
    const tls = await loadTls(config);
    const monitoring = Monitoring.create(deps);
    webhooks.watchMonitoring(monitoring);
    const app = createApp(deps, monitoring);
    const listener = getRequestListener(app.fetch);
    const server = tls
      ? https.createServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, listener)
      : http.createServer(listener);
    const io = new SocketServer(server, { maxHttpBufferSize: SOCKET_MAX_BYTES, serveClient: false });
    const service = new Service(deps, server, io, storage, monitoring);
    endViewers = async (untilMs: number) => {
      // Browser viewers connect again through the load balancer (which no longer sends them here)
      // and end their connection here once the new one plays: no black frame. Those that do not
      // within VIEWERS_MOVE_MS, and WHEP players, are ended and join again.
      const told = hub.tellLeaving('this node is draining');
      const until = Math.min(untilMs, Date.now() + VIEWERS_MOVE_MS);
      while (hub.stillConnected(told) > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      const left = hub.stillConnected(told);
      log.info({ event: 'drain_viewers', told: told.length, moved: told.length - left }, 'viewers moved to other nodes');
      io.disconnectSockets(true);
      hub.moveAll('this node is draining');
    };
    service.#revocations = revocations;
    service.#internal = internal;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    const host = config.host === '0.0.0.0' || config.host === '::' ? (tls ? config.rtc.announcedAddress : '127.0.0.1') : config.host;
    const url = `${tls ? 'https' : 'http'}://${host}:${port}`;
    service.#backups = await Backups.start({
      dataDir: config.dataDir,
      store: storage.store,
      masterKeys,
      log,
      ...config.backup,
      // A database store: its rows (one transaction), made by one node of those sharing it.
      ...(store.kind === 'postgres' ? { metadata: () => backupFilesOf(store, config.dataDir), claim: (following: number) => store.claimBackupSlot(following, config.nodeId) } : {}),
    });
    monitoring.watchBackups(service.#backups);
    log.info({ event: 'started', url, tls: tls?.source ?? 'off', workers: config.workers }, 'Mimamori started');
    return { service, info: { url, port, generatedAdminPassword } };
  }

  private constructor(deps: Deps, server: http.Server | https.Server, io: SocketServer, storage: Storage, monitoring: Monitoring) {
    this.#deps = deps;
    this.#monitoring = monitoring;
    this.#contractEnd = new ContractEnd(deps);
    this.#storage = storage;
    this.#server = server;
    this.#io = io;
    io.use(async (socket, next) => {
      const raw: unknown = socket.handshake.auth?.token;
      try {
        if (typeof raw !== 'string') throw unauthorized('connect with auth: { token }');
        const { claims, exp } = await fresh(deps, () => {
          const verified = verifiedToken(deps, raw);
          if (verified.claims.typ === 'share' || verified.claims.typ === 'kiosk') accessOfClaims(deps, verified.claims);
          return verified;
        });
        if (claims.typ === 'playback') throw unauthorized('a playback token cannot open a live connection');
        socket.data.claims = claims;
        socket.data.exp = exp;
      } catch (error) {
        // The client reads { code, message } from the connect_error's message.
        return next(new Error(JSON.stringify(toErrorBody(error).body.error)));
      }
      next();
    });
    io.on('connection', (socket) => {
      const peer = new Peer(socket, deps, socket.data.claims, socket.data.exp * 1000);
      deps.hub.add(peer);
      socket.on('request', (request: unknown, ack: unknown) => void peer.handle(request, ack));
      socket.on('disconnect', () => {
        peer.close();
        deps.hub.remove(peer);
      });
    });
  }

  get sfu(): Sfu {
    return this.#deps.sfu;
  }
  get store(): Store {
    return this.#deps.store;
  }
  get connections(): number {
    return this.#deps.hub.size;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#deps.hub.stop();
    // First: rooms closing below must not queue offline events, and attempts under way are cut short.
    await this.#deps.webhooks.close();
    await this.#backups?.close();
    this.#monitoring.close();
    await this.#contractEnd.close();
    this.#io.disconnectSockets(true);
    await new Promise<void>((resolve) => this.#io.close(() => resolve()));
    this.#server.closeAllConnections?.();
    await this.#deps.exports.close();
    // Open segments are finished on the spool before the media goes away.
    await this.#deps.recorder.close();
    this.#deps.sfu.close();
    await this.#deps.turn.close();
    await this.#storage.close();
    this.#revocations?.close();
    this.#deps.relays?.close();
    this.#internal?.closeAllConnections();
    this.#internal?.close();
    await this.#deps.cluster.stopped();
    this.#deps.cluster.close();
    // Last: rows written while everything else shut down are still kept.
    await this.#deps.store.close();
  }

  get recorder(): Recorder {
    return this.#deps.recorder;
  }

  /** A node of a cluster: its drain (SIGTERM, `mimamori drain`, POST /api/nodes/:id/drain). */
  get drain(): Drain | undefined {
    return this.#deps.drain;
  }
}

export function createApp(deps: Deps, monitoring: Monitoring = Monitoring.create(deps)): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const proxies = trustedProxies(deps.config.trustedProxies);
  app.use(async (c, next) => {
    const requestId = c.req.header('x-request-id')?.slice(0, 64) ?? crypto.randomUUID();
    c.set('requestId', requestId);
    c.set('clientIp', clientAddress(peerAddress(c), c.req.header('x-forwarded-for'), proxies));
    // Stop browsers from framing pages or sniffing types. Put on Node's response itself, where
    // headers a route sets (the docs page's own policy) still win: through c.header every answer
    // would carry a WHATWG Headers object, whose building and reading back cost a tenth of a small
    // request's time (and headers added to a finished response make Hono rebuild it).
    setHeader(c, 'X-Request-Id', requestId);
    setHeader(c, 'X-Content-Type-Options', 'nosniff');
    setHeader(c, 'X-Frame-Options', 'DENY');
    setHeader(c, 'Referrer-Policy', 'no-referrer');
    setHeader(c, 'Content-Security-Policy', pagePolicy(c.req.header('host')));
    if (secureRequest(c)) setHeader(c, 'Strict-Transport-Security', STRICT_TRANSPORT_SECURITY);
    const started = performance.now();
    await next();
    accessLog(deps.log, c, started);
  });
  app.use(apiKeyCalls(deps));
  app.route('/', healthRoutes(deps, monitoring));
  app.route('/api/auth', authRoutes(deps));
  // Before the camera routes: timeline and playback also take share and kiosk tokens.
  app.route('/api', playbackRoutes(deps));
  app.route('/api', exportRoutes(deps));
  app.route('/api/cameras', cameraRoutes(deps, monitoring));
  app.route('/api/sites', siteRoutes(deps, monitoring));
  app.route('/api/shares', shareRoutes(deps));
  app.route('/api/kiosks', kioskAdminRoutes(deps));
  app.route('/api/kiosk', kioskSessionRoutes(deps));
  app.route('/api/me', meRoutes(deps));
  app.route('/api/users', accountAdminRoutes(deps));
  app.route('/api/users', userRoutes(deps));
  app.route('/api/grants', grantRoutes(deps));
  app.route('/api/groups', groupRoutes(deps));
  app.route('/api/layouts', layoutRoutes(deps));
  app.route('/api/orgs', orgRoutes(deps));
  app.route('/api/announcements', announcementRoutes(deps));
  app.route('/api/sfu', sfuRoutes(deps));
  app.route('/api/nodes', nodeRoutes(deps));
  app.route('/api/recorder', recorderRoutes(deps, monitoring));
  app.route('/api/camera-health', cameraHealthRoutes(deps, monitoring));
  app.route('/api/audit', auditRoutes(deps));
  app.route('/api/api-keys', apiKeyRoutes(deps));
  app.route('/api/webhooks', webhookRoutes(deps));
  app.route('/', whipRoutes(deps));
  const document = apiDocument(() => app.routes);
  app.route('/api', docsRoutes(document));
  app.all('/api/*', (c) => c.json({ error: { code: 'not_found', message: `no API route ${c.req.method} ${c.req.path}` } }, 404));
  app.use('/*', serveStatic({ root: path.relative(process.cwd(), CLIENT_DIR) || '.' }));
  app.get('/', (c) =>
    c.text('The browser client is not built. Run "bash setup/setup.sh" (it builds client/ into dist/client).', 503),
  );
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `nothing at ${c.req.path}` } }, 404));
  // Every route is in: build the document now, so an undocumented route stops the start (and every test).
  document();
  app.onError((err, c) => {
    const { status, body } = toErrorBody(err);
    if (status >= 500) deps.log.error({ err, requestId: c.get('requestId'), path: c.req.path }, 'request failed');
    return c.json(body, status as 400);
  });
  return app;
}

/** lastUsedAt of a key is written at most this often (by any node: the store compares with the stored time). */
const API_KEY_USED_EVERY_MS = 60_000;

/**
 * Calls made with an API key (`Authorization: Bearer mk_…`, on /api and WHEP): the key is checked
 * (401 when it does not work), its rate limit taken (429 with Retry-After), its last use noted
 * (coalesced), and the call audited under the key's name unless the route wrote its own row for it
 * (a playback, an export, a change). What the key may do is decided by the routes, as for users.
 */
function apiKeyCalls(deps: Deps) {
  const limiter = new ApiKeyRateLimiter(deps.config.apiKeys);
  /** When this node last asked the store to note each key's use. */
  const noted = new Map<string, number>();
  return createMiddleware<AppEnv>(async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    // Not WHIP: an encoder's bearer there may be a camera secret, whatever its first letters.
    if (!token || !isApiKeyToken(token) || !(c.req.path.startsWith('/api/') || c.req.path.startsWith('/whep/'))) return next();
    const key = await fresh(deps, () => authenticateApiKey(deps.store, token));
    c.set('apiKeyId', key.id);
    const wait = limiter.take(key.id);
    if (wait !== undefined) {
      c.header('Retry-After', String(wait));
      return c.json(toErrorBody(rateLimited(wait)).body, 429);
    }
    const now = Date.now();
    if ((noted.get(key.id) ?? 0) <= now - API_KEY_USED_EVERY_MS) {
      noted.set(key.id, now);
      deps.store.apiKeyUsed(key.id, new Date(now), API_KEY_USED_EVERY_MS).catch((err: unknown) => deps.log.warn({ event: 'api_key_used_failed', keyId: key.id, err }, 'could not note the last use of an API key'));
    }
    await next();
    if (c.get('audited')) return;
    const status = c.res.status;
    audit(deps, c, {
      actor: `a:${key.id}`,
      action: 'api_key.call',
      outcome: status < 400 ? 'ok' : status < 500 ? 'refused' : 'error',
      detail: { method: c.req.method, path: loggedPath(c.req.path), status },
    });
  });
}

/** The path as logs show it: playback tokens and share ids cut out. */
function loggedPath(path: string): string {
  return path.replace(/^\/api\/play\/[^/]+/, '/api/play/[token]').replace(/^\/api\/shares\/[^/]+/, '/api/shares/[id]');
}

/** A header on Node's response when there is one (see createApp), else on Hono's. */
function setHeader(c: Context<AppEnv>, name: string, value: string): void {
  if (c.env?.outgoing) c.env.outgoing.setHeader(name, value);
  else c.header(name, value);
}

/**
 * One line per request. Paths that carry secrets are cut: playback tokens ride in /api/play/<token>/
 * and a share link's id is the link itself; query strings (download tokens) are never logged.
 * Media fragments and probes go to debug, or a player would write a line per second.
 */
function accessLog(log: Logger, c: Context<AppEnv>, started: number): void {
  // Requests are logged at info or debug: above info (warn, error) nothing is looked at.
  if (!log.isLevelEnabled('info')) return;
  const path = loggedPath(c.req.path);
  const quiet = path.startsWith('/api/play/') || path === '/healthz' || path === '/readyz' || path === '/metrics' || !path.startsWith('/api/') && !path.startsWith('/whip') && !path.startsWith('/whep');
  const level = quiet ? 'debug' : 'info';
  // At the default level most of these lines are dropped: do not build them.
  if (!log.isLevelEnabled(level)) return;
  const user = c.get('user') as User | undefined;
  log[level](
    { event: 'request', requestId: c.get('requestId'), method: c.req.method, path, status: c.res.status, ms: Math.round((performance.now() - started) * 10) / 10, ...(user ? { userId: user.id, orgId: user.orgId } : {}), ...(c.get('apiKeyId') ? { apiKeyId: c.get('apiKeyId') } : {}) },
    'request',
  );
}

function recorderCatalog(store: Store, config: Config): RecorderCatalog {
  return {
    recording: (cameraId) => {
      const cam = store.camera(cameraId);
      if (!cam) return undefined;
      return { enabled: cam.recording?.enabled ?? true, retentionDays: cam.recording?.retentionDays ?? config.recording.retentionDays };
    },
    holds: (cameraId) => store.holdsOf(cameraId),
    cameraIds: () => store.cameras.map((c) => c.id),
  };
}

/**
 * Every camera's data key in the store must open with this node's master keys. Nodes that share a
 * database but not their master keys would each record under keys the others cannot open: such a
 * node refuses to start, saying which key it lacks.
 */
function assertMasterKeysFor(store: Store, masterKeys: MasterKeys, log: Logger): void {
  const missing = [...new Set(store.wrappedKeys().map((k) => k.key.masterKeyId))].filter((id) => !masterKeys.get(id));
  if (missing.length === 0) return;
  const message =
    `the metadata store holds camera data keys wrapped by master key ${missing.join(', ')}, which this node does not have (it has ${masterKeys.ids.join(', ')}); ` +
    'give every node the same MIMAMORI_MASTER_KEYS (or the master-keys.json of the node that made them)';
  if (store.kind === 'postgres') throw new Error(message);
  log.error({ event: 'master_key_missing', missing }, `${message}: recordings of those cameras cannot be opened`);
}

/** Creates the first admin on first start; returns the password only if it was generated. */
async function ensureAdmin(store: Store, config: Config): Promise<string | undefined> {
  if (store.users.some((u) => u.platform)) return undefined;
  const password = config.admin.password ?? crypto.randomBytes(12).toString('base64url');
  // The first admin runs the service and is the admin of its first organisation; of several nodes
  // starting on an empty database, one creates it and the others find it.
  const { created } = await store.ensurePlatformAdmin(config.admin.username, await hashPassword(password));
  return created && !config.admin.password ? password : undefined;
}
