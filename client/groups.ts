// Camera groups (a site, a floor) for administrators: one grant on a group covers its cameras.
import { adminApi, type CameraAccess, type Group } from './adminApi.ts';
import { bindAttr, t } from './i18n.ts';
import { errorMessage, h, Notice, onSubmit, tx } from './ui.ts';

export class GroupsPanel {
  readonly el: HTMLElement;
  readonly #list: HTMLElement;
  readonly #notice = new Notice('alert');
  readonly #onChange: (groups: Group[]) => void;
  #groups: Group[] = [];
  #cameras: Pick<CameraAccess, 'id' | 'name'>[] = [];

  /** `onChange`: the groups changed (the grants editor offers them). */
  constructor(onChange: (groups: Group[]) => void) {
    this.#onChange = onChange;
    this.#list = h('div', { class: 'group-list', id: 'group-list' });
    const name = h('input', { id: 'new-group-name', required: true, maxlength: 100 });
    bindAttr(name, 'placeholder', 'groups.name');
    bindAttr(name, 'aria-label', 'groups.name');
    const submit = tx('button', 'groups.add', { type: 'submit', class: 'primary' });
    const form = h('form', { class: 'inline-form', id: 'add-group' }, name, submit);
    onSubmit(form, submit, this.#notice, async () => {
      await adminApi.createGroup(name.value.trim(), []);
      name.value = '';
      await this.refresh();
    });
    this.el = h('section', { class: 'groups', id: 'groups' }, tx('h3', 'groups.title'), tx('p', 'groups.help', { class: 'muted small-text' }), form, this.#notice.el, this.#list);
  }

  get groups(): Group[] {
    return this.#groups;
  }

  setCameras(cameras: Pick<CameraAccess, 'id' | 'name'>[]): void {
    this.#cameras = cameras;
    this.#render();
  }

  async refresh(): Promise<void> {
    try {
      this.#groups = await adminApi.groups();
      this.#render();
      this.#onChange(this.#groups);
    } catch (err) {
      this.#notice.show(errorMessage(err), 'error');
    }
  }

  #render(): void {
    if (this.#groups.length === 0) {
      this.#list.replaceChildren(tx('p', 'groups.none', { class: 'muted' }));
      return;
    }
    this.#list.replaceChildren(...this.#groups.map((g) => this.#item(g)));
  }

  #item(group: Group): HTMLElement {
    const boxes = this.#cameras.map((c) => {
      const box = h('input', { type: 'checkbox', 'data-camera-id': c.id, checked: group.cameraIds.includes(c.id) });
      bindAttr(box, 'aria-label', 'groups.member', { camera: c.name, group: group.name });
      return { box, label: h('label', { class: 'chip' }, box, ' ', c.name), id: c.id };
    });
    const save = async () => {
      for (const b of boxes) b.box.disabled = true;
      this.#notice.clear();
      try {
        // Cameras this admin cannot see in the list (none today: admins see all) are kept.
        const others = group.cameraIds.filter((id) => !boxes.some((b) => b.id === id));
        const updated = await adminApi.updateGroup(group.id, { cameraIds: [...others, ...boxes.filter((b) => b.box.checked).map((b) => b.id)] });
        group.cameraIds = updated.cameraIds;
        this.#onChange(this.#groups);
      } catch (err) {
        for (const b of boxes) b.box.checked = group.cameraIds.includes(b.id);
        this.#notice.show(errorMessage(err), 'error');
      } finally {
        for (const b of boxes) b.box.disabled = false;
      }
    };
    for (const b of boxes) b.box.addEventListener('change', () => void save());
    const rename = tx('button', 'groups.rename', { type: 'button', class: 'small' });
    rename.addEventListener('click', async () => {
      const name = prompt(t('groups.renamePrompt'), group.name)?.trim();
      if (!name || name === group.name) return;
      try {
        await adminApi.updateGroup(group.id, { name });
        await this.refresh();
      } catch (err) {
        this.#notice.show(errorMessage(err), 'error');
      }
    });
    const remove = tx('button', 'admin.delete', { type: 'button', class: 'small danger' });
    remove.addEventListener('click', async () => {
      if (!confirm(t('groups.confirmDelete', { name: group.name }))) return;
      remove.disabled = true;
      try {
        await adminApi.deleteGroup(group.id);
        await this.refresh();
      } catch (err) {
        this.#notice.show(errorMessage(err), 'error');
        remove.disabled = false;
      }
    });
    return h(
      'div',
      { class: 'group-item', 'data-group-id': group.id },
      h('div', { class: 'group-head' }, h('strong', {}, group.name), rename, remove),
      h('div', { class: 'chips' }, ...(boxes.length ? boxes.map((b) => b.label) : [tx('span', 'admin.noCameras', { class: 'muted' })])),
    );
  }
}
