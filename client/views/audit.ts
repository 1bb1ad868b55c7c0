// The Audit view, for administrators: who did what, when (audit.ts). The panel reads the people,
// cameras and sites to filter by from the server itself, so the view does not load the camera list.
import { AuditPanel } from '../audit.ts';
import { viewFrame, type View } from './frame.ts';

export class AuditView implements View {
  readonly el: HTMLElement;
  readonly #audit = new AuditPanel();

  constructor() {
    this.el = viewFrame('audit', 'nav.audit');
    this.el.append(this.#audit.el);
    void this.#audit.refresh();
  }

  close(): void {
    this.el.remove();
  }
}
