// Each store table as a PostgreSQL table: its columns, and the two directions between a domain
// row and a database row. Rows are read back as `to_jsonb(table)` everywhere (the change feed,
// full loads, reads inside a transaction), so one reader per table serves all three; times come
// back as text and are normalised to the shapes the files store keeps (ISO strings with 'Z',
// epoch ms), so both stores hold identical rows.
import type { WrappedKey } from '../../../recorder/seal/index.ts';
import type { Rows, Table } from '../model.ts';

type Json = Record<string, unknown>;

export interface TableSpec<T extends Table> {
  /** The table's name in the database. */
  sql: string;
  /** The key column (ROW_KEY of the domain row). */
  key: string;
  columns: readonly string[];
  /** Values for `columns`, in order. */
  values(row: Rows[T]): unknown[];
  read(json: Json): Rows[T];
}

// --- Conversions -------------------------------------------------------------------------------

const iso = (v: unknown): string => new Date(v as string).toISOString();
const ms = (v: unknown): number => Date.parse(v as string);
const num = (v: unknown): number => Number(v);
const str = (v: unknown): string => v as string;
const msList = (v: unknown): number[] => ((v as string[] | null) ?? []).map(ms);
/** A time column from an epoch-ms field. */
const at = (v: number | undefined): Date | null => (v === undefined ? null : new Date(v));
const times = (v: readonly number[] | undefined): Date[] | null => (v === undefined ? null : v.map((t) => new Date(t)));
const orNull = <V>(v: V | undefined): V | null => (v === undefined ? null : v);
/** `{ name: value }` when the column is not NULL, else nothing: optional fields are absent, never undefined. */
function opt<V>(name: string, v: unknown, convert: (v: unknown) => V): Record<string, V> {
  return v === null || v === undefined ? {} : { [name]: convert(v) };
}
const asJson = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

/** camelCase field → snake_case column (the columns follow the fields' names). */
export const columnOf = (field: string): string => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

// --- Tables ------------------------------------------------------------------------------------

export const TABLE_SPECS: { readonly [T in Table]: TableSpec<T> } = {
  orgs: {
    sql: 'orgs',
    key: 'id',
    columns: ['id', 'name', 'created_at', 'deletion_at', 'deletion_requested_at', 'deletion_requested_by'],
    values: (o) => [o.id, o.name, o.createdAt, orNull(o.deletion?.at), orNull(o.deletion?.requestedAt), orNull(o.deletion?.requestedBy)],
    read: (j) => ({
      id: str(j.id),
      name: str(j.name),
      createdAt: iso(j.created_at),
      ...(j.deletion_at ? { deletion: { at: iso(j.deletion_at), requestedAt: iso(j.deletion_requested_at), requestedBy: str(j.deletion_requested_by) } } : {}),
    }),
  },
  deletionReports: {
    sql: 'deletion_reports',
    key: 'org_id',
    columns: ['org_id', 'org_name', 'scheduled_for', 'completed_at', 'users', 'cameras', 'objects', 'bytes', 'errors'],
    values: (r) => [r.orgId, r.orgName, r.scheduledFor, r.completedAt, r.users, r.cameras, r.objects, r.bytes, r.errors],
    read: (j) => ({
      orgId: str(j.org_id),
      orgName: str(j.org_name),
      scheduledFor: iso(j.scheduled_for),
      completedAt: iso(j.completed_at),
      users: num(j.users),
      cameras: num(j.cameras),
      objects: num(j.objects),
      bytes: num(j.bytes),
      errors: (j.errors as string[] | null) ?? [],
    }),
  },
  users: {
    sql: 'users',
    key: 'id',
    columns: ['id', 'org_id', 'username', 'password_hash', 'role', 'platform', 'created_at'],
    values: (u) => [u.id, u.orgId, u.username, u.passwordHash, u.role, u.platform === true, u.createdAt],
    read: (j) => ({
      id: str(j.id),
      orgId: str(j.org_id),
      username: str(j.username),
      passwordHash: str(j.password_hash),
      role: j.role as Rows['users']['role'],
      ...(j.platform ? { platform: true } : {}),
      createdAt: iso(j.created_at),
    }),
  },
  cameras: {
    sql: 'cameras',
    key: 'id',
    columns: ['id', 'org_id', 'name', 'secret_hash', 'previous_secret_hash', 'previous_secret_until', 'recording_enabled', 'retention_days', 'created_at'],
    values: (c) => [c.id, c.orgId, c.name, c.secretHash, orNull(c.previousSecret?.hash), orNull(c.previousSecret?.until), orNull(c.recording?.enabled), orNull(c.recording?.retentionDays), c.createdAt],
    read: (j) => ({
      id: str(j.id),
      orgId: str(j.org_id),
      name: str(j.name),
      secretHash: str(j.secret_hash),
      ...(j.previous_secret_hash ? { previousSecret: { hash: str(j.previous_secret_hash), until: iso(j.previous_secret_until) } } : {}),
      createdAt: iso(j.created_at),
      ...(j.recording_enabled === null || j.recording_enabled === undefined
        ? {}
        : { recording: { enabled: j.recording_enabled === true, ...opt('retentionDays', j.retention_days, num) } }),
    }),
  },
  groups: {
    sql: 'camera_groups',
    key: 'id',
    columns: ['id', 'org_id', 'name', 'camera_ids', 'created_at', 'parent_id'],
    values: (g) => [g.id, g.orgId, g.name, g.cameraIds, g.createdAt, orNull(g.parentId)],
    read: (j) => ({
      id: str(j.id),
      orgId: str(j.org_id),
      name: str(j.name),
      cameraIds: (j.camera_ids as string[] | null) ?? [],
      createdAt: iso(j.created_at),
      ...opt('parentId', j.parent_id, str),
    }),
  },
  grants: {
    sql: 'grants',
    key: 'id',
    columns: ['id', 'org_id', 'user_id', 'camera_id', 'group_id', 'rights', 'created_at', 'created_by'],
    values: (g) => [g.id, g.orgId, g.userId, orNull(g.cameraId), orNull(g.groupId), g.rights, g.createdAt, g.createdBy],
    read: (j) => ({
      id: str(j.id),
      orgId: str(j.org_id),
      userId: str(j.user_id),
      ...opt('cameraId', j.camera_id, str),
      ...opt('groupId', j.group_id, str),
      rights: j.rights as Rows['grants']['rights'],
      createdAt: iso(j.created_at),
      createdBy: str(j.created_by),
    }),
  },
  announcements: {
    sql: 'announcements',
    key: 'id',
    columns: ['id', 'org_id', 'kind', 'message', 'starts_at', 'ends_at', 'created_at', 'created_by'],
    values: (a) => [a.id, a.orgId, a.kind, a.message, a.startsAt, a.endsAt, a.createdAt, a.createdBy],
    read: (j) => ({
      id: str(j.id),
      orgId: (j.org_id as string | null) ?? null,
      kind: j.kind as Rows['announcements']['kind'],
      message: str(j.message),
      startsAt: iso(j.starts_at),
      endsAt: iso(j.ends_at),
      createdAt: iso(j.created_at),
      createdBy: str(j.created_by),
    }),
  },
  dataKeys: {
    sql: 'data_keys',
    key: 'camera_id',
    columns: ['camera_id', 'wrapped'],
    values: (k) => [k.cameraId, JSON.stringify(k.key)],
    read: (j) => ({ cameraId: str(j.camera_id), key: j.wrapped as WrappedKey }),
  },
  holds: {
    sql: 'holds',
    key: 'id',
    columns: ['id', 'camera_id', 'from_ms', 'to_ms', 'reason', 'created_at', 'created_by'],
    values: (h) => [h.id, h.cameraId, h.fromMs, h.toMs, h.reason, h.createdAt, h.createdBy],
    read: (j) => ({ id: str(j.id), cameraId: str(j.camera_id), fromMs: num(j.from_ms), toMs: num(j.to_ms), reason: str(j.reason), createdAt: iso(j.created_at), createdBy: str(j.created_by) }),
  },
  shares: {
    sql: 'shares',
    key: 'id',
    columns: ['id', 'camera_id', 'kind', 'from_ms', 'to_ms', 'expires_at', 'password_hash', 'created_by', 'created_at', 'revoked_at', 'uses', 'password_failures'],
    values: (s) => [s.id, s.cameraId, s.kind, orNull(s.fromMs), orNull(s.toMs), s.expiresAt, orNull(s.passwordHash), s.createdBy, s.createdAt, orNull(s.revokedAt), s.uses, times(s.passwordFailures)],
    read: (j) => ({
      id: str(j.id),
      cameraId: str(j.camera_id),
      kind: j.kind as Rows['shares']['kind'],
      ...opt('fromMs', j.from_ms, num),
      ...opt('toMs', j.to_ms, num),
      expiresAt: iso(j.expires_at),
      ...opt('passwordHash', j.password_hash, str),
      createdBy: str(j.created_by),
      createdAt: iso(j.created_at),
      ...opt('revokedAt', j.revoked_at, iso),
      uses: num(j.uses),
      ...opt('passwordFailures', j.password_failures, msList),
    }),
  },
  kiosks: {
    sql: 'kiosks',
    key: 'id',
    columns: ['id', 'org_id', 'name', 'camera_ids', 'layout', 'rotate_seconds', 'token_hash', 'generation', 'created_at', 'created_by'],
    values: (k) => [k.id, k.orgId, k.name, k.cameraIds, k.layout, k.rotateSeconds, k.tokenHash, k.generation, k.createdAt, k.createdBy],
    read: (j) => ({
      id: str(j.id),
      orgId: str(j.org_id),
      name: str(j.name),
      cameraIds: (j.camera_ids as string[] | null) ?? [],
      layout: num(j.layout) as Rows['kiosks']['layout'],
      rotateSeconds: num(j.rotate_seconds),
      tokenHash: str(j.token_hash),
      generation: num(j.generation),
      createdAt: iso(j.created_at),
      createdBy: str(j.created_by),
    }),
  },
  apiKeys: {
    sql: 'api_keys',
    key: 'id',
    columns: ['id', 'org_id', 'name', 'scope', 'camera_group_id', 'expires_at', 'secret_hash', 'created_by', 'created_at', 'last_used_at', 'revoked_at', 'revoked_by'],
    values: (k) => [k.id, k.orgId, k.name, k.scope, orNull(k.cameraGroupId), orNull(k.expiresAt), k.secretHash, k.createdBy, k.createdAt, orNull(k.lastUsedAt), orNull(k.revokedAt), orNull(k.revokedBy)],
    read: (j) => ({
      id: str(j.id),
      orgId: str(j.org_id),
      name: str(j.name),
      scope: j.scope as Rows['apiKeys']['scope'],
      ...opt('cameraGroupId', j.camera_group_id, str),
      ...opt('expiresAt', j.expires_at, iso),
      secretHash: str(j.secret_hash),
      createdBy: str(j.created_by),
      createdAt: iso(j.created_at),
      ...opt('lastUsedAt', j.last_used_at, iso),
      ...opt('revokedAt', j.revoked_at, iso),
      ...opt('revokedBy', j.revoked_by, str),
    }),
  },
  webhooks: {
    sql: 'webhooks',
    key: 'id',
    columns: ['id', 'org_id', 'name', 'url', 'events', 'secret', 'created_by', 'created_at', 'disabled_at'],
    values: (w) => [w.id, w.orgId, w.name, w.url, w.events, w.secret, w.createdBy, w.createdAt, orNull(w.disabledAt)],
    read: (j) => ({
      id: str(j.id),
      orgId: str(j.org_id),
      name: str(j.name),
      url: str(j.url),
      events: ((j.events as string[] | null) ?? []) as Rows['webhooks']['events'],
      secret: str(j.secret),
      createdBy: str(j.created_by),
      createdAt: iso(j.created_at),
      ...opt('disabledAt', j.disabled_at, iso),
    }),
  },
  exports: {
    sql: 'exports',
    key: 'id',
    columns: ['id', 'camera_id', 'from_ms', 'to_ms', 'status', 'progress', 'bytes', 'error', 'start_ms', 'duration_ms', 'gaps', 'finished_at', 'name', 'created_at', 'created_by', 'owner'],
    values: (e) => [e.id, e.cameraId, e.fromMs, e.toMs, e.status, e.progress, orNull(e.bytes), asJson(e.error), orNull(e.startMs), orNull(e.durationMs), asJson(e.gaps), orNull(e.finishedAt), e.name, e.createdAt, e.createdBy, orNull(e.owner)],
    read: (j) => ({
      id: str(j.id),
      cameraId: str(j.camera_id),
      fromMs: num(j.from_ms),
      toMs: num(j.to_ms),
      status: j.status as Rows['exports']['status'],
      progress: num(j.progress),
      ...opt('bytes', j.bytes, num),
      ...opt('error', j.error, (v) => v as { code: string; message: string }),
      ...opt('startMs', j.start_ms, num),
      ...opt('durationMs', j.duration_ms, num),
      ...opt('gaps', j.gaps, (v) => v as { fromMs: number; toMs: number; reason: string }[]),
      ...opt('finishedAt', j.finished_at, iso),
      name: str(j.name),
      createdAt: iso(j.created_at),
      createdBy: str(j.created_by),
      ...opt('owner', j.owner, str),
    }),
  },
  preferences: {
    sql: 'preferences',
    key: 'user_id',
    columns: ['user_id', 'preferences'],
    values: (p) => [p.userId, JSON.stringify(p.preferences)],
    read: (j) => ({ userId: str(j.user_id), preferences: (j.preferences as Rows['preferences']['preferences'] | null) ?? {} }),
  },
  layouts: {
    sql: 'layouts',
    key: 'id',
    columns: ['id', 'org_id', 'user_id', 'name', 'size', 'camera_ids', 'created_at', 'updated_at', 'created_by'],
    values: (l) => [l.id, l.orgId, orNull(l.userId), l.name, l.size, l.cameraIds, l.createdAt, l.updatedAt, l.createdBy],
    read: (j) => ({
      id: str(j.id),
      orgId: str(j.org_id),
      ...opt('userId', j.user_id, str),
      name: str(j.name),
      size: num(j.size) as Rows['layouts']['size'],
      cameraIds: (j.camera_ids as (string | null)[] | null) ?? [],
      createdAt: iso(j.created_at),
      updatedAt: iso(j.updated_at),
      createdBy: str(j.created_by),
    }),
  },
  sessions: {
    sql: 'sessions',
    key: 'id',
    columns: ['id', 'user_id', 'created_at', 'last_used_at', 'current_hash', 'previous_hash', 'rotated_at', 'used_hashes', 'revoked_at', 'revoked_reason', 'user_agent'],
    values: (f) => [f.id, f.userId, at(f.createdAtMs), at(f.lastUsedAtMs), f.currentHash, orNull(f.previousHash), at(f.rotatedAtMs), f.usedHashes, at(f.revokedAtMs), orNull(f.revokedReason), orNull(f.userAgent)],
    read: (j) => ({
      id: str(j.id),
      userId: str(j.user_id),
      createdAtMs: ms(j.created_at),
      lastUsedAtMs: ms(j.last_used_at),
      currentHash: str(j.current_hash),
      ...opt('previousHash', j.previous_hash, str),
      ...opt('rotatedAtMs', j.rotated_at, ms),
      usedHashes: (j.used_hashes as string[] | null) ?? [],
      ...opt('revokedAtMs', j.revoked_at, ms),
      ...opt('revokedReason', j.revoked_reason, str),
      ...opt('userAgent', j.user_agent, str),
    }),
  },
  loginFailures: {
    sql: 'login_failures',
    key: 'name',
    columns: ['name', 'failed_at', 'locked_until'],
    values: (e) => [e.name, times(e.at), at(e.lockedUntilMs)],
    read: (j) => ({ name: str(j.name), at: msList(j.failed_at), ...opt('lockedUntilMs', j.locked_until, ms) }),
  },
  addressFailures: {
    sql: 'address_failures',
    key: 'address',
    columns: ['address', 'failed_at'],
    values: (e) => [e.address, times(e.at)],
    read: (j) => ({ address: str(j.address), at: msList(j.failed_at) }),
  },
  owners: {
    sql: 'camera_owners',
    key: 'camera_id',
    columns: ['camera_id', 'node_id', 'epoch', 'since', 'move_requested_epoch'],
    values: (o) => [o.cameraId, o.nodeId, o.epoch, at(o.sinceMs), orNull(o.moveRequestedEpoch)],
    read: (j) => ({ cameraId: str(j.camera_id), nodeId: str(j.node_id), epoch: num(j.epoch), sinceMs: ms(j.since), ...opt('moveRequestedEpoch', j.move_requested_epoch, num) }),
  },
  totp: {
    sql: 'totp_keys',
    key: 'user_id',
    columns: ['user_id', 'sealed', 'enabled', 'last_step'],
    values: (t) => [t.userId, t.sealed, t.enabled, orNull(t.lastStep)],
    read: (j) => ({ userId: str(j.user_id), sealed: str(j.sealed), enabled: j.enabled === true, ...opt('lastStep', j.last_step, num) }),
  },
};

/** The domain table of a database table (the change feed names database tables). */
export const TABLE_OF_SQL: ReadonlyMap<string, Table> = new Map(Object.entries(TABLE_SPECS).map(([table, spec]) => [spec.sql, table as Table]));

/** `INSERT … ON CONFLICT (key) DO UPDATE`: puts the whole row, new or not. */
export function upsertSql(spec: TableSpec<Table>): string {
  const cols = spec.columns.join(', ');
  const params = spec.columns.map((_, i) => `$${i + 1}`).join(', ');
  const updates = spec.columns.filter((c) => c !== spec.key).map((c) => `${c} = EXCLUDED.${c}`).join(', ');
  return `INSERT INTO ${spec.sql} (${cols}) VALUES (${params}) ON CONFLICT (${spec.key}) DO UPDATE SET ${updates}`;
}
