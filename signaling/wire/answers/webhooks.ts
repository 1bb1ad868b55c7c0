// Answers of /api/webhooks: an organisation's webhooks, their recent deliveries, and the signing
// secret in the answers of creation and rotation only.
import { z } from 'zod';

/** The events a webhook can ask for (the store's WEBHOOK_EVENT_TYPES; signaling/routes/webhooks.ts checks they match). */
export const WEBHOOK_EVENTS = ['camera.online', 'camera.offline', 'camera.not_recording', 'recording.gap', 'export.ready', 'export.failed', 'contract.end_scheduled'] as const;

export const WebhookView = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENTS)),
  enabled: z.boolean(),
  disabledAt: z.string().nullable().describe('ISO 8601, when it was switched off; null while enabled'),
  createdAt: z.string(),
  createdBy: z.string().describe('The administrator who created it (user id)'),
});
export const WebhookDelivery = z.object({
  eventId: z.string().describe('The Mimamori-Event-Id header: the same on every attempt of one event'),
  type: z.string(),
  attempt: z.number().int().describe('1 for the first try; 0 for an event dropped because the queue was full'),
  at: z.string().describe('ISO 8601 (UTC), when the attempt started'),
  durationMs: z.number().int(),
  delivered: z.boolean().describe('The receiver answered 2xx'),
  status: z.number().int().optional().describe('The receiver\'s HTTP status, when it answered'),
  error: z.string().optional().describe('Why it was not delivered (a timeout, a refused connection, a status, a private address)'),
  nextAttemptAt: z.string().optional().describe('When it is tried again, if it will be'),
  node: z.string().describe('The node that made the attempt (each node keeps the log of its own attempts, in memory)'),
});
export const WebhookList = z.object({ webhooks: z.array(WebhookView) });
export const WebhookDetail = z.object({ webhook: WebhookView, deliveries: z.array(WebhookDelivery).describe('This node\'s last 50 attempts, newest first') });
export const WebhookAnswer = z.object({ webhook: WebhookView });
export const WebhookWithSecret = z.object({ webhook: WebhookView, secret: z.string().describe('The signing secret (whsec_…): shown in this answer only; the HMAC key is this whole string') });
export const WebhookTestAnswer = z.object({ delivery: WebhookDelivery });
