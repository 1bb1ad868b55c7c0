// The Organisation view, for administrators: other systems' access to it — API keys to call the
// service (apiKeys.ts, optionally limited to a camera group) and webhooks it calls (webhooks.ts).
import { adminApi } from '../adminApi.ts';
import { ApiKeysPanel } from '../apiKeys.ts';
import { WebhooksPanel } from '../webhooks.ts';
import { h, tx } from '../ui.ts';
import { viewFrame, type View } from './frame.ts';

export class OrganisationView implements View {
  readonly el: HTMLElement;
  readonly #apiKeys = new ApiKeysPanel();
  readonly #webhooks = new WebhooksPanel();
  #closed = false;

  constructor() {
    this.el = viewFrame('organisation', 'nav.organisation');
    this.el.append(
      h(
        'section',
        { class: 'integrations', id: 'integrations', 'aria-labelledby': 'integrations-title' },
        tx('h3', 'integrations.title', { id: 'integrations-title' }),
        tx('p', 'integrations.help', { class: 'muted small-text' }),
        this.#apiKeys.el,
        this.#webhooks.el,
      ),
    );
    void this.#apiKeys.refresh();
    void this.#webhooks.refresh();
    void this.#loadGroups();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#apiKeys.close();
    this.#webhooks.close();
    this.el.remove();
  }

  /** The camera groups a key may be limited to. */
  async #loadGroups(): Promise<void> {
    try {
      const groups = await adminApi.groups();
      if (!this.#closed) this.#apiKeys.setGroups(groups);
    } catch (err) {
      // A key can still be made for every camera.
      console.warn('could not load the camera groups', err);
    }
  }
}
