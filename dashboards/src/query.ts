/**
 * One query definition, two query languages.
 *
 * A panel's data is described once as a {@link QuerySpec} (bucket, measurement, field,
 * filters, aggregation, time grouping, scale); {@link toInfluxQL} and {@link toFlux} render
 * it, so the InfluxQL and Flux dashboards cannot ask for different data. The HTML report
 * evaluates the same spec over the file store (report/evaluate.ts) or runs its InfluxQL.
 */
import type { Timescale } from '../../src/records.ts';
import type { DashboardSettings } from './settings.ts';

/** The dashboard variable holding the bucket prefix; Grafana interpolates it in both languages. */
export const PREFIX_VARIABLE = 'bucket_prefix';

/** Time grouping: fixed, or `auto` = Grafana's interval (`$__interval` / `v.windowPeriod`). */
export type Every = '1h' | '1d' | '1w' | 'auto';

/** A tag whose value must NOT match a regex (a series without the tag is kept). */
export interface TagExclusion {
  tag: string;
  /** RE2/JavaScript-compatible regex, without slashes. */
  pattern: string;
}

/** What one series of a panel reads. */
export interface QuerySpec {
  /** Grafana refId; also names the series in overrides. */
  refId: string;
  /** Column name of the result (`AS` in InfluxQL, the value column in Flux). */
  alias: string;
  /** Bucket suffix: the query reads `<prefix>-<timescale>`. */
  timescale: Timescale;
  measurement: string;
  field: string;
  aggregate: 'sum' | 'mean';
  every: Every;
  /** Multiply the aggregate (e.g. 0.001 for Wh → kWh). */
  scale?: number;
  exclude?: readonly TagExclusion[];
  /** Tags that split the result into one series each (e.g. `location`). */
  groupBy?: readonly string[];
}

const WEEKDAY_INDEX = { monday: 1, tuesday: 2, wednesday: 3, thursday: 4, friday: 5, saturday: 6, sunday: 7 } as const;

/**
 * Offset in days of `GROUP BY time(1w, …)` / `aggregateWindow(every: 1w, offset: …)`: both
 * languages start weeks at the Unix epoch, a Thursday, so a Monday week needs +4 d.
 */
export function weekOffsetDays(weekStart: DashboardSettings['weekStart']): number {
  return (WEEKDAY_INDEX[weekStart] - WEEKDAY_INDEX.thursday + 7) % 7;
}

/** Seconds of a fixed grouping. */
export function everySeconds(every: Exclude<Every, 'auto'>): number {
  return { '1h': 3600, '1d': 86400, '1w': 604800 }[every];
}

function quoteIdent(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function fluxString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Bucket name with the prefix variable, e.g. `${bucket_prefix}-hour`. */
export function bucketExpression(timescale: Timescale): string {
  return `\${${PREFIX_VARIABLE}}-${timescale}`;
}

/**
 * InfluxQL with Grafana's macros (`$timeFilter`, `$__interval`, `${bucket_prefix}`). The
 * measurement is qualified with its database (`"home-hour".."power"`, default retention
 * policy), so one data source reads every bucket; InfluxDB 2.x/3.x map the names through
 * their v1 DBRP mappings.
 */
export function toInfluxQL(spec: QuerySpec, settings: DashboardSettings): string {
  const scale = spec.scale === undefined ? '' : ` * ${spec.scale}`;
  const select = `SELECT ${spec.aggregate}(${quoteIdent(spec.field)})${scale} AS ${quoteIdent(spec.alias)}`;
  const from = `FROM ${quoteIdent(bucketExpression(spec.timescale))}..${quoteIdent(spec.measurement)}`;
  const where = ['$timeFilter', ...(spec.exclude ?? []).map((e) => `${quoteIdent(e.tag)} !~ /${e.pattern}/`)].join(' AND ');
  let time: string;
  if (spec.every === 'auto') time = 'time($__interval)';
  else if (spec.every === '1w') time = `time(1w, ${weekOffsetDays(settings.weekStart)}d)`;
  else time = `time(${spec.every})`;
  const group = [time, ...(spec.groupBy ?? []).map(quoteIdent)].join(', ');
  const tz = settings.timezone === undefined ? '' : ` tz('${settings.timezone}')`;
  return `${select} ${from} WHERE ${where} GROUP BY ${group} fill(none)${tz}`;
}

/**
 * Flux for Grafana's Flux data source (`v.timeRangeStart`, `v.timeRangeStop`,
 * `v.windowPeriod`, `${bucket_prefix}`). Same filters and grouping as {@link toInfluxQL};
 * windows are stamped with their start (`timeSrc: "_start"`) as InfluxQL does.
 */
export function toFlux(spec: QuerySpec, settings: DashboardSettings): string {
  const lines: string[] = [];
  if (settings.timezone !== undefined) {
    lines.push('import "timezone"', '', `option location = timezone.location(name: ${fluxString(settings.timezone)})`, '');
  }
  lines.push(`from(bucket: "${bucketExpression(spec.timescale)}")`);
  lines.push('  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)');
  lines.push(`  |> filter(fn: (r) => r._measurement == ${fluxString(spec.measurement)} and r._field == ${fluxString(spec.field)})`);
  for (const e of spec.exclude ?? []) {
    // InfluxQL compares a missing tag as "", which never matches: keep such series here too.
    lines.push(`  |> filter(fn: (r) => not exists r.${e.tag} or r.${e.tag} !~ /${e.pattern}/)`);
  }
  const groupBy = spec.groupBy ?? [];
  lines.push(`  |> group(columns: [${groupBy.map(fluxString).join(', ')}])`);
  const every = spec.every === 'auto' ? 'v.windowPeriod' : spec.every;
  const offset = spec.every === '1w' ? `, offset: ${weekOffsetDays(settings.weekStart)}d` : '';
  lines.push(`  |> aggregateWindow(every: ${every}${offset}, fn: ${spec.aggregate}, createEmpty: false, timeSrc: "_start")`);
  if (spec.scale !== undefined) lines.push(`  |> map(fn: (r) => ({r with _value: r._value * ${fluxFloat(spec.scale)}}))`);
  lines.push(`  |> keep(columns: [${['_time', '_value', ...groupBy].map(fluxString).join(', ')}])`);
  lines.push(`  |> rename(columns: {_value: ${fluxString(spec.alias)}})`);
  return lines.join('\n');
}

// Flux refuses int * float: a scale of 1 must still be written as a float literal.
function fluxFloat(value: number): string {
  const text = String(value);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/** Values for Grafana's InfluxQL macros and the dashboard variables. */
export interface MacroValues {
  /** Unix seconds, inclusive start and end of the panel's time range. */
  from: number;
  to: number;
  /** `$__interval` as Grafana writes it, e.g. `1h`, `12h`, `1d`. */
  interval: string;
  /** Dashboard variables by name, e.g. `{ bucket_prefix: 'home' }`. */
  variables: { readonly [name: string]: string };
}

const INTERVAL_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };

/** Seconds of a Grafana interval string (`10m`, `1h`, `1d`). */
export function intervalSeconds(interval: string): number {
  const match = /^(\d+)(ms|s|m|h|d|w|y)$/.exec(interval);
  if (!match) throw new Error(`expected a Grafana interval such as "1h" or "1d", got "${interval}"`);
  return Number(match[1]) * INTERVAL_SECONDS[match[2]!]!;
}

const NICE_INTERVALS = ['1h', '2h', '3h', '6h', '12h', '1d', '7d', '30d'];

/**
 * `$__interval` the way Grafana picks it: the time range divided by the panel's max data
 * points, rounded up to a round interval, never below the panel's min interval.
 */
export function grafanaInterval(rangeSeconds: number, options: { maxDataPoints?: number; minInterval?: string } = {}): string {
  const raw = rangeSeconds / (options.maxDataPoints ?? 1000);
  const min = options.minInterval === undefined ? 0 : intervalSeconds(options.minInterval);
  return NICE_INTERVALS.find((i) => intervalSeconds(i) >= Math.max(raw, min)) ?? NICE_INTERVALS.at(-1)!;
}

/**
 * Expand Grafana's InfluxQL macros and dashboard variables the way Grafana does before it sends
 * the query: `$timeFilter` → `time >= …ms and time <= …ms`, `$__interval`, `$__interval_ms`,
 * `$name` / `${name}`. Throws when a `$` is left, so a macro Grafana would expand is not missed.
 */
export function expandInfluxQL(query: string, values: MacroValues): string {
  let text = query
    .replaceAll('$timeFilter', `time >= ${values.from * 1000}ms and time <= ${values.to * 1000}ms`)
    .replaceAll('$__interval_ms', String(intervalSeconds(values.interval) * 1000))
    .replaceAll('$__interval', values.interval);
  text = text.replace(/\$\{(\w+)\}|\$(\w+)/g, (_whole, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    const value = values.variables[name];
    if (value === undefined) throw new Error(`query uses the variable "${name}", expected one of: ${Object.keys(values.variables).join(', ') || 'none'}; in ${query}`);
    return value;
  });
  return text;
}
