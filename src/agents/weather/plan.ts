/**
 * Which Open-Meteo requests cover a window: the archive API for old hours, the forecast API's
 * `past_days` for recent ones. Pure, so the split is tested without a server.
 *
 * Everything is in GMT (`timezone=GMT`), so `start_date`/`end_date`/`past_days` count UTC days
 * and the split point is a UTC midnight: both APIs answer whole UTC days.
 */
import type { Units } from '../../records.ts';
import type { TimeWindow } from '../../window.ts';
import type { OpenMeteoRequest } from './client.ts';
import { HOURLY_VARIABLES } from './parse.ts';

const DAY = 86400;
const HOUR = 3600;

/** Where and how to ask. */
export interface PlanSettings {
  latitude: number;
  longitude: number;
  baseUrl: string;
  archiveBaseUrl: string;
  /** Hours within this many UTC days before today come from the forecast API (≤ 92). */
  forecastPastDays: number;
  units: Units;
}

const utcDate = (t: number): string => new Date(t * 1000).toISOString().slice(0, 10);

/**
 * The hour stamps a window needs: temperature and humidity at stamps inside the window,
 * precipitation (stamped at the end of its hour) up to one hour after it; never a stamp
 * after `now`. Returns `[first, last]` inclusive, or undefined when nothing can be asked.
 */
export function neededStamps(window: TimeWindow, now: number): [number, number] | undefined {
  const first = Math.ceil(window.start / HOUR) * HOUR;
  const last = Math.min(Math.floor((window.end + HOUR - 1) / HOUR) * HOUR, Math.floor(now / HOUR) * HOUR);
  return last >= first ? [first, last] : undefined;
}

/** The requests (archive first, then forecast) covering `window` as of `now`. */
export function planRequests(window: TimeWindow, now: number, settings: PlanSettings): OpenMeteoRequest[] {
  const stamps = neededStamps(window, now);
  if (!stamps) return [];
  const [first, last] = stamps;
  const today = Math.floor(now / DAY) * DAY;
  const cutoff = today - settings.forecastPastDays * DAY;
  const common: Record<string, string> = {
    latitude: String(settings.latitude),
    longitude: String(settings.longitude),
    hourly: HOURLY_VARIABLES.join(','),
    timezone: 'GMT',
    timeformat: 'unixtime',
    // Ask in the configured units so values are stored exactly as the API rounds them.
    temperature_unit: settings.units === 'metric' ? 'celsius' : 'fahrenheit',
    precipitation_unit: settings.units === 'metric' ? 'mm' : 'inch',
  };
  const requests: OpenMeteoRequest[] = [];
  if (first < cutoff) {
    requests.push({
      api: 'archive',
      baseUrl: settings.archiveBaseUrl,
      path: '/v1/archive',
      params: { ...common, start_date: utcDate(first), end_date: utcDate(Math.min(last, cutoff - 1)) },
    });
  }
  if (last >= cutoff) {
    const from = Math.floor(Math.max(first, cutoff) / DAY) * DAY;
    requests.push({
      api: 'forecast',
      baseUrl: settings.baseUrl,
      path: '/v1/forecast',
      // The last stamp is never after now, so today's forecast day is the last one needed.
      params: { ...common, past_days: String((today - from) / DAY), forecast_days: '1' },
    });
  }
  return requests;
}
