/**
 * The tariff engine (src/insight/tariff/) against bills worked out by hand in the comments of
 * each case: tier crossing inside an hour, the 23- and 25-hour days in peak hours, a weekday
 * holiday on the weekend schedule, a rate change and a season change inside one bill, fixed
 * charges on 28-, 30- and 31-day bills, net-metered months, a gas plan in therms; property tests
 * for the invariants; and a malformed file's errors.
 */
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { priceBill, priceUsage, type UsageInterval } from '../../src/insight/tariff/engine.ts';
import { parseTariff, type Tariff } from '../../src/insight/tariff/file.ts';
import { holidayDates } from '../../src/insight/tariff/holidays.ts';

const HOUR = 3600;
const flat = (period: number): number[][] => Array.from({ length: 12 }, () => new Array<number>(24).fill(period));
const tariff = (record: Record<string, unknown>, timezone = 'UTC'): Tariff => parseTariff(JSON.stringify(record), 'test.json', timezone);
const at = (iso: string, zone = 'UTC'): number => DateTime.fromISO(iso, { zone }).toSeconds();

/** Hourly intervals of `kwh` each over [from, to). */
function hours(from: number, to: number, kwh: number | ((t: number) => number)): UsageInterval[] {
  const out: UsageInterval[] = [];
  for (let t = from; t < to; t += HOUR) out.push({ start: t, end: t + HOUR, energy: typeof kwh === 'number' ? kwh : kwh(t) });
  return out;
}

const cents = (x: number): number => Math.round(x * 100) / 100 || 0; // -0 reads as 0

describe('tariff engine: hand-computed bills', () => {
  it('crosses a tier inside an hour', () => {
    // April 2026 (30 days), 0.7 kWh every hour = 504 kWh. Tier 1 up to 300 kWh at 0.10 = 30.00;
    // the 429th hour crosses 300 (428 × 0.7 = 299.6): the rest, 204 kWh at 0.20 = 40.80.
    // Customer charge 10.00 a month. Bill: 80.80.
    const t = tariff({ name: 'tiered', energyratestructure: [[{ max: 300, rate: 0.1 }, { rate: 0.2 }]], energyweekdayschedule: flat(0), energyweekendschedule: flat(0), fixedchargefirstmeter: 10, fixedchargeunits: '$/month' });
    const [bill] = priceUsage(t, hours(at('2026-04-01'), at('2026-05-01'), 0.7), 'UTC');
    expect(bill!.days).toBe(30);
    expect(cents(bill!.total)).toBe(80.8);
    const tiers = bill!.components.filter((c) => c.kind === 'energy').map((c) => [c.tier, cents(c.energy), cents(c.cost)]);
    expect(tiers).toEqual([
      [1, 300, 30],
      [2, 204, 40.8],
    ]);
    // The crossing hour is split: 0.4 kWh at 0.10 and 0.3 kWh at 0.20 = 0.10.
    const crossing = bill!.intervals[428]!;
    expect(crossing.cost).toBeCloseTo(0.4 * 0.1 + 0.3 * 0.2, 10);
  });

  it('charges fixed charges per day on 28-, 30- and 31-day bills, and a monthly charge once per bill', () => {
    // 0.50 a day: February 2026 28 days = 14.00, April 30 = 15.00, May 31 = 15.50.
    const daily = tariff({ energyratestructure: [[{ rate: 0.1 }]], energyweekdayschedule: flat(0), energyweekendschedule: flat(0), fixedchargefirstmeter: 0.5, fixedchargeunits: '$/day' });
    const monthly = tariff({ energyratestructure: [[{ rate: 0.1 }]], energyweekdayschedule: flat(0), energyweekendschedule: flat(0), fixedchargefirstmeter: 10, fixedchargeunits: '$/month' });
    for (const [month, expected] of [['2026-02', 14], ['2026-04', 15], ['2026-05', 15.5]] as const) {
      const range = { start: at(`${month}-01`), end: DateTime.fromISO(`${month}-01`, { zone: 'UTC' }).plus({ months: 1 }).toSeconds() };
      expect(cents(priceUsage(daily, [], 'UTC', { range })[0]!.total), month).toBe(expected);
      expect(cents(priceUsage(monthly, [], 'UTC', { range })[0]!.total), month).toBe(10);
    }
  });

  it('follows the wall clock through the 23- and 25-hour days in peak hours', () => {
    // Peak 16:00–21:00 local (hours 16–20) at 0.40, otherwise 0.20; 1 kWh every real hour.
    // 2026-03-08 (23 h): 5 peak = 2.00, 18 off-peak = 3.60 → 5.60.
    // 2026-11-01 (25 h): 5 peak = 2.00, 20 off-peak = 4.00 → 6.00.
    const tz = 'America/Los_Angeles';
    const schedule = Array.from({ length: 12 }, () => Array.from({ length: 24 }, (_, h) => (h >= 16 && h <= 20 ? 1 : 0)));
    const t = tariff({ energyratestructure: [[{ rate: 0.2 }], [{ rate: 0.4 }]], energytoulabels: ['off_peak', 'peak'], energyweekdayschedule: schedule, energyweekendschedule: schedule }, tz);
    for (const [day, expected, peak, off] of [['2026-03-08', 5.6, 5, 18], ['2026-11-01', 6, 5, 20]] as const) {
      const start = at(day, tz);
      const end = DateTime.fromISO(day, { zone: tz }).plus({ days: 1 }).toSeconds();
      const bill = priceBill(t, { start: DateTime.fromISO(day, { zone: tz }).startOf('month').toSeconds(), end: DateTime.fromISO(day, { zone: tz }).startOf('month').plus({ months: 1 }).toSeconds() }, hours(start, end, 1), tz);
      expect(cents(bill.total), day).toBe(expected);
      const byPart = Object.fromEntries(bill.components.filter((c) => c.kind === 'energy').map((c) => [c.dayPart, c.energy]));
      expect(byPart, day).toEqual({ peak, off_peak: off });
    }
  });

  it('prices a weekday holiday on the weekend schedule', () => {
    // Weekdays 0.30, weekends 0.10; Friday 2026-07-03 is a holiday. 1 kWh an hour on Thursday
    // 2026-07-02 and on the Friday: 24 × 0.30 + 24 × 0.10 = 7.20 + 2.40 = 9.60.
    const t = tariff({ energyratestructure: [[{ rate: 0.3 }], [{ rate: 0.1 }]], energyweekdayschedule: flat(0), energyweekendschedule: flat(1), homeflux: { holidays: ['2026-07-03'] } });
    const [bill] = priceUsage(t, hours(at('2026-07-02'), at('2026-07-04'), 1), 'UTC', { range: { start: at('2026-07-01'), end: at('2026-08-01') } });
    expect(cents(bill!.total)).toBe(9.6);
  });

  it('splits a bill at a rate change and a season change', () => {
    // Bills from the 15th. Winter (May) 0.15, summer (June) 0.25; from 2026-06-01 summer is 0.30
    // and the customer charge 12 instead of 10 a month. 1 kWh an hour, 2026-05-15 … 06-14 (31 days):
    // May 15–31: 408 kWh × 0.15 = 61.20; June 1–14: 336 kWh × 0.30 = 100.80;
    // customer charge 10 × 17/31 + 12 × 14/31 = 338/31 = 10.9032…; bill 172.9032… → 172.90.
    const seasons = Array.from({ length: 12 }, (_, m) => new Array<number>(24).fill(m >= 5 && m <= 8 ? 1 : 0));
    const t = tariff({
      energyratestructure: [[{ rate: 0.15 }], [{ rate: 0.25 }]],
      energyweekdayschedule: seasons,
      energyweekendschedule: seasons,
      fixedchargefirstmeter: 10,
      fixedchargeunits: '$/month',
      homeflux: { billing: { cycleDay: 15 }, versions: [{ effective: '2026-06-01', energyratestructure: [[{ rate: 0.15 }], [{ rate: 0.3 }]], fixedchargefirstmeter: 12, fixedchargeunits: '$/month' }] },
    });
    const bills = priceUsage(t, hours(at('2026-05-15'), at('2026-06-15'), 1), 'UTC');
    expect(bills.map((b) => [new Date(b.start * 1000).toISOString().slice(0, 10), b.days])).toEqual([['2026-05-15', 31]]);
    expect(bills[0]!.total).toBeCloseTo(61.2 + 100.8 + 338 / 31, 9);
    expect(cents(bills[0]!.total)).toBe(172.9);
  });

  it('nets exports per hour or per month', () => {
    // One day: 1 kWh imported in hours 0–11; hours 12–15 export 2 kWh each (8 kWh). Import 0.20, sell 0.05.
    // Hourly netting: 12 × 0.20 − 8 × 0.05 = 2.40 − 0.40 = 2.00.
    // Monthly netting: the 8 kWh offset imports at retail 0.20: 2.40 − 1.60 = 0.80.
    // Monthly with 20 kWh exported (5 an hour): 12 at retail, 8 surplus at 0.05: 2.40 − 2.40 − 0.40 = −0.40.
    const day = (exportPerHour: number): UsageInterval[] =>
      hours(at('2026-06-10'), at('2026-06-11'), 0).map((x, h) => ({ ...x, energy: h < 12 ? 1 : 0, exported: h >= 12 && h < 16 ? exportPerHour : 0 }));
    const base = { energyratestructure: [[{ rate: 0.2, sell: 0.05 }]], energyweekdayschedule: flat(0), energyweekendschedule: flat(0) };
    const range = { start: at('2026-06-01'), end: at('2026-07-01') };
    expect(cents(priceUsage(tariff({ ...base, homeflux: { netMetering: { netting: 'hour' } } }), day(2), 'UTC', { range })[0]!.total)).toBe(2);
    expect(cents(priceUsage(tariff({ ...base, homeflux: { netMetering: { netting: 'month' } } }), day(2), 'UTC', { range })[0]!.total)).toBe(0.8);
    expect(cents(priceUsage(tariff({ ...base, homeflux: { netMetering: { netting: 'month' } } }), day(5), 'UTC', { range })[0]!.total)).toBe(-0.4);
  });

  it('nets exports over a year: surplus carried at retail value, the true-up pays the net surplus', () => {
    // Import 0.20, sell 0.05, true-up in March. One day of each month carries the energy:
    // January: 100 kWh in, 150 out → 100 offset at retail (bill 0.00), 50 surplus worth 10.00 carried.
    // February: 200 in → 40.00 − the carried 10.00 = 30.00.
    // March: 50 in, 100 out → 50 offset (bill 0.00), 50 surplus worth 10.00 carried — and the true-up:
    // the carry is dropped; the year's net is 350 in, 250 out, so no surplus to pay: 0.00.
    // A second year, true-up in December: 100 in and 300 out in May → 100 offset, the net surplus of
    // 200 kWh paid at 0.05 = 10.00 in December's bill (−10.00).
    const t = tariff({ energyratestructure: [[{ rate: 0.2, sell: 0.05 }]], energyweekdayschedule: flat(0), energyweekendschedule: flat(0), homeflux: { netMetering: { netting: 'year', trueUpMonth: 3 } } });
    const day = (iso: string, kwhIn: number, kwhOut: number): UsageInterval[] => hours(at(iso), at(iso) + 86400, 0).map((x) => ({ ...x, energy: kwhIn / 24, exported: kwhOut / 24 }));
    const usage = [...day('2026-01-10', 100, 150), ...day('2026-02-10', 200, 0), ...day('2026-03-10', 50, 100)];
    const bills = priceUsage(t, usage, 'UTC', { range: { start: at('2026-01-01'), end: at('2026-04-01') } });
    expect(bills.map((b) => cents(b.total))).toEqual([0, 30, 0]);
    expect(bills[1]!.components.find((c) => c.name === 'carried net-metering credit')!.cost).toBeCloseTo(-10, 9);
    const december = tariff({ energyratestructure: [[{ rate: 0.2, sell: 0.05 }]], energyweekdayschedule: flat(0), energyweekendschedule: flat(0), homeflux: { netMetering: { netting: 'year' } } });
    const year = priceUsage(december, day('2026-05-10', 100, 300), 'UTC', { range: { start: at('2026-05-01'), end: at('2027-01-01') } });
    expect(year.map((b) => cents(b.total))).toEqual([0, 0, 0, 0, 0, 0, 0, -10]);
    expect(year[7]!.components.find((c) => c.name === 'net surplus compensation')!.energy).toBeCloseTo(-200, 9);
  });

  it('prices gas in therms with tiers, a customer charge and a tax', () => {
    // 30 therms in April: 20 at 1.50 = 30.00, 10 at 2.00 = 20.00; customer charge 5.00; tax 10 % of 55.00 = 5.50 → 60.50.
    const t = tariff({ energyratestructure: [[{ max: 20, rate: 1.5 }, { rate: 2 }]], energyweekdayschedule: flat(0), energyweekendschedule: flat(0), fixedchargefirstmeter: 5, fixedchargeunits: '$/month', homeflux: { unit: 'THERM', taxes: [{ name: 'utility users tax', percent: 10 }] } });
    expect(t.unit).toBe('THERM');
    const [bill] = priceUsage(t, hours(at('2026-04-01'), at('2026-05-01'), 30 / 720), 'UTC');
    expect(cents(bill!.total)).toBe(60.5);
    expect(bill!.components.find((c) => c.kind === 'tax')).toMatchObject({ name: 'utility users tax' });
  });

  it('tops a bill up to the minimum charge', () => {
    // Minimum 15 a month, customer charge 5, 10 kWh at 0.20 = 2.00 → minimum adds 8.00 → 15.00.
    const t = tariff({ energyratestructure: [[{ rate: 0.2 }]], energyweekdayschedule: flat(0), energyweekendschedule: flat(0), fixedchargefirstmeter: 5, fixedchargeunits: '$/month', mincharge: 15, minchargeunits: '$/month' });
    const [bill] = priceUsage(t, hours(at('2026-04-01'), at('2026-04-01T10:00'), 1), 'UTC', { range: { start: at('2026-04-01'), end: at('2026-05-01') } });
    expect(cents(bill!.total)).toBe(15);
    expect(bill!.components.find((c) => c.kind === 'minimum')!.cost).toBeCloseTo(8, 10);
    expect(bill!.missingSeconds).toBe(30 * 86400 - 10 * HOUR);
  });

  it('prorates a baseline allowance by the days of each month', () => {
    // Baseline 10 kWh/day in April: tier 1 up to 100 % of it = 300 kWh at 0.25, above at 0.35.
    // 1 kWh an hour = 720 kWh: 300 × 0.25 + 420 × 0.35 = 75 + 147 = 222.00.
    const t = tariff({ energyratestructure: [[{ max: 1, unit: 'baseline', rate: 0.25 }, { rate: 0.35 }]], energyweekdayschedule: flat(0), energyweekendschedule: flat(0), homeflux: { baselineKwhPerDay: [12, 12, 11, 10, 9, 9, 9, 9, 9, 10, 11, 12] } });
    expect(cents(priceUsage(t, hours(at('2026-04-01'), at('2026-05-01'), 1), 'UTC')[0]!.total)).toBe(222);
  });
});

describe('tariff engine: properties', () => {
  const arbitraryTariff = fc.record({
    rates: fc.array(fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
    fixed: fc.double({ min: 0, max: 30, noNaN: true }),
    minimum: fc.double({ min: 0, max: 60, noNaN: true }),
    tax: fc.double({ min: 0, max: 15, noNaN: true }),
  });
  const build = (a: { rates: number[][]; fixed: number; minimum: number; tax: number }): Tariff =>
    tariff({
      energyratestructure: a.rates.map((tiers) => tiers.map((rate, k) => (k < tiers.length - 1 ? { rate, max: 50 * (k + 1) } : { rate }))),
      energyweekdayschedule: Array.from({ length: 12 }, (_, m) => Array.from({ length: 24 }, (_, h) => (m + h) % a.rates.length)),
      energyweekendschedule: flat(0),
      fixedchargefirstmeter: a.fixed,
      fixedchargeunits: '$/month',
      mincharge: a.minimum,
      minchargeunits: '$/month',
      homeflux: { taxes: [{ name: 'tax', percent: a.tax }] },
    });

  it('components sum to the total, and the intervals to the energy charges with their taxes', () => {
    fc.assert(
      fc.property(arbitraryTariff, fc.array(fc.double({ min: 0, max: 5, noNaN: true }), { minLength: 24, maxLength: 24 * 40 }), (a, usage) => {
        const t = build(a);
        const start = at('2026-01-20');
        const bills = priceUsage(t, usage.map((e, i) => ({ start: start + i * HOUR, end: start + (i + 1) * HOUR, energy: e })), 'UTC');
        for (const bill of bills) {
          expect(bill.components.reduce((s, c) => s + c.cost, 0)).toBeCloseTo(bill.total, 8);
          const energy = bill.components.filter((c) => c.kind === 'energy').reduce((s, c) => s + c.cost, 0);
          expect(bill.intervals.reduce((s, i) => s + i.cost, 0)).toBeCloseTo(energy * (1 + a.tax / 100), 8);
          expect(bill.components.filter((c) => c.kind === 'energy').reduce((s, c) => s + c.energy, 0)).toBeCloseTo(bill.energy, 8);
          // The days' parts add up to the bill's energy parts.
          expect(bill.daily.flatMap((d) => d.parts).reduce((s, c) => s + c.cost, 0)).toBeCloseTo(energy, 8);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('zero usage costs exactly the fixed and minimum charges (with their tax)', () => {
    fc.assert(
      fc.property(arbitraryTariff, (a) => {
        const [bill] = priceUsage(build(a), [], 'UTC', { range: { start: at('2026-03-01'), end: at('2026-04-01') } });
        expect(bill!.total).toBeCloseTo(Math.max(a.fixed, a.minimum) * (1 + a.tax / 100), 8);
      }),
      { numRuns: 200 },
    );
  });

  it('pricing a bill in one go equals pricing it as hourly runs do, each with the hours so far', () => {
    fc.assert(
      fc.property(arbitraryTariff, fc.array(fc.double({ min: 0, max: 5, noNaN: true }), { minLength: 48, maxLength: 200 }), fc.nat(), (a, usage, cut) => {
        const t = build(a);
        const start = at('2026-02-01');
        const all = usage.map((e, i) => ({ start: start + i * HOUR, end: start + (i + 1) * HOUR, energy: e }));
        const period = { start, end: at('2026-03-01') };
        const whole = priceBill(t, period, all, 'UTC');
        // An earlier run saw only the first hours: its hour costs are the same as the final run's for those hours.
        const k = 1 + (cut % (all.length - 1));
        const early = priceBill(t, period, all.slice(0, k), 'UTC');
        early.intervals.forEach((x, i) => expect(x.cost).toBeCloseTo(whole.intervals[i]!.cost, 9));
      }),
      { numRuns: 200 },
    );
  });
});

describe('tariff files: bad input', () => {
  const good = { energyratestructure: [[{ rate: 0.1 }]], energyweekdayschedule: flat(0), energyweekendschedule: flat(0) };
  const error = (record: unknown): string => {
    try {
      parseTariff(JSON.stringify(record), 'plan.json', 'UTC');
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };

  it('names the file, the JSON path and what was expected', () => {
    expect(error({ ...good, energyweekdayschedule: flat(0).slice(0, 11) })).toBe('tariff plan.json: (top level).energyweekdayschedule: expected a 12 × 24 schedule (12 months of 24 hours), got "11 months"');
    expect(error({ ...good, energyweekendschedule: flat(3) })).toBe('tariff plan.json: (top level).energyweekendschedule[0][0]: expected a period index from 0 to 0, got 3');
    expect(error({ ...good, energyratestructure: [[{ max: 10 }]] })).toBe('tariff plan.json: (top level).energyratestructure[0][0].rate: expected a rate (price per unit), got undefined');
    expect(error({ ...good, homeflux: { versions: [{ effective: '2026-06-01' }, { effective: '2026-05-01' }] } })).toMatch(/homeflux\.versions\[1\]\.effective: expected a date after the version before \(2026-06-01\): versions must not overlap/);
    expect(error({ ...good, demandratestructure: [[{ rate: 12 }]] })).toMatch(/demandratestructure: demand charges are not supported/);
    expect(error({ ...good, energyratestructure: [[{ rate: 0.1 }, { rate: 0.2 }]] })).toMatch(/\[0\]\[0\]\.max: expected an upper bound \(only the last tier may have none\)/);
    expect(error('not json at all'.slice(0, 0) + '{')).toMatch(/expected a URDB rate record|not JSON/);
  });

  it('reads the bulk export\'s camelCase spelling and the API\'s items envelope alike', () => {
    const camel = { name: 'camel', energyRateStructure: [[{ rate: 0.1 }]], energyWeekdaySchedule: flat(0), energyWeekendSchedule: flat(0), fixedChargeFirstMeter: 3, fixedChargeUnits: '$/month' };
    const t = parseTariff(JSON.stringify({ items: [camel] }), 'api.json', 'UTC');
    expect(t.name).toBe('camel');
    expect(t.versions[0]!.fixed).toEqual({ amount: 3, per: 'month' });
  });
});

describe('example tariffs', () => {
  it('every file in tariffs/ parses', async () => {
    const { readdir, readFile } = await import('node:fs/promises');
    const files = (await readdir('tariffs')).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) expect(parseTariff(await readFile(`tariffs/${f}`, 'utf8'), f, 'America/Los_Angeles').versions.length, f).toBeGreaterThan(0);
  });

  it('City of Azusa G-1: a month as its published schedule prices it', async () => {
    // 0.8 kWh an hour through May 2026 (31 days) = 595.2 kWh: 500 × 0.165 = 82.50, 95.2 × 0.143 = 13.6136,
    // customer charge 10.00 → 106.1136 → 106.11. No use at all: the customer charge, which is also the minimum.
    const { readFile } = await import('node:fs/promises');
    const t = parseTariff(await readFile('tariffs/azusa-schedule-g1.json', 'utf8'), 'azusa-schedule-g1.json', 'America/Los_Angeles');
    const tz = 'America/Los_Angeles';
    const may = { start: at('2026-05-01', tz), end: at('2026-06-01', tz) };
    expect(cents(priceUsage(t, hours(may.start, may.end, 0.8), tz)[0]!.total)).toBe(106.11);
    expect(cents(priceUsage(t, [], tz, { range: may })[0]!.total)).toBe(10);
  });
  it('SMUD Time-of-Day (5-8 p.m.): a summer and a winter month at 1 kWh an hour, priced by hand', async () => {
    const { readFile } = await import('node:fs/promises');
    const tz = 'America/Los_Angeles';
    const t = parseTariff(await readFile('tariffs/smud-tod-5-8pm.json', 'utf8'), 'smud-tod-5-8pm.json', tz);
    // July 2026: 8 weekend days, and Saturday July 4 is observed on Friday July 3 (us-federal) → 22 priced
    // weekdays. A weekday: 12 h off-peak × 0.1323 + 9 h mid-peak (noon–5, 8–midnight) × 0.1827 + 3 h peak
    // × 0.3215 = 4.1964; a weekend or holiday: 24 × 0.1323 = 3.1752. 22 × 4.1964 + 9 × 3.1752 = 120.8976.
    const jul = { start: at('2026-07-01', tz), end: at('2026-08-01', tz) };
    expect(cents(priceUsage(t, hours(jul.start, jul.end, 1), tz)[0]!.total)).toBe(120.9);
    // January 2026: 9 weekend days, New Year's Day (Thu) and MLK Day (Mon 19th) → 20 priced weekdays.
    // A weekday: 21 × 0.1098 + 3 × 0.1516 = 2.7606; an off day 24 × 0.1098 = 2.6352. 55.212 + 28.9872 = 84.1992.
    const jan = { start: at('2026-01-01', tz), end: at('2026-02-01', tz) };
    expect(cents(priceUsage(t, hours(jan.start, jan.end, 1), tz)[0]!.total)).toBe(84.2);
  });
});

describe('holiday calendars', () => {
  it('NERC and US federal holidays by their rules (dates worked out from a 2026 calendar)', () => {
    // 2026: Jan 1 is a Thursday, May 31 a Sunday, Jul 4 a Saturday, Sep 1 a Tuesday, Nov 1 a Sunday.
    expect(holidayDates('nerc', 2026, 2026)).toEqual(['2026-01-01', '2026-05-25', '2026-07-04', '2026-09-07', '2026-11-26', '2026-12-25']);
    expect(holidayDates('us-federal', 2026, 2026)).toEqual(['2026-01-01', '2026-01-19', '2026-02-16', '2026-05-25', '2026-06-19', '2026-07-03', '2026-09-07', '2026-10-12', '2026-11-11', '2026-11-26', '2026-12-25']);
    // 2022: Jan 1 a Saturday (federal: observed Friday 2021-12-31; NERC: stays), Dec 25 a Sunday (both: Monday).
    expect(holidayDates('nerc', 2022, 2022)).toContain('2022-12-26');
    expect(holidayDates('nerc', 2022, 2022)).toContain('2022-01-01');
    expect(holidayDates('us-federal', 2022, 2022)).toContain('2021-12-31');
  });

  it('a tariff naming a calendar prices its holidays on the weekend schedule', () => {
    // Memorial Day, Monday 2026-05-25: 24 kWh at the weekend rate 0.10 instead of 0.30.
    const t = tariff({ energyratestructure: [[{ rate: 0.3 }], [{ rate: 0.1 }]], energyweekdayschedule: flat(0), energyweekendschedule: flat(1), homeflux: { holidays: { calendar: 'nerc', dates: ['2026-05-26'] } } });
    const bill = priceUsage(t, hours(at('2026-05-25'), at('2026-05-28'), 1), 'UTC', { range: { start: at('2026-05-01'), end: at('2026-06-01') } })[0]!;
    // 25th (Memorial Day) and 26th (listed) at 0.10, 27th at 0.30: 2.40 + 2.40 + 7.20.
    expect(cents(bill.total)).toBe(12);
    expect(() => tariff({ ...{ energyratestructure: [[{ rate: 0.3 }]], energyweekdayschedule: flat(0), energyweekendschedule: flat(0) }, homeflux: { holidays: 'easter' } })).toThrow(/homeflux\.holidays: expected a list of dates, or a calendar: nerc, us-federal/);
  });
});
