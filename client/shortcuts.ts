// The live view's keyboard shortcuts, and the small "?" panel that lists them. Keys act only when
// the focus is not in a text field (typing a camera's name must not page the grid) and no
// modifier is held (the browser's own shortcuts stay theirs).
import { bindAttr, type MessageKey } from './i18n.ts';
import { h, tx } from './ui.ts';

export interface ShortcutActions {
  /** Opens the single view of tile `n` (1-based) of the page shown. */
  openTile(n: number): void;
  page(delta: -1 | 1): void;
  fullScreen(): void;
  /** Back to the grid; true when there was something to go back from. */
  back(): boolean;
  focusSearch(): void;
}

/** What the help panel lists, in order: the keys as shown, and what they do. */
const HELP: readonly [keys: string, what: MessageKey][] = [
  ['1 – 9', 'shortcuts.tile'],
  ['← →', 'shortcuts.page'],
  ['F', 'shortcuts.fullScreen'],
  ['Esc', 'shortcuts.back'],
  ['/', 'shortcuts.search'],
  ['?', 'shortcuts.help'],
];

function typingIn(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && !['button', 'checkbox', 'radio', 'range', 'submit', 'reset'].includes(target.type);
}

/** Listens on the document while the live view is open; close() stops. */
export class Shortcuts {
  /** The "?" button and its panel, for the toolbar. */
  readonly el: HTMLElement;
  readonly #button: HTMLButtonElement;
  readonly #panel: HTMLElement;
  readonly #actions: ShortcutActions;
  readonly #onKey = (ev: KeyboardEvent) => this.#key(ev);

  constructor(actions: ShortcutActions) {
    this.#actions = actions;
    this.#button = h('button', { type: 'button', class: 'small shortcuts-button', 'aria-expanded': 'false', 'aria-controls': 'live-shortcuts' }, '?');
    bindAttr(this.#button, 'aria-label', 'shortcuts.title');
    bindAttr(this.#button, 'title', 'shortcuts.title');
    const list = h('dl', {});
    for (const [keys, what] of HELP) list.append(h('dt', {}, h('kbd', {}, keys)), tx('dd', what));
    this.#panel = h('div', { class: 'shortcuts-panel', id: 'live-shortcuts', role: 'region', hidden: true }, tx('h3', 'shortcuts.title'), list);
    bindAttr(this.#panel, 'aria-label', 'shortcuts.title');
    this.#button.addEventListener('click', () => this.toggleHelp());
    this.el = h('div', { class: 'shortcuts' }, this.#button, this.#panel);
    document.addEventListener('keydown', this.#onKey);
  }

  toggleHelp(show = this.#panel.hidden): void {
    this.#panel.hidden = !show;
    this.#button.setAttribute('aria-expanded', String(show));
  }

  close(): void {
    document.removeEventListener('keydown', this.#onKey);
  }

  #key(ev: KeyboardEvent): void {
    if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey || typingIn(ev.target)) return;
    const a = this.#actions;
    let handled = true;
    if (/^[1-9]$/.test(ev.key)) a.openTile(Number(ev.key));
    else if (ev.key === 'ArrowLeft') a.page(-1);
    else if (ev.key === 'ArrowRight') a.page(1);
    else if (ev.key === 'f' || ev.key === 'F') a.fullScreen();
    else if (ev.key === '/') a.focusSearch();
    else if (ev.key === '?') this.toggleHelp();
    else if (ev.key === 'Escape') handled = !this.#panel.hidden ? (this.toggleHelp(false), true) : a.back();
    else handled = false;
    if (handled) ev.preventDefault();
  }
}
