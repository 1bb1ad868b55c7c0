// What depacketizers produce, and the interface they share.
import type { OrderedPacket } from './reorder.ts';

export interface H264Config {
  codec: 'h264';
  sps: Uint8Array;
  pps: Uint8Array;
  width: number;
  height: number;
  profileIdc: number;
  constraintFlags: number;
  levelIdc: number;
  /** e.g. 'avc1.42e01f' */
  codecString: string;
}

export interface Vp8Config {
  codec: 'vp8';
  width: number;
  height: number;
  /** 'vp08.00.10.08' style: profile (the VP8 version), level 10, 8 bits */
  codecString: string;
}

export type VideoConfig = H264Config | Vp8Config;

export interface VideoFrame {
  kind: 'video';
  /** RTP timestamp, 32-bit */
  timestamp: number;
  keyframe: boolean;
  /**
   * h264: AVCC sample = each NAL unit with a 4-byte big-endian length prefix, SPS/PPS/AUD/filler
   * removed (SEI kept); vp8: the complete VP8 frame. A new array, not a view into packets.
   */
  data: Uint8Array;
  /** same object identity as long as the configuration is unchanged; a new object when SPS/PPS bytes (h264) or resolution (vp8) change */
  config: VideoConfig;
}

export interface AudioFrame {
  kind: 'audio';
  timestamp: number;
  /** One Opus packet (a copy). */
  data: Uint8Array;
}

export type Frame = VideoFrame | AudioFrame;

export interface DepacketizerStats {
  /** Frames returned. */
  frames: number;
  /** Frames of which at least one packet arrived but that were not returned: incomplete, inconsistent, or not a keyframe while one was awaited. */
  droppedFrames: number;
  /** packets skipped while waiting for a keyframe */
  skippedPackets: number;
}

export interface Depacketizer {
  /** Feed packets in order (from ReorderBuffer). Returns completed frames (possibly several). Never throws on payload contents: bad data drop the frame. */
  push(p: OrderedPacket): Frame[];
  /** true when it is waiting for a keyframe (after start, a loss or a dropped frame): the caller then asks the camera for one (PLI). */
  readonly needsKeyframe: boolean;
  readonly stats: Readonly<DepacketizerStats>;
}
