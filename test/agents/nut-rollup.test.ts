/**
 * The nut agent's day and week `power` totals: across invocations with `now` pinned (an hour
 * change, a day change, the fall-back day, a week change, a restart in a fresh process)
 * against a real upsd with a dummy-ups driver, records in the file store; and the state's
 * own rules (the 23-hour spring day, a week start change, pruning) on the real state code.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { energyRecords } from '../../src/agents/nut/energy.ts';
import { nut as nutModule } from '../../src/agents/nut/index.ts';
import { runAgent } from '../../src/run/pipeline.ts';
import { NutState } from '../../src/agents/nut/state.ts';
import { readBucketFile } from '../../src/database/file-store.ts';
import type { DataRecord } from '../../src/records.ts';
import type { LocalRules } from '../../src/window.ts';
import { waitForReply } from '../../testing/helpers/nut-extra.ts';
import { type NutServer, startNut } from '../../testing/helpers/nut.ts';
import { tempHome } from '../../testing/helpers/run-agent.ts';

const TZ = 'America/Los_Angeles';
/** Unix seconds of an ISO instant with its offset (written by hand, not computed by the code under test). */
const at = (iso: string): number => Date.parse(iso) / 1000;

interface Point {
  time: number;
  fields: Record<string, number>;
}

/** The `power` points of location `srv` in one bucket, by time. */
async function powerPoints(dataDir: string, bucket: string): Promise<Point[]> {
  return (await readBucketFile(dataDir, bucket))
    .filter((line) => line.startsWith('power,') && line.includes(',location=srv,'))
    .map((line) => {
      const [, fields = '', time = ''] = /^\S+ (\S+) (\d+)$/.exec(line) ?? [];
      return { time: Number(time), fields: Object.fromEntries(fields.split(',').map((kv) => [kv.split('=')[0]!, Number(kv.split('=')[1])])) };
    })
    .sort((a, b) => a.time - b.time);
}

/** Sum of the hour points in [start, end), with how many there are, from the file store. */
function sumOf(hours: Point[], start: number, end: number): { wh: number; count: number } {
  const inside = hours.filter((h) => h.time >= start && h.time < end);
  return { wh: Math.round(inside.reduce((sum, h) => sum + h.fields.power_usage! * 1000, 0)) / 1000, count: inside.length };
}

/** Samples behind the hour points in [start, end). */
function sumOfSamples(hours: Point[], start: number, end: number): number {
  return hours.filter((h) => h.time >= start && h.time < end).reduce((sum, h) => sum + h.fields.samples!, 0);
}

// Local midnights in Los Angeles, by hand. 2025-11-02 is the fall-back day: 25 hours.
const SAT = at('2025-11-01T00:00:00-07:00');
const SUN = at('2025-11-02T00:00:00-07:00');
const MON = at('2025-11-03T00:00:00-08:00');
const TUE = at('2025-11-04T00:00:00-08:00');
const WEEK1 = at('2025-10-27T00:00:00-07:00'); // Monday (HOMEFLUX_WEEK_START default)
const WEEK2 = MON;
const DAYS: Array<[number, number]> = [
  [SAT, SUN],
  [SUN, MON],
  [MON, TUE],
];
const WEEKS: Array<[number, number, Array<[number, number]>]> = [
  [WEEK1, WEEK2, [[SAT, SUN], [SUN, MON]]],
  [WEEK2, at('2025-11-10T00:00:00-08:00'), [[MON, TUE]]],
];

let nut: NutServer;

beforeAll(async () => {
  nut = await startNut({ varying: 'test/fixtures/nut/CyberPowerSystems_CP900EPFCLCD.dev' });
});

afterAll(async () => {
  await nut?.stop();
});

/** dummy-ups picks up only some rewrites of its dump, so the driver is restarted on the new one. */
async function setLoad(load: number): Promise<void> {
  const dev = nut.devPath('varying');
  await nut.stopDriver('varying');
  await writeFile(dev, (await readFile(dev, 'utf8')).replace(/^ups\.load: .*$/m, `ups.load: ${load}`));
  await nut.startDriver('varying');
  await waitForReply(nut, 'GET VAR varying ups.load', `"${load}"`);
}

/** One sample, in this process (each call builds a new agent that reads the state file). */
async function sampleAt(env: Record<string, string>, now: number): Promise<void> {
  const lines: string[] = [];
  const code = await runAgent(nutModule, { argv: [], env, now, streams: { out: (l) => lines.push(l), err: (l) => lines.push(l) } });
  expect(code, lines.join('\n')).toBe(0);
}

/** One sample in a fresh Node process, as cron would run it (`now` pinned through runAgent). */
async function sampleInNewProcess(env: Record<string, string>, now: number): Promise<void> {
  const code = `import { nut } from './src/agents/nut/index.ts';\nimport { runAgent } from './src/run/pipeline.ts';\nprocess.exitCode = await runAgent(nut, { argv: [], env: process.env, now: ${now} });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { env: { ...process.env, ...env, INFLUX_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(exit, output).toBe(0);
}

describe('nut: day and week energy across invocations (America/Los_Angeles)', () => {
  it('day = sum of its hours, week = sum of its days, through the fall-back day, a week change and a restart', async () => {
    const home = await tempHome('nut-rollup');
    const env = { ...home.env, HOMEFLUX_TIMEZONE: TZ, NUT_HOSTS: `srv=varying@127.0.0.1:${nut.port}` };
    const dir = home.env.HOMEFLUX_DATA_DIR;

    /** Check the invariants against the file store and return {day start → Wh}, {week start → Wh}. */
    const check = async (): Promise<{ day: Record<number, number>; dayHours: Record<number, number>; week: Record<number, number> }> => {
      const [hours, days, weeks] = await Promise.all(['home-hour', 'home-day', 'home-week'].map((b) => powerPoints(dir, b)));
      for (const day of days!) {
        const [start, end] = DAYS.find(([s]) => s === day.time) ?? [NaN, NaN];
        expect(start, `a day record at ${day.time} not at a local midnight`).toBe(day.time);
        const { wh, count } = sumOf(hours!, start, end);
        expect(day.fields).toEqual({ power_usage: wh, hours: count, samples: sumOfSamples(hours!, start, end) });
      }
      for (const week of weeks!) {
        const [, , weekDays] = WEEKS.find(([s]) => s === week.time) ?? [NaN, NaN, []];
        expect(weekDays.length, `a week record at ${week.time} not at a local Monday midnight`).toBeGreaterThan(0);
        const dayTotal = days!.filter((d) => weekDays.some(([s]) => s === d.time)).reduce((sum, d) => sum + d.fields.power_usage! * 1000, 0) / 1000;
        expect(week.fields.power_usage).toBe(dayTotal);
        expect(week.fields.hours).toBe(sumOf(hours!, week.time, WEEKS.find(([s]) => s === week.time)![1]).count);
      }
      return {
        day: Object.fromEntries(days!.map((d) => [d.time, d.fields.power_usage!])),
        dayHours: Object.fromEntries(days!.map((d) => [d.time, d.fields.hours!])),
        week: Object.fromEntries(weeks!.map((w) => [w.time, w.fields.power_usage!])),
      };
    };

    // Watts: ups.load % × ups.realpower.nominal 540 W.
    await setLoad(10); // 54 W
    await sampleAt(env, at('2025-11-01T23:10:00-07:00'));
    expect(await check()).toEqual({ day: { [SAT]: 54 }, dayHours: { [SAT]: 1 }, week: { [WEEK1]: 54 } });

    await setLoad(20); // 108 W, same hour sampled again: recomputed (81), not added (54 + 81)
    await sampleAt(env, at('2025-11-01T23:40:00-07:00'));
    expect(await check()).toEqual({ day: { [SAT]: 81 }, dayHours: { [SAT]: 1 }, week: { [WEEK1]: 81 } });
    await sampleAt(env, at('2025-11-01T23:40:00-07:00')); // the very same sample again: nothing changes
    expect((await powerPoints(dir, 'home-hour')).map((h) => h.fields)).toEqual([{ power_usage: 81, samples: 2 }]);

    // Day change: Sunday 00:05, the first 01:00 (PDT) and the second 01:00 (PST).
    await sampleAt(env, at('2025-11-02T00:05:00-07:00'));
    await sampleAt(env, at('2025-11-02T01:10:00-07:00'));
    await setLoad(30); // 162 W
    await sampleAt(env, at('2025-11-02T01:10:00-08:00'));
    expect(await check()).toEqual({ day: { [SAT]: 81, [SUN]: 378 }, dayHours: { [SAT]: 1, [SUN]: 3 }, week: { [WEEK1]: 459 } });
    expect((await powerPoints(dir, 'home-hour')).map((h) => h.time)).toEqual([
      at('2025-11-01T23:00:00-07:00'),
      at('2025-11-02T00:00:00-07:00'),
      at('2025-11-02T01:00:00-07:00'),
      at('2025-11-02T01:00:00-08:00'), // two distinct 01:00 hours
    ]);

    // A restart: a fresh process reads the state file and carries on.
    await sampleInNewProcess(env, at('2025-11-02T02:20:00-08:00'));
    expect(await check()).toEqual({ day: { [SAT]: 81, [SUN]: 540 }, dayHours: { [SAT]: 1, [SUN]: 4 }, week: { [WEEK1]: 621 } });

    // Missed samples from 03:00 to 22:59 (the sampler was down): those hours count nothing.
    await setLoad(10); // 54 W
    await sampleAt(env, at('2025-11-02T23:30:00-08:00'));
    // Week change (Monday): a new week, and the previous day and week rewritten with their last hour.
    await sampleAt(env, at('2025-11-03T00:10:00-08:00'));
    expect(await check()).toEqual({
      day: { [SAT]: 81, [SUN]: 594, [MON]: 54 },
      dayHours: { [SAT]: 1, [SUN]: 5, [MON]: 1 },
      week: { [WEEK1]: 675, [WEEK2]: 54 },
    });
    expect(MON - SUN).toBe(25 * 3600);

    // The state keeps the week's hours and the samples of the current and previous hour only.
    const state = JSON.parse(await readFile(join(dir, 'nut-state.json'), 'utf8')) as { version: number; series: Record<string, number[][]>; hours: Record<string, number[][]> };
    expect(state.version).toBe(2);
    expect(state.series['srv/varying']?.map(([t]) => t)).toEqual([at('2025-11-02T23:30:00-08:00'), at('2025-11-03T00:10:00-08:00')]);
    expect(state.hours['srv/varying']).toHaveLength(7);
  });

  it('a version 1 state file (samples only) is read and continued', async () => {
    const home = await tempHome('nut-rollup-v1');
    const env = { ...home.env, HOMEFLUX_TIMEZONE: TZ, NUT_HOSTS: `srv=varying@127.0.0.1:${nut.port}` };
    const hour = at('2025-11-03T10:00:00-08:00');
    await mkdir(home.env.HOMEFLUX_DATA_DIR, { recursive: true });
    await writeFile(join(home.env.HOMEFLUX_DATA_DIR, 'nut-state.json'), JSON.stringify({ version: 1, series: { 'srv/varying': [[hour + 60, 100]] } }));
    await setLoad(20); // 108 W
    await sampleAt(env, hour + 120);
    expect((await powerPoints(home.env.HOMEFLUX_DATA_DIR, 'home-hour')).map((p) => p.fields)).toEqual([{ power_usage: 104, samples: 2 }]);
    expect((await powerPoints(home.env.HOMEFLUX_DATA_DIR, 'home-day'))).toEqual([{ time: MON, fields: { power_usage: 104, hours: 1, samples: 2 } }]);
  });
});

describe('nut: day and week totals from the state (no upsd)', () => {
  const series = { source: 'homeflux.nut', location: 'srv', tags: { ups: 'u' } };
  const key = 'srv/u';
  const byScale = (records: DataRecord[], timescale: string): DataRecord[] => records.filter((r) => r.timescale === timescale);

  /** Sample every `step` seconds in [from, to), pruning and building records as a run would. */
  const sampleEvery = (state: NutState, range: { from: number; to: number; step: number; watts: number }, rules: LocalRules = { timezone: TZ, weekStart: 'monday' }): DataRecord[] => {
    let records: DataRecord[] = [];
    for (let t = range.from; t < range.to; t += range.step) {
      state.prune(t, rules);
      state.add(key, t, range.watts);
      records = energyRecords(state, key, { series, rules });
    }
    return records;
  };

  it('the spring-forward day has 23 hours and the fall-back day 25', () => {
    const spring = NutState.empty();
    // 2025-03-09 in Los Angeles: 00:00 PST → 00:00 PDT next day, 23 hours of 60 W.
    const records = sampleEvery(spring, { from: at('2025-03-09T00:00:00-08:00'), to: at('2025-03-10T00:00:00-07:00'), step: 600, watts: 60 });
    expect(byScale(records, 'day').map((r) => [r.time, r.fields])).toEqual([[at('2025-03-09T00:00:00-08:00'), { power_usage: 1380, hours: 23, samples: 138 }]]);
    const fall = NutState.empty();
    const fallRecords = sampleEvery(fall, { from: SUN, to: MON, step: 600, watts: 60 });
    expect(byScale(fallRecords, 'day').map((r) => [r.time, r.fields])).toEqual([[SUN, { power_usage: 1500, hours: 25, samples: 150 }]]);
  });

  it('keeps at most 8 local days of hours, and a week start change sums the new week from the kept hours', () => {
    const state = NutState.empty();
    // Ten days of one sample an hour (10 W), Monday weeks, through the fall-back day.
    const from = at('2025-10-28T00:30:00-07:00');
    sampleEvery(state, { from, to: at('2025-11-07T00:00:00-08:00'), step: 3600, watts: 10 });
    // Thursday 2025-11-06 23:30: kept hours start 6 days before the previous hour's day (Fri Oct 31).
    expect(state.hoursIn(key, 0, Infinity)[0]?.hour).toBe(at('2025-10-31T00:00:00-07:00'));
    expect(state.hoursIn(key, 0, Infinity).length).toBeLessThanOrEqual(8 * 24 + 1);
    // HOMEFLUX_WEEK_START=sunday from now on: the week from Sunday Nov 2 is complete (25 + 4×24 + 1 hours).
    const records = sampleEvery(state, { from: at('2025-11-07T00:30:00-08:00'), to: at('2025-11-07T00:31:00-08:00'), step: 60, watts: 10 }, { timezone: TZ, weekStart: 'sunday' });
    expect(byScale(records, 'week').map((r) => [r.time, r.fields.hours, r.fields.power_usage])).toEqual([[SUN, 25 + 4 * 24 + 1, 10 * (25 + 4 * 24 + 1)]]);
  });

  it('an hour without samples contributes nothing; the week equals the sum of its days exactly', () => {
    const state = NutState.empty();
    const rules = { timezone: TZ, weekStart: 'monday' as const };
    let records: DataRecord[] = [];
    // Odd watts in a few scattered hours; float sums would drift, whole mWh don't.
    for (const [iso, watts] of [['2025-11-04T01:05:00-08:00', 0.1], ['2025-11-04T07:05:00-08:00', 0.2], ['2025-11-05T03:05:00-08:00', 70.2], ['2025-11-05T03:35:00-08:00', 0.3]] as const) {
      state.prune(at(iso), rules);
      state.add(key, at(iso), watts);
      records = [...records, ...energyRecords(state, key, { series, rules })];
    }
    const last = <T>(list: T[]): T => list[list.length - 1]!;
    const tuesday = last(byScale(records, 'day').filter((r) => r.time === TUE));
    const wednesday = last(byScale(records, 'day').filter((r) => r.time === at('2025-11-05T00:00:00-08:00')));
    expect(tuesday.fields).toEqual({ power_usage: 0.3, hours: 2, samples: 2 });
    expect(wednesday.fields).toEqual({ power_usage: 35.25, hours: 1, samples: 2 });
    expect(last(byScale(records, 'week')).fields).toEqual({ power_usage: 35.55, hours: 3, samples: 4 });
  });
});
