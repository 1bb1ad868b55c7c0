// One delivery attempt: a POST of the signed body, nothing else. No redirect is followed (a 3xx
// is a failed attempt), the connection goes only to an address guardedLookup allowed, and the
// attempt gives up after its timeout whatever the receiver does (slow headers, a body that never
// ends): a hanging receiver costs one slot for at most that long.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { guardedLookup, isPrivateAddress } from './addresses.ts';

export interface AttemptResult {
  /** A 2xx answer. */
  ok: boolean;
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  /** Why there is no 2xx answer, in words (never the secret or the body). */
  error?: string;
  durationMs: number;
}

export interface PostOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  signal?: AbortSignal;
}

const USER_AGENT = 'Mimamori-Webhooks/1';

export function postOnce(url: URL, body: string, headers: Record<string, string>, o: PostOptions): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const literal = url.hostname.replace(/^\[(.*)\]$/, '$1');
  // An address literal is never looked up: check it here.
  if (net.isIP(literal) && !o.allowPrivate && isPrivateAddress(literal)) {
    return Promise.resolve({ ok: false, error: `refused: ${literal} is a private address (not allowed)`, durationMs: 0 });
  }
  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    const finish = (result: Omit<AttemptResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...result, durationMs: elapsed() });
    };
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      // A connection of its own each time: nothing pooled outlives an attempt, and every
      // connection's address is checked.
      agent: false,
      lookup: guardedLookup(o.allowPrivate) as never,
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': USER_AGENT, ...headers },
    });
    const timer = setTimeout(() => {
      finish({ ok: false, error: `timeout: no answer within ${o.timeoutMs} ms` });
      request.destroy();
    }, o.timeoutMs);
    const abort = () => {
      finish({ ok: false, error: 'cancelled: the service is stopping' });
      request.destroy();
    };
    o.signal?.addEventListener('abort', abort, { once: true });
    const done = () => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', abort);
    };
    request.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const ok = status >= 200 && status < 300;
      finish(ok ? { ok, status } : { ok, status, error: status >= 300 && status < 400 ? `answered ${status} (redirects are not followed: give the final URL)` : `answered ${status}` });
      // The answer's body is not wanted; read it away (bounded by the timer), then let go.
      res.resume();
      res.on('end', () => {
        done();
        request.destroy();
      });
      res.on('error', () => undefined);
    });
    request.on('error', (err: NodeJS.ErrnoException) => {
      done();
      finish({ ok: false, error: err.name === 'PrivateAddressError' ? `refused: ${err.message}` : `${err.code ?? 'error'}: ${err.message}` });
    });
    request.on('close', done);
    request.end(body);
  });
}
