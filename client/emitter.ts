// A small typed event emitter. A listener that throws is logged and does not stop the others
// (a throwing listener must never break a teardown cascade).
type Listener<Args extends unknown[]> = (...args: Args) => void;

export class Emitter<Events extends { [K in keyof Events]: unknown[] }> {
  // Listeners are kept untyped inside; on() and emit() are the typed doors.
  readonly #listeners = new Map<keyof Events, Set<unknown>>();

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(event)?.delete(listener);
  }

  protected emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    for (const listener of [...(this.#listeners.get(event) ?? [])] as Listener<Events[K]>[]) {
      try {
        listener(...args);
      } catch (err) {
        console.error(`listener of "${String(event)}" failed`, err);
      }
    }
  }

  protected removeAllListeners(): void {
    this.#listeners.clear();
  }
}
