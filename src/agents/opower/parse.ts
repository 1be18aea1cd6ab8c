/**
 * Opower payloads (zod schemas) and their mapping to records.
 *
 * Times in reads carry the utility's local offset (`2025-11-02T01:00:00-07:00`, then
 * `2025-11-02T01:00:00-08:00` an hour later); each becomes the UTC instant of the interval's
 * start, so the fall-back day yields 25 distinct hours and the spring-forward day 23.
 * A read that does not fit the schema is reported (with an excerpt) and skipped; the rest of
 * the payload is kept.
 */
import { DateTime } from 'luxon';
import { z } from '../../deps.ts';
import { excerpt, SourceDataError } from '../../errors.ts';
import { costRecord, type DataRecord, isValidTagValue, gasRecord, powerRecord, type RecordBase, temperatureRecord, type Timescale, type Units, waterRecord } from '../../records.ts';

/** One utility account (meter) of a customer. */
export const utilityAccountSchema = z.object({
  uuid: z.string().min(1),
  meterType: z.string().min(1),
  readResolution: z.string().optional().nullable(),
  preferredUtilityAccountId: z.string().optional().nullable(),
});

/** `GET …/multi-account-v1/cws/{code}/customers`. */
export const customersSchema = z.object({
  customers: z.array(z.object({ uuid: z.string().optional(), utilityAccounts: z.array(utilityAccountSchema).default([]) })),
});

/** A utility account as the agent uses it. */
export type UtilityAccount = z.output<typeof utilityAccountSchema>;

const readsEnvelope = z.object({ reads: z.array(z.unknown()), unit: z.string().optional().nullable(), currency: z.string().optional().nullable() });

/** One usage read: `consumption.value` in the payload's unit; `type` ACTUAL/ESTIMATED. */
export const usageReadSchema = z.object({
  startTime: z.string(),
  endTime: z.string().optional(),
  consumption: z.object({ value: z.number().nullable(), type: z.string().optional().nullable() }),
});

/** One cost read: `providedCost` is the money, absent where the utility doesn't provide it. */
export const costReadSchema = z.object({
  startTime: z.string(),
  endTime: z.string().optional(),
  value: z.number().nullable().optional(),
  providedCost: z.number().nullable().optional(),
});

/** One weather read: `date` (a local date, or a date-time with offset) and the mean temperature. */
export const weatherReadSchema = z.object({ date: z.string(), meanTemperature: z.number().nullable() });

type Obj = { [key: string]: unknown };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const numOrNull = (v: unknown): boolean => v === null || (typeof v === 'number' && Number.isFinite(v));
const optString = (v: unknown): boolean => v === undefined || typeof v === 'string';
const fitsUsage = (r: unknown): boolean =>
  isObj(r) && typeof r.startTime === 'string' && optString(r.endTime) && isObj(r.consumption) && numOrNull(r.consumption.value) && (r.consumption.type === undefined || r.consumption.type === null || typeof r.consumption.type === 'string');
const fitsCost = (r: unknown): boolean => isObj(r) && typeof r.startTime === 'string' && optString(r.endTime) && (r.value === undefined || numOrNull(r.value)) && (r.providedCost === undefined || numOrNull(r.providedCost));
const fitsWeather = (r: unknown): boolean => isObj(r) && typeof r.date === 'string' && numOrNull(r.meanTemperature);

/** What every mapping needs to place records. */
export interface MapContext {
  /** Utility id, e.g. `gwp`. */
  utility: string;
  /** Zone for date-only values. */
  timezone: string;
  timescale: Timescale;
  location: string;
  tags?: Record<string, string>;
  /** Keep only records whose interval starts in [start, end). */
  window: { start: number; end: number };
  /** Request path for error messages. */
  path: string;
}

/** Records plus the problems found while mapping one payload. */
export interface Mapped {
  records: DataRecord[];
  problems: SourceDataError[];
}

// `2025-11-02T01:00:00-08:00`: the shape of nearly every read; parsed without luxon, whose
// zone machinery costs ~15 µs a call (a 3-year backfill parses ~80,000 of these).
const ISO_OFFSET = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(?:(Z)|([+-])(\d{2}):?(\d{2}))$/;

/** Unix seconds of an ISO date-time with offset, or of local midnight (in `timezone`) of a bare date. */
export function parseInstant(text: string, timezone: string): number | undefined {
  const m = ISO_OFFSET.exec(text);
  if (m) {
    const [, y, mo, d, h, mi, sec, z, sign, oh, om] = m;
    const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec ?? 0)) / 1000;
    const valid = Number(mo) >= 1 && Number(mo) <= 12 && Number(d) >= 1 && Number(d) <= 31 && Number(h) <= 23 && Number(mi) <= 59;
    if (!valid) return undefined;
    if (z) return utc;
    const offset = (Number(oh) * 3600 + Number(om) * 60) * (sign === '-' ? -1 : 1);
    return utc - offset;
  }
  const parsed = DateTime.fromISO(text, { zone: timezone, setZone: false });
  if (!parsed.isValid) return undefined;
  return Math.floor(parsed.toSeconds());
}

// kWh × 1000 picks up float noise (0.532 × 1000 = 532.0000000000001); keep 6 decimals.
// A value too large to scale by 1e6 has no decimals to keep (fuzzing found 1e303 → Infinity).
const clean = (value: number): number => (Math.abs(value) < 1e15 ? Math.round(value * 1e6) / 1e6 : value);

// A finite read can still overflow on conversion (1e306 kWh → Wh is Infinity); such a record
// would be refused by validateRecord, so count it as a bad read here (found by fuzzing).
function assertFinite(record: DataRecord): DataRecord {
  for (const value of Object.values(record.fields)) if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('value out of range');
  return record;
}

// `unit` and `currency` become tag values: an empty one or one with a control character or
// backslash would make every record of the payload invalid (found by fuzzing).
function tagWord(value: string, what: string, ctx: MapContext): string {
  if (!isValidTagValue(value) || value.trim() === '') throw new SourceDataError(`${ctx.path}: expected a ${what} code like ${what === 'unit' ? 'KWH' : 'USD'}, got ${JSON.stringify(value.slice(0, 40))}`);
  return value;
}

function envelope(payload: unknown, ctx: MapContext): z.output<typeof readsEnvelope> {
  const parsed = readsEnvelope.safeParse(payload);
  if (!parsed.success) throw new SourceDataError(`${ctx.path}: expected an object with a "reads" array`, excerpt(payload));
  return parsed.data;
}

/**
 * Map reads one by one. `fits` is a cheap structural check equivalent to `schema` for the
 * common case; zod only runs on reads it rejects (a 3-year backfill has ~80,000 reads, and
 * zod per read cost more CPU than everything else in the mapping).
 */
function mapReads<T>(reads: unknown[], schema: z.ZodType<T>, fits: (raw: unknown) => boolean, ctx: MapContext, build: (read: T) => DataRecord | undefined): Mapped {
  const records: DataRecord[] = [];
  let bad = 0;
  let first = '';
  for (const raw of reads) {
    const parsed = fits(raw) ? { success: true as const, data: raw as T } : schema.safeParse(raw);
    let record: DataRecord | undefined;
    let ok = parsed.success;
    if (parsed.success) {
      try {
        record = build(parsed.data);
        if (record) assertFinite(record);
      } catch {
        ok = false; // e.g. a time that is not ISO 8601
      }
    }
    if (!ok) {
      if (bad++ === 0) first = JSON.stringify(raw);
      continue;
    }
    if (record && record.time >= ctx.window.start && record.time < ctx.window.end) records.push(record);
  }
  const problems = bad === 0 ? [] : [new SourceDataError(`${ctx.path}: ${bad} of ${reads.length} read(s) did not match the expected shape and were skipped`, excerpt(first))];
  return { records, problems };
}

function base(ctx: MapContext, time: number, fields?: RecordBase['fields']): RecordBase {
  return { time, timescale: ctx.timescale, source: `homeflux.opower.${ctx.utility}`, location: ctx.location, tags: ctx.tags, fields };
}

function startOf(text: string, ctx: MapContext): number {
  const time = parseInstant(text, ctx.timezone);
  if (time === undefined) throw new Error(`bad time ${text}`);
  return time;
}

/** Default unit of a meter type when the payload names none. */
export function defaultUnit(meterType: string): string {
  switch (meterType.toUpperCase()) {
    case 'ELEC':
      return 'KWH';
    case 'GAS':
      return 'THERM';
    default:
      return 'GAL';
  }
}

const ENERGY_UNITS: Record<string, 'Wh' | 'kWh' | 'MWh'> = { WH: 'Wh', KWH: 'kWh', MWH: 'MWh' };

/**
 * Usage reads → `power` (Wh) for ELEC, `gas` / `water` in the meter's unit otherwise. The
 * `estimated` field (boolean) is always written, so a later ACTUAL read replaces it.
 */
export function usageRecords(payload: unknown, meterType: string, ctx: MapContext): Mapped {
  const env = envelope(payload, ctx);
  const unit = tagWord((env.unit ?? defaultUnit(meterType)).toUpperCase(), 'unit', ctx);
  const type = meterType.toUpperCase();
  if (type === 'ELEC' && ENERGY_UNITS[unit] === undefined) {
    throw new SourceDataError(`${ctx.path}: expected an energy unit (KWH, WH, MWH) for an electric meter, got "${unit}"`);
  }
  return mapReads(env.reads, usageReadSchema, fitsUsage, ctx, (read) => {
    const value = read.consumption.value;
    if (value === null) return undefined; // a missing read: nothing to write, not an error
    const b = base(ctx, startOf(read.startTime, ctx), { estimated: (read.consumption.type ?? '').toUpperCase() === 'ESTIMATED' });
    if (type === 'ELEC') {
      const record = powerRecord(b, { value, unit: ENERGY_UNITS[unit]! });
      record.fields.power_usage = clean(record.fields.power_usage as number);
      return record;
    }
    if (type === 'GAS') return gasRecord(b, { value: clean(value), unit });
    return waterRecord(b, { value: clean(value), unit });
  });
}

/** Cost reads → `cost` in the payload's currency (USD when it names none); reads without a provided cost are skipped. */
export function costRecords(payload: unknown, ctx: MapContext): Mapped {
  const env = envelope(payload, ctx);
  const currency = tagWord(env.currency ?? 'USD', 'currency', ctx);
  return mapReads(env.reads, costReadSchema, fitsCost, ctx, (read) => {
    if (read.providedCost === null || read.providedCost === undefined) return undefined;
    return costRecord(base(ctx, startOf(read.startTime, ctx)), { value: clean(read.providedCost), currency });
  });
}

/** Weather reads (°F, `useCelsius=false`) → `temperature` in the configured units. */
export function weatherRecords(payload: unknown, units: Units, ctx: MapContext): Mapped {
  const env = envelope(payload, ctx);
  return mapReads(env.reads, weatherReadSchema, fitsWeather, ctx, (read) => {
    if (read.meanTemperature === null) return undefined;
    const record = temperatureRecord(base(ctx, startOf(read.date, ctx)), { value: read.meanTemperature, unit: 'F', units });
    record.fields.temperature = clean(record.fields.temperature as number);
    return record;
  });
}

/** Utility accounts of a customers payload, in the order given. */
export function parseAccounts(payload: unknown, path: string): UtilityAccount[] {
  const parsed = customersSchema.safeParse(payload);
  if (!parsed.success) throw new SourceDataError(`${path}: expected {"customers":[{"utilityAccounts":[…]}]}`, excerpt(payload));
  return parsed.data.customers.flatMap((c) => c.utilityAccounts);
}
