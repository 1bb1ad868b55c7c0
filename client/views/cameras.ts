// The Cameras view, for administrators: add a camera (its secret is shown once, with the link to
// open on the camera device), continuous recording and its retention per camera, renew a secret
// (the old one keeps working for a chosen grace period), delete. The list is a page of the
// server's (50 cameras, searched and paged there), so an organisation with thousands of cameras
// opens this view as fast as one with ten; read when the view opens and after each change made here.
import { adminApi } from '../adminApi.ts';
import { api, cameraPageLink, type Camera } from '../api.ts';
import { bindAttr, bindText, formatDateTime, t } from '../i18n.ts';
import { Timer } from '../backoff.ts';
import { busy, copyButton, errorMessage, h, Notice, onSubmit, tx } from '../ui.ts';
import { viewFrame, type View } from './frame.ts';

/** Cameras per page of the table. */
const PAGE_SIZE = 50;
/** A search starts this long after the last keystroke. */
const SEARCH_DELAY_MS = 200;

export class CamerasView implements View {
  readonly el: HTMLElement;
  readonly #secretBox: HTMLElement;
  readonly #rows: HTMLTableSectionElement;
  readonly #notice = new Notice('alert');
  readonly #search: HTMLInputElement;
  readonly #range: HTMLElement;
  readonly #prev: HTMLButtonElement;
  readonly #next: HTMLButtonElement;
  readonly #typing = new Timer();
  #cameras: Camera[] = [];
  /** The cursor of each page seen so far (the first page has none): Previous goes back through them. */
  #cursors: (string | undefined)[] = [undefined];
  #page = 0;
  #nextCursor: string | null = null;
  #total = 0;
  /** Answers to older requests (typing, paging quickly) are dropped. */
  #asked = 0;
  #closed = false;

  constructor() {
    this.#search = h('input', { type: 'search', id: 'admin-camera-search', autocomplete: 'off' });
    bindAttr(this.#search, 'placeholder', 'camerasView.search');
    bindAttr(this.#search, 'aria-label', 'camerasView.search');
    this.#search.addEventListener('input', () => this.#typing.set(SEARCH_DELAY_MS, () => this.#goTo(0, true)));
    this.#range = h('span', { class: 'page-label', role: 'status' });
    this.#prev = tx('button', 'grid.prev', { type: 'button', class: 'small', id: 'admin-cameras-prev' });
    this.#next = tx('button', 'grid.next', { type: 'button', class: 'small', id: 'admin-cameras-next' });
    this.#prev.addEventListener('click', () => this.#goTo(this.#page - 1));
    this.#next.addEventListener('click', () => this.#goTo(this.#page + 1));
    this.#secretBox = h('div', { class: 'secret-box', hidden: true, role: 'status' });
    this.#rows = h('tbody');
    const table = h(
      'table',
      { class: 'admin-table', id: 'admin-cameras' },
      h('thead', {}, h('tr', {}, tx('th', 'admin.cameraName'), tx('th', 'admin.cameraId'), tx('th', 'state.live'), tx('th', 'admin.recording'), h('th'))),
      this.#rows,
    );
    this.el = viewFrame('cameras', 'nav.cameras');
    this.el.append(
      this.#addForm(),
      this.#notice.el,
      this.#secretBox,
      h('div', { class: 'toolbar' }, this.#search, h('div', { class: 'pager' }, this.#prev, this.#range, this.#next)),
      h('div', { class: 'table-scroll', tabindex: 0 }, table),
    );
    void this.refresh();
  }

  /** Reads the page shown again (after a change, or when the view opens). */
  async refresh(): Promise<void> {
    const asked = ++this.#asked;
    try {
      const page = await api.cameraPage({ limit: PAGE_SIZE, cursor: this.#cursors[this.#page], q: this.#search.value.trim() || undefined });
      if (this.#closed || asked !== this.#asked) return;
      if (page.cameras.length === 0 && this.#page > 0) return this.#goTo(this.#page - 1); // its last cameras were deleted
      this.#cameras = page.cameras;
      this.#nextCursor = page.nextCursor ?? null;
      this.#total = page.total ?? page.cameras.length;
      this.#render();
    } catch (err) {
      this.#notice.show(errorMessage(err), 'error');
    }
  }

  close(): void {
    this.#closed = true;
    this.#typing.clear();
    this.el.remove();
  }

  /** `fresh`: a new search, from its first page. */
  #goTo(page: number, fresh = false): void {
    if (fresh) {
      this.#cursors = [undefined];
      this.#page = 0;
    } else if (page > this.#page) {
      if (this.#nextCursor === null) return;
      this.#cursors[page] = this.#nextCursor;
      this.#page = page;
    } else {
      this.#page = Math.max(0, page);
    }
    void this.refresh();
  }

  #addForm(): HTMLFormElement {
    const name = h('input', { id: 'new-camera-name', name: 'name', required: true, maxlength: 100 });
    bindAttr(name, 'placeholder', 'admin.cameraName');
    bindAttr(name, 'aria-label', 'admin.cameraName');
    const submit = tx('button', 'admin.addCamera', { type: 'submit', class: 'primary' });
    const form = h('form', { class: 'inline-form', id: 'add-camera' }, name, submit);
    onSubmit(form, submit, this.#notice, async () => {
      const { camera, secret } = await api.createCamera(name.value.trim());
      name.value = '';
      this.#showSecret(camera, secret);
      await this.refresh();
    });
    return form;
  }

  /** The secret is shown once (the server keeps only its hash), with the link for the camera device. */
  #showSecret(camera: Camera, secret: string, rotated?: { previousValidUntilMs?: number }): void {
    const link = cameraPageLink(camera.id, secret);
    const close = tx('button', 'common.close', { type: 'button', class: 'small' });
    close.addEventListener('click', () => {
      this.#secretBox.hidden = true;
      this.#secretBox.replaceChildren();
    });
    this.#secretBox.replaceChildren(
      bindText(h('p'), 'admin.secretOnce', { name: camera.name }),
      h('p', { class: 'copy-row' }, h('code', { class: 'secret', 'data-camera-id': camera.id }, secret), copyButton(secret)),
      tx('p', 'admin.cameraLink'),
      h('p', { class: 'copy-row' }, h('a', { class: 'camera-link', href: link, target: '_blank', rel: 'noopener' }, link), copyButton(link, 'admin.copyLink')),
      ...(rotated === undefined
        ? []
        : rotated.previousValidUntilMs === undefined
          ? [tx('p', 'admin.oldSecretStopped', { class: 'old-secret' })]
          : [bindText(h('p', { class: 'old-secret' }), 'admin.oldSecretUntil', { at: formatDateTime(rotated.previousValidUntilMs, 'datetime') })]),
      close,
    );
    this.#secretBox.hidden = false;
    this.#secretBox.scrollIntoView({ block: 'nearest' });
  }

  #render(): void {
    const from = this.#page * PAGE_SIZE;
    bindText(this.#range, 'camerasView.range', { from: this.#cameras.length ? from + 1 : 0, to: from + this.#cameras.length, total: this.#total });
    this.#prev.disabled = this.#page === 0;
    this.#next.disabled = this.#nextCursor === null;
    if (this.#cameras.length === 0) {
      this.#rows.replaceChildren(h('tr', {}, tx('td', this.#search.value.trim() ? 'camerasView.noMatch' : 'admin.noCameras', { colspan: 5 })));
      return;
    }
    this.#rows.replaceChildren(
      ...this.#cameras.map((camera) => {
        const rotate = tx('button', 'admin.rotate', { type: 'button', class: 'small rotate-secret' });
        const grace = graceSelect();
        const remove = tx('button', 'admin.delete', { type: 'button', class: 'small danger' });
        const publish = tx('a', 'admin.publishHere', { href: `camera.html#id=${encodeURIComponent(camera.id)}`, class: 'small' });
        rotate.addEventListener('click', () => void this.#rotate(camera, rotate, Number(grace.value)));
        remove.addEventListener('click', () => void this.#delete(camera, remove));
        return h(
          'tr',
          { 'data-camera-id': camera.id },
          h('td', {}, camera.name),
          h('td', {}, h('code', {}, camera.id)),
          h('td', {}, h('span', { class: 'dot', 'data-live': String(camera.live) })),
          h('td', { class: 'recording' }, ...this.#recordingControls(camera)),
          h('td', { class: 'actions' }, grace, rotate, remove, publish),
        );
      }),
    );
  }

  /** Continuous recording on/off and the retention plan (7, 30 or 90 days). */
  #recordingControls(camera: Camera): HTMLElement[] {
    const enabled = h('input', { type: 'checkbox', class: 'recording-enabled' });
    enabled.checked = camera.recording.enabled;
    const label = h('label', {}, enabled, ' ', bindText(h('span'), 'admin.recordingOn'));
    const retention = h('select', { class: 'recording-retention' });
    bindAttr(retention, 'aria-label', 'admin.retention');
    const plans = [...new Set([7, 30, 90, camera.recording.retentionDays])].sort((a, b) => a - b);
    for (const days of plans) {
      const option = bindText(h('option', { value: String(days) }), 'admin.retentionDays', { days: String(days) });
      if (days === camera.recording.retentionDays) option.setAttribute('selected', '');
      retention.append(option);
    }
    // Saves run one after another, each sending the controls as they are then. The controls stay
    // enabled meanwhile: disabling the focused one would drop a keyboard user's focus.
    let saving = Promise.resolve();
    const saveNow = async () => {
      label.setAttribute('aria-busy', 'true');
      this.#notice.clear();
      try {
        const updated = await api.updateRecording(camera.id, { enabled: enabled.checked, retentionDays: Number(retention.value) });
        camera.recording = updated.recording;
        this.#notice.show({ key: 'admin.recordingSaved', params: { name: camera.name } }, 'ok');
      } catch (err) {
        enabled.checked = camera.recording.enabled;
        retention.value = String(camera.recording.retentionDays);
        this.#notice.show(errorMessage(err), 'error');
      } finally {
        label.removeAttribute('aria-busy');
      }
    };
    const save = () => (saving = saving.then(saveNow));
    enabled.addEventListener('change', () => void save());
    retention.addEventListener('change', () => void save());
    return [label, retention];
  }

  async #rotate(camera: Camera, button: HTMLButtonElement, graceHours: number): Promise<void> {
    if (!confirm(t(graceHours > 0 ? 'admin.confirmRotateGrace' : 'admin.confirmRotate', { name: camera.name, hours: graceHours }))) return;
    await busy(button, this.#notice, async () => {
      const { secret, previousValidUntilMs } = await adminApi.rotateSecret(camera.id, graceHours);
      this.#showSecret(camera, secret, { previousValidUntilMs });
    });
  }

  async #delete(camera: Camera, button: HTMLButtonElement): Promise<void> {
    if (!confirm(t('admin.confirmDelete', { name: camera.name }))) return;
    button.disabled = true;
    this.#notice.clear();
    try {
      await api.deleteCamera(camera.id);
      await this.refresh();
    } catch (err) {
      this.#notice.show(errorMessage(err), 'error');
      button.disabled = false;
    }
  }
}

/** How long the old secret keeps working after a renewal: none (it leaked), an hour, a day, three days, a week. */
const GRACE_HOURS = [0, 1, 24, 72, 168] as const;
function graceSelect(): HTMLSelectElement {
  const select = h('select', { class: 'rotate-grace' });
  bindAttr(select, 'aria-label', 'admin.grace');
  for (const hours of GRACE_HOURS) {
    select.append(bindText(h('option', { value: String(hours), selected: hours === 24 }), hours === 0 ? 'admin.graceNone' : 'admin.graceHours', { hours }));
  }
  return select;
}
