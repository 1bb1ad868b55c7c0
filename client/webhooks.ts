// The administration panel's webhooks (part of "Integrations"): register a URL for chosen events;
// its signing secret is shown once with a copy button (again after a rotation); list them; per
// webhook send a test event and show how it went, read its delivery log (the attempts this node
// made, kept in memory), switch it off and on, rotate its secret, delete it.
import { adminApi, type Webhook, type WebhookDelivery, type WebhookEvent } from './adminApi.ts';
import { ApiError } from './api.ts';
import { WEBHOOK_EVENTS } from '../signaling/wire/answers/webhooks.ts';
import { bindAttr, bindText, formatDateTime, hasMessage, onLocaleChange, t, type MessageKey } from './i18n.ts';
import { busy, copyButton, errorMessage, h, Notice, onSubmit, tx } from './ui.ts';

export class WebhooksPanel {
  readonly el: HTMLElement;
  readonly #rows: HTMLTableSectionElement;
  readonly #secretBox: HTMLElement;
  readonly #notice = new Notice('alert');
  /** The delivery log of one webhook, under the list. */
  readonly #log: HTMLElement;
  readonly #logTitle: HTMLElement;
  readonly #logRows: HTMLTableSectionElement;
  readonly #offLocale: () => void;
  #webhooks: Webhook[] | undefined;
  #logOf: Webhook | undefined;
  #deliveries: WebhookDelivery[] | undefined;
  /** Numbers the log reads, so a slow answer never replaces a newer one (or another webhook's). */
  #logReads = 0;

  constructor() {
    this.#rows = h('tbody');
    this.#secretBox = h('div', { class: 'secret-box', hidden: true, role: 'status', id: 'webhook-secret-once' });
    const table = h(
      'table',
      { class: 'admin-table', id: 'webhooks-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          tx('th', 'webhooks.name', { scope: 'col' }),
          tx('th', 'webhooks.url', { scope: 'col' }),
          tx('th', 'webhooks.events', { scope: 'col' }),
          tx('th', 'webhooks.state', { scope: 'col' }),
          tx('th', 'integrations.actions', { scope: 'col' }),
        ),
      ),
      this.#rows,
    );
    this.#logTitle = h('h5', { id: 'webhook-log-title', tabindex: -1 });
    this.#logRows = h('tbody');
    this.#log = this.#logBox();
    this.el = h(
      'section',
      { class: 'webhooks', id: 'webhooks', 'aria-labelledby': 'webhooks-title' },
      tx('h4', 'webhooks.title', { id: 'webhooks-title' }),
      tx('p', 'webhooks.help', { class: 'muted small-text' }),
      this.#form(),
      this.#notice.el,
      this.#secretBox,
      h('div', { class: 'table-scroll', tabindex: 0 }, table),
      this.#log,
    );
    this.#render();
    this.#offLocale = onLocaleChange(() => {
      this.#render();
      this.#renderLog();
    });
  }

  async refresh(): Promise<void> {
    try {
      this.#webhooks = await adminApi.webhooks();
      this.#render();
    } catch (err) {
      this.#notice.show(webhookError(err), 'error');
    }
  }

  close(): void {
    this.#offLocale();
  }

  #form(): HTMLFormElement {
    const name = h('input', { id: 'webhook-name', required: true, maxlength: 100, autocomplete: 'off' });
    const url = h('input', { id: 'webhook-url', type: 'url', required: true, maxlength: 2000, autocomplete: 'off', inputmode: 'url' });
    bindAttr(url, 'placeholder', 'webhooks.urlPlaceholder');
    const events = h(
      'fieldset',
      { class: 'webhook-events', id: 'webhook-events' },
      tx('legend', 'webhooks.events'),
      ...WEBHOOK_EVENTS.map((e) => h('label', {}, h('input', { type: 'checkbox', name: 'webhook-event', value: e }), tx('span', `webhooks.event.${e}`))),
    );
    const submit = tx('button', 'webhooks.create', { type: 'submit', class: 'primary', id: 'webhook-create' });
    const form = h(
      'form',
      { class: 'integration-form', id: 'add-webhook' },
      h('div', { class: 'row' }, h('label', { class: 'field' }, tx('span', 'webhooks.name'), name), h('label', { class: 'field wide' }, tx('span', 'webhooks.urlLabel'), url)),
      events,
      h('div', { class: 'row' }, submit),
    );
    onSubmit(
      form,
      submit,
      this.#notice,
      async () => {
        const chosen = [...events.querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value as WebhookEvent);
        if (chosen.length === 0) {
          this.#notice.show({ key: 'webhooks.pickEvents' }, 'error');
          return;
        }
        const { webhook, secret } = await adminApi.createWebhook({ name: name.value.trim(), url: url.value.trim(), events: chosen });
        name.value = url.value = '';
        for (const box of events.querySelectorAll<HTMLInputElement>('input:checked')) box.checked = false;
        this.#showSecret(webhook, secret, 'webhooks.secretOnce');
        await this.refresh();
      },
      webhookError,
    );
    return form;
  }

  /** The signing secret: shown this once (a new one after a rotation), with a copy button. */
  #showSecret(webhook: Webhook, secret: string, key: 'webhooks.secretOnce' | 'webhooks.secretRotated'): void {
    const close = tx('button', 'common.close', { type: 'button', class: 'small' });
    close.addEventListener('click', () => {
      this.#secretBox.hidden = true;
      this.#secretBox.replaceChildren();
    });
    this.#secretBox.replaceChildren(
      bindText(h('p', { class: 'once-warning' }), key, { name: webhook.name }),
      h('p', { class: 'copy-row' }, h('code', { class: 'secret webhook-secret', 'data-webhook-id': webhook.id }, secret), copyButton(secret)),
      close,
    );
    this.#secretBox.hidden = false;
    this.#secretBox.scrollIntoView({ block: 'nearest' });
  }

  #render(): void {
    const list = this.#webhooks;
    if (list === undefined || list.length === 0) {
      this.#rows.replaceChildren(h('tr', {}, tx('td', list === undefined ? 'common.loading' : 'webhooks.none', { colspan: 5, class: 'muted' })));
      return;
    }
    this.#rows.replaceChildren(...list.map((w) => this.#row(w)));
  }

  #row(w: Webhook): HTMLTableRowElement {
    // Each button's description is the webhook's name: a screen reader tells which one it acts on.
    const button = (key: MessageKey, cls: string, action: () => Promise<void>) => {
      const b = tx('button', key, { type: 'button', class: `small ${cls}`, 'aria-describedby': `webhook-name-${w.id}` });
      b.addEventListener('click', () => void busy(b, this.#notice, action, webhookError));
      return b;
    };
    return h(
      'tr',
      { 'data-webhook-id': w.id, 'data-enabled': String(w.enabled) },
      h('td', { id: `webhook-name-${w.id}` }, w.name),
      h('td', { class: 'webhook-url' }, h('code', {}, w.url)),
      h('td', {}, h('ul', { class: 'plain-list small-text' }, ...w.events.map((e) => h('li', { 'data-event': e }, t(`webhooks.event.${e}`))))),
      h('td', {}, h('span', { class: 'badge webhook-state', 'data-state': w.enabled ? 'on' : 'off' }, t(w.enabled ? 'webhooks.on' : 'webhooks.off'))),
      h(
        'td',
        {},
        h(
          'div',
          { class: 'actions' },
          button('webhooks.test', 'webhook-test', () => this.#test(w)),
          button('webhooks.deliveries', 'webhook-deliveries', async () => {
            await this.#showLog(w);
            this.#logTitle.focus();
          }),
          button(w.enabled ? 'webhooks.disable' : 'webhooks.enable', 'webhook-toggle', () => this.#setEnabled(w, !w.enabled)),
          button('webhooks.rotate', 'webhook-rotate', () => this.#rotate(w)),
          button('webhooks.delete', 'danger webhook-delete', () => this.#delete(w)),
        ),
      ),
    );
  }

  /** Sends a test event and says how it went; the attempt then shows in the webhook's log. */
  async #test(w: Webhook): Promise<void> {
    const d = await adminApi.testWebhook(w.id);
    if (d.delivered) this.#notice.show({ key: 'webhooks.testOk', params: { name: w.name, status: d.status ?? '', ms: d.durationMs } }, 'ok');
    else this.#notice.show({ key: 'webhooks.testFailed', params: { name: w.name, reason: outcomeOf(d) } }, 'error');
    await this.#showLog(w);
  }

  async #setEnabled(w: Webhook, enabled: boolean): Promise<void> {
    await adminApi.setWebhookEnabled(w.id, enabled);
    this.#notice.show({ key: enabled ? 'webhooks.enabledNow' : 'webhooks.disabledNow', params: { name: w.name } }, 'ok');
    await this.refresh();
  }

  async #rotate(w: Webhook): Promise<void> {
    if (!confirm(t('webhooks.confirmRotate', { name: w.name }))) return;
    const { webhook, secret } = await adminApi.rotateWebhookSecret(w.id);
    this.#showSecret(webhook, secret, 'webhooks.secretRotated');
  }

  async #delete(w: Webhook): Promise<void> {
    if (!confirm(t('webhooks.confirmDelete', { name: w.name }))) return;
    await adminApi.deleteWebhook(w.id);
    if (this.#logOf?.id === w.id) this.#hideLog();
    this.#notice.show({ key: 'webhooks.deleted', params: { name: w.name } }, 'ok');
    await this.refresh();
  }

  // --- Delivery log ---------------------------------------------------------------------------

  #logBox(): HTMLElement {
    const reload = tx('button', 'webhooks.reload', { type: 'button', class: 'small', id: 'webhook-log-reload' });
    reload.addEventListener('click', () => {
      const shown = this.#logOf;
      if (shown) void busy(reload, this.#notice, () => this.#showLog(shown), webhookError);
    });
    const close = tx('button', 'common.close', { type: 'button', class: 'small' });
    close.addEventListener('click', () => this.#hideLog());
    const table = h(
      'table',
      { class: 'admin-table', id: 'webhook-log-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          tx('th', 'webhooks.log.time', { scope: 'col' }),
          tx('th', 'webhooks.log.event', { scope: 'col' }),
          tx('th', 'webhooks.log.attempt', { scope: 'col' }),
          tx('th', 'webhooks.log.result', { scope: 'col' }),
          tx('th', 'webhooks.log.response', { scope: 'col' }),
          tx('th', 'webhooks.log.duration', { scope: 'col' }),
        ),
      ),
      this.#logRows,
    );
    return h(
      'div',
      { class: 'webhook-log', id: 'webhook-log', hidden: true, 'aria-labelledby': 'webhook-log-title', role: 'region' },
      h('div', { class: 'webhook-log-head' }, this.#logTitle, reload, close),
      tx('p', 'webhooks.log.help', { class: 'muted small-text' }),
      h('div', { class: 'table-scroll', tabindex: 0 }, table),
    );
  }

  /** Reads the webhook's log and shows it (another webhook's log is replaced). */
  async #showLog(w: Webhook): Promise<void> {
    const read = ++this.#logReads;
    if (this.#logOf?.id !== w.id) this.#deliveries = undefined;
    this.#logOf = w;
    this.#log.hidden = false;
    this.#renderLog();
    const { webhook, deliveries } = await adminApi.webhookDeliveries(w.id);
    if (read !== this.#logReads || this.#logOf?.id !== w.id) return;
    this.#logOf = webhook;
    this.#deliveries = deliveries;
    this.#renderLog();
  }

  #hideLog(): void {
    this.#logReads++;
    this.#logOf = undefined;
    this.#deliveries = undefined;
    this.#log.hidden = true;
    this.#logRows.replaceChildren();
  }

  #renderLog(): void {
    const w = this.#logOf;
    if (!w) return;
    this.#log.dataset.webhookId = w.id;
    this.#logTitle.textContent = t('webhooks.log.title', { name: w.name });
    const list = this.#deliveries;
    if (list === undefined || list.length === 0) {
      this.#logRows.replaceChildren(h('tr', {}, tx('td', list === undefined ? 'common.loading' : 'webhooks.log.none', { colspan: 6, class: 'muted' })));
      return;
    }
    this.#logRows.replaceChildren(
      ...list.map((d) => {
        const result = d.attempt === 0 ? 'dropped' : d.delivered ? 'delivered' : 'failed';
        return h(
          'tr',
          { 'data-event-id': d.eventId, 'data-event-type': d.type, 'data-delivered': String(d.delivered) },
          h('td', {}, h('time', { datetime: d.at }, formatDateTime(d.at, 'datetime'))),
          h('td', {}, eventLabel(d.type)),
          h('td', {}, d.attempt === 0 ? '—' : String(d.attempt)),
          h('td', {}, h('span', { class: 'badge delivery-result', 'data-state': result }, t(`webhooks.log.${result}`))),
          h(
            'td',
            { class: 'delivery-response' },
            outcomeOf(d),
            d.nextAttemptAt ? h('div', { class: 'small-text muted' }, t('webhooks.log.retryAt', { at: formatDateTime(d.nextAttemptAt, 'clock') })) : null,
          ),
          h('td', {}, t('webhooks.log.ms', { ms: d.durationMs })),
        );
      }),
    );
  }
}

/** What the receiver answered (its HTTP status) or why nothing came back (the server's words). */
function outcomeOf(d: WebhookDelivery): string {
  if (d.status === undefined) return d.error ?? '';
  // A redirect is not followed: the webhook's URL has to be the final one.
  return d.status >= 300 && d.status < 400 ? `HTTP ${d.status}: ${t('webhooks.log.redirect')}` : `HTTP ${d.status}`;
}

/** The event's name in the language; a type this page does not know yet as it came. */
function eventLabel(type: string): string {
  const key = `webhooks.event.${type}`;
  return hasMessage(key) ? t(key) : type;
}

/** The webhook routes' own refusals in the panel's words, with the server's after them. */
function webhookError(err: unknown): string {
  const key = err instanceof ApiError ? `webhooks.error.${err.code}` : '';
  return err instanceof ApiError && hasMessage(key) ? t(key, { detail: err.message }) : errorMessage(err);
}
