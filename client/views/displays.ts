// The Displays view, for administrators: the kiosk displays (wall screens) of the organisation and
// the cameras they may show (kiosks.ts).
import { api } from '../api.ts';
import { KioskAdmin } from '../kiosks.ts';
import { viewFrame, type View } from './frame.ts';

export class DisplaysView implements View {
  readonly el: HTMLElement;
  readonly #kiosks = new KioskAdmin();
  #closed = false;

  constructor() {
    this.el = viewFrame('displays', 'nav.displays');
    this.el.append(this.#kiosks.el);
    void this.#load();
  }

  close(): void {
    this.#closed = true;
    this.el.remove();
  }

  async #load(): Promise<void> {
    try {
      const cameras = await api.cameras();
      if (!this.#closed) this.#kiosks.setCameras(cameras);
    } catch (err) {
      // The displays still list (with camera ids for names); the form offers no camera.
      console.warn('could not load the cameras', err);
    }
    await this.#kiosks.refresh();
  }
}
