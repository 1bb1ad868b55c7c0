// The organisation API the admin panel, the banner and the rights checks use: roles, per-right
// grants, camera groups, secret rotation with a grace period, announcements, organisations,
// recorder alerts, API keys and webhooks, over api.ts's request. Answers are parsed with the
// schemas the server documents them with (signaling/wire/answers); times the pages compute with
// become ms after parsing.
import type { z } from 'zod';
import { parseAnswer, request, type Credential } from './api.ts';
import { RIGHTS, ROLES, ROLE_RIGHTS, type Right, type Role } from '../signaling/wire/domain.ts';
import * as announcementAnswers from '../signaling/wire/answers/announcements.ts';
import * as apiKeyAnswers from '../signaling/wire/answers/apiKeys.ts';
import * as authAnswers from '../signaling/wire/answers/auth.ts';
import * as cameraAnswers from '../signaling/wire/answers/cameras.ts';
import * as grantAnswers from '../signaling/wire/answers/grants.ts';
import * as groupAnswers from '../signaling/wire/answers/groups.ts';
import * as nodeAnswers from '../signaling/wire/answers/nodes.ts';
import * as orgAnswers from '../signaling/wire/answers/orgs.ts';
import * as recorderAnswers from '../signaling/wire/answers/recorder.ts';
import * as sfuAnswers from '../signaling/wire/answers/sfu.ts';
import * as userAnswers from '../signaling/wire/answers/users.ts';
import * as webhookAnswers from '../signaling/wire/answers/webhooks.ts';

export { RIGHTS, ROLES, type Right, type Role };
/** What each role may hold at most; admins hold all on every camera. */
export const ROLE_CEILING = ROLE_RIGHTS;

export type OrgUser = z.infer<typeof authAnswers.PublicUser>;
export type Grant = z.infer<typeof grantAnswers.GrantView>;
export type Group = z.infer<typeof groupAnswers.GroupView>;
type NoticeView = z.infer<typeof announcementAnswers.NoticeView>;
export type NoticeKind = NoticeView['kind'];
export type Announcement = Omit<NoticeView, 'startsAt' | 'endsAt'> & { startsAtMs: number; endsAtMs: number };
type OrgView = z.infer<typeof orgAnswers.OrgView>;
export type Org = Omit<OrgView, 'deletion'> & {
  /** The scheduled contract end (deletion), if any. */
  deletionAtMs?: number;
};
type DeletionReportView = z.infer<typeof orgAnswers.DeletionReportView>;
export type DeletionReport = Omit<DeletionReportView, 'scheduledFor' | 'completedAt'> & { scheduledForMs: number; completedAtMs: number };
/** One node of the service as GET /api/sfu lists it (a single-node service lists only itself). */
export type ClusterNode = Omit<z.infer<typeof sfuAnswers.ClusterNodeView>, 'startedAt'> & { startedAtMs: number };
export type RecorderAlert = z.infer<typeof recorderAnswers.RecorderAlert>;
/** An API key as listed (never its secret); its times stay ISO 8601: the page only shows them. */
export type ApiKey = z.infer<typeof apiKeyAnswers.ApiKeyView>;
export type ApiKeyScope = ApiKey['scope'];
export type Webhook = z.infer<typeof webhookAnswers.WebhookView>;
export type WebhookEvent = Webhook['events'][number];
export type WebhookDelivery = z.infer<typeof webhookAnswers.WebhookDelivery>;

/** ms since the epoch of a time its schema has checked as ISO 8601: the pages compute with numbers. */
const msOf = (iso: string): number => Date.parse(iso);
const announcement = ({ startsAt, endsAt, ...rest }: NoticeView): Announcement => ({ ...rest, startsAtMs: msOf(startsAt), endsAtMs: msOf(endsAt) });
const org = ({ deletion, ...rest }: OrgView): Org => ({ ...rest, ...(deletion ? { deletionAtMs: msOf(deletion.at) } : {}) });

/** api.ts's request (same headers, errors, token refresh and sign-out on a lost session). */
const call = (method: string, path: string, body?: unknown, cred: Credential = 'session'): Promise<unknown> => request(method, path, { body, auth: cred });

const enc = encodeURIComponent;

/** The recorder alerts being read now, shared by whoever asks meanwhile. */
let alertsAsked: Promise<RecorderAlert[]> | undefined;

export const adminApi = {
  async me(): Promise<OrgUser> {
    return parseAnswer(authAnswers.SignedInUser, await call('GET', '/api/auth/me'), 'me').user;
  },
  // --- Users and grants -------------------------------------------------------------------------
  async users(): Promise<OrgUser[]> {
    return parseAnswer(userAnswers.UserList, await call('GET', '/api/users'), 'users').users;
  },
  async createUser(username: string, password: string, r: Role): Promise<OrgUser> {
    return parseAnswer(userAnswers.UserAnswer, await call('POST', '/api/users', { username, password, role: r }), 'user').user;
  },
  async setRole(id: string, r: Role): Promise<OrgUser> {
    return parseAnswer(userAnswers.UserAnswer, await call('PATCH', `/api/users/${enc(id)}`, { role: r }), 'user').user;
  },
  async deleteUser(id: string): Promise<void> {
    await call('DELETE', `/api/users/${enc(id)}`);
  },
  /** Lifts a sign-in lockout; whether there was one. */
  async unlockUser(id: string): Promise<boolean> {
    return parseAnswer(authAnswers.AccountUnlocked, await call('POST', `/api/users/${enc(id)}/unlock`), 'unlock').wasLocked;
  },
  /** Ends every session of the user (their live views stop); how many there were. */
  async signOutUser(id: string): Promise<number> {
    return parseAnswer(authAnswers.SessionsRevoked, await call('POST', `/api/users/${enc(id)}/logout-all`), 'logout-all').revoked;
  },
  async grants(userId: string): Promise<Grant[]> {
    return parseAnswer(grantAnswers.GrantList, await call('GET', `/api/grants?userId=${enc(userId)}`), 'grants').grants;
  },
  /** Empty rights remove the grant (null comes back). */
  async setGrant(target: { userId: string; cameraId?: string; groupId?: string }, r: Right[]): Promise<Grant | null> {
    return parseAnswer(grantAnswers.GrantAnswer, await call('PUT', '/api/grants', { ...target, rights: r }), 'grant').grant;
  },

  // --- Groups -----------------------------------------------------------------------------------
  async groups(): Promise<Group[]> {
    return parseAnswer(groupAnswers.GroupList, await call('GET', '/api/groups'), 'groups').groups;
  },
  /** `parentId`: the group it goes under (a floor under its site); null or absent: at the top. */
  async createGroup(name: string, cameraIds: string[], parentId: string | null = null): Promise<Group> {
    return parseAnswer(groupAnswers.GroupAnswer, await call('POST', '/api/groups', { name, cameraIds, ...(parentId ? { parentId } : {}) }), 'group').group;
  },
  /** `parentId: null` moves the group to the top; absent, it stays where it is. */
  async updateGroup(id: string, change: { name?: string; cameraIds?: string[]; parentId?: string | null }): Promise<Group> {
    return parseAnswer(groupAnswers.GroupAnswer, await call('PATCH', `/api/groups/${enc(id)}`, change), 'group').group;
  },
  async deleteGroup(id: string): Promise<void> {
    await call('DELETE', `/api/groups/${enc(id)}`);
  },

  // --- Cameras ----------------------------------------------------------------------------------
  /** A new secret; the old one keeps working until previousValidUntilMs (none with graceHours 0). */
  async rotateSecret(cameraId: string, graceHours: number): Promise<{ secret: string; previousValidUntilMs?: number }> {
    const { secret, previousSecretValidUntil } = parseAnswer(cameraAnswers.RotatedSecret, await call('POST', `/api/cameras/${enc(cameraId)}/secret`, { graceHours }), 'secret');
    return { secret, ...(previousSecretValidUntil !== null ? { previousValidUntilMs: msOf(previousSecretValidUntil) } : {}) };
  },
  recorderAlerts(): Promise<RecorderAlert[]> {
    // The Live view's alert panel and its sidebar both ask as the view opens: one request serves both.
    alertsAsked ??= (async () => parseAnswer(recorderAnswers.RecorderAlerts, await call('GET', '/api/recorder/alerts'), 'alerts').alerts)().finally(() => {
      alertsAsked = undefined;
    });
    return alertsAsked;
  },

  // --- Announcements ----------------------------------------------------------------------------
  /** Active notices for the caller (a user's session, or a kiosk's token); `all` (admins): future and past too. */
  async announcements(cred: Credential = 'session', all = false): Promise<Announcement[]> {
    return parseAnswer(announcementAnswers.NoticeList, await call('GET', `/api/announcements${all ? '?all=1' : ''}`, undefined, cred), 'announcements').announcements.map(announcement);
  },
  async postAnnouncement(input: { kind: 'maintenance' | 'incident' | 'info'; message: string; startsAtMs?: number; endsAtMs: number; everyone: boolean }): Promise<Announcement> {
    const body = {
      kind: input.kind,
      message: input.message,
      ...(input.startsAtMs === undefined ? {} : { startsAt: new Date(input.startsAtMs).toISOString() }),
      endsAt: new Date(input.endsAtMs).toISOString(),
      ...(input.everyone ? { everyone: true } : {}),
    };
    return announcement(parseAnswer(announcementAnswers.NoticeAnswer, await call('POST', '/api/announcements', body), 'announcement').announcement);
  },
  async deleteAnnouncement(id: string): Promise<void> {
    await call('DELETE', `/api/announcements/${enc(id)}`);
  },

  // --- API keys ---------------------------------------------------------------------------------
  /** Newest first, revoked ones included. */
  async apiKeys(): Promise<ApiKey[]> {
    return parseAnswer(apiKeyAnswers.ApiKeyList, await call('GET', '/api/api-keys'), 'api keys').apiKeys;
  },
  /** `key` is in this answer only: the server keeps a hash of it. */
  async createApiKey(input: { name: string; scope: ApiKeyScope; expiresAtMs?: number; groupId?: string }): Promise<{ apiKey: ApiKey; key: string }> {
    const body = {
      name: input.name,
      scope: input.scope,
      ...(input.expiresAtMs === undefined ? {} : { expiresAt: new Date(input.expiresAtMs).toISOString() }),
      ...(input.groupId === undefined ? {} : { groupId: input.groupId }),
    };
    return parseAnswer(apiKeyAnswers.CreatedApiKey, await call('POST', '/api/api-keys', body), 'api key');
  },
  async revokeApiKey(id: string): Promise<void> {
    await call('DELETE', `/api/api-keys/${enc(id)}`);
  },

  // --- Webhooks ---------------------------------------------------------------------------------
  async webhooks(): Promise<Webhook[]> {
    return parseAnswer(webhookAnswers.WebhookList, await call('GET', '/api/webhooks'), 'webhooks').webhooks;
  },
  /** `secret` (the signing key) is in this answer only. */
  async createWebhook(input: { name: string; url: string; events: WebhookEvent[] }): Promise<{ webhook: Webhook; secret: string }> {
    return parseAnswer(webhookAnswers.WebhookWithSecret, await call('POST', '/api/webhooks', input), 'webhook');
  },
  /** The webhook and the attempts this node made (newest first). */
  async webhookDeliveries(id: string): Promise<{ webhook: Webhook; deliveries: WebhookDelivery[] }> {
    return parseAnswer(webhookAnswers.WebhookDetail, await call('GET', `/api/webhooks/${enc(id)}`), 'webhook');
  },
  async setWebhookEnabled(id: string, enabled: boolean): Promise<Webhook> {
    return parseAnswer(webhookAnswers.WebhookAnswer, await call('PATCH', `/api/webhooks/${enc(id)}`, { enabled }), 'webhook').webhook;
  },
  async deleteWebhook(id: string): Promise<void> {
    await call('DELETE', `/api/webhooks/${enc(id)}`);
  },
  /** Sends a webhook.test event now (one attempt) and answers how it went. */
  async testWebhook(id: string): Promise<WebhookDelivery> {
    return parseAnswer(webhookAnswers.WebhookTestAnswer, await call('POST', `/api/webhooks/${enc(id)}/test`), 'webhook test').delivery;
  },
  /** A new signing secret (in this answer only); the old one stops at once. */
  async rotateWebhookSecret(id: string): Promise<{ webhook: Webhook; secret: string }> {
    return parseAnswer(webhookAnswers.WebhookWithSecret, await call('POST', `/api/webhooks/${enc(id)}/secret`), 'webhook secret');
  },

  // --- Organisations (platform operators) -------------------------------------------------------
  async orgs(): Promise<Org[]> {
    return parseAnswer(orgAnswers.OrgList, await call('GET', '/api/orgs'), 'orgs').orgs.map(org);
  },
  async createOrg(name: string, admin: { username: string; password: string }): Promise<Org> {
    return org(parseAnswer(orgAnswers.CreatedOrg, await call('POST', '/api/orgs', { name, admin }), 'org').org);
  },
  async scheduleDeletion(orgId: string, atMs: number): Promise<Org> {
    return org(parseAnswer(orgAnswers.OrgAnswer, await call('PUT', `/api/orgs/${enc(orgId)}/deletion`, { at: new Date(atMs).toISOString() }), 'org').org);
  },
  async cancelDeletion(orgId: string): Promise<Org> {
    return org(parseAnswer(orgAnswers.OrgAnswer, await call('DELETE', `/api/orgs/${enc(orgId)}/deletion`), 'org').org);
  },
  /** The service's nodes (GET /api/sfu; its workers and rooms are not used here). */
  async nodes(): Promise<ClusterNode[]> {
    return parseAnswer(sfuAnswers.SfuState, await call('GET', '/api/sfu'), 'sfu').nodes.map(({ startedAt, ...rest }) => ({ ...rest, startedAtMs: msOf(startedAt) }));
  },
  /** Asks the node to drain (202: it has started; it leaves the load balancer, moves its cameras, then stops). */
  async drainNode(id: string, reason?: string): Promise<void> {
    parseAnswer(nodeAnswers.NodeDraining, await call('POST', `/api/nodes/${enc(id)}/drain`, reason ? { reason } : {}), 'drain');
  },
  async deletionReports(): Promise<DeletionReport[]> {
    return parseAnswer(orgAnswers.DeletionReports, await call('GET', '/api/orgs/deletion-reports'), 'reports').reports.map(({ scheduledFor, completedAt, ...rest }) => ({
      ...rest,
      scheduledForMs: msOf(scheduledFor),
      completedAtMs: msOf(completedAt),
    }));
  },
};
