// The Audit view, for administrators: who did what, when (audit.ts). The panel reads the people,
// cameras and sites to filter by from the server itself, so the view does not load the camera list.
// Its filters come from, and go into, the route (`#/audit?camera=cam_x`).
import { AuditPanel } from '../audit.ts';
import { viewFrame, type View, type ViewContext } from './frame.ts';

export class AuditView implements View {
  readonly el: HTMLElement;
  readonly #audit: AuditPanel;

  constructor(ctx: Pick<ViewContext, 'query'>) {
    this.#audit = new AuditPanel({ query: ctx.query });
    this.el = viewFrame('audit', 'nav.audit');
    this.el.append(this.#audit.el);
    void this.#audit.refresh();
  }

  close(): void {
    this.el.remove();
  }
}
