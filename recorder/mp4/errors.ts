// Errors of the MP4 writer and parser. `code` is stable (callers and tests match on it).

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
export class Mp4FormatError extends Error {
  override name = 'Mp4FormatError';
  constructor(
    readonly code: Mp4ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
