/**
 * Parser cases, Telegraf `testcases/` style: each `test/fixtures/<source>/cases/<case>/` holds a
 * `case.json` (which fixture, which settings, and why the expected lines are what they are) and
 * `expected.out`, the line protocol under `# <timescale>` headings (the bucket each line goes to),
 * worked out from the fixture by the rules in DESIGN.md (local
 * wall time → UTC instant, unit conversions, rollups) without running homeflux. The mapping
 * under test is each agent's own parse step: Open-Meteo JSON → records, a Green Button file →
 * records, a device page → records. Opower's cases have their own runner (opower-fixtures).
 *
 * Lines are compared exactly except for float noise in converted numbers (20.3 °C is 68.54 °F
 * on paper and may be 68.54000000000001 in binary): fields compare to 9 significant digits.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as cheerio from 'cheerio';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseGreenButtonFile } from '../../src/agents/greenbutton/parse.ts';
import { seriesToRecords } from '../../src/agents/greenbutton/series.ts';
import { pageRecords } from '../../src/agents/scrape/parse.ts';
import { scrapeConfigSchema } from '../../src/agents/scrape/settings.ts';
import { type HourlyVariable, hourlyRecords, parseHourly } from '../../src/agents/weather/parse.ts';
import { WEATHER_SOURCE } from '../../src/agents/weather/index.ts';
import { toLineProtocol } from '../../src/lineprotocol.ts';
import { type DataRecord, type Units, validateRecord } from '../../src/records.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures');
const ROOT = join(import.meta.dirname, '../..');

interface Case {
  fixture: string;
  why: string;
  units?: Units;
  timezone?: string;
  /** open-meteo: the hourly variables the request asked for (default all three). */
  variables?: HourlyVariable[];
  /** scrape: the config file (from the repository root) and the sample's minute. */
  config?: string;
  time?: number;
}

type Mapping = (fixture: string, c: Case) => Promise<DataRecord[]>;

const MAPPINGS: Record<string, Mapping> = {
  'open-meteo': async (fixture, c) => {
    const origin = { api: 'archive', path: `/fixture/${c.fixture}` };
    const hourly = parseHourly(JSON.parse(readFileSync(fixture, 'utf8')), origin, c.variables);
    return hourlyRecords(hourly, { source: WEATHER_SOURCE, location: 'home', units: c.units ?? 'imperial', origin, keep: () => true });
  },
  greenbutton: async (fixture, c) => {
    const timezone = c.timezone ?? 'UTC';
    const parsed = await parseGreenButtonFile(fixture, { timezone });
    return seriesToRecords(parsed.series, { source: 'homeflux.greenbutton', location: 'greenbutton_meter', rules: { timezone, weekStart: 'monday' }, window: { start: 0, end: 4e9 } });
  },
  scrape: async (fixture, c) => {
    const config = scrapeConfigSchema.parse(YAML.parse(readFileSync(join(ROOT, c.config!), 'utf8')));
    const page = config.pages[0]!;
    const text = readFileSync(fixture, 'utf8');
    const fetched = page.format === 'json' ? { json: JSON.parse(text) as unknown } : { html: cheerio.load(text) };
    const { records, problems } = pageRecords(page, fetched, { source: config.source, time: c.time!, units: c.units ?? 'imperial' });
    expect(problems.map(String)).toEqual([]);
    return records;
  },
};

/** `measurement,tags fields time` of our own lines (no escaped spaces in these fixtures). */
function split(line: string): { series: string; fields: Record<string, string>; time: string } {
  const [series, fields, time] = line.split(' ') as [string, string, string];
  return { series, time, fields: Object.fromEntries(fields.split(',').map((kv) => kv.split('=') as [string, string])) };
}

/** The lines of an expected.out, each prefixed with the timescale of its `# <timescale>` heading. */
function expectedLines(text: string): string[] {
  let timescale = '';
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# ')) timescale = line.slice(2).trim();
    else if (line !== '') out.push(`${timescale} ${line}`);
  }
  return out;
}

function expectSameLines(actual: string[], expected: string[], why: string): void {
  const key = (l: string): string => {
    const [timescale, line] = [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)];
    const p = split(line);
    return `${timescale} ${p.series} ${p.time} ${Object.keys(p.fields).join(',')}`;
  };
  const fieldsOf = (l: string): Record<string, string> => split(l.slice(l.indexOf(' ') + 1)).fields;
  expect(actual.map(key).sort(), why).toEqual(expected.map(key).sort());
  const byKey = new Map(expected.map((l) => [key(l), fieldsOf(l)]));
  for (const line of actual) {
    const want = byKey.get(key(line))!;
    for (const [field, value] of Object.entries(fieldsOf(line))) {
      const w = want[field]!;
      if (/^-?[\d.e+-]+$/.test(w)) expect(Number(value), `${line}\n${why}`).toBeCloseTo(Number(w), Math.max(0, 9 - Math.ceil(Math.log10(Math.abs(Number(w)) + 1))));
      else expect(value, line).toBe(w);
    }
  }
}

describe.each(Object.keys(MAPPINGS))('%s parser cases', (source) => {
  const dir = join(FIXTURES, source, 'cases');
  it.each(readdirSync(dir).sort())('%s', async (name) => {
    const c = JSON.parse(readFileSync(join(dir, name, 'case.json'), 'utf8')) as Case;
    const expected = expectedLines(readFileSync(join(dir, name, 'expected.out'), 'utf8'));
    const records = await MAPPINGS[source]!(join(FIXTURES, source, c.fixture), c);
    for (const r of records) validateRecord(r, source);
    expect(expected.length, 'an empty expected.out proves nothing').toBeGreaterThan(0);
    expectSameLines(records.map((r) => `${r.timescale} ${toLineProtocol(r)}`), expected, c.why);
  });
});
