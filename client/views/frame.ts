// What every view of the app shares: a section named by its heading (which takes the focus when
// the view is opened by navigation) and the interface the app closes it through.
import type { User } from '../api.ts';
import type { MessageKey } from '../i18n.ts';
import type { Signaling } from '../signaling.ts';
import { tx, h } from '../ui.ts';
import type { ViewId } from '../routes.ts';

/** A view on screen: created when opened, closed when left (its timers, pollers and tiles stop). */
export interface View {
  readonly el: HTMLElement;
  close(): void;
}

/** What a view may use: who is signed in, the session's signaling connection, its own state from the route. */
export interface ViewContext {
  readonly user: User;
  readonly signaling: Signaling;
  readonly query: URLSearchParams;
}

/** The view's section with its heading first; `card`: an administration view on a card, as the panel was. */
export function viewFrame(id: ViewId, title: MessageKey, { card = true, hiddenTitle = false }: { card?: boolean; hiddenTitle?: boolean } = {}): HTMLElement {
  const heading = tx('h1', title, { class: hiddenTitle ? 'view-title visually-hidden' : 'view-title', id: `view-${id}-title`, tabindex: -1 });
  return h('section', { class: card ? 'view card admin' : 'view', id: `view-${id}`, 'data-view': id, 'aria-labelledby': heading.id }, heading);
}
