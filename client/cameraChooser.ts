// Choosing cameras by name where an organisation may hold thousands: a search field that asks the
// server (the camera list's `q`, a few names at a time) instead of a checkbox per camera, and the
// chosen cameras as chips with a remove button. Used by group members, a person's grants and a
// display's cameras; the screens that use them hold ids and read names with api.camerasNamed.
import { api, type Camera } from './api.ts';
import { bindAttr, bindText, type MessageKey } from './i18n.ts';
import { h } from './ui.ts';

/** Names offered at once: enough to see what matches, few enough to read. */
const OFFERED = 8;
/** Typing pauses this long before the server is asked. */
const TYPING_PAUSE_MS = 150;

let chooserCount = 0;

export interface CameraChooserOptions {
  /** The field's accessible name (and placeholder). */
  label: { key: MessageKey; params?: Record<string, string | number> };
  /** Cameras not to offer (already chosen). */
  exclude?: () => ReadonlySet<string>;
  onPick: (camera: Camera) => void;
}

/**
 * A combobox (ARIA 1.2 pattern): typing, or ArrowDown on an empty field, lists matching cameras;
 * arrows move through them, Enter or a click picks one, Escape closes the list.
 */
export class CameraChooser {
  readonly el: HTMLElement;
  readonly input: HTMLInputElement;
  readonly #list: HTMLUListElement;
  readonly #status: HTMLElement;
  readonly #options: CameraChooserOptions;
  readonly #id = `camera-chooser-${++chooserCount}`;
  #offered: Camera[] = [];
  #active = -1;
  #asked = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: CameraChooserOptions) {
    this.#options = options;
    this.input = h('input', {
      type: 'search',
      role: 'combobox',
      'aria-autocomplete': 'list',
      'aria-expanded': 'false',
      'aria-controls': `${this.#id}-list`,
      autocomplete: 'off',
      spellcheck: 'false',
      class: 'camera-chooser-input',
    });
    bindAttr(this.input, 'aria-label', options.label.key, options.label.params);
    bindAttr(this.input, 'placeholder', options.label.key, options.label.params);
    this.#list = h('ul', { role: 'listbox', id: `${this.#id}-list`, class: 'camera-chooser-list', hidden: true });
    bindAttr(this.#list, 'aria-label', options.label.key, options.label.params);
    this.#status = h('p', { class: 'muted small-text camera-chooser-status', role: 'status' });
    this.el = h('div', { class: 'camera-chooser' }, this.input, this.#list, this.#status);

    this.input.addEventListener('input', () => this.#askSoon());
    this.input.addEventListener('keydown', (ev) => this.#onKey(ev));
    this.input.addEventListener('blur', () => {
      // A click on an option lands first (its mousedown keeps the focus here).
      setTimeout(() => {
        if (document.activeElement !== this.input) this.#close();
      }, 0);
    });
    // mousedown, not click: the field keeps the focus, so the list is still there for the click.
    this.#list.addEventListener('mousedown', (ev) => ev.preventDefault());
    this.#list.addEventListener('click', (ev) => {
      const item = (ev.target as Element).closest<HTMLElement>('[data-index]');
      if (item) this.#pick(Number(item.dataset.index));
    });
  }

  /** Closes the list and forgets a search under way (the screen around it closes or hides it). */
  close(): void {
    clearTimeout(this.#timer);
    this.#close();
  }

  #onKey(ev: KeyboardEvent): void {
    const open = !this.#list.hidden;
    switch (ev.key) {
      case 'ArrowDown':
        ev.preventDefault();
        if (!open) void this.#ask();
        else this.#setActive(Math.min(this.#offered.length - 1, this.#active + 1));
        break;
      case 'ArrowUp':
        ev.preventDefault();
        if (open) this.#setActive(Math.max(0, this.#active - 1));
        break;
      case 'Enter':
        // The form around it (if any) is not submitted by a pick.
        if (open && this.#offered.length > 0) {
          ev.preventDefault();
          this.#pick(this.#active >= 0 ? this.#active : 0);
        }
        break;
      case 'Escape':
        if (open) {
          ev.preventDefault();
          ev.stopPropagation();
          this.#close();
        }
        break;
      default:
        break;
    }
  }

  #askSoon(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#ask(), TYPING_PAUSE_MS);
  }

  async #ask(): Promise<void> {
    clearTimeout(this.#timer);
    const asked = ++this.#asked;
    const q = this.input.value.trim();
    try {
      const excluded = this.#options.exclude?.() ?? new Set<string>();
      // A few more than shown, so cameras already chosen do not leave the list short.
      // The best matches first: someone typing 正門 wants 正門 before 東正門.
      const page = await api.cameraPage({ q, sort: 'match', limit: OFFERED + Math.min(excluded.size, 50) });
      if (asked !== this.#asked) return;
      this.#offered = page.cameras.filter((c) => !excluded.has(c.id)).slice(0, OFFERED);
      this.#render(page.total > page.cameras.length);
    } catch (err) {
      if (asked !== this.#asked) return;
      this.#offered = [];
      this.#list.hidden = true;
      this.input.setAttribute('aria-expanded', 'false');
      bindText(this.#status, 'chooser.failed');
      console.warn('could not search the cameras', err);
    }
  }

  #render(more: boolean): void {
    this.#list.replaceChildren(
      ...this.#offered.map((camera, index) =>
        h('li', { role: 'option', id: `${this.#id}-${index}`, 'data-index': index, 'data-camera-id': camera.id, 'aria-selected': 'false' }, camera.name),
      ),
    );
    const open = this.#offered.length > 0;
    this.#list.hidden = !open;
    this.input.setAttribute('aria-expanded', String(open));
    this.#setActive(open ? 0 : -1);
    if (!open) bindText(this.#status, 'chooser.none');
    else if (more) bindText(this.#status, 'chooser.more', { n: this.#offered.length });
    else bindText(this.#status, 'chooser.found', { n: this.#offered.length });
  }

  #setActive(index: number): void {
    this.#active = index;
    for (const [i, item] of [...this.#list.children].entries()) item.setAttribute('aria-selected', String(i === index));
    if (index >= 0) {
      this.input.setAttribute('aria-activedescendant', `${this.#id}-${index}`);
      this.#list.children[index]?.scrollIntoView({ block: 'nearest' });
    } else this.input.removeAttribute('aria-activedescendant');
  }

  #pick(index: number): void {
    const camera = this.#offered[index];
    if (!camera) return;
    this.input.value = '';
    this.#close();
    bindText(this.#status, 'chooser.picked', { name: camera.name });
    this.#options.onPick(camera);
  }

  #close(): void {
    this.#asked += 1;
    this.#offered = [];
    this.#active = -1;
    this.#list.hidden = true;
    this.#list.replaceChildren();
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }
}

/** Chosen cameras as chips, each with a button that removes it. */
export class ChosenCameras {
  readonly el: HTMLUListElement;
  readonly #removeLabel: (name: string) => { key: MessageKey; params?: Record<string, string | number> };
  readonly #onRemove: (id: string) => void;
  #cameras: Pick<Camera, 'id' | 'name'>[] = [];

  constructor(removeLabel: (name: string) => { key: MessageKey; params?: Record<string, string | number> }, onRemove: (id: string) => void) {
    this.#removeLabel = removeLabel;
    this.#onRemove = onRemove;
    this.el = h('ul', { class: 'chips chosen-cameras' });
  }

  get ids(): string[] {
    return this.#cameras.map((c) => c.id);
  }

  set(cameras: Pick<Camera, 'id' | 'name'>[], disabled = false): void {
    this.#cameras = [...cameras].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
    this.el.replaceChildren(
      ...this.#cameras.map((camera) => {
        const remove = h('button', { type: 'button', class: 'small link chip-remove', 'data-camera-id': camera.id, disabled }, '×');
        const label = this.#removeLabel(camera.name);
        bindAttr(remove, 'aria-label', label.key, label.params);
        remove.addEventListener('click', () => this.#onRemove(camera.id));
        return h('li', { class: 'chip', 'data-camera-id': camera.id }, camera.name, ' ', remove);
      }),
    );
  }
}
