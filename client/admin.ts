// The administrators' panel under the live view: add, renew and delete cameras (a new secret is
// shown once, with the link to open on the camera device), add users, grant and revoke viewing,
// and kiosk displays (kiosks.ts).
import { api, cameraPageLink, type Camera, type Role, type UserWithGrants } from './api.ts';
import { bindAttr, bindText, t } from './i18n.ts';
import { KioskAdmin } from './kiosks.ts';
import { AuditPanel } from './audit.ts';
import { copyButton, errorMessage, h, Notice, tx } from './ui.ts';

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
  readonly #userRows: HTMLTableSectionElement;
  readonly #userHead: HTMLTableRowElement;
  readonly #userNotice = new Notice('alert');
  readonly #kiosks = new KioskAdmin();
  readonly #audit = new AuditPanel();
  #cameras: Camera[] = [];
  #users: UserWithGrants[] = [];

  constructor(options: AdminPanelOptions) {
    this.#options = options;
    this.#secretBox = h('div', { class: 'secret-box', hidden: true, role: 'status' });
    this.#cameraRows = h('tbody');
    this.#userRows = h('tbody');
    this.#userHead = h('tr');

    const cameraTable = h(
      'table',
      { class: 'admin-table', id: 'admin-cameras' },
      h('thead', {}, h('tr', {}, tx('th', 'admin.cameraName'), tx('th', 'admin.cameraId'), tx('th', 'state.live'), tx('th', 'admin.recording'), h('th'))),
      this.#cameraRows,
    );
    const userTable = h('table', { class: 'admin-table', id: 'admin-users' }, h('thead', {}, this.#userHead), this.#userRows);

    this.el = h(
      'section',
      { class: 'admin card', id: 'admin' },
      tx('h2', 'admin.title'),
      tx('h3', 'admin.cameras'),
      this.#addCameraForm(),
      this.#cameraNotice.el,
      this.#secretBox,
      h('div', { class: 'table-scroll' }, cameraTable),
      tx('h3', 'admin.users'),
      this.#addUserForm(),
      this.#userNotice.el,
      h('div', { class: 'table-scroll' }, userTable),
      this.#kiosks.el,
      this.#audit.el,
    );
    void this.#kiosks.refresh();
    void this.#audit.refresh();
  }

  setCameras(cameras: Camera[]): void {
    this.#cameras = cameras;
    this.#renderCameras();
    this.#renderUsers();
    this.#kiosks.setCameras(cameras);
    this.#audit.setCameras(cameras);
  }

  async refreshUsers(): Promise<void> {
    try {
      this.#users = await api.users();
      this.#renderUsers();
    } catch (err) {
      this.#userNotice.show(errorMessage(err), 'error');
    }
  }

  // --- Cameras ----------------------------------------------------------------------------------

  #addCameraForm(): HTMLFormElement {
    const name = h('input', { id: 'new-camera-name', name: 'name', required: true, maxlength: 100 });
    bindAttr(name, 'placeholder', 'admin.cameraName');
    bindAttr(name, 'aria-label', 'admin.cameraName');
    const submit = tx('button', 'admin.addCamera', { type: 'submit', class: 'primary' });
    const form = h('form', { class: 'inline-form', id: 'add-camera' }, name, submit);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      this.#cameraNotice.clear();
      try {
        const { camera, secret } = await api.createCamera(name.value.trim());
        name.value = '';
        this.#showSecret(camera, secret);
        await this.#options.onCamerasChanged();
      } catch (err) {
        this.#cameraNotice.show(errorMessage(err), 'error');
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  /** The secret is shown once (the server keeps only its hash), with the link for the camera device. */
  #showSecret(camera: Camera, secret: string): void {
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
        const rotate = tx('button', 'admin.rotate', { type: 'button', class: 'small' });
        const remove = tx('button', 'admin.delete', { type: 'button', class: 'small danger' });
        const publish = tx('a', 'admin.publishHere', { href: `camera.html#id=${encodeURIComponent(camera.id)}`, class: 'small' });
        rotate.addEventListener('click', () => void this.#rotate(camera, rotate));
        remove.addEventListener('click', () => void this.#delete(camera, remove));
        return h(
          'tr',
          { 'data-camera-id': camera.id },
          h('td', {}, camera.name),
          h('td', {}, h('code', {}, camera.id)),
          h('td', {}, h('span', { class: 'dot', 'data-live': String(camera.live) })),
          h('td', { class: 'recording' }, ...this.#recordingControls(camera)),
          h('td', { class: 'actions' }, rotate, remove, publish),
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

  async #rotate(camera: Camera, button: HTMLButtonElement): Promise<void> {
    if (!confirm(t('admin.confirmRotate', { name: camera.name }))) return;
    button.disabled = true;
    this.#cameraNotice.clear();
    try {
      this.#showSecret(camera, await api.rotateSecret(camera.id));
    } catch (err) {
      this.#cameraNotice.show(errorMessage(err), 'error');
    } finally {
      button.disabled = false;
    }
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

  // --- Users and grants -------------------------------------------------------------------------

  #addUserForm(): HTMLFormElement {
    const username = h('input', { id: 'new-user-name', name: 'username', required: true, maxlength: 64, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' });
    bindAttr(username, 'placeholder', 'admin.username');
    bindAttr(username, 'aria-label', 'admin.username');
    const password = h('input', { id: 'new-user-password', name: 'password', type: 'password', required: true, minlength: 10, maxlength: 200, autocomplete: 'new-password' });
    bindAttr(password, 'placeholder', 'admin.password');
    bindAttr(password, 'aria-label', 'admin.password');
    const role = h('select', { id: 'new-user-role', name: 'role' });
    bindAttr(role, 'aria-label', 'admin.role');
    for (const r of ['viewer', 'admin'] as const) role.append(tx('option', `role.${r}`, { value: r }));
    const submit = tx('button', 'admin.addUser', { type: 'submit', class: 'primary' });
    const form = h('form', { class: 'inline-form', id: 'add-user' }, username, password, role, submit);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      this.#userNotice.clear();
      try {
        const user = await api.createUser(username.value.trim(), password.value, role.value as Role);
        username.value = '';
        password.value = '';
        this.#userNotice.show({ key: 'admin.userAdded', params: { name: user.username } }, 'ok');
        await this.refreshUsers();
      } catch (err) {
        this.#userNotice.show(errorMessage(err), 'error');
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  #renderUsers(): void {
    this.#userHead.replaceChildren(
      tx('th', 'admin.username'),
      tx('th', 'admin.role'),
      ...this.#cameras.map((c) => h('th', { class: 'grant-col' }, c.name)),
    );
    this.#userRows.replaceChildren(
      ...this.#users.map((user) => {
        const cells =
          user.role === 'admin'
            ? [tx('td', 'admin.allCameras', { colspan: Math.max(1, this.#cameras.length), class: 'muted' })]
            : this.#cameras.map((camera) => {
                const box = h('input', { type: 'checkbox', 'data-camera-id': camera.id, 'data-user-id': user.id, checked: user.cameraIds.includes(camera.id) });
                bindAttr(box, 'aria-label', 'admin.grant', { user: user.username, camera: camera.name });
                box.addEventListener('change', () => void this.#setGrant(user, camera, box));
                return h('td', { class: 'grant-col' }, box);
              });
        return h('tr', { 'data-user-id': user.id }, h('td', {}, user.username), tx('td', `role.${user.role}`), ...cells);
      }),
    );
  }

  async #setGrant(user: UserWithGrants, camera: Camera, box: HTMLInputElement): Promise<void> {
    const allow = box.checked;
    box.disabled = true;
    this.#userNotice.clear();
    try {
      if (allow) await api.grant(camera.id, user.id);
      else await api.revoke(camera.id, user.id);
      user.cameraIds = allow ? [...user.cameraIds, camera.id] : user.cameraIds.filter((id) => id !== camera.id);
    } catch (err) {
      box.checked = !allow;
      this.#userNotice.show(errorMessage(err), 'error');
    } finally {
      box.disabled = false;
    }
  }
}
