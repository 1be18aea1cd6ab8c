/**
 * The spool (src/database/spool.ts): each point once however often it is spooled, fields
 * merged as InfluxDB merges them, a size cap that drops the oldest points and says which, and
 * concurrent adds that lose nothing. Expected sets are built here from the lines themselves.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Spool } from '../../src/database/spool.ts';
import { tempHome } from '../../testing/helpers/run-agent.ts';

const HOUR = 3600;
const T0 = Date.UTC(2026, 10, 1) / 1000;

/** The lines an hourly run with a 5-day lookback would collect at run `n` (two series). */
function lookback(n: number): string[] {
  const end = T0 + n * HOUR;
  const out: string[] = [];
  for (let t = end - 5 * 24 * HOUR; t < end; t += HOUR) {
    out.push(`power,location=meter power_usage=${(t / HOUR) % 997} ${t}`);
    out.push(`temperature,location=home temperature=${(t / HOUR) % 83} ${t}`);
  }
  return out;
}

async function spooled(spool: Spool): Promise<string[]> {
  const lines: string[] = [];
  for (const file of await spool.files()) lines.push(...(await spool.read(file)));
  return lines;
}

describe('spool', () => {
  it('holds each point once after 30 runs re-spool overlapping lookbacks', async () => {
    const spool = new Spool((await tempHome('spool-dedup')).dir);
    const distinct = new Set<string>();
    for (let run = 0; run < 30; run++) {
      const lines = lookback(run);
      for (const l of lines) distinct.add(l);
      const added = await spool.add('home-hour', lines);
      expect(added.dropped).toBeUndefined();
    }
    const lines = await spooled(spool);
    // Every line of every run, once: 2 series × (5 days + 29 more hours) = 2 × 149.
    expect(distinct.size).toBe(2 * (5 * 24 + 29));
    expect(lines.length).toBe(distinct.size);
    expect(new Set(lines)).toEqual(distinct);
    expect(await spool.files()).toHaveLength(1);
  });

  it('merges different fields of the same point as InfluxDB does (a later value wins per field)', async () => {
    const spool = new Spool((await tempHome('spool-merge')).dir);
    await spool.add('b', ['m,t=a x=1 100', 'm,t=b x=5 100']);
    await spool.add('b', ['m,t=a y=2 100']);
    await spool.add('b', ['m,t=a x=3 100']);
    expect((await spooled(spool)).sort()).toEqual(['m,t=a x=3,y=2 100', 'm,t=b x=5 100']);
  });

  it('keeps buckets apart', async () => {
    const spool = new Spool((await tempHome('spool-buckets')).dir);
    await spool.add('home-hour', ['m v=1 100']);
    await spool.add('home-day', ['m v=1 100']);
    expect((await spool.files()).map((f) => f.bucket).sort()).toEqual(['home-day', 'home-hour']);
  });

  it('past its cap drops the oldest points of the bucket and says which', async () => {
    const line = (t: number): string => `m,s=x v=1 ${t}`;
    // Each line is "m,s=x v=1 1000000000" + newline = 21 bytes; room for 10.
    const spool = new Spool((await tempHome('spool-cap')).dir, { maxBytes: 10 * 21 });
    const times = Array.from({ length: 15 }, (_, i) => 1_000_000_000 + i * 60);
    const added = await spool.add('b', times.map(line));
    expect(added.dropped).toEqual({ count: 5, from: times[0], to: times[4] });
    expect(await spooled(spool)).toEqual(times.slice(5).map(line));
  });

  it('loses nothing when batches of one bucket are spooled at the same time', async () => {
    const spool = new Spool((await tempHome('spool-concurrent')).dir);
    const batches = Array.from({ length: 8 }, (_, b) => Array.from({ length: 50 }, (_, i) => `m,b=${b} v=${i} ${T0 + i}`));
    await Promise.all(batches.map((lines) => spool.add('b', lines)));
    expect((await spooled(spool)).sort()).toEqual(batches.flat().sort());
  });

  it('folds files a killed run left behind (the merged file written, the old ones not yet removed)', async () => {
    const home = await tempHome('spool-killed');
    await mkdir(join(home.dir, 'b'), { recursive: true });
    await writeFile(join(home.dir, 'b', '20261101T000000Z-1-0001.lp'), 'm v=1 100\nm v=2 200\n');
    await writeFile(join(home.dir, 'b', '20261101T010000Z-1-0002.lp'), 'm v=1 100\nm v=2 200\nm v=3 300\n');
    const spool = new Spool(home.dir);
    const added = await spool.add('b', ['m v=4 400']);
    expect(added.points).toBe(4);
    expect(await spool.files()).toHaveLength(1);
    expect(await readFile(added.path, 'utf8')).toBe('m v=1 100\nm v=2 200\nm v=3 300\nm v=4 400\n');
  });
});
