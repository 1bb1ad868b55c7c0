// The notice banner at the top of every signed-in page and of kiosk displays: maintenance,
// incidents, information, and the organisation's contract end (with the date all its data is
// deleted). Fetched on load and every minute; an information notice can be dismissed for this
// browser session, the others stay until they end.
import { adminApi, type Announcement } from './adminApi.ts';
import type { Credential } from './api.ts';
import { formatDateTime, onLocaleChange, t } from './i18n.ts';
import { session } from './storage.ts';
import { h, tx } from './ui.ts';

const POLL_MS = 60_000;
/** How often to look (locally, no request) whether the credential changed, e.g. after a sign-in. */
const CREDENTIAL_CHECK_MS = 1_000;
const DISMISSED_KEY = 'mimamori.dismissedNotices';

export interface BannerOptions {
  /** The token to ask with; undefined while there is none (signed out, kiosk not yet connected). */
  credential(): Credential | undefined;
}

export class Banner {
  readonly el: HTMLElement;
  readonly #options: BannerOptions;
  readonly #poll: ReturnType<typeof setInterval>;
  readonly #check: ReturnType<typeof setInterval>;
  readonly #offLocale: () => void;
  #notices: Announcement[] = [];
  #lastKey: string | undefined;

  constructor(options: BannerOptions) {
    this.#options = options;
    this.el = h('div', { class: 'notice-banner', id: 'notice-banner', hidden: true });
    this.#poll = setInterval(() => void this.refresh(), POLL_MS);
    this.#check = setInterval(() => {
      if (keyOf(this.#options.credential()) !== this.#lastKey) void this.refresh();
    }, CREDENTIAL_CHECK_MS);
    this.#offLocale = onLocaleChange(() => this.#render());
    void this.refresh();
  }

  async refresh(): Promise<void> {
    const cred = this.#options.credential();
    this.#lastKey = keyOf(cred);
    if (!cred) {
      this.#notices = [];
      this.#render();
      return;
    }
    try {
      this.#notices = await adminApi.announcements(cred);
    } catch (err) {
      // Kept as they were: a notice must not vanish because one request failed.
      console.warn('could not load the announcements', err);
    }
    this.#render();
  }

  close(): void {
    clearInterval(this.#poll);
    clearInterval(this.#check);
    this.#offLocale();
    this.el.remove();
  }

  #render(): void {
    const dismissed = dismissedIds();
    const now = Date.now();
    const shown = this.#notices.filter((n) => !dismissed.has(n.id) && (n.kind === 'contract_end' || (n.startsAtMs <= now && now < n.endsAtMs)));
    this.el.hidden = shown.length === 0;
    this.el.replaceChildren(...shown.map((n) => this.#item(n)));
  }

  #item(n: Announcement): HTMLElement {
    const text =
      n.kind === 'contract_end'
        ? t('banner.contractEnd', { date: formatDateTime(n.endsAtMs, 'datetime') })
        : t('banner.until', { message: n.message, until: formatDateTime(n.endsAtMs, 'short') });
    const item = h(
      'div',
      { class: 'notice-item', 'data-kind': n.kind, 'data-id': n.id, role: n.kind === 'info' ? 'status' : 'alert' },
      h('strong', { class: 'notice-kind' }, t(`banner.kind.${n.kind}`)),
      h('span', { class: 'notice-text' }, text),
    );
    if (n.kind === 'info') {
      const dismiss = tx('button', 'banner.dismiss', { type: 'button', class: 'small link notice-dismiss' });
      dismiss.addEventListener('click', () => {
        dismiss.disabled = true;
        session.set(DISMISSED_KEY, JSON.stringify([...dismissedIds(), n.id]));
        this.#render();
      });
      item.append(dismiss);
    }
    return item;
  }
}

const keyOf = (cred: Credential | undefined): string | undefined => (cred === undefined ? undefined : typeof cred === 'string' ? cred : `bearer:${cred.bearer}`);

function dismissedIds(): Set<string> {
  try {
    const raw: unknown = JSON.parse(session.get(DISMISSED_KEY) ?? '[]');
    return new Set(Array.isArray(raw) ? raw.filter((v): v is string => typeof v === 'string') : []);
  } catch {
    return new Set();
  }
}

/** The banner for whoever holds `token` (a signed-in page's session, a kiosk's access token); empty while there is none. */
export function noticeBanner(token: () => string | null | undefined): HTMLElement {
  return new Banner({
    credential: () => {
      const bearer = token();
      return bearer ? { bearer } : undefined;
    },
  }).el;
}
