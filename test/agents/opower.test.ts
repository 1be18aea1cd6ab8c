/**
 * The opower agent end to end against the fake portal: DST days, rollups, idempotent re-runs,
 * estimated→actual corrections, several accounts, and a run into a real InfluxDB 1.x.
 * Failure modes (bad password, maintenance, expiry, 429) are in opower-errors.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { FAKE_ACCOUNT, startOpowerPortal, type OpowerPortal } from '../../testing/fakes/opower-portal.ts';
import { influxV1Client } from '../../testing/helpers/servers.ts';
import { dateSpans, settleRecords } from '../../src/agents/opower/index.ts';
import { powerRecord } from '../../src/records.ts';
import { parseInstant } from '../../src/agents/opower/parse.ts';
import { type Point, points, runOpower, snapshot, ZONE } from './opower-helpers.ts';

let portal: OpowerPortal;
let dataDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  portal = await startOpowerPortal();
});
afterAll(async () => {
  await portal.stop();
});
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'homeflux-opower-'));
  env = { HOMEFLUX_DATA_DIR: join(dataDir, 'data'), HOMEFLUX_SPOOL_DIR: join(dataDir, 'spool') };
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const local = (t: number): DateTime => DateTime.fromSeconds(t, { zone: ZONE });
const byDate = (list: Point[]): Map<string, Point[]> => {
  const out = new Map<string, Point[]>();
  for (const p of list) {
    const date = local(p.time).toISODate()!;
    out.set(date, [...(out.get(date) ?? []), p]);
  }
  return out;
};
const sum = (list: Point[], field: string): number => list.reduce((s, p) => s + Number(p.fields[field]), 0);
// Every UTC hour start between two local midnights: 25 on the fall-back day, 23 in spring.
const localHours = (from: string, to: string): number[] => {
  const out: number[] = [];
  const end = DateTime.fromISO(to, { zone: ZONE }).toSeconds();
  for (let t = DateTime.fromISO(from, { zone: ZONE }).toSeconds(); t < end; t += 3600) out.push(t);
  return out;
};

describe('opower against the fake GWP portal', () => {
  it('writes one hourly power point per local hour across the fall-back day, with day and week totals equal to the hours', async () => {
    const run = await runOpower(portal, ['--since', '2025-10-28', '--until', '2025-11-04'], env);
    expect(run.err.join('\n')).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const data = env.HOMEFLUX_DATA_DIR!;
    const hours = await points(data, 'hour', 'power');
    const times = hours.map((p) => p.time);
    expect(new Set(times).size).toBe(times.length);
    // The pipeline widens the window to whole weeks (Monday 10-27 to Monday 11-10).
    const expected = localHours('2025-10-27', '2025-11-10');
    const missing = localHours('2025-11-06T03:00', '2025-11-06T04:00');
    expect([...times].sort((a, b) => a - b)).toEqual(expected.filter((t) => !missing.includes(t)));
    const perDay = byDate(hours);
    expect(perDay.get('2025-11-02')).toHaveLength(25);
    expect(perDay.get('2025-11-01')).toHaveLength(24);
    expect(perDay.get('2025-11-06')).toHaveLength(23); // one hour the portal never delivered
    // The two 01:00 hours of 2025-11-02 are different instants with different offsets.
    const ones = perDay.get('2025-11-02')!.filter((p) => local(p.time).hour === 1).map((p) => local(p.time).toISO());
    expect(ones).toEqual(['2025-11-02T01:00:00.000-07:00', '2025-11-02T01:00:00.000-08:00']);
    for (const p of hours) {
      const kwh = portal.hourValue(FAKE_ACCOUNT.uuid, p.time);
      const factor = p.fields.estimated === 'true' ? 0.8 : 1;
      expect(Number(p.fields.power_usage)).toBeCloseTo(Math.round(kwh * factor * 1000) / 1000 * 1000, 6);
      expect(p.tags).toMatchObject({ location: 'gwp_meter', source: 'homeflux.opower.gwp', data_source: 'homeflux' });
      expect(p.tags.account).toBeUndefined();
    }
    const days = await points(data, 'day', 'power');
    expect(days.map((d) => local(d.time).toISODate())).toEqual([...perDay.keys()]);
    for (const day of days) expect(Number(day.fields.power_usage)).toBeCloseTo(sum(perDay.get(local(day.time).toISODate()!)!, 'power_usage'), 6);
    const weeks = await points(data, 'week', 'power');
    expect(weeks.map((w) => local(w.time).toISODate())).toEqual(['2025-10-27', '2025-11-03']);
    for (const week of weeks) {
      const inWeek = hours.filter((h) => h.time >= week.time && h.time < local(week.time).plus({ weeks: 1 }).toSeconds());
      expect(Number(week.fields.power_usage)).toBeCloseTo(sum(inWeek, 'power_usage'), 6);
    }
    // Cost and weather come along, hourly and daily.
    expect((await points(data, 'hour', 'cost')).length).toBe(hours.length);
    expect((await points(data, 'day', 'cost')).length).toBe(days.length);
    expect((await points(data, 'hour', 'temperature')).length).toBe(localHours('2025-10-27', '2025-11-10').length);
    expect((await points(data, 'day', 'temperature')).length).toBe(14);
    expect((await points(data, 'week', 'temperature')).length).toBe(2);

    // Run twice: identical files.
    const before = await snapshot(data);
    const again = await runOpower(portal, ['--since', '2025-10-28', '--until', '2025-11-04'], env);
    expect(again.code).toBe(0);
    expect(await snapshot(data)).toEqual(before);
  });

  it('writes 23 hourly points on the spring-forward day and none at 02:00 local', async () => {
    // 2026-03-08 is a Sunday: the window widens to the weeks of Monday 03-02 and 03-09.
    const run = await runOpower(portal, ['--since', '2026-03-08', '--until', '2026-03-10'], env);
    expect(run.code).toBe(0);
    const perDay = byDate(await points(env.HOMEFLUX_DATA_DIR!, 'hour', 'power'));
    expect(perDay.get('2026-03-08')).toHaveLength(23);
    expect(perDay.get('2026-03-09')).toHaveLength(24);
    expect(perDay.get('2026-03-08')!.map((p) => local(p.time).hour)).not.toContain(2);
    const day = (await points(env.HOMEFLUX_DATA_DIR!, 'day', 'power')).find((d) => local(d.time).toISODate() === '2026-03-08')!;
    expect(Number(day.fields.power_usage)).toBeCloseTo(sum(perDay.get('2026-03-08')!, 'power_usage'), 6);
  });

  it('replaces an estimated read by its correction: one point, estimated=false', async () => {
    const at = DateTime.fromISO('2025-10-30T14:00', { zone: ZONE }).toSeconds();
    const pick = async (): Promise<Point[]> => (await points(env.HOMEFLUX_DATA_DIR!, 'hour', 'power')).filter((p) => p.time === at);
    const isolated = await startOpowerPortal();
    try {
      expect((await runOpower(isolated, ['--since', '2025-10-30', '--until', '2025-10-31'], env)).code).toBe(0);
      const first = await pick();
      expect(first).toHaveLength(1);
      expect(first[0]!.fields.estimated).toBe('true');
      isolated.correctEstimates();
      expect((await runOpower(isolated, ['--since', '2025-10-30', '--until', '2025-10-31'], env)).code).toBe(0);
      const second = await pick();
      expect(second).toHaveLength(1);
      expect(second[0]!.fields.estimated).toBe('false');
      expect(Number(second[0]!.fields.power_usage)).toBeCloseTo(isolated.hourValue(FAKE_ACCOUNT.uuid, at) * 1000, 6);
      expect(Number(second[0]!.fields.power_usage)).not.toBeCloseTo(Number(first[0]!.fields.power_usage), 3);
      // The utility's daily total follows the correction too.
      const hours = byDate(await points(env.HOMEFLUX_DATA_DIR!, 'hour', 'power')).get('2025-10-30')!;
      const day = (await points(env.HOMEFLUX_DATA_DIR!, 'day', 'power')).filter((d) => local(d.time).toISODate() === '2025-10-30');
      expect(day).toHaveLength(1);
      expect(Number(day[0]!.fields.power_usage)).toBeCloseTo(sum(hours, 'power_usage'), 6);
    } finally {
      await isolated.stop();
    }
  });

  it('tags each of several accounts so no two meters share a series, and keeps gas in its unit', async () => {
    const gas = { uuid: '9a0d3e44-1b2c-4f00-8e11-22aa33bb44cc', meterType: 'GAS' as const, readResolution: 'DAY' as const };
    const multi = await startOpowerPortal({ accounts: [FAKE_ACCOUNT, gas] });
    try {
      const run = await runOpower(multi, ['--since', '2025-11-03', '--until', '2025-11-05'], { ...env, OPOWER_UTILITY: 'gwp' });
      expect(run.code).toBe(0);
      const data = env.HOMEFLUX_DATA_DIR!;
      const power = await points(data, 'hour', 'power');
      expect(new Set(power.map((p) => p.tags.account))).toEqual(new Set([FAKE_ACCOUNT.uuid.slice(0, 8)]));
      expect(await points(data, 'hour', 'gas')).toEqual([]); // a DAY-resolution meter has no hourly reads
      const gasDays = await points(data, 'day', 'gas');
      expect(gasDays).toHaveLength(7);
      expect(gasDays.every((p) => p.tags.unit === 'CCF' && p.tags.account === gas.uuid.slice(0, 8))).toBe(true); // the fake's gas meter reads in CCF
      const costDays = await points(data, 'day', 'cost');
      const seriesAt = new Map<number, Set<string>>();
      for (const p of costDays) seriesAt.set(p.time, new Set([...(seriesAt.get(p.time) ?? []), p.tags.account!]));
      expect([...seriesAt.values()].every((s) => s.size === 2)).toBe(true);
      expect(costDays.every((p) => p.tags.currency === 'USD')).toBe(true);
      // OPOWER_ACCOUNT_UUID picks one account: untagged, like the original daemon's series.
      const one = await runOpower(multi, ['--since', '2025-11-03', '--until', '2025-11-05'], { ...env, HOMEFLUX_DATA_DIR: join(dataDir, 'one'), GWP_UUID: gas.uuid });
      expect(one.code).toBe(0);
      const only = await points(join(dataDir, 'one'), 'day', 'gas');
      expect(only.length).toBe(7);
      expect(only.every((p) => p.tags.account === undefined)).toBe(true);
      expect(await points(join(dataDir, 'one'), 'day', 'power')).toEqual([]);
    } finally {
      await multi.stop();
    }
  });

  it('keeps at most 4 requests in flight, each within the portal limits, with a browser User-Agent', async () => {
    const slow = await startOpowerPortal({ latencyMs: 30 });
    try {
      const run = await runOpower(slow, ['--since', '2025-01-01', '--until', '2025-07-01'], env);
      expect(run.code).toBe(0);
      expect(slow.maxInFlight).toBe(4);
      expect(slow.requests.filter((r) => r.status >= 300)).toEqual([]);
      expect(slow.requests.every((r) => /Mozilla\/5\.0/.test(r.userAgent))).toBe(true);
      const hourly = slow.requests.filter((r) => r.query.aggregateType === 'hour' && r.path.endsWith('/reads'));
      expect(hourly.length).toBeGreaterThanOrEqual(7); // 26-day requests over ~26 weeks
    } finally {
      await slow.stop();
    }
  });

  it('asks for the last 5 days by default, widened to whole weeks, up to today', async () => {
    const fresh = await startOpowerPortal();
    try {
      // now = Wednesday 2026-04-01: the last 5 days start on Friday 03-27; whole weeks reach
      // from Monday 03-23 to the end of Sunday 04-05, but requests stop at today (04-01):
      // future days have no reads yet (opower-quarter-hour.test.ts checks every request).
      const run = await runOpower(fresh, [], env);
      expect(run.code).toBe(0);
      const reads = fresh.requests.filter((r) => r.path.endsWith('/reads') && r.query.aggregateType === 'day');
      expect(reads.map((r) => [r.query.startDate, r.query.endDate])).toEqual([['2026-03-23', '2026-04-01']]);
    } finally {
      await fresh.stop();
    }
  });

  it('writes to a real InfluxDB 1.x', async () => {
    const url = inject('influxV1Url');
    const prefix = `opower${Date.now()}`;
    const run = await runOpower(portal, ['--since', '2025-11-02', '--until', '2025-11-03'], { ...env, INFLUX_URL: url, INFLUX_API: 'v1', INFLUX_BUCKET_PREFIX: prefix });
    expect(run.code).toBe(0);
    const client = influxV1Client(url);
    // The window widens to the week of Monday 2025-10-27: 7 × 24 + 1 hours.
    expect(await client.countPoints(`${prefix}-hour`, 'power')).toBe(7 * 24 + 1);
    expect(await client.countPoints(`${prefix}-day`, 'power')).toBe(7);
    expect(await client.countPoints(`${prefix}-week`, 'power')).toBe(1);
    const result = await client.query(`${prefix}-hour`, `SELECT count(power_usage) FROM power WHERE time >= '2025-11-02T07:00:00Z' AND time < '2025-11-03T08:00:00Z'`);
    expect(result[0]!.series![0]!.values[0]![1]).toBe(25);
  });
});

describe('opower building blocks', () => {
  it.each([
    ['2025-11-02T01:00:00-07:00', '2025-11-02T08:00:00Z'],
    ['2025-11-02T01:00:00-08:00', '2025-11-02T09:00:00Z'],
    ['2026-03-08T03:00:00-07:00', '2026-03-08T10:00:00Z'],
    ['2025-11-02T01:00:00.000+05:30', '2025-11-01T19:30:00Z'],
    ['2025-11-02T01:00:00Z', '2025-11-02T01:00:00Z'],
    ['2025-11-02', '2025-11-02T07:00:00Z'], // a bare date: local midnight in the utility zone
  ])('parseInstant(%s) is %s', (text, utc) => {
    expect(parseInstant(text, ZONE)).toBe(Date.parse(utc) / 1000);
  });

  it('parseInstant refuses what is not a time', () => {
    expect(parseInstant('2025-13-02T01:00:00-07:00', ZONE)).toBeUndefined();
    expect(parseInstant('yesterday', ZONE)).toBeUndefined();
  });

  it('splits a window into spans of whole local dates, both ends included', () => {
    const start = DateTime.fromISO('2025-10-01', { zone: ZONE }).toSeconds();
    const end = DateTime.fromISO('2025-12-01', { zone: ZONE }).toSeconds();
    const spans = dateSpans({ start, end }, ZONE, 26).map((s) => [s.first.toISODate(), s.last.toISODate()]);
    expect(spans).toEqual([
      ['2025-10-01', '2025-10-26'],
      ['2025-10-27', '2025-11-21'],
      ['2025-11-22', '2025-11-30'],
    ]);
  });

  it('settleRecords: each point once across overlapping answers; a held zero kept only when a later read of its stream exists', () => {
    const at = (h: number, wh: number, timescale: 'hour' | 'day' = 'hour') => powerRecord({ time: 1_760_000_400 + h * 3600, timescale, source: 'homeflux.opower.gwp', location: 'gwp_meter' }, { value: wh, unit: 'Wh' });
    const first = { records: [at(0, 5), at(1, 6)], held: [at(2, 0)], problems: [], stream: 'usage|a|hour', asked: 'hour' as const, exact: true };
    const second = { records: [at(3, 7)], held: [at(4, 0)], problems: [], stream: 'usage|a|hour', asked: 'hour' as const, exact: true };
    // An isolation tail asking hours 1..3 again, and day reads answered to an hourly request.
    const overlap = { records: [at(1, 6), at(3, 7)], problems: [], stream: 'usage|a|hour', asked: 'hour' as const };
    const daily = { records: [at(0, 18, 'day')], problems: [], stream: 'cost|a|hour', asked: 'hour' as const, exact: true };
    const dayAgain = { records: [at(0, 18, 'day')], problems: [], stream: 'cost|a|day', asked: 'day' as const, exact: true };
    const out = settleRecords([first, second, overlap, daily, dayAgain]);
    const hours = out.filter((r) => r.timescale === 'hour').map((r) => [r.time, r.fields.power_usage]).sort((a, b) => Number(a[0]) - Number(b[0]));
    // Hour 2's zero is followed by hour 3 in the same stream: a real zero. Hour 4's zero is last: not metered yet.
    expect(hours).toEqual([[1_760_000_400, 5], [1_760_004_000, 6], [1_760_007_600, 0], [1_760_011_200, 7]]);
    expect(out.filter((r) => r.timescale === 'day')).toHaveLength(1);
  });
});
