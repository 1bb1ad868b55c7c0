// Rows written before the audit log had its own files lived in db.json's `audit` array. They are
// copied into the log once (their original time kept in `at`); db.json is left as it is.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.ts';
import type { FileAuditLog } from './FileAuditLog.ts';
import type { AuditOutcome } from './actions.ts';

const MARKER = 'imported-db-json.json';

interface LegacyRow {
  at?: unknown;
  actor?: unknown;
  action?: unknown;
  cameraId?: unknown;
  ip?: unknown;
  outcome?: unknown;
  detail?: unknown;
}

export async function importLegacyAudit(log: FileAuditLog, dataDir: string, logger: Logger): Promise<number> {
  const marker = path.join(log.dir, MARKER);
  if (await exists(marker)) return 0;
  let legacy: LegacyRow[] = [];
  try {
    const db = JSON.parse(await fs.readFile(path.join(dataDir, 'db.json'), 'utf8')) as { audit?: unknown };
    if (Array.isArray(db.audit)) legacy = db.audit as LegacyRow[];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (legacy.length > 0) {
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const copied: Promise<unknown>[] = [];
    for (const r of legacy) {
      const outcome: AuditOutcome = r.outcome === 'refused' || r.outcome === 'error' ? r.outcome : 'ok';
      const detail = r.detail && typeof r.detail === 'object' ? (r.detail as Record<string, unknown>) : {};
      copied.push(log.append({
        at: str(r.at),
        actor: str(r.actor) ?? 'anonymous',
        action: str(r.action) ?? 'unknown',
        outcome,
        cameraId: str(r.cameraId),
        ip: str(r.ip),
        detail: { ...detail, importedFrom: 'db.json' },
      }));
    }
    // The marker is written only once every copied row is on disk (a failed write throws here).
    await Promise.all(copied);
    await log.append({ actor: 'system', action: 'audit.migrate', outcome: 'ok', detail: { from: 'db.json', rows: legacy.length } });
    logger.info({ event: 'audit_migrated', rows: legacy.length }, `copied ${legacy.length} audit rows from db.json into the audit log`);
  }
  await fs.writeFile(marker, JSON.stringify({ from: 'db.json', rows: legacy.length, at: new Date().toISOString() }), { mode: 0o600 });
  return legacy.length;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.stat(file);
    return true;
  } catch {
    return false;
  }
}
