// The administration panel's audit log: filter by date range (in the viewer's time zone), who,
// action, camera and result; a table newest first with "show older" paging; and a CSV download
// whose first column is in the viewer's zone. Rows are only read here: the server keeps the log
// append-only (GET /api/audit, GET /api/audit/export).
import type { z } from 'zod';
import { ApiError, auth, parseAnswer, type Camera } from './api.ts';
import { bindAttr, formatDateTime, hasMessage, onLocaleChange, parseDateInput, t, timeZone, zonedParts, zonedToMs, type MessageKey } from './i18n.ts';
import { errorMessage, h, Notice, tx } from './ui.ts';
import { AuditPage, auditOutcome, type AuditRowView } from '../signaling/wire/answers/audit.ts';

type AuditRow = z.infer<typeof AuditRowView>;

/** Action groups offered in the filter: the prefix searched and its label. */
const ACTION_GROUPS: { prefix: string; key: MessageKey }[] = [
  { prefix: 'auth.', key: 'audit.actions.auth' },
  { prefix: 'live.', key: 'audit.actions.live' },
  { prefix: 'playback.', key: 'audit.actions.playback' },
  { prefix: 'export.', key: 'audit.actions.export' },
  { prefix: 'share.', key: 'audit.actions.share' },
  { prefix: 'grant.', key: 'audit.actions.grant' },
  { prefix: 'camera.', key: 'audit.actions.camera' },
  { prefix: 'user.', key: 'audit.actions.user' },
  { prefix: 'kiosk.', key: 'audit.actions.kiosk' },
  { prefix: 'audit.', key: 'audit.actions.audit' },
];
const OUTCOMES = auditOutcome.options;
const PAGE = 100;

export class AuditPanel {
  readonly el: HTMLElement;
  readonly #form: HTMLFormElement;
  readonly #from: HTMLInputElement;
  readonly #to: HTMLInputElement;
  readonly #actor: HTMLInputElement;
  readonly #action: HTMLSelectElement;
  readonly #camera: HTMLSelectElement;
  readonly #outcome: HTMLSelectElement;
  readonly #rows: HTMLTableSectionElement;
  readonly #more: HTMLButtonElement;
  readonly #notice = new Notice('alert');
  #cameras: Camera[] = [];
  #shown: AuditRow[] = [];
  #cursor: string | undefined;

  constructor() {
    this.#from = h('input', { type: 'date', id: 'audit-from' });
    this.#to = h('input', { type: 'date', id: 'audit-to' });
    this.#actor = h('input', { id: 'audit-actor', maxlength: 256, autocomplete: 'off' });
    bindAttr(this.#actor, 'placeholder', 'audit.actorHint');
    this.#action = h('select', { id: 'audit-action' });
    this.#camera = h('select', { id: 'audit-camera' });
    this.#outcome = h('select', { id: 'audit-outcome' });
    for (const [el, key] of [[this.#from, 'audit.from'], [this.#to, 'audit.to'], [this.#actor, 'audit.actor'], [this.#action, 'audit.action'], [this.#camera, 'audit.camera'], [this.#outcome, 'audit.outcome']] as const) {
      bindAttr(el, 'aria-label', key);
    }
    this.#fillSelects();
    this.#rows = h('tbody');
    this.#more = tx('button', 'audit.more', { type: 'button', hidden: true });
    this.#more.addEventListener('click', () => void this.#load(false));
    const exportButton = tx('button', 'audit.exportCsv', { type: 'button', id: 'audit-export' });
    exportButton.addEventListener('click', () => void this.#exportCsv(exportButton));
    const label = (key: MessageKey, control: HTMLElement) => h('label', { class: 'audit-filter' }, tx('span', key, { class: 'toolbar-label' }), control);
    this.#form = h(
      'form',
      { class: 'audit-form', id: 'audit-filters' },
      h('div', { class: 'row' }, label('audit.from', this.#from), label('audit.to', this.#to), label('audit.actor', this.#actor)),
      h('div', { class: 'row' }, label('audit.action', this.#action), label('audit.camera', this.#camera), label('audit.outcome', this.#outcome)),
      h('div', { class: 'row' }, tx('button', 'audit.search', { type: 'submit', class: 'primary' }), exportButton),
    );
    this.#form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.#load(true);
    });
    const table = h(
      'table',
      { class: 'admin-table', id: 'audit-table' },
      h('thead', {}, h('tr', {}, tx('th', 'audit.time'), tx('th', 'audit.actor'), tx('th', 'audit.action'), tx('th', 'audit.camera'), tx('th', 'audit.outcome'), tx('th', 'audit.ip'), tx('th', 'audit.detail'))),
      this.#rows,
    );
    this.el = h(
      'div',
      { class: 'audit-admin', id: 'admin-audit-section' },
      tx('h3', 'audit.title'),
      tx('p', 'audit.help', { class: 'muted small-text' }),
      this.#form,
      this.#notice.el,
      h('div', { class: 'table-scroll' }, table),
      this.#more,
    );
    // Times follow the chosen zone and language; select labels are rebuilt with the language.
    onLocaleChange(() => {
      this.#fillSelects();
      this.#render();
    });
  }

  setCameras(cameras: Camera[]): void {
    this.#cameras = cameras;
    this.#fillSelects();
    this.#render();
  }

  refresh(): Promise<void> {
    return this.#load(true);
  }

  #fillSelects(): void {
    const keep = (sel: HTMLSelectElement, options: [string, string][]) => {
      const value = sel.value;
      sel.replaceChildren(...[['', t('audit.any')] as [string, string], ...options].map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
    };
    keep(this.#action, ACTION_GROUPS.map((g) => [g.prefix, t(g.key)]));
    keep(this.#camera, this.#cameras.map((c) => [c.id, c.name]));
    keep(this.#outcome, OUTCOMES.map((o) => [o, t(`audit.outcome.${o}`)]));
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
    const actor = this.#actor.value.trim();
    if (actor) q.set('actor', actor);
    if (this.#action.value) q.set('action', this.#action.value);
    if (this.#camera.value) q.set('cameraId', this.#camera.value);
    if (this.#outcome.value) q.set('outcome', this.#outcome.value);
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
      this.#cursor = page.nextCursor;
      this.#render();
    } catch (err) {
      this.#notice.show(errorMessage(err), 'error');
    }
  }

  #render(): void {
    this.#more.hidden = this.#cursor === undefined;
    if (this.#shown.length === 0) {
      this.#rows.replaceChildren(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, t('audit.none'))));
      return;
    }
    const cameraName = (id: string | undefined) => (id ? (this.#cameras.find((c) => c.id === id)?.name ?? id) : '');
    this.#rows.replaceChildren(
      ...this.#shown.map((r) =>
        h(
          'tr',
          { 'data-seq': r.seq },
          h('td', {}, h('time', { datetime: r.at }, formatDateTime(r.at, 'datetime'))),
          h('td', {}, r.actor),
          h('td', {}, actionLabel(r.action)),
          h('td', {}, cameraName(r.cameraId)),
          h('td', { 'data-outcome': r.outcome }, hasMessage(`audit.outcome.${r.outcome}`) ? t(`audit.outcome.${r.outcome}` as MessageKey) : r.outcome),
          h('td', {}, r.ip ?? ''),
          h('td', { class: 'small-text' }, r.detail ? JSON.stringify(r.detail) : ''),
        ),
      ),
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

function actionLabel(action: string): string {
  const key = `audit.action.${action}`;
  return hasMessage(key) ? `${t(key)} (${action})` : action;
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
