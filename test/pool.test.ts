/** src/pool.ts: bounded concurrency in input order, stopping after the first failure. */
import { describe, expect, it } from 'vitest';
import { pool, pooledMap } from '../src/pool.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('pool', () => {
  it('keeps the input order and never exceeds its limit', async () => {
    let active = 0;
    let peak = 0;
    const out = await pool([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
      peak = Math.max(peak, ++active);
      await sleep(n * 3);
      active--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0, 60]);
    expect(peak).toBe(3);
  });

  it('starts the next item as soon as any finishes, not when the first does', async () => {
    // Item 0 finishes only once item 4 has started: with head-of-line blocking (no new start
    // until item 0 is done) item 4 would never start, and this would time out.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const started: number[] = [];
    await pool([0, 1, 2, 3, 4], 2, async (i) => {
      started.push(i);
      if (i === 0) await gate;
      else await sleep(2);
      if (i === 4) open();
    });
    expect(started).toEqual([0, 1, 2, 3, 4]);
  }, 5_000);

  it('after a failure starts nothing more, waits for the calls in flight, and throws the first error as it is', async () => {
    class Typed extends Error {}
    const seen: number[] = [];
    let finished = 0;
    const run = pool([0, 1, 2, 3, 4, 5], 2, async (i) => {
      seen.push(i);
      if (i === 1) throw new Typed('one failed');
      await sleep(20);
      finished++;
      return i;
    });
    await expect(run).rejects.toBeInstanceOf(Typed);
    expect(seen).toEqual([0, 1]);
    expect(finished).toBe(1); // item 0 was in flight and was awaited
  });

  it('pooledMap yields as the finished prefix grows', async () => {
    const got: number[] = [];
    for await (const v of pooledMap(2, [30, 5, 5], async (ms) => (await sleep(ms), ms))) got.push(v);
    expect(got).toEqual([30, 5, 5]);
  });
});
