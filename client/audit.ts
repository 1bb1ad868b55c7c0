// The administration panel's audit log, for people who read it rather than parse it: each row a
// sentence with names ("佐藤さんが「正門」の録画（10:02–10:05）を書き出しました", built by
// auditSentences.ts from the names the server resolved for the page), filters by date range (in
// the viewer's zone), person, camera, site, kind of action and result, all applied by the server
// (GET /api/audit), so paging ("show older") and the CSV download (GET /api/audit/export) see the
// same rows. The raw row (ids, address, JSON details) is one click away in each row's <details>.
// The filters live in the view's link (`#/audit?camera=cam_x&from=2026-12-01`), so a filtered log
// survives a reload and can be sent to someone.
// Rows are only read here: the server keeps the log append-only.
import type { z } from 'zod';
import { ApiError, auth, parseAnswer } from './api.ts';
import { actionLabel, auditSentence, type AuditNames } from './auditSentences.ts';
import { formatDateTime, hasMessage, onLocaleChange, parseDateInput, t, timeZone, zonedParts, zonedToMs, type MessageKey } from './i18n.ts';
import { routeHref } from './routes.ts';
import { errorMessage, h, Notice, tx } from './ui.ts';
import { AuditChoices, AuditPage, auditOutcome, type AuditRowView } from '../signaling/wire/answers/audit.ts';

type AuditRow = z.infer<typeof AuditRowView>;
type Choices = z.infer<typeof AuditChoices>;

/** The server's action categories (signaling/audit/actions.ts AUDIT_CATEGORIES), in the order offered. */
const CATEGORIES = ['signin', 'live', 'recordings', 'permissions', 'settings', 'integrations', 'service', 'audit'] as const;
const OUTCOMES = auditOutcome.options;
const PAGE = 100;
const PERSON_KINDS = ['user', 'apiKey', 'kiosk'] as const;
/** The filters' names in the view's link. */
const FILTERS = ['from', 'to', 'person', 'category', 'camera', 'site', 'outcome'] as const;
type Filter = (typeof FILTERS)[number];

export class AuditPanel {
  readonly el: HTMLElement;
  readonly #form: HTMLFormElement;
  readonly #from: HTMLInputElement;
  readonly #to: HTMLInputElement;
  readonly #person: HTMLSelectElement;
  readonly #category: HTMLSelectElement;
  readonly #camera: HTMLSelectElement;
  readonly #site: HTMLSelectElement;
  readonly #outcome: HTMLSelectElement;
  readonly #rows: HTMLTableSectionElement;
  readonly #more: HTMLButtonElement;
  readonly #notice = new Notice('alert');
  #choices: Choices | undefined;
  #shown: AuditRow[] = [];
  #names: AuditNames = {};
  #cursor: string | undefined;
  /** Filters from the link, each applied once its select has the option (the choices load meanwhile). */
  readonly #linked = new Map<Filter, string>();

  constructor(options: { query?: URLSearchParams } = {}) {
    this.#from = h('input', { type: 'date', id: 'audit-from' });
    this.#to = h('input', { type: 'date', id: 'audit-to' });
    this.#person = h('select', { id: 'audit-person' });
    this.#category = h('select', { id: 'audit-category' });
    this.#camera = h('select', { id: 'audit-camera' });
    this.#site = h('select', { id: 'audit-site' });
    this.#outcome = h('select', { id: 'audit-outcome' });
    for (const key of FILTERS) {
      const value = options.query?.get(key);
      if (value) this.#linked.set(key, value);
    }
    // Dates are inputs of their own: they take any day at once (an invalid one is ignored by the input).
    this.#from.value = this.#linked.get('from') ?? '';
    this.#to.value = this.#linked.get('to') ?? '';
    this.#linked.delete('from');
    this.#linked.delete('to');
    this.#fillSelects();
    this.#rows = h('tbody');
    this.#more = tx('button', 'audit.more', { type: 'button', hidden: true, id: 'audit-more' });
    this.#more.addEventListener('click', () => void this.#load(false));
    const exportButton = tx('button', 'audit.exportCsv', { type: 'button', id: 'audit-export' });
    exportButton.addEventListener('click', () => void this.#exportCsv(exportButton));
    const label = (key: MessageKey, control: HTMLElement) => h('label', { class: 'audit-filter' }, tx('span', key, { class: 'toolbar-label' }), control);
    this.#form = h(
      'form',
      { class: 'audit-form', id: 'audit-filters' },
      h('div', { class: 'row' }, label('audit.from', this.#from), label('audit.to', this.#to), label('auditLog.person', this.#person), label('auditLog.category', this.#category)),
      h('div', { class: 'row' }, label('auditLog.site', this.#site), label('audit.camera', this.#camera), label('audit.outcome', this.#outcome)),
      h('div', { class: 'row' }, tx('button', 'audit.search', { type: 'submit', class: 'primary' }), exportButton),
    );
    this.#form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.#linked.clear(); // what is chosen now wins over the link
      this.#link();
      void this.#load(true);
    });
    const table = h(
      'table',
      { class: 'admin-table', id: 'audit-table' },
      h('thead', {}, h('tr', {}, tx('th', 'audit.time', { scope: 'col' }), tx('th', 'auditLog.what', { scope: 'col' }), tx('th', 'audit.outcome', { scope: 'col' }), tx('th', 'auditLog.showDetails', { scope: 'col' }))),
      this.#rows,
    );
    this.el = h(
      'div',
      { class: 'audit-admin', id: 'audit' },
      tx('p', 'audit.help', { class: 'muted small-text' }),
      this.#form,
      this.#notice.el,
      h('div', { class: 'table-scroll', tabindex: 0 }, table),
      this.#more,
    );
    // Sentences, times and the choices' labels follow the chosen language and zone.
    onLocaleChange(() => {
      this.#fillSelects();
      this.#render();
    });
  }

  async refresh(): Promise<void> {
    // A link naming a person, camera or site is checked against the choices first (one deleted
    // since shows everyone rather than an error).
    if (this.#linked.size > 0) {
      await this.#loadChoices();
      await this.#load(true);
    } else await Promise.all([this.#loadChoices(), this.#load(true)]);
  }

  /** People, cameras and sites by name, from the server (the page may not hold every list). */
  async #loadChoices(): Promise<void> {
    try {
      this.#choices = parseAnswer(AuditChoices, await authorized('/api/audit/choices').then((r) => r.json()), 'audit choices');
      this.#fillSelects();
    } catch (err) {
      this.#notice.show(t('auditLog.choicesFailed', { error: errorMessage(err) }), 'error');
    }
  }

  #fillSelects(): void {
    const option = (value: string, text: string, selected: string) => h('option', { value, selected: value === selected }, text);
    const fill = (sel: HTMLSelectElement, options: HTMLElement[], filter?: Filter) => {
      const value = sel.value;
      sel.replaceChildren(option('', t('audit.any'), value), ...options);
      // A choice that vanished (a person deleted since) falls back to "all" rather than nothing.
      if (sel.value !== value) sel.value = '';
      const linked = filter && this.#linked.get(filter);
      if (!linked || options.length === 0) return; // the choices are not loaded yet
      sel.value = linked;
      if (sel.value !== linked) sel.value = ''; // a link to a camera since deleted: all cameras
      this.#linked.delete(filter);
    };
    const people = this.#choices?.people ?? [];
    const personValue = this.#person.value;
    fill(
      this.#person,
      PERSON_KINDS.filter((k) => people.some((p) => p.kind === k)).map((k) =>
        h('optgroup', { label: t(`auditLog.kind.${k}`) }, ...people.filter((p) => p.kind === k).map((p) => option(p.actor, p.name, personValue))),
      ),
      'person',
    );
    fill(this.#category, CATEGORIES.map((c) => option(c, t(`auditLog.category.${c}`), this.#category.value)), 'category');
    const cameras = this.#choices?.cameras ?? [];
    fill(this.#camera, cameras.map((c) => option(c.id, c.name, this.#camera.value)), 'camera');
    fill(this.#site, siteOptions(this.#choices?.sites ?? []).map(({ site, depth }) => option(site.id, `${'　'.repeat(depth)}${t('auditLog.siteCameras', { name: site.name, n: site.cameras })}`, this.#site.value)), 'site');
    fill(this.#outcome, OUTCOMES.map((o) => option(o, t(`audit.outcome.${o}`), this.#outcome.value)), 'outcome');
  }

  /** A select's value, or while its choices load, the link's. */
  #value(sel: HTMLSelectElement, filter: Filter): string {
    return sel.value || this.#linked.get(filter) || '';
  }

  /** The filters chosen go into the view's link (replaced, not a new history entry). */
  #link(): void {
    const q = new URLSearchParams();
    const values: Record<Filter, string> = { from: this.#from.value, to: this.#to.value, person: this.#person.value, category: this.#category.value, camera: this.#camera.value, site: this.#site.value, outcome: this.#outcome.value };
    for (const key of FILTERS) if (values[key]) q.set(key, values[key]);
    if (location.hash.startsWith('#/audit')) history.replaceState(history.state, '', routeHref('audit', q));
  }

  /** The filters as query parameters; the date inputs are days in the viewer's zone. */
  #query(): URLSearchParams | undefined {
    const q = new URLSearchParams();
    const from = this.#from.value ? parseDateInput(this.#from.value) : undefined;
    const toDay = this.#to.value ? parseDateInput(this.#to.value) : undefined;
    // The end date is inclusive: up to the start of the next day in the viewer's zone.
    const to = toDay === undefined ? undefined : nextDay(toDay);
    if (from !== undefined && to !== undefined && to <= from) {
      this.#notice.show({ key: 'audit.badRange' }, 'error');
      return undefined;
    }
    if (from !== undefined) q.set('from', String(from));
    if (to !== undefined) q.set('to', String(to));
    const person = this.#value(this.#person, 'person');
    const category = this.#value(this.#category, 'category');
    const camera = this.#value(this.#camera, 'camera');
    const site = this.#value(this.#site, 'site');
    const outcome = this.#value(this.#outcome, 'outcome');
    if (person) q.set('actor', person);
    if (category) q.set('category', category);
    if (camera) q.set('cameraId', camera);
    if (site) q.set('site', site);
    if (outcome) q.set('outcome', outcome);
    return q;
  }

  async #load(fresh: boolean): Promise<void> {
    const q = this.#query();
    if (!q) return;
    this.#notice.clear();
    q.set('limit', String(PAGE));
    if (!fresh && this.#cursor) q.set('cursor', this.#cursor);
    try {
      const page = parseAnswer(AuditPage, await authorized(`/api/audit?${q}`).then((r) => r.json()), 'audit');
      this.#shown = fresh ? page.rows : [...this.#shown, ...page.rows];
      this.#names = fresh ? page.names : { ...this.#names, ...page.names };
      this.#cursor = page.nextCursor;
      this.#render();
    } catch (err) {
      this.#notice.show(errorMessage(err), 'error');
    }
  }

  #render(): void {
    this.#more.hidden = this.#cursor === undefined;
    if (this.#shown.length === 0) {
      this.#rows.replaceChildren(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, t('audit.none'))));
      return;
    }
    this.#rows.replaceChildren(
      ...this.#shown.map((r) =>
        h(
          'tr',
          { 'data-seq': r.seq, 'data-action': r.action },
          h('td', {}, h('time', { datetime: r.at }, formatDateTime(r.at, 'datetime'))),
          h('td', { class: 'audit-sentence' }, auditSentence(r, this.#names)),
          h('td', { 'data-outcome': r.outcome }, hasMessage(`audit.outcome.${r.outcome}`) ? t(`audit.outcome.${r.outcome}` as MessageKey) : r.outcome),
          h('td', {}, this.#details(r)),
        ),
      ),
    );
  }

  /** The raw row, folded: what the sentence was made from, for whoever has to dig deeper. */
  #details(r: AuditRow): HTMLElement {
    const field = (key: MessageKey, value: string | number | undefined) =>
      value === undefined || value === '' ? [] : [h('dt', {}, t(key)), h('dd', {}, String(value))];
    return h(
      'details',
      { class: 'audit-details' },
      h('summary', {}, t('auditLog.showDetails')),
      h(
        'dl',
        {},
        ...field('auditLog.field.action', `${actionLabel(r.action)} (${r.action})`),
        ...field('auditLog.field.actor', r.actor),
        ...field('auditLog.field.camera', r.cameraId),
        ...field('auditLog.field.address', r.ip),
        ...field('auditLog.field.agent', r.userAgent),
        ...field('auditLog.field.request', r.requestId),
        ...field('auditLog.field.seq', r.seq),
      ),
      ...(r.detail ? [h('div', {}, t('auditLog.field.detail')), h('pre', { class: 'audit-json small-text' }, JSON.stringify(r.detail, null, 2))] : []),
    );
  }

  /** Downloads with the session's token (a plain link would carry none), named by the server. */
  async #exportCsv(button: HTMLButtonElement): Promise<void> {
    const q = this.#query();
    if (!q) return;
    q.set('format', 'csv');
    q.set('tz', timeZone());
    button.disabled = true;
    try {
      const res = await authorized(`/api/audit/export?${q}`);
      const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'mimamori-audit.csv';
      const url = URL.createObjectURL(await res.blob());
      const a = h('a', { href: url, download: name, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (err) {
      this.#notice.show(errorMessage(err), 'error');
    } finally {
      button.disabled = false;
    }
  }
}

/** Sites as a tree, depth-first: a floor right under its site. */
function siteOptions<S extends { id: string; parentId?: string }>(sites: S[]): { site: S; depth: number }[] {
  const ids = new Set(sites.map((s) => s.id));
  const out: { site: S; depth: number }[] = [];
  const seen = new Set<string>();
  const walk = (parent: string | undefined, depth: number) => {
    for (const s of sites) {
      const top = s.parentId === undefined || !ids.has(s.parentId);
      if ((parent === undefined ? top : s.parentId === parent) && !seen.has(s.id)) {
        seen.add(s.id);
        out.push({ site: s, depth });
        walk(s.id, depth + 1);
      }
    }
  };
  walk(undefined, 0);
  return out;
}

function nextDay(startMs: number): number {
  const p = zonedParts(startMs + 36 * 3600_000);
  return zonedToMs(p.year, p.month, p.day);
}

/** GET with the signed-in user's token; the server's `{ error }` becomes an ApiError. */
async function authorized(path: string): Promise<Response> {
  const token = auth.token();
  let res: Response;
  try {
    res = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {}, cache: 'no-store' });
  } catch (err) {
    throw new ApiError(0, 'network', `GET ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (res.ok) return res;
  const body = (await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
  throw new ApiError(res.status, body?.error?.code ?? `http_${res.status}`, body?.error?.message ?? `GET ${path} failed with HTTP ${res.status}`);
}
