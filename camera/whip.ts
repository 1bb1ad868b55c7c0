// The two HTTP exchanges of WHIP (RFC 9725) and WHEP: POST the offer, DELETE the session; and the
// publish token a camera gets for its secret.
import { WhipError } from './errors.ts';

export interface WhipSession {
  /** SDP answer. */
  answer: string;
  /** Absolute URL of the session resource (from Location, resolved against the POST URL). */
  location: string;
  /** Mimamori's camera epoch for this session (X-Mimamori-Epoch), to ask whether to move. */
  epoch?: number;
  /** WHEP's server-sent events extension: where to subscribe (absolute URL), and the events offered. */
  events?: { url: string; offered: string[] };
}

const SSE_REL = 'urn:ietf:params:whep:ext:core:server-sent-events';

/** POSTs an SDP offer; 201 with an answer and a Location, else a WhipError. */
export async function postOffer(url: string, token: string, offer: string, timeoutMs: number): Promise<WhipSession> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', Accept: 'application/sdp', Authorization: `Bearer ${token}` },
      body: offer,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw networkError('POST', url, err);
  }
  if (res.status !== 201) throw await errorFrom(res, 'POST', url);
  const answer = await res.text();
  const location = res.headers.get('location');
  if (!location) throw new WhipError(res.status, 'no_location', `POST ${url} answered 201 without a Location header`);
  if (!answer.startsWith('v=0')) throw new WhipError(res.status, 'bad_answer', `POST ${url} answered 201 without an SDP answer body`);
  const epoch = Number(res.headers.get('x-mimamori-epoch') ?? NaN);
  const events = eventsLink(res.headers.get('link') ?? '', url);
  return { answer, location: new URL(location, url).toString(), ...(Number.isInteger(epoch) ? { epoch } : {}), ...(events ? { events } : {}) };
}

/** The server-sent events link among a response's Link headers (joined with ", " by fetch). */
function eventsLink(header: string, base: string): WhipSession['events'] {
  for (const link of header.split(/,\s*(?=<)/)) {
    const m = /^<([^>]+)>(.*)$/.exec(link.trim());
    if (!m || !new RegExp(`rel="${SSE_REL}"`).test(m[2]!)) continue;
    const offered = /events="([^"]*)"/.exec(m[2]!)?.[1]?.split(',').map((e) => e.trim()).filter(Boolean) ?? [];
    return { url: new URL(m[1]!, base).toString(), offered };
  }
  return undefined;
}

/**
 * Asks the service (through its load balancer) whether the camera's node wants it to publish
 * elsewhere (Mimamori's drain). Answers within about 20 s: `move`, or `superseded` (a newer
 * session of this camera exists), or neither (ask again). The camera secret is the bearer: a
 * publish token may have expired by the time a node drains.
 */
export async function pollMove(whipUrl: string, secret: string, epoch: number, signal: AbortSignal): Promise<{ move: boolean; superseded?: boolean }> {
  const url = `${whipUrl}/move?epoch=${epoch}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { Authorization: `Bearer ${secret}` }, signal: AbortSignal.any([signal, AbortSignal.timeout(30_000)]) });
  } catch (err) {
    throw networkError('GET', url, err);
  }
  if (!res.ok) throw await errorFrom(res, 'GET', url);
  const body = (await res.json().catch(() => ({}))) as { move?: unknown; superseded?: unknown };
  return { move: body.move === true, superseded: body.superseded === true };
}

/** DELETEs a session. 404 counts as success: the session is gone either way. */
export async function deleteSession(location: string, token: string, timeoutMs: number): Promise<void> {
  // DELETE is idempotent: a node that stopped mid-request (a drain behind a load balancer) or a
  // gateway between nodes answering 502–504 is no reason to leave the session running until it
  // times out; another attempt reaches a node that stays.
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    const mayRetry = () => attempt < DELETE_ATTEMPTS && deadline - Date.now() > DELETE_PAUSE_MS;
    const left = deadline - Date.now();
    let res: Response;
    try {
      res = await fetch(location, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(Math.max(left, 1)),
      });
    } catch (err) {
      if (mayRetry()) {
        await sleep(DELETE_PAUSE_MS * attempt);
        continue;
      }
      throw networkError('DELETE', location, err);
    }
    if (res.ok || res.status === 404) {
      // Drain so the connection can be reused; the session is gone whatever the body does.
      await res.arrayBuffer().catch(() => undefined);
      return;
    }
    if (RETRIED_STATUSES.has(res.status) && mayRetry()) {
      await res.arrayBuffer().catch(() => undefined);
      await sleep(DELETE_PAUSE_MS * attempt);
      continue;
    }
    throw await errorFrom(res, 'DELETE', location);
  }
}

const DELETE_ATTEMPTS = 3;
const DELETE_PAUSE_MS = 200;
const RETRIED_STATUSES = new Set([502, 503, 504]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Exchanges a camera's secret for a short-lived publish token (POST /api/cameras/:id/publish-token),
 * else a WhipError like those of postOffer (status 0 when the service did not answer).
 */
export async function requestPublishToken(serviceUrl: string, cameraId: string, secret: string, timeoutMs: number): Promise<string> {
  const url = `${serviceUrl.replace(/\/+$/, '')}/api/cameras/${encodeURIComponent(cameraId)}/publish-token`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ secret }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw networkError('POST', url, err);
  }
  if (!res.ok) throw await errorFrom(res, 'POST', url);
  const body = (await res.json().catch(() => ({}))) as { token?: unknown };
  if (typeof body.token !== 'string') throw new WhipError(res.status, 'bad_reply', `POST ${url} answered ${res.status} without a token`);
  return body.token;
}

function networkError(method: string, url: string, err: unknown): WhipError {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return new WhipError(0, 'timeout', `${method} ${url} got no answer in time`);
  const detail = e.cause?.code ?? e.cause?.message ?? e.message;
  return new WhipError(0, 'network_error', `${method} ${url} failed: ${detail}`);
}

/** Reads `{ error: { code, message } }`, falling back to the status and the start of the body. */
async function errorFrom(res: Response, method: string, url: string): Promise<WhipError> {
  const text = await res.text().catch((err: Error) => `(body unreadable: ${err.message})`);
  try {
    const body: unknown = JSON.parse(text);
    const error = (body as { error?: unknown }).error as { code?: unknown; message?: unknown } | undefined;
    if (error && typeof error.code === 'string' && typeof error.message === 'string') {
      return new WhipError(res.status, error.code, error.message);
    }
  } catch {
    // Not JSON (a proxy's HTML page, say): reported below with the raw text.
  }
  return new WhipError(res.status, `http_${res.status}`, `${method} ${url} answered ${res.status}: ${text.slice(0, 300)}`);
}

/**
 * Ends a WHIP/WHEP session: DELETEs it (when it was created) and closes the peer connection.
 * Never throws; a failed DELETE is returned (the server then times the session out).
 */
export async function endSession(
  pc: { close(): Promise<void> },
  location: string | undefined,
  token: string,
  timeoutMs: number,
): Promise<WhipError | undefined> {
  let deleteError: WhipError | undefined;
  if (location) {
    try {
      await deleteSession(location, token, timeoutMs);
    } catch (err) {
      deleteError = err as WhipError;
    }
  }
  await pc.close();
  return deleteError;
}
