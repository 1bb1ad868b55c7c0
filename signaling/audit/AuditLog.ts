// What both audit logs (day files, PostgreSQL) offer the service.
import type { AuditEvent, AuditRow } from './actions.ts';
import type { AuditPage, AuditQuery, AuditVerification } from './rows.ts';

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
