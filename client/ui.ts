// Small DOM helpers shared by the pages: an element builder, the page header,
// error messages in the chosen language, and a copy-to-clipboard button.
import { ApiError, type User } from './api.ts';
import { bindAttr, bindText, formatDateTime, localeControls, onLocaleChange, t, type MessageKey } from './i18n.ts';
import { DEFAULT_VIEW, routeHref, VIEWS, type ViewEntry, type ViewId } from './routes.ts';
import { SignalingError } from './signaling.ts';
import type { ErrorCode } from '../signaling/wire/errors.ts';

type Child = Node | string | null | undefined | false;

/** document.createElement with attributes (true = present, false/undefined = absent) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

/** An element whose text follows the language. */
export function tx<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  key: MessageKey,
  attrs: Record<string, string | number | boolean | undefined> = {},
): HTMLElementTagNameMap[K] {
  return bindText(h(tag, attrs), key);
}

// Codes of the server's error table (a typo does not compile), and the client's own for a request
// that got no answer.
const KNOWN_ERRORS = new Set<ErrorCode | 'network' | 'timeout'>([
  'invalid_credentials',
  'unauthorized',
  'token_expired',
  'forbidden',
  'network',
  'timeout',
  'rate_limited',
  'username_taken',
  'invalid_request',
  'camera_not_found',
  'user_not_found',
  'invalid_camera_secret',
  'internal',
]);

/** A message for the user, in the chosen language, for any error a request can end with. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError || err instanceof SignalingError) {
    const code = err.code === 'disconnected' ? 'network' : err.code;
    if (KNOWN_ERRORS.has(code as ErrorCode)) return t(`error.${code}` as MessageKey, { detail: err.message });
    if (err instanceof ApiError && err.status >= 500) return t('error.internal');
    return t('error.generic', { message: err.message });
  }
  return t('error.generic', { message: err instanceof Error ? err.message : String(err) });
}

/** A status line (role=status or alert) that shows a message, optionally bound to the language. */
export class Notice {
  readonly el: HTMLElement;
  constructor(kind: 'status' | 'alert' = 'status') {
    this.el = h('p', { class: `notice notice-${kind}`, role: kind, hidden: true });
  }
  show(message: string | { key: MessageKey; params?: Record<string, string | number> }, tone: 'info' | 'error' | 'ok' = 'info'): void {
    this.el.hidden = false;
    this.el.dataset.tone = tone;
    if (typeof message === 'string') {
      this.el.removeAttribute('data-i18n');
      this.el.textContent = message;
    } else {
      bindText(this.el, message.key, message.params);
    }
  }
  clear(): void {
    this.el.hidden = true;
    this.el.textContent = '';
  }
}

export interface HeaderOptions {
  /** `app`: index.html with its views (routes.ts); the other pages link back into it. */
  page: 'app' | 'camera' | 'playback';
  onLogout: () => void;
}

/**
 * The page header: name, navigation, clock, signed-in user, language and time zone. The navigation
 * lists the app's views this user may use, the recordings and the camera page; on a narrow screen
 * the same list folds behind a menu button (CSS decides when; nothing is built twice).
 */
export class Header {
  readonly el: HTMLElement;
  readonly #page: HeaderOptions['page'];
  readonly #nav: HTMLElement;
  readonly #links: HTMLUListElement;
  readonly #menu: HTMLButtonElement;
  readonly #user: HTMLElement;
  readonly #clock: HTMLTimeElement;
  #current: User | null = null;
  #view: ViewId | null = null;

  constructor({ page, onLogout }: HeaderOptions) {
    this.#page = page;
    this.#clock = h('time', { class: 'clock' });
    this.#user = h('div', { class: 'user', hidden: true });
    this.#links = h('ul', { class: 'nav-links', id: 'nav-links' });
    this.#menu = tx('button', 'nav.menu', { type: 'button', class: 'small nav-toggle', 'aria-expanded': 'false', 'aria-controls': 'nav-links' });
    this.#menu.addEventListener('click', () => this.#setOpen(this.#nav.dataset.open !== 'true'));
    this.#nav = h('nav', { class: 'nav', id: 'nav' }, this.#menu, this.#links);
    bindAttr(this.#nav, 'aria-label', 'nav.main');
    this.#nav.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Escape' || this.#nav.dataset.open !== 'true') return;
      this.#setOpen(false);
      this.#menu.focus();
    });
    // Following a link closes the menu (a view change does too, through setView).
    this.#links.addEventListener('click', (ev) => {
      if ((ev.target as Element).closest('a')) this.#setOpen(false);
    });
    const logout = tx('button', 'login.logout', { type: 'button', class: 'link', id: 'logout' });
    logout.addEventListener('click', onLogout);
    this.#user.append(h('span', { class: 'user-name' }), logout);
    const home = routeHref(DEFAULT_VIEW, undefined, page !== 'app');
    this.el = h('header', { class: 'top' }, h('a', { class: 'brand', href: home }, tx('span', 'app.name')), this.#nav, this.#clock, this.#user, localeControls());
    this.#renderNav();
    const tick = () => {
      const now = new Date();
      this.#clock.dateTime = now.toISOString();
      this.#clock.textContent = formatDateTime(now);
    };
    tick();
    setInterval(tick, 1000);
    onLocaleChange(() => {
      tick();
      this.setUser(this.#current);
    });
  }

  setUser(user: User | null): void {
    this.#current = user;
    this.#user.hidden = !user;
    const name = this.#user.querySelector('.user-name');
    if (name) name.textContent = user ? t('login.signedInAs', { name: user.username, role: t(`role.${user.role}`) }) : '';
    this.#renderNav();
  }

  /** The app's view on screen (marked as the current page); null: none (the sign-in form). */
  setView(view: ViewId | null): void {
    this.#view = view;
    this.#setOpen(false);
    for (const a of this.#links.querySelectorAll<HTMLAnchorElement>('a[data-view]')) {
      if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  }

  /** Signed out: the live view, recordings and the camera page (each asks to sign in); signed in: every view and page this user may use. */
  #renderNav(): void {
    const user = this.#current;
    const other = this.#page !== 'app';
    const view = (entry: ViewEntry) =>
      h('li', {}, tx('a', entry.title, { href: routeHref(entry.id, undefined, other), 'data-view': entry.id, 'aria-current': !other && entry.id === this.#view ? 'page' : undefined }));
    const page = (key: MessageKey, href: string, id: string, current: boolean) => h('li', {}, tx('a', key, { href, id, 'aria-current': current ? 'page' : undefined }));
    const views = VIEWS.filter((v) => (user ? v.mayUse(user) : v.id === DEFAULT_VIEW));
    // Watching first (live, status, recordings), then administration, then publishing from this device.
    const watching = views.filter((v) => v.id === 'live' || v.id === 'health');
    const administration = views.filter((v) => !watching.includes(v));
    this.#links.replaceChildren(
      ...watching.map(view),
      page('nav.playback', 'playback.html', 'nav-playback', this.#page === 'playback'),
      ...administration.map(view),
      // The camera page publishes with a camera's link, or for an administrator any camera.
      ...(!user || user.role === 'admin' ? [page('nav.camera', 'camera.html', 'nav-camera', this.#page === 'camera')] : []),
    );
  }

  #setOpen(open: boolean): void {
    this.#nav.dataset.open = String(open);
    this.#menu.setAttribute('aria-expanded', String(open));
  }
}

type Describe = (err: unknown) => ReturnType<typeof errorMessage>;

/**
 * Runs an action started by `button`: the button is disabled meanwhile, and the notice is cleared
 * first and shows what failed (through `describe`, errorMessage by default).
 */
export async function busy(button: HTMLButtonElement, notice: Notice, action: () => Promise<void>, describe: Describe = errorMessage): Promise<void> {
  button.disabled = true;
  notice.clear();
  try {
    await action();
  } catch (err) {
    notice.show(describe(err), 'error');
  } finally {
    button.disabled = false;
  }
}

/** `busy` for a form's submit button. */
export function onSubmit(form: HTMLFormElement, button: HTMLButtonElement, notice: Notice, action: () => Promise<void>, describe: Describe = errorMessage): void {
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void busy(button, notice, action, describe);
  });
}

/** A button that copies text and says so. */
export function copyButton(text: string, key: MessageKey = 'common.copy'): HTMLButtonElement {
  const button = tx('button', key, { type: 'button', class: 'small' });
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      bindText(button, 'common.copied');
      setTimeout(() => bindText(button, key), 2000);
    } catch {
      // No clipboard permission (plain http): the text is selectable on the page.
    }
  });
  return button;
}

export { bindAttr, bindText };
