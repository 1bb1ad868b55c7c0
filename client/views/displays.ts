// The Displays view, for administrators: the kiosk displays (wall screens) of the organisation and
// the cameras they may show (kiosks.ts).
import { KioskAdmin } from '../kiosks.ts';
import { viewFrame, type View } from './frame.ts';

export class DisplaysView implements View {
  readonly el: HTMLElement;
  readonly #kiosks = new KioskAdmin();

  constructor() {
    this.el = viewFrame('displays', 'nav.displays');
    this.el.append(this.#kiosks.el);
    void this.#kiosks.refresh();
  }

  close(): void {
    this.el.remove();
  }
}
