// The Notices view, for administrators: maintenance, incident and information notices shown in
// the banner of every page (announcements.ts); the service's operators may post to every organisation.
import type { User } from '../api.ts';
import { AnnouncementsPanel } from '../announcements.ts';
import { viewFrame, type View } from './frame.ts';

export class NoticesView implements View {
  readonly el: HTMLElement;
  readonly #panel = new AnnouncementsPanel();

  constructor(user: User) {
    const panel = this.#panel;
    panel.setPlatform(user.platform === true);
    this.el = viewFrame('notices', 'nav.notices');
    this.el.append(panel.el);
    void panel.refresh();
  }

  close(): void {
    this.#panel.close();
    this.el.remove();
  }
}
