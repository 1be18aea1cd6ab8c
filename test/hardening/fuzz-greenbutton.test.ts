/**
 * Fuzz: Green Button files (src/agents/greenbutton/espi-xml.ts and csv.ts, then series.ts)
 * — mutated real exports from test/fixtures/greenbutton/ and random text — give valid
 * records or a SourceDataError; never a TypeError or an invalid record.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCsvFile } from '../../src/agents/greenbutton/csv.ts';
import { parseEspiFile } from '../../src/agents/greenbutton/espi-xml.ts';
import { type Series, seriesToRecords } from '../../src/agents/greenbutton/series.ts';
import { ALL_TIME } from '../../src/agents/greenbutton/index.ts';
import { SourceDataError } from '../../src/errors.ts';
import { expectTyped, expectValid, fixture, mutatedText, RUNS } from './fuzz-helpers.ts';

const dir = path.join(import.meta.dirname, '..', 'fixtures', 'greenbutton');
const files = readdirSync(dir);
const xml = files.filter((f) => f.endsWith('.xml')).map((f) => fixture('greenbutton', f));
const csv = files.filter((f) => f.endsWith('.csv')).map((f) => fixture('greenbutton', f));
const ZONE = 'America/Los_Angeles';
const tmp = mkdtempSync(path.join(tmpdir(), 'homeflux-fuzz-gb-'));
let n = 0;

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Parse a payload written to a temp file, map the series as the agent does, check the property. */
async function check(text: string, kind: 'xml' | 'csv'): Promise<void> {
  const file = path.join(tmp, `f${n++}.${kind}`);
  writeFileSync(file, text);
  try {
    let series: Series[];
    try {
      series = (kind === 'xml' ? await parseEspiFile(file) : await parseCsvFile(file, { timezone: ZONE })).series;
    } catch (error) {
      expectTyped(error, [SourceDataError]);
      return;
    }
    for (const s of series) for (const r of s.readings) expect(Number.isFinite(r.value) && Number.isSafeInteger(r.start) && r.duration > 0, JSON.stringify(r)).toBe(true);
    try {
      expectValid(seriesToRecords(series, { source: 'homeflux.greenbutton', location: 'greenbutton_meter', rules: { timezone: ZONE, weekStart: 'monday' }, window: ALL_TIME }), 'greenbutton');
    } catch (error) {
      expectTyped(error, [SourceDataError]);
    }
  } finally {
    rmSync(file, { force: true });
  }
}

describe('green button parsers under random and mutated files', () => {
  it('the well-formed fixtures give records (the baseline the mutations start from)', async () => {
    const file = path.join(tmp, 'baseline.xml');
    writeFileSync(file, xml.find((x) => x.includes('IntervalReading'))!);
    const series = (await parseEspiFile(file)).series;
    expect(seriesToRecords(series, { source: 's', location: 'l', rules: { timezone: ZONE, weekStart: 'monday' }, window: ALL_TIME }).length).toBeGreaterThan(0);
  });

  it('ESPI XML: mutated real files', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedText(xml), (text) => check(text, 'xml')),
      { numRuns: RUNS },
    );
  });

  it('utility CSV: mutated real files', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedText(csv), (text) => check(text, 'csv')),
      { numRuns: RUNS },
    );
  });

  it('utility CSV: one cell of a data row replaced by an odd value', async () => {
    const cellValue = fc.oneof(fc.constantFrom('', '1e303', '1.7e308', '9'.repeat(400), `$${'9'.repeat(400)}`, '-$0.05', '($1.00)', 'NaN', '-0', '13/45/2024', '24:00', '2:00 PM', 'kWh', 'THERMS', 'constructor', '"', '""'), fc.string({ maxLength: 8 }));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...csv), fc.nat(), fc.nat(), cellValue, (text, row, column, value) => {
        const lines = text.split('\n');
        const header = lines.findIndex((l) => /START TIME/i.test(l));
        const data = lines.length - header - 1;
        if (header < 0 || data <= 0) return check(text, 'csv');
        const at = header + 1 + (row % data);
        const cells = lines[at]!.split(',');
        cells[column % cells.length] = value;
        lines[at] = cells.join(',');
        return check(lines.join('\n'), 'csv');
      }),
      { numRuns: RUNS },
    );
  });

  it('ESPI XML: ReadingType codes named after Object.prototype members or out of range', async () => {
    const base = xml.find((x) => /<(\w+:)?uom>72</.test(x) && /<(\w+:)?currency>/.test(x) && /<(\w+:)?cost>/.test(x)) ?? xml.find((x) => /<(\w+:)?uom>72</.test(x))!;
    const code = fc.constantFrom('constructor', 'toString', '__proto__', 'hasOwnProperty', '400', '-400', 'x', '1e3', '\\', '', '72');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('uom', 'currency', 'powerOfTenMultiplier', 'flowDirection', 'commodity', 'accumulationBehaviour'), code, (element, value) =>
        check(base.replace(new RegExp(`(<(?:\\w+:)?${element}>)[^<]*(</)`, 'g'), `$1${value}$2`), 'xml'),
      ),
      { numRuns: 60 },
    );
  });

  it('random text as either format', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ unit: 'binary' }), fc.string().map((s) => `<?xml version="1.0"?><feed>${s}</feed>`), fc.string().map((s) => `TYPE,DATE,START TIME,END TIME,USAGE,UNITS,COST,NOTES\n${s}`)), fc.constantFrom('xml' as const, 'csv' as const), check),
      { numRuns: RUNS },
    );
  });
});
