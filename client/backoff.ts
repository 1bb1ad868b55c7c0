// Exponential backoff with jitter for every automatic retry (signaling, viewer tiles, the camera
// page, and `mimamori camera`, which imports this file from Node: keep it free of DOM types).
export interface BackoffOptions {
  minMs?: number;
  maxMs?: number;
  factor?: number;
  /**
   * Share of the delay that is randomised: a delay is drawn evenly from [base·(1 − jitter), base].
   * 0 = none, 1 = full jitter (anywhere from 0 to base).
   */
  jitter?: number;
  /** Uniform in [0, 1); Math.random unless a test wants fixed draws. */
  random?: () => number;
}

/**
 * Getting back to the service after a lost connection (a node died, the service restarted): the
 * first try within a quarter second, windows doubling to at most 2 s, full jitter. A dying node
 * drops hundreds of cameras and viewers in the same millisecond; full jitter spreads their
 * returns evenly over each window instead of in waves, and the 2 s cap bounds how long a client
 * idles once the service answers again.
 */
export const RECONNECT_BACKOFF = { minMs: 250, maxMs: 2_000, factor: 2, jitter: 1 } as const satisfies BackoffOptions;

export class Backoff {
  readonly #min: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #attempts = 0;

  constructor({ minMs = 500, maxMs = 10_000, factor = 2, jitter = 0.5, random = Math.random }: BackoffOptions = {}) {
    if (!(minMs > 0) || !(maxMs >= minMs) || !(factor >= 1) || !(jitter >= 0 && jitter <= 1)) {
      throw new TypeError(`invalid backoff options: need 0 < minMs ≤ maxMs, factor ≥ 1 and jitter in [0, 1] (got ${minMs}, ${maxMs}, ${factor}, ${jitter})`);
    }
    this.#min = minMs;
    this.#max = maxMs;
    this.#factor = factor;
    this.#jitter = jitter;
    this.#random = random;
  }

  get attempts(): number {
    return this.#attempts;
  }

  /** The delay before the next attempt: base = min·factor^n capped at max, minus up to `jitter` of it. */
  next(): number {
    const base = Math.min(this.#max, this.#min * this.#factor ** this.#attempts);
    this.#attempts += 1;
    return Math.round(base * (1 - this.#jitter * this.#random()));
  }

  reset(): void {
    this.#attempts = 0;
  }
}

/** A timer that is easy to cancel and never fires twice. */
export class Timer {
  #handle: ReturnType<typeof setTimeout> | undefined;

  get pending(): boolean {
    return this.#handle !== undefined;
  }

  set(ms: number, fn: () => void): void {
    this.clear();
    this.#handle = setTimeout(() => {
      this.#handle = undefined;
      fn();
    }, ms);
  }

  clear(): void {
    if (this.#handle !== undefined) clearTimeout(this.#handle);
    this.#handle = undefined;
  }
}
