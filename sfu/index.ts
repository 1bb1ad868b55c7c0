// The SFU: a mediasoup worker per core, one CameraRoom per camera. Knows nothing of users;
// signaling/ decides who may call what.
import { SafeEmitter } from '../errors/index.ts';
import './worker-bin.ts';
import { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { CameraRoom, type RtcSettings } from './CameraRoom.ts';
import type { WorkerSlot } from './WorkerSlot.ts';

export { CameraRoom } from './CameraRoom.ts';
export type { ConsumerInfo, TransportInfo, Direction, RelayEnd, RelayedProducer } from './CameraRoom.ts';
export { SfuError, NotFoundError } from './errors.ts';
export type { WorkerSlot } from './WorkerSlot.ts';

export interface SfuOptions {
  workers: number;
  rtc: RtcSettings & { minPort: number; maxPort: number };
  viewersPerRouter: number;
  logLevel?: types.WorkerLogLevel;
}

export interface SfuEvents {
  /** The media state of a camera was lost (its worker died): its clients must join again. */
  cameraReset: [cameraId: string, reason: string];
  workerDied: [index: number, error: Error];
  workerRestarted: [index: number, pid: number];
  /** A camera's room was created (the recorder attaches to it). */
  roomOpened: [room: CameraRoom];
}

export class Sfu extends SafeEmitter<SfuEvents> {
  readonly #options: SfuOptions;
  readonly #slots: WorkerSlot[] = [];
  readonly #rooms = new Map<string, CameraRoom>();
  readonly #creating = new Map<string, Promise<CameraRoom>>();
  #closed = false;

  static async create(options: SfuOptions): Promise<Sfu> {
    if (options.workers < 1) throw new TypeError('workers must be at least 1');
    const sfu = new Sfu(options);
    for (let i = 0; i < options.workers; i++) {
      sfu.#slots.push({ index: i, worker: await sfu.#spawn(i), routers: 0 });
    }
    return sfu;
  }

  private constructor(options: SfuOptions) {
    super();
    this.#options = options;
  }

  get workers(): readonly WorkerSlot[] {
    return this.#slots;
  }
  get rooms(): ReadonlyMap<string, CameraRoom> {
    return this.#rooms;
  }

  /** The room of a camera, created on first use. */
  async room(cameraId: string): Promise<CameraRoom> {
    const existing = this.#rooms.get(cameraId);
    if (existing && !existing.closed) return existing;
    const pending = this.#creating.get(cameraId);
    if (pending) return pending;
    const creating = CameraRoom.create({
      cameraId,
      rtc: this.#options.rtc,
      viewersPerRouter: this.#options.viewersPerRouter,
      pickWorker: (exclude) => this.#pickWorker(exclude),
    }).then((room) => {
      this.#rooms.set(cameraId, room);
      room.once('closed', () => {
        if (this.#rooms.get(cameraId) === room) this.#rooms.delete(cameraId);
      });
      this.safeEmit('roomOpened', room);
      return room;
    });
    this.#creating.set(cameraId, creating);
    try {
      return await creating;
    } finally {
      this.#creating.delete(cameraId);
    }
  }

  /** The room if it exists, without creating one. */
  existingRoom(cameraId: string): CameraRoom | undefined {
    const room = this.#rooms.get(cameraId);
    return room && !room.closed ? room : undefined;
  }

  /** Closes a camera's room (camera deleted): everyone on it is disconnected from its media. */
  closeRoom(cameraId: string, reason: string): void {
    this.#rooms.get(cameraId)?.close(reason);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const room of this.#rooms.values()) room.close('shutdown');
    for (const slot of this.#slots) slot.worker.close();
  }

  #pickWorker(exclude: ReadonlySet<WorkerSlot>): WorkerSlot {
    const candidates = this.#slots.filter((s) => !exclude.has(s));
    const pool = candidates.length > 0 ? candidates : this.#slots;
    return pool.reduce((a, b) => (b.routers < a.routers ? b : a));
  }

  async #spawn(index: number): Promise<types.Worker> {
    const { rtc, logLevel } = this.#options;
    const worker = await mediasoup.createWorker({
      logLevel: logLevel ?? 'warn',
      rtcMinPort: rtc.minPort,
      rtcMaxPort: rtc.maxPort,
      appData: { index },
    });
    worker.once('died', (error) => void this.#onWorkerDied(index, error));
    return worker;
  }

  async #onWorkerDied(index: number, error: Error): Promise<void> {
    if (this.#closed) return;
    const slot = this.#slots[index];
    if (!slot) return;
    this.safeEmit('workerDied', index, error);
    // Rooms with a router on the dead worker lost media state that cannot be rebuilt
    // server-side (the transports' ICE/DTLS sessions were in that process): close them and
    // tell their clients to join again.
    for (const room of [...this.#rooms.values()]) {
      if (room.usesWorker(slot)) {
        room.close('worker_died');
        this.safeEmit('cameraReset', room.cameraId, 'media worker restarted');
      }
    }
    slot.routers = 0;
    for (let attempt = 0; !this.#closed; attempt++) {
      try {
        slot.worker = await this.#spawn(index);
        this.safeEmit('workerRestarted', index, slot.worker.pid);
        return;
      } catch (spawnError) {
        await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** attempt)));
        if (attempt > 20) throw spawnError;
      }
    }
  }
}
