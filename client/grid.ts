// The live view: the sites tree with search and filters (client/sites.ts), the grid (1 to 5×5
// tiles, paged, remembered per user on the server and in localStorage) showing all cameras or one
// site's ("site wall"), the single view, keyboard shortcuts and full screen. Only tiles on screen
// consume video: a tile scrolled out of view, hidden behind the single view or in a hidden tab
// leaves its camera after a short grace and joins again when it is seen. An offline tile shows the
// camera's last recorded frame and its time. Each tile links to the camera's recordings. In a saved
// layout the user may change, a camera goes into a tile by dragging it there from the list (or
// another tile), or with the keyboard by a tile's "place"/"change" button and then the list; each
// change is saved at once.
import { adminApi } from './adminApi.ts';
import { api, type Camera, type Layout, type SavedLayout } from './api.ts';
import { bindAttr, bindText, formatDateTime, onLocaleChange, t, type MessageKey } from './i18n.ts';
import { LayoutPicker } from './layouts.ts';
import { LastFrames, type LastFrame } from './offlineFrame.ts';
import { ViewerRoom, type Layer, type ViewerState } from './room.ts';
import { Shortcuts } from './shortcuts.ts';
import type { Signaling } from './signaling.ts';
import { CAMERA_DRAG_TYPE, SitesSidebar, wallKey, type SiteList, type Wall } from './sites.ts';
import { storage } from './storage.ts';
import { Timer } from './backoff.ts';
import { errorMessage, h, tx } from './ui.ts';

/** Tiles per row (and column): the wire's layout is its square (1, 4, 9, 16, 25). */
export type GridSize = 1 | 2 | 3 | 4 | 5;
const LAYOUT_KEY = 'mimamori.layout';
const WALL_KEY = 'mimamori.wall';
const SIZES: readonly GridSize[] = [1, 2, 3, 4, 5];
/** A tile out of view this long leaves its camera (scrolling past does not rejoin everything). */
const OUT_OF_VIEW_PAUSE_MS = 1_500;
/** A hidden tab keeps its tiles this long (a quick look at another tab costs nothing). */
const HIDDEN_PAUSE_MS = 5_000;
/** The sites' counts and the recorder's alerts are read again at most this often. */
const SITES_REFRESH_MS = 10_000;

export function isGridSize(n: unknown): n is GridSize {
  return n === 1 || n === 2 || n === 3 || n === 4 || n === 5;
}
export const gridSizeOf = (layout: Layout): GridSize => Math.round(Math.sqrt(layout)) as GridSize;
export const layoutOf = (size: GridSize): Layout => (size * size) as Layout;

/** The layout remembered in this browser (used until, or when, the server's preference fails). */
export function savedLayout(): GridSize {
  const n = Number(storage.get(LAYOUT_KEY));
  return isGridSize(n) ? n : 2;
}

/** The link to a camera's recordings (the playback page), optionally at an instant. */
export function playbackLink(cameraId: string, atMs?: number): string {
  const t = atMs === undefined ? '' : `&t=${encodeURIComponent(new Date(atMs).toISOString())}`;
  return `playback.html#camera=${encodeURIComponent(cameraId)}${t}`;
}

/** What a tile needs to know about its camera. */
export type TileCamera = Pick<Camera, 'id' | 'name'>;

export interface TileInfo {
  cameraId: string;
  /** 'paused': out of view, its camera left (no consumers on the server). */
  state: ViewerState | 'paused';
  paused: boolean;
  videoWidth: number;
  videoHeight: number;
  framesDecoded: number;
  producerIds: string[];
  /** performance.now() of the join that led to the first frame shown, and of that frame. */
  joinStartedMs?: number;
  firstFrameMs?: number;
  /** An offline tile shows the last recorded frame, recorded at this time (ms). */
  lastFrameAtMs?: number;
}

export interface TileHandlers {
  open: () => void;
  back: () => void;
  state: () => void;
}

export interface TileOptions {
  recordings?: boolean;
  /** The camera's last recorded frame, shown while it is offline (absent: offline stays dark); forget() when it is live again. */
  lastFrame?: { get(): Promise<LastFrame | null>; forget(): void };
}

/** One camera on screen: a <video>, its name and a connection badge, fed by a ViewerRoom (left while paused). */
export class Tile {
  readonly el: HTMLElement;
  readonly video: HTMLVideoElement;
  readonly #signaling: Signaling;
  readonly #handlers: TileHandlers;
  readonly #name: HTMLElement;
  readonly #badge: HTMLElement;
  readonly #sound: HTMLButtonElement;
  readonly #open: HTMLButtonElement;
  readonly #still: HTMLElement;
  readonly #stillText: HTMLElement;
  readonly #lastFrame: TileOptions['lastFrame'];
  #room: ViewerRoom;
  #layer: Layer;
  #paused = false;
  #closed = false;
  #camera: TileCamera;
  #firstFrame: { joinStartedMs?: number; firstFrameMs: number } | undefined;
  #shownFrame: LastFrame | undefined;
  /** When this page saw the camera go from live to offline. */
  #sawOfflineAt: number | undefined;
  #wasLive = false;
  readonly #offLocale: () => void;

  constructor(camera: TileCamera, signaling: Signaling, layer: Layer, handlers: TileHandlers, { recordings = true, lastFrame }: TileOptions = {}) {
    this.#camera = camera;
    this.#signaling = signaling;
    this.#handlers = handlers;
    this.#layer = layer;
    this.#lastFrame = lastFrame;
    this.video = h('video', { muted: true, autoplay: true, playsinline: true, disablepictureinpicture: true });
    this.video.muted = true; // the attribute alone does not mute a video created by script
    this.#name = h('span', { class: 'tile-name' }, camera.name);
    this.#badge = h('span', { class: 'badge', 'data-state': 'connecting' });
    this.#sound = tx('button', 'grid.soundOn', { type: 'button', class: 'small tile-sound' });
    const back = tx('button', 'grid.back', { type: 'button', class: 'small tile-back' });
    this.#open = h('button', { type: 'button', class: 'tile-open' });
    bindAttr(this.#open, 'aria-label', 'grid.open', { name: camera.name });
    this.#stillText = h('p', { class: 'tile-still-time' });
    this.#still = h('div', { class: 'tile-still', hidden: true }, this.#stillText);
    const recordingsLink = recordings ? tx('a', 'grid.recordings', { class: 'small tile-recordings', href: playbackLink(camera.id) }) : null;
    if (recordingsLink) bindAttr(recordingsLink, 'title', 'grid.recordingsOf', { name: camera.name });
    this.el = h(
      'figure',
      { class: 'tile', 'data-camera-id': camera.id, 'data-state': 'connecting' },
      this.video,
      this.#still,
      this.#open,
      h('figcaption', {}, this.#name, this.#badge),
      recordingsLink,
      h('div', { class: 'tile-actions' }, this.#sound, back),
    );
    this.#open.addEventListener('click', handlers.open);
    back.addEventListener('click', handlers.back);
    this.#sound.addEventListener('click', () => {
      this.video.muted = !this.video.muted;
      bindText(this.#sound, this.video.muted ? 'grid.soundOn' : 'grid.soundOff');
      void this.video.play().catch(() => undefined);
    });
    this.#offLocale = onLocaleChange(() => this.#showStillText());
    this.#room = this.#openRoom();
  }

  get camera(): TileCamera {
    return this.#camera;
  }
  /** The current room (a paused tile keeps its closed one: no transport, no stats). */
  get room(): ViewerRoom {
    return this.#room;
  }
  get paused(): boolean {
    return this.#paused;
  }

  update(camera: TileCamera): void {
    this.#camera = camera;
    this.#name.textContent = camera.name;
    bindAttr(this.#open, 'aria-label', 'grid.open', { name: camera.name });
  }

  setLayer(layer: Layer): void {
    this.#layer = layer;
    this.#room.setLayer(layer);
    if (layer === 'low' && !this.video.muted) this.#sound.click();
  }

  /** Leaves the camera (the server closes this viewer's consumers and transport) until resume(). */
  pause(): void {
    if (this.#paused || this.#closed) return;
    this.#paused = true;
    this.#room.close();
    this.video.srcObject = null;
    this.el.dataset.paused = 'true';
    this.#badge.dataset.state = 'paused';
    bindText(this.#badge, 'grid.paused');
  }

  /** Joins the camera again after pause(). */
  resume(): void {
    if (!this.#paused || this.#closed) return;
    this.#paused = false;
    delete this.el.dataset.paused;
    this.#room = this.#openRoom();
  }

  info(): TileInfo {
    const quality = typeof this.video.getVideoPlaybackQuality === 'function' ? this.video.getVideoPlaybackQuality() : undefined;
    return {
      cameraId: this.#camera.id,
      state: this.#paused ? 'paused' : this.#room.state,
      paused: this.#paused,
      videoWidth: this.video.videoWidth,
      videoHeight: this.video.videoHeight,
      framesDecoded: quality ? quality.totalVideoFrames - quality.droppedVideoFrames : 0,
      producerIds: this.#paused ? [] : this.#room.producerIds,
      joinStartedMs: this.#firstFrame?.joinStartedMs,
      firstFrameMs: this.#firstFrame?.firstFrameMs,
      ...(this.#shownFrame && !this.#still.hidden ? { lastFrameAtMs: this.#shownFrame.atMs } : {}),
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#offLocale();
    this.#room.close();
    this.video.srcObject = null;
    this.video.removeAttribute('src');
    this.el.remove();
  }

  #openRoom(): ViewerRoom {
    const room = new ViewerRoom(this.#signaling, this.#camera.id, this.#layer);
    room.on('state', (state) => {
      if (room !== this.#room) return;
      this.#showState(state);
      this.#handlers.state();
    });
    room.on('tracks', (tracks) => {
      if (room === this.#room) this.#play(tracks);
    });
    this.#showState(room.state);
    room.start();
    return room;
  }

  #showState(state: ViewerState): void {
    this.el.dataset.state = state;
    this.#badge.dataset.state = state;
    bindText(this.#badge, `state.${state}` as MessageKey);
    if (state === 'live') {
      if (!this.#wasLive) this.#lastFrame?.forget();
      this.#wasLive = true;
      this.#sawOfflineAt = undefined;
      this.#still.hidden = true;
    } else if (state === 'offline') {
      if (this.#wasLive) this.#sawOfflineAt ??= Date.now();
      this.#wasLive = false;
      this.#showLastFrame();
    }
  }

  #showLastFrame(): void {
    if (!this.#lastFrame) return;
    void this.#lastFrame.get().then((frame) => {
      if (this.#closed || this.#room.state !== 'offline' || !frame) return;
      this.#shownFrame = frame;
      // A canvas lives in one place: the kept frame moves to the tile showing it now.
      this.#still.replaceChildren(frame.canvas, this.#stillText);
      frame.canvas.setAttribute('role', 'img');
      this.#showStillText();
      this.#still.hidden = false;
    });
  }

  #showStillText(): void {
    const frame = this.#shownFrame;
    if (!frame) return;
    const since = frame.offlineSinceMs ?? this.#sawOfflineAt;
    const lines = [t('grid.lastFrame', { time: formatDateTime(frame.atMs, 'short') })];
    if (since !== undefined) lines.push(t('grid.offlineSince', { time: formatDateTime(since, 'short') }));
    this.#stillText.textContent = lines.join(' · ');
    frame.canvas.setAttribute('aria-label', t('grid.lastFrameOf', { name: this.#camera.name, time: formatDateTime(frame.atMs, 'short') }));
  }

  #play(tracks: MediaStreamTrack[]): void {
    // A new MediaStream per change: a <video> reliably restarts on a new srcObject.
    this.video.srcObject = tracks.length ? new MediaStream(tracks) : null;
    if (tracks.length && !this.#firstFrame && 'requestVideoFrameCallback' in this.video) {
      const joinStartedMs = this.#room.joinStartedAt;
      this.video.requestVideoFrameCallback((now) => {
        this.#firstFrame ??= { joinStartedMs, firstFrameMs: now };
      });
    }
    if (tracks.length) void this.video.play().catch((err: unknown) => console.debug('play() deferred', err));
  }
}

export interface LiveViewOptions {
  signaling: Signaling;
  isAdmin: boolean;
  /** The user chose a layout (saved on the server by the page). */
  onLayoutChange?: (size: GridSize) => void;
}

/** The sites sidebar, the toolbar (wall, layout, pager, full screen, shortcuts) and the tiles. */
export class LiveView {
  readonly el: HTMLElement;
  readonly #signaling: Signaling;
  readonly #isAdmin: boolean;
  readonly #onLayoutChange: ((size: GridSize) => void) | undefined;
  readonly #sidebar: SitesSidebar;
  readonly #shortcuts: Shortcuts;
  readonly #lastFrames = new LastFrames();
  readonly #picker: LayoutPicker;
  /** Stand-ins for a saved layout's empty tiles, by position. */
  readonly #blanks: HTMLElement[] = [];
  readonly #grid: HTMLElement;
  readonly #title: HTMLElement;
  readonly #drawerButton: HTMLButtonElement;
  readonly #pager: HTMLElement;
  readonly #pageLabel: HTMLElement;
  readonly #prev: HTMLButtonElement;
  readonly #next: HTMLButtonElement;
  readonly #empty: HTMLElement;
  readonly #layoutButtons = new Map<GridSize, HTMLButtonElement>();
  readonly #tiles = new Map<string, Tile>();
  /** Per tile: whether it intersects the viewport, and its pending pause. */
  readonly #seen = new Map<string, { visible: boolean; timer: Timer }>();
  readonly #observer: IntersectionObserver | undefined;
  readonly #offLocale: () => void;
  #cameras: Camera[] = [];
  #sites: SiteList | null = null;
  #sitesLoadedAt = -Infinity;
  #sitesLoading: Promise<void> | undefined;
  #size: GridSize = savedLayout();
  #page = 0;
  #wall: Wall = readWall();
  #selected: string | null = null;
  /** A layout's tile waiting for the camera chosen next in the list (the keyboard's way), by position. */
  #placing: number | undefined;
  /** Each tile's change and remove buttons while the open layout may be changed, by camera. */
  readonly #editBars = new Map<string, { bar: HTMLElement; change: HTMLButtonElement; remove: HTMLButtonElement }>();
  #closed = false;
  readonly #onVisibility = () => this.#updateVisibility();

  constructor({ signaling, isAdmin, onLayoutChange }: LiveViewOptions) {
    this.#signaling = signaling;
    this.#isAdmin = isAdmin;
    this.#onLayoutChange = onLayoutChange;
    this.#sidebar = new SitesSidebar({
      onWall: (wall) => this.showWall(wall),
      onCamera: (id) => {
        this.#closeDrawer();
        if (this.#placing !== undefined) void this.#place(id, this.#placing);
        else this.select(id);
      },
    });
    this.#sidebar.setLiveState((camera) => {
      const tile = this.#tiles.get(camera.id);
      return tile && !tile.paused ? tile.room.state === 'live' : camera.live;
    });
    this.#grid = h('div', { class: 'grid', id: 'grid', role: 'region' });
    bindAttr(this.#grid, 'aria-label', 'grid.region');
    this.#empty = h('p', { class: 'empty', hidden: true });
    this.#prev = h('button', { type: 'button', class: 'small' }, '←');
    this.#next = h('button', { type: 'button', class: 'small' }, '→');
    bindAttr(this.#prev, 'aria-label', 'grid.prev');
    bindAttr(this.#next, 'aria-label', 'grid.next');
    this.#pageLabel = h('span', { class: 'page-label', 'aria-live': 'polite' });
    this.#pager = h('div', { class: 'pager' }, this.#prev, this.#pageLabel, this.#next);
    this.#prev.addEventListener('click', () => this.#goTo(this.#page - 1));
    this.#next.addEventListener('click', () => this.#goTo(this.#page + 1));

    const layout = h('div', { class: 'segmented', role: 'group' });
    bindAttr(layout, 'aria-label', 'grid.layout');
    for (const n of SIZES) {
      const b = h('button', { type: 'button', class: 'small', 'data-layout': n }, n === 1 ? '1' : `${n}×${n}`);
      bindAttr(b, 'aria-label', n === 1 ? 'grid.layoutOne' : 'grid.layoutN', { n });
      b.addEventListener('click', () => {
        this.setLayout(n);
        this.#onLayoutChange?.(n);
      });
      this.#layoutButtons.set(n, b);
      layout.append(b);
    }
    const fullScreen = tx('button', 'grid.fullScreen', { type: 'button', class: 'small grid-fullscreen' });
    fullScreen.addEventListener('click', () => this.fullScreen());
    this.#drawerButton = tx('button', 'grid.cameras', { type: 'button', class: 'small drawer-toggle', 'aria-expanded': 'false', 'aria-controls': 'live-sidebar' });
    this.#drawerButton.addEventListener('click', () => this.#toggleDrawer());
    this.#shortcuts = new Shortcuts({
      openTile: (n) => {
        const camera = this.#onPage()[n - 1];
        if (camera) this.select(camera.id);
      },
      page: (delta) => {
        if (!this.#selected) this.#goTo(this.#page + delta);
      },
      fullScreen: () => this.fullScreen(),
      back: () => {
        if (this.el.classList.contains('drawer-open')) {
          this.#closeDrawer();
          return true;
        }
        if (!this.#selected) return false;
        this.select(null);
        return true;
      },
      focusSearch: () => {
        this.#openDrawer();
        this.#sidebar.search.focus();
        this.#sidebar.search.select();
      },
    });
    this.#picker = new LayoutPicker({
      isAdmin,
      onOpen: (layout) => (layout ? this.openLayout(layout) : this.showWall({ kind: 'all' })),
      current: () => ({ size: this.#size, cameraIds: this.#slots().map((c) => c?.id ?? null) }),
    });
    this.#title = h('h2', { class: 'wall-title', id: 'wall-title' });
    const toolbar = h(
      'div',
      { class: 'toolbar live-toolbar' },
      this.#drawerButton,
      this.#title,
      tx('span', 'grid.layout', { class: 'toolbar-label' }),
      layout,
      this.#pager,
      fullScreen,
      this.#shortcuts.el,
      this.#picker.el,
    );
    this.el = h('section', { class: 'live' }, this.#sidebar.el, h('div', { class: 'live-main' }, toolbar, this.#empty, this.#grid));
    bindAttr(this.el, 'aria-label', 'grid.live');
    // Esc while a tile waits for its camera gives up placing (before the search box clears itself).
    this.#sidebar.el.addEventListener(
      'keydown',
      (ev) => {
        if (ev.key !== 'Escape' || this.#placing === undefined) return;
        ev.preventDefault();
        ev.stopPropagation();
        this.#cancelPlacing();
      },
      { capture: true },
    );
    this.#listenForDrops();
    this.#sidebar.el.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && this.el.classList.contains('drawer-open') && !ev.defaultPrevented) {
        ev.preventDefault();
        this.#closeDrawer();
        this.#drawerButton.focus();
      }
    });

    this.#observer =
      typeof IntersectionObserver === 'undefined'
        ? undefined
        : new IntersectionObserver((entries) => {
            for (const entry of entries) {
              const id = (entry.target as HTMLElement).dataset.cameraId;
              const seen = id ? this.#seen.get(id) : undefined;
              if (seen) seen.visible = entry.isIntersecting;
            }
            this.#updateVisibility();
          });
    document.addEventListener('visibilitychange', this.#onVisibility);
    this.#offLocale = onLocaleChange(() => {
      this.#picker.render();
      this.#sidebar.render();
      this.#renderTitle();
    });
    this.#sidebar.setData([], null);
    void this.#loadSites();
    void this.#picker.refresh().then(() => this.#render());
    this.#render();
  }

  get size(): GridSize {
    return this.#size;
  }

  /** The site being shown (or all cameras, or the ungrouped ones). */
  get wall(): Wall {
    return this.#wall;
  }

  setCameras(cameras: Camera[]): void {
    this.#cameras = cameras;
    if (this.#selected && !cameras.some((c) => c.id === this.#selected)) this.#selected = null;
    this.#sidebar.setData(cameras, this.#sites);
    this.#render();
    if (performance.now() - this.#sitesLoadedAt > SITES_REFRESH_MS) void this.#loadSites();
  }

  setLayout(size: GridSize): void {
    if (size === this.#size) return;
    // Keep the first camera on screen in view when the page size changes.
    const first = this.#page * this.#size * this.#size;
    this.#size = size;
    storage.set(LAYOUT_KEY, String(size));
    this.#page = Math.floor(first / (size * size));
    this.#render();
  }

  /** Opens one camera in the single view (full layer), or returns to the grid with null. */
  select(cameraId: string | null): void {
    this.#selected = cameraId;
    this.#render();
    if (cameraId) this.#tiles.get(cameraId)?.el.querySelector<HTMLElement>('.tile-back')?.focus({ preventScroll: true });
  }

  /** Shows a site's cameras (or all, or the ungrouped ones) in the grid, from its first page. */
  showWall(wall: Wall): void {
    this.#wall = wall;
    this.#placing = undefined;
    if (wall.kind !== 'layout') this.#picker.setOpen(null);
    storage.set(WALL_KEY, JSON.stringify(wall));
    this.#page = 0;
    this.#selected = null;
    this.#closeDrawer();
    this.#render();
  }

  /** Shows a saved layout: its size, its cameras in their tiles (a camera the user may not see stays an empty tile). */
  openLayout(layout: SavedLayout): void {
    this.#size = layout.size as GridSize;
    this.#picker.setOpen(layout.id);
    this.showWall({ kind: 'layout', id: layout.id });
  }

  /** The grid in full screen (the browser's Esc leaves it). */
  fullScreen(): void {
    if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined);
    else void this.#grid.requestFullscreen?.().catch((err: unknown) => console.warn('full screen refused', err));
  }

  tiles(): TileInfo[] {
    return [...this.#tiles.values()].map((tile) => tile.info());
  }

  tile(cameraId: string): Tile | undefined {
    return this.#tiles.get(cameraId);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#shortcuts.close();
    this.#sidebar.close();
    this.#observer?.disconnect();
    this.#offLocale();
    document.removeEventListener('visibilitychange', this.#onVisibility);
    for (const seen of this.#seen.values()) seen.timer.clear();
    this.#seen.clear();
    for (const tile of this.#tiles.values()) tile.close();
    this.#tiles.clear();
    this.#lastFrames.close();
    this.el.remove();
  }

  // --- Data ---------------------------------------------------------------------------------------

  #loadSites(): Promise<void> {
    this.#sitesLoading ??= (async () => {
      try {
        const [sites, alerts] = await Promise.all([
          api.sites(),
          this.#isAdmin ? adminApi.recorderAlerts().catch(() => undefined) : Promise.resolve(undefined),
        ]);
        if (this.#closed) return;
        this.#sites = sites;
        this.#sitesLoadedAt = performance.now();
        if (alerts) this.#sidebar.setAlerting(new Set(alerts.map((a) => a.cameraId)));
        this.#sidebar.setData(this.#cameras, sites);
        this.#render();
      } catch (err) {
        // The cameras are listed flat meanwhile; the next camera refresh tries again.
        console.warn('could not load the sites', err);
      } finally {
        this.#sitesLoading = undefined;
      }
    })();
    return this.#sitesLoading;
  }

  // --- Grid ---------------------------------------------------------------------------------------

  #wallCameras(): Camera[] {
    return this.#sidebar.camerasOf(this.#wall);
  }

  /** A saved layout's tiles as shown at the current size: a camera, or null for an empty tile. */
  #layoutSlots(): (Camera | null)[] | undefined {
    if (this.#wall.kind !== 'layout') return undefined;
    const layout = this.#picker.layout(this.#wall.id);
    if (!layout) return [];
    const byId = new Map(this.#cameras.map((c) => [c.id, c]));
    const slots = layout.cameraIds.slice(0, this.#size * this.#size).map((id) => (id ? (byId.get(id) ?? null) : null));
    // A layout being arranged shows every tile (each takes a camera); otherwise trailing empty ones are left out.
    if (this.#picker.editable?.id === layout.id) while (slots.length < this.#size * this.#size) slots.push(null);
    else while (slots.length > 0 && slots.at(-1) === null) slots.pop();
    return slots;
  }

  #pages(): number {
    if (this.#wall.kind === 'layout') return 1;
    return Math.max(1, Math.ceil(this.#wallCameras().length / (this.#size * this.#size)));
  }

  /** The tiles of the page shown, in order (null: a saved layout's empty tile). */
  #slots(): (Camera | null)[] {
    const slots = this.#layoutSlots();
    if (slots) return slots;
    const perPage = this.#size * this.#size;
    return this.#wallCameras().slice(this.#page * perPage, (this.#page + 1) * perPage);
  }

  #onPage(): Camera[] {
    return this.#slots().filter((c): c is Camera => c !== null);
  }

  #goTo(page: number): void {
    this.#page = Math.min(Math.max(0, page), this.#pages() - 1);
    this.#render();
  }

  #render(): void {
    if (this.#closed) return;
    // A site that went away (deleted, or no longer visible to this user) falls back to all cameras.
    if (this.#wall.kind === 'site' && this.#sites && !this.#sidebar.hasSite(this.#wall.id)) this.#wall = { kind: 'all' };
    if (this.#wall.kind === 'layout' && this.#picker.loaded && !this.#picker.layout(this.#wall.id)) this.#wall = { kind: 'all' };
    const pages = this.#pages();
    this.#page = Math.min(this.#page, pages - 1);
    if (this.#wall.kind === 'layout' && this.#picker.openId === null && this.#picker.layout(this.#wall.id)) this.#picker.setOpen(this.#wall.id);
    const slots = this.#slots();
    const onPage = slots.filter((c): c is Camera => c !== null);
    const selected = this.#selected ? this.#cameras.find((c) => c.id === this.#selected) : undefined;
    // The single view shows one camera; the grid's tiles stay underneath (hidden, and paused once
    // out of view) when the camera is on the current page, so going back is quick.
    const wanted: (Camera | null)[] = selected && !onPage.some((c) => c.id === selected.id) ? [selected] : slots;

    for (const [id, tile] of this.#tiles) {
      if (!wanted.some((c) => c?.id === id)) {
        this.#forget(id, tile);
      }
    }
    const editing = !selected && this.#wall.kind === 'layout' && this.#picker.editable?.id === this.#wall.id;
    let blanks = 0;
    for (const [index, camera] of wanted.entries()) {
      if (!camera) {
        // An empty tile of a saved layout keeps its place (and takes a camera when it may change).
        const blank = (this.#blanks[blanks] ??= this.#blank());
        blanks += 1;
        blank.dataset.slot = String(index);
        if (editing) blank.removeAttribute('aria-hidden');
        else blank.setAttribute('aria-hidden', 'true');
        const place = blank.querySelector('button')!;
        place.hidden = !editing;
        bindAttr(place, 'aria-label', 'grid.placeTile', { n: index + 1 });
        const at = this.#grid.children[index];
        if (at !== blank) this.#grid.insertBefore(blank, at ?? null);
        continue;
      }
      let tile = this.#tiles.get(camera.id);
      if (!tile) {
        const id = camera.id;
        const playback = camera.rights.includes('playback');
        tile = new Tile(
          camera,
          this.#signaling,
          id === this.#selected ? 'high' : 'low',
          {
            open: () => this.select(this.#selected === id ? null : id),
            back: () => this.select(null),
            state: () => this.#sidebar.refreshStates(),
          },
          { recordings: playback, ...(playback ? { lastFrame: { get: () => this.#lastFrames.get(id), forget: () => this.#lastFrames.forget(id) } } : {}) },
        );
        this.#tiles.set(id, tile);
        this.#seen.set(id, { visible: true, timer: new Timer() });
        this.#observer?.observe(tile.el);
      } else {
        tile.update(camera);
      }
      tile.setLayer(camera.id === this.#selected ? 'high' : 'low');
      tile.el.classList.toggle('selected', camera.id === this.#selected);
      if (editing) tile.el.dataset.slot = String(index);
      else delete tile.el.dataset.slot;
      tile.el.draggable = editing;
      this.#showEditBar(camera, tile, editing);
      // Keep the list's order, moving only what is out of place (a moved <video> may stutter).
      const at = this.#grid.children[index];
      if (at !== tile.el) this.#grid.insertBefore(tile.el, at ?? null);
    }

    for (const blank of this.#blanks.slice(blanks)) blank.remove();
    this.#grid.dataset.layout = String(this.#size);
    this.#grid.classList.toggle('single', Boolean(selected));
    for (const [n, b] of this.#layoutButtons) b.setAttribute('aria-pressed', String(n === this.#size));
    this.#pager.hidden = pages < 2 || Boolean(selected);
    bindText(this.#pageLabel, 'grid.page', { page: this.#page + 1, pages });
    this.#prev.disabled = this.#page === 0;
    this.#next.disabled = this.#page >= pages - 1;
    this.#empty.hidden = wanted.length > 0;
    bindText(this.#empty, this.#cameras.length > 0 ? 'grid.emptyWall' : this.#isAdmin ? 'grid.noCamerasAdmin' : 'grid.noCameras');
    this.#renderTitle();
    this.#sidebar.setSelection(this.#wall, this.#selected);
  }

  #renderTitle(): void {
    const w = this.#wall;
    this.#title.textContent =
      w.kind === 'site' ? (this.#sidebar.siteName(w.id) ?? '') : w.kind === 'layout' ? (this.#picker.layout(w.id)?.name ?? '') : t(w.kind === 'all' ? 'sites.all' : 'sites.other');
    this.#title.dataset.wall = wallKey(w);
  }

  #forget(id: string, tile: Tile): void {
    this.#editBars.delete(id);
    this.#observer?.unobserve(tile.el);
    this.#seen.get(id)?.timer.clear();
    this.#seen.delete(id);
    tile.close();
    this.#tiles.delete(id);
  }

  /** Pauses tiles nobody can see (after a grace) and resumes the ones that came into view. */
  #updateVisibility(): void {
    const hidden = document.visibilityState === 'hidden';
    for (const [id, tile] of this.#tiles) {
      const seen = this.#seen.get(id);
      if (!seen) continue;
      if (seen.visible && !hidden) {
        seen.timer.clear();
        tile.resume();
      } else if (!tile.paused && !seen.timer.pending) {
        seen.timer.set(hidden ? HIDDEN_PAUSE_MS : OUT_OF_VIEW_PAUSE_MS, () => tile.pause());
      }
    }
    this.#sidebar.refreshStates();
  }

  // --- Arranging a saved layout -------------------------------------------------------------------

  /** An empty tile: its button (shown while the layout may change) waits for a camera from the list. */
  #blank(): HTMLElement {
    const place = tx('button', 'grid.place', { type: 'button', class: 'small tile-place', hidden: true });
    const blank = h('div', { class: 'tile tile-empty', 'aria-hidden': 'true' }, place);
    place.addEventListener('click', () => this.#startPlacing(Number(blank.dataset.slot)));
    return blank;
  }

  /** A tile's change and remove buttons, while the open layout may be changed. */
  #showEditBar(camera: Camera, tile: Tile, editing: boolean): void {
    let edit = this.#editBars.get(camera.id);
    if (!editing) {
      edit?.bar.remove();
      return;
    }
    if (!edit) {
      const change = tx('button', 'grid.placeChange', { type: 'button', class: 'small tile-change' });
      const remove = tx('button', 'grid.placeRemove', { type: 'button', class: 'small tile-remove' });
      const slot = () => Number(tile.el.dataset.slot ?? -1);
      change.addEventListener('click', () => this.#startPlacing(slot()));
      remove.addEventListener('click', () => void this.#place(null, slot()));
      edit = { bar: h('div', { class: 'tile-edit' }, change, remove), change, remove };
      this.#editBars.set(camera.id, edit);
    }
    bindAttr(edit.change, 'aria-label', 'grid.placeChangeOf', { name: camera.name });
    bindAttr(edit.remove, 'aria-label', 'grid.placeRemoveOf', { name: camera.name });
    if (edit.bar.parentElement !== tile.el) tile.el.append(edit.bar);
  }

  /** Drag a camera from the list, or a tile, onto a tile of a layout the user may change. */
  #listenForDrops(): void {
    const slotOf = (ev: DragEvent): number | undefined => {
      if (!this.#picker.editable || this.#selected || !ev.dataTransfer?.types.includes(CAMERA_DRAG_TYPE)) return undefined;
      const el = (ev.target as Element | null)?.closest<HTMLElement>('[data-slot]');
      return el && this.#grid.contains(el) ? Number(el.dataset.slot) : undefined;
    };
    const mark = (slot: number | undefined) => {
      for (const el of this.#grid.querySelectorAll('.drop-target')) el.classList.remove('drop-target');
      if (slot !== undefined) this.#grid.querySelector(`[data-slot="${slot}"]`)?.classList.add('drop-target');
    };
    this.#grid.addEventListener('dragstart', (ev) => {
      const tile = (ev.target as Element | null)?.closest<HTMLElement>('.tile[data-slot][data-camera-id]');
      if (tile && ev.dataTransfer) {
        ev.dataTransfer.setData(CAMERA_DRAG_TYPE, tile.dataset.cameraId!);
        ev.dataTransfer.effectAllowed = 'move';
      }
    });
    this.#grid.addEventListener('dragover', (ev) => {
      const slot = slotOf(ev);
      if (slot === undefined) return;
      ev.preventDefault(); // this tile takes the drop
      mark(slot);
    });
    this.#grid.addEventListener('dragleave', (ev) => {
      if (!this.#grid.contains(ev.relatedTarget as Node | null)) mark(undefined);
    });
    this.#grid.addEventListener('drop', (ev) => {
      const slot = slotOf(ev);
      mark(undefined);
      const id = ev.dataTransfer?.getData(CAMERA_DRAG_TYPE);
      if (slot === undefined || !id) return;
      ev.preventDefault();
      void this.#place(id, slot);
    });
  }

  /** The keyboard's way: the tile waits, the list takes the focus, the camera chosen there goes into the tile. */
  #startPlacing(slot: number): void {
    if (!this.#picker.editable || slot < 0) return;
    this.#placing = slot;
    this.#picker.announce({ key: 'grid.placeChoose', params: { n: slot + 1 } });
    this.#openDrawer();
    this.#sidebar.search.focus();
  }

  #cancelPlacing(): void {
    const slot = this.#placing;
    this.#placing = undefined;
    this.#picker.announce({ key: 'grid.placeCancelled' });
    this.#closeDrawer();
    if (slot !== undefined) this.#grid.querySelector<HTMLElement>(`[data-slot="${slot}"] button`)?.focus();
  }

  /**
   * Puts a camera into tile `slot` of the open layout (null empties it) and saves the layout. A
   * camera already elsewhere in the layout swaps places with what the tile held.
   */
  async #place(cameraId: string | null, slot: number): Promise<void> {
    this.#placing = undefined;
    const layout = this.#picker.editable;
    if (!layout || slot < 0) return;
    const tiles = layout.size * layout.size;
    const ids = layout.cameraIds.slice(0, tiles);
    while (ids.length < tiles) ids.push(null);
    if (cameraId !== null) {
      const from = ids.indexOf(cameraId);
      if (from === slot) return;
      if (from >= 0) ids[from] = ids[slot] ?? null;
    }
    ids[slot] = cameraId;
    try {
      const saved = await api.updateLayout(layout.id, { cameraIds: ids });
      if (this.#closed) return;
      this.#picker.replace(saved);
      this.#render();
      const name = cameraId === null ? undefined : (this.#cameras.find((c) => c.id === cameraId)?.name ?? cameraId);
      this.#picker.announce(name === undefined ? { key: 'grid.placeEmptied', params: { n: slot + 1 } } : { key: 'grid.placed', params: { name, n: slot + 1 } });
      this.#grid.querySelector<HTMLElement>(`[data-slot="${slot}"] .tile-open, [data-slot="${slot}"] button`)?.focus({ preventScroll: true });
    } catch (err) {
      this.#picker.announce({ key: 'grid.placeFailed', params: { error: errorMessage(err) } });
    }
  }

  // --- Phone drawer ------------------------------------------------------------------------------

  #toggleDrawer(): void {
    if (this.el.classList.contains('drawer-open')) this.#closeDrawer();
    else this.#openDrawer();
  }
  #openDrawer(): void {
    this.el.classList.add('drawer-open');
    this.#drawerButton.setAttribute('aria-expanded', 'true');
  }
  #closeDrawer(): void {
    if (!this.el.classList.contains('drawer-open')) return;
    this.el.classList.remove('drawer-open');
    this.#drawerButton.setAttribute('aria-expanded', 'false');
  }
}

function readWall(): Wall {
  try {
    const raw = JSON.parse(storage.get(WALL_KEY) ?? 'null') as { kind?: unknown; id?: unknown } | null;
    if ((raw?.kind === 'site' || raw?.kind === 'layout') && typeof raw.id === 'string') return { kind: raw.kind, id: raw.id };
    if (raw?.kind === 'other') return { kind: 'other' };
  } catch {
    // Not remembered: all cameras.
  }
  return { kind: 'all' };
}
