/** Settings of the weather agent: the zod schema and the environment variable of each. */
import { z } from '../../deps.ts';
import { httpUrl } from '../../config.ts';

/** Settings of the weather agent. */
export const weatherSettings = z.object({
  latitude: z.coerce.number().min(-90, 'expected a latitude from -90 to 90').max(90, 'expected a latitude from -90 to 90'),
  longitude: z.coerce.number().min(-180, 'expected a longitude from -180 to 180').max(180, 'expected a longitude from -180 to 180'),
  location: z
    .string()
    .trim()
    .regex(/^[^\p{Cc}\\]{1,64}$/u, 'expected 1 to 64 characters without control characters or backslashes')
    .default('home'),
  baseUrl: httpUrl.default('https://api.open-meteo.com'),
  archiveBaseUrl: httpUrl.default('https://archive-api.open-meteo.com'),
  // The archive lags about 5 days, so fewer would leave a gap; the forecast API keeps 92.
  forecastPastDays: z.coerce.number().int().min(5, 'expected 5 to 92 days').max(92, 'expected 5 to 92 days').default(10),
});

/** Parsed weather settings. */
export type WeatherSettings = z.output<typeof weatherSettings>;

/** Environment variable of each setting. */
export const WEATHER_ENV = {
  latitude: 'WEATHER_LATITUDE',
  longitude: 'WEATHER_LONGITUDE',
  location: 'WEATHER_LOCATION',
  baseUrl: 'WEATHER_BASE_URL',
  archiveBaseUrl: 'WEATHER_ARCHIVE_BASE_URL',
  forecastPastDays: 'WEATHER_FORECAST_PAST_DAYS',
} as const;
