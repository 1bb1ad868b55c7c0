// The one shape of an error a caller may see: a stable code and the HTTP status it answers with.
// Every layer's typed errors (media, recorder, store, playback, API) extend it, so the service's
// root error handler checks this one class and maps nothing by name, code pattern or message.

/** What a caller is told: never internal detail (paths, keys, stack). */
export interface ErrorAnswer {
  code: string;
  message: string;
}

export abstract class CodedError extends Error {
  /** Stable and machine-readable: callers and tests branch on it. */
  abstract readonly code: string;
  /** The HTTP status a request that fails with this error answers with. */
  abstract readonly status: number;

  /**
   * The answer's code and message. By default the error's own, which say what was wrong and what to
   * do; a server-side failure (5xx) answers generically unless its class says what the caller may know.
   */
  answer(): ErrorAnswer {
    if (this.status >= 500) return { code: 'internal', message: 'the server failed to handle this request; it was logged, try again' };
    return { code: this.code, message: this.message };
  }
}

/** The answer for a stored recording that failed a check when read back (tampered, truncated, malformed). */
export function damagedRecording(code: string): ErrorAnswer {
  return { code: 'recording_damaged', message: `a stored recording failed its integrity check (${code}); run "mimamori verify" for this camera and time` };
}

export { SafeEmitter, onListenerFailure, type ListenerFailure } from './emitter.ts';
