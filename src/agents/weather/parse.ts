/**
 * Open-Meteo response bodies → hourly series → records.
 *
 * The agent asks for `timeformat=unixtime` and `timezone=GMT`, so `hourly.time` holds Unix
 * seconds; ISO local times (the API's default, and what most real payloads in
 * test/fixtures/open-meteo/ carry) are read too, in the response's `timezone`, so a payload
 * saved by hand can be replayed.
 */
import { DateTime, FixedOffsetZone, IANAZone } from 'luxon';
import { z } from '../../deps.ts';
import { SourceDataError, excerpt } from '../../errors.ts';
import { type DataRecord, humidityRecord, precipitationRecord, type RecordBase, temperatureRecord, type Units } from '../../records.ts';

/** The hourly variables the agent reads, in the API's names. */
export const HOURLY_VARIABLES = ['temperature_2m', 'relative_humidity_2m', 'precipitation'] as const;

/** One of {@link HOURLY_VARIABLES}. */
export type HourlyVariable = (typeof HOURLY_VARIABLES)[number];

const series = z.array(z.number().nullable());

/** The parts of an Open-Meteo forecast/archive response the agent relies on. */
export const openMeteoResponse = z.object({
  latitude: z.number(),
  longitude: z.number(),
  utc_offset_seconds: z.number().int(),
  timezone: z.string(),
  hourly_units: z.record(z.string(), z.string()),
  hourly: z.looseObject({ time: z.array(z.union([z.number().int(), z.string()])) }),
});

/** A validated response. */
export type OpenMeteoResponse = z.output<typeof openMeteoResponse>;

/** Hourly values by variable, parallel to `times` (Unix seconds, UTC); `null` = no value. */
export interface HourlySeries {
  times: number[];
  values: Partial<Record<HourlyVariable, (number | null)[]>>;
  units: Partial<Record<HourlyVariable, string>>;
}

/** Where a body came from, for error messages: `forecast API /v1/forecast`. */
export interface ResponseOrigin {
  api: string;
  path: string;
}

const where = (origin: ResponseOrigin): string => `open-meteo ${origin.api} API (${origin.path})`;

/**
 * Validate a parsed JSON body and extract the requested hourly variables.
 * Throws {@link SourceDataError} naming the API, the path and what was wrong, with an excerpt.
 */
export function parseHourly(body: unknown, origin: ResponseOrigin, variables: readonly HourlyVariable[] = HOURLY_VARIABLES): HourlySeries {
  const fail = (what: string): never => {
    throw new SourceDataError(`${where(origin)}: ${what}`, excerpt(body));
  };
  const parsed = openMeteoResponse.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return fail(`expected an hourly forecast object, but ${issue.path.join('.') || 'the body'}: ${issue.message}`);
  }
  const response = parsed.data;
  const zone = responseZone(response);
  const times = response.hourly.time.map((t) => {
    if (typeof t === 'number') return t;
    const local = DateTime.fromISO(t, { zone });
    if (!local.isValid) return fail(`hourly.time holds "${t}", expected Unix seconds or an ISO local time`);
    return Math.floor(local.toSeconds());
  });
  const out: HourlySeries = { times, values: {}, units: {} };
  for (const variable of variables) {
    const column = series.safeParse(response.hourly[variable]);
    if (!column.success) fail(`hourly.${variable} is ${response.hourly[variable] === undefined ? 'missing' : 'not an array of numbers and nulls'}`);
    const values = column.data!;
    if (values.length !== times.length) fail(`hourly.${variable} has ${values.length} values for ${times.length} times`);
    const unit = response.hourly_units[variable];
    if (unit === undefined) fail(`hourly_units.${variable} is missing`);
    out.values[variable] = values;
    out.units[variable] = unit;
  }
  return out;
}

// ISO local times are wall-clock times in `timezone`, DST included. `utc_offset_seconds` is the
// offset at request time (a January Adelaide archive fetched in July says +09:30), so it is
// used only for a zone luxon doesn't know.
function responseZone(response: OpenMeteoResponse): IANAZone | FixedOffsetZone {
  if (IANAZone.isValidZone(response.timezone)) return IANAZone.create(response.timezone);
  return FixedOffsetZone.instance(response.utc_offset_seconds / 60);
}

const TEMPERATURE_UNITS: Record<string, 'C' | 'F'> = { '°C': 'C', '°F': 'F' };
const PRECIPITATION_UNITS: Record<string, 'mm' | 'in'> = { mm: 'mm', inch: 'in' };

/** What {@link hourlyRecords} needs besides the series. */
export interface RecordOptions {
  source: string;
  location: string;
  units: Units;
  origin: ResponseOrigin;
  /** Keep a record only if this accepts its time and the end of the hour it describes. */
  keep: (time: number, valueTime: number) => boolean;
}

/**
 * Records from hourly series. Temperature and humidity are instantaneous at their time stamp;
 * Open-Meteo's hourly `precipitation` is the sum over the **preceding** hour, so its record
 * starts one hour before the stamp (records carry the start of their interval). `null`
 * values are skipped: no point is invented.
 */
export function hourlyRecords(hourly: HourlySeries, options: RecordOptions): DataRecord[] {
  const records: DataRecord[] = [];
  const base = (time: number): RecordBase => ({ time, timescale: 'hour', source: options.source, location: options.location });
  const unitOf = <U extends string>(variable: HourlyVariable, table: Record<string, U>): U | undefined => {
    const unit = hourly.units[variable];
    if (unit === undefined) return undefined;
    // Own keys only: "constructor" or "toString" must not find Object.prototype's members (found by fuzzing).
    const known = Object.hasOwn(table, unit) ? table[unit] : undefined;
    if (known === undefined) throw new SourceDataError(`${where(options.origin)}: hourly_units.${variable} is "${unit}", expected one of ${Object.keys(table).join(', ')}`);
    return known;
  };
  const temperatureUnit = unitOf('temperature_2m', TEMPERATURE_UNITS);
  const precipitationUnit = unitOf('precipitation', PRECIPITATION_UNITS);
  const humidityUnit = hourly.units.relative_humidity_2m;
  if (humidityUnit !== undefined && humidityUnit !== '%') throw new SourceDataError(`${where(options.origin)}: hourly_units.relative_humidity_2m is "${humidityUnit}", expected "%"`);
  // A finite value can overflow on conversion (1e308 °C → °F is Infinity), which
  // validateRecord would refuse: name the value instead (found by fuzzing).
  const finite = (record: DataRecord, variable: HourlyVariable, i: number): DataRecord => {
    const value = Object.values(record.fields)[0];
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new SourceDataError(`${where(options.origin)}: hourly.${variable}[${i}] is out of range`, String(hourly.values[variable]?.[i]));
    return record;
  };
  hourly.times.forEach((t, i) => {
    const temperature = hourly.values.temperature_2m?.[i];
    if (temperatureUnit && typeof temperature === 'number' && options.keep(t, t)) {
      records.push(finite(temperatureRecord(base(t), { value: temperature, unit: temperatureUnit, units: options.units }), 'temperature_2m', i));
    }
    const humidity = hourly.values.relative_humidity_2m?.[i];
    if (typeof humidity === 'number' && options.keep(t, t)) records.push(humidityRecord(base(t), humidity));
    const precipitation = hourly.values.precipitation?.[i];
    if (precipitationUnit && typeof precipitation === 'number' && options.keep(t - 3600, t)) {
      records.push(finite(precipitationRecord(base(t - 3600), { value: precipitation, unit: precipitationUnit, units: options.units }), 'precipitation', i));
    }
  });
  return records;
}

/** `{"error":true,"reason":"…"}`, Open-Meteo's error body; the reason, or undefined. */
export function errorReason(body: unknown): string | undefined {
  const parsed = z.object({ error: z.literal(true), reason: z.string() }).safeParse(body);
  return parsed.success ? parsed.data.reason : undefined;
}
