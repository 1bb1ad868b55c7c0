// Camera groups (a site, a floor) for administrators: one grant on a group covers its cameras.
// Groups nest (sites → buildings → floors): the list is shown as an indented tree, and each group
// can be created under, or moved to, another (the server refuses loops and trees past 8 levels).
// A group's cameras are listed when its "Cameras" part is opened, and added by search: an
// organisation with thousands of cameras in dozens of groups gets no checkbox per camera and group.
import { adminApi, type Group } from './adminApi.ts';
import { api } from './api.ts';
import { CameraChooser, ChosenCameras } from './cameraChooser.ts';
import { bindAttr, bindText, t } from './i18n.ts';
import { errorMessage, h, Notice, onSubmit, tx } from './ui.ts';

/** Indentation per level of the tree (rem). */
const INDENT_REM = 1.5;

export class GroupsPanel {
  readonly el: HTMLElement;
  readonly #list: HTMLElement;
  readonly #notice = new Notice('alert');
  readonly #onChange: (groups: Group[]) => void;
  #groups: Group[] = [];
  /** Groups whose cameras are shown: they stay open when the list is drawn again. */
  readonly #membersOpen = new Set<string>();
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

  /** A group's cameras, read when opened: chips that remove one, and a search that adds one. */
  #members(group: Group): HTMLDetailsElement {
    const summary = h('summary', {});
    /** Names of the members this administrator may see (others are kept as they are). */
    let names = new Map<string, string>();
    /** Changes under way: each is sent after the one before, on the members as they are then. */
    let saving = 0;
    let queue = Promise.resolve();
    const show = () => {
      bindText(summary, 'groups.members', { n: group.cameraIds.length });
      chips.set(group.cameraIds.flatMap((id) => (names.has(id) ? [{ id, name: names.get(id)! }] : [])), saving > 0);
    };
    const change = (edit: (cameraIds: string[]) => string[]) => {
      saving += 1;
      show();
      queue = queue.then(async () => {
        this.#notice.clear();
        try {
          group.cameraIds = (await adminApi.updateGroup(group.id, { cameraIds: edit(group.cameraIds) })).cameraIds;
          this.#onChange(this.#groups);
        } catch (err) {
          this.#notice.show(errorMessage(err), 'error');
        } finally {
          saving -= 1;
          show();
        }
      });
    };
    const chips = new ChosenCameras(
      (camera) => ({ key: 'groups.removeMember', params: { camera, group: group.name } }),
      (id) => {
        change((ids) => ids.filter((c) => c !== id));
        // The chip goes: the focus moves to the search rather than to the page's start.
        chooser.input.focus();
      },
    );
    const chooser = new CameraChooser({
      label: { key: 'groups.addMember', params: { group: group.name } },
      exclude: () => new Set(group.cameraIds),
      onPick: (camera) => {
        names.set(camera.id, camera.name);
        change((ids) => (ids.includes(camera.id) ? ids : [...ids, camera.id]));
      },
    });
    const details = h('details', { class: 'group-members', 'data-group-members': group.id }, summary, chips.el, chooser.el);
    let loading: Promise<void> | undefined;
    const load = () =>
      (loading ??= (async () => {
        try {
          names = new Map((await api.camerasNamed(group.cameraIds)).map((c) => [c.id, c.name]));
          details.dataset.loaded = 'true';
          show();
        } catch (err) {
          loading = undefined;
          this.#notice.show(errorMessage(err), 'error');
        }
      })());
    details.addEventListener('toggle', () => {
      if (details.open) {
        this.#membersOpen.add(group.id);
        void load();
      } else {
        this.#membersOpen.delete(group.id);
        chooser.close();
      }
    });
    show();
    // Setting `open` fires 'toggle' too, which loads the names.
    if (this.#membersOpen.has(group.id)) details.open = true;
    return details;
  }

  #item(group: Group, level: number): HTMLElement {
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
      this.#members(group),
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
