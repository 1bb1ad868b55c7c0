// Contract end: an organisation scheduled for deletion is warned until its date, then every
// recording, index, export, camera, account and setting of it is deleted and a report is kept.
// Also the one way a single camera is removed (the same steps, for one camera).
import type { Deps } from './context.ts';
import { auditEvent } from './middleware.ts';
import type { DeletionReport, Org } from './store/index.ts';

/** Removes a camera: its viewers are told, its recordings, indexes and exports deleted, then its rows and key. */
export async function removeCamera(deps: Deps, cameraId: string) {
  deps.hub.cameraRemoved(cameraId);
  const report = await deps.recorder.deleteRecordings(cameraId);
  await deps.store.deleteCamera(cameraId);
  deps.recorder.keys.forget(cameraId);
  return report;
}

const CHECK_MS = 10_000;

export class ContractEnd {
  readonly #deps: Deps;
  readonly #timer: NodeJS.Timeout;
  #running: Promise<void> | undefined;

  constructor(deps: Deps) {
    this.#deps = deps;
    this.#timer = setInterval(() => void this.runDue(), CHECK_MS);
    this.#timer.unref();
  }

  /** Deletes every organisation whose date has passed (one pass at a time). */
  runDue(): Promise<void> {
    this.#running ??= this.#runDue().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  async #runDue(): Promise<void> {
    const due = this.#deps.store.orgs.filter((o) => o.deletion && Date.parse(o.deletion.at) <= Date.now());
    for (const org of due) await this.#delete(org);
  }

  async #delete(org: Org): Promise<void> {
    const { store, hub, log } = this.#deps;
    const users = store.usersOf(org.id);
    const cameras = store.camerasOf(org.id);
    const report: DeletionReport = {
      orgId: org.id,
      orgName: org.name,
      scheduledFor: org.deletion!.at,
      completedAt: '',
      users: users.length,
      cameras: cameras.length,
      objects: 0,
      bytes: 0,
      errors: [],
    };
    log.warn({ event: 'org_deletion_started', orgId: org.id, users: users.length, cameras: cameras.length }, 'contract ended: deleting the organisation');
    // Its people and displays stop first, so nothing new is written or watched while it goes.
    for (const u of users) hub.rightsChanged(u.id, () => false);
    for (const k of store.kiosks.filter((k) => k.orgId === org.id)) hub.principalRevoked(`k:${k.id}`, 'kiosk_revoked', 'the contract of this organisation ended');
    const cameraIds = new Set(cameras.map((c) => c.id));
    for (const s of store.sharesBy(undefined).filter((s) => cameraIds.has(s.cameraId))) hub.principalRevoked(`s:${s.id}`, 'share_revoked', 'the contract of this organisation ended');
    for (const cam of cameras) {
      try {
        const removed = await removeCamera(this.#deps, cam.id);
        report.objects += removed.objects;
        report.bytes += removed.bytes;
      } catch (err) {
        report.errors.push(`camera ${cam.id}: ${(err as Error).message}`);
      }
    }
    if (report.errors.length > 0) {
      // Nothing is reported done while objects may remain: the next pass tries again.
      log.error({ event: 'org_deletion_incomplete', orgId: org.id, errors: report.errors }, 'contract end: some recordings could not be deleted; retrying');
      return;
    }
    report.completedAt = new Date().toISOString();
    await store.removeOrg(org.id, report);
    for (const u of users) {
      await this.#deps.accounts.forgetUser(u.id);
      hub.userSessionsRevoked(u.id);
    }
    log.warn({ event: 'org_deleted', ...report }, 'contract ended: organisation deleted');
    auditEvent(this.#deps, {}, { actor: 'system', action: 'org.deleted', orgId: org.id, outcome: 'ok', detail: { ...report } });
  }
}
