// The playback benchmark's page: one <video>, hls.js, and window.__seek(), which does what the
// recorded-video player (client/player.ts) does for a click on the timeline outside the current
// window — POST /api/cameras/:id/playback, a new Hls with startPosition at the asked instant
// (same config as the player), play — and resolves at the first frame presented at or after that
// instant (requestVideoFrameCallback), with the time of each step from the click.
//
// For the baseline the page gets a static playlist URL and the start position instead of the POST.

export interface SeekRequest {
  kind: 'ours' | 'baseline';
  atMs: number;
  /** ours */
  cameraId?: string;
  token?: string;
  /** baseline */
  url?: string;
  startS?: number;
}

export interface SeekResult {
  /** Click to the first frame presented at or after the asked instant. */
  ms: number;
  /** Step times from the click (ms): playback reply (ours), previous hls.js destroyed, playlist loaded, first media fragment (not init) loaded, first frame of any time. */
  reply?: number;
  destroyed?: number;
  playlist?: number;
  fragment?: number;
  anyFrame?: number;
  /** Media time asked for and of the frame counted, s. */
  startS: number;
  frameS: number;
  /** Requests hls.js made for fragments (init segments included) before the frame. */
  fragments: number;
  /** Where the server's window starts (ours), ms since the epoch. */
  windowStartMs?: number;
}

const SCRIPT = String.raw`
const video = document.querySelector('video');
let hls = null;
window.__seek = async function (o) {
  const t0 = performance.now();
  const at = () => Math.round((performance.now() - t0) * 10) / 10;
  const marks = { fragments: 0 };
  let url = o.url;
  let startS = o.startS;
  if (o.kind === 'ours') {
    const res = await fetch('/api/cameras/' + o.cameraId + '/playback', {
      method: 'POST',
      headers: { authorization: 'Bearer ' + o.token, 'content-type': 'application/json' },
      body: JSON.stringify({ at: o.atMs }),
    });
    if (!res.ok) throw new Error('playback ' + res.status + ': ' + (await res.text()));
    const w = await res.json();
    marks.reply = at();
    marks.windowStartMs = w.startMs;
    // API.md: the entry holding the instant; media time = its mediaS + the offset into it.
    const e = w.entries.find((e) => e.wallMs <= o.atMs && o.atMs < e.wallMs + e.durS * 1000) || w.entries[0];
    startS = e.mediaS + Math.max(0, o.atMs - e.wallMs) / 1000;
    url = w.url;
  }
  // As the player does: the previous window's hls.js goes when the new window is there.
  if (hls) {
    hls.destroy();
    hls = null;
  }
  marks.destroyed = at();
  return await new Promise((resolve, reject) => {
    const h = new Hls({ startPosition: startS, backBufferLength: 30, maxBufferLength: 30, enableWorker: true, lowLatencyMode: false });
    hls = h;
    const timer = setTimeout(() => reject(new Error('no frame at ' + startS + ' s within 20 s (currentTime ' + video.currentTime + ')')), 20000);
    h.on(Hls.Events.MANIFEST_LOADED, () => (marks.playlist = marks.playlist || at()));
    h.on(Hls.Events.MANIFEST_PARSED, () => void video.play().catch(() => undefined));
    h.on(Hls.Events.FRAG_LOADING, () => (marks.fragments += 1));
    h.on(Hls.Events.FRAG_LOADED, (_e, d) => {
      if (d.frag.sn !== 'initSegment') marks.fragment = marks.fragment || at();
    });
    h.on(Hls.Events.ERROR, (_e, d) => {
      if (!d.fatal) {
        console.warn(o.kind + ': hls.js ' + d.type + ' ' + d.details + ' ' + (d.error ? d.error.message : '') + ' ' + (d.frag ? d.frag.url : ''));
        return;
      }
      clearTimeout(timer);
      reject(new Error(o.kind + ': hls.js ' + d.type + ' ' + d.details + ' ' + (d.error ? d.error.message : '') + ' ' + (d.frag ? d.frag.url : '') + ' ' + (d.reason || '')));
    });
    const onFrame = (_now, meta) => {
      if (hls !== h) return;
      marks.anyFrame = marks.anyFrame || at();
      if (meta.mediaTime >= startS - 0.05) {
        const ms = at();
        clearTimeout(timer);
        video.pause();
        resolve({ ms, startS, frameS: meta.mediaTime, ...marks });
      } else {
        video.requestVideoFrameCallback(onFrame);
      }
    };
    video.requestVideoFrameCallback(onFrame);
    h.loadSource(url);
    h.attachMedia(video);
  });
};
`;

export const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>playback bench</title></head>
<body style="margin:0;background:#000">
<video muted playsinline width="640" height="360"></video>
<script src="/hls.min.js"></script>
<script>${SCRIPT}</script>
</body></html>
`;
