// The administrators' panel under the live view: add, renew and delete cameras (a new secret is
// shown once, with the link to open on the camera device; a renewal keeps the old secret working
// for a chosen grace period), users with roles and grants (people.ts), camera groups (groups.ts),
// announcements (announcements.ts), kiosk displays (kiosks.ts), integrations: API keys
// (apiKeys.ts) and webhooks (webhooks.ts), the audit log (audit.ts), and for the service's
// operators the organisations (orgs.ts) and the service's nodes with their drains (nodes.ts). The
// cameras-not-recording alerts (alerts.ts) are built here and shown by the page above the live view.
import { adminApi } from './adminApi.ts';
import { RecorderAlerts } from './alerts.ts';
import { AnnouncementsPanel } from './announcements.ts';
import { ApiKeysPanel } from './apiKeys.ts';
import { api, cameraPageLink, type Camera } from './api.ts';
import { GroupsPanel } from './groups.ts';
import { bindAttr, bindText, formatDateTime, t } from './i18n.ts';
import { NodesPanel } from './nodes.ts';
import { OrgsPanel } from './orgs.ts';
import { PeoplePanel } from './people.ts';
import { KioskAdmin } from './kiosks.ts';
import { AuditPanel } from './audit.ts';
import { WebhooksPanel } from './webhooks.ts';
import { busy, copyButton, errorMessage, h, Notice, onSubmit, tx } from './ui.ts';

export interface AdminPanelOptions {
  /** Something changed the camera list: reload it everywhere. */
  onCamerasChanged: () => Promise<void>;
}

export class AdminPanel {
  readonly el: HTMLElement;
  readonly #options: AdminPanelOptions;
  readonly #secretBox: HTMLElement;
  readonly #cameraRows: HTMLTableSectionElement;
  readonly #cameraNotice = new Notice('alert');
  readonly #alerts = new RecorderAlerts();
  readonly #people = new PeoplePanel();
  readonly #groups: GroupsPanel;
  readonly #announcements = new AnnouncementsPanel();
  readonly #kiosks = new KioskAdmin();
  readonly #apiKeys = new ApiKeysPanel();
  readonly #webhooks = new WebhooksPanel();
  readonly #audit = new AuditPanel();
  /** Platform operators only, added once who is signed in is known. */
  #nodes: NodesPanel | undefined;
  #closed = false;
  #cameras: Camera[] = [];

  constructor(options: AdminPanelOptions) {
    this.#options = options;
    this.#secretBox = h('div', { class: 'secret-box', hidden: true, role: 'status' });
    this.#cameraRows = h('tbody');
    this.#groups = new GroupsPanel((groups) => {
      this.#people.setTargets(this.#cameras, groups);
      this.#apiKeys.setGroups(groups);
    });

    const cameraTable = h(
      'table',
      { class: 'admin-table', id: 'admin-cameras' },
      h('thead', {}, h('tr', {}, tx('th', 'admin.cameraName'), tx('th', 'admin.cameraId'), tx('th', 'state.live'), tx('th', 'admin.recording'), h('th'))),
      this.#cameraRows,
    );

    this.el = h(
      'section',
      { class: 'admin card', id: 'admin' },
      tx('h2', 'admin.title'),
      tx('h3', 'admin.cameras'),
      this.#addCameraForm(),
      this.#cameraNotice.el,
      this.#secretBox,
      h('div', { class: 'table-scroll' }, cameraTable),
      this.#people.el,
      this.#groups.el,
      this.#announcements.el,
      this.#kiosks.el,
      // Other systems' access: API keys to call the service, webhooks it calls.
      h(
        'section',
        { class: 'integrations', id: 'integrations', 'aria-labelledby': 'integrations-title' },
        tx('h3', 'integrations.title', { id: 'integrations-title' }),
        tx('p', 'integrations.help', { class: 'muted small-text' }),
        this.#apiKeys.el,
        this.#webhooks.el,
      ),
      this.#audit.el,
    );
    void this.#kiosks.refresh();
    void this.#apiKeys.refresh();
    void this.#webhooks.refresh();
    void this.#groups.refresh();
    void this.#announcements.refresh();
    void this.#addOperatorParts();
    void this.#audit.refresh();
  }

  setCameras(cameras: Camera[]): void {
    this.#cameras = cameras;
    this.#renderCameras();
    this.#alerts.setCameraNames(cameras);
    this.#groups.setCameras(cameras);
    this.#people.setTargets(cameras, this.#groups.groups);
    this.#kiosks.setCameras(cameras);
    this.#audit.setCameras(cameras);
  }

  /** The cameras-not-recording alerts, for the page to show above the live view. */
  get alerts(): HTMLElement {
    return this.#alerts.el;
  }

  async refreshUsers(): Promise<void> {
    await this.#people.refresh();
  }

  close(): void {
    this.#closed = true;
    this.#alerts.close();
    this.#nodes?.close();
    this.#apiKeys.close();
    this.#webhooks.close();
  }

  /** Who is signed in decides the rest: their own row cannot be deleted; platform operators get organisations and nodes. */
  async #addOperatorParts(): Promise<void> {
    try {
      const me = await adminApi.me();
      this.#people.setSelf(me.id);
      this.#announcements.setPlatform(me.platform === true);
      if (!me.platform || this.#closed) return;
      const orgs = new OrgsPanel(me.orgId);
      this.#nodes = new NodesPanel();
      this.#announcements.el.after(orgs.el, this.#nodes.el);
      await orgs.refresh();
    } catch (err) {
      console.warn('could not load the signed-in user', err);
    }
  }

  // --- Cameras ----------------------------------------------------------------------------------

  #addCameraForm(): HTMLFormElement {
    const name = h('input', { id: 'new-camera-name', name: 'name', required: true, maxlength: 100 });
    bindAttr(name, 'placeholder', 'admin.cameraName');
    bindAttr(name, 'aria-label', 'admin.cameraName');
    const submit = tx('button', 'admin.addCamera', { type: 'submit', class: 'primary' });
    const form = h('form', { class: 'inline-form', id: 'add-camera' }, name, submit);
    onSubmit(form, submit, this.#cameraNotice, async () => {
      const { camera, secret } = await api.createCamera(name.value.trim());
      name.value = '';
      this.#showSecret(camera, secret);
      await this.#options.onCamerasChanged();
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

  #renderCameras(): void {
    if (this.#cameras.length === 0) {
      this.#cameraRows.replaceChildren(h('tr', {}, tx('td', 'admin.noCameras', { colspan: 5 })));
      return;
    }
    this.#cameraRows.replaceChildren(
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
    const save = async () => {
      enabled.disabled = retention.disabled = true;
      this.#cameraNotice.clear();
      try {
        const updated = await api.updateRecording(camera.id, { enabled: enabled.checked, retentionDays: Number(retention.value) });
        camera.recording = updated.recording;
        this.#cameraNotice.show({ key: 'admin.recordingSaved', params: { name: camera.name } }, 'ok');
      } catch (err) {
        enabled.checked = camera.recording.enabled;
        retention.value = String(camera.recording.retentionDays);
        this.#cameraNotice.show(errorMessage(err), 'error');
      } finally {
        enabled.disabled = retention.disabled = false;
      }
    };
    enabled.addEventListener('change', () => void save());
    retention.addEventListener('change', () => void save());
    return [label, retention];
  }

  async #rotate(camera: Camera, button: HTMLButtonElement, graceHours: number): Promise<void> {
    if (!confirm(t(graceHours > 0 ? 'admin.confirmRotateGrace' : 'admin.confirmRotate', { name: camera.name, hours: graceHours }))) return;
    await busy(button, this.#cameraNotice, async () => {
      const { secret, previousValidUntilMs } = await adminApi.rotateSecret(camera.id, graceHours);
      this.#showSecret(camera, secret, { previousValidUntilMs });
    });
  }

  async #delete(camera: Camera, button: HTMLButtonElement): Promise<void> {
    if (!confirm(t('admin.confirmDelete', { name: camera.name }))) return;
    button.disabled = true;
    this.#cameraNotice.clear();
    try {
      await api.deleteCamera(camera.id);
      await this.#options.onCamerasChanged();
      await this.refreshUsers();
    } catch (err) {
      this.#cameraNotice.show(errorMessage(err), 'error');
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
