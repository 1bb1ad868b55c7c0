// Media time ↔ wall-clock time. Media time is integer ticks of the track's clock rate everywhere;
// this is the one place that turns it into milliseconds of wall-clock time.

/** Extends 32-bit RTP timestamps into a monotonic tick count (handles wrap-around both ways). */
export class TimestampUnwrapper {
  #last: number | undefined;
  #extended = 0;

  unwrap(timestamp: number): number {
    if (this.#last === undefined) {
      this.#last = timestamp;
      this.#extended = timestamp;
      return this.#extended;
    }
    let delta = (timestamp - this.#last) >>> 0; // forward distance mod 2^32
    if (delta > 0x7fffffff) delta -= 0x1_0000_0000; // a step backwards (reordering, B-frames)
    this.#last = timestamp;
    this.#extended += delta;
    return this.#extended;
  }

  /** The extended value of a timestamp near the last one, without moving on (for RTCP reports). */
  peek(timestamp: number): number | undefined {
    if (this.#last === undefined) return undefined;
    let delta = (timestamp - this.#last) >>> 0;
    if (delta > 0x7fffffff) delta -= 0x1_0000_0000;
    return this.#extended + delta;
  }
}

/**
 * Maps a track's extended RTP time to wall-clock ms. The SFU's RTCP sender reports (NTP time ↔
 * RTP time, on the server's clock) are the reference; until the first one arrives, the arrival
 * time of the least-delayed packet seen so far stands in (a packet is never early, only late).
 */
export class WallClockMapping {
  readonly clockRate: number;
  #anchorTicks: number | undefined;
  #anchorMs = 0;
  #fromReport = false;

  constructor(clockRate: number) {
    this.clockRate = clockRate;
  }

  get known(): boolean {
    return this.#anchorTicks !== undefined;
  }
  get fromSenderReport(): boolean {
    return this.#fromReport;
  }

  observeArrival(ticks: number, arrivalMs: number): void {
    if (this.#fromReport) return;
    if (this.#anchorTicks === undefined || arrivalMs < this.wallOf(ticks)) {
      this.#anchorTicks = ticks;
      this.#anchorMs = arrivalMs;
    }
  }

  observeSenderReport(ticks: number, ntpMs: number): void {
    this.#anchorTicks = ticks;
    this.#anchorMs = ntpMs;
    this.#fromReport = true;
  }

  wallOf(ticks: number): number {
    if (this.#anchorTicks === undefined) throw new TypeError('wall-clock mapping used before any packet arrived');
    return this.#anchorMs + ((ticks - this.#anchorTicks) * 1000) / this.clockRate;
  }
}

const NTP_EPOCH_OFFSET_S = 2_208_988_800; // 1900-01-01 → 1970-01-01

export interface SenderReport {
  ssrc: number;
  ntpMs: number;
  rtpTimestamp: number;
}

/** The sender reports (PT 200) in a compound RTCP packet; anything else is skipped. */
export function parseSenderReports(bytes: Uint8Array): SenderReport[] {
  const reports: SenderReport[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  while (offset + 4 <= bytes.length) {
    const first = bytes[offset]!;
    if (first >> 6 !== 2) break;
    const length = (view.getUint16(offset + 2) + 1) * 4;
    if (offset + length > bytes.length) break;
    if (bytes[offset + 1] === 200 && length >= 28) {
      const seconds = view.getUint32(offset + 8);
      const fraction = view.getUint32(offset + 12);
      reports.push({
        ssrc: view.getUint32(offset + 4),
        ntpMs: (seconds - NTP_EPOCH_OFFSET_S) * 1000 + (fraction / 0x1_0000_0000) * 1000,
        rtpTimestamp: view.getUint32(offset + 16),
      });
    }
    offset += length;
  }
  return reports;
}
