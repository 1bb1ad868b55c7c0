import { CodedError, damagedRecording } from '../../errors/index.ts';

/**
 * Errors of sealing and key handling. `code` is stable; the message says what was wrong and what
 * to do, and never contains key bytes.
 */
export type SealErrorCode =
  /** authentication failed: the bytes were altered, or the record belongs to another camera, object or key */
  | 'record_tampered'
  /** the record ends before its header or its declared ciphertext does */
  | 'record_truncated'
  /** not a record: bad magic, unknown kind, impossible length, or trailing bytes */
  | 'record_malformed'
  /** a well-formed record whose header kind/index differ from the position it was read for */
  | 'record_misplaced'
  /** a wrapped data key names a master key that is not configured */
  | 'master_key_missing'
  /** a configured master key (environment or file) is not 32 bytes of base64, or the file is not valid */
  | 'master_key_invalid'
  /** a wrapped data key failed authentication (altered, or wrapped under another key id) */
  | 'data_key_tampered'
  /** rotate()/retire() called while the master keys come from the environment */
  | 'master_keys_readonly'
  /** the master-keys file could not be read or written */
  | 'master_keys_io';

export class SealError extends CodedError {
  override name = 'SealError';
  /** Only a refused rotation is the caller's to fix; the rest are damaged records or the operator's keys. */
  readonly status: 409 | 500;
  constructor(
    readonly code: SealErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = code === 'master_keys_readonly' ? 409 : 500;
  }

  override answer() {
    if (this.code === 'master_keys_readonly') return { code: this.code, message: this.message };
    // A missing or wrong master key is the operator's (logged); the caller learns nothing of keys.
    return this.code.startsWith('record_') ? damagedRecording(this.code) : super.answer();
  }
}
