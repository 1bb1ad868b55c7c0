// The audit log: who did what, to which camera, when and from where. Append-only and
// tamper-evident: every row carries `prev` (the hash of the row before it) and `hash` (of itself
// with `prev`), so verify() names the first row that was changed, removed or inserted. Two
// implementations keep it: day files in the data folder (FileAuditLog) and a PostgreSQL table
// shared by every node (PostgresAuditLog); the store that holds the metadata opens the right one.

export * from './actions.ts';
export { csvHeader, csvRow, CSV_BOM } from './csv.ts';
export { importLegacyAudit } from './legacy.ts';
export type { AuditLog } from './AuditLog.ts';
export { FileAuditLog, type FileAuditLogOptions } from './FileAuditLog.ts';
export { GENESIS, USER_AGENT_CHARS, chainedRow, isAuditCursor, matches, parseAuditCursor, parseRow, auditCursor, rowHash, utcDay, type AuditPage, type AuditQuery, type AuditVerification } from './rows.ts';
