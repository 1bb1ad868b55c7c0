// share.html#<id>[&t=<ISO time or ms>]: a share link opened by anyone (no sign-in). Asks for the
// password when the link has one, then shows a clip (the player restricted to the shared range,
// with a download button) or the camera's live view (the share token is the socket's token).
// Expired, revoked, wrong-password and too-many-attempts answers each get a clear message.
import './noEval.ts';
import './style.css';
import { api, ApiError, type OpenedShare, type ShareKind } from './api.ts';
import { Timer } from './backoff.ts';
import { playbackHook, exposeHook } from './hook.ts';
import { bindAttr, bindText, formatDateTime, formatRange, initI18n, localeControls, onLocaleChange, type MessageKey } from './i18n.ts';
import { RecordedView } from './recorded.ts';
import { SingleLive } from './single.ts';
import { errorMessage, h, Notice, tx } from './ui.ts';

export type SharePageState = 'loading' | 'password' | 'clip' | 'live' | 'expired' | 'revoked' | 'not_found' | 'too_many_attempts' | 'error';

function parseHash(hash: string): { id?: string; atMs?: number } {
  const parts = hash.replace(/^#/, '').split('&');
  const id = parts.find((p) => p && !p.includes('='));
  const t = new URLSearchParams(parts.filter((p) => p.includes('=')).join('&')).get('t');
  const atMs = t ? (/^\d+$/.test(t) ? Number(t) : Date.parse(t)) : undefined;
  return { id: id ? decodeURIComponent(id) : undefined, atMs: atMs !== undefined && Number.isFinite(atMs) ? atMs : undefined };
}

/** The message for a share that cannot be opened. */
function stateOf(err: unknown): SharePageState {
  if (err instanceof ApiError) {
    if (err.code === 'share_expired') return 'expired';
    if (err.code === 'share_revoked') return 'revoked';
    if (err.code === 'share_not_found' || err.status === 404) return 'not_found';
    if (err.code === 'too_many_attempts' || err.status === 429) return 'too_many_attempts';
  }
  return 'error';
}

class SharePage {
  readonly el: HTMLElement;
  readonly #id: string;
  readonly #atMs: number | undefined;
  readonly #body: HTMLElement;
  readonly #title: HTMLElement;
  readonly #expiry = new Timer();
  #state: SharePageState = 'loading';
  #kind: ShareKind | undefined;
  #opened: OpenedShare | null = null;
  #recorded: RecordedView | null = null;
  #live: SingleLive | null = null;
  #error: string | undefined;

  constructor(id: string, atMs: number | undefined) {
    this.#id = id;
    this.#atMs = atMs;
    this.#title = h('h1');
    this.#body = h('div', { class: 'share-body' });
    bindText(this.#title, 'sharePage.title');
    this.el = h('div', { class: 'share-page', 'data-state': 'loading' }, this.#title, this.#body);
    this.#body.replaceChildren(tx('p', 'common.loading', { class: 'muted' }));
    void this.#start();
  }

  get state(): SharePageState {
    return this.#state;
  }
  get kind(): ShareKind | undefined {
    return this.#kind;
  }
  get range(): { fromMs: number; toMs: number } | undefined {
    const o = this.#opened;
    return o?.fromMs !== undefined && o.toMs !== undefined ? { fromMs: o.fromMs, toMs: o.toMs } : undefined;
  }
  get error(): string | undefined {
    return this.#error;
  }
  get recorded(): RecordedView | null {
    return this.#recorded;
  }
  get live(): SingleLive | null {
    return this.#live;
  }

  async #start(): Promise<void> {
    try {
      const info = await api.shareInfo(this.#id);
      this.#kind = info.kind;
      if (info.needsPassword) this.#askPassword();
      else await this.#open(undefined);
    } catch (err) {
      this.#fail(err);
    }
  }

  #askPassword(message?: MessageKey): void {
    this.#setState('password');
    const password = h('input', { id: 'share-open-password', type: 'password', required: true, autocomplete: 'current-password' });
    const submit = tx('button', 'sharePage.open', { type: 'submit', class: 'primary' });
    const notice = new Notice('alert');
    if (message) notice.show({ key: message }, 'error');
    const form = h(
      'form',
      { class: 'card login', id: 'share-password-form' },
      tx('p', 'sharePage.needsPassword'),
      h('label', { for: 'share-open-password' }, tx('span', 'login.password')),
      password,
      notice.el,
      submit,
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      notice.clear();
      void this.#open(password.value).finally(() => {
        submit.disabled = false;
      });
    });
    this.#body.replaceChildren(form);
    queueMicrotask(() => password.focus());
  }

  async #open(password: string | undefined): Promise<void> {
    let opened: OpenedShare;
    try {
      opened = await api.openShare(this.#id, password);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'wrong_password') {
        this.#askPassword('sharePage.wrongPassword');
        return;
      }
      this.#fail(err);
      return;
    }
    this.#opened = opened;
    this.#kind = opened.kind;
    document.title = `${opened.camera.name} — Mimamori`;
    this.#title.removeAttribute('data-i18n');
    this.#title.textContent = opened.camera.name;
    // The token ends with the share: say so instead of failing requests one by one.
    const left = opened.expiresAt - Date.now();
    if (left > 0 && left < 2 ** 31 - 1) this.#expiry.set(left, () => this.#end('expired'));
    if (opened.kind === 'clip') this.#showClip(opened);
    else this.#showLive(opened);
  }

  #showClip(opened: OpenedShare): void {
    const fromMs = opened.fromMs;
    const toMs = opened.toMs;
    if (fromMs === undefined || toMs === undefined) {
      this.#fail(new Error('the clip has no range'));
      return;
    }
    const start = this.#atMs !== undefined && this.#atMs >= fromMs && this.#atMs < toMs ? this.#atMs : fromMs;
    const view = new RecordedView({ cameraId: opened.camera.id, cred: { bearer: opened.token }, range: { fromMs, toMs }, startMs: start });
    this.#recorded = view;
    const range = h('p', { class: 'muted' });
    const renderRange = () => bindText(range, 'sharePage.clipRange', { range: formatRange(fromMs, toMs), expires: formatDateTime(opened.expiresAt, 'short') });
    renderRange();
    onLocaleChange(renderRange);
    const download = tx('a', 'sharePage.download', { class: 'button-like', id: 'share-download', 'aria-disabled': 'true' });
    bindAttr(download, 'title', 'sharePage.download');
    view.player.on('window', () => {
      const base = view.player.playBase;
      if (!base) return;
      const name = `${opened.camera.name} ${formatDateTime(fromMs, 'short')}`.replace(/[\\/:*?"<>|]+/g, '_');
      download.href = `${base}/clip.mp4?from=${fromMs}&to=${toMs}&name=${encodeURIComponent(name)}`;
      download.download = `${name}.mp4`;
      download.removeAttribute('aria-disabled');
    });
    view.player.on('state', (state) => {
      // A share revoked or expired while watching: the next window is refused.
      if (state === 'error' && view.player.lastNotice?.text) void this.#checkStillValid();
    });
    this.#setState('clip');
    this.#body.replaceChildren(range, view.el, h('div', { class: 'toolbar' }, download));
  }

  #showLive(opened: OpenedShare): void {
    this.#live = new SingleLive({
      camera: opened.camera,
      getToken: async () => opened.token,
      onAuthFailure: (error) => {
        this.#end(error.code === 'share_revoked' ? 'revoked' : 'expired');
        return false;
      },
      onDenied: (code) => this.#end(code === 'share_expired' ? 'expired' : 'revoked'),
    });
    this.#setState('live');
    this.#body.replaceChildren(this.#live.el);
  }

  async #checkStillValid(): Promise<void> {
    try {
      await api.shareInfo(this.#id);
    } catch (err) {
      const state = stateOf(err);
      if (state === 'expired' || state === 'revoked' || state === 'not_found') this.#end(state);
    }
  }

  #fail(err: unknown): void {
    const state = stateOf(err);
    this.#error = err instanceof Error ? err.message : String(err);
    if (state === 'error') {
      this.#setState('error');
      const retry = tx('button', 'sharePage.retry', { type: 'button' });
      retry.addEventListener('click', () => {
        this.#body.replaceChildren(tx('p', 'common.loading', { class: 'muted' }));
        void this.#start();
      });
      this.#body.replaceChildren(h('div', { class: 'card share-message', role: 'alert' }, h('p', {}, errorMessage(err)), retry));
      return;
    }
    this.#end(state);
  }

  /** The share cannot be watched (any more): stop everything and say why. */
  #end(state: SharePageState): void {
    this.#expiry.clear();
    this.#recorded?.close();
    this.#recorded = null;
    this.#live?.close();
    this.#live = null;
    this.#setState(state);
    this.#body.replaceChildren(h('div', { class: 'card share-message', role: 'alert' }, tx('p', `sharePage.${state}` as MessageKey)));
  }

  #setState(state: SharePageState): void {
    this.#state = state;
    this.el.dataset.state = state;
  }
}

initI18n('sharePage.title');
const app = document.getElementById('app') ?? document.body;
const header = h('header', { class: 'top' }, h('span', { class: 'brand' }, tx('span', 'app.name')), h('span', { class: 'spacer' }), localeControls());
const main = h('main', { id: 'main' });
app.replaceChildren(header, main);
const { id, atMs } = parseHash(location.hash);
let page: SharePage | null = null;
if (id) {
  page = new SharePage(id, atMs);
  main.replaceChildren(page.el);
} else {
  main.replaceChildren(h('div', { class: 'card share-message', role: 'alert' }, tx('p', 'sharePage.not_found')));
}

exposeHook(
  playbackHook({
    recorded: () => page?.recorded ?? null,
    live: () => page?.live ?? null,
    share: () => ({ state: page?.state ?? 'not_found', kind: page?.kind, range: page?.range, error: page?.error }),
  }),
);
