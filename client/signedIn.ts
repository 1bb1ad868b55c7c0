// The frame of a page that needs a signed-in user (index.html, playback.html): the header, the
// sign-in form, and the page's session — opened after sign-in, closed on sign-out or when any
// request or socket says the session is gone, all without reloading the page.
import { AccountPanel, signInForm } from './account.ts';
import { noticeBanner } from './banner.ts';
import { api, ApiError, auth, onUnauthorized, refreshSession, type User } from './api.ts';
import { initI18n, type MessageKey } from './i18n.ts';
import { Header, h, type HeaderOptions } from './ui.ts';

export interface PageSession {
  readonly el: HTMLElement;
  close(): void;
}

export interface SignedInPage<S extends PageSession> {
  /** The open session, or null while the sign-in form shows. */
  session(): S | null;
}

export function signedInPage<S extends PageSession>(o: {
  title: MessageKey;
  page: HeaderOptions['page'];
  /** `onAuthFailure`: the session ended (expired or revoked token); back to the sign-in form. `header`: the app marks its current view there. */
  open(user: User, onAuthFailure: () => void, header: Header): S;
}): SignedInPage<S> {
  initI18n(o.title);
  const app = document.getElementById('app') ?? document.body;
  // Signing out ends this session on the server too (its refresh cookie and live connections).
  const header = new Header({ page: o.page, onLogout: () => void api.logout().finally(() => showLogin()) });
  const main = h('main', { id: 'main' });
  app.replaceChildren(header.el, noticeBanner(() => auth.token()), main);
  let session: S | null = null;

  function showLogin(notice?: MessageKey): void {
    session?.close();
    session = null;
    auth.clear();
    header.setUser(null);
    header.setView(null);
    main.replaceChildren(signInForm(showApp, notice));
  }

  function showApp(user: User): void {
    session?.close();
    header.setUser(user);
    session = o.open(user, () => showLogin('login.sessionEnded'), header);
    main.replaceChildren(session.el, new AccountPanel(() => showLogin()).el);
  }

  onUnauthorized(() => showLogin('login.sessionEnded'));

  async function boot(): Promise<void> {
    try {
      // No access token in this tab (a new tab, or it expired): resume the session from the refresh cookie.
      if (!auth.token()) {
        const user = await refreshSession();
        return user ? showApp(user) : showLogin();
      }
      // The user this tab signed in as opens at once (the socket connects and the first camera
      // joins meanwhile); the server's answer replaces it if anything changed, and a 401 from it
      // (or from any other request) returns to the sign-in form.
      const cached = auth.user();
      if (cached && auth.validFor(30_000)) {
        showApp(cached);
        const user = await api.me();
        if (!sameUser(user, cached)) {
          auth.rememberUser(user);
          if (session) showApp(user);
        }
        return;
      }
      showApp(await api.me());
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return; // onUnauthorized showed the form
      // The server is unreachable right now: show the last known user; the page recovers by itself.
      const cached = auth.user();
      if (cached && auth.token()) {
        if (!session) showApp(cached);
      } else showLogin();
    }
  }
  void boot();
  return { session: () => session };
}

/** What the app is built from: who, their role and organisation, and their name as shown. */
function sameUser(a: User, b: User): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
