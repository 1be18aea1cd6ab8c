/**
 * Rollups: records of a finer timescale aggregated into a coarser one (hour → day → week).
 * Pure functions; local periods come from src/window.ts so DST days have 23 or 25 hours.
 */
import { TIMESCALES, type DataRecord, type Timescale } from './records.ts';
import { seriesKey } from './lineprotocol.ts';
import { type LocalRules, periodStart } from './window.ts';

/** One aggregation an agent wants, e.g. power hour→day by sum. */
export interface RollupSpec {
  measurement: string;
  from: Timescale;
  to: Timescale;
  how: 'sum' | 'mean';
  /** Numeric fields to aggregate; default every numeric field of the record. */
  fields?: readonly string[];
}

/** Shorthand for the common chain `from → … → week` with the same aggregation. */
export function chain(measurement: string, how: 'sum' | 'mean', from: Timescale, to: Timescale = 'week', fields?: readonly string[]): RollupSpec[] {
  const specs: RollupSpec[] = [];
  const steps = TIMESCALES.slice(TIMESCALES.indexOf(from), TIMESCALES.indexOf(to) + 1).filter((t) => t !== 'minute' || from === 'minute');
  for (let i = 1; i < steps.length; i++) specs.push({ measurement, from: steps[i - 1]!, to: steps[i]!, how, fields });
  return specs;
}

interface Group {
  template: DataRecord;
  time: number;
  sums: Map<string, number>;
  counts: Map<string, number>;
}

/**
 * Apply rollup specs in order; each spec sees the input plus what earlier specs produced,
 * so `hour→day` then `day→week` chains. Returns only the new records.
 */
export function rollup(records: readonly DataRecord[], specs: readonly RollupSpec[], rules: LocalRules): DataRecord[] {
  const produced: DataRecord[] = [];
  for (const spec of specs) {
    const groups = new Map<string, Group>();
    const inputs = [records, produced];
    for (const list of inputs) {
      for (const record of list) {
        if (record.measurement !== spec.measurement || record.timescale !== spec.from) continue;
        const time = periodStart(record.time, spec.to, rules);
        const key = `${seriesKey(record)} ${time}`;
        let group = groups.get(key);
        if (!group) {
          group = { template: record, time, sums: new Map(), counts: new Map() };
          groups.set(key, group);
        }
        for (const [field, value] of Object.entries(record.fields)) {
          if (typeof value !== 'number') continue;
          if (spec.fields && !spec.fields.includes(field)) continue;
          group.sums.set(field, (group.sums.get(field) ?? 0) + value);
          group.counts.set(field, (group.counts.get(field) ?? 0) + 1);
        }
      }
    }
    for (const group of groups.values()) {
      if (group.sums.size === 0) continue;
      const fields: DataRecord['fields'] = {};
      for (const [field, sum] of group.sums) fields[field] = spec.how === 'sum' ? round(sum) : round(sum / group.counts.get(field)!);
      produced.push({ measurement: spec.measurement, tags: { ...group.template.tags }, fields, time: group.time, timescale: spec.to });
    }
  }
  return produced;
}

// Float sums of many hours pick up noise in the 15th digit (0.1+0.2); rounding to 1e-9 keeps
// re-runs byte-identical whatever the order of addition.
function round(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}
