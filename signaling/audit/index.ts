// The audit log: who did what, to which camera, when and from where. Append-only and
// tamper-evident: every row carries `prev` (the hash of the row before it) and `hash` (of itself
// with `prev`), so verify() names the first row that was changed, removed or inserted. Two
// implementations keep it: day files in the data folder (FileAuditLog) and a PostgreSQL table
// shared by every node (PostgresAuditLog); the store that holds the metadata opens the right one.
import type { AuditEvent, AuditRow } from './actions.ts';
import type { AuditPage, AuditQuery, AuditVerification } from './rows.ts';

export * from './actions.ts';
export { csvHeader, csvRow, CSV_BOM } from './csv.ts';
export { importLegacyAudit } from './legacy.ts';
export { FileAuditLog, type FileAuditLogOptions } from './FileAuditLog.ts';
export { GENESIS, USER_AGENT_CHARS, chainedRow, isAuditCursor, matches, parseAuditCursor, parseRow, auditCursor, rowHash, utcDay, type AuditPage, type AuditQuery, type AuditVerification } from './rows.ts';

export interface AuditLog {
  /**
   * Orders the row at once (rows keep the order of the calls) and resolves when it is stored.
   * Rejects only if it could not be stored or the log is closed.
   */
  append(event: AuditEvent): Promise<AuditRow>;
  /** Matching rows, newest first, `limit` (1–1000) at a time. */
  search(query: AuditQuery & { limit?: number; cursor?: string }): Promise<AuditPage>;
  /** Every matching row, oldest first (exports stream this). */
  rows(query: AuditQuery): AsyncGenerator<AuditRow>;
  /** Walks the whole chain; names the first row that does not fit. */
  verify(): Promise<AuditVerification>;
  /** Removes rows past the retention (and audits that it did); returns what was removed. */
  applyRetention(): Promise<string[]>;
  /** Waits for queued rows, then stops. Idempotent. */
  close(): Promise<void>;
}
