// Errors of the MP4 writer and parser. `code` is stable (callers and tests match on it).

import { CodedError, damagedRecording } from '../../errors/index.ts';

export type Mp4ErrorCode =
  /** The input ends inside a box or inside the data a box points at. */
  | 'truncated'
  /** A box or field holds an impossible value (bad size, bad type, offsets outside the mdat). */
  | 'malformed'
  /** A box the structure requires is absent. */
  | 'missing_box'
  /** Valid MP4, but outside what this module reads (another codec, several moofs at once). */
  | 'unsupported';

/** Corrupt or unsupported MP4 input, and SPS bytes the avcC cannot be built from. */
export class Mp4FormatError extends CodedError {
  override name = 'Mp4FormatError';
  /** Only stored recordings are parsed: one that does not parse is damaged. */
  readonly status = 500;
  constructor(
    readonly code: Mp4ErrorCode,
    message: string,
  ) {
    super(message);
  }

  override answer() {
    return damagedRecording(this.code);
  }
}
