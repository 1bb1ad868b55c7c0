// The app's views (index.html), one module each: the entry the app opens them through. A view is
// created when its route is opened and closed when left, so it reads only what it shows and its
// timers, pollers and tiles stop with it. Who may use which view is routes.ts's table; a view the
// user may not use says so instead of showing a page of refused requests.
import { onLocaleChange, t } from '../i18n.ts';
import { DEFAULT_VIEW, routeHref, viewEntry, type Route } from '../routes.ts';
import { bindText, h, tx } from '../ui.ts';
import { HealthView } from '../health.ts';
import { AuditView } from './audit.ts';
import { CamerasView } from './cameras.ts';
import { DisplaysView } from './displays.ts';
import { type View, type ViewContext } from './frame.ts';
import { LiveScreen } from './live.ts';
import { NoticesView } from './notices.ts';
import { OrganisationView } from './organisation.ts';
import { PeopleView } from './people.ts';
import { ServiceView } from './service.ts';

export { LiveScreen, type View, type ViewContext };

/** The route's view, or the "not available to your account" one. */
export function openView(route: Route, ctx: ViewContext): View {
  if (!viewEntry(route.view).mayUse(ctx.user)) return new UnavailableView(route);
  switch (route.view) {
    case 'live':
      return new LiveScreen(ctx.user, ctx.signaling, ctx.query);
    case 'health':
      return new HealthView({ query: ctx.query });
    case 'cameras':
      return new CamerasView();
    case 'people':
      return new PeopleView(ctx.user);
    case 'displays':
      return new DisplaysView();
    case 'notices':
      return new NoticesView(ctx.user);
    case 'audit':
      return new AuditView(ctx);
    case 'organisation':
      return new OrganisationView();
    case 'service':
      return new ServiceView(ctx.user);
  }
}

/** A view this account may not use (a viewer opening a link to People): said plainly, with the way back. */
class UnavailableView implements View {
  readonly el: HTMLElement;
  readonly #offLocale: () => void;

  constructor(route: Route) {
    const text = h('p', { class: 'unavailable-text' });
    // The view's name is a parameter: translated again with the rest.
    const say = () => bindText(text, 'view.unavailable.text', { view: t(viewEntry(route.view).title) });
    say();
    this.#offLocale = onLocaleChange(say);
    this.el = h(
      'section',
      { class: 'view card unavailable', id: 'view-unavailable', 'data-view': route.view, 'aria-labelledby': 'view-unavailable-title' },
      tx('h1', 'view.unavailable.title', { class: 'view-title', id: 'view-unavailable-title', tabindex: -1 }),
      text,
      h('p', {}, tx('a', 'view.unavailable.back', { href: routeHref(DEFAULT_VIEW) })),
    );
  }

  close(): void {
    this.#offLocale();
    this.el.remove();
  }
}
