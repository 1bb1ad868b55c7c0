// One camera's live view on its own (the playback page's "live" mode, a live share link): its own
// signaling connection and one grid Tile at the full layer. close() leaves the camera and ends
// the connection.
import type { ErrorBody } from '../signaling/protocol.ts';
import { Tile, type TileCamera, type TileInfo } from './grid.ts';
import { Signaling } from './signaling.ts';
import { h } from './ui.ts';

export interface SingleLiveOptions {
  camera: TileCamera;
  getToken: () => Promise<string>;
  /** The token was refused: true to retry with a fresh getToken(), false to stop. */
  onAuthFailure: (error: ErrorBody) => boolean | Promise<boolean>;
  /** The server took the camera away (grant revoked, share revoked, camera deleted). */
  onDenied?: (code: string) => void;
}

export class SingleLive {
  readonly el: HTMLElement;
  readonly tile: Tile;
  readonly #signaling: Signaling;
  #closed = false;

  constructor({ camera, getToken, onAuthFailure, onDenied }: SingleLiveOptions) {
    this.#signaling = new Signaling({ getToken, onAuthFailure });
    this.tile = new Tile(camera, this.#signaling, 'high', { open: () => undefined, back: () => undefined, state: () => undefined }, { recordings: false });
    this.tile.el.classList.add('selected');
    this.el = h('div', { class: 'single-live grid single', 'data-layout': '1' }, this.tile.el);
    if (onDenied) this.#signaling.on('denied', (d) => d.cameraId === camera.id && onDenied(d.code));
    this.#signaling.start();
  }

  info(): TileInfo {
    return this.tile.info();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.tile.close();
    this.#signaling.stop();
    this.el.remove();
  }
}
