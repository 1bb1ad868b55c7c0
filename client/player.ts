// The recorded-video player: hls.js (fMP4) on a <video>, fed one playback window (≤ 1 h) at a time.
// A window maps wall-clock time to media time through its `entries`; seeking inside the window
// sets currentTime, anything outside (or reaching its end) asks the server for the next window,
// fetched ahead of time so the switch is quick. Gaps are announced ("no recording at …",
// "skipped …–…"), the wall-clock time of the frame on screen is shown under the video, and a
// window that reaches the live edge says so. Errors are retried with a backoff; close() frees the
// hls.js instance, its MediaSource and every timer.
import type Hls from 'hls.js';
import type { ErrorData } from 'hls.js';

import type { Gap, PlaybackWindow } from './api.ts';
import { ApiError } from './api.ts';
import { Backoff, Timer } from './backoff.ts';
import { Emitter } from './emitter.ts';
import { formatDateTime, hasMessage, onLocaleChange, t, type MessageKey, type Params } from './i18n.ts';
import { errorMessage, h, Notice, tx } from './ui.ts';

/**
 * hls.js (over half a megabyte) is fetched when something first plays a recording: the pages that
 * only show live video (the app's Live view, kiosks, live share links) never load or parse it.
 */
let hlsModule: Promise<typeof import('hls.js')> | undefined;
const loadHls = () => (hlsModule ??= import('hls.js'));

export type PlayerState = 'idle' | 'loading' | 'playing' | 'paused' | 'buffering' | 'ended' | 'error';
export const SPEEDS = [1, 2, 4, 8, 16] as const;
export type Speed = (typeof SPEEDS)[number];

export interface PlayerNotice {
  kind: 'gap' | 'skipped' | 'end' | 'error';
  key: MessageKey;
  params: Params;
  /** The text as shown (in the language of the moment). */
  text: string;
}

export interface PlayerEvents {
  state: [PlayerState];
  /** The wall-clock time on screen changed (about 4 times a second while playing). */
  time: [wallMs: number];
  /** A new window is playing (its token also serves previews and clip downloads). */
  window: [PlaybackWindow];
}

export interface PlayerOptions {
  /** Asks the server for a window starting at `atMs` (not past `toMs`). */
  open: (atMs: number, toMs?: number) => Promise<PlaybackWindow>;
  /** A clip share: playback stays inside this range. */
  range?: { fromMs: number; toMs: number };
}

/** Ask for the next window this long before the current one ends. */
const PREFETCH_S = 20;
/** A playing window is replaced this long before its token expires (live windows play on). */
const TOKEN_MARGIN_MS = 60_000;
/** Near the end of a finished window: continue with the next one. */
const END_EPSILON_S = 0.35;
/** A 404 for the next window this close to now may only mean the index has not caught up yet. */
const NEAR_LIVE_MS = 5 * 60_000;
const WAIT_FOR_MORE_MS = 3000;

/** A gap's reason in words, falling back to the server's code for reasons we do not know yet. */
export function gapReason(reason: string): string {
  const key = `gap.${reason}`;
  return hasMessage(key) ? t(key) : reason;
}

/** The entry of a sorted window that contains the media time (binary search), or -1. */
function entryAtMedia(w: PlaybackWindow, mediaS: number): number {
  let lo = 0;
  let hi = w.entries.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const e = w.entries[mid]!;
    if (e.mediaS <= mediaS) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** The last entry that starts at or before the wall time, or -1. */
function entryAtWall(w: PlaybackWindow, wallMs: number): number {
  let lo = 0;
  let hi = w.entries.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (w.entries[mid]!.wallMs <= wallMs) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Wall-clock ms of a media time inside the window. */
export function wallAtMedia(w: PlaybackWindow, mediaS: number): number | undefined {
  if (w.entries.length === 0) return undefined;
  const i = entryAtMedia(w, mediaS);
  if (i < 0) return w.entries[0]!.wallMs;
  const e = w.entries[i]!;
  // Past the last entry: a live window's playlist grew since the reply; fragments follow on.
  return e.wallMs + (mediaS - e.mediaS) * 1000;
}

/**
 * Media time of a wall-clock instant inside the window: in an entry, or the start of the next
 * entry when it falls between two (a gap). Undefined outside the window.
 */
export function mediaAtWall(w: PlaybackWindow, wallMs: number): number | undefined {
  const first = w.entries[0];
  const last = w.entries.at(-1);
  if (!first || !last || wallMs < first.wallMs) return undefined;
  const i = entryAtWall(w, wallMs);
  const e = w.entries[i]!;
  const offsetS = (wallMs - e.wallMs) / 1000;
  if (offsetS < e.durS) return e.mediaS + offsetS;
  const next = w.entries[i + 1];
  if (next) return next.mediaS;
  if (w.live) return e.mediaS + offsetS; // the growing end of a live window
  return undefined;
}

/** Media time where the window's last entry ends. */
function mediaEnd(w: PlaybackWindow): number {
  const last = w.entries.at(-1);
  return last ? last.mediaS + last.durS : 0;
}

export class Player extends Emitter<PlayerEvents> {
  readonly el: HTMLElement;
  readonly video: HTMLVideoElement;
  readonly #options: PlayerOptions;
  readonly #clock: HTMLTimeElement;
  readonly #liveNote: HTMLElement;
  readonly #notice = new Notice('status');
  readonly #speedButtons = new Map<Speed, HTMLButtonElement>();
  readonly #backoff = new Backoff({ minMs: 1_000, maxMs: 30_000 });
  readonly #retry = new Timer();
  readonly #renew = new Timer();
  readonly #offLocale: () => void;
  #hls: Hls | null = null;
  #window: PlaybackWindow | null = null;
  #prefetch: { atMs: number; reply: Promise<PlaybackWindow> } | null = null;
  /** Bumped by every load, so the reply of an older one is dropped. */
  #generation = 0;
  #state: PlayerState = 'idle';
  #speed: Speed = 1;
  #lastNotice: PlayerNotice | null = null;
  #lastWall: number | undefined;
  /** Where the current load wants to be (shown while loading, retried after errors). */
  #target: number | undefined;
  #mediaRecoveries = 0;
  /** Whether the window being loaded starts playing (false after a seek while paused). */
  #autoplay = true;
  #closed = false;

  readonly #onTimeUpdate = () => this.#tick();
  readonly #onPlaying = () => this.#setState('playing');
  readonly #onPause = () => {
    if (this.#state !== 'ended' && this.#state !== 'loading') this.#setState('paused');
  };
  readonly #onWaiting = () => {
    if (this.#state !== 'loading') this.#setState('buffering');
  };
  readonly #onEnded = () => this.#advance();

  constructor(options: PlayerOptions) {
    super();
    this.#options = options;
    this.video = h('video', { class: 'player-video', controls: true, playsinline: true, muted: true, preload: 'auto', disablepictureinpicture: true });
    this.video.muted = true; // autoplay without a click needs it; the controls turn sound on
    this.#clock = h('time', { class: 'player-clock' });
    this.#liveNote = tx('span', 'playback.liveEdge', { class: 'badge player-live', 'data-state': 'live', hidden: true });
    const speeds = h('div', { class: 'segmented speed', role: 'group' });
    for (const s of SPEEDS) {
      const b = h('button', { type: 'button', class: 'small', 'data-speed': s }, `${s}×`);
      b.addEventListener('click', () => this.setSpeed(s));
      this.#speedButtons.set(s, b);
      speeds.append(b);
    }
    this.el = h(
      'div',
      { class: 'player' },
      h('div', { class: 'player-box' }, this.video),
      h('div', { class: 'player-bar' }, this.#clock, this.#liveNote, h('span', { class: 'player-speed' }, tx('span', 'playback.speed', { class: 'toolbar-label' }), speeds)),
      this.#notice.el,
    );
    this.video.addEventListener('timeupdate', this.#onTimeUpdate);
    this.video.addEventListener('playing', this.#onPlaying);
    this.video.addEventListener('pause', this.#onPause);
    this.video.addEventListener('waiting', this.#onWaiting);
    this.video.addEventListener('ended', this.#onEnded);
    this.#offLocale = onLocaleChange(() => {
      this.#renderClock();
      if (this.#lastNotice) this.#showNotice(this.#lastNotice.kind, this.#lastNotice.key, this.#lastNotice.params);
    });
    this.#renderSpeed();
    this.#renderClock();
  }

  get state(): PlayerState {
    return this.#state;
  }
  get window(): PlaybackWindow | null {
    return this.#window;
  }
  get speed(): Speed {
    return this.#speed;
  }
  get lastNotice(): PlayerNotice | null {
    return this.#lastNotice;
  }
  /** `<play url base>` of the current window (…/api/play/<token>), for previews and clips. */
  get playBase(): string | undefined {
    return this.#window ? this.#window.url.replace(/\/[^/]*$/, '') : undefined;
  }
  /** Video frames decoded since the player was made. */
  get decodedFrames(): number {
    return typeof this.video.getVideoPlaybackQuality === 'function' ? this.video.getVideoPlaybackQuality().totalVideoFrames : 0;
  }

  /** hls.js's own idea of the wall-clock time (EXT-X-PROGRAM-DATE-TIME of the fragment playing), for cross-checks. */
  get programDateMs(): number | undefined {
    return this.#hls?.playingDate?.getTime();
  }

  /** The wall-clock time of the frame on screen (undefined before the first window). */
  wallTimeMs(): number | undefined {
    const w = this.#window;
    if (!w || this.#state === 'loading') return this.#target;
    const mediaS = this.video.currentTime;
    const last = w.entries.at(-1);
    if (w.live && last && mediaS >= last.mediaS + last.durS) {
      // Beyond the entries of the reply: hls.js knows the program date of the fragment playing.
      const date = this.#hls?.playingDate;
      if (date) return date.getTime();
    }
    return wallAtMedia(w, mediaS);
  }

  /**
   * Shows a wall-clock instant: inside the window by seeking, otherwise in a new window. A paused
   * player stays paused (showing the frame at that instant); a playing one plays on from there.
   */
  seek(wallMs: number): void {
    if (this.#closed || !Number.isFinite(wallMs)) return;
    const paused = this.#state === 'paused' || (this.#state === 'ended' && this.video.paused) || (this.#state === 'loading' && !this.#autoplay);
    const range = this.#options.range;
    if (range) wallMs = Math.min(Math.max(wallMs, range.fromMs), range.toMs - 1);
    const w = this.#window;
    if (w && this.#hls && this.#state !== 'loading' && this.#state !== 'error') {
      const mediaS = mediaAtWall(w, wallMs);
      const inside = mediaS !== undefined && (w.live || mediaS < mediaEnd(w) - END_EPSILON_S);
      if (inside) {
        this.#clearNotice();
        // Asked for a time in a gap of this window: playing from the recording after it.
        const gap = w.gaps.find((g) => wallMs >= g.fromMs && wallMs < g.toMs);
        if (gap) this.#announceGap(wallMs, gap, wallAtMedia(w, mediaS) ?? gap.toMs);
        this.#lastWall = wallMs;
        this.video.currentTime = mediaS;
        if (this.#state === 'ended') this.#setState('paused');
        if (!paused) void this.video.play().catch(() => undefined);
        this.emit('time', wallMs);
        return;
      }
    }
    void this.#load(wallMs, !paused);
  }

  setSpeed(speed: Speed): void {
    this.#speed = speed;
    this.video.defaultPlaybackRate = speed;
    this.video.playbackRate = speed;
    this.#renderSpeed();
  }

  play(): void {
    this.#autoplay = true;
    void this.video.play().catch(() => undefined);
  }
  /** Paused at once (the element's 'pause' event comes later): a seek right after stays paused. */
  pause(): void {
    this.#autoplay = false;
    this.video.pause();
    if (this.#state !== 'ended' && this.#state !== 'loading') this.#setState('paused');
  }

  /** Stops playing and frees the decoder; the element stays for a later seek(). */
  stop(): void {
    this.#generation += 1;
    this.#retry.clear();
    this.#renew.clear();
    this.#prefetch = null;
    this.#destroyHls();
    this.#window = null;
    this.#setState('idle');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stop();
    this.#offLocale();
    this.video.removeEventListener('timeupdate', this.#onTimeUpdate);
    this.video.removeEventListener('playing', this.#onPlaying);
    this.video.removeEventListener('pause', this.#onPause);
    this.video.removeEventListener('waiting', this.#onWaiting);
    this.video.removeEventListener('ended', this.#onEnded);
    this.el.remove();
    this.removeAllListeners();
  }

  // --- Windows ----------------------------------------------------------------------------------

  /** `continuing`: the next window after one that played to its end (not a seek by the viewer). */
  async #load(atMs: number, autoplay = true, continuing = false): Promise<void> {
    const generation = ++this.#generation;
    this.#autoplay = autoplay;
    this.#retry.clear();
    this.#target = atMs;
    this.#setState('loading');
    this.#renderClock();
    this.emit('time', atMs);
    const prefetched = this.#prefetch && this.#prefetch.atMs === atMs ? this.#prefetch.reply : undefined;
    this.#prefetch = null;
    let w: PlaybackWindow;
    try {
      const open = () => this.#options.open(atMs, this.#options.range?.toMs);
      // A prefetched answer is seconds old: near the live edge its 404 may already be wrong.
      w = await (prefetched ? prefetched.catch(open) : open());
    } catch (err) {
      if (generation !== this.#generation || this.#closed) return;
      this.#onOpenFailed(atMs, err, continuing);
      return;
    }
    if (generation !== this.#generation || this.#closed) return;
    this.#attach(w, atMs);
  }

  #onOpenFailed(atMs: number, err: unknown, continuing: boolean): void {
    if (err instanceof ApiError && err.status === 404 && continuing && atMs > Date.now() - NEAR_LIVE_MS) {
      // Played up to what was recorded a moment ago; the camera may still be recording what
      // follows (it reaches the index seconds later): wait for it instead of ending.
      this.#showNotice('end', 'playback.waitingForMore', { at: formatDateTime(atMs) });
      this.#retry.set(WAIT_FOR_MORE_MS, () => void this.#load(atMs, this.#autoplay, true));
      return;
    }
    if (err instanceof ApiError && err.status === 404) {
      // Nothing recorded at or after this instant.
      this.#destroyHls();
      this.#window = null;
      this.#showNotice('end', 'playback.noMore', { at: formatDateTime(atMs) });
      this.#setState('ended');
      return;
    }
    const retryable = err instanceof ApiError && (err.status === 0 || err.status >= 500 || err.status === 429);
    this.#showNotice('error', 'playback.error', { message: errorMessage(err) });
    this.#setState('error');
    if (retryable) this.#retry.set(this.#backoff.next(), () => void this.#load(atMs));
  }

  #attach(w: PlaybackWindow, requestedMs: number): void {
    this.#destroyHls();
    this.#window = w;
    this.#mediaRecoveries = 0;
    this.#clearNotice();
    if (w.gap) this.#announceGap(w.requestedMs || requestedMs, w.gap, w.startMs);
    this.#liveNote.hidden = !w.live;
    const startWall = Math.max(requestedMs, w.startMs);
    const startS = mediaAtWall(w, startWall) ?? 0;
    this.#lastWall = startWall;
    this.#target = startWall;

    void this.#attachHls(w, startS);
  }

  async #attachHls(w: PlaybackWindow, startS: number): Promise<void> {
    let lib: typeof import('hls.js');
    try {
      lib = await loadHls();
    } catch (err) {
      // The chunk did not load (the network dropped): as any failed window, tried again.
      console.warn('could not load the HLS player', err);
      hlsModule = undefined;
      this.#showNotice('error', 'playback.retrying', {});
      this.#setState('error');
      this.#retry.set(this.#backoff.next(), () => void this.#load(this.#lastWall ?? w.startMs));
      return;
    }
    // Another window (a seek, a renewal) or the end came while it loaded.
    if (this.#window !== w || this.#hls) return;
    const { default: HlsPlayer, Events } = lib;
    if (!HlsPlayer.isSupported()) {
      // Safari on iPhone plays HLS (fMP4) natively.
      if (this.video.canPlayType('application/vnd.apple.mpegurl')) {
        this.video.src = w.url;
        const onMeta = () => {
          this.video.currentTime = startS;
          this.#started(w);
        };
        this.video.addEventListener('loadedmetadata', onMeta, { once: true });
        return;
      }
      this.#showNotice('error', 'playback.unsupported', {});
      this.#setState('error');
      return;
    }
    const hls = new HlsPlayer({ startPosition: startS, backBufferLength: 30, maxBufferLength: 30, enableWorker: true, lowLatencyMode: false });
    this.#hls = hls;
    hls.on(Events.MANIFEST_PARSED, () => {
      if (hls !== this.#hls) return;
      this.#started(w);
    });
    hls.on(Events.ERROR, (_event, data) => this.#onHlsError(hls, w, data, lib.ErrorTypes.MEDIA_ERROR));
    hls.loadSource(w.url);
    hls.attachMedia(this.video);
  }

  #started(w: PlaybackWindow): void {
    this.#backoff.reset();
    this.video.defaultPlaybackRate = this.#speed;
    this.video.playbackRate = this.#speed;
    if (!this.#autoplay) {
      this.video.pause();
      this.#setState('paused');
      this.emit('window', w);
      this.#scheduleRenew(w);
      return;
    }
    this.#setState('buffering');
    void this.video.play().catch((err: unknown) => {
      // Autoplay refused (a page opened without a click): the controls start it.
      console.debug('play() refused', err);
      if (this.#state === 'buffering') this.#setState('paused');
    });
    this.emit('window', w);
    this.#scheduleRenew(w);
  }

  /** Renews the token of a window that could still be playing when it expires. */
  #scheduleRenew(w: PlaybackWindow): void {
    const renewIn = w.expiresAt - Date.now() - TOKEN_MARGIN_MS;
    this.#renew.set(Math.max(5_000, renewIn), () => {
      const at = this.wallTimeMs();
      if (at !== undefined && this.#state !== 'ended') void this.#load(at, !this.video.paused);
    });
  }

  #onHlsError(hls: Hls, w: PlaybackWindow, data: ErrorData, mediaError: string): void {
    if (hls !== this.#hls || !data.fatal) return;
    if (data.type === mediaError && this.#mediaRecoveries < 2) {
      this.#mediaRecoveries += 1;
      hls.recoverMediaError();
      return;
    }
    console.warn(`playback error (${data.type}: ${data.details}); opening a new window`);
    const at = this.wallTimeMs() ?? w.startMs;
    this.#destroyHls();
    this.#showNotice('error', 'playback.retrying', {});
    this.#setState('error');
    this.#retry.set(this.#backoff.next(), () => void this.#load(at));
  }

  #destroyHls(): void {
    const hls = this.#hls;
    this.#hls = null;
    if (hls) hls.destroy(); // detaches the MediaSource and stops every loader
    else if (this.video.getAttribute('src')) {
      this.video.removeAttribute('src');
      this.video.load();
    }
  }

  /** The end of the window (or the video) was reached: continue with the next window. */
  #advance(): void {
    const w = this.#window;
    if (!w || this.#closed || this.#state === 'loading') return;
    const range = this.#options.range;
    if (range && w.endMs >= range.toMs - 1) {
      this.#finish();
      return;
    }
    if (w.live) return; // the playlist grows; hls.js keeps loading
    void this.#load(w.endMs, true, true);
  }

  #finish(): void {
    this.video.pause();
    this.#setState('ended');
  }

  #tick(): void {
    const w = this.#window;
    if (!w || this.#state === 'loading') return;
    const wall = this.wallTimeMs();
    if (wall === undefined) return;
    const previous = this.#lastWall;
    this.#lastWall = wall;
    // Playback jumped over a gap between two entries.
    if (previous !== undefined && wall > previous) {
      const crossed = w.gaps.find((g) => previous <= g.fromMs + 250 && wall >= g.toMs - 250 && g.toMs - g.fromMs > 500);
      if (crossed) this.#announceSkip(crossed);
    }
    this.#renderClock();
    this.emit('time', wall);
    const range = this.#options.range;
    if (range && wall >= range.toMs) {
      this.#finish();
      return;
    }
    if (w.live) return;
    const remaining = mediaEnd(w) - this.video.currentTime;
    if (remaining < PREFETCH_S && !this.#prefetch && !(range && w.endMs >= range.toMs - 1)) {
      const reply = this.#options.open(w.endMs, range?.toMs);
      reply.catch(() => undefined); // looked at when used
      this.#prefetch = { atMs: w.endMs, reply };
    }
    if (remaining <= END_EPSILON_S && !this.video.paused) this.#advance();
  }

  // --- Display ----------------------------------------------------------------------------------

  #announceGap(askedMs: number, g: Gap, startMs: number): void {
    this.#showNotice('gap', 'playback.gapAt', { asked: formatDateTime(askedMs), reason: gapReason(g.reason), start: formatDateTime(startMs) });
  }

  #announceSkip(g: Gap): void {
    this.#showNotice('skipped', 'playback.skipped', {
      from: formatDateTime(g.fromMs, 'clock'),
      to: formatDateTime(g.toMs, 'clock'),
      reason: gapReason(g.reason),
    });
  }

  #showNotice(kind: PlayerNotice['kind'], key: MessageKey, params: Params): void {
    this.#lastNotice = { kind, key, params, text: t(key, params) };
    this.#notice.show({ key, params }, kind === 'error' ? 'error' : 'info');
  }

  #clearNotice(): void {
    this.#notice.clear();
  }

  #renderClock(): void {
    const wall = this.wallTimeMs() ?? this.#target;
    if (wall === undefined) {
      this.#clock.textContent = '';
      return;
    }
    this.#clock.dateTime = new Date(wall).toISOString();
    this.#clock.textContent = formatDateTime(wall);
  }

  #renderSpeed(): void {
    for (const [s, b] of this.#speedButtons) b.setAttribute('aria-pressed', String(s === this.#speed));
  }

  #setState(state: PlayerState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.el.dataset.state = state;
    this.emit('state', state);
  }
}
