// The People and permissions view, for administrators: the organisation's users with their roles
// and grants (people.ts) and the camera groups a grant may name (groups.ts). Neither reads the
// whole camera list: cameras are found by search and named by id where shown. A change to the
// groups reaches the grants editor at once.
import type { User } from '../api.ts';
import { GroupsPanel } from '../groups.ts';
import { PeoplePanel } from '../people.ts';
import { viewFrame, type View } from './frame.ts';

export class PeopleView implements View {
  readonly el: HTMLElement;
  readonly #people = new PeoplePanel();
  readonly #groups: GroupsPanel;

  constructor(user: User) {
    this.#groups = new GroupsPanel((groups) => this.#people.setGroups(groups));
    // Their own row cannot be deleted or signed out from here.
    this.#people.setSelf(user.id);
    this.el = viewFrame('people', 'nav.people');
    this.el.append(this.#people.el, this.#groups.el);
    void this.#people.refresh();
    void this.#groups.refresh();
  }

  close(): void {
    this.el.remove();
  }
}
