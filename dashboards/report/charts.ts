/**
 * Panel specs and their query results → chart models the report's uPlot code draws: one x
 * axis (the union of the series' times) and one drawn series per result series. Colouring
 * by value (rate tiers, temperature scale) is done here by splitting a series into one drawn
 * series per colour, so the page needs no per-point colour logic and the legend explains
 * the colours.
 */
import { COLORS, type PanelSpec, type SeriesStyle } from '../src/panels.ts';
import type { DashboardSettings } from '../src/settings.ts';
import type { Series } from './data.ts';

/** One drawn series, aligned on the chart's x values (null = no point). */
export interface ChartSeries {
  label: string;
  color: string;
  style: SeriesStyle;
  axis: 'left' | 'right';
  values: Array<number | null>;
}

/** What the page needs to draw one panel. */
export interface ChartModel {
  key: string;
  title: string;
  description: string;
  /** Axis labels (units); the right axis exists only when a series uses it. */
  axes: { left?: string; right?: string };
  /** Unix seconds — or, with {@link xAxis}, the values of another quantity (a scatter). */
  x: number[];
  series: ChartSeries[];
  /** Set when x is not time: its axis label (e.g. the mean temperature of the day, °F). */
  xAxis?: { label: string };
  /** Drawn as a table instead of a chart (e.g. the unusual days). */
  table?: { columns: string[]; rows: string[][] };
}

/** Grafana's classic palette, for one-series-per-tag panels (UPS). */
const PALETTE = ['#B877D9', '#73BF69', '#F2CC0C', '#8AB8FF', '#FF780A', '#F2495C', '#5794F2'];

/** Blue → yellow → red, for temperature coloured by value. */
export const SCALE = ['#2C7BB6', '#7FBCD9', '#E5D96B', '#FDAE61', '#D7191C'];

const format = (value: number): string => String(Math.round(value * 10) / 10);

interface Drawn {
  label: string;
  color: string;
  style: SeriesStyle;
  axis: 'left' | 'right';
  points: Map<number, number>;
}

function split(series: Series, pick: (value: number) => number, labels: string[], colors: string[], base: Omit<Drawn, 'label' | 'color' | 'points'>): Drawn[] {
  const drawn = labels.map((label, i) => ({ ...base, label, color: colors[i]!, points: new Map<number, number>() }));
  series.times.forEach((t, i) => drawn[pick(series.values[i]!)]!.points.set(t, series.values[i]!));
  return drawn;
}

/** Build the chart of `panel` from the results of its series (same order as `panel.series`). */
export function chartModel(panel: PanelSpec, results: Series[][], settings: DashboardSettings): ChartModel {
  const drawn: Drawn[] = [];
  const axes: ChartModel['axes'] = {};
  panel.series.forEach((spec, index) => {
    axes[spec.axis] ??= spec.unitLabel;
    const base = { style: spec.style, axis: spec.axis };
    const groupBy = spec.query.groupBy ?? [];
    for (const [i, series] of (results[index] ?? []).entries()) {
      const label = groupBy.length === 0 ? spec.label : groupBy.map((tag) => series.tags[tag] ?? '').filter(Boolean).join(' ') || spec.label;
      if (spec.color.kind === 'tiers') {
        const { yellow, red } = settings.tiers;
        const labels = [`${spec.label} < ${yellow} ${spec.unitLabel}`, `${spec.label} ${yellow}–${red} ${spec.unitLabel}`, `${spec.label} ≥ ${red} ${spec.unitLabel}`];
        drawn.push(...split(series, (v) => (v >= red ? 2 : v >= yellow ? 1 : 0), labels, [COLORS.green, COLORS.yellow, COLORS.red], base));
      } else if (spec.color.kind === 'scale') {
        // Even bands between the range's extremes, as Grafana's continuous scheme spreads its colours.
        const min = Math.min(...series.values);
        const max = Math.max(...series.values);
        const width = (max - min) / SCALE.length || 1;
        const band = (v: number): number => Math.min(SCALE.length - 1, Math.floor((v - min) / width));
        const labels = SCALE.map((_, b) => `${spec.label} ${format(min + b * width)}–${format(min + (b + 1) * width)} ${spec.unitLabel}`);
        drawn.push(...split(series, band, labels, SCALE, base));
      } else {
        const color = spec.color.kind === 'fixed' ? spec.color.color : PALETTE[i % PALETTE.length]!;
        drawn.push({ ...base, label, color, points: new Map(series.times.map((t, j) => [t, series.values[j]!])) });
      }
    }
  });
  const x = [...new Set(drawn.flatMap((d) => [...d.points.keys()]))].sort((a, b) => a - b);
  // Stacked bars: each series drawn at the running total of those before it, the tallest first,
  // so every one shows as its own band.
  const stacked = drawn.filter((d) => d.style === 'stacked');
  if (stacked.length > 0) {
    const running = new Map<number, number>();
    for (const d of stacked) {
      for (const t of x) {
        const v = d.points.get(t);
        if (v === undefined) continue;
        const top = (running.get(t) ?? 0) + v;
        running.set(t, top);
        d.points.set(t, top);
      }
    }
    drawn.splice(0, drawn.length, ...drawn.filter((d) => d.style !== 'stacked'), ...stacked.reverse());
  }
  return {
    key: panel.key,
    title: panel.title,
    description: panel.description,
    axes,
    x,
    series: drawn.map((d) => ({ label: d.label, color: d.color, style: d.style, axis: d.axis, values: x.map((t) => d.points.get(t) ?? null) })),
  };
}
