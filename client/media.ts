// mediasoup-client helpers shared by the viewer tiles and the camera page: loading a Device,
// choosing the camera's video codec, and reading the numbers the pages show from WebRTC stats.
import { Device, type types } from 'mediasoup-client';
import type { IceServer } from '../signaling/protocol.ts';

const devices = new Map<string, Promise<Device>>();

/**
 * A Device loaded with a router's capabilities. Every camera router speaks the same codecs, so
 * the loaded Device is shared by all tiles (loading probes the browser with a peer connection).
 */
export function loadDevice(routerRtpCapabilities: unknown): Promise<Device> {
  const key = JSON.stringify(routerRtpCapabilities);
  let device = devices.get(key);
  if (!device) {
    device = (async () => {
      const d = await Device.factory();
      await d.load({ routerRtpCapabilities: routerRtpCapabilities as types.RtpCapabilities });
      return d;
    })();
    devices.set(key, device);
    device.catch(() => devices.delete(key));
  }
  return device;
}

let warmed = false;

/**
 * Wakes the browser's WebRTC stack (codec factories, the network thread) while the page is still
 * reading its camera list: a fresh browser otherwise does it when the first tile loads its Device,
 * on the path to the first frame. A throwaway peer connection makes an offer and closes; nothing
 * is sent anywhere.
 */
export function prewarmWebRtc(): void {
  if (warmed || typeof RTCPeerConnection === 'undefined') return;
  warmed = true;
  try {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    void pc
      .createOffer()
      .catch(() => undefined)
      .finally(() => pc.close());
  } catch {
    // No WebRTC here: the tiles say so themselves.
  }
}

/** mediasoup-client throws UnsupportedError when the browser has no usable WebRTC. */
export function isUnsupportedBrowser(err: unknown): boolean {
  return err instanceof Error && err.name === 'UnsupportedError';
}

export function toRtcIceServers(servers: readonly IceServer[] | undefined): RTCIceServer[] {
  return (servers ?? []).map((s) => ({ urls: s.urls, username: s.username, credential: s.credential }));
}

/**
 * The codec a camera publishes with: H.264 with packetization-mode 1, constrained baseline
 * 42e01f preferred (what phones and camera chips encode in hardware, playable everywhere), then
 * any other H.264 profile, then VP8. Undefined leaves the choice to mediasoup-client.
 */
export function chooseVideoCodec(codecs: readonly types.RtpCodecCapability[]): types.RtpCodecCapability | undefined {
  const video = codecs.filter((c) => c.kind === 'video');
  const h264 = video.filter(
    (c) => c.mimeType.toLowerCase() === 'video/h264' && Number(c.parameters?.['packetization-mode'] ?? 0) === 1,
  );
  const profile = (c: types.RtpCodecCapability) => String(c.parameters?.['profile-level-id'] ?? '').toLowerCase();
  return (
    h264.find((c) => profile(c) === '42e01f') ??
    h264.find((c) => profile(c).startsWith('42e0')) ??
    h264[0] ??
    video.find((c) => c.mimeType.toLowerCase() === 'video/vp8')
  );
}

/** The simulcast layers of the camera: a small one for grid tiles, the full one for single view. */
export function simulcastEncodings(track: MediaStreamTrack): types.RtpEncodingParameters[] {
  const height = track.getSettings().height ?? 360;
  // mediasoup-client names the layers r0, r1 itself (lowest first).
  return [
    { scaleResolutionDownBy: Math.max(1, height / 180), maxBitrate: 200_000 },
    { scaleResolutionDownBy: 1, maxBitrate: 700_000 },
  ];
}

/**
 * Bytes the transport has received from the server (SRTP, SRTCP, DTLS; ICE checks are not
 * counted): the 'transport' stats where the browser has them, else its nominated candidate pairs
 * (Firefox). Undefined without a report or either kind of stats.
 */
export function receivedBytes(report: RTCStatsReport | undefined): number | undefined {
  if (!report) return undefined;
  let transports: number | undefined;
  let pairs: number | undefined;
  report.forEach((s: Record<string, unknown>) => {
    const bytes = typeof s.bytesReceived === 'number' ? s.bytesReceived : undefined;
    if (bytes === undefined) return;
    if (s.type === 'transport') transports = (transports ?? 0) + bytes;
    else if (s.type === 'candidate-pair' && (s.nominated === true || s.selected === true)) pairs = (pairs ?? 0) + bytes;
  });
  return transports ?? pairs;
}

export interface TransportStats {
  /** SRTP suite in use, e.g. AEAD_AES_256_GCM. */
  srtpCipher?: string;
  dtlsCipher?: string;
  dtlsState?: string;
  bytesSent: number;
  bytesReceived: number;
  /** Video codec of the RTP streams, e.g. video/H264. */
  videoCodec?: string;
  /** Largest video frame sent or received. */
  frameWidth?: number;
  frameHeight?: number;
  framesDecoded: number;
  framesEncoded: number;
}

/** Reads what the pages show (and the tests check) from a transport's getStats(). */
export function summarizeStats(report: RTCStatsReport): TransportStats {
  const out: TransportStats = { bytesSent: 0, bytesReceived: 0, framesDecoded: 0, framesEncoded: 0 };
  const byId = new Map<string, Record<string, unknown>>();
  report.forEach((s: Record<string, unknown>) => byId.set(String(s.id), s));
  let largest = 0;
  for (const s of byId.values()) {
    const num = (k: string) => (typeof s[k] === 'number' ? (s[k] as number) : 0);
    switch (s.type) {
      case 'transport':
        if (typeof s.srtpCipher === 'string') out.srtpCipher = s.srtpCipher;
        if (typeof s.dtlsCipher === 'string') out.dtlsCipher = s.dtlsCipher;
        if (typeof s.dtlsState === 'string') out.dtlsState = s.dtlsState;
        break;
      case 'outbound-rtp':
      case 'inbound-rtp': {
        out.bytesSent += num('bytesSent');
        out.bytesReceived += num('bytesReceived');
        if (s.kind !== 'video') break;
        out.framesDecoded += num('framesDecoded');
        out.framesEncoded += num('framesEncoded');
        const codec = typeof s.codecId === 'string' ? byId.get(s.codecId) : undefined;
        if (codec && typeof codec.mimeType === 'string') out.videoCodec = codec.mimeType;
        const area = num('frameWidth') * num('frameHeight');
        if (area > largest) {
          largest = area;
          out.frameWidth = num('frameWidth');
          out.frameHeight = num('frameHeight');
        }
        break;
      }
    }
  }
  return out;
}
