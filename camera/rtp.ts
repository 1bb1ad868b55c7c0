// RTP packetizers (H.264 per RFC 6184 packetization-mode 1, Opus per RFC 7587) and the H.264
// depacketizer. Pure and synchronous: no sockets, timers or clocks. Timestamps come in as media
// time in clock-rate ticks counted from 0; each packetizer adds its own random-looking base, given
// by the caller so tests are deterministic.
import { FormatError } from './errors.ts';
import { NalType, nalType, opensAccessUnit, seqAdd, seqDiff, type RtpPacket } from '../recorder/rtp/index.ts';

export { seqAdd, seqDiff, opensAccessUnit } from '../recorder/rtp/index.ts';
/** The fields of an RTP packet the packetizers write (werift's RtpPacket is converted at the edge). */
export type RtpPacketData = RtpPacket;


export const H264_CLOCK_RATE = 90_000;
export const OPUS_CLOCK_RATE = 48_000;
/** Payload bytes per packet: with RTP, SRTP and UDP/IP headers this stays under a 1280-byte path MTU. */
export const DEFAULT_MAX_PAYLOAD = 1200;

const STAP_A = 24;
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

/** A reassembled access unit. */
export interface H264Frame {
  nalus: Uint8Array[];
  keyframe: boolean;
  /** RTP timestamp shared by the frame's packets. */
  timestamp: number;
}

export interface DepacketizerCounters {
  /** Packets whose sequence number came before the expected one (duplicates, late retransmissions); ignored. */
  latePackets: number;
  /** Sequence numbers skipped over (lost, as far as this depacketizer knows). */
  lostPackets: number;
  /** Access units thrown away because a packet of theirs was lost or fragments were inconsistent. */
  droppedFrames: number;
  /** Packets skipped while waiting for the start of an access unit (after joining or after a loss). */
  skippedPackets: number;
}

/**
 * RTP → H.264 access units (single NAL unit, STAP-A and FU-A packets). `push()` returns a frame
 * when its last packet (marker bit) arrives, else `null`.
 *
 * Loss handling: a sequence gap drops the access unit in progress and desynchronises. Until
 * synchronised again, packets are skipped unless they begin an access unit for sure: the packet
 * right after one with the marker bit, or a packet whose first NAL unit is an AUD or SPS (which
 * only ever open an access unit). An access unit whose marker packet never came (the timestamp
 * changed first) is dropped too. So a frame returned is always whole, never a partial picture.
 * No reordering: on loopback and behind an SFU packets arrive in order; late ones are ignored.
 */
export class H264Depacketizer {
  #expectedSeq: number | undefined;
  #synced = false;
  #previousHadMarker = false;
  #timestamp = 0;
  #nalus: Uint8Array[] = [];
  #fragments: Uint8Array[] | undefined; // FU-A pieces of the NAL unit being reassembled
  #broken = false; // the access unit in progress is inconsistent and will be dropped
  readonly #counters: DepacketizerCounters = { latePackets: 0, lostPackets: 0, droppedFrames: 0, skippedPackets: 0 };

  get counters(): Readonly<DepacketizerCounters> {
    return this.#counters;
  }

  /** Forget the access unit in progress and wait for the next certain start (after a decoder error, say). */
  reset(): void {
    if (this.#nalus.length > 0 || this.#fragments) this.#counters.droppedFrames += 1;
    this.#clear();
    this.#synced = false;
    this.#previousHadMarker = false;
  }

  /** Throws FormatError for a payload that is not valid RFC 6184 mode-1 data; call reset() after. */
  push(packet: RtpPacketData): H264Frame | null {
    const { sequenceNumber: seq } = packet;
    let afterGap = false;
    if (this.#expectedSeq !== undefined && seq !== this.#expectedSeq) {
      const gap = seqDiff(this.#expectedSeq, seq);
      if (gap < 0) {
        this.#counters.latePackets += 1;
        return null;
      }
      this.#counters.lostPackets += gap;
      afterGap = true;
    }
    this.#expectedSeq = seqAdd(seq, 1);
    const previousHadMarker = this.#previousHadMarker;
    this.#previousHadMarker = packet.marker;

    if (afterGap) {
      if (this.#nalus.length > 0 || this.#fragments) this.#counters.droppedFrames += 1;
      this.#clear();
      this.#synced = false;
    }

    if (this.#hasContent() && packet.timestamp !== this.#timestamp) {
      // A new timestamp while an access unit is open: its last packet (the one with the marker
      // bit, mandatory per RFC 6184 5.1) never came, so it may be incomplete.
      this.#counters.droppedFrames += 1;
      this.#clear();
    }

    if (!this.#synced) {
      const certainStart = (previousHadMarker && !afterGap) || opensAccessUnit(packet.payload);
      if (!certainStart) {
        this.#counters.skippedPackets += 1;
        return null;
      }
      this.#synced = true;
    }

    if (!this.#hasContent()) this.#timestamp = packet.timestamp;
    this.#addPayload(packet.payload);
    return packet.marker ? this.#finish() : null;
  }

  #hasContent(): boolean {
    return this.#nalus.length > 0 || this.#fragments !== undefined || this.#broken;
  }

  #clear(): void {
    this.#nalus = [];
    this.#fragments = undefined;
    this.#broken = false;
  }

  #finish(): H264Frame | null {
    const broken = this.#broken || this.#fragments !== undefined;
    const nalus = this.#nalus;
    this.#clear();
    if (broken) {
      this.#counters.droppedFrames += 1;
      return null;
    }
    if (nalus.length === 0) return null;
    return { nalus, keyframe: nalus.some((n) => nalType(n) === NalType.sliceIdr), timestamp: this.#timestamp };
  }

  #addPayload(payload: Uint8Array): void {
    if (payload.length === 0) throw new FormatError('empty H.264 RTP payload');
    const type = payload[0]! & 0x1f;
    if (type >= 1 && type <= 23) {
      if (this.#fragments) this.#broken = true; // a fragmented NAL unit never got its end
      this.#fragments = undefined;
      this.#nalus.push(payload);
      return;
    }
    if (type === STAP_A) {
      if (this.#fragments) this.#broken = true;
      this.#fragments = undefined;
      for (const nal of splitStapA(payload)) this.#nalus.push(nal);
      return;
    }
    if (type === FU_A) {
      if (payload.length < 3) throw new FormatError(`FU-A packet of ${payload.length} bytes has no fragment data`);
      const header = payload[1]!;
      const start = (header & 0x80) !== 0;
      const end = (header & 0x40) !== 0;
      if (start && end) throw new FormatError('FU-A packet with both start and end bits set');
      if (start) {
        if (this.#fragments) this.#broken = true;
        const first = new Uint8Array(1);
        first[0] = (payload[0]! & 0xe0) | (header & 0x1f);
        this.#fragments = [first, payload.subarray(2)];
      } else if (!this.#fragments) {
        this.#broken = true; // middle or end without a start: its beginning is missing
        return;
      } else {
        this.#fragments.push(payload.subarray(2));
      }
      if (end) {
        this.#nalus.push(concatBytes(this.#fragments));
        this.#fragments = undefined;
      }
      return;
    }
    throw new FormatError(`H.264 RTP payload type ${type} is not allowed in packetization-mode 1 (want 1–23, 24 STAP-A or 28 FU-A)`);
  }
}

function splitStapA(payload: Uint8Array): Uint8Array[] {
  const nalus: Uint8Array[] = [];
  let at = 1;
  while (at < payload.length) {
    if (at + 2 > payload.length) throw new FormatError('STAP-A ends inside a NAL unit size field');
    const size = (payload[at]! << 8) | payload[at + 1]!;
    at += 2;
    if (size === 0 || at + size > payload.length) throw new FormatError(`STAP-A NAL unit of ${size} bytes does not fit the packet`);
    nalus.push(payload.subarray(at, at + size));
    at += size;
  }
  if (nalus.length === 0) throw new FormatError('STAP-A packet without NAL units');
  return nalus;
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
