/**
 * The samples behind the hourly energy, kept between runs in a small JSON file.
 *
 * Why a state file: cron takes one sample per invocation, yet the hourly `power` record must be
 * the mean of every sample of that hour. Reading the minute points back would only work with
 * the file store (not when writing to InfluxDB), so each run keeps the watts of the current
 * and the previous hour here — a few KB — adds its own, and rewrites those hours' records.
 * The previous hour is rewritten once more by the first run of a new hour, so its final mean
 * is written even if the run that took its last sample died before writing. A missed sample
 * simply isn't in the mean; a restart loses nothing (the file is written atomically).
 *
 * Two runs racing on the same file (e.g. a slow cron run overlapping the next) can lose one
 * sample: the mean is then of the remaining ones, which is still a correct mean.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../database/atomic.ts';
import { messageOf } from '../../errors.ts';
import { type LocalRules, periodStart } from '../../window.ts';

/** The mean of one hour's samples of one UPS. */
export interface HourMean {
  /** Start of the hour (Unix seconds). */
  hour: number;
  samples: number;
  /** Mean watts of the samples; × 1 h = the hour's energy in Wh. */
  meanWatts: number;
}

interface StateFileV1 {
  version: 1;
  /** `location/ups` → [time, watts] pairs, oldest first. */
  series: { [key: string]: [number, number][] };
}

/** The key of one UPS in the state file. */
export function seriesId(location: string, ups: string): string {
  return `${location}/${ups}`;
}

/** Samples of the current and previous hour per UPS. */
export class HourlyState {
  private constructor(
    private readonly series: Map<string, Map<number, number>>,
    /** Why the file could not be used, when it was unreadable (it is then started afresh). */
    readonly warning?: string,
  ) {}

  /** An empty state (no file yet). */
  static empty(): HourlyState {
    return new HourlyState(new Map());
  }

  /**
   * Load the state file. A missing file is an empty state; an unreadable one (edited by hand,
   * from a future version) is also started afresh, with {@link warning} saying why — losing
   * the current hour's mean is better than stopping the sampler.
   */
  static async load(file: string): Promise<HourlyState> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return HourlyState.empty();
      return new HourlyState(new Map(), `cannot read the NUT state file ${file}: ${messageOf(error)}; starting a new hour mean`);
    }
    try {
      const parsed = JSON.parse(text) as StateFileV1;
      if (parsed.version !== 1 || typeof parsed.series !== 'object' || parsed.series === null) throw new Error(`expected {"version":1,"series":{…}}, found version ${String(parsed.version)}`);
      const series = new Map<string, Map<number, number>>();
      for (const [key, samples] of Object.entries(parsed.series)) {
        const map = new Map<number, number>();
        for (const pair of samples) {
          if (Array.isArray(pair) && Number.isInteger(pair[0]) && Number.isFinite(pair[1])) map.set(pair[0], pair[1]);
        }
        series.set(key, map);
      }
      return new HourlyState(series);
    } catch (error) {
      return new HourlyState(new Map(), `the NUT state file ${file} is not valid (${messageOf(error)}); starting a new hour mean`);
    }
  }

  /** Add (or replace) the sample of one UPS at `time`. */
  add(key: string, time: number, watts: number): void {
    let samples = this.series.get(key);
    if (!samples) this.series.set(key, (samples = new Map()));
    samples.set(time, watts);
  }

  /**
   * Keep only samples of the hour containing `now` and the one before (the only hours a run
   * rewrites), and none after `now` (a clock set back must not leave future samples behind).
   */
  prune(now: number, rules: LocalRules): void {
    const from = periodStart(now, 'hour', rules) - 3600;
    for (const [key, samples] of this.series) {
      for (const time of samples.keys()) if (time < from || time > now) samples.delete(time);
      if (samples.size === 0) this.series.delete(key);
    }
  }

  /** Mean watts per hour of one UPS, oldest hour first. */
  hours(key: string, rules: LocalRules): HourMean[] {
    const groups = new Map<number, { sum: number; count: number }>();
    for (const [time, watts] of this.series.get(key) ?? []) {
      const hour = periodStart(time, 'hour', rules);
      const group = groups.get(hour) ?? { sum: 0, count: 0 };
      group.sum += watts;
      group.count += 1;
      groups.set(hour, group);
    }
    return [...groups.entries()]
      .sort(([a], [b]) => a - b)
      .map(([hour, { sum, count }]) => ({ hour, samples: count, meanWatts: Math.round((sum / count) * 1000) / 1000 }));
  }

  /** Write the state atomically (a reader or the next run never sees a torn file). */
  async save(file: string): Promise<void> {
    const series: StateFileV1['series'] = {};
    for (const [key, samples] of [...this.series].sort(([a], [b]) => a.localeCompare(b))) {
      series[key] = [...samples.entries()].sort(([a], [b]) => a - b);
    }
    await writeFileAtomic(file, `${JSON.stringify({ version: 1, series } satisfies StateFileV1)}\n`);
  }
}
