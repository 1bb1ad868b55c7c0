// The timeline under the player: a canvas showing recorded spans, shaded gaps (reason on hover),
// camera events, the in/out marks and a playhead that follows the video. Zoom by day / hour /
// minute buttons, the wheel or a pinch; drag to pan; click to seek; hover shows the time and a
// preview frame; a date picker (viewer's time zone) jumps to a day. Timeline data is fetched in
// aligned chunks (an hour when zoomed in, a day otherwise), cached in a bounded LRU, and fetched
// again for the chunk at the live edge when it gets old.
import type { Gap, TimelineData, TimelineEvent } from './api.ts';
import { Timer } from './backoff.ts';
import { bindAttr, bindText, dateInputValue, formatDateTime, hasMessage, onLocaleChange, parseDateInput, startOfDay, t, zoneOffsetMs, type MessageKey } from './i18n.ts';
import { gapReason } from './player.ts';
import { PREVIEW_HEIGHT, PREVIEW_WIDTH, type PreviewFrames } from './preview.ts';
import { h, tx } from './ui.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export type ZoomLevel = 'day' | 'hour' | 'minute';
export const ZOOM_SPANS: Record<ZoomLevel, number> = { day: DAY, hour: HOUR, minute: 5 * MINUTE };
const MIN_SPAN = MINUTE;
const MAX_SPAN = 7 * DAY;

const CACHE_CHUNKS = 48;
/** A chunk that reaches this close to now is fetched again after FRESH_MS. */
const FRESH_MS = 15_000;
const FETCH_DEBOUNCE_MS = 150;
/** After the user dragged or zoomed, the view does not follow the playhead for a while. */
const HANDS_OFF_MS = 4_000;
const DRAG_THRESHOLD_PX = 5;

const TICK_STEPS = [SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY];
const PREVIEW_SNAPS = [2 * SECOND, 5 * SECOND, 10 * SECOND, 30 * SECOND, MINUTE, 5 * MINUTE, 15 * MINUTE, HOUR];

// Canvas rows (CSS pixels).
const HEIGHT = 76;
const LABEL_Y = 13;
const BAR_TOP = 20;
const BAR_BOTTOM = 54;
const EVENT_Y = 64;

export interface TimelineOptions {
  load: (fromMs: number, toMs: number) => Promise<TimelineData>;
  onSeek: (wallMs: number) => void;
  /** Preview frames on hover, from the player's current play URL base. */
  previews?: { frames: PreviewFrames; base: () => string | undefined };
  /** A clip share: the view and the seeks stay inside. */
  bounds?: { fromMs: number; toMs: number };
  /** Where the view starts centred. */
  centerMs?: number;
  level?: ZoomLevel;
}

interface Chunk {
  data: TimelineData;
  fetchedAt: number;
}

export interface TimelineView {
  fromMs: number;
  toMs: number;
  level: ZoomLevel | undefined;
}

export class Timeline {
  readonly el: HTMLElement;
  readonly #options: TimelineOptions;
  readonly #canvas: HTMLCanvasElement;
  readonly #tip: HTMLElement;
  readonly #tipImage: HTMLCanvasElement;
  readonly #tipTime: HTMLElement;
  readonly #tipInfo: HTMLElement;
  readonly #date: HTMLInputElement;
  readonly #zoomButtons = new Map<ZoomLevel, HTMLButtonElement>();
  readonly #cache = new Map<string, Chunk>();
  readonly #inflight = new Set<string>();
  readonly #fetch = new Timer();
  readonly #resize: ResizeObserver;
  readonly #offLocale: () => void;
  readonly #pointers = new Map<number, number>();
  #viewFrom: number;
  #span: number;
  #width = 0;
  #playhead: number | undefined;
  #marks: { inMs?: number; outMs?: number } = {};
  #hoverX: number | undefined;
  #previewKey: number | undefined;
  #drag: { x: number; viewFrom: number; moved: boolean } | null = null;
  #pinch: { distance: number; span: number; centerMs: number } | null = null;
  #handsOffUntil = 0;
  #frame = 0;
  #loadErrors = 0;
  #closed = false;

  readonly #onPointerDown = (ev: PointerEvent) => this.#pointerDown(ev);
  readonly #onPointerMove = (ev: PointerEvent) => this.#pointerMove(ev);
  readonly #onPointerUp = (ev: PointerEvent) => this.#pointerUp(ev);
  readonly #onPointerLeave = () => this.#hover(undefined);
  readonly #onWheel = (ev: WheelEvent) => this.#wheel(ev);

  constructor(options: TimelineOptions) {
    this.#options = options;
    const level = options.level ?? 'hour';
    this.#span = this.#clampSpan(ZOOM_SPANS[level]);
    const center = options.centerMs ?? Date.now();
    this.#viewFrom = level === 'day' ? startOfDay(center) : center - this.#span / 2;
    this.#viewFrom = this.#clampFrom(this.#viewFrom);

    this.#canvas = h('canvas', { class: 'timeline-canvas', tabindex: 0, role: 'slider' });
    bindAttr(this.#canvas, 'aria-label', 'timeline.label');
    this.#tipImage = h('canvas', { class: 'timeline-preview', width: PREVIEW_WIDTH, height: PREVIEW_HEIGHT, hidden: true });
    this.#tipTime = h('span', { class: 'timeline-tip-time' });
    this.#tipInfo = h('span', { class: 'timeline-tip-info' });
    this.#tip = h('div', { class: 'timeline-tip', hidden: true, role: 'tooltip' }, this.#tipImage, this.#tipTime, this.#tipInfo);

    const zoom = h('div', { class: 'segmented', role: 'group' });
    bindAttr(zoom, 'aria-label', 'timeline.zoom');
    for (const l of ['day', 'hour', 'minute'] as const) {
      const b = tx('button', `timeline.${l}` as MessageKey, { type: 'button', class: 'small', 'data-zoom': l });
      b.addEventListener('click', () => this.setLevel(l));
      this.#zoomButtons.set(l, b);
      zoom.append(b);
    }
    const earlier = h('button', { type: 'button', class: 'small', 'data-pan': '-1' }, '◀');
    const later = h('button', { type: 'button', class: 'small', 'data-pan': '1' }, '▶');
    bindAttr(earlier, 'aria-label', 'timeline.earlier');
    bindAttr(later, 'aria-label', 'timeline.later');
    earlier.addEventListener('click', () => this.#panBy(-this.#span / 2));
    later.addEventListener('click', () => this.#panBy(this.#span / 2));
    this.#date = h('input', { type: 'date', class: 'timeline-date' });
    bindAttr(this.#date, 'aria-label', 'timeline.date');
    this.#date.addEventListener('change', () => {
      const day = parseDateInput(this.#date.value);
      if (day !== undefined) this.jumpToDay(day);
    });

    this.el = h(
      'div',
      { class: 'timeline' },
      h('div', { class: 'toolbar timeline-tools' }, tx('span', 'timeline.zoom', { class: 'toolbar-label' }), zoom, earlier, later, this.#date),
      h('div', { class: 'timeline-track' }, this.#canvas, this.#tip),
    );

    this.#canvas.addEventListener('pointerdown', this.#onPointerDown);
    this.#canvas.addEventListener('pointermove', this.#onPointerMove);
    this.#canvas.addEventListener('pointerup', this.#onPointerUp);
    this.#canvas.addEventListener('pointercancel', this.#onPointerUp);
    this.#canvas.addEventListener('pointerleave', this.#onPointerLeave);
    this.#canvas.addEventListener('wheel', this.#onWheel, { passive: false });
    this.#canvas.addEventListener('keydown', (ev) => {
      if (ev.key === 'ArrowLeft') this.#panBy(-this.#span / 10);
      else if (ev.key === 'ArrowRight') this.#panBy(this.#span / 10);
      else if (ev.key === '+' || ev.key === '=') this.#zoomAround(this.#viewFrom + this.#span / 2, 0.5);
      else if (ev.key === '-') this.#zoomAround(this.#viewFrom + this.#span / 2, 2);
      // A keyboard's click: play from the middle of the view (where the arrows moved it).
      else if (ev.key === 'Enter' || ev.key === ' ') this.#options.onSeek(this.#clampSeek(this.#viewFrom + this.#span / 2));
      else return;
      ev.preventDefault();
    });
    this.#resize = new ResizeObserver(() => this.#measure());
    this.#resize.observe(this.#canvas);
    this.#offLocale = onLocaleChange(() => this.#changed(false));
    this.#changed(true);
  }

  // --- Public -----------------------------------------------------------------------------------

  view(): TimelineView {
    const level = (Object.keys(ZOOM_SPANS) as ZoomLevel[]).find((l) => ZOOM_SPANS[l] === this.#span);
    return { fromMs: this.#viewFrom, toMs: this.#viewFrom + this.#span, level };
  }

  get playhead(): number | undefined {
    return this.#playhead;
  }
  get marks(): { inMs?: number; outMs?: number } {
    return { ...this.#marks };
  }

  /** What is loaded for the visible range. */
  visible(): { spans: { fromMs: number; toMs: number }[]; gaps: Gap[]; events: TimelineEvent[]; liveEdgeMs?: number } {
    const from = this.#viewFrom;
    const to = from + this.#span;
    const spans: { fromMs: number; toMs: number }[] = [];
    const gaps: Gap[] = [];
    const events: TimelineEvent[] = [];
    let liveEdgeMs: number | undefined;
    const seen = new Set<string>();
    for (const { data } of this.#chunksIn(from, to)) {
      for (const s of data.spans) if (s.toMs > from && s.fromMs < to && !seen.has(`s${s.fromMs}`)) seen.add(`s${s.fromMs}`), spans.push(s);
      for (const g of data.gaps) if (g.toMs > from && g.fromMs < to && !seen.has(`g${g.fromMs}`)) seen.add(`g${g.fromMs}`), gaps.push(g);
      for (const e of data.events) if (e.atMs >= from && e.atMs < to && !seen.has(`e${e.atMs}${e.kind}`)) seen.add(`e${e.atMs}${e.kind}`), events.push(e);
      if (data.liveEdgeMs !== undefined) liveEdgeMs = Math.max(liveEdgeMs ?? 0, data.liveEdgeMs);
    }
    const byFrom = (a: { fromMs: number }, b: { fromMs: number }) => a.fromMs - b.fromMs;
    return { spans: spans.sort(byFrom), gaps: gaps.sort(byFrom), events: events.sort((a, b) => a.atMs - b.atMs), liveEdgeMs };
  }

  setLevel(level: ZoomLevel): void {
    const anchor = this.#playhead ?? this.#viewFrom + this.#span / 2;
    this.#span = this.#clampSpan(ZOOM_SPANS[level]);
    this.#viewFrom = this.#clampFrom(level === 'day' ? startOfDay(anchor) : anchor - this.#span / 2);
    this.#changed(true);
  }

  /** Shows the whole day that starts at `dayStartMs` and plays from its beginning. */
  jumpToDay(dayStartMs: number): void {
    this.#span = this.#clampSpan(DAY);
    this.#viewFrom = this.#clampFrom(dayStartMs);
    this.#handsOffUntil = performance.now() + HANDS_OFF_MS;
    this.#changed(true);
    this.#options.onSeek(this.#clampSeek(dayStartMs));
  }

  /** Moves the playhead; the view pages along when it leaves (unless the user is looking elsewhere). */
  setPlayhead(ms: number | undefined): void {
    this.#playhead = ms;
    if (ms !== undefined && performance.now() > this.#handsOffUntil && !this.#drag && (ms < this.#viewFrom || ms > this.#viewFrom + this.#span)) {
      this.#viewFrom = this.#clampFrom(ms - this.#span * 0.2);
      this.#changed(true);
      return;
    }
    this.#schedule();
  }

  /** Centres the view on an instant (e.g. a deep link). */
  centerOn(ms: number): void {
    this.#viewFrom = this.#clampFrom(ms - this.#span / 2);
    this.#changed(true);
  }

  setMarks(marks: { inMs?: number; outMs?: number }): void {
    this.#marks = { ...marks };
    this.#schedule();
  }

  /** Forgets cached data (e.g. after the recording settings changed) and fetches again. */
  refresh(): void {
    this.#cache.clear();
    this.#changed(true);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#fetch.clear();
    this.#resize.disconnect();
    this.#offLocale();
    if (this.#frame) cancelAnimationFrame(this.#frame);
    this.#canvas.removeEventListener('pointerdown', this.#onPointerDown);
    this.#canvas.removeEventListener('pointermove', this.#onPointerMove);
    this.#canvas.removeEventListener('pointerup', this.#onPointerUp);
    this.#canvas.removeEventListener('pointercancel', this.#onPointerUp);
    this.#canvas.removeEventListener('pointerleave', this.#onPointerLeave);
    this.#canvas.removeEventListener('wheel', this.#onWheel);
    this.#cache.clear();
    this.el.remove();
  }

  // --- View -------------------------------------------------------------------------------------

  #clampSpan(span: number): number {
    const b = this.#options.bounds;
    const max = b ? Math.max(MIN_SPAN, Math.min(MAX_SPAN, (b.toMs - b.fromMs) * 1.2)) : MAX_SPAN;
    return Math.min(Math.max(span, MIN_SPAN), max);
  }

  #clampFrom(from: number): number {
    const b = this.#options.bounds;
    const now = Date.now();
    // Never further into the future than a quarter of the view.
    let f = Math.min(from, now - this.#span * 0.75);
    if (b) {
      const margin = this.#span * 0.1;
      f = Math.max(Math.min(f, b.toMs + margin - this.#span), b.fromMs - margin);
    }
    return f;
  }

  #clampSeek(ms: number): number {
    const b = this.#options.bounds;
    return b ? Math.min(Math.max(ms, b.fromMs), b.toMs - 1) : Math.min(ms, Date.now());
  }

  #panBy(deltaMs: number): void {
    this.#handsOffUntil = performance.now() + HANDS_OFF_MS;
    this.#viewFrom = this.#clampFrom(this.#viewFrom + deltaMs);
    this.#changed(true);
  }

  #zoomAround(anchorMs: number, factor: number): void {
    const ratio = (anchorMs - this.#viewFrom) / this.#span;
    this.#span = this.#clampSpan(this.#span * factor);
    this.#viewFrom = this.#clampFrom(anchorMs - ratio * this.#span);
    this.#handsOffUntil = performance.now() + HANDS_OFF_MS;
    this.#changed(true);
  }

  #changed(fetch: boolean): void {
    const center = this.#viewFrom + this.#span / 2;
    const value = dateInputValue(center);
    if (this.#date.value !== value && document.activeElement !== this.#date) this.#date.value = value;
    this.#date.max = dateInputValue(Date.now());
    const b = this.#options.bounds;
    if (b) {
      this.#date.min = dateInputValue(b.fromMs);
      this.#date.max = dateInputValue(b.toMs);
    }
    const level = this.view().level;
    for (const [l, button] of this.#zoomButtons) button.setAttribute('aria-pressed', String(l === level));
    // A slider's value is the instant it stands for: the playhead, or the view's middle.
    this.#canvas.setAttribute('aria-valuenow', String(Math.round(this.#playhead ?? center)));
    this.#canvas.setAttribute('aria-valuemin', String(Math.round(this.#viewFrom)));
    this.#canvas.setAttribute('aria-valuemax', String(Math.round(this.#viewFrom + this.#span)));
    this.#canvas.setAttribute('aria-valuetext', this.#playhead !== undefined ? formatDateTime(this.#playhead) : formatDateTime(center));
    if (fetch) this.#fetch.set(FETCH_DEBOUNCE_MS, () => this.#load());
    this.#schedule();
  }

  #measure(): void {
    const rect = this.#canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    this.#width = rect.width;
    this.#canvas.width = Math.max(1, Math.round(rect.width * dpr));
    this.#canvas.height = Math.round(HEIGHT * dpr);
    this.#schedule();
  }

  #x(ms: number): number {
    return ((ms - this.#viewFrom) / this.#span) * this.#width;
  }
  #ms(x: number): number {
    return this.#viewFrom + (x / Math.max(1, this.#width)) * this.#span;
  }

  // --- Data -------------------------------------------------------------------------------------

  #chunkSize(): number {
    return this.#span <= 3 * HOUR ? HOUR : DAY;
  }

  /** Cached chunks of any size that overlap the range. */
  *#chunksIn(from: number, to: number): Generator<Chunk> {
    for (const size of [DAY, HOUR]) {
      for (let i = Math.floor(from / size); i * size < to; i++) {
        const c = this.#cache.get(`${size}:${i}`);
        if (c) yield c;
      }
    }
  }

  #isFresh(size: number, index: number, now: number): boolean {
    const c = this.#cache.get(`${size}:${index}`);
    if (!c) return false;
    const reachesNow = (index + 1) * size > c.fetchedAt - MINUTE;
    return !reachesNow || now - c.fetchedAt < FRESH_MS;
  }

  #load(): void {
    if (this.#closed) return;
    const size = this.#chunkSize();
    const from = this.#viewFrom - this.#span / 2;
    const to = Math.min(this.#viewFrom + this.#span * 1.5, Date.now() + size);
    const now = Date.now();
    for (let i = Math.floor(from / size); i * size < to; i++) {
      const key = `${size}:${i}`;
      if (this.#inflight.has(key) || this.#isFresh(size, i, now)) continue;
      // An hour inside a fresh cached day needs no request.
      if (size === HOUR && this.#isFresh(DAY, Math.floor((i * HOUR) / DAY), now)) continue;
      this.#inflight.add(key);
      this.#options
        .load(i * size, (i + 1) * size)
        .then((data) => {
          if (this.#closed) return;
          this.#loadErrors = 0;
          this.#cache.delete(key);
          this.#cache.set(key, { data, fetchedAt: Date.now() });
          while (this.#cache.size > CACHE_CHUNKS) {
            const oldest = this.#cache.keys().next().value;
            if (oldest === undefined) break;
            this.#cache.delete(oldest);
          }
          this.#schedule();
        })
        .catch((err: unknown) => {
          this.#loadErrors += 1;
          console.warn('timeline: could not load', err);
        })
        .finally(() => this.#inflight.delete(key));
    }
    // The chunk at the live edge gets old: look again later while the page is open.
    this.#fetch.set(Math.min(60_000, FRESH_MS * (1 + this.#loadErrors)), () => this.#load());
  }

  // --- Drawing ----------------------------------------------------------------------------------

  #schedule(): void {
    if (this.#frame || this.#closed) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.#draw();
    });
  }

  #draw(): void {
    const ctx = this.#canvas.getContext('2d');
    if (!ctx || this.#width === 0) return;
    const dpr = this.#canvas.width / this.#width;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const css = getComputedStyle(this.el);
    const color = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
    const fg = color('--fg', '#1b2429');
    const muted = color('--muted', '#5d6b73');
    const line = color('--line', '#d7dee2');
    const accent = color('--accent', '#0f766e');
    const danger = color('--danger', '#b42318');
    const warn = color('--warn', '#b45309');
    const w = this.#width;
    ctx.clearRect(0, 0, w, HEIGHT);

    // Bar background: nothing known (not recorded or not loaded).
    ctx.fillStyle = line;
    ctx.fillRect(0, BAR_TOP, w, BAR_BOTTOM - BAR_TOP);

    const { spans, gaps, events, liveEdgeMs } = this.visible();
    ctx.fillStyle = accent;
    for (const s of spans) {
      const x0 = Math.max(0, this.#x(s.fromMs));
      const x1 = Math.min(w, this.#x(s.toMs));
      ctx.fillRect(x0, BAR_TOP, Math.max(1, x1 - x0), BAR_BOTTOM - BAR_TOP);
    }
    // Gaps: hatched in the warning colour.
    ctx.save();
    ctx.beginPath();
    for (const g of gaps) {
      const x0 = Math.max(0, this.#x(g.fromMs));
      const x1 = Math.min(w, this.#x(g.toMs));
      ctx.rect(x0, BAR_TOP, Math.max(1, x1 - x0), BAR_BOTTOM - BAR_TOP);
    }
    ctx.clip();
    ctx.globalAlpha = 0.25;
    ctx.fillStyle = warn;
    ctx.fillRect(0, BAR_TOP, w, BAR_BOTTOM - BAR_TOP);
    ctx.globalAlpha = 1;
    ctx.strokeStyle = warn;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let x = -BAR_BOTTOM; x < w + BAR_BOTTOM; x += 8) {
      ctx.moveTo(x, BAR_BOTTOM);
      ctx.lineTo(x + (BAR_BOTTOM - BAR_TOP), BAR_TOP);
    }
    ctx.stroke();
    ctx.restore();

    // In/out marks.
    const { inMs, outMs } = this.#marks;
    if (inMs !== undefined && outMs !== undefined) {
      ctx.fillStyle = 'rgba(37, 99, 235, 0.25)';
      const x0 = this.#x(Math.min(inMs, outMs));
      const x1 = this.#x(Math.max(inMs, outMs));
      ctx.fillRect(x0, BAR_TOP - 4, Math.max(2, x1 - x0), BAR_BOTTOM - BAR_TOP + 8);
    }
    ctx.fillStyle = '#2563eb';
    for (const [ms, dir] of [
      [inMs, 1],
      [outMs, -1],
    ] as const) {
      if (ms === undefined) continue;
      const x = this.#x(ms);
      ctx.fillRect(x - 1, BAR_TOP - 6, 2, BAR_BOTTOM - BAR_TOP + 12);
      ctx.beginPath();
      ctx.moveTo(x, BAR_TOP - 6);
      ctx.lineTo(x + 7 * dir, BAR_TOP - 6);
      ctx.lineTo(x, BAR_TOP);
      ctx.fill();
    }

    // Ticks and labels in the viewer's zone.
    const msPerPx = this.#span / Math.max(1, w);
    const step = TICK_STEPS.find((s) => s / msPerPx >= 80) ?? DAY;
    const offset = zoneOffsetMs(this.#viewFrom + this.#span / 2);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'alphabetic';
    ctx.fillStyle = muted;
    ctx.strokeStyle = muted;
    ctx.beginPath();
    for (let local = Math.ceil((this.#viewFrom + offset) / step) * step; local - offset < this.#viewFrom + this.#span; local += step) {
      const ms = local - offset;
      const x = Math.round(this.#x(ms)) + 0.5;
      const midnight = local % DAY === 0;
      ctx.moveTo(x, BAR_TOP - (midnight ? 6 : 3));
      ctx.lineTo(x, BAR_TOP);
      const label = formatDateTime(ms, step >= DAY || (midnight && step >= HOUR) ? 'monthDay' : step < MINUTE ? 'clock' : 'hm');
      ctx.fillText(label, x + 3, LABEL_Y);
    }
    ctx.stroke();

    // Events.
    for (const e of events) {
      const x = this.#x(e.atMs);
      ctx.fillStyle = e.kind === 'camera-offline' ? danger : e.kind === 'camera-online' ? accent : fg;
      ctx.beginPath();
      ctx.moveTo(x, EVENT_Y - 6);
      ctx.lineTo(x + 4, EVENT_Y + 2);
      ctx.lineTo(x - 4, EVENT_Y + 2);
      ctx.closePath();
      ctx.fill();
    }

    // Live edge.
    if (liveEdgeMs !== undefined) {
      const x = this.#x(liveEdgeMs);
      if (x >= 0 && x <= w) {
        ctx.fillStyle = '#e11d48';
        ctx.fillRect(x, BAR_TOP, 2, BAR_BOTTOM - BAR_TOP);
      }
    }

    // Hover line and playhead.
    if (this.#hoverX !== undefined) {
      ctx.fillStyle = muted;
      ctx.fillRect(this.#hoverX, BAR_TOP - 2, 1, HEIGHT - BAR_TOP);
    }
    if (this.#playhead !== undefined) {
      const x = this.#x(this.#playhead);
      if (x >= -2 && x <= w + 2) {
        ctx.fillStyle = danger;
        ctx.fillRect(x - 1, BAR_TOP - 8, 2, HEIGHT - BAR_TOP + 8);
        ctx.beginPath();
        ctx.moveTo(x - 5, BAR_TOP - 8);
        ctx.lineTo(x + 5, BAR_TOP - 8);
        ctx.lineTo(x, BAR_TOP - 2);
        ctx.fill();
      }
    }
  }

  // --- Pointer ----------------------------------------------------------------------------------

  #localX(ev: PointerEvent | WheelEvent): number {
    return ev.clientX - this.#canvas.getBoundingClientRect().left;
  }

  #pointerDown(ev: PointerEvent): void {
    if (ev.pointerType === 'mouse' && ev.button !== 0) return;
    this.#canvas.setPointerCapture(ev.pointerId);
    this.#pointers.set(ev.pointerId, this.#localX(ev));
    if (this.#pointers.size === 2) {
      const [a, b] = [...this.#pointers.values()] as [number, number];
      this.#pinch = { distance: Math.max(10, Math.abs(a - b)), span: this.#span, centerMs: this.#ms((a + b) / 2) };
      this.#drag = null;
    } else if (this.#pointers.size === 1) {
      this.#drag = { x: this.#localX(ev), viewFrom: this.#viewFrom, moved: false };
    }
  }

  #pointerMove(ev: PointerEvent): void {
    const x = this.#localX(ev);
    if (this.#pointers.has(ev.pointerId)) this.#pointers.set(ev.pointerId, x);
    if (this.#pinch && this.#pointers.size === 2) {
      const [a, b] = [...this.#pointers.values()] as [number, number];
      const distance = Math.max(10, Math.abs(a - b));
      const mid = (a + b) / 2;
      this.#span = this.#clampSpan((this.#pinch.span * this.#pinch.distance) / distance);
      this.#viewFrom = this.#clampFrom(this.#pinch.centerMs - (mid / Math.max(1, this.#width)) * this.#span);
      this.#handsOffUntil = performance.now() + HANDS_OFF_MS;
      this.#changed(true);
      return;
    }
    if (this.#drag) {
      const dx = x - this.#drag.x;
      if (Math.abs(dx) >= DRAG_THRESHOLD_PX) this.#drag.moved = true;
      if (this.#drag.moved) {
        this.#viewFrom = this.#clampFrom(this.#drag.viewFrom - (dx / Math.max(1, this.#width)) * this.#span);
        this.#handsOffUntil = performance.now() + HANDS_OFF_MS;
        this.#hover(undefined);
        this.#changed(true);
        return;
      }
    }
    if (ev.pointerType !== 'touch' || this.#drag) this.#hover(x);
  }

  #pointerUp(ev: PointerEvent): void {
    const drag = this.#drag;
    this.#pointers.delete(ev.pointerId);
    if (this.#canvas.hasPointerCapture(ev.pointerId)) this.#canvas.releasePointerCapture(ev.pointerId);
    if (this.#pointers.size < 2) this.#pinch = null;
    if (this.#pointers.size === 0) {
      this.#drag = null;
      if (drag && !drag.moved && ev.type === 'pointerup') this.#options.onSeek(this.#clampSeek(this.#ms(this.#localX(ev))));
      if (ev.pointerType === 'touch') this.#hover(undefined);
    }
  }

  #wheel(ev: WheelEvent): void {
    ev.preventDefault();
    if (Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
      this.#panBy((ev.deltaX / Math.max(1, this.#width)) * this.#span);
      return;
    }
    this.#zoomAround(this.#ms(this.#localX(ev)), Math.exp(ev.deltaY * 0.002));
  }

  // --- Hover ------------------------------------------------------------------------------------

  #hover(x: number | undefined): void {
    this.#hoverX = x;
    this.#schedule();
    if (x === undefined) {
      this.#tip.hidden = true;
      return;
    }
    const ms = this.#ms(x);
    const { gaps, events } = this.visible();
    const tolerance = (6 / Math.max(1, this.#width)) * this.#span;
    const event = events.find((e) => Math.abs(e.atMs - ms) <= tolerance);
    const gap = gaps.find((g) => ms >= g.fromMs && ms < g.toMs);
    this.#tipTime.textContent = formatDateTime(ms, this.#span > 2 * DAY ? 'short' : 'clock');
    if (event) {
      const key = `event.${event.kind}`;
      const text = hasMessage(key) ? t(key, { detail: event.detail ?? '' }) : `${event.kind} ${event.detail ?? ''}`;
      this.#tipInfo.removeAttribute('data-i18n');
      this.#tipInfo.textContent = `${formatDateTime(event.atMs, 'clock')} ${text}`;
    } else if (gap) {
      bindText(this.#tipInfo, 'timeline.gap', { reason: gapReason(gap.reason), from: formatDateTime(gap.fromMs, 'clock'), to: formatDateTime(gap.toMs, 'clock') });
    } else {
      this.#tipInfo.removeAttribute('data-i18n');
      this.#tipInfo.textContent = '';
    }
    this.#tip.hidden = false;
    const tipWidth = PREVIEW_WIDTH + 8;
    this.#tip.style.left = `${Math.min(Math.max(0, x - tipWidth / 2), Math.max(0, this.#width - tipWidth))}px`;
    this.#previewAt(gap ? undefined : ms);
  }

  #previewAt(ms: number | undefined): void {
    const p = this.#options.previews;
    const base = p?.base();
    if (!p || !base || ms === undefined) {
      this.#tipImage.hidden = true;
      return;
    }
    const snapMs = PREVIEW_SNAPS.find((s) => s >= (this.#span / Math.max(1, this.#width)) * 8) ?? HOUR;
    const key = Math.floor(ms / snapMs);
    this.#previewKey = key;
    const show = (frame: HTMLCanvasElement | null) => {
      if (this.#hoverX === undefined || this.#previewKey !== key) return; // the pointer moved on
      const ctx = this.#tipImage.getContext('2d');
      if (!frame || !ctx) {
        this.#tipImage.hidden = true;
        return;
      }
      ctx.drawImage(frame, 0, 0);
      this.#tipImage.hidden = false;
    };
    const cached = p.frames.cached(ms, snapMs);
    if (cached !== undefined) show(cached);
    else p.frames.request(base, ms, snapMs, show);
  }
}
