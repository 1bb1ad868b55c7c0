// `window.__mimamori`: a small read-only view of the page's state for end-to-end tests and for
// support ("what does the page think?"), e.g. `__mimamori.tiles()` in the browser console.
// Getters read the page's current objects on every access (a camera switch replaces them).
//
// index.html (main.ts)
//   tiles(): TileInfo[]                      grid tiles on screen {cameraId, state, videoWidth,
//                                            videoHeight, framesDecoded, producerIds, joinStartedMs?, firstFrameMs?}
//   stats(): Promise<…>                      WebRTC stats per tile
//   layout: 1|2|3|4 (getter)                 tiles per row of the grid; setLayout(n) as if clicked
//
// playback.html (playback.ts) and share.html (share.ts, clip shares)
//   player: PlayerHook | null                null while no recorded view is shown (live mode)
//     wallTimeMs(): number | undefined       wall-clock ms of the frame on screen (via the window's entries)
//     currentTime: number                    video.currentTime (media seconds in the window)
//     seek(wallMs: number): void             inside the window: currentTime; outside: a new window
//     state: 'idle'|'loading'|'playing'|'paused'|'buffering'|'ended'|'error'
//     lastNotice: {kind:'gap'|'skipped'|'end'|'error', key, params, text} | null
//     decodedFrames: number                  video.getVideoPlaybackQuality().totalVideoFrames
//     programDateMs: number | undefined      hls.js playingDate (EXT-X-PROGRAM-DATE-TIME based), a cross-check
//     speed: 1|2|4|8|16; setSpeed(s)         video.playbackRate
//     window: {startMs, endMs, requestedMs, live, gap?, gaps, entries: number, url} | null
//     play(), pause()
//   timeline: TimelineHook | null
//     view(): {fromMs, toMs, level: 'day'|'hour'|'minute'|undefined}
//     setLevel(level), centerOn(ms)
//     visible(): {spans, gaps, events, liveEdgeMs?}   loaded data in the visible range
//     playhead: number | undefined;  marks: {inMs?, outMs?}
//     previewsDecoded: number                preview frames decoded for hover so far
//   live(): TileInfo | null                  the live view's tile (playback "live" mode, live shares)
//   page (playback.html): {mode: 'recorded'|'live', cameraId, setMode(m), setCamera(id, atMs?),
//         setMarks(inMs?, outMs?), exports(): ExportJob[], shares(): Share[]} | null
//   share (share.html): {state: 'loading'|'password'|'clip'|'live'|'expired'|'revoked'|'not_found'|
//         'too_many_attempts'|'error', kind?, range?: {fromMs, toMs}, error?: string}
//
// kiosk.html (kiosk.ts)
//   kiosk.state: 'connecting'|'running'|'revoked'
//   kiosk.page: number (0-based), kiosk.pages: number, kiosk.layout: 1|4|9|16
//   kiosk.tiles(): {cameraId, name, state: ViewerState, frames}[]   frames = decoded video frames
//   kiosk.tokenExpiresAt: number | undefined, kiosk.renewals: number
import type { Player } from './player.ts';
import type { RecordedView } from './recorded.ts';
import type { SingleLive } from './single.ts';

export function exposeHook(hook: object): void {
  Object.defineProperty(window, '__mimamori', { value: hook, configurable: true, enumerable: false });
}

function playerHook(player: Player) {
  return {
    wallTimeMs: () => player.wallTimeMs(),
    get currentTime() {
      return player.video.currentTime;
    },
    seek: (wallMs: number) => player.seek(wallMs),
    get state() {
      return player.state;
    },
    get lastNotice() {
      return player.lastNotice;
    },
    get decodedFrames() {
      return player.decodedFrames;
    },
    get programDateMs() {
      return player.programDateMs;
    },
    get speed() {
      return player.speed;
    },
    setSpeed: (s: Parameters<Player['setSpeed']>[0]) => player.setSpeed(s),
    get window() {
      const w = player.window;
      return w && { startMs: w.startMs, endMs: w.endMs, requestedMs: w.requestedMs, live: w.live, gap: w.gap, gaps: w.gaps, entries: w.entries.length, url: w.url };
    },
    play: () => player.play(),
    pause: () => player.pause(),
  };
}

function timelineHook(view: RecordedView) {
  const tl = view.timeline;
  return {
    view: () => tl.view(),
    setLevel: (level: Parameters<typeof tl.setLevel>[0]) => tl.setLevel(level),
    centerOn: (ms: number) => tl.centerOn(ms),
    visible: () => tl.visible(),
    get playhead() {
      return tl.playhead;
    },
    get marks() {
      return tl.marks;
    },
    get previewsDecoded() {
      return view.previewsDecoded;
    },
  };
}

/** The hook of the pages that show recordings (playback.html, share.html). */
export function playbackHook<Extra extends object>(sources: { recorded: () => RecordedView | null; live: () => SingleLive | null } & Extra) {
  const { recorded, live, ...extra } = sources;
  const hook = {
    get player() {
      const r = recorded();
      return r ? playerHook(r.player) : null;
    },
    get timeline() {
      const r = recorded();
      return r ? timelineHook(r) : null;
    },
    live: () => live()?.info() ?? null,
  };
  // Extra entries are functions returning the current value (e.g. page(), share()); exposed as getters.
  for (const [name, get] of Object.entries(extra)) {
    Object.defineProperty(hook, name, { get: get as () => unknown, enumerable: true });
  }
  return hook;
}
