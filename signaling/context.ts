// What every route can reach, and the typed Hono environment (the authenticated caller).
import type { Sfu } from '../sfu/index.ts';
import type { Config } from '../config/index.ts';
import type { Tokens } from './auth.ts';
import type { Logger } from './log.ts';
import type { Store, User } from './store/index.ts';
import type { Hub } from './Hub.ts';
import type { Recorder } from '../recorder/index.ts';
import type { ExportJobs, Playback } from '../playback/index.ts';
import type { Access } from './access.ts';
import type { AuditLog } from './audit/index.ts';
import type { TurnRelay } from '../turn-config/index.ts';
import type { Accounts } from './accounts/index.ts';
import type { Cluster, Drain, Relays } from './cluster/index.ts';
import type { HttpSessions } from './HttpSessions.ts';
import type { Webhooks } from './webhooks/index.ts';
import type { HttpBindings } from '@hono/node-server';

export interface Deps {
  config: Config;
  store: Store;
  tokens: Tokens;
  /** Sessions (refresh-token families), lockouts and TOTP: signaling/accounts. */
  accounts: Accounts;
  sfu: Sfu;
  log: Logger;
  hub: Hub;
  recorder: Recorder;
  playback: Playback;
  exports: ExportJobs;
  /** Append-only audit log with its own files and retention: signaling/audit. */
  audit: AuditLog;
  /** STUN/TURN servers and time-limited TURN credentials for joins. */
  turn: TurnRelay;
  /** This node among the others sharing its database; camera ownership. */
  cluster: Cluster;
  /** WHIP/WHEP sessions: those here, and the way to those of the other nodes. */
  httpSessions: HttpSessions;
  /** Cameras held by other nodes, relayed in for viewers here (a cluster only). */
  relays?: Relays;
  /** Leaving the cluster on purpose: cameras moved, viewers sent elsewhere (a cluster only). */
  drain?: Drain;
  /** Signed callbacks to the organisations' webhooks, delivered in the background by this node. */
  webhooks: Webhooks;
}

export interface AppEnv {
  /** Node's request and response under @hono/node-server; absent when the app is called directly (app.request). */
  Bindings: Partial<HttpBindings>;
  Variables: {
    user: User;
    /** Set by requireAccess (a user, an opened share link, a kiosk or an API key) and requireUserOrKey. */
    access: Access;
    /** The API key a request was made with (set by createApp once the key checked out). */
    apiKeyId: string | undefined;
    /** A row naming the API key was written for this request (else createApp writes `api_key.call`). */
    audited: boolean | undefined;
    requestId: string;
    /** The client's address (what a trusted load balancer forwarded, else the socket's peer). */
    clientIp: string | undefined;
  };
}
