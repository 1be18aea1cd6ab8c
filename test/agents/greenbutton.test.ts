/**
 * Green Button import against real sample files (test/fixtures/greenbutton, see SOURCES.md) and
 * hand-made utility CSV exports. Expected totals are computed from the files' text with regular
 * expressions, independently of the parsers under test.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { greenbuttonModule } from '../../src/agents/greenbutton/index.ts';
import { readBucketFile } from '../../src/database/file-store.ts';
import { runAgent } from '../../src/run/pipeline.ts';
import { readTree } from '../../testing/helpers/run-agent.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/greenbutton');
const fixture = (name: string): string => path.join(FIXTURES, name);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'homeflux-gb-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Result {
  code: number;
  out: string[];
  err: string[];
}

async function importFiles(files: string[], options: { args?: string[]; timezone?: string } = {}): Promise<Result> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAgent(greenbuttonModule(files), {
    argv: [...(options.args ?? []), ...files],
    env: { HOMEFLUX_DATA_DIR: path.join(dir, 'data'), HOMEFLUX_SPOOL_DIR: path.join(dir, 'spool'), HOMEFLUX_TIMEZONE: options.timezone ?? 'America/New_York' },
    streams: { out: (l) => out.push(l), err: (l) => err.push(l) },
    extra: { positionals: '<file…>' },
    now: 1_750_000_000,
  });
  return { code, out, err };
}

/** Lines of a bucket, optionally only those of one measurement. */
async function lines(bucket: string, measurement?: string): Promise<string[]> {
  const all = await readBucketFile(path.join(dir, 'data'), `home-${bucket}`);
  return measurement ? all.filter((l) => l.startsWith(`${measurement},`)) : all;
}

/** Sum of a field over lines, rounded to avoid float noise in the comparison. */
function sumField(lp: string[], field: string): number {
  let sum = 0;
  for (const line of lp) {
    const m = new RegExp(`[ ,]${field}=([-0-9.e+]+)`).exec(line);
    if (m) sum += Number(m[1]);
  }
  return Math.round(sum * 1e6) / 1e6;
}

/** Sum of `<tag>` numbers inside IntervalReading elements, by regex over the raw file. */
async function xmlSum(file: string, tag: 'value' | 'cost'): Promise<{ sum: number; count: number }> {
  const text = await readFile(fixture(file), 'utf8');
  let sum = 0;
  let count = 0;
  for (const reading of text.matchAll(/<(?:\w+:)?IntervalReading>([\s\S]*?)<\/(?:\w+:)?IntervalReading>/g)) {
    const m = new RegExp(`<(?:\\w+:)?${tag}>(-?\\d+)<`).exec(reading[1]!);
    if (!m) continue;
    sum += Number(m[1]);
    count++;
  }
  return { sum, count };
}

describe('greenbutton ESPI XML', () => {
  it('writes the hourly file total, reading count and cost (NIST 9-day sample, uom 72 ×10^0)', async () => {
    const result = await importFiles([fixture('TestGBDataHourlyNineDaysBinnedDaily.xml')]);
    expect(result.code, result.err.join('\n')).toBe(0);
    const values = await xmlSum('TestGBDataHourlyNineDaysBinnedDaily.xml', 'value');
    const costs = await xmlSum('TestGBDataHourlyNineDaysBinnedDaily.xml', 'cost');
    const hour = await lines('hour', 'power');
    expect(values.count).toBe(216);
    expect(hour).toHaveLength(216);
    expect(sumField(hour, 'power_usage')).toBe(values.sum);
    expect(sumField(await lines('hour', 'cost'), 'cost')).toBeCloseTo(costs.sum / 100_000, 6);
    // 2014-01-01 00:00 EST .. 2014-01-10 00:00: nine whole local days, no whole Monday-week.
    const day = await lines('day', 'power');
    expect(day).toHaveLength(9);
    expect(sumField(day, 'power_usage')).toBe(values.sum);
    expect(await lines('week')).toEqual([]);
    expect(hour[0]).toMatch(/^power,data_source=homeflux,location=greenbutton_meter,source=homeflux\.greenbutton power_usage=[\d.]+ 1388552400$/);
  });

  it('daily readings keep 23 h and 25 h DST days and sum whole weeks', async () => {
    const result = await importFiles([fixture('TestGBDataOneYearDailyBinnedMonthly.xml')]);
    expect(result.code, result.err.join('\n')).toBe(0);
    const values = await xmlSum('TestGBDataOneYearDailyBinnedMonthly.xml', 'value');
    const day = await lines('day', 'power');
    expect(day).toHaveLength(444);
    expect(sumField(day, 'power_usage')).toBe(values.sum);
    // 2013-03-10 (spring forward) starts at 05:00Z and the next day at 04:00Z: both are day points.
    expect(day.some((l) => l.endsWith(' 1362891600'))).toBe(true);
    expect(day.some((l) => l.endsWith(' 1362974400'))).toBe(true);
    const week = await lines('week', 'power');
    // Monday 2013-01-07 .. Monday 2014-03-10: 61 whole weeks + the week of 2014-03-10..16 (file ends 03-20).
    expect(week).toHaveLength(62);
    const weekStarts = week.map((l) => Number(l.split(' ').pop()));
    const inWeeks = day.filter((l) => Number(l.split(' ').pop()) >= Math.min(...weekStarts) && Number(l.split(' ').pop()) < 1395028800);
    expect(sumField(week, 'power_usage')).toBeCloseTo(sumField(inWeeks, 'power_usage'), 6);
  });

  it('follows links: the UtilityAPI file uses ReadingType/01 (Wh), not the unreferenced therm type', async () => {
    const result = await importFiles([fixture('intervals_APUC000000_electric.xml')]);
    expect(result.code, result.err.join('\n')).toBe(0);
    const values = await xmlSum('intervals_APUC000000_electric.xml', 'value');
    expect(await lines('hour', 'power')).toHaveLength(300);
    expect(sumField(await lines('hour', 'power'), 'power_usage')).toBe(values.sum);
    expect(await lines('hour', 'gas')).toEqual([]);
  });

  it('prefixed namespaces, entries out of order, delivered and received energy (flowDirection 19)', async () => {
    const result = await importFiles([fixture('netmeter_espi_prefixed.xml')], { timezone: 'America/Los_Angeles' });
    expect(result.code, result.err.join('\n')).toBe(0);
    const text = await readFile(fixture('netmeter_espi_prefixed.xml'), 'utf8');
    // The first block in the file is the received one (MeterReading R); ×10^-1 Wh.
    const [received, delivered] = text.split('</atom:entry>').slice(0, 2).map((b) => [...b.matchAll(/<espi:value>(\d+)</g)].reduce((s, m) => s + Number(m[1]), 0) / 10);
    const hour = await lines('hour', 'power');
    // Delivered and received energy of one hour are two fields of one point.
    expect(hour).toHaveLength(24);
    expect(hour.every((l) => / power_export=[\d.]+,power_usage=[\d.]+ \d+$/.test(l))).toBe(true);
    expect(sumField(hour, 'power_usage')).toBe(delivered);
    expect(sumField(hour, 'power_export')).toBe(received);
    const day = await lines('day', 'power');
    expect(sumField(day, 'power_usage')).toBe(delivered);
    expect(sumField(day, 'power_export')).toBe(received);
    const costs = await xmlSum('netmeter_espi_prefixed.xml', 'cost');
    expect(sumField(await lines('day', 'cost'), 'cost')).toBeCloseTo(costs.sum / 100_000, 6);
  });

  it('monthly gas billing reads: therms ×10^-3, cost, written to the day bucket with their period', async () => {
    const file = 'ngma_natural_gas_billing_billing_data_Service_1_1_2021-05-26_to_2024-04-25.xml';
    const result = await importFiles([fixture(file)]);
    expect(result.code, result.err.join('\n')).toBe(0);
    const values = await xmlSum(file, 'value');
    const costs = await xmlSum(file, 'cost');
    const gas = await lines('day', 'gas');
    expect(gas).toHaveLength(35);
    expect(gas[0]).toMatch(/unit=THERM gas_usage=37,period_seconds=3024000 1621987200$/);
    expect(sumField(gas, 'gas_usage')).toBeCloseTo(values.sum / 1000, 6);
    expect(sumField(await lines('day', 'cost'), 'cost')).toBeCloseTo(costs.sum / 100_000, 6);
    expect((await lines('day', 'cost'))[0]).toContain('service=gas');
    expect(await lines('week')).toEqual([]);
  });

  it('15-minute SCE readings go to the minute bucket and sum into hours', async () => {
    const result = await importFiles([fixture('BulkSCEIntervalBlock.xml')], { timezone: 'America/Los_Angeles' });
    expect(result.code, result.err.join('\n')).toBe(0);
    const values = await xmlSum('BulkSCEIntervalBlock.xml', 'value');
    const minute = await lines('minute', 'power');
    expect(minute).toHaveLength(97);
    expect(sumField(minute, 'power_usage')).toBe(values.sum);
    expect(await lines('hour', 'power')).toHaveLength(24);
  });

  it('a summaries-only feed imports nothing and says so', async () => {
    const result = await importFiles([fixture('PGEUsageSummaries.xml')]);
    expect(result.code).toBe(1);
    expect(result.err.join('\n')).toMatch(/PGEUsageSummaries\.xml: nothing to import/);
    expect(result.err.join('\n')).toMatch(/3 usage summary entries/);
  });

  it('re-import is idempotent: byte-identical files', async () => {
    const files = [fixture('TestGBDataHourlyNineDaysBinnedDaily.xml'), fixture('pge_electric_hourly_fallback.csv')];
    expect((await importFiles(files)).code).toBe(0);
    const snapshot = (): Promise<Map<string, string>> => readTree(path.join(dir, 'data'));
    const first = await snapshot();
    expect((await importFiles(files)).code).toBe(0);
    expect(await snapshot()).toEqual(first);
  });

  it('--since/--until keep readings starting inside and sum only whole days inside', async () => {
    const result = await importFiles([fixture('TestGBDataHourlyNineDaysBinnedDaily.xml')], { args: ['--since', '2014-01-03T12:00', '--until', '2014-01-05'] });
    expect(result.code, result.err.join('\n')).toBe(0);
    expect(await lines('hour', 'power')).toHaveLength(36);
    expect((await lines('day', 'power')).map((l) => l.split(' ').pop())).toEqual(['1388811600']);
  });
});

describe('greenbutton CSV', () => {
  /** Sum of the USAGE column (kWh) over rows, from the raw text. */
  async function csvKwh(file: string, column = 4): Promise<{ sum: number; rows: number }> {
    const rows = (await readFile(fixture(file), 'utf8')).split(/\r?\n/).filter((l) => /^(Electric|Natural gas) usage,/.test(l));
    const sum = rows.reduce((s, r) => s + Number(r.split(',')[column]), 0);
    return { sum: Math.round(sum * 1e6) / 1e6, rows: rows.length };
  }

  it('the fall-back day has 25 distinct hours; the second 01:00 is the later instant', async () => {
    const result = await importFiles([fixture('pge_electric_hourly_fallback.csv')], { timezone: 'America/Los_Angeles' });
    expect(result.code, result.err.join('\n')).toBe(0);
    const expected = await csvKwh('pge_electric_hourly_fallback.csv');
    const hour = await lines('hour', 'power');
    expect(expected.rows).toBe(73);
    expect(hour).toHaveLength(73);
    expect(sumField(hour, 'power_usage')).toBeCloseTo(expected.sum * 1000, 6);
    const times = hour.map((l) => Number(l.split(' ').pop()));
    expect(times).toContain(1699171200); // 01:00 PDT
    expect(times).toContain(1699174800); // 01:00 PST
    const day = await lines('day', 'power');
    expect(day.map((l) => Number(l.split(' ').pop()))).toEqual([1699081200, 1699167600, 1699257600]);
    expect(sumField(day, 'power_usage')).toBeCloseTo(expected.sum * 1000, 6);
    const cost = (await readFile(fixture('pge_electric_hourly_fallback.csv'), 'utf8')).match(/\$[\d.]+/g)!.reduce((s, c) => s + Number(c.slice(1)), 0);
    expect(sumField(await lines('hour', 'cost'), 'cost')).toBeCloseTo(cost, 6);
  });

  it('IMPORT/EXPORT columns with M/D/YYYY dates and negative costs', async () => {
    const result = await importFiles([fixture('sce_solar_import_export.csv')], { timezone: 'America/Los_Angeles' });
    expect(result.code, result.err.join('\n')).toBe(0);
    const imported = await csvKwh('sce_solar_import_export.csv', 4);
    const exported = await csvKwh('sce_solar_import_export.csv', 5);
    const hour = await lines('hour', 'power');
    expect(hour).toHaveLength(48);
    expect(sumField(hour, 'power_usage')).toBeCloseTo(imported.sum * 1000, 6);
    expect(sumField(hour, 'power_export')).toBeCloseTo(exported.sum * 1000, 6);
    expect(hour[0]).toMatch(/ 1718434800$/); // 6/15/2024 0:00 PDT
    expect(await lines('day', 'power')).toHaveLength(2);
    const money = (await readFile(fixture('sce_solar_import_export.csv'), 'utf8')).match(/,-?\$[\d.]+,/g)!.map((c) => Number(c.replace(/[,$]/g, '')));
    expect(money.some((c) => c < 0)).toBe(true);
    expect(sumField(await lines('hour', 'cost'), 'cost')).toBeCloseTo(money.reduce((a, b) => a + b, 0), 6);
    expect((await lines('hour', 'cost')).some((l) => / cost=-/.test(l))).toBe(true);
  });

  it('15-minute rows with a USAGE (kWh) header, and daily gas rows in therms', async () => {
    const result = await importFiles([fixture('pge_electric_15min.csv'), fixture('pge_gas_daily.csv')], { timezone: 'America/Los_Angeles' });
    expect(result.code, result.err.join('\n')).toBe(0);
    const kwh = await csvKwh('pge_electric_15min.csv');
    expect(await lines('minute', 'power')).toHaveLength(96);
    expect(await lines('hour', 'power')).toHaveLength(24);
    expect(sumField(await lines('day', 'power'), 'power_usage')).toBeCloseTo(kwh.sum * 1000, 6);
    const therms = await csvKwh('pge_gas_daily.csv');
    const gas = await lines('day', 'gas');
    expect(gas).toHaveLength(15);
    expect(sumField(gas, 'gas_usage')).toBeCloseTo(therms.sum, 6);
    // Monday 2023-11-06 .. Sunday 11-12 is the one whole week (25 h on 11-05 is the week before).
    const week = await lines('week', 'gas');
    expect(week.map((l) => Number(l.split(' ').pop()))).toEqual([1699257600]);
    // Electric and gas cost of the same day are different series.
    expect(new Set((await lines('day', 'cost')).map((l) => /service=(\w+)/.exec(l)![1])).size).toBe(2);
  });
});

describe('greenbutton malformed files', () => {
  it('a bad CSV value names the line; nothing of that file is written, other files are', async () => {
    const result = await importFiles([fixture('malformed_usage.csv'), fixture('abridged_electric_containerized.xml')]);
    expect(result.code).toBe(1);
    expect(result.err.join('\n')).toMatch(/malformed_usage\.csv: line 12: USAGE should be a number, found "0\.3O"/);
    const hour = await lines('hour', 'power');
    expect(hour).toHaveLength(8); // the abridged file only
    expect(hour.some((l) => l.endsWith(' 1699081200'))).toBe(false);
  });

  it('truncated XML names the position and writes nothing', async () => {
    const result = await importFiles([fixture('malformed_truncated.xml')]);
    expect(result.code).toBe(1);
    expect(result.err.join('\n')).toMatch(/malformed XML: malformed_truncated\.xml:\d+:\d+: .*unclosed|malformed XML: .*malformed_truncated\.xml:\d+:\d+/);
    expect(await lines('hour')).toEqual([]);
  });

  it('a non-numeric <value> names the line and element', async () => {
    const result = await importFiles([fixture('malformed_value.xml')]);
    expect(result.code).toBe(1);
    expect(result.err.join('\n')).toMatch(/malformed_value\.xml: line 106: <value> should be an integer, found "4x30"/);
    expect(await lines('hour')).toEqual([]);
  });

  it('no files is a configuration error (exit 2)', async () => {
    const err: string[] = [];
    const code = await runAgent(greenbuttonModule([]), { argv: [], env: { HOMEFLUX_DATA_DIR: dir }, streams: { out: () => {}, err: (l) => err.push(l) }, extra: { positionals: '<file…>' } });
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/GREENBUTTON_FILES/);
  });
});
