// The database schema, as plain SQL migrations applied in order at start. Each runs in one
// transaction together with its row in schema_migrations, under a transaction-scoped advisory
// lock, so two nodes starting at once apply it exactly once (the second waits, then finds it
// done). Transaction-scoped locks also work behind PgBouncer in transaction pooling, where
// session locks do not.
//
// Nodes of two releases share the database during a rolling upgrade, so each migration says which
// nodes can live with it (`oldestCompatible`: the oldest schema a node may know and still run on
// the database after it; kept in schema_migrations). A release starts on a database a newer one
// migrated only when every newer migration allows it; and a migration that live nodes (their
// heartbeats name the schema they know) could not live with is refused until they are upgraded.
import type pg from 'pg';
import { StoreError } from '../errors.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /**
   * Nodes that know at least this schema version keep working after this migration (an added
   * nullable column: the version before; a renamed or dropped one: this very version).
   */
  oldestCompatible: number;
}

/** The schema nodes of releases before heartbeats named theirs knew (their last migration). */
const SCHEMA_BEFORE_HEARTBEAT_VERSIONS = 3;
/** A node heard of within this long is running: a migration must not pull its tables away. */
const LIVE_NODE_S = 10;

/** Any fixed number: the lock's name, shared by every node of the service. */
const MIGRATION_LOCK = 4_242_001;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'metadata, account state, change feed and audit log',
    oldestCompatible: 1,
    sql: `
-- Every change of a replicated table gets the next version and its new row (NULL: removed), so
-- every node can follow the changes in order, and is notified. A writer takes the one-row
-- change_head lock first (see PostgresStore.transact): writes are serialised and versions commit
-- in order, so a reader never skips a version that commits later.
CREATE TABLE change_head (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  version bigint NOT NULL
);
INSERT INTO change_head (version) VALUES (0);

CREATE TABLE changes (
  version bigint PRIMARY KEY,
  tbl text NOT NULL,
  key text NOT NULL,
  data jsonb,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX changes_at ON changes (at);

CREATE FUNCTION mimamori_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v bigint;
BEGIN
  UPDATE change_head SET version = version + 1 RETURNING version INTO v;
  IF TG_OP = 'DELETE' THEN
    INSERT INTO changes (version, tbl, key, data) VALUES (v, TG_TABLE_NAME, to_jsonb(OLD) ->> TG_ARGV[0], NULL);
  ELSE
    INSERT INTO changes (version, tbl, key, data) VALUES (v, TG_TABLE_NAME, to_jsonb(NEW) ->> TG_ARGV[0], to_jsonb(NEW));
  END IF;
  -- One notification per transaction: identical payloads are folded by PostgreSQL.
  PERFORM pg_notify('mimamori_changes', '');
  RETURN NULL;
END $$;

CREATE TABLE orgs (
  id text PRIMARY KEY,
  name text NOT NULL,
  created_at timestamptz NOT NULL,
  deletion_at timestamptz,
  deletion_requested_at timestamptz,
  deletion_requested_by text
);

CREATE TABLE deletion_reports (
  org_id text PRIMARY KEY,
  org_name text NOT NULL,
  scheduled_for timestamptz NOT NULL,
  completed_at timestamptz NOT NULL,
  users integer NOT NULL,
  cameras integer NOT NULL,
  objects bigint NOT NULL,
  bytes bigint NOT NULL,
  errors text[] NOT NULL DEFAULT '{}'
);

CREATE TABLE users (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  username text NOT NULL UNIQUE,
  password_hash text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  platform boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE cameras (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  name text NOT NULL,
  secret_hash text NOT NULL,
  previous_secret_hash text,
  previous_secret_until timestamptz,
  recording_enabled boolean,
  retention_days integer,
  created_at timestamptz NOT NULL
);
CREATE INDEX cameras_org ON cameras (org_id);

CREATE TABLE camera_groups (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  name text NOT NULL,
  camera_ids text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL
);
CREATE INDEX camera_groups_org ON camera_groups (org_id);

CREATE TABLE grants (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  camera_id text REFERENCES cameras (id) ON DELETE CASCADE,
  group_id text REFERENCES camera_groups (id) ON DELETE CASCADE,
  rights text[] NOT NULL,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  CHECK ((camera_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX grants_user_camera ON grants (user_id, camera_id) WHERE camera_id IS NOT NULL;
CREATE UNIQUE INDEX grants_user_group ON grants (user_id, group_id) WHERE group_id IS NOT NULL;
CREATE INDEX grants_org ON grants (org_id);
CREATE INDEX grants_camera ON grants (camera_id);
CREATE INDEX grants_group ON grants (group_id);

CREATE TABLE announcements (
  id text PRIMARY KEY,
  org_id text REFERENCES orgs (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('maintenance', 'incident', 'info')),
  message text NOT NULL,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL
);
CREATE INDEX announcements_org ON announcements (org_id);

-- No foreign key: a data key is removed only on purpose, never by a cascade.
CREATE TABLE data_keys (
  camera_id text PRIMARY KEY,
  wrapped jsonb NOT NULL
);

CREATE TABLE holds (
  id text PRIMARY KEY,
  camera_id text NOT NULL REFERENCES cameras (id) ON DELETE CASCADE,
  from_ms bigint NOT NULL,
  to_ms bigint NOT NULL,
  reason text NOT NULL,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL
);
CREATE INDEX holds_camera ON holds (camera_id);

CREATE TABLE shares (
  id text PRIMARY KEY,
  camera_id text NOT NULL REFERENCES cameras (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('clip', 'live')),
  from_ms bigint,
  to_ms bigint,
  expires_at timestamptz NOT NULL,
  password_hash text,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  revoked_at timestamptz,
  uses integer NOT NULL DEFAULT 0,
  password_failures timestamptz[]
);
CREATE INDEX shares_camera ON shares (camera_id);

CREATE TABLE kiosks (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  name text NOT NULL,
  camera_ids text[] NOT NULL,
  layout integer NOT NULL CHECK (layout IN (1, 4, 9, 16)),
  rotate_seconds integer NOT NULL,
  token_hash text NOT NULL UNIQUE,
  generation integer NOT NULL,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL
);
CREATE INDEX kiosks_org ON kiosks (org_id);

CREATE TABLE exports (
  id text PRIMARY KEY,
  camera_id text NOT NULL REFERENCES cameras (id) ON DELETE CASCADE,
  from_ms bigint NOT NULL,
  to_ms bigint NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
  progress double precision NOT NULL,
  bytes bigint,
  error jsonb,
  start_ms bigint,
  duration_ms bigint,
  gaps jsonb,
  finished_at timestamptz,
  name text NOT NULL,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  owner text
);
CREATE INDEX exports_camera ON exports (camera_id);

CREATE TABLE preferences (
  user_id text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  preferences jsonb NOT NULL
);

-- Account security state: only hashes of refresh tokens, TOTP secrets sealed.
CREATE TABLE sessions (
  id text PRIMARY KEY,
  user_id text NOT NULL,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz NOT NULL,
  current_hash text NOT NULL,
  previous_hash text,
  rotated_at timestamptz,
  used_hashes text[] NOT NULL DEFAULT '{}',
  revoked_at timestamptz,
  revoked_reason text,
  user_agent text
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_failures (
  name text PRIMARY KEY,
  failed_at timestamptz[] NOT NULL,
  locked_until timestamptz
);

CREATE TABLE address_failures (
  address text PRIMARY KEY,
  failed_at timestamptz[] NOT NULL
);

CREATE TABLE totp_keys (
  user_id text PRIMARY KEY,
  sealed text NOT NULL,
  enabled boolean NOT NULL,
  last_step bigint
);

DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT * FROM (VALUES
    ('orgs', 'id'), ('deletion_reports', 'org_id'), ('users', 'id'), ('cameras', 'id'), ('camera_groups', 'id'),
    ('grants', 'id'), ('announcements', 'id'), ('data_keys', 'camera_id'), ('holds', 'id'), ('shares', 'id'),
    ('kiosks', 'id'), ('exports', 'id'), ('preferences', 'user_id'), ('sessions', 'id'), ('login_failures', 'name'),
    ('address_failures', 'address'), ('totp_keys', 'user_id')) AS x (tbl, key_column)
  LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION mimamori_record_change(%L)', t.tbl || '_changes', t.tbl, t.key_column);
  END LOOP;
END $$;

-- Which node makes each scheduled backup: the first to insert the slot's row.
CREATE TABLE backup_slots (
  slot_start timestamptz PRIMARY KEY,
  node text NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT now()
);

-- Secrets the service generates once and every node shares (not followed by the change feed).
CREATE TABLE service_secrets (
  name text PRIMARY KEY,
  value text NOT NULL
);

-- The audit log: each row exactly as hashed (line), with the fields searches filter on.
CREATE TABLE audit_head (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  seq bigint NOT NULL,
  hash text NOT NULL
);
INSERT INTO audit_head (seq, hash) VALUES (0, repeat('0', 64));

CREATE TABLE audit_rows (
  seq bigint PRIMARY KEY,
  at timestamptz NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  outcome text NOT NULL,
  camera_id text,
  org_id text,
  line text NOT NULL
);
CREATE INDEX audit_rows_at ON audit_rows (at);
CREATE INDEX audit_rows_org ON audit_rows (org_id, seq);
CREATE INDEX audit_rows_actor ON audit_rows (actor, seq);
CREATE INDEX audit_rows_camera ON audit_rows (camera_id, seq);
CREATE INDEX audit_rows_action ON audit_rows (action text_pattern_ops);

-- Append-only: no row is ever changed; rows leave only through retention, which says so first.
CREATE FUNCTION mimamori_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('mimamori.audit_retention', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_rows_append_only BEFORE UPDATE OR DELETE ON audit_rows FOR EACH ROW EXECUTE FUNCTION mimamori_audit_append_only();
CREATE TRIGGER audit_rows_no_truncate BEFORE TRUNCATE ON audit_rows FOR EACH STATEMENT EXECUTE FUNCTION mimamori_audit_append_only();
`,
  },
  {
    version: 2,
    name: 'cluster: nodes and camera owners',
    oldestCompatible: 1,
    sql: `
-- Who holds each camera's media, with the fencing epoch. Followed by the change feed, so a node
-- hears at once that another took a camera it holds.
CREATE TABLE camera_owners (
  camera_id text PRIMARY KEY,
  node_id text NOT NULL,
  epoch bigint NOT NULL,
  since timestamptz NOT NULL
);
CREATE TRIGGER camera_owners_changes AFTER INSERT OR UPDATE OR DELETE ON camera_owners FOR EACH ROW EXECUTE FUNCTION mimamori_record_change('camera_id');

-- Heartbeats, once a second per node; read (not followed) by every node.
CREATE TABLE nodes (
  id text PRIMARY KEY,
  internal_url text NOT NULL,
  release text NOT NULL,
  started_at timestamptz NOT NULL,
  seen_at timestamptz NOT NULL,
  state text NOT NULL CHECK (state IN ('up', 'draining')),
  load jsonb NOT NULL
);
`,
  },
  {
    version: 3,
    name: 'cluster: cameras asked to move (drain)',
    oldestCompatible: 2,
    // A nullable column: nodes of the release before keep working (they neither read nor write it).
    sql: `
ALTER TABLE camera_owners ADD COLUMN move_requested_epoch bigint;
`,
  },
  {
    version: 4,
    name: 'cluster: the schema and internal protocol each node knows (rolling upgrades); stopped after a drain',
    oldestCompatible: 3,
    // Nullable: nodes of the release before keep writing their heartbeats without them. A drained
    // node's last heartbeat says 'stopped' (it left; it did not fail); older nodes never write it.
    sql: `
ALTER TABLE nodes ADD COLUMN schema_version integer, ADD COLUMN protocol integer;
ALTER TABLE nodes DROP CONSTRAINT nodes_state_check;
ALTER TABLE nodes ADD CONSTRAINT nodes_state_check CHECK (state IN ('up', 'draining', 'stopped'));
`,
  },
  {
    version: 5,
    name: 'API keys for integrations',
    // A new table: nodes of earlier releases (0.1.0's schema 3 on) neither read it nor follow its
    // changes (their change feed skips tables they do not know), so they keep working beside it; an
    // organisation's deletion by one of them takes its keys along (ON DELETE CASCADE).
    oldestCompatible: 3,
    sql: `
-- Only the SHA-256 of a key's secret; revoked keys stay (listed as revoked). No foreign key on
-- created_by or camera_group_id: a key whose administrator or group is gone is refused, not removed.
CREATE TABLE api_keys (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  name text NOT NULL,
  scope text NOT NULL CHECK (scope IN ('read', 'live', 'export', 'manage_cameras')),
  camera_group_id text,
  expires_at timestamptz,
  secret_hash text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at timestamptz,
  revoked_by text
);
CREATE INDEX api_keys_org ON api_keys (org_id);
CREATE TRIGGER api_keys_changes AFTER INSERT OR UPDATE OR DELETE ON api_keys FOR EACH ROW EXECUTE FUNCTION mimamori_record_change('id');
`,
  },
  {
    version: 6,
    name: 'webhooks',
    // A new table, like api_keys: nodes of earlier releases neither read it nor follow it.
    oldestCompatible: 3,
    sql: `
-- The secret signs deliveries, so it is kept as it is (never listed by the API). Delivery logs are
-- kept in memory by the node that delivers, not here.
CREATE TABLE webhooks (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  name text NOT NULL,
  url text NOT NULL,
  events text[] NOT NULL,
  secret text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  disabled_at timestamptz
);
CREATE INDEX webhooks_org ON webhooks (org_id);
CREATE TRIGGER webhooks_changes AFTER INSERT OR UPDATE OR DELETE ON webhooks FOR EACH ROW EXECUTE FUNCTION mimamori_record_change('id');
`,
  },
  {
    version: 7,
    name: 'groups nested as sites and floors; saved grid layouts',
    // A nullable column and a new table: nodes of earlier releases (schema 3 on) keep working
    // beside them. Their upserts of a group leave parent_id as it is (they do not name it); a group
    // they create starts at the top; a group they delete sets its children's parent_id to NULL
    // (the foreign key), so nothing hangs from a missing group. They neither read nor follow
    // layouts; a user or organisation they delete takes its layouts along (ON DELETE CASCADE),
    // and a camera they delete leaves an id no reader can see (answered as an empty slot).
    oldestCompatible: 3,
    sql: `
-- Checked at commit: a restore inserts groups in creation order, and a child may be older than the
-- parent it was moved under. ON DELETE SET NULL is not deferred (PostgreSQL never defers actions).
ALTER TABLE camera_groups ADD COLUMN parent_id text REFERENCES camera_groups (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX camera_groups_parent ON camera_groups (parent_id);

-- A user's own layout (user_id), or the organisation's (user_id NULL). camera_ids holds one entry
-- per slot, NULL for an empty one.
CREATE TABLE layouts (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  user_id text REFERENCES users (id) ON DELETE CASCADE,
  name text NOT NULL,
  size integer NOT NULL CHECK (size BETWEEN 1 AND 5),
  camera_ids text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  created_by text NOT NULL,
  CHECK (cardinality(camera_ids) <= size * size)
);
CREATE INDEX layouts_org ON layouts (org_id);
CREATE INDEX layouts_user ON layouts (user_id);
CREATE TRIGGER layouts_changes AFTER INSERT OR UPDATE OR DELETE ON layouts FOR EACH ROW EXECUTE FUNCTION mimamori_record_change('id');
`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Applies what is missing; returns the versions applied now. */
export async function migrate(pool: pg.Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    // Rows of releases before it say nothing: those migrations allowed any node that knew them.
    await client.query('ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS oldest_compatible integer NOT NULL DEFAULT 1');
    const done = new Map((await client.query<{ version: number; name: string; oldest_compatible: number }>('SELECT version, name, oldest_compatible FROM schema_migrations')).rows.map((r) => [r.version, r]));
    const known = migrations[migrations.length - 1]?.version ?? 0;
    const newer = [...done.values()].filter((m) => m.version > known);
    const blocking = newer.find((m) => m.oldest_compatible > known);
    if (blocking) {
      throw new StoreError(
        'schema_mismatch',
        `the database schema is at version ${Math.max(...newer.map((m) => m.version))}; migration ${blocking.version} ("${blocking.name}") needs nodes that know at least version ${blocking.oldest_compatible}, and this release knows ${known}: run a newer release on this node (the one the other nodes run)`,
      );
    }
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await refuseIfNodesCannotFollow(client, m);
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name, oldest_compatible) VALUES ($1, $2, $3)', [m.version, m.name, m.oldestCompatible]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined); // the connection may be gone; the error below says why
    throw error;
  } finally {
    client.release();
  }
}

/** A migration live nodes could not live with waits until they run a release that knows it. */
async function refuseIfNodesCannotFollow(client: pg.PoolClient, m: Migration): Promise<void> {
  if ((await client.query<{ t: string | null }>("SELECT to_regclass('nodes') AS t")).rows[0]?.t === null) return; // no node ever beat
  const hasVersions = (await client.query("SELECT 1 FROM information_schema.columns WHERE table_name = 'nodes' AND column_name = 'schema_version'")).rowCount! > 0;
  const rows = await client.query<{ id: string; release: string; schema_version: number | null }>(
    `SELECT id, release, ${hasVersions ? 'schema_version' : 'NULL::integer AS schema_version'} FROM nodes WHERE seen_at > now() - make_interval(secs => $1) ORDER BY id`,
    [LIVE_NODE_S],
  );
  const behind = rows.rows.filter((n) => (n.schema_version ?? SCHEMA_BEFORE_HEARTBEAT_VERSIONS) < m.oldestCompatible);
  if (behind.length === 0) return;
  throw new StoreError(
    'schema_mismatch',
    `migration ${m.version} ("${m.name}") needs every node to know schema version ${m.oldestCompatible}, and ${behind.map((n) => `${n.id} (release ${n.release}, schema ${n.schema_version ?? `${SCHEMA_BEFORE_HEARTBEAT_VERSIONS} or older`})`).join(', ')} ${behind.length === 1 ? 'is' : 'are'} running: first upgrade them to a release that knows it (mimamori rolling-restart), or stop them; nothing was changed`,
  );
}
