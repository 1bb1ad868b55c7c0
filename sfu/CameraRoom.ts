// One camera's media: the origin router the camera publishes into, and the routers its viewers
// consume from. Viewers beyond `viewersPerRouter` on one router go to a router on another worker,
// fed through a PipeTransport pair, so one popular camera can use every core.
import { SafeEmitter } from '../errors/index.ts';
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { CameraKeyframes } from './CameraKeyframes.ts';
import { mediaCodecs } from './codecs.ts';
import { NotFoundError, SfuError } from './errors.ts';
import type { WorkerSlot } from './WorkerSlot.ts';

export type Direction = 'send' | 'recv';

export interface RtcSettings {
  listenIp: string;
  announcedAddress: string;
  /**
   * A WHIP/WHEP session's transport not connected within this long, or disconnected this long
   * (mediasoup says so once ICE consent lapsed, 30 s), is closed: its peer is gone without a word.
   */
  connectTimeoutMs: number;
}

export interface TransportInfo {
  id: string;
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
}

export interface ConsumerInfo {
  id: string;
  producerId: string;
  kind: types.MediaKind;
  rtpParameters: types.RtpParameters;
  spatialLayers: number;
}

interface RouterSlot {
  router: types.Router;
  worker: WorkerSlot;
  viewers: number;
  /**
   * Which payload-type numbering the router speaks: '' for ours, otherwise the numbering of the
   * players (WHEP) it serves, who all offered the same payload types.
   */
  numbering: string;
  /** Transports carrying the origin's producers into this router (none for the origin itself). */
  pipe?: { local: types.PipeTransport; remote: types.PipeTransport };
  /** Origin producer id → the id of its copy in this router. */
  producerIds: Map<string, string>;
}

interface OwnedTransport {
  transport: types.WebRtcTransport | types.PlainTransport;
  owner: string;
  direction: Direction;
  slot: RouterSlot;
  /** Producer ids this transport already consumes (so `consume` only adds what is new). */
  consumed: Set<string>;
  /** A player that dictated its payload types (WHEP): it takes no producer after its first ones. */
  fixed: boolean;
}

interface OwnedConsumer {
  consumer: types.Consumer;
  owner: string;
  /** The camera's keyframe habits (video). */
  keyframes: CameraKeyframes | undefined;
  transport: types.WebRtcTransport | types.PlainTransport;
}

export interface CameraRoomEvents {
  /** The camera started publishing (first producer). */
  live: [];
  /** The camera's last producer closed. */
  offline: [];
  /** A producer appeared: viewers should call consume again. */
  newProducers: [];
  consumerClosed: [owner: string, consumerId: string];
  /** A newer connection of the same camera took over; the old owner's transports are closed. */
  publisherReplaced: [owner: string];
  /** An owner's transport closed because its peer is gone (never connected, ICE or DTLS lost). */
  transportLost: [owner: string, why: 'never_connected' | 'disconnected' | 'dtls_closed'];
  closed: [reason: string];
}

/** One end of a relay between nodes: where it listens and its SRTP key. */
export interface RelayEnd {
  id: string;
  ip: string;
  port: number;
  srtpParameters: types.SrtpParameters;
}

/** A producer as it crosses a relay (what the other end needs to produce its copy). */
export interface RelayedProducer {
  id: string;
  kind: types.MediaKind;
  rtpParameters: types.RtpParameters;
  paused: boolean;
}

export interface CameraRoomOptions {
  cameraId: string;
  rtc: RtcSettings;
  viewersPerRouter: number;
  /** Picks the least loaded worker, preferring ones not in `exclude`. */
  pickWorker: (exclude: ReadonlySet<WorkerSlot>) => WorkerSlot;
}

export class CameraRoom extends SafeEmitter<CameraRoomEvents> {
  readonly cameraId: string;
  readonly #rtc: RtcSettings;
  readonly #viewersPerRouter: number;
  readonly #pickWorker: CameraRoomOptions['pickWorker'];
  readonly #origin: RouterSlot;
  readonly #slots: RouterSlot[];
  readonly #transports = new Map<string, OwnedTransport>();
  readonly #producers = new Map<string, types.Producer>();
  /** Per video producer: when its keyframes come and how soon after one the camera answers a request. */
  readonly #keyframes = new Map<string, CameraKeyframes>();
  readonly #consumers = new Map<string, OwnedConsumer>();
  /** PipeTransports to or from other nodes (SRTP), by id. */
  readonly #relays = new Map<string, types.PipeTransport>();
  #publisher: string | undefined;
  #closed = false;
  /** Serialises router creation so concurrent joins do not create two routers for one need. */
  #slotQueue: Promise<unknown> = Promise.resolve();

  static async create(options: CameraRoomOptions): Promise<CameraRoom> {
    const worker = options.pickWorker(new Set());
    const router = await worker.worker.createRouter({ mediaCodecs, appData: { cameraId: options.cameraId } });
    worker.routers += 1;
    return new CameraRoom(options, { router, worker, viewers: 0, numbering: '', producerIds: new Map() });
  }

  private constructor(options: CameraRoomOptions, origin: RouterSlot) {
    super();
    this.cameraId = options.cameraId;
    this.#rtc = options.rtc;
    this.#viewersPerRouter = options.viewersPerRouter;
    this.#pickWorker = options.pickWorker;
    this.#origin = origin;
    this.#slots = [origin];
  }

  get closed(): boolean {
    return this.#closed;
  }
  get live(): boolean {
    return this.#producers.size > 0;
  }
  get rtpCapabilities(): types.RtpCapabilities {
    return this.#origin.router.rtpCapabilities;
  }
  /** The router the camera publishes into (the recorder consumes from it). */
  get originRouter(): types.Router {
    return this.#origin.router;
  }
  get producers(): ReadonlyMap<string, types.Producer> {
    return this.#producers;
  }
  /**
   * The camera's media comes from another node only (relayed in): this node neither publishes nor
   * records it. While a camera moves here, its own producers and the relayed ones of its previous
   * holder are both here for a moment: then it is not relayed.
   */
  get relayed(): boolean {
    return this.#producers.size > 0 && this.ownProducers.length === 0;
  }
  /**
   * Every viewer here that can take new producers and consumes the camera's own producers of a
   * kind also consumes that kind from relay `relayId` (the camera moved away: they can follow).
   */
  viewersConsume(relayId: string): boolean {
    const kindOf = (id: string) => this.#producers.get(id);
    for (const t of this.#transports.values()) {
      if (t.direction !== 'recv' || t.fixed) continue;
      const consumed = [...t.consumed].map(kindOf).filter((p) => p !== undefined && !p.closed);
      for (const own of consumed.filter((p) => p!.appData.relay === undefined)) {
        if (!consumed.some((p) => p!.kind === own!.kind && p!.appData.relay === relayId)) return false;
      }
    }
    return true;
  }
  /** The producers the camera publishes here (not relayed in from another node). */
  get ownProducers(): types.Producer[] {
    return [...this.#producers.values()].filter((p) => p.appData.relay === undefined);
  }
  get viewerCount(): number {
    return this.#slots.reduce((n, s) => n + s.viewers, 0);
  }
  get routerCount(): number {
    return this.#slots.length;
  }
  /** Distinct workers this camera's routers are spread over. */
  get workerCount(): number {
    return new Set(this.#slots.map((s) => s.worker)).size;
  }
  /** Workers this room has routers on (the SFU closes the room when one of them dies). */
  usesWorker(worker: WorkerSlot): boolean {
    return this.#slots.some((s) => s.worker === worker);
  }

  /**
   * `payloadTypes`: for a viewer that dictates its own payload types (a WHEP player's offer).
   * mediasoup consumers send their router's payload types, and browsers do not remap them from an
   * answer, so such a viewer goes to a router whose codecs use its numbering (shared with players
   * that number the same way), fed through a pipe.
   *
   * `endIfPeerGone`: for a WHIP/WHEP session, whose offer is answered in one request so ICE starts
   * at once. (A socket peer's transport connects only when it first consumes, perhaps minutes
   * later, and the socket's end releases it.)
   */
  async createTransport(owner: string, direction: Direction, payloadTypes?: types.RtpCapabilities, endIfPeerGone = false): Promise<TransportInfo> {
    this.#assertOpen();
    if (direction === 'send' && this.#publisher !== owner) {
      // The newest connection of a camera wins: a camera that reconnects before its old
      // connection timed out must not be refused or left publishing twice.
      const previous = this.#publisher;
      this.#publisher = owner;
      if (previous !== undefined) {
        this.closeOwner(previous);
        this.safeEmit('publisherReplaced', previous);
      }
    }
    const slot = direction === 'send' ? this.#origin : await this.#slotForViewer(payloadTypes);
    const transport = await slot.router.createWebRtcTransport({
      listenInfos: [
        { protocol: 'udp', ip: this.#rtc.listenIp, announcedAddress: this.#rtc.announcedAddress },
        { protocol: 'tcp', ip: this.#rtc.listenIp, announcedAddress: this.#rtc.announcedAddress },
      ],
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: 1_000_000,
      appData: { owner, direction },
    });
    if (this.#closed) {
      transport.close();
      throw new SfuError('camera_closed', 'the camera room closed meanwhile; join again', 409);
    }
    if (direction === 'recv') slot.viewers += 1;
    // A router with no viewers left is closed (the origin stays for the camera).
    transport.observer.once('close', () => {
      if (slot !== this.#origin && slot.viewers === 0) this.#dropSlot(slot);
    });
    const owned: OwnedTransport = { transport, owner, direction, slot, consumed: new Set(), fixed: payloadTypes !== undefined };
    this.#transports.set(transport.id, owned);
    transport.observer.once('close', () => {
      this.#transports.delete(transport.id);
      if (direction === 'recv') slot.viewers -= 1;
    });
    // A peer that vanished (a POST its client gave up on, a player that never sent DELETE) would
    // hold its router's resources for ever: its transport is closed and its owner told.
    const lose = (why: 'never_connected' | 'disconnected' | 'dtls_closed') => {
      if (transport.closed) return;
      transport.close();
      this.safeEmit('transportLost', owner, why);
    };
    if (endIfPeerGone) {
      let lapse: NodeJS.Timeout | undefined = setTimeout(() => lose('never_connected'), this.#rtc.connectTimeoutMs);
      transport.on('icestatechange', (state) => {
        clearTimeout(lapse);
        lapse = state === 'disconnected' ? setTimeout(() => lose('disconnected'), this.#rtc.connectTimeoutMs) : undefined;
      });
      transport.observer.once('close', () => clearTimeout(lapse));
    }
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') lose('dtls_closed');
    });
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  /**
   * A plain RTP send transport (comedia: the first packet tells where the sender is) for an
   * encoder on a trusted network, or a load generator. `produce` works on it as on WebRTC.
   */
  async createPlainTransport(owner: string): Promise<{ id: string; ip: string; port: number }> {
    this.#assertOpen();
    if (this.#publisher !== owner) {
      const previous = this.#publisher;
      this.#publisher = owner;
      if (previous !== undefined) {
        this.closeOwner(previous);
        this.safeEmit('publisherReplaced', previous);
      }
    }
    const transport = await this.#origin.router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: this.#rtc.listenIp, announcedAddress: this.#rtc.announcedAddress },
      rtcpMux: true,
      comedia: true,
      appData: { owner, direction: 'send' },
    });
    this.#transports.set(transport.id, { transport, owner, direction: 'send', slot: this.#origin, consumed: new Set(), fixed: false });
    transport.observer.once('close', () => this.#transports.delete(transport.id));
    return { id: transport.id, ip: transport.tuple.localAddress, port: transport.tuple.localPort };
  }

  async connectTransport(owner: string, transportId: string, dtlsParameters: types.DtlsParameters): Promise<void> {
    const { transport } = this.#ownedTransport(owner, transportId);
    if (!('iceParameters' in transport)) throw new SfuError('wrong_transport', 'a plain transport needs no DTLS connect');
    await transport.connect({ dtlsParameters });
  }

  async restartIce(owner: string, transportId: string): Promise<types.IceParameters> {
    const { transport } = this.#ownedTransport(owner, transportId);
    if (!('iceParameters' in transport)) throw new SfuError('wrong_transport', 'a plain transport has no ICE to restart');
    return transport.restartIce();
  }

  async produce(
    owner: string,
    transportId: string,
    kind: types.MediaKind,
    rtpParameters: types.RtpParameters,
  ): Promise<string> {
    const owned = this.#ownedTransport(owner, transportId);
    if (owned.direction !== 'send') {
      throw new SfuError('wrong_transport', 'produce needs a send transport; create one with direction "send"');
    }
    if (owner !== this.#publisher) {
      throw new SfuError('not_publisher', 'another connection of this camera is publishing now', 409);
    }
    const producer = await owned.transport.produce({ kind, rtpParameters, appData: { owner } });
    // The transport may have closed while the producer was being made (a newer publisher took
    // over): mediasoup then hands back a producer that nothing will ever close.
    if (owned.transport.closed) producer.close();
    await this.#register(producer);
    return producer.id;
  }

  /** A producer of the origin router becomes the camera's (published here, or relayed in). */
  async #register(producer: types.Producer): Promise<void> {
    // Its transport may have closed while it was being created (a newer publisher took over): a
    // closed producer never becomes the camera's, or it would stay "live" for good.
    if (producer.closed) throw new SfuError('publisher_replaced', 'the camera connected again (here or on another node) while this connection was being set up', 409);
    const wasLive = this.live;
    this.#producers.set(producer.id, producer);
    this.#trace(producer);
    producer.observer.once('close', () => {
      this.#producers.delete(producer.id);
      this.#keyframes.delete(producer.id);
      this.#origin.producerIds.delete(producer.id);
      if (!this.live && !this.#closed) this.safeEmit('offline');
    });
    // Viewers on other workers get the new producer piped before they are told about it.
    this.#origin.producerIds.set(producer.id, producer.id);
    for (const slot of [...this.#slots]) {
      if (slot !== this.#origin && !slot.router.closed) await this.#pipe(producer, slot);
    }
    if (!wasLive) this.safeEmit('live');
    this.safeEmit('newProducers');
  }

  // --- Relays: the camera's media between nodes --------------------------------------------
  //
  // A node whose viewers watch a camera held by another node opens one relay per camera: a
  // PipeTransport pair with SRTP between the two origin routers, negotiated over the nodes'
  // internal API. The holder consumes each producer into its end; the viewers' node produces the
  // copies into its end, and from there they are the camera's producers like any other.

  /** One end of a relay on the origin router, listening on `listen` (the internal address). */
  async openRelay(listen: { ip: string; announcedAddress?: string }): Promise<RelayEnd> {
    this.#assertOpen();
    const transport = await this.#origin.router.createPipeTransport({
      listenInfo: { protocol: 'udp', ip: listen.ip, ...(listen.announcedAddress ? { announcedAddress: listen.announcedAddress } : {}) },
      enableSrtp: true,
      enableRtx: true,
    });
    this.#relays.set(transport.id, transport);
    transport.observer.once('close', () => this.#relays.delete(transport.id));
    const tuple = transport.tuple;
    return { id: transport.id, ip: tuple.localAddress ?? tuple.localIp, port: tuple.localPort, srtpParameters: transport.srtpParameters! };
  }

  async connectRelay(relayId: string, remote: Omit<RelayEnd, 'id'>): Promise<void> {
    await this.#relay(relayId).connect({ ip: remote.ip, port: remote.port, srtpParameters: remote.srtpParameters });
  }

  /** The holder's side: the producer into the relay. `onClose` when it ends (the camera stopped it). */
  async relayOut(relayId: string, producerId: string, onClose: () => void): Promise<RelayedProducer> {
    const consumer = await this.#relay(relayId).consume({ producerId });
    consumer.observer.once('close', onClose);
    return { id: producerId, kind: consumer.kind, rtpParameters: consumer.rtpParameters, paused: consumer.producerPaused };
  }

  /** The viewers' side: a producer of the holder, copied in under the same id. */
  async relayIn(relayId: string, relayed: RelayedProducer): Promise<void> {
    if (this.#producers.has(relayed.id)) return;
    const relay = this.#relay(relayId);
    const producer = await relay.produce({ id: relayed.id, kind: relayed.kind, rtpParameters: relayed.rtpParameters, paused: relayed.paused, appData: { relay: relayId } });
    if (relay.closed) producer.close(); // closed meanwhile (see produce)
    await this.#register(producer);
  }

  /** A producer the holder no longer has. */
  relayedGone(relayId: string, producerId: string): void {
    const producer = this.#producers.get(producerId);
    if (producer?.appData.relay === relayId) producer.close();
  }

  /** Idempotent; its producers (relayed in) close with it. */
  closeRelay(relayId: string): void {
    this.#relays.get(relayId)?.close();
  }

  hasRelay(relayId: string): boolean {
    return this.#relays.has(relayId);
  }

  #relay(relayId: string): types.PipeTransport {
    const relay = this.#relays.get(relayId);
    if (!relay || relay.closed) throw new NotFoundError('relay', relayId);
    return relay;
  }

  closeProducer(owner: string, producerId: string): void {
    const producer = this.#producers.get(producerId);
    if (!producer || producer.appData.owner !== owner) throw new NotFoundError('producer', producerId);
    producer.close();
  }

  /**
   * Consumers (paused) for every producer the transport does not consume yet. `mids` pins the
   * MID per kind when the remote side chose them (a WHEP offer).
   */
  async consume(
    owner: string,
    transportId: string,
    rtpCapabilities: types.RtpCapabilities,
    mids?: Partial<Record<types.MediaKind, string>>,
  ): Promise<ConsumerInfo[]> {
    const owned = this.#ownedTransport(owner, transportId);
    if (owned.direction !== 'recv') {
      throw new SfuError('wrong_transport', 'consume needs a recv transport; create one with direction "recv"');
    }
    const result: ConsumerInfo[] = [];
    // The camera's own producers first: while it moves here, relayed ones of its previous holder
    // are about to end. A WHEP player (`mids`) takes the first of each kind: for it the newest
    // relay comes before an older one too. Browser viewers take all, in the order they came.
    const all = [...this.#producers.values()];
    const relayed = all.filter((p) => p.appData.relay !== undefined);
    const ordered = [...all.filter((p) => p.appData.relay === undefined), ...(mids ? relayed.reverse() : relayed)];
    for (const producer of ordered) {
      if (owned.consumed.has(producer.id) || producer.closed) continue;
      const localId = owned.slot.producerIds.get(producer.id);
      if (!localId) continue; // still being piped in; `newProducers` follows
      if (!owned.slot.router.canConsume({ producerId: localId, rtpCapabilities })) {
        throw new SfuError(
          'cannot_consume',
          `this device cannot decode the camera's ${producer.kind} (${producer.rtpParameters.codecs[0]?.mimeType}); use a browser that supports it`,
        );
      }
      const mid = mids?.[producer.kind];
      const consumer = await owned.transport.consume({ producerId: localId, rtpCapabilities, paused: true, ...(mid ? { mid } : {}) });
      owned.consumed.add(producer.id);
      this.#consumers.set(consumer.id, { consumer, owner, keyframes: this.#keyframes.get(producer.id), transport: owned.transport });
      consumer.observer.once('close', () => {
        this.#consumers.delete(consumer.id);
        owned.consumed.delete(producer.id);
      });
      consumer.on('producerclose', () => {
        consumer.close();
        this.safeEmit('consumerClosed', owner, consumer.id);
      });
      result.push({
        id: consumer.id,
        producerId: producer.id,
        kind: consumer.kind,
        rtpParameters: consumer.rtpParameters,
        spatialLayers: producer.rtpParameters.encodings?.length ?? 1,
      });
    }
    return result;
  }

  async resumeConsumer(owner: string, consumerId: string): Promise<void> {
    const { consumer, keyframes, transport } = this.#owned(owner, consumerId);
    // mediasoup asks the camera for a keyframe itself: now if the transport is connected, else the
    // moment it connects. Asking here as well, before it connects, spent the keyframe on a viewer
    // who could not receive it yet, and a camera that ignores requests close together (most do)
    // then made the first frame wait for its next regular keyframe: up to a GOP later. Asking
    // again later did not help either: against a camera that ignored mediasoup's request and its
    // own retry a second later, further requestKeyFrame() calls sent nothing (the producer's
    // pliCount stayed at 2 with a request every 300 ms for 4 s), seemingly held back by the
    // worker's pending request for that stream until a keyframe comes.
    // So a viewer's video starts when its transport has connected (its request goes out then)
    // and the camera answers requests again: after the time it ignores them for following its
    // own keyframe, which CameraKeyframes learns. Not a GOP later.
    if (!keyframes) return consumer.resume();
    const start = () => {
      if (consumer.closed) return;
      const holdMs = keyframes.holdMs(monotonicMs());
      if (holdMs === 0) return consumer.resume();
      setTimeout(() => {
        if (!consumer.closed) consumer.resume().catch(() => undefined); // closed meanwhile
      }, holdMs);
    };
    if (!('dtlsState' in transport) || transport.dtlsState === 'connected') return start();
    const onDtls = (state: types.DtlsState) => {
      if (state === 'connecting' || state === 'new') return;
      transport.off('dtlsstatechange', onDtls);
      if (state === 'connected') start()?.catch(() => undefined); // closed meanwhile
    };
    transport.on('dtlsstatechange', onDtls);
  }

  /**
   * The producer's trace events, one set for all who listen (mediasoup keeps one per producer):
   * sender reports (the recorder lines audio up with them) and, for video, keyframes in and
   * keyframe requests out (CameraKeyframes). A few notifications a second per camera.
   */
  #trace(producer: types.Producer): void {
    if (producer.kind === 'video') {
      const keyframes = new CameraKeyframes();
      this.#keyframes.set(producer.id, keyframes);
      // The worker stamps each event on the monotonic clock this process reads with hrtime: gaps
      // between them are exact, not stretched by this event loop's delays.
      producer.on('trace', (trace) => {
        if (trace.type === 'keyframe') keyframes.keyframe(trace.timestamp);
        else if ((trace.type === 'pli' || trace.type === 'fir') && trace.direction === 'out') keyframes.requested(trace.timestamp);
      });
    }
    producer.enableTraceEvent(producer.kind === 'video' ? ['sr', 'keyframe', 'pli', 'fir'] : ['sr']).catch(() => undefined); // closed meanwhile
  }

  async setPreferredLayers(owner: string, consumerId: string, spatialLayer: number, temporalLayer?: number): Promise<void> {
    const consumer = this.#ownedConsumer(owner, consumerId);
    if (consumer.type !== 'simulcast' && consumer.type !== 'svc') return; // one layer: nothing to choose
    await consumer.setPreferredLayers({ spatialLayer, temporalLayer });
  }

  /** Closes one transport of this owner, if it is still open. */
  closeTransport(owner: string, transportId: string): void {
    const owned = this.#transports.get(transportId);
    if (owned?.owner === owner) owned.transport.close();
  }

  /** Closes every transport of one owner (a peer that left or disconnected). */
  closeOwner(owner: string): void {
    for (const owned of [...this.#transports.values()]) {
      if (owned.owner === owner) owned.transport.close();
    }
    if (this.#publisher === owner) this.#publisher = undefined;
  }

  /**
   * The camera publishes elsewhere now (another node took it): its connection here is closed and
   * told so, as when a newer connection replaces it on this node. Returns whether one was publishing.
   */
  releasePublisher(): boolean {
    const previous = this.#publisher;
    if (previous === undefined) return false;
    this.closeOwner(previous);
    this.safeEmit('publisherReplaced', previous);
    return true;
  }

  hasOwner(owner: string): boolean {
    for (const owned of this.#transports.values()) if (owned.owner === owner) return true;
    return false;
  }

  /** Idempotent; closes the routers (and with them every transport, producer and consumer). */
  close(reason = 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const slot of this.#slots) {
      slot.router.close();
      slot.worker.routers -= 1;
    }
    this.#transports.clear();
    this.#producers.clear();
    this.#consumers.clear();
    this.safeEmit('closed', reason);
  }

  /**
   * Copies an origin producer into another router. Unlike Router.pipeToRouter, the copy gets an id
   * of its own, so the target router may live on the same worker (a WHEP player's own router on a
   * one-core machine).
   */
  async #pipe(producer: types.Producer, slot: RouterSlot): Promise<void> {
    if (slot.producerIds.has(producer.id)) return;
    // A player's router speaks only what the player offered (say, video without audio).
    const mime = producer.rtpParameters.codecs[0]?.mimeType.toLowerCase();
    if (!slot.router.rtpCapabilities.codecs?.some((c) => c.mimeType.toLowerCase() === mime)) return;
    if (!slot.pipe) {
      const listenInfo = { protocol: 'udp' as const, ip: '127.0.0.1' };
      const [local, remote] = await Promise.all([
        this.#origin.router.createPipeTransport({ listenInfo, enableRtx: true }),
        slot.router.createPipeTransport({ listenInfo, enableRtx: true }),
      ]);
      await Promise.all([
        local.connect({ ip: remote.tuple.localAddress, port: remote.tuple.localPort }),
        remote.connect({ ip: local.tuple.localAddress, port: local.tuple.localPort }),
      ]);
      slot.router.observer.once('close', () => local.close());
      slot.pipe = { local, remote };
    }
    const pipeConsumer = await slot.pipe.local.consume({ producerId: producer.id });
    const copy = await slot.pipe.remote.produce({
      kind: pipeConsumer.kind,
      rtpParameters: pipeConsumer.rtpParameters,
      paused: pipeConsumer.producerPaused,
    });
    pipeConsumer.observer.once('close', () => {
      copy.close();
      slot.producerIds.delete(producer.id);
    });
    slot.producerIds.set(producer.id, copy.id);
  }

  #dropSlot(slot: RouterSlot): void {
    const i = this.#slots.indexOf(slot);
    if (i < 0 || slot === this.#origin) return;
    this.#slots.splice(i, 1);
    slot.router.close();
    slot.worker.routers -= 1;
  }

  #assertOpen(): void {
    if (this.#closed) throw new SfuError('camera_closed', 'the camera room closed; join again', 409);
  }

  #ownedTransport(owner: string, transportId: string): OwnedTransport {
    this.#assertOpen();
    const owned = this.#transports.get(transportId);
    if (!owned || owned.owner !== owner) throw new NotFoundError('transport', transportId);
    return owned;
  }

  #ownedConsumer(owner: string, consumerId: string): types.Consumer {
    return this.#owned(owner, consumerId).consumer;
  }

  #owned(owner: string, consumerId: string): OwnedConsumer {
    this.#assertOpen();
    const owned = this.#consumers.get(consumerId);
    if (!owned || owned.owner !== owner) throw new NotFoundError('consumer', consumerId);
    return owned;
  }

  async #slotForViewer(payloadTypes?: types.RtpCapabilities): Promise<RouterSlot> {
    const codecs = payloadTypes ? playerCodecs(payloadTypes) : undefined;
    if (codecs && codecs.length === 0) {
      throw new SfuError('no_common_codec', 'the player offers none of H.264 (packetization-mode=1), VP8 or Opus');
    }
    const numbering = codecs ? numberingOf(codecs, this.#origin.router.rtpCapabilities) : '';
    const run = this.#slotQueue.then(async () => {
      const same = this.#slots.filter((s) => s.numbering === numbering);
      const free = same.find((s) => s.viewers < this.#viewersPerRouter);
      if (free) return free;
      const used = new Set(same.map((s) => s.worker));
      const worker = this.#pickWorker(used);
      if (used.has(worker)) {
        // Every worker already has such a router for this camera: another router on the same
        // worker would only add piping cost, so the least loaded one takes the viewer.
        return same.reduce((a, b) => (b.viewers < a.viewers ? b : a));
      }
      const router = await worker.worker.createRouter({
        mediaCodecs: numbering ? codecs : mediaCodecs,
        appData: { cameraId: this.cameraId },
      });
      worker.routers += 1;
      const slot: RouterSlot = { router, worker, viewers: 0, numbering, producerIds: new Map() };
      this.#slots.push(slot);
      try {
        this.#assertOpen();
        for (const producer of this.#producers.values()) await this.#pipe(producer, slot);
      } catch (err) {
        this.#dropSlot(slot);
        throw err;
      }
      return slot;
    });
    this.#slotQueue = run.catch(() => undefined);
    return run;
  }

}

/** Our codecs, each with the payload type the player gave the same codec (RTX left to the router). */
function playerCodecs(remote: types.RtpCapabilities): types.RtpCodecCapability[] {
  const result: types.RtpCodecCapability[] = [];
  const used = new Set<number>();
  for (const ours of mediaCodecs) {
    const theirs = (remote.codecs ?? []).find((c) => {
      if (c.mimeType.toLowerCase() !== ours.mimeType.toLowerCase() || c.clockRate !== ours.clockRate) return false;
      if (c.preferredPayloadType === undefined || used.has(c.preferredPayloadType)) return false;
      if (ours.mimeType === 'video/H264') {
        const p = c.parameters ?? {};
        return String(p['packetization-mode']) === '1' && String(p['profile-level-id'] ?? '').slice(0, 4).toLowerCase() === String(ours.parameters?.['profile-level-id']).slice(0, 4);
      }
      return true;
    });
    if (theirs?.preferredPayloadType === undefined) continue;
    used.add(theirs.preferredPayloadType);
    result.push({ ...ours, preferredPayloadType: theirs.preferredPayloadType });
  }
  return result;
}

/** '' when the player numbers every codec as our routers do, else a key of its numbering. */
function numberingOf(codecs: types.RtpCodecCapability[], ours: types.RtpCapabilities): string {
  const same = codecs.every((c) =>
    (ours.codecs ?? []).some(
      (o) =>
        o.mimeType === c.mimeType &&
        o.preferredPayloadType === c.preferredPayloadType &&
        String(o.parameters?.['profile-level-id'] ?? '') === String(c.parameters?.['profile-level-id'] ?? ''),
    ),
  );
  if (same) return '';
  return codecs.map((c) => `${c.mimeType}/${String(c.parameters?.['profile-level-id'] ?? '')}=${c.preferredPayloadType}`).join(',');
}

/** The clock of the worker's trace event timestamps (uv_hrtime in ms, as process.hrtime). */
function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}
