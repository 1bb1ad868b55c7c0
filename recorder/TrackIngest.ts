// One consumed RTP stream on its way to frames: parse → reorder → depacketize, with media time
// extended to a monotonic tick count and mapped to the wall clock.

import { CaptureClock, TimestampUnwrapper, WallClockMapping } from './clock.ts';
import { createDepacketizer, parseRtp, ReorderBuffer, type Frame, type OrderedPacket } from './rtp/index.ts';

export type TrackCodec = 'h264' | 'vp8' | 'opus';

export interface TimedFrame {
  frame: Frame;
  /** Extended RTP time (clock-rate ticks). */
  ticks: number;
}

export class TrackIngest {
  readonly kind: 'video' | 'audio';
  readonly codec: TrackCodec;
  readonly clockRate: number;
  readonly ssrc: number;
  readonly clock: WallClockMapping;
  readonly capture: CaptureClock;
  readonly #reorder = new ReorderBuffer({ maxDelayMs: 300 });
  readonly #depacketizer;
  readonly #unwrapper = new TimestampUnwrapper();
  #garbage = 0;
  #packets = 0;
  #droppedSeen = 0;

  constructor(options: { codec: TrackCodec; clockRate: number; ssrc: number }) {
    this.codec = options.codec;
    this.kind = options.codec === 'opus' ? 'audio' : 'video';
    this.clockRate = options.clockRate;
    this.ssrc = options.ssrc;
    this.clock = new WallClockMapping(options.clockRate);
    this.capture = new CaptureClock(options.clockRate);
    this.#depacketizer = createDepacketizer(options.codec);
  }

  get needsKeyframe(): boolean {
    return this.#depacketizer.needsKeyframe;
  }
  get stats(): { packets: number; garbage: number; droppedFrames: number; frames: number; lost: number; late: number; duplicates: number; clock: 'sender-report' | 'arrival' } {
    const d = this.#depacketizer.stats;
    const r = this.#reorder.stats;
    return {
      packets: this.#packets,
      garbage: this.#garbage,
      droppedFrames: d.droppedFrames,
      frames: d.frames,
      lost: r.lost,
      late: r.late,
      duplicates: r.duplicates,
      clock: this.capture.known ? 'sender-report' : 'arrival',
    };
  }

  /** True once per batch of newly dropped frames (the recording must not bridge them). */
  takeDroppedFrames(): boolean {
    const dropped = this.#depacketizer.stats.droppedFrames;
    if (dropped === this.#droppedSeen) return false;
    this.#droppedSeen = dropped;
    return true;
  }

  /** Garbage that does not parse as RTP is counted and ignored; it never reaches the recording. */
  push(bytes: Uint8Array, nowMs: number): TimedFrame[] {
    let packet;
    try {
      packet = parseRtp(bytes);
    } catch {
      this.#garbage += 1;
      return [];
    }
    this.#packets += 1;
    this.clock.observeArrival(this.#unwrapper.unwrap(packet.timestamp), nowMs);
    return this.#frames(this.#reorder.push(packet, nowMs));
  }

  poll(nowMs: number): TimedFrame[] {
    return this.#frames(this.#reorder.poll(nowMs));
  }

  flush(): TimedFrame[] {
    return this.#frames(this.#reorder.flush());
  }

  /** A sender report of the camera for this stream (its RTP times are the ones we receive). */
  onSenderReport(rtpTimestamp: number, ntpMs: number): void {
    const ticks = this.#unwrapper.peek(rtpTimestamp);
    if (ticks !== undefined) this.capture.observe(ticks, ntpMs);
  }

  #frames(ordered: OrderedPacket[]): TimedFrame[] {
    if (ordered.length === 0) return [];
    const out: TimedFrame[] = [];
    for (const o of ordered) {
      for (const frame of this.#depacketizer.push(o)) {
        out.push({ frame, ticks: this.#unwrapper.peek(frame.timestamp) ?? frame.timestamp });
      }
    }
    return out;
  }
}
