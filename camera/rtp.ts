// RTP packetizers (H.264 per RFC 6184 packetization-mode 1, Opus per RFC 7587). What a synthetic
// viewer receives goes back through the recorder's depacketizer (recorder/rtp), the one there is.
// Pure and synchronous: no sockets, timers or clocks. Timestamps come in as media time in
// clock-rate ticks counted from 0; each packetizer adds its own random-looking base, given by the
// caller so tests are deterministic.
import { seqAdd, type RtpPacket } from '../recorder/rtp/index.ts';

export { seqAdd, seqDiff, opensAccessUnit } from '../recorder/rtp/index.ts';
/** The fields of an RTP packet the packetizers write (werift's RtpPacket is converted at the edge). */
export type RtpPacketData = RtpPacket;

export const H264_CLOCK_RATE = 90_000;
export const OPUS_CLOCK_RATE = 48_000;
/** Payload bytes per packet: with RTP, SRTP and UDP/IP headers this stays under a 1280-byte path MTU. */
export const DEFAULT_MAX_PAYLOAD = 1200;

const FU_A = 28;

/** base + ticks modulo 2^32 (RTP timestamps). Exact for ticks below 2^53. */
export function rtpTimestamp(base: number, ticks: number): number {
  return (base + ticks) % 0x1_0000_0000;
}

export interface PacketizerOptions {
  payloadType: number;
  ssrc: number;
  /** First sequence number (RFC 3550 wants it random; the caller picks it). */
  sequenceNumber: number;
  /** RTP timestamp of media time 0. */
  timestampBase: number;
}

export interface H264PacketizerOptions extends PacketizerOptions {
  /** Largest RTP payload; NAL units above it are split into FU-A fragments. Default 1200. */
  maxPayloadSize?: number;
}

/**
 * RFC 6184 packetization-mode 1 without aggregation: a NAL unit that fits goes alone in one packet
 * (single NAL unit packet), a larger one is split into FU-A fragments. All packets of an access
 * unit share its timestamp; the last carries the marker bit.
 */
export class H264Packetizer {
  readonly #payloadType: number;
  readonly #ssrc: number;
  readonly #timestampBase: number;
  readonly #maxPayload: number;
  #seq: number;

  constructor(options: H264PacketizerOptions) {
    const maxPayload = options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD;
    if (!Number.isInteger(maxPayload) || maxPayload < 3) throw new TypeError('maxPayloadSize must be an integer ≥ 3 (FU-A needs 2 header bytes)');
    this.#payloadType = options.payloadType;
    this.#ssrc = options.ssrc >>> 0;
    this.#seq = options.sequenceNumber & 0xffff;
    this.#timestampBase = options.timestampBase >>> 0;
    this.#maxPayload = maxPayload;
  }

  /** Sequence number the next packet will carry. */
  get nextSequenceNumber(): number {
    return this.#seq;
  }

  /** One access unit (NAL units without start codes) at media time `ticks` (90 kHz) → its packets. */
  packetize(nalus: readonly Uint8Array[], ticks: number): RtpPacketData[] {
    const timestamp = rtpTimestamp(this.#timestampBase, ticks);
    const payloads: Uint8Array[] = [];
    for (const nal of nalus) {
      if (nal.length === 0) continue;
      if (nal.length <= this.#maxPayload) {
        payloads.push(nal);
        continue;
      }
      // FU-A: indicator keeps F and NRI with type 28; header carries S/E and the original type.
      const indicator = (nal[0]! & 0xe0) | FU_A;
      const type = nal[0]! & 0x1f;
      const chunk = this.#maxPayload - 2;
      for (let at = 1; at < nal.length; at += chunk) {
        const end = Math.min(at + chunk, nal.length);
        const fu = new Uint8Array(2 + end - at);
        fu[0] = indicator;
        fu[1] = (at === 1 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type;
        fu.set(nal.subarray(at, end), 2);
        payloads.push(fu);
      }
    }
    return payloads.map((payload, i) => {
      const packet: RtpPacketData = {
        payloadType: this.#payloadType,
        sequenceNumber: this.#seq,
        timestamp,
        ssrc: this.#ssrc,
        marker: i === payloads.length - 1,
        payload,
      };
      this.#seq = seqAdd(this.#seq, 1);
      return packet;
    });
  }
}

/** RFC 7587: one Opus packet per RTP packet, 48 kHz timestamps whatever the real sample rate. */
export class OpusPacketizer {
  readonly #payloadType: number;
  readonly #ssrc: number;
  readonly #timestampBase: number;
  #seq: number;

  constructor(options: PacketizerOptions) {
    this.#payloadType = options.payloadType;
    this.#ssrc = options.ssrc >>> 0;
    this.#seq = options.sequenceNumber & 0xffff;
    this.#timestampBase = options.timestampBase >>> 0;
  }

  get nextSequenceNumber(): number {
    return this.#seq;
  }

  /** One Opus packet starting at media time `ticks` (48 kHz). */
  packetize(packet: Uint8Array, ticks: number): RtpPacketData {
    const rtp: RtpPacketData = {
      payloadType: this.#payloadType,
      sequenceNumber: this.#seq,
      timestamp: rtpTimestamp(this.#timestampBase, ticks),
      ssrc: this.#ssrc,
      marker: false,
      payload: packet,
    };
    this.#seq = seqAdd(this.#seq, 1);
    return rtp;
  }
}

/** The parts, copied into one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
