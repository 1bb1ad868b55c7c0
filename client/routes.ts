// The views of the signed-in app (index.html) as routes in the URL hash — `#/live`,
// `#/audit?camera=cam_x` — so a deep link survives a reload without the server knowing the views,
// and who may use each. Pure data and parsing: the header (ui.ts) builds its navigation from this
// table, the app (main.ts) opens views from it. The server still checks every request: hiding a
// view only spares a user a page of "forbidden" errors.
import type { User } from './api.ts';
import type { MessageKey } from './i18n.ts';

export type ViewId = 'live' | 'health' | 'cameras' | 'people' | 'displays' | 'notices' | 'audit' | 'organisation' | 'service';

export interface ViewEntry {
  readonly id: ViewId;
  /** The view's heading, its navigation label and the document title. */
  readonly title: MessageKey;
  mayUse(user: User): boolean;
}

const anyone = (): boolean => true;
const admins = (user: User): boolean => user.role === 'admin';

/** In navigation order. */
export const VIEWS: readonly ViewEntry[] = [
  { id: 'live', title: 'nav.live', mayUse: anyone },
  // Each camera's state, for the cameras the user may see (the server filters them).
  { id: 'health', title: 'nav.health', mayUse: anyone },
  { id: 'cameras', title: 'nav.cameras', mayUse: admins },
  { id: 'people', title: 'nav.people', mayUse: admins },
  { id: 'displays', title: 'nav.displays', mayUse: admins },
  { id: 'notices', title: 'nav.notices', mayUse: admins },
  { id: 'audit', title: 'nav.audit', mayUse: admins },
  { id: 'organisation', title: 'nav.organisation', mayUse: admins },
  // The service's own operators: every organisation, the service's nodes.
  { id: 'service', title: 'nav.service', mayUse: (user) => admins(user) && user.platform === true },
];

export const DEFAULT_VIEW: ViewId = 'live';

export function viewEntry(id: ViewId): ViewEntry {
  const entry = VIEWS.find((v) => v.id === id);
  if (!entry) throw new TypeError(`no view "${id}"`);
  return entry;
}

export interface Route {
  readonly view: ViewId;
  /** The view's own state after a `?` (e.g. the audit log's filters); empty when none. */
  readonly query: URLSearchParams;
  /** The hash named no view (or was malformed): the default view is shown instead. */
  readonly fallback: boolean;
}

/** `#/audit?camera=cam_x` → audit with camera=cam_x; an empty hash is the default view, anything else unknown falls back to it. */
export function parseRoute(hash: string): Route {
  const m = /^#?\/([a-z]+)\/?(?:\?(.*))?$/.exec(hash);
  const entry = m ? VIEWS.find((v) => v.id === m[1]) : undefined;
  if (!entry || !m) return { view: DEFAULT_VIEW, query: new URLSearchParams(), fallback: hash !== '' && hash !== '#' && hash !== '#/' };
  return { view: entry.id, query: new URLSearchParams(m[2] ?? ''), fallback: false };
}

/** The hash of a view (with its state); `fromOtherPage`: a link from playback.html or camera.html back into the app. */
export function routeHref(view: ViewId, query?: URLSearchParams, fromOtherPage = false): string {
  const q = query?.toString();
  return `${fromOtherPage ? './' : ''}#/${view}${q ? `?${q}` : ''}`;
}
