import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileStore } from '../../src/database/file-store.ts';
import { splitLine } from '../../src/database/lineprotocol.ts';
import { SourceDataError } from '../../src/errors.ts';
import { tempHome } from '../helpers/run-agent.ts';

describe('file store', () => {
  it('keeps one point per series and time, merging fields like InfluxDB, sorted by time', async () => {
    const { dir } = await tempHome('store');
    const store = new FileStore(dir);
    await store.write('b', ['m,t=a x=1 200', 'm,t=a x=1,y=2 100', 'm,t=b x=5 100']);
    await store.write('b', ['m,t=a x=9 100', 'm,t=a z="s p,a=c\\"e" 100']);
    // A new store (next run) reads the file back before merging.
    await new FileStore(dir).write('b', ['m,t=c x=0 50']);
    expect(await readFile(join(dir, 'b.lp'), 'utf8')).toBe(['m,t=c x=0 50', 'm,t=a x=9,y=2,z="s p,a=c\\"e" 100', 'm,t=b x=5 100', 'm,t=a x=1 200', ''].join('\n'));
    expect((await readdir(dir)).filter((f) => f.startsWith('.tmp'))).toEqual([]);
  });

  it('refuses a corrupted file with its name and line number instead of overwriting it', async () => {
    const { dir } = await tempHome('store');
    await writeFile(join(dir, 'b.lp'), 'm,t=a x=1 100\nthis is not line protocol\n');
    const error = await new FileStore(dir).write('b', ['m,t=a x=2 100']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceDataError);
    expect(String(error)).toMatch(/b\.lp line 2 is not valid line protocol/);
    expect(await readFile(join(dir, 'b.lp'), 'utf8')).toContain('this is not line protocol');
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
    const { seriesKey, toLineProtocol, validateRecord } = await import('../../src/records.ts');
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
