// playback.html: a camera's recordings (player, timeline, in/out marks, export, share) and its live
// view, for a signed-in user. Deep link: `playback.html#camera=<id>&t=<ISO time or ms>`; the hash
// follows the camera and the playhead so a reload (or a copied address) comes back to the same place.
// The page reads only the camera it shows; another is found with a search (an organisation may
// hold thousands).
import './noEval.ts';
import './style.css';
import { api, ApiError, auth, type Camera } from './api.ts';
import type { MessageKey } from './i18n.ts';
import { CameraChooser } from './cameraChooser.ts';
import { ExportPanel } from './exports.ts';
import { exposeHook, playbackHook } from './hook.ts';
import { Marks } from './marks.ts';
import { RecordedView } from './recorded.ts';
import { SharePanel } from './shares.ts';
import { SingleLive } from './single.ts';
import { bindAttr, errorMessage, h, Notice, tx } from './ui.ts';
import { signedInPage } from './signedIn.ts';

export type PlaybackMode = 'recorded' | 'live';
const HASH_UPDATE_MS = 2_000;

interface DeepLink {
  cameraId?: string;
  atMs?: number;
}

function parseHash(hash: string): DeepLink {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const cameraId = params.get('camera') ?? undefined;
  const t = params.get('t');
  let atMs: number | undefined;
  if (t) atMs = /^\d+$/.test(t) ? Number(t) : Date.parse(t);
  return { cameraId, atMs: atMs !== undefined && Number.isFinite(atMs) ? atMs : undefined };
}

function writeHash(cameraId: string, atMs: number | undefined): void {
  const t = atMs === undefined ? '' : `&t=${new Date(atMs).toISOString()}`;
  const next = `#camera=${encodeURIComponent(cameraId)}${t}`;
  if (location.hash !== next) history.replaceState(null, '', next);
}

/** Everything that exists while a user is signed in on this page. */
class PlaybackSession {
  readonly el: HTMLElement;
  /** The camera shown, by name. */
  readonly #title: HTMLElement;
  readonly #chooser: CameraChooser;
  readonly #modeButtons = new Map<PlaybackMode, HTMLButtonElement>();
  readonly #stage: HTMLElement;
  readonly #notice = new Notice('alert');
  readonly #marks: Marks;
  readonly #exports: ExportPanel;
  readonly #shares: SharePanel;
  readonly #onHashChange = () => this.#followHash();
  readonly #onAuthFailure: () => void;
  /** Cameras read so far (the one shown, and those chosen before), with the caller's rights on each. */
  readonly #cameras = new Map<string, Camera>();
  #cameraId: string | undefined;
  #mode: PlaybackMode = 'recorded';
  #recorded: RecordedView | null = null;
  #live: SingleLive | null = null;
  #lastHashWrite = 0;
  #closed = false;

  constructor(onAuthFailure: () => void) {
    this.#onAuthFailure = onAuthFailure;
    this.#title = h('strong', { id: 'camera-name', 'aria-live': 'polite' });
    this.#chooser = new CameraChooser({
      label: { key: 'playback.otherCamera' },
      exclude: () => new Set(this.#cameraId ? [this.#cameraId] : []),
      onPick: (camera) => {
        this.#cameras.set(camera.id, camera);
        this.setCamera(camera.id);
      },
    });
    this.#chooser.input.id = 'camera-search-playback';
    const modes = h('div', { class: 'segmented', role: 'group' });
    bindAttr(modes, 'aria-label', 'playback.mode');
    for (const m of ['recorded', 'live'] as const) {
      const b = tx('button', `playback.mode.${m}` as MessageKey, { type: 'button', class: 'small', 'data-mode': m });
      b.addEventListener('click', () => this.setMode(m));
      this.#modeButtons.set(m, b);
      modes.append(b);
    }
    this.#stage = h('div', { class: 'stage' });
    this.#marks = new Marks(() => this.#recorded?.player.wallTimeMs());
    const cameraName = (id: string) => this.#cameras.get(id)?.name ?? id;
    this.#exports = new ExportPanel({
      cameraId: () => this.#cameraId,
      cameraName,
      range: () => this.#marks.range(),
      playBase: () => this.#recorded?.player.playBase,
    });
    this.#shares = new SharePanel({ cameraId: () => this.#cameraId, cameraName, range: () => this.#marks.range() });
    this.#marks.on('change', (marks) => {
      this.#recorded?.timeline.setMarks(marks);
      this.#exports.update();
      this.#shares.update();
    });
    this.el = h(
      'div',
      { class: 'playback' },
      h('div', { class: 'toolbar' }, tx('span', 'playback.camera', { class: 'toolbar-label' }), this.#title, modes, this.#chooser.el),
      this.#notice.el,
      this.#stage,
      h('div', { class: 'recorded-only' }, this.#marks.el),
      h('div', { class: 'panels recorded-only' }, this.#exports.el, this.#shares.el),
    );
    this.#exports.el.hidden = this.#shares.el.hidden = true; // until the rights are known
    window.addEventListener('hashchange', this.#onHashChange);
    void this.#loadCameras();
  }

  get mode(): PlaybackMode {
    return this.#mode;
  }
  get cameraId(): string | undefined {
    return this.#cameraId;
  }
  get recorded(): RecordedView | null {
    return this.#recorded;
  }
  get live(): SingleLive | null {
    return this.#live;
  }
  get marks(): Marks {
    return this.#marks;
  }
  get exports(): ExportPanel {
    return this.#exports;
  }
  get shares(): SharePanel {
    return this.#shares;
  }

  /** Shows a camera (read first if this page has not yet). */
  setCamera(cameraId: string, atMs?: number): void {
    const camera = this.#cameras.get(cameraId);
    if (!camera) {
      void this.#read(cameraId, atMs);
      return;
    }
    const changed = cameraId !== this.#cameraId;
    this.#cameraId = cameraId;
    this.#title.textContent = camera.name;
    this.#title.dataset.cameraId = cameraId;
    if (changed) this.#marks.set(undefined, undefined);
    writeHash(cameraId, atMs);
    this.#show(changed, atMs);
  }

  setMode(mode: PlaybackMode): void {
    if (mode === this.#mode) return;
    this.#mode = mode;
    this.#show(true, mode === 'recorded' ? this.#lastWall() : undefined);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    window.removeEventListener('hashchange', this.#onHashChange);
    this.#recorded?.close();
    this.#live?.close();
    this.#chooser.close();
    this.#marks.close();
    this.#exports.close();
    this.#shares.close();
    this.el.remove();
  }

  #lastWall(): number | undefined {
    return parseHash(location.hash).atMs;
  }

  /** The linked camera, or without a link the first by name. */
  async #loadCameras(): Promise<void> {
    const link = parseHash(location.hash);
    if (link.cameraId) {
      await this.#read(link.cameraId, link.atMs);
      return;
    }
    try {
      const first = (await api.cameraPage({ limit: 1 })).cameras[0];
      if (this.#closed) return;
      if (!first) {
        this.#notice.show({ key: 'grid.noCameras' });
        return;
      }
      this.#cameras.set(first.id, first);
      this.setCamera(first.id);
    } catch (err) {
      if (!this.#closed) this.#notice.show(errorMessage(err), 'error');
    }
  }

  /** Reads one camera (its name and the caller's rights), then shows it; one not found says so. */
  async #read(cameraId: string, atMs: number | undefined): Promise<void> {
    try {
      const camera = await api.camera(cameraId);
      if (this.#closed) return;
      this.#cameras.set(camera.id, camera);
      this.setCamera(camera.id, atMs);
    } catch (err) {
      if (this.#closed) return;
      this.#notice.show(err instanceof ApiError && err.code === 'camera_not_found' ? { key: 'error.camera_not_found' } : errorMessage(err), 'error');
      // Something to show all the same: the first camera, as without a link.
      if (!this.#cameraId && parseHash(location.hash).cameraId === cameraId) {
        const first = (await api.cameraPage({ limit: 1 }).catch(() => undefined))?.cameras[0];
        if (first && !this.#closed && !this.#cameraId) {
          this.#cameras.set(first.id, first);
          this.setCamera(first.id);
        }
      }
    }
  }

  #followHash(): void {
    const link = parseHash(location.hash);
    if (!link.cameraId) return;
    if (link.cameraId !== this.#cameraId) this.setCamera(link.cameraId, link.atMs);
    else if (link.atMs !== undefined && this.#recorded && Math.abs((this.#recorded.player.wallTimeMs() ?? 0) - link.atMs) > 3_000) {
      this.#recorded.player.seek(link.atMs);
    }
  }

  /** Builds the player or the live view for the current camera and mode. */
  #show(rebuild: boolean, atMs: number | undefined): void {
    const cameraId = this.#cameraId;
    if (!cameraId) return;
    for (const [m, b] of this.#modeButtons) b.setAttribute('aria-pressed', String(m === this.#mode));
    const rights = this.#cameras.get(cameraId)?.rights ?? [];
    this.#exports.el.hidden = !rights.includes('export');
    this.#shares.el.hidden = !rights.includes('share');
    this.el.dataset.mode = this.#mode;
    if (this.#mode === 'recorded') {
      this.#live?.close();
      this.#live = null;
      if (this.#recorded && !rebuild && this.#recorded.cameraId === cameraId) {
        if (atMs !== undefined) this.#recorded.player.seek(atMs);
        return;
      }
      this.#recorded?.close();
      const view = new RecordedView({ cameraId, startMs: atMs });
      view.timeline.setMarks({ inMs: this.#marks.inMs, outMs: this.#marks.outMs });
      view.player.on('window', () => this.#exports.update());
      view.player.on('time', (ms) => {
        if (performance.now() - this.#lastHashWrite < HASH_UPDATE_MS) return;
        this.#lastHashWrite = performance.now();
        writeHash(cameraId, ms);
      });
      this.#recorded = view;
      this.#stage.replaceChildren(view.el);
    } else {
      this.#recorded?.close();
      this.#recorded = null;
      if (this.#live && this.#live.tile.camera.id === cameraId) return;
      this.#live?.close();
      const camera = this.#cameras.get(cameraId)!;
      this.#live = new SingleLive({
        camera,
        getToken: async () => {
          const token = auth.token();
          if (!token) throw new ApiError(401, 'unauthorized', 'signed out');
          return token;
        },
        onAuthFailure: () => {
          this.#onAuthFailure();
          return false;
        },
      });
      this.#stage.replaceChildren(this.#live.el);
    }
    this.#exports.update();
    this.#shares.update();
  }
}

const page = signedInPage({ title: 'nav.playback', page: 'playback', open: (_user, onAuthFailure) => new PlaybackSession(onAuthFailure) });

exposeHook(
  playbackHook({
    recorded: () => page.session()?.recorded ?? null,
    live: () => page.session()?.live ?? null,
    page: () => {
      const session = page.session();
      return (
        session && {
          mode: session.mode,
          cameraId: session.cameraId,
          setMode: (m: PlaybackMode) => session.setMode(m),
          setCamera: (id: string, atMs?: number) => session.setCamera(id, atMs),
          setMarks: (inMs?: number, outMs?: number) => session.marks.set(inMs, outMs),
          exports: () => session.exports.jobs(),
          shares: () => session.shares.shares(),
        }
      );
    },
  }),
);
