// Draining a node before it stops (an upgrade, machine maintenance): it leaves the load balancer
// (/readyz fails, its heartbeat says "draining"), then asks its cameras to move, one at a time: a
// camera that follows (our camera page, `mimamori camera`) publishes to another node while its
// session here still runs, the new node records from its first keyframe and tells this one, which
// records until exactly that moment (Cluster.handedOver, the recorder's handover). A camera that
// cannot be told (an OBS-like WHIP encoder) has its session ended after a while, so it reconnects
// through the load balancer. Viewers left here are sent elsewhere; the spool goes up; then the
// node reports what it could not move and is done.
import { CodedError, SafeEmitter } from '../../errors/index.ts';
import { EventEmitter } from 'node:events';
import { Hono } from 'hono';
import { z } from 'zod';
import type { Sfu } from '../../sfu/index.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/index.ts';
import { validate } from '../wire/index.ts';
import type { Cluster } from './Cluster.ts';
import { callNode } from './internal.ts';

export interface DrainOptions {
  cluster: Cluster;
  store: Store;
  sfu: Sfu;
  log: Logger;
  /** The recorder: cut a camera's recording at the moment its new holder started. */
  handover: (cameraId: string, startMs: number) => Promise<boolean>;
  /** Stops recording here, puts every segment and the index in S3 (bounded by the drain's deadline). */
  uploaded: () => Promise<void>;
  /** Resolves once viewers here of a camera that moved can play it from its new holder (bounded). */
  viewersFollowed: (cameraId: string) => Promise<void>;
  /** Moves the viewers still here (make-before-break where they can), by `untilMs` at the latest. */
  endViewers: (untilMs: number) => Promise<void>;
  /** The cluster secret, to ask another node to drain. */
  secret: string;
  /** Each camera moved (or ended) is written to the audit log. */
  audit: (cameraId: string, detail: { from: string; to?: string; how: 'moved' | 'ended' }) => void;
  /** Whole drain at most this long. */
  timeoutMs: number;
  /** Time for the load balancer to take the node out before cameras are asked to move. */
  leaveBalancerMs: number;
  /** Time a camera has to publish elsewhere before its session here is ended. */
  perCameraMs: number;
}

export interface DrainReport {
  reason: string;
  startedAtMs: number;
  endedAtMs: number;
  /** Cameras that published elsewhere by themselves (make-before-break). */
  moved: string[];
  /** Cameras whose session here was ended so that they reconnect elsewhere (they could not be told). */
  ended: string[];
  /** Still held here when the time was up, or with no other node to go to. */
  left: string[];
  /** Why some cameras were not moved (no other node, time up). */
  note?: string;
}

export interface DrainStatus {
  draining: boolean;
  reason?: string;
  startedAtMs?: number;
  cameras: number;
  moved: number;
  ended: number;
}

const handoverBody = z.object({ cameraId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), epoch: z.number().int().min(1), startMs: z.number().int().min(0) }).strict();
const handoverReply = z.object({ handedOver: z.boolean() });
const drainBody = z.object({ reason: z.string().max(200).default('requested') }).strict();

export class DrainError extends CodedError {
  override name = 'DrainError';
  readonly code = 'node_not_found';
  readonly status = 404;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)).unref());

export class Drain extends SafeEmitter<{ done: [report: DrainReport] }> {
  readonly #o: DrainOptions;
  #running: Promise<DrainReport> | undefined;
  #status: DrainStatus = { draining: false, cameras: 0, moved: 0, ended: 0 };

  constructor(o: DrainOptions) {
    super();
    this.#o = o;
  }

  get status(): DrainStatus {
    return { ...this.#status };
  }

  /** Starts draining (once; later calls get the same drain). Resolves with what was moved and what not. */
  start(reason: string): Promise<DrainReport> {
    this.#running ??= this.#run(reason).then((report) => {
      this.safeEmit('done', report);
      return report;
    });
    return this.#running;
  }

  /** Asks a node of the cluster (this one or another) to drain. */
  async ask(nodeId: string, reason: string): Promise<void> {
    if (nodeId === this.#o.cluster.nodeId) {
      void this.start(reason);
      return;
    }
    const node = this.#o.cluster.nodes().find((n) => n.id === nodeId && n.alive);
    if (!node) throw new DrainError(`node ${nodeId} is not a live node of this cluster (see GET /api/sfu)`);
    await callNode({ url: node.internalUrl, secret: this.#o.secret, method: 'POST', path: '/internal/drain', body: { reason }, timeoutMs: 5000 });
  }

  /** The nodes' internal API: a new holder's handover, and a drain asked of this node by another. */
  routes(): Hono {
    return new Hono()
      .post('/internal/handover', validate('json', handoverBody), async (c) => {
        const { cameraId, epoch, startMs } = c.req.valid('json');
        // Only for a camera this node asked to move and that its caller now holds under `epoch`
        // (the news of the new epoch may reach this node a moment after the call).
        const expected = () => {
          const owner = this.#o.store.owner(cameraId);
          return owner !== undefined && owner.epoch === epoch && owner.nodeId !== this.#o.cluster.nodeId && this.#o.cluster.isLeaving(cameraId);
        };
        for (let waited = 0; !expected() && waited < 1500; waited += 50) await sleep(50);
        if (!expected()) return c.json({ handedOver: false });
        const cut = await this.#o.handover(cameraId, startMs);
        this.#o.log.info({ event: 'camera_handover', cameraId, epoch, startMs, cut }, 'the camera\'s new node records from here: this node\'s recording ends there');
        // Viewers here follow the camera through a relay from its new holder: the camera's session
        // here goes once that relay carries its media (it opened when the camera moved; bounded).
        // The caller does not wait for that (its call has a short timeout).
        void this.#o.viewersFollowed(cameraId).then(() => this.#o.cluster.handedOver(cameraId));
        return c.json({ handedOver: cut });
      })
      .post('/internal/drain', validate('json', drainBody), (c) => {
        void this.start(c.req.valid('json').reason);
        return c.json({ draining: true }, 202);
      });
  }

  async #run(reason: string): Promise<DrainReport> {
    const { cluster, sfu, log } = this.#o;
    const startedAtMs = Date.now();
    const deadline = startedAtMs + this.#o.timeoutMs;
    const report: DrainReport = { reason, startedAtMs, endedAtMs: 0, moved: [], ended: [], left: [] };
    cluster.startDraining();
    const held = () => [...sfu.rooms.values()].filter((r) => r.live && !r.relayed && cluster.holder(r.cameraId)).map((r) => r.cameraId);
    this.#status = { draining: true, reason, startedAtMs, cameras: held().length, moved: 0, ended: 0 };
    log.info({ event: 'drain_started', reason, cameras: this.#status.cameras }, 'draining: out of the load balancer, cameras asked to move one at a time');
    if (held().length > 0 && cluster.clustered) {
      // Cameras reconnect through the load balancer: it must have taken this node out first.
      await sleep(Math.min(this.#o.leaveBalancerMs, deadline - Date.now()));
      for (const cameraId of held()) {
        if (Date.now() >= deadline) break;
        if (cluster.targets().length === 0) {
          report.note = 'no other node was up to take the cameras';
          break;
        }
        const asked = await cluster.requestMove(cameraId).catch(() => false);
        const moved = asked && (await this.#movedAway(cameraId, Math.min(deadline, Date.now() + this.#o.perCameraMs)));
        if (moved) {
          report.moved.push(cameraId);
          this.#status.moved += 1;
          const to = this.#o.store.owner(cameraId)?.nodeId;
          log.info({ event: 'camera_moved', cameraId, reason: 'drain', to }, 'camera moved to another node');
          this.#o.audit(cameraId, { from: cluster.nodeId, ...(to ? { to } : {}), how: 'moved' });
          continue;
        }
        // Could not be told (or did not follow): end its session so that it reconnects elsewhere.
        if (sfu.existingRoom(cameraId)?.releasePublisher()) {
          report.ended.push(cameraId);
          cluster.drainEnded += 1;
          this.#status.ended += 1;
          log.warn({ event: 'camera_moved', cameraId, reason: 'drain_ended' }, 'camera did not move by itself: its session here was ended so that it reconnects elsewhere');
          this.#o.audit(cameraId, { from: cluster.nodeId, how: 'ended' });
        }
      }
    }
    report.left = held();
    if (report.left.length > 0 && !report.note) report.note = Date.now() >= deadline ? 'the drain ran out of time' : 'cameras came back to this node';
    await this.#o.endViewers(deadline);
    await Promise.race([this.#o.uploaded().catch(() => undefined), sleep(deadline - Date.now())]);
    report.endedAtMs = Date.now();
    log.info({ event: 'drain_done', ...report }, report.left.length ? `drained, but ${report.left.length} camera(s) are still here: ${report.note}` : 'drained: nothing is left on this node');
    return report;
  }

  /**
   * Waits until another node holds the camera (its new session took it) and recorded its first
   * keyframe (the handover: this node's recording ends there), or `until`.
   */
  async #movedAway(cameraId: string, until: number): Promise<boolean> {
    let moved = false;
    while (Date.now() < until) {
      const owner = this.#o.store.owner(cameraId);
      moved = owner !== undefined && owner.nodeId !== this.#o.cluster.nodeId;
      if (moved && !this.#o.cluster.isLeaving(cameraId)) return true;
      await sleep(50);
    }
    return moved;
  }
}

/**
 * The new holder of a camera that moved on request tells the node it came from where its own
 * recording starts; that node records up to there and lets the camera go. True when it did.
 */
export async function askHandover(o: { cluster: Cluster; secret: string }, fromNode: string, cameraId: string, epoch: number, startMs: number): Promise<boolean> {
  const node = o.cluster.nodes().find((n) => n.id === fromNode && n.alive);
  if (!node) return false;
  const reply = await callNode({ url: node.internalUrl, secret: o.secret, method: 'POST', path: '/internal/handover', body: { cameraId, epoch, startMs }, reply: handoverReply, timeoutMs: 3000 });
  return reply.handedOver;
}
