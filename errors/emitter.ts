// Events that cannot break their emitter. A listener that throws inside `emit` stops the listeners
// after it and unwinds into the emitter: a throwing 'closed' listener would leave a close()
// cascade half done (transports open, rooms listed). `safeEmit` runs every listener, each on its
// own, and reports a failure to one sink (the service logs it) instead of swallowing it.
import { EventEmitter } from 'node:events';

export type ListenerFailure = (error: unknown, emitter: string, event: string) => void;

let sink: ListenerFailure = (error, emitter, event) => {
  process.stderr.write(`a listener of ${emitter} '${event}' threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
};

/** Where listener failures go (the service passes its logger once at start). */
export function onListenerFailure(report: ListenerFailure): void {
  sink = report;
}

type EventMap<T> = Record<keyof T, unknown[]> | [never];

export class SafeEmitter<T extends EventMap<T>> extends EventEmitter<T> {
  /** Calls every listener of `event` in order; one that throws is reported and the rest still run. */
  protected safeEmit<K>(event: EventKey<K, T>, ...args: Args<K, T>): boolean {
    const listeners = this.rawListeners(event as never) as unknown as ((...a: unknown[]) => unknown)[];
    for (const listener of listeners) {
      try {
        const result = listener.apply(this, args as unknown[]);
        // An async listener's rejection is a failure too.
        if (result instanceof Promise) result.catch((error: unknown) => sink(error, this.constructor.name, String(event)));
      } catch (error) {
        sink(error, this.constructor.name, String(event));
      }
    }
    return listeners.length > 0;
  }
}

// node:events' own helper types for typed emitters (not exported by @types/node).
type EventKey<K, T> = T extends [never] ? string | symbol : K | keyof T;
type Args<K, T> = T extends [never] ? unknown[] : K extends keyof T ? T[K] & unknown[] : never;
