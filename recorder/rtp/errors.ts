// Errors of the RTP → frames layer. `code` is stable (the recorder and tests match on it).

import { CodedError } from '../../errors/index.ts';

export type RtpFormatErrorCode =
  /** Not an RTP packet: too short, version ≠ 2, CSRC/extension/padding lengths beyond the packet, or RTCP. */
  | 'malformed_rtp'
  /** An H.264 sequence parameter set that cannot be parsed. */
  | 'malformed_sps';

/** Corrupt input to a parser. Depacketizers never throw it: they drop the frame and wait for a keyframe. */
export class RtpFormatError extends CodedError {
  override name = 'RtpFormatError';
  readonly status = 400;
  constructor(
    readonly code: RtpFormatErrorCode,
    message: string,
  ) {
    super(message);
  }
}
