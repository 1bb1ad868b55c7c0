// What the metadata store holds: small, slowly changing rows (organisations, people, cameras,
// rights, links, displays, jobs) and account security state (sessions, lockouts, second factors).
// Plain data only: both stores (files, PostgreSQL) keep exactly these shapes in memory.
import type { WrappedKey } from '../../recorder/seal/index.ts';
import type { ExportRecord } from '../../playback/index.ts';

export { ROLES, RIGHTS, ROLE_RIGHTS, API_KEY_SCOPES, type Role, type Right, type ApiKeyScope } from '../wire/domain.ts';
import type { ApiKeyScope, GridLayout, Right, Role } from '../wire/domain.ts';

/** A customer (tenant). Nobody sees another organisation's users, cameras, recordings or logs. */
export interface Org {
  id: string;
  name: string;
  createdAt: string;
  /** Contract end: after `at`, every recording, index, camera and account of it is deleted. */
  deletion?: OrgDeletion;
}

export interface OrgDeletion {
  at: string;
  requestedAt: string;
  requestedBy: string;
}

/** What a contract end removed, kept after the organisation itself is gone. */
export interface DeletionReport {
  orgId: string;
  orgName: string;
  scheduledFor: string;
  completedAt: string;
  users: number;
  cameras: number;
  /** Objects and bytes removed from S3 (segments, indexes, exports). */
  objects: number;
  bytes: number;
  errors: string[];
}

export interface User {
  id: string;
  orgId: string;
  username: string;
  /** `scrypt$N$r$p$salt$hash`, base64 parts. */
  passwordHash: string;
  role: Role;
  /** Runs the service itself: creates organisations and ends contracts (not their content). */
  platform?: boolean;
  createdAt: string;
}

export type NewUser = Omit<User, 'id' | 'createdAt'>;

export interface Camera {
  id: string;
  orgId: string;
  name: string;
  /** SHA-256 of the camera secret (the secret is 256 random bits, so a fast hash suffices). */
  secretHash: string;
  /** After a rotation the old secret still works until `until`, so the camera can be reconfigured without downtime. */
  previousSecret?: { hash: string; until: string };
  createdAt: string;
  /** Continuous recording (on by default) and how many days recordings are kept. */
  recording?: { enabled: boolean; retentionDays?: number };
}

export interface CameraChange {
  name?: string;
  recording?: { enabled?: boolean; retentionDays?: number };
}

/** A legal hold: recordings of a camera in [fromMs, toMs) are kept past retention until removed. */
export interface Hold {
  id: string;
  cameraId: string;
  fromMs: number;
  toMs: number;
  reason: string;
  createdAt: string;
  createdBy: string;
}

/** Cameras named together (a site, a floor) so one grant covers them all. */
export interface CameraGroup {
  id: string;
  orgId: string;
  name: string;
  cameraIds: string[];
  createdAt: string;
  /** The group this one sits under (a site's floor under its site); absent at the top. */
  parentId?: string;
}

/** How deep the tree of groups goes: a group at the top is at depth 1 (organisation → site → building → floor … fits). */
export const MAX_GROUP_DEPTH = 8;

export interface CameraGroupChange {
  name?: string;
  cameraIds?: string[];
  /** `null`: to the top; absent: stays where it is. */
  parentId?: string | null;
}

/** Rights of one user on one camera or on every camera of a group. Admins need none. */
export interface Grant {
  id: string;
  orgId: string;
  userId: string;
  cameraId?: string;
  groupId?: string;
  rights: Right[];
  createdAt: string;
  createdBy: string;
}

export interface GrantRequest {
  orgId: string;
  userId: string;
  cameraId?: string;
  groupId?: string;
  /** Empty: the grant is removed. */
  rights: Right[];
  createdBy: string;
}

/** A notice shown in a banner to every signed-in user of its organisation (or of all, when orgId is null). */
export interface Announcement {
  id: string;
  orgId: string | null;
  kind: 'maintenance' | 'incident' | 'info';
  message: string;
  startsAt: string;
  endsAt: string;
  createdAt: string;
  createdBy: string;
}

/** A link that lets anyone holding it watch a clip or a camera live until it expires or is revoked. */
export interface Share {
  /** 128 random bits: the link itself, so it cannot be guessed. */
  id: string;
  cameraId: string;
  kind: 'clip' | 'live';
  fromMs?: number;
  toMs?: number;
  expiresAt: string;
  /** scrypt, when the link needs a password. */
  passwordHash?: string;
  createdBy: string;
  createdAt: string;
  revokedAt?: string;
  uses: number;
  /** Times (epoch ms) of recent wrong passwords, for the per-link throttle. */
  passwordFailures?: number[];
}

/** A wall display: view-only, bound to its cameras; its device token is kept hashed. */
export interface Kiosk {
  id: string;
  orgId: string;
  name: string;
  cameraIds: string[];
  layout: KioskLayout;
  rotateSeconds: number;
  tokenHash: string;
  /** Incremented by every token rotation: access tokens of older generations stop. */
  generation: number;
  createdAt: string;
  createdBy: string;
}

export type KioskLayout = 1 | 4 | 9 | 16;

export interface KioskChange {
  name?: string;
  cameraIds?: string[];
  layout?: KioskLayout;
  rotateSeconds?: number;
}

/**
 * What an API key may do, like a role: `read` plays recordings (timeline, playback, previews),
 * `live` watches live, `export` plays and exports, `manage_cameras` creates and changes cameras.
 * Never more than the organisation administrator who holds it could (see signaling/apiKeys.ts).
 */

/**
 * A key an integration calls the API with (`Authorization: Bearer mk_<id>_<secret>`). Only the
 * SHA-256 of its secret is kept (256 random bits, so a fast hash suffices); revoked keys stay
 * listed, with when they were revoked.
 */
export interface ApiKey {
  /** `key_<16 hex>`; the token carries the hex part, so a lookup is by id. */
  id: string;
  orgId: string;
  name: string;
  scope: ApiKeyScope;
  /** Only the cameras of this group (and none once the group is gone). */
  cameraGroupId?: string;
  expiresAt?: string;
  secretHash: string;
  /** The administrator who created (and holds) it: the key never does more than they could. */
  createdBy: string;
  createdAt: string;
  /** Written at most once a minute per key (see Store.apiKeyUsed). */
  lastUsedAt?: string;
  revokedAt?: string;
  revokedBy?: string;
}

/**
 * What a webhook may be told of (names are stable: integrators branch on them). `webhook.test` is
 * sent by the test button only and cannot be subscribed to. See signaling/webhooks/.
 */
export type WebhookEventType = 'camera.online' | 'camera.offline' | 'camera.not_recording' | 'recording.gap' | 'export.ready' | 'export.failed' | 'contract.end_scheduled';
export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = ['camera.online', 'camera.offline', 'camera.not_recording', 'recording.gap', 'export.ready', 'export.failed', 'contract.end_scheduled'];

/**
 * An organisation's webhook: events POSTed to `url`, signed with `secret` (HMAC-SHA256). The
 * secret is needed to sign, so it is stored as it is (like the data it protects, in the metadata
 * store); it is shown at creation and rotation only, never listed or logged. Its delivery log is
 * kept in memory by the node that delivers (signaling/webhooks/DeliveryLog.ts), not here.
 */
export interface Webhook {
  /** `wh_<12 base64url>`. */
  id: string;
  orgId: string;
  name: string;
  url: string;
  events: WebhookEventType[];
  /** `whsec_<43 base64url>`: the HMAC key is this whole string (UTF-8). */
  secret: string;
  createdBy: string;
  createdAt: string;
  /** Set while it is switched off: nothing is sent to it. */
  disabledAt?: string;
}

export interface WebhookChange {
  name?: string;
  url?: string;
  events?: WebhookEventType[];
  enabled?: boolean;
}

/** An export job: what ExportJobs runs and updates, plus who asked for it and its file name. */
export interface ExportJob extends ExportRecord {
  name: string;
  createdAt: string;
  createdBy: string;
  /** The node that runs it (claimed atomically, so two nodes never run one job). */
  owner?: string;
}

export interface Preferences {
  layout?: GridLayout;
}

/** A saved grid: n×n slots, each a camera or empty. */
export type LayoutSize = 1 | 2 | 3 | 4 | 5;
export const LAYOUT_SIZES: readonly LayoutSize[] = [1, 2, 3, 4, 5];
/** A user keeps at most this many layouts of their own; an organisation this many shared ones. */
export const MAX_LAYOUTS_PER_USER = 50;
export const MAX_LAYOUTS_PER_ORG = 200;

/**
 * A grid someone keeps: a user's own (`userId`), or the organisation's, shared with everyone in
 * it (no `userId`). Slots keep the cameras put there even when a reader may not see one of them
 * (the API shows that reader an empty slot); a deleted camera leaves an empty slot.
 */
export interface SavedLayout {
  id: string;
  orgId: string;
  userId?: string;
  name: string;
  size: LayoutSize;
  /** One per slot, row by row; at most size² (missing trailing slots are empty); null: an empty slot. */
  cameraIds: (string | null)[];
  createdAt: string;
  updatedAt: string;
  createdBy: string;
}

export interface LayoutChange {
  name?: string;
  size?: LayoutSize;
  cameraIds?: (string | null)[];
}

/** A camera's data key, wrapped by a master key (never stored unwrapped). */
export interface DataKeyRow {
  cameraId: string;
  key: WrappedKey;
}

export interface PreferencesRow {
  userId: string;
  preferences: Preferences;
}

/**
 * A sign-in session family: the `sid` of every access token issued in it. Only hashes of refresh
 * tokens are kept; each refresh replaces the current one (single use).
 */
export interface SessionFamily {
  id: string;
  userId: string;
  createdAtMs: number;
  lastUsedAtMs: number;
  currentHash: string;
  /** The hash replaced by the last rotation, and when (the two-tabs grace). */
  previousHash?: string;
  rotatedAtMs?: number;
  /** Hashes already traded in: presenting one again revokes the family (a copied token). */
  usedHashes: string[];
  revokedAtMs?: number;
  revokedReason?: string;
  userAgent?: string;
}

/** Failed sign-ins of one account name (lower-cased, as typed, whether or not it exists). */
export interface LoginFailures {
  name: string;
  /** Times (ms) of failures within the window. */
  at: number[];
  lockedUntilMs?: number;
}

/** Failed sign-ins from one address, for the per-address slow-down. */
export interface AddressFailures {
  address: string;
  at: number[];
}

/** A user's TOTP second factor; the secret sealed under the service's root secret. */
export interface TotpKey {
  userId: string;
  sealed: string;
  enabled: boolean;
  /** The last step whose code was accepted: a code is good once. */
  lastStep?: number;
}

/**
 * Which node holds a camera's media now. Every new publishing session of the camera (wherever it
 * lands) takes it with the next epoch; a node that sees a higher epoch than its own lets go. The
 * epoch is the fencing token: what a node records under an older epoch loses to the newer.
 */
export interface CameraOwner {
  cameraId: string;
  nodeId: string;
  epoch: number;
  sinceMs: number;
  /**
   * Its node asked the camera to move elsewhere (a drain) while it held this epoch. Kept as the
   * epoch it was asked under: a row an older node wrote over keeps a stale value, which never
   * matches the next epoch.
   */
  moveRequestedEpoch?: number;
}

/** A node of the cluster as its heartbeat says (not followed by the change feed: read every second). */
export interface NodeInfo {
  id: string;
  /** How the other nodes reach this one's internal API. */
  internalUrl: string;
  release: string;
  startedAtMs: number;
  /** The database's clock, so nodes with skewed clocks agree on who is silent. */
  seenAtMs: number;
  /** 'stopped': its last heartbeat, after it drained and before it exited (it left; it did not fail). */
  state: 'up' | 'draining' | 'stopped';
  load: { cameras: number; viewers: number; recording: number };
  /** The database schema and internal protocol it knows; undefined from releases before they were written. */
  schemaVersion?: number;
  protocol?: number;
}

/** Every kind of row, by the name of its table. */
export interface Rows {
  orgs: Org;
  deletionReports: DeletionReport;
  users: User;
  cameras: Camera;
  groups: CameraGroup;
  grants: Grant;
  announcements: Announcement;
  dataKeys: DataKeyRow;
  holds: Hold;
  shares: Share;
  kiosks: Kiosk;
  apiKeys: ApiKey;
  webhooks: Webhook;
  exports: ExportJob;
  preferences: PreferencesRow;
  layouts: SavedLayout;
  sessions: SessionFamily;
  loginFailures: LoginFailures;
  addressFailures: AddressFailures;
  totp: TotpKey;
  owners: CameraOwner;
}

export type Table = keyof Rows;

/** The key of each table's rows (unique within the table). */
export const ROW_KEY: { readonly [T in Table]: (row: Rows[T]) => string } = {
  orgs: (r) => r.id,
  deletionReports: (r) => r.orgId,
  users: (r) => r.id,
  cameras: (r) => r.id,
  groups: (r) => r.id,
  grants: (r) => r.id,
  announcements: (r) => r.id,
  dataKeys: (r) => r.cameraId,
  holds: (r) => r.id,
  shares: (r) => r.id,
  kiosks: (r) => r.id,
  apiKeys: (r) => r.id,
  webhooks: (r) => r.id,
  exports: (r) => r.id,
  preferences: (r) => r.userId,
  layouts: (r) => r.id,
  sessions: (r) => r.id,
  loginFailures: (r) => r.name,
  addressFailures: (r) => r.address,
  totp: (r) => r.userId,
  owners: (r) => r.cameraId,
};

/** In dependency order: a row's organisation, user or camera comes before it (restores insert in this order). */
export const TABLES: readonly Table[] = [
  'orgs',
  'deletionReports',
  'users',
  'cameras',
  'groups',
  'grants',
  'announcements',
  'dataKeys',
  'holds',
  'shares',
  'kiosks',
  'apiKeys',
  'webhooks',
  'exports',
  'preferences',
  'layouts',
  'sessions',
  'loginFailures',
  'addressFailures',
  'totp',
  'owners',
];

/** Every row of every table at one moment: what backups hold and migrate-store copies. */
export type Snapshot = { [T in Table]: Rows[T][] };

export const emptySnapshot = (): Snapshot => Object.fromEntries(TABLES.map((t) => [t, []])) as unknown as Snapshot;

/** The whole metadata of a store, portable to a store of either kind (backups, migrate-store). */
export interface MetadataExport {
  rows: Snapshot;
  /** Audit rows exactly as written (JSON lines with their hash chain), oldest first. */
  audit: string[];
  /** Secrets the store generated and keeps (the token signing secret, when not configured). */
  secrets: { jwtSecret?: string };
}

/**
 * Rows that name a row that is not there (a grant of a deleted camera, left by an old version of
 * the files store, which has no foreign keys): PostgreSQL would refuse them. Returns the rows
 * without them, and what was left out.
 */
export function withoutDangling(rows: Snapshot): { rows: Snapshot; dropped: string[] } {
  const has = (table: 'orgs' | 'users' | 'cameras' | 'groups', id: string | undefined) => id === undefined || keys[table].has(id);
  const keys = {
    orgs: new Set(rows.orgs.map((r) => r.id)),
    users: new Set<string>(),
    cameras: new Set<string>(),
    groups: new Set<string>(),
  };
  const dropped: string[] = [];
  const keep = <T>(table: string, list: T[], ok: (row: T) => boolean, key: (row: T) => string): T[] =>
    list.filter((row) => {
      if (ok(row)) return true;
      dropped.push(`${table} ${key(row)}`);
      return false;
    });
  const out = { ...rows };
  out.users = keep('users', rows.users, (u) => has('orgs', u.orgId), (u) => u.id);
  for (const u of out.users) keys.users.add(u.id);
  out.cameras = keep('cameras', rows.cameras, (c) => has('orgs', c.orgId), (c) => c.id);
  for (const c of out.cameras) keys.cameras.add(c.id);
  out.groups = keep('groups', rows.groups, (g) => has('orgs', g.orgId), (g) => g.id);
  for (const g of out.groups) keys.groups.add(g.id);
  // A group whose parent is gone (deleted by a release that did not move its children) stays, at the top.
  out.groups = out.groups.map(({ parentId, ...g }) => (parentId !== undefined && keys.groups.has(parentId) ? { ...g, parentId } : g));
  out.grants = keep('grants', rows.grants, (g) => has('orgs', g.orgId) && has('users', g.userId) && has('cameras', g.cameraId) && has('groups', g.groupId), (g) => g.id);
  out.announcements = keep('announcements', rows.announcements, (a) => a.orgId === null || has('orgs', a.orgId), (a) => a.id);
  out.holds = keep('holds', rows.holds, (h) => has('cameras', h.cameraId), (h) => h.id);
  out.shares = keep('shares', rows.shares, (s) => has('cameras', s.cameraId), (s) => s.id);
  out.kiosks = keep('kiosks', rows.kiosks, (k) => has('orgs', k.orgId), (k) => k.id);
  out.apiKeys = keep('apiKeys', rows.apiKeys ?? [], (k) => has('orgs', k.orgId), (k) => k.id);
  out.webhooks = keep('webhooks', rows.webhooks ?? [], (w) => has('orgs', w.orgId), (w) => w.id);
  out.exports = keep('exports', rows.exports, (e) => has('cameras', e.cameraId), (e) => e.id);
  out.preferences = keep('preferences', rows.preferences, (p) => has('users', p.userId), (p) => p.userId);
  // Snapshots of releases before saved layouts have none; a deleted camera's slot is left empty.
  out.layouts = keep('layouts', rows.layouts ?? [], (l) => has('orgs', l.orgId) && has('users', l.userId), (l) => l.id).map((l) =>
    l.cameraIds.every((id) => id === null || keys.cameras.has(id)) ? l : { ...l, cameraIds: l.cameraIds.map((id) => (id !== null && keys.cameras.has(id) ? id : null)) },
  );
  return { rows: out, dropped };
}

/** One row added, changed or removed, in whichever node made the change. */
export type Change = { [T in Table]: { table: T; key: string; before: Rows[T] | undefined; after: Rows[T] | undefined } }[Table];

/** Sign-in lockout rules, passed to the store so its atomic update applies them. */
export interface LockoutPolicy {
  /** Failures within the window that lock the name. */
  failures: number;
  windowMs: number;
  lockMs: number;
}
