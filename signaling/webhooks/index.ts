// Webhooks (README "Webhooks"): signed HTTP callbacks for camera, recording, export and contract
// events. Webhooks is the entry: created once in Service.create, it subscribes to every source
// and delivers in the background.
export { Webhooks, type DeliveredEventType, type DeliveryEntry, type WebhookEvent, type WebhooksOptions } from './Webhooks.ts';
export { assertReachable, isPrivateAddress, parseWebhookUrl, webhookUrlRefused } from './addresses.ts';
export { EVENT_ID_HEADER, EVENT_TYPE_HEADER, newWebhookSecret, SIGNATURE_HEADER, signatureHeader } from './signing.ts';
