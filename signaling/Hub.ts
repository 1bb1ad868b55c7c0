// Who is connected, so that changes made through the REST API (a grant revoked, a camera
// deleted) and media events (a worker restart) reach the affected connections at once.
import type { Sfu } from '../sfu/index.ts';
import type { DeniedCode } from './protocol.ts';

/** What the hub needs of a connection (socket.io peer or WHIP/WHEP session). */
export interface Connection {
  readonly userId: string | undefined;
  /** `s:<shareId>`, `k:<kioskId>` or `a:<apiKeyId>` for share, kiosk and API-key viewers. */
  readonly principal?: string;
  /** A signed-in user's session family (the access token's sid), for "sign out" of one session. */
  readonly sessionId?: string;
  /** The share or kiosk behind this connection was revoked: stop everything, say why. */
  revoke?(code: DeniedCode, reason: string): void;
  joinedCameras(): Iterable<string>;
  /**
   * Drop this camera's media state and tell the client why: `media_reset` means join again (the
   * media worker restarted); a DeniedCode means stop.
   */
  dropCamera(cameraId: string, code: DeniedCode | 'media_reset', reason: string): void;
  /**
   * This node is leaving: a client that can, connects again (through the load balancer,
   * elsewhere) while this connection still plays, and ends it once the new one does. False when
   * it cannot be told (WHIP/WHEP sessions, a camera's own connection: that one is told to move).
   */
  leaving?(reason: string): boolean;
}

export class Hub {
  readonly #connections = new Set<Connection>();
  readonly #sfu: Sfu;

  constructor(sfu: Sfu) {
    this.#sfu = sfu;
    sfu.on('cameraReset', (cameraId, reason) => this.#drop(cameraId, 'media_reset', reason));
  }

  get size(): number {
    return this.#connections.size;
  }
  add(connection: Connection): void {
    this.#connections.add(connection);
  }
  remove(connection: Connection): void {
    this.#connections.delete(connection);
  }

  cameraRemoved(cameraId: string): void {
    this.#drop(cameraId, 'camera_deleted', 'the camera was deleted');
    this.#sfu.closeRoom(cameraId, 'camera deleted');
  }


  readonly #stopping = new AbortController();

  /** Aborted when the service stops: long-held requests (a camera's move poll) answer at once. */
  get stopping(): AbortSignal {
    return this.#stopping.signal;
  }

  /** The service stops: every long-held request is answered now, so the HTTP server can close. */
  stop(): void {
    this.#stopping.abort();
  }

  /** This node is leaving (a drain): the viewers that can move make-before-break are told so. */
  tellLeaving(reason: string): Connection[] {
    return [...this.#connections].filter((c) => c.leaving?.(reason));
  }

  /** How many of these are still connected here (a viewer that moved ends its old connection). */
  stillConnected(connections: readonly Connection[]): number {
    return connections.filter((c) => this.#connections.has(c)).length;
  }

  /** This node is leaving (a drain): every connection left is told to join again (through the load balancer, elsewhere). */
  moveAll(reason: string): void {
    for (const c of [...this.#connections]) for (const cameraId of [...c.joinedCameras()]) c.dropCamera(cameraId, 'media_reset', reason);
  }

  /** A user's rights changed (grant, group, role, removal): they lose at once every camera they may no longer watch. */
  rightsChanged(userId: string, mayWatch: (cameraId: string) => boolean): void {
    for (const c of [...this.#connections]) {
      if (c.userId !== userId) continue;
      for (const cameraId of [...c.joinedCameras()]) if (!mayWatch(cameraId)) c.dropCamera(cameraId, 'grant_revoked', 'your access to this camera was revoked');
    }
  }

  /** What an API key may watch changed (its group, its administrator's rights): it loses at once every camera it may no longer watch. */
  principalRightsChanged(principal: string, mayWatch: (cameraId: string) => boolean): void {
    for (const c of [...this.#connections]) {
      if (c.principal !== principal) continue;
      for (const cameraId of [...c.joinedCameras()]) if (!mayWatch(cameraId)) c.dropCamera(cameraId, 'grant_revoked', 'the API key may no longer watch this camera');
    }
  }

  /** A share link revoked, a kiosk revoked/rotated or an API key revoked: its viewers stop at once. */
  principalRevoked(principal: string, code: DeniedCode, reason: string): void {
    for (const c of [...this.#connections]) if (c.principal === principal) c.revoke?.(code, reason);
  }

  /**
   * A user's sessions were revoked (sign out everywhere, a reused refresh token, an administrator,
   * the account deleted): their live connections end at once. `sessionIds` narrows it to those
   * session families; without it, every connection of the user.
   */
  userSessionsRevoked(userId: string, sessionIds?: readonly string[]): void {
    const reason = 'you were signed out of this session; sign in again';
    for (const c of [...this.#connections]) {
      if (c.userId !== userId || (sessionIds && (c.sessionId === undefined || !sessionIds.includes(c.sessionId)))) continue;
      if (c.revoke) c.revoke('session_revoked', reason);
      else for (const cameraId of [...c.joinedCameras()]) c.dropCamera(cameraId, 'session_revoked', reason);
    }
  }

  #drop(cameraId: string, code: DeniedCode | 'media_reset', reason: string): void {
    for (const c of [...this.#connections]) {
      if ([...c.joinedCameras()].includes(cameraId)) c.dropCamera(cameraId, code, reason);
    }
  }
}
