// RTP → Opus frames (RFC 7587). Pure and synchronous.
import type { AudioFrame, Depacketizer, DepacketizerStats } from './frame.ts';
import type { OrderedPacket } from './reorder.ts';

/** One packet is one frame; a loss only leaves a gap (every Opus packet decodes on its own), so no keyframes. */
export class OpusDepacketizer implements Depacketizer {
  readonly #stats: DepacketizerStats = { frames: 0, droppedFrames: 0, skippedPackets: 0 };

  get needsKeyframe(): boolean {
    return false;
  }

  get stats(): Readonly<DepacketizerStats> {
    return this.#stats;
  }

  push({ packet }: OrderedPacket): AudioFrame[] {
    if (packet.payload.length === 0) return []; // padding only
    this.#stats.frames += 1;
    // Copied so a frame never aliases a receive buffer the caller may reuse.
    return [{ kind: 'audio', timestamp: packet.timestamp, data: packet.payload.slice() }];
  }
}
