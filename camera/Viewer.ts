// A headless WHEP viewer: receives a camera's H.264 (+ Opus) through the SFU, reassembles access
// units and hashes them the same way the Camera does, so tests can compare the two lists.
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { MediaStreamTrack, type PeerConfig, type RTCPeerConnection, type RTCRtpReceiver, type RtpPacket } from 'werift';
import { CameraError, type WhipError } from './errors.ts';
import { hashSample, sampleNalus } from './h264.ts';
import { connected, createPeer, fromWerift, gatheringComplete, nextSessionState, type IceServer, type SessionState } from './peer.ts';
import { H264FrameDepacketizer, seqAdd, seqDiff } from '../recorder/rtp/index.ts';
import { findStamp, type FrameStamp } from './stamp.ts';
import { endSession, postOffer, type WhipSession } from './whip.ts';

export interface ViewerOptions {
  /** WHEP endpoint, e.g. `http://127.0.0.1:8080/whep/<cameraId>`. */
  whepUrl: string;
  /** Sent as `Authorization: Bearer <token>` on POST and DELETE. */
  token: string;
  /** Ask for the audio track too. Default true. */
  audio?: boolean;
  iceServers?: IceServer[];
  /** Limit for ICE gathering, the POST and ICE/DTLS connection, each. Default 10000. */
  connectTimeoutMs?: number;
  /** How many recent frame hashes `frames` keeps. Default 10000. */
  maxRecordedFrames?: number;
  /** Extra werift RTCPeerConnection settings, applied last. */
  peerConfig?: Partial<PeerConfig>;
}

export interface ViewerStats {
  /** Whole access units received (all of them, not only those still in `frames`). */
  framesReceived: number;
  keyframesReceived: number;
  videoPacketsReceived: number;
  /** RTP payload bytes (headers excluded). */
  videoBytesReceived: number;
  /** Sequence numbers skipped in the video stream. */
  videoPacketsLost: number;
  /**
   * Access units dropped since the first whole one (before it the viewer joined mid-stream and
   * waits for a keyframe), exactly as the recorder would drop them: incomplete (a loss, a missing
   * marker), inconsistent or malformed (not RFC 6184 mode 1), or a P-frame after a loss before the
   * next keyframe.
   */
  framesDropped: number;
  audioPacketsReceived: number;
  audioBytesReceived: number;
  /** Picture loss indications sent to ask for a keyframe. */
  pliSent: number;
}

export interface ReceivedFrame {
  /** Canonical hash, as in `hashAccessUnit`. */
  hash: string;
  keyframe: boolean;
  /** RTP timestamp (90 kHz, the SFU's). */
  timestamp: number;
  /** The picture's NAL units without start codes, parameter sets, AUD and filler: what a recording's sample holds. */
  nalus: Uint8Array[];
  /** Arrival, ms since the epoch with sub-ms precision (same clock as `stamp.sentAt`). */
  receivedAt: number;
  /** The camera's FrameStamp if it added one: `receivedAt - stamp.sentAt` is the latency. */
  stamp: FrameStamp | undefined;
}

export type ViewerState = SessionState;

export interface ViewerClosedInfo {
  reason: string;
  deleteError?: WhipError;
}

export interface ViewerEvents {
  frame: [frame: ReceivedFrame];
  connected: [];
  disconnected: [];
  closed: [info: ViewerClosedInfo];
}

const DELETE_TIMEOUT_MS = 3000;
/** Until the first keyframe arrives, a PLI goes out this often (the first one may cross the camera's own keyframe). */
const PLI_RETRY_MS = 1000;
/** After a dropped frame, at most one PLI per this interval. */
const PLI_MIN_INTERVAL_MS = 500;

/** Wall-clock ms since the epoch with sub-ms precision, the clock of FrameStamp.sentAt. */
const nowMs = () => performance.timeOrigin + performance.now();

export class Viewer extends EventEmitter<ViewerEvents> {
  readonly #pc: RTCPeerConnection;
  readonly #token: string;
  #location: string | undefined; // set once the POST answered
  #events: WhipSession['events'];
  readonly #maxFrames: number;
  // The recorder's: a frame a test sees here is a sample as a recording would hold it.
  readonly #depacketizer = new H264FrameDepacketizer();
  #expectedSeq: number | undefined;
  /** The depacketizer's drops before the first frame (joining mid-stream), not counted as drops. */
  #droppedJoining = 0;
  readonly #frames: string[] = [];
  readonly #stats: ViewerStats = {
    framesReceived: 0, keyframesReceived: 0, videoPacketsReceived: 0, videoBytesReceived: 0, videoPacketsLost: 0,
    framesDropped: 0, audioPacketsReceived: 0, audioBytesReceived: 0, pliSent: 0,
  };
  readonly #createdAt: number;
  #firstFrameAt: number | undefined;
  #firstKeyframeAt: number | undefined;
  #videoReceiver: RTCRtpReceiver | undefined;
  #audioTrack: MediaStreamTrack | undefined;
  #videoSsrc: number | undefined;
  #lastPliAt = -Infinity;
  #pliTimer: NodeJS.Timeout | undefined;
  #state: ViewerState = 'connected';
  #closing: Promise<void> | undefined;
  readonly #waiters = new Set<{ n: number; resolve: () => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();

  /**
   * Offers recvonly video (+ audio) over WHEP and waits until ICE/DTLS is connected. Frames count
   * from then on. Failures undo everything and throw WhipError or CameraError (connect_*).
   */
  static async create(options: ViewerOptions): Promise<Viewer> {
    if (typeof options?.whepUrl !== 'string' || !URL.canParse(options.whepUrl)) throw new TypeError('whepUrl must be an absolute URL');
    if (typeof options.token !== 'string') throw new TypeError('token must be a string');
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    const maxFrames = options.maxRecordedFrames ?? 10_000;
    if (!Number.isInteger(maxFrames) || maxFrames < 0) throw new TypeError('maxRecordedFrames must be a non-negative integer');
    const createdAt = nowMs();

    const pc = createPeer({ url: options.whepUrl, iceServers: options.iceServers, peerConfig: options.peerConfig });
    let location: string | undefined;
    const viewer = new Viewer(pc, options.token, maxFrames, createdAt);
    try {
      const video = pc.addTransceiver('video', { direction: 'recvonly' });
      const audio = options.audio === false ? undefined : pc.addTransceiver('audio', { direction: 'recvonly' });
      // Subscribe before the answer is applied: werift may announce the remote track right then.
      video.onTrack.subscribe((track) => viewer.#onVideoTrack(track, video.receiver));
      audio?.onTrack.subscribe((track) => viewer.#onAudioTrack(track));
      await pc.setLocalDescription(await pc.createOffer());
      await gatheringComplete(pc, timeoutMs);
      const session = await postOffer(options.whepUrl, options.token, pc.localDescription!.sdp, timeoutMs);
      location = session.location;
      await pc.setRemoteDescription({ type: 'answer', sdp: session.answer });
      await connected(pc, timeoutMs);
      viewer.#events = session.events;
      viewer.#start(location);
      return viewer;
    } catch (err) {
      viewer.#state = 'closed';
      clearInterval(viewer.#pliTimer);
      await endSession(pc, location, options.token, DELETE_TIMEOUT_MS); // a DELETE failure matters less than err
      throw err;
    }
  }

  private constructor(pc: RTCPeerConnection, token: string, maxFrames: number, createdAt: number) {
    super();
    this.#pc = pc;
    this.#token = token;
    this.#maxFrames = maxFrames;
    this.#createdAt = createdAt;
  }

  #start(location: string): void {
    this.#location = location;
    this.#pc.connectionStateChange.subscribe((state) => this.#onConnectionState(state));
  }

  /** Absolute URL of the WHEP session (from the Location header). */
  get location(): string {
    return this.#location ?? '';
  }

  /** The session's server-sent events (WHEP extension), when the server offers them. */
  get events(): WhipSession['events'] {
    return this.#events;
  }

  get state(): ViewerState {
    return this.#state;
  }

  /**
   * SHA-256 of each whole access unit received, oldest first, at most `maxRecordedFrames`.
   * Same form as `Camera.frames`, so it should be an in-order subsequence of it.
   */
  get frames(): readonly string[] {
    return this.#frames;
  }

  get stats(): Readonly<ViewerStats> {
    return { ...this.#stats };
  }

  /** When create() was called, ms since the epoch (sub-ms precision). */
  get createdAt(): number {
    return this.#createdAt;
  }

  /** When the first whole access unit arrived, ms since the epoch; undefined before. */
  get firstFrameAt(): number | undefined {
    return this.#firstFrameAt;
  }

  get firstKeyframeAt(): number | undefined {
    return this.#firstKeyframeAt;
  }

  /**
   * Resolves once `n` frames in total have been received; rejects with CameraError `timeout`
   * (message includes the stats) or `closed`.
   */
  waitForFrames(n: number, timeoutMs = 10_000): Promise<void> {
    if (this.#stats.framesReceived >= n) return Promise.resolve();
    if (this.#state === 'closed') return Promise.reject(new CameraError('closed', 'viewer is closed'));
    return new Promise((resolve, reject) => {
      const waiter = {
        n,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(new CameraError('timeout', `${this.#stats.framesReceived}/${n} frames after ${timeoutMs} ms: ${JSON.stringify(this.#stats)}`));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  /** Asks the SFU for a keyframe now (rate-limited to one per 500 ms). */
  requestKeyframe(): void {
    const now = Date.now();
    if (now - this.#lastPliAt < PLI_MIN_INTERVAL_MS) return;
    if (!this.#videoReceiver || this.#videoSsrc === undefined || this.#state === 'closed') return;
    this.#lastPliAt = now;
    this.#stats.pliSent += 1;
    void this.#videoReceiver.sendRtcpPLI(this.#videoSsrc); // werift catches and logs send failures itself
  }

  /** DELETEs the WHEP session and closes the peer connection. Idempotent; never throws. */
  close(reason = 'closed'): Promise<void> {
    this.#closing ??= this.#close(reason);
    return this.#closing;
  }

  async #close(reason: string): Promise<void> {
    this.#state = 'closed';
    clearInterval(this.#pliTimer);
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.reject(new CameraError('closed', `viewer closed (${reason}) after ${this.#stats.framesReceived}/${w.n} frames`));
    }
    this.#waiters.clear();
    const deleteError = await endSession(this.#pc, this.#location, this.#token, DELETE_TIMEOUT_MS);
    this.emit('closed', deleteError ? { reason, deleteError } : { reason });
  }

  #onConnectionState(state: string): void {
    const next = nextSessionState(this.#state, state);
    if (next === 'failed') {
      void this.close('connection_failed');
    } else if (next) {
      this.#state = next;
      this.emit(next);
    }
  }

  #onVideoTrack(track: MediaStreamTrack, receiver: RTCRtpReceiver): void {
    if (this.#videoReceiver) return; // one video stream per session; werift may announce it again on renegotiation
    this.#videoReceiver = receiver;
    track.onReceiveRtp.subscribe((rtp) => this.#onVideoRtp(rtp));
  }

  #onAudioTrack(track: MediaStreamTrack): void {
    if (this.#audioTrack) return;
    this.#audioTrack = track;
    track.onReceiveRtp.subscribe((rtp) => {
      this.#stats.audioPacketsReceived += 1;
      this.#stats.audioBytesReceived += rtp.payload.length;
    });
  }

  #onVideoRtp(rtp: RtpPacket): void {
    if (this.#state === 'closed') return;
    this.#stats.videoPacketsReceived += 1;
    this.#stats.videoBytesReceived += rtp.payload.length;
    if (this.#videoSsrc === undefined) {
      // The SFU starts forwarding when the camera's next keyframe comes; asking makes that now.
      this.#videoSsrc = rtp.header.ssrc;
      this.requestKeyframe();
      this.#pliTimer = setInterval(() => {
        if (this.#firstKeyframeAt === undefined) this.requestKeyframe();
        else clearInterval(this.#pliTimer);
      }, PLI_RETRY_MS);
    }
    // No reordering (loopback, behind an SFU): a packet behind the expected one is late, ignored.
    const packet = fromWerift(rtp);
    let lost = 0;
    if (this.#expectedSeq !== undefined) {
      lost = seqDiff(this.#expectedSeq, packet.sequenceNumber);
      if (lost < 0) return;
    }
    this.#expectedSeq = seqAdd(packet.sequenceNumber, 1);
    this.#stats.videoPacketsLost += lost;
    const before = this.#depacketizer.stats.droppedFrames;
    const frames = this.#depacketizer.push({ packet, lost });
    const dropped = this.#depacketizer.stats.droppedFrames;
    if (this.#firstFrameAt === undefined && frames.length === 0) this.#droppedJoining = dropped;
    this.#stats.framesDropped = dropped - this.#droppedJoining;
    if (dropped > before) this.requestKeyframe();
    for (const frame of frames) if (frame.kind === 'video') this.#onFrame(frame.data, frame.keyframe, frame.timestamp);
  }

  #onFrame(sample: Uint8Array, keyframe: boolean, timestamp: number): void {
    const nalus = sampleNalus(sample);
    const receivedAt = nowMs();
    const hash = hashSample(sample);
    this.#stats.framesReceived += 1;
    this.#firstFrameAt ??= receivedAt;
    if (keyframe) {
      this.#stats.keyframesReceived += 1;
      this.#firstKeyframeAt ??= receivedAt;
    }
    if (this.#maxFrames > 0) {
      if (this.#frames.length >= this.#maxFrames) this.#frames.shift();
      this.#frames.push(hash);
    }
    this.emit('frame', { hash, keyframe, timestamp, nalus, receivedAt, stamp: findStamp(nalus) });
    for (const w of this.#waiters) {
      if (this.#stats.framesReceived >= w.n) {
        clearTimeout(w.timer);
        this.#waiters.delete(w);
        w.resolve();
      }
    }
  }
}
