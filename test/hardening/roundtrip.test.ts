/**
 * Property test: any record → line protocol → the real InfluxDB 1.x → query back gives the
 * same measurement, tags and fields, or the record is rejected up front with a clear error.
 */
import fc from 'fast-check';
import { describe, expect, inject, it } from 'vitest';
import { httpTarget } from '../../src/database/influx-http.ts';
import { Spool } from '../../src/database/spool.ts';
import { HttpWriter } from '../../src/database/writer.ts';
import { Logger } from '../../src/log.ts';
import { type DataRecord, RecordError, validateRecord } from '../../src/records.ts';
import { toLineProtocol } from '../../src/lineprotocol.ts';
import { tempHome } from '../../testing/helpers/run-agent.ts';
import { influxV1Client } from '../../testing/helpers/servers.ts';

const v1 = influxV1Client(inject('influxV1Url'));
const DB = 'roundtrip';

// Strings rich in the characters line protocol treats specially.
// Mostly characters that must round-trip, sometimes ones that must be refused up front.
const special = fc.oneof(
  { weight: 9, arbitrary: fc.constantFrom(',', ' ', '=', '"', 'é', '😀', "'", '#', '_', 'a', 'Z', '9', '.', '{', '/', '*') },
  { weight: 1, arbitrary: fc.constantFrom('\\', '\n', '\t', '\u0000') },
);
const name = fc.oneof(fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }), fc.array(special, { minLength: 1, maxLength: 8 }).map((cs) => cs.join('')));

const record = (time: number): fc.Arbitrary<DataRecord> =>
  fc.record({
    measurement: name,
    tags: fc.dictionary(name.map((k) => `t${k}`), name, { maxKeys: 3 }),
    // A field's type is fixed per measurement in InfluxDB, so the key says the type.
    fields: fc
      .tuple(
        fc.dictionary(name.map((k) => `n${k}`), fc.oneof({ weight: 9, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) }, { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Infinity) }), { minKeys: 1, maxKeys: 2 }),
        fc.dictionary(name.map((k) => `s${k}`), fc.oneof(fc.string({ maxLength: 12 }), fc.array(special, { maxLength: 6 }).map((cs) => cs.join(''))), { maxKeys: 2 }),
        fc.dictionary(name.map((k) => `b${k}`), fc.boolean(), { maxKeys: 1 }),
      )
      .map(([n, s, b]) => ({ ...n, ...s, ...b })),
    time: fc.constant(time),
    timescale: fc.constant('hour' as const),
  });

describe('records round-trip through InfluxDB 1.x', () => {
  it('stores exactly what was accepted, or rejects it up front', async () => {
    await v1.createDatabase(DB);
    const home = await tempHome('roundtrip');
    const writer = new HttpWriter(httpTarget({ kind: 'v1', url: v1.url }), { spool: new Spool(home.dir), log: new Logger({ env: {}, streams: { out: () => {}, err: () => {} } }) });
    let time = 1_600_000_000;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(record(0), async (generated) => {
        const r = { ...generated, time: time++ };
        try {
          validateRecord(r, 'property');
        } catch (error) {
          expect(error).toBeInstanceOf(RecordError);
          expect((error as Error).message).toMatch(/^property: invalid record /);
          return;
        }
        accepted++;
        const summary = await writer.write(DB, [toLineProtocol(r)]);
        expect(summary, `${toLineProtocol(r)} ${summary.failure}`).toEqual({ written: 1, spooled: 0, rejected: 0 });
        const results = await v1.query(DB, `SELECT * FROM /.*/ WHERE time = ${r.time}s GROUP BY *`);
        const series = results[0]?.series ?? [];
        expect(series, toLineProtocol(r)).toHaveLength(1);
        const [s] = series;
        expect(s!.name).toBe(r.measurement);
        // GROUP BY * lists every tag key of the measurement; '' means "not on this series"
        // (empty tag values are rejected up front, so '' is never ours).
        expect(Object.fromEntries(Object.entries(s!.tags ?? {}).filter(([, v]) => v !== ''))).toEqual(r.tags);
        const row = Object.fromEntries(s!.columns.map((c, i) => [c, s!.values[0]![i]]));
        // -0 is written as "0" (String(-0)), which is the same number.
        for (const [key, value] of Object.entries(r.fields)) expect(row[key], `${toLineProtocol(r)} field ${key}`).toEqual(value === 0 ? 0 : value);
      }),
      { numRuns: 500 },
    );
    // About a quarter of the generated records are valid; enough to make the property mean something.
    expect(accepted).toBeGreaterThan(50);
  });
});
