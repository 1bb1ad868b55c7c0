// A right taken away is taken away everywhere: every change of the store — made by this node or
// learnt from another one sharing its database — that takes something away stops the live
// connections that relied on it, in the step the change reaches memory. Routes therefore change
// the store and nothing else; this is the one place that turns lost rights into stopped video.
import type { Hub } from './Hub.ts';
import type { Change, Store, User } from './store/index.ts';

export class Revocations {
  readonly #store: Store;
  readonly #hub: Hub;
  readonly #listener = (change: Change) => this.#changed(change);

  constructor(store: Store, hub: Hub) {
    this.#store = store;
    this.#hub = hub;
    store.on('change', this.#listener);
  }

  close(): void {
    this.#store.off('change', this.#listener);
  }

  #changed(change: Change): void {
    switch (change.table) {
      case 'users': {
        const { before, after } = change;
        if (!after) this.#hub.userSessionsRevoked(change.key);
        else if (before && before.role !== after.role) this.#liveRightsChanged(after);
        break;
      }
      case 'grants': {
        const userId = (change.after ?? change.before)!.userId;
        const user = this.#store.userById(userId);
        if (user) this.#liveRightsChanged(user);
        break;
      }
      case 'groups': {
        // What a group covers changed: every grant on it may now cover less.
        const { before, after } = change;
        if (after && before && sameMembers(before.cameraIds, after.cameraIds)) break;
        for (const user of this.#store.usersOf((after ?? before)!.orgId)) this.#liveRightsChanged(user);
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

  /** The user's live views of cameras they may no longer watch stop at once. */
  #liveRightsChanged(user: User): void {
    const rightsOn = this.#store.rightsOf(user);
    this.#hub.rightsChanged(user.id, (cameraId) => rightsOn(cameraId).has('live'));
  }
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}
