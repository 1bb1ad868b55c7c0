// mimamori migrate-store: the whole metadata of one store copied into an empty store of the other
// kind (files → PostgreSQL, or back), then checked: every table's row count, the audit chain
// verified in its new home, the data keys identical.
import { isDeepStrictEqual } from 'node:util';
import { TABLES, type Table } from './model.ts';
import { StoreError } from './errors.ts';
import type { Store } from './Store.ts';

export interface MigrationReport {
  /** Rows per table in the target (equal to the source's, but for `dropped`). */
  rows: Partial<Record<Table, number>>;
  auditRows: number;
  /** Rows of the source that named a row that is not there, left out (a database refuses them). */
  dropped: string[];
  ms: number;
}

export async function migrateStore(from: Store, to: Store): Promise<MigrationReport> {
  const started = Date.now();
  const data = await from.exportAll();
  const { dropped } = await to.importAll(data);
  await to.sync();
  const copied = to.snapshot();
  const rows: Partial<Record<Table, number>> = {};
  for (const table of TABLES) {
    const want = data.rows[table].length - dropped.filter((d) => d.startsWith(`${table} `)).length;
    if (copied[table].length !== want) {
      throw new StoreError('schema_mismatch', `after copying, ${to.description} holds ${copied[table].length} ${table} instead of ${want}; the target is not usable — empty it and run migrate-store again`);
    }
    if (want > 0) rows[table] = want;
  }
  const keys = new Map(copied.dataKeys.map((k) => [k.cameraId, k.key]));
  for (const k of data.rows.dataKeys) {
    if (!isDeepStrictEqual(keys.get(k.cameraId), k.key) && !dropped.includes(`dataKeys ${k.cameraId}`)) {
      throw new StoreError('schema_mismatch', `camera ${k.cameraId}'s data key did not arrive intact in ${to.description}; do not use the target — empty it and run migrate-store again`);
    }
  }
  const verified = await to.audit.verify();
  if (!verified.ok) throw new StoreError('schema_mismatch', `the audit chain does not verify in ${to.description} after copying (${verified.reason} at ${verified.file}:${verified.line}); empty it and run migrate-store again`);
  return { rows, auditRows: verified.rows, dropped, ms: Date.now() - started };
}
