/**
 * Reading one configured value out of a page (HTML via cheerio, JSON via a dotted path), and
 * converting it to the unit its series uses; a page's values into records. Pure functions;
 * errors say which page and value.
 */
import type { CheerioAPI } from 'cheerio';
import { messageOf } from '../../errors.ts';
import type { DataRecord, Units } from '../../records.ts';
import { convertTemperature, type FieldValue, toWh } from '../../records.ts';
import { jsonPath } from '../../json-path.ts';
import type { PageConfig, ValueConfig } from './settings.ts';

export { jsonPath } from '../../json-path.ts';

/** A value could not be read; the message names what was expected and what was found. */
export class ValueError extends Error {
  override name = 'ValueError';
}

/** The raw text of a value: selector or path, then the optional regex. */
export function rawText(value: ValueConfig, page: { html?: CheerioAPI; json?: unknown }): string {
  let text: string;
  if (value.selector !== undefined) {
    if (!page.html) throw new ValueError(`selector "${value.selector}" needs an HTML page, but the page is JSON`);
    let match: ReturnType<CheerioAPI>;
    try {
      match = page.html(value.selector).first();
    } catch (error) {
      // css-select throws plain Errors ("Parenthesis not matched") for a bad selector (found by fuzzing).
      throw new ValueError(`selector "${value.selector}" is not a valid CSS selector: ${(error as Error).message}`);
    }
    if (match.length === 0) throw new ValueError(`selector "${value.selector}" matched nothing`);
    const got = value.attribute !== undefined ? match.attr(value.attribute) : match.text();
    if (got === undefined) throw new ValueError(`selector "${value.selector}" matched an element without attribute "${value.attribute}"`);
    text = got;
  } else {
    if (page.json === undefined) throw new ValueError(`path "${value.path}" needs a JSON page, but the page is HTML`);
    const got = jsonPath(page.json, value.path!);
    if (got === undefined || got === null) throw new ValueError(`path "${value.path}" is absent`);
    if (typeof got === 'object') throw new ValueError(`path "${value.path}" is an object or array, expected a number or text`);
    text = String(got);
  }
  text = text.replace(/\s+/g, ' ').trim();
  if (value.regex !== undefined) {
    const m = new RegExp(value.regex).exec(text);
    if (!m) throw new ValueError(`regex /${value.regex}/ did not match ${JSON.stringify(text.slice(0, 60))}`);
    text = (m[1] ?? m[0]).trim();
  }
  return text;
}

/** `1,234.5` or `230.1` → number; throws {@link ValueError} for anything else. */
export function parseNumber(text: string): number {
  const t = /^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$/.test(text) ? text.replace(/,/g, '') : text;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) throw new ValueError(`expected a number, found ${JSON.stringify(text.slice(0, 60))}`);
  return Number(t);
}

/**
 * Convert to the unit the series keeps: energy → Wh, power → W, temperature → °F or °C by
 * `HOMEFLUX_UNITS`; other units (%, V, A, …) are stored as read.
 */
export function convertValue(amount: number, unit: ValueConfig['unit'], units: Units): number {
  switch (unit) {
    case 'Wh':
    case 'kWh':
    case 'MWh':
    case 'Wmin':
      return toWh(amount, unit);
    case 'kW':
      return amount * 1000;
    case '°C':
    case 'C':
      return convertTemperature(amount, 'C', units);
    case '°F':
    case 'F':
      return convertTemperature(amount, 'F', units);
    default:
      return amount;
  }
}

/** The field value of a configured value on a page. */
export function extractValue(value: ValueConfig, page: { html?: CheerioAPI; json?: unknown }, units: Units): FieldValue {
  const text = rawText(value, page);
  if (value.type === 'string') {
    if (text === '') throw new ValueError('expected text, found an empty string');
    // Line protocol cannot carry control characters; validateRecord would refuse the record (found by fuzzing).
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    if (/[\u0000-\u001f\u007f]/.test(text)) throw new ValueError(`expected text, found control characters in ${JSON.stringify(text.slice(0, 60))}`);
    return text;
  }
  const amount = convertValue(parseNumber(text), value.unit, units);
  // Round away float noise from unit factors (0.1 kWh × 1000) so re-runs write identical lines;
  // values too large for that keep their digits.
  const rounded = Math.abs(amount) < 1e15 ? Math.round(amount * 1e9) / 1e9 : amount;
  // "1e400", 400 digits, or 1e306 kWh in Wh are not finite (found by fuzzing).
  if (!Number.isFinite(rounded)) throw new ValueError(`expected a number in range, found ${JSON.stringify(text.slice(0, 60))}${value.unit ? ` ${value.unit}` : ''}`);
  return rounded;
}

/** What {@link pageRecords} labels its records with. */
export interface PageContext {
  /** `source` tag (the config's `source`). */
  source: string;
  /** The sample's time: the minute it was taken in. */
  time: number;
  units: Units;
}

/**
 * One sample per configured value of a fetched page: its records, and for each value that
 * could not be read one problem naming the page and the value (the others are still kept).
 */
export function pageRecords(page: PageConfig, fetched: { html?: CheerioAPI; json?: unknown }, context: PageContext): { records: DataRecord[]; problems: Error[] } {
  const records: DataRecord[] = [];
  const problems: Error[] = [];
  for (const value of page.values) {
    try {
      records.push({
        measurement: value.measurement,
        tags: { data_source: 'homeflux', source: context.source, location: page.location, ...value.tags },
        fields: { [value.field]: extractValue(value, fetched, context.units) },
        time: context.time,
        timescale: 'minute',
      });
    } catch (error) {
      problems.push(new Error(`page "${page.name}" value "${value.name}": ${messageOf(error)}`));
    }
  }
  return { records, problems };
}
