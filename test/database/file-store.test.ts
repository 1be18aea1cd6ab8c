import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileStore, readBucketFile, storedBuckets } from '../../src/database/file-store.ts';
import { splitLine } from '../../src/lineprotocol.ts';
import { SourceDataError } from '../../src/errors.ts';
import { tempHome } from '../../testing/helpers/run-agent.ts';

describe('file store', () => {
  it('keeps one point per series and time, merging fields like InfluxDB, sorted by time', async () => {
    const { dir } = await tempHome('store');
    const store = new FileStore(dir);
    await store.write('b', ['m,t=a x=1 200', 'm,t=a x=1,y=2 100', 'm,t=b x=5 100']);
    await store.write('b', ['m,t=a x=9 100', 'm,t=a z="s p,a=c\\"e" 100']);
    // A new store (next run) reads the file back before merging.
    await new FileStore(dir).write('b', ['m,t=c x=0 50']);
    // Every time here is in January 1970 (UTC): one partition.
    expect(await readFile(join(dir, 'b', '1970-01.lp'), 'utf8')).toBe(['m,t=c x=0 50', 'm,t=a x=9,y=2,z="s p,a=c\\"e" 100', 'm,t=b x=5 100', 'm,t=a x=1 200', ''].join('\n'));
    expect((await readdir(join(dir, 'b'))).filter((f) => f.startsWith('.tmp'))).toEqual([]);
  });

  it('partitions by the UTC month of each point and rewrites only the months a write touches', async () => {
    const { dir } = await tempHome('store');
    const jan31 = Date.UTC(2026, 0, 31, 23, 59, 59) / 1000;
    const feb1 = jan31 + 1;
    const mar = Date.UTC(2026, 2, 15) / 1000;
    await new FileStore(dir).write('home-hour', [`m v=1 ${mar}`, `m v=2 ${feb1}`, `m v=3 ${jan31}`]);
    expect((await readdir(join(dir, 'home-hour'))).sort()).toEqual(['2026-01.lp', '2026-02.lp', '2026-03.lp']);
    const before = await stat(join(dir, 'home-hour', '2026-01.lp'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // A point into March that is not later than March's last one: March is merged and rewritten.
    await new FileStore(dir).write('home-hour', [`m v=4 ${mar - 60}`]);
    expect((await stat(join(dir, 'home-hour', '2026-01.lp'))).mtimeMs).toBe(before.mtimeMs);
    expect(await readFile(join(dir, 'home-hour', '2026-03.lp'), 'utf8')).toBe(`m v=4 ${mar - 60}\nm v=1 ${mar}\n`);
    expect(await readBucketFile(dir, 'home-hour')).toEqual([`m v=3 ${jan31}`, `m v=2 ${feb1}`, `m v=4 ${mar - 60}`, `m v=1 ${mar}`]);
    // A range reads only the months it overlaps.
    expect(await readBucketFile(dir, 'home-hour', { start: feb1, end: feb1 + 86400 })).toEqual([`m v=2 ${feb1}`]);
  });

  it('appends points later than a month’s last one as segments without reading the month, and folds them in on the next merge', async () => {
    const { dir } = await tempHome('store');
    const t0 = Date.UTC(2026, 4, 1) / 1000;
    await new FileStore(dir).write('home-minute', [`u w=1 ${t0}`, `u w=2 ${t0 + 60}`]);
    // Later samples, out of order among themselves: one sorted segment.
    await new FileStore(dir).write('home-minute', [`u w=4 ${t0 + 180}`, `u w=3 ${t0 + 120}`]);
    await new FileStore(dir).write('home-minute', [`u w=5 ${t0 + 240}`]);
    expect((await readdir(join(dir, 'home-minute'))).sort()).toEqual(['2026-05+000001.lp', '2026-05+000002.lp', '2026-05.lp']);
    expect(await readFile(join(dir, 'home-minute', '2026-05+000001.lp'), 'utf8')).toBe(`u w=3 ${t0 + 120}\nu w=4 ${t0 + 180}\n`);
    const all = [1, 2, 3, 4, 5].map((w, i) => `u w=${w} ${t0 + 60 * i}`);
    expect(await readBucketFile(dir, 'home-minute')).toEqual(all);
    // Writing what is stored changes no file; a correction merges everything into the base.
    await new FileStore(dir).write('home-minute', [`u w=3 ${t0 + 120}`]);
    expect((await readdir(join(dir, 'home-minute'))).sort()).toEqual(['2026-05+000001.lp', '2026-05+000002.lp', '2026-05.lp']);
    await new FileStore(dir).write('home-minute', [`u w=9 ${t0 + 120}`]);
    expect(await readdir(join(dir, 'home-minute'))).toEqual(['2026-05.lp']);
    expect(await readFile(join(dir, 'home-minute', '2026-05.lp'), 'utf8')).toBe(`${all.map((l, i) => (i === 2 ? `u w=9 ${t0 + 120}` : l)).join('\n')}\n`);
  });

  it('skips a segment already folded into the base (a run stopped before removing it)', async () => {
    const { dir } = await tempHome('store');
    const t0 = Date.UTC(2026, 4, 1) / 1000;
    await mkdir(join(dir, 'b'), { recursive: true });
    await writeFile(join(dir, 'b', '2026-05.lp'), `u w=1 ${t0}\nu w=2 ${t0 + 60}\n`);
    await writeFile(join(dir, 'b', '2026-05+000001.lp'), `u w=2 ${t0 + 60}\n`);
    expect(await readBucketFile(dir, 'b')).toEqual([`u w=1 ${t0}`, `u w=2 ${t0 + 60}`]);
    // The next append goes after everything, the stale segment included.
    await new FileStore(dir).write('b', [`u w=3 ${t0 + 120}`]);
    expect(await readBucketFile(dir, 'b')).toEqual([`u w=1 ${t0}`, `u w=2 ${t0 + 60}`, `u w=3 ${t0 + 120}`]);
  });

  it('converts a single-file bucket from the earlier layout on first use, keeping exactly the same points', async () => {
    const { dir } = await tempHome('store');
    await mkdir(dir, { recursive: true });
    // Three months of points, one of them written twice with a field each (merged on conversion).
    const lines = [`p,s=a x=1 ${Date.UTC(2025, 10, 30, 23) / 1000}`, `p,s=a x=2 ${Date.UTC(2025, 11, 1) / 1000}`, `p,s=b x=3 ${Date.UTC(2026, 0, 5) / 1000}`, `p,s=b y=4 ${Date.UTC(2026, 0, 5) / 1000}`];
    await writeFile(join(dir, 'home-hour.lp'), `${lines.join('\n')}\n`);
    await writeFile(join(dir, 'home-day.lp'), `d v=1 ${Date.UTC(2025, 10, 1) / 1000}\n`);
    expect(await storedBuckets(dir)).toEqual(['home-day', 'home-hour']);
    // A write into another month of the same bucket converts first, then adds its line.
    await new FileStore(dir).write('home-hour', [`p,s=c x=5 ${Date.UTC(2026, 1, 1) / 1000}`]);
    expect(await readdir(dir).then((f) => f.sort())).toEqual(['home-day.lp', 'home-hour']);
    expect((await readdir(join(dir, 'home-hour'))).sort()).toEqual(['2025-11.lp', '2025-12.lp', '2026-01.lp', '2026-02.lp']);
    expect(await readBucketFile(dir, 'home-hour')).toEqual([lines[0], lines[1], `p,s=b x=3,y=4 ${Date.UTC(2026, 0, 5) / 1000}`, `p,s=c x=5 ${Date.UTC(2026, 1, 1) / 1000}`]);
    // Reading converts too.
    expect(await readBucketFile(dir, 'home-day')).toEqual([`d v=1 ${Date.UTC(2025, 10, 1) / 1000}`]);
    expect(await readdir(dir).then((f) => f.sort())).toEqual(['home-day', 'home-hour']);
  });

  it('refuses a corrupted partition with its name and line number instead of overwriting it', async () => {
    const { dir } = await tempHome('store');
    await mkdir(join(dir, 'b'), { recursive: true });
    await writeFile(join(dir, 'b', '1970-01.lp'), 'm,t=a x=1 100\nthis is not line protocol\n');
    const error = await new FileStore(dir).write('b', ['m,t=a x=2 100']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceDataError);
    expect(String(error)).toMatch(/1970-01\.lp line 2 is not valid line protocol/);
    expect(await readFile(join(dir, 'b', '1970-01.lp'), 'utf8')).toContain('this is not line protocol');
  });
});

describe('splitLine', () => {
  it.each([
    ['m,t=a\\ b x=1,s="a b,c" 10', { series: 'm,t=a\\ b', fields: ['x=1', 's="a b,c"'], time: '10' }],
    ['m\\,x f="q\\"uote" -5', { series: 'm\\,x', fields: ['f="q\\"uote"'], time: '-5' }],
  ])('splits %s', (line, expected) => {
    expect(splitLine(line)).toEqual(expected);
  });
  it.each(['', '# comment', 'm x=1', 'm x=1 notatime', 'just-a-measurement'])('rejects %j', (line) => {
    expect(splitLine(line)).toBeUndefined();
  });
});

describe('splitLine on any line we write', () => {
  it('gives back the series key, one pair per field and the time', async () => {
    const fc = (await import('fast-check')).default;
    const { validateRecord } = await import('../../src/records.ts');
    const { seriesKey, toLineProtocol } = await import('../../src/lineprotocol.ts');
    const text = fc.string({ minLength: 1, maxLength: 8, unit: fc.constantFrom('a', 'Z', ' ', ',', '=', '"', 'é', '.', '\\') });
    fc.assert(
      fc.property(text, fc.dictionary(text, text, { maxKeys: 3 }), fc.dictionary(text, fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), text, fc.boolean()), { minKeys: 1, maxKeys: 3 }), fc.integer({ min: 0, max: 2 ** 31 }), (measurement, tags, fields, time) => {
        const record = { measurement, tags, fields, time, timescale: 'hour' as const };
        try {
          validateRecord(record, 'test');
        } catch {
          return;
        }
        const split = splitLine(toLineProtocol(record));
        expect(split).toEqual({ series: seriesKey(record), fields: expect.any(Array), time: String(time) });
        expect(split!.fields).toHaveLength(Object.keys(fields).length);
      }),
      { numRuns: 1000 },
    );
  });
});
