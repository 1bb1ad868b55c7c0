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

/** The least-delayed packet is looked for in windows this long… */
const LATE_WINDOW_MS = 10_000;
/** …and the mapping moves later only when that many windows in a row each came later than the last. */
const LATE_WINDOWS = 6;
/** By at least this much each (a queue that builds up and drains again is no clock running slow). */
const LATE_STEP_MS = 5;

/**
 * Maps a track's extended RTP time to the server's wall clock (NTP-synced): the arrival time of
 * the least-delayed packet (a packet is never early, only late). This places the recording on
 * the real timeline; the camera's own clock is only trusted for lip sync (below). A camera clock
 * running slow makes every packet look later than the last, steadily: when the least-delayed
 * packet of six 10 s windows in a row came later each time, the mapping moves to the latest. Only
 * that long a trend is believed: a recorder that falls behind (arrival is when Node handles a
 * packet) makes packets look later too, and a drift restart on top of that would only add load.
 */
export class WallClockMapping {
  readonly clockRate: number;
  #anchorTicks: number | undefined;
  #anchorMs = 0;
  #windowStartMs = 0;
  #windowBest: { ticks: number; arrivalMs: number; lateMs: number } | undefined;
  /** The least-delayed packets of the last windows, oldest first. */
  readonly #late: { ticks: number; arrivalMs: number; lateMs: number }[] = [];

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
      this.#late.length = 0;
      return;
    }
    const lateMs = arrivalMs - this.wallOf(ticks);
    if (!this.#windowBest || lateMs < this.#windowBest.lateMs) this.#windowBest = { ticks, arrivalMs, lateMs };
    if (arrivalMs - this.#windowStartMs < LATE_WINDOW_MS) return;
    const best = this.#windowBest;
    this.#windowStartMs = arrivalMs;
    this.#windowBest = undefined;
    const last = this.#late.at(-1);
    if (last && best.lateMs < last.lateMs + LATE_STEP_MS) this.#late.length = 0;
    this.#late.push(best);
    if (this.#late.length < LATE_WINDOWS) return;
    this.#anchorTicks = best.ticks;
    this.#anchorMs = best.arrivalMs;
    this.#late.length = 0;
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

/**
 * A recording session's timeline: decode time 0 of its lead track sits at `originMs` on the wall
 * clock. Segments and fragments are placed by it; it is set when the first keyframe is recorded
 * and moved only when the session restarts it (the drift guard, a clock stepped back).
 */
export class SessionTimeline {
  /** The lead track's timescale (90 kHz video, or 48 kHz audio for a camera without video). */
  readonly timescale: number;
  #originMs: number | undefined;

  constructor(timescale: number) {
    this.timescale = timescale;
  }

  get started(): boolean {
    return this.#originMs !== undefined;
  }

  get originMs(): number {
    if (this.#originMs === undefined) throw new TypeError('session timeline used before its first frame');
    return this.#originMs;
  }

  start(originMs: number): void {
    this.#originMs = originMs;
  }

  /** Wall-clock ms (rounded) of a decode time in ticks of `rate` (the lead track's by default). */
  wallOf(ticks: number, rate = this.timescale): number {
    return Math.round(this.originMs + (ticks * 1000) / rate);
  }

  /** Decode time in ticks of `rate` (the lead track's by default) at a wall-clock ms, rounded. */
  ticksAt(wallMs: number, rate = this.timescale): number {
    return Math.round(((wallMs - this.originMs) * rate) / 1000);
  }
}

const NTP_EPOCH_OFFSET_S = 2_208_988_800; // 1900-01-01 → 1970-01-01

/** NTP timestamp (seconds since 1900 + 2^-32 fractions) → ms since the epoch. */
export function ntpToMs(seconds: number, fraction: number): number {
  return (seconds - NTP_EPOCH_OFFSET_S) * 1000 + (fraction / 0x1_0000_0000) * 1000;
}
