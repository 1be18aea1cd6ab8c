/**
 * `weather`: hourly outdoor temperature, relative humidity and precipitation from Open-Meteo
 * (no account, any location) → `temperature`, `humidity`, `precipitation` records.
 *
 * Recent hours come from the forecast API (`/v1/forecast?past_days=…`), older ones from the
 * archive API (`/v1/archive?start_date=…&end_date=…`, back to 1940, a few days behind); the
 * split is automatic (src/agents/weather/plan.ts), so an hourly run makes one forecast request
 * and a backfill of years makes one archive request per 366 days.
 */
import { type Config, readEnv } from '../../config.ts';
import type { DataRecord } from '../../records.ts';
import { chain } from '../../rollup.ts';
import { describeWindow, type TimeWindow } from '../../window.ts';
import type { Agent, AgentLimits, AgentModule, CollectContext } from '../agent.ts';
import { fetchOpenMeteo, requestUrl } from './client.ts';
import { hourlyRecords, parseHourly } from './parse.ts';
import { planRequests } from './plan.ts';
import { type WeatherSettings, WEATHER_ENV, weatherSettings } from './settings.ts';

export { type WeatherSettings, WEATHER_ENV, weatherSettings } from './settings.ts';

/** `source` tag of every record. */
export const WEATHER_SOURCE = 'homeflux.open_meteo';

/** Default lookback: two days, so a few skipped hourly runs heal on the next one. */
export const WEATHER_LOOKBACK = 2 * 86400;

/** Build the weather agent. */
export function createWeatherAgent(settings: WeatherSettings, config: Config): Agent {
  return {
    name: 'weather',
    async collect(window: TimeWindow, context: CollectContext): Promise<DataRecord[]> {
      const now = context.now;
      const records: DataRecord[] = [];
      for (const request of planRequests(window, now, { ...settings, units: config.units })) {
        context.log.debug(`weather: GET ${requestUrl(request)}`);
        const body = await fetchOpenMeteo(request, { signal: context.signal, timeoutSeconds: config.httpTimeoutSeconds });
        const hourly = parseHourly(body, request);
        const got = hourlyRecords(hourly, {
          source: WEATHER_SOURCE,
          location: settings.location,
          units: config.units,
          origin: request,
          // Inside the window, and describing a moment (or an hour) that is already over.
          keep: (time, valueTime) => time >= window.start && time < window.end && valueTime <= now,
        });
        const missing = hourly.times.filter((t, i) => t <= now && t >= window.start && t < window.end && hourly.values.temperature_2m?.[i] === null).length;
        if (missing > 0) context.log.debug(`weather: ${request.api} API has no temperature for ${missing} past hour(s) of ${describeWindow(window)}; skipped`);
        records.push(...got);
      }
      return records;
    },
  };
}

/** The weather agent module. */
export const weather: AgentModule<WeatherSettings> = {
  name: 'weather',
  description: 'Hourly outdoor temperature, humidity and precipitation from Open-Meteo (forecast + archive API, no key).',
  requires: [['WEATHER_LATITUDE'], ['WEATHER_LONGITUDE']],
  settings: weatherSettings,
  fromEnv: (env) => readEnv(weatherSettings, env, WEATHER_ENV),
  create: createWeatherAgent,
  limits: (): AgentLimits => ({
    // One archive request per year of backfill; the forecast part is at most 92 days anyway.
    maxWindow: { maxDays: 366 },
    lookback: WEATHER_LOOKBACK,
    rollups: [...chain('temperature', 'mean', 'hour'), ...chain('humidity', 'mean', 'hour'), ...chain('precipitation', 'sum', 'hour')],
  }),
};
