/**
 * Open-Meteo hourly temperature, humidity and precipitation → the configured store.
 * `WEATHER_LATITUDE=34.14 WEATHER_LONGITUDE=-118.25 npx tsx scripts/weather.ts [--since 2019-05-02] [--dry-run]`
 */
import { weather } from '../src/agents/weather.ts';
import { main } from '../src/run.ts';

await main(weather);
