// Viewers on any node: a node whose viewers watch a camera held by another node relays the
// camera's media in (one relay per camera, shared by this node's viewers), and a node that holds
// a camera relays it out to whichever nodes ask. Relays follow the camera, make-before-break: when
// another node takes it, the relay from the new holder opens (or the camera now publishes here)
// while the old one goes on until the old holder lets the camera go (its producers end, after the
// recording handover) or OLD_RELAY_MS; viewers consume the new producers on their existing
// transports and show them from their first frame. A relay nobody watches any more closes after a
// while; one whose other end died closes at once.
import { Hono } from 'hono';
import type { CameraRoom, RelayedProducer, Sfu } from '../../sfu/index.ts';
import { ApiError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Change, Store } from '../store/index.ts';
import { validate } from '../wire/index.ts';
import type { Cluster } from './Cluster.ts';
import { callNode, cameraQuery, InternalCallError, LIVE_CAMERAS_PER_CALL, liveCamerasBody, liveCamerasReply, openRelayBody, openRelayReply, producerParam, producersBody, relayParam, type OpenRelayBody, type RelayedProducerWire } from './internal.ts';

/** Attempts to open a relay in, a second apart, before waiting for the next change of holder or join. */
const RELAY_RETRIES = 5;
/** A relay from a camera's previous holder ends at the latest this long after the camera moved. */
const OLD_RELAY_MS = 8000;
/** How long a camera's old holder waits for its viewers to consume the relay from the new holder. */
const FOLLOW_WAIT_MS = 2000;
/** Then, for their first frame through it. */
const FIRST_FRAME_GRACE_MS = 300;
/**
 * A node asked for a relay of a camera it saw move here before this node's catalog did (each
 * node hears of a change through the database's notifications, at its own pace): how long this
 * node waits to hear it too before it refuses. Refusing at once cost a viewer a retry a second
 * later, a frozen tile in the meantime.
 */
const CATCH_UP_MS = 1500;

export interface RelaysOptions {
  cluster: Cluster;
  store: Store;
  sfu: Sfu;
  log: Logger;
  /** The cluster's shared secret (internal calls). */
  secret: string;
  /** Where this node's relay ends listen, and the address the other nodes send to. */
  listen: { ip: string; announcedAddress: string };
  /** A relay in without viewers closes after this long. */
  idleMs?: number;
}

/** Media of a camera held elsewhere, coming in. */
interface RelayIn {
  cameraId: string;
  room: CameraRoom;
  relayId: string;
  holder: string;
  holderRelayId: string;
  epoch: number;
  idleSinceMs?: number;
}

/** Media of a camera held here, going out to another node. */
interface RelayOut {
  cameraId: string;
  room: CameraRoom;
  relayId: string;
  node: string;
  nodeRelayId: string;
  sent: Set<string>;
  detach: () => void;
}

export class Relays {
  readonly #o: RelaysOptions;
  readonly #in = new Map<string, RelayIn>();
  /** Relays from a camera's previous holder, playing on until the new path is there. */
  readonly #old = new Map<RelayIn, NodeJS.Timeout>();
  /** Relays in being opened, so concurrent joins share one. */
  readonly #opening = new Map<string, Promise<void>>();
  readonly #out = new Map<string, RelayOut>();
  /** Failed attempts to relay a camera in, in a row. */
  readonly #retries = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;
  readonly #onChange = (change: Change) => this.#changed(change);
  #closed = false;

  constructor(o: RelaysOptions) {
    this.#o = o;
    o.store.on('change', this.#onChange);
    this.#timer = setInterval(() => this.#sweep(), 2000);
    this.#timer.unref();
  }

  /** What the other nodes call (mounted on the internal listener). */
  routes(): Hono {
    return new Hono()
      .post('/internal/live-cameras', validate('json', liveCamerasBody), (c) =>
        c.json({ live: c.req.valid('json').cameraIds.filter((id) => this.#o.sfu.existingRoom(id)?.ownProducers.some((p) => !p.closed) ?? false) }),
      )
      .post('/internal/relays', validate('json', openRelayBody), async (c) => c.json(await this.#openOut(c.req.valid('json'))))
      .delete('/internal/relays/:relayId', validate('param', relayParam), (c) => {
        this.#closeOut(c.req.valid('param').relayId);
        return c.body(null, 204);
      })
      .post('/internal/relays/:relayId/producers', validate('param', relayParam), validate('json', producersBody), async (c) => {
        const relay = this.#inByRelay(c.req.valid('param').relayId, c.req.valid('json').cameraId);
        for (const p of c.req.valid('json').producers) await relay.room.relayIn(relay.relayId, p as RelayedProducer);
        return c.body(null, 204);
      })
      .delete('/internal/relays/:relayId/producers/:producerId', validate('param', producerParam), validate('query', cameraQuery), (c) => {
        const { relayId, producerId } = c.req.valid('param');
        const relay = this.#inByRelay(relayId, c.req.valid('query').cameraId);
        relay.room.relayedGone(relay.relayId, producerId);
        return c.body(null, 204);
      });
  }

  /**
   * Before a viewer here watches the camera: when another live node holds it, its media is
   * relayed in (or already is). A camera held here, by a dead node or by nobody is left alone.
   */
  async ensure(cameraId: string): Promise<void> {
    if (!this.#o.cluster.clustered || this.#closed) return;
    const owner = this.#o.store.owner(cameraId);
    const current = this.#in.get(cameraId);
    if (!owner || owner.nodeId === this.#o.cluster.nodeId || !this.#o.cluster.isAlive(owner.nodeId)) {
      if (current) this.#closeIn(current, 'the camera is no longer held by that node');
      return;
    }
    if (current && current.holder === owner.nodeId && current.room.hasRelay(current.relayId)) return;
    if (current) this.#closeIn(current, 'the camera moved to another node');
    let opening = this.#opening.get(cameraId);
    if (!opening) {
      opening = this.#openIn(cameraId, owner.nodeId, owner.epoch).finally(() => this.#opening.delete(cameraId));
      this.#opening.set(cameraId, opening);
    }
    await opening;
  }

  /** This node's relay of the camera from its current holder, if one is open (not one from a previous holder). */
  currentRelay(cameraId: string): string | undefined {
    const relay = this.#in.get(cameraId);
    return relay && relay.holder === this.#o.store.owner(cameraId)?.nodeId ? relay.relayId : undefined;
  }

  /**
   * A camera held here moved (its recording handed over): resolves once the viewers here consume
   * it through the relay from its new holder too (and a moment for its first frame), or there are
   * none, or FOLLOW_WAIT_MS passed. The old holder then lets the camera's session go: a viewer
   * whose own consumers end before it has the relayed ones shows 'offline' for a moment.
   */
  async followed(cameraId: string): Promise<void> {
    const room = this.#o.sfu.existingRoom(cameraId);
    if (!room) return;
    const ready = () => {
      if (room.viewerCount === 0 || room.closed) return true;
      const relayId = this.currentRelay(cameraId);
      return relayId !== undefined && room.viewersConsume(relayId);
    };
    if (ready()) return;
    for (const until = Date.now() + FOLLOW_WAIT_MS; !ready() && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
    // Their new consumers' first keyframe is on its way (they switch to it at its first frame).
    await new Promise((r) => setTimeout(r, FIRST_FRAME_GRACE_MS));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#o.store.off('change', this.#onChange);
    for (const relay of [...this.#in.values(), ...this.#old.keys()]) this.#closeIn(relay, 'shutdown');
    for (const id of [...this.#out.keys()]) this.#closeOut(id);
  }

  /**
   * Which of `cameraIds` node `nodeId` publishes now (its own producers, not relayed ones), asked
   * LIVE_CAMERAS_PER_CALL at a time; undefined when it does not answer within `timeoutMs`.
   */
  async liveOn(nodeId: string, cameraIds: readonly string[], timeoutMs = 1500): Promise<ReadonlySet<string> | undefined> {
    const node = this.#o.cluster.nodes().find((n) => n.id === nodeId && n.alive);
    if (!node || cameraIds.length === 0) return undefined;
    const calls = [];
    for (let i = 0; i < cameraIds.length; i += LIVE_CAMERAS_PER_CALL) {
      const body = { cameraIds: cameraIds.slice(i, i + LIVE_CAMERAS_PER_CALL) };
      calls.push(callNode({ url: node.internalUrl, secret: this.#o.secret, method: 'POST', path: '/internal/live-cameras', body, reply: liveCamerasReply, timeoutMs }));
    }
    try {
      return new Set((await Promise.all(calls)).flatMap((reply) => reply.live));
    } catch {
      return undefined;
    }
  }

  // --- In: a camera held elsewhere ------------------------------------------------------------

  async #openIn(cameraId: string, holder: string, epoch: number): Promise<void> {
    const node = this.#o.cluster.nodes().find((n) => n.id === holder);
    if (!node) return;
    const room = await this.#o.sfu.room(cameraId);
    const end = await room.openRelay(this.#o.listen);
    try {
      const reply = await callNode({
        url: node.internalUrl,
        secret: this.#o.secret,
        method: 'POST',
        path: '/internal/relays',
        body: { cameraId, node: this.#o.cluster.nodeId, relayId: end.id, end: { ip: end.ip, port: end.port, srtpParameters: end.srtpParameters } },
        reply: openRelayReply,
      });
      await room.connectRelay(end.id, reply.end);
      const relay: RelayIn = { cameraId, room, relayId: end.id, holder, holderRelayId: reply.relayId, epoch };
      this.#in.set(cameraId, relay);
      this.#retries.delete(cameraId);
      for (const p of reply.producers) await room.relayIn(end.id, p as RelayedProducer);
      this.#o.log.info({ event: 'relay_in_opened', cameraId, holder, producers: reply.producers.length }, 'relaying a camera in from the node that holds it');
    } catch (error) {
      room.closeRelay(end.id);
      if (error instanceof InternalCallError) {
        // The holder may not have heard of this node yet (a node that just started), or the camera
        // moved meanwhile: a few more tries, a second apart; a change of holder starts afresh.
        this.#o.log.warn({ event: 'relay_in_failed', cameraId, holder, code: error.code, reason: error.message }, 'could not relay the camera in');
        const tries = (this.#retries.get(cameraId) ?? 0) + 1;
        if (tries <= RELAY_RETRIES && !this.#closed) {
          this.#retries.set(cameraId, tries);
          setTimeout(() => void this.ensure(cameraId).catch(() => undefined), 1000).unref(); // logged inside
        } else {
          this.#retries.delete(cameraId);
        }
        return;
      }
      throw error;
    }
  }

  #closeIn(relay: RelayIn, why: string): void {
    if (this.#in.get(relay.cameraId) === relay) this.#in.delete(relay.cameraId);
    clearTimeout(this.#old.get(relay));
    this.#old.delete(relay);
    relay.room.closeRelay(relay.relayId);
    const node = this.#o.cluster.nodes().find((n) => n.id === relay.holder);
    if (node && this.#o.cluster.isAlive(relay.holder)) {
      void callNode({ url: node.internalUrl, secret: this.#o.secret, method: 'DELETE', path: `/internal/relays/${relay.holderRelayId}` }).catch(() => undefined); // it closes its end by itself when we are gone
    }
    this.#o.log.info({ event: 'relay_in_closed', cameraId: relay.cameraId, holder: relay.holder, why }, 'relay in closed');
  }

  #inByRelay(relayId: string, cameraId: string): RelayIn {
    const current = this.#in.get(cameraId);
    const relay = current?.relayId === relayId ? current : [...this.#old.keys()].find((r) => r.relayId === relayId && r.cameraId === cameraId);
    if (!relay) throw new ApiError(404, 'relay_not_found', `no relay ${relayId} of camera ${cameraId} here`);
    return relay;
  }

  // --- Out: a camera held here ----------------------------------------------------------------

  async #openOut(body: OpenRelayBody) {
    const owner = await this.#heldHere(body.cameraId);
    if (owner?.nodeId !== this.#o.cluster.nodeId) {
      throw new ApiError(409, 'not_holder', `camera ${body.cameraId} is not held by this node${owner ? ` (node ${owner.nodeId} holds it)` : ''}`);
    }
    if (!this.#o.cluster.isAlive(body.node)) throw new ApiError(409, 'unknown_node', `node ${body.node} is not a live node of this cluster`);
    const room = await this.#o.sfu.room(body.cameraId);
    const end = await room.openRelay(this.#o.listen);
    await room.connectRelay(end.id, body.end);
    const relay: RelayOut = { cameraId: body.cameraId, room, relayId: end.id, node: body.node, nodeRelayId: body.relayId, sent: new Set(), detach: () => undefined };
    this.#out.set(end.id, relay);
    const producers = await this.#sendNew(relay);
    const onNew = () => void this.#pushNew(relay);
    room.on('newProducers', onNew);
    room.once('closed', () => this.#closeOut(end.id));
    relay.detach = () => room.off('newProducers', onNew);
    this.#o.log.info({ event: 'relay_out_opened', cameraId: body.cameraId, node: body.node, producers: producers.length }, 'relaying a camera out to another node');
    return { relayId: end.id, end: { ip: end.ip, port: end.port, srtpParameters: end.srtpParameters }, producers };
  }

  /** The camera's holder, once this node holds it or CATCH_UP_MS passed (see there). */
  async #heldHere(cameraId: string) {
    const here = () => this.#o.store.owner(cameraId)?.nodeId === this.#o.cluster.nodeId;
    if (!here() && !this.#closed) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#o.store.off('change', onChange);
          resolve();
        };
        const onChange = (change: Change) => {
          if (change.table === 'owners' && change.key === cameraId && here()) done();
        };
        const timer = setTimeout(done, CATCH_UP_MS);
        this.#o.store.on('change', onChange);
      });
    }
    return this.#o.store.owner(cameraId);
  }

  /** The camera's own producers (never ones relayed in) not yet sent over this relay. */
  async #sendNew(relay: RelayOut): Promise<RelayedProducerWire[]> {
    const out: RelayedProducerWire[] = [];
    for (const producer of relay.room.producers.values()) {
      if (relay.sent.has(producer.id) || producer.appData.relay !== undefined || producer.closed) continue;
      relay.sent.add(producer.id);
      const sent = await relay.room.relayOut(relay.relayId, producer.id, () => {
        relay.sent.delete(producer.id);
        if (this.#out.has(relay.relayId)) void this.#tell(relay, 'DELETE', `/internal/relays/${relay.nodeRelayId}/producers/${producer.id}?cameraId=${relay.cameraId}`);
      });
      out.push(sent as RelayedProducerWire);
    }
    return out;
  }

  async #pushNew(relay: RelayOut): Promise<void> {
    try {
      const producers = await this.#sendNew(relay);
      if (producers.length) await this.#tell(relay, 'POST', `/internal/relays/${relay.nodeRelayId}/producers`, { cameraId: relay.cameraId, producers });
    } catch (error) {
      this.#o.log.warn({ event: 'relay_out_push_failed', cameraId: relay.cameraId, node: relay.node, err: error }, 'could not send a new producer over a relay');
    }
  }

  async #tell(relay: RelayOut, method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<void> {
    const node = this.#o.cluster.nodes().find((n) => n.id === relay.node);
    if (!node) return;
    await callNode({ url: node.internalUrl, secret: this.#o.secret, method, path, body }).catch((error: unknown) => {
      // A node that no longer knows the relay (closed it, restarted): this end goes too.
      if (error instanceof InternalCallError && error.status === 404) this.#closeOut(relay.relayId);
    });
  }

  #closeOut(relayId: string): void {
    const relay = this.#out.get(relayId);
    if (!relay) return;
    this.#out.delete(relayId);
    relay.detach();
    relay.room.closeRelay(relayId);
  }

  // --- Following the cluster ------------------------------------------------------------------

  /** Another node took a camera: relays in from the old holder go; viewers here get it again from the new one. */
  #changed(change: Change): void {
    if (change.table !== 'owners' || !change.after) return;
    const relay = this.#in.get(change.key);
    if (relay && relay.holder !== change.after.nodeId) {
      const why = `node ${change.after.nodeId} took the camera`;
      if (relay.room.viewerCount === 0 || !this.#o.cluster.isAlive(relay.holder)) {
        this.#closeIn(relay, why);
      } else {
        // Make-before-break: it plays on until its producers end (the old holder let the camera
        // go) or OLD_RELAY_MS, while the new path opens beside it (a relay from the new holder, or
        // the camera's own producers when it moved here).
        this.#in.delete(change.key);
        this.#old.set(relay, setTimeout(() => this.#closeIn(relay, why), OLD_RELAY_MS));
      }
      if (relay.room.viewerCount > 0 && change.after.nodeId !== this.#o.cluster.nodeId) void this.ensure(change.key).catch(() => undefined); // logged inside
    } else if (!relay && change.after.nodeId !== this.#o.cluster.nodeId) {
      // Viewers here that waited for the camera (it was offline, or its holder died).
      const room = this.#o.sfu.existingRoom(change.key);
      if (room && room.viewerCount > 0) void this.ensure(change.key).catch(() => undefined);
    }
    // Relays out of a camera this node no longer holds end with its producers (the camera's
    // connection here was let go); the other node re-relays from the new holder.
  }

  /** Relays in nobody watches, and relays to or from dead nodes, close. */
  #sweep(): void {
    const now = Date.now();
    for (const relay of [...this.#in.values()]) {
      if (!this.#o.cluster.isAlive(relay.holder) || relay.room.closed) {
        this.#closeIn(relay, 'its holder died');
        continue;
      }
      if (relay.room.viewerCount > 0) relay.idleSinceMs = undefined;
      else if ((relay.idleSinceMs ??= now) + (this.#o.idleMs ?? 15_000) <= now) this.#closeIn(relay, 'nobody watches');
    }
    for (const relay of [...this.#out.values()]) {
      if (!this.#o.cluster.isAlive(relay.node) || relay.room.closed) this.#closeOut(relay.relayId);
    }
  }
}
