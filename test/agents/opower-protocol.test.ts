/**
 * The opower agent against the fake portal as real portals speak (PROTOCOL.md): daily weather
 * at local midnight, data that starts later than asked, a 500 on one day, cost that fails,
 * trailing zero reads, reads of another length than asked, gas and water units, two customers
 * on one login, redirects to HTML, bills, cost components, the bill forecast.
 *
 * Expected values come from the fake's own data (`portal.hourValue`, its raw payloads fetched
 * directly, the billing cycle) and from luxon's calendar, never from the agent's output.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BILL_CYCLE, TOU } from '../../testing/fakes/opower-data.ts';
import { FAKE_ACCOUNT, type FakeAccount, type OpowerPortal, type OpowerPortalOptions, startOpowerPortal } from '../../testing/fakes/opower-portal.ts';
import { NOW, points, portalGet, runOpower, ZONE } from './opower-helpers.ts';

let dataDir: string;
let env: Record<string, string>;
let portal: OpowerPortal | undefined;
const data = (): string => env.HOMEFLUX_DATA_DIR!;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'homeflux-opower-proto-'));
  env = { HOMEFLUX_DATA_DIR: join(dataDir, 'data'), HOMEFLUX_SPOOL_DIR: join(dataDir, 'spool') };
});
afterEach(async () => {
  await portal?.stop();
  portal = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

const start = async (options: OpowerPortalOptions): Promise<OpowerPortal> => (portal = await startOpowerPortal(options));
const midnight = (date: string, zone = ZONE): number => DateTime.fromISO(date, { zone }).toSeconds();
/** Instants of every local hour from `from` (local date-time) up to `to`, 3600 s apart. */
const hoursBetween = (from: number, to: number): number[] => Array.from({ length: Math.max(0, (to - from) / 3600) }, (_, i) => from + i * 3600);
const localDates = (first: string, last: string): string[] => {
  const out: string[] = [];
  for (let d = DateTime.fromISO(first, { zone: ZONE }); d.toISODate()! <= last; d = d.plus({ days: 1 })) out.push(d.toISODate()!);
  return out;
};
const MISSING = [DateTime.fromISO('2025-11-06T03:00', { zone: ZONE }).toSeconds(), DateTime.fromISO('2026-03-10T04:00', { zone: ZONE }).toSeconds()]; // the fake's default gaps
const num = (v: string | undefined): number => Number(v);
const WEEK = ['--since', '2025-11-03', '--until', '2025-11-10'];

describe('opower: daily weather and time', () => {
  it('places daily temperatures at the utility’s local midnight on both sides of both DST changes, with the portal’s values', async () => {
    const p = await start({});
    for (const [since, until] of [['2025-10-31', '2025-11-04'], ['2026-03-06', '2026-03-10']] as const) {
      const run = await runOpower(p, ['--since', since, '--until', until], env);
      expect(run.code, run.all).toBe(0);
    }
    const days = await points(data(), 'day', 'temperature');
    const raw = (await portalGet(p, '/ei/edge/apis/DataBrowser-v1/cws/weather/daily?startDate=2025-10-27&endDate=2026-03-15&useCelsius=false')) as { reads: { date: string; meanTemperature: number }[] };
    for (const date of ['2025-11-01', '2025-11-02', '2025-11-03', '2026-03-07', '2026-03-08', '2026-03-09']) {
      const at = days.filter((d) => d.time === midnight(date));
      expect(at, date).toHaveLength(1);
      expect(num(at[0]!.fields.temperature)).toBe(raw.reads.find((r) => r.date.startsWith(date))!.meanTemperature);
    }
    // Not one daily temperature at a UTC midnight (where reading `.000Z` literally would put it).
    expect(days.filter((d) => d.time % 86400 === 0)).toEqual([]);
    // Hourly weather is asked with local date-times, as the original did.
    const hourly = p.requests.filter((r) => r.path.endsWith('/weather/hourly'));
    expect(hourly.length).toBeGreaterThan(0);
    for (const r of hourly) expect(r.query.startDate, JSON.stringify(r.query)).toMatch(/^\d{4}-\d{2}-\d{2}T00:00:00-0[78]:00$/);
  });
});

describe('opower: spans that answer HTTP 500', () => {
  it('a backfill from five years ago where data starts three years ago stores every hour and day there is, exits 0 and says where data starts', async () => {
    const p = await start({ accounts: [{ ...FAKE_ACCOUNT, dataStart: '2023-04-10' }], meteredUntil: NOW, now: NOW });
    const run = await runOpower(p, ['--since', '2021-04-01'], env);
    expect(run.code, run.all).toBe(0);
    expect(run.all).toMatch(/data starts: hourly usage of account 5f2b1c9e \(ELEC\) start at 2023-04-10/);
    expect(run.all).toMatch(/daily usage of account 5f2b1c9e \(ELEC\) start at 2023-04-10/);
    const expectedHours = hoursBetween(midnight('2023-04-10'), NOW).filter((t) => !MISSING.includes(t));
    const hours = await points(data(), 'hour', 'power');
    expect(hours.map((h) => h.time).sort((a, b) => a - b)).toEqual(expectedHours);
    const days = await points(data(), 'day', 'power');
    expect(days.map((d) => d.time).sort((a, b) => a - b)).toEqual(localDates('2023-04-10', '2026-04-01').map((d) => midnight(d)));
    const failed = p.requests.filter((r) => r.status === 500).length;
    const total = p.requests.length;
    console.log(`five-year backfill, data from 2023-04-10: ${total} requests, ${failed} answered 500, ${hours.length} hours, ${days.length} days`);
    // Before the data start each span is asked once; only the span holding the start is searched.
    expect(failed).toBeLessThan(120);
  });

  it('a 500 on one day inside a 26-day span loses only that day: exit 1, naming it', async () => {
    const p = await start({ failDays: ['2025-11-12'] });
    const run = await runOpower(p, ['--since', '2025-11-03', '--until', '2025-11-29'], env);
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/hourly usage of account 5f2b1c9e \(ELEC\): the portal answered HTTP 500 for 2025-11-12 even day by day; that day was not stored/);
    expect(run.all).toMatch(/daily usage of account 5f2b1c9e \(ELEC\): the portal answered HTTP 500 for 2025-11-12/);
    const window = hoursBetween(midnight('2025-11-03'), midnight('2025-12-01'));
    const expected = window.filter((t) => !MISSING.includes(t) && DateTime.fromSeconds(t, { zone: ZONE }).toISODate() !== '2025-11-12');
    expect((await points(data(), 'hour', 'power')).map((h) => h.time).sort((a, b) => a - b)).toEqual(expected);
    const days = (await points(data(), 'day', 'power')).map((d) => d.time).sort((a, b) => a - b);
    expect(days).toEqual(localDates('2025-11-03', '2025-11-30').filter((d) => d !== '2025-11-12').map((d) => midnight(d)));
    // Cost follows usage: every day but the failing one, asked again for the parts that answered.
    expect((await points(data(), 'day', 'cost')).map((d) => d.time).sort((a, b) => a - b)).toEqual(days);
  });

  it.each([
    ['error500', /cost endpoint/],
    ['ratePlans', /cost only per bill/],
  ] as const)('cost %s: usage is stored, the run exits 0 and says so once', async (cost, why) => {
    const p = await start({ accounts: [{ ...FAKE_ACCOUNT, cost }], now: NOW });
    const run = await runOpower(p, WEEK, env);
    expect(run.code, run.all).toBe(0);
    expect(run.all).toMatch(why);
    expect(run.all).toMatch(/usage is stored without cost/);
    expect(await points(data(), 'hour', 'power')).toHaveLength(7 * 24 - 1);
    expect(await points(data(), 'day', 'power')).toHaveLength(7);
    expect(await points(data(), 'hour', 'cost')).toEqual([]);
    expect(await points(data(), 'day', 'cost')).toEqual([]);
  });
});

describe('opower: what reads mean', () => {
  it('never stores trailing zero reads (not metered yet), but keeps real zeros that later reads passed', async () => {
    const meteredUntil = DateTime.fromISO('2025-11-05T14:00', { zone: ZONE }).toSeconds();
    // 2025-10-31 23:00 is a real zero at the very end of the first 26-day hour request.
    const p = await start({ meteredUntil, zeroHours: ['2025-10-31T23:00'] });
    const run = await runOpower(p, ['--since', '2025-10-06', '--until', '2025-11-06'], env);
    expect(run.code, run.all).toBe(0);
    const hours = await points(data(), 'hour', 'power');
    expect(hours.map((h) => h.time).sort((a, b) => a - b)).toEqual(hoursBetween(midnight('2025-10-06'), meteredUntil));
    expect(num(hours.find((h) => h.time === DateTime.fromISO('2025-10-31T23:00', { zone: ZONE }).toSeconds())!.fields.power_usage)).toBe(0);
    expect((await points(data(), 'hour', 'cost')).every((c) => c.time < meteredUntil)).toBe(true);
    const days = await points(data(), 'day', 'power');
    expect(days.map((d) => d.time).sort((a, b) => a - b)).toEqual(localDates('2025-10-06', '2025-11-05').map((d) => midnight(d)));
    // The part-metered day is what was metered of it: 00:00–13:00.
    const partial = hoursBetween(midnight('2025-11-05'), meteredUntil).reduce((s, t) => s + p.hourValue(FAKE_ACCOUNT.uuid, t) * 1000, 0);
    expect(num(days.find((d) => d.time === midnight('2025-11-05'))!.fields.power_usage)).toBeCloseTo(partial, 6);
  });

  it('daily cost reads answered to an hourly request land in home-day only', async () => {
    const p = await start({ accounts: [{ ...FAKE_ACCOUNT, hourlyCostAsDaily: true }] });
    const run = await runOpower(p, WEEK, env);
    expect(run.code, run.all).toBe(0);
    expect(await points(data(), 'hour', 'cost')).toEqual([]);
    const days = await points(data(), 'day', 'cost');
    expect(days).toHaveLength(7);
    for (const day of days) {
      const hours = hoursBetween(day.time, DateTime.fromSeconds(day.time, { zone: ZONE }).plus({ days: 1 }).toSeconds()).filter((t) => !MISSING.includes(t));
      const expected = hours.reduce((s, t) => s + Math.round(p.hourValue(FAKE_ACCOUNT.uuid, t) * TOU.flatRate * 1e6), 0) / 1e6;
      expect(num(day.fields.cost)).toBeCloseTo(expected, 6);
    }
  });

  it('a meter claiming quarter hours but answering hours gives hour records, no minute ones', async () => {
    const p = await start({ accounts: [{ ...FAKE_ACCOUNT, readResolution: 'QUARTER_HOUR', quarterAsHours: true }] });
    const run = await runOpower(p, WEEK, env);
    expect(run.code, run.all).toBe(0);
    expect(p.requests.some((r) => r.query.aggregateType === 'quarter_hour')).toBe(true);
    expect(await points(data(), 'minute', 'power')).toEqual([]);
    expect(await points(data(), 'hour', 'power')).toHaveLength(7 * 24 - 1);
  });

  it('keeps gas in CCF, gas in THERM and water in gallons apart, each with the portal’s daily sums', async () => {
    const accounts: FakeAccount[] = [
      FAKE_ACCOUNT,
      { uuid: '9a0d3e44-1b2c-4f00-8e11-22aa33bb44cc', meterType: 'GAS', readResolution: 'DAY' },
      { uuid: '4b1e2d33-0a9c-4e8f-9d7a-6c5b4a3f2e1d', meterType: 'GAS', readResolution: 'DAY', unit: 'THERM' },
      { uuid: '7e1f9b3a-2c4d-4e5f-9a8b-1c2d3e4f5a6b', meterType: 'WATER', readResolution: 'DAY', unit: 'GAL' },
    ];
    const p = await start({ accounts });
    const run = await runOpower(p, WEEK, env);
    expect(run.code, run.all).toBe(0);
    const gas = await points(data(), 'day', 'gas');
    const water = await points(data(), 'day', 'water');
    const byAccount = (list: typeof gas, uuid: string): typeof gas => list.filter((x) => x.tags.account === uuid.slice(0, 8));
    expect(new Set(byAccount(gas, accounts[1]!.uuid).map((x) => x.tags.unit))).toEqual(new Set(['CCF']));
    expect(new Set(byAccount(gas, accounts[2]!.uuid).map((x) => x.tags.unit))).toEqual(new Set(['THERM']));
    expect(new Set(byAccount(water, accounts[3]!.uuid).map((x) => x.tags.unit))).toEqual(new Set(['GAL']));
    for (const [list, account] of [[gas, accounts[1]!], [gas, accounts[2]!], [water, accounts[3]!]] as const) {
      const mine = byAccount(list, account.uuid);
      expect(mine).toHaveLength(7);
      for (const day of mine) {
        const hours = hoursBetween(day.time, DateTime.fromSeconds(day.time, { zone: ZONE }).plus({ days: 1 }).toSeconds()).filter((t) => !MISSING.includes(t));
        expect(num(day.fields[`${day.measurement}_usage`])).toBeCloseTo(hours.reduce((s, t) => s + p.hourValue(account.uuid, t), 0), 6);
      }
    }
  });
});

describe('opower: sessions and customers', () => {
  it('two customers on one login are read separately, each request naming its customer', async () => {
    const a: FakeAccount = { uuid: 'aaaaaaaa-1111-4111-8111-000000000001', meterType: 'ELEC', readResolution: 'HOUR' };
    const b: FakeAccount = { uuid: 'bbbbbbbb-2222-4222-8222-000000000002', meterType: 'ELEC', readResolution: 'HOUR' };
    const customers = [
      { uuid: '11111111-aaaa-4aaa-8aaa-000000000001', accounts: [a] },
      { uuid: '22222222-bbbb-4bbb-8bbb-000000000002', accounts: [b] },
    ];
    const p = await start({ customers });
    const run = await runOpower(p, WEEK, env);
    expect(run.code, run.all).toBe(0);
    const hours = await points(data(), 'hour', 'power');
    for (const account of [a, b]) {
      const mine = hours.filter((h) => h.tags.account === account.uuid.slice(0, 8));
      expect(mine).toHaveLength(7 * 24 - 1);
      for (const h of mine) expect(num(h.fields.power_usage)).toBeCloseTo(p.hourValue(account.uuid, h.time) * 1000, 6);
    }
    for (const r of p.requests.filter((q) => /utilityAccount[s]?\//.test(q.path))) {
      const owner = customers.find((c) => c.accounts.some((x) => r.path.includes(x.uuid)))!;
      expect(r.selected, r.path).toBe(JSON.stringify([`urn:opower:customer:uuid:${owner.uuid}`]));
    }
  });

  it('a session that ends in a redirect to an HTML page mid-run signs in again; every hour arrives', async () => {
    const p = await start({ sessionMaxRequests: 6, expiredAs: 'redirect' });
    const run = await runOpower(p, ['--since', '2025-09-01', '--until', '2025-11-10'], env);
    expect(run.code, run.all).toBe(0);
    expect(p.requests.filter((r) => r.status === 302).length).toBeGreaterThan(0);
    expect(p.count('/signin')).toBeGreaterThan(1);
    const hours = await points(data(), 'hour', 'power');
    expect(new Set(hours.map((h) => h.time)).size).toBe(hours.length);
    expect(hours).toHaveLength(hoursBetween(midnight('2025-09-01'), midnight('2025-11-10')).filter((t) => !MISSING.includes(t)).length);
  });

  it('a redirect that persists after signing in again stops with one line naming the utility', async () => {
    const p = await start({ sessionMaxRequests: 0, expiredAs: 'redirect' });
    const run = await runOpower(p, WEEK, env);
    expect(run.code).toBe(1);
    expect(run.all.match(/Glendale Water and Power \(gwp\): GET .* answered HTTP 302 \(a redirect to \/ei\/app\/403\.html\) even after signing in again/g)).toHaveLength(1);
    expect(p.count('/signin')).toBe(2);
  });

  it('NIPSCO gets its X-Requested-With header on every request', async () => {
    const p = await start({ code: 'nie', timezone: 'America/Indiana/Indianapolis', requireHeaders: { 'x-requested-with': 'XMLHttpRequest' } });
    const run = await runOpower(p, WEEK, { ...env, OPOWER_UTILITY: 'nipsco', HOMEFLUX_TIMEZONE: 'America/Indiana/Indianapolis' });
    expect(run.code, run.all).toBe(0);
    expect(p.requests.every((r) => r.headers['x-requested-with'] === 'XMLHttpRequest')).toBe(true);
    expect(await points(data(), 'hour', 'power')).toHaveLength(7 * 24 - 1);
  });
});

describe('opower: bills, cost components, forecast', () => {
  /** The fake's billing periods, from its cycle: start and end (exclusive) as local dates. */
  const periods = (first: string, count: number): { start: DateTime; end: DateTime }[] => {
    const out: { start: DateTime; end: DateTime }[] = [];
    let d = DateTime.fromISO(first, { zone: ZONE });
    for (let i = 0; i < count; i++) {
      const end = d.plus({ days: BILL_CYCLE[i % BILL_CYCLE.length]! });
      out.push({ start: d, end });
      d = end;
    }
    return out;
  };

  it('a billing-only account (Clark) gives bill records: period, days, usage and cost as the portal sums them', async () => {
    const account: FakeAccount = { ...FAKE_ACCOUNT, readResolution: 'BILLING' };
    const p = await start({ code: 'clrk', accounts: [account], now: NOW });
    const run = await runOpower(p, ['--since', '2024-01-01', '--until', '2024-06-30'], { ...env, OPOWER_UTILITY: 'clrk' });
    expect(run.code, run.all).toBe(0);
    expect(p.requests.filter((r) => r.query.aggregateType !== undefined && r.query.aggregateType !== 'bill' && !r.path.includes('/weather/'))).toEqual([]);
    // Window: Monday 2024-01-01 to Monday 2024-07-01; bills overlapping it or ending up to 62 days before.
    const windowStart = midnight('2024-01-01');
    const windowEnd = midnight('2024-07-01');
    const expected = periods('2023-01-03', 40).filter((b) => b.start.toSeconds() < windowEnd && b.end.toSeconds() > windowStart - 62 * 86400);
    const bills = (await points(data(), 'bill', 'bill')).sort((x, y) => x.time - y.time);
    expect(bills.map((b) => [b.time, num(b.fields.end), num(b.fields.days)])).toEqual(expected.map((b) => [b.start.toSeconds(), b.end.toSeconds(), Math.round(b.end.diff(b.start, 'days').days)]));
    for (const bill of bills) {
      const hours = hoursBetween(bill.time, num(bill.fields.end)).filter((t) => !MISSING.includes(t));
      expect(num(bill.fields.power_usage)).toBeCloseTo(hours.reduce((s, t) => s + p.hourValue(account.uuid, t) * 1000, 0), 6);
      expect(num(bill.fields.cost)).toBeCloseTo(hours.reduce((s, t) => s + Math.round(p.hourValue(account.uuid, t) * TOU.flatRate * 1e6), 0) / 1e6, 6);
    }
    expect(await points(data(), 'hour', 'power')).toEqual([]);
  });

  it('cost_component parts add up to their read, hour and day, in their own measurement', async () => {
    const p = await start({ accounts: [{ ...FAKE_ACCOUNT, components: true }] });
    const run = await runOpower(p, WEEK, env);
    expect(run.code, run.all).toBe(0);
    for (const timescale of ['hour', 'day'] as const) {
      const cost = await points(data(), timescale, 'cost');
      const power = await points(data(), timescale, 'power');
      const parts = await points(data(), timescale, 'cost_component');
      expect(cost.length).toBeGreaterThan(0);
      for (const c of cost) {
        const mine = parts.filter((x) => x.time === c.time);
        expect(mine.length).toBeGreaterThanOrEqual(1);
        expect(mine.reduce((s, x) => s + num(x.fields.cost), 0)).toBeCloseTo(num(c.fields.cost), 6);
        expect(mine.reduce((s, x) => s + num(x.fields.energy), 0)).toBeCloseTo(num(power.find((x) => x.time === c.time)!.fields.power_usage), 6);
      }
      // November is winter; 16:00–21:00 local is peak (the fake's tariff).
      expect(new Set(parts.map((x) => x.tags.season))).toEqual(new Set(['winter']));
      if (timescale === 'hour') for (const x of parts) expect(x.tags.day_part).toBe(DateTime.fromSeconds(x.time, { zone: ZONE }).hour >= 16 && DateTime.fromSeconds(x.time, { zone: ZONE }).hour < 21 ? 'peak' : 'off_peak');
    }
  });

  it('writes the bill forecast once a day where the portal offers it, and nothing where it does not', async () => {
    // No estimated hours: the forecast sums what is served, and the test sums true values.
    const p = await start({ accounts: [{ ...FAKE_ACCOUNT, forecast: true }], now: NOW, meteredUntil: NOW, estimatedHours: [] });
    const run = await runOpower(p, [], env);
    expect(run.code, run.all).toBe(0);
    const forecast = await points(data(), 'day', 'bill_forecast');
    expect(forecast).toHaveLength(1);
    const today = midnight('2026-04-01');
    expect(forecast[0]!.time).toBe(today);
    const open = periods('2023-01-03', 60).find((b) => b.start.toSeconds() <= today && b.end.toSeconds() > today)!;
    expect(num(forecast[0]!.fields.period_start)).toBe(open.start.toSeconds());
    expect(num(forecast[0]!.fields.period_end)).toBe(open.end.toSeconds());
    const soFar = hoursBetween(open.start.toSeconds(), today).filter((t) => !MISSING.includes(t)).reduce((s, t) => s + p.hourValue(FAKE_ACCOUNT.uuid, t), 0);
    expect(num(forecast[0]!.fields.usage_to_date)).toBeCloseTo(soFar * 1000, 3);

    const none = await startOpowerPortal({ graphql: false, now: NOW, meteredUntil: NOW });
    try {
      const quiet = await runOpower(none, [], { ...env, HOMEFLUX_DATA_DIR: join(dataDir, 'none') });
      expect(quiet.code, quiet.all).toBe(0);
      expect(await points(join(dataDir, 'none'), 'day', 'bill_forecast')).toEqual([]);
    } finally {
      await none.stop();
    }
  });
});
