// What an audit row says: the one list of action names, and the shape every caller hands to
// audit() / auditEvent() in signaling/middleware.ts.
//
// Naming scheme: `<area>.<verb>`, lower case, `_` inside a word. Search takes an action *prefix*,
// so `auth.` finds every sign-in event and `share.` every share-link event. A new action is added
// here first, so the admin page and the README list stay complete.

export const AUDIT_ACTIONS = [
  // Accounts and security events
  'auth.login',
  'auth.login_failed',
  'auth.lockout',
  'auth.unlock',
  'auth.logout',
  'auth.logout_all',
  'auth.refresh_reused',
  'auth.password_change',
  'auth.totp_enabled',
  'auth.totp_disabled',
  'camera.secret_rejected',
  // Watching
  'live.view',
  'playback.start',
  // Exports and share links
  'export.create',
  'export.download',
  'export.delete',
  'share.create',
  'share.open',
  'share.revoke',
  // Permissions
  'grant.set',
  'grant.revoke',
  'group.create',
  'group.update',
  'group.delete',
  'user.create',
  'user.role',
  'user.delete',
  // Configuration
  'camera.create',
  'camera.update',
  'camera.delete',
  'camera.secret_rotate',
  'hold.create',
  'hold.delete',
  'recordings.delete',
  'kiosk.create',
  'kiosk.update',
  'kiosk.rotate',
  'kiosk.revoke',
  'kiosk.session',
  // API keys: made and revoked by administrators; a call made with one that wrote no row of its own.
  'api_key.create',
  'api_key.revoke',
  'api_key.call',
  // Webhooks: made, changed, deleted and their secret rotated by administrators (deliveries are not audited: see their log).
  'webhook.create',
  'webhook.update',
  'webhook.delete',
  'webhook.secret_rotate',
  'announcement.create',
  'announcement.delete',
  // Saved grid layouts (signaling/routes/layouts.ts): a user's own or the organisation's.
  'layout.create',
  'layout.update',
  'layout.delete',
  // Organisations (platform operators)
  'org.create',
  'org.update',
  'org.deletion_scheduled',
  'org.deletion_cancelled',
  'org.deleted',
  'master_key.rotate',
  // The cluster (platform operators): a node asked to drain; a camera moved between nodes.
  'node.drain',
  'camera.moved',
  // The audit log itself: reading and exporting it, refused attempts to change it, its own upkeep.
  'audit.export',
  'audit.change_refused',
  'audit.retention',
  'audit.migrate',
  'audit.recovered',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/**
 * The categories the audit page filters by (`category=` on GET /api/audit): each action sits in
 * exactly one, so a category narrows by exact names (test/audit-sentences.test.ts checks that
 * every action has its category). Rows of actions no longer listed match no category.
 */
export const AUDIT_CATEGORIES = {
  signin: ['auth.login', 'auth.login_failed', 'auth.lockout', 'auth.unlock', 'auth.logout', 'auth.logout_all', 'auth.refresh_reused', 'auth.password_change', 'auth.totp_enabled', 'auth.totp_disabled', 'camera.secret_rejected'],
  live: ['live.view', 'kiosk.session'],
  recordings: ['playback.start', 'export.create', 'export.download', 'export.delete', 'share.create', 'share.open', 'share.revoke', 'hold.create', 'hold.delete', 'recordings.delete'],
  permissions: ['grant.set', 'grant.revoke', 'group.create', 'group.update', 'group.delete', 'user.create', 'user.role', 'user.delete'],
  settings: ['camera.create', 'camera.update', 'camera.delete', 'camera.secret_rotate', 'camera.moved', 'kiosk.create', 'kiosk.update', 'kiosk.rotate', 'kiosk.revoke', 'announcement.create', 'announcement.delete', 'layout.create', 'layout.update', 'layout.delete'],
  integrations: ['api_key.create', 'api_key.revoke', 'api_key.call', 'webhook.create', 'webhook.update', 'webhook.delete', 'webhook.secret_rotate'],
  service: ['org.create', 'org.update', 'org.deletion_scheduled', 'org.deletion_cancelled', 'org.deleted', 'master_key.rotate', 'node.drain'],
  audit: ['audit.export', 'audit.change_refused', 'audit.retention', 'audit.migrate', 'audit.recovered'],
} as const satisfies Record<string, readonly AuditAction[]>;
export type AuditCategory = keyof typeof AUDIT_CATEGORIES;
export const AUDIT_CATEGORY_NAMES = Object.keys(AUDIT_CATEGORIES) as AuditCategory[];

/** `ok`: done; `refused`: the caller was not allowed or got something wrong; `error`: we failed. */
export const AUDIT_OUTCOMES = ['ok', 'refused', 'error'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** What a caller reports; the log adds the time, sequence number and hash chain. */
export interface AuditEvent {
  /** `u:<userId>`, `s:<shareId>`, `k:<kioskId>`, `a:<apiKeyId>` (detail.apiKey: its name), `c:<cameraId>`, `system` or `anonymous`. */
  actor: string;
  /** One of AUDIT_ACTIONS; a plain string is accepted so rows written by older versions still read. */
  action: AuditAction | (string & {});
  outcome: AuditOutcome;
  cameraId?: string;
  orgId?: string;
  ip?: string;
  requestId?: string;
  userAgent?: string;
  /** Small facts about the event; keys that look like secrets are replaced before writing. */
  detail?: Record<string, unknown>;
  /** Set only for rows carried over from an older store: when the event really happened. */
  at?: string;
}

/** One line of a day file. `prev` and `hash` chain it to the row before it. */
export interface AuditRow extends Omit<AuditEvent, 'action' | 'at'> {
  seq: number;
  at: string;
  action: string;
  prev: string;
  hash: string;
}
