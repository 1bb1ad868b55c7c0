// Saved layouts in the live view's toolbar: open one (the organisation's, shared with everyone,
// and the user's own), save the grid on screen as a named layout (administrators may share it with
// the organisation), delete one the user may change. The layouts live on the server (/api/layouts),
// so they follow the user to another browser.
import { api, type SavedLayout, type LayoutScope } from './api.ts';
import { bindAttr, bindText, t, type MessageKey, type Params } from './i18n.ts';
import { errorMessage, h, tx } from './ui.ts';

export interface LayoutPickerOptions {
  isAdmin: boolean;
  /** A layout was chosen (null: back to the site walls). */
  onOpen: (layout: SavedLayout | null) => void;
  /** What the grid shows now, to be saved: its size and its tiles' cameras in order. */
  current: () => { size: SavedLayout['size']; cameraIds: (string | null)[] };
}

export class LayoutPicker {
  readonly el: HTMLElement;
  readonly #select: HTMLSelectElement;
  readonly #form: HTMLFormElement;
  readonly #name: HTMLInputElement;
  readonly #scope: HTMLSelectElement | undefined;
  readonly #saveButton: HTMLButtonElement;
  readonly #deleteButton: HTMLButtonElement;
  readonly #status: HTMLElement;
  readonly #options: LayoutPickerOptions;
  #layouts: SavedLayout[] = [];
  #openId: string | null = null;
  #loaded = false;

  constructor(options: LayoutPickerOptions) {
    this.#options = options;
    this.#select = h('select', { class: 'layout-select', id: 'layout-select' });
    bindAttr(this.#select, 'aria-label', 'layouts.choose');
    this.#select.addEventListener('change', () => {
      const layout = this.#layouts.find((l) => l.id === this.#select.value) ?? null;
      this.#openId = layout?.id ?? null;
      this.#renderButtons();
      this.#options.onOpen(layout);
    });
    this.#saveButton = tx('button', 'layouts.saveAs', { type: 'button', class: 'small', 'aria-expanded': 'false', 'aria-controls': 'layout-save-form' });
    this.#saveButton.addEventListener('click', () => this.#toggleForm());
    this.#deleteButton = tx('button', 'layouts.delete', { type: 'button', class: 'small danger', hidden: true });
    this.#deleteButton.addEventListener('click', () => void this.#delete());
    this.#name = h('input', { type: 'text', maxlength: 100, required: true, id: 'layout-name', autocomplete: 'off' });
    const nameLabel = tx('label', 'layouts.name', { for: 'layout-name' });
    if (options.isAdmin) {
      this.#scope = h('select', { id: 'layout-scope' });
      for (const scope of ['user', 'organisation'] as const) this.#scope.append(bindText(h('option', { value: scope }), `layouts.scope.${scope}`));
    }
    const scopeLabel = this.#scope ? tx('label', 'layouts.scope', { for: 'layout-scope' }) : null;
    this.#form = h(
      'form',
      { class: 'layout-save-form', id: 'layout-save-form', hidden: true },
      nameLabel,
      this.#name,
      scopeLabel,
      this.#scope,
      tx('button', 'layouts.save', { type: 'submit', class: 'small primary' }),
    );
    this.#form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.#save();
    });
    this.#status = h('span', { class: 'layout-status', role: 'status' });
    this.el = h('div', { class: 'layout-picker' }, this.#select, this.#saveButton, this.#deleteButton, this.#form, this.#status);
    this.render();
  }

  /** The layouts were read from the server at least once. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** The layout shown now, or null. */
  get openId(): string | null {
    return this.#openId;
  }

  layout(id: string): SavedLayout | undefined {
    return this.#layouts.find((l) => l.id === id);
  }

  /** The open layout when the user may change it (its tiles take cameras), else undefined. */
  get editable(): SavedLayout | undefined {
    const open = this.#openId ? this.layout(this.#openId) : undefined;
    return open?.editable ? open : undefined;
  }

  /** A layout as the server answered after a change. */
  replace(layout: SavedLayout): void {
    this.#layouts = this.#layouts.map((l) => (l.id === layout.id ? layout : l));
    this.render();
  }

  /** Says something in the picker's status line (a live region): a message, or an error's own text. */
  announce(message: { key: MessageKey; params?: Params } | { text: string }): void {
    if ('key' in message) bindText(this.#status, message.key, message.params);
    else {
      this.#status.removeAttribute('data-i18n');
      this.#status.textContent = message.text;
    }
  }

  async refresh(): Promise<void> {
    try {
      this.#layouts = await api.layouts();
      this.#loaded = true;
      this.render();
    } catch (err) {
      console.warn('could not load the saved layouts', err);
    }
  }

  /** Marks which layout is open (null: none, a site wall is shown). */
  setOpen(id: string | null): void {
    this.#openId = id;
    this.#select.value = id ?? '';
    this.#renderButtons();
  }

  /** The list again (also after a language change: the group labels). */
  render(): void {
    const none = bindText(h('option', { value: '' }), 'layouts.none');
    const groups: HTMLElement[] = [];
    for (const scope of ['organisation', 'user'] as const satisfies readonly LayoutScope[]) {
      const of = this.#layouts.filter((l) => l.scope === scope);
      if (of.length === 0) continue;
      const group = h('optgroup', { label: t(`layouts.scope.${scope}`) });
      for (const l of of) group.append(h('option', { value: l.id }, `${l.name} (${l.size}×${l.size})`));
      groups.push(group);
    }
    this.#select.replaceChildren(none, ...groups);
    this.#select.value = this.#openId && this.layout(this.#openId) ? this.#openId : '';
    this.#renderButtons();
  }

  #renderButtons(): void {
    const open = this.#openId ? this.layout(this.#openId) : undefined;
    this.#deleteButton.hidden = !open?.editable;
  }

  #toggleForm(show = this.#form.hidden): void {
    this.#form.hidden = !show;
    this.#saveButton.setAttribute('aria-expanded', String(show));
    if (show) this.#name.focus();
  }

  async #save(): Promise<void> {
    const name = this.#name.value.trim();
    if (!name) return;
    const { size, cameraIds } = this.#options.current();
    const scope = (this.#scope?.value ?? 'user') as LayoutScope;
    try {
      const saved = await api.createLayout({ name, scope, size, cameraIds });
      this.#layouts.push(saved);
      this.#openId = saved.id;
      this.render();
      this.#name.value = '';
      this.#toggleForm(false);
      this.announce({ key: 'layouts.saved', params: { name: saved.name } });
      this.#options.onOpen(saved);
    } catch (err) {
      this.announce({ text: errorMessage(err) });
    }
  }

  async #delete(): Promise<void> {
    const open = this.#openId ? this.layout(this.#openId) : undefined;
    if (!open?.editable) return;
    try {
      await api.deleteLayout(open.id);
      this.#layouts = this.#layouts.filter((l) => l.id !== open.id);
      this.#openId = null;
      this.render();
      this.announce({ key: 'layouts.deleted', params: { name: open.name } });
      this.#options.onOpen(null);
    } catch (err) {
      this.announce({ text: errorMessage(err) });
    }
  }
}
