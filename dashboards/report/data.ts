/**
 * Panel data for the HTML report from the file store: the `.lp` files of `HOMEFLUX_DATA_DIR`
 * parsed, and each {@link QuerySpec} evaluated the way InfluxDB evaluates its InfluxQL
 * (inclusive time filter, tag exclusions, GROUP BY time and tags, sum/mean, scale), so the
 * report shows the same numbers from a file store as from a database.
 */
import { readBucketFile } from '../../src/database/file-store.ts';
import { type DecodedPoint, decodePoint } from '../../src/lineprotocol.ts';
import { bucketName, type Timescale } from '../../src/records.ts';
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

/** A parsed point (see src/database/lineprotocol.ts). */
export type Point = DecodedPoint;

/** Parse one line we wrote; string and boolean fields are left out. */
export const parsePoint = decodePoint;

/** The points of every bucket, loaded once per bucket. */
export class FileStoreData {
  private readonly buckets = new Map<string, Promise<Point[]>>();

  constructor(
    readonly dataDir: string,
    readonly prefix: string,
  ) {}

  /** Points of `<prefix>-<timescale>.lp` (none when the file doesn't exist). */
  points(timescale: Timescale): Promise<Point[]> {
    const bucket = bucketName(this.prefix, timescale);
    let loaded = this.buckets.get(bucket);
    if (!loaded) {
      loaded = readBucketFile(this.dataDir, bucket).then((lines) => lines.map((line, i) => parsePoint(line, `${this.dataDir}/${bucket} line ${i + 1}`)));
      this.buckets.set(bucket, loaded);
    }
    return loaded;
  }

  /** Evaluate `spec` over the file store. */
  async evaluate(spec: QuerySpec, options: EvaluateOptions): Promise<Series[]> {
    return evaluate(spec, await this.points(spec.timescale), options);
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
