/**
 * Which reads the agent asks the portal for, and over which dates.
 *
 * An account's `readResolution` (from the customers call) is the finest resolution its meter
 * records; the portal answers the aggregates at or above it and refuses finer ones. The names
 * are the portal's own, as the public Opower clients spell them (tronikos/opower:
 * `BILLING`, `DAY`, `HOUR`, `HALF_HOUR`, `QUARTER_HOUR`, `FIVE_MINUTE`; aggregate types `bill`,
 * `day`, `hour`, `half_hour`, `quarter_hour`).
 */
import { DateTime } from 'luxon';
import type { Timescale } from '../../records.ts';
import type { TimeWindow } from '../../window.ts';

/** The aggregate types the agent requests (`aggregateType=`). */
export type Aggregate = 'quarter_hour' | 'hour' | 'day';

/** Longest span, in local days, of one request per aggregate (the portal's own limits). */
export const REQUEST_DAYS: Readonly<Record<Aggregate, number>> = { quarter_hour: 6, hour: 26, day: 363 };

/** The bucket each aggregate's records go to: quarter hours live in the `minute` bucket. */
export const TIMESCALE_OF: Readonly<Record<Aggregate, Timescale>> = { quarter_hour: 'minute', hour: 'hour', day: 'day' };

/** `OPOWER_QUARTER_HOUR`: `auto` (where the account allows it), `true` (and say when none does), `false` (never). */
export type QuarterHourMode = 'auto' | boolean;

// Resolutions that serve hourly reads; anything else that is not BILLING gets day reads only.
const HOURLY = new Set(['HOUR', 'HALF_HOUR', 'QUARTER_HOUR', 'FIVE_MINUTE']);
// Resolutions that serve `aggregateType=quarter_hour` (five-minute meters aggregate up to it).
const QUARTER_HOURLY = new Set(['QUARTER_HOUR', 'FIVE_MINUTE']);

/** The account's resolution, upper case; `HOUR` when the portal names none (the common case). */
export function resolutionOf(readResolution: string | null | undefined): string {
  return (readResolution ?? 'HOUR').trim().toUpperCase();
}

/** True when the account's `readResolution` lets the portal serve quarter-hour reads. */
export function allowsQuarterHour(readResolution: string | null | undefined): boolean {
  return QUARTER_HOURLY.has(resolutionOf(readResolution));
}

/**
 * The usage aggregates to request for an account, coarse to fine. Hour and day reads are
 * requested as before; quarter hours in addition, when `mode` is not `false` and the account's
 * resolution allows them.
 */
export function aggregatesFor(readResolution: string | null | undefined, mode: QuarterHourMode): Aggregate[] {
  const resolution = resolutionOf(readResolution);
  if (resolution === 'BILLING') return [];
  if (!HOURLY.has(resolution)) return ['day'];
  return mode !== false && QUARTER_HOURLY.has(resolution) ? ['hour', 'day', 'quarter_hour'] : ['hour', 'day'];
}

/**
 * The part of `window` the portal can have data for: up to the end of the utility's local
 * date of `now` (today included, it fills up during the day). The pipeline's default window is
 * widened to whole weeks and so reaches days ahead; asking the portal for dates after today
 * would only cost requests (and some portals refuse them). Undefined when nothing is left.
 */
export function untilToday(window: TimeWindow, now: number, timezone: string): TimeWindow | undefined {
  const endOfToday = DateTime.fromSeconds(now, { zone: timezone }).startOf('day').plus({ days: 1 }).toSeconds();
  const end = Math.min(window.end, endOfToday);
  return end > window.start ? { start: window.start, end } : undefined;
}
