// A camera's recordings on screen: the player, the timeline under it and the hover previews,
// wired together (the playhead follows the video, a click on the timeline seeks the player).
// Used by the playback page (signed-in user) and the share page (a clip share's token).
import { api, type Credential } from './api.ts';
import type { Range } from './marks.ts';
import { Player } from './player.ts';
import { PreviewFrames } from './preview.ts';
import { Timeline, type ZoomLevel } from './timeline.ts';
import { h } from './ui.ts';

export interface RecordedViewOptions {
  cameraId: string;
  cred?: Credential;
  /** A clip share: playback and timeline stay inside. */
  range?: Range;
  /** Where to start; default: shortly before the newest recording. */
  startMs?: number;
  level?: ZoomLevel;
}

/** Start a minute before the newest recorded instant of the last day (or a day ago). */
async function defaultStart(cameraId: string, cred: Credential): Promise<number> {
  const now = Date.now();
  try {
    const tl = await api.timeline(cameraId, now - 24 * 3_600_000, now, cred);
    const last = tl.spans.at(-1);
    if (tl.liveEdgeMs !== undefined) return Math.max(tl.liveEdgeMs - 60_000, last?.fromMs ?? 0);
    if (last) return Math.max(last.toMs - 60_000, last.fromMs);
  } catch (err) {
    console.warn('could not read the timeline to choose a start', err);
  }
  return now - 24 * 3_600_000;
}

export class RecordedView {
  readonly el: HTMLElement;
  readonly player: Player;
  readonly timeline: Timeline;
  readonly cameraId: string;
  readonly #previews = new PreviewFrames();
  #closed = false;

  constructor({ cameraId, cred = 'session', range, startMs, level }: RecordedViewOptions) {
    this.cameraId = cameraId;
    this.player = new Player({ open: (at, to) => api.playback(cameraId, at, to, cred), range });
    const center = startMs ?? range?.fromMs ?? Date.now();
    this.timeline = new Timeline({
      load: (from, to) => api.timeline(cameraId, from, to, cred),
      onSeek: (ms) => this.player.seek(ms),
      previews: { frames: this.#previews, base: () => this.player.playBase },
      bounds: range,
      centerMs: center,
      level: level ?? (range && range.toMs - range.fromMs <= 10 * 60_000 ? 'minute' : 'hour'),
    });
    this.player.on('time', (ms) => this.timeline.setPlayhead(ms));
    this.el = h('div', { class: 'recorded' }, this.player.el, this.timeline.el);
    if (startMs !== undefined || range) this.player.seek(startMs ?? range!.fromMs);
    else
      void defaultStart(cameraId, cred).then((at) => {
        if (this.#closed) return;
        this.timeline.centerOn(at);
        this.player.seek(at);
      });
  }

  /** Preview frames decoded for the timeline's hover so far. */
  get previewsDecoded(): number {
    return this.#previews.decoded;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.player.close();
    this.timeline.close();
    this.#previews.close();
    this.el.remove();
  }
}
