// The PostgreSQL store: schema migrations, the store itself (memory kept current through the
// change feed) and the shared audit log.
export { PostgresStore, describeUrl, type PostgresStoreOptions } from './PostgresStore.ts';
export { PostgresAuditLog } from './PostgresAuditLog.ts';
export { migrate, MIGRATIONS, SCHEMA_VERSION, type Migration } from './migrations.ts';
