// A metadata file only the service's user may read: it holds secrets (webhook signing secrets,
// hashes of tokens and keys, TOTP seeds sealed). Replaced whole on every write (temp file, then
// rename), so a failed write leaves the last good file; mode 0600 from the first byte, where lowdb's
// own adapter writes 0644 under the usual umask.
import fs from 'node:fs/promises';
import type { Adapter } from 'lowdb';

export class PrivateJsonFile<T> implements Adapter<T> {
  readonly #file: string;
  #writing: Promise<void> = Promise.resolve();
  /** The write that will take the next state, while it has not started, and what it will take. */
  #queued: { take: () => T; done: Promise<void> } | undefined;

  constructor(file: string) {
    this.#file = file;
  }

  get file(): string {
    return this.#file;
  }

  /** The file's contents, or null when there is none yet; files of older releases (0644) become 0600. */
  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await fs.readFile(this.#file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    await fs.chmod(this.#file, 0o600);
    return JSON.parse(text) as T;
  }

  /** Resolves once the writes asked for so far are done (failed ones too). */
  settled(): Promise<void> {
    return this.#writing.catch(() => undefined);
  }

  write(data: T): Promise<void> {
    return this.save(() => data);
  }

  /**
   * Writes are serialized; saves that arrive while one runs share the next write, which takes the
   * state (the latest `take`) when it starts: under many changes at once, one write per turn.
   */
  save(take: () => T): Promise<void> {
    if (this.#queued) {
      this.#queued.take = take;
      return this.#queued.done;
    }
    const queued: { take: () => T; done: Promise<void> } = { take, done: Promise.resolve() };
    queued.done = this.#writing
      .catch(() => undefined)
      .then(async () => {
        this.#queued = undefined;
        const tmp = `${this.#file}.${process.pid}.tmp`;
        try {
          await fs.rm(tmp, { force: true }); // one a crash left behind would keep its own mode
          await fs.writeFile(tmp, JSON.stringify(queued.take()), { mode: 0o600 });
          await fs.rename(tmp, this.#file);
        } catch (error) {
          await fs.rm(tmp, { force: true }); // a half-written copy only takes space
          throw error;
        }
      });
    this.#queued = queued;
    this.#writing = queued.done;
    return queued.done;
  }
}
