// The Service view, for the service's own operators: the organisations with their contract ends
// and deletion reports (orgs.ts), and the service's nodes, read every 3 s while the view is open,
// with their drains (nodes.ts).
import type { User } from '../api.ts';
import { NodesPanel } from '../nodes.ts';
import { OrgsPanel } from '../orgs.ts';
import { viewFrame, type View } from './frame.ts';

export class ServiceView implements View {
  readonly el: HTMLElement;
  readonly #nodes = new NodesPanel();
  readonly #orgs: OrgsPanel;

  constructor(user: User) {
    const orgs = (this.#orgs = new OrgsPanel(user.orgId));
    this.el = viewFrame('service', 'nav.service');
    this.el.append(orgs.el, this.#nodes.el);
    void orgs.refresh();
  }

  close(): void {
    this.#nodes.close();
    this.#orgs.close();
    this.el.remove();
  }
}
