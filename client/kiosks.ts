// The administration panel's "kiosk displays" section: create a display (name, cameras, layout,
// rotation), whose link is shown once with a copy button; list them; give one a new link (the
// old one stops working); revoke one (its screens stop at once). Its cameras are chosen by search
// and named by id in the list: the organisation's whole camera list is never read here.
import { absoluteUrl, api, LAYOUTS, type Kiosk, type Layout } from './api.ts';
import { CameraChooser, ChosenCameras } from './cameraChooser.ts';
import { bindAttr, bindText, t } from './i18n.ts';
import { busy, copyButton, errorMessage, h, Notice, tx } from './ui.ts';

const DEFAULT_ROTATE_S = 15;

export class KioskAdmin {
  readonly el: HTMLElement;
  readonly #cameraBox: HTMLFieldSetElement;
  readonly #rows: HTMLTableSectionElement;
  readonly #linkBox: HTMLElement;
  readonly #notice = new Notice('alert');
  /** Names of the displays' cameras and of those chosen in the form, by id. */
  readonly #names = new Map<string, string>();
  readonly #chosen: ChosenCameras;
  #kiosks: Kiosk[] = [];

  constructor() {
    this.#chosen = new ChosenCameras(
      (camera) => ({ key: 'kiosk.admin.removeCamera', params: { camera } }),
      (id) => {
        this.#choose(this.#chosen.ids.filter((c) => c !== id));
        chooser.input.focus();
      },
    );
    const chooser = new CameraChooser({
      label: { key: 'kiosk.admin.addCamera' },
      exclude: () => new Set(this.#chosen.ids),
      onPick: (camera) => {
        this.#names.set(camera.id, camera.name);
        this.#choose([...this.#chosen.ids, camera.id]);
      },
    });
    this.#cameraBox = h('fieldset', { class: 'kiosk-cameras', id: 'kiosk-cameras' }, tx('legend', 'kiosk.admin.cameras'), this.#chosen.el, chooser.el);
    this.#rows = h('tbody');
    this.#linkBox = h('div', { class: 'secret-box', hidden: true, role: 'status', id: 'kiosk-link' });
    const table = h(
      'table',
      { class: 'admin-table', id: 'admin-kiosks' },
      h('thead', {}, h('tr', {}, tx('th', 'kiosk.admin.name'), tx('th', 'kiosk.admin.cameras'), tx('th', 'kiosk.admin.layout'), tx('th', 'kiosk.admin.rotate'), h('th'))),
      this.#rows,
    );
    this.el = h(
      'div',
      { class: 'kiosk-admin', id: 'admin-kiosk-section' },
      tx('h3', 'kiosk.admin.title'),
      tx('p', 'kiosk.admin.help', { class: 'muted small-text' }),
      this.#form(),
      this.#notice.el,
      this.#linkBox,
      h('div', { class: 'table-scroll', tabindex: 0 }, table),
    );
  }

  #choose(ids: string[]): void {
    this.#chosen.set(ids.map((id) => ({ id, name: this.#names.get(id) ?? id })));
  }

  async refresh(): Promise<void> {
    try {
      this.#kiosks = await api.kiosks();
      const unnamed = this.#kiosks.flatMap((k) => k.cameraIds).filter((id) => !this.#names.has(id));
      // A camera deleted since (or not visible) keeps its id.
      for (const c of await api.camerasNamed(unnamed)) this.#names.set(c.id, c.name);
      this.#render();
    } catch (err) {
      this.#notice.show(errorMessage(err), 'error');
    }
  }

  #form(): HTMLFormElement {
    const name = h('input', { id: 'kiosk-name', required: true, maxlength: 100, autocomplete: 'off' });
    bindAttr(name, 'placeholder', 'kiosk.admin.name');
    bindAttr(name, 'aria-label', 'kiosk.admin.name');
    const layout = h('select', { id: 'kiosk-layout' });
    bindAttr(layout, 'aria-label', 'kiosk.admin.layout');
    for (const l of LAYOUTS) layout.append(h('option', { value: String(l), selected: l === 4 }, l === 1 ? '1' : `${Math.sqrt(l)}×${Math.sqrt(l)}`));
    const rotate = h('input', { id: 'kiosk-rotate', type: 'number', min: 5, max: 3600, step: 1, value: DEFAULT_ROTATE_S, required: true });
    bindAttr(rotate, 'aria-label', 'kiosk.admin.rotate');
    const submit = tx('button', 'kiosk.admin.create', { type: 'submit', class: 'primary' });
    const form = h(
      'form',
      { class: 'kiosk-form', id: 'add-kiosk' },
      h('div', { class: 'row' }, name),
      this.#cameraBox,
      h('div', { class: 'row' }, tx('span', 'kiosk.admin.layout', { class: 'toolbar-label' }), layout, tx('span', 'kiosk.admin.rotate', { class: 'toolbar-label' }), rotate, submit),
    );
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const cameraIds = this.#chosen.ids;
      this.#notice.clear();
      if (cameraIds.length === 0) {
        this.#notice.show({ key: 'kiosk.admin.pickCameras' }, 'error');
        return;
      }
      submit.disabled = true;
      try {
        const created = await api.createKiosk({ name: name.value.trim(), cameraIds, layout: Number(layout.value) as Layout, rotateSeconds: Number(rotate.value) });
        name.value = '';
        this.#choose([]);
        this.#showLink(created.kiosk.name, created.url);
        await this.refresh();
      } catch (err) {
        this.#notice.show(errorMessage(err), 'error');
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  /** The device link holds the token: shown once (the server keeps only its hash). */
  #showLink(name: string, url: string): void {
    const link = absoluteUrl(url);
    const close = tx('button', 'common.close', { type: 'button', class: 'small' });
    close.addEventListener('click', () => {
      this.#linkBox.hidden = true;
      this.#linkBox.replaceChildren();
    });
    this.#linkBox.replaceChildren(
      bindText(h('p'), 'kiosk.admin.linkOnce', { name }),
      h('p', { class: 'copy-row' }, h('a', { class: 'kiosk-url', href: link, target: '_blank', rel: 'noopener' }, link), copyButton(link, 'admin.copyLink')),
      close,
    );
    this.#linkBox.hidden = false;
    this.#linkBox.scrollIntoView({ block: 'nearest' });
  }

  #render(): void {
    if (this.#kiosks.length === 0) {
      this.#rows.replaceChildren(h('tr', {}, tx('td', 'kiosk.admin.none', { colspan: 5, class: 'muted' })));
      return;
    }
    const cameraName = (id: string) => this.#names.get(id) ?? id;
    this.#rows.replaceChildren(
      ...this.#kiosks.map((k) => {
        const rotateToken = tx('button', 'kiosk.admin.newLink', { type: 'button', class: 'small' });
        const revoke = tx('button', 'kiosk.admin.revoke', { type: 'button', class: 'small danger' });
        rotateToken.addEventListener('click', () => void this.#rotateToken(k, rotateToken));
        revoke.addEventListener('click', () => void this.#revoke(k, revoke));
        return h(
          'tr',
          { 'data-kiosk-id': k.id },
          h('td', {}, k.name),
          h('td', {}, k.cameraIds.map(cameraName).join(', ')),
          h('td', {}, k.layout === 1 ? '1' : `${Math.sqrt(k.layout)}×${Math.sqrt(k.layout)}`),
          h('td', {}, t('kiosk.admin.seconds', { seconds: k.rotateSeconds })),
          h('td', { class: 'actions' }, rotateToken, revoke),
        );
      }),
    );
  }

  async #rotateToken(k: Kiosk, button: HTMLButtonElement): Promise<void> {
    if (!confirm(t('kiosk.admin.confirmNewLink', { name: k.name }))) return;
    await busy(button, this.#notice, async () => {
      const { url } = await api.rotateKioskToken(k.id);
      this.#showLink(k.name, url);
    });
  }

  async #revoke(k: Kiosk, button: HTMLButtonElement): Promise<void> {
    if (!confirm(t('kiosk.admin.confirmRevoke', { name: k.name }))) return;
    button.disabled = true;
    this.#notice.clear();
    try {
      await api.deleteKiosk(k.id);
      this.#kiosks = this.#kiosks.filter((x) => x.id !== k.id);
      this.#render();
    } catch (err) {
      this.#notice.show(errorMessage(err), 'error');
      button.disabled = false;
    }
  }
}
