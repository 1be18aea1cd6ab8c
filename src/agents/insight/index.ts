/**
 * `insight`: a derived agent — a year of the stored hourly use and temperature read back and
 * explained (src/insight/analysis.ts): a CalTRACK daily model of use against heating and
 * cooling degree days, each day's expected use and residual, the always-on load, unusual days.
 * It writes daily `baseline`, `always_on` and `anomaly` records and one `model` record per fit;
 * `scripts/insight.ts --summary` / `--json` print what the model says. See README.md here.
 */
import { DateTime } from 'luxon';
import type { Config } from '../../config.ts';
import { ConfigError } from '../../errors.ts';
import { openReader, type Reader, type SeriesPoint } from '../../database/reader.ts';
import { type Analysis, analyse } from '../../insight/analysis.ts';
import type { DataRecord, FieldValue } from '../../records.ts';
import type { TimeWindow } from '../../window.ts';
import type { Agent, AgentLimits, AgentModule, CollectContext } from '../agent.ts';
import { type InsightSettings, insightFromEnv, insightSettings } from './settings.ts';

export { INSIGHT_ENV, insightFromEnv } from './settings.ts';

/** `source` of every record. */
export const INSIGHT_SOURCE = 'homeflux.insight';

const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * The one location among `points`, or `wanted`; among several, the one written by `preferred`
 * (a source) if exactly one is; otherwise a ConfigError naming them.
 */
function oneLocation(points: readonly SeriesPoint[], wanted: string | undefined, variable: string, what: string, where: string, preferred?: string): string {
  if (wanted !== undefined) return wanted;
  const locations = [...new Set(points.map((p) => p.tags.location ?? ''))].sort();
  const fromPreferred = [...new Set(points.filter((p) => p.tags.source === preferred).map((p) => p.tags.location ?? ''))];
  if (locations.length > 1 && fromPreferred.length === 1) return fromPreferred[0]!;
  if (locations.length > 1) throw new ConfigError(`${variable}: ${locations.length} locations have ${what} in ${where} (${locations.join(', ')}); set ${variable} to the one to use`, variable);
  return locations[0] ?? '';
}

/** Read the year before `end` and analyse it. */
export async function readAndAnalyse(reader: Reader, settings: InsightSettings, config: Config, options: { end: number; start?: number; signal?: AbortSignal }): Promise<{ analysis: Analysis; meter: string; weather: string; unit?: string }> {
  const start = options.start ?? DateTime.fromSeconds(options.end, { zone: config.timezone }).minus({ days: 400 }).startOf('day').toSeconds();
  const range = { start, end: options.end };
  const read = async (measurement: string, field: string, timescale: 'hour' | 'day', location: string | undefined): Promise<SeriesPoint[]> =>
    (await reader.read({ measurement, field, timescale, ...range, ...(location ? { tags: { location } } : {}) }, options.signal)).filter((p) => p.tags.source !== 'homeflux.tariff');
  // Daily records too, for days without hours: utilities that read only daily, a portal's daily weather.
  const usage = settings.fuel === 'gas' ? { measurement: 'gas', field: 'gas_usage' } : { measurement: 'power', field: 'power_usage' };
  const [powerAll, dailyPowerAll, tempAll, dailyTempAll] = await Promise.all([
    read(usage.measurement, usage.field, 'hour', settings.meter),
    read(usage.measurement, usage.field, 'day', settings.meter),
    read('temperature', 'temperature', 'hour', settings.weather),
    read('temperature', 'temperature', 'day', settings.weather),
  ]);
  const meter = oneLocation([...powerAll, ...dailyPowerAll], settings.meter, 'INSIGHT_METER', usage.measurement, reader.description);
  // The weather agent's series when the store also holds a portal's or a station's.
  const weather = oneLocation([...tempAll, ...dailyTempAll], settings.weather, 'INSIGHT_WEATHER', 'temperature', reader.description, 'homeflux.open_meteo');
  const byTime = (points: readonly SeriesPoint[], location: string, sum: boolean): Map<number, number> => {
    const out = new Map<number, number>();
    for (const p of points) if ((p.tags.location ?? '') === location) out.set(p.time, sum ? (out.get(p.time) ?? 0) + p.value : p.value);
    return out;
  };
  const analysis = analyse(
    { usageWh: byTime(powerAll, meter, true), temperature: byTime(tempAll, weather, false), dailyWh: byTime(dailyPowerAll, meter, true), dailyTemperature: byTime(dailyTempAll, weather, false), unit: config.units === 'metric' ? 'C' : 'F' },
    { start, end: options.end, timezone: config.timezone, sigmaK: settings.anomalySigma, fuel: settings.fuel },
  );
  // Gas is stored in the meter's own unit (THERM, CCF): the records say which.
  const unit = settings.fuel === 'gas' ? [...powerAll, ...dailyPowerAll].find((p) => p.tags.location === meter)?.tags.unit : undefined;
  return { analysis, meter, weather, ...(unit ? { unit } : {}) };
}

/** The daily records of the days in `window`, and the model record at the last day. */
export function insightRecords(result: { analysis: Analysis; meter: string; unit?: string }, window: TimeWindow): DataRecord[] {
  const { analysis, meter } = result;
  const tags: Record<string, string> = { data_source: 'homeflux', source: INSIGHT_SOURCE, location: meter, ...(result.unit ? { unit: result.unit } : {}) };
  const out: DataRecord[] = [];
  const record = (measurement: string, time: number, fields: Record<string, FieldValue>): void => void out.push({ measurement, tags, fields, time, timescale: 'day' });
  for (const d of analysis.days) {
    if (d.start < window.start || d.start >= window.end) continue;
    if (d.expected !== undefined) {
      const fields: Record<string, FieldValue> = { expected: round(d.expected), hdd: round(d.hdd ?? 0), cdd: round(d.cdd ?? 0) };
      if (d.residual !== undefined) fields.residual = round(d.residual);
      record('baseline', d.start, fields);
    }
    // The always-on load is a power: electricity only.
    if (d.alwaysOnW !== undefined && result.unit === undefined) record('always_on', d.start, { power_w: round(d.alwaysOnW) });
    if (d.anomaly && d.actual !== undefined && d.expected !== undefined) record('anomaly', d.start, { actual: round(d.actual), expected: round(d.expected), residual: round(d.residual!), sigmas: round(d.anomaly.sigmas) });
  }
  const last = analysis.days.filter((d) => d.start < window.end).at(-1);
  if (last && last.start >= window.start) {
    const m = analysis.model;
    record('model', last.start, {
      type: m.type,
      intercept: round(m.intercept),
      heating_balance: m.heating ? round(m.heating.balance, 2) : 0,
      heating_slope: m.heating ? round(m.heating.slope) : 0,
      cooling_balance: m.cooling ? round(m.cooling.balance, 2) : 0,
      cooling_slope: m.cooling ? round(m.cooling.slope) : 0,
      r2_adj: round(m.r2Adj, 6),
      cvrmse: Number.isFinite(m.cvrmse) ? round(m.cvrmse, 6) : 0,
      nmbe: Number.isFinite(m.nmbe) ? round(m.nmbe, 6) : 0,
      days_used: m.daysUsed,
      days_missing: m.daysMissing,
      sufficient: m.sufficient,
    });
  }
  return out;
}

/** Build the insight agent. */
export function createInsightAgent(settings: InsightSettings, config: Config): Agent {
  const reader = openReader(config);
  return {
    name: 'insight',
    async collect(window: TimeWindow, context: CollectContext): Promise<DataRecord[]> {
      const result = await readAndAnalyse(reader, settings, config, { end: window.end, signal: context.signal });
      // Nothing to fit yet (a new install, weather without a meter) is not a failure of the run.
      if (result.analysis.model.daysUsed === 0) {
        context.log.info(`insight: nothing to fit yet — no day with both hourly power and temperature in ${reader.description}`);
        return [];
      }
      // A baseline still growing towards a year says so in its model record, not in every run's log.
      if (!result.analysis.model.sufficient) context.log.debug(`insight: baseline insufficient — ${result.analysis.model.reasons.join('; ')} (the model is written, marked sufficient=false)`);
      // On Actions, yesterday being unusual is worth a line on the run's page.
      const yesterday = result.analysis.days.filter((d) => d.start < context.now - 86400 + 1).at(-1);
      if (yesterday?.anomaly && yesterday.actual !== undefined && yesterday.expected !== undefined) {
        const date = DateTime.fromSeconds(yesterday.start, { zone: config.timezone }).toISODate();
        context.log.warn(`insight: ${date} used ${(yesterday.actual / 1000).toFixed(1)} kWh, ${(yesterday.expected / 1000).toFixed(1)} kWh expected for its weather (${yesterday.anomaly.sigmas.toFixed(1)} σ)`, 'unusual day');
      }
      return insightRecords(result, window);
    },
  };
}

/** The insight agent module. */
export const insight: AgentModule<InsightSettings> = {
  name: 'insight',
  description: 'Weather-normalised use (CalTRACK daily model), always-on load and unusual days, from the stored hourly power and temperature.',
  settings: insightSettings,
  // Temperature has to come from somewhere: the weather agent, or a location named outright.
  requires: [['WEATHER_LATITUDE', 'INSIGHT_WEATHER']],
  fromEnv: (env) => insightFromEnv(env),
  create: createInsightAgent,
  limits: (): AgentLimits => ({
    maxWindow: { maxDays: 3700 },
    lookback: 2 * 86400,
    rollups: [],
    // The last two whole local days.
    defaultWindow: (now, rules) => {
      const today = DateTime.fromSeconds(now, { zone: rules.timezone }).startOf('day');
      return { start: today.minus({ days: 2 }).toSeconds(), end: today.toSeconds() };
    },
  }),
};

export default insight;
