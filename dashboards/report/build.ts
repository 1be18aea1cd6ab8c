/**
 * The report from a data source: every panel's series evaluated over one time range, turned
 * into charts, rendered as a self-contained page.
 */
import { allPanels } from '../src/panels.ts';
import { type DashboardSettings, validateSettings } from '../src/settings.ts';
import { type ChartModel, chartModel } from './charts.ts';
import type { Reader } from '../../src/database/reader.ts';
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
  for (const panel of allPanels(settings)) {
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
  return charts;
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
