// One attempt at a camera's media (a viewer tile's join, or the camera page's publish): its
// transport and the two timers that decide when to give up on it. Closed as a whole when
// anything goes wrong; the owner then starts a new attempt after a backoff.
import type { types } from 'mediasoup-client';
import type { JoinReply } from '../signaling/protocol.ts';
import { Timer } from './backoff.ts';
import { loadDevice, toRtcIceServers } from './media.ts';
import type { Signaling } from './signaling.ts';

/** How long a transport may stay 'disconnected' (ICE may come back by itself) before a retry. */
const DISCONNECTED_GRACE_MS = 4_000;
/** How long a transport may take to connect. */
const CONNECT_TIMEOUT_MS = 15_000;

export interface ConnectionHandlers {
  /** The transport is connected (again). */
  connected(): void;
  /** Media stopped; the attempt fails unless ICE recovers within the grace time. */
  disconnected(): void;
  /** Give up on this attempt. */
  fail(error: Error): void;
}

export abstract class MediaAttempt {
  transport: types.Transport | undefined;
  readonly #disconnected = new Timer();
  readonly #connectTimeout = new Timer();
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
        this.#disconnected.clear();
        this.#connectTimeout.clear();
        handlers.connected();
        break;
      case 'disconnected':
        handlers.disconnected();
        this.#disconnected.set(DISCONNECTED_GRACE_MS, () => handlers.fail(new Error('the media connection was lost')));
        break;
      case 'failed':
        handlers.fail(new Error('the media connection failed'));
        break;
      default:
        break;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#disconnected.clear();
    this.#connectTimeout.clear();
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
