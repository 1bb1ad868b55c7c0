// The service's metadata: one interface (Store), two places to keep it — files in the data folder
// (the embedded default: nothing to install) or PostgreSQL (MIMAMORI_DATABASE_URL), which several
// nodes share. Every node holds the metadata in memory and reads it synchronously; see README
// "Metadata store" for how changes reach the other nodes.
export * from './model.ts';
export { Catalog, type CatalogEvents } from './Catalog.ts';
export { StoreError, type StoreErrorCode } from './errors.ts';
export { FileStore } from './FileStore.ts';
export { applyCameraChange, type Tx } from './Operations.ts';
export type { ExportPatch, SharedSecretName, Store, StoreHealth, StoreKind } from './Store.ts';
export { PostgresStore, describeUrl, migrate, MIGRATIONS, SCHEMA_VERSION } from './postgres/index.ts';
export { backupFilesOf, dataDirFilesOf, exportOfFiles, filesOfExport } from './backupFiles.ts';

import type { Config } from '../../config/index.ts';
import type { Logger } from '../log.ts';
import { FileStore as Files } from './FileStore.ts';
import type { Store } from './Store.ts';
import { PostgresStore } from './postgres/index.ts';

/** The store the configuration asks for: PostgreSQL when MIMAMORI_DATABASE_URL is set, files otherwise. */
export async function openStore(config: Pick<Config, 'dataDir' | 'databaseUrl' | 'nodeId' | 'audit'>, log: Logger, options: { readOnly?: boolean } = {}): Promise<Store> {
  // readOnly: command-line tools that only look things up beside a running service (no audit log opened).
  if (config.databaseUrl) {
    return PostgresStore.open({ url: config.databaseUrl, log, nodeId: config.nodeId, auditRetentionDays: config.audit.retentionDays, readOnly: options.readOnly });
  }
  if (options.readOnly) return Files.open(config.dataDir);
  return Files.openWithAudit({ dataDir: config.dataDir, log, auditRetentionDays: config.audit.retentionDays });
}
export { migrateStore, type MigrationReport } from './migrate.ts';
