// RTP → VP8 frames (RFC 7741). Pure and synchronous.
import type { Depacketizer, DepacketizerStats, VideoFrame, Vp8Config } from './frame.ts';
import type { OrderedPacket } from './reorder.ts';

/**
 * Reassembles VP8 frames with the same loss rules as H.264: a frame ends at the marker bit or a
 * timestamp change; it is returned only if its first packet starts it (S bit with partition 0) and
 * nothing was lost in it; after any loss everything waits for a keyframe. The descriptor's picture
 * ID, TL0PICIDX and TID/KEYIDX are skipped over, not used, so any loss is taken to have hit a
 * reference frame (the N bit and picture IDs could forgive losses of non-reference frames).
 */
export class Vp8Depacketizer implements Depacketizer {
  #needsKeyframe = true;
  #config: Vp8Config | undefined;

  #inFrame = false;
  #timestamp = 0;
  #packets = 0;
  #waiting = false; // a keyframe was awaited when the frame began: its packets count as skipped if dropped
  #broken = false;
  #size = 0;
  readonly #chunks: Uint8Array[] = []; // views into the packets' payloads, reused from frame to frame

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
      this.#needsKeyframe = true;
    }
    const payload = packet.payload;
    if (payload.length === 0) return out; // padding only
    const at = descriptorLength(payload);
    const startsFrame = at > 0 && (payload[0]! & 0x17) === 0x10; // S = 1, PID = 0
    if (this.#inFrame && (packet.timestamp !== this.#timestamp || startsFrame)) this.#finish(out);
    if (!this.#inFrame) this.#begin(packet.timestamp, startsFrame);
    this.#packets += 1;
    if (at < 0) this.#broken = true;
    else if (!this.#broken && at < payload.length) {
      const chunk = payload.subarray(at);
      this.#chunks.push(chunk);
      this.#size += chunk.length;
    }
    if (packet.marker) this.#finish(out);
    return out;
  }

  #begin(timestamp: number, startsFrame: boolean): void {
    this.#inFrame = true;
    this.#timestamp = timestamp;
    this.#packets = 0;
    this.#waiting = this.#needsKeyframe;
    this.#broken = !startsFrame; // joined mid-frame, or its first packet was lost
    this.#size = 0;
    this.#chunks.length = 0;
  }

  #finish(out: VideoFrame[]): void {
    if (this.#broken) return this.#drop();
    // Frame tag (RFC 6386 section 9.1): 3 bytes, then for keyframes a start code and the size.
    const header = this.#header();
    if (header === undefined) return this.#drop();
    const tag = header[0]! | (header[1]! << 8) | (header[2]! << 16);
    const keyframe = (tag & 1) === 0;
    const version = (tag >> 1) & 7;
    const firstPartitionSize = tag >>> 5;
    if (version > 3 || firstPartitionSize > this.#size - (keyframe ? 10 : 3)) return this.#drop();
    if (this.#needsKeyframe && !keyframe) return this.#drop();
    let config = this.#config;
    if (keyframe) {
      if (header[3] !== 0x9d || header[4] !== 0x01 || header[5] !== 0x2a) return this.#drop();
      // 14 bits of size, 2 bits of upscaling hint (ignored: it is not the coded size).
      const width = (header[6]! | (header[7]! << 8)) & 0x3fff;
      const height = (header[8]! | (header[9]! << 8)) & 0x3fff;
      if (width === 0 || height === 0) return this.#drop();
      const codecString = `vp08.0${version}.10.08`;
      if (config === undefined || config.width !== width || config.height !== height || config.codecString !== codecString) {
        config = { codec: 'vp8', width, height, codecString };
        this.#config = config;
      }
    }
    if (config === undefined) return this.#drop();
    this.#inFrame = false;
    this.#needsKeyframe = false;
    this.#stats.frames += 1;
    out.push({ kind: 'video', timestamp: this.#timestamp, keyframe, data: this.#data(), config });
  }

  #drop(): void {
    this.#stats.droppedFrames += 1;
    if (this.#waiting) this.#stats.skippedPackets += this.#packets;
    this.#needsKeyframe = true;
    this.#inFrame = false;
  }

  /** The first 10 bytes of the frame (keyframe header), or the first 3 (an inter frame's tag), or undefined if shorter. */
  #header(): Uint8Array | undefined {
    const first = this.#chunks[0];
    if (first === undefined) return undefined;
    const want = (first[0]! & 1) === 0 ? 10 : 3;
    if (first.length >= want) return first;
    if (this.#size < want) return undefined;
    // A sender split the header across packets (legal, never seen from libvpx senders).
    const header = new Uint8Array(want);
    let at = 0;
    for (const chunk of this.#chunks) {
      const n = Math.min(chunk.length, want - at);
      header.set(chunk.subarray(0, n), at);
      at += n;
      if (at === want) break;
    }
    return header;
  }

  #data(): Uint8Array {
    const data = new Uint8Array(this.#size);
    let at = 0;
    for (const chunk of this.#chunks) {
      data.set(chunk, at);
      at += chunk.length;
    }
    return data;
  }
}

/**
 * Bytes of the VP8 payload descriptor (RFC 7741 section 4.2), or -1 if the packet ends inside it.
 *
 *   X R N S R PID | I L T K RSV | M PictureID (7 or 15 bits) | TL0PICIDX | TID Y KEYIDX
 */
function descriptorLength(payload: Uint8Array): number {
  const first = payload[0]!;
  let at = 1;
  if (first & 0x80) {
    const extensions = payload[at];
    if (extensions === undefined) return -1;
    at += 1;
    if (extensions & 0x80) {
      const pictureId = payload[at];
      if (pictureId === undefined) return -1;
      at += pictureId & 0x80 ? 2 : 1;
    }
    if (extensions & 0x40) at += 1; // TL0PICIDX
    if (extensions & 0x30) at += 1; // TID/Y/KEYIDX, present when T or K is set
  }
  return at > payload.length ? -1 : at;
}
