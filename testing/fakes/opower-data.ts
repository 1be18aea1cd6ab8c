/**
 * The fake Opower portal's data: pure functions of (account, hour), so every run and every
 * test sees the same values and can compute expectations independently of the agent.
 *
 * Values are invented (as in ../shared/fixtures/opower: shapes real, values made up); what is
 * modelled is how they relate: day reads are the sum of their hours, the four quarters of an
 * hour add up to it, a read's `readComponents` add up to the read, a bill is the sum of its
 * days. Sums are done in integer thousandths (energy) and millionths (money) so that "adds up"
 * holds exactly.
 */
import { DateTime } from 'luxon';

/** One utility account of a fake customer. */
export interface FakeAccount {
  uuid: string;
  meterType: 'ELEC' | 'GAS' | 'WATER';
  readResolution?: 'BILLING' | 'DAY' | 'HOUR' | 'HALF_HOUR' | 'QUARTER_HOUR' | 'FIVE_MINUTE';
  /** Unit in `units.consumption` / `unit`; default KWH, CCF (gas, as GWP-area gas utilities bill) or GAL. */
  unit?: string;
  /**
   * First local date with data (default: none before it matters). Any usage or cost request
   * whose span includes an earlier date answers 500 with the upstream error body. Real portals
   * answer 500 for spans before the data start (HA issue 99674); that a span *straddling* the
   * start fails as a whole is assumed — it is the answer that makes splitting necessary, and
   * the agent must store every day that does answer either way.
   */
  dataStart?: string;
  /**
   * The cost endpoint for day/hour: `normal`; `error500` (ConEd; ComEd before Nov 2022 — T
   * opower.py); `ratePlans` (`reads: []` with `ratePlans`, cost only per bill — fixture
   * cost-empty-rateplans.json). Bills keep their cost in every mode.
   */
  cost?: 'normal' | 'error500' | 'ratePlans';
  /** The cost endpoint answers day reads to `aggregateType=hour` (PROTOCOL.md: read's own length decides). */
  hourlyCostAsDaily?: boolean;
  /** Claims `QUARTER_HOUR` but answers hour reads to `aggregateType=quarter_hour` (removed T comment about PG&E). */
  quarterAsHours?: boolean;
  /** Cost reads carry `readComponents` split by season and time-of-use period (fixture cost-day.json). */
  components?: boolean;
  /** Start of the first billing period (local date); default 2023-01-03. */
  billStart?: string;
  /** The GraphQL bill forecast has a segment for this account. */
  forecast?: boolean;
}

/** Peak hours and rates of the fake time-of-use tariff (invented, fixture-shaped labels). */
export const TOU = { peakFrom: 16, peakTo: 21, peakRate: 0.4125, offPeakRate: 0.2875, flatRate: 0.3125 } as const;
/** Billing period lengths in days, cycled (real periods run ~28–33 days: PROTOCOL.md). */
export const BILL_CYCLE = [30, 29, 32, 31, 28, 33] as const;

/** A deterministic hash of (text, n) in [0, 1). */
export function hash(text: string, n: number): number {
  let x = n >>> 0;
  for (let i = 0; i < text.length; i++) x = Math.imul(x ^ text.charCodeAt(i), 0x9e3779b1) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return ((x ^ (x >>> 16)) >>> 0) / 4294967296;
}
/** Round to `digits` decimals. */
export const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

/**
 * Split an hour's read (3 decimals) into four quarter-hour reads that add up to it exactly:
 * the split is done in integer thousandths, so no rounding is lost and none is negative.
 */
export function quarterSplit(value: number, seed: string, hour: number): number[] {
  const total = Math.round(value * 1000);
  const weights = [0, 1, 2, 3].map((i) => 1 + hash(seed, hour * 4 + i));
  const sum = weights.reduce((a, b) => a + b, 0);
  const parts = weights.slice(0, 3).map((w) => Math.floor((total * w) / sum));
  parts.push(total - parts.reduce((a, b) => a + b, 0));
  return parts.map((p) => p / 1000);
}

/** Local facts of an instant, cached (luxon's zone lookups dominate a 3-year backfill). */
export class LocalClock {
  private readonly cache = new Map<number, { iso: string; hour: number; ordinal: number; month: number; date: string }>();
  constructor(readonly zone: string) {}
  of(t: number): { iso: string; hour: number; ordinal: number; month: number; date: string } {
    let info = this.cache.get(t);
    if (!info) {
      const dt = DateTime.fromSeconds(t, { zone: this.zone });
      // Real reads carry milliseconds and the local offset: `2026-07-01T00:00:00.000-07:00`.
      info = { iso: dt.toISO()!, hour: dt.hour, ordinal: dt.ordinal, month: dt.month, date: dt.toISODate()! };
      this.cache.set(t, info);
    }
    return info;
  }
  /** Unix seconds of local midnight of a date. */
  midnight(date: string): number {
    return Math.floor(DateTime.fromISO(date, { zone: this.zone }).toSeconds());
  }
  /** Instants of the local hours of a day (23, 24 or 25 of them). */
  hoursOf(day: DateTime): number[] {
    const out: number[] = [];
    const end = day.plus({ days: 1 }).toSeconds();
    for (let t = day.toSeconds(); t < end; t += 3600) out.push(t);
    return out;
  }
}

/** True kWh (or CCF, gallons) of an account's hour starting at `t`. */
export function hourValue(account: FakeAccount | undefined, t: number, clock: LocalClock): number {
  const hour = clock.of(t).hour;
  const type = account?.meterType;
  const base = type === 'GAS' ? 0.02 + (hour >= 6 && hour < 9 ? 0.15 : 0) : type === 'WATER' ? (hour >= 6 && hour < 22 ? 4 : 0.5) : 0.25 + (hour >= 17 && hour < 22 ? 0.9 : 0) + (hour >= 6 && hour < 9 ? 0.35 : 0);
  return round(base * (0.7 + 0.6 * hash(account?.uuid ?? '', Math.floor(t / 3600))), 3);
}

/** The time-of-use labels and rate of an hour (season by local month, June–September summer). */
export function touOf(t: number, clock: LocalClock): { season: 'SUMMER' | 'WINTER'; dayPart: 'PEAK' | 'OFF_PEAK'; rate: number } {
  const { hour, month } = clock.of(t);
  const peak = hour >= TOU.peakFrom && hour < TOU.peakTo;
  return { season: month >= 6 && month <= 9 ? 'SUMMER' : 'WINTER', dayPart: peak ? 'PEAK' : 'OFF_PEAK', rate: peak ? TOU.peakRate : TOU.offPeakRate };
}

/** Money of one hour of use, in millionths of a dollar (exact sums). */
export function hourCostMicros(account: FakeAccount, t: number, value: number, clock: LocalClock): number {
  const rate = account.components ? touOf(t, clock).rate : TOU.flatRate;
  return Math.round(value * rate * 1e6);
}

/** The local billing periods of an account that have ended by `today` (a local date), oldest first. */
export function billPeriods(account: FakeAccount, today: string, zone: string): { first: DateTime; end: DateTime }[] {
  const out: { first: DateTime; end: DateTime }[] = [];
  const stop = DateTime.fromISO(today, { zone });
  let start = DateTime.fromISO(account.billStart ?? '2023-01-03', { zone });
  for (let i = 0; ; i++) {
    const end = start.plus({ days: BILL_CYCLE[i % BILL_CYCLE.length]! });
    if (end > stop) break;
    out.push({ first: start, end });
    start = end;
  }
  return out;
}

/** The open billing period containing `today`. */
export function openPeriod(account: FakeAccount, today: string, zone: string): { first: DateTime; end: DateTime } {
  const closed = billPeriods(account, today, zone);
  const first = closed.length > 0 ? closed[closed.length - 1]!.end : DateTime.fromISO(account.billStart ?? '2023-01-03', { zone });
  return { first, end: first.plus({ days: BILL_CYCLE[closed.length % BILL_CYCLE.length]! }) };
}
