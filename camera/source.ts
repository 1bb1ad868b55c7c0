// The synthetic camera's media: fixture files replayed in a loop, paced in real time.
// VideoLoop/AudioLoop are pure (which unit comes next, at which media time); SyntheticSource owns
// the timers and the fixture files.
import { EventEmitter } from 'node:events';
import fs from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { FormatError } from './errors.ts';
import { ensureAudioFixture, ensureVideoFixture, type H264Profile } from './fixtures.ts';
import { parseAnnexB, type AccessUnit } from './h264.ts';
import { opusPacketSamples, parseOggOpus } from './ogg.ts';
import { H264_CLOCK_RATE, OPUS_CLOCK_RATE } from './rtp.ts';

export interface SourceOptions {
  /** Picture width in pixels. Default 640. */
  width?: number;
  /** Picture height in pixels. Default 360. */
  height?: number;
  /** Frames per second. Default 30. */
  fps?: number;
  /** Video bitrate in kbit/s. Default 800. */
  kbps?: number;
  /** How long to stream, in seconds; `Infinity` (the default) streams until closed. */
  seconds?: number;
  /** Send an Opus track too. Default true. */
  audio?: boolean;
  /** H.264 profile of the fixture. Default 'baseline' (constrained baseline, what WebRTC expects). */
  profile?: H264Profile;
  /** Length of the fixture file that is looped, in seconds. Default 10. */
  fixtureSeconds?: number;
  /**
   * An H.264 Annex-B file (`ffmpeg … -f h264`, no B-frames, SPS/PPS before keyframes) to loop
   * instead of the generated test pattern, at `fps`. Empty = the generated fixture.
   */
  videoFile?: string;
}

export type ResolvedSourceOptions = Required<SourceOptions>;

export function resolveSourceOptions(o: SourceOptions = {}): ResolvedSourceOptions {
  const r: ResolvedSourceOptions = {
    width: o.width ?? 640,
    height: o.height ?? 360,
    fps: o.fps ?? 30,
    kbps: o.kbps ?? 800,
    seconds: o.seconds ?? Infinity,
    audio: o.audio ?? true,
    profile: o.profile ?? 'baseline',
    fixtureSeconds: o.fixtureSeconds ?? 10,
    videoFile: o.videoFile ?? '',
  };
  const evenInt = (n: number) => Number.isInteger(n) && n >= 16 && n <= 4096 && n % 2 === 0;
  if (!evenInt(r.width) || !evenInt(r.height)) throw new TypeError(`width and height must be even integers in 16..4096 (got ${r.width}x${r.height})`);
  if (!Number.isInteger(r.fps) || r.fps < 1 || r.fps > 120) throw new TypeError(`fps must be an integer in 1..120 (got ${r.fps})`);
  if (!Number.isInteger(r.kbps) || r.kbps < 10 || r.kbps > 50_000) throw new TypeError(`kbps must be an integer in 10..50000 (got ${r.kbps})`);
  if (!(r.seconds > 0)) throw new TypeError(`seconds must be > 0 or Infinity (got ${r.seconds})`);
  if (!Number.isInteger(r.fixtureSeconds) || r.fixtureSeconds < 1 || r.fixtureSeconds > 600) {
    throw new TypeError(`fixtureSeconds must be an integer in 1..600 (got ${r.fixtureSeconds})`);
  }
  if (!['baseline', 'main', 'high'].includes(r.profile)) throw new TypeError(`profile must be baseline, main or high (got ${r.profile})`);
  return r;
}

export interface VideoStep {
  unit: AccessUnit;
  /** Frames emitted before this one (0-based, keeps counting across loops). */
  frame: number;
  /** Media time in 90 kHz ticks: floor(frame × 90000 / fps), so it never drifts for any fps. */
  ticks: number;
}

/**
 * Loops a fixture's access units forever with monotonic media time. A keyframe request makes the
 * next frame the next keyframe of the fixture (skipping content, not time), unless a keyframe went
 * out within the last quarter second: the requester most likely already has it on the way.
 */
export class VideoLoop {
  readonly #units: readonly AccessUnit[];
  readonly #fps: number;
  readonly #throttleFrames: number;
  #position = 0;
  #frame = 0;
  #lastKeyframe = -Infinity;
  #keyframeWanted = false;

  constructor(units: readonly AccessUnit[], fps: number) {
    if (units.length === 0) throw new FormatError('video fixture has no access units');
    if (!units[0]!.keyframe) throw new FormatError('video fixture does not start with a keyframe');
    this.#units = units;
    this.#fps = fps;
    this.#throttleFrames = Math.ceil(fps / 4);
  }

  get framesEmitted(): number {
    return this.#frame;
  }

  /** Media time of frame `n` in 90 kHz ticks. */
  ticksOf(n: number): number {
    return Math.floor((n * H264_CLOCK_RATE) / this.#fps);
  }

  /** Returns true if the request will be honoured (false: a keyframe went out very recently). */
  requestKeyframe(): boolean {
    if (this.#frame - this.#lastKeyframe <= this.#throttleFrames) return false;
    this.#keyframeWanted = true;
    return true;
  }

  next(): VideoStep {
    if (this.#keyframeWanted && !this.#units[this.#position]!.keyframe) {
      let p = this.#position;
      do p = (p + 1) % this.#units.length;
      while (!this.#units[p]!.keyframe);
      this.#position = p;
    }
    const unit = this.#units[this.#position]!;
    if (unit.keyframe) {
      this.#keyframeWanted = false;
      this.#lastKeyframe = this.#frame;
    }
    const step = { unit, frame: this.#frame, ticks: this.ticksOf(this.#frame) };
    this.#frame += 1;
    this.#position = (this.#position + 1) % this.#units.length;
    return step;
  }
}

export interface AudioStep {
  packet: Uint8Array;
  /** Media time in 48 kHz ticks: the sum of the durations of the packets before. */
  ticks: number;
}

/** Loops Opus packets forever; media time advances by each packet's own duration. */
export class AudioLoop {
  readonly #packets: readonly Uint8Array[];
  readonly #durations: readonly number[];
  #position = 0;
  #ticks = 0;

  constructor(packets: readonly Uint8Array[]) {
    if (packets.length === 0) throw new FormatError('audio fixture has no Opus packets');
    this.#packets = packets;
    this.#durations = packets.map(opusPacketSamples);
  }

  /** Media time (48 kHz ticks) of the next packet. */
  get nextTicks(): number {
    return this.#ticks;
  }

  next(): AudioStep {
    const step = { packet: this.#packets[this.#position]!, ticks: this.#ticks };
    this.#ticks += this.#durations[this.#position]!;
    this.#position = (this.#position + 1) % this.#packets.length;
    return step;
  }
}

export interface SyntheticSourceEvents {
  video: [step: VideoStep];
  audio: [step: AudioStep];
  /** `seconds` of media went out. */
  ended: [];
}

/** If the event loop stalls longer than this, pacing restarts from now instead of bursting to catch up. */
const MAX_LAG_MS = 1000;

/**
 * Emits the fixture's frames and audio packets at their real-time instants from start() until
 * `seconds` of media went out or close(). Listeners run synchronously in the timer callback.
 */
export class SyntheticSource extends EventEmitter<SyntheticSourceEvents> {
  readonly options: ResolvedSourceOptions;
  readonly #video: VideoLoop;
  readonly #audio: AudioLoop | undefined;
  readonly #videoFrames: number;
  readonly #audioTicks: number;
  #startedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #state: 'new' | 'running' | 'ended' | 'closed' = 'new';

  /** Loads (making them first if needed) the fixture files for `options`. */
  static async create(options: SourceOptions = {}): Promise<SyntheticSource> {
    const o = resolveSourceOptions(options);
    const videoFile =
      o.videoFile ||
      (await ensureVideoFixture({
        width: o.width, height: o.height, fps: o.fps, kbps: o.kbps, seconds: o.fixtureSeconds, profile: o.profile,
      }));
    const units = parseAnnexB(new Uint8Array(await fs.readFile(videoFile)));
    if (!units.some((u) => u.keyframe)) {
      throw new TypeError(`${videoFile} has no H.264 keyframe (IDR); give an Annex-B H.264 stream (ffmpeg -c:v libx264 -bf 0 -f h264)`);
    }
    let packets: Uint8Array[] | undefined;
    if (o.audio) {
      const audioFile = await ensureAudioFixture({ seconds: o.fixtureSeconds, kbps: 32 });
      packets = parseOggOpus(new Uint8Array(await fs.readFile(audioFile))).packets;
    }
    return new SyntheticSource(o, units, packets);
  }

  /** Builds a source from units and packets already in memory (tests, custom content). */
  static fromMedia(options: SourceOptions, units: readonly AccessUnit[], opusPackets?: readonly Uint8Array[]): SyntheticSource {
    const o = resolveSourceOptions({ ...options, audio: opusPackets !== undefined });
    return new SyntheticSource(o, units, opusPackets);
  }

  private constructor(o: ResolvedSourceOptions, units: readonly AccessUnit[], packets: readonly Uint8Array[] | undefined) {
    super();
    this.options = o;
    this.#video = new VideoLoop(units, o.fps);
    this.#audio = packets ? new AudioLoop(packets) : undefined;
    this.#videoFrames = o.seconds === Infinity ? Infinity : Math.max(1, Math.round(o.seconds * o.fps));
    this.#audioTicks = o.seconds === Infinity ? Infinity : Math.round(o.seconds * OPUS_CLOCK_RATE);
  }

  get state(): 'new' | 'running' | 'ended' | 'closed' {
    return this.#state;
  }

  get framesEmitted(): number {
    return this.#video.framesEmitted;
  }

  start(): void {
    if (this.#state !== 'new') throw new TypeError(`source cannot start: it is ${this.#state}`);
    this.#state = 'running';
    this.#startedAt = performance.now();
    this.#pump();
  }

  /** Asks for a keyframe as the next frame (a viewer's PLI/FIR); false if one just went out. */
  requestKeyframe(): boolean {
    return this.#video.requestKeyframe();
  }

  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #videoDueMs(): number {
    return (this.#video.framesEmitted * 1000) / this.options.fps;
  }

  #audioDueMs(): number {
    return this.#audio ? (this.#audio.nextTicks * 1000) / OPUS_CLOCK_RATE : Infinity;
  }

  #videoLeft(): boolean {
    return this.#video.framesEmitted < this.#videoFrames;
  }

  #audioLeft(): boolean {
    return this.#audio !== undefined && this.#audio.nextTicks < this.#audioTicks;
  }

  #pump(): void {
    this.#timer = undefined;
    if (this.#state !== 'running') return;
    let now = performance.now() - this.#startedAt;
    const due = Math.min(this.#videoLeft() ? this.#videoDueMs() : Infinity, this.#audioLeft() ? this.#audioDueMs() : Infinity);
    if (now - due > MAX_LAG_MS) {
      this.#startedAt += now - due;
      now = due;
    }
    // A listener may close the source; re-check the state after every emit.
    while (this.#videoLeft() && this.#videoDueMs() <= now && this.#state === 'running') {
      this.emit('video', this.#video.next());
    }
    while (this.#audio && this.#audioLeft() && this.#audioDueMs() <= now && this.#state === 'running') {
      this.emit('audio', this.#audio.next());
    }
    if (this.#state !== 'running') return;
    if (!this.#videoLeft() && !this.#audioLeft()) {
      this.#state = 'ended';
      this.emit('ended');
      return;
    }
    const next = Math.min(this.#videoLeft() ? this.#videoDueMs() : Infinity, this.#audioLeft() ? this.#audioDueMs() : Infinity);
    this.#timer = setTimeout(() => this.#pump(), Math.max(0, next - (performance.now() - this.#startedAt)));
  }
}
