/**
 * The report from a data source: every panel's series evaluated over one time range, turned
 * into charts, rendered as a self-contained page.
 */
import { COLORS, reportPanels } from '../src/panels.ts';
import { temperatureUnit } from '../src/settings.ts';
import { type DashboardSettings, validateSettings } from '../src/settings.ts';
import { type ChartModel, chartModel } from './charts.ts';
import type { Reader } from '../../src/database/reader.ts';
import type { Tariff } from '../../src/insight/tariff/file.ts';
import { comparePlans } from '../../src/run/compare.ts';
import { StoreData, type Series } from './data.ts';
import { renderReport, uplotAssets } from './html.ts';
import { evaluateOnInflux, type InfluxV1Source, safeUrl } from './influxql.ts';

/**
 * Where the report reads: any store through its reader (what `scripts/report.ts` uses), or
 * InfluxDB 1.x running the dashboards' own InfluxQL — the tests compare the two, which checks
 * the report's evaluation against InfluxDB's.
 */
export type ReportSource = { kind: 'store'; reader: Reader } | ({ kind: 'influxql' } & InfluxV1Source);

/** What to draw. */
export interface ReportOptions {
  source: ReportSource;
  /** Report settings; `timezone` is required here (the page has to draw local days). */
  settings: DashboardSettings & { timezone: string };
  /** Unix seconds, inclusive. */
  from: number;
  to: number;
  /** Tariff plans to compare over the range (`--compare`), the current one first. */
  plans?: { tariffs: readonly Tariff[]; meter?: string };
}

// The report draws hourly temperature points whatever the range: a page has no pixel budget
// the way a Grafana panel has, and a year of hours is only ~9,000 points.
const AUTO_INTERVAL = '1h';

/** Every panel's chart. */
export async function reportCharts(options: ReportOptions): Promise<ChartModel[]> {
  const settings = validateSettings(options.settings) as ReportOptions['settings'];
  const { from, to } = options;
  const source = options.source;
  const store = source.kind === 'store' ? new StoreData(source.reader) : undefined;
  const charts: ChartModel[] = [];
  for (const panel of reportPanels(settings)) {
    const results: Series[][] = [];
    for (const series of panel.series) {
      if (store) {
        results.push(await store.evaluate(series.query, { from, to, interval: AUTO_INTERVAL, rules: { timezone: settings.timezone, weekStart: settings.weekStart } }));
      } else if (source.kind === 'influxql') {
        results.push(await evaluateOnInflux(source, series.query, { settings, from, to, interval: AUTO_INTERVAL }));
      }
    }
    charts.push(chartModel(panel, results, settings));
  }
  if (store) charts.push(await energySignature(store, settings, { from, to }), await unusualDays(store, settings, { from, to }));
  if (source.kind === 'store' && options.plans && options.plans.tariffs.length > 0) charts.push(await planComparison(source.reader, options.plans, settings, { from, to }));
  return charts;
}

/** "Which Plan": each tariff's cost of the range's stored use, cheapest first, beside the current plan (the first). */
async function planComparison(reader: Reader, plans: NonNullable<ReportOptions['plans']>, settings: ReportOptions['settings'], range: { from: number; to: number }): Promise<ChartModel> {
  const results = await comparePlans({ reader, tariffs: plans.tariffs, meter: plans.meter, range: { start: range.from, end: range.to }, timezone: settings.timezone });
  const current = results[0]!;
  const money = (x: number): string => x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const rows = [...results]
    .sort((a, b) => a.total - b.total)
    .map((r) => [r.name, String(r.periods.length), money(r.total), r === current ? 'current plan' : `${r.total - current.total < 0 ? '−' : '+'}${money(Math.abs(r.total - current.total))}${current.total !== 0 ? ` (${(((r.total - current.total) / current.total) * 100).toFixed(1)} %)` : ''}`]);
  return {
    key: 'plan-comparison',
    title: 'Which Plan Would Have Been Cheapest',
    description: `The stored use of the range priced under each tariff file (whole billing periods, ${plans.tariffs[0]!.currency}), cheapest first, beside the current plan (${current.name}).`,
    axes: {},
    x: [],
    series: [],
    table: { columns: ['plan', 'bills', 'total', 'vs current'], rows },
  };
}

const DAY_RULES = (settings: ReportOptions['settings']): { timezone: string; weekStart: ReportOptions['settings']['weekStart'] } => ({ timezone: settings.timezone, weekStart: settings.weekStart });

/**
 * "Energy Signature": each day's use against its mean temperature (points), and what the
 * weather-normalised model expects at that temperature (the line) — how much the weather costs,
 * at a glance.
 */
async function energySignature(store: StoreData, settings: ReportOptions['settings'], range: { from: number; to: number }): Promise<ChartModel> {
  const t = temperatureUnit(settings.units);
  const options = { ...range, interval: '1d', rules: DAY_RULES(settings) };
  const byDay = async (spec: Parameters<StoreData['evaluate']>[0]): Promise<Map<number, number>> => {
    const series = await store.evaluate(spec, options);
    return new Map(series.flatMap((s) => s.times.map((time, i) => [time, s.values[i]!] as const)));
  };
  const used = await byDay({ refId: 'A', alias: 'energy', timescale: 'day', measurement: 'power', field: 'power_usage', aggregate: 'sum', every: '1d', scale: 0.001, exclude: [{ tag: 'source', pattern: settings.excludePowerSources }] });
  const temperature = await byDay({ refId: 'B', alias: 'temperature', timescale: 'day', measurement: 'temperature', field: 'temperature', aggregate: 'mean', every: '1d' });
  const expected = await byDay({ refId: 'C', alias: 'expected', timescale: 'day', measurement: 'baseline', field: 'expected', aggregate: 'sum', every: '1d', scale: 0.001 });
  const points = [...used.keys()].filter((day) => temperature.has(day)).map((day) => ({ x: temperature.get(day)!, used: used.get(day)!, expected: expected.get(day) ?? null }));
  points.sort((a, b) => a.x - b.x);
  return {
    key: 'energy-signature',
    title: 'Energy Signature: Daily Use vs Temperature',
    description: `Each day's household energy (kWh, points) against its mean outdoor temperature (${t.label}), and the use the insight agent's model expects at that temperature (line): the flat part is the baseload, the slopes what heating and cooling cost per degree.`,
    axes: { left: 'kWh' },
    xAxis: { label: `daily mean temperature (${t.label})` },
    x: points.map((p) => p.x),
    series: [
      { label: 'Used', color: COLORS.energy, style: 'points', axis: 'left', values: points.map((p) => p.used) },
      { label: 'Expected for the weather', color: COLORS.temperature, style: 'line', axis: 'left', values: points.map((p) => p.expected) },
    ],
  };
}

/** "Unusual Days": the insight agent's anomalies in range, as a table. */
async function unusualDays(store: StoreData, settings: ReportOptions['settings'], range: { from: number; to: number }): Promise<ChartModel> {
  const options = { ...range, interval: '1d', rules: DAY_RULES(settings) };
  const field = async (name: string): Promise<Map<number, number>> => {
    const series = await store.evaluate({ refId: name, alias: name, timescale: 'day', measurement: 'anomaly', field: name, aggregate: 'mean', every: '1d' }, options);
    return new Map(series.flatMap((s) => s.times.map((time, i) => [time, s.values[i]!] as const)));
  };
  const [actual, expected, sigmas] = await Promise.all([field('actual'), field('expected'), field('sigmas')]);
  const date = (t: number): string => new Date(t * 1000).toLocaleDateString('en-CA', { timeZone: settings.timezone });
  const rows = [...actual.keys()].sort((a, b) => a - b).map((t) => [date(t), (actual.get(t)! / 1000).toFixed(1), ((expected.get(t) ?? Number.NaN) / 1000).toFixed(1), (sigmas.get(t) ?? Number.NaN).toFixed(1)]);
  return {
    key: 'unusual-days',
    title: 'Unusual Days',
    description: 'Days whose use was further from what the weather explains than the insight agent\'s threshold (INSIGHT_ANOMALY_SIGMA standard deviations of the model\'s residuals).',
    axes: {},
    x: [],
    series: [],
    table: { columns: ['day', 'used (kWh)', 'expected (kWh)', 'σ'], rows },
  };
}

/** A description of the source without credentials. */
export function describeSource(source: ReportSource): string {
  return source.kind === 'store' ? source.reader.description : `InfluxDB (dashboard InfluxQL) ${safeUrl(source.url)}`;
}

/** The whole report page; `sourceLabel` replaces the source description (stable README pictures). */
export async function buildReport(options: ReportOptions & { now?: Date; sourceLabel?: string }): Promise<{ html: string; charts: ChartModel[] }> {
  const charts = await reportCharts(options);
  const html = renderReport(
    { charts, from: options.from, to: options.to, timezone: options.settings.timezone, source: options.sourceLabel ?? describeSource(options.source), generatedAt: (options.now ?? new Date()).toISOString() },
    await uplotAssets(),
  );
  return { html, charts };
}
