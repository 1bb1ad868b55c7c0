// RTP → H.264 frames (RFC 6184 packetization-mode 1: single NAL unit, STAP-A, FU-A), as AVCC
// samples ready for MP4. Pure and synchronous.
import { NalType, opensAccessUnit } from './nal.ts';
import type { DepacketizerStats, Depacketizer, H264Config, VideoFrame } from './frame.ts';
import type { OrderedPacket } from './reorder.ts';
import { parseSps, type SpsInfo } from './sps.ts';

const STAP_A = 24;
const FU_A = 28;

/**
 * Reassembles access units and returns each one whole or not at all: a security manager must
 * never see a broken picture, so the rules lean towards dropping.
 *
 * - A frame ends at the marker bit, or when the timestamp changes with nothing lost.
 * - A frame is complete only if its start is certain: the previous frame ended here with no loss
 *   since, or its first NAL unit is an AUD or SPS (which only ever open an access unit). After a
 *   loss the lost packets may have held the beginning of the next frame, or a whole frame.
 * - Any loss drops the frame in progress and every frame after it until a keyframe (IDR), as
 *   P-frames need their references; so does a frame that is inconsistent (bad STAP-A sizes, an
 *   FU-A without its start or end, forbidden types, IDR and non-IDR slices mixed) or whose SPS
 *   cannot be parsed. A parameter set change is accepted only on a keyframe.
 * - SPS/PPS are tracked from complete NAL units wherever they come (single, STAP-A, FU-A); no
 *   frame is returned before both are known. Only the latest of each is kept (one config).
 *
 * Frame data are copied once per frame into the AVCC sample; in between, only views into the
 * packets' payloads are kept.
 */
export class H264FrameDepacketizer implements Depacketizer {
  #needsKeyframe = true;
  #certainStart = false; // the next packet begins a frame for sure
  #sps: Uint8Array | undefined; // a copy, replaced only when the bytes change
  #pps: Uint8Array | undefined;
  #config: H264Config | undefined;

  // The frame in progress.
  #inFrame = false;
  #timestamp = 0;
  #packets = 0;
  #waiting = false; // a keyframe was awaited when the frame began: its packets count as skipped if dropped
  #broken = false;
  #hasIdr = false;
  #hasNonIdr = false;
  #fuOpen = false; // the last NAL unit is an FU-A still missing its end
  // NAL units as parallel arrays, reused from frame to frame: unit i is its header byte
  // (#nalHeader[i], or -1 when the header is the first byte of its first chunk) followed by
  // chunks #nalFirstChunk[i] up to the next unit's first chunk.
  readonly #chunks: Uint8Array[] = [];
  readonly #nalFirstChunk: number[] = [];
  readonly #nalHeader: number[] = [];
  readonly #nalSize: number[] = [];
  readonly #nalType: number[] = [];

  readonly #stats: DepacketizerStats = { frames: 0, droppedFrames: 0, skippedPackets: 0 };

  get needsKeyframe(): boolean {
    return this.#needsKeyframe;
  }

  get stats(): Readonly<DepacketizerStats> {
    return this.#stats;
  }

  push({ packet, lost }: OrderedPacket): VideoFrame[] {
    const out: VideoFrame[] = [];
    if (lost > 0) {
      // The same timestamp: a hole inside the frame in progress, which is dropped once it ends.
      if (this.#inFrame) {
        if (packet.timestamp === this.#timestamp) this.#broken = true;
        else this.#drop();
      }
      this.#certainStart = false;
      this.#needsKeyframe = true;
    }
    const payload = packet.payload;
    if (payload.length === 0) return out; // padding only (bandwidth probing)
    if (this.#inFrame && packet.timestamp !== this.#timestamp) this.#finish(out); // no marker, nothing lost
    if (!this.#inFrame) this.#begin(packet.timestamp, payload);
    this.#packets += 1;
    if (!this.#broken) this.#addPayload(payload);
    if (packet.marker) this.#finish(out);
    return out;
  }

  #begin(timestamp: number, payload: Uint8Array): void {
    this.#inFrame = true;
    this.#timestamp = timestamp;
    this.#packets = 0;
    this.#waiting = this.#needsKeyframe;
    this.#broken = !this.#certainStart && !opensAccessUnit(payload);
    this.#hasIdr = false;
    this.#hasNonIdr = false;
    this.#fuOpen = false;
    this.#chunks.length = 0;
    this.#nalFirstChunk.length = 0;
    this.#nalHeader.length = 0;
    this.#nalSize.length = 0;
    this.#nalType.length = 0;
  }

  /** Ends the frame in progress with nothing lost since: returns it if it is whole and usable. */
  #finish(out: VideoFrame[]): void {
    this.#certainStart = true;
    if (this.#broken || this.#fuOpen || (this.#hasIdr && this.#hasNonIdr)) return this.#drop();
    if (!this.#hasIdr && !this.#hasNonIdr) {
      // Parameter sets or SEI alone (some senders give them their own timestamp): not a picture.
      this.#inFrame = false;
      return;
    }
    const keyframe = this.#hasIdr;
    if (this.#needsKeyframe && !keyframe) return this.#drop();
    const sps = this.#sps;
    const pps = this.#pps;
    if (sps === undefined || pps === undefined) return this.#drop();
    let config = this.#config;
    if (config === undefined || config.sps !== sps || config.pps !== pps) {
      if (!keyframe) return this.#drop();
      config = h264Config(sps, pps);
      if (config === undefined) return this.#drop();
      this.#config = config;
    }
    this.#inFrame = false;
    this.#needsKeyframe = false;
    this.#stats.frames += 1;
    out.push({ kind: 'video', timestamp: this.#timestamp, keyframe, data: this.#avcc(), config });
  }

  /** Throws the frame in progress away; everything until the next keyframe goes too. */
  #drop(): void {
    this.#stats.droppedFrames += 1;
    if (this.#waiting) this.#stats.skippedPackets += this.#packets;
    this.#needsKeyframe = true;
    this.#inFrame = false;
  }

  #addPayload(payload: Uint8Array): void {
    const type = payload[0]! & 0x1f;
    if (type >= 1 && type <= 23) {
      if (this.#fuOpen) return this.#break(); // the fragmented unit before never got its end
      this.#addNal(payload);
    } else if (type === STAP_A) {
      if (this.#fuOpen) return this.#break();
      let at = 1;
      while (at < payload.length && !this.#broken) {
        if (at + 2 > payload.length) return this.#break();
        const size = (payload[at]! << 8) | payload[at + 1]!;
        at += 2;
        if (size === 0 || at + size > payload.length) return this.#break();
        this.#addNal(payload.subarray(at, at + size));
        at += size;
      }
      if (at === 1) this.#break(); // no unit at all
    } else if (type === FU_A) {
      this.#addFragment(payload);
    } else {
      this.#break(); // 0, 25–27, 29–31: reserved or not allowed in packetization-mode 1
    }
  }

  #addNal(nal: Uint8Array): void {
    if (nal[0]! & 0x80) return this.#break(); // forbidden_zero_bit: the sender flags the unit as damaged
    this.#nalFirstChunk.push(this.#chunks.length);
    this.#chunks.push(nal);
    this.#nalHeader.push(-1);
    this.#nalSize.push(nal.length);
    this.#nalType.push(nal[0]! & 0x1f);
    this.#nalComplete(this.#nalType.length - 1);
  }

  #addFragment(payload: Uint8Array): void {
    if (payload.length < 3) return this.#break(); // no fragment data
    const indicator = payload[0]!;
    const header = payload[1]!;
    const start = (header & 0x80) !== 0;
    const end = (header & 0x40) !== 0;
    const type = header & 0x1f;
    if ((start && end) || type === 0 || type >= 24 || indicator & 0x80) return this.#break();
    const fragment = payload.subarray(2);
    if (start) {
      if (this.#fuOpen) return this.#break();
      this.#nalFirstChunk.push(this.#chunks.length);
      this.#chunks.push(fragment);
      this.#nalHeader.push((indicator & 0xe0) | type); // the unit's own header: F and NRI from the indicator
      this.#nalSize.push(1 + fragment.length);
      this.#nalType.push(type);
      this.#fuOpen = true;
    } else {
      const last = this.#nalType.length - 1;
      if (!this.#fuOpen || this.#nalType[last] !== type) return this.#break(); // its start was lost
      this.#chunks.push(fragment);
      this.#nalSize[last]! += fragment.length;
    }
    if (end) {
      this.#fuOpen = false;
      this.#nalComplete(this.#nalType.length - 1);
    }
  }

  #nalComplete(i: number): void {
    const type = this.#nalType[i]!;
    if (type === NalType.sliceIdr) this.#hasIdr = true;
    else if (type >= 1 && type <= 4) this.#hasNonIdr = true;
    else if (type === NalType.sps) this.#sps = sameOrCopy(this.#sps, this.#nalBytes(i));
    else if (type === NalType.pps) this.#pps = sameOrCopy(this.#pps, this.#nalBytes(i));
  }

  #break(): void {
    this.#broken = true;
  }

  /** One unit's bytes: a view when it came whole, else a copy (FU-A parameter sets only). */
  #nalBytes(i: number): Uint8Array {
    const first = this.#nalFirstChunk[i]!;
    if (this.#nalHeader[i] === -1) return this.#chunks[first]!;
    const bytes = new Uint8Array(this.#nalSize[i]!);
    bytes[0] = this.#nalHeader[i]!;
    this.#copyChunks(bytes, 1, first, this.#chunkEnd(i));
    return bytes;
  }

  #chunkEnd(i: number): number {
    return i + 1 < this.#nalFirstChunk.length ? this.#nalFirstChunk[i + 1]! : this.#chunks.length;
  }

  #copyChunks(into: Uint8Array, at: number, from: number, to: number): number {
    for (let c = from; c < to; c++) {
      const chunk = this.#chunks[c]!;
      into.set(chunk, at);
      at += chunk.length;
    }
    return at;
  }

  /** The frame as one AVCC sample; parameter sets go to the config, AUD and filler nowhere. */
  #avcc(): Uint8Array {
    const count = this.#nalType.length;
    let total = 0;
    for (let i = 0; i < count; i++) if (keptInSample(this.#nalType[i]!)) total += 4 + this.#nalSize[i]!;
    const data = new Uint8Array(total);
    let at = 0;
    for (let i = 0; i < count; i++) {
      if (!keptInSample(this.#nalType[i]!)) continue;
      const size = this.#nalSize[i]!;
      data[at] = size >>> 24;
      data[at + 1] = (size >>> 16) & 0xff;
      data[at + 2] = (size >>> 8) & 0xff;
      data[at + 3] = size & 0xff;
      at += 4;
      const header = this.#nalHeader[i]!;
      if (header !== -1) data[at++] = header;
      at = this.#copyChunks(data, at, this.#nalFirstChunk[i]!, this.#chunkEnd(i));
    }
    return data;
  }
}

/** The config for these parameter sets, or undefined if the SPS cannot be parsed. */
function h264Config(sps: Uint8Array, pps: Uint8Array): H264Config | undefined {
  let info: SpsInfo;
  try {
    info = parseSps(sps);
  } catch {
    return undefined;
  }
  const codecString = `avc1.${hex2(info.profileIdc)}${hex2(info.constraintFlags)}${hex2(info.levelIdc)}`;
  return { codec: 'h264', sps, pps, ...info, codecString };
}

/** Whether a NAL unit of this type is part of the recorded sample (parameter sets go to the config; AUD and filler carry no picture). */
export function keptInSample(type: number): boolean {
  return type !== NalType.sps && type !== NalType.pps && type !== NalType.aud && type !== NalType.filler;
}


/** The stored parameter set if its bytes did not change (keeps the config's identity), else a copy of the new one. */
function sameOrCopy(current: Uint8Array | undefined, bytes: Uint8Array): Uint8Array {
  if (current !== undefined && current.length === bytes.length) {
    let i = 0;
    while (i < bytes.length && current[i] === bytes[i]) i++;
    if (i === bytes.length) return current;
  }
  return bytes.slice();
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
