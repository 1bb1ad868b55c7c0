// Export and "download now" for the marked range, and the list of the user's exports (progress
// bars while they run, download links when done, delete). The list polls only while an export is
// queued or running; close() stops every timer.
import { api, type ExportJob } from './api.ts';
import { Timer } from './backoff.ts';
import { bindAttr, bindText, formatDateTime, formatDuration, formatRange, onLocaleChange, t, type MessageKey } from './i18n.ts';
import type { Range } from './marks.ts';
import { errorMessage, h, Notice, tx } from './ui.ts';

const POLL_MS = 1_000;
const POLL_MAX_MS = 10_000;
/** "Download now" streams the clip straight from the play URL: meant for short ranges. */
export const DOWNLOAD_NOW_MAX_MS = 15 * 60_000;
/** Longest range one export may cover. */
const EXPORT_MAX_MS = 24 * 60 * 60_000;

export interface ExportPanelOptions {
  cameraId: () => string | undefined;
  cameraName: (id: string) => string;
  range: () => Range | undefined;
  /** `<play url base>` of the player's window (…/api/play/<token>). */
  playBase: () => string | undefined;
}

function fileName(name: string): string {
  return name.replace(/[\\/:*?"<>|]+/g, '_').slice(0, 100) || 'mimamori';
}

function formatBytes(bytes: number): string {
  const mb = bytes / 1_000_000;
  return `${mb >= 100 ? mb.toFixed(0) : mb.toFixed(1)} MB`;
}

export class ExportPanel {
  readonly el: HTMLElement;
  readonly #options: ExportPanelOptions;
  readonly #name: HTMLInputElement;
  readonly #create: HTMLButtonElement;
  readonly #downloadNow: HTMLAnchorElement;
  readonly #hint: HTMLElement;
  readonly #notice = new Notice('alert');
  readonly #rows: HTMLElement;
  readonly #poll = new Timer();
  readonly #offLocale: () => void;
  #jobs: ExportJob[] = [];
  #pollMs = POLL_MS;
  #closed = false;

  constructor(options: ExportPanelOptions) {
    this.#options = options;
    this.#name = h('input', { id: 'export-name', maxlength: 100, autocomplete: 'off' });
    bindAttr(this.#name, 'placeholder', 'export.name');
    bindAttr(this.#name, 'aria-label', 'export.name');
    this.#create = tx('button', 'export.create', { type: 'button', class: 'primary', id: 'export-create' });
    this.#downloadNow = tx('a', 'export.downloadNow', { class: 'small button-like', id: 'download-now', download: '' });
    this.#hint = h('p', { class: 'muted small-text' });
    this.#rows = h('ul', { class: 'job-list', id: 'export-list' });
    this.#create.addEventListener('click', () => void this.#start());
    this.el = h(
      'section',
      { class: 'card exports', id: 'exports' },
      tx('h2', 'export.title'),
      h('div', { class: 'inline-form' }, this.#name, this.#create, this.#downloadNow),
      this.#hint,
      this.#notice.el,
      tx('h3', 'export.list'),
      this.#rows,
    );
    this.#offLocale = onLocaleChange(() => {
      this.update();
      this.#render();
    });
    this.update();
    void this.refresh();
  }

  /** The marks or the player's window changed: enable what can be done now. */
  update(): void {
    const range = this.#options.range();
    const cameraId = this.#options.cameraId();
    const base = this.#options.playBase();
    const length = range ? range.toMs - range.fromMs : 0;
    this.#create.disabled = !range || !cameraId || length > EXPORT_MAX_MS;
    const canDownload = Boolean(range && base && length <= DOWNLOAD_NOW_MAX_MS);
    if (canDownload && range && base) {
      const name = fileName(this.#name.value.trim() || `${cameraId ? this.#options.cameraName(cameraId) : 'mimamori'} ${formatDateTime(range.fromMs, 'short')}`);
      this.#downloadNow.href = `${base}/clip.mp4?from=${range.fromMs}&to=${range.toMs}&name=${encodeURIComponent(name)}`;
      this.#downloadNow.download = `${name}.mp4`;
      this.#downloadNow.removeAttribute('aria-disabled');
    } else {
      this.#downloadNow.removeAttribute('href');
      this.#downloadNow.setAttribute('aria-disabled', 'true');
    }
    const key: MessageKey = !range ? 'export.needMarks' : length > EXPORT_MAX_MS ? 'export.tooLong' : length > DOWNLOAD_NOW_MAX_MS ? 'export.longRange' : 'export.ready';
    bindText(this.#hint, key, { range: range ? formatRange(range.fromMs, range.toMs) : '', minutes: DOWNLOAD_NOW_MAX_MS / 60_000 });
  }

  async refresh(): Promise<void> {
    try {
      const jobs = await api.exports();
      if (this.#closed) return;
      this.#jobs = jobs.sort((a, b) => b.createdAt - a.createdAt);
      this.#render();
      this.#schedulePoll();
    } catch (err) {
      if (!this.#closed) this.#notice.show(errorMessage(err), 'error');
    }
  }

  /** The export jobs shown (newest first). */
  jobs(): ExportJob[] {
    return [...this.#jobs];
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#poll.clear();
    this.#offLocale();
    this.el.remove();
  }

  async #start(): Promise<void> {
    const range = this.#options.range();
    const cameraId = this.#options.cameraId();
    if (!range || !cameraId) return;
    this.#create.disabled = true;
    this.#notice.clear();
    try {
      const name = this.#name.value.trim() || `${this.#options.cameraName(cameraId)} ${formatDateTime(range.fromMs, 'short')}`;
      const job = await api.createExport(cameraId, range.fromMs, range.toMs, name);
      this.#jobs = [job, ...this.#jobs.filter((j) => j.id !== job.id)];
      this.#name.value = '';
      this.#notice.show({ key: 'export.started', params: { name: job.name } }, 'ok');
      this.#render();
      this.#pollMs = POLL_MS;
      this.#schedulePoll();
    } catch (err) {
      this.#notice.show(errorMessage(err), 'error');
    } finally {
      this.update();
    }
  }

  #schedulePoll(): void {
    if (this.#closed) return;
    const active = this.#jobs.filter((j) => j.status === 'queued' || j.status === 'running');
    if (active.length === 0) {
      this.#poll.clear();
      return;
    }
    if (this.#poll.pending) return;
    this.#poll.set(this.#pollMs, () => void this.#pollActive());
  }

  async #pollActive(): Promise<void> {
    const active = this.#jobs.filter((j) => j.status === 'queued' || j.status === 'running');
    try {
      const updated = await Promise.all(active.map((j) => api.export(j.id)));
      if (this.#closed) return;
      const byId = new Map(updated.map((j) => [j.id, j]));
      this.#jobs = this.#jobs.map((j) => byId.get(j.id) ?? j);
      this.#pollMs = POLL_MS;
      this.#render();
    } catch (err) {
      // A deleted export (404) leaves the list at the next refresh; a network failure slows down.
      console.warn('could not poll exports', err);
      this.#pollMs = Math.min(POLL_MAX_MS, this.#pollMs * 2);
      void this.refresh();
      return;
    }
    this.#schedulePoll();
  }

  async #delete(job: ExportJob, button: HTMLButtonElement): Promise<void> {
    if (!confirm(t('export.confirmDelete', { name: job.name }))) return;
    button.disabled = true;
    try {
      await api.deleteExport(job.id);
      this.#jobs = this.#jobs.filter((j) => j.id !== job.id);
      this.#render();
    } catch (err) {
      this.#notice.show(errorMessage(err), 'error');
      button.disabled = false;
    }
  }

  #render(): void {
    if (this.#jobs.length === 0) {
      this.#rows.replaceChildren(tx('li', 'export.none', { class: 'muted' }));
      return;
    }
    this.#rows.replaceChildren(
      ...this.#jobs.map((job) => {
        const remove = tx('button', 'export.delete', { type: 'button', class: 'small danger' });
        remove.addEventListener('click', () => void this.#delete(job, remove));
        const status = h('span', { class: 'job-status' });
        let action: Node | null = null;
        if (job.status === 'done') {
          bindText(status, 'export.done', { size: job.bytes !== undefined ? formatBytes(job.bytes) : '', duration: formatDuration(job.durationMs ?? job.toMs - job.fromMs) });
          if (job.downloadUrl) action = tx('a', 'export.download', { href: job.downloadUrl, download: `${fileName(job.name)}.mp4`, class: 'small button-like export-download' });
        } else if (job.status === 'failed') {
          status.append(job.error ? t('export.failed', { message: job.error.message || job.error.code }) : t('export.failed', { message: '' }));
          status.classList.add('error-text');
        } else {
          const percent = Math.round(job.progress * 100);
          const bar = h('progress', { max: 100, value: percent, class: 'job-progress' });
          bindAttr(bar, 'aria-label', 'export.progress', { percent });
          status.append(bar, ` ${t(job.status === 'queued' ? 'export.queued' : 'export.running', { percent })}`);
        }
        const gaps = job.gaps.length ? h('span', { class: 'muted' }, t('export.gaps', { count: job.gaps.length })) : null;
        return h(
          'li',
          { class: 'job', 'data-export-id': job.id, 'data-status': job.status },
          h('div', { class: 'job-title' }, h('strong', {}, job.name), h('span', { class: 'muted' }, `${this.#options.cameraName(job.cameraId)} · ${formatRange(job.fromMs, job.toMs)}`)),
          h('div', { class: 'job-row' }, status, gaps, action, remove),
        );
      }),
    );
  }
}
