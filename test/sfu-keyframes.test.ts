// CameraKeyframes against simulated cameras: one that ignores a keyframe request shortly after its
// own keyframe (as the test camera and many encoders do), one that answers every request, one that
// ignores requests for most of its GOP, and one whose encoder changes. A viewer joins at every
// phase of the GOP; what counts is how long after its join the first keyframe reaches it.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CameraKeyframes, MAX_HOLD_MS } from '../sfu/CameraKeyframes.ts';

interface CameraModel {
  /** Between its own keyframes. */
  gopMs: number;
  /** A request this soon after a keyframe is ignored (0: every request is answered). */
  deadMs: number;
  /** From a request to its keyframe reaching the server. */
  answerMs: number;
}

/**
 * A camera and the server's view of it, in 1 ms steps. Each of `joins` is a viewer whose request
 * would go out then (mediasoup asks as its video starts on a connected transport): held as
 * CameraKeyframes says, as CameraRoom does. Returns, per viewer, how long after its join the first
 * keyframe it could receive came.
 */
function simulate(model: CameraModel, joins: number[], hold = true): number[] {
  const keyframes = new CameraKeyframes();
  const waits: number[] = [];
  let nextRegular = 0;
  let lastSent = -Infinity;
  let answerAt: number | undefined;
  let pendingUntil = -Infinity; // mediasoup's own retry after a second is left out: it would only shorten waits
  const open: { requestAt: number; joinedAt: number }[] = [];
  const queue = [...joins].sort((a, b) => a - b);
  const end = (queue.at(-1) ?? 0) + 3 * model.gopMs;
  for (let now = 0; now <= end; now++) {
    while (queue.length && queue[0] === now) {
      queue.shift();
      open.push({ requestAt: now + (hold ? Math.ceil(keyframes.holdMs(now)) : 0), joinedAt: now });
    }
    for (const viewer of open) {
      if (viewer.requestAt !== now) continue;
      if (now < pendingUntil) continue; // a request is already out: mediasoup does not ask twice
      keyframes.requested(now);
      pendingUntil = now + 1000;
      if (now - lastSent > model.deadMs) answerAt ??= now + model.answerMs;
    }
    let sent = false;
    if (now === nextRegular) {
      sent = true;
      nextRegular += model.gopMs;
    } else if (answerAt === now) {
      sent = true;
    }
    if (sent) {
      answerAt = undefined;
      lastSent = now;
      pendingUntil = -Infinity;
      keyframes.keyframe(now);
      for (const viewer of open.splice(0)) {
        // A viewer still held receives nothing yet (its consumer is paused): it waits on.
        if (viewer.requestAt > now) open.push(viewer);
        else waits.push(now - viewer.joinedAt);
      }
    }
  }
  return waits;
}

const phases = (fromMs: number, gopMs: number, step: number) => Array.from({ length: Math.floor(gopMs / step) }, (_, i) => fromMs + i * step);

test('a camera that ignores requests 280 ms after its keyframe: once learned, no viewer waits for the next GOP', () => {
  const model = { gopMs: 1000, deadMs: 280, answerMs: 30 };
  // One viewer joins 150 ms after a keyframe: ignored, it waits for the next regular keyframe.
  // Then viewers at every phase of later GOPs, one per GOP.
  const joins = [10_150, ...phases(12_000, 1000, 50).map((p, i) => p + i * 2000)];
  const waits = simulate(model, joins);
  assert.is(waits.length, joins.length);
  assert.ok(waits[0]! > 800, `the first join waits for the next GOP (${waits[0]} ms)`);
  const later = waits.slice(1);
  assert.ok(Math.max(...later) <= 450, `after that no join waits over 450 ms: ${later.join(', ')}`);
  // A first ignored request closer to the keyframe teaches less: one more join may miss.
  const early = simulate(model, [10_030, ...joins.slice(1)]);
  assert.ok(early.filter((w) => w > 450).length <= 2 && Math.max(...early.slice(3)) <= 450, `learned from 30 ms, after one more miss: ${early.join(', ')}`);
  // Asking at once (CameraRoom before the hold): joins in the camera's dead time wait a GOP.
  const unheld = simulate(model, joins, false).slice(1);
  assert.ok(Math.max(...unheld) >= 700, `unheld, the worst join waits ${Math.max(...unheld)} ms`);
});

test('a camera that answers every request: no viewer is ever held', () => {
  const model = { gopMs: 1000, deadMs: 0, answerMs: 30 };
  const joins = phases(5_000, 1000, 25).map((p, i) => p + i * 2000);
  const waits = simulate(model, joins);
  assert.is(waits.length, joins.length);
  assert.ok(Math.max(...waits) <= 31, `every join answered at once: max ${Math.max(...waits)} ms`);
});

test('a camera that ignores requests for most of its GOP is waited for, never held past its next keyframe', () => {
  const model = { gopMs: 1000, deadMs: 700, answerMs: 30 };
  const joins = phases(5_000, 1000, 50).map((p, i) => p + i * 2000);
  const waits = simulate(model, joins);
  assert.is(waits.length, joins.length);
  // Without holding, a join at phase p waits at most until the next regular keyframe: 1000 - p.
  joins.forEach((at, i) => {
    const phase = at % 1000;
    const worst = phase > 700 ? 30 : 1000 - phase;
    assert.ok(waits[i]! <= worst, `join at phase ${phase}: waited ${waits[i]} ms, no longer than unheld (${worst})`);
  });
});

test('an encoder that starts answering well inside what it ignored is believed at once; near the edge it is not', () => {
  const keyframes = new CameraKeyframes();
  keyframes.keyframe(0);
  keyframes.keyframe(1000);
  keyframes.requested(1150);
  keyframes.keyframe(2000); // ignored: 150 ms after a keyframe
  assert.is(keyframes.ignoredAfterMs, 150);
  assert.ok(keyframes.holdMs(2050) > 0, 'a join 50 ms after a keyframe is held');
  keyframes.requested(2140);
  keyframes.keyframe(2170); // answered 140 ms after a keyframe: a camera counting frames, at its edge
  assert.is(keyframes.ignoredAfterMs, 150, 'one answer near the edge does not undo what was learned');
  keyframes.keyframe(3000);
  keyframes.requested(3030);
  keyframes.keyframe(3060); // answered 30 ms after a keyframe
  assert.is(keyframes.ignoredAfterMs, undefined);
  assert.is(keyframes.holdMs(3070), 0);
});

test('keyframe packets close together are one keyframe; holds never exceed the bound', () => {
  const keyframes = new CameraKeyframes();
  assert.is(keyframes.holdMs(0), 0, 'nothing known: no hold');
  for (let t = 0; t <= 8000; t += 4000) {
    keyframes.keyframe(t);
    keyframes.keyframe(t + 5); // the picture after its parameter sets
  }
  keyframes.requested(8300);
  keyframes.keyframe(12_000); // ignored 300 ms after a keyframe (a 4 s GOP)
  keyframes.keyframe(12_004);
  assert.is(keyframes.ignoredAfterMs, 300);
  const hold = keyframes.holdMs(12_004);
  assert.ok(hold > 0 && hold <= MAX_HOLD_MS, `held ${hold} ms`);
  assert.is(keyframes.holdMs(12_000 + 1000), 0, 'past the dead time: no hold');
});

test.run();
