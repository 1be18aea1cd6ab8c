/**
 * What the nut agent keeps between runs, in a small JSON file: the samples behind the hourly
 * energy, and the energy of each recent hour behind the daily and weekly totals.
 *
 * Why a state file: cron takes one sample per invocation, yet the hourly `power` record must be
 * the mean of every sample of that hour, and the day and week records the sum of their hours.
 * Reading points back would only work with the file store (not when writing to InfluxDB), so
 * each run keeps here
 * - the watts of every sample of the current and the previous hour (`series`), to rewrite
 *   those hours' means; the previous hour is rewritten once more by the first run of a new
 *   hour, so its final mean is written even if the run that took its last sample died;
 * - the energy (Wh) and sample count of every sampled hour of the last 7 local days before the
 *   previous hour's day, and of that day up to now (`hours`): enough to sum the day and the
 *   week (whatever `HOMEFLUX_WEEK_START` says) of the current and of the previous hour. That
 *   is at most 8 days × 24 h + 1 ≈ 193 entries per UPS, a few KB.
 *
 * The file is written atomically, so a restart loses nothing. Two runs racing on the same file
 * (a slow cron run overlapping the next) can lose one sample: the mean is then of the
 * remaining ones, which is still a correct mean.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../atomic.ts';
import { messageOf } from '../../errors.ts';
import { type HourEnergy, keptHoursFrom } from '../../hour-energy.ts';
import { type LocalRules, periodStart } from '../../window.ts';

/** The mean of one hour's samples of one UPS (mean watts × 1 h = the hour's Wh). */
export type HourMean = HourEnergy;

/** `location/ups` → [time, watts] pairs, oldest first. */
type SeriesJson = { [key: string]: [number, number][] };

interface StateFileV1 {
  version: 1;
  series: SeriesJson;
}

interface StateFileV2 {
  version: 2;
  series: SeriesJson;
  /** `location/ups` → [hour start, Wh, samples], oldest first. */
  hours: { [key: string]: [number, number, number][] };
}

/** The key of one UPS in the state file. */
export function seriesId(location: string, ups: string): string {
  return `${location}/${ups}`;
}

/** Round to 3 decimals: watts and Wh are stored to the milliwatt(-hour). */
export const round3 = (value: number): number => Math.round(value * 1000) / 1000;

/** Samples of the current and previous hour, and the energy of the recent hours, per UPS. */
export class NutState {
  private constructor(
    private readonly series: Map<string, Map<number, number>>,
    private readonly energy: Map<string, Map<number, HourMean>>,
    /** Why the file could not be used, when it was unreadable (it is then started afresh). */
    readonly warning?: string,
  ) {}

  /** An empty state (no file yet). */
  static empty(warning?: string): NutState {
    return new NutState(new Map(), new Map(), warning);
  }

  /**
   * Load the state file. A missing file is an empty state; a version 1 file (samples only,
   * from before day and week totals) keeps its samples; an unreadable one (edited by hand, from
   * a future version) is started afresh, with {@link warning} saying why — losing the recent
   * hours is better than stopping the sampler.
   */
  static async load(file: string): Promise<NutState> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return NutState.empty();
      return NutState.empty(`cannot read the NUT state file ${file}: ${messageOf(error)}; starting afresh (the current day's and week's totals restart from this hour)`);
    }
    try {
      const parsed = JSON.parse(text) as StateFileV1 | StateFileV2;
      if ((parsed.version !== 1 && parsed.version !== 2) || typeof parsed.series !== 'object' || parsed.series === null) {
        throw new Error(`expected {"version":2,"series":{…},"hours":{…}}, found version ${String((parsed as { version?: unknown }).version)}`);
      }
      const series = new Map<string, Map<number, number>>();
      for (const [key, samples] of Object.entries(parsed.series)) {
        const map = new Map<number, number>();
        for (const pair of Array.isArray(samples) ? samples : []) {
          if (Array.isArray(pair) && Number.isInteger(pair[0]) && Number.isFinite(pair[1])) map.set(pair[0], pair[1]);
        }
        if (map.size > 0) series.set(key, map);
      }
      const energy = new Map<string, Map<number, HourMean>>();
      const hours = parsed.version === 2 && typeof parsed.hours === 'object' && parsed.hours !== null ? parsed.hours : {};
      for (const [key, entries] of Object.entries(hours)) {
        const map = new Map<number, HourMean>();
        for (const entry of Array.isArray(entries) ? entries : []) {
          if (!Array.isArray(entry)) continue;
          const [hour, wh, samples] = entry;
          if (Number.isInteger(hour) && Number.isFinite(wh) && Number.isInteger(samples) && samples > 0) map.set(hour, { hour, meanWatts: wh, samples });
        }
        if (map.size > 0) energy.set(key, map);
      }
      return new NutState(series, energy);
    } catch (error) {
      return NutState.empty(`the NUT state file ${file} is not valid (${messageOf(error)}); starting afresh (the current day's and week's totals restart from this hour)`);
    }
  }

  /** Add (or replace) the sample of one UPS at `time`. */
  add(key: string, time: number, watts: number): void {
    let samples = this.series.get(key);
    if (!samples) this.series.set(key, (samples = new Map()));
    samples.set(time, watts);
  }

  /**
   * Drop what no run will rewrite again: samples before the previous hour, hour energies
   * before the 7 local days ahead of the previous hour's day, and anything after `now` (a
   * clock set back must not leave future samples behind).
   */
  prune(now: number, rules: LocalRules): void {
    const previousHour = periodStart(now, 'hour', rules) - 3600;
    const keepFrom = keptHoursFrom(now, rules);
    const prune = <V>(map: Map<string, Map<number, V>>, from: number): void => {
      for (const [key, values] of map) {
        for (const time of values.keys()) if (time < from || time > now) values.delete(time);
        if (values.size === 0) map.delete(key);
      }
    };
    prune(this.series, previousHour);
    prune(this.energy, keepFrom);
  }

  /**
   * Mean watts per hour of one UPS from the kept samples (the current and previous hour),
   * oldest first. Each mean also becomes that hour's kept energy: the latest mean of an hour is
   * its final one once the hour is over.
   */
  hours(key: string, rules: LocalRules): HourMean[] {
    const groups = new Map<number, { sum: number; count: number }>();
    for (const [time, watts] of this.series.get(key) ?? []) {
      const hour = periodStart(time, 'hour', rules);
      const group = groups.get(hour) ?? { sum: 0, count: 0 };
      group.sum += watts;
      group.count += 1;
      groups.set(hour, group);
    }
    const means = [...groups.entries()]
      .sort(([a], [b]) => a - b)
      .map(([hour, { sum, count }]) => ({ hour, samples: count, meanWatts: round3(sum / count) }));
    let energy = this.energy.get(key);
    if (!energy && means.length > 0) this.energy.set(key, (energy = new Map()));
    for (const mean of means) energy!.set(mean.hour, mean);
    return means;
  }

  /** The kept hour energies of one UPS with a start in [start, end), oldest first. */
  hoursIn(key: string, start: number, end: number): HourMean[] {
    return [...(this.energy.get(key)?.values() ?? [])].filter((h) => h.hour >= start && h.hour < end).sort((a, b) => a.hour - b.hour);
  }

  /** Write the state atomically (a reader or the next run never sees a torn file). */
  async save(file: string): Promise<void> {
    const byKey = <V>(map: Map<string, Map<number, V>>): Array<[string, Map<number, V>]> => [...map].sort(([a], [b]) => a.localeCompare(b));
    const series: StateFileV2['series'] = {};
    for (const [key, samples] of byKey(this.series)) series[key] = [...samples.entries()].sort(([a], [b]) => a - b);
    const hours: StateFileV2['hours'] = {};
    for (const [key, energy] of byKey(this.energy)) {
      hours[key] = [...energy.values()].sort((a, b) => a.hour - b.hour).map((h) => [h.hour, h.meanWatts, h.samples]);
    }
    await writeFileAtomic(file, `${JSON.stringify({ version: 2, series, hours } satisfies StateFileV2)}\n`);
  }
}
