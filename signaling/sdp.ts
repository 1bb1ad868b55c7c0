// SDP for WHIP/WHEP: pure translation between a remote offer and mediasoup's parameters, and the
// answer we send back. No I/O here; whip.ts drives the SFU.
import sdpTransform from 'sdp-transform';
import type { MediaAttributes, MediaDescription, SessionDescription } from 'sdp-transform';
import type { types } from 'mediasoup';
import { ApiError } from './errors.ts';

export class SdpError extends ApiError {
  override name = 'SdpError';
  constructor(message: string) {
    super(400, 'bad_sdp', `${message}. Send a WebRTC SDP offer (Content-Type: application/sdp).`);
  }
}

/** Header extensions we accept from publishers and offer to players (mediasoup supports them). */
const EXTENSIONS = new Set([
  'urn:ietf:params:rtp-hdrext:sdes:mid',
  'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'urn:3gpp:video-orientation',
  'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
]);

export interface OfferMedia {
  index: number;
  kind: types.MediaKind;
  mid: string;
  direction: string;
  section: MediaDescription;
}

export interface ParsedOffer {
  session: SessionDescription;
  iceUfrag: string;
  icePwd: string;
  dtls: types.DtlsParameters;
  media: OfferMedia[];
}

export function parseOffer(text: string): ParsedOffer {
  if (text.length === 0) throw new SdpError('the request body is empty');
  if (!/^v=0\r?\n/.test(text)) throw new SdpError('the body is not SDP (it must start with "v=0")');
  let session: SessionDescription;
  try {
    session = sdpTransform.parse(text);
  } catch {
    throw new SdpError('the SDP could not be parsed');
  }
  if (!Array.isArray(session.media) || session.media.length === 0) throw new SdpError('the offer has no m= sections');
  const first = session.media[0]!;
  const iceUfrag = first.iceUfrag ?? session.iceUfrag;
  const icePwd = first.icePwd ?? session.icePwd;
  if (!iceUfrag || !icePwd) throw new SdpError('the offer has no a=ice-ufrag/a=ice-pwd');
  const fp = first.fingerprint ?? session.fingerprint;
  if (!fp) throw new SdpError('the offer has no a=fingerprint (DTLS is required)');
  const algorithm = fp.type.toLowerCase();
  if (!['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512'].includes(algorithm)) {
    throw new SdpError(`unsupported fingerprint algorithm ${fp.type}`);
  }
  const setup = first.setup ?? session.setup ?? 'actpass';
  // We answer passive unless the offerer insists on being passive itself.
  const role: types.DtlsRole = setup === 'passive' ? 'server' : 'client';
  const media: OfferMedia[] = session.media.map((section, index) => {
    const kind = section.type;
    if (kind !== 'audio' && kind !== 'video' && kind !== 'application') throw new SdpError(`unknown media type m=${kind}`);
    return {
      index,
      kind: kind === 'application' ? ('application' as unknown as types.MediaKind) : kind,
      mid: String(section.mid ?? index),
      direction: section.direction ?? 'sendrecv',
      section,
    };
  });
  return {
    session,
    iceUfrag,
    icePwd,
    dtls: { role, fingerprints: [{ algorithm: algorithm as types.FingerprintAlgorithm, value: fp.hash.toUpperCase() }] },
    media,
  };
}

function fmtpOf(section: MediaAttributes, pt: number): Record<string, string | number> {
  const line = section.fmtp?.find((f) => f.payload === pt);
  if (!line) return {};
  const params = sdpTransform.parseParams(line.config) as Record<string, string | number>;
  return params;
}

function feedbackOf(section: MediaAttributes, pt: number): types.RtcpFeedback[] {
  return (section.rtcpFb ?? [])
    .filter((fb) => fb.payload === pt || fb.payload === '*')
    .map((fb) => ({ type: fb.type, parameter: fb.subtype ?? '' }));
}

interface OfferedCodec {
  payloadType: number;
  mimeType: string;
  clockRate: number;
  channels?: number;
  parameters: Record<string, string | number>;
  rtcpFeedback: types.RtcpFeedback[];
  rtxPayloadType?: number;
}

export function offeredCodecs(section: MediaDescription): OfferedCodec[] {
  const codecs: OfferedCodec[] = [];
  for (const rtp of section.rtp ?? []) {
    if (/^(rtx|red|ulpfec|flexfec-03)$/i.test(rtp.codec)) continue;
    codecs.push({
      payloadType: rtp.payload,
      mimeType: `${section.type}/${rtp.codec}`,
      clockRate: rtp.rate ?? 90000,
      channels: section.type === 'audio' ? (rtp.encoding ?? 1) : undefined,
      parameters: fmtpOf(section, rtp.payload),
      rtcpFeedback: feedbackOf(section, rtp.payload),
    });
  }
  for (const rtp of section.rtp ?? []) {
    if (rtp.codec.toLowerCase() !== 'rtx') continue;
    const apt = Number(fmtpOf(section, rtp.payload).apt);
    const target = codecs.find((c) => c.payloadType === apt);
    if (target) target.rtxPayloadType = rtp.payload;
  }
  return codecs;
}

/** The publisher codec we take for an m-section, in order of preference, or undefined. */
export function chooseCodec(section: MediaDescription, router: types.RtpCapabilities): OfferedCodec | undefined {
  const codecs = offeredCodecs(section);
  const supported = (c: OfferedCodec) =>
    (router.codecs ?? []).some((rc) => rc.mimeType.toLowerCase() === c.mimeType.toLowerCase() && rc.clockRate === c.clockRate);
  if (section.type === 'audio') return codecs.find((c) => /opus$/i.test(c.mimeType) && supported(c));
  const h264 = codecs.filter((c) => /h264$/i.test(c.mimeType) && String(c.parameters['packetization-mode'] ?? '0') === '1');
  const profileRank = (c: OfferedCodec) => {
    const p = String(c.parameters['profile-level-id'] ?? '42e01f').toLowerCase();
    return p.startsWith('42e0') ? 0 : p.startsWith('4d') ? 1 : p.startsWith('42') ? 2 : 3;
  };
  h264.sort((a, b) => profileRank(a) - profileRank(b));
  const best = h264.find((c) => profileRank(c) < 3) ?? codecs.find((c) => /vp8$/i.test(c.mimeType));
  return best && supported(best) ? best : undefined;
}

function extensionsOf(section: MediaDescription): { uri: types.RtpHeaderExtensionUri; id: number }[] {
  return (section.ext ?? []).filter((e) => EXTENSIONS.has(e.uri)).map((e) => ({ uri: e.uri as types.RtpHeaderExtensionUri, id: e.value }));
}

/** mediasoup producer parameters for a publisher's m-section. */
export function producerParameters(media: OfferMedia, codec: OfferedCodec, cname: string): types.RtpParameters {
  const { section } = media;
  const codecs: types.RtpCodecParameters[] = [
    {
      mimeType: codec.mimeType,
      payloadType: codec.payloadType,
      clockRate: codec.clockRate,
      ...(codec.channels ? { channels: codec.channels } : {}),
      parameters: codec.parameters,
      rtcpFeedback: codec.rtcpFeedback,
    },
  ];
  if (codec.rtxPayloadType !== undefined) {
    codecs.push({
      mimeType: `${section.type}/rtx`,
      payloadType: codec.rtxPayloadType,
      clockRate: codec.clockRate,
      parameters: { apt: codec.payloadType },
      rtcpFeedback: [],
    });
  }
  const encodings: types.RtpEncodingParameters[] = [];
  const rids = (section.rids ?? []).filter((r) => r.direction === 'send');
  if (rids.length > 0) {
    for (const r of rids) encodings.push({ rid: String(r.id) });
  } else {
    const fid = section.ssrcGroups?.find((g) => g.semantics === 'FID');
    const ssrcs = [...new Set((section.ssrcs ?? []).map((s) => s.id))].map(Number);
    if (fid) {
      const [primary, rtx] = fid.ssrcs.split(/\s+/).map(Number);
      encodings.push({ ssrc: primary, ...(rtx && codec.rtxPayloadType !== undefined ? { rtx: { ssrc: rtx } } : {}) });
    } else if (ssrcs.length > 0) {
      encodings.push({ ssrc: ssrcs[0] });
    } else {
      encodings.push({}); // identified by MID only
    }
  }
  return {
    mid: media.mid,
    codecs,
    headerExtensions: extensionsOf(section),
    encodings,
    rtcp: { cname, reducedSize: true },
  };
}

export function cnameOf(section: MediaDescription): string {
  return String(section.ssrcs?.find((s) => s.attribute === 'cname')?.value ?? 'mimamori');
}

/** Receiver capabilities of a player's offer, with the player's payload types. */
export function playerCapabilities(offer: ParsedOffer): types.RtpCapabilities {
  const codecs: types.RtpCodecCapability[] = [];
  const headerExtensions: types.RtpHeaderExtension[] = [];
  for (const media of offer.media) {
    if (media.kind !== 'audio' && media.kind !== 'video') continue;
    for (const c of offeredCodecs(media.section)) {
      codecs.push({
        kind: media.kind,
        mimeType: c.mimeType,
        preferredPayloadType: c.payloadType,
        clockRate: c.clockRate,
        ...(c.channels ? { channels: c.channels } : {}),
        parameters: c.parameters,
        rtcpFeedback: c.rtcpFeedback,
      });
      if (c.rtxPayloadType !== undefined) {
        codecs.push({
          kind: media.kind,
          mimeType: `${media.kind}/rtx`,
          preferredPayloadType: c.rtxPayloadType,
          clockRate: c.clockRate,
          parameters: { apt: c.payloadType },
          rtcpFeedback: [],
        });
      }
    }
    for (const e of extensionsOf(media.section)) {
      headerExtensions.push({ kind: media.kind, uri: e.uri as types.RtpHeaderExtensionUri, preferredId: e.id, direction: 'sendrecv' });
    }
  }
  return { codecs, headerExtensions };
}

export interface AnswerSection {
  media: OfferMedia;
  /** undefined = rejected (port 0). */
  rtp?: types.RtpParameters;
  direction: 'recvonly' | 'sendonly';
  /** For sendonly sections: the stream id and our SSRCs. */
  msid?: string;
}

export interface AnswerTransport {
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
}

export function buildAnswer(offer: ParsedOffer, transport: AnswerTransport, sections: AnswerSection[]): string {
  const fingerprint = transport.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256') ?? transport.dtlsParameters.fingerprints[0]!;
  const accepted = sections.filter((s) => s.rtp).map((s) => s.media.mid);
  const answer: SessionDescription = {
    version: 0,
    origin: { username: 'mimamori', sessionId: Date.now(), sessionVersion: 1, netType: 'IN', ipVer: 4, address: '0.0.0.0' },
    name: '-',
    timing: { start: 0, stop: 0 },
    icelite: 'ice-lite',
    groups: accepted.length ? [{ type: 'BUNDLE', mids: accepted.join(' ') }] : [],
    msidSemantic: { semantic: 'WMS', token: '*' },
    fingerprint: { type: fingerprint.algorithm, hash: fingerprint.value },
    media: sections.map((s) => answerSection(offer, transport, s)),
  };
  return sdpTransform.write(answer);
}

function answerSection(offer: ParsedOffer, transport: AnswerTransport, s: AnswerSection): MediaDescription {
  const { section, mid } = s.media;
  if (!s.rtp) {
    return {
      type: section.type,
      port: 0,
      protocol: section.protocol,
      payloads: section.payloads,
      connection: { version: 4, ip: '0.0.0.0' },
      mid,
      direction: 'inactive',
      rtp: section.rtp ?? [],
      fmtp: [],
    };
  }
  const rtp = s.rtp;
  const out: MediaDescription = {
    type: section.type,
    port: 9,
    protocol: 'UDP/TLS/RTP/SAVPF',
    payloads: rtp.codecs.map((c) => c.payloadType).join(' '),
    connection: { version: 4, ip: '0.0.0.0' },
    mid,
    direction: s.direction,
    iceUfrag: transport.iceParameters.usernameFragment,
    icePwd: transport.iceParameters.password,
    setup: offer.dtls.role === 'client' ? 'passive' : 'active',
    rtcpMux: 'rtcp-mux',
    rtcpRsize: 'rtcp-rsize',
    rtp: rtp.codecs.map((c) => ({
      payload: c.payloadType,
      codec: c.mimeType.split('/')[1]!,
      rate: c.clockRate,
      ...(c.channels && c.channels > 1 ? { encoding: c.channels } : {}),
    })),
    fmtp: rtp.codecs
      .filter((c) => c.parameters && Object.keys(c.parameters).length > 0)
      .map((c) => ({
        payload: c.payloadType,
        config: Object.entries(c.parameters!)
          .map(([k, v]) => `${k}=${v}`)
          .join(';'),
      })),
    rtcpFb: rtp.codecs.flatMap((c) =>
      (c.rtcpFeedback ?? []).map((fb) => ({ payload: c.payloadType, type: fb.type, ...(fb.parameter ? { subtype: fb.parameter } : {}) })),
    ),
    ext: (rtp.headerExtensions ?? []).map((e) => ({ value: e.id, uri: e.uri })),
    candidates: transport.iceCandidates.map((c) => ({
      foundation: c.foundation,
      component: 1,
      transport: c.protocol,
      priority: c.priority,
      ip: c.address,
      port: c.port,
      type: c.type,
      ...(c.tcpType ? { tcptype: c.tcpType } : {}),
    })),
    endOfCandidates: 'end-of-candidates',
  };
  if (s.direction === 'recvonly' && (section.rids ?? []).length > 0) {
    out.rids = (section.rids ?? []).map((r) => ({ id: r.id, direction: 'recv' }));
    if (section.simulcast) out.simulcast = { dir1: 'recv', list1: section.simulcast.list1 };
  }
  if (s.direction === 'sendonly') {
    const enc = rtp.encodings?.[0];
    const cname = rtp.rtcp?.cname ?? 'mimamori';
    const track = `${s.media.kind}-${mid}`;
    out.msid = [{ id: s.msid ?? 'mimamori', appdata: track }];
    if (enc?.ssrc) {
      out.ssrcs = [{ id: enc.ssrc, attribute: 'cname', value: cname }];
      if (enc.rtx?.ssrc) {
        out.ssrcs.push({ id: enc.rtx.ssrc, attribute: 'cname', value: cname });
        out.ssrcGroups = [{ semantics: 'FID', ssrcs: `${enc.ssrc} ${enc.rtx.ssrc}` }];
      }
    }
  }
  return out;
}
