// Camera health at a glance (index.html#/health): counts per site at the top (a site filters the
// list), then every camera the user may see, needing attention first (not recording, offline,
// recording with gaps today, live), with when it was last seen, its video, bitrate and recording
// lags, links to its recordings and live view. An offline camera shows its last recorded frame
// (offlineFrame.ts: the playback API's one-frame preview) with when it was taken, only with the
// playback right and only once its row is on screen. Read again every 10 s while open.
import { api, type CameraHealth, type CameraHealthList, type HealthFilter } from './api.ts';
import { bindAttr, bindText, formatDateTime, onLocaleChange, startOfDay, t, type MessageKey } from './i18n.ts';
import { LastFrames } from './offlineFrame.ts';
import { routeHref } from './routes.ts';
import { errorMessage, h, tx } from './ui.ts';
import { viewFrame } from './views/frame.ts';

const REFRESH_MS = 10_000;
const PAGE = 100;

type Kind = 'not_recording' | 'offline' | 'gaps' | 'live';
const kindOf = (c: CameraHealth): Kind => (c.state === 'live' && c.recording.gapsToday > 0 ? 'gaps' : c.state);
type Counts = CameraHealthList['counts'];
const COUNT_CHIPS: readonly { filter: HealthFilter | undefined; key: MessageKey; value: (c: Counts) => number }[] = [
  { filter: undefined, key: 'health.count.total', value: (c) => c.total },
  { filter: 'not_recording', key: 'health.count.notRecording', value: (c) => c.notRecording },
  { filter: 'offline', key: 'health.count.offline', value: (c) => c.offline },
  { filter: 'gaps', key: 'health.count.gaps', value: (c) => c.gaps },
  { filter: 'live', key: 'health.count.live', value: (c) => c.live + c.gaps },
];

export class HealthView {
  readonly el: HTMLElement;
  readonly #sites = h('nav', { class: 'health-sites' });
  readonly #states = h('div', { class: 'health-states', role: 'group' });
  readonly #status = h('p', { class: 'health-status muted' });
  readonly #body = h('tbody');
  readonly #table: HTMLTableElement;
  readonly #more = tx('button', 'health.more', { type: 'button', class: 'health-more', hidden: true });
  readonly #frames = new LastFrames();
  /** Last frames already shown, by camera: kept across refreshes (an offline camera's last frame does not change). */
  readonly #shown = new Map<string, HTMLElement>();
  readonly #observer: IntersectionObserver;
  readonly #offLocale: () => void;
  #group: string | undefined;
  #state: HealthFilter | undefined;
  #list: CameraHealthList | undefined;
  #cameras: CameraHealth[] = [];
  #nextCursor: string | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #loading = 0;
  #closed = false;

  constructor(options: { query?: URLSearchParams } = {}) {
    this.#group = options.query?.get('group') ?? undefined;
    const state = options.query?.get('state');
    this.#state = COUNT_CHIPS.find((c) => c.filter === state)?.filter;
    bindAttr(this.#sites, 'aria-label', 'health.sitesLabel');
    bindAttr(this.#states, 'aria-label', 'health.statesLabel');
    this.#table = h(
      'table',
      { class: 'health-table' },
      tx('caption', 'health.caption', { class: 'visually-hidden' }),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...(['health.col.camera', 'health.col.state', 'health.col.lastSeen', 'health.col.video', 'health.col.bitrate', 'health.col.lag', 'health.col.open'] as const).map((key) => tx('th', key, { scope: 'col' })),
        ),
      ),
      this.#body,
    );
    this.el = viewFrame('health', 'nav.health', { card: false });
    this.el.classList.add('health');
    this.el.append(this.#sites, this.#states, this.#status, h('div', { class: 'health-scroll' }, this.#table), this.#more);
    this.#more.addEventListener('click', () => void this.#load(true));
    this.#observer = new IntersectionObserver((entries) => {
      for (const e of entries) if (e.isIntersecting) this.#showFrame(e.target as HTMLElement);
    });
    this.#offLocale = onLocaleChange(() => this.#render());
    void this.#load(false);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#observer.disconnect();
    this.#frames.close();
    this.#offLocale();
    this.el.remove();
  }

  /** `more`: the next page after what is shown; else everything shown so far, read again. */
  async #load(more: boolean): Promise<void> {
    clearTimeout(this.#timer);
    const ticket = ++this.#loading;
    try {
      const list = await api.cameraHealth({
        ...(this.#group ? { group: this.#group } : {}),
        ...(this.#state ? { state: this.#state } : {}),
        limit: more ? PAGE : Math.min(1000, Math.max(PAGE, this.#cameras.length)),
        ...(more && this.#nextCursor ? { cursor: this.#nextCursor } : {}),
        dayStartMs: startOfDay(Date.now()),
      });
      if (this.#closed || ticket !== this.#loading) return;
      this.#list = list;
      this.#cameras = more ? [...this.#cameras, ...list.cameras] : list.cameras;
      this.#nextCursor = list.nextCursor;
      this.#render();
      bindText(this.#status, 'health.updated', { at: formatDateTime(list.generatedAtMs, 'clock') });
      this.#status.classList.remove('error');
    } catch (err) {
      if (this.#closed || ticket !== this.#loading) return;
      // What was shown stays; the next refresh tries again.
      this.#status.textContent = t('health.loadFailed', { message: errorMessage(err) });
      this.#status.classList.add('error');
    } finally {
      if (!this.#closed && ticket === this.#loading) this.#timer = setTimeout(() => void this.#load(false), REFRESH_MS);
    }
  }

  #filter(change: { group?: string | undefined; state?: HealthFilter | undefined }): void {
    if ('group' in change) this.#group = change.group;
    if ('state' in change) this.#state = change.state;
    this.#cameras = [];
    this.#nextCursor = undefined;
    // The filters go into the link, so a reload (or a shared link) shows the same.
    const q = new URLSearchParams();
    if (this.#group) q.set('group', this.#group);
    if (this.#state) q.set('state', this.#state);
    if (location.hash.startsWith('#/health')) history.replaceState(history.state, '', routeHref('health', q));
    this.#render();
    void this.#load(false);
  }

  /** Redrawn every 10 s: a keyboard user's focus stays on the same control (data-focus). */
  #render(): void {
    const list = this.#list;
    if (!list) return;
    const active = document.activeElement;
    const focused = active instanceof HTMLElement && this.el.contains(active) ? active.dataset.focus : undefined;
    this.#draw(list);
    if (focused) this.el.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
  }

  #draw(list: CameraHealthList): void {
    this.#renderSites(list);
    this.#renderStates(list.counts);
    this.#more.hidden = !this.#nextCursor;
    this.#observer.disconnect();
    if (this.#cameras.length === 0) {
      this.#body.replaceChildren(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, t('health.empty'))));
      return;
    }
    this.#body.replaceChildren(...this.#cameras.map((c) => this.#row(c)));
  }

  #renderSites(list: CameraHealthList): void {
    const chip = (groupId: string | undefined, name: string, counts: Counts) => {
      const attention = counts.notRecording + counts.offline;
      const button = h(
        'button',
        { type: 'button', class: 'health-site', 'aria-pressed': String(this.#group === groupId), 'data-group-id': groupId ?? '', 'data-focus': `site:${groupId ?? ''}` },
        h('span', { class: 'health-site-name' }, name),
        h('span', { class: 'health-site-counts' }, t('health.siteCounts', { total: counts.total, attention })),
      );
      if (attention > 0) button.classList.add('attention');
      button.addEventListener('click', () => this.#filter({ group: groupId === this.#group ? undefined : groupId }));
      return h('li', {}, button);
    };
    this.#sites.replaceChildren(
      h('ul', {}, chip(undefined, t('health.allSites'), list.counts), ...list.sites.map((s) => chip(s.groupId, s.name, s))),
    );
  }

  #renderStates(counts: Counts): void {
    this.#states.replaceChildren(
      ...COUNT_CHIPS.map((chip) => {
        const button = h('button', { type: 'button', class: `health-state-chip kind-${chip.filter ?? 'all'}`, 'aria-pressed': String(this.#state === chip.filter), 'data-state': chip.filter ?? '', 'data-focus': `state:${chip.filter ?? ''}` }, t(chip.key, { n: chip.value(counts) }));
        button.addEventListener('click', () => this.#filter({ state: chip.filter }));
        return button;
      }),
    );
  }

  #row(c: CameraHealth): HTMLTableRowElement {
    const kind = kindOf(c);
    const nameCell = h('th', { scope: 'row', class: 'health-name' }, c.name);
    const row = h(
      'tr',
      { class: `kind-${kind}`, 'data-camera-id': c.id, 'data-kind': kind },
      nameCell,
      cell('health.col.state', h('span', { class: `health-state kind-${kind}` }, stateText(c))),
      cell('health.col.lastSeen', c.state === 'live' && !c.heldBy ? t('health.now') : c.lastSeenMs !== undefined ? formatDateTime(c.lastSeenMs, 'short') : t('health.never')),
      cell('health.col.video', c.video ? `${c.video.width}×${c.video.height} ${c.video.codec.toUpperCase()}` : '—'),
      cell('health.col.bitrate', c.bitrateKbps !== undefined ? t('health.kbps', { n: Math.round(c.bitrateKbps) }) : '—'),
      cell('health.col.lag', lagText(c)),
      cell(
        'health.col.open',
        h(
          'span',
          { class: 'health-links' },
          c.rights.includes('playback') ? h('a', { href: `playback.html#camera=${encodeURIComponent(c.id)}`, 'data-focus': `recordings:${c.id}` }, t('health.recordings')) : null,
          c.rights.includes('live') ? h('a', { href: routeHref('live', new URLSearchParams({ camera: c.id })), 'data-focus': `live:${c.id}` }, t('health.live')) : null,
        ),
      ),
    );
    if (c.state === 'offline' && c.rights.includes('playback') && c.recording.lastRecordedMs !== undefined) {
      const kept = this.#shown.get(c.id);
      if (kept) nameCell.append(kept);
      else {
        nameCell.dataset.cameraId = c.id;
        this.#observer.observe(nameCell);
      }
    }
    return row;
  }

  /** The offline camera's last recorded frame, once its row is on screen. */
  #showFrame(target: HTMLElement): void {
    this.#observer.unobserve(target);
    const cameraId = target.dataset.cameraId;
    const camera = this.#cameras.find((c) => c.id === cameraId);
    if (!cameraId || !camera) return;
    void this.#frames.get(cameraId).then((frame) => {
      if (this.#closed || !frame || this.#shown.has(cameraId)) return;
      const at = formatDateTime(frame.atMs, 'short');
      const figure = h(
        'figure',
        { class: 'health-frame' },
        h('img', { src: frame.canvas.toDataURL('image/jpeg', 0.8), alt: t('health.frameAlt', { name: camera.name, at }), width: frame.canvas.width, height: frame.canvas.height, 'data-at-ms': frame.atMs }),
        h('figcaption', {}, t('health.frameAt', { at })),
      );
      this.#shown.set(cameraId, figure);
      // The row may have been drawn again meanwhile: put it in the current one.
      this.#body.querySelector(`tr[data-camera-id="${CSS.escape(cameraId)}"] th`)?.append(figure);
    });
  }
}

/** A data cell that names its column (the phone layout shows cards, not the table's header). */
function cell(label: MessageKey, content: Node | string): HTMLTableCellElement {
  return h('td', { 'data-label': t(label) }, content);
}

function stateText(c: CameraHealth): string {
  const since = c.sinceMs !== undefined ? formatDateTime(c.sinceMs, 'short') : undefined;
  let text: string;
  if (c.state === 'not_recording') text = since ? t('health.state.notRecordingSince', { since }) : t('health.state.notRecording');
  else if (c.state === 'offline') text = since ? t('health.state.offlineSince', { since }) : t('health.state.offline');
  else if (!c.recording.enabled) text = t('health.state.recordingOff');
  else if (c.recording.gapsToday > 0) text = t('health.state.gaps', { n: c.recording.gapsToday });
  else text = t('health.state.live');
  return c.heldBy ? `${text} ${t('health.heldBy', { node: c.heldBy })}` : text;
}

function lagText(c: CameraHealth): string {
  const { spoolLagMs, uploadLagMs } = c.recording;
  if (spoolLagMs === undefined && uploadLagMs === undefined) return '—';
  const seconds = (ms: number | undefined) => (ms === undefined ? '—' : t('health.seconds', { n: (ms / 1000).toFixed(ms < 10_000 ? 1 : 0) }));
  return t('health.lag', { spool: seconds(spoolLagMs), upload: seconds(uploadLagMs) });
}
