// The administration panel's API keys (part of "Integrations"): create a named key with one scope,
// an optional expiry day and an optional camera group; the key is shown once with a copy button
// (the server keeps only a hash of it); list the keys with their last use and state; revoke one
// (calls with it are refused from the next one, on every node).
import { adminApi, type ApiKey, type ApiKeyScope, type Group } from './adminApi.ts';
import { ApiError } from './api.ts';
import { API_KEY_SCOPES } from '../signaling/wire/domain.ts';
import { bindText, dateInputValue, formatDateTime, hasMessage, onLocaleChange, t, timeZone, zonedToMs, type MessageKey } from './i18n.ts';
import { busy, copyButton, errorMessage, h, Notice, onSubmit, tx } from './ui.ts';

export class ApiKeysPanel {
  readonly el: HTMLElement;
  readonly #rows: HTMLTableSectionElement;
  readonly #keyBox: HTMLElement;
  readonly #group: HTMLSelectElement;
  readonly #expires: HTMLInputElement;
  readonly #expiresHint: HTMLElement;
  readonly #notice = new Notice('alert');
  readonly #offLocale: () => void;
  #keys: ApiKey[] | undefined;
  #groups: Group[] = [];

  constructor() {
    this.#rows = h('tbody');
    this.#keyBox = h('div', { class: 'secret-box', hidden: true, role: 'status', id: 'api-key-once' });
    this.#group = h('select', { id: 'api-key-group' });
    this.#expires = h('input', { id: 'api-key-expires', type: 'date', 'aria-describedby': 'api-key-expires-hint' });
    this.#expiresHint = h('p', { class: 'muted small-text', id: 'api-key-expires-hint' });
    const table = h(
      'table',
      { class: 'admin-table', id: 'api-keys-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          tx('th', 'apiKeys.name', { scope: 'col' }),
          tx('th', 'apiKeys.scope', { scope: 'col' }),
          tx('th', 'apiKeys.group', { scope: 'col' }),
          tx('th', 'apiKeys.created', { scope: 'col' }),
          tx('th', 'apiKeys.expiresAt', { scope: 'col' }),
          tx('th', 'apiKeys.lastUsed', { scope: 'col' }),
          tx('th', 'apiKeys.state', { scope: 'col' }),
          tx('th', 'integrations.actions', { scope: 'col' }),
        ),
      ),
      this.#rows,
    );
    this.el = h(
      'section',
      { class: 'api-keys', id: 'api-keys', 'aria-labelledby': 'api-keys-title' },
      tx('h4', 'apiKeys.title', { id: 'api-keys-title' }),
      tx('p', 'apiKeys.help', { class: 'muted small-text' }),
      this.#form(),
      this.#notice.el,
      this.#keyBox,
      h('div', { class: 'table-scroll', tabindex: 0 }, table),
    );
    this.#fillGroups();
    this.#render();
    // Times follow the chosen zone and language; so do the group options and the expiry hint.
    this.#offLocale = onLocaleChange(() => {
      this.#fillGroups();
      this.#render();
    });
  }

  /** The organisation's camera groups, offered to limit a key to (GroupsPanel reports changes). */
  setGroups(groups: Group[]): void {
    this.#groups = groups;
    this.#fillGroups();
    this.#render();
  }

  async refresh(): Promise<void> {
    try {
      this.#keys = await adminApi.apiKeys();
      this.#render();
    } catch (err) {
      this.#notice.show(apiKeyError(err), 'error');
    }
  }

  close(): void {
    this.#offLocale();
  }

  #form(): HTMLFormElement {
    const name = h('input', { id: 'api-key-name', required: true, maxlength: 100, autocomplete: 'off' });
    const scope = h('select', { id: 'api-key-scope', 'aria-describedby': 'api-key-scopes' });
    for (const s of API_KEY_SCOPES) scope.append(tx('option', `apiKeys.scope.${s}`, { value: s }));
    // Every scope with its one-line meaning, visible while choosing.
    const scopes = h(
      'dl',
      { class: 'scope-help small-text', id: 'api-key-scopes' },
      ...API_KEY_SCOPES.flatMap((s) => [tx('dt', `apiKeys.scope.${s}`), tx('dd', `apiKeys.scopeHelp.${s}`)]),
    );
    const field = (key: MessageKey, control: HTMLElement) => h('label', { class: 'field' }, tx('span', key), control);
    const submit = tx('button', 'apiKeys.create', { type: 'submit', class: 'primary', id: 'api-key-create' });
    const form = h(
      'form',
      { class: 'integration-form', id: 'add-api-key' },
      h('div', { class: 'row' }, field('apiKeys.name', name), field('apiKeys.scope', scope), field('apiKeys.expires', this.#expires), field('apiKeys.group', this.#group)),
      this.#expiresHint,
      scopes,
      h('div', { class: 'row' }, submit),
    );
    onSubmit(
      form,
      submit,
      this.#notice,
      async () => {
        const expiresAtMs = endOfDay(this.#expires.value);
        const { apiKey, key } = await adminApi.createApiKey({
          name: name.value.trim(),
          scope: scope.value as ApiKeyScope,
          ...(expiresAtMs === undefined ? {} : { expiresAtMs }),
          ...(this.#group.value ? { groupId: this.#group.value } : {}),
        });
        name.value = '';
        this.#expires.value = '';
        this.#showKey(apiKey, key);
        await this.refresh();
      },
      apiKeyError,
    );
    return form;
  }

  #fillGroups(): void {
    const value = this.#group.value;
    this.#group.replaceChildren(
      h('option', { value: '' }, t('apiKeys.allCameras')),
      ...this.#groups.map((g) => h('option', { value: g.id, selected: g.id === value }, t('apiKeys.groupOption', { name: g.name }))),
    );
    this.#expires.min = dateInputValue(Date.now());
    bindText(this.#expiresHint, 'apiKeys.expiresHint', { zone: timeZone() });
  }

  /** The key itself: shown this once, with a copy button; closing the box forgets it. */
  #showKey(apiKey: ApiKey, key: string): void {
    const close = tx('button', 'common.close', { type: 'button', class: 'small' });
    close.addEventListener('click', () => {
      this.#keyBox.hidden = true;
      this.#keyBox.replaceChildren();
    });
    this.#keyBox.replaceChildren(
      bindText(h('p', { class: 'once-warning' }), 'apiKeys.keyOnce', { name: apiKey.name }),
      h('p', { class: 'copy-row' }, h('code', { class: 'secret api-key-secret', 'data-api-key-id': apiKey.id }, key), copyButton(key)),
      close,
    );
    this.#keyBox.hidden = false;
    this.#keyBox.scrollIntoView({ block: 'nearest' });
  }

  #render(): void {
    const keys = this.#keys;
    if (keys === undefined || keys.length === 0) {
      this.#rows.replaceChildren(h('tr', {}, tx('td', keys === undefined ? 'common.loading' : 'apiKeys.none', { colspan: 8, class: 'muted' })));
      return;
    }
    const groupName = (id: string | null) => (id === null ? t('apiKeys.allCameras') : (this.#groups.find((g) => g.id === id)?.name ?? id));
    this.#rows.replaceChildren(
      ...keys.map((k) => {
        let revoke: HTMLButtonElement | null = null;
        if (k.state !== 'revoked') {
          // The row's name tells a screen reader which key the button revokes.
          const button = (revoke = tx('button', 'apiKeys.revoke', { type: 'button', class: 'small danger api-key-revoke', 'aria-describedby': `api-key-name-${k.id}` }));
          button.addEventListener('click', () => void this.#revoke(k, button));
        }
        return h(
          'tr',
          { 'data-api-key-id': k.id, 'data-state': k.state },
          h('td', {}, h('div', { class: 'api-key-name', id: `api-key-name-${k.id}` }, k.name), h('code', { class: 'small-text' }, `${k.prefix}…`)),
          h('td', { 'data-scope': k.scope }, t(`apiKeys.scope.${k.scope}`)),
          h('td', {}, groupName(k.groupId)),
          h('td', {}, timeOf(k.createdAt)),
          h('td', {}, k.expiresAt === null ? t('apiKeys.noExpiry') : timeOf(k.expiresAt)),
          h('td', { class: 'api-key-last-used' }, k.lastUsedAt === null ? t('apiKeys.never') : timeOf(k.lastUsedAt)),
          h('td', {}, h('span', { class: 'badge api-key-state', 'data-state': k.state }, t(`apiKeys.state.${k.state}`))),
          h('td', {}, revoke ? h('div', { class: 'actions' }, revoke) : null),
        );
      }),
    );
  }

  async #revoke(k: ApiKey, button: HTMLButtonElement): Promise<void> {
    if (!confirm(t('apiKeys.confirmRevoke', { name: k.name }))) return;
    await busy(
      button,
      this.#notice,
      async () => {
        await adminApi.revokeApiKey(k.id);
        this.#notice.show({ key: 'apiKeys.revoked', params: { name: k.name } }, 'ok');
        await this.refresh();
      },
      apiKeyError,
    );
  }
}

/** The instant an API key dated `YYYY-MM-DD` stops: the end of that day in the viewer's zone. */
function endOfDay(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  // Date.UTC (under zonedToMs) carries day 32 into the next month.
  return m ? zonedToMs(Number(m[1]), Number(m[2]), Number(m[3]) + 1) : undefined;
}

function timeOf(iso: string): HTMLTimeElement {
  return h('time', { datetime: iso }, formatDateTime(iso, 'short'));
}

/** The key routes' own refusals in the panel's words, with the server's after them. */
function apiKeyError(err: unknown): string {
  const key = err instanceof ApiError ? `apiKeys.error.${err.code}` : '';
  return err instanceof ApiError && hasMessage(key) ? t(key, { detail: err.message }) : errorMessage(err);
}
