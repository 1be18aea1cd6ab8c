/**
 * Panel and dashboard specs → Grafana dashboard JSON, typed with `@grafana/schema`, in one of
 * two flavours: InfluxQL (InfluxDB 1.x, and 2.x/3.x through their v1 query API) or Flux
 * (InfluxDB 2.x). Only the data source and the query text differ between flavours.
 */
import {
  AxisPlacement,
  type Dashboard,
  type DataSourceRef,
  FieldColorModeId,
  type FieldConfig,
  type FieldConfigSource,
  type GraphFieldConfig,
  GraphDrawStyle,
  GraphGradientMode,
  LegendDisplayMode,
  LineInterpolation,
  type Panel,
  type RowPanel,
  SortOrder,
  StackingMode,
  ThresholdsMode,
  type ThresholdsConfig,
  TooltipDisplayMode,
  VariableHide,
  type VariableModel,
  VisibilityMode,
} from '@grafana/schema';
import { COLORS, type PanelSpec, type SeriesSpec } from './panels.ts';
import { PREFIX_VARIABLE, toFlux, toInfluxQL } from './query.ts';
import type { DashboardSettings } from './settings.ts';

/** Query language of a generated dashboard. */
export type Flavour = 'influxql' | 'flux';

/** Both flavours, in the order files are generated. */
export const FLAVOURS: readonly Flavour[] = ['influxql', 'flux'];

/** The provisioned data source of each flavour (the dashboards refer to it by uid). */
export const DATASOURCES: Record<Flavour, { uid: string; name: string; ref: DataSourceRef }> = {
  influxql: { uid: 'homeflux-influxql', name: 'homeflux InfluxQL', ref: { type: 'influxdb', uid: 'homeflux-influxql' } },
  flux: { uid: 'homeflux-flux', name: 'homeflux Flux', ref: { type: 'influxdb', uid: 'homeflux-flux' } },
};

/** A panel placed on the grid (24 columns wide). */
export interface PlacedPanel {
  spec: PanelSpec;
  w: number;
  h: number;
}

/** A row of panels shown over one time range. */
export interface RangeRow {
  title: string;
  /**
   * Relative time override of the row's panels (e.g. `now-30d`); undefined = the panels follow
   * the dashboard's time picker, whose default is the dashboard's `from`.
   */
  timeFrom?: string;
}

/** One dashboard, flavour-independent. */
export interface DashboardDefinition {
  /** Base uid; the flavour is appended (`homeflux-home-influxql`). */
  uid: string;
  title: string;
  description: string;
  /** Default time range of the time picker, e.g. `now-7d`. */
  from: string;
  rows: RangeRow[];
  /** Panels repeated in every row, left to right, wrapping at 24 columns. */
  panels: PlacedPanel[];
}

/** Grafana's schema version the JSON is written for (Grafana 10.4+; later versions migrate it). */
export const SCHEMA_VERSION = 39;

function thresholds(spec: SeriesSpec, settings: DashboardSettings): ThresholdsConfig {
  if (spec.color.kind !== 'tiers') return { mode: ThresholdsMode.Absolute, steps: [{ color: 'green', value: null }] };
  const { yellow, red } = settings.tiers;
  // The first step has no lower bound: Grafana stores -Infinity as null.
  return {
    mode: ThresholdsMode.Absolute,
    steps: [
      { color: COLORS.green, value: null },
      { color: COLORS.yellow, value: yellow },
      { color: COLORS.red, value: red },
    ],
  };
}

/** The field config of one series (defaults for the first series, an override for the others). */
function seriesFieldConfig(spec: SeriesSpec, settings: DashboardSettings): FieldConfig<GraphFieldConfig> {
  const custom: GraphFieldConfig & Record<string, unknown> = {
    drawStyle: spec.style === 'bars' || spec.style === 'stacked' ? GraphDrawStyle.Bars : spec.style === 'points' ? GraphDrawStyle.Points : GraphDrawStyle.Line,
    lineInterpolation: spec.style === 'step' ? LineInterpolation.StepAfter : LineInterpolation.Linear,
    lineWidth: spec.style === 'points' ? 0 : 2,
    fillOpacity: spec.style === 'bars' || spec.style === 'stacked' ? 80 : spec.style === 'step' ? 10 : 0,
    ...(spec.style === 'stacked' ? { stacking: { mode: StackingMode.Normal, group: 'A' } } : {}),
    pointSize: spec.style === 'points' ? 4 : 5,
    showPoints: spec.style === 'points' ? VisibilityMode.Always : VisibilityMode.Never,
    // Colour by value (tiers, temperature scale) needs the "scheme" gradient.
    gradientMode: spec.color.kind === 'tiers' || spec.color.kind === 'scale' ? GraphGradientMode.Scheme : GraphGradientMode.None,
    axisPlacement: spec.axis === 'right' ? AxisPlacement.Right : AxisPlacement.Left,
    axisLabel: spec.unitLabel,
    spanNulls: spec.style === 'step',
  };
  const color =
    spec.color.kind === 'fixed'
      ? { mode: FieldColorModeId.Fixed, fixedColor: spec.color.color }
      : spec.color.kind === 'tiers'
        ? { mode: FieldColorModeId.Thresholds }
        : spec.color.kind === 'scale'
          ? { mode: FieldColorModeId.ContinuousBlYlRd }
          : { mode: FieldColorModeId.PaletteClassic };
  const groupBy = spec.query.groupBy ?? [];
  return {
    unit: spec.unit,
    color,
    custom,
    thresholds: thresholds(spec, settings),
    displayName: groupBy.length === 0 ? spec.label : groupBy.map((tag) => `\${__field.labels.${tag}}`).join(' '),
  };
}

// An override lists properties by path: `custom.drawStyle`, `unit`, …
function overrideProperties(config: FieldConfig<GraphFieldConfig>): Array<{ id: string; value?: unknown }> {
  const properties: Array<{ id: string; value?: unknown }> = [];
  for (const [key, value] of Object.entries(config)) {
    if (key === 'custom') for (const [custom, v] of Object.entries(value as object)) properties.push({ id: `custom.${custom}`, value: v });
    else properties.push({ id: key, value });
  }
  return properties;
}

function fieldConfig(spec: PanelSpec, settings: DashboardSettings): FieldConfigSource<GraphFieldConfig> {
  const [first, ...rest] = spec.series;
  if (!first) throw new Error(`panel "${spec.title}": expected at least one series, got none`);
  return {
    defaults: seriesFieldConfig(first, settings),
    overrides: rest.map((series) => ({
      matcher: { id: 'byFrameRefID', options: series.query.refId },
      properties: overrideProperties(seriesFieldConfig(series, settings)),
    })),
  };
}

/** A Grafana time-series panel for `spec`. */
export function grafanaPanel(spec: PanelSpec, options: { id: number; flavour: Flavour; settings: DashboardSettings; gridPos: NonNullable<Panel['gridPos']>; timeFrom?: string }): Panel {
  const { flavour, settings } = options;
  const datasource = DATASOURCES[flavour].ref;
  const panel: Panel = {
    id: options.id,
    type: 'timeseries',
    title: spec.title,
    description: spec.description,
    datasource,
    gridPos: options.gridPos,
    fieldConfig: fieldConfig(spec, settings) as Panel['fieldConfig'],
    options: {
      legend: { showLegend: true, displayMode: LegendDisplayMode.List, placement: 'bottom', calcs: [] },
      tooltip: { mode: TooltipDisplayMode.Multi, sort: SortOrder.None },
    },
    targets: spec.series.map((series) =>
      flavour === 'influxql'
        ? { refId: series.query.refId, datasource, rawQuery: true, resultFormat: 'time_series', query: toInfluxQL(series.query, settings) }
        : { refId: series.query.refId, datasource, query: toFlux(series.query, settings) },
    ),
  };
  if (spec.minInterval !== undefined) panel.interval = spec.minInterval;
  if (options.timeFrom !== undefined) panel.timeFrom = options.timeFrom;
  return panel;
}

function prefixVariable(settings: DashboardSettings): VariableModel {
  const value = settings.bucketPrefix;
  return {
    type: 'textbox',
    name: PREFIX_VARIABLE,
    label: 'Bucket prefix',
    description: 'INFLUX_BUCKET_PREFIX of the agents: the panels read <prefix>-minute, -hour, -day and -week.',
    query: value,
    current: { text: value, value },
    options: [{ selected: true, text: value, value }],
    hide: VariableHide.dontHide,
  };
}

/** The whole dashboard of `definition` in one flavour. */
export function grafanaDashboard(definition: DashboardDefinition, flavour: Flavour, settings: DashboardSettings): Dashboard {
  const panels: Array<Panel | RowPanel> = [];
  let id = 1;
  let y = 0;
  for (const row of definition.rows) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, panels: [], gridPos: { x: 0, y, w: 24, h: 1 } });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const placed of definition.panels) {
      if (x + placed.w > 24) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      const gridPos = { x, y, w: placed.w, h: placed.h };
      panels.push(grafanaPanel(placed.spec, { id: id++, flavour, settings, gridPos, timeFrom: row.timeFrom }));
      x += placed.w;
      rowHeight = Math.max(rowHeight, placed.h);
    }
    y += rowHeight;
  }
  const ranges = [definition.from, ...definition.rows.flatMap((row) => (row.timeFrom ? [row.timeFrom] : []))];
  return {
    uid: `${definition.uid}-${flavour}`,
    title: definition.title,
    description: `${definition.description} (${flavour === 'influxql' ? 'InfluxQL' : 'Flux'}; generated by scripts/dashboards.ts)`,
    tags: ['homeflux', flavour],
    editable: true,
    graphTooltip: 1,
    schemaVersion: SCHEMA_VERSION,
    timezone: 'browser',
    time: { from: definition.from, to: 'now' },
    timepicker: { quick_ranges: ranges.map((from) => ({ display: `Last ${from.replace('now-', '')}`, from, to: 'now' })) },
    refresh: '',
    fiscalYearStartMonth: 0,
    links: [{ title: 'homeflux', type: 'dashboards', tags: ['homeflux', flavour], asDropdown: true, icon: 'external link', includeVars: true, keepTime: false, targetBlank: false, tooltip: '', url: '' }],
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    templating: { list: [prefixVariable(settings)] },
    panels,
  };
}
