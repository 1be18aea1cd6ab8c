/**
 * Panel data for the HTML report from any store the reader reads (file store, InfluxDB
 * 1.x/2.x/3.x through InfluxQL, VictoriaMetrics): each {@link QuerySpec}'s raw series is read
 * back through `src/database/reader.ts` and evaluated here the way InfluxDB evaluates the
 * spec's InfluxQL (inclusive time filter, tag exclusions, GROUP BY time and tags, sum/mean,
 * scale), so the report shows the same numbers whichever store holds them.
 */
import type { Reader } from '../../src/database/reader.ts';
import type { DecodedPoint } from '../../src/lineprotocol.ts';
import { type LocalRules, periodStart } from '../../src/window.ts';
import { type QuerySpec, intervalSeconds } from '../src/query.ts';

/** One result series: a name, its group tags, and points sorted by time (Unix seconds). */
export interface Series {
  name: string;
  tags: { [tag: string]: string };
  times: number[];
  values: number[];
}

/** Time range and grouping rules of an evaluation. */
export interface EvaluateOptions {
  /** Unix seconds, both inclusive (like Grafana's `$timeFilter`). */
  from: number;
  to: number;
  /** Day and week boundaries; UTC when the dashboards are generated without a timezone. */
  rules: LocalRules;
  /** What `auto` grouping means here (Grafana's `$__interval`), e.g. `1h`. */
  interval: string;
}

/** A stored point, as {@link evaluate} takes it. */
export type Point = Pick<DecodedPoint, 'measurement' | 'tags' | 'fields' | 'time'>;

/** Panel data read through a {@link Reader}; each raw series is read once per report. */
export class StoreData {
  private readonly series = new Map<string, Promise<Point[]>>();

  constructor(readonly reader: Reader) {}

  /** Evaluate `spec` over the store. */
  async evaluate(spec: QuerySpec, options: EvaluateOptions): Promise<Series[]> {
    const key = JSON.stringify([spec.timescale, spec.measurement, spec.field]);
    let loaded = this.series.get(key);
    if (!loaded) {
      // The reader's end is exclusive, Grafana's `to` inclusive: one second more.
      loaded = this.reader
        .read({ measurement: spec.measurement, field: spec.field, timescale: spec.timescale, start: options.from, end: options.to + 1 })
        .then((points) => points.map((p) => ({ measurement: spec.measurement, tags: p.tags, fields: { [spec.field]: p.value }, time: p.time })));
      this.series.set(key, loaded);
    }
    return evaluate(spec, await loaded, options);
  }
}

function groupStart(t: number, spec: QuerySpec, options: EvaluateOptions): number {
  switch (spec.every) {
    case '1h':
      return periodStart(t, 'hour', options.rules);
    case '1d':
      return periodStart(t, 'day', options.rules);
    case '1w':
      return periodStart(t, 'week', options.rules);
    case 'auto': {
      const step = intervalSeconds(options.interval);
      return Math.floor(t / step) * step;
    }
  }
}
/** Evaluate `spec` over `points` as InfluxDB would evaluate the spec's InfluxQL. */
export function evaluate(spec: QuerySpec, points: readonly Point[], options: EvaluateOptions): Series[] {
  const exclusions = (spec.exclude ?? []).map((e) => ({ tag: e.tag, regex: new RegExp(e.pattern) }));
  const groupBy = spec.groupBy ?? [];
  const groups = new Map<string, { tags: Series['tags']; buckets: Map<number, { sum: number; count: number }> }>();
  for (const point of points) {
    if (point.measurement !== spec.measurement || point.time < options.from || point.time > options.to) continue;
    const value = point.fields[spec.field];
    if (value === undefined) continue;
    // InfluxQL compares a missing tag as "", which the exclusion regexes never match.
    if (exclusions.some((e) => e.regex.test(point.tags[e.tag] ?? ''))) continue;
    const tags = Object.fromEntries(groupBy.map((tag) => [tag, point.tags[tag] ?? '']));
    const key = JSON.stringify(tags);
    let group = groups.get(key);
    if (!group) {
      group = { tags, buckets: new Map() };
      groups.set(key, group);
    }
    const start = groupStart(point.time, spec, options);
    const bucket = group.buckets.get(start) ?? { sum: 0, count: 0 };
    bucket.sum += value;
    bucket.count += 1;
    group.buckets.set(start, bucket);
  }
  const scale = spec.scale ?? 1;
  return [...groups.values()]
    .sort((a, b) => JSON.stringify(a.tags).localeCompare(JSON.stringify(b.tags)))
    .map((group) => {
      const times = [...group.buckets.keys()].sort((a, b) => a - b);
      const values = times.map((t) => {
        const b = group.buckets.get(t)!;
        return (spec.aggregate === 'sum' ? b.sum : b.sum / b.count) * scale;
      });
      return { name: spec.alias, tags: group.tags, times, values };
    });
}
