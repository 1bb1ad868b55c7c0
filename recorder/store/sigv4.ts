// Checks AWS Signature Version 4 on requests to the standalone S3 server (`mimamori s3`).
// s3rver 3.7 looks up the access key id of a V4 request but never checks its signature, and
// serves requests without any signature as an anonymous owner: on an address other than
// loopback, anyone could read and delete every recording. This is the check it lacks, pure (the
// request's parts and the time in, a verdict out), after the AWS "Authenticating Requests
// (AWS Signature Version 4)" reference for S3: header-signed requests only (what the SDK
// sends), no presigned URLs, which nothing of Mimamori uses.
//
// The signature covers the method, path, query, the signed headers and the payload hash the
// client declares (x-amz-content-sha256); the body itself is not hashed again here. A body
// changed on the way fails Content-MD5 (which the recorder sends on every put) or, at the
// latest, the AEAD seal of every record when it is read.
import crypto from 'node:crypto';

/** An S3-compatible server's key pair. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SignedRequest {
  method: string;
  /** The request target as sent: path and query, still percent-encoded (Node's `req.url`). */
  url: string;
  /** Lower-case names (Node's `req.headers`). */
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** S3's own error codes, so SDKs map them as they would AWS's (toStoreError: `denied`). */
export type SignatureErrorCode = 'AccessDenied' | 'AuthorizationHeaderMalformed' | 'InvalidAccessKeyId' | 'SignatureDoesNotMatch' | 'RequestTimeTooSkewed';

export type SignatureVerdict = { ok: true } | { ok: false; status: 400 | 403; code: SignatureErrorCode; message: string };

/** AWS allows 15 minutes between the request's time and the server's. */
export const MAX_SKEW_MS = 15 * 60_000;

const ALGORITHM = 'AWS4-HMAC-SHA256';

const refuse = (code: SignatureErrorCode, message: string): SignatureVerdict => ({ ok: false, status: code === 'AuthorizationHeaderMalformed' ? 400 : 403, code, message });

/** RFC 3986 percent-encoding: everything but A–Z a–z 0–9 - _ . ~ (encodeURIComponent leaves !'()* too). */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Decoded and encoded again, so `$` and `%24` sign alike, as AWS does. Undefined for broken escapes. */
function reencode(part: string): string | undefined {
  try {
    return uriEncode(decodeURIComponent(part));
  } catch {
    return undefined;
  }
}

/** S3 encodes each path segment once and never normalizes (`//` and `..` stay). */
function canonicalPath(path: string): string | undefined {
  const segments = path.split('/').map(reencode);
  return segments.includes(undefined) ? undefined : segments.join('/');
}

function canonicalQuery(query: string): string | undefined {
  if (query === '') return '';
  const pairs: [string, string][] = [];
  for (const item of query.split('&')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const name = reencode(eq < 0 ? item : item.slice(0, eq));
    const value = reencode(eq < 0 ? '' : item.slice(eq + 1));
    if (name === undefined || value === undefined) return undefined;
    pairs.push([name, value]);
  }
  pairs.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

function header(headers: SignedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

interface Authorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** `AWS4-HMAC-SHA256 Credential=ID/DATE/REGION/s3/aws4_request, SignedHeaders=a;b, Signature=hex` */
function parseAuthorization(value: string): Authorization | undefined {
  if (!value.startsWith(`${ALGORITHM} `)) return undefined;
  const fields = new Map<string, string>();
  for (const part of value.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const scope = fields.get('Credential')?.split('/');
  const signedHeaders = fields.get('SignedHeaders')?.split(';');
  const signature = fields.get('Signature');
  if (scope?.length !== 5 || scope[4] !== 'aws4_request' || !signedHeaders || !signature || !/^[0-9a-f]{64}$/.test(signature)) return undefined;
  const [accessKeyId, date, region, service] = scope as [string, string, string, string];
  return { accessKeyId, date, region, service, signedHeaders, signature };
}

/** 20130524T000000Z → ms since the epoch; NaN for anything else. */
function amzDateMs(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : Number.NaN;
}

const hmac = (key: crypto.BinaryLike, data: string) => crypto.createHmac('sha256', key).update(data).digest();
const sha256 = (data: string) => crypto.createHash('sha256').update(data).digest('hex');

/** The hex signature of a request, given its parsed Authorization (exported for tests). */
export function signatureOf(request: SignedRequest, auth: Omit<Authorization, 'signature' | 'accessKeyId'>, secretAccessKey: string): string | undefined {
  const q = request.url.indexOf('?');
  const path = canonicalPath(q < 0 ? request.url : request.url.slice(0, q));
  const query = canonicalQuery(q < 0 ? '' : request.url.slice(q + 1));
  if (path === undefined || query === undefined) return undefined;
  const headerLines = auth.signedHeaders.map((name) => `${name}:${(header(request.headers, name) ?? '').trim().replace(/ +/g, ' ')}\n`).join('');
  const canonicalRequest = [request.method, path, query, headerLines, auth.signedHeaders.join(';'), header(request.headers, 'x-amz-content-sha256') ?? ''].join('\n');
  const amzDate = header(request.headers, 'x-amz-date') ?? '';
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, auth.date), auth.region), auth.service), 'aws4_request');
  return hmac(key, stringToSign).toString('hex');
}

/** Whether `request` is signed (AWS Signature Version 4, in its headers) with `credentials`, at `nowMs`. */
export function checkSignature(request: SignedRequest, credentials: S3Credentials, nowMs: number): SignatureVerdict {
  const value = header(request.headers, 'authorization');
  if (value === undefined) return refuse('AccessDenied', 'this server takes only requests signed with its access key (AWS Signature Version 4 in the Authorization header)');
  const auth = parseAuthorization(value);
  if (!auth) return refuse('AuthorizationHeaderMalformed', `the Authorization header is not an ${ALGORITHM} signature`);
  if (auth.accessKeyId !== credentials.accessKeyId) return refuse('InvalidAccessKeyId', 'the access key id is not this server\'s; use the MIMAMORI_S3_ACCESS_KEY_ID it printed at its first start');
  const amzDate = header(request.headers, 'x-amz-date') ?? '';
  const atMs = amzDateMs(amzDate);
  if (auth.service !== 's3' || !Number.isFinite(atMs) || amzDate.slice(0, 8) !== auth.date) return refuse('AuthorizationHeaderMalformed', 'the credential scope must name s3 and the day of x-amz-date');
  for (const required of ['host', 'x-amz-date', 'x-amz-content-sha256']) {
    if (!auth.signedHeaders.includes(required)) return refuse('AuthorizationHeaderMalformed', `the signature must cover the ${required} header`);
  }
  if (Math.abs(nowMs - atMs) > MAX_SKEW_MS) return refuse('RequestTimeTooSkewed', 'the request\'s time is more than 15 minutes from this server\'s; set both clocks right (NTP)');
  const expected = signatureOf(request, auth, credentials.secretAccessKey);
  if (expected === undefined || !crypto.timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(auth.signature, 'hex'))) {
    return refuse('SignatureDoesNotMatch', 'the signature does not match: check MIMAMORI_S3_SECRET_ACCESS_KEY');
  }
  return { ok: true };
}
