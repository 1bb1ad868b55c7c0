// Errors of clip planning and streaming. `code` is stable (the HTTP layer and export jobs report
// it); `status` is the HTTP status it maps to.

import { CodedError } from '../../errors/index.ts';

export type ClipErrorCode =
  /** Nothing recorded inside the range (404). */
  | 'no_recording'
  /** The video codec changes inside the range: one MP4 track cannot hold both (409). */
  | 'codec_changed'
  /** from/to not a range this module makes a clip of (400). */
  | 'range_invalid'
  /** A recording could not be read or is damaged, or changed between the two passes (502). */
  | 'source_failed';

const STATUS: Record<ClipErrorCode, number> = { no_recording: 404, codec_changed: 409, range_invalid: 400, source_failed: 502 };

export class ClipError extends CodedError {
  override name = 'ClipError';
  readonly status: number;
  constructor(
    readonly code: ClipErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = STATUS[code];
  }

  /** `source_failed` (502) says so: the caller can try again. */
  override answer() {
    return { code: this.code, message: this.message };
  }
}
