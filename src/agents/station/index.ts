/**
 * `station`: a home weather station posting its readings to us — Ecowitt's "Customized" upload
 * and the Weather Underground upload protocol — received by a small HTTP server
 * (`scripts/station.ts --listen HOST:PORT`, always on at home).
 *
 * Each accepted upload is kept until the next sample (one a minute) and then written at its
 * own time: outdoor and indoor temperature and humidity, pressure, wind, solar and UV. Hourly,
 * daily and weekly temperature and humidity are means (hour → day → week, like the weather
 * agent's), kept in a state file across restarts; rain per hour, day and week comes from the
 * station's own cumulative counters (src/counters.ts: the station's resets at midnight, the
 * week's or the month's start are handled). Units follow `HOMEFLUX_UNITS`.
 */
import type { Server } from 'node:http';
import type { Config } from '../../config.ts';
import { CounterState } from '../../counters.ts';
import { periodTotals } from '../../hour-energy.ts';
import { type DataRecord, humidityRecord, precipitationRecord, type RecordBase, sampleRecord, temperatureRecord } from '../../records.ts';
import type { LocalRules, TimeWindow } from '../../window.ts';
import { type Agent, type AgentModule, type CollectContext, samplingLimits } from '../agent.ts';
import type { StationReading } from './parse.ts';
import { HourMeans } from './means.ts';
import { type Refusal, startReceiver } from './receiver.ts';
import { stateFiles, stationFromEnv, type StationSettings, stationSettings } from './settings.ts';

export { stationSettings, type StationSettings } from './settings.ts';

/** `source` tag of every station record. */
export const STATION_SOURCE = 'homeflux.station';

const HPA_PER_INHG = 33.8639;
const KMH_PER_MPH = 1.609344;
const round3 = (value: number | undefined): number | undefined => (value === undefined ? undefined : Math.round(value * 1000) / 1000);

/** Build the station agent. */
export function createStationAgent(settings: StationSettings, config: Config): Agent {
  const rules: LocalRules = { timezone: config.timezone, weekStart: config.weekStart };
  const files = stateFiles(settings);
  const metric = config.units === 'metric';
  const pending: Array<{ reading: StationReading; time: number }> = [];
  const refused = new Map<Refusal, number>();
  const firstDetail = new Map<Refusal, string>();
  let dropped = 0;
  let server: Server | undefined;
  let means: HourMeans | undefined;
  let rain: CounterState | undefined;
  let offset = 0;

  const temperature = (base: RecordBase, f: number): DataRecord => {
    const record = temperatureRecord(base, { value: f, unit: 'F', units: config.units });
    record.fields.temperature = round3(record.fields.temperature as number)!;
    return record;
  };
  const rainRecord = (base: RecordBase, inches: number): DataRecord => {
    const record = precipitationRecord(base, { value: inches, unit: 'in', units: config.units });
    record.fields.precipitation = round3(record.fields.precipitation as number)!;
    return record;
  };

  /** The minute records of one reading, and its values added to the hourly means and the rain counter. */
  const readingRecords = (reading: StationReading, time: number): DataRecord[] => {
    const out: DataRecord[] = [];
    const base = (location: string): RecordBase => ({ source: STATION_SOURCE, location, time, timescale: 'minute' });
    const indoor = `${settings.location}_indoor`;
    for (const [location, f, humidity] of [
      [settings.location, reading.outdoorF, reading.outdoorHumidity],
      [indoor, reading.indoorF, reading.indoorHumidity],
    ] as const) {
      if (f !== undefined) {
        out.push(temperature(base(location), f));
        means!.add(`${location}|temperature`, time, f, rules);
      }
      if (humidity !== undefined) {
        out.push(humidityRecord(base(location), humidity));
        means!.add(`${location}|humidity`, time, humidity, rules);
      }
    }
    const pressure = (inHg: number | undefined): number | undefined => round3(inHg === undefined ? undefined : metric ? inHg * HPA_PER_INHG : inHg);
    const speed = (mph: number | undefined): number | undefined => round3(mph === undefined ? undefined : metric ? mph * KMH_PER_MPH : mph);
    const station = base(settings.location);
    if (reading.relativeInHg !== undefined || reading.absoluteInHg !== undefined) out.push(sampleRecord(station, 'pressure', { relative: pressure(reading.relativeInHg), absolute: pressure(reading.absoluteInHg) }));
    if (reading.windMph !== undefined || reading.gustMph !== undefined || reading.windDirection !== undefined) out.push(sampleRecord(station, 'wind', { speed: speed(reading.windMph), gust: speed(reading.gustMph), direction: reading.windDirection }));
    if (reading.solarWm2 !== undefined || reading.uv !== undefined) out.push(sampleRecord(station, 'solar', { radiation: reading.solarWm2, uv: reading.uv }));
    if (reading.rain !== undefined) rain!.add(`${settings.location}|${reading.rain.counter}`, time, reading.rain.inches, rules);
    return out;
  };

  /** Hour, day and week records of every series whose hours changed. */
  const periodRecords = (): DataRecord[] => {
    const out: DataRecord[] = [];
    for (const key of means!.touchedKeys()) {
      const [location, what] = key.split('|') as [string, 'temperature' | 'humidity'];
      for (const period of means!.takeTouched(key, rules)) {
        const base: RecordBase = { source: STATION_SOURCE, location, time: period.start, timescale: period.timescale, fields: { [period.timescale === 'hour' ? 'samples' : 'hours']: period.count } };
        out.push(what === 'temperature' ? temperature(base, period.mean) : humidityRecord(base, period.mean));
      }
    }
    for (const key of rain!.touchedKeys()) {
      const location = key.split('|')[0]!;
      const hours = rain!.takeTouched(key);
      for (const hour of hours) out.push(rainRecord({ source: STATION_SOURCE, location, time: hour.hour, timescale: 'hour', fields: { samples: hour.samples } }, hour.meanWatts));
      for (const total of periodTotals(rain!, key, { hourStarts: hours.map((h) => h.hour), rules })) {
        out.push(rainRecord({ source: STATION_SOURCE, location, time: total.start, timescale: total.timescale, fields: { hours: total.hours } }, total.wh));
      }
    }
    return out;
  };

  return {
    name: 'station',
    async collect(_window: TimeWindow, context: CollectContext): Promise<DataRecord[]> {
      context.log.mask(settings.passkey);
      context.log.mask(settings.password);
      if (server === undefined) {
        offset = context.now - Math.floor(Date.now() / 1000);
        means = await HourMeans.load(files.means);
        rain = await CounterState.load(files.rain);
        for (const warning of [means.warning, rain.warning]) if (warning) context.log.warn(`station: ${warning}`);
        server = await startReceiver(settings, {
          reading: (_protocol, reading, receivedMs) => {
            pending.push({ reading, time: reading.time ?? Math.floor(receivedMs / 1000) + offset });
            if (pending.length > settings.maxPending) {
              pending.shift();
              dropped++;
            }
          },
          refused: (why, detail) => {
            refused.set(why, (refused.get(why) ?? 0) + 1);
            if (detail !== undefined && !firstDetail.has(why)) firstDetail.set(why, detail);
          },
        });
        const { host, port } = settings.listen;
        context.log.info(`station: listening on ${host.includes(':') ? `[${host}]` : host}:${port} for Ecowitt and Wunderground-protocol uploads`);
      }
      if (refused.size > 0) {
        const parts = [...refused].map(([why, n]) => `${n} ${why}${firstDetail.has(why) ? ` (first: ${firstDetail.get(why)})` : ''}`);
        context.log.warn(`station: refused upload(s) since the last sample: ${parts.join('; ')}`);
        refused.clear();
        firstDetail.clear();
      }
      if (dropped > 0) context.problem(new Error(`${dropped} reading(s) dropped: more than STATION_MAX_PENDING=${settings.maxPending} arrived between two samples`));
      dropped = 0;
      const records: DataRecord[] = [];
      for (const { reading, time } of pending.splice(0)) records.push(...readingRecords(reading, time));
      records.push(...periodRecords());
      means!.prune(context.now, rules);
      rain!.prune(context.now, rules);
      if (!context.dryRun) {
        await means!.save(files.means);
        await rain!.save(files.rain);
      }
      return records;
    },
    async close() {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server = undefined;
    },
  };
}

/** The station agent module. */
export const stationAgent: AgentModule<StationSettings> = {
  name: 'station',
  description: 'A home weather station (Ecowitt customized upload, Wunderground protocol) posting to our receiver: temperature, humidity, pressure, wind, solar, UV, rain; --listen HOST:PORT.',
  requires: [['STATION_PASSKEY', 'STATION_ID']],
  settings: stationSettings,
  fromEnv: (env) => stationFromEnv(env),
  create: (settings, config) => createStationAgent(settings, config),
  sampling: { defaultIntervalSeconds: 60 },
  // Hours, days and weeks come from the state files (means.ts, src/counters.ts).
  limits: samplingLimits,
};
