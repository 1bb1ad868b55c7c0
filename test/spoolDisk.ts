// What the spool-disk tests share (recorder-diskfull: a full tmpfs; recorder-diskslow: a frozen
// ext4): the camera's timeline as the API lists it, and a poll that fails with the service's output.
import type { Service } from './harness.ts';

export interface Timeline {
  segments: { startMs: number; endMs: number; fragments: number; end: string }[];
  gaps: { fromMs: number; toMs: number; reason: string }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every 200 ms (a probe that throws has not answered yet); fails after `timeoutMs` with the end of `svc`'s output. */
export async function until<T>(svc: Service | undefined, what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${svc?.output().slice(-3000)}`);
    await sleep(200);
  }
}
