// The service's nodes, for its operators (GET /api/sfu): each node's state (up, draining, no
// answer), release, load and start time, read again every 3 s while the panel lives and the tab
// is visible. A node that is up can be drained before maintenance (POST /api/nodes/:id/drain): it
// leaves the load balancer, moves its cameras to the other nodes one at a time, then stops. A
// drain in progress is highlighted with the cameras it still holds.
import { adminApi, type ClusterNode } from './adminApi.ts';
import { ApiError } from './api.ts';
import { bindAttr, formatDateTime, hasMessage, onLocaleChange, t } from './i18n.ts';
import { busy, errorMessage, h, Notice, tx } from './ui.ts';

const REFRESH_MS = 3000;

export class NodesPanel {
  readonly el: HTMLElement;
  readonly #rows: HTMLTableSectionElement;
  /** One line per node being drained. */
  readonly #status: HTMLElement;
  /** The list could not be read (cleared by the next good answer). */
  readonly #loadNotice = new Notice('alert');
  /** What a drain request ended with. */
  readonly #notice = new Notice('alert');
  /** Nodes whose drain request is on its way: their button stays disabled across redraws. */
  readonly #asking = new Set<string>();
  readonly #offLocale: () => void;
  #nodes: ClusterNode[] | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Numbers the reads, so a slow answer never replaces a newer one. */
  #reads = 0;
  #closed = false;

  constructor() {
    this.#rows = h('tbody');
    this.#status = h('div', { class: 'node-drains', role: 'status', hidden: true });
    this.el = h(
      'section',
      { class: 'nodes', id: 'nodes' },
      tx('h3', 'admin.nodes.title'),
      tx('p', 'admin.nodes.help', { class: 'muted small-text' }),
      this.#loadNotice.el,
      this.#notice.el,
      this.#status,
      h(
        'div',
        { class: 'table-scroll', tabindex: 0 },
        h(
          'table',
          { class: 'admin-table node-table', id: 'node-table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              tx('th', 'admin.nodes.node'),
              tx('th', 'admin.nodes.state'),
              tx('th', 'admin.nodes.release'),
              tx('th', 'admin.nodes.owns'),
              tx('th', 'admin.nodes.viewers'),
              tx('th', 'admin.nodes.recording'),
              tx('th', 'admin.nodes.started'),
              h('th'),
            ),
          ),
          this.#rows,
        ),
      ),
    );
    this.#render();
    this.#offLocale = onLocaleChange(() => this.#render());
    void this.#poll();
  }

  /** Reads the list now (the 3-second reads go on). */
  async refresh(): Promise<void> {
    if (this.#closed) return;
    const read = ++this.#reads;
    try {
      const nodes = await adminApi.nodes();
      if (this.#closed || read !== this.#reads) return;
      this.#nodes = nodes;
      this.#loadNotice.clear();
      this.#render();
    } catch (err) {
      if (this.#closed || read !== this.#reads) return;
      this.#loadNotice.show(errorMessage(err), 'error');
    }
  }

  /** Stops the reads; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#offLocale();
  }

  async #poll(): Promise<void> {
    this.#timer = undefined;
    if (!document.hidden) await this.refresh();
    if (!this.#closed) this.#timer = setTimeout(() => void this.#poll(), REFRESH_MS);
  }

  #render(): void {
    const nodes = this.#nodes;
    const draining = nodes?.filter((n) => n.state === 'draining') ?? [];
    this.#status.hidden = draining.length === 0;
    this.#status.replaceChildren(
      ...draining.map((n) =>
        h(
          'p',
          { class: 'notice node-drain-status', 'data-tone': 'warn', 'data-node-id': n.id },
          t(n.owns > 0 ? 'admin.nodes.drainingLeft' : 'admin.nodes.drainingDone', { node: n.id, count: n.owns }),
        ),
      ),
    );
    if (nodes === undefined || nodes.length === 0) {
      this.#rows.replaceChildren(h('tr', {}, tx('td', nodes === undefined ? 'common.loading' : 'admin.nodes.none', { colspan: 8, class: 'muted' })));
      return;
    }
    this.#rows.replaceChildren(...nodes.map((n) => this.#row(n)));
  }

  #row(node: ClusterNode): HTMLTableRowElement {
    const stateKey = `admin.nodes.state.${node.state}`;
    const self = node.self ? bindAttr(tx('span', 'admin.nodes.self', { class: 'badge node-self' }), 'title', 'admin.nodes.selfHint') : null;
    const detail =
      node.state === 'draining'
        ? h('div', { class: 'small-text' }, t('admin.nodes.left', { count: node.owns }))
        : node.state === 'dead'
          ? h('div', { class: 'small-text muted' }, t('admin.nodes.silent', { seconds: Math.round(node.silentMs / 1000) }))
          : null;
    let drain: HTMLButtonElement | null = null;
    if (node.state === 'up') {
      drain = tx('button', 'admin.nodes.drain', { type: 'button', class: 'small danger node-drain', disabled: this.#asking.has(node.id) });
      const button = drain;
      button.addEventListener('click', () => void this.#drain(node, button));
    }
    return h(
      'tr',
      { 'data-node-id': node.id, 'data-state': node.state, 'data-self': node.self },
      h('td', {}, h('code', {}, node.id), self ? ' ' : null, self),
      h('td', { class: 'node-state' }, h('span', { class: 'badge', 'data-state': node.state }, hasMessage(stateKey) ? t(stateKey) : node.state), detail),
      h('td', {}, node.release || '—'),
      h('td', { class: 'node-owns' }, String(node.owns)),
      h('td', { class: 'node-viewers' }, String(node.viewers)),
      h('td', { class: 'node-recording' }, String(node.recording)),
      h('td', {}, h('time', { datetime: new Date(node.startedAtMs).toISOString() }, formatDateTime(node.startedAtMs, 'datetime'))),
      h('td', {}, drain ? h('div', { class: 'actions' }, drain) : null),
    );
  }

  /** Asks for a confirmation and an optional reason (kept in the audit log), then asks the node to drain. */
  async #drain(node: ClusterNode, button: HTMLButtonElement): Promise<void> {
    const reason = prompt(t('admin.nodes.confirmDrain', { node: node.id, count: node.owns }), '');
    if (reason === null) return;
    this.#asking.add(node.id);
    await busy(
      button,
      this.#notice,
      async () => {
        try {
          await adminApi.drainNode(node.id, reason.trim().slice(0, 200) || undefined);
        } finally {
          this.#asking.delete(node.id);
        }
        this.#notice.show({ key: 'admin.nodes.drainStarted', params: { node: node.id } }, 'ok');
        await this.refresh();
      },
      drainError,
    );
  }
}

/** The drain route's own refusals are explained in the language, with the server's words after. */
function drainError(err: unknown): string {
  const key = err instanceof ApiError ? `admin.nodes.error.${err.code}` : '';
  return err instanceof ApiError && hasMessage(key) ? t(key, { detail: err.message }) : errorMessage(err);
}
