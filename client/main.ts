// index.html, the signed-in app: sign in, then one view at a time — live, camera status, and for
// administrators cameras, people, displays, notices, audit, organisation (and the service for its
// operators) — chosen by the route in the URL hash (routes.ts), so a link to a view survives a
// reload and the browser's back and forward move between views. A 401 from any request, or a
// refused socket token, returns to the sign-in form without reloading the page.
import './noEval.ts';
import './style.css';
import { ApiError, auth, type User } from './api.ts';
import type { GridSize, TileInfo } from './grid.ts';
import { exposeHook } from './hook.ts';
import { t, type MessageKey } from './i18n.ts';
import { parseRoute, routeHref, viewEntry, type Route, type ViewId } from './routes.ts';
import { Signaling } from './signaling.ts';
import { signedInPage } from './signedIn.ts';
import { h, type Header } from './ui.ts';
import { LiveScreen, openView, type View } from './views/index.ts';

/** Everything that exists while a user is signed in, closed as a whole on sign-out: the signaling connection and the open view. */
class AppSession {
  readonly el: HTMLElement;
  readonly #user: User;
  readonly #header: Header;
  readonly #signaling: Signaling;
  #route: Route;
  #view: View;
  #closed = false;
  readonly #onHashChange = () => this.#show(true);

  constructor(user: User, onAuthFailure: () => void, header: Header) {
    this.#user = user;
    this.#header = header;
    // One connection for the session: views come and go, and only the Live view's tiles use it.
    this.#signaling = new Signaling({
      getToken: () => {
        const token = auth.token();
        if (!token) throw new ApiError(401, 'unauthorized', 'signed out');
        return token;
      },
      onAuthFailure: () => {
        onAuthFailure();
        return false;
      },
    });
    this.#signaling.start();
    this.el = h('div', { class: 'app-view' });
    this.#route = currentRoute();
    this.#view = this.#open(this.#route);
    window.addEventListener('hashchange', this.#onHashChange);
  }

  get view(): ViewId {
    return this.#route.view;
  }

  /** The Live view's screen while it is shown. */
  get live(): LiveScreen | null {
    return this.#view instanceof LiveScreen ? this.#view : null;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    window.removeEventListener('hashchange', this.#onHashChange);
    this.#view.close();
    this.#signaling.stop();
    this.el.remove();
    setTitle(PAGE_TITLE);
  }

  /** The route changed (a link, back or forward, a typed URL): the old view closes, the new one opens and takes the focus. */
  #show(focus: boolean): void {
    const route = currentRoute();
    // The same view with the same state (e.g. an unknown route while Live is shown): nothing to do.
    if (route.view === this.#route.view && route.query.toString() === this.#route.query.toString()) return;
    this.#view.close();
    this.#route = route;
    this.#view = this.#open(route);
    if (focus) this.#view.el.querySelector<HTMLElement>('h1, h2')?.focus();
  }

  #open(route: Route): View {
    const view = openView(route, { user: this.#user, signaling: this.#signaling, query: route.query });
    const heading = view.el.querySelector<HTMLElement>('h1, h2');
    if (heading && !heading.hasAttribute('tabindex')) heading.tabIndex = -1;
    this.el.replaceChildren(view.el);
    this.#header.setView(route.view);
    setTitle(viewEntry(route.view).title);
    return view;
  }
}

const PAGE_TITLE: MessageKey = 'nav.live';

/** The address's route; an unknown one shows the live view, and the address says so (replaced, not a new history entry). */
function currentRoute(): Route {
  const route = parseRoute(location.hash);
  if (route.fallback) history.replaceState(history.state, '', routeHref(route.view, route.query));
  return route;
}

/** The document's title names the view (and follows the language: i18n.ts reads the key back). */
function setTitle(key: MessageKey): void {
  document.body.dataset.titleKey = key;
  document.title = `${t('app.name')} — ${t(key)}`;
}

const page = signedInPage({ title: PAGE_TITLE, page: 'app', open: (user, onAuthFailure, header) => new AppSession(user, onAuthFailure, header) });
const live = () => page.session()?.live ?? null;

// See hook.ts; `view` is the route's view on screen (null while signed out).
exposeHook({
  tiles: (): TileInfo[] => live()?.tiles() ?? [],
  get layout(): GridSize | undefined {
    return live()?.layout;
  },
  setLayout: (size: GridSize) => live()?.setLayout(size),
  stats: () => live()?.stats() ?? Promise.resolve([]),
  get view(): ViewId | null {
    return page.session()?.view ?? null;
  },
});
