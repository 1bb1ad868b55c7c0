// What the several-node tests share: waiting for a node's state, a camera's recording as one node
// lists it, and the checks that every node lists the same recording with each second once.
import { setTimeout as sleep } from 'node:timers/promises';
import * as assert from 'uvu/assert';
import { freePort, startService, type Service } from './harness.ts';

export interface Recordings {
  segments: { startMs: number; endMs: number; fragments: number; end: string }[];
  gaps: { fromMs: number; toMs: number; reason: string }[];
}

/**
 * Polls `check` every 100 ms until it answers (a check that throws has not answered yet: a node
 * may be restarting); fails after `ms` with what it waited for and the last error.
 */
export async function until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    const value = await check().catch((error: unknown) => {
      lastError = error;
      return undefined;
    });
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.unreachable(`${what}: not within ${ms} ms${lastError ? ` (last: ${String(lastError)})` : ''}`);
    await sleep(100);
  }
}

/**
 * One node of a test cluster: its own internal port and RTC ports, the shared database, master
 * keys and S3, 2 s segments, HAProxy on loopback trusted. `env` is what `cli()` needs to act as
 * this node (`verify`, `drain`).
 */
export async function clusterNode(o: { id: string; databaseUrl: string; masterKeys: string; s3Env: Record<string, string>; rtcMin: number; env?: Record<string, string> }): Promise<{ svc: Service; env: Record<string, string> }> {
  const env = {
    MIMAMORI_NODE_ID: o.id,
    MIMAMORI_INTERNAL_URL: `http://127.0.0.1:${await freePort()}`,
    MIMAMORI_MASTER_KEYS: o.masterKeys,
    MIMAMORI_SEGMENT_SECONDS: '2',
    MIMAMORI_RTC_MIN_PORT: String(o.rtcMin),
    MIMAMORI_RTC_MAX_PORT: String(o.rtcMin + 999),
    MIMAMORI_TRUSTED_PROXIES: '127.0.0.1',
    // The test HAProxy checks every 0.5 s and takes a node out after 2 failures.
    MIMAMORI_DRAIN_LB_WAIT_MS: '1500',
    ...o.s3Env,
    ...o.env,
  };
  const svc = await startService({ databaseUrl: o.databaseUrl, env });
  return { svc, env: { ...env, MIMAMORI_DATABASE_URL: o.databaseUrl, MIMAMORI_DATA_DIR: svc.dataDir } };
}

export const recordings = async (svc: Service, cameraId: string, fromMs: number, toMs: number) =>
  (await (await svc.api(`/api/cameras/${cameraId}/recordings?from=${fromMs}&to=${toMs}`)).json()) as Recordings;

/** Every finished segment of the node is in S3. */
export const uploaded = (svc: Service, ms = 30_000) =>
  until('the spool is uploaded', ms, async () => ((await (await svc.api('/api/recorder')).json()) as { upload: { queued: number } }).upload.queued === 0 ? true : undefined);

/** Waits until both nodes list the camera's recording alike (printing both if they never do); that listing. */
export async function sameOnBoth(a: Service, b: Service, cameraId: string, fromMs: number, toMs: number): Promise<Recordings> {
  let differs = '';
  return until('both nodes list the same recording', 40_000, async () => {
    const [x, y] = await Promise.all([recordings(a, cameraId, fromMs, toMs), recordings(b, cameraId, fromMs, toMs)]);
    differs = `A: ${JSON.stringify(x)}\nB: ${JSON.stringify(y)}`;
    return JSON.stringify(x) === JSON.stringify(y) && x.segments.length > 0 ? x : undefined;
  }).catch((error: unknown) => {
    console.log(differs);
    throw error;
  });
}

/**
 * No second listed twice: segments follow one another, overlapping by at most what two nodes'
 * clocks make of one cut (recorder/indexMerge.ts keeps overlaps up to 0.4 s).
 */
export function assertEachSecondOnce(segments: Recordings['segments']): void {
  const sorted = [...segments].sort((p, q) => p.startMs - q.startMs);
  for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i]!.startMs >= sorted[i - 1]!.endMs - 400, `each second once: ${JSON.stringify([sorted[i - 1], sorted[i]])}`);
}
