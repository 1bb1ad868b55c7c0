// Comparing what a viewer received with what the camera sent. Pure.

export interface FrameMatch {
  /** Received hashes found in `sent`, in order, after the previous match. */
  matched: number;
  /** Received hashes with no in-order match: corrupted, reordered or from another stream. */
  unmatched: number;
  /** Index in `received` of the first unmatched hash, -1 if all matched. */
  firstUnmatched: number;
  /** Index in `sent` of the first matched hash, -1 if none: how many frames went out before the viewer's first. */
  firstSentIndex: number;
}

/**
 * Matches `received` against `sent` as an in-order subsequence (a viewer joins late and may miss
 * frames, but must never see a frame that was not sent, or see frames out of order). Repeated
 * hashes, as when the camera loops its fixture, match the next occurrence.
 */
export function matchFrames(sent: readonly string[], received: readonly string[]): FrameMatch {
  const positions = new Map<string, number[]>();
  sent.forEach((hash, i) => {
    const list = positions.get(hash);
    if (list) list.push(i);
    else positions.set(hash, [i]);
  });
  let at = 0; // first index in `sent` the next received hash may match
  let matched = 0;
  let firstUnmatched = -1;
  let firstSentIndex = -1;
  received.forEach((hash, r) => {
    const list = positions.get(hash);
    const i = list ? firstAtLeast(list, at) : -1;
    if (i < 0) {
      if (firstUnmatched < 0) firstUnmatched = r;
      return;
    }
    if (firstSentIndex < 0) firstSentIndex = i;
    matched += 1;
    at = i + 1;
  });
  return { matched, unmatched: received.length - matched, firstUnmatched, firstSentIndex };
}

/** The smallest element ≥ min in an ascending list, or -1. */
function firstAtLeast(list: readonly number[], min: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < min) lo = mid + 1;
    else hi = mid;
  }
  return lo < list.length ? list[lo]! : -1;
}
