/**
 * `cost`: a derived agent — stored usage priced under a tariff file (src/insight/tariff/).
 * It reads the meter's hourly `power` (or `gas`) series back through the reader, prices whole
 * billing periods, and writes `cost` records (`source=homeflux.tariff`, tags `plan`,
 * `location`, `currency`) per hour (rolled up to day and week by the pipeline) and per billing
 * period, with `cost_component` records per period that sum exactly to its total. Where the
 * store holds the utility's own `bill` for the same period, the computed bill carries it beside
 * it (`utility_cost`, `error_percent`). See src/agents/cost/README.md.
 */
import type { Config } from '../../config.ts';
import { ConfigError } from '../../errors.ts';
import { openReader, type Reader } from '../../database/reader.ts';
import { billingPeriods, priceUsage, type Bill } from '../../insight/tariff/engine.ts';
import type { Tariff } from '../../insight/tariff/file.ts';
import type { DataRecord, FieldValue } from '../../records.ts';
import { chain } from '../../rollup.ts';
import type { TimeWindow } from '../../window.ts';
import type { Agent, AgentLimits, AgentModule, CollectContext } from '../agent.ts';
import { type CostSettings, costFromEnv, costSettings } from './settings.ts';

export { COST_ENV, costFromEnv, planTag, readTariff } from './settings.ts';

/** `source` of every record. */
export const COST_SOURCE = 'homeflux.tariff';

const round = (x: number, digits = 6): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** The series a tariff prices: electricity in Wh → kWh, gas in its unit. */
function usageSeries(tariff: Tariff): { measurement: string; field: string; toTariffUnit: number; unitTag?: string } {
  return tariff.unit === 'kWh' ? { measurement: 'power', field: 'power_usage', toTariffUnit: 1 / 1000 } : { measurement: 'gas', field: 'gas_usage', toTariffUnit: 1, unitTag: tariff.unit };
}

/**
 * The meter's hourly usage (and exports, when the tariff nets them) over `range`, in the
 * tariff's unit; with several meters stored and none chosen, a ConfigError listing them.
 */
export async function readUsage(reader: Reader, tariff: Tariff, meter: string | undefined, range: { start: number; end: number }, signal?: AbortSignal): Promise<{ location: string; intervals: Array<{ start: number; end: number; energy: number; exported?: number }> }> {
  const series = usageSeries(tariff);
  const tags: Record<string, string> = { ...(meter ? { location: meter } : {}), ...(series.unitTag ? { unit: series.unitTag } : {}) };
  const points = (await reader.read({ measurement: series.measurement, field: series.field, timescale: 'hour', ...range, tags }, signal)).filter((p) => p.tags.source !== COST_SOURCE);
  const locations = [...new Set(points.map((p) => p.tags.location ?? ''))].sort();
  if (locations.length > 1) throw new ConfigError(`COST_METER: ${locations.length} meters have ${series.measurement} in ${reader.description} (${locations.join(', ')}); set COST_METER to the one to price`, 'COST_METER');
  const location = meter ?? locations[0] ?? '';
  const exports = new Map<number, number>();
  if (tariff.netMetering && series.measurement === 'power') {
    for (const p of await reader.read({ measurement: 'power', field: 'power_export', timescale: 'hour', ...range, tags: { location } }, signal)) exports.set(p.time, (exports.get(p.time) ?? 0) + p.value * series.toTariffUnit);
  }
  const byHour = new Map<number, number>();
  for (const p of points) byHour.set(p.time, (byHour.get(p.time) ?? 0) + p.value * series.toTariffUnit);
  for (const t of exports.keys()) if (!byHour.has(t)) byHour.set(t, 0);
  const intervals = [...byHour.entries()].sort((a, b) => a[0] - b[0]).map(([start, energy]) => ({ start, end: start + 3600, energy, ...(exports.has(start) ? { exported: exports.get(start)! } : {}) }));
  return { location, intervals };
}

/** Records of priced bills: hours, each bill, and its components. */
export function billRecords(bills: readonly Bill[], options: { tariff: Tariff; plan: string; location: string; utilityBills?: ReadonlyMap<number, number> }): DataRecord[] {
  const { tariff, plan, location } = options;
  const tags = { data_source: 'homeflux', source: COST_SOURCE, location, plan, currency: tariff.currency };
  const energyField = (energy: number): number => (tariff.unit === 'kWh' ? round(energy * 1000, 3) : round(energy, 6));
  const unitTags: Record<string, string> = tariff.unit === 'kWh' ? {} : { unit: tariff.unit };
  const out: DataRecord[] = [];
  for (const bill of bills) {
    for (const i of bill.intervals) out.push({ measurement: 'cost', tags, fields: { cost: round(i.cost) }, time: i.start, timescale: 'hour' });
    const fields: Record<string, FieldValue> = { cost: round(bill.total), energy: energyField(bill.energy), days: bill.days, end: bill.end, complete: bill.missingSeconds === 0, missing_hours: round(bill.missingSeconds / 3600, 3) };
    const utility = options.utilityBills?.get(bill.start);
    if (utility !== undefined) {
      fields.utility_cost = utility;
      if (utility !== 0) fields.error_percent = round(((bill.total - utility) / utility) * 100, 3);
    }
    out.push({ measurement: 'cost', tags, fields, time: bill.start, timescale: 'bill' });
    // The day's energy charges by tier and period, for daily charts.
    for (const day of bill.daily) {
      for (const c of day.parts) {
        const dayTags: Record<string, string> = { ...tags, ...unitTags, kind: c.kind, tier: String(c.tier), day_part: c.dayPart! };
        out.push({ measurement: 'cost_component', tags: dayTags, fields: { energy: energyField(c.energy), cost: round(c.cost) }, time: day.start, timescale: 'day' });
      }
    }
    for (const c of bill.components) {
      const componentTags: Record<string, string> = { ...tags, ...unitTags, kind: c.kind };
      if (c.tier !== undefined) componentTags.tier = String(c.tier);
      if (c.dayPart !== undefined) componentTags.day_part = c.dayPart;
      if (c.name !== undefined) componentTags.name = c.name;
      out.push({ measurement: 'cost_component', tags: componentTags, fields: { energy: energyField(c.energy), cost: round(c.cost) }, time: bill.start, timescale: 'bill' });
    }
  }
  return out;
}

/** The utility's bills stored in range: period start → cost. */
async function utilityBills(reader: Reader, range: { start: number; end: number }, location: string, signal?: AbortSignal): Promise<Map<number, number>> {
  const bills = new Map<number, number>();
  for (const p of await reader.read({ measurement: 'bill', field: 'cost', timescale: 'bill', ...range }, signal)) {
    if (p.tags.source === COST_SOURCE) continue;
    if (location === '' || p.tags.location === location || bills.size === 0) bills.set(p.time, p.value);
  }
  return bills;
}

/** Billing-period ranges of stored `bill` records (for `billing: "bills"`). */
async function storedBillPeriods(reader: Reader, range: { start: number; end: number }, signal?: AbortSignal): Promise<Array<{ start: number; end: number }>> {
  return (await reader.read({ measurement: 'bill', field: 'end', timescale: 'bill', start: range.start - 62 * 86400, end: range.end }, signal)).map((p) => ({ start: p.time, end: p.value }));
}

/** Build the cost agent. */
export function createCostAgent(settings: CostSettings, config: Config): Agent {
  const reader = openReader(config);
  return {
    name: 'cost',
    async collect(window: TimeWindow, context: CollectContext): Promise<DataRecord[]> {
      const tariff = settings.tariff;
      const bills = tariff.billing.kind === 'bills' ? await storedBillPeriods(reader, window, context.signal) : undefined;
      const periods = billingPeriods(tariff, window, config.timezone, bills);
      if (periods.length === 0) {
        context.problem(new Error(`no billing period in range: the tariff bills by stored bill records and ${reader.description} has none`));
        return [];
      }
      // Whole billing periods, up to now: tiers accumulate from each period's first hour.
      const range = { start: periods[0]!.start, end: Math.min(periods[periods.length - 1]!.end, Math.max(window.end, context.now)) };
      const usage = await readUsage(reader, tariff, settings.meter, range, context.signal);
      if (usage.intervals.length === 0) {
        context.problem(new Error(`no hourly ${usageSeries(tariff).measurement} usage${settings.meter ? ` for ${settings.meter}` : ''} in ${reader.description} from ${new Date(range.start * 1000).toISOString()}; run the usage agents first`));
        return [];
      }
      const priced = priceUsage(tariff, usage.intervals, config.timezone, { range: { start: periods[0]!.start, end: periods[periods.length - 1]!.end }, bills });
      for (const bill of priced) {
        const until = Math.min(bill.end, context.now);
        const missing = Math.max(0, until - bill.start - (bill.end - bill.start - bill.missingSeconds));
        // The running period misses its future hours by nature; a gap in the past is worth a line.
        if (missing > 0) context.log.warn(`cost: ${Math.round(missing / 3600)} hour(s) of usage missing in the bill from ${new Date(bill.start * 1000).toISOString().slice(0, 10)}: priced as far as it goes, marked complete=false`);
      }
      const recorded = await utilityBills(reader, range, usage.location, context.signal);
      return billRecords(priced, { tariff, plan: settings.plan, location: usage.location, utilityBills: recorded });
    },
  };
}

/** The cost agent module. */
export const cost: AgentModule<CostSettings> = {
  name: 'cost',
  description: 'Stored usage priced under a tariff file (OpenEI URDB JSON): cost per hour, day, week and billing period, by tier and time-of-use period.',
  settings: costSettings as unknown as AgentModule<CostSettings>['settings'],
  requires: [['COST_TARIFF']],
  fromEnv: (env, config) => costFromEnv(env, config),
  create: createCostAgent,
  limits: (settings, config): AgentLimits => ({
    // One collect sees every billing period of the window: tiers need the whole period.
    maxWindow: { maxDays: 3700 },
    lookback: 2 * 86400,
    rollups: chain('cost', 'sum', 'hour'),
    // From the start of the billing period two days ago, to now.
    defaultWindow: (now) => {
      const periods = billingPeriods(settings.tariff, { start: now - 2 * 86400, end: now }, config.timezone);
      return { start: periods[0]?.start ?? now - 2 * 86400, end: now };
    },
  }),
};

export default cost;
