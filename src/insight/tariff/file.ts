/**
 * Tariff files: OpenEI Utility Rate Database (URDB) records as users download them, plus
 * homeflux's own extensions in the same file.
 *
 * URDB fields read (API v7/v8 names; the bulk export's camelCase spellings are the same names
 * in another case, so keys are compared without case): `energyratestructure` [period][tier] of
 * `{rate, adj, max, unit, sell}`, `energyweekdayschedule` / `energyweekendschedule` (12 months ×
 * 24 hours → period index), `energytoulabels`, `fixedchargefirstmeter` + `fixedchargeunits`
 * (`$/day`, `$/month`, `$/year`), `mincharge` + `minchargeunits`, `fueladjustmentsmonthly`
 * (12 × $/kWh), `startdate` / `enddate` (Unix seconds), `name`, `utility`, `source`. A file is
 * one record, an API answer `{"items": [...]}` (each item a version, by `startdate`), or an array
 * of records.
 *
 * Demand charges (`demandratestructure`, `flatdemandstructure`, `coincidentratestructure`) are
 * refused: homeflux prices energy from interval reads and will not silently leave a charge out.
 *
 * The `homeflux` object adds: `currency` (default USD), `unit` (`kWh`, `THERM`, `CCF`),
 * `billing` (`"calendar"`, `{"cycleDay": N}` or `"bills"` — the dates of stored `bill` records),
 * `baselineKwhPerDay` (12 numbers, by month: tiers with unit `baseline` take `max` as a multiple
 * of it), `holidays` (local dates priced on the weekend schedule: a list, a named calendar
 * `"nerc"` / `"us-federal"` (holidays.ts), or `{calendar, dates}`), `taxes`
 * (`[{name, percent}]`), `netMetering` (`{netting: "hour" | "month" | "year", credit?: $/unit,
 * trueUpMonth?: 1–12}`;
 * default credit is each tier's `sell`), `versions` (`[{effective: "YYYY-MM-DD", …URDB fields
 * that change}]`, strictly increasing).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ConfigError } from '../../errors.ts';
import { HOLIDAY_CALENDARS, type HolidayCalendar, holidayDates } from './holidays.ts';

/** One tier of one period. `max` is cumulative within the billing period, in `unit`. */
export interface Tier {
  /** Upper bound; undefined for the last tier. */
  max?: number;
  /** `kWh`: per billing period (prorated by days when a version changes inside one); `kWh daily`: × days; `baseline`: × the baseline allowance. */
  unit: 'kWh' | 'kWh daily' | 'baseline';
  /** Price per unit, adjustment included. */
  rate: number;
  /** What an exported unit is credited at (net metering). */
  sell?: number;
}

/** A charge per day, month or year. */
export interface Charge {
  amount: number;
  per: 'day' | 'month' | 'year';
}

/** The rates in force from `effective` (a local date; '' for the first version). */
export interface TariffVersion {
  effective: string;
  periods: Tier[][];
  weekday: number[][];
  weekend: number[][];
  labels: string[];
  fixed?: Charge;
  minimum?: Charge;
  fuelAdjustments: number[];
  baselinePerDay?: number[];
  taxes: Array<{ name: string; percent: number }>;
}

/** A parsed tariff. */
export interface Tariff {
  name: string;
  file: string;
  currency: string;
  /** The unit usage is priced in: kWh for electricity, THERM or CCF for gas. */
  unit: 'kWh' | 'THERM' | 'CCF';
  billing: { kind: 'calendar' } | { kind: 'cycle'; day: number } | { kind: 'bills' };
  holidays: ReadonlySet<string>;
  netMetering?: { netting: 'hour' | 'month' | 'year'; credit?: number; trueUpMonth?: number };
  versions: TariffVersion[];
  source?: string;
}

type Json = Record<string, unknown>;

const lower = (o: Json): Json => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.toLowerCase(), v]));
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
};

/** Reads one file; every error names the file, the JSON path and what was expected. */
class Reader {
  constructor(readonly file: string) {}

  fail(path: string, expected: string, got: unknown): never {
    throw new ConfigError(`tariff ${this.file}: ${path}: expected ${expected}, got ${show(got)}`, 'COST_TARIFF');
  }

  number(v: unknown, path: string, options: { min?: number } = {}): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || (options.min !== undefined && v < options.min)) this.fail(path, options.min === undefined ? 'a number' : `a number ≥ ${options.min}`, v);
    return v;
  }

  schedule(v: unknown, path: string, periods: number): number[][] {
    if (!Array.isArray(v) || v.length !== 12) this.fail(path, 'a 12 × 24 schedule (12 months of 24 hours)', Array.isArray(v) ? `${v.length} months` : v);
    return v.map((month, m) => {
      if (!Array.isArray(month) || month.length !== 24) this.fail(`${path}[${m}]`, '24 hours', Array.isArray(month) ? `${month.length} hours` : month);
      return month.map((p, h) => {
        if (!Number.isInteger(p) || (p as number) < 0 || (p as number) >= periods) this.fail(`${path}[${m}][${h}]`, `a period index from 0 to ${periods - 1}`, p);
        return p as number;
      });
    });
  }

  charge(amount: unknown, units: unknown, path: string): Charge | undefined {
    if (amount === undefined || amount === null || amount === 0) return undefined;
    const value = this.number(amount, path, { min: 0 });
    const per = { '$/day': 'day', '$/month': 'month', '$/year': 'year' }[String(units ?? '$/month')] as Charge['per'] | undefined;
    if (!per) this.fail(`${path.replace(/[a-z]+$/, '')}units`, '"$/day", "$/month" or "$/year"', units);
    return { amount: value, per };
  }

  tiers(v: unknown, path: string): Tier[][] {
    if (!Array.isArray(v) || v.length === 0) this.fail(path, 'an array of periods, each an array of tiers', v);
    return v.map((period, p) => {
      if (!Array.isArray(period) || period.length === 0) this.fail(`${path}[${p}]`, 'an array of tiers', period);
      let previous = 0;
      return period.map((raw, t) => {
        const where = `${path}[${p}][${t}]`;
        if (!isObject(raw)) this.fail(where, 'a tier object {rate, max, unit}', raw);
        const tier = lower(raw);
        if (tier.rate === undefined) this.fail(`${where}.rate`, 'a rate (price per unit)', undefined);
        const rate = this.number(tier.rate, `${where}.rate`) + (tier.adj === undefined ? 0 : this.number(tier.adj, `${where}.adj`));
        const unit = String(tier.unit ?? 'kWh');
        if (!['kWh', 'kWh daily', 'baseline'].includes(unit)) this.fail(`${where}.unit`, '"kWh", "kWh daily" or "baseline"', tier.unit);
        const max = tier.max === undefined || tier.max === null ? undefined : this.number(tier.max, `${where}.max`, { min: 0 });
        if (max === undefined && t < period.length - 1) this.fail(`${where}.max`, 'an upper bound (only the last tier may have none)', undefined);
        if (max !== undefined && max <= previous && t > 0) this.fail(`${where}.max`, `more than the tier before (${previous})`, max);
        previous = max ?? previous;
        return { ...(max === undefined ? {} : { max }), unit: unit as Tier['unit'], rate, ...(tier.sell === undefined ? {} : { sell: this.number(tier.sell, `${where}.sell`) }) };
      });
    });
  }
}

const DEMAND_FIELDS = ['demandratestructure', 'flatdemandstructure', 'coincidentratestructure'];

function version(read: Reader, raw: Json, base: TariffVersion | undefined, path: string, effective: string, ext: Json): TariffVersion {
  const r = lower(raw);
  for (const field of DEMAND_FIELDS) {
    if (Array.isArray(r[field]) && (r[field] as unknown[]).length > 0) {
      throw new ConfigError(`tariff ${read.file}: ${path}.${field}: demand charges are not supported — homeflux prices energy only and will not leave a charge out silently; remove the tariff or its demand charges if you know they do not apply to you`, 'COST_TARIFF');
    }
  }
  const periods = r.energyratestructure === undefined && base ? base.periods : read.tiers(r.energyratestructure, `${path}.energyratestructure`);
  const sched = (key: string, fallback: number[][] | undefined): number[][] => (r[key] === undefined && fallback ? fallback : read.schedule(r[key], `${path}.${key}`, periods.length));
  const weekday = sched('energyweekdayschedule', base?.weekday);
  const weekend = sched('energyweekendschedule', base?.weekend);
  const labels = Array.isArray(r.energytoulabels) ? r.energytoulabels.map(String) : (base?.labels ?? []);
  const fuel = r.fueladjustmentsmonthly === undefined ? (base?.fuelAdjustments ?? new Array<number>(12).fill(0)) : r.fueladjustmentsmonthly;
  if (!Array.isArray(fuel) || fuel.length !== 12) read.fail(`${path}.fueladjustmentsmonthly`, '12 monthly adjustments', fuel);
  const e = lower(ext);
  const baseline = e.baselinekwhperday ?? base?.baselinePerDay;
  if (baseline !== undefined && (!Array.isArray(baseline) || baseline.length !== 12)) read.fail(`${path}.homeflux.baselineKwhPerDay`, '12 daily allowances, one per month', baseline);
  const needsBaseline = periods.some((p) => p.some((t) => t.unit === 'baseline'));
  if (needsBaseline && baseline === undefined) read.fail(`${path}.homeflux.baselineKwhPerDay`, '12 daily allowances (a tier has unit "baseline")', undefined);
  const taxes = e.taxes === undefined ? (base?.taxes ?? []) : e.taxes;
  if (!Array.isArray(taxes)) read.fail(`${path}.homeflux.taxes`, 'an array of {name, percent}', taxes);
  return {
    effective,
    periods,
    weekday,
    weekend,
    labels,
    fixed: r.fixedchargefirstmeter === undefined && base ? base.fixed : read.charge(r.fixedchargefirstmeter, r.fixedchargeunits, `${path}.fixedchargefirstmeter`),
    minimum: r.mincharge === undefined && base ? base.minimum : read.charge(r.mincharge, r.minchargeunits, `${path}.mincharge`),
    fuelAdjustments: fuel.map((f, i) => read.number(f, `${path}.fueladjustmentsmonthly[${i}]`)),
    ...(baseline === undefined ? {} : { baselinePerDay: (baseline as unknown[]).map((b, i) => read.number(b, `${path}.homeflux.baselineKwhPerDay[${i}]`, { min: 0 })) }),
    taxes: (taxes as unknown[]).map((t, i) => {
      if (!isObject(t)) read.fail(`${path}.homeflux.taxes[${i}]`, 'a {name, percent} object', t);
      return { name: String(t.name ?? `tax ${i + 1}`), percent: read.number(t.percent, `${path}.homeflux.taxes[${i}].percent`, { min: 0 }) };
    }),
  };
}

const isoDate = (seconds: number, timezone: string): string => new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(seconds * 1000));

/** Parse a tariff from its JSON text; `timezone` turns URDB `startdate`s into local dates. */
export function parseTariff(text: string, file: string, timezone: string): Tariff {
  const read: Reader = new Reader(basename(file));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`tariff ${read.file}: not JSON: ${(error as Error).message}`, 'COST_TARIFF');
  }
  const items: unknown[] = Array.isArray(json) ? json : isObject(json) && Array.isArray(json.items) ? json.items : [json];
  if (items.length === 0) read.fail('(top level)', 'a URDB rate record', json);
  const records = items.map((item, i) => {
    if (!isObject(item)) read.fail(`items[${i}]`, 'a URDB rate record', item);
    return lower(item);
  });
  // URDB records as versions, by their start dates.
  records.sort((a, b) => Number(a.startdate ?? 0) - Number(b.startdate ?? 0));
  const first = records[0]!;
  const ext = isObject(first.homeflux) ? lower(first.homeflux) : {};
  const versions: TariffVersion[] = [];
  records.forEach((record, i) => {
    const path = items.length === 1 ? '' : `items[${i}]`;
    const effective = i === 0 ? '' : isoDate(read.number(record.startdate, `${path}.startdate`), timezone);
    versions.push(version(read, record, versions[versions.length - 1], path || '(top level)', effective, isObject(record.homeflux) ? record.homeflux : {}));
  });
  const extVersions: unknown[] = Array.isArray(ext.versions) ? ext.versions : ext.versions === undefined ? [] : read.fail('homeflux.versions', 'an array of {effective, …}', ext.versions);
  for (const [i, raw] of extVersions.entries()) {
    const path = `homeflux.versions[${i}]`;
    if (!isObject(raw)) read.fail(path, 'an object with "effective" and the fields that change', raw);
    const effective = String(raw.effective ?? '');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(effective)) read.fail(`${path}.effective`, 'a date YYYY-MM-DD', raw.effective);
    const previous = versions[versions.length - 1]!;
    if (previous.effective !== '' && effective <= previous.effective) read.fail(`${path}.effective`, `a date after the version before (${previous.effective}): versions must not overlap`, effective);
    versions.push(version(read, raw, previous, path, effective, raw as Json));
  }
  const billingRaw = ext.billing ?? 'calendar';
  const billing: Tariff['billing'] =
    billingRaw === 'calendar'
      ? { kind: 'calendar' }
      : billingRaw === 'bills'
        ? { kind: 'bills' }
        : isObject(billingRaw) && Number.isInteger(billingRaw.cycleDay) && (billingRaw.cycleDay as number) >= 1 && (billingRaw.cycleDay as number) <= 28
          ? { kind: 'cycle', day: billingRaw.cycleDay as number }
          : read.fail('homeflux.billing', '"calendar", "bills" or {"cycleDay": 1…28}', billingRaw);
  // An explicit list, a named calendar, or both: {"calendar": "nerc", "dates": [...]}.
  const rawHolidays = ext.holidays ?? [];
  const calendarName = typeof rawHolidays === 'string' ? rawHolidays : isObject(rawHolidays) ? rawHolidays.calendar : undefined;
  const listed = Array.isArray(rawHolidays) ? rawHolidays : isObject(rawHolidays) ? (rawHolidays.dates ?? []) : [];
  if (calendarName !== undefined && !(HOLIDAY_CALENDARS as readonly unknown[]).includes(calendarName)) read.fail('homeflux.holidays', `a list of dates, or a calendar: ${HOLIDAY_CALENDARS.join(', ')}`, rawHolidays);
  if (!Array.isArray(listed) || listed.some((d) => typeof d !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(d))) read.fail('homeflux.holidays', 'an array of dates YYYY-MM-DD', rawHolidays);
  const holidays = [...(listed as string[]), ...(calendarName === undefined ? [] : holidayDates(calendarName as HolidayCalendar, 2000, 2060))];
  const unit = String(ext.unit ?? 'kWh');
  if (!['kWh', 'THERM', 'CCF'].includes(unit)) read.fail('homeflux.unit', '"kWh", "THERM" or "CCF"', ext.unit);
  let netMetering: Tariff['netMetering'];
  if (ext.netmetering !== undefined) {
    const nm = isObject(ext.netmetering) ? lower(ext.netmetering) : read.fail('homeflux.netMetering', '{netting, credit?}', ext.netmetering);
    const netting = nm.netting === 'hour' || nm.netting === 'month' || nm.netting === 'year' ? nm.netting : read.fail('homeflux.netMetering.netting', '"hour", "month" or "year"', nm.netting);
    const trueUpMonth = nm.trueupmonth === undefined ? undefined : read.number(nm.trueupmonth, 'homeflux.netMetering.trueUpMonth', { min: 1 });
    if (trueUpMonth !== undefined && (!Number.isInteger(trueUpMonth) || trueUpMonth > 12)) read.fail('homeflux.netMetering.trueUpMonth', 'a month from 1 to 12', trueUpMonth);
    netMetering = { netting, ...(nm.credit === undefined ? {} : { credit: read.number(nm.credit, 'homeflux.netMetering.credit') }), ...(trueUpMonth === undefined ? {} : { trueUpMonth }) };
  }
  return {
    name: String(first.name ?? basename(file).replace(/\.json$/, '')),
    file,
    currency: String(ext.currency ?? 'USD').toUpperCase(),
    unit: unit as Tariff['unit'],
    billing,
    holidays: new Set(holidays),
    ...(netMetering ? { netMetering } : {}),
    versions,
    ...(first.source === undefined ? {} : { source: String(first.source) }),
  };
}

/** Read and parse a tariff file. */
export async function loadTariff(file: string, timezone: string): Promise<Tariff> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`tariff ${file}: cannot read it: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'COST_TARIFF');
  }
  return parseTariff(text, file, timezone);
}
