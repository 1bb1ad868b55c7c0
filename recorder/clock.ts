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

/** How long the least-delayed packet is looked for before a mapping that runs early is moved. */
const LATE_WINDOW_MS = 3000;
/** A window whose least-delayed packet came this much later than the mapping said moves it. */
const LATE_MS = 20;

/**
 * Maps a track's extended RTP time to the server's wall clock (NTP-synced): the arrival time of
 * the least-delayed packet (a packet is never early, only late). This places the recording on
 * the real timeline; the camera's own clock is only trusted for lip sync (below). A camera clock
 * running slow makes every packet look later than the last; so does a server clock stepped
 * forward: when even the least-delayed packet of a 3 s window came late, the mapping moves to it.
 */
export class WallClockMapping {
  readonly clockRate: number;
  #anchorTicks: number | undefined;
  #anchorMs = 0;
  #windowStartMs = 0;
  #windowBest: { ticks: number; arrivalMs: number; lateMs: number } | undefined;

  constructor(clockRate: number) {
    this.clockRate = clockRate;
  }

  get known(): boolean {
    return this.#anchorTicks !== undefined;
  }

  observeArrival(ticks: number, arrivalMs: number): void {
    if (this.#anchorTicks === undefined || arrivalMs < this.wallOf(ticks)) {
      this.#anchorTicks = ticks;
      this.#anchorMs = arrivalMs;
      this.#windowStartMs = arrivalMs;
      this.#windowBest = undefined;
      return;
    }
    const lateMs = arrivalMs - this.wallOf(ticks);
    if (!this.#windowBest || lateMs < this.#windowBest.lateMs) this.#windowBest = { ticks, arrivalMs, lateMs };
    if (arrivalMs - this.#windowStartMs < LATE_WINDOW_MS) return;
    if (this.#windowBest.lateMs > LATE_MS) {
      this.#anchorTicks = this.#windowBest.ticks;
      this.#anchorMs = this.#windowBest.arrivalMs;
    }
    this.#windowStartMs = arrivalMs;
    this.#windowBest = undefined;
  }

  wallOf(ticks: number): number {
    if (this.#anchorTicks === undefined) throw new TypeError('wall-clock mapping used before any packet arrived');
    return this.#anchorMs + ((ticks - this.#anchorTicks) * 1000) / this.clockRate;
  }

  ticksAt(wallMs: number): number {
    if (this.#anchorTicks === undefined) throw new TypeError('wall-clock mapping used before any packet arrived');
    return this.#anchorTicks + Math.round(((wallMs - this.#anchorMs) * this.clockRate) / 1000);
  }
}

/**
 * The camera's capture clock from its RTCP sender reports (NTP ↔ RTP time). Audio and video of
 * one camera share it, so it tells how the tracks line up (lip sync) whatever the network did.
 */
export class CaptureClock {
  readonly clockRate: number;
  #ticks: number | undefined;
  #ntpMs = 0;

  constructor(clockRate: number) {
    this.clockRate = clockRate;
  }

  get known(): boolean {
    return this.#ticks !== undefined;
  }

  observe(ticks: number, ntpMs: number): void {
    this.#ticks = ticks;
    this.#ntpMs = ntpMs;
  }

  /** Capture time (camera clock, ms) of a tick count. */
  captureOf(ticks: number): number {
    if (this.#ticks === undefined) throw new TypeError('capture clock used before a sender report');
    return this.#ntpMs + ((ticks - this.#ticks) * 1000) / this.clockRate;
  }

  /** Tick count captured at a camera-clock time. */
  ticksAt(captureMs: number): number {
    if (this.#ticks === undefined) throw new TypeError('capture clock used before a sender report');
    return this.#ticks + Math.round(((captureMs - this.#ntpMs) * this.clockRate) / 1000);
  }
}

const NTP_EPOCH_OFFSET_S = 2_208_988_800; // 1900-01-01 → 1970-01-01

/** NTP timestamp (seconds since 1900 + 2^-32 fractions) → ms since the epoch. */
export function ntpToMs(seconds: number, fraction: number): number {
  return (seconds - NTP_EPOCH_OFFSET_S) * 1000 + (fraction / 0x1_0000_0000) * 1000;
}
