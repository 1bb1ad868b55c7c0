// Webhooks: what happens to an organisation's cameras, recordings, exports and contract, told to
// the URLs its administrators registered. Every source is subscribed here, in one place:
//   - camera.online / camera.offline: a camera's room on this node goes live / loses its last
//     producer (sfu/CameraRoom 'live' / 'offline'; rooms relayed in from another node are that
//     node's to tell);
//   - camera.not_recording: the monitoring alert "online but not recording" is raised;
//   - recording.gap: the recorder wrote a gap to a camera's index;
//   - export.ready / export.failed: an export job this node ran finished (its row's change);
//   - contract.end_scheduled: an organisation's deletion was scheduled (the route calls
//     contractEndScheduled);
//   - webhook.test: the test button (test()).
// In a cluster the node where the event happens delivers it (each node records, runs exports and
// serves requests for its own cameras and callers), so an event is sent once, not once per node.
// Publishing never waits: events go to DeliveryQueue, in the background, with retries; nothing
// on the path of recording, signaling or a request waits for a receiver.
import crypto from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Config } from '../../config/index.ts';
import type { Recorder } from '../../recorder/index.ts';
import type { CameraRoom, Sfu } from '../../sfu/index.ts';
import type { Logger } from '../log.ts';
import type { RecorderAlert } from '../monitoring.ts';
import type { Change, Org, Store, Webhook, WebhookEventType } from '../store/index.ts';
import { DeliveryLog, type DeliveryEntry } from './DeliveryLog.ts';
import { DeliveryQueue, type WebhookEvent } from './DeliveryQueue.ts';
import { postOnce } from './post.ts';

export type { DeliveryEntry } from './DeliveryLog.ts';
export type { WebhookEvent } from './DeliveryQueue.ts';

/** Every type a delivery may carry: the subscribable ones and the test button's. */
export type DeliveredEventType = WebhookEventType | 'webhook.test';

export interface WebhooksOptions {
  store: Store;
  sfu: Sfu;
  recorder: Recorder;
  log: Logger;
  nodeId: string;
  settings: Config['webhooks'];
  /** Deliveries at once on this node (default 4) and to one webhook (default 1). */
  concurrency?: number;
  perWebhook?: number;
  /** Events waiting at most (default 1000); past it the oldest is dropped. */
  maxQueued?: number;
}

interface Subscribable {
  on(event: 'alert', listener: (alert: RecorderAlert) => void): unknown;
  off(event: 'alert', listener: (alert: RecorderAlert) => void): unknown;
  readonly registry: Registry;
}

export class Webhooks {
  readonly #o: WebhooksOptions;
  readonly #queue: DeliveryQueue;
  readonly #log = new DeliveryLog(50);
  /** Listeners to take off at close (a room's go when the room closes). */
  readonly #detach = new Set<() => void>();
  readonly #counts = { delivered: 0, failed: 0, dropped: 0, published: 0 };
  #closed = false;

  static create(o: WebhooksOptions): Webhooks {
    const webhooks = new Webhooks(o);
    webhooks.#subscribe();
    return webhooks;
  }

  private constructor(o: WebhooksOptions) {
    this.#o = o;
    this.#queue = new DeliveryQueue({
      nodeId: o.nodeId,
      retryDelaysMs: o.settings.retryDelaysMs,
      timeoutMs: o.settings.timeoutMs,
      allowPrivate: o.settings.allowPrivate,
      webhook: (id) => o.store.webhook(id),
      attempted: (webhookId, entry) => {
        if (entry.delivered) this.#counts.delivered += 1;
        else this.#counts.failed += 1;
        if (this.#o.store.webhook(webhookId)) this.#log.add(webhookId, entry);
      },
      dropped: (webhookId, event) => {
        this.#counts.dropped += 1;
        this.#log.add(webhookId, { eventId: event.id, type: event.type, attempt: 0, at: new Date().toISOString(), durationMs: 0, delivered: false, error: 'dropped: this node\'s webhook queue was full', node: o.nodeId });
      },
      post: postOnce,
      log: o.log,
      ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
      ...(o.perWebhook !== undefined ? { perWebhook: o.perWebhook } : {}),
      ...(o.maxQueued !== undefined ? { maxQueued: o.maxQueued } : {}),
    });
  }

  /** The monitoring alerts (camera.not_recording) and this module's metrics. */
  watchMonitoring(monitoring: Subscribable): void {
    const onAlert = (alert: RecorderAlert) => {
      if (alert.kind !== 'not_recording') return;
      this.#cameraEvent(alert.cameraId, 'camera.not_recording', { since: new Date(alert.sinceMs).toISOString() });
    };
    monitoring.on('alert', onAlert);
    this.#detach.add(() => monitoring.off('alert', onAlert));
    const registers = [monitoring.registry];
    const counts = this.#counts;
    const queue = this.#queue;
    new Gauge({ name: 'mimamori_webhook_queue', help: 'Webhook events waiting on this node (due, or for a retry).', registers, collect() { this.set(queue.size); } });
    new Gauge({ name: 'mimamori_webhook_in_flight', help: 'Webhook delivery attempts under way on this node.', registers, collect() { this.set(queue.inFlight); } });
    const counter = (name: string, help: string, read: () => number) =>
      new Counter({ name, help, registers, collect() { this.reset(); this.inc(read()); } });
    counter('mimamori_webhook_deliveries_total', 'Webhook events delivered (a 2xx answer).', () => counts.delivered);
    counter('mimamori_webhook_attempts_failed_total', 'Webhook delivery attempts that failed (each is retried until the last).', () => counts.failed);
    counter('mimamori_webhook_dropped_total', 'Webhook events dropped because this node\'s queue was full.', () => counts.dropped);
  }

  /** An organisation's contract end was scheduled (PUT /api/orgs/:id/deletion, on the node that took it). */
  contractEndScheduled(org: Org): void {
    if (!org.deletion) return;
    this.publish(org.id, 'contract.end_scheduled', { orgName: org.name, at: org.deletion.at, requestedAt: org.deletion.requestedAt });
  }

  /** Queues the event for every enabled webhook of the organisation that asked for its type. Never throws, never waits. */
  publish(orgId: string, type: WebhookEventType, data: Record<string, unknown>): void {
    if (this.#closed) return;
    try {
      const targets = this.#o.store.webhooksOf(orgId).filter((w) => !w.disabledAt && w.events.includes(type));
      if (targets.length === 0) return;
      const event = newEvent(orgId, type, data);
      this.#counts.published += 1;
      for (const w of targets) this.#queue.enqueue(w.id, event);
    } catch (err) {
      this.#o.log.error({ event: 'webhook_publish_failed', orgId, type, err }, 'could not queue a webhook event');
    }
  }

  /** The test button: a `webhook.test` event sent now (one attempt, no retry), and how it went. */
  test(webhook: Webhook): Promise<DeliveryEntry> {
    const event = newEvent(webhook.orgId, 'webhook.test', { webhookId: webhook.id, webhookName: webhook.name, message: 'A test event from Mimamori: your endpoint is reachable and can check signatures.' });
    return this.#queue.sendNow(webhook, event);
  }

  /** The webhook's last deliveries on this node, newest first (at most 50). */
  deliveries(webhookId: string): readonly DeliveryEntry[] {
    return this.#log.of(webhookId);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const detach of [...this.#detach]) detach();
    this.#detach.clear();
    await this.#queue.close();
  }

  #subscribe(): void {
    const { sfu, recorder, store } = this.#o;
    const onRoom = (room: CameraRoom) => this.#watchRoom(room);
    sfu.on('roomOpened', onRoom);
    this.#detach.add(() => sfu.off('roomOpened', onRoom));
    for (const room of sfu.rooms.values()) this.#watchRoom(room);

    const onGap = (cameraId: string, gap: { fromMs: number; toMs: number; reason: string }) =>
      this.#cameraEvent(cameraId, 'recording.gap', { from: new Date(gap.fromMs).toISOString(), to: new Date(gap.toMs).toISOString(), reason: gap.reason });
    recorder.on('gap', onGap);
    this.#detach.add(() => recorder.off('gap', onGap));

    const onChange = (change: Change) => {
      if (change.table === 'webhooks' && !change.after) this.#log.forget(change.key);
      if (change.table !== 'exports' || !change.after) return;
      const job = change.after;
      // Every node sees the row change; the node that ran the job tells.
      if (job.owner !== this.#o.nodeId || change.before?.status === job.status) return;
      if (job.status !== 'done' && job.status !== 'failed') return;
      const common = { exportId: job.id, name: job.name, from: new Date(job.fromMs).toISOString(), to: new Date(job.toMs).toISOString() };
      if (job.status === 'done') this.#cameraEvent(job.cameraId, 'export.ready', { ...common, bytes: job.bytes ?? 0 });
      else this.#cameraEvent(job.cameraId, 'export.failed', { ...common, error: job.error ?? { code: 'export_failed', message: 'the export failed' } });
    };
    store.on('change', onChange);
    this.#detach.add(() => store.off('change', onChange));
  }

  #watchRoom(room: CameraRoom): void {
    // Told online (and so owed an offline): a room relayed in from another node is that node's.
    let online = false;
    const onLive = () => {
      if (room.relayed || online) return;
      online = true;
      this.#cameraEvent(room.cameraId, 'camera.online', {});
    };
    const onOffline = () => {
      if (!online) return;
      online = false;
      this.#cameraEvent(room.cameraId, 'camera.offline', {});
    };
    const onClosed = () => {
      onOffline();
      detach();
    };
    const detach = () => {
      this.#detach.delete(detach);
      room.off('live', onLive);
      room.off('newProducers', onLive);
      room.off('offline', onOffline);
      room.off('closed', onClosed);
    };
    room.on('live', onLive);
    // A camera moving here from another node: its room here was relayed (and live) until its own producers came.
    room.on('newProducers', onLive);
    room.on('offline', onOffline);
    room.on('closed', onClosed);
    this.#detach.add(detach);
    if (room.live) onLive();
  }

  /** An event about a camera: its organisation's webhooks, with its id and name. */
  #cameraEvent(cameraId: string, type: WebhookEventType, data: Record<string, unknown>): void {
    const camera = this.#o.store.camera(cameraId);
    if (!camera) return;
    this.publish(camera.orgId, type, { cameraId, cameraName: camera.name, ...data });
  }
}

function newEvent(orgId: string, type: DeliveredEventType, data: Record<string, unknown>): WebhookEvent {
  return { id: `evt_${crypto.randomBytes(12).toString('base64url')}`, type, occurredAt: new Date().toISOString(), orgId, data };
}
