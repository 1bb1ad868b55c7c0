// Fragmented MP4 (CMAF-style) for recordings: an init segment (ftyp + moov) per session and one
// moof + mdat per fragment, with parsers for both. Pure and synchronous: bytes in, bytes out.
//
//   const init = initSegment([video, audio]);
//   const frag = mediaFragment(seq, [
//     { trackId: video.id, baseDecodeTime: v0, samples: vSamples, data: vData }, // 90 kHz ticks
//     { trackId: audio.id, baseDecodeTime: a0, samples: aSamples, data: aData }, // 48 kHz ticks
//   ]);
//
// Both tracks' tfdt are absolute decode times on one shared timeline, each in its own timescale,
// so players align audio and video from the fragments alone (no edit lists). H.264 samples are
// access units as 4-byte length-prefixed NAL units without SPS/PPS/AUD (those go in the avcC).
// Writer misuse (sizes not matching data, bad ids) throws TypeError; bad input to the parsers
// throws Mp4FormatError.
//
// progressiveHeader() writes the other kind of file, a progressive MP4 (exported clips): ftyp +
// moov with whole sample tables and edit lists, then one mdat the caller streams chunk by chunk.

export { Mp4FormatError, type Mp4ErrorCode } from './errors.ts';
export { initSegment } from './init.ts';
export { mediaFragment } from './fragment.ts';
export {
  progressiveHeader,
  type ProgressiveChunk,
  type ProgressiveEdit,
  type ProgressiveHeader,
  type ProgressiveMovie,
  type ProgressiveTrack,
} from './progressive.ts';
export { parseBoxes, parseFragment, parseInit } from './parse.ts';
export type {
  Box,
  H264Track,
  OpusTrack,
  ParsedFragment,
  ParsedRun,
  ParsedSample,
  Sample,
  Track,
  TrackRun,
  Vp8Track,
} from './types.ts';
