// Webhooks of an organisation: its administrators register URLs for the events they want (README
// "Webhooks"), see each one's recent deliveries, send a test event, and rotate its signing secret.
// The secret is in the answers of creation and rotation only. API keys cannot call these routes.
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv, Deps } from '../context.ts';
import { ApiError, notFound } from '../errors.ts';
import { audit, requireAdmin, requireUser } from '../middleware.ts';
import { WEBHOOK_EVENT_TYPES, type Webhook, type WebhookEventType } from '../store/index.ts';
import { newId } from '../store/ids.ts';
import { assertReachable, newWebhookSecret, parseWebhookUrl, type DeliveryEntry } from '../webhooks/index.ts';
import { WEBHOOK_EVENTS, WebhookAnswer, WebhookDetail, WebhookList, WebhookTestAnswer, WebhookWithSecret } from '../wire/answers/index.ts';
import { describe, reply, validate, type ErrorCode, type Same } from '../wire/index.ts';

// The answers module cannot import the store: its documented event types must be the store's.
true satisfies Same<(typeof WEBHOOK_EVENTS)[number], WebhookEventType>;

/** Webhooks an organisation may have. */
const MAX_WEBHOOKS = 20;

const eventType = z.enum(WEBHOOK_EVENT_TYPES as [WebhookEventType, ...WebhookEventType[]], { message: `each event must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` });
const events = z
  .array(eventType)
  .min(1, 'name at least one event')
  .max(WEBHOOK_EVENT_TYPES.length)
  .refine((list) => new Set(list).size === list.length, 'name each event once');
const fields = {
  name: z.string().trim().min(1).max(100),
  url: z.string().trim().min(1).max(2000).describe('https:// (http:// only where the operator allows private addresses); no user name or password in it'),
  events,
};
const createBody = z.object(fields).strict();
const updateBody = z
  .object({ ...fields, enabled: z.boolean().describe('false: nothing is sent to it (events meanwhile are not kept); true: sent again') })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'change at least one of name, url, events, enabled');
const webhookParam = z.object({ id: z.string().regex(/^wh_[A-Za-z0-9_-]{12}$/, 'not a webhook id (wh_ and 12 characters)') });


const tag = 'Webhooks';
const auth = ['user'] as const;
const access = 'an organisation administrator (API keys cannot manage webhooks)';
const USER_ERRORS = ['forbidden', 'session_revoked'] as const satisfies readonly ErrorCode[];
const exampleWebhook = {
  id: 'wh_Q2xk8vT0bN3a',
  name: 'Facility alerts',
  url: 'https://hooks.example.com/mimamori',
  events: ['camera.offline', 'camera.not_recording', 'recording.gap'],
  enabled: true,
  disabledAt: null,
  createdAt: '2026-12-06T01:00:00.000Z',
  createdBy: 'u_3Q50xK2a',
};
const exampleDelivery = { eventId: 'evt_6f1mQ0c9aXr2bYtW', type: 'camera.offline', attempt: 1, at: '2026-12-06T01:02:03.000Z', durationMs: 84, delivered: true, status: 200, node: 'node-a' };
const exampleSecret = 'whsec_Q2hhbmdlLW1lLXRoaXMtaXMtYW4tZXhhbXBsZS1zZWNyZXQ';

export function webhookRoutes(deps: Deps) {
  const view = (w: Webhook) => ({
    id: w.id,
    name: w.name,
    url: w.url,
    events: [...w.events],
    enabled: !w.disabledAt,
    disabledAt: w.disabledAt ?? null,
    createdAt: w.createdAt,
    createdBy: w.createdBy,
  });
  const delivery = (d: DeliveryEntry) => ({ ...d });
  const allowPrivate = deps.config.webhooks.allowPrivate;
  /** The URL checked as it will be called (https, resolving to public addresses): 400 webhook_url_refused otherwise. */
  const checkedUrl = async (text: string) => {
    const url = parseWebhookUrl(text, allowPrivate);
    await assertReachable(url, allowPrivate);
    return url.href;
  };
  const own = (c: { get(key: 'user'): { orgId: string } }, id: string): Webhook => {
    const w = deps.store.webhook(id);
    if (!w || w.orgId !== c.get('user').orgId) throw notFound('webhook', id);
    return w;
  };
  /** What the audit row says of a URL: its host (a path or query may carry a receiver's token). */
  const hostOf = (url: string) => new URL(url).host;

  return new Hono<AppEnv>()
    .use(requireUser(deps), requireAdmin)
    .get('/', describe({ summary: 'List the organisation\'s webhooks', description: 'Oldest first; never a secret.', tag, auth, access, answer: { description: 'The webhooks', schema: WebhookList, example: { webhooks: [exampleWebhook] } }, errors: [...USER_ERRORS] }), (c) => {
      const list = [...deps.store.webhooksOf(c.get('user').orgId)].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      return reply(c, WebhookList, { webhooks: list.map(view) });
    })
    .post('/', describe({
      summary: 'Create a webhook',
      description:
        `Events: ${WEBHOOK_EVENT_TYPES.map((t) => `\`${t}\``).join(', ')} (README "Webhooks" has their payloads). Each delivery is a POST of \`{ id, type, occurredAt, orgId, data }\` signed in \`Mimamori-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>">\`, retried with backoff until a 2xx. ` +
        'The URL must be https and resolve to public addresses (unless the operator allows private ones). The secret is in this answer only: store it now. At most 20 per organisation. Audited.',
      tag, auth, access,
      answer: { status: 201, description: 'The webhook and its secret, shown this once', schema: WebhookWithSecret, example: { webhook: exampleWebhook, secret: exampleSecret } },
      errors: [...USER_ERRORS, 'webhook_url_refused', 'webhook_limit', 'database_unavailable', 'bad_request'],
      example: { name: 'Facility alerts', url: 'https://hooks.example.com/mimamori', events: ['camera.offline', 'camera.not_recording', 'recording.gap'] },
    }), validate('json', createBody), async (c) => {
      const { name, url, events: types } = c.req.valid('json');
      const user = c.get('user');
      if (deps.store.webhooksOf(user.orgId).length >= MAX_WEBHOOKS) throw new ApiError(409, 'webhook_limit', `the organisation has ${MAX_WEBHOOKS} webhooks, as many as it may; delete one first`);
      const href = await checkedUrl(url);
      const secret = newWebhookSecret();
      const webhook = await deps.store.addWebhook({ id: newId('wh'), orgId: user.orgId, name, url: href, events: types, secret, createdBy: user.id });
      audit(deps, c, { actor: `u:${user.id}`, action: 'webhook.create', outcome: 'ok', detail: { webhookId: webhook.id, name, host: hostOf(href), events: types } });
      return reply(c, WebhookWithSecret, { webhook: view(webhook), secret }, 201);
    })
    .get('/:id', describe({
      summary: 'Get a webhook and its delivery log',
      description: 'The log holds the last 50 attempts this node made (newest first), kept in memory: it starts empty after a restart, and in a cluster each node shows its own.',
      tag, auth, access,
      answer: { description: 'The webhook and its recent deliveries', schema: WebhookDetail, example: { webhook: exampleWebhook, deliveries: [exampleDelivery] } },
      errors: [...USER_ERRORS, 'webhook_not_found'],
    }), validate('param', webhookParam), (c) => {
      const w = own(c, c.req.valid('param').id);
      return reply(c, WebhookDetail, { webhook: view(w), deliveries: deps.webhooks.deliveries(w.id).map(delivery) });
    })
    .patch('/:id', describe({
      summary: 'Change a webhook',
      description: 'Any of name, url (checked as at creation), events, enabled. A disabled webhook is sent nothing; events that happen meanwhile are not kept for it. Audited.',
      tag, auth, access,
      answer: { description: 'The webhook as it now is', schema: WebhookAnswer, example: { webhook: { ...exampleWebhook, enabled: false, disabledAt: '2026-12-07T08:00:00.000Z' } } },
      errors: [...USER_ERRORS, 'webhook_not_found', 'webhook_url_refused', 'database_unavailable', 'bad_request'],
      example: { enabled: false },
    }), validate('param', webhookParam), validate('json', updateBody), async (c) => {
      const { id } = c.req.valid('param');
      const change = c.req.valid('json');
      own(c, id);
      const url = change.url !== undefined ? await checkedUrl(change.url) : undefined;
      const webhook = await deps.store.updateWebhook(id, { ...change, ...(url !== undefined ? { url } : {}) });
      if (!webhook) throw notFound('webhook', id);
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'webhook.update', outcome: 'ok', detail: { webhookId: id, name: change.name, host: url !== undefined ? hostOf(url) : undefined, events: change.events, enabled: change.enabled } });
      return reply(c, WebhookAnswer, { webhook: view(webhook) });
    })
    .delete('/:id', describe({ summary: 'Delete a webhook', description: 'Nothing more is sent to it, retries included. Audited.', tag, auth, access, answer: { status: 204, description: 'Deleted' }, errors: [...USER_ERRORS, 'webhook_not_found', 'database_unavailable'] }), validate('param', webhookParam), async (c) => {
      const { id } = c.req.valid('param');
      const w = own(c, id);
      await deps.store.deleteWebhook(id);
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'webhook.delete', outcome: 'ok', detail: { webhookId: id, name: w.name, host: hostOf(w.url) } });
      return c.body(null, 204);
    })
    .post('/:id/test', describe({
      summary: 'Send a test event',
      description: 'Sends a `webhook.test` event to the webhook now (signed like every delivery; one attempt, no retry, at most the delivery timeout) and answers how it went. Sent even when the webhook is disabled. The attempt is in its delivery log.',
      tag, auth, access,
      answer: { description: 'The attempt: delivered (2xx) or why not', schema: WebhookTestAnswer, example: { delivery: { ...exampleDelivery, type: 'webhook.test' } } },
      errors: [...USER_ERRORS, 'webhook_not_found'],
    }), validate('param', webhookParam), async (c) => {
      const w = own(c, c.req.valid('param').id);
      return reply(c, WebhookTestAnswer, { delivery: delivery(await deps.webhooks.test(w)) });
    })
    .post('/:id/secret', describe({
      summary: 'Rotate a webhook\'s secret',
      description: 'A new signing secret, in this answer only; deliveries from now on (retries included) are signed with it and the old one stops at once. Audited.',
      tag, auth, access,
      answer: { description: 'The webhook and its new secret, shown this once', schema: WebhookWithSecret, example: { webhook: exampleWebhook, secret: exampleSecret } },
      errors: [...USER_ERRORS, 'webhook_not_found', 'database_unavailable'],
    }), validate('param', webhookParam), async (c) => {
      const { id } = c.req.valid('param');
      own(c, id);
      const secret = newWebhookSecret();
      const webhook = await deps.store.rotateWebhookSecret(id, secret);
      if (!webhook) throw notFound('webhook', id);
      audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'webhook.secret_rotate', outcome: 'ok', detail: { webhookId: id, name: webhook.name } });
      return reply(c, WebhookWithSecret, { webhook: view(webhook), secret });
    });
}
