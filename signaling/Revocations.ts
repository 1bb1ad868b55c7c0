// A right taken away is taken away everywhere: every change of the store — made by this node or
// learnt from another one sharing its database — that takes something away stops the live
// connections that relied on it, in the step the change reaches memory. Routes therefore change
// the store and nothing else; this is the one place that turns lost rights into stopped video.
import { apiKeyRightsOf, apiKeyState } from './apiKeys.ts';
import type { Hub } from './Hub.ts';
import type { ApiKey, Change, Store, User } from './store/index.ts';

const EXPIRY_CHECK_MS = 5000;

export class Revocations {
  readonly #store: Store;
  readonly #hub: Hub;
  readonly #listener = (change: Change) => this.#changed(change);
  /** API keys expire without a change of the store: looked at every EXPIRY_CHECK_MS. */
  readonly #expiryTimer: NodeJS.Timeout;
  /** Keys whose expiry was already turned into stopped connections. */
  readonly #expired = new Set<string>();

  constructor(store: Store, hub: Hub) {
    this.#store = store;
    this.#hub = hub;
    store.on('change', this.#listener);
    this.#expiryTimer = setInterval(() => this.#expireKeys(), EXPIRY_CHECK_MS);
    this.#expiryTimer.unref();
  }

  close(): void {
    this.#store.off('change', this.#listener);
    clearInterval(this.#expiryTimer);
  }

  /** Live views of keys that expired since the last look stop (within EXPIRY_CHECK_MS of the expiry). */
  #expireKeys(): void {
    const now = Date.now();
    for (const org of this.#store.orgs) {
      for (const key of this.#store.apiKeysOf(org.id)) {
        if (!key.expiresAt || Date.parse(key.expiresAt) > now || this.#expired.has(key.id)) continue;
        this.#expired.add(key.id);
        this.#hub.principalRevoked(`a:${key.id}`, 'grant_revoked', 'the API key expired');
      }
    }
  }

  #changed(change: Change): void {
    switch (change.table) {
      case 'users': {
        const { before, after } = change;
        if (!after) this.#hub.userSessionsRevoked(change.key);
        else if (before && before.role !== after.role) this.#liveRightsChanged(after);
        // The keys this administrator created stop when they are demoted or deleted.
        if (!after || (before && before.role !== after.role)) for (const key of this.#store.apiKeysOf((after ?? before)!.orgId)) if (key.createdBy === change.key) this.#keyChanged(key);
        break;
      }
      case 'grants': {
        const userId = (change.after ?? change.before)!.userId;
        const user = this.#store.userById(userId);
        if (user) this.#liveRightsChanged(user);
        break;
      }
      case 'groups': {
        // What a group covers changed (its cameras, or where it sits: a grant on a site covers its
        // floors): every grant on it, or on a group above it, may now cover less.
        const { before, after } = change;
        if (after && before && sameMembers(before.cameraIds, after.cameraIds) && before.parentId === after.parentId) break;
        for (const user of this.#store.usersOf((after ?? before)!.orgId)) this.#liveRightsChanged(user);
        for (const key of this.#store.apiKeysOf((after ?? before)!.orgId)) if (key.cameraGroupId !== undefined) this.#keyChanged(key);
        break;
      }
      case 'apiKeys': {
        const { after } = change;
        if (!after) this.#hub.principalRevoked(`a:${change.key}`, 'grant_revoked', 'the API key was removed');
        else this.#keyChanged(after);
        break;
      }
      case 'cameras':
        if (!change.after) this.#hub.cameraRemoved(change.key);
        break;
      case 'sessions': {
        const { before, after } = change;
        const family = after ?? before!;
        if (after && (after.revokedAtMs === undefined || before?.revokedAtMs !== undefined)) break;
        this.#hub.userSessionsRevoked(family.userId, [family.id]);
        // A user left with no session at all keeps no connection either (WHEP players carry no session id).
        const standing = this.#store.sessionsOf(family.userId).some((f) => f.revokedAtMs === undefined);
        if (!standing) this.#hub.userSessionsRevoked(family.userId);
        break;
      }
      case 'shares': {
        const { before, after } = change;
        if (!after) this.#hub.principalRevoked(`s:${change.key}`, 'share_revoked', 'the share link was revoked');
        else if (after.revokedAt && !before?.revokedAt) this.#hub.principalRevoked(`s:${change.key}`, 'share_revoked', 'the share link was revoked');
        break;
      }
      case 'kiosks': {
        const { before, after } = change;
        if (!after) this.#hub.principalRevoked(`k:${change.key}`, 'kiosk_revoked', 'the kiosk was revoked');
        else if (before && after.generation !== before.generation) this.#hub.principalRevoked(`k:${change.key}`, 'kiosk_revoked', 'the kiosk token was replaced');
        break;
      }
      default:
        break;
    }
  }

  /** A key that no longer works ends its live views; one that still works keeps those it may still watch. */
  #keyChanged(key: ApiKey): void {
    const principal = `a:${key.id}`;
    const state = apiKeyState(this.#store, key);
    if (state !== 'active') {
      this.#hub.principalRevoked(principal, 'grant_revoked', state === 'revoked' ? 'the API key was revoked' : `the API key no longer works (${state})`);
      return;
    }
    const rightsOn = apiKeyRightsOf(this.#store, key);
    this.#hub.principalRightsChanged(principal, (cameraId) => rightsOn(cameraId).has('live'));
  }

  /** The user's live views of cameras they may no longer watch stop at once. */
  #liveRightsChanged(user: User): void {
    const rightsOn = this.#store.rightsOf(user);
    this.#hub.rightsChanged(user.id, (cameraId) => rightsOn(cameraId).has('live'));
  }
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}
