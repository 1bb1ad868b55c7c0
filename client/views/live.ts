// The Live view: the grid of the cameras this user may view (grid.ts), the layout they keep (saved
// on the server for the user, in localStorage for this browser), the camera list read again every
// 20 s (a 304 per page while nothing changed), and for administrators the cameras online but not recorded (alerts.ts) above it; with
// `?camera=<id>` that camera opens alone (the camera status view links here so). Leaving
// the view closes every tile, so no consumer is held while another view is shown.
import { api, type User } from '../api.ts';
import { RecorderAlerts } from '../alerts.ts';
import { gridSizeOf, layoutOf, LiveView, type GridSize, type TileInfo } from '../grid.ts';
import { prewarmWebRtc } from '../media.ts';
import type { Signaling } from '../signaling.ts';
import { Notice } from '../ui.ts';
import { viewFrame, type View } from './frame.ts';

const CAMERA_LIST_REFRESH_MS = 20_000;

export class LiveScreen implements View {
  readonly el: HTMLElement;
  readonly #live: LiveView;
  readonly #alerts: RecorderAlerts | undefined;
  readonly #notice = new Notice('alert');
  readonly #poll: ReturnType<typeof setInterval>;
  readonly #offDenied: () => void;
  #closed = false;
  /** The user picked a layout before the saved one arrived: theirs stays. */
  #layoutChosen = false;
  /** `#/live?camera=…` (a link from camera status): opened alone once the list has it. */
  #wanted: string | undefined;
  /** The camera list as last shown (api.cameras answers the same array while nothing changed). */
  #shown: readonly unknown[] | undefined;

  constructor(user: User, signaling: Signaling, query: URLSearchParams) {
    this.#wanted = query.get('camera') ?? undefined;
    prewarmWebRtc();
    const isAdmin = user.role === 'admin';
    this.#live = new LiveView({ signaling, isAdmin, onLayoutChange: (size) => void this.#saveLayout(size) });
    this.#alerts = isAdmin ? new RecorderAlerts() : undefined;
    if (typeof RTCPeerConnection === 'undefined') this.#notice.show({ key: 'grid.unsupported' }, 'error');
    // The grid needs the room: its heading is for screen readers and the focus after navigation.
    this.el = viewFrame('live', 'nav.live', { card: false, hiddenTitle: true });
    this.el.classList.add('session');
    this.el.append(this.#notice.el, ...(this.#alerts ? [this.#alerts.el] : []), this.#live.el);
    // A camera that was deleted or whose grant was revoked leaves the list at once.
    this.#offDenied = signaling.on('denied', () => void this.refresh());
    this.#poll = setInterval(() => void this.refresh(), CAMERA_LIST_REFRESH_MS);
    void this.#loadLayout();
    if (this.#wanted) void this.#openWanted(this.#wanted);
    void this.refresh();
  }

  /**
   * `?camera=`: that camera alone, asked for by itself so its video starts while the whole list
   * (thousands of cameras) is still on its way; the list, when it comes, keeps its tile.
   */
  async #openWanted(id: string): Promise<void> {
    try {
      const camera = await api.camera(id);
      if (this.#closed || this.#shown || this.#wanted !== id) return;
      this.#live.setCameras([camera]);
      this.#live.select(id);
    } catch (err) {
      // Not visible to this user, or gone: the list decides, as without the shortcut.
      console.debug('could not read the camera of the link', err);
    }
  }

  async refresh(): Promise<void> {
    try {
      const cameras = await api.cameras();
      // Unchanged since the last refresh (every page answered 304): nothing to redraw.
      if (this.#closed || cameras === this.#shown) return;
      this.#shown = cameras;
      this.#live.setCameras(cameras);
      this.#alerts?.setCameraNames(cameras);
      const wanted = this.#wanted;
      this.#wanted = undefined;
      if (wanted && cameras.some((c) => c.id === wanted)) this.#live.select(wanted);
    } catch (err) {
      // Kept as it was; the next refresh tries again (a 401 signs out through onUnauthorized).
      console.warn('could not refresh the camera list', err);
    }
  }

  get layout(): GridSize {
    return this.#live.size;
  }

  setLayout(size: GridSize): void {
    this.#live.setLayout(size);
    void this.#saveLayout(size);
  }

  tiles(): TileInfo[] {
    return this.#live.tiles();
  }

  async stats() {
    return Promise.all(this.#live.tiles().map(async ({ cameraId }) => ({ cameraId, ...(await this.#live.tile(cameraId)?.room.stats()) })));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#poll);
    this.#offDenied();
    this.#alerts?.close();
    this.#live.close();
    this.el.remove();
  }

  /** The layout saved for this user on the server wins over this browser's (kept when the request fails). */
  async #loadLayout(): Promise<void> {
    try {
      const { layout } = await api.preferences();
      if (this.#closed || this.#layoutChosen || !layout) return;
      this.#live.setLayout(gridSizeOf(layout));
    } catch (err) {
      console.warn('could not load the saved layout; using this browser’s', err);
    }
  }

  async #saveLayout(size: GridSize): Promise<void> {
    this.#layoutChosen = true;
    try {
      await api.savePreferences({ layout: layoutOf(size) });
    } catch (err) {
      // LiveView remembered it in localStorage already.
      console.warn('could not save the layout on the server', err);
    }
  }
}
