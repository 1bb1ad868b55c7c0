// Organisations, for the service's operators: create one with its first administrator, rename,
// schedule or cancel its contract end (its users see the date in a banner until then; after it
// everything of it is deleted), and the reports of completed deletions.
import { adminApi, type DeletionReport, type Org } from './adminApi.ts';
import { parseLocalDateTime } from './announcements.ts';
import { bindAttr, formatDateTime, onLocaleChange, t } from './i18n.ts';
import { errorMessage, h, Notice, onSubmit, tx } from './ui.ts';

export class OrgsPanel {
  readonly #offLocale: () => void;
  readonly el: HTMLElement;
  readonly #rows: HTMLTableSectionElement;
  readonly #reports: HTMLElement;
  readonly #notice = new Notice('alert');
  #orgs: Org[] = [];
  #reportItems: DeletionReport[] = [];
  #ownOrgId: string | undefined;

  constructor(ownOrgId: string) {
    this.#ownOrgId = ownOrgId;
    this.#rows = h('tbody');
    this.#reports = h('ul', { class: 'job-list', id: 'deletion-reports' });
    this.el = h(
      'section',
      { class: 'orgs', id: 'orgs' },
      tx('h3', 'orgs.title'),
      this.#createForm(),
      this.#notice.el,
      h(
        'div',
        { class: 'table-scroll', tabindex: 0 },
        h(
          'table',
          { class: 'admin-table', id: 'org-table' },
          h('thead', {}, h('tr', {}, tx('th', 'orgs.name'), tx('th', 'orgs.users'), tx('th', 'admin.cameras'), tx('th', 'orgs.contractEnd'), h('th'))),
          this.#rows,
        ),
      ),
      tx('h3', 'orgs.reports'),
      this.#reports,
    );
    this.#offLocale = onLocaleChange(() => this.#render());
  }

  /** The view is left: stop following the language. */
  close(): void {
    this.#offLocale();
  }

  async refresh(): Promise<void> {
    try {
      [this.#orgs, this.#reportItems] = await Promise.all([adminApi.orgs(), adminApi.deletionReports()]);
      this.#render();
    } catch (err) {
      this.#notice.show(errorMessage(err), 'error');
    }
  }

  #createForm(): HTMLFormElement {
    const name = h('input', { id: 'new-org-name', required: true, maxlength: 100 });
    bindAttr(name, 'placeholder', 'orgs.name');
    bindAttr(name, 'aria-label', 'orgs.name');
    const username = h('input', { id: 'new-org-admin', required: true, maxlength: 64, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' });
    bindAttr(username, 'placeholder', 'orgs.adminName');
    bindAttr(username, 'aria-label', 'orgs.adminName');
    const password = h('input', { id: 'new-org-password', type: 'password', required: true, minlength: 10, maxlength: 200, autocomplete: 'new-password' });
    bindAttr(password, 'placeholder', 'admin.password');
    bindAttr(password, 'aria-label', 'admin.password');
    const submit = tx('button', 'orgs.create', { type: 'submit', class: 'primary' });
    const form = h('form', { class: 'inline-form', id: 'add-org' }, name, username, password, submit);
    onSubmit(form, submit, this.#notice, async () => {
      const org = await adminApi.createOrg(name.value.trim(), { username: username.value.trim(), password: password.value });
      name.value = username.value = password.value = '';
      this.#notice.show({ key: 'orgs.created', params: { name: org.name } }, 'ok');
      await this.refresh();
    });
    return form;
  }

  #render(): void {
    this.#rows.replaceChildren(...this.#orgs.map((o) => this.#row(o)));
    this.#reports.replaceChildren(
      ...(this.#reportItems.length === 0
        ? [tx('li', 'orgs.noReports', { class: 'muted' })]
        : this.#reportItems.map((r) =>
            h('li', { 'data-org-id': r.orgId }, t('orgs.report', { name: r.orgName, at: formatDateTime(r.completedAtMs, 'short'), users: r.users, cameras: r.cameras, objects: r.objects })),
          )),
    );
  }

  #row(org: Org): HTMLTableRowElement {
    const own = org.id === this.#ownOrgId;
    const date = h('input', { type: 'datetime-local', class: 'deletion-at' });
    bindAttr(date, 'aria-label', 'orgs.contractEndOf', { name: org.name });
    const schedule = tx('button', 'orgs.schedule', { type: 'button', class: 'small danger deletion-schedule' });
    const cancel = tx('button', 'orgs.cancel', { type: 'button', class: 'small deletion-cancel' });
    cancel.hidden = org.deletionAtMs === undefined;
    schedule.addEventListener('click', async () => {
      const at = parseLocalDateTime(date.value);
      if (at === undefined || at <= Date.now()) {
        this.#notice.show({ key: 'orgs.badDate' }, 'error');
        return;
      }
      if (!confirm(t('orgs.confirmSchedule', { name: org.name, date: formatDateTime(at, 'datetime') }))) return;
      await this.#change(schedule, () => adminApi.scheduleDeletion(org.id, at));
    });
    cancel.addEventListener('click', () => void this.#change(cancel, () => adminApi.cancelDeletion(org.id)));
    return h(
      'tr',
      { 'data-org-id': org.id },
      h('td', {}, org.name),
      h('td', {}, String(org.users)),
      h('td', {}, String(org.cameras)),
      h('td', { class: 'deletion' }, org.deletionAtMs === undefined ? '—' : formatDateTime(org.deletionAtMs, 'datetime')),
      h('td', {}, h('div', { class: 'actions' }, ...(own ? [tx('span', 'orgs.own', { class: 'muted' })] : [date, schedule, cancel]))),
    );
  }

  async #change(button: HTMLButtonElement, run: () => Promise<unknown>): Promise<void> {
    button.disabled = true;
    this.#notice.clear();
    try {
      await run();
      await this.refresh();
    } catch (err) {
      this.#notice.show(errorMessage(err), 'error');
      button.disabled = false;
    }
  }
}
