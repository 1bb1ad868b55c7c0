// Who may do what with a camera, whoever is asking: a signed-in user, an opened share link, a
// kiosk display or an API key. Every request re-checks it (a revoked grant, share or kiosk stops at once).
//
//   const access = accessOf(deps, principal);    // throws if the principal is gone or revoked
//   access.require(cameraId, 'playback', { fromMs, toMs });

import { apiKeyRightsOf, assertStanding, invalidApiKey } from './apiKeys.ts';
import { cameraSecretMatches, type Claims, type Principal } from './auth.ts';
import type { Deps } from './context.ts';
import { ApiError, notFound, unauthorized } from './errors.ts';
import { sessionRevoked } from './accounts/index.ts';
import type { ApiKey, Camera, Kiosk, Right, Share, User } from './store/index.ts';

export type { Right };

export interface Access {
  principal: Principal;
  user?: User;
  share?: Share;
  kiosk?: Kiosk;
  apiKey?: ApiKey;
  /** The organisation a user or API key acts in (share links and kiosks: none). */
  orgId?: string;
  /** The signed-in session a user's token belongs to: tokens issued from it (playback, downloads) end with it. */
  sessionId?: string;
  /** Every right on the camera (none: the caller may not see it). */
  rightsOn(cameraId: string): ReadonlySet<Right>;
  /**
   * Throws unless the right is allowed: 404 when the caller may not see the camera at all (its
   * existence is not revealed), 403 `right_missing` when they see it but lack this right.
   */
  require(cameraId: string, right: Right, range?: { fromMs: number; toMs: number }): void;
  may(cameraId: string, right: Right): boolean;
}

export const shareGone = (share: Share | undefined, id: string): ApiError | undefined => {
  if (!share) return new ApiError(404, 'share_not_found', `there is no share link "${id}"; check that the whole link was copied`);
  if (share.revokedAt) return new ApiError(410, 'share_revoked', 'this share link was revoked by the person who shared it; ask them for a new one');
  if (Date.parse(share.expiresAt) <= Date.now()) return new ApiError(410, 'share_expired', `this share link expired at ${share.expiresAt}; ask the person who shared it for a new one`);
  return undefined;
};

const RIGHT_NAMES: Record<Right, string> = {
  live: 'watch this camera live',
  playback: 'play its recordings',
  export: 'export or download its recordings',
  share: 'share it',
  manage: 'change its settings',
};
export const rightMissing = (right: Right) =>
  new ApiError(403, 'right_missing', `you may not ${RIGHT_NAMES[right]}; ask an administrator of your organisation for the "${right}" right`);

export const kioskRevoked = () => new ApiError(401, 'kiosk_revoked', 'this display was revoked or its token was replaced by an administrator; open the new kiosk link');

/** `generation`: a kiosk access token's generation, checked against the kiosk's current one. */
export function accessOf(deps: Deps, principal: Principal, generation?: number): Access {
  const id = principal.slice(2);
  switch (principal[0]) {
    case 'u': {
      const user = deps.store.userById(id);
      if (!user) throw unauthorized('this account no longer exists');
      // Methods rather than arrow fields: an access is made per request, and under tsx each named
      // arrow costs a defineProperty call (its kept name) every time.
      return {
        principal,
        user,
        orgId: user.orgId,
        rightsOn: lazyRights(() => deps.store.rightsOf(user)),
        may(cameraId, right) {
          return deps.store.rightsOn(user, cameraId).has(right);
        },
        require(cameraId, right) {
          const rights = deps.store.rightsOn(user, cameraId);
          if (rights.size === 0) throw notFound('camera', cameraId);
          if (!rights.has(right)) throw rightMissing(right);
        },
      };
    }
    case 's': {
      const share = deps.store.share(id);
      const gone = shareGone(share, id);
      if (gone || !share) throw gone;
      const may = (cameraId: string, right: Right) =>
        cameraId === share.cameraId && deps.store.camera(cameraId) !== undefined && (share.kind === 'live' ? right === 'live' : right === 'playback' || right === 'export');
      return {
        principal,
        share,
        rightsOn: (cameraId) => new Set((['live', 'playback', 'export'] as const).filter((r) => may(cameraId, r))),
        may,
        require(cameraId, right, range) {
          if (!may(cameraId, right)) throw notFound('camera', cameraId);
          if (range && share.kind === 'clip' && (range.fromMs < share.fromMs! - 1000 || range.toMs > share.toMs! + 1000)) {
            throw new ApiError(403, 'outside_share', 'this share link covers only its own clip; stay inside its time range');
          }
        },
      };
    }
    case 'a': {
      // Re-checked on every use (a playback token or live connection of a key that was revoked since stops).
      const key = deps.store.apiKey(id);
      if (!key) throw invalidApiKey();
      assertStanding(deps.store, key);
      const rightsOn = lazyRights(() => apiKeyRightsOf(deps.store, key));
      return {
        principal,
        apiKey: key,
        orgId: key.orgId,
        rightsOn,
        may(cameraId, right) {
          return rightsOn(cameraId).has(right);
        },
        require(cameraId, right) {
          const rights = rightsOn(cameraId);
          if (rights.size === 0) throw notFound('camera', cameraId);
          if (!rights.has(right)) throw apiKeyRightMissing(key.scope, right);
        },
      };
    }
    default: {
      const kiosk = deps.store.kiosk(id);
      if (!kiosk || (generation !== undefined && generation !== kiosk.generation)) throw kioskRevoked();
      const may = (cameraId: string, right: Right) => right === 'live' && kiosk.cameraIds.includes(cameraId) && deps.store.camera(cameraId) !== undefined;
      return {
        principal,
        kiosk,
        rightsOn: (cameraId) => new Set(may(cameraId, 'live') ? (['live'] as const) : []),
        may,
        require(cameraId, right) {
          if (!may(cameraId, right)) throw notFound('camera', cameraId);
        },
      };
    }
  }
}

/**
 * The access of whoever a token speaks for: a user, an opened share, a kiosk (its generation
 * checked) or, for a playback token, whoever it was issued to. undefined for a camera's token.
 */
export function accessOfClaims(deps: Deps, claims: Claims): Access | undefined {
  switch (claims.typ) {
    case 'user':
      return { ...accessOf(deps, `u:${claims.sub}`), sessionId: claims.sid };
    case 'share':
      return accessOf(deps, `s:${claims.sub}`);
    case 'kiosk':
      return accessOf(deps, `k:${claims.sub}`, claims.gen);
    case 'playback':
      // Issued from a user's session: it ends when that session is signed out or revoked.
      if (claims.sid !== undefined && !deps.accounts.sessionActive(claims.sid, claims.by.slice(2))) throw sessionRevoked();
      return accessOf(deps, claims.by);
    case 'apikey':
      return accessOf(deps, `a:${claims.sub}`);
    case 'camera':
      return undefined;
  }
}

/** A rights function built on first use (most requests ask about one camera, or none). */
function lazyRights(build: () => (cameraId: string) => ReadonlySet<Right>): (cameraId: string) => ReadonlySet<Right> {
  let rights: ((cameraId: string) => ReadonlySet<Right>) | undefined;
  return (cameraId) => (rights ??= build())(cameraId);
}

export const apiKeyRightMissing = (scope: string, right: Right) =>
  new ApiError(403, 'right_missing', `this API key (scope "${scope}") may not ${RIGHT_NAMES[right]}; ask an administrator for a key whose scope allows "${right}"`);

/** The camera's secret, or the one it replaced while that one's grace period lasts (rotation without downtime). */
export function cameraSecretAccepted(cam: Camera, secret: string): boolean {
  if (cameraSecretMatches(secret, cam.secretHash)) return true;
  const previous = cam.previousSecret;
  return previous !== undefined && Date.parse(previous.until) > Date.now() && cameraSecretMatches(secret, previous.hash);
}

/** After a user's rights changed (grant, group, role): their live views of cameras they may no longer watch stop at once. */
export function liveRightsChanged(deps: Pick<Deps, 'hub' | 'store'>, user: User): void {
  const rightsOn = deps.store.rightsOf(user);
  deps.hub.rightsChanged(user.id, (cameraId) => rightsOn(cameraId).has('live'));
}
