// In and out marks of the playback page: set at the playhead, shown on the timeline, used by
// export, "download now" and clip shares.
import { Emitter } from './emitter.ts';
import { bindText, formatDuration, formatRange, onLocaleChange } from './i18n.ts';
import { h, tx } from './ui.ts';

export interface Range {
  fromMs: number;
  toMs: number;
}

export interface MarksEvents {
  change: [{ inMs?: number; outMs?: number }];
}

export class Marks extends Emitter<MarksEvents> {
  readonly el: HTMLElement;
  readonly #label: HTMLElement;
  readonly #offLocale: () => void;
  #in: number | undefined;
  #out: number | undefined;

  constructor(playhead: () => number | undefined) {
    super();
    const markIn = tx('button', 'marks.in', { type: 'button', class: 'small', id: 'mark-in' });
    const markOut = tx('button', 'marks.out', { type: 'button', class: 'small', id: 'mark-out' });
    const clear = tx('button', 'marks.clear', { type: 'button', class: 'small link', id: 'mark-clear' });
    this.#label = h('span', { class: 'marks-range muted' });
    markIn.addEventListener('click', () => {
      const at = playhead();
      if (at !== undefined) this.set(at, this.#out !== undefined && this.#out <= at ? undefined : this.#out);
    });
    markOut.addEventListener('click', () => {
      const at = playhead();
      if (at !== undefined) this.set(this.#in !== undefined && this.#in >= at ? undefined : this.#in, at);
    });
    clear.addEventListener('click', () => this.set(undefined, undefined));
    this.el = h('div', { class: 'toolbar marks' }, markIn, markOut, this.#label, clear);
    this.#offLocale = onLocaleChange(() => this.#render());
    this.#render();
  }

  get inMs(): number | undefined {
    return this.#in;
  }
  get outMs(): number | undefined {
    return this.#out;
  }
  /** Both marks, in order; undefined until both are set. */
  range(): Range | undefined {
    if (this.#in === undefined || this.#out === undefined || this.#out <= this.#in) return undefined;
    return { fromMs: this.#in, toMs: this.#out };
  }

  set(inMs: number | undefined, outMs: number | undefined): void {
    this.#in = inMs === undefined ? undefined : Math.round(inMs);
    this.#out = outMs === undefined ? undefined : Math.round(outMs);
    this.#render();
    this.emit('change', { inMs: this.#in, outMs: this.#out });
  }

  close(): void {
    this.#offLocale();
    this.removeAllListeners();
    this.el.remove();
  }

  #render(): void {
    const r = this.range();
    if (r) bindText(this.#label, 'marks.range', { range: formatRange(r.fromMs, r.toMs), duration: formatDuration(r.toMs - r.fromMs) });
    else bindText(this.#label, this.#in !== undefined || this.#out !== undefined ? 'marks.half' : 'marks.none');
  }
}
