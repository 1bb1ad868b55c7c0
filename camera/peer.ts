// werift peer-connection setup shared by Camera and Viewer: codecs, header extensions, ICE options
// for a non-trickle client talking to an ICE-lite SFU, and waits with timeouts.
import {
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RtpHeader,
  RtpPacket,
  useAbsSendTime,
  useFIR,
  useNACK,
  usePLI,
  useSdesMid,
  type PeerConfig,
} from 'werift';
import { CameraError } from './errors.ts';
import type { H264Profile } from './fixtures.ts';
import type { RtpPacketData } from './rtp.ts';

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** profile-level-id for the SDP (level 3.1; level-asymmetry-allowed lets the stream's real level differ). */
export const PROFILE_LEVEL_ID: Record<H264Profile, string> = {
  baseline: '42e01f',
  main: '4d001f',
  high: '64001f',
};

export function h264Codec(profile: H264Profile = 'baseline'): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: 'video/H264',
    clockRate: 90_000,
    rtcpFeedback: [useNACK(), usePLI(), useFIR()],
    parameters: `level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=${PROFILE_LEVEL_ID[profile]}`,
  });
}

export function opusCodec(): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: 'audio/opus',
    clockRate: 48_000,
    channels: 2,
    parameters: 'minptime=10;useinbandfec=1',
  });
}

/** True for localhost, 127.0.0.0/8 and ::1: the SFU then announces loopback and needs a loopback candidate. */
export function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export interface PeerSetup {
  url: string;
  profile?: H264Profile;
  iceServers?: IceServer[] | undefined;
  peerConfig?: Partial<PeerConfig> | undefined;
}

/**
 * IPv4 host candidates only unless told otherwise (IPv6 gathering costs time and a loopback SFU is
 * IPv4), one BUNDLEd transport, and a 127.0.0.1 candidate when the server is on loopback (werift
 * skips loopback interfaces, and a machine may have no other).
 */
export function createPeer({ url, profile, iceServers, peerConfig }: PeerSetup): RTCPeerConnection {
  // One object for sdes:mid in both kinds: werift numbers the extensions of the audio list, then
  // the video list, in place, so a shared object ends with one id. A BUNDLE group must map each
  // URI to a single id (RFC 8843 9.2; mediasoup keeps one MID id per transport).
  const mid = useSdesMid();
  return new RTCPeerConnection({
    bundlePolicy: 'max-bundle',
    iceUseIpv4: true,
    iceUseIpv6: false,
    iceServers: iceServers ?? [],
    iceAdditionalHostAddresses: isLoopbackUrl(url) ? ['127.0.0.1'] : undefined,
    codecs: { video: [h264Codec(profile)], audio: [opusCodec()] },
    headerExtensions: { audio: [mid], video: [mid, useAbsSendTime()] },
    ...peerConfig,
  });
}

/** Resolves when ICE gathering is complete, or after `ms` with whatever was gathered (non-trickle offers). */
export function gatheringComplete(pc: RTCPeerConnection, ms: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    const sub = pc.iceGatheringStateChange.subscribe((state) => {
      if (state === 'complete') done();
    });
    function done() {
      clearTimeout(timer);
      sub.unSubscribe();
      resolve();
    }
  });
}

/** Resolves when ICE and DTLS are up; rejects with CameraError connect_failed / connect_timeout. */
export function connected(pc: RTCPeerConnection, ms: number): Promise<void> {
  if (pc.connectionState === 'connected') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.unSubscribe();
      reject(new CameraError('connect_timeout', `ICE/DTLS did not connect within ${ms} ms (state ${pc.connectionState}); is the SFU's UDP port reachable?`));
    }, ms);
    const sub = pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') {
        clearTimeout(timer);
        sub.unSubscribe();
        resolve();
      } else if (state === 'failed' || state === 'closed') {
        clearTimeout(timer);
        sub.unSubscribe();
        reject(new CameraError('connect_failed', `ICE/DTLS connection ${state} before it was established`));
      }
    });
  });
}

/** Our plain packet → werift's (shares the payload bytes). */
export function toWerift(p: RtpPacketData): RtpPacket {
  const header = new RtpHeader({
    payloadType: p.payloadType,
    sequenceNumber: p.sequenceNumber,
    timestamp: p.timestamp,
    ssrc: p.ssrc,
    marker: p.marker,
  });
  return new RtpPacket(header, Buffer.from(p.payload.buffer, p.payload.byteOffset, p.payload.byteLength));
}

/** werift's packet → our plain one (shares the payload bytes). */
export function fromWerift(p: RtpPacket): RtpPacketData {
  const { header, payload } = p;
  return {
    payloadType: header.payloadType,
    sequenceNumber: header.sequenceNumber,
    timestamp: header.timestamp,
    ssrc: header.ssrc,
    marker: header.marker,
    payload: new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength),
  };
}

/** What a Camera or Viewer reports of its connection. */
export type SessionState = 'connected' | 'disconnected' | 'closed';

/**
 * The next state for a werift connection-state change: an edge between connected and
 * disconnected, 'failed' (give up and close), or undefined (nothing to report).
 */
export function nextSessionState(current: SessionState, pcState: string): 'connected' | 'disconnected' | 'failed' | undefined {
  if (current === 'closed') return undefined;
  if (pcState === 'connected' && current === 'disconnected') return 'connected';
  if (pcState === 'disconnected' && current === 'connected') return 'disconnected';
  if (pcState === 'failed' || pcState === 'closed') return 'failed';
  return undefined;
}
