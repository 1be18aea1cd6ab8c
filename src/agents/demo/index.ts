/**
 * `demo`: a simulated home, so the whole pipeline runs with no account.
 *
 * Hourly household energy follows the outdoor temperature (air conditioning above ~75 °F,
 * heating below ~55 °F) on top of a daily routine; hourly outdoor temperature and humidity
 * follow the season and the time of day; a UPS draws ~40 W, sampled every minute.
 * Every value is a pure function of (seed, series, instant), so any window gives the same
 * value for the same hour and re-runs are byte-identical.
 */
import { DateTime } from 'luxon';
import { z } from '../../deps.ts';
import { type Config, readEnv } from '../../config.ts';
import { type DataRecord, humidityRecord, powerRecord, type RecordBase, temperatureRecord, upsRecord } from '../../records.ts';
import { chain } from '../../rollup.ts';
import type { TimeWindow } from '../../window.ts';
import type { Agent, AgentLimits, AgentModule } from '../agent.ts';

/** Settings of the demo agent. */
export const demoSettings = z.object({
  seed: z.coerce.number().int().default(42),
  days: z.coerce.number().int().min(1).max(3660).default(30),
});

/** Parsed demo settings. */
export type DemoSettings = z.output<typeof demoSettings>;

const SOURCE = 'homeflux.demo';

// mulberry32-style integer hash → [0, 1): deterministic noise keyed by seed, series and time.
function noise(seed: number, salt: number, t: number): number {
  let x = (t ^ Math.imul(salt, 0x9e3779b9) ^ Math.imul(seed, 0x85ebca6b)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  x ^= x >>> 16;
  return (x >>> 0) / 4294967296;
}

// Noise that drifts smoothly: hashed knots every 6 hours, cosine-interpolated.
function smoothNoise(seed: number, salt: number, t: number): number {
  const step = 6 * 3600;
  const k = Math.floor(t / step);
  const f = (t - k * step) / step;
  const w = (1 - Math.cos(Math.PI * f)) / 2;
  return noise(seed, salt, k) * (1 - w) + noise(seed, salt, k + 1) * w;
}

const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** Outdoor temperature in °F at instant `t` (southern-California-like climate). */
export function demoTemperatureF(seed: number, t: number, timezone: string): number {
  const local = DateTime.fromSeconds(t, { zone: timezone });
  const seasonal = 66 - 12 * Math.cos((2 * Math.PI * (local.ordinal - 25)) / 365.25);
  const hour = local.hour + local.minute / 60;
  const diurnal = 11 * Math.cos((2 * Math.PI * (hour - 15)) / 24);
  return seasonal + diurnal + (smoothNoise(seed, 1, t) - 0.5) * 8;
}

/** Household energy in Wh for the hour starting at `t`. */
export function demoHourEnergyWh(seed: number, t: number, timezone: string): number {
  const hour = DateTime.fromSeconds(t, { zone: timezone }).hour;
  const temperature = demoTemperatureF(seed, t + 1800, timezone);
  let wh = 350; // fridge, router, standby
  if (hour >= 6 && hour < 9) wh += 450; // breakfast
  if (hour >= 17 && hour < 22) wh += 800; // cooking, lights, TV
  if (hour >= 23 || hour < 6) wh -= 80;
  if (temperature > 75) wh += (temperature - 75) * 180; // air conditioning
  if (temperature < 55) wh += (55 - temperature) * 60; // heating
  return round(wh * (0.85 + 0.3 * noise(seed, 2, t)), 1);
}

function hourRecords(seed: number, t: number, config: Config): DataRecord[] {
  const base = (location: string): RecordBase => ({ time: t, timescale: 'hour', source: SOURCE, location });
  const tempF = demoTemperatureF(seed, t, config.timezone);
  const humidity = Math.min(100, Math.max(5, 85 - (tempF - 50) * 1.1 + (smoothNoise(seed, 3, t) - 0.5) * 20));
  return [
    powerRecord(base('demo_meter'), { value: demoHourEnergyWh(seed, t, config.timezone), unit: 'Wh' }),
    temperatureRecord(base('demo_home'), { value: round(tempF, 2), unit: 'F', units: config.units }),
    humidityRecord(base('demo_home'), round(humidity, 1)),
  ].map((r) => ({ ...r, fields: Object.fromEntries(Object.entries(r.fields).map(([k, v]) => [k, typeof v === 'number' ? round(v, 3) : v])) }));
}

function minuteRecord(seed: number, t: number): DataRecord {
  const watts = round(40 + (smoothNoise(seed, 4, t) - 0.5) * 8 + (noise(seed, 5, t) - 0.5) * 3, 1);
  return upsRecord(
    { time: t, timescale: 'minute', source: SOURCE, location: 'demo_ups' },
    { load_percent: round((watts / 900) * 100, 1), power_w: watts, battery_charge: 100, input_voltage: round(120 + (noise(seed, 6, t) - 0.5) * 2, 1), status: 'OL' },
  );
}

/** Build the demo agent. */
export function createDemoAgent(settings: DemoSettings, config: Config): Agent {
  return {
    name: 'demo',
    async collect(window: TimeWindow): Promise<DataRecord[]> {
      const records: DataRecord[] = [];
      for (let t = Math.ceil(window.start / 3600) * 3600; t < window.end; t += 3600) records.push(...hourRecords(settings.seed, t, config));
      for (let t = Math.ceil(window.start / 60) * 60; t < window.end; t += 60) records.push(minuteRecord(settings.seed, t));
      return records;
    },
  };
}

/** The demo agent module. */
export const demo: AgentModule<DemoSettings> = {
  name: 'demo',
  description: 'A simulated home (energy, weather, UPS) so the pipeline runs without any account.',
  settings: demoSettings,
  fromEnv: (env) => readEnv(demoSettings, env, { seed: 'DEMO_SEED', days: 'DEMO_DAYS' }),
  create: createDemoAgent,
  limits: (settings): AgentLimits => ({
    maxWindow: { maxDays: 31 },
    lookback: settings.days * 86400,
    rollups: [
      ...chain('power', 'sum', 'hour'),
      ...chain('temperature', 'mean', 'hour'),
      ...chain('humidity', 'mean', 'hour'),
      { measurement: 'ups', from: 'minute', to: 'hour', how: 'mean' },
    ],
    // The last `days` whole local days: runs on the same day write byte-identical files.
    defaultWindow: (now, rules) => {
      const end = DateTime.fromSeconds(now, { zone: rules.timezone }).startOf('day');
      return { start: Math.floor(end.minus({ days: settings.days }).toSeconds()), end: Math.floor(end.toSeconds()) };
    },
  }),
};
