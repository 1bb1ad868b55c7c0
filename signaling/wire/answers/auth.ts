// Answers of /api/auth: signing in, the signed-in account and its sessions, second factors, and
// what an administrator does to another user's sign-ins.
import { z } from 'zod';
import { ROLES, type Role } from '../domain.ts';

export const PublicUser = z
  .object({
    id: z.string(),
    username: z.string(),
    role: z.enum(ROLES as [Role, ...Role[]]).describe('admin: everything in the organisation; operator and viewer: the rights granted to them on cameras'),
    orgId: z.string().describe('The organisation the user belongs to'),
    platform: z.literal(true).optional().describe('Present (true) only for an operator of the service itself, who creates organisations'),
  })
  .describe('A user account as the API shows it (never its password or second factor)');
/** GET /api/auth/me. */
export const SignedInUser = z.object({ user: PublicUser });
export const SignedIn = z.object({
  token: z.string().describe('The access token (a JWT): send it as "Authorization: Bearer <token>". It lasts 10 minutes unless the service sets MIMAMORI_ACCESS_TOKEN_TTL_S'),
  expiresAt: z.string().describe('When the access token expires (ISO 8601, UTC)'),
  refreshToken: z
    .string()
    .optional()
    .describe('Single use: trade it at POST /api/auth/refresh for the next access token and the next refresh token. Sent to API clients only; a browser (X-Mimamori-Client: 1) gets it in the HttpOnly cookie alone'),
  user: PublicUser,
});
const SessionInfo = z.object({
  id: z.string().describe('The session (sign-in) id: the `sid` of its access tokens'),
  createdAtMs: z.number().int().describe('Signed in at (ms since the epoch)'),
  lastUsedAtMs: z.number().int().describe('Last refreshed at (ms since the epoch)'),
  userAgent: z.string().optional().describe('The browser or client that signed in (first 200 characters), when it said'),
});
export const Account = z.object({
  user: PublicUser,
  totpEnabled: z.boolean().describe('Whether two-step sign-in (an authenticator app) is on'),
  sessions: z.array(SessionInfo).describe('The account\'s active sessions (signed in and not ended), this one included'),
});
/** Signing out everywhere: the caller's own sessions, or (an administrator) another user's. */
export const SessionsRevoked = z.object({ revoked: z.number().int().min(0).describe('How many sessions were ended') });
export const PasswordChanged = z.object({ ok: z.literal(true), otherSessionsRevoked: z.number().int().min(0).describe('How many other sessions were signed out (this one stays signed in)') });
export const TotpSetup = z.object({
  secret: z.string().describe('The new authenticator secret, base32 (for typing into an authenticator app)'),
  uri: z.string().describe('The otpauth://totp/ URI of the secret (SHA1, 6 digits, 30 s), for a QR code'),
});
export const TotpState = z.object({ totpEnabled: z.boolean().describe('Whether two-step sign-in is on now') });
export const AccountUnlocked = z.object({ unlocked: z.literal(true), wasLocked: z.boolean().describe('Whether the account was locked (false: nothing to lift, its failure count was reset)') });
