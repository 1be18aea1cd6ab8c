/**
 * Fuzz: the scrape agent's value extraction (src/agents/scrape/parse.ts) on mutated real
 * device pages (test/fixtures/scrape/) and random pages, and its config validation
 * (config.ts) on mutated example configs (examples/scrape/): an accepted config and a page
 * give a valid record or a ValueError, never a TypeError, SyntaxError or invalid record.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import fc from 'fast-check';
import YAML from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScrapeConfig, type PageConfig, type ScrapeConfig, valueSchema, type ValueConfig } from '../../src/agents/scrape/settings.ts';
import { extractValue, ValueError } from '../../src/agents/scrape/parse.ts';
import { ConfigError } from '../../src/errors.ts';
import type { DataRecord } from '../../src/records.ts';
import { expectTyped, expectValid, fixture, mutatedJson, mutatedText, RUNS, strangeText } from './fuzz-helpers.ts';

const examplesDir = path.join(import.meta.dirname, '..', '..', 'examples', 'scrape');
const examples = readdirSync(examplesDir).map((f) => YAML.parse(readFileSync(path.join(examplesDir, f), 'utf8')) as unknown);
const html = ['apc-nmc-status.htm', 'apc-nmc-logon.htm'].map((f) => fixture('scrape', f));
const json = ['shelly-plug-s-status.json', 'tasmota-status8.json'].map((f) => fixture('scrape', f));
const tmp = mkdtempSync(path.join(tmpdir(), 'homeflux-fuzz-scrape-'));
let n = 0;

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The record the agent writes for one value (as src/agents/scrape/index.ts builds it). */
function recordOf(config: ScrapeConfig, page: PageConfig, value: ValueConfig, field: DataRecord['fields'][string]): DataRecord {
  return { measurement: value.measurement, tags: { data_source: 'homeflux', source: config.source, location: page.location, ...value.tags }, fields: { [value.field]: field }, time: 1_750_000_020, timescale: 'minute' };
}

/** Extract every value of every page of `config` from `fetched`; ValueError or a valid record each. */
function extractAll(config: ScrapeConfig, fetched: { html?: cheerio.CheerioAPI; json?: unknown }, units: 'imperial' | 'metric'): void {
  for (const page of config.pages) {
    for (const value of page.values) {
      let field;
      try {
        field = extractValue(value, fetched, units);
      } catch (error) {
        expectTyped(error, [ValueError]);
        continue;
      }
      expectValid([recordOf(config, page, value, field)], 'scrape');
    }
  }
}

const configs = examples.map((raw) => {
  const file = path.join(tmp, `example${n++}.yaml`);
  writeFileSync(file, YAML.stringify(raw));
  return loadScrapeConfig({ SCRAPE_CONFIG: file, APC_NMC_USERNAME: 'u', APC_NMC_PASSWORD: 'p' });
});
const htmlConfig = configs.find((c) => c.pages[0]!.format === 'html')!;
const jsonConfigs = configs.filter((c) => c.pages[0]!.format === 'json');
const units = fc.constantFrom('imperial' as const, 'metric' as const);

describe('scrape extraction and config under random and mutated input', () => {
  it('the fixtures with the example configs give valid records (the baseline)', () => {
    const $ = cheerio.load(html[0]!);
    expect(htmlConfig.pages[0]!.values.map((v) => extractValue(v, { html: $ }, 'metric'))).toContain('On Line');
    extractAll(htmlConfig, { html: $ }, 'metric');
  });

  it('HTML pages: mutated real status pages', () => {
    fc.assert(
      fc.property(mutatedText(html), units, (text, u) => extractAll(htmlConfig, { html: cheerio.load(text) }, u)),
      { numRuns: RUNS },
    );
  });

  it('JSON pages: mutated real device answers, each example config', () => {
    const bodies = json.map((j) => JSON.parse(j) as unknown);
    fc.assert(
      fc.property(mutatedJson(bodies), fc.constantFrom(...jsonConfigs), units, (body, config, u) => extractAll(config, { json: body }, u)),
      { numRuns: RUNS },
    );
  });

  it('random pages and values: selectors, paths, regexes and units of any kind', () => {
    const value = fc
      .record({
        name: fc.constant('v'),
        selector: fc.option(fc.oneof(fc.constantFrom('#value_RealPowerPct', 'span', '###', '[', 'a >', ':nth-child(', 'p:contains("x")', '*'), fc.string({ minLength: 1, maxLength: 6 })), { nil: undefined }),
        path: fc.constantFrom('meters[0].power', 'StatusSNS.ENERGY.Total', 'a.constructor.name', '__proto__', 'x[99]', '[0]', 'tmp.tC'),
        regex: fc.option(fc.constantFrom('([\\d.]+)', '(x)?', '^', '(\\d+)\\s*kW', '.*'), { nil: undefined }),
        unit: fc.constantFrom('', 'W', 'kW', 'kWh', 'MWh', 'Wmin', '°C', '°F', '%'),
        type: fc.constantFrom('number', 'string'),
        measurement: fc.constant('m'),
        field: fc.constant('f'),
      })
      .map((v) => (v.selector !== undefined ? { ...v, path: undefined } : v));
    const body = fc.oneof(fc.jsonValue(), fc.constantFrom<unknown>({ meters: [{ power: '1e400' }] }, { meters: [{ power: 1e308 }] }, { StatusSNS: { ENERGY: { Total: 1e306 } } }, { tmp: { tC: 1.7e308 } }, { meters: [{ power: 'OL\u0001' }] }));
    const page = fc.oneof(
      fc.tuple(fc.oneof(fc.string({ unit: 'binary' }), strangeText.map((s) => `<span id="value_RealPowerPct">${s}</span>`), fc.constantFrom(`<span id="value_RealPowerPct">${'9'.repeat(400)}</span>`, '<span id="value_RealPowerPct">1e308 kW</span>', '<span>a\u0001b</span>'))).map(([t]) => ({ html: cheerio.load(t) })),
      body.map((j) => ({ json: j })),
    );
    fc.assert(
      fc.property(value, page, units, (raw, fetched, u) => {
        const parsed = valueSchema.safeParse(raw);
        if (!parsed.success) return; // refused by the config schema: never reaches a page
        const config = { source: 'homeflux.scrape', pages: [{ name: 'p', url: 'http://x/', location: 'l', values: [parsed.data] }] } as ScrapeConfig;
        extractAll(config, fetched, u);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('config files: mutated example configs are refused with a ConfigError or give valid records', () => {
    const page = { html: cheerio.load(html[0]!), json: JSON.parse(json[0]!) as unknown };
    const nameish = fc.oneof(strangeText, fc.constantFrom('_reserved', 'time', '_x', 'a\\b', 'ok', '#c', 'a b', ' x ', ''));
    const targeted = fc.tuple(fc.constantFrom(...examples), fc.constantFrom('measurement', 'field', 'tagKey', 'tagValue', 'location', 'source'), nameish).map(([raw, where, text]) => {
      const config = structuredClone(raw) as { source?: string; pages: { location: string; values: Record<string, unknown>[] }[] };
      const value = config.pages[0]!.values[0]!;
      if (where === 'measurement' || where === 'field') value[where] = text;
      else if (where === 'tagKey') value.tags = { [text]: 'v' };
      else if (where === 'tagValue') value.tags = { k: text };
      else if (where === 'location') config.pages[0]!.location = text;
      else config.source = text;
      return config as unknown;
    });
    fc.assert(
      fc.property(fc.oneof(mutatedJson(examples), targeted), fc.boolean(), (raw, asYaml) => {
        const file = path.join(tmp, `c${n++}.${asYaml ? 'yaml' : 'json'}`);
        writeFileSync(file, asYaml ? YAML.stringify(raw) : (JSON.stringify(raw) ?? ''));
        let config: ScrapeConfig;
        try {
          config = loadScrapeConfig({ SCRAPE_CONFIG: file, APC_NMC_USERNAME: 'u', APC_NMC_PASSWORD: 'p' });
        } catch (error) {
          expectTyped(error, [ConfigError]);
          return;
        } finally {
          rmSync(file, { force: true });
        }
        extractAll(config, page, 'metric');
        // Whatever value a page yields, the names the config chose must make a valid record.
        for (const p of config.pages) for (const v of p.values) expectValid([recordOf(config, p, v, 1)], 'scrape');
      }),
      { numRuns: RUNS },
    );
  });
});
