// The recorder's pure RTP → frames layer: parse packets, put them back in order, reassemble
// frames (H.264 as AVCC samples, VP8, Opus). No sockets, timers, clocks or logging: the caller
// passes time in and calls ReorderBuffer.poll() from its own timer.
//
//   const reorder = new ReorderBuffer();
//   const depacketizer = createDepacketizer('h264');
//   for (const ordered of reorder.push(parseRtp(datagram), nowMs)) {
//     for (const frame of depacketizer.push(ordered)) track.write(frame);
//   }
//   if (depacketizer.needsKeyframe) requestKeyframe(); // PLI, rate-limited by the caller

export { RtpFormatError, type RtpFormatErrorCode } from './errors.ts';
export { parseRtp } from './packet.ts';
export { seqAdd, seqDiff, type RtpPacket } from './sequence.ts';
export { NalType, nalType, isVcl, addEmulationPrevention, removeEmulationPrevention, opensAccessUnit } from './nal.ts';
export { ReorderBuffer, type OrderedPacket, type ReorderBufferOptions, type ReorderStats } from './reorder.ts';
export { parseSps, type SpsInfo } from './sps.ts';
export type {
  AudioFrame,
  Depacketizer,
  DepacketizerStats,
  Frame,
  H264Config,
  VideoConfig,
  VideoFrame,
  Vp8Config,
} from './frame.ts';
export { createDepacketizer, type DepacketizerCodec } from './depacketizer.ts';
export { H264FrameDepacketizer, keptInSample } from './h264.ts';
export { Vp8Depacketizer } from './vp8.ts';
export { OpusDepacketizer } from './opus.ts';
