// The shapes the writer takes and the parser returns. Media time is integer ticks of each track's timescale.

export interface H264Track {
  id: number;
  kind: 'video';
  codec: 'h264';
  /** 90000 for RTP-sourced H.264. */
  timescale: number;
  width: number;
  height: number;
  /** SPS NAL unit (header byte 0x67 included, no start code). */
  sps: Uint8Array;
  /** PPS NAL unit (header byte included, no start code). */
  pps: Uint8Array;
}

export interface Vp8Track {
  id: number;
  kind: 'video';
  codec: 'vp8';
  timescale: number;
  width: number;
  height: number;
}

export interface OpusTrack {
  id: number;
  kind: 'audio';
  codec: 'opus';
  /** 48000: Opus always decodes at 48 kHz. */
  timescale: number;
  /** 1 or 2 (channel mapping family 0). */
  channels: number;
  /** The encoder's original input rate; informative only. */
  sampleRate: number;
  /** Samples at 48 kHz the decoder discards at the start. */
  preSkip: number;
}

export type Track = H264Track | Vp8Track | OpusTrack;

export interface Sample {
  /** In the track's timescale. */
  duration: number;
  /** Bytes; for H.264 the whole access unit as 4-byte length-prefixed NAL units. */
  size: number;
  keyframe: boolean;
  /** Presentation minus decode time, in the track's timescale; absent means 0. */
  compositionOffset?: number;
}

export interface TrackRun {
  trackId: number;
  /** Decode time of the first sample in the track's timescale; may exceed 2^32 (written as a 64-bit tfdt). */
  baseDecodeTime: number;
  samples: readonly Sample[];
  /** One entry per sample, data[i].length === samples[i].size. */
  data: readonly Uint8Array[];
}

export interface ParsedSample extends Sample {
  /** Byte offset of the sample's data within the fragment bytes given to parseFragment. */
  offset: number;
}

export interface ParsedRun {
  trackId: number;
  baseDecodeTime: number;
  samples: ParsedSample[];
}

export interface ParsedFragment {
  sequenceNumber: number;
  runs: ParsedRun[];
}

export interface Box {
  /** Four characters, e.g. 'moof'. */
  type: string;
  /** Offset of the box's first byte (its size field) in the parsed bytes. */
  start: number;
  /** Whole box, header included. */
  size: number;
  /** 8, or 16 with a 64-bit size, plus 16 for a 'uuid' box's extended type. */
  headerSize: number;
  /** Present on container boxes the walker descends into. */
  children?: Box[];
}
