// API keys: how integrations call the API without a person signing in. A key is
// `mk_<16 hex>_<43 base64url>`: the hex part names its row (`key_<hex>`), the rest is 256 random
// bits of which only the SHA-256 is stored, compared in constant time. A key acts as `a:<id>`
// with the rights of its scope, on its group's cameras when it has one, and never beyond what
// the organisation administrator who created it could do now: a key whose administrator was
// deleted or demoted stops, like a revoked or expired one.
import crypto from 'node:crypto';
import { ApiError } from './errors.ts';
import type { ApiKey, ApiKeyScope, Right, Store } from './store/index.ts';

/** What each scope allows on the cameras a key sees (creating cameras is `manage_cameras` too). */
export const SCOPE_RIGHTS: Record<ApiKeyScope, readonly Right[]> = {
  read: ['playback'],
  live: ['live'],
  export: ['playback', 'export'],
  manage_cameras: ['manage'],
};

const TOKEN = /^mk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const NO_RIGHTS: ReadonlySet<Right> = new Set();

/** Whether a bearer token is meant as an API key (then it is checked as one, never as a JWT). */
export const isApiKeyToken = (token: string): boolean => token.startsWith('mk_');

/** A new key: its row id, the hash to store and the token shown once to its creator. */
export function newApiKey(): { id: string; token: string; secretHash: string } {
  const hex = crypto.randomBytes(8).toString('hex');
  const secret = crypto.randomBytes(32).toString('base64url');
  return { id: `key_${hex}`, token: `mk_${hex}_${secret}`, secretHash: hashSecret(secret) };
}

/** The row id a token names (without checking it), for rate limits and messages; undefined when it is not a key. */
export function apiKeyIdOf(token: string): string | undefined {
  const m = TOKEN.exec(token);
  return m ? `key_${m[1]}` : undefined;
}

/** `mk_<hex>`: what the list shows, so an administrator can tell which key an integration holds. */
export const apiKeyPrefix = (id: string): string => `mk_${id.slice('key_'.length)}`;

const hashSecret = (secret: string): string => crypto.createHash('sha256').update(secret).digest('base64');

export const invalidApiKey = () =>
  new ApiError(401, 'invalid_api_key', 'this API key is not valid (mistyped, cut short, or of a deleted organisation); copy the whole key, or ask an administrator for a new one');
export const apiKeyRevoked = (why = 'it was revoked by an administrator') =>
  new ApiError(401, 'api_key_revoked', `this API key no longer works: ${why}; ask an administrator of your organisation for a new one`);
export const apiKeyExpired = (at: string) => new ApiError(401, 'api_key_expired', `this API key expired at ${at}; ask an administrator of your organisation for a new one`);
/** A route for people (their account, sessions, users, grants, organisations, keys): keys are refused. */
export const apiKeyNotAllowed = (what = 'this', instead = 'it is for people (accounts, sessions, users, grants, organisations and API keys); sign in as a user instead') =>
  new ApiError(403, 'api_key_not_allowed', `an API key cannot call ${what}: ${instead}`);

/** The key a token names, if its secret matches (constant time); 401 `invalid_api_key` otherwise. Then `assertStanding`. */
export function authenticateApiKey(store: Pick<Store, 'apiKey' | 'userById' | 'org'>, token: string, nowMs = Date.now()): ApiKey {
  const m = TOKEN.exec(token);
  const key = m ? store.apiKey(`key_${m[1]}`) : undefined;
  // Hash even when there is no such key, so a miss costs the same as a wrong secret.
  const given = Buffer.from(hashSecret(m?.[2] ?? token), 'base64');
  const stored = Buffer.from(key?.secretHash ?? hashSecret(''), 'base64');
  const same = given.length === stored.length && crypto.timingSafeEqual(given, stored);
  if (!key || !same) throw invalidApiKey();
  assertStanding(store, key, nowMs);
  return key;
}

/** Throws 401 unless the key still works: not revoked, not expired, its organisation and administrator still there. */
export function assertStanding(store: Pick<Store, 'userById' | 'org'>, key: ApiKey, nowMs = Date.now()): void {
  if (key.revokedAt) throw apiKeyRevoked(`it was revoked at ${key.revokedAt}`);
  if (key.expiresAt && Date.parse(key.expiresAt) <= nowMs) throw apiKeyExpired(key.expiresAt);
  if (!store.org(key.orgId)) throw invalidApiKey();
  const holder = store.userById(key.createdBy);
  if (!holder || holder.orgId !== key.orgId || holder.role !== 'admin') throw apiKeyRevoked('the administrator who created it is no longer an administrator of the organisation');
}

/** 'active', or why the key no longer works (what the list shows). */
export function apiKeyState(store: Pick<Store, 'userById' | 'org'>, key: ApiKey, nowMs = Date.now()): 'active' | 'revoked' | 'expired' | 'holder_gone' {
  if (key.revokedAt) return 'revoked';
  if (key.expiresAt && Date.parse(key.expiresAt) <= nowMs) return 'expired';
  const holder = store.userById(key.createdBy);
  if (!holder || holder.orgId !== key.orgId || holder.role !== 'admin') return 'holder_gone';
  return 'active';
}

/**
 * The key's rights on each camera: its scope's, only on its group's cameras when it has one, and
 * only where its administrator holds them (outside the organisation: none). For a list, the
 * holder's grants and the group are gathered once.
 */
export function apiKeyRightsOf(store: Pick<Store, 'userById' | 'rightsOf' | 'group' | 'camerasUnder'>, key: ApiKey): (cameraId: string) => ReadonlySet<Right> {
  const holder = store.userById(key.createdBy);
  if (!holder || holder.orgId !== key.orgId) return () => NO_RIGHTS;
  const holderRights = store.rightsOf(holder);
  const scope = SCOPE_RIGHTS[key.scope];
  let inGroup: ((cameraId: string) => boolean) | undefined;
  if (key.cameraGroupId !== undefined) {
    const group = store.group(key.cameraGroupId);
    // The group and the groups below it (a key for a site sees its floors).
    const members = group && group.orgId === key.orgId ? store.camerasUnder(group.id) : new Set<string>();
    inGroup = (cameraId) => members.has(cameraId);
  }
  return (cameraId) => {
    if (inGroup && !inGroup(cameraId)) return NO_RIGHTS;
    const held = holderRights(cameraId);
    if (held.size === 0) return NO_RIGHTS;
    return new Set(scope.filter((r) => held.has(r)));
  };
}

/**
 * The per-key rate limit: a token bucket per key, refilled at `ratePerSecond` up to `burst`.
 * In memory, per node: behind a load balancer a key may make up to that rate on each node (the
 * limit guards the service against a runaway integration; it is not a billing meter).
 */
export class ApiKeyRateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(options: { ratePerSecond: number; burst: number }) {
    if (!(options.ratePerSecond > 0) || !(options.burst >= 1)) throw new TypeError('ApiKeyRateLimiter: ratePerSecond > 0 and burst >= 1');
    this.#rate = options.ratePerSecond;
    this.#burst = options.burst;
  }

  /** Takes one call from the key's bucket: undefined when allowed, else the whole seconds to wait (Retry-After). */
  take(keyId: string, nowMs = Date.now()): number | undefined {
    let bucket = this.#buckets.get(keyId);
    if (!bucket) {
      // Keys that rested long enough to be full again are forgotten: the map stays as small as the busy keys.
      if (this.#buckets.size > 10_000) this.#prune(nowMs);
      this.#buckets.set(keyId, (bucket = { tokens: this.#burst, atMs: nowMs }));
    }
    bucket.tokens = Math.min(this.#burst, bucket.tokens + (Math.max(0, nowMs - bucket.atMs) / 1000) * this.#rate);
    bucket.atMs = nowMs;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate));
  }

  #prune(nowMs: number): void {
    const fullAfterMs = (this.#burst / this.#rate) * 1000;
    for (const [id, b] of this.#buckets) if (nowMs - b.atMs >= fullAfterMs) this.#buckets.delete(id);
  }
}

export const rateLimited = (retryAfterS: number) =>
  new ApiError(429, 'rate_limited', `this API key made too many calls; wait ${retryAfterS} s (Retry-After) and slow down, or ask an administrator for a higher MIMAMORI_API_KEY_RATE`);
