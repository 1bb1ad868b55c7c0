// This node's webhook deliveries: nobody waits for them. Events are queued and sent in the
// background, at most `concurrency` at once and at most `perWebhook` to one webhook, so a slow or
// hanging receiver holds one slot (for one timeout at a time) and never the others'. Webhooks whose
// last attempt failed share at most half the slots, so a few receivers that hang keep retrying
// without holding every slot and webhooks that answer are sent meanwhile. A failed
// attempt (no 2xx, a timeout, no connection) is tried again after the next wait of
// `retryDelaysMs`, give or take a quarter (jitter, so receivers coming back are not hit all at
// once); after the last, the event is given up. The queue is bounded: past `maxQueued` events
// waiting, the oldest is dropped, with a warning in the log and in the webhook's delivery log.
import type { Logger } from '../log.ts';
import type { Webhook } from '../store/index.ts';
import type { DeliveryEntry } from './DeliveryLog.ts';
import type { AttemptResult, PostOptions } from './post.ts';
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signatureHeader } from './signing.ts';

export interface WebhookEvent {
  /** `evt_<…>`: the same on every attempt, so receivers can drop repeats. */
  id: string;
  type: string;
  /** ISO 8601, UTC. */
  occurredAt: string;
  orgId: string;
  data: Record<string, unknown>;
}

export interface DeliveryQueueOptions {
  nodeId: string;
  retryDelaysMs: readonly number[];
  timeoutMs: number;
  allowPrivate: boolean;
  /** The webhook as it is now (deleted, disabled, its URL or secret changed since the event). */
  webhook: (id: string) => Webhook | undefined;
  /** Each attempt, for the delivery log and the metrics. */
  attempted: (webhookId: string, entry: DeliveryEntry) => void;
  /** Events dropped because the queue was full. */
  dropped: (webhookId: string, event: WebhookEvent) => void;
  post: (url: URL, body: string, headers: Record<string, string>, o: PostOptions) => Promise<AttemptResult>;
  log: Logger;
  concurrency?: number;
  perWebhook?: number;
  maxQueued?: number;
}

interface Job {
  seq: number;
  webhookId: string;
  event: WebhookEvent;
  body: string;
  /** The attempt about to be made (1 first). */
  attempt: number;
}

export class DeliveryQueue {
  readonly #o: DeliveryQueueOptions;
  readonly #concurrency: number;
  readonly #perWebhook: number;
  readonly #maxQueued: number;
  /** Due now, oldest first. */
  #ready: Job[] = [];
  /** Waiting for their next attempt. */
  readonly #waiting = new Map<Job, NodeJS.Timeout>();
  readonly #inFlight = new Map<string, number>();
  /** Webhooks whose last attempt failed, and how many of their attempts are under way. */
  readonly #failing = new Set<string>();
  #failingRunning = 0;
  readonly #failingSlots: number;
  readonly #aborts = new Set<AbortController>();
  readonly #running = new Set<Promise<void>>();
  #seq = 0;
  #closed = false;

  constructor(o: DeliveryQueueOptions) {
    this.#concurrency = o.concurrency ?? 4;
    this.#perWebhook = o.perWebhook ?? 1;
    this.#maxQueued = o.maxQueued ?? 1000;
    this.#failingSlots = Math.max(1, Math.floor(this.#concurrency / 2));
    if (!(this.#concurrency >= 1 && this.#perWebhook >= 1 && this.#maxQueued >= 1)) throw new TypeError('DeliveryQueue: concurrency, perWebhook and maxQueued >= 1');
    if (o.retryDelaysMs.some((d) => !(d >= 0))) throw new TypeError('DeliveryQueue: retryDelaysMs must be non-negative');
    this.#o = o;
  }

  /** Events waiting (due or for a retry), not counting those being sent. */
  get size(): number {
    return this.#ready.length + this.#waiting.size;
  }
  get inFlight(): number {
    return this.#running.size;
  }

  /** Queues the event for the webhook; returns at once. */
  enqueue(webhookId: string, event: WebhookEvent): void {
    if (this.#closed) return;
    while (this.size >= this.#maxQueued) this.#dropOldest();
    this.#ready.push({ seq: ++this.#seq, webhookId, event, body: JSON.stringify(event), attempt: 1 });
    this.#pump();
  }

  /** Stops: nothing more is sent, attempts under way are cut short. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#waiting.values()) clearTimeout(timer);
    this.#waiting.clear();
    this.#ready = [];
    for (const a of this.#aborts) a.abort();
    await Promise.allSettled([...this.#running]);
  }

  /** One attempt now, outside the queue (the test button): its result. */
  async sendNow(webhook: Webhook, event: WebhookEvent): Promise<DeliveryEntry> {
    const entry = await this.#send(webhook, JSON.stringify(event), event, 1);
    this.#o.attempted(webhook.id, entry);
    return entry;
  }

  #dropOldest(): void {
    let oldest: Job | undefined = this.#ready[0];
    for (const job of this.#waiting.keys()) if (!oldest || job.seq < oldest.seq) oldest = job;
    if (!oldest) return;
    if (this.#ready[0] === oldest) this.#ready.shift();
    else {
      clearTimeout(this.#waiting.get(oldest));
      this.#waiting.delete(oldest);
    }
    this.#o.log.warn({ event: 'webhook_dropped', webhookId: oldest.webhookId, eventId: oldest.event.id, type: oldest.event.type, queued: this.#maxQueued }, 'webhook queue full: the oldest waiting event was dropped');
    this.#o.dropped(oldest.webhookId, oldest.event);
  }

  #pump(): void {
    if (this.#closed) return;
    for (let i = 0; i < this.#ready.length && this.#running.size < this.#concurrency; ) {
      const job = this.#ready[i]!;
      const failing = this.#failing.has(job.webhookId);
      if ((this.#inFlight.get(job.webhookId) ?? 0) >= this.#perWebhook || (failing && this.#failingRunning >= this.#failingSlots)) {
        i += 1;
        continue;
      }
      this.#ready.splice(i, 1);
      this.#inFlight.set(job.webhookId, (this.#inFlight.get(job.webhookId) ?? 0) + 1);
      if (failing) this.#failingRunning += 1;
      const run: Promise<void> = this.#attempt(job)
        .catch((err: unknown) => this.#o.log.error({ event: 'webhook_attempt_failed', webhookId: job.webhookId, err }, 'a webhook delivery attempt failed unexpectedly'))
        .finally(() => {
          this.#running.delete(run);
          if (failing) this.#failingRunning -= 1;
          const left = (this.#inFlight.get(job.webhookId) ?? 1) - 1;
          if (left > 0) this.#inFlight.set(job.webhookId, left);
          else this.#inFlight.delete(job.webhookId);
          this.#pump();
        });
      this.#running.add(run);
    }
  }

  async #attempt(job: Job): Promise<void> {
    const webhook = this.#o.webhook(job.webhookId);
    // Deleted or switched off since: the event is not sent.
    if (!webhook || webhook.disabledAt) {
      this.#failing.delete(job.webhookId);
      return;
    }
    const entry = await this.#send(webhook, job.body, job.event, job.attempt);
    if (entry.delivered) this.#failing.delete(webhook.id);
    else this.#failing.add(webhook.id);
    if (!entry.delivered && !this.#closed && job.attempt <= this.#o.retryDelaysMs.length) {
      const base = this.#o.retryDelaysMs[job.attempt - 1]!;
      const delay = Math.round(base * (0.75 + Math.random() * 0.5));
      entry.nextAttemptAt = new Date(Date.now() + delay).toISOString();
      const next: Job = { ...job, attempt: job.attempt + 1 };
      const timer = setTimeout(() => {
        this.#waiting.delete(next);
        this.#ready.push(next);
        this.#pump();
      }, delay);
      timer.unref();
      this.#waiting.set(next, timer);
    } else if (!entry.delivered) {
      this.#o.log.warn({ event: 'webhook_given_up', webhookId: webhook.id, eventId: job.event.id, type: job.event.type, attempts: job.attempt, error: entry.error, status: entry.status }, 'a webhook event was given up after its last attempt');
    }
    this.#o.attempted(webhook.id, entry);
  }

  async #send(webhook: Webhook, body: string, event: WebhookEvent, attempt: number): Promise<DeliveryEntry> {
    const at = new Date();
    const base = { eventId: event.id, type: event.type, attempt, at: at.toISOString(), node: this.#o.nodeId };
    let url: URL;
    try {
      url = new URL(webhook.url);
    } catch {
      return { ...base, durationMs: 0, delivered: false, error: 'the webhook URL is not valid' };
    }
    const abort = new AbortController();
    this.#aborts.add(abort);
    try {
      const headers = {
        [SIGNATURE_HEADER]: signatureHeader(webhook.secret, Math.floor(at.getTime() / 1000), body),
        [EVENT_ID_HEADER]: event.id,
        [EVENT_TYPE_HEADER]: event.type,
      };
      const result = await this.#o.post(url, body, headers, { timeoutMs: this.#o.timeoutMs, allowPrivate: this.#o.allowPrivate, signal: abort.signal });
      return { ...base, durationMs: result.durationMs, delivered: result.ok, ...(result.status !== undefined ? { status: result.status } : {}), ...(result.error !== undefined ? { error: result.error } : {}) };
    } finally {
      this.#aborts.delete(abort);
    }
  }
}
