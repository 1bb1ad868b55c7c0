// One viewer's session with one camera: join, a receive transport, a consumer per producer.
// It recovers by itself: a lost signaling connection, a transport that ICE calls disconnected or
// that stops receiving (its node died), a `rejoin` notification or a server restart tear the
// attempt down completely (transport, consumers, tracks, timers) and start a new one after a short
// full-jitter backoff — the page is never reloaded.
import type { types } from 'mediasoup-client';
import type { Notification } from '../signaling/protocol.ts';
import { isAuthFailure } from './api.ts';
import { Backoff, RECONNECT_BACKOFF, Timer } from './backoff.ts';
import { MediaAttempt, openTransport } from './attempt.ts';
import { Emitter } from './emitter.ts';
import { isUnsupportedBrowser, summarizeStats, type TransportStats } from './media.ts';
import { SignalingError, type Signaling } from './signaling.ts';

export type ViewerState = 'connecting' | 'live' | 'reconnecting' | 'offline' | 'denied' | 'error';
/** Grid tiles take the small simulcast layer, the single view the full one. */
export type Layer = 'low' | 'high';

export interface ViewerRoomEvents {
  state: [state: ViewerState, detail: string | undefined];
  /** The tracks to play now (empty while not live). */
  tracks: [MediaStreamTrack[]];
}

/** Live this long without trouble and the backoff starts from the beginning again. */
const STABLE_MS = 10_000;
/** A switch to another node shows the new path when its first frame came, or after this at the latest. */
const FIRST_FRAME_WAIT_MS = 4_000;

interface ConsumerEntry {
  consumer: types.Consumer;
  spatialLayers: number;
  /**
   * Shown: the first of its kind at once; one that comes beside another (the camera moved between
   * nodes: new producers before the old ones end) once it received a whole frame.
   */
  ready: boolean;
}

/** One join of the camera; closed as a whole when anything goes wrong. */
class Attempt extends MediaAttempt {
  device: types.Device | undefined;
  readonly consumers = new Map<string, ConsumerEntry>();
  /** consume requests run one after another. */
  queue: Promise<void> = Promise.resolve();

  protected closeMedia(): void {
    // Closing the transport closed its consumers and stopped their tracks.
    for (const { consumer } of this.consumers.values()) consumer.close();
    this.consumers.clear();
  }
}

export class ViewerRoom extends Emitter<ViewerRoomEvents> {
  readonly cameraId: string;
  readonly #signaling: Signaling;
  #layer: Layer;
  #state: ViewerState = 'connecting';
  #detail: string | undefined;
  #attempt: Attempt | null = null;
  /** The tracks the page was last given. */
  #shown: MediaStreamTrack[] = [];
  /** What plays while a new attempt on another node gets its first frame (make-before-break). */
  #outgoing: Attempt | null = null;
  /** True after a failure until the camera is live (or known offline) again: badge says reconnecting. */
  #recovering = false;
  #closed = false;
  #joinStartedAt: number | undefined;
  readonly #backoff = new Backoff(RECONNECT_BACKOFF);
  readonly #retry = new Timer();
  readonly #stable = new Timer();
  readonly #unsubscribe: (() => void)[];

  constructor(signaling: Signaling, cameraId: string, layer: Layer) {
    super();
    this.cameraId = cameraId;
    this.#signaling = signaling;
    this.#layer = layer;
    this.#unsubscribe = [
      signaling.on('connected', () => {
        if (this.#state === 'denied' || this.#state === 'error') return;
        // Many tiles reconnect at once after a server restart: spread them a little. A tile that
        // never joined (the page's first connection) joins at once: its viewer is waiting.
        this.#scheduleRun(this.#joinStartedAt === undefined ? 0 : Math.random() * 300);
      }),
      signaling.on('switched', () => this.#switch()),
      signaling.on('disconnected', () => {
        if (!this.#attempt && !this.#retry.pending) return;
        this.#retry.clear();
        this.#dispose();
        this.#recovering = true;
        this.#setState('reconnecting');
      }),
      signaling.on('notification', (n) => {
        if (n.data.cameraId === cameraId) this.#onNotification(n);
      }),
      signaling.on('denied', ({ cameraId: id, reason }) => {
        if (id === cameraId) this.#stop('denied', reason);
      }),
    ];
  }

  get state(): ViewerState {
    return this.#state;
  }
  get detail(): string | undefined {
    return this.#detail;
  }
  get layer(): Layer {
    return this.#layer;
  }
  /** When the latest attempt's join request went out (performance.now()), for time-to-first-frame. */
  get joinStartedAt(): number | undefined {
    return this.#joinStartedAt;
  }
  /** Producer ids currently consumed (the tests compare them with the camera's). */
  get producerIds(): string[] {
    return [...(this.#attempt?.consumers.values() ?? [])].map((e) => e.consumer.producerId);
  }

  start(): void {
    this.#scheduleRun(0);
  }

  /** Switches between the grid's small layer and the single view's full layer. */
  setLayer(layer: Layer): void {
    if (layer === this.#layer) return;
    this.#layer = layer;
    const a = this.#attempt;
    if (!a) return;
    for (const entry of a.consumers.values()) void this.#applyLayer(a, entry);
  }

  async stats(): Promise<TransportStats | undefined> {
    const transport = this.#attempt?.transport;
    if (!transport || transport.closed) return undefined;
    return summarizeStats(await transport.getStats());
  }

  /** Leaves the camera and releases everything. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const joined = this.#attempt !== null;
    this.#retry.clear();
    this.#stable.clear();
    this.#dispose();
    for (const off of this.#unsubscribe) off();
    if (joined && this.#signaling.connected) {
      this.#signaling.request('leave', { cameraId: this.cameraId }).catch((err: unknown) => console.debug('leave failed (ignored: the server cleans up on disconnect)', err));
    }
    this.removeAllListeners();
  }

  // --- Attempts ---------------------------------------------------------------------------------

  #scheduleRun(delayMs: number): void {
    if (this.#closed) return;
    this.#retry.set(delayMs, () => void this.#run());
  }

  /**
   * The node we watch through is leaving, and the connection now leads to another: join there
   * while the current attempt plays on; the new one is shown from its first frame.
   */
  #switch(): void {
    if (this.#closed || this.#state === 'denied' || this.#state === 'error') return;
    const a = this.#attempt;
    this.#endOutgoing();
    if (!a || a.closed || this.#state !== 'live') {
      // Nothing plays: an ordinary new attempt.
      this.#dispose();
      this.#scheduleRun(0);
      return;
    }
    a.stopWatchingSilence();
    a.stopExpectingConnection();
    this.#outgoing = a;
    this.#attempt = null;
    this.#retry.clear();
    void this.#run();
  }

  #endOutgoing(): void {
    const old = this.#outgoing;
    this.#outgoing = null;
    old?.close();
  }

  async #run(): Promise<void> {
    if (this.#closed || this.#attempt) return;
    if (!this.#signaling.connected) {
      // The 'connected' event starts us again.
      this.#setState(this.#recovering ? 'reconnecting' : 'connecting');
      return;
    }
    const a = new Attempt();
    this.#attempt = a;
    if (!this.#outgoing) this.#setState(this.#recovering ? 'reconnecting' : 'connecting');
    const sig = this.#signaling;
    const cameraId = this.cameraId;
    try {
      this.#joinStartedAt = performance.now();
      const opened = await openTransport(sig, cameraId, 'viewer', a, (state) => this.#onTransportState(a, state));
      if (this.#closed) {
        // Closed while joining (a tile scrolled away at once): close()'s leave may have reached
        // the server before the join had finished there, which would keep this viewer joined.
        if (sig.connected) sig.request('leave', { cameraId }).catch((err: unknown) => console.debug('leave failed (ignored: the server cleans up on disconnect)', err));
        return;
      }
      if (!opened) return;
      const { join } = opened;
      a.device = opened.device;
      if (!join.live) {
        this.#recovering = false;
        this.#setState('offline');
      }
      // Always ask: the camera may have come up between join and now.
      this.#consume(a);
    } catch (err) {
      this.#fail(a, err);
    }
  }

  #consume(a: Attempt): void {
    a.queue = a.queue
      .then(async () => {
        const { transport, device } = a;
        if (a.closed || !transport || !device) return;
        const { consumers } = await this.#signaling.request('consume', {
          cameraId: this.cameraId,
          transportId: transport.id,
          rtpCapabilities: device.recvRtpCapabilities,
        });
        for (const info of consumers) {
          if (a.closed) return;
          const consumer = await transport.consume({
            id: info.id,
            producerId: info.producerId,
            kind: info.kind,
            rtpParameters: info.rtpParameters as types.RtpParameters,
            // One stream id for the camera's audio and video: the browser plays them in sync.
            streamId: this.cameraId,
          });
          if (a.closed) {
            consumer.close();
            return;
          }
          const beside = [...a.consumers.values()].some((e) => e.consumer.kind === consumer.kind && !e.consumer.closed);
          const entry: ConsumerEntry = { consumer, spatialLayers: info.spatialLayers, ready: !beside || consumer.kind === 'audio' };
          a.consumers.set(consumer.id, entry);
          if (!entry.ready) {
            void firstFrame(consumer, FIRST_FRAME_WAIT_MS).then(() => {
              entry.ready = true;
              this.#publishTracks(a);
            });
          }
          consumer.on('transportclose', () => a.consumers.delete(consumer.id));
          // Choose the layer before the first packet, so a grid tile never starts on the full one.
          await this.#applyLayer(a, entry);
          await this.#signaling.request('resumeConsumer', { cameraId: this.cameraId, consumerId: consumer.id });
        }
        if (a.closed) return;
        if (a.consumers.size > 0) a.expectConnection((err) => this.#fail(a, err));
        this.#publishTracks(a);
        this.#updateState(a);
      })
      .catch((err: unknown) => this.#fail(a, err));
  }

  async #applyLayer(a: Attempt, entry: ConsumerEntry): Promise<void> {
    if (entry.consumer.kind !== 'video' || entry.spatialLayers < 2 || a.closed) return;
    const spatialLayer = this.#layer === 'high' ? entry.spatialLayers - 1 : 0;
    try {
      await this.#signaling.request('setPreferredLayers', { cameraId: this.cameraId, consumerId: entry.consumer.id, spatialLayer });
    } catch (err) {
      // Not fatal: the SFU then keeps sending the layer it chose.
      console.warn(`camera ${this.cameraId}: could not choose the ${this.#layer} layer`, err);
    }
  }

  #onTransportState(a: Attempt, state: types.ConnectionState): void {
    if (a !== this.#attempt) return;
    a.onTransportState(state, {
      connected: () => this.#updateState(a),
      fail: (err) => this.#fail(a, err),
    });
  }

  #onNotification(n: Notification): void {
    const a = this.#attempt;
    switch (n.method) {
      case 'newProducers':
        if (a?.transport) this.#consume(a);
        break;
      case 'cameraLive':
        if (a?.transport && this.#state === 'offline') this.#setState('connecting');
        break;
      case 'cameraOffline':
        if (!a) break;
        for (const { consumer } of a.consumers.values()) consumer.close();
        a.consumers.clear();
        a.stopExpectingConnection();
        a.stopWatchingSilence();
        this.#publishTracks(a);
        this.#recovering = false;
        this.#setState('offline');
        break;
      case 'consumerClosed': {
        const entry = a?.consumers.get(n.data.consumerId);
        if (!a || !entry) break;
        entry.consumer.close();
        a.consumers.delete(n.data.consumerId);
        this.#publishTracks(a);
        this.#updateState(a);
        break;
      }
      case 'rejoin':
        if (a) this.#fail(a, new Error(`the server asked to join again: ${n.data.reason}`));
        break;
    }
  }

  #updateState(a: Attempt): void {
    if (a !== this.#attempt || a.closed || this.#outgoing) return;
    const hasVideo = [...a.consumers.values()].some((e) => e.consumer.kind === 'video' && !e.consumer.closed);
    if (!hasVideo) {
      a.stopWatchingSilence();
      this.#recovering = false;
      this.#setState('offline');
    } else if (a.transport?.connectionState === 'connected') {
      a.watchSilence((err) => this.#fail(a, err));
      this.#recovering = false;
      this.#setState('live');
      if (!this.#stable.pending) this.#stable.set(STABLE_MS, () => this.#backoff.reset());
    } else {
      this.#setState(this.#recovering ? 'reconnecting' : 'connecting');
    }
  }

  #publishTracks(a: Attempt): void {
    if (a !== this.#attempt) return;
    // One track of each kind: the newest shown one (see ConsumerEntry.ready).
    const tracks = () => {
      const open = [...a.consumers.values()].filter((e) => !e.consumer.closed);
      return (['video', 'audio'] as const).flatMap((kind) => {
        const of = open.filter((e) => e.consumer.kind === kind);
        const pick = of.filter((e) => e.ready).at(-1) ?? of[0];
        return pick ? [pick.consumer.track] : [];
      });
    };
    if (this.#outgoing) {
      // The old path plays until the new one has a frame to show: no black frame in between.
      const video = [...a.consumers.values()].find((e) => e.consumer.kind === 'video' && !e.consumer.closed);
      if (!video) return;
      void firstFrame(video.consumer, FIRST_FRAME_WAIT_MS).then(() => {
        if (a !== this.#attempt || a.closed) return;
        this.#endOutgoing();
        this.#emitTracks(tracks());
        this.#updateState(a);
      });
      return;
    }
    this.#emitTracks(tracks());
  }

  /** Tells the page, unless these are the tracks it plays already (a new srcObject restarts a video). */
  #emitTracks(tracks: MediaStreamTrack[]): void {
    const same = tracks.length === this.#shown.length && tracks.every((t, i) => t === this.#shown[i]);
    if (same && tracks.length > 0) return;
    this.#shown = tracks;
    this.emit('tracks', tracks);
  }

  #fail(a: Attempt, err: unknown): void {
    if (a !== this.#attempt || this.#closed) return;
    const code = err instanceof SignalingError ? err.code : undefined;
    if (code && isAuthFailure(code)) {
      // The signaling connection handles it (the page signs out); nothing to retry here.
      this.#dispose();
      return;
    }
    if (code === 'forbidden' || code === 'camera_not_found') {
      this.#stop('denied', err instanceof Error ? err.message : undefined);
      return;
    }
    if (isUnsupportedBrowser(err) || code === 'cannot_consume') {
      this.#stop('error', code === 'cannot_consume' && err instanceof Error ? err.message : 'unsupported');
      return;
    }
    console.warn(`camera ${this.cameraId}: ${err instanceof Error ? err.message : String(err)}; retrying`);
    this.#dispose();
    this.#recovering = true;
    this.#setState('reconnecting');
    // Without a connection the 'connected' event restarts us; otherwise retry after the backoff.
    if (code !== 'disconnected' || this.#signaling.connected) this.#scheduleRun(this.#backoff.next());
  }

  /** Gives up until the tile is recreated (access revoked, camera deleted, browser unsupported). */
  #stop(state: 'denied' | 'error', detail: string | undefined): void {
    this.#retry.clear();
    this.#dispose();
    this.#setState(state, detail);
  }

  #dispose(): void {
    this.#endOutgoing();
    const a = this.#attempt;
    if (!a) return;
    this.#attempt = null;
    this.#stable.clear();
    a.close();
    this.#emitTracks([]);
  }

  #setState(state: ViewerState, detail?: string): void {
    if (state === this.#state && detail === this.#detail) return;
    this.#state = state;
    this.#detail = detail;
    this.emit('state', state, detail);
  }
}

/** Resolves once the consumer received a whole frame (or after `limitMs`). */
async function firstFrame(consumer: types.Consumer, limitMs: number): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (performance.now() < deadline && !consumer.closed) {
    try {
      for (const stat of (await consumer.getStats()).values()) {
        const s = stat as { type?: string; framesReceived?: number; framesDecoded?: number };
        if (s.type === 'inbound-rtp' && ((s.framesReceived ?? 0) > 0 || (s.framesDecoded ?? 0) > 0)) return;
      }
    } catch {
      return; // no statistics: show it now
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
