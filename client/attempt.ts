// One attempt at a camera's media (a viewer tile's join, or the camera page's publish): its
// transport, the timer that gives up on a transport that does not connect, and the check that
// notices a dead node. Closed as a whole when anything goes wrong; the owner then starts a new
// attempt after a short backoff — through the load balancer, to whichever node answers.
import type { types } from 'mediasoup-client';
import type { JoinReply } from '../signaling/protocol.ts';
import { Timer } from './backoff.ts';
import { loadDevice, receivedBytes, toRtcIceServers } from './media.ts';
import type { Signaling } from './signaling.ts';

/** How long a transport may take to connect. */
const CONNECT_TIMEOUT_MS = 15_000;
/**
 * Nothing received on a transport that carries media for this long: its node is gone. mediasoup
 * sends RTCP on such a transport every 1–1.5 s (receiver reports to a camera, sender reports to a
 * viewer, even while the camera itself is stalled), and the browser's own ICE takes several
 * seconds more to call the transport 'disconnected'.
 */
const SILENCE_MS = 2_000;
/** How often the silence check reads the transport's stats. */
const SILENCE_CHECK_MS = 500;

export interface ConnectionHandlers {
  /** The transport is connected (again). */
  connected(): void;
  /** Give up on this attempt: the node is gone, or the path to it. */
  fail(error: Error): void;
}

export abstract class MediaAttempt {
  transport: types.Transport | undefined;
  readonly #connectTimeout = new Timer();
  readonly #silenceCheck = new Timer();
  #watching = false;
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  /** Fails the attempt if its transport has not connected in time (started once). */
  expectConnection(fail: (error: Error) => void): void {
    if (this.#connectTimeout.pending || this.transport?.connectionState === 'connected') return;
    this.#connectTimeout.set(CONNECT_TIMEOUT_MS, () => fail(new Error('the media connection did not come up')));
  }

  /** Nothing to receive any more (the camera went offline): an idle transport may stay unconnected. */
  stopExpectingConnection(): void {
    this.#connectTimeout.clear();
  }

  onTransportState(state: types.ConnectionState, handlers: ConnectionHandlers): void {
    switch (state) {
      case 'connected':
        this.#connectTimeout.clear();
        handlers.connected();
        break;
      case 'disconnected':
        // Not waiting for ICE to come back: the browser has already gone seconds without an
        // answer, and a new attempt through the load balancer is quicker than waiting for 'failed'.
        handlers.fail(new Error('the media connection was lost'));
        break;
      case 'failed':
        handlers.fail(new Error('the media connection failed'));
        break;
      default:
        break;
    }
  }

  /**
   * While media flows (the camera publishes, the viewer consumes), fails the attempt when the
   * transport receives nothing for SILENCE_MS. It arms only once something has arrived, so a new
   * attempt at a camera whose own stream is stuck does not fail over and over. Idempotent.
   */
  watchSilence(fail: (error: Error) => void): void {
    if (this.#watching || this.#closed) return;
    this.#watching = true;
    let received: number | undefined;
    let armed = false;
    let lastChangeAt = performance.now();
    let lastCheckAt = lastChangeAt;
    const check = async () => {
      const transport = this.transport;
      if (!this.#watching || !transport || transport.closed) return;
      const bytes = receivedBytes(await transport.getStats().catch(() => undefined));
      if (!this.#watching) return;
      const now = performance.now();
      // A throttled or busy page samples late: that is not the node's silence.
      if (now - lastCheckAt > 3 * SILENCE_CHECK_MS) lastChangeAt = now;
      lastCheckAt = now;
      if (bytes !== undefined && bytes !== received) {
        armed = received !== undefined;
        received = bytes;
        lastChangeAt = now;
      } else if (armed && now - lastChangeAt >= SILENCE_MS) {
        this.stopWatchingSilence();
        fail(new Error(`nothing came from the media server for ${SILENCE_MS / 1000} s`));
        return;
      }
      this.#silenceCheck.set(SILENCE_CHECK_MS, () => void check());
    };
    void check();
  }

  /** No media to expect (the camera went offline): an idle transport receives nothing. */
  stopWatchingSilence(): void {
    this.#watching = false;
    this.#silenceCheck.clear();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#connectTimeout.clear();
    this.stopWatchingSilence();
    this.transport?.close();
    this.closeMedia();
  }

  /** Releases what the subclass holds besides the transport. */
  protected abstract closeMedia(): void;
}

export interface OpenedTransport {
  join: JoinReply;
  device: types.Device;
  transport: types.Transport;
}

/**
 * Joins the camera's room and opens this attempt's transport (send for the camera, recv for a
 * viewer), wired to connect through signaling and to report its state. Undefined when the attempt
 * was closed meanwhile.
 */
export async function openTransport(
  sig: Signaling,
  cameraId: string,
  role: 'camera' | 'viewer',
  a: MediaAttempt,
  onState: (state: types.ConnectionState) => void,
): Promise<OpenedTransport | undefined> {
  const join = await sig.request('join', { cameraId, role });
  if (a.closed) return undefined;
  const device = await loadDevice(join.routerRtpCapabilities);
  if (a.closed) return undefined;
  const direction = role === 'camera' ? 'send' : 'recv';
  const params = await sig.request('createTransport', { cameraId, direction });
  if (a.closed) return undefined;
  const options = {
    id: params.id,
    iceParameters: params.iceParameters as types.IceParameters,
    iceCandidates: params.iceCandidates as types.IceCandidate[],
    dtlsParameters: params.dtlsParameters as types.DtlsParameters,
    iceServers: toRtcIceServers(join.iceServers),
  };
  const transport = direction === 'send' ? device.createSendTransport(options) : device.createRecvTransport(options);
  a.transport = transport;
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    sig.request('connectTransport', { cameraId, transportId: transport.id, dtlsParameters }).then(() => callback(), errback);
  });
  transport.on('connectionstatechange', onState);
  return { join, device, transport };
}
