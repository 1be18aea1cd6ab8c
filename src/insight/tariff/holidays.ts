/**
 * Named holiday calendars for tariffs whose time-of-use periods treat holidays like weekends:
 *
 * - `nerc`: the six days NERC lists as off-peak for the electric industry — New Year's Day,
 *   Memorial Day (last Monday of May), Independence Day, Labor Day (first Monday of September),
 *   Thanksgiving (fourth Thursday of November), Christmas Day; one falling on a Sunday moves to
 *   the Monday after, one on a Saturday stays (NERC's rule, which most US TOU tariffs cite);
 * - `us-federal`: the legal public holidays of 5 U.S.C. 6103 — the NERC days plus Martin Luther
 *   King Jr. Day (third Monday of January), Washington's Birthday (third Monday of February),
 *   Juneteenth (June 19, from 2021), Columbus Day (second Monday of October) and Veterans Day
 *   (November 11); a Saturday holiday is observed the Friday before, a Sunday one the Monday after.
 */

/** The calendars a tariff file may name. */
export const HOLIDAY_CALENDARS = ['nerc', 'us-federal'] as const;

/** A calendar's name. */
export type HolidayCalendar = (typeof HOLIDAY_CALENDARS)[number];

const iso = (y: number, m: number, d: number): string => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
const weekday = (y: number, m: number, d: number): number => new Date(Date.UTC(y, m - 1, d)).getUTCDay();

/** The `n`th (1-based; −1 = last) `dow` (0 = Sunday) of month `m`. */
function nth(y: number, m: number, dow: number, n: number): number {
  if (n > 0) return 1 + ((dow - weekday(y, m, 1) + 7) % 7) + (n - 1) * 7;
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return last - ((weekday(y, m, last) - dow + 7) % 7);
}

/** Move a fixed-date holiday to its observed day: Sunday → Monday; Saturday → Friday (federal) or stays (NERC). */
function observed(y: number, m: number, d: number, saturdayToFriday: boolean): string {
  const t = Date.UTC(y, m - 1, d);
  const dow = weekday(y, m, d);
  const shift = dow === 0 ? 1 : dow === 6 && saturdayToFriday ? -1 : 0;
  return new Date(t + shift * 86400000).toISOString().slice(0, 10);
}

/** The holidays of `calendar` in the years `from`…`to`, as local dates. */
export function holidayDates(calendar: HolidayCalendar, from: number, to: number): string[] {
  const out: string[] = [];
  const federal = calendar === 'us-federal';
  for (let y = from; y <= to; y++) {
    out.push(observed(y, 1, 1, federal), iso(y, 5, nth(y, 5, 1, -1)), observed(y, 7, 4, federal), iso(y, 9, nth(y, 9, 1, 1)), iso(y, 11, nth(y, 11, 4, 4)), observed(y, 12, 25, federal));
    if (federal) {
      out.push(iso(y, 1, nth(y, 1, 1, 3)), iso(y, 2, nth(y, 2, 1, 3)), iso(y, 10, nth(y, 10, 1, 2)), observed(y, 11, 11, true));
      if (y >= 2021) out.push(observed(y, 6, 19, true));
    }
  }
  return out.sort();
}
