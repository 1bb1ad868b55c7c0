import type { types } from 'mediasoup';

/** A place for one mediasoup worker; when the worker dies a new one takes the same slot. */
export interface WorkerSlot {
  readonly index: number;
  worker: types.Worker;
  /** Routers currently on this worker (the load measure for placing new routers). */
  routers: number;
}
