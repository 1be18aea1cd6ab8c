/**
 * The tariff engine: interval reads priced under a {@link Tariff}, bill by bill. Pure: no I/O.
 *
 * Within a billing period usage accumulates through the tiers (all time-of-use periods
 * together); a tier's bound is the sum over the bill's days of that day's share — a monthly
 * `kWh` bound spread evenly over the bill's days, a `kWh daily` bound once per day, a
 * `baseline` bound × that month's daily allowance — so a rate or season change inside a bill
 * prorates it by days. An interval that crosses a bound is split across the tiers. The
 * time-of-use period of an interval is read from the schedule at its local start (month, hour;
 * weekend and holidays on the weekend schedule), so 23- and 25-hour days follow the wall clock.
 * Fixed and minimum charges are per day of the bill (a `$/month` charge is one month per bill,
 * spread over its days across versions); the minimum charge tops the bill up to the minimum;
 * taxes are percentages of everything before them.
 *
 * Net metering: `hour` nets each interval (a net export is credited at the tier's `sell` or the
 * tariff's credit rate); `month` credits exports at the retail rate of their period up to the
 * bill's imports, and any surplus at the sell/credit rate.
 */
import { DateTime } from 'luxon';
import { utcOffset } from '../../window.ts';
import { billingPeriods, offsetSegments } from './periods.ts';

export { billingPeriods } from './periods.ts';
import type { Charge, Tariff, TariffVersion } from './file.ts';

/** One interval read in the tariff's unit: imports (and exports, when net metered). */
export interface UsageInterval {
  start: number;
  end: number;
  energy: number;
  exported?: number;
}

/** A part of a bill: energy in a tier and period, a fixed or minimum charge, a tax, a credit. */
export interface BillComponent {
  kind: 'energy' | 'credit' | 'fixed' | 'minimum' | 'tax';
  /** 1-based tier (energy). */
  tier?: number;
  /** Time-of-use period label (energy, credit). */
  dayPart?: string;
  /** Tax name. */
  name?: string;
  energy: number;
  cost: number;
}

/** An interval priced: its energy cost (taxes on energy included) and where it fell. */
export interface PricedInterval {
  start: number;
  end: number;
  energy: number;
  /** Energy charges (credits negative) with the bill's tax percentages on them. */
  cost: number;
}

/** One billing period priced. */
export interface Bill {
  start: number;
  end: number;
  days: number;
  energy: number;
  total: number;
  components: BillComponent[];
  intervals: PricedInterval[];
  /** Each local day's energy charges by tier and period (before taxes), for daily charts. */
  daily: Array<{ start: number; parts: BillComponent[] }>;
  /** Seconds of the bill with no read (the bill is then incomplete). */
  missingSeconds: number;
}

/** The instant of local midnight starting local day number `day` (days since the epoch, local). */
function localMidnight(day: number, timezone: string): number {
  let t = day * 86400 - utcOffset(day * 86400, timezone);
  t = day * 86400 - utcOffset(t, timezone);
  return t;
}

/** Local calendar facts of an instant, computed with cached offsets (fast for millions). */
function local(t: number, timezone: string): { month: number; hour: number; weekday: number; day: number } {
  const shifted = t + utcOffset(t, timezone);
  const d = new Date(shifted * 1000);
  return { month: d.getUTCMonth(), hour: d.getUTCHours(), weekday: d.getUTCDay(), day: Math.floor(shifted / 86400) };
}



/** The version in force on a local day number. */
function versionOn(tariff: Tariff, dayNumber: number): TariffVersion {
  const date = new Date(dayNumber * 86400000).toISOString().slice(0, 10);
  let found = tariff.versions[0]!;
  for (const v of tariff.versions) if (v.effective === '' || v.effective <= date) found = v;
  return found;
}

const perDay = (charge: Charge | undefined, billDays: number, monthDays: number): number => {
  if (!charge) return 0;
  if (charge.per === 'day') return charge.amount;
  // A month's charge is one month per bill, whatever its length; a year's is a twelfth.
  return (charge.per === 'month' ? charge.amount : charge.amount / 12) / (billDays || monthDays);
};

/**
 * What yearly net metering carries from bill to bill: the retail value of surplus exports not
 * yet used, and the year's imports and exports for the true-up.
 */
export interface NetMeteringCarry {
  credit: number;
  imported: number;
  exported: number;
}

/**
 * Price the intervals of one billing period (intervals outside it are ignored). `carry` is the
 * yearly net-metering state passed from bill to bill, and whether this bill closes the year.
 */
export function priceBill(tariff: Tariff, period: { start: number; end: number }, intervals: readonly UsageInterval[], timezone: string, carry?: { state: NetMeteringCarry; trueUp: boolean }): Bill {
  const firstDay = local(period.start, timezone).day;
  const lastDay = local(period.end - 1, timezone).day;
  const dayNumbers: number[] = [];
  for (let d = firstDay; d <= lastDay; d++) dayNumbers.push(d);
  const days = dayNumbers.length;
  const dayVersions = dayNumbers.map((d) => versionOn(tariff, d));
  const holidays = new Set([...tariff.holidays].map((iso) => Math.floor(Date.parse(`${iso}T00:00:00Z`) / 86400000)));

  // Tier bounds per period and tier, summed over the bill's days from each day's version.
  const boundsFor = (p: number, tierCount: number): number[] => {
    const b = new Array<number>(tierCount).fill(0);
    dayNumbers.forEach((d, i) => {
      const v = dayVersions[i]!;
      const tiers = v.periods[Math.min(p, v.periods.length - 1)]!;
      const month = new Date(d * 86400000).getUTCMonth();
      for (let k = 0; k < tierCount; k++) {
        const tier = tiers[Math.min(k, tiers.length - 1)]!;
        if (tier.max === undefined) b[k] = Number.POSITIVE_INFINITY;
        else if (tier.unit === 'kWh daily') b[k]! += tier.max;
        else if (tier.unit === 'baseline') b[k]! += tier.max * (v.baselinePerDay?.[month] ?? 0);
        else b[k]! += tier.max / days;
      }
    });
    return b;
  };

  const energyParts = new Map<string, BillComponent>();
  const partFor = (kind: 'energy' | 'credit', tier: number, dayPart: string): BillComponent => {
    const key = `${kind}/${tier}/${dayPart}`;
    let part = energyParts.get(key);
    if (!part) energyParts.set(key, (part = { kind, tier, dayPart, energy: 0, cost: 0 }));
    return part;
  };
  // The components an interval adds to, found once per version, period and tier (the hot loop
  // builds no strings).
  const slots = new Map<TariffVersion, { energy: BillComponent[][]; credit: BillComponent[] }>();
  const slotsOf = (v: TariffVersion): { energy: BillComponent[][]; credit: BillComponent[] } => {
    let s = slots.get(v);
    if (!s) slots.set(v, (s = { energy: [], credit: [] }));
    return s;
  };
  const labelOf = (v: TariffVersion, p: number): string => v.labels[p] ?? `period ${p + 1}`;
  const boundsByPeriod: number[][] = [];
  // Each local day of the bill: its month, whether it is priced on the weekend schedule, its version.
  const dayMonth = dayNumbers.map((d) => new Date(d * 86400000).getUTCMonth());
  const dayWeekend = dayNumbers.map((d) => {
    const weekday = new Date(d * 86400000).getUTCDay();
    return weekday === 0 || weekday === 6 || holidays.has(d);
  });
  const priced: PricedInterval[] = [];
  // The same parts, day by day: per local day, a copy of each bill part it added to.
  const dayParts: Array<Map<BillComponent, BillComponent>> = [];
  const addDay = (di: number, part: BillComponent, energy: number, cost: number): void => {
    const parts = (dayParts[di] ??= new Map());
    let own = parts.get(part);
    if (!own) parts.set(part, (own = { kind: part.kind, tier: part.tier, dayPart: part.dayPart, energy: 0, cost: 0 }));
    own.energy += energy;
    own.cost += cost;
  };
  let cumulative = 0;
  let covered = 0;
  const exportsByPeriod: Array<{ index: number; day: number; energy: number; retail: number; sell: number; label: string }> = [];
  const netting = tariff.netMetering?.netting;
  const offsets = offsetSegments(period, timezone);
  let segment = 0;
  for (const interval of intervals) {
    if (interval.start < period.start || interval.start >= period.end) continue;
    covered += interval.end - interval.start;
    // Intervals come in time order: the offset segment only moves forward (but look it up afresh if not).
    if (segment > 0 && interval.start < offsets[segment]!.from) segment = 0;
    while (segment + 1 < offsets.length && interval.start >= offsets[segment + 1]!.from) segment++;
    const shifted = interval.start + offsets[segment]!.offset;
    const day = Math.floor(shifted / 86400);
    const hour = Math.floor((shifted - day * 86400) / 3600);
    const di = Math.min(Math.max(day - firstDay, 0), days - 1);
    const v = dayVersions[di]!;
    const month = dayMonth[di]!;
    const p = (dayWeekend[di] ? v.weekend : v.weekday)[month]![hour]!;
    const tiers = v.periods[p]!;
    const fuel = v.fuelAdjustments[month] ?? 0;
    let imported = interval.energy;
    let exported = interval.exported ?? 0;
    if (netting === 'hour') {
      const net = imported - exported;
      imported = Math.max(net, 0);
      exported = Math.max(-net, 0);
    }
    let cost = 0;
    // Walk the tiers from where the bill's usage stands.
    const b = (boundsByPeriod[p] ??= boundsFor(p, tiers.length));
    const s = slotsOf(v);
    const row = (s.energy[p] ??= []);
    let left = imported;
    for (let k = 0; k < tiers.length && left > 0; k++) {
      const room = k === tiers.length - 1 ? left : Math.max(0, b[k]! - cumulative);
      const take = Math.min(left, room);
      if (take <= 0) continue;
      const c = take * (tiers[k]!.rate + fuel);
      const part = (row[k] ??= partFor('energy', k + 1, labelOf(v, p)));
      part.energy += take;
      part.cost += c;
      addDay(di, part, take, c);
      cost += c;
      cumulative += take;
      left -= take;
    }
    if (exported > 0) {
      const sell = tariff.netMetering?.credit ?? tiers[0]!.sell ?? 0;
      if (netting === 'month' || netting === 'year') {
        exportsByPeriod.push({ index: priced.length, day: di, energy: exported, retail: tiers[0]!.rate + fuel, sell, label: labelOf(v, p) });
      } else {
        const c = -exported * sell;
        const part = (s.credit[p] ??= partFor('credit', 1, labelOf(v, p)));
        part.energy -= exported;
        part.cost += c;
        addDay(di, part, -exported, c);
        cost += c;
      }
    }
    priced.push({ start: interval.start, end: interval.end, energy: interval.energy - (interval.exported ?? 0), cost });
  }
  let surplusValue = 0;
  if (netting === 'month' || netting === 'year') {
    // Exports offset imports at the retail rate of their period, up to the bill's imports; the
    // surplus is paid at the sell rate (month) or carried at retail value to later bills (year).
    let retailRoom = cumulative;
    for (const e of exportsByPeriod) {
      const atRetail = Math.min(e.energy, retailRoom);
      retailRoom -= atRetail;
      if (netting === 'year') surplusValue += (e.energy - atRetail) * e.retail;
      const c = -(atRetail * e.retail + (netting === 'month' ? (e.energy - atRetail) * e.sell : 0));
      const part = partFor('credit', 1, e.label);
      part.energy -= e.energy;
      part.cost += c;
      addDay(e.day, part, -e.energy, c);
      priced[e.index]!.cost += c;
    }
  }

  const components = [...energyParts.values()].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'energy' ? -1 : 1) || a.tier! - b.tier! || a.dayPart!.localeCompare(b.dayPart!));
  let energyCost = components.reduce((s, c) => s + c.cost, 0);
  if (netting === 'year' && carry) {
    // Earlier bills' surplus pays this bill's energy charges (never the fixed ones), then this
    // bill's own surplus joins the carry; at the true-up what is left goes, and the year's net
    // surplus energy is paid at the credit rate.
    const state = carry.state;
    const applied = Math.min(state.credit, Math.max(energyCost, 0));
    if (applied > 0) components.push({ kind: 'credit', name: 'carried net-metering credit', energy: 0, cost: -applied });
    energyCost -= applied;
    state.credit += surplusValue - applied;
    state.imported += cumulative;
    state.exported += exportsByPeriod.reduce((n, e) => n + e.energy, 0);
    if (carry.trueUp) {
      const surplus = state.exported - state.imported;
      // The credit rate, else the sell rate of the version in force at the bill's end.
      const rate = tariff.netMetering?.credit ?? dayVersions[days - 1]!.periods[0]![0]!.sell ?? 0;
      if (surplus > 0 && rate > 0) {
        components.push({ kind: 'credit', name: 'net surplus compensation', energy: -surplus, cost: -surplus * rate });
        energyCost -= surplus * rate;
      }
      state.credit = 0;
      state.imported = 0;
      state.exported = 0;
    }
  }
  const monthDays = DateTime.fromSeconds(period.start, { zone: timezone }).daysInMonth ?? 30;
  const fixed = dayVersions.reduce((s, v) => s + perDay(v.fixed, days, monthDays), 0);
  if (fixed > 0) components.push({ kind: 'fixed', energy: 0, cost: fixed });
  const minimum = dayVersions.reduce((s, v) => s + perDay(v.minimum, days, monthDays), 0);
  const topUp = minimum > 0 ? Math.max(0, minimum - (energyCost + fixed)) : 0;
  if (topUp > 0) components.push({ kind: 'minimum', energy: 0, cost: topUp });
  const before = energyCost + fixed + topUp;
  // Tax percentages, prorated by days when a version changes them inside the bill.
  const taxes = new Map<string, number>();
  for (const v of dayVersions) for (const t of v.taxes) taxes.set(t.name, (taxes.get(t.name) ?? 0) + t.percent / 100 / days);
  let taxRate = 0;
  for (const [name, rate] of taxes) {
    taxRate += rate;
    components.push({ kind: 'tax', name, energy: 0, cost: before * rate });
  }
  const total = components.reduce((s, c) => s + c.cost, 0);
  return {
    start: period.start,
    end: period.end,
    days,
    energy: priced.reduce((s, i) => s + i.energy, 0),
    total,
    components,
    intervals: taxRate === 0 ? priced : priced.map((i) => ({ start: i.start, end: i.end, energy: i.energy, cost: i.cost * (1 + taxRate) })),
    daily: dayParts.flatMap((parts, di) => (parts ? [{ start: localMidnight(dayNumbers[di]!, timezone), parts: [...parts.values()] }] : [])),
    missingSeconds: period.end - period.start - covered,
  };
}

/** Price every billing period that intervals fall in (sorted by time). */
export function priceUsage(tariff: Tariff, intervals: readonly UsageInterval[], timezone: string, options: { range?: { start: number; end: number }; bills?: ReadonlyArray<{ start: number; end: number }> } = {}): Bill[] {
  if (intervals.length === 0 && !options.range) return [];
  const range = options.range ?? { start: intervals[0]!.start, end: intervals[intervals.length - 1]!.end };
  const sorted = intervals.every((x, i) => i === 0 || intervals[i - 1]!.start <= x.start) ? intervals : [...intervals].sort((a, b) => a.start - b.start);
  // Each bill gets only its own slice (binary search), so a year costs one pass, not twelve.
  const lowerBound = (t: number): number => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]!.start < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  // Yearly net metering: bills in order, the carry passed along; the true-up closes the bill
  // that ends in the true-up month.
  const trueUpMonth = tariff.netMetering?.trueUpMonth ?? 12;
  const state: NetMeteringCarry = { credit: 0, imported: 0, exported: 0 };
  return billingPeriods(tariff, range, timezone, options.bills).map((period) => {
    const trueUp = DateTime.fromSeconds(period.end - 1, { zone: timezone }).month === trueUpMonth;
    return priceBill(tariff, period, sorted.slice(lowerBound(period.start), lowerBound(period.end)), timezone, tariff.netMetering?.netting === 'year' ? { state, trueUp } : undefined);
  });
}
