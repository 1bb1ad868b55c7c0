// Errors of the synthetic camera and viewer. `code` is stable (tests and the CLI match on it);
// the message says what to do about it.

/** Base of every runtime error this module throws. */
export class CameraError extends Error {
  override name = 'CameraError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A WHIP/WHEP request failed. `status` is the HTTP status (0 when no response arrived), `code` and
 * `message` come from the server's `{ error: { code, message } }` body when it sent one.
 */
export class WhipError extends CameraError {
  override name = 'WhipError';
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message);
  }
}

/** A fixture could not be produced (ffmpeg missing or failing). */
export class FixtureError extends CameraError {
  override name = 'FixtureError';
}

/** Corrupt input to a pure parser or depacketizer (Annex-B, Ogg, RTP payload). */
export class FormatError extends CameraError {
  override name = 'FormatError';
  constructor(message: string) {
    super('malformed_media', message);
  }
}
