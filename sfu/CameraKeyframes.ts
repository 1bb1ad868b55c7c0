// When a camera's keyframes come, and how soon after one it answers a keyframe request. Many
// encoders ignore a request that comes shortly after a keyframe (they just sent one). A viewer who
// connects in that window then waits for the camera's next regular keyframe, up to a whole GOP
// (a second or several) instead of a frame: mediasoup asks once and, while that request is
// unanswered, asks again only after a second. Learned from what the camera did with earlier
// requests (anyone's: viewers', the recorder's), this tells a new viewer how long to hold its
// request so that the camera answers it. Pure: times are passed in.

/** A keyframe this soon after a request answers it; a later one was the camera's own. */
export const ANSWER_MS = 400;
/** The longest a viewer's request is ever held. */
export const MAX_HOLD_MS = 1000;
/** Keyframe packets this close together are one keyframe (parameter sets, then the picture). */
const SAME_KEYFRAME_MS = 50;
/** A hold that would end this close to the camera's next regular keyframe is not worth it. */
const BEFORE_NEXT_MS = 150;

export class CameraKeyframes {
  #lastKeyframeMs: number | undefined;
  /** Between the camera's own keyframes (its GOP), from the last two that answered no request. */
  #intervalMs: number | undefined;
  /** The request out and not yet answered, with how long after the last keyframe it went. */
  #pending: { atMs: number; afterKeyframeMs: number | undefined } | undefined;
  /** The latest a request came after a keyframe and was still ignored; undefined: none ignored. */
  #ignoredAfterMs: number | undefined;

  /** A keyframe came from the camera at `atMs`. */
  keyframe(atMs: number): void {
    const last = this.#lastKeyframeMs;
    if (last !== undefined && atMs - last < SAME_KEYFRAME_MS) return;
    const pending = this.#pending;
    const answer = pending !== undefined && atMs - pending.atMs <= ANSWER_MS;
    if (pending) {
      this.#pending = undefined;
      this.#judge(pending, answer);
    }
    if (!answer && last !== undefined) this.#intervalMs = atMs - last;
    this.#lastKeyframeMs = atMs;
  }

  /** A keyframe request (PLI or FIR) went to the camera at `atMs`. */
  requested(atMs: number): void {
    const pending = this.#pending;
    if (pending && atMs - pending.atMs <= ANSWER_MS) return; // the same wait
    if (pending) this.#judge(pending, false);
    this.#pending = { atMs, afterKeyframeMs: this.#lastKeyframeMs === undefined ? undefined : atMs - this.#lastKeyframeMs };
  }

  /**
   * How long from `nowMs` a request should wait to be answered, as far as this camera has shown:
   * 0 when it would be answered now, or when the camera never ignored one.
   */
  holdMs(nowMs: number): number {
    const last = this.#lastKeyframeMs;
    const interval = this.#intervalMs;
    if (this.#ignoredAfterMs === undefined || last === undefined || interval === undefined) return 0;
    // The camera's dead time is at least what it ignored; ask a margin later (the margin grows
    // with the dead time: cameras count it in frames, and slow cameras have long frames). Asked
    // too early, it is ignored again and the margin grows from there.
    const readyAt = last + this.#ignoredAfterMs * 1.5 + 100;
    // A viewer held past the camera's next regular keyframe would miss it and wait a whole GOP; a
    // camera that ignores requests for most of its GOP is simply waited for.
    if (readyAt > last + interval - BEFORE_NEXT_MS) return 0;
    return Math.max(0, Math.min(MAX_HOLD_MS, readyAt - nowMs));
  }

  /** How long after a keyframe the camera has ignored a request (for logs and tests). */
  get ignoredAfterMs(): number | undefined {
    return this.#ignoredAfterMs;
  }

  #judge(request: { afterKeyframeMs: number | undefined }, answered: boolean): void {
    const after = request.afterKeyframeMs;
    if (after === undefined) return;
    if (!answered) {
      this.#ignoredAfterMs = Math.max(this.#ignoredAfterMs ?? 0, after);
    } else if (this.#ignoredAfterMs !== undefined && after < this.#ignoredAfterMs / 2) {
      // It answers now, well inside what it ignored before (a new encoder, or a setting changed):
      // start again. Near the edge, a camera that counts frames answers one time and not another.
      this.#ignoredAfterMs = undefined;
    }
  }
}
