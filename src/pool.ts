/**
 * Bounded concurrency, in the shape of Deno std's `pooledMap(poolLimit, array, iteratorFn)`:
 * at most `limit` calls in flight (a new one starts as soon as any finishes), results yielded
 * in the order of the input. One difference, on purpose: after a call fails no further item is
 * started, the calls in flight are awaited, and the first error is thrown as it is (not wrapped
 * in an AggregateError), so the caller's error classes — transient, authentication, bad data —
 * survive.
 */

type Outcome<R> = { done: false } | { done: true; ok: true; value: R } | { done: true; ok: false; error: unknown };

/** Map `items` through `fn` with at most `limit` calls in flight; yields results in input order. */
export async function* pooledMap<T, R>(limit: number, items: Iterable<T>, fn: (item: T, index: number) => Promise<R>): AsyncGenerator<R> {
  const width = Math.max(1, Math.floor(limit));
  const iterator = items[Symbol.iterator]();
  const outcomes: Outcome<R>[] = [];
  const inFlight = new Set<Promise<void>>();
  let failed: { error: unknown } | undefined;
  let exhausted = false;
  let yielded = 0;
  const start = (): void => {
    const next = iterator.next();
    if (next.done) {
      exhausted = true;
      return;
    }
    const index = outcomes.length;
    outcomes.push({ done: false });
    const settled: Promise<void> = fn(next.value, index).then(
      (value) => {
        outcomes[index] = { done: true, ok: true, value };
      },
      (error: unknown) => {
        outcomes[index] = { done: true, ok: false, error };
        failed ??= { error };
      },
    );
    const tracked = settled.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  for (;;) {
    while (!failed && !exhausted && inFlight.size < width) start();
    if (inFlight.size === 0) break;
    await Promise.race(inFlight);
    // Yield the finished prefix, in input order.
    while (!failed && yielded < outcomes.length) {
      const outcome = outcomes[yielded]!;
      if (!outcome.done || !outcome.ok) break;
      yielded++;
      yield outcome.value;
    }
  }
  if (failed) throw failed.error;
}

/** {@link pooledMap} collected into an array (input order). */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for await (const result of pooledMap(limit, items, fn)) out.push(result);
  return out;
}
