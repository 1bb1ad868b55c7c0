// Account security rules: sessions (refresh-token families), failed-login counters and lockouts,
// and TOTP second factors. The state lives in the metadata store (accounts.json beside db.json, or
// PostgreSQL tables shared by every node); the rules live here. Users themselves (names, roles,
// password hashes) are rows of the store too.
//
// Sessions: signing in opens a *family* (its id is the `sid` claim of every access token issued in
// it). The browser or API client holds one refresh token of the family at a time; each refresh
// replaces it (single use, decided atomically by the store, so of two nodes presented the same
// token at once exactly one wins). Presenting an already-used refresh token means it was copied:
// the whole family is revoked. Access tokens are short-lived (ACCESS_TOKEN_TTL_S) and every
// request checks that their family is still active, so "sign out everywhere" takes effect at once.
import crypto from 'node:crypto';
import { ApiError } from '../errors.ts';
import type { SessionFamily, Store } from '../store/index.ts';
import { matchTotp, newTotpSecret, TotpSealer, base32Encode, otpauthUri } from './totp.ts';

export { checkPasswordPolicy, PASSWORD_MIN_LENGTH } from './policy.ts';
export { hotp, base32Decode, TOTP_STEP_S } from './totp.ts';

/** Access-token lifetime; MIMAMORI_ACCESS_TOKEN_TTL_S overrides it (tests that run long use an hour). */
export const ACCESS_TOKEN_TTL_S = positiveInt(process.env.MIMAMORI_ACCESS_TOKEN_TTL_S) ?? 600;
/** A family unused (no refresh) this long ends. */
export const SESSION_IDLE_MS = 14 * 24 * 3600_000;
/** A family ends this long after sign-in, however much it is used. */
export const SESSION_ABSOLUTE_MS = 30 * 24 * 3600_000;
/** Two browser tabs may refresh with the same cookie at once: the loser's just-replaced token is honoured this long (no new refresh token). */
export const REFRESH_RACE_GRACE_MS = 10_000;

/** Failures of one account name within the window that lock it. */
export const LOCKOUT_FAILURES = 10;
export const FAILURE_WINDOW_MS = 15 * 60_000;
export const LOCKOUT_MS = 15 * 60_000;
/** Failures from one address within the window before each further attempt must wait (doubling, capped). */
export const ADDRESS_FREE_FAILURES = 20;
const ADDRESS_MAX_DELAY_MS = 5 * 60_000;
/** Used refresh-token hashes remembered per family for reuse detection. */
const USED_HASHES_KEPT = 32;
/** Revoked and expired families are kept a day, so a stolen token still gets the clear answer. */
const KEEP_ENDED_MS = 24 * 3600_000;
/** Names and addresses with failures tracked at most (beyond, the least recent unlocked are forgotten). */
const MAX_TRACKED_NAMES = 10_000;
/** Ended families and stale counters are pruned at most this often (sign-ins and failures trigger it). */
const PRUNE_EVERY_MS = 60_000;
const LOCKOUT = { failures: LOCKOUT_FAILURES, windowMs: FAILURE_WINDOW_MS, lockMs: LOCKOUT_MS };

function positiveInt(v: string | undefined): number | undefined {
  const n = v === undefined ? NaN : Number(v);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export type RefreshOutcome =
  | { ok: true; family: SessionFamily; refreshToken?: string }
  | { ok: false; code: 'refresh_invalid' | 'session_revoked' | 'session_expired' | 'refresh_reused'; family?: SessionFamily };

export type LoginGate = { ok: true } | { ok: false; code: 'account_locked'; untilMs: number } | { ok: false; code: 'too_many_attempts'; retryAfterMs: number };

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('base64url');
const TOKEN_PREFIX = 'mrt_';

export class Accounts {
  readonly #store: Store;
  readonly #sealer: TotpSealer;
  #prunedAtMs = 0;

  /** `sealSecret`: the root secret TOTP secrets are sealed under (the JWT signing secret). */
  constructor(store: Store, sealSecret: string) {
    this.#store = store;
    this.#sealer = new TotpSealer(sealSecret);
  }

  // --- Sessions -------------------------------------------------------------------------------

  /** Opens a new family; the refresh token is returned once and only its hash is kept. */
  async openSession(userId: string, userAgent?: string): Promise<{ sid: string; refreshToken: string }> {
    const now = Date.now();
    // Ended families would otherwise pile up (scripts that sign in every run).
    await this.#prune(now);
    const id = crypto.randomBytes(12).toString('base64url');
    const secret = crypto.randomBytes(32).toString('base64url');
    await this.#store.addSession({ id, userId, createdAtMs: now, lastUsedAtMs: now, currentHash: sha256(secret), usedHashes: [], ...(userAgent ? { userAgent: userAgent.slice(0, 200) } : {}) });
    return { sid: id, refreshToken: `${TOKEN_PREFIX}${id}.${secret}` };
  }

  /**
   * Trades a refresh token for the next one. `allowRace`: a just-replaced token (another tab of the
   * same browser refreshed first) is honoured without a new refresh token.
   */
  async refresh(token: string, { allowRace = false } = {}): Promise<RefreshOutcome> {
    const m = /^mrt_([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!m) return { ok: false, code: 'refresh_invalid' };
    const id = m[1]!;
    const hash = sha256(m[2]!);
    // Judged against memory; when that may be behind (another node opened or rotated the family a
    // moment ago) or another request rotated it between our read and our write, the store catches
    // up and the token is judged again, at most a few times.
    let synced = false;
    for (let attempt = 0; attempt < 3; attempt++) {
      const family = this.#store.session(id);
      const now = Date.now();
      if (family?.revokedAtMs !== undefined) return { ok: false, code: 'session_revoked', family };
      if (family && !this.#alive(family, now)) return { ok: false, code: 'session_expired', family };
      if (family && hash === family.currentHash) {
        const secret = crypto.randomBytes(32).toString('base64url');
        if (await this.#store.rotateSession(id, hash, sha256(secret), now, USED_HASHES_KEPT)) {
          return { ok: true, family: this.#store.session(id) ?? family, refreshToken: `${TOKEN_PREFIX}${id}.${secret}` };
        }
        continue;
      }
      if (family && allowRace && hash === family.previousHash && family.rotatedAtMs !== undefined && now - family.rotatedAtMs < REFRESH_RACE_GRACE_MS) {
        return { ok: true, family };
      }
      if (family?.usedHashes.includes(hash)) {
        await this.revokeFamily(id, 'refresh_reused');
        return { ok: false, code: 'refresh_reused', family };
      }
      if (synced) break;
      await this.#store.sync().catch(() => undefined); // unreachable: judged on what memory holds
      synced = true;
    }
    return { ok: false, code: 'refresh_invalid' };
  }

  /** The family behind an access token's `sid` still stands (not revoked, not expired, same user). */
  sessionActive(sid: string, userId: string): boolean {
    const family = this.#store.session(sid);
    return family !== undefined && family.userId === userId && family.revokedAtMs === undefined && this.#alive(family, Date.now());
  }

  /** The family of a refresh token, without using it (logout with the cookie). */
  familyOfRefreshToken(token: string): { id: string; userId: string } | undefined {
    const m = /^mrt_([A-Za-z0-9_-]{16})\./.exec(token);
    const family = m ? this.#store.session(m[1]!) : undefined;
    return family ? { id: family.id, userId: family.userId } : undefined;
  }

  revokeFamily(sid: string, reason: string): Promise<boolean> {
    return this.#store.revokeSession(sid, reason, Date.now());
  }

  /** Revokes every active family of the user except `keep`; returns the revoked family ids. */
  revokeUserSessions(userId: string, reason: string, keep?: string): Promise<string[]> {
    return this.#store.revokeSessionsOf(userId, reason, Date.now(), keep);
  }

  activeSessions(userId: string): { id: string; createdAtMs: number; lastUsedAtMs: number; userAgent?: string }[] {
    const now = Date.now();
    return this.#store
      .sessionsOf(userId)
      .filter((f) => f.revokedAtMs === undefined && this.#alive(f, now))
      .map((f) => ({ id: f.id, createdAtMs: f.createdAtMs, lastUsedAtMs: f.lastUsedAtMs, ...(f.userAgent ? { userAgent: f.userAgent } : {}) }));
  }

  /** When the family ends by itself (idle or absolute), for the cookie's lifetime. */
  sessionEndsAtMs(sid: string): number | undefined {
    const f = this.#store.session(sid);
    return f ? sessionEnd(f) : undefined;
  }

  #alive(family: SessionFamily, now: number): boolean {
    return now < sessionEnd(family);
  }

  // --- Throttling and lockout -------------------------------------------------------------------

  /** May a login for `username` from `address` be tried now? Asked before the password is checked. */
  loginGate(username: string, address: string | undefined): LoginGate {
    const now = Date.now();
    const until = this.lockedUntilMs(username);
    if (until !== undefined) return { ok: false, code: 'account_locked', untilMs: until };
    const recent = address ? (this.#store.addressFailures(address)?.at ?? []).filter((t) => t > now - FAILURE_WINDOW_MS) : [];
    if (recent.length >= ADDRESS_FREE_FAILURES) {
      const delay = Math.min(ADDRESS_MAX_DELAY_MS, 1000 * 2 ** (recent.length - ADDRESS_FREE_FAILURES));
      const waitMs = recent[recent.length - 1]! + delay - now;
      if (waitMs > 0) return { ok: false, code: 'too_many_attempts', retryAfterMs: waitMs };
    }
    return { ok: true };
  }

  /** Counts a failed login; returns the lockout end when this failure locked the name. */
  async loginFailed(username: string, address: string | undefined): Promise<{ lockedUntilMs?: number; failures: number }> {
    const now = Date.now();
    if (address) await this.#store.recordAddressFailure(address, now, FAILURE_WINDOW_MS);
    const result = await this.#store.recordLoginFailure(username.toLowerCase(), now, LOCKOUT);
    // A spray of names or addresses: keep what is counted bounded (checked at most once a minute).
    if (this.#store.trackedFailures() > MAX_TRACKED_NAMES) await this.#prune(now);
    return result;
  }

  /**
   * The password (and code) were right: decided in the store, which may know of a lockout this
   * node has not heard of yet. Returns the lockout's end when the name is locked after all.
   */
  loginSucceeded(username: string): Promise<number | undefined> {
    return this.#store.admitLogin(username.toLowerCase(), Date.now());
  }

  lockedUntilMs(username: string): number | undefined {
    const until = this.#store.loginFailures(username.toLowerCase())?.lockedUntilMs;
    return until && until > Date.now() ? until : undefined;
  }

  /** An administrator lifts a lockout (and forgets the failures). Returns whether it was locked. */
  unlock(username: string): Promise<boolean> {
    return this.#store.clearLoginFailures(username.toLowerCase(), Date.now());
  }

  // --- TOTP --------------------------------------------------------------------------------------

  totpEnabled(userId: string): boolean {
    return this.#store.totpKey(userId)?.enabled === true;
  }

  /** A new secret waiting for its first code (replaces an unconfirmed one). Refused while one is enabled. */
  async beginTotp(userId: string, username: string): Promise<{ secret: string; uri: string } | undefined> {
    if (this.totpEnabled(userId)) return undefined;
    const secret = newTotpSecret();
    if (!(await this.#store.beginTotp(userId, this.#sealer.seal(secret, userId)))) return undefined;
    const b32 = base32Encode(secret);
    return { secret: b32, uri: otpauthUri(b32, username) };
  }

  /**
   * Checks a code against the user's (pending or enabled) secret and burns its step: 'ok',
   * 'reused' (this or a later code was already accepted), 'invalid', or 'none' (no secret).
   */
  async useTotpCode(userId: string, code: string, { pending = false } = {}): Promise<'ok' | 'reused' | 'invalid' | 'none'> {
    const entry = this.#store.totpKey(userId);
    if (!entry || entry.enabled === pending) return 'none';
    const secret = this.#sealer.open(entry.sealed, userId);
    if (!secret) return 'none';
    const step = matchTotp(secret, code.trim());
    if (step === undefined) return 'invalid';
    // Burnt atomically: the same code sent to two nodes at once is accepted once.
    return (await this.#store.useTotpStep(userId, step, pending)) ? 'ok' : 'reused';
  }

  disableTotp(userId: string): Promise<void> {
    return this.#store.deleteTotp(userId);
  }

  /** The user was deleted: forget everything about them. */
  async forgetUser(userId: string): Promise<void> {
    await this.revokeUserSessions(userId, 'user_deleted');
    await this.#store.deleteTotp(userId);
  }

  async #prune(now: number): Promise<void> {
    if (now - this.#prunedAtMs < PRUNE_EVERY_MS) return;
    this.#prunedAtMs = now;
    await this.#store.pruneAccounts(now, sessionEnd, KEEP_ENDED_MS, FAILURE_WINDOW_MS, MAX_TRACKED_NAMES);
  }

  /** For logs and the account page, never the secrets. */
  summary(userId: string): { totpEnabled: boolean; sessions: number } {
    return { totpEnabled: this.totpEnabled(userId), sessions: this.activeSessions(userId).length };
  }
}

/** When a family ends by itself: unused too long, or too long after sign-in. */
export function sessionEnd(f: SessionFamily): number {
  return Math.min(f.lastUsedAtMs + SESSION_IDLE_MS, f.createdAtMs + SESSION_ABSOLUTE_MS);
}

/** The answer when an access or refresh token's session family no longer stands. */
export const sessionRevoked = () =>
  new ApiError(401, 'session_revoked', 'this session was signed out (here or with "sign out everywhere"), revoked by an administrator, or has ended; sign in again');
