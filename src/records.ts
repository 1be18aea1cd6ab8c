/**
 * Records: the one data type every agent produces and every database consumes.
 *
 * A record is one InfluxDB point plus the timescale that picks its bucket; src/lineprotocol.ts
 * encodes it (and decodes stored lines). The schema
 * (measurements, fields, tags, units) is the original Python daemon's, so existing buckets
 * and dashboards keep working; see DESIGN.md "Data schema".
 */
import { z } from './deps.ts';

/**
 * Granularity of a record; picks the bucket `${prefix}-${timescale}`. `bill` holds a
 * utility's billing periods (irregular, ~28–33 days), which no local calendar period matches.
 */
export type Timescale = 'minute' | 'hour' | 'day' | 'week' | 'bill';

/** All timescales from finest to coarsest (`bill` last: it is never rolled up into or from). */
export const TIMESCALES: readonly Timescale[] = ['minute', 'hour', 'day', 'week', 'bill'];

/** Unit system for temperature and precipitation (`HOMEFLUX_UNITS`). */
export type Units = 'imperial' | 'metric';

/** A field value. Numbers are always written as floats so a field's type never changes. */
export type FieldValue = number | string | boolean;

/** One point: measurement, tags, fields, a UTC instant in whole seconds, and its timescale. */
export interface DataRecord {
  measurement: string;
  tags: { [key: string]: string };
  fields: { [key: string]: FieldValue };
  /** Start of the record's interval (or the sample time), Unix seconds, UTC. */
  time: number;
  timescale: Timescale;
}

/** The zod schema of a record's shape (values are checked further by {@link validateRecord}). */
export const dataRecordSchema = z.object({
  measurement: z.string().min(1),
  tags: z.record(z.string(), z.string()),
  fields: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  time: z.number().int(),
  timescale: z.enum(['minute', 'hour', 'day', 'week', 'bill']),
});

/** A record failed validation; the message names the agent and the record. */
export class RecordError extends Error {
  override name = 'RecordError';
}

/** What every builder needs: when, which bucket, who measured it and where. */
export interface RecordBase {
  /** Interval start or sample time: a Date or Unix seconds. */
  time: Date | number;
  timescale: Timescale;
  /** `homeflux.<agent>[.<provider>]`, e.g. `homeflux.opower.gwp`. */
  source: string;
  /** The place or device, e.g. `gwp_meter` or a UPS name. */
  location: string;
  /** Agent-specific tags (e.g. `account`); must not vary for the same real-world point. */
  tags?: { [key: string]: string };
  /** Extra fields stored beside the main one (e.g. `estimated`, `samples`). */
  fields?: { [key: string]: FieldValue };
}

/** Energy units accepted by {@link toWh}. `Wmin` is watt-minutes. */
export type EnergyUnit = 'Wh' | 'kWh' | 'MWh' | 'Wmin';

const WH_PER: Record<EnergyUnit, number> = { Wh: 1, kWh: 1_000, MWh: 1_000_000, Wmin: 1 / 60 };

/** Convert an energy amount to watt-hours, the one unit the `power` series uses. */
export function toWh(value: number, unit: EnergyUnit): number {
  const factor = WH_PER[unit];
  if (factor === undefined) throw new RecordError(`unknown energy unit "${String(unit)}": expected one of Wh, kWh, MWh, Wmin`);
  return value * factor;
}

/** Convert a temperature given in °C or °F to the configured unit system. */
export function convertTemperature(value: number, from: 'C' | 'F', units: Units): number {
  if (from === 'C') return units === 'metric' ? value : value * 1.8 + 32;
  return units === 'imperial' ? value : (value - 32) / 1.8;
}

/** Convert a precipitation depth given in mm or inches to the configured unit system. */
export function convertPrecipitation(value: number, from: 'mm' | 'in', units: Units): number {
  if (from === 'mm') return units === 'metric' ? value : value / 25.4;
  return units === 'imperial' ? value : value * 25.4;
}

/** Unix seconds of a Date or a number, rejecting fractional seconds. */
export function toUnixSeconds(time: Date | number): number {
  const seconds = typeof time === 'number' ? time : time.getTime() / 1000;
  if (!Number.isFinite(seconds)) throw new RecordError(`invalid time ${String(time)}`);
  return Math.floor(seconds);
}

function build(base: RecordBase, measurement: string, fields: { [key: string]: FieldValue }, tags: { [key: string]: string } = {}): DataRecord {
  return {
    measurement,
    tags: { data_source: 'homeflux', source: base.source, location: base.location, ...base.tags, ...tags },
    fields: { ...fields, ...base.fields },
    time: toUnixSeconds(base.time),
    timescale: base.timescale,
  };
}

/**
 * A record of a measurement without a builder of its own (`pressure`, `wind`, `solar`): the
 * common tags, and only the fields that have a value.
 */
export function sampleRecord(base: RecordBase, measurement: string, values: { [field: string]: number | undefined }): DataRecord {
  const fields: { [key: string]: number } = {};
  for (const [name, value] of Object.entries(values)) if (value !== undefined) fields[name] = value;
  return build(base, measurement, fields);
}

/** A smart plug's or energy monitor's sample (the scraper's example configs write the same). */
export interface PlugSample {
  power_w?: number;
  voltage?: number;
  current?: number;
  /** The device's cumulative energy counter, Wh. */
  energy_total_wh?: number;
}

/** `plug`: a device's instantaneous watts, volts, amps and energy counter at sample time. */
export function plugRecord(base: RecordBase, sample: PlugSample): DataRecord {
  return sampleRecord(base, 'plug', { ...sample });
}

/** A quantity and the unit it was measured in. */
export interface Quantity<U extends string> {
  value: number;
  unit: U;
}

/** `power.power_usage`: energy used during the interval, converted to Wh. */
export function powerRecord(base: RecordBase, energy: Quantity<EnergyUnit>): DataRecord {
  return build(base, 'power', { power_usage: toWh(energy.value, energy.unit) });
}

/** `gas.gas_usage` in the meter's own unit (`THERM`, `CCF`, …), tagged with it. */
export function gasRecord(base: RecordBase, amount: Quantity<string>): DataRecord {
  return build(base, 'gas', { gas_usage: amount.value }, { unit: amount.unit.toUpperCase() });
}

/** `water.water_usage` in the meter's own unit (`GAL`, `CCF`, …), tagged with it. */
export function waterRecord(base: RecordBase, amount: Quantity<string>): DataRecord {
  return build(base, 'water', { water_usage: amount.value }, { unit: amount.unit.toUpperCase() });
}

/** `cost.cost` in the utility's currency (ISO code, e.g. `USD`), tagged with it. */
export function costRecord(base: RecordBase, money: { value: number; currency: string }): DataRecord {
  return build(base, 'cost', { cost: money.value }, { currency: money.currency.toUpperCase() });
}

/** `temperature.temperature` converted to °F (imperial) or °C (metric). */
export function temperatureRecord(base: RecordBase, reading: Quantity<'C' | 'F'> & { units: Units }): DataRecord {
  return build(base, 'temperature', { temperature: convertTemperature(reading.value, reading.unit, reading.units) });
}

/** `humidity.humidity`, relative humidity in %. */
export function humidityRecord(base: RecordBase, percent: number): DataRecord {
  return build(base, 'humidity', { humidity: percent });
}

/** `precipitation.precipitation` converted to inches (imperial) or mm (metric). */
export function precipitationRecord(base: RecordBase, depth: Quantity<'mm' | 'in'> & { units: Units }): DataRecord {
  return build(base, 'precipitation', { precipitation: convertPrecipitation(depth.value, depth.unit, depth.units) });
}

/** Usage of a period in the schema's unit: `power_usage` in Wh, `gas_usage`/`water_usage` in the meter's unit. */
export type MeterUsage = { kind: 'power'; wh: number } | { kind: 'gas' | 'water'; value: number; unit: string };

function usageFields(usage: MeterUsage): { fields: { [key: string]: FieldValue }; tags: { [key: string]: string } } {
  if (usage.kind === 'power') return { fields: { power_usage: usage.wh }, tags: {} };
  return { fields: { [`${usage.kind}_usage`]: usage.value }, tags: { unit: usage.unit.toUpperCase() } };
}

/**
 * `bill`: one billing period of a utility account (timescale `bill`, time = period start):
 * its usage (`power_usage` Wh, or `gas_usage`/`water_usage` tagged with `unit`), `cost` when the
 * utility gives it, `days` and `end` (Unix seconds of the period's end, exclusive).
 */
export function billRecord(base: RecordBase, bill: { usage?: MeterUsage; cost?: number; currency: string; end: number; days: number }): DataRecord {
  const usage = bill.usage ? usageFields(bill.usage) : { fields: {}, tags: {} };
  const fields: { [key: string]: FieldValue } = { ...usage.fields, days: bill.days, end: bill.end };
  if (bill.cost !== undefined) fields.cost = bill.cost;
  return build(base, 'bill', fields, { ...usage.tags, currency: bill.currency.toUpperCase() });
}

/**
 * `cost_component`: the part of a cost read in one tier / season / time-of-use period, as the
 * utility splits it (`energy` in Wh for electricity, else in the meter unit tagged `unit`).
 * A measurement of its own, so sums over `power` and `cost` never count a read twice.
 */
export function costComponentRecord(base: RecordBase, part: { energy: MeterUsage; cost: number; currency: string; tier?: string; season?: string; dayPart?: string }): DataRecord {
  const energy = part.energy.kind === 'power' ? part.energy.wh : part.energy.value;
  const tags: { [key: string]: string } = { currency: part.currency.toUpperCase() };
  if (part.energy.kind !== 'power') tags.unit = part.energy.unit.toUpperCase();
  if (part.tier !== undefined) tags.tier = part.tier;
  if (part.season !== undefined) tags.season = part.season;
  if (part.dayPart !== undefined) tags.day_part = part.dayPart;
  return build(base, 'cost_component', { energy, cost: part.cost }, tags);
}

/** The utility's forecast of the current bill, as of one day (see the opower agent docs for the fields). */
export interface BillForecast {
  usageToDate?: number;
  costToDate?: number;
  forecastUsage?: number;
  forecastCost?: number;
  typicalUsage?: number;
  typicalCost?: number;
  periodStart: number;
  periodEnd: number;
}

/** `bill_forecast`: usage and cost so far in the open billing period, the forecast, and the same period last year. */
export function billForecastRecord(base: RecordBase, forecast: BillForecast, unit: { usageUnit: string; currency: string }): DataRecord {
  const fields: { [key: string]: FieldValue } = { period_start: forecast.periodStart, period_end: forecast.periodEnd };
  const put = (key: string, value: number | undefined): void => {
    if (value !== undefined) fields[key] = value;
  };
  put('usage_to_date', forecast.usageToDate);
  put('cost_to_date', forecast.costToDate);
  put('forecast_usage', forecast.forecastUsage);
  put('forecast_cost', forecast.forecastCost);
  put('typical_usage', forecast.typicalUsage);
  put('typical_cost', forecast.typicalCost);
  return build(base, 'bill_forecast', fields, { unit: unit.usageUnit, currency: unit.currency.toUpperCase() });
}

/** The UPS state at sample time; absent values are simply not written. */
export interface UpsState {
  load_percent?: number;
  power_w?: number;
  battery_charge?: number;
  input_voltage?: number;
  status?: string;
}

/** `ups` with load, watts, battery charge, input voltage and status. */
export function upsRecord(base: RecordBase, state: UpsState): DataRecord {
  const fields: { [key: string]: FieldValue } = {};
  for (const [key, value] of Object.entries(state)) if (value !== undefined) fields[key] = value as FieldValue;
  return build(base, 'ups', fields);
}

/** Short human description of a record for error messages. */
export function describeRecord(record: DataRecord): string {
  const tags = Object.entries(record.tags ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const time = Number.isFinite(record.time) ? new Date(record.time * 1000).toISOString() : String(record.time);
  return `${record.measurement}{${tags}} at ${time} (${record.timescale})`;
}

// Line protocol cannot carry these: the client would write `\n` as two characters that InfluxDB
// stores literally, so the value would not round-trip. Reject instead of altering data.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN = /[\u0000-\u001f\u007f]/;
// InfluxDB's parser reads `\\,` in a name or tag value differently from how the client escapes
// it, so a backslash there would not round-trip (found by test/hardening/roundtrip.test.ts).
const BACKSLASH = /\\/;

/**
 * Whether `value` can be a tag value that round-trips through InfluxDB: not empty, no control
 * characters, no backslash. Sources that turn payload text into tags check it up front.
 */
export function isValidTagValue(value: string): boolean {
  return value !== '' && !FORBIDDEN.test(value) && !BACKSLASH.test(value);
}

/**
 * Check a record against the schema rules: a known timescale, at least one field, finite
 * numbers, non-empty tag values, no newlines. Throws {@link RecordError} naming the agent and
 * the record; never drops silently.
 */
export function validateRecord(record: DataRecord, agent: string): void {
  const fail = (what: string): never => {
    throw new RecordError(`${agent}: invalid record ${describeRecord(record)}: ${what}`);
  };
  if (typeof record.measurement !== 'string' || record.measurement === '') fail('measurement is empty');
  if (record.tags === null || typeof record.tags !== 'object' || record.fields === null || typeof record.fields !== 'object') fail('tags and fields must be objects');
  if (FORBIDDEN.test(record.measurement)) fail('measurement contains a control character');
  if (BACKSLASH.test(record.measurement)) fail('measurement contains a backslash');
  // A line starting with # is a comment: InfluxDB would answer 204 and store nothing.
  if (record.measurement.startsWith('#')) fail('measurement starts with "#", which line protocol reads as a comment');
  if (record.measurement.startsWith('_')) fail('measurement names starting with "_" are reserved by InfluxDB');
  for (const [key, value] of Object.entries(record.tags)) {
    if (key === '' || FORBIDDEN.test(key) || BACKSLASH.test(key)) fail(`tag key ${JSON.stringify(key)} is empty or contains a control character or backslash`);
    if (key === 'time' || key.startsWith('_')) fail(`tag key "${key}" is reserved by InfluxDB`);
    if (value === '') fail(`tag "${key}" has an empty value`);
    if (!isValidTagValue(value)) fail(`tag "${key}" contains a control character or backslash`);
  }
  const fields = Object.entries(record.fields);
  if (fields.length === 0) fail('it has no fields');
  for (const [key, value] of fields) {
    if (key === '' || FORBIDDEN.test(key) || BACKSLASH.test(key)) fail(`field key ${JSON.stringify(key)} is empty or contains a control character or backslash`);
    if (key === 'time' || key.startsWith('_')) fail(`field key "${key}" is reserved by InfluxDB`);
    if (typeof value === 'number' && !Number.isFinite(value)) fail(`field "${key}" is ${value}`);
    if (typeof value === 'string' && FORBIDDEN.test(value)) fail(`field "${key}" contains a control character`);
  }
  for (const [key, value] of fields) {
    if (typeof value !== 'number' && typeof value !== 'string' && typeof value !== 'boolean') fail(`field "${key}" is a ${typeof value}, expected a number, string or boolean`);
  }
  for (const [key, value] of Object.entries(record.tags)) if (typeof value !== 'string') fail(`tag "${key}" is a ${typeof value}, expected a string`);
  // Plain checks rather than a zod parse per record: validation runs on every point of a backfill.
  if (!Number.isSafeInteger(record.time)) fail(`time must be whole Unix seconds, got ${String(record.time)}`);
  if (!TIMESCALES.includes(record.timescale)) fail(`timescale must be one of ${TIMESCALES.join(', ')}, got ${String(record.timescale)}`);
}

/** Bucket (v2) or database (v1) name for a timescale. */
export function bucketName(prefix: string, timescale: Timescale): string {
  return `${prefix}-${timescale}`;
}
