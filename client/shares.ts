// Share links from the playback page: a clip (the in/out range) or the live view, with an expiry
// (1 h, 24 h, 7 days) and an optional password. The new URL is shown with a copy button; the
// user's own links are listed with revoke.
import { absoluteUrl, api, type Share, type ShareKind } from './api.ts';
import { bindAttr, bindText, formatDateTime, formatRange, onLocaleChange, t } from './i18n.ts';
import type { Range } from './marks.ts';
import { copyButton, errorMessage, h, Notice, tx } from './ui.ts';

const EXPIRIES = [1, 24, 168] as const;

export interface SharePanelOptions {
  cameraId: () => string | undefined;
  cameraName: (id: string) => string;
  range: () => Range | undefined;
}

export class SharePanel {
  readonly el: HTMLElement;
  readonly #options: SharePanelOptions;
  readonly #kind: HTMLSelectElement;
  readonly #expiry: HTMLSelectElement;
  readonly #password: HTMLInputElement;
  readonly #create: HTMLButtonElement;
  readonly #result: HTMLElement;
  readonly #notice = new Notice('alert');
  readonly #rows: HTMLElement;
  readonly #offLocale: () => void;
  #shares: Share[] = [];
  #closed = false;

  constructor(options: SharePanelOptions) {
    this.#options = options;
    this.#kind = h('select', { id: 'share-kind' });
    bindAttr(this.#kind, 'aria-label', 'share.kind');
    for (const k of ['clip', 'live'] as const) this.#kind.append(tx('option', `share.kind.${k}`, { value: k }));
    this.#expiry = h('select', { id: 'share-expiry' });
    bindAttr(this.#expiry, 'aria-label', 'share.expiry');
    for (const hours of EXPIRIES) this.#expiry.append(tx('option', `share.expiry.${hours}`, { value: String(hours), selected: hours === 24 }));
    this.#password = h('input', { id: 'share-password', type: 'password', autocomplete: 'new-password', maxlength: 200 });
    bindAttr(this.#password, 'placeholder', 'share.password');
    bindAttr(this.#password, 'aria-label', 'share.password');
    this.#create = tx('button', 'share.create', { type: 'button', class: 'primary', id: 'share-create' });
    this.#result = h('div', { class: 'secret-box', hidden: true, role: 'status', id: 'share-result' });
    this.#rows = h('ul', { class: 'job-list', id: 'share-list' });
    this.#kind.addEventListener('change', () => this.update());
    this.#create.addEventListener('click', () => void this.#start());
    this.el = h(
      'section',
      { class: 'card shares', id: 'shares' },
      tx('h2', 'share.title'),
      h('div', { class: 'inline-form' }, this.#kind, this.#expiry, this.#password, this.#create),
      this.#notice.el,
      this.#result,
      tx('h3', 'share.list'),
      this.#rows,
    );
    this.#offLocale = onLocaleChange(() => this.#render());
    this.update();
    void this.refresh();
  }

  update(): void {
    const kind = this.#kind.value as ShareKind;
    this.#create.disabled = !this.#options.cameraId() || (kind === 'clip' && !this.#options.range());
    bindAttr(this.#create, 'title', kind === 'clip' && !this.#options.range() ? 'share.needMarks' : 'share.create');
  }

  async refresh(): Promise<void> {
    try {
      const shares = await api.shares();
      if (this.#closed) return;
      this.#shares = shares.sort((a, b) => b.createdAt - a.createdAt);
      this.#render();
    } catch (err) {
      if (!this.#closed) this.#notice.show(errorMessage(err), 'error');
    }
  }

  shares(): Share[] {
    return [...this.#shares];
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#offLocale();
    this.el.remove();
  }

  async #start(): Promise<void> {
    const cameraId = this.#options.cameraId();
    const kind = this.#kind.value as ShareKind;
    const range = this.#options.range();
    if (!cameraId || (kind === 'clip' && !range)) return;
    this.#create.disabled = true;
    this.#notice.clear();
    try {
      const share = await api.createShare({
        cameraId,
        kind,
        fromMs: range?.fromMs,
        toMs: range?.toMs,
        expiresInHours: Number(this.#expiry.value),
        password: this.#password.value || undefined,
      });
      this.#password.value = '';
      this.#shares = [share, ...this.#shares.filter((s) => s.id !== share.id)];
      this.#showUrl(share);
      this.#render();
    } catch (err) {
      this.#notice.show(errorMessage(err), 'error');
    } finally {
      this.update();
    }
  }

  #showUrl(share: Share): void {
    const url = absoluteUrl(share.url);
    const close = tx('button', 'common.close', { type: 'button', class: 'small' });
    close.addEventListener('click', () => {
      this.#result.hidden = true;
      this.#result.replaceChildren();
    });
    this.#result.replaceChildren(
      bindText(h('p'), 'share.created', { expires: formatDateTime(share.expiresAt) }),
      h('p', { class: 'copy-row' }, h('a', { class: 'share-url', href: url, target: '_blank', rel: 'noopener' }, url), copyButton(url, 'share.copy')),
    );
    if (share.hasPassword) this.#result.append(tx('p', 'share.passwordNote', { class: 'muted' }));
    this.#result.append(close);
    this.#result.hidden = false;
  }

  async #revoke(share: Share, button: HTMLButtonElement): Promise<void> {
    if (!confirm(t('share.confirmRevoke'))) return;
    button.disabled = true;
    try {
      await api.revokeShare(share.id);
      this.#shares = this.#shares.map((s) => (s.id === share.id ? { ...s, revokedAt: Date.now() } : s));
      this.#render();
    } catch (err) {
      this.#notice.show(errorMessage(err), 'error');
      button.disabled = false;
    }
  }

  #render(): void {
    if (this.#shares.length === 0) {
      this.#rows.replaceChildren(tx('li', 'share.none', { class: 'muted' }));
      return;
    }
    const now = Date.now();
    this.#rows.replaceChildren(
      ...this.#shares.map((share) => {
        const state = share.revokedAt !== undefined ? 'revoked' : share.expiresAt <= now ? 'expired' : 'active';
        const what =
          share.kind === 'clip' && share.fromMs !== undefined && share.toMs !== undefined
            ? `${t('share.kind.clip')}: ${formatRange(share.fromMs, share.toMs)}`
            : t('share.kind.live');
        const url = absoluteUrl(share.url);
        const actions: Node[] = [];
        if (state === 'active') {
          const revoke = tx('button', 'share.revoke', { type: 'button', class: 'small danger' });
          revoke.addEventListener('click', () => void this.#revoke(share, revoke));
          actions.push(copyButton(url, 'share.copy'), revoke);
        }
        return h(
          'li',
          { class: 'job', 'data-share-id': share.id, 'data-state': state },
          h('div', { class: 'job-title' }, h('strong', {}, this.#options.cameraName(share.cameraId)), h('span', { class: 'muted' }, what)),
          h(
            'div',
            { class: 'job-row' },
            h('span', { class: 'job-status' }, t(`share.state.${state}`, { expires: formatDateTime(share.expiresAt, 'short') })),
            h('span', { class: 'muted' }, t('share.uses', { uses: share.uses })),
            share.hasPassword ? tx('span', 'share.hasPassword', { class: 'muted' }) : null,
            ...actions,
          ),
        );
      }),
    );
  }
}
