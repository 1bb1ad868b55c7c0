// The last deliveries of each webhook, newest first, for its page and GET /api/webhooks/:id. In
// this node's memory (the node that delivers writes it): a row per attempt would cost a database
// write per attempt for a log nobody keeps, and it is lost on restart. In a cluster each node shows
// the attempts it made (each entry names its node).

export interface DeliveryEntry {
  eventId: string;
  type: string;
  /** 1 for the first try. */
  attempt: number;
  /** ISO 8601 (UTC), when the attempt started. */
  at: string;
  durationMs: number;
  /** A 2xx answer. */
  delivered: boolean;
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  /** Why it was not delivered (timeout, connection refused, a private address, the queue full…). */
  error?: string;
  /** When the next attempt is due, if there is one. */
  nextAttemptAt?: string;
  node: string;
}

export class DeliveryLog {
  readonly #max: number;
  readonly #entries = new Map<string, DeliveryEntry[]>();

  constructor(maxPerWebhook = 50) {
    if (!(maxPerWebhook >= 1)) throw new TypeError('DeliveryLog: maxPerWebhook >= 1');
    this.#max = maxPerWebhook;
  }

  add(webhookId: string, entry: DeliveryEntry): void {
    let list = this.#entries.get(webhookId);
    if (!list) this.#entries.set(webhookId, (list = []));
    list.unshift(entry);
    if (list.length > this.#max) list.length = this.#max;
  }

  /** Newest first. */
  of(webhookId: string): readonly DeliveryEntry[] {
    return this.#entries.get(webhookId) ?? [];
  }

  forget(webhookId: string): void {
    this.#entries.delete(webhookId);
  }
}
