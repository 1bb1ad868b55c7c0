// Webhook signatures: `Mimamori-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
// "<t>.<raw body>" with the webhook's secret (the whole `whsec_…` string, UTF-8), so a receiver
// can tell the request came from this service, was not changed, and is recent (it rejects a `t`
// older than 5 minutes: a captured request cannot be replayed later).
import crypto from 'node:crypto';

export const SIGNATURE_HEADER = 'Mimamori-Signature';
export const EVENT_ID_HEADER = 'Mimamori-Event-Id';
export const EVENT_TYPE_HEADER = 'Mimamori-Event-Type';

/** A new secret: 256 random bits. */
export const newWebhookSecret = (): string => `whsec_${crypto.randomBytes(32).toString('base64url')}`;

/** The header value for `body` sent at `unixSeconds`. */
export function signatureHeader(secret: string, unixSeconds: number, body: string): string {
  const v1 = crypto.createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}
