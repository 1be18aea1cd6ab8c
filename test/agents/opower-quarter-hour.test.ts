/**
 * Quarter-hour reads (`aggregateType=quarter_hour`, the `minute` bucket) for accounts whose
 * `readResolution` allows them, and request end dates clamped to the utility's today.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_ACCOUNT, type FakeAccount, type OpowerPortal, type SeenRequest, startOpowerPortal } from '../../testing/fakes/opower-portal.ts';
import { aggregatesFor, BROWSER_USER_AGENT, untilToday } from '../../src/agents/opower/index.ts';
import { NOW, PASSWORD, type Point, points, runOpower, USER, ZONE } from './opower-helpers.ts';

const QH: FakeAccount = { uuid: '3c7e9a10-55d2-4b8e-b0f1-6a2d9e4c8b31', meterType: 'ELEC', readResolution: 'QUARTER_HOUR' };
const GAS: FakeAccount = { uuid: '9a0d3e44-1b2c-4f00-8e11-22aa33bb44cc', meterType: 'GAS', readResolution: 'DAY' };

let dataDir: string;
let env: Record<string, string>;
let portal: OpowerPortal | undefined;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'homeflux-opower-qh-'));
  env = { HOMEFLUX_DATA_DIR: join(dataDir, 'data'), HOMEFLUX_SPOOL_DIR: join(dataDir, 'spool') };
});
afterEach(async () => {
  await portal?.stop();
  portal = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

const local = (t: number): DateTime => DateTime.fromSeconds(t, { zone: ZONE });
const quarterRequests = (p: OpowerPortal): SeenRequest[] => p.requests.filter((r) => r.query.aggregateType === 'quarter_hour');
// Local dates a request covers, both ends included (how the portal reads startDate/endDate).
const daysOf = (r: SeenRequest): number => DateTime.fromISO(r.query.endDate!, { zone: ZONE }).diff(DateTime.fromISO(r.query.startDate!, { zone: ZONE }), 'days').days + 1;
const onDate = (list: Point[], date: string): Point[] => list.filter((p) => local(p.time).toISODate() === date);

describe('opower quarter-hour reads', () => {
  it('writes 100 quarter hours on the fall-back day, four per hourly read, adding up to it', async () => {
    portal = await startOpowerPortal({ accounts: [QH] });
    const run = await runOpower(portal, ['--since', '2025-11-02', '--until', '2025-11-03'], env);
    expect(run.err.join('\n')).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const data = env.HOMEFLUX_DATA_DIR!;
    const quarters = await points(data, 'minute', 'power');
    const hours = await points(data, 'hour', 'power');
    const day = onDate(quarters, '2025-11-02');
    expect(day).toHaveLength(100);
    const times = day.map((p) => p.time).sort((a, b) => a - b);
    expect(new Set(times).size).toBe(100);
    // Contiguous 15-minute steps in UTC from local midnight (-07:00) to the next (-08:00).
    expect(times[0]).toBe(DateTime.fromISO('2025-11-02T00:00', { zone: ZONE }).toSeconds());
    expect(times.every((t, i) => i === 0 || t - times[i - 1]! === 900)).toBe(true);
    expect(day.filter((p) => local(p.time).hour === 1).map((p) => local(p.time).toFormat('HH:mm ZZ'))).toEqual(
      ['-07:00', '-08:00'].flatMap((z) => ['00', '15', '30', '45'].map((m) => `01:${m} ${z}`)),
    );
    expect(onDate(quarters, '2025-11-01')).toHaveLength(96);
    // Every hourly read of the week is exactly the sum of its four quarters (kWh → Wh both).
    expect(quarters).toHaveLength(hours.length * 4);
    const byHour = new Map<number, Point[]>();
    for (const q of quarters) byHour.set(q.time - (q.time % 3600), [...(byHour.get(q.time - (q.time % 3600)) ?? []), q]);
    for (const h of hours) {
      const four = byHour.get(h.time) ?? [];
      expect(four).toHaveLength(4);
      expect(four.reduce((s, q) => s + Number(q.fields.power_usage), 0)).toBeCloseTo(Number(h.fields.power_usage), 6);
      expect(four.every((q) => q.fields.estimated === h.fields.estimated)).toBe(true);
    }
    expect(hours.some((h) => h.fields.estimated === 'true')).toBe(true); // 2025-10-30 14:00 and 15:00
    expect(quarters.every((q) => q.tags.source === 'homeflux.opower.gwp' && q.tags.location === 'gwp_meter')).toBe(true);
    // The week 10-27 … 11-02 in requests of at most 6 days; cost and weather stay hourly/daily.
    expect(quarterRequests(portal).map((r) => [r.query.startDate, r.query.endDate])).toEqual([
      ['2025-10-27', '2025-11-01'],
      ['2025-11-02', '2025-11-02'],
    ]);
    expect(quarterRequests(portal).every((r) => r.path.endsWith('/reads') && r.status === 200)).toBe(true);
    expect(await points(data, 'minute', 'cost')).toEqual([]);
    expect(await points(data, 'minute', 'temperature')).toEqual([]);
  });

  it('writes 92 quarter hours on the spring-forward day and none from 02:00 to 03:00 local', async () => {
    portal = await startOpowerPortal({ accounts: [{ ...QH, readResolution: 'FIVE_MINUTE' }] });
    const run = await runOpower(portal, ['--since', '2026-03-08', '--until', '2026-03-09'], env);
    expect(run.code).toBe(0);
    const day = onDate(await points(env.HOMEFLUX_DATA_DIR!, 'minute', 'power'), '2026-03-08');
    expect(day).toHaveLength(92);
    expect(day.map((p) => local(p.time).hour)).not.toContain(2);
  });

  it('keeps at most 4 requests in flight, every quarter-hour request at most 6 days, all accepted', async () => {
    portal = await startOpowerPortal({ accounts: [QH], latencyMs: 20 });
    const run = await runOpower(portal, ['--since', '2025-01-01', '--until', '2025-03-01'], env);
    expect(run.code).toBe(0);
    expect(portal.maxInFlight).toBe(4);
    expect(portal.requests.filter((r) => r.status >= 300)).toEqual([]);
    const quarter = quarterRequests(portal);
    expect(quarter.every((r) => daysOf(r) >= 1 && daysOf(r) <= 6)).toBe(true);
    // Whole weeks 2024-12-30 … 2025-03-02: 63 days, no day asked twice, none left out.
    expect(quarter.reduce((s, r) => s + daysOf(r), 0)).toBe(63);
    expect(quarter).toHaveLength(Math.ceil(63 / 6));
    expect(await points(env.HOMEFLUX_DATA_DIR!, 'minute', 'power')).toHaveLength(4 * (await points(env.HOMEFLUX_DATA_DIR!, 'hour', 'power')).length);
  });

  it('asks only the accounts whose readResolution allows it; OPOWER_QUARTER_HOUR=false asks none', async () => {
    portal = await startOpowerPortal({ accounts: [FAKE_ACCOUNT, QH, GAS] });
    const run = await runOpower(portal, ['--since', '2025-11-03', '--until', '2025-11-05'], env);
    expect(run.code).toBe(0);
    expect(portal.requests.filter((r) => r.status >= 300)).toEqual([]);
    const quarter = quarterRequests(portal);
    expect(quarter.length).toBeGreaterThan(0);
    expect(quarter.every((r) => r.path.includes(`/utilityAccounts/${QH.uuid}/reads`))).toBe(true);
    const minute = await points(env.HOMEFLUX_DATA_DIR!, 'minute', 'power');
    expect(new Set(minute.map((p) => p.tags.account))).toEqual(new Set([QH.uuid.slice(0, 8)]));
    expect(await points(env.HOMEFLUX_DATA_DIR!, 'minute', 'gas')).toEqual([]);

    const off = await startOpowerPortal({ accounts: [QH] });
    try {
      const none = await runOpower(off, ['--since', '2025-11-03', '--until', '2025-11-05'], { ...env, HOMEFLUX_DATA_DIR: join(dataDir, 'off'), OPOWER_QUARTER_HOUR: 'false' });
      expect(none.code).toBe(0);
      expect(quarterRequests(off)).toEqual([]);
      expect(await points(join(dataDir, 'off'), 'minute', 'power')).toEqual([]);
      expect((await points(join(dataDir, 'off'), 'hour', 'power')).length).toBe(7 * 24 - 1); // the fake never delivers 2025-11-06 03:00
    } finally {
      await off.stop();
    }
  });

  it('OPOWER_QUARTER_HOUR=true without a quarter-hour account: exit 1 naming the variable, hours kept, nothing asked', async () => {
    portal = await startOpowerPortal();
    const run = await runOpower(portal, ['--since', '2025-11-03', '--until', '2025-11-10'], { ...env, OPOWER_QUARTER_HOUR: 'true' });
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/OPOWER_QUARTER_HOUR=true, but no account .* expected readResolution QUARTER_HOUR or FIVE_MINUTE, found ELEC HOUR/);
    expect(run.all.match(/OPOWER_QUARTER_HOUR=true, but/g)).toHaveLength(1); // once per run, not per chunk or request
    expect(quarterRequests(portal)).toEqual([]);
    expect(await points(env.HOMEFLUX_DATA_DIR!, 'hour', 'power')).toHaveLength(7 * 24 - 1); // the fake never delivers 2025-11-06 03:00
    const bad = await runOpower(portal, ['--since', '2025-11-03', '--until', '2025-11-10'], { ...env, OPOWER_QUARTER_HOUR: 'sometimes' });
    expect(bad.code).toBe(2);
    expect(bad.all).toContain('OPOWER_QUARTER_HOUR is invalid: expected auto, true or false');
  });

  it('the fake portal refuses quarter-hour requests over 6 days and for accounts without the resolution', async () => {
    portal = await startOpowerPortal({ accounts: [FAKE_ACCOUNT, QH] });
    const signin = await fetch(`${portal.url}/ei/edge/apis/user-account-control-v1/cws/v1/gwp/account/signin`, {
      method: 'POST',
      headers: { 'user-agent': BROWSER_USER_AGENT, 'content-type': 'application/json' },
      body: JSON.stringify({ username: USER, password: PASSWORD }),
    });
    const cookie = signin.headers.get('set-cookie')!.split(';')[0]!;
    const reads = async (uuid: string, startDate: string, endDate: string): Promise<{ status: number; body: { reads?: unknown[]; error?: { message: string } } }> => {
      const query = new URLSearchParams({ aggregateType: 'quarter_hour', startDate, endDate });
      const response = await fetch(`${portal!.url}/ei/edge/apis/DataBrowser-v1/cws/utilities/gwp/utilityAccounts/${uuid}/reads?${query}`, { headers: { 'user-agent': BROWSER_USER_AGENT, cookie } });
      return { status: response.status, body: (await response.json()) as { reads?: unknown[]; error?: { message: string } } };
    };
    const six = await reads(QH.uuid, '2025-10-28', '2025-11-02');
    expect(six.status).toBe(200);
    expect(six.body.reads).toHaveLength(5 * 96 + 100);
    const seven = await reads(QH.uuid, '2025-10-27', '2025-11-02');
    expect(seven.status).toBe(400);
    expect(seven.body.error!.message).toContain('1 to 6 days for aggregateType=quarter_hour, got 7');
    const hourly = await reads(FAKE_ACCOUNT.uuid, '2025-11-02', '2025-11-02');
    expect(hourly.status).toBe(400);
    expect(hourly.body.error!.message).toContain('readResolution HOUR');
  });
});

describe('opower requests stop at the utility’s today', () => {
  it('the default window (widened to whole weeks) asks for no date after today', async () => {
    portal = await startOpowerPortal({ accounts: [QH] });
    const run = await runOpower(portal, [], env); // now = 2026-04-01 05:00 in Los Angeles
    expect(run.code).toBe(0);
    const today = local(NOW).toISODate()!;
    expect(today).toBe('2026-04-01');
    // Bills take no dates: the portal answers every billing period it keeps.
    const data = portal.requests.filter((r) => r.path.includes('/DataBrowser-v1/') && r.query.aggregateType !== 'bill');
    expect(data.length).toBeGreaterThan(0);
    for (const r of data) {
      // Reads and daily weather take inclusive dates; cost and hourly weather the exclusive next local midnight.
      const exclusive = r.path.includes('/cost/') || r.path.endsWith('/weather/hourly');
      const end = exclusive ? DateTime.fromISO(r.query.endDate!, { setZone: true }).minus({ seconds: 1 }) : DateTime.fromISO(r.query.endDate!, { zone: ZONE });
      expect(end.setZone(ZONE).toISODate()! <= today, `${r.path} ${r.query.aggregateType ?? ''} endDate ${r.query.endDate}`).toBe(true);
    }
    expect(quarterRequests(portal).map((r) => [r.query.startDate, r.query.endDate])).toEqual([
      ['2026-03-23', '2026-03-28'],
      ['2026-03-29', '2026-04-01'],
    ]);
    expect(data.filter((r) => r.query.aggregateType === 'day' && r.path.endsWith('/reads')).map((r) => r.query.endDate)).toEqual(['2026-04-01']);
  });

  it('a window wholly after today asks the portal nothing', async () => {
    portal = await startOpowerPortal();
    const run = await runOpower(portal, ['--since', '2026-04-06', '--until', '2026-04-13'], env);
    expect(run.code).toBe(0);
    expect(portal.count('/DataBrowser-v1/')).toBe(0);
  });

  it('untilToday uses the utility’s local date, not the UTC one', () => {
    const at = (iso: string): number => DateTime.fromISO(iso, { setZone: true }).toSeconds();
    const window = { start: at('2026-03-23T00:00-07:00'), end: at('2026-04-06T00:00-07:00') };
    // 06:30 UTC on 04-01 is still 03-31 in Los Angeles: the end is local midnight of 04-01.
    expect(untilToday(window, at('2026-04-01T06:30Z'), ZONE)).toEqual({ start: window.start, end: at('2026-04-01T00:00-07:00') });
    expect(untilToday(window, at('2026-04-01T06:30Z'), 'America/New_York')).toEqual({ start: window.start, end: at('2026-04-02T00:00-04:00') });
    expect(untilToday(window, at('2026-04-10T12:00Z'), ZONE)).toEqual(window);
    expect(untilToday(window, at('2026-03-22T12:00Z'), ZONE)).toBeUndefined();
    // On the fall-back day "today" ends at the next local midnight, 25 hours after the last.
    const fall = { start: at('2025-11-01T00:00-07:00'), end: at('2025-11-10T00:00-08:00') };
    expect(untilToday(fall, at('2025-11-02T20:00Z'), ZONE)!.end).toBe(at('2025-11-03T00:00-08:00'));
  });

  it.each([
    ['QUARTER_HOUR', 'auto', ['hour', 'day', 'quarter_hour']],
    ['FIVE_MINUTE', true, ['hour', 'day', 'quarter_hour']],
    ['quarter_hour', 'auto', ['hour', 'day', 'quarter_hour']],
    ['QUARTER_HOUR', false, ['hour', 'day']],
    ['HALF_HOUR', 'auto', ['hour', 'day']],
    ['HOUR', true, ['hour', 'day']],
    [undefined, 'auto', ['hour', 'day']],
    ['DAY', 'auto', ['day']],
    ['BILLING', 'auto', []],
  ] as const)('readResolution %s with OPOWER_QUARTER_HOUR=%s requests %j', (resolution, mode, expected) => {
    expect(aggregatesFor(resolution, mode)).toEqual(expected);
  });
});
