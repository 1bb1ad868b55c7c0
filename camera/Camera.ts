// A synthetic camera publishing H.264 (+ Opus) over WHIP: one WHIP session, one werift peer
// connection, one looping fixture source. Records the hash of every access unit it sends so a
// viewer's frames can be checked bit for bit. A session does not try to ride out a lost server:
// it closes itself the moment the server falls silent, and whoever runs it (Publisher, for
// `mimamori camera`) publishes again.
import { randomBytes, randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { MediaStreamTrack, RtcpPayloadSpecificFeedback, type PeerConfig, type RTCPeerConnection, type RTCRtpSender } from 'werift';
import type { WhipError } from './errors.ts';
import { hashAccessUnit } from './h264.ts';
import { connected, createPeer, gatheringComplete, nextSessionState, toWerift, type IceServer, type SessionState } from './peer.ts';
import { H264Packetizer, OpusPacketizer, type RtpPacketData } from './rtp.ts';
import { stampAccessUnit } from './stamp.ts';
import { SyntheticSource, resolveSourceOptions, type AudioStep, type SourceOptions, type VideoStep } from './source.ts';
import { endSession, postOffer } from './whip.ts';

export interface CameraOptions extends SourceOptions {
  /** WHIP endpoint, e.g. `http://127.0.0.1:8080/whip/<cameraId>`. */
  whipUrl: string;
  /** Sent as `Authorization: Bearer <token>` on POST and DELETE. */
  token: string;
  /** STUN/TURN servers; none by default (host candidates only). */
  iceServers?: IceServer[];
  /** Limit for ICE gathering, the POST and ICE/DTLS connection, each. Default 10000. */
  connectTimeoutMs?: number;
  /**
   * Close with reason 'server_silent' when nothing (RTCP, RTP) has come from the server for this
   * long. Default 2000: mediasoup sends receiver reports every 1–1.5 s, and werift itself would
   * only notice a dead server when ICE consent expires, 30 s later. 0 turns the check off.
   */
  silenceTimeoutMs?: number;
  /** How many recent frame hashes `frames` keeps. Default 10000. */
  maxRecordedFrames?: number;
  /** Extra werift RTCPeerConnection settings, applied last (e.g. `icePortRange`). */
  peerConfig?: Partial<PeerConfig>;
  /**
   * Add a FrameStamp SEI (this camera's `stampId`, frame number, send time) before each picture's
   * slices. Default true: every access unit, hence every hash, is then unique across loops and
   * cameras, and viewers can measure latency. The fixture's own NAL units are never altered.
   */
  stampFrames?: boolean;
  /**
   * How much faster than real time the camera's media clock runs: 0.01 stamps 1.01 s of RTP time
   * per second sent (a camera with a bad crystal; tests of the recorder's drift guard). Default 0.
   */
  clockError?: number;
}

export interface CameraStats {
  /** Video access units sent (all of them, not only those still in `frames`). */
  framesSent: number;
  keyframesSent: number;
  videoPacketsSent: number;
  /** RTP payload bytes (headers excluded). */
  videoBytesSent: number;
  audioPacketsSent: number;
  audioBytesSent: number;
  /** PLI/FIR received from the SFU. */
  keyframeRequests: number;
  /** Packets werift failed to send (socket errors); the last error is in `lastSendError`. */
  sendErrors: number;
  /** SRTP/SRTCP packets received from the server (receiver reports, mostly): what the silence check watches. */
  packetsReceived: number;
}

export type CameraState = Exclude<SessionState, 'disconnected'>;

/** Why a camera closed by itself: the server is gone or unreachable (publish again). */
export type CameraLostReason =
  /** Nothing came from the server for `silenceTimeoutMs`. */
  | 'server_silent'
  /** ICE reported the connection disconnected (not waiting to see whether it fails). */
  | 'connection_lost'
  /** ICE/DTLS failed or was closed. */
  | 'connection_failed';

export interface CameraClosedInfo {
  /** 'closed' (close() called), a CameraLostReason, or what the caller passed to close(). */
  reason: string;
  /** Set when the DELETE of the WHIP session failed (the server will time the session out). */
  deleteError?: WhipError;
}

export interface CameraEvents {
  /** The SFU asked for a keyframe (PLI or FIR). */
  keyframeRequest: [];
  /** `seconds` of media have been sent. The camera stays connected until close(). */
  ended: [];
  closed: [info: CameraClosedInfo];
}

const DELETE_TIMEOUT_MS = 3000;
/** How often the silence check reads the inbound packet counter. */
const SILENCE_CHECK_MS = 250;
const LOST_REASONS = new Set<string>(['server_silent', 'connection_lost', 'connection_failed'] satisfies CameraLostReason[]);
/** RFC 5104 4.3.1: FIR is payload-specific feedback with FMT 4. */
const FIR_FMT = 4;

export class Camera extends EventEmitter<CameraEvents> {
  readonly #pc: RTCPeerConnection;
  readonly #source: SyntheticSource;
  readonly #token: string;
  readonly #location: string;
  readonly #epoch: number | undefined;
  readonly #maxFrames: number;
  readonly #videoSender: RTCRtpSender;
  readonly #audioSender: RTCRtpSender | undefined;
  readonly #video: H264Packetizer;
  readonly #audio: OpusPacketizer | undefined;
  readonly #frames: string[] = [];
  readonly #stampId: string | undefined;
  readonly #stats: Omit<CameraStats, 'packetsReceived'> = {
    framesSent: 0, keyframesSent: 0, videoPacketsSent: 0, videoBytesSent: 0,
    audioPacketsSent: 0, audioBytesSent: 0, keyframeRequests: 0, sendErrors: 0,
  };
  #lastSendError: Error | undefined;
  #state: CameraState = 'connected';
  #closing: Promise<void> | undefined;
  #silenceCheck: NodeJS.Timeout | undefined;
  #clockRate = 1;

  /**
   * Makes the fixtures if needed, offers over WHIP, waits until ICE/DTLS is connected, then starts
   * streaming. On any failure everything started is undone (the WHIP session deleted) before the
   * error is thrown: WhipError for HTTP, CameraError connect_timeout / connect_failed for media,
   * FixtureError when ffmpeg is missing.
   */
  static async create(options: CameraOptions): Promise<Camera> {
    if (typeof options?.whipUrl !== 'string' || !URL.canParse(options.whipUrl)) throw new TypeError('whipUrl must be an absolute URL');
    if (typeof options.token !== 'string') throw new TypeError('token must be a string');
    const src = resolveSourceOptions(options);
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    const maxFrames = options.maxRecordedFrames ?? 10_000;
    if (!Number.isInteger(maxFrames) || maxFrames < 0) throw new TypeError('maxRecordedFrames must be a non-negative integer');
    const silenceMs = options.silenceTimeoutMs ?? 2000;
    if (!(silenceMs >= 0)) throw new TypeError('silenceTimeoutMs must be ≥ 0 (0 = no silence check)');

    const source = await SyntheticSource.create(src);
    const pc = createPeer({ url: options.whipUrl, profile: src.profile, iceServers: options.iceServers, peerConfig: options.peerConfig });
    let location: string | undefined;
    try {
      const video = pc.addTransceiver(new MediaStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
      const audio = src.audio ? pc.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendonly' }) : undefined;
      await pc.setLocalDescription(await pc.createOffer());
      await gatheringComplete(pc, timeoutMs);
      const session = await postOffer(options.whipUrl, options.token, pc.localDescription!.sdp, timeoutMs);
      location = session.location;
      await pc.setRemoteDescription({ type: 'answer', sdp: session.answer });
      await connected(pc, timeoutMs);
      const camera = new Camera(pc, source, options.token, location, maxFrames, video.sender, audio?.sender, options.stampFrames ?? true, silenceMs, session.epoch);
      camera.#clockRate = 1 + (options.clockError ?? 0);
      return camera;
    } catch (err) {
      source.close();
      await endSession(pc, location, options.token, DELETE_TIMEOUT_MS); // a DELETE failure matters less than err
      throw err;
    }
  }

  private constructor(
    pc: RTCPeerConnection,
    source: SyntheticSource,
    token: string,
    location: string,
    maxFrames: number,
    videoSender: RTCRtpSender,
    audioSender: RTCRtpSender | undefined,
    stampFrames: boolean,
    silenceMs: number,
    epoch: number | undefined,
  ) {
    super();
    this.#epoch = epoch;
    this.#stampId = stampFrames ? randomBytes(8).toString('hex') : undefined;
    this.#pc = pc;
    this.#source = source;
    this.#token = token;
    this.#location = location;
    this.#maxFrames = maxFrames;
    this.#videoSender = videoSender;
    this.#audioSender = audioSender;
    // werift rewrites SSRC and payload type to the negotiated ones; ours only matter in tests.
    this.#video = new H264Packetizer({
      payloadType: videoSender.codec?.payloadType ?? 96,
      ssrc: videoSender.ssrc,
      sequenceNumber: randomInt(0x10000),
      timestampBase: randomInt(0x1_0000_0000 - 1),
    });
    this.#audio = audioSender
      ? new OpusPacketizer({
          payloadType: audioSender.codec?.payloadType ?? 111,
          ssrc: audioSender.ssrc,
          sequenceNumber: randomInt(0x10000),
          timestampBase: randomInt(0x1_0000_0000 - 1),
        })
      : undefined;

    videoSender.onPictureLossIndication.subscribe(() => this.#onKeyframeRequest());
    // werift parses FIR (payload-specific feedback, FMT 4) but only raises an event for PLI.
    videoSender.onRtcp.subscribe((rtcp) => {
      if (rtcp.type === RtcpPayloadSpecificFeedback.type && rtcp.feedback.count === FIR_FMT) this.#onKeyframeRequest();
    });
    pc.connectionStateChange.subscribe((state) => this.#onConnectionState(state));
    source.on('video', (step) => this.#sendVideo(step));
    source.on('audio', (step) => this.#sendAudio(step));
    source.on('ended', () => this.emit('ended'));
    source.start();
    if (silenceMs > 0) this.#watchSilence(silenceMs);
  }

  /** The camera's epoch with this session (Mimamori answers it): what a move poll asks about. */
  get epoch(): number | undefined {
    return this.#epoch;
  }

  /** Absolute URL of the WHIP session (from the Location header). */
  get location(): string {
    return this.#location;
  }

  get state(): CameraState {
    return this.#state;
  }

  /**
   * SHA-256 of each video access unit sent, oldest first, at most `maxRecordedFrames` (the oldest
   * are dropped). See `hashAccessUnit` for the exact form. A live view: it grows while streaming.
   */
  get frames(): readonly string[] {
    return this.#frames;
  }

  get stats(): Readonly<CameraStats> {
    return { ...this.#stats, packetsReceived: this.#videoSender.dtlsTransport.packetsReceived };
  }

  get lastSendError(): Error | undefined {
    return this.#lastSendError;
  }

  /** The `source` in this camera's FrameStamps (16 hex digits); undefined with `stampFrames: false`. */
  get stampId(): string | undefined {
    return this.#stampId;
  }

  /** RTP SSRC of the video stream as sent (werift's, not the packetizer's). */
  get videoSsrc(): number {
    return this.#videoSender.ssrc;
  }

  /**
   * Stops streaming, DELETEs the WHIP session, closes the peer connection. Idempotent; never throws.
   * After a CameraLostReason there is no DELETE: the server is gone or unreachable, so it would
   * only hold up the next publish, and that publish replaces this session on a server that lives.
   */
  close(reason = 'closed'): Promise<void> {
    this.#closing ??= this.#close(reason);
    return this.#closing;
  }

  async #close(reason: string): Promise<void> {
    this.#state = 'closed';
    clearInterval(this.#silenceCheck);
    this.#source.close();
    const deleteError = await endSession(this.#pc, LOST_REASONS.has(reason) ? undefined : this.#location, this.#token, DELETE_TIMEOUT_MS);
    this.emit('closed', deleteError ? { reason, deleteError } : { reason });
  }

  #onConnectionState(state: string): void {
    // werift 0.25 reports 'disconnected' only on the way to failing (consent expiry takes 30 s);
    // either way the server is not answering, so publishing again beats waiting.
    const next = nextSessionState(this.#state, state);
    if (next === 'failed') void this.close('connection_failed' satisfies CameraLostReason);
    else if (next === 'disconnected') void this.close('connection_lost' satisfies CameraLostReason);
  }

  /**
   * Closes the camera when the server's SRTP/SRTCP packets (at least a receiver report every
   * 1–1.5 s from mediasoup) stop for `silenceMs`. A pause of our own event loop is not taken for
   * the server's silence: the packets are then still waiting in the socket.
   */
  #watchSilence(silenceMs: number): void {
    const transport = this.#videoSender.dtlsTransport;
    let packets = transport.packetsReceived;
    let lastPacketAt = performance.now();
    let lastCheckAt = lastPacketAt;
    this.#silenceCheck = setInterval(() => {
      const now = performance.now();
      if (now - lastCheckAt > 4 * SILENCE_CHECK_MS) lastPacketAt = now;
      lastCheckAt = now;
      if (transport.packetsReceived !== packets) {
        packets = transport.packetsReceived;
        lastPacketAt = now;
      } else if (now - lastPacketAt >= silenceMs) {
        void this.close('server_silent' satisfies CameraLostReason);
      }
    }, SILENCE_CHECK_MS);
  }

  #onKeyframeRequest(): void {
    this.#stats.keyframeRequests += 1;
    this.#source.requestKeyframe();
    this.emit('keyframeRequest');
  }

  #sendVideo({ unit, ticks, frame }: VideoStep): void {
    const nalus = this.#stampId
      ? stampAccessUnit(unit.nalus, { source: this.#stampId, frame, sentAt: performance.timeOrigin + performance.now() })
      : unit.nalus;
    const packets = this.#video.packetize(nalus, Math.round(ticks * this.#clockRate));
    for (const p of packets) {
      this.#send(this.#videoSender, p);
      this.#stats.videoBytesSent += p.payload.length;
    }
    this.#stats.videoPacketsSent += packets.length;
    this.#stats.framesSent += 1;
    if (unit.keyframe) this.#stats.keyframesSent += 1;
    if (this.#maxFrames > 0) {
      if (this.#frames.length >= this.#maxFrames) this.#frames.shift();
      this.#frames.push(hashAccessUnit(nalus));
    }
  }

  #sendAudio({ packet, ticks }: AudioStep): void {
    if (!this.#audio || !this.#audioSender) return;
    const p = this.#audio.packetize(packet, Math.round(ticks * this.#clockRate));
    this.#send(this.#audioSender, p);
    this.#stats.audioPacketsSent += 1;
    this.#stats.audioBytesSent += p.payload.length;
  }

  #send(sender: RTCRtpSender, p: RtpPacketData): void {
    // sendRtp rewrites the header synchronously and only then awaits the socket, so packets
    // keep their order without awaiting each one.
    sender.sendRtp(toWerift(p)).catch((err: Error) => {
      this.#stats.sendErrors += 1;
      this.#lastSendError = err;
    });
  }
}
