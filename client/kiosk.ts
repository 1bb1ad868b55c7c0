// kiosk.html#token=<device token>: a wall display. No header, no menus: a grid of the kiosk's
// layout (1, 4, 9 or 16 tiles) showing its cameras a page at a time, rotating pages every
// rotateSeconds when there is more than one. It is meant to run for days unattended:
// - the device token is exchanged for a 1-hour access token (POST /api/kiosk/session), renewed
//   before it expires and again whenever the socket's token is refused;
// - network loss and server restarts are ridden out without reloading (Signaling reconnects with
//   capped backoff, the rooms rejoin, the session endpoint is retried with capped backoff);
// - memory stays flat: a page change closes the old tiles (room → consumers, transport, tracks,
//   listeners; the <video> is emptied and removed), timers are single Timer objects, and the only
//   collections are the tiles on screen;
// - revoking the kiosk (401 kiosk_revoked from the session endpoint, or a socket `denied` with
//   that code) tears everything down and says so on the whole screen.
import './noEval.ts';
import './style.css';
import { api, ApiError, type KioskSession, type Layout } from './api.ts';
import { Backoff, Timer } from './backoff.ts';
import { exposeHook } from './hook.ts';
import { noticeBanner } from './banner.ts';
import { bindText, formatDateTime, initI18n, onLocaleChange, type MessageKey } from './i18n.ts';
import { ViewerRoom, type ViewerState } from './room.ts';
import { Signaling } from './signaling.ts';
import { h, tx } from './ui.ts';

export type KioskState = 'connecting' | 'running' | 'revoked';

/** Renew the access token this long before it expires. */
const RENEW_MARGIN_MS = 5 * 60_000;
/** ... but never sooner than this after the last renewal (a short-lived token must not loop). */
const RENEW_MIN_MS = 30_000;

type KioskCamera = KioskSession['kiosk']['cameras'][number];

export interface KioskTileInfo {
  cameraId: string;
  name: string;
  state: ViewerState;
  /** Video frames decoded by this tile's <video>. */
  frames: number;
}

/** One camera on the wall: video, name, state and clock. */
class KioskTile {
  readonly el: HTMLElement;
  readonly camera: KioskCamera;
  readonly #video: HTMLVideoElement;
  readonly #room: ViewerRoom;
  readonly #badge: HTMLElement;
  readonly #overlay: HTMLElement;
  readonly #clock: HTMLElement;

  constructor(camera: KioskCamera, signaling: Signaling, layer: 'low' | 'high') {
    this.camera = camera;
    this.#video = h('video', { muted: true, autoplay: true, playsinline: true, disablepictureinpicture: true });
    this.#video.muted = true;
    this.#badge = h('span', { class: 'badge' });
    this.#overlay = h('div', { class: 'kiosk-state' });
    this.#clock = h('span', { class: 'kiosk-clock' });
    this.el = h(
      'figure',
      { class: 'kiosk-tile', 'data-camera-id': camera.id },
      this.#video,
      this.#overlay,
      h('figcaption', {}, h('span', { class: 'tile-name' }, camera.name), this.#badge, this.#clock),
    );
    this.#room = new ViewerRoom(signaling, camera.id, layer);
    this.#room.on('state', (state) => this.#showState(state));
    this.#room.on('tracks', (tracks) => {
      this.#video.srcObject = tracks.length ? new MediaStream(tracks) : null;
      if (tracks.length) void this.#video.play().catch(() => undefined);
    });
    this.#showState(this.#room.state);
    this.#room.start();
  }

  setClock(text: string): void {
    this.#clock.textContent = text;
  }

  info(): KioskTileInfo {
    const q = typeof this.#video.getVideoPlaybackQuality === 'function' ? this.#video.getVideoPlaybackQuality() : undefined;
    return { cameraId: this.camera.id, name: this.camera.name, state: this.#room.state, frames: q ? q.totalVideoFrames - q.droppedVideoFrames : 0 };
  }

  close(): void {
    this.#room.close(); // leaves the camera; consumers, transport and tracks are closed, listeners removed
    this.#video.pause();
    this.#video.srcObject = null;
    this.el.remove();
  }

  #showState(state: ViewerState): void {
    this.el.dataset.state = state;
    this.#badge.dataset.state = state;
    bindText(this.#badge, `state.${state}` as MessageKey);
    bindText(this.#overlay, `kiosk.state.${state}` as MessageKey);
  }
}

/** Keeps the screen on where the browser allows it; silently does nothing elsewhere. */
class ScreenAwake {
  #sentinel: WakeLockSentinel | null = null;
  #closed = false;
  readonly #onVisibility = () => {
    if (document.visibilityState === 'visible') void this.#request();
  };

  constructor() {
    document.addEventListener('visibilitychange', this.#onVisibility);
    void this.#request();
  }

  async #request(): Promise<void> {
    if (this.#closed || !('wakeLock' in navigator) || (this.#sentinel && !this.#sentinel.released)) return;
    try {
      const sentinel = await navigator.wakeLock.request('screen');
      if (this.#closed) void sentinel.release();
      else this.#sentinel = sentinel;
    } catch (err) {
      // Not allowed here (no user gesture, battery saver, insecure page): the screen may sleep.
      console.debug('wake lock refused', err);
    }
  }

  close(): void {
    this.#closed = true;
    document.removeEventListener('visibilitychange', this.#onVisibility);
    void this.#sentinel?.release().catch(() => undefined);
    this.#sentinel = null;
  }
}

function sameKiosk(a: KioskSession['kiosk'], b: KioskSession['kiosk']): boolean {
  return (
    a.layout === b.layout &&
    a.rotateSeconds === b.rotateSeconds &&
    a.cameras.length === b.cameras.length &&
    a.cameras.every((c, i) => c.id === b.cameras[i]?.id && c.name === b.cameras[i]?.name)
  );
}

class KioskApp {
  readonly el: HTMLElement;
  readonly #deviceToken: string;
  readonly #grid: HTMLElement;
  readonly #status: HTMLElement;
  readonly #renew = new Timer();
  readonly #rotate = new Timer();
  readonly #backoff = new Backoff({ minMs: 1_000, maxMs: 60_000 });
  readonly #clock: ReturnType<typeof setInterval>;
  readonly #awake = new ScreenAwake();
  readonly #offLocale: () => void;
  #signaling: Signaling | null = null;
  #session: KioskSession | null = null;
  #renewing: Promise<KioskSession | null> | null = null;
  #lastRenewal = 0;
  #renewals = 0;
  #tiles: KioskTile[] = [];
  #page = 0;
  #state: KioskState = 'connecting';

  constructor(deviceToken: string) {
    this.#deviceToken = deviceToken;
    this.#grid = h('div', { class: 'kiosk', 'data-layout': '4' });
    this.#status = h('div', { class: 'kiosk-status', role: 'status' });
    this.el = h('div', { class: 'kiosk-root' }, this.#grid, this.#status);
    bindText(this.#status, 'kiosk.connecting');
    this.#clock = setInterval(() => this.#tick(), 1_000);
    this.#offLocale = onLocaleChange(() => this.#tick());
    void this.#refreshSession();
  }

  get state(): KioskState {
    return this.#state;
  }
  get page(): number {
    return this.#page;
  }
  get pages(): number {
    const s = this.#session?.kiosk;
    return s ? Math.max(1, Math.ceil(s.cameras.length / s.layout)) : 0;
  }
  get layout(): Layout | undefined {
    return this.#session?.kiosk.layout;
  }
  get tokenExpiresAt(): number | undefined {
    return this.#session?.expiresAt;
  }
  get accessToken(): string | undefined {
    return this.#session?.accessToken;
  }
  get renewals(): number {
    return this.#renewals;
  }
  tiles(): KioskTileInfo[] {
    return this.#tiles.map((t) => t.info());
  }

  // --- Session ----------------------------------------------------------------------------------

  /** One session request at a time; null when it failed (retried later) or the kiosk is revoked. */
  #refreshSession(): Promise<KioskSession | null> {
    if (this.#state === 'revoked') return Promise.resolve(null);
    this.#renewing ??= (async () => {
      try {
        const session = await api.kioskSession(this.#deviceToken);
        if (this.#state === 'revoked') return null;
        this.#backoff.reset();
        this.#lastRenewal = Date.now();
        this.#renewals += 1;
        this.#apply(session);
        return session;
      } catch (err) {
        if (err instanceof ApiError && (err.code === 'kiosk_revoked' || err.status === 401 || err.status === 403)) {
          this.#revoke();
          return null;
        }
        // Network loss, server restart, rate limit: keep what is on screen and try again.
        const delay = this.#backoff.next();
        console.warn(`kiosk session failed (${err instanceof Error ? err.message : String(err)}); retrying in ${delay} ms`);
        if (!this.#session) bindText(this.#status, 'kiosk.connecting');
        this.#renew.set(delay, () => void this.#refreshSession());
        return null;
      } finally {
        this.#renewing = null;
      }
    })();
    return this.#renewing;
  }

  #apply(session: KioskSession): void {
    const previous = this.#session;
    this.#session = session;
    const renewIn = Math.max(RENEW_MIN_MS, session.expiresAt - Date.now() - RENEW_MARGIN_MS, (session.expiresAt - Date.now()) / 2);
    this.#renew.set(Math.min(renewIn, 2 ** 31 - 1), () => void this.#refreshSession());
    if (!this.#signaling) {
      this.#state = 'running';
      this.#signaling = this.#connect();
    }
    if (!previous || !sameKiosk(previous.kiosk, session.kiosk)) {
      document.title = session.kiosk.name;
      this.#page = Math.min(this.#page, this.pages - 1);
      this.#render();
    }
  }

  #connect(): Signaling {
    const signaling = new Signaling({
      getToken: async () => {
        let session = this.#session;
        // A token close to its end (e.g. after the machine slept) is renewed before connecting.
        if (!session || session.expiresAt - Date.now() < 60_000) session = (await this.#refreshSession()) ?? this.#session;
        if (!session || this.#state === 'revoked') throw new Error('no kiosk session');
        return session.accessToken;
      },
      onAuthFailure: async (error) => {
        if (error.code === 'kiosk_revoked') {
          this.#revoke();
          return false;
        }
        // The access token expired or the server restarted with new keys: a new session, then retry.
        if (Date.now() - this.#lastRenewal > 2_000) await this.#refreshSession();
        return this.#state !== 'revoked';
      },
    });
    signaling.on('state', (state) => {
      if (state === 'connected') this.#status.hidden = true;
      else if (this.#state === 'running') {
        this.#status.hidden = false;
        bindText(this.#status, 'kiosk.reconnecting');
      }
    });
    signaling.on('denied', ({ code }) => {
      if (code === 'kiosk_revoked') this.#revoke();
      // A camera left this kiosk (deleted, removed from its list): fetch the list again soon.
      else this.#renew.set(2_000, () => void this.#refreshSession());
    });
    signaling.start();
    return signaling;
  }

  // --- Pages ------------------------------------------------------------------------------------

  #render(): void {
    const session = this.#session;
    const signaling = this.#signaling;
    if (!session || !signaling || this.#state === 'revoked') return;
    const { layout, cameras, rotateSeconds } = session.kiosk;
    const onPage = cameras.slice(this.#page * layout, (this.#page + 1) * layout);
    // Tiles that stay (same camera, same place) keep playing; the others are closed.
    const keep: KioskTile[] = [];
    for (const tile of this.#tiles) {
      if (onPage.some((c) => c.id === tile.camera.id && c.name === tile.camera.name)) keep.push(tile);
      else tile.close();
    }
    const layer = layout === 1 ? 'high' : 'low';
    this.#tiles = onPage.map((camera) => keep.find((t) => t.camera.id === camera.id) ?? new KioskTile(camera, signaling, layer));
    this.#grid.dataset.layout = String(layout);
    if (cameras.length === 0) this.#grid.replaceChildren(tx('div', 'kiosk.noCameras', { class: 'kiosk-empty' }));
    else this.#grid.replaceChildren(...this.#tiles.map((t) => t.el));
    this.#tick();
    this.#rotate.clear();
    if (this.pages > 1) this.#rotate.set(rotateSeconds * 1_000, () => this.#nextPage());
  }

  #nextPage(): void {
    this.#page = (this.#page + 1) % Math.max(1, this.pages);
    this.#render();
  }

  #tick(): void {
    const now = formatDateTime(Date.now());
    for (const tile of this.#tiles) tile.setClock(now);
  }

  // --- Revocation -------------------------------------------------------------------------------

  #revoke(): void {
    if (this.#state === 'revoked') return;
    this.#state = 'revoked';
    this.#renew.clear();
    this.#rotate.clear();
    clearInterval(this.#clock);
    this.#offLocale();
    for (const tile of this.#tiles) tile.close();
    this.#tiles = [];
    this.#signaling?.stop();
    this.#signaling = null;
    this.#session = null;
    this.#awake.close();
    document.title = 'Mimamori';
    this.el.replaceChildren(fullScreen('kiosk.revoked', 'revoked'));
  }
}

function fullScreen(key: MessageKey, kind: string): HTMLElement {
  return h('div', { class: 'kiosk-full', 'data-kind': kind, role: 'alert' }, tx('p', key));
}

initI18n();
document.body.classList.add('kiosk-body');
const app = document.getElementById('app') ?? document.body;
const token = new URLSearchParams(location.hash.replace(/^#/, '')).get('token');
let kiosk: KioskApp | null = null;
if (token) {
  kiosk = new KioskApp(token);
  app.replaceChildren(noticeBanner(() => kiosk?.accessToken), kiosk.el);
} else {
  app.replaceChildren(fullScreen('kiosk.noToken', 'error'));
}

exposeHook({
  kiosk: {
    get state(): KioskState {
      return kiosk?.state ?? 'revoked';
    },
    get page(): number {
      return kiosk?.page ?? 0;
    },
    get pages(): number {
      return kiosk?.pages ?? 0;
    },
    get layout(): Layout | undefined {
      return kiosk?.layout;
    },
    get tokenExpiresAt(): number | undefined {
      return kiosk?.tokenExpiresAt;
    },
    get renewals(): number {
      return kiosk?.renewals ?? 0;
    },
    tiles: (): KioskTileInfo[] => kiosk?.tiles() ?? [],
  },
});
