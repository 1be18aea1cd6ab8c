/**
 * Usage and cost reads (`DataBrowser-v1`) → `power` / `gas` / `water`, `cost`, `cost_component`
 * and `bill` records.
 *
 * Shapes (PROTOCOL.md, fixtures `usage-*.json`, `cost-*.json`):
 * - usage `…/utilities/{code}/utilityAccounts/{uuid}/reads`: `reads[].consumption.value`, the
 *   unit in `units.consumption` (the original homeflux reads `data['units']['consumption']`);
 * - cost `…/cost/utilityAccount/{uuid}`: `reads[].value` (usage), `providedCost` (money), the
 *   unit top-level `unit`; `readComponents` split a read by tier, season and time-of-use period.
 * Each read's timescale is its own `endTime − startTime`, never the aggregate asked for.
 */
import { z } from '../../deps.ts';
import { excerpt, SourceDataError } from '../../errors.ts';
import { billRecord, costComponentRecord, costRecord, type DataRecord, type FieldValue, gasRecord, type MeterUsage, powerRecord, waterRecord } from '../../records.ts';
import { base, type Built, clean, defaultUnit, instantOf, isObj, type MapContext, type Mapped, mapReads, meterUsage, normalizeUnit, numOrNull, optString, readTimescale, tagWord } from './parse.ts';

const envelopeSchema = z.object({
  reads: z.array(z.unknown()),
  unit: z.string().optional().nullable(),
  units: z.object({ consumption: z.string().optional().nullable() }).partial().optional().nullable(),
  currency: z.string().optional().nullable(),
});

/** One usage read: `consumption.value` in the payload's unit; `type` ACTUAL/ESTIMATED. */
export const usageReadSchema = z.object({
  startTime: z.string(),
  endTime: z.string().optional(),
  consumption: z.object({ value: z.number().nullable(), type: z.string().optional().nullable() }),
});

const componentSchema = z.object({
  tierNumber: z.union([z.number(), z.string()]).optional().nullable(),
  season: z.string().optional().nullable(),
  dayPart: z.string().optional().nullable(),
  value: z.number().nullable().optional(),
  cost: z.number().nullable().optional(),
});

/** One cost read: `providedCost` is the money, absent where the utility doesn't provide it. */
export const costReadSchema = z.object({
  startTime: z.string(),
  endTime: z.string().optional(),
  value: z.number().nullable().optional(),
  providedCost: z.number().nullable().optional(),
  readType: z.string().optional().nullable(),
  readComponents: z.array(componentSchema).nullable().optional(),
});

type UsageRead = z.output<typeof usageReadSchema>;
type CostRead = z.output<typeof costReadSchema>;

const fitsUsage = (r: unknown): boolean =>
  isObj(r) && typeof r.startTime === 'string' && optString(r.endTime) && isObj(r.consumption) && numOrNull(r.consumption.value) && (r.consumption.type === undefined || r.consumption.type === null || typeof r.consumption.type === 'string');
const fitsCost = (r: unknown): boolean =>
  isObj(r) && typeof r.startTime === 'string' && optString(r.endTime) && (r.value === undefined || numOrNull(r.value)) && (r.providedCost === undefined || numOrNull(r.providedCost)) && (r.readComponents === undefined || r.readComponents === null);

function envelope(payload: unknown, ctx: MapContext): z.output<typeof envelopeSchema> {
  const parsed = envelopeSchema.safeParse(payload);
  if (!parsed.success) throw new SourceDataError(`${ctx.path}: expected an object with a "reads" array`, excerpt(payload));
  return parsed.data;
}

/**
 * The payload's unit: `units.consumption` (usage), else `unit` (cost), else — electricity only —
 * KWH. A gas or water payload naming no unit is refused rather than guessed.
 */
function unitOf(env: z.output<typeof envelopeSchema>, meterType: string, ctx: MapContext): string {
  const named = env.units?.consumption ?? env.unit ?? undefined;
  const unit = named ?? defaultUnit(meterType);
  if (unit === undefined) throw new SourceDataError(`${ctx.path}: the payload names no unit (units.consumption or unit) for a ${meterType} meter; expected e.g. CCF, THERM or GAL`, excerpt(firstRead(env)));
  return tagWord(normalizeUnit(unit), 'unit', ctx);
}
// The envelope with only its first read: enough of the payload for an error message.
const firstRead = (env: z.output<typeof envelopeSchema>): unknown => ({ ...env, reads: env.reads.slice(0, 1) });

function usageRecord(b: Parameters<typeof powerRecord>[0], usage: MeterUsage): DataRecord {
  if (usage.kind === 'power') return powerRecord(b, { value: usage.wh, unit: 'Wh' });
  if (usage.kind === 'gas') return gasRecord(b, { value: usage.value, unit: usage.unit });
  return waterRecord(b, { value: usage.value, unit: usage.unit });
}

function span(read: { startTime: string; endTime?: string }, ctx: MapContext): { start: number; end: number | undefined } {
  return { start: instantOf(read.startTime, ctx), end: read.endTime === undefined ? undefined : instantOf(read.endTime, ctx) };
}

/**
 * Usage reads → `power` (Wh) for ELEC, `gas` / `water` in the payload's unit otherwise. The
 * `estimated` field (boolean) is always written, so a later ACTUAL read replaces it. Trailing
 * zero reads are held back (not metered yet).
 */
export function usageRecords(payload: unknown, meterType: string, ctx: MapContext): Mapped {
  const env = envelope(payload, ctx);
  const unit = unitOf(env, meterType, ctx);
  meterUsage(meterType, 0, unit, ctx); // refuses a non-energy unit on an electric meter up front
  return mapReads(env.reads, usageReadSchema, fitsUsage, ctx, (read: UsageRead): Built | undefined => {
    const value = read.consumption.value;
    if (value === null) return undefined; // a missing read: nothing to write, not an error
    const { start, end } = span(read, ctx);
    const b = base(ctx, start, readTimescale(start, end, ctx.timescale), { estimated: (read.consumption.type ?? '').toUpperCase() === 'ESTIMATED' });
    return { records: [usageRecord(b, meterUsage(meterType, value, unit, ctx))], zero: value === 0 };
  }, true);
}

const word = (v: string | number | null | undefined): string | undefined => {
  if (v === null || v === undefined) return undefined;
  const text = String(v).trim().toLowerCase();
  return text === '' ? undefined : text;
};

/**
 * Cost reads → `cost` in the payload's currency (USD when it names none), and each read's
 * `readComponents` → `cost_component` (energy and cost per tier / season / time-of-use period;
 * components with the same labels are added up). Reads without a provided cost give no `cost`.
 * Trailing reads with zero usage and zero cost are held back (not metered yet).
 */
export function costRecords(payload: unknown, meterType: string, ctx: MapContext): Mapped {
  const env = envelope(payload, ctx);
  const currency = tagWord(env.currency ?? 'USD', 'currency', ctx);
  let unit: string | undefined;
  const unitOnce = (): string => (unit ??= unitOf(env, meterType, ctx));
  return mapReads(env.reads, costReadSchema, fitsCost, ctx, (read: CostRead): Built | undefined => {
    const { start, end } = span(read, ctx);
    const timescale = readTimescale(start, end, ctx.timescale);
    const records: DataRecord[] = [];
    const money = read.providedCost;
    if (money !== null && money !== undefined) records.push(costRecord(base(ctx, start, timescale), { value: clean(money), currency }));
    // Labels become tag values: checked once, as they are read.
    const label = (v: string | number | null | undefined): string | undefined => {
      const w = word(v);
      return w === undefined ? undefined : tagWord(w, 'label', ctx);
    };
    const parts = new Map<string, { tier?: string; season?: string; dayPart?: string; energy: number; cost: number }>();
    for (const c of read.readComponents ?? []) {
      const labels = { tier: label(c.tierNumber), season: label(c.season), dayPart: label(c.dayPart) };
      const key = `${labels.tier}|${labels.season}|${labels.dayPart}`;
      const part = parts.get(key) ?? { ...labels, energy: 0, cost: 0 };
      part.energy += c.value ?? 0;
      part.cost += c.cost ?? 0;
      parts.set(key, part);
    }
    for (const { energy, cost, ...labels } of parts.values()) {
      records.push(costComponentRecord(base(ctx, start, timescale), { energy: meterUsage(meterType, energy, unitOnce(), ctx), cost: clean(cost), currency, ...labels }));
    }
    if (records.length === 0) return undefined;
    return { records, zero: (read.value ?? 0) === 0 && (money ?? 0) === 0 };
  }, true);
}

/**
 * Bill reads (`aggregateType=bill`, from the cost endpoint or, failing that, the usage one) →
 * `bill` records: time = the period's start, `end`, `days` (local days, DST-proof), usage in the
 * schema's unit and `cost` where given. Kept when the period overlaps the window.
 */
export function billRecords(payload: unknown, meterType: string, ctx: MapContext): Mapped {
  const env = envelope(payload, ctx);
  const currency = tagWord(env.currency ?? 'USD', 'currency', ctx);
  const unit = unitOf(env, meterType, ctx);
  const out: DataRecord[] = [];
  const mapped = mapReads(
    env.reads,
    // Usage first: a cost-shaped read with a malformed `consumption` must not pass as one.
    z.union([usageReadSchema, costReadSchema]),
    (r) => fitsUsage(r) || (fitsCost(r) && isObj(r) && !('consumption' in r)),
    { ...ctx, window: { start: -Infinity, end: Infinity } },
    (read): Built | undefined => {
      const r = read as Partial<CostRead & UsageRead> & { startTime: string; endTime?: string };
      if (r.endTime === undefined) throw new Error('a bill read needs an endTime');
      const { start, end } = span(r, ctx);
      if (end === undefined || end <= start) throw new Error('a bill ends before it starts');
      // The fast path checks a usage read's `consumption`, not a stray `providedCost` beside it.
      const finite = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
      const value = finite(r.value) ?? finite(r.consumption?.value);
      const cost = finite(r.providedCost);
      if (r.providedCost !== undefined && r.providedCost !== null && cost === undefined) throw new Error('providedCost is not a number');
      const fields: Record<string, FieldValue> = {};
      if (r.consumption?.type) fields.estimated = r.consumption.type.toUpperCase() === 'ESTIMATED';
      const record = billRecord(base(ctx, start, 'bill', fields), {
        usage: value === null || value === undefined ? undefined : meterUsage(meterType, value, unit, ctx),
        cost: cost === undefined ? undefined : clean(cost),
        currency,
        end,
        days: Math.round((end - start) / 86400),
      });
      return { records: [record] };
    },
  );
  for (const record of mapped.records) if (record.time < ctx.window.end && (record.fields.end as number) > ctx.window.start) out.push(record);
  return { records: out, problems: mapped.problems };
}
