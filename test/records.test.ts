import { describe, expect, it } from 'vitest';
import { convertPrecipitation, convertTemperature, costRecord, type DataRecord, gasRecord, powerRecord, precipitationRecord, RecordError, temperatureRecord, toWh, upsRecord, validateRecord, waterRecord } from '../src/records.ts';
import { toLineProtocol } from '../src/lineprotocol.ts';

const base = { time: new Date('2025-11-02T08:00:00Z'), timescale: 'hour' as const, source: 'homeflux.test', location: 'meter' };

describe('unit conversion', () => {
  it.each([
    [1.5, 'kWh', 1500],
    [2, 'MWh', 2_000_000],
    [42, 'Wh', 42],
    [120, 'Wmin', 2],
  ] as const)('%s %s is %s Wh', (value, unit, wh) => {
    expect(toWh(value, unit)).toBeCloseTo(wh, 9);
  });

  it('converts temperature both ways and leaves matching units alone', () => {
    expect(convertTemperature(100, 'C', 'imperial')).toBeCloseTo(212, 9);
    expect(convertTemperature(32, 'F', 'metric')).toBeCloseTo(0, 9);
    expect(convertTemperature(-40, 'F', 'metric')).toBeCloseTo(-40, 9);
    expect(convertTemperature(21.5, 'C', 'metric')).toBe(21.5);
    expect(convertTemperature(70, 'F', 'imperial')).toBe(70);
  });

  it('converts precipitation between mm and inches', () => {
    expect(convertPrecipitation(25.4, 'mm', 'imperial')).toBeCloseTo(1, 9);
    expect(convertPrecipitation(2, 'in', 'metric')).toBeCloseTo(50.8, 9);
  });
});

describe('builders', () => {
  it('build the schema of the original with data_source, source and location tags', () => {
    const power = powerRecord(base, { value: 1.25, unit: 'kWh' });
    expect(power).toEqual({
      measurement: 'power',
      tags: { data_source: 'homeflux', source: 'homeflux.test', location: 'meter' },
      fields: { power_usage: 1250 },
      time: 1762070400,
      timescale: 'hour',
    });
    expect(gasRecord(base, { value: 0.4, unit: 'therm' }).tags.unit).toBe('THERM');
    expect(waterRecord(base, { value: 12, unit: 'gal' }).fields).toEqual({ water_usage: 12 });
    expect(costRecord(base, { value: 0.31, currency: 'usd' }).tags.currency).toBe('USD');
    expect(temperatureRecord(base, { value: 20, unit: 'C', units: 'imperial' }).fields.temperature).toBeCloseTo(68, 9);
    expect(precipitationRecord(base, { value: 1, unit: 'in', units: 'metric' }).fields.precipitation).toBeCloseTo(25.4, 9);
  });

  it('keep extra fields and agent tags, and omit absent UPS values', () => {
    const r = upsRecord({ ...base, tags: { model: 'CP900' }, fields: { samples: 3 } }, { load_percent: 12, status: 'OL CHRG' });
    expect(r.fields).toEqual({ load_percent: 12, status: 'OL CHRG', samples: 3 });
    expect(r.tags.model).toBe('CP900');
  });
});

describe('line protocol', () => {
  it('writes sorted tags and fields, floats without suffix and second timestamps', () => {
    const r = upsRecord(base, { power_w: 40, load_percent: 5.5, status: 'OL' });
    expect(toLineProtocol(r)).toBe('ups,data_source=homeflux,location=meter,source=homeflux.test load_percent=5.5,power_w=40,status="OL" 1762070400');
  });

  it('escapes like the official client', () => {
    const r: DataRecord = {
      measurement: 'my power,x',
      tags: { 'a b': 'c,d=e', z: 'x"y' },
      fields: { 'f=1': 'say "hi" \\ ok', n: 1e21 },
      time: 0,
      timescale: 'day',
    };
    expect(toLineProtocol(r)).toBe('my\\ power\\,x,a\\ b=c\\,d\\=e,z=x"y f\\=1="say \\"hi\\" \\\\ ok",n=1e+21 0');
  });
});

describe('validation', () => {
  const good = powerRecord(base, { value: 1, unit: 'Wh' });
  const cases: [string, DataRecord, RegExp][] = [
    ['NaN', { ...good, fields: { power_usage: Number.NaN } }, /field "power_usage" is NaN/],
    ['Infinity', { ...good, fields: { power_usage: Number.POSITIVE_INFINITY } }, /is Infinity/],
    ['-Infinity', { ...good, fields: { power_usage: Number.NEGATIVE_INFINITY } }, /is -Infinity/],
    ['empty tag', { ...good, tags: { ...good.tags, location: '' } }, /tag "location" has an empty value/],
    ['no fields', { ...good, fields: {} }, /has no fields/],
    ['newline', { ...good, tags: { ...good.tags, location: 'a\nb' } }, /control character/],
    ['fractional time', { ...good, time: 1.5 }, /time/],
    ['bad timescale', { ...good, timescale: 'year' as never }, /timescale/],
    ['reserved', { ...good, measurement: '_internal' }, /reserved/],
  ];
  it.each(cases)('rejects %s, naming the agent and the record', (_name, record, message) => {
    expect(() => validateRecord(record, 'opower.gwp')).toThrow(RecordError);
    expect(() => validateRecord(record, 'opower.gwp')).toThrow(message);
    expect(() => validateRecord(record, 'opower.gwp')).toThrow(/^opower\.gwp: invalid record \w+\{/);
  });

  it('accepts a good record', () => {
    expect(() => validateRecord(good, 'test')).not.toThrow();
  });
});

describe('line protocol matches the official client', () => {
  it('byte for byte, for any names, tags, float and string fields that validate', async () => {
    const fc = (await import('fast-check')).default;
    const { Point } = await import('@influxdata/influxdb-client');
    const text = fc.string({ minLength: 1, maxLength: 10, unit: fc.constantFrom('a', 'Z', ' ', ',', '=', '"', 'é', '😀', '.', '-', '\\') });
    fc.assert(
      fc.property(text, fc.dictionary(text, text, { maxKeys: 3 }), fc.dictionary(text, fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), text), { minKeys: 1, maxKeys: 3 }), (measurement, tags, fields) => {
        const record: DataRecord = { measurement, tags, fields, time: 1_700_000_000, timescale: 'hour' };
        const point = new Point(measurement).timestamp('1700000000');
        for (const [k, v] of Object.entries(tags)) point.tag(k, v);
        for (const [k, v] of Object.entries(fields)) {
          if (typeof v === 'number') point.floatField(k, v);
          else point.stringField(k, v);
        }
        expect(toLineProtocol(record)).toBe(point.toLineProtocol());
      }),
      { numRuns: 500 },
    );
  });
});
