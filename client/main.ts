// index.html: sign in, then the live grid of the cameras this user may view; administrators also
// get the administration panel. A 401 from any request, or a refused socket token, returns to the
// sign-in form without reloading the page.
import './noEval.ts';
import './style.css';
import { AdminPanel } from './admin.ts';
import { api, ApiError, auth, type User } from './api.ts';
import { gridSizeOf, layoutOf, LiveView, type GridSize, type TileInfo } from './grid.ts';
import { exposeHook } from './hook.ts';
import { Signaling } from './signaling.ts';
import { h, Notice } from './ui.ts';
import { signedInPage } from './signedIn.ts';

const CAMERA_LIST_REFRESH_MS = 20_000;

/** Everything that exists while a user is signed in; closed as a whole on sign-out. */
class LiveSession {
  readonly el: HTMLElement;
  readonly #signaling: Signaling;
  readonly #live: LiveView;
  readonly #admin: AdminPanel | undefined;
  readonly #notice = new Notice('alert');
  readonly #poll: ReturnType<typeof setInterval>;
  #closed = false;
  /** The user picked a layout before the saved one arrived: theirs stays. */
  #layoutChosen = false;

  constructor(user: User, onAuthFailure: () => void) {
    this.#signaling = new Signaling({
      getToken: async () => {
        const token = auth.token();
        if (!token) throw new ApiError(401, 'unauthorized', 'signed out');
        return token;
      },
      onAuthFailure: () => {
        onAuthFailure();
        return false;
      },
    });
    const isAdmin = user.role === 'admin';
    this.#live = new LiveView({ signaling: this.#signaling, isAdmin, onLayoutChange: (size) => void this.#saveLayout(size) });
    void this.#loadLayout();
    this.#admin = isAdmin ? new AdminPanel({ onCamerasChanged: () => this.refresh() }) : undefined;
    if (typeof RTCPeerConnection === 'undefined') this.#notice.show({ key: 'grid.unsupported' }, 'error');
    // A camera that is online but not recorded is news for an admin: above the live view, not in the panel.
    this.el = h('div', { class: 'session' }, this.#notice.el, this.#admin?.alerts, this.#live.el, this.#admin?.el);
    // A camera that was deleted or whose grant was revoked leaves the list at the next refresh.
    this.#signaling.on('denied', () => void this.refresh());
    this.#signaling.start();
    this.#poll = setInterval(() => void this.refresh(), CAMERA_LIST_REFRESH_MS);
    void this.refresh();
    void this.#admin?.refreshUsers();
  }

  async refresh(): Promise<void> {
    try {
      const cameras = await api.cameras();
      if (this.#closed) return;
      this.#live.setCameras(cameras);
      this.#admin?.setCameras(cameras);
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

  tiles(): TileInfo[] {
    return this.#live.tiles();
  }

  async stats() {
    return Promise.all(
      this.#live.tiles().map(async ({ cameraId }) => ({ cameraId, ...(await this.#live.tile(cameraId)?.room.stats()) })),
    );
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#poll);
    this.#admin?.close();
    this.#live.close();
    this.#signaling.stop();
    this.el.remove();
  }
}

const page = signedInPage({ title: 'nav.live', page: 'live', open: (user, onAuthFailure) => new LiveSession(user, onAuthFailure) });
const current = () => page.session();

exposeHook({
  tiles: (): TileInfo[] => current()?.tiles() ?? [],
  get layout(): GridSize | undefined {
    return current()?.layout;
  },
  setLayout: (size: GridSize) => current()?.setLayout(size),
  stats: () => current()?.stats() ?? Promise.resolve([]),
});
