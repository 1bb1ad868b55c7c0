// Exponential backoff with jitter for every automatic retry (signaling, viewer tiles, camera).
export interface BackoffOptions {
  minMs?: number;
  maxMs?: number;
  factor?: number;
  /** Share of the delay that is randomised (0 = none, 1 = full jitter). */
  jitter?: number;
}

export class Backoff {
  readonly #min: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #jitter: number;
  #attempts = 0;

  constructor({ minMs = 500, maxMs = 10_000, factor = 2, jitter = 0.5 }: BackoffOptions = {}) {
    if (minMs <= 0 || maxMs < minMs || factor < 1 || jitter < 0 || jitter > 1) throw new TypeError('invalid backoff options');
    this.#min = minMs;
    this.#max = maxMs;
    this.#factor = factor;
    this.#jitter = jitter;
  }

  get attempts(): number {
    return this.#attempts;
  }

  /** The delay before the next attempt: min·factor^n capped at max, minus up to `jitter` of it. */
  next(): number {
    const base = Math.min(this.#max, this.#min * this.#factor ** this.#attempts);
    this.#attempts += 1;
    return Math.round(base * (1 - this.#jitter * Math.random()));
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
