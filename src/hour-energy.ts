/**
 * Day and week energy totals summed from kept hour energies — shared by the sampling agents
 * (nut, mqtt) that keep each recent hour's energy in a state file between runs.
 *
 * The pipeline's rollups can't make these days and weeks: they would sum only this run's
 * records, and a day built from one hour would overwrite the real day. So every run rewrites
 * the day and the week of the hours it rewrites, summed from the state — idempotent writes make
 * that safe, and the last write of a period, after its last hour, is its final total.
 */
import { type DataRecord, powerRecord } from './records.ts';
import { DateTime } from 'luxon';
import { type LocalRules, nextPeriodStart, periodStart } from './window.ts';

/**
 * The oldest hour a state file keeps at `now`: local midnight six days before the previous
 * hour's day — enough to rewrite the day and the week (whatever its first weekday) of the
 * current and the previous hour, and nothing older.
 */
export function keptHoursFrom(now: number, rules: LocalRules): number {
  const previousHour = periodStart(now, 'hour', rules) - 3600;
  return Math.floor(DateTime.fromSeconds(previousHour, { zone: rules.timezone }).startOf('day').minus({ days: 6 }).toSeconds());
}

/** The energy of one hour of one series. */
export interface HourEnergy {
  /** Start of the hour (Unix seconds). */
  hour: number;
  /** Samples (readings) behind it. */
  samples: number;
  /** Energy of the hour in Wh (for a mean of watts over the hour, the same number). */
  meanWatts: number;
}

/** Where the kept hours of each series are. */
export interface HourEnergyStore {
  /** The kept hour energies of one series with a start in [start, end), oldest first. */
  hoursIn(key: string, start: number, end: number): HourEnergy[];
}

/** The energy of one local day or week of one series. */
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

/** What identifies one series: its tags. */
export interface EnergySeries {
  source: string;
  location: string;
  tags: { [key: string]: string };
}

/**
 * Sum hour energies. Each is a multiple of 1 mWh, so summing whole mWh keeps the result exact
 * and a week equals the sum of its days to the last digit.
 */
export function sumHours(hours: readonly HourEnergy[]): { wh: number; hours: number; samples: number } {
  let mwh = 0;
  let samples = 0;
  for (const hour of hours) {
    mwh += Math.round(hour.meanWatts * 1000);
    samples += hour.samples;
  }
  return { wh: mwh / 1000, hours: hours.length, samples };
}

/** The day and week totals of one series for every period containing one of `hourStarts`, in order. */
export function periodTotals(store: HourEnergyStore, key: string, options: { hourStarts: readonly number[]; rules: LocalRules }): PeriodTotal[] {
  const { rules } = options;
  const totals: PeriodTotal[] = [];
  for (const timescale of ['day', 'week'] as const) {
    const starts = [...new Set(options.hourStarts.map((hour) => periodStart(hour, timescale, rules)))].sort((a, b) => a - b);
    for (const start of starts) {
      const end = nextPeriodStart(start, timescale, rules);
      totals.push({ start, timescale, ...sumHours(store.hoursIn(key, start, end)) });
    }
  }
  return totals;
}

/** `power` records of the given hours of one series, then of their local days and weeks. */
export function hourDayWeekRecords(store: HourEnergyStore, key: string, hours: readonly HourEnergy[], options: { series: EnergySeries; rules: LocalRules }): DataRecord[] {
  const { series, rules } = options;
  const records = hours.map((hour) =>
    powerRecord({ ...series, time: hour.hour, timescale: 'hour', fields: { samples: hour.samples } }, { value: hour.meanWatts, unit: 'Wh' }),
  );
  for (const total of periodTotals(store, key, { hourStarts: hours.map((h) => h.hour), rules })) {
    records.push(
      powerRecord({ ...series, time: total.start, timescale: total.timescale, fields: { hours: total.hours, samples: total.samples } }, { value: total.wh, unit: 'Wh' }),
    );
  }
  return records;
}
