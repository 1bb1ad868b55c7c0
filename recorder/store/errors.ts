import { CodedError } from '../../errors/index.ts';

/**
 * Errors of the object store. `unavailable` is retryable (network down, timeouts, 5xx, throttling);
 * `denied` means credentials or permissions; `not_found` a missing key; `failed` anything else.
 */
export type StoreErrorCode = 'unavailable' | 'not_found' | 'denied' | 'failed';

export class StoreError extends CodedError {
  override name = 'StoreError';
  readonly retryable: boolean;
  /** Whatever the cause, a caller can only wait for the storage to come back. */
  readonly status = 503;
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { retryable?: boolean; cause?: unknown },
  ) {
    super(message, { cause: options?.cause });
    this.retryable = options?.retryable ?? code === 'unavailable';
  }

  override answer() {
    return { code: 'storage_unavailable', message: 'the recording storage cannot be reached right now; try again in a moment' };
  }
}

/** Errors of sockets and timers: no answer from S3 (or none in time). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);
const NETWORK_NAMES = new Set(['TimeoutError', 'AbortError']);
/** S3 error codes that mean "try again later" even without a 5xx. */
const RETRYABLE_S3_CODES = new Set(['RequestTimeout', 'SlowDown', 'Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'InternalError', 'ServiceUnavailable']);
const DENIED_S3_CODES = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'RequestTimeTooSkewed', 'ExpiredToken', 'InvalidToken']);

interface SdkLikeError {
  name?: string;
  code?: string;
  message?: string;
  errors?: unknown[];
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** The first socket-level code on the error, its `cause` chain or an AggregateError's members. */
function networkCode(err: unknown, depth = 0): string | undefined {
  if (depth > 4 || typeof err !== 'object' || err === null) return undefined;
  const e = err as SdkLikeError;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
  if (typeof e.name === 'string' && NETWORK_NAMES.has(e.name)) return e.name;
  for (const inner of [e.cause, ...(Array.isArray(e.errors) ? e.errors : [])]) {
    const code = networkCode(inner, depth + 1);
    if (code) return code;
  }
  return undefined;
}

const brief = (text: string | undefined) => (text ? `: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}` : '');

/**
 * Maps an SDK or socket error to a StoreError. `action` says what was attempted
 * (`put "key"`), `where` is the store's description.
 */
export function toStoreError(err: unknown, action: string, where: string): StoreError {
  if (err instanceof StoreError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkLikeError;
  const status = e.$metadata?.httpStatusCode;
  const s3Code = e.name && e.name !== 'Error' ? e.name : undefined;

  if (status === undefined) {
    const net = networkCode(err);
    if (net) {
      return new StoreError('unavailable', `S3 at ${where} did not answer ${action} (${net}); retry later, and check that the endpoint is up and reachable`, { cause: err });
    }
    return new StoreError('failed', `${action} at ${where} failed before S3 answered${brief(e.message ?? String(err))}`, { cause: err });
  }
  const what = `${status}${s3Code ? ` ${s3Code}` : ''}`;
  if (status >= 500 || status === 429 || (s3Code && RETRYABLE_S3_CODES.has(s3Code))) {
    return new StoreError('unavailable', `S3 at ${where} is unavailable for ${action} (${what}); retry later`, { cause: err });
  }
  if (status === 401 || status === 403 || (s3Code && DENIED_S3_CODES.has(s3Code))) {
    return new StoreError(
      'denied',
      `S3 at ${where} refused ${action} (${what}); check the access key, its permissions on the bucket, and this machine's clock`,
      { cause: err },
    );
  }
  if (status === 404 && s3Code === 'NoSuchBucket') {
    return new StoreError('failed', `${where}: the bucket does not exist (${action}); create it, or start with createBucket`, { cause: err });
  }
  if (status === 404) return new StoreError('not_found', `${action} at ${where}: no such object`, { cause: err });
  return new StoreError('failed', `S3 at ${where} rejected ${action} (${what})${brief(e.message)}`, { cause: err });
}
