// The live view's sidebar: the sites tree (camera groups nested by parentId, each with its counts
// and state), "Other cameras" for the ungrouped ones, instant search and the state filters. Only
// what is expanded is in the page: a collapsed site renders no cameras, an expanded one at most a
// page of them (then "show more"), and the whole tree has a budget of camera rows, so a thousand
// cameras cost no more DOM than fifty. Which sites are expanded is remembered in this browser.
import type { Camera, Site, SiteCounts, SiteTree } from './api.ts';
import { CAMERA_FILTERS, CameraIndex, passes, stateOf, type CameraFilter } from './cameraSearch.ts';
import { bindAttr, bindText, t, type MessageKey } from './i18n.ts';
import { storage } from './storage.ts';
import { h, tx } from './ui.ts';

/** GET /api/sites: the groups the user sees cameras in, with counts, and the counts of the rest. */
export type SiteList = SiteTree;
export type { Site, SiteCounts };

/** What the grid shows when no single camera is open. */
export type Wall = { kind: 'all' } | { kind: 'site'; id: string } | { kind: 'other' } | { kind: 'layout'; id: string };
export const wallKey = (w: Wall): string => (w.kind === 'site' || w.kind === 'layout' ? `${w.kind}:${w.id}` : w.kind);

/** The drag data of a camera (its id), from the list or a tile, onto a layout's tile. */
export const CAMERA_DRAG_TYPE = 'application/x-mimamori-camera';

export interface SitesSidebarOptions {
  /** A site (or all cameras, or the ungrouped ones) chosen for the grid. */
  onWall: (wall: Wall) => void;
  /** A camera chosen: its single view. */
  onCamera: (cameraId: string) => void;
}

const EXPANDED_KEY = 'mimamori.sites.expanded';
/** Cameras listed under one expanded site before "show more". */
const SITE_PAGE = 50;
/** Camera rows in the whole tree, across expanded sites: beyond it a site shows only "show more". */
const TREE_BUDGET = 300;
/** Search results listed before "show more". */
const RESULTS_PAGE = 100;
/** Up to this many cameras in all, sites start expanded (a small installation sees its cameras at once). */
const SMALL = 30;
const OTHER = 'other';

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
export const byName = (a: { name: string }, b: { name: string }): number => collator.compare(a.name, b.name);

interface TreeNode {
  site: Site;
  children: TreeNode[];
  /** Cameras placed in this group itself, by name. */
  cameras: Camera[];
}

export class SitesSidebar {
  readonly el: HTMLElement;
  readonly search: HTMLInputElement;
  readonly #tree: HTMLElement;
  readonly #status: HTMLElement;
  readonly #filterButtons = new Map<CameraFilter, HTMLButtonElement>();
  readonly #options: SitesSidebarOptions;
  readonly #filters = new Set<CameraFilter>();
  /** Explicit choices (true: expanded) per site id, or OTHER; others follow the default. */
  readonly #expanded: Map<string, boolean>;
  /** "Show more" pressed: how many cameras a site (or the results, key '') lists. */
  readonly #shown = new Map<string, number>();
  #cameras: Camera[] = [];
  #index = new CameraIndex<Camera>([]);
  #sites: SiteList | null = null;
  #roots: TreeNode[] = [];
  #other: Camera[] = [];
  #byId = new Map<string, Camera>();
  #alerting: ReadonlySet<string> = new Set();
  #liveState: (camera: Camera) => boolean = (c) => c.live;
  #wall: Wall = { kind: 'all' };
  #selected: string | null = null;
  #frame = 0;

  constructor(options: SitesSidebarOptions) {
    this.#options = options;
    this.#expanded = readExpanded();
    this.search = h('input', { type: 'search', class: 'camera-search', id: 'camera-search', autocomplete: 'off', spellcheck: false, enterkeyhint: 'go' });
    bindAttr(this.search, 'placeholder', 'sites.searchPlaceholder');
    bindAttr(this.search, 'aria-label', 'sites.search');
    this.search.setAttribute('aria-controls', 'sites-tree');
    this.search.addEventListener('input', () => {
      this.#shown.delete('');
      this.render();
    });
    this.search.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        const first = this.results()[0];
        if (first) {
          ev.preventDefault();
          this.#options.onCamera(first.id);
        }
      } else if (ev.key === 'Escape' && this.search.value) {
        ev.preventDefault();
        ev.stopPropagation();
        this.search.value = '';
        this.render();
      }
    });
    const filters = h('div', { class: 'camera-filters', role: 'group' });
    bindAttr(filters, 'aria-label', 'sites.filters');
    for (const f of CAMERA_FILTERS) {
      const b = tx('button', `sites.filter.${f}` as MessageKey, { type: 'button', class: 'small chip', 'aria-pressed': 'false', 'data-filter': f });
      b.addEventListener('click', () => {
        if (this.#filters.has(f)) this.#filters.delete(f);
        else this.#filters.add(f);
        b.setAttribute('aria-pressed', String(this.#filters.has(f)));
        this.render();
      });
      this.#filterButtons.set(f, b);
      filters.append(b);
    }
    this.#status = h('p', { class: 'sites-status', role: 'status', 'aria-live': 'polite' });
    this.#tree = h('ul', { class: 'sites-tree', id: 'sites-tree' });
    const heading = tx('h2', 'grid.cameras', { id: 'sites-heading' });
    this.#tree.setAttribute('aria-labelledby', 'sites-heading');
    this.el = h('nav', { class: 'cameras sites', id: 'live-sidebar' }, heading, this.search, filters, this.#status, this.#tree);
    bindAttr(this.el, 'aria-label', 'sites.title');
  }

  /** The cameras and the sites; `sites` null until GET /api/sites answered (every camera is then listed flat). */
  setData(cameras: Camera[], sites: SiteList | null): void {
    this.#cameras = [...cameras].sort(byName);
    this.#byId = new Map(this.#cameras.map((c) => [c.id, c]));
    this.#index = new CameraIndex(this.#cameras);
    this.#sites = sites;
    this.#build();
    this.render();
  }

  setAlerting(ids: ReadonlySet<string>): void {
    this.#alerting = ids;
    if (this.#filters.size) this.render();
  }

  /** How the dots read a camera's liveness (a tile on screen knows better than the last list). */
  setLiveState(live: (camera: Camera) => boolean): void {
    this.#liveState = live;
  }

  /** Marks the wall and the camera shown, in place (rebuilding rows under the pointer would lose a click). */
  setSelection(wall: Wall, selected: string | null): void {
    this.#wall = wall;
    this.#selected = selected;
    const current = selected === null ? `wall:${wallKey(wall)}` : null;
    for (const b of this.#tree.querySelectorAll<HTMLElement>('.site-open')) setCurrent(b, b.dataset.key === current);
    for (const b of this.#tree.querySelectorAll<HTMLElement>('.camera-item')) setCurrent(b, b.dataset.cameraId === selected);
  }

  /** The cameras of a wall, by name: a site's own and those of the sites under it, each once. */
  camerasOf(wall: Wall): Camera[] {
    if (wall.kind === 'all') return this.#cameras;
    if (wall.kind === 'other') return this.#sites ? this.#other : this.#cameras;
    if (wall.kind === 'layout') return []; // a saved layout's tiles are the live view's (client/layouts.ts)
    const node = this.#find(this.#roots, wall.id);
    if (!node) return [];
    const seen = new Set<string>();
    const out: Camera[] = [];
    const walk = (n: TreeNode) => {
      for (const c of n.cameras) if (!seen.has(c.id) && seen.add(c.id)) out.push(c);
      n.children.forEach(walk);
    };
    walk(node);
    return out.sort(byName);
  }

  siteName(id: string): string | undefined {
    return this.#sites?.sites.find((s) => s.id === id)?.name;
  }

  hasSite(id: string): boolean {
    return Boolean(this.#find(this.#roots, id));
  }

  /** The search's results (every camera passing the filters when the box is empty). */
  results(): Camera[] {
    return this.#index.query(this.search.value, this.#filters, this.#alerting);
  }

  get searching(): boolean {
    return this.search.value.trim() !== '' || this.#filters.size > 0;
  }

  /** Dots follow the tiles: updated in place on the next frame, several changes at once. */
  refreshStates(): void {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      for (const b of this.#tree.querySelectorAll<HTMLElement>('.camera-item')) {
        const camera = this.#byId.get(b.dataset.cameraId ?? '');
        if (!camera) continue;
        const live = this.#liveState(camera);
        const dot = b.querySelector<HTMLElement>('.dot');
        if (dot?.dataset.live === String(live)) continue;
        if (dot) dot.dataset.live = String(live);
        bindAttr(b, 'aria-label', 'sites.openCamera', { name: camera.name, state: t(`sites.state.${live ? 'live' : stateOf(camera)}` as MessageKey) });
      }
    });
  }

  close(): void {
    if (this.#frame) cancelAnimationFrame(this.#frame);
  }

  render(): void {
    // Re-rendering must not lose a keyboard user's place: the focused row is found again by key.
    const focusKey = (document.activeElement as HTMLElement | null)?.closest?.('#sites-tree [data-key]')?.getAttribute('data-key');
    const items = this.searching ? this.#renderResults() : this.#renderTree();
    this.#tree.replaceChildren(...items);
    this.#tree.dataset.mode = this.searching ? 'results' : 'tree';
    if (focusKey) (this.#tree.querySelector(`[data-key="${CSS.escape(focusKey)}"]`) as HTMLElement | null)?.focus();
  }

  // --- Building -----------------------------------------------------------------------------------

  #build(): void {
    this.#roots = [];
    this.#other = [];
    if (!this.#sites) return;
    const nodes = new Map<string, TreeNode>(this.#sites.sites.map((site) => [site.id, { site, children: [], cameras: [] }]));
    for (const node of nodes.values()) {
      const parent = node.site.parentId ? nodes.get(node.site.parentId) : undefined;
      // A parent the user cannot see (or a loop) puts the site at the top.
      if (parent && !this.#isAncestor(node, parent, nodes)) parent.children.push(node);
      else this.#roots.push(node);
    }
    for (const camera of this.#cameras) {
      const groups = camera.groupIds.filter((id) => nodes.has(id));
      if (groups.length === 0) this.#other.push(camera);
      for (const id of groups) nodes.get(id)!.cameras.push(camera);
    }
    const sort = (list: TreeNode[]) => {
      list.sort((a, b) => byName(a.site, b.site));
      for (const n of list) sort(n.children);
    };
    sort(this.#roots);
  }

  #isAncestor(node: TreeNode, of: TreeNode, nodes: Map<string, TreeNode>): boolean {
    let at: TreeNode | undefined = of;
    for (let depth = 0; at && depth < 64; depth++) {
      if (at === node) return true;
      at = at.site.parentId ? nodes.get(at.site.parentId) : undefined;
    }
    return false;
  }

  #find(list: TreeNode[], id: string): TreeNode | undefined {
    for (const n of list) {
      if (n.site.id === id) return n;
      const found = this.#find(n.children, id);
      if (found) return found;
    }
    return undefined;
  }

  // --- Rendering ----------------------------------------------------------------------------------

  #renderResults(): HTMLElement[] {
    const results = this.results();
    const limit = this.#shown.get('') ?? RESULTS_PAGE;
    bindText(this.#status, results.length === 0 ? 'sites.noResults' : 'sites.results', { count: results.length });
    this.#status.hidden = false;
    const items = results.slice(0, limit).map((c) => this.#cameraItem(c, 'result'));
    if (results.length > limit) items.push(this.#more('', results.length - limit, RESULTS_PAGE));
    return items;
  }

  #renderTree(): HTMLElement[] {
    this.#status.hidden = true;
    const budget = { rows: TREE_BUDGET };
    const items: HTMLElement[] = [];
    const all = this.#sites?.all ?? countsOf(this.#cameras);
    items.push(this.#wallItem({ kind: 'all' }, t('sites.all'), all, 'all'));
    if (!this.#sites) {
      // The sites did not load: the cameras flat, as before there were sites.
      for (const c of this.#cameras.slice(0, TREE_BUDGET)) items.push(this.#cameraItem(c, 'flat'));
      return items;
    }
    for (const node of this.#roots) items.push(this.#siteItem(node, budget, 1));
    if (this.#other.length > 0) items.push(this.#otherItem(budget));
    return items;
  }

  #isExpanded(key: string): boolean {
    return this.#expanded.get(key) ?? (this.#sites?.all.cameras ?? this.#cameras.length) <= SMALL;
  }

  #toggle(key: string): void {
    this.#expanded.set(key, !this.#isExpanded(key));
    storage.set(EXPANDED_KEY, JSON.stringify([...this.#expanded]));
    this.render();
  }

  #siteItem(node: TreeNode, budget: { rows: number }, level: number): HTMLElement {
    const { site } = node;
    const expandable = node.children.length > 0 || node.cameras.length > 0;
    const expanded = expandable && this.#isExpanded(site.id);
    const li = h('li', { class: 'site', 'data-site-id': site.id });
    li.append(this.#row({ kind: 'site', id: site.id }, site.name, site.counts, site.id, expandable ? expanded : undefined, level));
    if (expanded) {
      const ul = h('ul', { class: 'site-children' });
      for (const child of node.children) ul.append(this.#siteItem(child, budget, level + 1));
      this.#appendCameras(ul, site.id, node.cameras, budget);
      li.append(ul);
    }
    return li;
  }

  #otherItem(budget: { rows: number }): HTMLElement {
    const expanded = this.#isExpanded(OTHER);
    const counts = this.#sites?.ungrouped ?? countsOf(this.#other);
    const li = h('li', { class: 'site site-other' });
    li.append(this.#row({ kind: 'other' }, t('sites.other'), counts, OTHER, expanded, 1));
    if (expanded) {
      const ul = h('ul', { class: 'site-children' });
      this.#appendCameras(ul, OTHER, this.#other, budget);
      li.append(ul);
    }
    return li;
  }

  #appendCameras(ul: HTMLElement, key: string, cameras: Camera[], budget: { rows: number }): void {
    const listed = cameras.filter((c) => passes(c, this.#filters, this.#alerting));
    const limit = Math.min(this.#shown.get(key) ?? SITE_PAGE, Math.max(0, budget.rows));
    for (const c of listed.slice(0, limit)) ul.append(this.#cameraItem(c, key));
    budget.rows -= Math.min(limit, listed.length);
    if (listed.length > limit) ul.append(this.#more(key, listed.length - limit, (this.#shown.get(key) ?? SITE_PAGE) + SITE_PAGE));
  }

  /** A site's (or a wall's) row: the disclosure button (when it has anything under it) and the wall button. */
  #row(wall: Wall, name: string, counts: SiteCounts, key: string, expanded: boolean | undefined, level: number): HTMLElement {
    const row = h('div', { class: 'site-row' });
    // Through the CSSOM: a style attribute is refused by the pages' policy (style-src 'self').
    row.style.setProperty('--level', String(level));
    if (expanded !== undefined) {
      const toggle = h('button', { type: 'button', class: 'site-toggle', 'aria-expanded': String(expanded), 'data-key': `toggle:${key}` });
      bindAttr(toggle, 'aria-label', expanded ? 'sites.collapse' : 'sites.expand', { name });
      toggle.addEventListener('click', () => this.#toggle(key));
      row.append(toggle);
    } else {
      row.append(h('span', { class: 'site-toggle-space', 'aria-hidden': 'true' }));
    }
    const current = this.#selected === null && wallKey(this.#wall) === wallKey(wall);
    const open = h(
      'button',
      { type: 'button', class: 'site-open', 'data-key': `wall:${wallKey(wall)}`, 'aria-current': current ? 'true' : undefined, 'data-state': counts.offline + counts.notRecording > 0 ? 'attention' : 'ok' },
      h('span', { class: 'site-name' }, name),
      h('span', { class: 'site-counts' }, countsText(counts)),
    );
    // Its visible text (name and counts) is its name; what it does is the title.
    bindAttr(open, 'title', 'sites.showWall', { name, counts: countsText(counts) });
    open.addEventListener('click', () => this.#options.onWall(wall));
    row.append(open);
    return row;
  }

  #wallItem(wall: Wall, name: string, counts: SiteCounts, key: string): HTMLElement {
    return h('li', { class: 'site site-all' }, this.#row(wall, name, counts, key, undefined, 1));
  }

  #cameraItem(camera: Camera, where: string): HTMLElement {
    const state = stateOf(camera);
    const live = this.#liveState(camera);
    const button = h(
      'button',
      { type: 'button', class: 'camera-item', 'aria-current': camera.id === this.#selected ? 'true' : undefined, 'data-camera-id': camera.id, 'data-key': `camera:${where}:${camera.id}` },
      h('span', { class: 'dot', 'data-live': String(live), 'data-state': state, 'aria-hidden': 'true' }),
      h('span', { class: 'camera-item-name' }, camera.name),
    );
    bindAttr(button, 'aria-label', 'sites.openCamera', { name: camera.name, state: t(`sites.state.${live ? 'live' : state}` as MessageKey) });
    button.addEventListener('click', () => this.#options.onCamera(camera.id));
    // Dragged onto a tile of a layout the user may change (grid.ts), it goes there.
    button.draggable = true;
    button.addEventListener('dragstart', (ev) => {
      ev.dataTransfer?.setData(CAMERA_DRAG_TYPE, camera.id);
      if (ev.dataTransfer) ev.dataTransfer.effectAllowed = 'copyMove';
    });
    return h('li', { class: 'camera' }, button);
  }

  #more(key: string, remaining: number, next: number): HTMLElement {
    const b = tx('button', 'sites.more', { type: 'button', class: 'small site-more', 'data-key': `more:${key}` });
    bindText(b, 'sites.more', { count: remaining });
    b.addEventListener('click', () => {
      this.#shown.set(key, next);
      this.render();
    });
    return h('li', { class: 'camera' }, b);
  }
}

/** "12 · 2 offline · 1 not recording", leaving out what is zero. */
export function countsText(c: SiteCounts): string {
  const parts = [String(c.cameras)];
  if (c.offline > 0) parts.push(t('sites.offline', { count: c.offline }));
  if (c.notRecording > 0) parts.push(t('sites.notRecording', { count: c.notRecording }));
  return parts.join(' · ');
}

/** Counts from the camera list itself (before the sites answered, or for the ungrouped ones). */
export function countsOf(cameras: Camera[]): SiteCounts {
  const counts = { cameras: cameras.length, live: 0, offline: 0, notRecording: 0 };
  for (const c of cameras) {
    const s = stateOf(c);
    if (s === 'live') counts.live += 1;
    else if (s === 'offline') counts.offline += 1;
    else counts.notRecording += 1;
  }
  return counts;
}

function setCurrent(el: HTMLElement, current: boolean): void {
  if (current) el.setAttribute('aria-current', 'true');
  else el.removeAttribute('aria-current');
}

function readExpanded(): Map<string, boolean> {
  try {
    const raw: unknown = JSON.parse(storage.get(EXPANDED_KEY) ?? '[]');
    if (!Array.isArray(raw)) return new Map();
    return new Map(raw.filter((e): e is [string, boolean] => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'boolean'));
  } catch {
    return new Map();
  }
}
