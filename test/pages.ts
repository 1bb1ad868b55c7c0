// In-page code for tests and benchmarks. Glass-to-glass latency: a canvas that paints the wall clock as blocks (a camera),
// and a reader that decodes the clock from each decoded video frame (a viewer). Both pages run in
// the same browser on the same machine, so they share one clock. Injected with page.addInitScript.
export const CLOCK_SCRIPT = String.raw`
(() => {
  const W = 640, H = 360, BITS = 32, BW = W / BITS, ROW = 40;
  // Top row: the low 32 bits of Date.now(); second row: their complement (a frame that does not
  // decode to complements is rejected, e.g. one caught mid-update).
  window.__clockStream = (fps = 30) => {
    const canvas = document.createElement('canvas');
    canvas.width = W; canvas.height = H;
    const ctx = canvas.getContext('2d');
    const paint = () => {
      const t = Date.now() >>> 0;
      ctx.fillStyle = '#808080'; ctx.fillRect(0, 0, W, H);
      for (let i = 0; i < BITS; i++) {
        const bit = (t >>> (BITS - 1 - i)) & 1;
        ctx.fillStyle = bit ? '#fff' : '#000'; ctx.fillRect(i * BW, 0, BW, ROW);
        ctx.fillStyle = bit ? '#000' : '#fff'; ctx.fillRect(i * BW, ROW, BW, ROW);
      }
      // Moving content keeps the encoder sending full-rate frames.
      ctx.fillStyle = '#36c'; ctx.fillRect((t / 5) % W, 120, 60, 200);
    };
    paint();
    setInterval(paint, 1000 / fps);
    return canvas.captureStream(fps);
  };
  window.__clockSamples = [];
  window.__readClock = (video) => {
    const canvas = document.createElement('canvas');
    canvas.width = W; canvas.height = ROW * 2;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const onFrame = () => {
      const now = Date.now();
      if (video.videoWidth > 0) {
        ctx.drawImage(video, 0, 0, video.videoWidth, video.videoHeight * (ROW * 2) / H, 0, 0, W, ROW * 2);
        const px = ctx.getImageData(0, 0, W, ROW * 2).data;
        let t = 0, ok = true;
        for (let i = 0; i < BITS; i++) {
          const x = Math.floor(i * BW + BW / 2);
          const top = px[((ROW / 2) * W + x) * 4] > 128 ? 1 : 0;
          const bottom = px[((ROW + ROW / 2) * W + x) * 4] > 128 ? 1 : 0;
          if (top === bottom) { ok = false; break; }
          t = ((t << 1) | top) >>> 0;
        }
        if (ok) {
          const latency = ((now >>> 0) - t) >>> 0;
          if (latency < 10000) window.__clockSamples.push(latency);
        }
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  };
})();
`;

// In-page WebRTC helpers: a sendonly H.264 publisher and a recvonly player, each doing a
// non-trickle offer. `post` (WHIP/WHEP) or a direct answer function exchanges the SDP.
export const PEER_SCRIPT = String.raw`
window.__gathered = (pc) => new Promise((r) => {
  if (pc.iceGatheringState === 'complete') return r();
  pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r());
});
window.__h264First = (transceiver) => {
  const all = RTCRtpReceiver.getCapabilities('video').codecs;
  const pref = all.filter((c) => c.mimeType === 'video/H264' && /packetization-mode=1/.test(c.sdpFmtpLine || '') && /42e01f/.test(c.sdpFmtpLine || ''));
  transceiver.setCodecPreferences([...pref, ...all.filter((c) => !pref.includes(c))]);
};
window.__publishOffer = async () => {
  const pc = new RTCPeerConnection();
  window.__pc = pc;
  const track = window.__clockStream(30).getVideoTracks()[0];
  const t = pc.addTransceiver(track, { direction: 'sendonly', sendEncodings: [{ maxBitrate: 700000 }] });
  window.__h264First(t);
  await pc.setLocalDescription(await pc.createOffer());
  await window.__gathered(pc);
  return pc.localDescription.sdp;
};
window.__playOffer = async () => {
  const pc = new RTCPeerConnection();
  window.__pc = pc;
  const t = pc.addTransceiver('video', { direction: 'recvonly' });
  window.__h264First(t);
  const video = document.createElement('video');
  video.muted = true; video.autoplay = true; video.playsInline = true;
  document.body.append(video);
  window.__firstFrame = new Promise((resolve) => video.requestVideoFrameCallback(() => resolve(performance.now())));
  pc.ontrack = (e) => { video.srcObject = new MediaStream([e.track]); window.__readClock(video); };
  await pc.setLocalDescription(await pc.createOffer());
  await window.__gathered(pc);
  return pc.localDescription.sdp;
};
window.__answer = async (sdp) => { await window.__pc.setRemoteDescription({ type: 'answer', sdp }); };
window.__acceptOffer = async (sdp) => {
  // P2P baseline: the publisher answers the player's offer directly.
  const pc = new RTCPeerConnection();
  window.__pc = pc;
  await pc.setRemoteDescription({ type: 'offer', sdp });
  const track = window.__clockStream(30).getVideoTracks()[0];
  const t = pc.getTransceivers()[0];
  t.direction = 'sendonly';
  await t.sender.replaceTrack(track);
  const params = t.sender.getParameters();
  params.encodings = [{ ...(params.encodings[0] || {}), maxBitrate: 700000 }];
  await pc.setLocalDescription(await pc.createAnswer());
  await t.sender.setParameters(params).catch(() => {});
  await window.__gathered(pc);
  return pc.localDescription.sdp;
};
window.__post = async (url, token, sdp) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: 'Bearer ' + token }, body: sdp });
  if (res.status !== 201) throw new Error(url + ': ' + res.status + ' ' + await res.text());
  return res.text();
};
`;
