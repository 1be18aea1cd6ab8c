/**
 * Time windows: parsing `--since/--until`, local day and week boundaries, alignment and chunking.
 *
 * Instants are Unix seconds (UTC). Anything "local" goes through luxon with an IANA zone, never
 * by adding 24 h, so the 23-hour spring day and the 25-hour fall day come out right.
 */
import { DateTime, IANAZone } from 'luxon';
import type { WeekStart } from './config.ts';
import { ConfigError } from './errors.ts';
import type { Timescale } from './records.ts';

/** A half-open interval [start, end) in Unix seconds. */
export interface TimeWindow {
  start: number;
  end: number;
}

/** Local time rules: the zone and the first day of the week. */
export interface LocalRules {
  timezone: string;
  weekStart: WeekStart;
}

const WEEKDAY: Record<WeekStart, number> = { monday: 1, tuesday: 2, wednesday: 3, thursday: 4, friday: 5, saturday: 6, sunday: 7 };

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** Parse `90m`, `36h`, `5d`, `2w` into seconds; undefined if `text` is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([smhdw])$/.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2]!]!);
}

/**
 * Parse a `--since`/`--until` value: a duration before `now` (`5d`), a local date
 * (`2025-10-28` = local midnight), a local date-time (`2025-10-28T06:00`), an instant with an
 * offset or `Z`, or `now`. Throws {@link ConfigError} naming `name`.
 */
export function parseTimeArg(value: string, options: { now: number; timezone: string; name: string }): number {
  const text = value.trim();
  if (text === 'now') return options.now;
  const duration = parseDuration(text);
  if (duration !== undefined) return options.now - duration;
  const parsed = DateTime.fromISO(text, { zone: options.timezone, setZone: false });
  if (!parsed.isValid) {
    throw new ConfigError(
      `${options.name}: expected a date (2025-10-28), a date-time (2025-10-28T06:00, local to ${options.timezone} unless it has an offset) or a duration (5d, 36h); got "${text}"`,
      options.name,
    );
  }
  // An ambiguous local time (the repeated fall-back hour) means its earlier instant, so a
  // --since never skips data.
  const offsets = parsed.getPossibleOffsets();
  const earliest = Math.min(...offsets.map((o) => o.toSeconds()));
  return Math.floor(Number.isFinite(earliest) ? earliest : parsed.toSeconds());
}

const offsetCache = new Map<string, Map<number, number>>();

/**
 * UTC offset in seconds of `timezone` at instant `t`. Cached per quarter hour: every real
 * zone changes its offset on a quarter-hour boundary, and asking Intl for each of a million
 * minute samples is what made rollups slow.
 */
export function utcOffset(t: number, timezone: string): number {
  let cache = offsetCache.get(timezone);
  if (!cache) offsetCache.set(timezone, (cache = new Map()));
  const key = Math.floor(t / 900);
  let offset = cache.get(key);
  if (offset === undefined) {
    if (cache.size > 200_000) cache.clear();
    offset = IANAZone.create(timezone).offset(key * 900_000) * 60;
    cache.set(key, offset);
  }
  return offset;
}

const dayCache = new Map<string, Map<number, number>>();

// Start of the local day containing t, computed by luxon once per zone and local date.
function localDayStart(t: number, timezone: string): number {
  let cache = dayCache.get(timezone);
  if (!cache) dayCache.set(timezone, (cache = new Map()));
  const localDay = Math.floor((t + utcOffset(t, timezone)) / 86400);
  let start = cache.get(localDay);
  if (start === undefined) {
    if (cache.size > 100_000) cache.clear();
    start = Math.floor(local(t, timezone).startOf('day').toSeconds());
    cache.set(localDay, start);
  }
  return start;
}

function local(t: number, timezone: string): DateTime {
  return DateTime.fromSeconds(t, { zone: timezone });
}

/** Start of the local period of `timescale` that contains instant `t`. */
export function periodStart(t: number, timescale: Timescale, rules: LocalRules): number {
  switch (timescale) {
    case 'minute':
      return Math.floor(t / 60) * 60;
    case 'hour': {
      // Local hours: in Asia/Kolkata an hour starts at :30 UTC.
      const offset = utcOffset(t, rules.timezone);
      const start = t - ((((t + offset) % 3600) + 3600) % 3600);
      // An offset change inside that hour (a half-hour DST shift, as on Lord Howe Island):
      // let luxon decide, as it does for the rare cases the cache can't.
      if (utcOffset(start, rules.timezone) !== offset) return Math.floor(local(t, rules.timezone).startOf('hour').toSeconds());
      return start;
    }
    case 'day':
      return localDayStart(t, rules.timezone);
    case 'week': {
      const day = localDayStart(t, rules.timezone);
      // Days since 1970-01-01 (a Thursday) of the local date give the ISO weekday.
      const localDays = Math.floor((day + utcOffset(day, rules.timezone)) / 86400);
      const weekday = ((localDays + 3) % 7 + 7) % 7 + 1;
      const back = (weekday - WEEKDAY[rules.weekStart] + 7) % 7;
      // Noon of the target day: whatever DST did in between, it is that local date.
      return back === 0 ? day : localDayStart(day - back * 86400 + 12 * 3600, rules.timezone);
    }
    case 'bill':
      throw new RangeError(BILL_PERIODS);
  }
}

// Billing periods are whatever the utility says they are; nothing can compute one.
const BILL_PERIODS = 'billing periods are irregular: there is no local period of timescale "bill"';

/** Start of the next local period after the one starting at `start`. */
export function nextPeriodStart(start: number, timescale: Timescale, rules: LocalRules): number {
  switch (timescale) {
    case 'minute':
      return start + 60;
    case 'hour':
      // An hour is always 3600 s of real time; adding a local hour would skip the repeated
      // fall-back hour.
      return start + 3600;
    case 'day':
      // A local day lasts 23 to 25 hours, so 25 h after its start lies in the next day.
      return localDayStart(start + 25 * 3600, rules.timezone);
    case 'week':
      // A local week lasts 167 to 169 hours: 171 h after its start is early on the next one.
      return localDayStart(start + 171 * 3600, rules.timezone);
    case 'bill':
      throw new RangeError(BILL_PERIODS);
  }
}

/** Widen a window outwards to whole local periods of `timescale`. */
export function alignWindow(window: TimeWindow, timescale: Timescale, rules: LocalRules): TimeWindow {
  const start = periodStart(window.start, timescale, rules);
  const lastStart = periodStart(window.end - 1, timescale, rules);
  const end = lastStart < window.end ? nextPeriodStart(lastStart, timescale, rules) : window.end;
  return { start, end: Math.max(end, window.end) };
}

/** The local periods of `timescale` overlapping a window, each as a window. */
export function periods(window: TimeWindow, timescale: Timescale, rules: LocalRules): TimeWindow[] {
  const out: TimeWindow[] = [];
  for (let start = periodStart(window.start, timescale, rules); start < window.end; ) {
    const end = nextPeriodStart(start, timescale, rules);
    out.push({ start, end });
    start = end;
  }
  return out;
}

/** Local calendar date (`YYYY-MM-DD`) of instant `t`. */
export function localDate(t: number, timezone: string): string {
  return local(t, timezone).toISODate()!;
}

/** Local date-time with its offset (`2025-11-02T01:00:00-08:00`), as portals expect. */
export function localIso(t: number, timezone: string): string {
  return local(t, timezone).toISO({ suppressMilliseconds: true })!;
}

/**
 * Split a window into chunks no longer than `maxDays` whole local days (or `maxSeconds`),
 * in order. Day chunks start and end at local midnight except where the window itself doesn't.
 */
export function chunkWindow(window: TimeWindow, limit: { maxDays?: number; maxSeconds?: number }, rules: LocalRules): TimeWindow[] {
  const out: TimeWindow[] = [];
  let start = window.start;
  while (start < window.end) {
    let end: number;
    if (limit.maxDays !== undefined) {
      end = Math.floor(local(start, rules.timezone).startOf('day').plus({ days: limit.maxDays }).toSeconds());
    } else if (limit.maxSeconds !== undefined) {
      end = start + limit.maxSeconds;
    } else {
      end = window.end;
    }
    end = Math.min(Math.max(end, start + 1), window.end);
    out.push({ start, end });
    start = end;
  }
  return out;
}

/** `[a, b)` formatted as ISO instants, for messages. */
export function describeWindow(window: TimeWindow): string {
  const iso = (t: number): string => new Date(t * 1000).toISOString().replace('.000Z', 'Z');
  return `${iso(window.start)} → ${iso(window.end)}`;
}
