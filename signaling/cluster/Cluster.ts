// This node among the others sharing its database: a heartbeat with its load every second, the
// list of nodes (one silent for 3 s is dead), and camera ownership. Every new publishing session
// of a camera takes it with the next epoch (wherever the load balancer sent it), so a camera has
// one owner without any lease having to run out: its new session is the proof. A node that hears
// (through the store's change feed) that another node took a camera it holds lets the camera's
// connection here go, which ends its recording here — except after a planned move (a drain), where
// it keeps the camera until the new holder records (its handover call) so no frame is missed.
import type { Sfu } from '../../sfu/index.ts';
import type { Logger } from '../log.ts';
import { ApiError } from '../errors.ts';
import { INTERNAL_PROTOCOL } from './internal.ts';
import { StoreError, type CameraOwner, type Change, type NodeInfo, type Store } from '../store/index.ts';

/** A camera asked to move is let go at the latest this long after its new session took it. */
const HANDOVER_WAIT_MS = 6000;

export interface ClusterOptions {
  store: Store;
  sfu: Sfu;
  log: Logger;
  nodeId: string;
  /** How the other nodes reach this node's internal API; unset: a node on its own. */
  internalUrl?: string;
  release: string;
  /** The database schema this release knows (its heartbeat says so: migrations check it). */
  schemaVersion?: number;
  /** What this node carries now, for its heartbeat. */
  load: () => NodeInfo['load'];
  heartbeatMs?: number;
  /** Silent this long: dead. */
  deadAfterMs?: number;
}

export interface NodeView extends NodeInfo {
  alive: boolean;
  /** ms since its last heartbeat (the database's clock). */
  silentMs: number;
  self: boolean;
}

export class Cluster {
  readonly #o: ClusterOptions;
  readonly #deadAfterMs: number;
  #nodes: NodeView[] = [];
  readonly #arrivals = new Map<string, { fromNode: string }>();
  /** When each other node was last seen dead (a node cut off for a while may be back by the time one asks). */
  readonly #lastDeadAt = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #draining = false;
  /** Cameras that moved on request: let go once the new holder records (handover), or after HANDOVER_WAIT_MS. */
  readonly #leaving = new Map<string, NodeJS.Timeout>();
  readonly #startedAtMs = Date.now();
  readonly #onChange = (change: Change) => this.#changed(change);
  #closed = false;

  static start(o: ClusterOptions): Cluster {
    const cluster = new Cluster(o);
    o.store.on('change', cluster.#onChange);
    if (cluster.clustered) {
      void cluster.#beat();
      cluster.#timer = setInterval(() => void cluster.#beat(), o.heartbeatMs ?? 1000);
      cluster.#timer.unref();
    }
    return cluster;
  }

  private constructor(o: ClusterOptions) {
    this.#o = o;
    this.#deadAfterMs = o.deadAfterMs ?? 3000;
  }

  get nodeId(): string {
    return this.#o.nodeId;
  }
  /** Several nodes share the database (this one has an internal address for the others). */
  get clustered(): boolean {
    return this.#o.internalUrl !== undefined && this.#o.store.kind === 'postgres';
  }

  /**
   * This node takes the camera (a publishing session starts here), with the next epoch. While the
   * database is away the camera is not refused: it records under the epoch this node last knew
   * (the database is asked again at its next session).
   */
  async claim(cameraId: string): Promise<CameraOwner & { provisional?: true }> {
    const before = this.#o.store.owner(cameraId);
    try {
      const claimed = await this.#o.store.claimCamera(cameraId, this.#o.nodeId, Date.now());
      // Came from another node (the recorder asks later whether that node died: the camera may
      // well have reconnected before its death was noticed).
      if (before !== undefined && before.nodeId !== this.#o.nodeId) this.#arrivals.set(cameraId, { fromNode: before.nodeId });
      else this.#arrivals.delete(cameraId);
      return claimed;
    } catch (error) {
      if (!(error instanceof StoreError) || error.code !== 'database_unavailable') throw error;
      const known = this.#o.store.owner(cameraId);
      this.#o.log.warn({ event: 'camera_claim_unfenced', cameraId, epoch: known?.epoch ?? 0 }, 'the database is away: the camera publishes here under the epoch last known');
      return { cameraId, nodeId: this.#o.nodeId, epoch: known?.epoch ?? 0, sinceMs: Date.now(), provisional: true };
    }
  }

  /** Cameras a drain of this node could not move by themselves: their session here was ended. */
  drainEnded = 0;

  /** Draining: out of the load balancer, its cameras asked to move (Drain). */
  get draining(): boolean {
    return this.#draining;
  }

  /** Marks this node draining: its next heartbeat says so, and /readyz fails. */
  startDraining(): void {
    if (this.#draining) return;
    this.#draining = true;
    if (this.clustered) void this.#beat();
  }

  /** Live nodes other than this one that take cameras (up, not draining). */
  targets(): NodeView[] {
    return this.#nodes.filter((n) => !n.self && n.alive && n.state === 'up');
  }

  /**
   * A camera's new session may not start here: this node drains and another can take it (the
   * client publishes again through the load balancer, which no longer sends it here).
   */
  assertTakingCameras(): void {
    if (this.#draining && this.targets().length > 0) {
      throw new ApiError(503, 'node_draining', 'this node is leaving the cluster (a drain): publish again through the load balancer, another node takes the camera');
    }
  }

  /** Asks the camera held here to publish to another node; false when it is not held here under that epoch. */
  async requestMove(cameraId: string): Promise<boolean> {
    const owner = this.#o.store.owner(cameraId);
    if (!owner || owner.nodeId !== this.#o.nodeId) return false;
    return this.#o.store.requestMove(cameraId, owner.epoch);
  }

  /** The camera moved on request and this node still records it, until the new holder's handover. */
  isLeaving(cameraId: string): boolean {
    return this.#leaving.has(cameraId);
  }

  /** The camera's new holder records (from its first keyframe): let the camera's connection here go now. */
  handedOver(cameraId: string): boolean {
    const timer = this.#leaving.get(cameraId);
    if (!timer) return false;
    clearTimeout(timer);
    this.#leaving.delete(cameraId);
    this.#release(cameraId, 'handover');
    return true;
  }

  /** This node and the camera's epoch, while this node holds it (written into its recordings). */
  holder(cameraId: string): { node: string; epoch: number } | undefined {
    const owner = this.#o.store.owner(cameraId);
    return owner?.nodeId === this.#o.nodeId ? { node: this.#o.nodeId, epoch: owner.epoch } : undefined;
  }

  /** The node the camera's latest session here came from, when it came from another. */
  arrival(cameraId: string): { fromNode: string } | undefined {
    return this.#arrivals.get(cameraId);
  }

  /** Every node heard of (this one included), as of the last heartbeat round. */
  nodes(): readonly NodeView[] {
    if (!this.clustered) {
      return [{ id: this.#o.nodeId, internalUrl: this.#o.internalUrl ?? '', release: this.#o.release, startedAtMs: this.#startedAtMs, seenAtMs: Date.now(), state: 'up', load: this.#o.load(), alive: true, silentMs: 0, self: true }];
    }
    return this.#nodes;
  }

  isAlive(nodeId: string): boolean {
    return nodeId === this.#o.nodeId || this.#nodes.some((n) => n.id === nodeId && n.alive);
  }

  /**
   * True when the node failed: it is dead now or was seen dead at some moment since `sinceMs`. A
   * node that drained and said so in its last heartbeat (stopped) left; it did not fail.
   */
  wasDeadSince(nodeId: string, sinceMs: number): boolean {
    const node = this.#nodes.find((n) => n.id === nodeId);
    if (node?.state === 'stopped') return false;
    return !this.isAlive(nodeId) || (this.#lastDeadAt.get(nodeId) ?? -Infinity) >= sinceMs;
  }

  /** A drained node's last heartbeat, as it exits: the others know it left rather than failed. */
  async stopped(): Promise<void> {
    if (!this.clustered || !this.#draining || this.#closed) return;
    clearInterval(this.#timer);
    await this.#o.store.heartbeat(this.#heartbeat('stopped')).catch((error: unknown) => this.#o.log.warn({ event: 'heartbeat_failed', err: error }, 'could not say in the database that this node stopped; the others will take it for failed'));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const timer of this.#leaving.values()) clearTimeout(timer);
    this.#leaving.clear();
    this.#o.store.off('change', this.#onChange);
  }

  #heartbeat(state: NodeInfo['state']): Omit<NodeInfo, 'seenAtMs'> {
    return {
      id: this.#o.nodeId,
      internalUrl: this.#o.internalUrl!,
      release: this.#o.release,
      startedAtMs: this.#startedAtMs,
      state,
      load: this.#o.load(),
      ...(this.#o.schemaVersion !== undefined ? { schemaVersion: this.#o.schemaVersion } : {}),
      protocol: INTERNAL_PROTOCOL,
    };
  }

  async #beat(): Promise<void> {
    try {
      await this.#o.store.heartbeat(this.#heartbeat(this.#draining ? 'draining' : 'up'));
      const { nodes, nowMs } = await this.#o.store.listNodes();
      this.#nodes = nodes.map((n) => ({ ...n, silentMs: Math.max(0, nowMs - n.seenAtMs), alive: nowMs - n.seenAtMs < this.#deadAfterMs, self: n.id === this.#o.nodeId }));
      const now = Date.now();
      for (const n of this.#nodes) if (!n.alive && !n.self && n.state !== 'stopped') this.#lastDeadAt.set(n.id, now);
    } catch (error) {
      // The database is away: the node list stays as last seen; the store reports the outage.
      this.#o.log.debug({ event: 'heartbeat_failed', err: error }, 'heartbeat not written');
    }
  }

  #changed(change: Change): void {
    if (change.table !== 'owners' || !change.after || change.after.nodeId === this.#o.nodeId) return;
    const before = change.before;
    const asked = before?.nodeId === this.#o.nodeId && before.moveRequestedEpoch === before.epoch && change.after.epoch > before.epoch;
    if (asked && !this.#leaving.has(change.key)) {
      // Make-before-break: keep the camera (and its recording) until the new holder records.
      this.#leaving.set(change.key, setTimeout(() => {
        this.#leaving.delete(change.key);
        this.#release(change.key, 'handover_timeout');
      }, HANDOVER_WAIT_MS).unref());
      return;
    }
    this.#release(change.key, 'moved');
  }

  #release(cameraId: string, why: 'moved' | 'handover' | 'handover_timeout'): void {
    const room = this.#o.sfu.existingRoom(cameraId);
    if (room?.releasePublisher()) {
      const to = this.#o.store.owner(cameraId);
      this.#o.log.info({ event: 'camera_moved_away', cameraId, to: to?.nodeId, epoch: to?.epoch, why }, 'the camera publishes to another node now; its connection here was let go');
    }
  }
}
