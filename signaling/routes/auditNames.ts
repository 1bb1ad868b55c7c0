// Names for a page of the audit log: rows carry ids (`u:u_3Q50…`, cameraId, detail.groupId), the
// people reading them want names. Resolved here from the store, not in the browser, because the
// page may not have every list (and must not load 5,000 cameras to name one). Only things of the
// reader's organisation are named (an operator reads every organisation's); something gone is
// marked deleted, with the name a row on the page recorded for it, if any.
import type { AuditRow } from '../audit/index.ts';
import type { CameraGroup, Store } from '../store/index.ts';

export interface AuditNameView {
  name?: string;
  deleted?: boolean;
}

/** Reference kinds, as the actor column spells them (plus g, w, o for what only details mention). */
type Kind = 'u' | 'a' | 'k' | 's' | 'c' | 'g' | 'w' | 'o';
/** Detail keys that hold an id, and the kind of thing it names. */
const DETAIL_IDS: Record<string, Kind> = { userId: 'u', adminId: 'u', keyId: 'a', kioskId: 'k', shareId: 's', groupId: 'g', webhookId: 'w', orgId: 'o' };
const ACTOR = /^([uaksc]):(.+)$/;

/**
 * Every reference the rows make, named. `orgId`: the reader's organisation, or undefined for an
 * operator of the service (who may read every organisation's names).
 */
export function auditNames(store: Store, rows: readonly AuditRow[], orgId: string | undefined): Record<string, AuditNameView> {
  const refs = new Set<string>();
  /** Names rows recorded (user.delete's username, api_key.revoke's name …): what a deleted thing was called. */
  const recorded = new Map<string, string>();
  for (const row of rows) {
    const actor = ACTOR.exec(row.actor);
    if (actor) refs.add(row.actor);
    if (row.cameraId) refs.add(`c:${row.cameraId}`);
    const d = row.detail ?? {};
    for (const [key, kind] of Object.entries(DETAIL_IDS)) {
      const id = d[key];
      if (typeof id === 'string' && id) refs.add(`${kind}:${id}`);
    }
    const name = typeof d.name === 'string' ? d.name : typeof d.username === 'string' ? d.username : undefined;
    if (name) {
      const subject = recordedSubject(row, d);
      if (subject) recorded.set(subject, name);
    }
  }
  const names: Record<string, AuditNameView> = {};
  for (const ref of refs) {
    const name = currentName(store, ref, orgId);
    if (name !== undefined) names[ref] = { name };
    else {
      const was = recorded.get(ref);
      names[ref] = { ...(was ? { name: was } : {}), deleted: true };
    }
  }
  return names;
}

/** Which reference a row's `name`/`username` detail names. */
function recordedSubject(row: AuditRow, d: Record<string, unknown>): string | undefined {
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  if (typeof d.username === 'string') return str(d.userId) ? `u:${d.userId as string}` : row.actor.startsWith('u:') ? row.actor : undefined;
  if (str(d.keyId)) return `a:${d.keyId as string}`;
  if (str(d.webhookId)) return `w:${d.webhookId as string}`;
  if (str(d.groupId)) return `g:${d.groupId as string}`;
  if (row.action.startsWith('org.') && str(d.orgId)) return `o:${d.orgId as string}`;
  if (row.action === 'camera.create' && row.cameraId) return `c:${row.cameraId}`;
  return undefined;
}

/** The name now, or undefined when it is gone or belongs to another organisation. */
function currentName(store: Store, ref: string, orgId: string | undefined): string | undefined {
  const colon = ref.indexOf(':');
  const kind = ref.slice(0, colon) as Kind;
  const id = ref.slice(colon + 1);
  const mine = (o: string | null | undefined) => orgId === undefined || o === orgId;
  switch (kind) {
    case 'u': {
      const u = store.userById(id);
      return u && mine(u.orgId) ? u.username : undefined;
    }
    case 'a': {
      const k = store.apiKey(id);
      return k && mine(k.orgId) ? k.name : undefined;
    }
    case 'k': {
      const k = store.kiosk(id);
      return k && mine(k.orgId) ? k.name : undefined;
    }
    case 'c': {
      const c = store.camera(id);
      return c && mine(c.orgId) ? c.name : undefined;
    }
    case 's': {
      // A link has no name of its own: it is named by the camera it shows.
      const s = store.share(id);
      const c = s ? store.camera(s.cameraId) : undefined;
      return c && mine(c.orgId) ? c.name : undefined;
    }
    case 'g': {
      const g = store.group(id);
      return g && mine(g.orgId) ? g.name : undefined;
    }
    case 'w': {
      const w = store.webhook(id);
      return w && mine(w.orgId) ? w.name : undefined;
    }
    case 'o': {
      const o = store.org(id);
      return o && mine(o.id) ? o.name : undefined;
    }
  }
}

/** A site's cameras: the group's own and those of every group under it. */
export function siteCameraIds(store: Store, orgId: string, groupId: string): string[] | undefined {
  return new Sites(store.groupsOf(orgId)).cameraIds(groupId);
}

/** An organisation's groups as a tree, built once so that naming every site stays linear. */
export class Sites {
  readonly #byId = new Map<string, CameraGroup>();
  readonly #children = new Map<string, CameraGroup[]>();

  constructor(groups: readonly CameraGroup[]) {
    for (const g of groups) this.#byId.set(g.id, g);
    for (const g of groups) {
      if (g.parentId === undefined || !this.#byId.has(g.parentId)) continue;
      const list = this.#children.get(g.parentId) ?? [];
      list.push(g);
      this.#children.set(g.parentId, list);
    }
  }

  /** undefined: no such group in the organisation. */
  cameraIds(groupId: string): string[] | undefined {
    if (!this.#byId.has(groupId)) return undefined;
    const cameras = new Set<string>();
    const seen = new Set<string>();
    const stack = [groupId];
    // A parent loop (which the groups API should prevent) ends here rather than spinning.
    while (stack.length) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const c of this.#byId.get(id)?.cameraIds ?? []) cameras.add(c);
      for (const child of this.#children.get(id) ?? []) stack.push(child.id);
    }
    return [...cameras];
  }
}
