import { HTTPException } from 'hono/http-exception';
import { CodedError } from '../errors/index.ts';

/** Errors that reach callers as `{ error: { code, message } }` with `status`. */
export class ApiError extends CodedError {
  override name = 'ApiError';
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 410 | 413 | 415 | 416 | 422 | 426 | 429 | 500 | 503,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** Written for the caller, 5xx included (storage_unavailable, node_unreachable…). */
  override answer() {
    return { code: this.code, message: this.message };
  }
}

export const unauthorized = (message = 'sign in first: send "Authorization: Bearer <token>"') =>
  new ApiError(401, 'unauthorized', message);
export const tokenExpired = () => new ApiError(401, 'token_expired', 'your session expired; sign in again');
export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);
export const notFound = (what: string, id: string) =>
  new ApiError(404, `${what}_not_found`, `${what} "${id}" does not exist or you may not see it`);
export const badRequest = (message: string, code = 'bad_request') => new ApiError(400, code, message);

export interface ErrorBody {
  error: { code: string; message: string };
}

/** Maps any thrown value to a status and a body that never leaks internals. */
export function toErrorBody(err: unknown): { status: number; body: ErrorBody } {
  // Every layer's typed errors (API, media, recorder, store, playback) carry their status and code.
  if (err instanceof CodedError) return { status: err.status, body: { error: err.answer() } };
  // Hono's own refusals (malformed JSON body, …) are client errors, not server failures.
  if (err instanceof HTTPException && err.status < 500) {
    return { status: err.status, body: { error: { code: 'bad_request', message: `${err.message}; send a valid JSON body` } } };
  }
  return {
    status: 500,
    body: { error: { code: 'internal', message: 'the server failed to handle this request; it was logged, try again' } },
  };
}
