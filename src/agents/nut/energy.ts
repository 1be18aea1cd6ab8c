/**
 * A UPS's `power` energy records: each hour's (mean watts × 1 h), and the totals of the local
 * day and week they fall in (the sum of those hours).
 *
 * The pipeline's rollups can't make the day and week: they would sum only this run's records,
 * and a day built from one hour would overwrite the real day. So the totals are summed from the
 * hour energies kept in the state file (see state.ts), and every run rewrites the day and the
 * week of the hours it rewrites — idempotent writes make that safe, and the last write of a
 * period, after its last hour, is its final total.
 */
import { type DataRecord, powerRecord } from '../../records.ts';
import { type LocalRules, nextPeriodStart, periodStart } from '../../window.ts';
import type { HourMean, NutState } from './state.ts';

/** The energy of one local day or week of one UPS. */
export interface PeriodTotal {
  /** Start of the period (Unix seconds, local midnight). */
  start: number;
  timescale: 'day' | 'week';
  /** Sum of the hours' energies. */
  wh: number;
  /** Hours of the period that had at least one sample (an hour without samples counts nothing). */
  hours: number;
  /** Samples behind those hours. */
  samples: number;
}

/** What identifies the series of one UPS: its tags. */
export interface EnergySeries {
  source: string;
  location: string;
  tags: { [key: string]: string };
}

/**
 * Sum hour energies. Each is a multiple of 1 mWh, so summing whole mWh keeps the result exact
 * and a week equals the sum of its days to the last digit.
 */
export function sumHours(hours: readonly HourMean[]): { wh: number; hours: number; samples: number } {
  let mwh = 0;
  let samples = 0;
  for (const hour of hours) {
    mwh += Math.round(hour.meanWatts * 1000);
    samples += hour.samples;
  }
  return { wh: mwh / 1000, hours: hours.length, samples };
}

/** The day and week totals of one UPS for every period containing one of `hourStarts`, in order. */
export function periodTotals(state: NutState, key: string, options: { hourStarts: readonly number[]; rules: LocalRules }): PeriodTotal[] {
  const { rules } = options;
  const totals: PeriodTotal[] = [];
  for (const timescale of ['day', 'week'] as const) {
    const starts = [...new Set(options.hourStarts.map((hour) => periodStart(hour, timescale, rules)))].sort((a, b) => a - b);
    for (const start of starts) {
      const end = nextPeriodStart(start, timescale, rules);
      totals.push({ start, timescale, ...sumHours(state.hoursIn(key, start, end)) });
    }
  }
  return totals;
}

/**
 * The `power` records of one UPS after a sample was added to `state`: the hours that have
 * kept samples (the current and the previous hour), then their days and weeks.
 */
export function energyRecords(state: NutState, key: string, options: { series: EnergySeries; rules: LocalRules }): DataRecord[] {
  const { series, rules } = options;
  const hours = state.hours(key, rules);
  const records = hours.map((hour) =>
    powerRecord({ ...series, time: hour.hour, timescale: 'hour', fields: { samples: hour.samples } }, { value: hour.meanWatts, unit: 'Wh' }),
  );
  for (const total of periodTotals(state, key, { hourStarts: hours.map((h) => h.hour), rules })) {
    records.push(
      powerRecord({ ...series, time: total.start, timescale: total.timescale, fields: { hours: total.hours, samples: total.samples } }, { value: total.wh, unit: 'Wh' }),
    );
  }
  return records;
}
