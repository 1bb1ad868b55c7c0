// Announcements for administrators: post a maintenance, incident or information notice to the
// organisation (platform operators: to every organisation), list current, future and past ones,
// delete. Times are entered and shown in the viewer's time zone and stored in UTC.
import { adminApi, type Announcement } from './adminApi.ts';
import { bindAttr, formatDateTime, onLocaleChange, t, zonedToMs } from './i18n.ts';
import { errorMessage, h, Notice, tx } from './ui.ts';

const KINDS = ['maintenance', 'incident', 'info'] as const;

/** The instant a `<input type=datetime-local>` names in the viewer's zone (not the browser's). */
export function parseLocalDateTime(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value);
  return m ? zonedToMs(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) : undefined;
}

export class AnnouncementsPanel {
  readonly #offLocale: () => void;
  readonly el: HTMLElement;
  readonly #rows: HTMLElement;
  readonly #notice = new Notice('alert');
  readonly #everyone: HTMLElement;
  #items: Announcement[] = [];

  constructor() {
    const kind = h('select', { id: 'announcement-kind' });
    bindAttr(kind, 'aria-label', 'announce.kind');
    for (const k of KINDS) kind.append(tx('option', `banner.kind.${k}`, { value: k }));
    const message = h('input', { id: 'announcement-message', required: true, maxlength: 1000 });
    bindAttr(message, 'placeholder', 'announce.message');
    bindAttr(message, 'aria-label', 'announce.message');
    const starts = h('input', { id: 'announcement-starts', type: 'datetime-local' });
    bindAttr(starts, 'aria-label', 'announce.startsAt');
    const ends = h('input', { id: 'announcement-ends', type: 'datetime-local', required: true });
    bindAttr(ends, 'aria-label', 'announce.endsAt');
    const everyone = h('input', { id: 'announcement-everyone', type: 'checkbox' });
    this.#everyone = h('label', { hidden: true }, everyone, ' ', tx('span', 'announce.everyone'));
    const submit = tx('button', 'announce.post', { type: 'submit', class: 'primary' });
    const form = h(
      'form',
      { class: 'inline-form', id: 'add-announcement' },
      kind,
      message,
      h('label', { class: 'field' }, tx('span', 'announce.startsAt'), starts),
      h('label', { class: 'field' }, tx('span', 'announce.endsAt'), ends),
      this.#everyone,
      submit,
    );
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      this.#notice.clear();
      const endsAtMs = parseLocalDateTime(ends.value);
      const startsAtMs = starts.value ? parseLocalDateTime(starts.value) : undefined;
      if (endsAtMs === undefined || endsAtMs <= (startsAtMs ?? Date.now())) {
        this.#notice.show({ key: 'announce.badRange' }, 'error');
        return;
      }
      submit.disabled = true;
      try {
        await adminApi.postAnnouncement({ kind: kind.value as (typeof KINDS)[number], message: message.value.trim(), startsAtMs, endsAtMs, everyone: everyone.checked });
        message.value = '';
        this.#notice.show({ key: 'announce.posted' }, 'ok');
        await this.refresh();
      } catch (err) {
        this.#notice.show(errorMessage(err), 'error');
      } finally {
        submit.disabled = false;
      }
    });
    this.#rows = h('ul', { class: 'job-list', id: 'announcement-list' });
    this.el = h('section', { class: 'announcements', id: 'announcements' }, tx('h3', 'announce.title'), form, this.#notice.el, this.#rows);
    this.#offLocale = onLocaleChange(() => this.#render());
  }

  /** The view is left: stop following the language. */
  close(): void {
    this.#offLocale();
  }

  /** Platform operators may post to every organisation. */
  setPlatform(platform: boolean): void {
    this.#everyone.hidden = !platform;
  }

  async refresh(): Promise<void> {
    try {
      this.#items = (await adminApi.announcements('session', true)).filter((a) => a.kind !== 'contract_end');
      this.#render();
    } catch (err) {
      this.#notice.show(errorMessage(err), 'error');
    }
  }

  #render(): void {
    if (this.#items.length === 0) {
      this.#rows.replaceChildren(tx('li', 'announce.none', { class: 'muted' }));
      return;
    }
    const now = Date.now();
    this.#rows.replaceChildren(
      ...this.#items.map((a) => {
        const state = now < a.startsAtMs ? 'future' : now < a.endsAtMs ? 'active' : 'ended';
        const remove = tx('button', 'admin.delete', { type: 'button', class: 'small danger' });
        remove.addEventListener('click', async () => {
          if (!confirm(t('announce.confirmDelete'))) return;
          remove.disabled = true;
          try {
            await adminApi.deleteAnnouncement(a.id);
            await this.refresh();
          } catch (err) {
            this.#notice.show(errorMessage(err), 'error');
            remove.disabled = false;
          }
        });
        return h(
          'li',
          { 'data-id': a.id, 'data-kind': a.kind, 'data-state': state },
          h('strong', {}, t(`banner.kind.${a.kind}`)),
          ' ',
          a.message,
          ' ',
          h('span', { class: 'muted' }, `${formatDateTime(a.startsAtMs, 'short')} – ${formatDateTime(a.endsAtMs, 'short')} · ${t(`announce.state.${state}`)}${a.everyone ? ` · ${t('announce.everyone')}` : ''}`),
          ' ',
          remove,
        );
      }),
    );
  }
}
