// The People and permissions view, for administrators: the organisation's users with their roles
// and grants (people.ts) and the camera groups a grant may name (groups.ts). Cameras and groups
// are read when the view opens; a change to the groups reaches the grants editor at once.
import { api, type User } from '../api.ts';
import { GroupsPanel } from '../groups.ts';
import { PeoplePanel } from '../people.ts';
import type { Camera } from '../api.ts';
import { viewFrame, type View } from './frame.ts';

export class PeopleView implements View {
  readonly el: HTMLElement;
  readonly #people = new PeoplePanel();
  readonly #groups: GroupsPanel;
  #cameras: Camera[] = [];
  #closed = false;

  constructor(user: User) {
    this.#groups = new GroupsPanel((groups) => this.#people.setTargets(this.#cameras, groups));
    // Their own row cannot be deleted or signed out from here.
    this.#people.setSelf(user.id);
    this.el = viewFrame('people', 'nav.people');
    this.el.append(this.#people.el, this.#groups.el);
    void this.#people.refresh();
    void this.#load();
  }

  close(): void {
    this.#closed = true;
    this.el.remove();
  }

  async #load(): Promise<void> {
    try {
      const cameras = await api.cameras();
      if (this.#closed) return;
      this.#cameras = cameras;
      this.#groups.setCameras(cameras);
      this.#people.setTargets(cameras, this.#groups.groups);
    } catch (err) {
      // The users still show; the grants editor offers the groups alone.
      console.warn('could not load the cameras', err);
    }
    await this.#groups.refresh();
  }
}
