/**
 * Green Button ESPI XML (an Atom feed) → {@link Series}, streamed with saxes so a multi-year
 * file never sits in memory as text or as a DOM; only the readings themselves are kept.
 *
 * Entries are associated through their Atom links, not their order or nesting: an
 * IntervalBlock's `up` (or `self`) is one of a MeterReading's `related` links (or lies under
 * its `self` path), and a MeterReading's `related` links name its ReadingType's `self`.
 * Namespaces are resolved, so default namespaces and any prefix (`espi:`, `ns0:`, `atom:`) work.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { SourceDataError } from '../../errors.ts';
import type { ParsedFile, Quantity, Reading, Series } from './series.ts';

interface Link {
  rel: string;
  href: string;
}

interface Entry {
  line: number;
  links: Link[];
  kind?: string;
  fields: Map<string, string>;
  readings: Reading[];
}

const ISO_CURRENCY: { [code: string]: string } = { '840': 'USD', '124': 'CAD', '978': 'EUR', '826': 'GBP', '36': 'AUD', '554': 'NZD', '484': 'MXN' };

// ESPI UnitSymbolKind codes we import; anything else (38 W demand, 63 VAr, …) is noted and skipped.
const UOM: { [code: string]: { quantity: 'power' | 'volume' | 'therm' | 'gallon'; unit: string; power: number } } = {
  '72': { quantity: 'power', unit: 'Wh', power: 0 },
  '169': { quantity: 'therm', unit: 'THERM', power: 0 },
  '119': { quantity: 'volume', unit: 'CCF', power: -2 }, // ft³ → hundred cubic feet, the US billing unit
  '42': { quantity: 'volume', unit: 'M3', power: 0 },
  '128': { quantity: 'gallon', unit: 'GAL', power: 0 },
};

const WATER_COMMODITIES = new Set(['9', '11']);

const norm = (href: string): string => href.trim().replace(/\/+$/, '');

/** Multiply by 10^power without binary noise for negative powers (37000 × 10^-3 = 37, not 37.00000000000001). */
function scale(value: number, power: number): number {
  return power >= 0 ? value * 10 ** power : value / 10 ** -power;
}

/** Parse one ESPI XML file; throws {@link SourceDataError} naming the file, line and element. */
export async function parseEspiFile(file: string): Promise<ParsedFile> {
  const name = path.basename(file);
  const parser = new SaxesParser({ xmlns: true, position: true, fileName: name });
  const stack: string[] = [];
  let text = '';
  let entry: Entry | undefined;
  let reading: Partial<Reading> & { line?: number } = {};
  const entries: Entry[] = [];
  const fail = (message: string): never => {
    throw new SourceDataError(`${name}: line ${parser.line}: ${message}`);
  };
  const integer = (element: string): number => {
    const value = text.trim();
    // Safe integers only: 400 digits pass the pattern but are Infinity as a number (found by fuzzing).
    if (!/^[+-]?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) fail(`<${element}> should be an integer, found ${JSON.stringify(value.slice(0, 40))}`);
    return Number(value);
  };
  parser.on('opentag', (tag: SaxesTagNS) => {
    const parent = stack[stack.length - 1];
    stack.push(tag.local);
    text = '';
    if (tag.local === 'entry') entry = { line: parser.line, links: [], fields: new Map(), readings: [] };
    else if (!entry) return;
    else if (tag.local === 'link' && parent === 'entry') {
      const attr = (n: string): string | undefined => tag.attributes[n]?.value;
      const href = attr('href');
      if (href) entry.links.push({ rel: (attr('rel') ?? 'alternate').trim(), href: norm(href) });
    } else if (parent === 'content' && entry.kind === undefined) entry.kind = tag.local;
    else if (tag.local === 'IntervalReading') reading = { line: parser.line };
  });
  parser.on('text', (t: string) => {
    text += t;
  });
  parser.on('cdata', (t: string) => {
    text += t;
  });
  parser.on('closetag', (tag: SaxesTagNS) => {
    stack.pop();
    const parent = stack[stack.length - 1];
    const grand = stack[stack.length - 2];
    if (!entry) return;
    if (tag.local === 'entry') {
      entries.push(entry);
      entry = undefined;
    } else if (parent === 'ReadingType' || (parent === 'ServiceCategory' && tag.local === 'kind')) {
      entry.fields.set(tag.local, text.trim());
    } else if (grand === 'IntervalReading' && parent === 'timePeriod' && (tag.local === 'start' || tag.local === 'duration')) {
      reading[tag.local] = integer(tag.local);
    } else if (parent === 'IntervalReading' && (tag.local === 'value' || tag.local === 'cost')) {
      reading[tag.local] = integer(tag.local);
    } else if (tag.local === 'IntervalReading') {
      const { start, duration, value, cost, line } = reading;
      if (start === undefined || duration === undefined || value === undefined) fail(`<IntervalReading> opened at line ${line} lacks ${start === undefined ? 'timePeriod/start' : duration === undefined ? 'timePeriod/duration' : 'value'}`);
      if (duration! <= 0) fail(`<IntervalReading> opened at line ${line} has duration ${duration}; expected a positive number of seconds`);
      entry.readings.push({ start: start!, duration: duration!, value: value!, ...(cost !== undefined ? { cost } : {}) });
    }
  });
  try {
    for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 })) parser.write(chunk as string);
    parser.close();
  } catch (error) {
    if (error instanceof SourceDataError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if ((error as NodeJS.ErrnoException).code) throw new SourceDataError(`${name}: cannot read: ${message}`);
    // saxes messages read "file:line:column: what"; keep them, they name the position.
    throw new SourceDataError(`malformed XML: ${message}`);
  }
  return associate(name, entries);
}

const selfOf = (e: Entry): string | undefined => e.links.find((l) => l.rel === 'self')?.href;
const linksOf = (e: Entry, rel: string): string[] => e.links.filter((l) => l.rel === rel).map((l) => l.href);
const under = (href: string | undefined, parent: string | undefined): boolean => href !== undefined && parent !== undefined && href.startsWith(`${parent}/`);

function associate(name: string, entries: Entry[]): ParsedFile {
  const byKind = (kind: string): Entry[] => entries.filter((e) => e.kind === kind);
  const readingTypes = byKind('ReadingType');
  const meterReadings = byKind('MeterReading');
  const usagePoints = byKind('UsagePoint');
  const blocks = byKind('IntervalBlock');
  const notes: string[] = [];
  const summaries = entries.filter((e) => e.kind === 'UsageSummary' || e.kind === 'ElectricPowerUsageSummary').length;
  if (summaries > 0) notes.push(`${name}: ${summaries} usage summary entr${summaries === 1 ? 'y' : 'ies'} (bill totals) not imported; only interval readings are`);

  const meterOf = (block: Entry): Entry | undefined => {
    const self = selfOf(block);
    const ups = [...linksOf(block, 'up'), ...(self ? [self] : [])];
    const found = meterReadings.find((m) => linksOf(m, 'related').some((r) => ups.includes(r)) || under(self, selfOf(m)));
    return found ?? (meterReadings.length === 1 ? meterReadings[0] : undefined);
  };
  const readingTypeOf = (meter: Entry | undefined): Entry | undefined => {
    if (meter) {
      const related = linksOf(meter, 'related');
      const found = readingTypes.find((r) => related.includes(selfOf(r) ?? '\0'));
      if (found) return found;
    }
    return readingTypes.length === 1 ? readingTypes[0] : undefined;
  };
  const usagePointOf = (meter: Entry | undefined): Entry | undefined => {
    if (!meter) return usagePoints.length === 1 ? usagePoints[0] : undefined;
    const up = linksOf(meter, 'up');
    return usagePoints.find((u) => linksOf(u, 'related').some((r) => up.includes(r)) || under(selfOf(meter), selfOf(u))) ?? (usagePoints.length === 1 ? usagePoints[0] : undefined);
  };

  // One series per MeterReading (or per reading type when blocks have no MeterReading).
  const grouped = new Map<Entry, { type: Entry; usagePoint?: Entry; readings: Reading[] }>();
  for (const block of blocks) {
    if (block.readings.length === 0) continue;
    const meter = meterOf(block);
    const type = readingTypeOf(meter);
    if (!type) {
      throw new SourceDataError(`${name}: <IntervalBlock> entry at line ${block.line} (${selfOf(block) ?? 'no self link'}) has no ReadingType: none of the MeterReading entries links to it and the file has ${readingTypes.length} ReadingType entries`);
    }
    const key = meter ?? type;
    let group = grouped.get(key);
    if (!group) grouped.set(key, (group = { type, usagePoint: usagePointOf(meter), readings: [] }));
    for (const r of block.readings) group.readings.push(r);
  }
  if (blocks.length === 0 || grouped.size === 0) notes.push(`${name}: no IntervalReading found`);

  const pointsWithData = new Set([...grouped.values()].map((g) => g.usagePoint));
  const series: Series[] = [];
  for (const group of grouped.values()) {
    const f = (k: string): string | undefined => group.type.fields.get(k);
    const uom = f('uom') ?? '';
    // Own keys only: <uom>constructor</uom> must not find Object.prototype's members (found by fuzzing).
    const unit = Object.hasOwn(UOM, uom) ? UOM[uom] : undefined;
    const where = `${name}: ReadingType ${selfOf(group.type) ?? `at line ${group.type.line}`}`;
    if (!unit) {
      notes.push(`${where}: uom ${uom || '(none)'} is not an energy, gas or water quantity; ${group.readings.length} readings skipped`);
      continue;
    }
    if (f('accumulationBehaviour') === '1') {
      notes.push(`${where}: cumulative register reads (accumulationBehaviour 1) are not interval usage; ${group.readings.length} readings skipped`);
      continue;
    }
    const power = Number(f('powerOfTenMultiplier') ?? '0');
    // ESPI allows -12…12 (UnitMultiplierKind); anything else made values NaN or Infinity (found by fuzzing).
    if (!Number.isInteger(power) || Math.abs(power) > 12) throw new SourceDataError(`${where}: powerOfTenMultiplier should be an integer from -12 to 12, found ${JSON.stringify(f('powerOfTenMultiplier'))}`);
    const serviceKind = group.usagePoint?.fields.get('kind');
    let quantity: Quantity;
    if (unit.quantity === 'power') quantity = f('flowDirection') === '19' ? 'power_export' : 'power_usage';
    else if (unit.quantity === 'gallon' || WATER_COMMODITIES.has(f('commodity') ?? '') || serviceKind === '2') quantity = 'water';
    else quantity = 'gas';
    const currencyCode = f('currency');
    // An ISO 4217 numeric code; anything else would end up in the currency tag (found by fuzzing).
    if (currencyCode && !/^\d{1,4}$/.test(currencyCode)) throw new SourceDataError(`${where}: currency should be an ISO 4217 numeric code like 840, found ${JSON.stringify(currencyCode.slice(0, 40))}`);
    const meterId = pointsWithData.size > 1 && group.usagePoint ? selfOf(group.usagePoint)?.split('/').pop() : undefined;
    series.push({
      quantity,
      unit: unit.unit,
      currency: currencyCode ? (Object.hasOwn(ISO_CURRENCY, currencyCode) ? ISO_CURRENCY[currencyCode]! : `ISO${currencyCode}`) : 'USD',
      ...(meterId ? { meter: meterId.replace(/[^A-Za-z0-9_.-]/g, '_') } : {}),
      readings: group.readings.map((r) => ({
        start: r.start,
        duration: r.duration,
        value: scale(r.value, power + unit.power),
        ...(r.cost !== undefined ? { cost: r.cost / 100_000 } : {}),
      })),
    });
  }
  return { series, notes };
}
