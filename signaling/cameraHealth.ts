// What the health page shows of each camera, read from what this node already holds: its media
// rooms (live, when a room ended, producers' bitrates), the recorder (when a fragment last reached
// the spool, segments waiting for upload, the open segment) and the recording index (gaps and the
// latest recording, per camera from its recent hour summaries).
//
//   const health = CameraHealth.create(deps);          // one per service: it listens to the sfu and recorder
//   const facts = await health.read(cameras, dayStartMs);
//
// Nothing here reads per camera per request: bitrates are sampled from the media workers and the
// index is read in the background, each at most every few seconds, bounded in concurrency; a
// request only waits for the very first read of cameras it names (after a start).

import type { GapEntry, SegmentEntry } from '../recorder/index.ts';
import type { CameraRoom } from '../sfu/index.ts';
import type { Deps } from './context.ts';
import type { Camera } from './store/index.ts';

/** Bitrates are sampled at most this often (a request after that starts a new sample, answered from the old one). */
const BITRATE_EVERY_MS = 5_000;
/** A camera's recent index is read again at most this often (gaps and uploads between reads arrive as events). */
const INDEX_EVERY_MS = 60_000;
/** "Today" reaches back at most this far (a viewer's midnight in any zone is within it). */
export const DAY_WINDOW_MS = 48 * 3_600_000;
const HOUR_MS = 3_600_000;
/** Index and media-worker reads in flight at once. */
const CONCURRENCY = 16;
/**
 * A camera held by another node is live when that node says so (asked at each read). A holder that
 * does not answer: live while its recordings are this fresh (its node stores its index objects
 * every 10 s, and this node reads them again every INDEX_EVERY_MS).
 */
const HELD_ELSEWHERE_FRESH_MS = INDEX_EVERY_MS + 30_000;

type HealthDeps = Pick<Deps, 'sfu' | 'recorder' | 'store' | 'cluster' | 'log' | 'relays'>;

/** Of the recent index of one camera (the last DAY_WINDOW_MS). */
interface Recorded {
  gaps: GapEntry[];
  lastMs?: number;
  video?: { codec: string; width: number; height: number };
  readAtMs: number;
}

export interface CameraFacts {
  live: boolean;
  /** When this process saw the camera stop publishing (in memory: lost on restart). */
  offlineSinceMs?: number;
  lastSeenMs?: number;
  bitrateKbps?: number;
  video?: { codec: string; width: number; height: number };
  spoolLagMs?: number;
  uploadLagMs?: number;
  gapsToday: number;
  lastRecordedMs?: number;
  /** Held by another live node of the cluster, which is recording it. */
  heldBy?: string;
  liveElsewhere: boolean;
}

export class CameraHealth {
  readonly #deps: HealthDeps;
  readonly #offlineSince = new Map<string, number>();
  readonly #bitrates = new Map<string, number>();
  #bitratesAtMs = 0;
  #sampling: Promise<void> | undefined;
  readonly #recorded = new Map<string, Recorded>();
  readonly #reading = new Map<string, Promise<void>>();
  #prunedAtMs = 0;

  static create(deps: HealthDeps): CameraHealth {
    return new CameraHealth(deps);
  }

  private constructor(deps: HealthDeps) {
    this.#deps = deps;
    const watch = (room: CameraRoom) => {
      const id = room.cameraId;
      room.on('live', () => this.#offlineSince.delete(id));
      room.on('offline', () => this.#offlineSince.set(id, Date.now()));
      room.once('closed', () => {
        if (!this.#offlineSince.has(id)) this.#offlineSince.set(id, Date.now());
        this.#bitrates.delete(id);
      });
    };
    deps.sfu.on('roomOpened', watch);
    for (const room of deps.sfu.rooms.values()) watch(room);
    // Between index reads: gaps and uploaded segments as they happen.
    deps.recorder.on('gap', (cameraId, gap) => this.#recorded.get(cameraId)?.gaps.push(gap));
    deps.recorder.uploader.on('uploaded', (job, entry) => {
      const r = this.#recorded.get(job.cameraId);
      if (r) noteSegment(r, entry);
    });
  }

  /**
   * The facts of each camera, keyed by id. `dayStartMs`: gaps are counted from then (the viewer's
   * midnight; within DAY_WINDOW_MS).
   */
  async read(cameras: readonly Camera[], dayStartMs: number): Promise<Map<string, CameraFacts>> {
    const now = Date.now();
    this.#forgetDeleted(now);
    this.#sampleBitrates(now);
    await this.#readIndexes(cameras, now);
    const { recorder, sfu } = this.#deps;
    const pending = recorder.pending.byCamera();
    const heldElsewhere = this.#heldElsewhere(cameras);
    const holders = await this.#askHolders(heldElsewhere);
    const out = new Map<string, CameraFacts>();
    for (const cam of cameras) {
      const room = sfu.existingRoom(cam.id);
      const live = room?.live ?? false;
      const recorded = this.#recorded.get(cam.id);
      let lastRecordedMs = recorded?.lastMs;
      let video = recorded?.video;
      let oldestWaitingEndMs: number | undefined;
      for (const p of pending.get(cam.id) ?? []) {
        const end = segmentEnd(p.entry);
        if (lastRecordedMs === undefined || end > lastRecordedMs) lastRecordedMs = end;
        if (p.entry.video) video = p.entry.video;
        if (!p.open && oldestWaitingEndMs === undefined) oldestWaitingEndMs = p.entry.endMs;
      }
      const durable = live ? recorder.lastDurableMs(cam.id) : undefined;
      const heldBy = heldElsewhere.get(cam.id);
      // Its holder says whether it publishes; a holder that does not answer (an older release, busy):
      // live while its recordings are fresh.
      const told = heldBy === undefined ? undefined : holders.get(heldBy);
      const liveElsewhere = heldBy !== undefined && (told ? told.has(cam.id) : lastRecordedMs !== undefined && now - lastRecordedMs <= HELD_ELSEWHERE_FRESH_MS);
      const offlineSinceMs = live ? undefined : this.#offlineSince.get(cam.id);
      const lastSeenMs = live ? now : liveElsewhere ? lastRecordedMs : max(offlineSinceMs, lastRecordedMs);
      const kbps = live ? this.#bitrates.get(cam.id) : undefined;
      out.set(cam.id, {
        live,
        liveElsewhere,
        ...(offlineSinceMs !== undefined ? { offlineSinceMs } : {}),
        ...(lastSeenMs !== undefined ? { lastSeenMs } : {}),
        ...(kbps !== undefined ? { bitrateKbps: kbps } : {}),
        ...(video ? { video } : {}),
        ...(durable !== undefined ? { spoolLagMs: Math.max(0, now - durable) } : {}),
        ...(oldestWaitingEndMs !== undefined ? { uploadLagMs: Math.max(0, now - oldestWaitingEndMs) } : {}),
        gapsToday: (recorded?.gaps ?? []).filter((g) => g.toMs > dayStartMs && g.fromMs < now).length,
        ...(lastRecordedMs !== undefined ? { lastRecordedMs } : {}),
        ...(heldBy ? { heldBy } : {}),
      });
    }
    return out;
  }

  /** The cameras not live here that another node (alive) holds, with that node: in a cluster only. */
  #heldElsewhere(cameras: readonly Camera[]): Map<string, string> {
    const { cluster, store, sfu } = this.#deps;
    const held = new Map<string, string>();
    if (!cluster.clustered) return held;
    for (const cam of cameras) {
      if (sfu.existingRoom(cam.id)?.live) continue;
      const owner = store.owner(cam.id);
      if (owner && owner.nodeId !== cluster.nodeId && cluster.isAlive(owner.nodeId)) held.set(cam.id, owner.nodeId);
    }
    return held;
  }

  /** Asks each of those holders which of its cameras it publishes now, all at once (undefined: no answer). */
  async #askHolders(heldElsewhere: ReadonlyMap<string, string>): Promise<Map<string, ReadonlySet<string> | undefined>> {
    const asked = new Map<string, ReadonlySet<string> | undefined>();
    const relays = this.#deps.relays;
    if (!relays) return asked;
    const byNode = new Map<string, string[]>();
    for (const [cameraId, node] of heldElsewhere) {
      let ids = byNode.get(node);
      if (!ids) byNode.set(node, (ids = []));
      ids.push(cameraId);
    }
    await Promise.all([...byNode].map(async ([node, ids]) => asked.set(node, await relays.liveOn(node, ids))));
    return asked;
  }

  /** What is kept of cameras deleted since (looked at most every INDEX_EVERY_MS). */
  #forgetDeleted(now: number): void {
    if (now - this.#prunedAtMs < INDEX_EVERY_MS) return;
    this.#prunedAtMs = now;
    const { store } = this.#deps;
    for (const map of [this.#recorded, this.#offlineSince, this.#bitrates]) for (const id of map.keys()) if (!store.camera(id)) map.delete(id);
  }

  /** Every live room's producers' bitrates, in the background; at most every BITRATE_EVERY_MS. */
  #sampleBitrates(now: number): void {
    if (this.#sampling || now - this.#bitratesAtMs < BITRATE_EVERY_MS) return;
    this.#bitratesAtMs = now;
    const rooms = [...this.#deps.sfu.rooms.values()].filter((r) => r.live && !r.closed && r.ownProducers.length > 0);
    this.#sampling = eachLimited(rooms, CONCURRENCY, async (room) => {
      let bps = 0;
      for (const producer of room.ownProducers) {
        if (producer.closed) continue;
        // One entry per RTP stream (a simulcast producer has several); `bitrate` in bit/s.
        for (const s of await producer.getStats().catch(() => [])) bps += s.bitrate;
      }
      this.#bitrates.set(room.cameraId, Math.round(bps / 100) / 10);
    })
      .catch((err: unknown) => this.#deps.log.warn({ event: 'health_bitrates_failed', err }, 'could not sample the cameras\' bitrates'))
      .finally(() => (this.#sampling = undefined));
  }

  /**
   * Reads the recent index of cameras never read (and waits for those), and in the background of
   * those read longer than INDEX_EVERY_MS ago.
   */
  async #readIndexes(cameras: readonly Camera[], now: number): Promise<void> {
    const unread = cameras.filter((c) => !this.#recorded.has(c.id) && !this.#reading.has(c.id)).map((c) => c.id);
    const stale = cameras.filter((c) => (this.#recorded.get(c.id)?.readAtMs ?? now) < now - INDEX_EVERY_MS && !this.#reading.has(c.id)).map((c) => c.id);
    if (stale.length > 0) void this.#readAll(stale);
    if (unread.length > 0) await this.#readAll(unread);
    // Read by a request still under way.
    await Promise.all(cameras.flatMap((c) => (this.#recorded.has(c.id) ? [] : [this.#reading.get(c.id)])));
  }

  #readAll(ids: string[]): Promise<void> {
    const done = eachLimited(ids, CONCURRENCY, (id) => this.#readOne(id));
    for (const id of ids) this.#reading.set(id, done);
    return done.finally(() => {
      for (const id of ids) if (this.#reading.get(id) === done) this.#reading.delete(id);
    });
  }

  async #readOne(cameraId: string): Promise<void> {
    const { recorder, cluster } = this.#deps;
    const now = Date.now();
    const from = now - DAY_WINDOW_MS;
    const r: Recorded = { gaps: [], readAtMs: now };
    try {
      // Hours indexed here (a local file each) and, in a cluster, by the other nodes: a camera
      // another node records has its gaps and picture size in that node's index objects.
      // Summaries are small and mostly in memory.
      const hours = (await recorder.index.indexedHours(cameraId)).filter((h) => h + HOUR_MS > from);
      for (const hourMs of hours) {
        const s = await recorder.index.summary(cameraId, hourMs);
        r.gaps.push(...s.gaps.filter((g) => g.toMs > from));
        if (s.lastMs !== undefined) r.lastMs = max(r.lastMs, s.lastMs);
        const format = s.formats.at(-1);
        if (format) r.video = { codec: format[3], width: format[1], height: format[2] };
      }
      // Older than the window, or recorded by other nodes of a cluster: the latest recording's end.
      if (r.lastMs === undefined || cluster.clustered) r.lastMs = max(r.lastMs, await recorder.index.latestEnd(cameraId));
    } catch (err) {
      this.#deps.log.warn({ event: 'health_index_failed', cameraId, err: { message: (err as Error).message } }, 'could not read a camera\'s recording index for the health page');
    }
    // Events that arrived during the read are in the previous entry; the read supersedes it.
    const before = this.#recorded.get(cameraId);
    if (before) for (const g of before.gaps) if (g.toMs > from && !r.gaps.some((x) => x.fromMs === g.fromMs && x.toMs === g.toMs)) r.gaps.push(g);
    if (before?.lastMs !== undefined) r.lastMs = max(r.lastMs, before.lastMs);
    this.#recorded.set(cameraId, r);
  }
}

function noteSegment(r: Recorded, entry: SegmentEntry): void {
  r.lastMs = max(r.lastMs, entry.endMs);
  if (entry.video) r.video = entry.video;
}

/** The newest recorded instant of a segment (an open one: its last fragment's end). */
function segmentEnd(entry: SegmentEntry): number {
  const last = entry.fragments.at(-1);
  return last ? Math.max(entry.endMs, entry.startMs + last[0] + last[1]) : entry.endMs;
}

function max(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

/** Runs `work` over `items`, at most `limit` at once. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
