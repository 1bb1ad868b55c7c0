// The live view: the camera list, the grid (1, 2×2, 3×3 or 4×4 tiles, paged, remembered per user
// on the server and in localStorage) and the single view. Only the cameras on screen are consumed:
// a tile leaving the page closes its room. Each tile links to the camera's recordings.
import type { Camera, Layout } from './api.ts';
import { bindAttr, bindText, type MessageKey } from './i18n.ts';
import { ViewerRoom, type Layer, type ViewerState } from './room.ts';
import type { Signaling } from './signaling.ts';
import { storage } from './storage.ts';
import { h, tx } from './ui.ts';

/** Tiles per row (and column): the wire's layout is its square (1, 4, 9, 16). */
export type GridSize = 1 | 2 | 3 | 4;
const LAYOUT_KEY = 'mimamori.layout';
const SIZES: readonly GridSize[] = [1, 2, 3, 4];

export function isGridSize(n: unknown): n is GridSize {
  return n === 1 || n === 2 || n === 3 || n === 4;
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
  state: ViewerState;
  videoWidth: number;
  videoHeight: number;
  framesDecoded: number;
  producerIds: string[];
  /** performance.now() of the join that led to the first frame shown, and of that frame. */
  joinStartedMs?: number;
  firstFrameMs?: number;
}

/** One camera on screen: a <video>, its name and a connection badge, fed by a ViewerRoom. */
export class Tile {
  readonly el: HTMLElement;
  readonly video: HTMLVideoElement;
  readonly room: ViewerRoom;
  readonly #name: HTMLElement;
  readonly #badge: HTMLElement;
  readonly #sound: HTMLButtonElement;
  #camera: TileCamera;
  #firstFrame: { joinStartedMs?: number; firstFrameMs: number } | undefined;

  constructor(
    camera: TileCamera,
    signaling: Signaling,
    layer: Layer,
    handlers: { open: () => void; back: () => void; state: () => void },
    { recordings = true }: { recordings?: boolean } = {},
  ) {
    this.#camera = camera;
    this.video = h('video', { muted: true, autoplay: true, playsinline: true, disablepictureinpicture: true });
    this.video.muted = true; // the attribute alone does not mute a video created by script
    this.#name = h('span', { class: 'tile-name' }, camera.name);
    this.#badge = h('span', { class: 'badge', 'data-state': 'connecting' });
    this.#sound = tx('button', 'grid.soundOn', { type: 'button', class: 'small tile-sound' });
    const back = tx('button', 'grid.back', { type: 'button', class: 'small tile-back' });
    const open = h('button', { type: 'button', class: 'tile-open' });
    bindAttr(open, 'aria-label', 'grid.open', { name: camera.name });
    const recordingsLink = recordings ? tx('a', 'grid.recordings', { class: 'small tile-recordings', href: playbackLink(camera.id) }) : null;
    if (recordingsLink) bindAttr(recordingsLink, 'title', 'grid.recordingsOf', { name: camera.name });
    this.el = h(
      'figure',
      { class: 'tile', 'data-camera-id': camera.id, 'data-state': 'connecting' },
      this.video,
      open,
      h('figcaption', {}, this.#name, this.#badge),
      recordingsLink,
      h('div', { class: 'tile-actions' }, this.#sound, back),
    );
    open.addEventListener('click', handlers.open);
    back.addEventListener('click', handlers.back);
    this.#sound.addEventListener('click', () => {
      this.video.muted = !this.video.muted;
      bindText(this.#sound, this.video.muted ? 'grid.soundOn' : 'grid.soundOff');
      void this.video.play().catch(() => undefined);
    });

    this.room = new ViewerRoom(signaling, camera.id, layer);
    this.room.on('state', (state) => {
      this.#showState(state);
      handlers.state();
    });
    this.room.on('tracks', (tracks) => this.#play(tracks));
    this.#showState(this.room.state);
    this.room.start();
  }

  get camera(): TileCamera {
    return this.#camera;
  }

  update(camera: TileCamera): void {
    this.#camera = camera;
    this.#name.textContent = camera.name;
    const open = this.el.querySelector('.tile-open');
    if (open) bindAttr(open, 'aria-label', 'grid.open', { name: camera.name });
  }

  setLayer(layer: Layer): void {
    this.room.setLayer(layer);
    if (layer === 'low' && !this.video.muted) this.#sound.click();
  }

  info(): TileInfo {
    const quality = typeof this.video.getVideoPlaybackQuality === 'function' ? this.video.getVideoPlaybackQuality() : undefined;
    return {
      cameraId: this.#camera.id,
      state: this.room.state,
      videoWidth: this.video.videoWidth,
      videoHeight: this.video.videoHeight,
      framesDecoded: quality ? quality.totalVideoFrames - quality.droppedVideoFrames : 0,
      producerIds: this.room.producerIds,
      joinStartedMs: this.#firstFrame?.joinStartedMs,
      firstFrameMs: this.#firstFrame?.firstFrameMs,
    };
  }

  close(): void {
    this.room.close();
    this.video.srcObject = null;
    this.video.removeAttribute('src');
    this.el.remove();
  }

  #showState(state: ViewerState): void {
    this.el.dataset.state = state;
    this.#badge.dataset.state = state;
    bindText(this.#badge, `state.${state}` as MessageKey);
  }

  #play(tracks: MediaStreamTrack[]): void {
    // A new MediaStream per change: a <video> reliably restarts on a new srcObject.
    this.video.srcObject = tracks.length ? new MediaStream(tracks) : null;
    if (tracks.length && !this.#firstFrame && 'requestVideoFrameCallback' in this.video) {
      const joinStartedMs = this.room.joinStartedAt;
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

/** The camera list, the layout control, the pager and the tiles. */
export class LiveView {
  readonly el: HTMLElement;
  readonly #signaling: Signaling;
  readonly #isAdmin: boolean;
  readonly #onLayoutChange: ((size: GridSize) => void) | undefined;
  readonly #list: HTMLUListElement;
  readonly #grid: HTMLElement;
  readonly #pager: HTMLElement;
  readonly #pageLabel: HTMLElement;
  readonly #prev: HTMLButtonElement;
  readonly #next: HTMLButtonElement;
  readonly #empty: HTMLElement;
  readonly #layoutButtons = new Map<GridSize, HTMLButtonElement>();
  readonly #tiles = new Map<string, Tile>();
  #cameras: Camera[] = [];
  #size: GridSize = savedLayout();
  #page = 0;
  #selected: string | null = null;
  readonly #onKey = (ev: KeyboardEvent) => {
    if (ev.key === 'Escape' && this.#selected) this.select(null);
  };

  constructor({ signaling, isAdmin, onLayoutChange }: LiveViewOptions) {
    this.#signaling = signaling;
    this.#isAdmin = isAdmin;
    this.#onLayoutChange = onLayoutChange;
    this.#list = h('ul', { class: 'camera-list' });
    this.#grid = h('div', { class: 'grid', id: 'grid' });
    this.#empty = h('p', { class: 'empty', hidden: true });
    this.#prev = tx('button', 'grid.prev', { type: 'button', class: 'small' });
    this.#next = tx('button', 'grid.next', { type: 'button', class: 'small' });
    this.#pageLabel = h('span', { class: 'page-label' });
    this.#pager = h('div', { class: 'pager' }, this.#prev, this.#pageLabel, this.#next);
    this.#prev.addEventListener('click', () => this.#goTo(this.#page - 1));
    this.#next.addEventListener('click', () => this.#goTo(this.#page + 1));

    const layout = h('div', { class: 'segmented', role: 'group' });
    bindAttr(layout, 'aria-label', 'grid.layout');
    for (const n of SIZES) {
      const b = h('button', { type: 'button', class: 'small', 'data-layout': n }, n === 1 ? '1' : `${n}×${n}`);
      b.addEventListener('click', () => {
        this.setLayout(n);
        this.#onLayoutChange?.(n);
      });
      this.#layoutButtons.set(n, b);
      layout.append(b);
    }

    const toolbar = h('div', { class: 'toolbar' }, tx('span', 'grid.layout', { class: 'toolbar-label' }), layout, this.#pager);
    const aside = h('aside', { class: 'cameras' }, tx('h2', 'grid.cameras'), this.#list);
    this.el = h('section', { class: 'live' }, aside, h('div', { class: 'live-main' }, toolbar, this.#empty, this.#grid));
    document.addEventListener('keydown', this.#onKey);
    this.#render();
  }

  get size(): GridSize {
    return this.#size;
  }

  setCameras(cameras: Camera[]): void {
    this.#cameras = cameras;
    if (this.#selected && !cameras.some((c) => c.id === this.#selected)) this.#selected = null;
    this.#render();
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
  }

  tiles(): TileInfo[] {
    return [...this.#tiles.values()].map((tile) => tile.info());
  }

  tile(cameraId: string): Tile | undefined {
    return this.#tiles.get(cameraId);
  }

  close(): void {
    document.removeEventListener('keydown', this.#onKey);
    for (const tile of this.#tiles.values()) tile.close();
    this.#tiles.clear();
    this.el.remove();
  }

  #pages(): number {
    return Math.max(1, Math.ceil(this.#cameras.length / (this.#size * this.#size)));
  }

  #goTo(page: number): void {
    this.#page = Math.min(Math.max(0, page), this.#pages() - 1);
    this.#render();
  }

  #render(): void {
    const pages = this.#pages();
    this.#page = Math.min(this.#page, pages - 1);
    const perPage = this.#size * this.#size;
    const onPage = this.#cameras.slice(this.#page * perPage, (this.#page + 1) * perPage);
    const selected = this.#selected ? this.#cameras.find((c) => c.id === this.#selected) : undefined;
    // The single view shows one camera; the grid's tiles stay connected underneath (hidden) when
    // the camera is on the current page, so going back is instant.
    const wanted = selected && !onPage.some((c) => c.id === selected.id) ? [selected] : onPage;

    for (const [id, tile] of this.#tiles) {
      if (!wanted.some((c) => c.id === id)) {
        tile.close();
        this.#tiles.delete(id);
      }
    }
    for (const [index, camera] of wanted.entries()) {
      let tile = this.#tiles.get(camera.id);
      if (!tile) {
        const id = camera.id;
        tile = new Tile(camera, this.#signaling, id === this.#selected ? 'high' : 'low', {
          open: () => this.select(this.#selected === id ? null : id),
          back: () => this.select(null),
          state: () => this.#renderList(),
        }, { recordings: camera.rights.includes('playback') });
        this.#tiles.set(id, tile);
      } else {
        tile.update(camera);
      }
      tile.setLayer(camera.id === this.#selected ? 'high' : 'low');
      tile.el.classList.toggle('selected', camera.id === this.#selected);
      // Keep the list's order, moving only what is out of place (a moved <video> may stutter).
      const at = this.#grid.children[index];
      if (at !== tile.el) this.#grid.insertBefore(tile.el, at ?? null);
    }

    this.#grid.dataset.layout = String(this.#size);
    this.#grid.classList.toggle('single', Boolean(selected));
    for (const [n, b] of this.#layoutButtons) b.setAttribute('aria-pressed', String(n === this.#size));
    this.#pager.hidden = pages < 2 || Boolean(selected);
    bindText(this.#pageLabel, 'grid.page', { page: this.#page + 1, pages });
    this.#prev.disabled = this.#page === 0;
    this.#next.disabled = this.#page >= pages - 1;
    this.#empty.hidden = this.#cameras.length > 0;
    bindText(this.#empty, this.#isAdmin ? 'grid.noCamerasAdmin' : 'grid.noCameras');
    this.#renderList();
  }

  #renderList(): void {
    const items = this.#cameras.map((camera) => {
      const tile = this.#tiles.get(camera.id);
      const live = tile ? tile.room.state === 'live' : camera.live;
      const button = h(
        'button',
        { type: 'button', class: 'camera-item', 'aria-current': camera.id === this.#selected ? 'true' : undefined, 'data-camera-id': camera.id },
        h('span', { class: 'dot', 'data-live': String(live) }),
        h('span', { class: 'camera-item-name' }, camera.name),
      );
      button.addEventListener('click', () => {
        const index = this.#cameras.findIndex((c) => c.id === camera.id);
        this.#page = Math.floor(index / (this.#size * this.#size));
        this.select(camera.id);
      });
      return h('li', {}, button);
    });
    this.#list.replaceChildren(...items);
  }
}
