// One consumed RTP stream on its way to frames: parse → reorder → depacketize, with media time
// extended to a monotonic tick count and mapped to the wall clock.

import { CaptureClock, TimestampUnwrapper, WallClockMapping } from './clock.ts';
import { createDepacketizer, parseRtp, ReorderBuffer, type OrderedPacket } from './rtp/index.ts';
import type { TimedFrame } from './Segmenter.ts';

export type TrackCodec = 'h264' | 'vp8' | 'opus';

export class TrackIngest {
  readonly kind: 'video' | 'audio';
  readonly codec: TrackCodec;
  readonly clockRate: number;
  readonly ssrc: number;
  readonly clock: WallClockMapping;
  readonly capture: CaptureClock;
  readonly #reorder: ReorderBuffer;
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
    // Sized to the stream: 300 ms of Opus is 15 packets; of video, a keyframe burst at several Mbit/s.
    this.#reorder = new ReorderBuffer({ maxDelayMs: 300, maxPackets: this.kind === 'audio' ? 128 : 1024 });
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

  /**
   * Garbage that does not parse as RTP is counted and ignored; it never reaches the recording.
   * `arrivalMs` (wall clock) places the packet in time; `monotonicMs` (performance.now()) times
   * the reordering wait, which a stepped wall clock must not stretch or cut.
   */
  push(bytes: Uint8Array, arrivalMs: number, monotonicMs: number): TimedFrame[] {
    let packet;
    try {
      packet = parseRtp(bytes);
    } catch {
      this.#garbage += 1;
      return [];
    }
    this.#packets += 1;
    this.clock.observeArrival(this.#unwrapper.unwrap(packet.timestamp), arrivalMs);
    return this.#frames(this.#reorder.push(packet, monotonicMs));
  }

  /** `monotonicMs`: performance.now(). */
  poll(monotonicMs: number): TimedFrame[] {
    return this.#frames(this.#reorder.poll(monotonicMs));
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
        const ticks = this.#unwrapper.peek(frame.timestamp) ?? frame.timestamp;
        out.push({ frame, ticks, wallMs: this.clock.wallOf(ticks) });
      }
    }
    return out;
  }
}
