// camera.html: turns this device (phone or PC) into a camera. Credentials come from the link the
// admin page shows (`camera.html#id=<id>&secret=<secret>`), or a signed-in administrator picks a
// camera. Shows the preview, the state and the bitrate, and keeps publishing through network loss,
// server restarts and media failures without reloading.
import './noEval.ts';
import './style.css';
import { api, ApiError, auth, onUnauthorized, type PublishToken, type User } from './api.ts';
import { CameraChooser } from './cameraChooser.ts';
import { exposeHook } from './hook.ts';
import { bindText, formatDateTime, initI18n, onLocaleChange, t, type MessageKey } from './i18n.ts';
import { isUnsupportedBrowser } from './media.ts';
import { Publisher, type PublisherState } from './publisher.ts';
import { Signaling } from './signaling.ts';
import { errorMessage, h, Header, Notice, tx } from './ui.ts';
import { signInForm } from './account.ts';

type Credentials = { kind: 'secret'; cameraId: string; secret: string } | { kind: 'admin'; cameraId: string };
export type CameraPageState = 'idle' | 'starting' | PublisherState;

const STATS_INTERVAL_MS = 2_000;
/** A moved camera's old session is closed here if its node has not ended it by then. */
const RETIRE_AFTER_MS = 15_000;
/** A publish token this close to its expiry is renewed before connecting with it. */
const TOKEN_RENEW_MARGIN_MS = 60_000;

// --- Media --------------------------------------------------------------------------------------

const VIDEO_HIGH: MediaTrackConstraints = {
  width: { ideal: 1280, max: 1280 },
  height: { ideal: 720, max: 720 },
  frameRate: { ideal: 30, max: 30 },
  facingMode: { ideal: 'environment' },
};
const VIDEO_BASE: MediaTrackConstraints = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 30 } };
const AUDIO: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

/** 1280×720@30 where the camera allows it, 640×360 otherwise; video alone if there is no microphone. */
async function acquireMedia(): Promise<MediaStream> {
  const attempts: MediaStreamConstraints[] = [
    { video: VIDEO_HIGH, audio: AUDIO },
    { video: VIDEO_BASE, audio: AUDIO },
    { video: VIDEO_BASE, audio: false },
  ];
  let last: unknown;
  for (const constraints of attempts) {
    try {
      return await navigator.mediaDevices.getUserMedia(constraints);
    } catch (err) {
      last = err;
      // Only a missing or unsuitable device is worth another set of constraints.
      if (!(err instanceof DOMException) || !['OverconstrainedError', 'NotFoundError', 'NotReadableError'].includes(err.name)) throw err;
    }
  }
  throw last;
}

function describeFailure(detail: unknown): string {
  if (detail instanceof DOMException) {
    if (detail.name === 'NotAllowedError' || detail.name === 'SecurityError') return t('camera.error.permission');
    if (detail.name === 'NotFoundError' || detail.name === 'OverconstrainedError') return t('camera.error.noDevice');
    return t('camera.error.media', { message: detail.message || detail.name });
  }
  if (isUnsupportedBrowser(detail)) return t('camera.error.unsupported');
  return errorMessage(detail);
}

/** The server's reason for taking the camera off: the `code` of its 'denied' event. */
function stopReason(detail: unknown): { key: MessageKey; params?: Record<string, string> } {
  if (detail === 'replaced') return { key: 'camera.stopped.replaced' };
  if (detail === 'camera_deleted') return { key: 'camera.stopped.deleted' };
  return { key: 'camera.stopped.other', params: { reason: typeof detail === 'string' ? detail : '' } };
}

// --- Publishing view ----------------------------------------------------------------------------

/** One publishing session: its own signaling connection (through the load balancer, to some node). */
interface Session {
  signaling: Signaling;
  publisher: Publisher;
  /** Detaches the page from this session's events. */
  detach: () => void;
}

class PublishView {
  readonly el: HTMLElement;
  readonly #credentials: Credentials;
  #session: Session;
  /** A second session being set up because the server asked this camera to move. */
  #moving: Session | null = null;
  readonly #preview: HTMLVideoElement;
  readonly #state: HTMLElement;
  readonly #stats: HTMLElement;
  readonly #since: HTMLElement;
  readonly #resume: HTMLButtonElement;
  readonly #notice = new Notice('alert');
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #offLocale: () => void;
  #pageState: CameraPageState = 'starting';
  #liveSince: Date | null = null;
  #lastBytes: { bytes: number; at: number } | null = null;
  #wakeLock: WakeLockSentinel | null = null;
  #closed = false;
  readonly #onVisible = () => void this.#keepAwake();

  constructor(credentials: Credentials, cameraName: string | undefined) {
    const { cameraId } = credentials;
    this.#preview = h('video', { class: 'preview', muted: true, autoplay: true, playsinline: true });
    this.#preview.muted = true;
    this.#state = h('p', { class: 'publish-state badge', 'data-state': 'starting', role: 'status' });
    this.#stats = h('p', { class: 'publish-stats' });
    this.#since = h('p', { class: 'publish-since muted' });
    this.#resume = tx('button', 'camera.resume', { type: 'button', class: 'primary', hidden: true });
    this.el = h(
      'section',
      { class: 'publish card', 'data-camera-id': cameraId },
      bindText(h('h1'), 'camera.name', { name: cameraName ?? cameraId }),
      h('div', { class: 'preview-box' }, this.#preview),
      h('div', { class: 'publish-status' }, this.#state, this.#stats),
      this.#since,
      this.#notice.el,
      this.#resume,
    );

    this.#credentials = credentials;
    this.#session = this.#open(acquireMedia);
    this.#resume.addEventListener('click', () => {
      this.#notice.clear();
      this.#resume.hidden = true;
      this.#session.signaling.start();
      this.#session.publisher.resume();
    });
    this.#timer = setInterval(() => void this.#updateStats(), STATS_INTERVAL_MS);
    this.#offLocale = onLocaleChange(() => this.#render());
    document.addEventListener('visibilitychange', this.#onVisible);
    this.#render();
    this.#session.signaling.start();
    this.#session.publisher.start();
  }

  get #publisher(): Publisher {
    return this.#session.publisher;
  }

  /** A session: its signaling connection and its publisher, wired to this page. */
  #open(acquire: () => Promise<MediaStream>): Session {
    const { cameraId } = this.#credentials;
    const credentials = this.#credentials;
    let cached: PublishToken | null = null;
    const signaling = new Signaling({
      getToken: async () => {
        if (cached && cached.expiresAt.getTime() - Date.now() > TOKEN_RENEW_MARGIN_MS) return cached.token;
        try {
          cached =
            credentials.kind === 'secret'
              ? await api.publishTokenWithSecret(cameraId, credentials.secret)
              : await api.publishTokenAsAdmin(cameraId);
          return cached.token;
        } catch (err) {
          // A wrong secret or a deleted camera will not fix itself: stop and say so.
          if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429) this.#fatal(err);
          throw err;
        }
      },
      onAuthFailure: () => {
        cached = null; // fetch a fresh publish token and connect again
        return true;
      },
    });
    const publisher = new Publisher({ signaling, cameraId, acquireMedia: acquire });
    const offs = [
      publisher.on('stream', (stream) => {
        if (this.#pageState === 'starting') {
          this.#pageState = publisher.state;
          this.#render();
        }
        if (this.#preview.srcObject !== stream) this.#preview.srcObject = stream;
        void this.#preview.play().catch(() => undefined);
      }),
      publisher.on('state', (state, detail) => this.#onState(state, detail)),
      publisher.on('move', () => this.#move()),
    ];
    return { signaling, publisher, detach: () => offs.forEach((off) => off()) };
  }

  /**
   * Make-before-break: a second session goes live (through the load balancer, on another node)
   * with the same camera and microphone while the first one still publishes; the page then
   * follows the new one, and the old node ends the old session once the new node records.
   */
  #move(): void {
    if (this.#moving || this.#closed) return;
    const old = this.#session;
    const stream = old.publisher.stream;
    if (!stream) return;
    const next = this.#open(async () => stream);
    // Until it is live, the new session's events are its own.
    next.detach();
    this.#moving = next;
    const offState = next.publisher.on('state', (state) => {
      if (state === 'live') {
        offState();
        this.#moving = null;
        old.detach();
        this.#session = { ...next, detach: this.#wire(next.publisher) };
        this.#retire(old);
      } else if (state === 'error' || state === 'stopped') {
        offState();
        this.#moving = null;
        next.publisher.close({ keepTracks: true });
        next.signaling.stop();
      }
    });
    next.signaling.start();
    next.publisher.start();
  }

  /** The page's events for a session that took over. */
  #wire(publisher: Publisher): () => void {
    const offs = [publisher.on('state', (state, detail) => this.#onState(state, detail)), publisher.on('move', () => this.#move())];
    return () => offs.forEach((off) => off());
  }

  /** The old session after a move: its node ends it (replaced) once the new one records; else after a while. */
  #retire(old: Session): void {
    old.publisher.retire();
    const done = () => {
      clearTimeout(timer);
      offState();
      old.publisher.close({ keepTracks: true });
      old.signaling.stop();
    };
    const timer = setTimeout(done, RETIRE_AFTER_MS);
    // Ended by its node (replaced), or its connection lost: either way it is over.
    const offState = old.publisher.on('state', (state) => {
      if (state !== 'live') done();
    });
  }

  get state(): CameraPageState {
    return this.#pageState;
  }
  get producerIds(): string[] {
    return this.#publisher.producerIds;
  }
  stats() {
    return this.#publisher.stats();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#offLocale();
    document.removeEventListener('visibilitychange', this.#onVisible);
    void this.#wakeLock?.release().catch(() => undefined);
    this.#session.publisher.close();
    this.#session.signaling.stop();
    if (this.#moving) {
      this.#moving.publisher.close();
      this.#moving.signaling.stop();
    }
    this.#preview.srcObject = null;
    this.el.remove();
  }

  #fatal(err: unknown): void {
    this.#session.publisher.close();
    this.#session.signaling.stop();
    this.#pageState = 'error';
    this.#notice.show(describeFailure(err), 'error');
    this.#render();
  }

  #onState(state: PublisherState, detail: unknown): void {
    this.#pageState = state;
    if (state === 'live') {
      this.#liveSince ??= new Date();
      this.#notice.clear();
      void this.#keepAwake();
    } else {
      this.#liveSince = null;
    }
    if (state === 'error') this.#notice.show(describeFailure(detail), 'error');
    const reason = state === 'stopped' ? stopReason(detail) : undefined;
    if (reason) this.#notice.show(reason, 'info');
    // Publishing again makes sense unless the camera is gone.
    this.#resume.hidden = !(state === 'error' || (state === 'stopped' && reason?.key !== 'camera.stopped.deleted'));
    this.#render();
  }

  #render(): void {
    const state = this.#pageState;
    const key: MessageKey = state === 'idle' ? 'camera.state.idle' : state === 'starting' ? 'camera.state.starting' : `camera.state.${state}`;
    this.#state.dataset.state = state;
    bindText(this.#state, key);
    this.#since.textContent = this.#liveSince ? t('camera.since', { time: formatDateTime(this.#liveSince) }) : '';
    if (state !== 'live') this.#stats.textContent = '';
  }

  async #updateStats(): Promise<void> {
    const stats = await this.#publisher.stats().catch(() => undefined);
    if (!stats || this.#pageState !== 'live') {
      this.#lastBytes = null;
      return;
    }
    const now = performance.now();
    const previous = this.#lastBytes;
    this.#lastBytes = { bytes: stats.bytesSent, at: now };
    if (!previous || stats.bytesSent < previous.bytes) return;
    const kbps = Math.round(((stats.bytesSent - previous.bytes) * 8) / (now - previous.at));
    this.#stats.textContent = t('camera.stats', {
      codec: (stats.videoCodec ?? this.#publisher.videoCodec ?? '').replace(/^video\//, ''),
      width: stats.frameWidth ?? 0,
      height: stats.frameHeight ?? 0,
      kbps,
    });
  }

  /** A phone must not lock its screen while it is a camera. */
  async #keepAwake(): Promise<void> {
    if (this.#closed || document.visibilityState !== 'visible' || this.#pageState !== 'live') return;
    if (this.#wakeLock && !this.#wakeLock.released) return;
    try {
      this.#wakeLock = (await navigator.wakeLock?.request('screen')) ?? null;
    } catch {
      // Not supported or not allowed (battery saver): the page still works while the screen is on.
    }
  }
}

// --- Page ---------------------------------------------------------------------------------------

initI18n('nav.camera');
const app = document.getElementById('app') ?? document.body;
const header = new Header({ page: 'camera', onLogout: () => showSignIn() });
const main = h('main', { id: 'main', class: 'camera-page' });
app.replaceChildren(header.el, main);
let view: PublishView | null = null;

exposeHook({
  get state(): CameraPageState {
    return view?.state ?? 'idle';
  },
  get producerIds(): string[] {
    return view?.producerIds ?? [];
  },
  stats: () => view?.stats() ?? Promise.resolve(undefined),
});

function fragment(): { id: string | null; secret: string | null } {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  return { id: params.get('id'), secret: params.get('secret') };
}

function canPublish(): MessageKey | null {
  if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) return 'camera.error.insecure';
  if (typeof RTCPeerConnection === 'undefined') return 'camera.error.unsupported';
  return null;
}

function publish(credentials: Credentials, cameraName?: string): void {
  view?.close();
  view = null;
  const problem = canPublish();
  if (problem) {
    const notice = new Notice('alert');
    notice.show({ key: problem }, 'error');
    main.replaceChildren(h('section', { class: 'card' }, notice.el));
    return;
  }
  view = new PublishView(credentials, cameraName);
  main.replaceChildren(view.el);
}

function showSignIn(notice?: MessageKey): void {
  view?.close();
  view = null;
  auth.clear();
  header.setUser(null);
  const explain = new Notice('status');
  explain.show({ key: 'camera.needLink' });
  main.replaceChildren(
    h('div', { class: 'stack' }, explain.el, signInForm((user) => void showPicker(user), notice)),
  );
}

async function showPicker(user: User): Promise<void> {
  header.setUser(user);
  if (user.role !== 'admin') {
    const notice = new Notice('alert');
    notice.show({ key: 'error.forbidden' }, 'error');
    main.replaceChildren(h('section', { class: 'card' }, notice.el));
    return;
  }
  // Found by search (an organisation may hold thousands of cameras); a linked id is chosen already.
  let chosen: { id: string; name: string } | undefined;
  const chosenName = h('strong', { id: 'camera-chosen', 'aria-live': 'polite' });
  const start = tx('button', 'camera.start', { type: 'submit', class: 'primary', disabled: true });
  const choose = (camera: { id: string; name: string }) => {
    chosen = camera;
    chosenName.textContent = camera.name;
    start.disabled = false;
  };
  const chooser = new CameraChooser({ label: { key: 'camera.search' }, exclude: () => new Set(chosen ? [chosen.id] : []), onPick: choose });
  const message = new Notice('alert');
  const form = h('form', { class: 'card picker', id: 'camera-picker' }, tx('h1', 'camera.title'), tx('p', 'camera.pick'), h('p', {}, chosenName), chooser.el, message.el, start);
  main.replaceChildren(form);
  try {
    const wanted = fragment().id;
    if (wanted) choose(await api.camera(wanted));
    else if ((await api.cameraPage({ limit: 1 })).total === 0) message.show({ key: 'admin.noCameras' });
  } catch (err) {
    message.show(errorMessage(err), 'error');
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (chosen) publish({ kind: 'admin', cameraId: chosen.id }, chosen.name);
  });
}

onUnauthorized(() => showSignIn('login.sessionEnded'));

function boot(): void {
  const { id, secret } = fragment();
  if (id && secret) return publish({ kind: 'secret', cameraId: id, secret });
  const user = auth.user();
  if (auth.token() && user) void showPicker(user);
  else showSignIn();
}

window.addEventListener('hashchange', boot);
boot();
