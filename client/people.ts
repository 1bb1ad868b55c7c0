// Users of the organisation for its administrators: add with a role, change the role, delete, and
// per user a grants editor — cameras and groups × rights, offering only the rights the user's role
// may hold (a viewer: live and playback). Administrators hold every right on every camera. The
// editor lists the groups and the cameras the user holds a grant on; another camera is added by
// search, so an organisation with thousands of cameras gets no row per camera.
import { adminApi, ROLE_CEILING, ROLES, type Grant, type Group, type OrgUser, type Right, type Role } from './adminApi.ts';
import { ApiError, api } from './api.ts';
import { CameraChooser } from './cameraChooser.ts';
import { bindAttr, bindText, t, type MessageKey, type Params } from './i18n.ts';
import { busy, errorMessage, h, Notice, onSubmit, tx } from './ui.ts';

/** Server codes this panel explains in its own words. */
const CONFLICTS: Record<string, MessageKey> = {
  last_admin: 'people.error.lastAdmin',
  self_delete: 'people.error.selfDelete',
  right_not_allowed_for_role: 'people.error.rightNotAllowed',
};
export function peopleError(err: unknown): string {
  const key = err instanceof ApiError ? CONFLICTS[err.code] : undefined;
  return key ? t(key) : errorMessage(err);
}

export class PeoplePanel {
  readonly el: HTMLElement;
  readonly #rows: HTMLTableSectionElement;
  readonly #notice = new Notice('alert');
  #users: OrgUser[] = [];
  #groups: Group[] = [];
  /** The user whose grants are open (one at a time keeps the table readable). */
  #openUserId: string | undefined;
  /** Their grants editor, kept while the table is redrawn: a camera row added but not ticked yet stays. */
  #editor: GrantsEditor | undefined;
  #selfId: string | undefined;

  constructor() {
    this.#rows = h('tbody');
    this.el = h(
      'section',
      { class: 'people', id: 'people' },
      tx('h3', 'admin.users'),
      tx('p', 'people.help', { class: 'muted small-text' }),
      this.#addForm(),
      this.#notice.el,
      h(
        'div',
        { class: 'table-scroll', tabindex: 0 },
        h('table', { class: 'admin-table', id: 'admin-users' }, h('thead', {}, h('tr', {}, tx('th', 'admin.username'), tx('th', 'admin.role'), h('th'))), this.#rows),
      ),
    );
  }

  setSelf(id: string): void {
    this.#selfId = id;
  }

  /** The groups the grants editor offers: an open editor updates its group rows and keeps the rest. */
  setGroups(groups: Group[]): void {
    this.#groups = groups;
    this.#editor?.setGroups(groups);
  }

  async refresh(): Promise<void> {
    try {
      this.#users = await adminApi.users();
      this.#render();
    } catch (err) {
      this.#notice.show(peopleError(err), 'error');
    }
  }

  #addForm(): HTMLFormElement {
    const username = h('input', { id: 'new-user-name', name: 'username', required: true, maxlength: 64, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' });
    bindAttr(username, 'placeholder', 'admin.username');
    bindAttr(username, 'aria-label', 'admin.username');
    const password = h('input', { id: 'new-user-password', name: 'password', type: 'password', required: true, minlength: 10, maxlength: 200, autocomplete: 'new-password' });
    bindAttr(password, 'placeholder', 'admin.password');
    bindAttr(password, 'aria-label', 'admin.password');
    const role = roleSelect('viewer');
    role.id = 'new-user-role';
    const submit = tx('button', 'admin.addUser', { type: 'submit', class: 'primary' });
    const form = h('form', { class: 'inline-form', id: 'add-user' }, username, password, role, submit);
    onSubmit(form, submit, this.#notice, async () => {
      const user = await adminApi.createUser(username.value.trim(), password.value, role.value as Role);
      username.value = '';
      password.value = '';
      this.#notice.show({ key: 'admin.userAdded', params: { name: user.username } }, 'ok');
      this.#openUserId = user.role === 'admin' ? undefined : user.id;
      await this.refresh();
    }, peopleError);
    return form;
  }

  #render(): void {
    this.#rows.replaceChildren(
      ...this.#users.flatMap((user) => {
        const role = roleSelect(user.role);
        role.classList.add('user-role');
        bindAttr(role, 'aria-label', 'people.roleOf', { name: user.username });
        role.addEventListener('change', () => void this.#setRole(user, role));
        const grants = tx('button', 'people.grants', { type: 'button', class: 'small user-grants', 'aria-expanded': String(this.#openUserId === user.id) });
        grants.hidden = user.role === 'admin';
        grants.addEventListener('click', () => {
          this.#openUserId = this.#openUserId === user.id ? undefined : user.id;
          this.#render();
        });
        // After a lockout (10 wrong passwords) or a lost phone: let them in again, or throw everyone out.
        const unlock = tx('button', 'people.unlock', { type: 'button', class: 'small user-unlock' });
        unlock.addEventListener('click', () =>
          void this.#act(unlock, async () => ({ key: (await adminApi.unlockUser(user.id)) ? 'people.unlocked' : 'people.notLocked', params: { name: user.username } })),
        );
        const signOut = tx('button', 'people.signOut', { type: 'button', class: 'small user-sign-out' });
        signOut.hidden = user.id === this.#selfId;
        signOut.addEventListener('click', () =>
          void this.#act(signOut, async () => ({ key: 'people.signedOut', params: { name: user.username, count: await adminApi.signOutUser(user.id) } })),
        );
        const remove = tx('button', 'admin.delete', { type: 'button', class: 'small danger user-delete' });
        remove.hidden = user.id === this.#selfId;
        remove.addEventListener('click', () => void this.#delete(user, remove));
        const row = h('tr', { 'data-user-id': user.id }, h('td', {}, user.username), h('td', {}, role), h('td', {}, h('div', { class: 'actions' }, grants, unlock, signOut, remove)));
        if (this.#openUserId !== user.id || user.role === 'admin') return [row];
        // The same user with the same role keeps their editor (its rows, its search, its notice).
        if (this.#editor?.userId !== user.id || this.#editor.role !== user.role) this.#editor = new GrantsEditor(user, this.#groups);
        return [row, h('tr', { class: 'grants-row' }, h('td', { colspan: 3 }, this.#editor.el))];
      }),
    );
    if (!this.#users.some((u) => u.id === this.#openUserId && u.role !== 'admin')) this.#editor = undefined;
  }

  async #setRole(user: OrgUser, select: HTMLSelectElement): Promise<void> {
    const next = select.value as Role;
    if (!confirm(t('people.confirmRole', { name: user.username, role: t(`role.${next}`) }))) {
      select.value = user.role;
      return;
    }
    select.disabled = true;
    this.#notice.clear();
    try {
      const updated = await adminApi.setRole(user.id, next);
      user.role = updated.role;
      this.#notice.show({ key: 'people.roleChanged', params: { name: user.username, role: t(`role.${updated.role}`) } }, 'ok');
      this.#render();
    } catch (err) {
      select.value = user.role;
      this.#notice.show(peopleError(err), 'error');
    } finally {
      select.disabled = false;
    }
  }

  /** A one-click action on a user: the button waits, the notice says what happened. */
  async #act(button: HTMLButtonElement, action: () => Promise<{ key: MessageKey; params: Params }>): Promise<void> {
    await busy(button, this.#notice, async () => this.#notice.show(await action(), 'ok'), peopleError);
  }

  async #delete(user: OrgUser, button: HTMLButtonElement): Promise<void> {
    if (!confirm(t('people.confirmDelete', { name: user.username }))) return;
    button.disabled = true;
    this.#notice.clear();
    try {
      await adminApi.deleteUser(user.id);
      await this.refresh();
    } catch (err) {
      this.#notice.show(peopleError(err), 'error');
      button.disabled = false;
    }
  }
}

function roleSelect(current: Role): HTMLSelectElement {
  const select = h('select', { name: 'role' });
  bindAttr(select, 'aria-label', 'admin.role');
  for (const r of ROLES) select.append(tx('option', `role.${r}`, { value: r, selected: r === current }));
  select.value = current;
  return select;
}

type Target = { cameraId: string; groupId?: undefined } | { groupId: string; cameraId?: undefined };

/**
 * One user's grants: a row per group and per camera they hold a grant on, a checkbox per right the
 * role allows; a search adds a row for another camera.
 */
class GrantsEditor {
  readonly el: HTMLElement;
  readonly userId: string;
  /** The role it was made for: its columns are that role's rights. */
  readonly role: Role;
  readonly #user: OrgUser;
  readonly #rights: readonly Right[];
  readonly #body: HTMLTableSectionElement;
  readonly #notice = new Notice('alert');
  readonly #chooser: CameraChooser;
  #grants: Grant[] = [];
  /** Camera rows shown (granted, or added by search), so the search does not offer them again. */
  readonly #cameraRows = new Map<string, HTMLTableRowElement>();
  #groups: Group[];
  /** The group rows shown, by group id, with the name each was drawn with. */
  #groupRows = new Map<string, { name: string; row: HTMLTableRowElement }>();
  #loaded = false;

  constructor(user: OrgUser, groups: Group[]) {
    this.userId = user.id;
    this.role = user.role;
    this.#groups = groups;
    this.#user = user;
    this.#rights = ROLE_CEILING[user.role];
    this.#body = h('tbody');
    const head = h('tr', {}, tx('th', 'people.target'), ...this.#rights.map((r) => tx('th', `right.${r}`, { class: 'grant-col' })));
    this.#chooser = new CameraChooser({
      label: { key: 'people.addCamera', params: { name: user.username } },
      exclude: () => new Set(this.#cameraRows.keys()),
      onPick: (camera) => {
        const row = this.#row({ cameraId: camera.id }, camera.name);
        this.#cameraRows.set(camera.id, row);
        this.#showEmpty();
        this.#body.append(row);
        row.querySelector<HTMLInputElement>('input[type=checkbox]')?.focus();
      },
    });
    this.el = h(
      'div',
      { class: 'grants-editor', id: `grants-${user.id}`, 'data-user-id': user.id },
      bindText(h('p', { class: 'muted small-text' }), 'people.ceiling', { role: t(`role.${user.role}`), rights: this.#rights.map((r) => t(`right.${r}`)).join(', ') }),
      this.#notice.el,
      h('table', { class: 'admin-table' }, h('thead', {}, head), this.#body),
      this.#chooser.el,
    );
    void this.#load();
  }

  /**
   * The organisation's groups changed (one added, renamed or deleted on this page): their rows
   * follow, in the new order; camera rows, ticked or not, and the focus in a kept row stay.
   */
  setGroups(groups: Group[]): void {
    this.#groups = groups;
    if (!this.#loaded) return; // #load draws them
    const rows = this.#drawGroups();
    // The group rows come first, in the groups' order. Only a row out of place is moved: moving a
    // row (remove, insert) would take the focus from a checkbox in it.
    let at = this.#body.firstElementChild;
    for (const row of rows) {
      if (row === at) at = at.nextElementSibling;
      else this.#body.insertBefore(row, at);
    }
    this.#showEmpty();
  }

  /** A row per group, reusing the rows of groups whose name did not change. */
  #drawGroups(): HTMLTableRowElement[] {
    const kept = this.#groupRows;
    this.#groupRows = new Map();
    for (const g of this.#groups) {
      const old = kept.get(g.id);
      this.#groupRows.set(g.id, old?.name === g.name ? old : { name: g.name, row: this.#row({ groupId: g.id }, t('people.groupLabel', { name: g.name })) });
    }
    for (const [id, { row }] of kept) if (this.#groupRows.get(id)?.row !== row) row.remove();
    return [...this.#groupRows.values()].map((g) => g.row);
  }

  /** The "no grants yet" line, shown when there is no row at all. */
  #showEmpty(): void {
    const line = this.#body.querySelector('tr[data-empty]');
    if (this.#groupRows.size > 0 || this.#cameraRows.size > 0) line?.remove();
    else if (!line) this.#body.append(h('tr', { 'data-empty': true }, tx('td', 'people.noGrants', { colspan: this.#rights.length + 1, class: 'muted' })));
  }

  async #load(): Promise<void> {
    let names: Map<string, string>;
    try {
      this.#grants = await adminApi.grants(this.#user.id);
      const granted = this.#grants.flatMap((g) => (g.cameraId ? [g.cameraId] : []));
      names = new Map((await api.camerasNamed(granted)).map((c) => [c.id, c.name]));
    } catch (err) {
      this.#notice.show(peopleError(err), 'error');
      return;
    }
    const cameraRows = this.#grants
      .flatMap((g) => (g.cameraId ? [{ id: g.cameraId, name: names.get(g.cameraId) ?? g.cameraId }] : []))
      .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }))
      .map(({ id, name }) => {
        const row = this.#row({ cameraId: id }, name);
        this.#cameraRows.set(id, row);
        return row;
      });
    // Rows added by search while the grants loaded stay, after the granted ones.
    const added = [...this.#body.querySelectorAll<HTMLTableRowElement>('tr[data-camera-row]')];
    this.#body.replaceChildren(...this.#drawGroups(), ...cameraRows, ...added);
    this.#showEmpty();
    this.#loaded = true;
    this.el.dataset.loaded = 'true';
  }

  #grantOf(key: Target): Grant | undefined {
    return this.#grants.find((g) => (key.cameraId ? g.cameraId === key.cameraId : g.groupId === key.groupId));
  }

  #row(key: Target, label: string): HTMLTableRowElement {
    const boxes = this.#rights.map((right) => {
      const box = h('input', {
        type: 'checkbox',
        'data-right': right,
        'data-camera-id': key.cameraId,
        'data-group-id': key.groupId,
        checked: this.#grantOf(key)?.rights.includes(right) ?? false,
      });
      bindAttr(box, 'aria-label', 'people.grantBox', { user: this.#user.username, target: label, right: t(`right.${right}`) });
      return box;
    });
    const save = async (changed: HTMLInputElement) => {
      const wanted = this.#rights.filter((_, i) => boxes[i]!.checked);
      for (const b of boxes) b.disabled = true;
      this.#notice.clear();
      try {
        const grant = await adminApi.setGrant({ userId: this.#user.id, ...key }, wanted);
        this.#grants = this.#grants.filter((g) => g !== this.#grantOf(key));
        if (grant) this.#grants.push(grant);
        this.#notice.show({ key: 'people.grantSaved', params: { name: this.#user.username, target: label } }, 'ok');
      } catch (err) {
        changed.checked = !changed.checked;
        this.#notice.show(peopleError(err), 'error');
      } finally {
        for (const b of boxes) b.disabled = false;
      }
    };
    for (const box of boxes) box.addEventListener('change', () => void save(box));
    return h('tr', { 'data-target': key.cameraId ?? key.groupId, 'data-camera-row': key.cameraId !== undefined }, h('td', {}, label), ...boxes.map((b) => h('td', { class: 'grant-col' }, b)));
  }
}
