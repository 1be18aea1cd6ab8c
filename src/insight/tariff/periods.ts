/** Billing periods, and a bill's UTC offsets as segments, for the tariff engine. */
import { DateTime } from 'luxon';
import { utcOffset } from '../../window.ts';
import type { Tariff } from './file.ts';

/** Billing periods covering [from, to): calendar months, or months from a cycle day, local. */
export function billingPeriods(tariff: Tariff, range: { start: number; end: number }, timezone: string, bills?: ReadonlyArray<{ start: number; end: number }>): Array<{ start: number; end: number }> {
  if (tariff.billing.kind === 'bills') {
    if (!bills || bills.length === 0) return [];
    return bills.filter((b) => b.end > range.start && b.start < range.end).map((b) => ({ start: b.start, end: b.end }));
  }
  const day = tariff.billing.kind === 'cycle' ? tariff.billing.day : 1;
  let cursor = DateTime.fromSeconds(range.start, { zone: timezone }).startOf('day');
  cursor = cursor.day >= day ? cursor.set({ day }) : cursor.minus({ months: 1 }).set({ day });
  const out: Array<{ start: number; end: number }> = [];
  while (cursor.toSeconds() < range.end) {
    const next = cursor.plus({ months: 1 });
    out.push({ start: cursor.toSeconds(), end: next.toSeconds() });
    cursor = next;
  }
  return out;
}

/**
 * The zone's UTC offset through a bill as segments `{from, offset}`: asked once per day, and
 * where two days differ the change is found to the quarter hour (every real zone changes on
 * one) — so a year of quarter hours costs a few hundred offset look-ups, not 35,000.
 */
export function offsetSegments(period: { start: number; end: number }, timezone: string): Array<{ from: number; offset: number }> {
  const out = [{ from: period.start, offset: utcOffset(period.start, timezone) }];
  for (let t = period.start + 86400; ; t += 86400) {
    const at = Math.min(t, period.end);
    const offset = utcOffset(at, timezone);
    const last = out[out.length - 1]!;
    if (offset !== last.offset) {
      // The change is in (at − 1 day, at]: binary search on quarter hours.
      let lo = Math.floor((at - 86400) / 900);
      let hi = Math.floor(at / 900);
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (utcOffset(mid * 900, timezone) === last.offset) lo = mid;
        else hi = mid;
      }
      out.push({ from: hi * 900, offset });
    }
    if (at >= period.end) break;
  }
  return out;
}
