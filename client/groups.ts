// Camera groups (a site, a floor) for administrators: one grant on a group covers its cameras.
// Groups nest (sites → buildings → floors): the list is shown as an indented tree, and each group
// can be created under, or moved to, another (the server refuses loops and trees past 8 levels).
import { adminApi, type CameraAccess, type Group } from './adminApi.ts';
import { bindAttr, t } from './i18n.ts';
import { errorMessage, h, Notice, onSubmit, tx } from './ui.ts';

/** Indentation per level of the tree (rem). */
const INDENT_REM = 1.5;

export class GroupsPanel {
  readonly el: HTMLElement;
  readonly #list: HTMLElement;
  readonly #notice = new Notice('alert');
  readonly #onChange: (groups: Group[]) => void;
  #groups: Group[] = [];
  #cameras: Pick<CameraAccess, 'id' | 'name'>[] = [];
  readonly #parent: HTMLSelectElement;

  /** `onChange`: the groups changed (the grants editor offers them). */
  constructor(onChange: (groups: Group[]) => void) {
    this.#onChange = onChange;
    this.#list = h('div', { class: 'group-list', id: 'group-list' });
    const name = h('input', { id: 'new-group-name', required: true, maxlength: 100 });
    bindAttr(name, 'placeholder', 'groups.name');
    bindAttr(name, 'aria-label', 'groups.name');
    this.#parent = h('select', { id: 'new-group-parent' });
    bindAttr(this.#parent, 'aria-label', 'groups.parent');
    const submit = tx('button', 'groups.add', { type: 'submit', class: 'primary' });
    const form = h('form', { class: 'inline-form', id: 'add-group' }, name, tx('label', 'groups.under', { for: 'new-group-parent' }), this.#parent, submit);
    onSubmit(form, submit, this.#notice, async () => {
      await adminApi.createGroup(name.value.trim(), [], this.#parent.value || null);
      name.value = '';
      await this.refresh();
    });
    this.#fillParents(this.#parent, undefined, '');
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
    this.#fillParents(this.#parent, undefined, this.#parent.value);
    if (this.#groups.length === 0) {
      this.#list.replaceChildren(tx('p', 'groups.none', { class: 'muted' }));
      return;
    }
    const depth = depths(this.#groups);
    this.#list.replaceChildren(...this.#groups.map((g) => this.#item(g, depth.get(g.id) ?? 0)));
  }

  /**
   * Options of a parent select: the top, then every group as an indented tree (the server lists
   * parents before their children), leaving out `moving` and everything under it.
   */
  #fillParents(select: HTMLSelectElement, moving: Group | undefined, value: string): void {
    const depth = depths(this.#groups);
    const below = moving ? descendants(this.#groups, moving.id) : new Set<string>();
    select.replaceChildren(
      tx('option', 'groups.topLevel', { value: '' }),
      ...this.#groups
        .filter((g) => g.id !== moving?.id && !below.has(g.id))
        .map((g) => h('option', { value: g.id, selected: g.id === value }, `${'\u3000'.repeat(depth.get(g.id) ?? 0)}${g.name}`)),
    );
    select.value = this.#groups.some((g) => g.id === value) ? value : '';
  }

  #item(group: Group, level: number): HTMLElement {
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
    const parent = h('select', { class: 'group-parent', 'data-group-parent': group.id });
    bindAttr(parent, 'aria-label', 'groups.parentOf', { group: group.name });
    this.#fillParents(parent, group, group.parentId ?? '');
    parent.addEventListener('change', async () => {
      parent.disabled = true;
      this.#notice.clear();
      try {
        await adminApi.updateGroup(group.id, { parentId: parent.value || null });
        await this.refresh();
      } catch (err) {
        parent.value = group.parentId ?? '';
        this.#notice.show(errorMessage(err), 'error');
      } finally {
        parent.disabled = false;
      }
    });
    const remove = tx('button', 'admin.delete', { type: 'button', class: 'small danger' });
    remove.addEventListener('click', async () => {
      const children = this.#groups.filter((g) => g.parentId === group.id).length;
      if (!confirm(t(children > 0 ? 'groups.confirmDeleteParent' : 'groups.confirmDelete', { name: group.name, n: children }))) return;
      remove.disabled = true;
      try {
        await adminApi.deleteGroup(group.id);
        await this.refresh();
      } catch (err) {
        this.#notice.show(errorMessage(err), 'error');
        remove.disabled = false;
      }
    });
    const item = h(
      'div',
      { class: 'group-item', 'data-group-id': group.id, 'data-depth': level },
      h('div', { class: 'group-head' }, h('strong', {}, group.name), tx('span', 'groups.under', { class: 'muted small-text' }), parent, rename, remove),
      h('div', { class: 'chips' }, ...(boxes.length ? boxes.map((b) => b.label) : [tx('span', 'admin.noCameras', { class: 'muted' })])),
    );
    // Through the CSSOM (allowed by the page's style policy, unlike a style attribute).
    item.style.marginInlineStart = `${level * INDENT_REM}rem`;
    return item;
  }
}

/** How deep each group sits (0 at the top); a parent that is not listed counts as the top. */
function depths(groups: readonly Group[]): Map<string, number> {
  const byId = new Map(groups.map((g) => [g.id, g]));
  const out = new Map<string, number>();
  const depthOf = (g: Group, seen: Set<string>): number => {
    const known = out.get(g.id);
    if (known !== undefined) return known;
    const parent = g.parentId ? byId.get(g.parentId) : undefined;
    const d = parent && !seen.has(parent.id) ? depthOf(parent, seen.add(g.id)) + 1 : 0;
    out.set(g.id, d);
    return d;
  };
  for (const g of groups) depthOf(g, new Set());
  return out;
}

/** Every group under `id`, at any depth. */
function descendants(groups: readonly Group[], id: string): Set<string> {
  const out = new Set<string>();
  let frontier = [id];
  while (frontier.length > 0) {
    const next = groups.filter((g) => g.parentId !== null && frontier.includes(g.parentId) && !out.has(g.id)).map((g) => g.id);
    for (const n of next) out.add(n);
    frontier = next;
  }
  return out;
}
