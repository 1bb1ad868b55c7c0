// Who is connected, so that changes made through the REST API (a grant revoked, a camera
// deleted) and media events (a worker restart) reach the affected connections at once.
import type { Sfu } from '../sfu/index.ts';

/** What the hub needs of a connection (socket.io peer or WHIP/WHEP session). */
export interface Connection {
  readonly userId: string | undefined;
  joinedCameras(): Iterable<string>;
  /** Drop this camera's media state and tell the client why (and whether to join again). */
  dropCamera(cameraId: string, reason: string, rejoin: boolean): void;
}

export class Hub {
  readonly #connections = new Set<Connection>();
  readonly #sfu: Sfu;

  constructor(sfu: Sfu) {
    this.#sfu = sfu;
    sfu.on('cameraReset', (cameraId, reason) => this.#drop(cameraId, reason, true));
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
    this.#drop(cameraId, 'camera deleted', false);
    this.#sfu.closeRoom(cameraId, 'camera deleted');
  }

  grantRevoked(userId: string, cameraId: string): void {
    for (const c of [...this.#connections]) {
      if (c.userId === userId && [...c.joinedCameras()].includes(cameraId)) c.dropCamera(cameraId, 'your access to this camera was revoked', false);
    }
  }

  #drop(cameraId: string, reason: string, rejoin: boolean): void {
    for (const c of [...this.#connections]) {
      if ([...c.joinedCameras()].includes(cameraId)) c.dropCamera(cameraId, reason, rejoin);
    }
  }
}
