// What a failure of the database means to a caller: "unreachable, nothing was changed, try again"
// (503 database_unavailable) for every way a connection can fail, the error itself otherwise.
import { StoreError } from '../errors.ts';

/** Connection-level failures: the database is down, restarting, unreachable or full. */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);

export function isUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  // 08: connection exception; 57P01-57P03: shutting down or starting up; 53300: too many connections.
  return (
    UNAVAILABLE_CODES.has(code) ||
    code.startsWith('08') ||
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    code === '53300' ||
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended/i.test(message)
  );
}

/** Why it is unreachable, in a few words (the driver's code or message). */
export function reasonOf(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message.slice(0, 160) : String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

export function databaseUnavailable(where: string, error: unknown): StoreError {
  return new StoreError(
    'database_unavailable',
    `the metadata database (${where}) is unreachable (${reasonOf(error)}): nothing was changed; try again in a moment — recording and live video go on meanwhile`,
    { cause: error },
  );
}

/** Serialisation failures and deadlocks: the transaction can simply run again. */
export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === '40001' || code === '40P01';
}
