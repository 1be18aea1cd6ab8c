/**
 * Hour amounts from cumulative counters — a plug's energy (Wh), a weather station's rain
 * (inches) — kept in a small JSON state file between runs (cron one-shots and restarts of a
 * long-running process alike). Used by the mqtt and station agents.
 *
 * Each counter reading after the first adds the amount since the previous reading of that
 * series to the hours it spans, split in proportion to time (a reading every minute puts all
 * of it in one hour; a gap across midnight splits fairly). A reading *below* the previous one
 * means the counter restarted from zero (a Shelly reboots, a Tasmota `EnergyReset`, a
 * station's daily rain at midnight): the amount since the restart is the reading itself, put in
 * the hour of that reading (the restart came after the previous reading, most likely just
 * before this one — a daily counter's midnight); what was counted between the previous reading
 * and the restart is unknowable and not guessed. So no hour is ever negative, and the same
 * reading twice (a retained message re-delivered, a re-sent upload) adds nothing.
 *
 * Amounts are kept in whole thousandths (mWh, thousandths of an inch) so that hours, days and
 * weeks add up exactly.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic.ts';
import { messageOf } from './errors.ts';
import { type HourEnergy, type HourEnergyStore, keptHoursFrom } from './hour-energy.ts';
import { type LocalRules, periodStart } from './window.ts';

interface StateFile {
  version: 1;
  /** series → [time, counter Wh] of its last reading. */
  last: { [key: string]: [number, number] };
  /** series → [hour start, mWh, readings]. */
  hours: { [key: string]: [number, number, number][] };
}

/** Split `mwh` over [from, to) by hour, in proportion to time; whole mWh, the last hour takes the remainder. */
export function splitByHour(mwh: number, from: number, to: number, rules: LocalRules): Array<[number, number]> {
  if (to <= from) return [[periodStart(to, 'hour', rules), mwh]];
  const parts: Array<[number, number]> = [];
  let given = 0;
  for (let start = periodStart(from, 'hour', rules); start < to; start += 3600) {
    const overlap = Math.min(to, start + 3600) - Math.max(from, start);
    if (overlap <= 0) continue;
    const end = Math.min(to, start + 3600) === to;
    const share = end ? mwh - given : Math.round((mwh * overlap) / (to - from));
    given += share;
    parts.push([start, share]);
  }
  return parts;
}

/** The counters' last readings and the recent hours' energy, per series. */
export class CounterState implements HourEnergyStore {
  private readonly touched = new Map<string, Set<number>>();

  private constructor(
    private readonly last: Map<string, [number, number]>,
    private readonly energy: Map<string, Map<number, [number, number]>>,
    /** Why the file could not be used, when it was unreadable (started afresh). */
    readonly warning?: string,
  ) {}

  /** Load the state file; a missing file is an empty state, an unreadable one starts afresh with a warning. */
  static async load(file: string): Promise<CounterState> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new CounterState(new Map(), new Map());
      return new CounterState(new Map(), new Map(), `cannot read the counters' state file ${file}: ${messageOf(error)}; the counters restart from their next readings`);
    }
    try {
      const parsed = JSON.parse(text) as StateFile;
      if (parsed.version !== 1 || typeof parsed.last !== 'object' || typeof parsed.hours !== 'object') throw new Error('expected {"version":1,"last":{…},"hours":{…}}');
      const last = new Map<string, [number, number]>();
      for (const [key, pair] of Object.entries(parsed.last)) if (Array.isArray(pair) && Number.isFinite(pair[0]) && Number.isFinite(pair[1])) last.set(key, [pair[0], pair[1]]);
      const energy = new Map<string, Map<number, [number, number]>>();
      for (const [key, rows] of Object.entries(parsed.hours)) {
        const map = new Map<number, [number, number]>();
        for (const row of Array.isArray(rows) ? rows : []) if (Array.isArray(row) && Number.isInteger(row[0]) && Number.isInteger(row[1]) && row[1] >= 0) map.set(row[0], [row[1], row[2] ?? 1]);
        if (map.size > 0) energy.set(key, map);
      }
      return new CounterState(last, energy);
    } catch (error) {
      return new CounterState(new Map(), new Map(), `the counters' state file ${file} is not valid (${messageOf(error)}); the counters restart from their next readings`);
    }
  }

  /** Whether series `key` has a reading to count from. */
  has(key: string): boolean {
    return this.last.has(key);
  }

  /** Add a counter reading (Wh) of series `key` at `time`. */
  add(key: string, time: number, totalWh: number, rules: LocalRules): void {
    const previous = this.last.get(key);
    if (previous !== undefined && time <= previous[0]) return; // a re-delivered or out-of-order reading
    this.last.set(key, [time, totalWh]);
    if (previous === undefined) return; // the first reading only sets the base
    const reset = totalWh < previous[1];
    const mwh = Math.round((reset ? totalWh : totalWh - previous[1]) * 1000);
    let hours = this.energy.get(key);
    if (!hours) this.energy.set(key, (hours = new Map()));
    let touched = this.touched.get(key);
    if (!touched) this.touched.set(key, (touched = new Set()));
    for (const [hour, share] of splitByHour(mwh, reset ? time : previous[0], time, rules)) {
      const kept = hours.get(hour) ?? [0, 0];
      hours.set(hour, [kept[0] + share, kept[1] + 1]);
      touched.add(hour);
    }
  }

  /** The hours of `key` changed since the last call, oldest first (and forget that they were). */
  takeTouched(key: string): HourEnergy[] {
    const touched = [...(this.touched.get(key) ?? [])].sort((a, b) => a - b);
    this.touched.delete(key);
    const hours = this.energy.get(key);
    return touched.flatMap((hour) => {
      const kept = hours?.get(hour);
      return kept ? [{ hour, meanWatts: kept[0] / 1000, samples: kept[1] }] : [];
    });
  }

  /** The series with changed hours. */
  touchedKeys(): string[] {
    return [...this.touched.keys()].sort();
  }

  hoursIn(key: string, start: number, end: number): HourEnergy[] {
    return [...(this.energy.get(key) ?? [])]
      .filter(([hour]) => hour >= start && hour < end)
      .sort(([a], [b]) => a - b)
      .map(([hour, [mwh, samples]]) => ({ hour, meanWatts: mwh / 1000, samples }));
  }

  /** Drop hours no run will rewrite: before the 7 local days ahead of the previous hour's day. */
  prune(now: number, rules: LocalRules): void {
    const keepFrom = keptHoursFrom(now, rules);
    for (const [key, hours] of this.energy) {
      for (const hour of hours.keys()) if (hour < keepFrom) hours.delete(hour);
      if (hours.size === 0) this.energy.delete(key);
    }
  }

  /** Write the state atomically. */
  async save(file: string): Promise<void> {
    const last: StateFile['last'] = {};
    for (const [key, pair] of [...this.last].sort(([a], [b]) => a.localeCompare(b))) last[key] = pair;
    const hours: StateFile['hours'] = {};
    for (const [key, map] of [...this.energy].sort(([a], [b]) => a.localeCompare(b))) hours[key] = [...map].sort(([a], [b]) => a - b).map(([h, [mwh, n]]) => [h, mwh, n]);
    await writeFileAtomic(file, `${JSON.stringify({ version: 1, last, hours } satisfies StateFile)}\n`);
  }
}
