// The organisation API the admin panel, the banner and the rights checks use: roles, per-right
// grants, camera groups, secret rotation with a grace period, announcements, organisations and
// recorder alerts, over api.ts's request and wire checks.
import { arr, ms, num, obj, request, ShapeError, str, type Credential } from './api.ts';

import { RIGHTS, ROLES, ROLE_RIGHTS, type Right, type Role } from '../signaling/wire/domain.ts';

export { RIGHTS, ROLES, type Right, type Role };
/** What each role may hold at most; admins hold all on every camera. */
export const ROLE_CEILING = ROLE_RIGHTS;

export interface OrgUser {
  id: string;
  username: string;
  role: Role;
  orgId: string;
  platform: boolean;
}
export interface CameraAccess {
  id: string;
  name: string;
  rights: Right[];
  groupIds: string[];
}
export interface Grant {
  id: string;
  userId: string;
  cameraId?: string;
  groupId?: string;
  rights: Right[];
}
export interface Group {
  id: string;
  name: string;
  cameraIds: string[];
}
export type NoticeKind = 'maintenance' | 'incident' | 'info' | 'contract_end';
export interface Announcement {
  id: string;
  kind: NoticeKind;
  message: string;
  startsAtMs: number;
  endsAtMs: number;
  everyone: boolean;
}
export interface Org {
  id: string;
  name: string;
  users: number;
  cameras: number;
  /** The scheduled contract end (deletion), if any. */
  deletionAtMs?: number;
}
export interface DeletionReport {
  orgId: string;
  orgName: string;
  scheduledForMs: number;
  completedAtMs: number;
  users: number;
  cameras: number;
  objects: number;
}
/** One node of the service as GET /api/sfu lists it (a single-node service lists only itself). */
export interface ClusterNode {
  id: string;
  /** The node that answered this request. */
  self: boolean;
  /** 'up', 'draining', 'stopped' (drained and gone) or 'dead' (no heartbeat lately); kept as sent, so a newer server's state shows as itself. */
  state: string;
  /** Since its last heartbeat. */
  silentMs: number;
  release: string;
  startedAtMs: number;
  /** Cameras publishing to it, viewers watching through it, cameras it records. */
  cameras: number;
  viewers: number;
  recording: number;
  /** Cameras placed on it (drops as a drain moves them away). */
  owns: number;
}
export interface RecorderAlert {
  cameraId: string;
  kind: string;
  sinceMs: number;
}

const time = ms;
const optStr = (v: unknown, what: string): string | undefined => (v === undefined || v === null ? undefined : str(v, what));
const role = (v: unknown): Role => {
  if (!ROLES.includes(v as Role)) throw new ShapeError('role');
  return v as Role;
};
/** Unknown rights from a newer server are dropped, not fatal. */
const rights = (v: unknown): Right[] => arr(v ?? [], 'rights').filter((r): r is Right => RIGHTS.includes(r as Right));
const strings = (v: unknown, what: string): string[] => arr(v ?? [], what).map((s) => str(s, what));

const parseUser = (v: unknown): OrgUser => {
  const o = obj(v, 'user');
  return { id: str(o.id, 'user.id'), username: str(o.username, 'user.username'), role: role(o.role), orgId: str(o.orgId ?? '', 'user.orgId'), platform: o.platform === true };
};
const parseGroup = (v: unknown): Group => {
  const o = obj(v, 'group');
  return { id: str(o.id, 'group.id'), name: str(o.name, 'group.name'), cameraIds: strings(o.cameraIds, 'group.cameraIds') };
};
const parseGrant = (v: unknown): Grant => {
  const o = obj(v, 'grant');
  return { id: str(o.id, 'grant.id'), userId: str(o.userId, 'grant.userId'), cameraId: optStr(o.cameraId, 'grant.cameraId'), groupId: optStr(o.groupId, 'grant.groupId'), rights: rights(o.rights) };
};
const parseAnnouncement = (v: unknown): Announcement => {
  const o = obj(v, 'announcement');
  const kind = str(o.kind, 'announcement.kind');
  if (kind !== 'maintenance' && kind !== 'incident' && kind !== 'info' && kind !== 'contract_end') throw new ShapeError('announcement.kind');
  return {
    id: str(o.id, 'announcement.id'),
    kind,
    message: typeof o.message === 'string' ? o.message : '',
    startsAtMs: time(o.startsAt, 'announcement.startsAt'),
    endsAtMs: time(o.endsAt, 'announcement.endsAt'),
    everyone: o.everyone === true,
  };
};
const count = (v: unknown, what: string): number => num(v ?? 0, what);
const parseNode = (v: unknown): ClusterNode => {
  const o = obj(v, 'node');
  return {
    id: str(o.id, 'node.id'),
    self: o.self === true,
    state: str(o.state, 'node.state'),
    silentMs: count(o.silentMs, 'node.silentMs'),
    release: typeof o.release === 'string' ? o.release : '',
    startedAtMs: time(o.startedAt, 'node.startedAt'),
    cameras: count(o.cameras, 'node.cameras'),
    viewers: count(o.viewers, 'node.viewers'),
    recording: count(o.recording, 'node.recording'),
    owns: count(o.owns, 'node.owns'),
  };
};
const parseOrg = (v: unknown): Org => {
  const o = obj(v, 'org');
  const deletion = o.deletion === null || o.deletion === undefined ? undefined : obj(o.deletion, 'org.deletion');
  return {
    id: str(o.id, 'org.id'),
    name: str(o.name, 'org.name'),
    users: typeof o.users === 'number' ? o.users : 0,
    cameras: typeof o.cameras === 'number' ? o.cameras : 0,
    deletionAtMs: deletion ? time(deletion.at, 'org.deletion.at') : undefined,
  };
};

/** api.ts's request (same headers, errors, token refresh and sign-out on a lost session). */
const call = (method: string, path: string, body?: unknown, cred: Credential = 'session'): Promise<unknown> => request(method, path, { body, auth: cred });

const enc = encodeURIComponent;

export const adminApi = {
  async me(): Promise<OrgUser> {
    return parseUser(obj(await call('GET', '/api/auth/me'), 'me').user);
  },
  /** Every camera the caller may see, with the rights they hold on it. */
  async cameraAccess(): Promise<CameraAccess[]> {
    return arr(obj(await call('GET', '/api/cameras'), 'cameras').cameras, 'cameras').map((v) => {
      const o = obj(v, 'camera');
      return { id: str(o.id, 'camera.id'), name: str(o.name, 'camera.name'), rights: rights(o.rights), groupIds: strings(o.groupIds, 'camera.groupIds') };
    });
  },

  // --- Users and grants -------------------------------------------------------------------------
  async users(): Promise<OrgUser[]> {
    return arr(obj(await call('GET', '/api/users'), 'users').users, 'users').map(parseUser);
  },
  async createUser(username: string, password: string, r: Role): Promise<OrgUser> {
    return parseUser(obj(await call('POST', '/api/users', { username, password, role: r }), 'user').user);
  },
  async setRole(id: string, r: Role): Promise<OrgUser> {
    return parseUser(obj(await call('PATCH', `/api/users/${enc(id)}`, { role: r }), 'user').user);
  },
  async deleteUser(id: string): Promise<void> {
    await call('DELETE', `/api/users/${enc(id)}`);
  },
  /** Lifts a sign-in lockout; whether there was one. */
  async unlockUser(id: string): Promise<boolean> {
    return obj(await call('POST', `/api/users/${enc(id)}/unlock`), 'unlock').wasLocked === true;
  },
  /** Ends every session of the user (their live views stop); how many there were. */
  async signOutUser(id: string): Promise<number> {
    return num(obj(await call('POST', `/api/users/${enc(id)}/logout-all`), 'logout-all').revoked, 'revoked');
  },
  async grants(userId: string): Promise<Grant[]> {
    return arr(obj(await call('GET', `/api/grants?userId=${enc(userId)}`), 'grants').grants, 'grants').map(parseGrant);
  },
  /** Empty rights remove the grant (null comes back). */
  async setGrant(target: { userId: string; cameraId?: string; groupId?: string }, r: Right[]): Promise<Grant | null> {
    const g = obj(await call('PUT', '/api/grants', { ...target, rights: r }), 'grant').grant;
    return g === null || g === undefined ? null : parseGrant(g);
  },

  // --- Groups -----------------------------------------------------------------------------------
  async groups(): Promise<Group[]> {
    return arr(obj(await call('GET', '/api/groups'), 'groups').groups, 'groups').map(parseGroup);
  },
  async createGroup(name: string, cameraIds: string[]): Promise<Group> {
    return parseGroup(obj(await call('POST', '/api/groups', { name, cameraIds }), 'group').group);
  },
  async updateGroup(id: string, change: { name?: string; cameraIds?: string[] }): Promise<Group> {
    return parseGroup(obj(await call('PATCH', `/api/groups/${enc(id)}`, change), 'group').group);
  },
  async deleteGroup(id: string): Promise<void> {
    await call('DELETE', `/api/groups/${enc(id)}`);
  },

  // --- Cameras ----------------------------------------------------------------------------------
  /** A new secret; the old one keeps working until previousValidUntilMs (none with graceHours 0). */
  async rotateSecret(cameraId: string, graceHours: number): Promise<{ secret: string; previousValidUntilMs?: number }> {
    const o = obj(await call('POST', `/api/cameras/${enc(cameraId)}/secret`, { graceHours }), 'secret');
    return { secret: str(o.secret, 'secret'), previousValidUntilMs: o.previousSecretValidUntil ? time(o.previousSecretValidUntil, 'previousSecretValidUntil') : undefined };
  },
  async recorderAlerts(): Promise<RecorderAlert[]> {
    return arr(obj(await call('GET', '/api/recorder/alerts'), 'alerts').alerts, 'alerts').map((v) => {
      const o = obj(v, 'alert');
      return { cameraId: str(o.cameraId, 'alert.cameraId'), kind: str(o.kind, 'alert.kind'), sinceMs: num(o.sinceMs, 'alert.sinceMs') };
    });
  },

  // --- Announcements ----------------------------------------------------------------------------
  /** Active notices for the caller (a user's session, or a kiosk's token); `all` (admins): future and past too. */
  async announcements(cred: Credential = 'session', all = false): Promise<Announcement[]> {
    return arr(obj(await call('GET', `/api/announcements${all ? '?all=1' : ''}`, undefined, cred), 'announcements').announcements, 'announcements').map(parseAnnouncement);
  },
  async postAnnouncement(input: { kind: 'maintenance' | 'incident' | 'info'; message: string; startsAtMs?: number; endsAtMs: number; everyone: boolean }): Promise<Announcement> {
    const body = {
      kind: input.kind,
      message: input.message,
      ...(input.startsAtMs === undefined ? {} : { startsAt: new Date(input.startsAtMs).toISOString() }),
      endsAt: new Date(input.endsAtMs).toISOString(),
      ...(input.everyone ? { everyone: true } : {}),
    };
    return parseAnnouncement(obj(await call('POST', '/api/announcements', body), 'announcement').announcement);
  },
  async deleteAnnouncement(id: string): Promise<void> {
    await call('DELETE', `/api/announcements/${enc(id)}`);
  },

  // --- Organisations (platform operators) -------------------------------------------------------
  async orgs(): Promise<Org[]> {
    return arr(obj(await call('GET', '/api/orgs'), 'orgs').orgs, 'orgs').map(parseOrg);
  },
  async createOrg(name: string, admin: { username: string; password: string }): Promise<Org> {
    return parseOrg(obj(await call('POST', '/api/orgs', { name, admin }), 'org').org);
  },
  async scheduleDeletion(orgId: string, atMs: number): Promise<Org> {
    return parseOrg(obj(await call('PUT', `/api/orgs/${enc(orgId)}/deletion`, { at: new Date(atMs).toISOString() }), 'org').org);
  },
  async cancelDeletion(orgId: string): Promise<Org> {
    return parseOrg(obj(await call('DELETE', `/api/orgs/${enc(orgId)}/deletion`), 'org').org);
  },
  /** The service's nodes (GET /api/sfu; its workers and rooms are not used here). */
  async nodes(): Promise<ClusterNode[]> {
    return arr(obj(await call('GET', '/api/sfu'), 'sfu').nodes, 'sfu.nodes').map(parseNode);
  },
  /** Asks the node to drain (202: it has started; it leaves the load balancer, moves its cameras, then stops). */
  async drainNode(id: string, reason?: string): Promise<void> {
    await call('POST', `/api/nodes/${enc(id)}/drain`, reason ? { reason } : {});
  },
  async deletionReports(): Promise<DeletionReport[]> {
    return arr(obj(await call('GET', '/api/orgs/deletion-reports'), 'reports').reports, 'reports').map((v) => {
      const o = obj(v, 'report');
      return {
        orgId: str(o.orgId, 'report.orgId'),
        orgName: str(o.orgName, 'report.orgName'),
        scheduledForMs: time(o.scheduledFor, 'report.scheduledFor'),
        completedAtMs: time(o.completedAt, 'report.completedAt'),
        users: typeof o.users === 'number' ? o.users : 0,
        cameras: typeof o.cameras === 'number' ? o.cameras : 0,
        objects: typeof o.objects === 'number' ? o.objects : 0,
      };
    });
  },
};
