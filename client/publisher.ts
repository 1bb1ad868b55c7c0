// A camera publishing its video (H.264 simulcast, VP8 if the device has no H.264) and audio (Opus)
// into its room. Like the viewer tiles it recovers by itself from a lost signaling connection, a
// transport that ICE calls disconnected or that stops receiving the SFU's RTCP (its node died),
// a `rejoin` or a server restart: each attempt is torn down completely and a new one starts after
// a short full-jitter backoff. The camera and microphone stay open across attempts,
// and are opened again when a track ends (unplugged camera, a phone call took it).
import type { types } from 'mediasoup-client';
import { isAuthFailure } from './api.ts';
import { Backoff, RECONNECT_BACKOFF, Timer } from './backoff.ts';
import { MediaAttempt, openTransport } from './attempt.ts';
import { Emitter } from './emitter.ts';
import { chooseVideoCodec, isUnsupportedBrowser, simulcastEncodings, summarizeStats, type TransportStats } from './media.ts';
import { SignalingError, type Signaling } from './signaling.ts';

/** 'stopped': the server took this camera off (published from another device, deleted); detail = reason. */
export type PublisherState = 'connecting' | 'live' | 'reconnecting' | 'stopped' | 'error';

export interface PublisherEvents {
  state: [state: PublisherState, detail: unknown];
  /** The camera/microphone stream (again after it was reopened), for the preview. */
  stream: [MediaStream];
  /** The server asks this camera to publish to another node (its node drains), this session going on meanwhile. */
  move: [];
}

export interface PublisherOptions {
  signaling: Signaling;
  cameraId: string;
  /** Opens the camera and microphone. */
  acquireMedia: () => Promise<MediaStream>;
}

const STABLE_MS = 10_000;

/** Errors of getUserMedia that retrying cannot fix (the user or the page forbids the camera). */
const FATAL_MEDIA_ERRORS = new Set(['NotAllowedError', 'SecurityError', 'NotFoundError', 'OverconstrainedError']);

class SendAttempt extends MediaAttempt {
  readonly producers = new Map<string, types.Producer>();

  protected closeMedia(): void {
    // The transport closed without stopping tracks: the camera stays open for the next attempt.
    this.producers.clear();
  }
}

export class Publisher extends Emitter<PublisherEvents> {
  readonly cameraId: string;
  readonly #signaling: Signaling;
  readonly #acquireMedia: () => Promise<MediaStream>;
  #stream: MediaStream | null = null;
  #state: PublisherState = 'connecting';
  #attempt: SendAttempt | null = null;
  #recovering = false;
  #closed = false;
  /** Replaced by a session elsewhere (a move): publishes until this session ends, never again. */
  #retiring = false;
  #videoCodec: string | undefined;
  readonly #backoff = new Backoff(RECONNECT_BACKOFF);
  readonly #retry = new Timer();
  readonly #stable = new Timer();
  readonly #unsubscribe: (() => void)[];

  constructor({ signaling, cameraId, acquireMedia }: PublisherOptions) {
    super();
    this.cameraId = cameraId;
    this.#signaling = signaling;
    this.#acquireMedia = acquireMedia;
    this.#unsubscribe = [
      signaling.on('connected', () => {
        if (this.#state !== 'stopped' && this.#state !== 'error') this.#scheduleRun(0);
      }),
      signaling.on('disconnected', () => {
        if (!this.#attempt && !this.#retry.pending) return;
        this.#retry.clear();
        this.#dispose();
        this.#recovering = true;
        this.#setState('reconnecting');
      }),
      signaling.on('notification', (n) => {
        if (n.method === 'rejoin' && n.data.cameraId === cameraId && this.#attempt) {
          this.#fail(this.#attempt, new Error(`the server asked to publish again: ${n.data.reason}`));
        }
        if (n.method === 'move' && n.data.cameraId === cameraId) this.emit('move');
      }),
      signaling.on('denied', ({ cameraId: id, code }) => {
        // Another device connected as this camera (or it was deleted): stop, or two devices
        // would take turns forever.
        if (id === cameraId) this.#stop('stopped', code);
      }),
    ];
  }

  get state(): PublisherState {
    return this.#state;
  }
  get stream(): MediaStream | null {
    return this.#stream;
  }
  get producerIds(): string[] {
    return [...(this.#attempt?.producers.keys() ?? [])];
  }
  get videoCodec(): string | undefined {
    return this.#videoCodec;
  }

  start(): void {
    this.#scheduleRun(0);
  }

  /**
   * Another session of this camera took over (a move): this one goes on until its node ends it,
   * but is never published again (its socket, reconnecting through the load balancer, would
   * otherwise take the camera back from the new session).
   */
  retire(): void {
    this.#retiring = true;
    this.#retry.clear();
  }

  /** Publishes again after 'stopped' or 'error' (a button on the page). */
  resume(): void {
    if (this.#closed) return;
    this.#backoff.reset();
    this.#recovering = false;
    this.#setState('connecting');
    this.#scheduleRun(0);
  }

  async stats(): Promise<TransportStats | undefined> {
    const transport = this.#attempt?.transport;
    if (!transport || transport.closed) return undefined;
    return summarizeStats(await transport.getStats());
  }

  /**
   * Stops publishing and closes the camera. Idempotent. `keepTracks`: the camera stays open for
   * the session that took over (a move).
   */
  close(options: { keepTracks?: boolean } = {}): void {
    if (this.#closed) return;
    this.#closed = true;
    const joined = this.#attempt !== null;
    this.#retry.clear();
    this.#dispose();
    for (const off of this.#unsubscribe) off();
    if (!options.keepTracks) for (const track of this.#stream?.getTracks() ?? []) track.stop();
    this.#stream = null;
    if (joined && this.#signaling.connected) {
      this.#signaling.request('leave', { cameraId: this.cameraId }).catch((err: unknown) => console.debug('leave failed (ignored: the server cleans up on disconnect)', err));
    }
    this.removeAllListeners();
  }

  #scheduleRun(delayMs: number): void {
    if (this.#closed || this.#retiring) return;
    this.#retry.set(delayMs, () => void this.#run());
  }

  async #media(): Promise<MediaStream> {
    const live = this.#stream?.getTracks().every((t) => t.readyState === 'live') ?? false;
    if (this.#stream && live) return this.#stream;
    for (const track of this.#stream?.getTracks() ?? []) track.stop();
    this.#stream = null;
    const stream = await this.#acquireMedia();
    if (this.#closed) {
      for (const track of stream.getTracks()) track.stop();
      throw new Error('closed');
    }
    this.#stream = stream;
    this.emit('stream', stream);
    return stream;
  }

  async #run(): Promise<void> {
    if (this.#closed || this.#attempt) return;
    const a = new SendAttempt();
    this.#attempt = a;
    this.#setState(this.#recovering ? 'reconnecting' : 'connecting');
    const sig = this.#signaling;
    const cameraId = this.cameraId;
    try {
      const stream = await this.#media();
      if (a.closed) return;
      if (!sig.connected) {
        // The 'connected' event starts us again.
        this.#attempt = null;
        return;
      }
      const opened = await openTransport(sig, cameraId, 'camera', a, (state) => this.#onTransportState(a, state));
      if (!opened) return;
      const { device, transport } = opened;
      transport.on('produce', ({ kind, rtpParameters }, callback, errback) => {
        sig.request('produce', { cameraId, transportId: transport.id, kind, rtpParameters }).then(callback, errback);
      });
      a.expectConnection((err) => this.#fail(a, err));

      const video = stream.getVideoTracks()[0];
      if (video && device.canProduce('video')) {
        const codec = chooseVideoCodec(device.sendRtpCapabilities.codecs ?? []);
        const producer = await transport.produce({
          track: video,
          codec,
          encodings: simulcastEncodings(video),
          codecOptions: { videoGoogleStartBitrate: 500 },
          stopTracks: false,
          appData: {},
        });
        this.#adopt(a, producer);
        this.#videoCodec = producer.rtpParameters.codecs[0]?.mimeType;
      }
      const audio = stream.getAudioTracks()[0];
      if (audio && device.canProduce('audio') && !a.closed) {
        const producer = await transport.produce({
          track: audio,
          codecOptions: { opusStereo: false, opusDtx: true, opusFec: true, opusMaxAverageBitrate: 32_000 },
          stopTracks: false,
          appData: {},
        });
        this.#adopt(a, producer);
      }
      if (a.producers.size === 0 && !a.closed) throw new Error('this device can send neither video nor audio to the server');
      this.#updateState(a);
    } catch (err) {
      this.#fail(a, err);
    }
  }

  #adopt(a: SendAttempt, producer: types.Producer): void {
    if (a.closed) {
      producer.close();
      return;
    }
    a.producers.set(producer.id, producer);
    producer.on('transportclose', () => a.producers.delete(producer.id));
    producer.on('trackended', () => this.#fail(a, new Error(`the ${producer.kind} track ended`)));
  }

  #onTransportState(a: SendAttempt, state: types.ConnectionState): void {
    if (a !== this.#attempt) return;
    a.onTransportState(state, {
      connected: () => this.#updateState(a),
      fail: (err) => this.#fail(a, err),
    });
  }

  #updateState(a: SendAttempt): void {
    if (a !== this.#attempt || a.closed) return;
    if (a.transport?.connectionState === 'connected' && a.producers.size > 0) {
      a.watchSilence((err) => this.#fail(a, err));
      this.#recovering = false;
      this.#setState('live');
      if (!this.#stable.pending) this.#stable.set(STABLE_MS, () => this.#backoff.reset());
    }
  }

  #fail(a: SendAttempt, err: unknown): void {
    if (a !== this.#attempt || this.#closed) return;
    const code = err instanceof SignalingError ? err.code : undefined;
    if (code && isAuthFailure(code)) {
      // The signaling connection fetches a fresh token and reconnects; 'connected' restarts us.
      this.#dispose();
      this.#recovering = true;
      this.#setState('reconnecting');
      return;
    }
    if (code === 'node_draining') {
      // This socket's node is leaving: a new connection through the load balancer lands elsewhere.
      this.#dispose();
      this.#recovering = true;
      this.#setState('reconnecting');
      this.#signaling.reconnectNow();
      return;
    }
    if (code === 'forbidden' || code === 'camera_not_found' || isUnsupportedBrowser(err)) {
      this.#stop('error', err);
      return;
    }
    if (err instanceof DOMException && FATAL_MEDIA_ERRORS.has(err.name)) {
      this.#stop('error', err);
      return;
    }
    console.warn(`camera ${this.cameraId}: ${err instanceof Error ? err.message : String(err)}; retrying`);
    this.#dispose();
    this.#recovering = true;
    this.#setState('reconnecting');
    if (code !== 'disconnected' || this.#signaling.connected) this.#scheduleRun(this.#backoff.next());
  }

  #stop(state: 'stopped' | 'error', detail: unknown): void {
    this.#retry.clear();
    this.#dispose();
    this.#setState(state, detail);
  }

  #dispose(): void {
    const a = this.#attempt;
    if (!a) return;
    this.#attempt = null;
    this.#stable.clear();
    a.close();
  }

  #setState(state: PublisherState, detail?: unknown): void {
    if (state === this.#state && detail === undefined) return;
    this.#state = state;
    this.emit('state', state, detail);
  }
}
