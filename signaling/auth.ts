// Passwords (scrypt), camera secrets and JWTs. The only module that touches key material.
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';

const scrypt = promisify(crypto.scrypt) as (
  password: crypto.BinaryLike,
  salt: crypto.BinaryLike,
  keylen: number,
  options: crypto.ScryptOptions,
) => Promise<Buffer>;

const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const hash = await scrypt(password, salt, 32, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return crypto.timingSafeEqual(actual, expected);
}

/** A dummy hash so a login for an unknown user costs the same time as for a known one. */
export const DUMMY_PASSWORD_HASH = `scrypt$${SCRYPT.N}$8$1$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(32).toString('base64')}`;

export function newCameraSecret(): string {
  return crypto.randomBytes(32).toString('base64url');
}
export function hashCameraSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('base64');
}
export function cameraSecretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashCameraSecret(secret), 'base64');
  const b = Buffer.from(storedHash, 'base64');
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** Who stands behind a derived token: `u:<userId>`, `s:<shareId>`, `k:<kioskId>` or `a:<apiKeyId>`; re-checked on every use. */
export type Principal = `u:${string}` | `s:${string}` | `k:${string}` | `a:${string}`;

export type Claims =
  /** A user's access token: `sid` is its session family (signaling/accounts); the role is always read from the store. */
  | { typ: 'user'; sub: string; sid: string }
  /** A camera's publish token: may publish to exactly this camera, nothing else. */
  | { typ: 'camera'; sub: string }
  /** An opened share link: what the share allows, nothing else. */
  | { typ: 'share'; sub: string }
  /** A kiosk display's access token; `gen` is the device token generation (a rotation ends older ones). */
  | { typ: 'kiosk'; sub: string; gen: number }
  /** One playback window of one camera (it rides in URLs, so it is short-lived and narrow). */
  | { typ: 'playback'; sub: string; by: Principal; from: number; to?: number; /** The user session it was issued from. */ sid?: string }
  /**
   * An API key (`mk_…`, signaling/apiKeys.ts), already checked against the store. Never a JWT:
   * Tokens.verify never answers it, only verifiedToken() for a key.
   */
  | { typ: 'apikey'; sub: string };

export type VerifyResult = { ok: true; claims: Claims; exp: number } | { ok: false; code: 'token_expired' | 'unauthorized'; message: string };

export const CAMERA_TOKEN_TTL_S = 24 * 3600;

export class Tokens {
  /**
   * A KeyObject, not the string: given a string, jsonwebtoken first tries it as a PEM public key
   * (an expensive OpenSSL failure) on every sign and verify — 1.2 ms per request instead of 10 µs.
   */
  readonly #secret: crypto.KeyObject;
  constructor(secret: string) {
    if (secret.length < 32) throw new TypeError('JWT secret must have at least 32 characters');
    this.#secret = crypto.createSecretKey(Buffer.from(secret, 'utf8'));
  }

  sign(claims: Claims, ttlSeconds: number): { token: string; expiresAt: string } {
    const token = jwt.sign(claims, this.#secret, { algorithm: 'HS256', expiresIn: ttlSeconds, issuer: 'mimamori' });
    return { token, expiresAt: new Date(Date.now() + ttlSeconds * 1000).toISOString() };
  }

  verify(token: string): VerifyResult {
    try {
      const payload = jwt.verify(token, this.#secret, { algorithms: ['HS256'], issuer: 'mimamori' });
      if (typeof payload !== 'object' || payload === null) throw new Error('payload');
      const { typ, sub, sid, exp, gen, by, from, to } = payload as Record<string, unknown>;
      if (typeof sub !== 'string' || typeof exp !== 'number') throw new Error('claims');
      if (typ === 'user' && typeof sid === 'string') return { ok: true, claims: { typ, sub, sid }, exp };
      if (typ === 'camera' || typ === 'share') return { ok: true, claims: { typ, sub }, exp };
      if (typ === 'kiosk' && typeof gen === 'number') return { ok: true, claims: { typ, sub, gen }, exp };
      if (typ === 'playback' && typeof by === 'string' && /^[uska]:[A-Za-z0-9_-]{1,64}$/.test(by) && typeof from === 'number' && (to === undefined || typeof to === 'number') && (sid === undefined || typeof sid === 'string')) {
        return { ok: true, claims: { typ, sub, by: by as Principal, from, ...(to !== undefined ? { to } : {}), ...(sid !== undefined ? { sid } : {}) }, exp };
      }
      throw new Error('typ');
    } catch (err) {
      if (err instanceof jwt.TokenExpiredError) return { ok: false, code: 'token_expired', message: 'the token expired; get a new one' };
      return { ok: false, code: 'unauthorized', message: 'the token is not valid (malformed, forged or for another service)' };
    }
  }
}
