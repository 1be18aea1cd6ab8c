/**
 * Hourly means of a station's readings (temperature, humidity), kept in a small JSON state file
 * so that a restart of the receiver continues the current hour, day and week instead of
 * overwriting them with a mean of the readings since the restart.
 *
 * Day and week values are the mean of their hours' means — the weather agent's rollup chain
 * (hour → day → week, `mean`), so both sources read the same way in the same panels.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../atomic.ts';
import { messageOf } from '../../errors.ts';
import { keptHoursFrom } from '../../hour-energy.ts';
import { type LocalRules, nextPeriodStart, periodStart } from '../../window.ts';

/** The mean of one period of one series. */
export interface PeriodMean {
  start: number;
  timescale: 'hour' | 'day' | 'week';
  mean: number;
  /** Readings behind an hour; hours behind a day or week. */
  count: number;
}

interface StateFile {
  version: 1;
  /** series → [hour start, sum, readings]. */
  hours: { [key: string]: [number, number, number][] };
}

const round3 = (value: number): number => Math.round(value * 1000) / 1000;

/** Sum and count per hour per series, for the recent days. */
export class HourMeans {
  private readonly touched = new Map<string, Set<number>>();

  private constructor(
    private readonly hours: Map<string, Map<number, [number, number]>>,
    readonly warning?: string,
  ) {}

  /** Load the state file (missing: empty; unreadable: empty with a warning). */
  static async load(file: string): Promise<HourMeans> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new HourMeans(new Map());
      return new HourMeans(new Map(), `cannot read the station state file ${file}: ${messageOf(error)}; the current hour, day and week restart from the next reading`);
    }
    try {
      const parsed = JSON.parse(text) as StateFile;
      if (parsed.version !== 1 || typeof parsed.hours !== 'object' || parsed.hours === null) throw new Error('expected {"version":1,"hours":{…}}');
      const hours = new Map<string, Map<number, [number, number]>>();
      for (const [key, rows] of Object.entries(parsed.hours)) {
        const map = new Map<number, [number, number]>();
        for (const row of Array.isArray(rows) ? rows : []) if (Array.isArray(row) && Number.isInteger(row[0]) && Number.isFinite(row[1]) && Number.isInteger(row[2]) && row[2] > 0) map.set(row[0], [row[1], row[2]]);
        if (map.size > 0) hours.set(key, map);
      }
      return new HourMeans(hours);
    } catch (error) {
      return new HourMeans(new Map(), `the station state file ${file} is not valid (${messageOf(error)}); the current hour, day and week restart from the next reading`);
    }
  }

  /** Add one reading of series `key`. */
  add(key: string, time: number, value: number, rules: LocalRules): void {
    const hour = periodStart(time, 'hour', rules);
    let map = this.hours.get(key);
    if (!map) this.hours.set(key, (map = new Map()));
    const kept = map.get(hour) ?? [0, 0];
    map.set(hour, [kept[0] + value, kept[1] + 1]);
    let touched = this.touched.get(key);
    if (!touched) this.touched.set(key, (touched = new Set()));
    touched.add(hour);
  }

  /** Series with hours changed since the last {@link takeTouched}. */
  touchedKeys(): string[] {
    return [...this.touched.keys()].sort();
  }

  /** The changed hours' means of `key`, then the means of their days and weeks (mean of hour means). */
  takeTouched(key: string, rules: LocalRules): PeriodMean[] {
    const touched = [...(this.touched.get(key) ?? [])].sort((a, b) => a - b);
    this.touched.delete(key);
    const map = this.hours.get(key) ?? new Map<number, [number, number]>();
    const hourMean = (hour: number): number => map.get(hour)![0] / map.get(hour)![1];
    const out: PeriodMean[] = touched.map((hour) => ({ start: hour, timescale: 'hour', mean: round3(hourMean(hour)), count: map.get(hour)![1] }));
    for (const timescale of ['day', 'week'] as const) {
      for (const start of [...new Set(touched.map((h) => periodStart(h, timescale, rules)))].sort((a, b) => a - b)) {
        const end = nextPeriodStart(start, timescale, rules);
        const inside = [...map.keys()].filter((h) => h >= start && h < end);
        out.push({ start, timescale, mean: round3(inside.reduce((sum, h) => sum + hourMean(h), 0) / inside.length), count: inside.length });
      }
    }
    return out;
  }

  /** Drop hours before the 7 local days ahead of the previous hour's day. */
  prune(now: number, rules: LocalRules): void {
    const keepFrom = keptHoursFrom(now, rules);
    for (const [key, map] of this.hours) {
      for (const hour of map.keys()) if (hour < keepFrom) map.delete(hour);
      if (map.size === 0) this.hours.delete(key);
    }
  }

  /** Write the state atomically. */
  async save(file: string): Promise<void> {
    const hours: StateFile['hours'] = {};
    for (const [key, map] of [...this.hours].sort(([a], [b]) => a.localeCompare(b))) hours[key] = [...map].sort(([a], [b]) => a - b).map(([h, [sum, n]]) => [h, sum, n]);
    await writeFileAtomic(file, `${JSON.stringify({ version: 1, hours } satisfies StateFile)}\n`);
  }
}
