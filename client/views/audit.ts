// The Audit view, for administrators: who did what, when (audit.ts), with the cameras to filter by.
import { api } from '../api.ts';
import { AuditPanel } from '../audit.ts';
import { viewFrame, type View } from './frame.ts';

export class AuditView implements View {
  readonly el: HTMLElement;
  readonly #audit = new AuditPanel();
  #closed = false;

  constructor() {
    this.el = viewFrame('audit', 'nav.audit');
    this.el.append(this.#audit.el);
    void this.#load();
  }

  close(): void {
    this.#closed = true;
    this.el.remove();
  }

  async #load(): Promise<void> {
    try {
      const cameras = await api.cameras();
      if (!this.#closed) this.#audit.setCameras(cameras);
    } catch (err) {
      // The log still reads; its camera filter offers none.
      console.warn('could not load the cameras', err);
    }
    await this.#audit.refresh();
  }
}
