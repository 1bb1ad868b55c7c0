// The cameras of an organisation arranged for finding them: in name order (Japanese collation,
// numbers as numbers), with their names folded for search and the camera-group tree resolved. An
// organisation with 5,000 cameras in hundreds of groups asks for a page of 50 many times a second;
// sorting, folding and walking the groups once per change of the catalog, not once per request,
// is what lets that page cost what 50 cameras cost.
//
//   const directory = CameraDirectory.of(deps.store);         // one per store
//   const org = directory.org(orgId);                          // rebuilt after cameras or groups change
//   const mine = directory.visibleTo(access);                  // what this caller may see, in name order
//   org.below(groupId)                                         // the group's cameras and those of every group below it

import type { Access } from './access.ts';
import { RIGHTS, type Camera, type CameraGroup, type Change, type Right, type Store, type Table } from './store/index.ts';

/** The order of camera names: Japanese collation, "カメラ2" before "カメラ10". */
export const nameCollator = new Intl.Collator('ja', { numeric: true });

/**
 * A name as search compares it: NFKC (half-width ｶﾒﾗ and full-width Ａ become カメラ and A), lower
 * case, and katakana as hiragana (カメラ finds かめら). Both the names and what is typed go through it.
 */
export function foldForSearch(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u30a1-\u30f6\u30fd\u30fe]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0x60));
}

/** One camera as the directory holds it. */
export interface CameraEntry {
  readonly camera: Camera;
  /** The name folded for search (foldForSearch). */
  readonly folded: string;
  /** The groups it sits in directly. */
  readonly groupIds: readonly string[];
}

/** Name order, then id: a total order, so a cursor (name, id) finds its place even when its camera is gone. */
export function compareNameKey(name: string, id: string, otherName: string, otherId: string): number {
  return nameCollator.compare(name, otherName) || (id < otherId ? -1 : id > otherId ? 1 : 0);
}

/** The first index of `entries` (in name order) that comes after (name, id). */
export function indexAfter(entries: readonly CameraEntry[], name: string, id: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const e = entries[mid]!;
    if (compareNameKey(e.camera.name, e.camera.id, name, id) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One organisation's cameras and groups at one version of the catalog (replaced, never changed). */
export class OrgCameras {
  /** Every camera, in name order. */
  readonly byName: readonly CameraEntry[];
  readonly byId: ReadonlyMap<string, CameraEntry>;
  /** Every group, in name order. */
  readonly groups: readonly CameraGroup[];
  readonly #groupById: ReadonlyMap<string, CameraGroup>;
  readonly #children = new Map<string, CameraGroup[]>();
  readonly #below = new Map<string, ReadonlySet<string>>();

  constructor(cameras: readonly Camera[], groups: readonly CameraGroup[]) {
    this.#groupById = new Map(groups.map((g) => [g.id, g]));
    this.groups = [...groups].sort((a, b) => compareNameKey(a.name, a.id, b.name, b.id));
    for (const g of this.groups) {
      const parent = this.parentOf(g);
      if (parent === null) continue;
      let list = this.#children.get(parent);
      if (!list) this.#children.set(parent, (list = []));
      list.push(g);
    }
    const groupsOfCamera = new Map<string, string[]>();
    for (const g of groups) {
      for (const id of g.cameraIds) {
        let list = groupsOfCamera.get(id);
        if (!list) groupsOfCamera.set(id, (list = []));
        list.push(g.id);
      }
    }
    const sorted = [...cameras].sort((a, b) => compareNameKey(a.name, a.id, b.name, b.id));
    this.byName = sorted.map((camera) => ({ camera, folded: foldForSearch(camera.name), groupIds: groupsOfCamera.get(camera.id) ?? [] }));
    this.byId = new Map(this.byName.map((e) => [e.camera.id, e]));
  }

  group(id: string): CameraGroup | undefined {
    return this.#groupById.get(id);
  }

  /**
   * The group a group sits under, or null at the top: a parent that is not (or no longer) a group
   * of this organisation counts as none, so a removed parent leaves its children at the top.
   */
  parentOf(group: CameraGroup): string | null {
    const parent = group.parentId;
    return parent !== undefined && parent !== group.id && this.#groupById.has(parent) ? parent : null;
  }

  /** The group's own cameras and those of every group below it (each once; a cycle of parents is walked once). */
  below(groupId: string): ReadonlySet<string> {
    let set = this.#below.get(groupId);
    if (set) return set;
    const out = new Set<string>();
    const seen = new Set<string>();
    const walk = (id: string) => {
      if (seen.has(id)) return;
      seen.add(id);
      for (const cameraId of this.#groupById.get(id)?.cameraIds ?? []) if (this.byId.has(cameraId)) out.add(cameraId);
      for (const child of this.#children.get(id) ?? []) walk(child.id);
    };
    walk(groupId);
    this.#below.set(groupId, (set = out));
    return set;
  }
}

/** What one caller may see of their organisation's cameras, at one version of the catalog. */
export interface VisibleCameras {
  readonly org: OrgCameras;
  /** In name order. */
  readonly entries: readonly CameraEntry[];
  /** The caller's rights on each visible camera (in RIGHTS order, as the answers list them). */
  readonly rights: ReadonlyMap<string, readonly Right[]>;
}

/**
 * Tables whose rows never decide who sees which camera or how cameras are grouped: changes to
 * them (sign-ins, sessions, exports...) keep the caches. Every other table clears them, so a new
 * table that rights come to depend on is safe by default.
 */
const IRRELEVANT: ReadonlySet<Table> = new Set<Table>([
  'sessions',
  'loginFailures',
  'addressFailures',
  'totp',
  'owners',
  'exports',
  'preferences',
  'announcements',
  'dataKeys',
  'holds',
  'shares',
  'kiosks',
  'webhooks',
  'deletionReports',
]);
/** Callers whose visible cameras are kept (a bound on memory; past it the cache starts over). */
const MAX_CALLERS = 2000;
/**
 * A caller's visible cameras are rebuilt at least this often even if nothing changed: rights are
 * derived from the catalog alone today, this bounds the damage should one ever depend on time.
 */
const CALLER_TTL_MS = 10_000;

/** The directory of each store (the routes that list cameras and sites share it). */
const directories = new WeakMap<object, CameraDirectory>();

export class CameraDirectory {
  static of(store: Pick<Store, 'camerasOf' | 'groupsOf' | 'on' | 'off'>): CameraDirectory {
    let directory = directories.get(store);
    if (!directory) directories.set(store, (directory = new CameraDirectory(store)));
    return directory;
  }

  readonly #store: Pick<Store, 'camerasOf' | 'groupsOf' | 'on' | 'off'>;
  readonly #orgs = new Map<string, OrgCameras>();
  readonly #callers = new Map<string, { at: number; visible: VisibleCameras }>();

  private constructor(store: Pick<Store, 'camerasOf' | 'groupsOf' | 'on' | 'off'>) {
    this.#store = store;
    // As long as the store: both go together (the WeakMap holds the directory only while the store lives).
    store.on('change', this.#onChange);
  }

  readonly #onChange = (change: Change): void => {
    if (IRRELEVANT.has(change.table)) return;
    this.#callers.clear();
    if (change.table === 'cameras' || change.table === 'groups' || change.table === 'orgs') this.#orgs.clear();
  };

  org(orgId: string): OrgCameras {
    let org = this.#orgs.get(orgId);
    if (!org) this.#orgs.set(orgId, (org = new OrgCameras(this.#store.camerasOf(orgId), this.#store.groupsOf(orgId))));
    return org;
  }

  /**
   * The cameras `access` holds any right on, asked of access.rightsOn itself (the one place that
   * decides) for every camera of the organisation once per version of the catalog, and kept for
   * later requests of the same caller. The caller's standing (a revoked key, a signed-out session)
   * is checked by the middleware on every request before this is reached.
   */
  visibleTo(access: Access): VisibleCameras {
    const org = this.org(access.orgId!);
    const key = `${access.principal}\u0000${access.orgId}`;
    const now = Date.now();
    const cached = this.#callers.get(key);
    if (cached && cached.visible.org === org && now - cached.at < CALLER_TTL_MS) return cached.visible;
    const entries: CameraEntry[] = [];
    const rights = new Map<string, readonly Right[]>();
    const shared = new Map<string, readonly Right[]>();
    for (const entry of org.byName) {
      const held = access.rightsOn(entry.camera.id);
      if (held.size === 0) continue;
      entries.push(entry);
      // The same few sets of rights repeat over thousands of cameras: one array per distinct set.
      const list = RIGHTS.filter((r) => held.has(r));
      const name = list.join(',');
      let one = shared.get(name);
      if (!one) shared.set(name, (one = list));
      rights.set(entry.camera.id, one);
    }
    const visible: VisibleCameras = { org, entries, rights };
    if (this.#callers.size >= MAX_CALLERS) this.#callers.clear();
    this.#callers.set(key, { at: now, visible });
    return visible;
  }
}
