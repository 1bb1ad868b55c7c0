// Ordered reads with a few in flight. Each fragment is one S3 range GET (tens of ms), so reading
// an hour one at a time would wait on ~3600 round trips per pass; a small window hides the
// latency while memory stays a few fragments.

/** Fragments read ahead of the one being used; bounds memory at READ_AHEAD + 1 fragments. */
export const READ_AHEAD = 4;

/** Yields get(0), …, get(n − 1) in order, with up to `ahead` of them being read at once. */
export async function* readAhead<T>(n: number, get: (i: number) => Promise<T>, ahead = READ_AHEAD): AsyncGenerator<T> {
  const pending: Promise<T>[] = [];
  let next = 0;
  const start = () => {
    const p = Promise.resolve(next++).then(get);
    // Marked as handled: a read failing while an earlier one is awaited is rethrown when its turn comes.
    p.catch(() => undefined);
    pending.push(p);
  };
  while (next < n && pending.length < ahead) start();
  while (pending.length > 0) {
    const value = await pending.shift()!;
    if (next < n) start();
    yield value;
  }
}
