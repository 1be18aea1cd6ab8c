/**
 * What every Opower payload mapping shares: instants, the customers list, units, and the
 * read-by-read mapping loop that reports bad reads (with an excerpt) and keeps the rest.
 *
 * Times in reads carry the utility's local offset (`2025-11-02T01:00:00-07:00`, then
 * `2025-11-02T01:00:00-08:00` an hour later); each becomes the UTC instant of the interval's
 * start, so the fall-back day yields 25 distinct hours and the spring-forward day 23. Some
 * utilities send times without an offset (PROTOCOL.md, tronikos/opower `_parse_read_time`):
 * those are read in the utility's zone.
 */
import { DateTime } from 'luxon';
import { z } from '../../deps.ts';
import { excerpt, SourceDataError } from '../../errors.ts';
import { type DataRecord, isValidTagValue, type MeterUsage, type RecordBase, type Timescale, toWh } from '../../records.ts';

/** One utility account (meter) of a customer. */
export const utilityAccountSchema = z.object({
  uuid: z.string().min(1),
  meterType: z.string().min(1),
  readResolution: z.string().optional().nullable(),
  preferredUtilityAccountId: z.string().optional().nullable(),
});

/** One page of `GET …/multi-account-v1/cws/{code}/customers` (paged by `offset`, `batchSize`, `total`). */
export const customersSchema = z.object({
  customers: z.array(z.object({ uuid: z.string().optional().nullable(), utilityAccounts: z.array(utilityAccountSchema).nullable().default([]) })),
  offset: z.number().optional().nullable(),
  batchSize: z.number().optional().nullable(),
  total: z.number().optional().nullable(),
});

/** A utility account as the agent uses it: the customer it belongs to travels with it. */
export type UtilityAccount = z.output<typeof utilityAccountSchema> & {
  /** Customer uuid, sent as `Opower-Selected-Entities` with every request about this account. */
  customerUuid?: string;
};

/** One page of customers: the accounts in it and how many customers there are in all. */
export interface CustomersPage {
  accounts: UtilityAccount[];
  /** Customers on this page. */
  count: number;
  /** Customers in all (`total`), when the portal says. */
  total?: number;
}

/** Utility accounts of one customers page, in the order given, each with its customer's uuid. */
export function parseCustomersPage(payload: unknown, path: string): CustomersPage {
  const parsed = customersSchema.safeParse(payload);
  if (!parsed.success) throw new SourceDataError(`${path}: expected {"customers":[{"uuid":…,"utilityAccounts":[…]}]}`, excerpt(payload));
  const accounts = parsed.data.customers.flatMap((c) => (c.utilityAccounts ?? []).map((a) => ({ ...a, customerUuid: c.uuid ?? undefined })));
  return { accounts, count: parsed.data.customers.length, total: parsed.data.total ?? undefined };
}

/** Utility accounts of a customers payload (one page), in the order given. */
export function parseAccounts(payload: unknown, path: string): UtilityAccount[] {
  return parseCustomersPage(payload, path).accounts;
}

/** What every mapping needs to place records. */
export interface MapContext {
  /** Utility id, e.g. `gwp`. */
  utility: string;
  /** Zone for date-only values and times without an offset. */
  timezone: string;
  /** The timescale the request asked for; each read's own duration decides its record's. */
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
  /**
   * Trailing zero reads (usage and cost both zero at the end of the response): "not metered
   * yet" (tronikos/opower drops them). Held back, not stored — unless a later read of the same
   * series shows that metering had passed them, in which case they are real zeros.
   */
  held?: DataRecord[];
  /** Which series of requests answered (set by the agent): the same for every span of one account, aggregate and endpoint. */
  stream?: string;
  /** The timescale the request asked for (set by the agent). */
  asked?: Timescale;
  /**
   * Set by the agent on first-round answers, whose spans never overlap within a stream: their
   * records of the asked timescale need no check against other answers.
   */
  exact?: boolean;
}

// `2025-11-02T01:00:00-08:00`: the shape of nearly every read; parsed without luxon, whose
// zone machinery costs ~15 µs a call (a 3-year backfill parses ~80,000 of these).
const ISO_OFFSET = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(?:(Z)|([+-])(\d{2}):?(\d{2}))$/;

/** Unix seconds of an ISO date-time with offset, or of a local date-time / bare date (local midnight) in `timezone`. */
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

/** Unix seconds of local midnight (in `timezone`) of the calendar date a string starts with (`2021-09-01…`). */
export function localMidnightOf(text: string, timezone: string): number | undefined {
  const date = /^(\d{4}-\d{2}-\d{2})/.exec(text)?.[1];
  if (date === undefined) return undefined;
  const day = DateTime.fromISO(date, { zone: timezone });
  return day.isValid ? Math.floor(day.toSeconds()) : undefined;
}

/**
 * The timescale of one read from its own interval (PROTOCOL.md: a meter may claim quarter
 * hours and answer hours, a portal may answer daily reads to an hourly request): up to half an
 * hour → `minute`, one hour → `hour`, 23–25 hours (a local day, DST included) → `day`; any
 * length when bills were asked for → `bill`. Without an end time, the timescale asked for.
 */
export function readTimescale(start: number, end: number | undefined, asked: Timescale): Timescale {
  if (asked === 'bill') return 'bill';
  if (end === undefined) return asked;
  const length = end - start;
  if (length > 0 && length <= 1800 && 3600 % length === 0) return 'minute';
  if (length === 3600) return 'hour';
  if (length >= 23 * 3600 && length <= 25 * 3600) return 'day';
  throw new Error(`a read of ${length} s is neither a quarter hour, an hour nor a day`);
}

// kWh × 1000 picks up float noise (0.532 × 1000 = 532.0000000000001); keep 6 decimals.
// A value too large to scale by 1e6 has no decimals to keep (fuzzing found 1e303 → Infinity).
export const clean = (value: number): number => (Math.abs(value) < 1e15 ? Math.round(value * 1e6) / 1e6 : value);

// A finite read can still overflow on conversion (1e306 kWh → Wh is Infinity); such a record
// would be refused by validateRecord, so count it as a bad read here (found by fuzzing).
function assertFinite(record: DataRecord): DataRecord {
  for (const value of Object.values(record.fields)) if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('value out of range');
  return record;
}

/**
 * A unit or currency code from the payload, checked: it becomes a tag value, and an empty one
 * or one with a control character or backslash would make every record invalid (found by fuzzing).
 */
export function tagWord(value: string, what: string, ctx: MapContext): string {
  if (!isValidTagValue(value) || value.trim() === '') throw new SourceDataError(`${ctx.path}: expected a ${what} code like ${what === 'unit' ? 'KWH' : 'USD'}, got ${JSON.stringify(value.slice(0, 40))}`);
  return value;
}

// Spellings seen for the same unit: `TH` in the bill forecast (tronikos/opower maps it to
// THERM); HCF is the same hundred cubic feet as CCF. CCF and THERM are different units (volume
// vs. heat) and are never merged.
const UNIT_ALIASES: Readonly<Record<string, string>> = { TH: 'THERM', THM: 'THERM', THERMS: 'THERM', HCF: 'CCF', GALLON: 'GAL', GALLONS: 'GAL' };
const ENERGY_UNITS: Readonly<Record<string, 'Wh' | 'kWh' | 'MWh'>> = { WH: 'Wh', KWH: 'kWh', MWH: 'MWh' };

/** The payload's unit code, upper case, with known aliases folded (`TH` → `THERM`, `HCF` → `CCF`). */
export function normalizeUnit(unit: string): string {
  const upper = unit.trim().toUpperCase();
  return UNIT_ALIASES[upper] ?? upper;
}

/**
 * Unit to assume when a payload names none: only the electric one is safe to assume. Gas is
 * billed in THERM by some utilities and CCF by others, water in GAL, CCF or KGAL — guessing
 * would mislabel the series, so the caller reports the payload instead.
 */
export function defaultUnit(meterType: string): string | undefined {
  return meterType.toUpperCase() === 'ELEC' ? 'KWH' : undefined;
}

/** A meter's usage in the schema's unit: Wh for electricity, the meter's own unit otherwise. */
export function meterUsage(meterType: string, value: number, unit: string, ctx: MapContext): MeterUsage {
  const type = meterType.toUpperCase();
  if (type === 'ELEC') {
    const energy = ENERGY_UNITS[unit];
    if (energy === undefined) throw new SourceDataError(`${ctx.path}: expected an energy unit (KWH, WH, MWH) for an electric meter, got "${unit}"`);
    return { kind: 'power', wh: clean(toWh(value, energy)) };
  }
  return { kind: type === 'GAS' ? 'gas' : 'water', value: clean(value), unit };
}

/** What a read's builder returns: its records (the main one first) and whether it is a zero read. */
export interface Built {
  records: DataRecord[];
  /** Usage and cost both zero: a candidate trailing "not metered yet" read. */
  zero?: boolean;
}

/**
 * Map reads one by one. `fits` is a cheap structural check equivalent to `schema` for the
 * common case; zod only runs on reads it rejects (a 3-year backfill has ~80,000 reads, and
 * zod per read cost more CPU than everything else in the mapping). With `trimZeros`, zero reads
 * at the end of the response are held back (see {@link Mapped.held}).
 */
export function mapReads<T>(reads: unknown[], schema: z.ZodType<T>, fits: (raw: unknown) => boolean, ctx: MapContext, build: (read: T) => Built | undefined, trimZeros = false): Mapped {
  const built: Built[] = [];
  let bad = 0;
  let first = '';
  for (const raw of reads) {
    const parsed = fits(raw) ? { success: true as const, data: raw as T } : schema.safeParse(raw);
    let out: Built | undefined;
    let ok = parsed.success;
    if (parsed.success) {
      try {
        out = build(parsed.data);
        if (out) for (const record of out.records) assertFinite(record);
      } catch (error) {
        if (error instanceof SourceDataError) throw error; // the whole payload is unusable (e.g. its unit)
        ok = false; // e.g. a time that is not ISO 8601
      }
    }
    if (!ok) {
      if (bad++ === 0) first = JSON.stringify(raw);
      continue;
    }
    if (out && out.records.length > 0) built.push(out);
  }
  // Reads come oldest first; sort otherwise, so "trailing" means the latest, whatever the order.
  let sorted = true;
  for (let i = 1; i < built.length && sorted; i++) sorted = built[i - 1]!.records[0]!.time <= built[i]!.records[0]!.time;
  if (!sorted) built.sort((a, b) => a.records[0]!.time - b.records[0]!.time);
  const held: DataRecord[] = [];
  if (trimZeros) while (built.length > 0 && built[built.length - 1]!.zero) held.unshift(...built.pop()!.records);
  const inWindow = (r: DataRecord): boolean => r.time >= ctx.window.start && r.time < ctx.window.end;
  const records: DataRecord[] = [];
  for (const b of built) for (const r of b.records) if (inWindow(r)) records.push(r);
  const problems = bad === 0 ? [] : [new SourceDataError(`${ctx.path}: ${bad} of ${reads.length} read(s) did not match the expected shape and were skipped`, excerpt(first))];
  return { records, problems, held: held.filter(inWindow) };
}

/** The record base of one read: the read's own timescale, the agent's source and location. */
export function base(ctx: MapContext, time: number, timescale: Timescale, fields?: RecordBase['fields']): RecordBase {
  return { time, timescale, source: `homeflux.opower.${ctx.utility}`, location: ctx.location, tags: ctx.tags, fields };
}

// A read's endTime is the next read's startTime: one remembered parse halves the parsing.
let lastText = '';
let lastZone = '';
let lastTime = 0;

/** Unix seconds of a read's time, or throw (the read is then counted as bad). */
export function instantOf(text: string, ctx: MapContext): number {
  if (text === lastText && ctx.timezone === lastZone) return lastTime;
  const time = parseInstant(text, ctx.timezone);
  if (time === undefined) throw new Error(`bad time ${text}`);
  lastText = text;
  lastZone = ctx.timezone;
  lastTime = time;
  return time;
}

type Obj = { [key: string]: unknown };
/** A plain object (not null, not an array). */
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** null or a finite number. */
export const numOrNull = (v: unknown): boolean => v === null || (typeof v === 'number' && Number.isFinite(v));
/** absent or a string. */
export const optString = (v: unknown): boolean => v === undefined || typeof v === 'string';
