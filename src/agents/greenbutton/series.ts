/**
 * Green Button readings → records: the format-neutral half of the Green Button agent.
 *
 * Both parsers (ESPI XML, utility CSV) produce {@link Series}: a list of interval readings of
 * one quantity in one unit. This module turns them into schema records, deduplicates
 * readings that appear in several files, and computes the hour → day → week sums itself,
 * only for periods the readings cover completely (a file that starts at 15:00 must not
 * overwrite a correct day total with a partial one).
 */
import { costRecord, type DataRecord, gasRecord, powerRecord, type RecordBase, type Timescale, waterRecord } from '../../records.ts';
import { seriesKey } from '../../lineprotocol.ts';
import { type LocalRules, nextPeriodStart, periodStart, type TimeWindow } from '../../window.ts';

/** One interval reading: start (Unix s), duration (s), amount in the series' unit, optional cost. */
export interface Reading {
  start: number;
  duration: number;
  value: number;
  /** Money for the interval in the series' currency (already divided to whole units). */
  cost?: number;
}

/** What a series measures. `power_export` is energy sent to the grid (ESPI flowDirection 19). */
export type Quantity = 'power_usage' | 'power_export' | 'gas' | 'water';

/** Readings of one quantity from one meter. */
export interface Series {
  quantity: Quantity;
  /** `Wh` for power; the meter's unit for gas and water (`THERM`, `CCF`, `M3`, `GAL`). */
  unit: string;
  /** ISO currency of `cost` (e.g. `USD`). */
  currency: string;
  /** Distinguishes several meters of one file; appended to the location when set. */
  meter?: string;
  readings: Reading[];
}

/** One parsed file: its series, and notices of what it held but was not imported (usage summaries, demand readings, …). */
export interface ParsedFile {
  series: Series[];
  notes: string[];
}

/** How records are labelled and which readings are kept. */
export interface RecordOptions {
  source: string;
  location: string;
  rules: LocalRules;
  window: TimeWindow;
}

const STEPS: readonly [Timescale, Timescale][] = [
  ['minute', 'hour'],
  ['hour', 'day'],
  ['day', 'week'],
];

interface Item {
  record: DataRecord;
  end: number;
  /** Billing-period reads (a month) are written as they are and never summed into weeks. */
  rollable: boolean;
}

/**
 * The bucket of a reading: sub-hourly → minute, an hour → hour, a whole local day → day.
 * Anything longer (a monthly billing read) is written to the day bucket at its own start and
 * marked not rollable.
 */
export function timescaleOf(start: number, duration: number, rules: LocalRules): { timescale: Timescale; rollable: boolean } {
  if (duration < 3600 && 3600 % duration === 0) return { timescale: 'minute', rollable: true };
  if (duration === 3600) return { timescale: 'hour', rollable: true };
  const dayStart = periodStart(start, 'day', rules);
  if (dayStart === start && nextPeriodStart(start, 'day', rules) === start + duration) return { timescale: 'day', rollable: true };
  return { timescale: 'day', rollable: false };
}

function measurementRecords(series: Series, reading: Reading, base: RecordBase): DataRecord[] {
  const out: DataRecord[] = [];
  switch (series.quantity) {
    case 'power_usage':
      out.push(powerRecord(base, { value: reading.value, unit: 'Wh' }));
      break;
    case 'power_export': {
      const record = powerRecord(base, { value: reading.value, unit: 'Wh' });
      out.push({ ...record, fields: { power_export: record.fields.power_usage! } });
      break;
    }
    case 'gas':
      out.push(gasRecord(base, { value: reading.value, unit: series.unit }));
      break;
    case 'water':
      out.push(waterRecord(base, { value: reading.value, unit: series.unit }));
      break;
  }
  if (reading.cost !== undefined) {
    // Electricity, gas and water bills share the cost measurement; `service` keeps them apart.
    const service = series.quantity === 'gas' || series.quantity === 'water' ? series.quantity : 'electric';
    const cost = costRecord({ ...base, tags: { ...base.tags, service } }, { value: reading.cost, currency: series.currency });
    // A credit for exported energy must not overwrite the charge for the same hour.
    out.push(series.quantity === 'power_export' ? { ...cost, fields: { cost_export: reading.cost } } : cost);
  }
  return out;
}

const round = (value: number): number => Math.round(value * 1e9) / 1e9;

/**
 * Records for all series: readings inside the window (by start), deduplicated by series and
 * start (a later series wins, so a newer file corrects an older one), plus sums for every
 * local hour, day and week that the kept readings cover entirely.
 */
export function seriesToRecords(all: readonly Series[], options: RecordOptions): DataRecord[] {
  const items = new Map<string, Item>();
  for (const series of all) {
    const location = series.meter ? `${options.location}_${series.meter}` : options.location;
    for (const reading of series.readings) {
      if (reading.start < options.window.start || reading.start >= options.window.end) continue;
      const { timescale, rollable } = timescaleOf(reading.start, reading.duration, options.rules);
      const base: RecordBase = { time: reading.start, timescale, source: options.source, location };
      if (!rollable) base.fields = { period_seconds: reading.duration };
      for (const record of measurementRecords(series, reading, base)) {
        const field = Object.keys(record.fields)[0]!;
        items.set(`${seriesKey(record)} ${field} ${record.time}`, { record, end: reading.start + reading.duration, rollable });
      }
    }
  }
  const finest = [...items.values()];
  const produced: Item[] = [];
  for (const [from, to] of STEPS) {
    const groups = new Map<string, { start: number; end: number; covered: number; sum: number; template: DataRecord; field: string; inside: boolean }>();
    for (const item of [...finest, ...produced]) {
      if (!item.rollable || item.record.timescale !== from) continue;
      const field = Object.keys(item.record.fields)[0]!;
      const start = periodStart(item.record.time, to, options.rules);
      const key = `${seriesKey(item.record)} ${field} ${start}`;
      let group = groups.get(key);
      if (!group) {
        group = { start, end: nextPeriodStart(start, to, options.rules), covered: 0, sum: 0, template: item.record, field, inside: true };
        groups.set(key, group);
      }
      if (item.end > group.end) group.inside = false;
      group.covered += item.end - item.record.time;
      group.sum += item.record.fields[field] as number;
    }
    for (const group of groups.values()) {
      if (!group.inside || group.covered !== group.end - group.start) continue;
      const record: DataRecord = { measurement: group.template.measurement, tags: { ...group.template.tags }, fields: { [group.field]: round(group.sum) }, time: group.start, timescale: to };
      produced.push({ record, end: group.end, rollable: true });
    }
  }
  return [...finest, ...produced].map((item) => item.record);
}
