// The backoff every automatic retry uses (client/backoff.ts: the browser pages and `mimamori
// camera`): windows growing from min to max, full jitter by default for reconnecting, bounds kept
// for any draw, and hundreds of clients of a dead node spread out instead of arriving together.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Backoff, RECONNECT_BACKOFF } from '../client/backoff.ts';

/** A small seeded generator (mulberry32): the statistical checks draw the same numbers every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const draws = (b: Backoff, n: number) => Array.from({ length: n }, () => b.next());

test('RECONNECT_BACKOFF: windows of 250, 500, 1000, 2000 ms, then 2000 ms for ever', () => {
  assert.equal(RECONNECT_BACKOFF, { minMs: 250, maxMs: 2_000, factor: 2, jitter: 1 });
  // random() → 0 takes the whole window: the window itself.
  assert.equal(draws(new Backoff({ ...RECONNECT_BACKOFF, random: () => 0 }), 7), [250, 500, 1000, 2000, 2000, 2000, 2000]);
  // random() just under 1 takes none of it: full jitter reaches 0 ("at once").
  assert.equal(draws(new Backoff({ ...RECONNECT_BACKOFF, random: () => 0.999_999 }), 4), [0, 0, 0, 0]);
});

test('full jitter: every draw within [0, window], spread over the whole window', () => {
  const b = new Backoff({ ...RECONNECT_BACKOFF, random: seeded(1) });
  for (const window of [250, 500, 1000, 2000]) {
    const d = b.next();
    assert.ok(d >= 0 && d <= window, `${d} ms within [0, ${window}]`);
  }
  // At the cap: 10,000 draws cover the window evenly (mean near half, both quarters reached).
  const capped = draws(b, 10_000);
  assert.ok(capped.every((d) => d >= 0 && d <= 2000), 'never beyond the cap');
  const mean = capped.reduce((x, y) => x + y, 0) / capped.length;
  assert.ok(Math.abs(mean - 1000) < 40, `mean ${mean.toFixed(0)} ms ≈ 1000`);
  assert.ok(capped.some((d) => d < 100) && capped.some((d) => d > 1900), 'both ends of the window are used');
});

test('500 clients of a dead node do not come back in the same millisecond', () => {
  const random = seeded(7);
  const first = Array.from({ length: 500 }, () => new Backoff({ ...RECONNECT_BACKOFF, random }).next());
  const perMs = new Map<number, number>();
  for (const d of first) perMs.set(d, (perMs.get(d) ?? 0) + 1);
  const busiest = Math.max(...perMs.values());
  // Evenly over 251 ms is 2 per millisecond; the busiest millisecond stays far below 500.
  assert.ok(busiest <= 10, `at most ${busiest} clients in one millisecond`);
  assert.ok(Math.max(...first) - Math.min(...first) > 200, 'spread over (nearly) the whole first window');
});

test('partial jitter keeps the lower bound; none gives the window itself', () => {
  const half = new Backoff({ minMs: 1000, maxMs: 8000, jitter: 0.5, random: seeded(3) });
  for (const window of [1000, 2000, 4000, 8000, 8000]) {
    const d = half.next();
    assert.ok(d >= window / 2 && d <= window, `${d} ms within [${window / 2}, ${window}]`);
  }
  assert.equal(draws(new Backoff({ minMs: 100, maxMs: 1000, factor: 3, jitter: 0 }), 4), [100, 300, 900, 1000]);
  // The defaults (500 ms to 10 s, half jitter) stay what the other retries (player, kiosk session) use.
  assert.equal(draws(new Backoff({ random: () => 0 }), 6), [500, 1000, 2000, 4000, 8000, 10_000]);
});

test('attempts count and reset starts from the first window again', () => {
  const b = new Backoff({ ...RECONNECT_BACKOFF, random: () => 0 });
  draws(b, 5);
  assert.is(b.attempts, 5);
  b.reset();
  assert.is(b.attempts, 0);
  assert.is(b.next(), 250);
});

test('a client retrying for days stays at the cap (no Infinity, no NaN)', () => {
  const b = new Backoff({ ...RECONNECT_BACKOFF, random: () => 0 });
  draws(b, 5000);
  assert.is(b.next(), 2000);
});

test('invalid options are TypeErrors that name what is allowed', () => {
  for (const bad of [{ minMs: 0 }, { minMs: -1 }, { minMs: 500, maxMs: 100 }, { factor: 0.5 }, { jitter: -0.1 }, { jitter: 1.5 }, { minMs: Number.NaN }]) {
    assert.throws(() => new Backoff(bad), (e: Error) => e instanceof TypeError && /0 < minMs ≤ maxMs, factor ≥ 1 and jitter in \[0, 1\]/.test(e.message), JSON.stringify(bad));
  }
});

test.run();
