// Account security state kept beside the main store, in DATA_DIR/accounts.json (0600): refresh-token
// session families (only hashes of refresh tokens), failed-login counters and lockouts, and TOTP
// second factors (sealed). Users themselves (names, roles, password hashes) stay in the store.
//
// Sessions: signing in opens a *family* (its id is the `sid` claim of every access token issued in
// it). The browser or API client holds one refresh token of the family at a time; each refresh
// replaces it (single use). Presenting an already-used refresh token means it was copied: the whole
// family is revoked. Access tokens are short-lived (ACCESS_TOKEN_TTL_S) and every request checks
// that their family is still active, so "sign out everywhere" takes effect at once.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApiError } from '../errors.ts';
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
const MAX_TRACKED_NAMES = 10_000;

function positiveInt(v: string | undefined): number | undefined {
  const n = v === undefined ? NaN : Number(v);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

interface Family {
  id: string;
  userId: string;
  createdAtMs: number;
  lastUsedAtMs: number;
  currentHash: string;
  /** The hash replaced by the last rotation, and when (the two-tabs grace). */
  previousHash?: string;
  rotatedAtMs?: number;
  usedHashes: string[];
  revokedAtMs?: number;
  revokedReason?: string;
  userAgent?: string;
}

interface Failures {
  /** Times (ms) of failures within the window. */
  at: number[];
  lockedUntilMs?: number;
}

interface TotpState {
  sealed: string;
  enabled: boolean;
  /** The last step whose code was accepted: a code is good once. */
  lastStep?: number;
}

interface State {
  version: 1;
  families: Record<string, Family>;
  /** Keyed by the lower-cased name as typed, whether or not such an account exists. */
  failures: Record<string, Failures>;
  totp: Record<string, TotpState>;
}

export type RefreshOutcome =
  | { ok: true; family: Family; refreshToken?: string }
  | { ok: false; code: 'refresh_invalid' | 'session_revoked' | 'session_expired' | 'refresh_reused'; family?: Family };

export type LoginGate = { ok: true } | { ok: false; code: 'account_locked'; untilMs: number } | { ok: false; code: 'too_many_attempts'; retryAfterMs: number };

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('base64url');
const TOKEN_PREFIX = 'mrt_';

export class Accounts {
  readonly #file: string;
  readonly #state: State;
  readonly #sealer: TotpSealer;
  /** Per address, in memory only (addresses change; a restart forgiving them is fine). */
  readonly #addressFailures = new Map<string, number[]>();
  #writing: Promise<void> = Promise.resolve();
  /** The write that will take the next state, while it has not started (see #save). */
  #queued: Promise<void> | undefined;

  private constructor(file: string, state: State, sealer: TotpSealer) {
    this.#file = file;
    this.#state = state;
    this.#sealer = sealer;
  }

  /** `sealSecret`: the root secret TOTP secrets are sealed under (the JWT signing secret). */
  static async open(dataDir: string, sealSecret: string): Promise<Accounts> {
    const file = path.join(dataDir, 'accounts.json');
    let state: State = { version: 1, families: {}, failures: {}, totp: {} };
    try {
      const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<State>;
      state = { version: 1, families: parsed.families ?? {}, failures: parsed.failures ?? {}, totp: parsed.totp ?? {} };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${file}: ${(err as Error).message}; fix or remove the file (removing it signs everyone out and turns TOTP off)`);
    }
    const accounts = new Accounts(file, state, new TotpSealer(sealSecret));
    accounts.#prune();
    await accounts.#save();
    return accounts;
  }

  // --- Sessions -------------------------------------------------------------------------------

  /** Opens a new family; the refresh token is returned once and only its hash is kept. */
  async openSession(userId: string, userAgent?: string): Promise<{ sid: string; refreshToken: string }> {
    const now = Date.now();
    // Ended families would otherwise pile up between restarts (scripts that sign in every run).
    this.#prune();
    const id = crypto.randomBytes(12).toString('base64url');
    const secret = crypto.randomBytes(32).toString('base64url');
    this.#state.families[id] = { id, userId, createdAtMs: now, lastUsedAtMs: now, currentHash: sha256(secret), usedHashes: [], ...(userAgent ? { userAgent: userAgent.slice(0, 200) } : {}) };
    await this.#save();
    return { sid: id, refreshToken: `${TOKEN_PREFIX}${id}.${secret}` };
  }

  /**
   * Trades a refresh token for the next one. `allowRace`: a just-replaced token (another tab of the
   * same browser refreshed first) is honoured without a new refresh token.
   */
  async refresh(token: string, { allowRace = false } = {}): Promise<RefreshOutcome> {
    const m = /^mrt_([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/.exec(token);
    const family = m ? this.#state.families[m[1]!] : undefined;
    if (!m || !family) return { ok: false, code: 'refresh_invalid' };
    if (family.revokedAtMs) return { ok: false, code: 'session_revoked', family };
    const now = Date.now();
    if (!this.#alive(family, now)) return { ok: false, code: 'session_expired', family };
    const hash = sha256(m[2]!);
    if (hash === family.currentHash) {
      const secret = crypto.randomBytes(32).toString('base64url');
      family.usedHashes = [...family.usedHashes, hash].slice(-USED_HASHES_KEPT);
      family.previousHash = hash;
      family.rotatedAtMs = now;
      family.currentHash = sha256(secret);
      family.lastUsedAtMs = now;
      await this.#save();
      return { ok: true, family, refreshToken: `${TOKEN_PREFIX}${family.id}.${secret}` };
    }
    if (allowRace && hash === family.previousHash && family.rotatedAtMs !== undefined && now - family.rotatedAtMs < REFRESH_RACE_GRACE_MS) {
      return { ok: true, family };
    }
    if (family.usedHashes.includes(hash)) {
      await this.revokeFamily(family.id, 'refresh_reused');
      return { ok: false, code: 'refresh_reused', family };
    }
    return { ok: false, code: 'refresh_invalid' };
  }

  /** The family behind an access token's `sid` still stands (not revoked, not expired, same user). */
  sessionActive(sid: string, userId: string): boolean {
    const family = this.#state.families[sid];
    return family !== undefined && family.userId === userId && !family.revokedAtMs && this.#alive(family, Date.now());
  }

  /** The family of a refresh token, without using it (logout with the cookie). */
  familyOfRefreshToken(token: string): { id: string; userId: string } | undefined {
    const m = /^mrt_([A-Za-z0-9_-]{16})\./.exec(token);
    const family = m ? this.#state.families[m[1]!] : undefined;
    return family ? { id: family.id, userId: family.userId } : undefined;
  }

  async revokeFamily(sid: string, reason: string): Promise<boolean> {
    const family = this.#state.families[sid];
    if (!family || family.revokedAtMs) return false;
    family.revokedAtMs = Date.now();
    family.revokedReason = reason;
    await this.#save();
    return true;
  }

  /** Revokes every active family of the user except `keep`; returns the revoked family ids. */
  async revokeUserSessions(userId: string, reason: string, keep?: string): Promise<string[]> {
    const now = Date.now();
    const revoked: string[] = [];
    for (const family of Object.values(this.#state.families)) {
      if (family.userId !== userId || family.revokedAtMs || family.id === keep) continue;
      family.revokedAtMs = now;
      family.revokedReason = reason;
      revoked.push(family.id);
    }
    if (revoked.length) await this.#save();
    return revoked;
  }

  activeSessions(userId: string): { id: string; createdAtMs: number; lastUsedAtMs: number; userAgent?: string }[] {
    const now = Date.now();
    return Object.values(this.#state.families)
      .filter((f) => f.userId === userId && !f.revokedAtMs && this.#alive(f, now))
      .map((f) => ({ id: f.id, createdAtMs: f.createdAtMs, lastUsedAtMs: f.lastUsedAtMs, ...(f.userAgent ? { userAgent: f.userAgent } : {}) }));
  }

  /** When the family ends by itself (idle or absolute), for the cookie's lifetime. */
  sessionEndsAtMs(sid: string): number | undefined {
    const f = this.#state.families[sid];
    return f ? Math.min(f.lastUsedAtMs + SESSION_IDLE_MS, f.createdAtMs + SESSION_ABSOLUTE_MS) : undefined;
  }

  #alive(family: Family, now: number): boolean {
    return now < family.createdAtMs + SESSION_ABSOLUTE_MS && now < family.lastUsedAtMs + SESSION_IDLE_MS;
  }

  // --- Throttling and lockout -------------------------------------------------------------------

  /** May a login for `username` from `address` be tried now? Asked before the password is checked. */
  loginGate(username: string, address: string | undefined): LoginGate {
    const now = Date.now();
    const name = this.#state.failures[username.toLowerCase()];
    if (name?.lockedUntilMs && name.lockedUntilMs > now) return { ok: false, code: 'account_locked', untilMs: name.lockedUntilMs };
    const recent = this.#recentAddressFailures(address, now);
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
    if (address) this.#addressFailures.set(address, [...this.#recentAddressFailures(address, now), now].slice(-64));
    if (this.#addressFailures.size > MAX_TRACKED_NAMES) {
      for (const [a, times] of this.#addressFailures) if (times.every((t) => t <= now - FAILURE_WINDOW_MS)) this.#addressFailures.delete(a);
    }
    const key = username.toLowerCase();
    const entry = this.#state.failures[key] ?? { at: [] };
    entry.at = [...entry.at.filter((t) => t > now - FAILURE_WINDOW_MS), now].slice(-LOCKOUT_FAILURES);
    let lockedUntilMs: number | undefined;
    if (entry.at.length >= LOCKOUT_FAILURES) {
      lockedUntilMs = entry.lockedUntilMs = now + LOCKOUT_MS;
      entry.at = [];
    }
    this.#state.failures[key] = entry;
    this.#capFailures();
    await this.#save();
    return { failures: entry.at.length, ...(lockedUntilMs ? { lockedUntilMs } : {}) };
  }

  async loginSucceeded(username: string): Promise<void> {
    if (!this.#state.failures[username.toLowerCase()]) return;
    delete this.#state.failures[username.toLowerCase()];
    await this.#save();
  }

  lockedUntilMs(username: string): number | undefined {
    const until = this.#state.failures[username.toLowerCase()]?.lockedUntilMs;
    return until && until > Date.now() ? until : undefined;
  }

  /** An administrator lifts a lockout (and forgets the failures). Returns whether it was locked. */
  async unlock(username: string): Promise<boolean> {
    const was = this.lockedUntilMs(username) !== undefined;
    delete this.#state.failures[username.toLowerCase()];
    await this.#save();
    return was;
  }

  #recentAddressFailures(address: string | undefined, now: number): number[] {
    if (!address) return [];
    return (this.#addressFailures.get(address) ?? []).filter((t) => t > now - FAILURE_WINDOW_MS);
  }

  #capFailures(): void {
    const keys = Object.keys(this.#state.failures);
    if (keys.length <= MAX_TRACKED_NAMES) return;
    this.#prune();
    for (const key of Object.keys(this.#state.failures).slice(0, Math.max(0, keys.length - MAX_TRACKED_NAMES))) delete this.#state.failures[key];
  }

  // --- TOTP --------------------------------------------------------------------------------------

  totpEnabled(userId: string): boolean {
    return this.#state.totp[userId]?.enabled === true;
  }

  /** A new secret waiting for its first code (replaces an unconfirmed one). Refused while one is enabled. */
  async beginTotp(userId: string, username: string): Promise<{ secret: string; uri: string } | undefined> {
    if (this.totpEnabled(userId)) return undefined;
    const secret = newTotpSecret();
    this.#state.totp[userId] = { sealed: this.#sealer.seal(secret, userId), enabled: false };
    await this.#save();
    const b32 = base32Encode(secret);
    return { secret: b32, uri: otpauthUri(b32, username) };
  }

  /**
   * Checks a code against the user's (pending or enabled) secret and burns its step: 'ok',
   * 'reused' (this or a later code was already accepted), 'invalid', or 'none' (no secret).
   */
  async useTotpCode(userId: string, code: string, { pending = false } = {}): Promise<'ok' | 'reused' | 'invalid' | 'none'> {
    const entry = this.#state.totp[userId];
    if (!entry || entry.enabled === pending) return 'none';
    const secret = this.#sealer.open(entry.sealed, userId);
    if (!secret) return 'none';
    const step = matchTotp(secret, code.trim());
    if (step === undefined) return 'invalid';
    if (entry.lastStep !== undefined && step <= entry.lastStep) return 'reused';
    entry.lastStep = step;
    if (pending) entry.enabled = true;
    await this.#save();
    return 'ok';
  }

  async disableTotp(userId: string): Promise<void> {
    delete this.#state.totp[userId];
    await this.#save();
  }

  /** The user was deleted: forget everything about them. */
  async forgetUser(userId: string): Promise<void> {
    await this.revokeUserSessions(userId, 'user_deleted');
    delete this.#state.totp[userId];
    await this.#save();
  }

  // --- File --------------------------------------------------------------------------------------

  #prune(): void {
    const now = Date.now();
    for (const [id, f] of Object.entries(this.#state.families)) {
      // Revoked and expired families are kept a day, so a stolen token still gets the clear answer.
      const endedAt = f.revokedAtMs ?? Math.min(f.lastUsedAtMs + SESSION_IDLE_MS, f.createdAtMs + SESSION_ABSOLUTE_MS);
      if (endedAt + 24 * 3600_000 < now) delete this.#state.families[id];
    }
    for (const [key, e] of Object.entries(this.#state.failures)) {
      if ((e.lockedUntilMs ?? 0) < now && e.at.every((t) => t <= now - FAILURE_WINDOW_MS)) delete this.#state.failures[key];
    }
  }

  /**
   * Writes are serialized and atomic (temp file + rename), 0600: the file holds secrets. Saves that
   * arrive while a write runs share the next write, which takes the state as it is when it starts:
   * under many refreshes at once, one write per turn instead of one per refresh.
   */
  #save(): Promise<void> {
    if (!this.#queued) {
      this.#queued = this.#writing
        .catch(() => undefined)
        .then(async () => {
          this.#queued = undefined;
          const text = JSON.stringify(this.#state);
          const tmp = `${this.#file}.${process.pid}.tmp`;
          await fs.writeFile(tmp, text, { mode: 0o600 });
          await fs.rename(tmp, this.#file);
        });
      this.#writing = this.#queued;
    }
    return this.#queued;
  }

  /** For logs and the account page, never the secrets. */
  summary(userId: string): { totpEnabled: boolean; sessions: number } {
    return { totpEnabled: this.totpEnabled(userId), sessions: this.activeSessions(userId).length };
  }
}

/** The answer when an access or refresh token's session family no longer stands. */
export const sessionRevoked = () =>
  new ApiError(401, 'session_revoked', 'this session was signed out (here or with "sign out everywhere"), revoked by an administrator, or has ended; sign in again');
