// The one interface to the service's metadata, whichever store holds it. Reads are synchronous
// (the Catalog in memory); writes are domain operations that are atomic where several nodes could
// race (one refresh of a token wins, the last administrator stays, a data key is created once).
import type { Catalog } from './Catalog.ts';
import type { AuditLog } from '../audit/index.ts';
import type {
  Announcement,
  ApiKey,
  Camera,
  CameraChange,
  CameraGroup,
  CameraGroupChange,
  DataKeyRow,
  DeletionReport,
  ExportJob,
  Grant,
  GrantRequest,
  Hold,
  Kiosk,
  CameraOwner,
  KioskChange,
  LayoutChange,
  LockoutPolicy,
  MetadataExport,
  NodeInfo,
  NewUser,
  Org,
  OrgDeletion,
  Preferences,
  Role,
  SavedLayout,
  SessionFamily,
  Share,
  Snapshot,
  User,
  Webhook,
  WebhookChange,
} from './model.ts';
import type { WrappedKey } from '../../recorder/seal/index.ts';

export type StoreKind = 'files' | 'postgres';

/** Secrets the service generates once: token signing, and the nodes' internal API. */
export type SharedSecretName = 'jwtSecret' | 'clusterSecret';

/** Whether writes can be made now (the files store: always). */
export interface StoreHealth {
  up: boolean;
  /** What is wrong and what to do, when not up. */
  reason?: string;
  /** Since when it has been down (epoch ms). */
  downSinceMs?: number;
}

export type ExportPatch = Partial<Omit<ExportJob, 'id' | 'cameraId' | 'createdAt' | 'createdBy' | 'name' | 'fromMs' | 'toMs'>>;

export interface Store extends Pick<Catalog, PublicReads> {
  readonly kind: StoreKind;
  /** Where the metadata lives, without secrets (a folder, or the database's host/port/name). */
  readonly description: string;
  /** The append-only audit log kept beside the metadata (day files, or a table). */
  readonly audit: AuditLog;
  health(): StoreHealth;
  /**
   * A secret the service generates once (the token signing secret when none is configured): kept
   * in the data folder by the files store, in the database by PostgreSQL so every node shares it.
   */
  sharedSecret(name: SharedSecretName, bytes: number): Promise<string>;
  /** Waits for changes made on other nodes up to now to be in memory (tests, reads after a redirect). */
  sync(): Promise<void>;
  close(): Promise<void>;

  // --- Organisations -------------------------------------------------------------------------
  /** A new organisation, with its first administrator when given (both or neither). */
  addOrg(name: string, firstAdmin?: Omit<NewUser, 'orgId' | 'role' | 'platform'>): Promise<{ org: Org; admin?: User }>;
  renameOrg(id: string, name: string): Promise<Org | undefined>;
  setOrgDeletion(id: string, deletion: OrgDeletion | undefined): Promise<Org | undefined>;
  /** Removes the organisation and every row that belongs to it (its recordings must be deleted first), keeping only the report. */
  removeOrg(id: string, report: DeletionReport): Promise<void>;
  /**
   * The service's first administrator, created with its organisation when no service operator
   * exists yet; several nodes starting at once on an empty database create exactly one.
   */
  ensurePlatformAdmin(username: string, passwordHash: string): Promise<{ created: boolean; user: User }>;

  // --- Users ---------------------------------------------------------------------------------
  /** Throws StoreError username_taken. */
  addUser(user: NewUser): Promise<User>;
  /** Throws StoreError last_admin when it would leave the organisation without an administrator. */
  setUserRole(id: string, role: Role): Promise<User | undefined>;
  setUserPassword(id: string, passwordHash: string): Promise<User | undefined>;
  /** Removes the user with their grants and preferences. Throws StoreError last_admin. */
  deleteUser(id: string): Promise<boolean>;

  // --- Cameras -------------------------------------------------------------------------------
  addCamera(orgId: string, name: string, secretHash: string): Promise<Camera>;
  /** A new secret; the old one keeps working until `graceUntil` (if given) so the camera is never cut off. */
  setCameraSecret(id: string, secretHash: string, graceUntil?: Date): Promise<Camera | undefined>;
  updateCamera(id: string, change: CameraChange): Promise<Camera | undefined>;
  /** Deletes the camera, its grants, holds, shares, exports and data key, and takes it out of groups and kiosks. */
  deleteCamera(id: string): Promise<boolean>;

  // --- Groups and grants ---------------------------------------------------------------------
  /**
   * Under `parentId` when given: throws StoreError group_not_found when that is not a group of the
   * same organisation, group_too_deep past MAX_GROUP_DEPTH.
   */
  addGroup(group: Omit<CameraGroup, 'id' | 'createdAt'>): Promise<CameraGroup>;
  /** A move (`parentId`) is checked as in addGroup, and throws StoreError group_cycle when it would put the group under itself. */
  updateGroup(id: string, change: CameraGroupChange): Promise<CameraGroup | undefined>;
  /** Removes the group and its grants; its children move up to its parent (nothing is orphaned). */
  deleteGroup(id: string): Promise<boolean>;
  /** Sets the rights of a user on a camera or group (one grant per pair; empty rights remove it). */
  setGrant(request: GrantRequest): Promise<Grant | undefined>;
  deleteGrant(id: string): Promise<Grant | undefined>;

  // --- Notices, keys, holds ------------------------------------------------------------------
  addAnnouncement(row: Omit<Announcement, 'id' | 'createdAt'>): Promise<Announcement>;
  deleteAnnouncement(id: string): Promise<void>;
  /** Stores the camera's first data key; if another node stored one first, that one is returned and kept. */
  addWrappedKey(cameraId: string, key: WrappedKey): Promise<WrappedKey>;
  /** Replaces existing wrapped keys (a master-key rotation re-wraps them). */
  saveWrappedKeys(entries: readonly DataKeyRow[]): Promise<void>;
  addHold(hold: Omit<Hold, 'id' | 'createdAt'>): Promise<Hold>;
  removeHold(cameraId: string, id: string): Promise<boolean>;

  // --- Shares --------------------------------------------------------------------------------
  addShare(share: Omit<Share, 'id' | 'createdAt' | 'uses' | 'passwordFailures'>): Promise<Share>;
  /** Counts one opening of the link and forgets its wrong passwords. */
  shareOpened(id: string): Promise<Share | undefined>;
  /** Counts a wrong password; returns how many fell within the window (this one included). */
  sharePasswordFailed(id: string, nowMs: number, windowMs: number): Promise<number>;
  revokeShare(id: string): Promise<Share | undefined>;

  // --- Kiosks --------------------------------------------------------------------------------
  addKiosk(kiosk: Omit<Kiosk, 'id' | 'createdAt' | 'generation'>): Promise<Kiosk>;
  updateKiosk(id: string, change: KioskChange): Promise<Kiosk | undefined>;
  /** A new device token; the generation goes up so access tokens of the old one stop. */
  rotateKioskToken(id: string, tokenHash: string): Promise<Kiosk | undefined>;
  deleteKiosk(id: string): Promise<boolean>;

  // --- API keys ------------------------------------------------------------------------------
  addApiKey(key: Omit<ApiKey, 'createdAt' | 'lastUsedAt' | 'revokedAt' | 'revokedBy'>): Promise<ApiKey>;
  /** Marks it revoked (kept, listed as revoked); undefined when there is no such key. Revoking twice keeps the first time. */
  revokeApiKey(id: string, by: string): Promise<ApiKey | undefined>;
  /**
   * Notes that the key was used at `at`, unless its stored last use is less than `minIntervalMs`
   * older (any node's): a busy key costs one write a minute, not one per call.
   */
  apiKeyUsed(id: string, at: Date, minIntervalMs: number): Promise<void>;

  // --- Webhooks ------------------------------------------------------------------------------
  addWebhook(webhook: Omit<Webhook, 'createdAt' | 'disabledAt'>): Promise<Webhook>;
  /** `enabled: false` sets disabledAt (kept when already disabled), `true` clears it; undefined when there is no such webhook. */
  updateWebhook(id: string, change: WebhookChange): Promise<Webhook | undefined>;
  rotateWebhookSecret(id: string, secret: string): Promise<Webhook | undefined>;
  deleteWebhook(id: string): Promise<boolean>;

  // --- Exports -------------------------------------------------------------------------------
  addExport(job: Omit<ExportJob, 'id' | 'createdAt' | 'status' | 'progress' | 'owner'>): Promise<ExportJob>;
  /** Takes a queued (or own, interrupted) job for `owner`; false when another node has it or it is finished. */
  claimExport(id: string, owner: string): Promise<boolean>;
  /** `persist: false` (progress) keeps the change in this node's memory until the next saved one. */
  updateExport(id: string, patch: ExportPatch, options?: { persist?: boolean }): Promise<ExportJob | undefined>;
  deleteExport(id: string): Promise<void>;

  // --- Preferences and saved layouts ---------------------------------------------------------
  setPreferences(userId: string, preferences: Preferences): Promise<Preferences>;
  /** Throws StoreError layout_limit past MAX_LAYOUTS_PER_USER (own) or MAX_LAYOUTS_PER_ORG (shared), counted atomically. */
  addLayout(layout: Omit<SavedLayout, 'id' | 'createdAt' | 'updatedAt'>): Promise<SavedLayout>;
  /** A smaller size without new cameraIds drops the slots past size². */
  updateLayout(id: string, change: LayoutChange): Promise<SavedLayout | undefined>;
  deleteLayout(id: string): Promise<boolean>;

  // --- Account security state (signaling/accounts holds the rules) ---------------------------
  addSession(family: SessionFamily): Promise<void>;
  /**
   * Single use: replaces the family's current refresh-token hash `from` by `to` only if `from` is
   * still current and the family stands. False when another request (any node) rotated it first.
   */
  rotateSession(id: string, from: string, to: string, nowMs: number, keepUsed: number): Promise<boolean>;
  /** True when this call revoked it (false: unknown or already revoked). */
  revokeSession(id: string, reason: string, nowMs: number): Promise<boolean>;
  /** Revokes every standing family of the user except `keep`; returns their ids. */
  revokeSessionsOf(userId: string, reason: string, nowMs: number, keep?: string): Promise<string[]>;
  /** Counts a failed sign-in of `name` (lower-cased); locks it at the policy's threshold. */
  recordLoginFailure(name: string, nowMs: number, policy: LockoutPolicy): Promise<{ failures: number; lockedUntilMs?: number }>;
  /**
   * A sign-in of `name` succeeded (password and second factor): unless the name is locked (maybe
   * just now, by failures on another node), its failures are forgotten. Returns the lockout's end
   * when locked, undefined when the sign-in may go ahead.
   */
  admitLogin(name: string, nowMs: number): Promise<number | undefined>;
  /** Forgets failures and any lockout of the name; returns whether it was locked. */
  clearLoginFailures(name: string, nowMs: number): Promise<boolean>;
  /** Counts a failed sign-in from an address; returns the failures within the window. */
  recordAddressFailure(address: string, nowMs: number, windowMs: number): Promise<number[]>;
  /** A new, not yet confirmed second factor (replaces an unconfirmed one). False while one is enabled. */
  beginTotp(userId: string, sealed: string): Promise<boolean>;
  /** Burns a code's step (and enables a pending key) only if no later step was used: false otherwise. */
  useTotpStep(userId: string, step: number, enable: boolean): Promise<boolean>;
  deleteTotp(userId: string): Promise<void>;
  /**
   * Drops sessions ended more than `keepEndedMs` ago, failures older than the window, and beyond
   * `maxTracked` names (or addresses) the least recent unlocked ones.
   */
  pruneAccounts(nowMs: number, sessionEnd: (f: SessionFamily) => number, keepEndedMs: number, failureWindowMs: number, maxTracked?: number): Promise<void>;

  // --- Cluster -------------------------------------------------------------------------------
  /** This node takes the camera's media, with the next epoch (every new publishing session does, wherever it lands). */
  claimCamera(cameraId: string, nodeId: string, nowMs: number): Promise<CameraOwner>;
  /** Who holds the camera now, as far as this node knows. */
  owner(cameraId: string): CameraOwner | undefined;
  /** Asks the camera to publish to another node (a drain), while `epoch` is still its epoch; false when it moved meanwhile. */
  requestMove(cameraId: string, epoch: number): Promise<boolean>;
  /** This node is alive (once a second): its address, state and load. The database's clock stamps it. */
  heartbeat(node: Omit<NodeInfo, 'seenAtMs'>): Promise<void>;
  /** Every node that ever beat, with when it was last heard of (the database's clock) and that clock now. */
  listNodes(): Promise<{ nodes: NodeInfo[]; nowMs: number }>;
  forgetNode(id: string): Promise<void>;

  // --- Whole store ---------------------------------------------------------------------------
  /** Every row at one consistent moment. */
  snapshot(): Snapshot;
  /** Fills an empty store (restore, migrate-store); throws StoreError store_not_empty otherwise. */
  load(snapshot: Snapshot): Promise<void>;
  /** Rows, audit rows and generated secrets, as of one moment (PostgreSQL: one transaction). */
  exportAll(): Promise<MetadataExport>;
  /** Fills an empty store with an export (rows, the audit chain as it was, secrets); returns rows left out as naming missing rows. */
  importAll(data: MetadataExport): Promise<{ dropped: string[] }>;
  /**
   * Whether this node makes the scheduled backup that starts at `slotStartMs`: of several nodes
   * sharing a database, the first to ask (the files store: always).
   */
  claimBackupSlot(slotStartMs: number, nodeId: string): Promise<boolean>;
}

type PublicReads = {
  [K in keyof Catalog]: Catalog[K] extends (...args: never[]) => unknown ? K : K extends 'orgs' | 'users' | 'cameras' | 'kiosks' | 'deletionReports' ? K : never;
}[keyof Catalog];
