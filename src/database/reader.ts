/**
 * Reading stored series back (DESIGN.md "Reading back"): the derived agents (tariff cost,
 * insight), the gap audit and the report ask for one series — measurement, field, tag filter,
 * timescale, time range — and get typed points, wherever the records went:
 *
 * - the file store: only the month partitions the range overlaps are read;
 * - InfluxDB 1.x, and 2.x/3.x through the InfluxQL compatibility API (`/query`; 2.x needs
 *   the DBRP mappings `scripts/setup.ts` creates): `SELECT "<field>" … GROUP BY *`;
 * - VictoriaMetrics (a v2 target with `INFLUX_BUCKET_LABEL`, the setting only it needs):
 *   `/api/v1/export`, where field `f` of measurement `m` is the metric `m_f` and the bucket is
 *   the label `INFLUX_BUCKET_LABEL`.
 */
import type { Config } from '../config.ts';
import { excerpt } from '../errors.ts';
import { readText } from '../http.ts';
import { bucketName, type Timescale } from '../records.ts';
import { partitionsOf } from './file-store.ts';
import { connection, type HttpTarget, influxQL, quoteIdent, quoteString } from './influxql.ts';
import { decodePoint } from '../lineprotocol.ts';

/** One series to read. */
export interface SeriesQuery {
  measurement: string;
  field: string;
  timescale: Timescale;
  /** Unix seconds, start inclusive, end exclusive. */
  start: number;
  end: number;
  /** Only points whose tags have these values. */
  tags?: Readonly<Record<string, string>>;
}

/** A stored point of a series: its instant, value and tags. */
export interface SeriesPoint {
  time: number;
  value: number;
  tags: Record<string, string>;
}

/** Reads stored series back. */
export interface Reader {
  /** For messages: where it reads, never credentials. */
  readonly description: string;
  /** The points of a series in range, sorted by time then tags; numbers only. */
  read(query: SeriesQuery, signal?: AbortSignal): Promise<SeriesPoint[]>;
}

const byTime = (a: SeriesPoint, b: SeriesPoint): number => a.time - b.time || (JSON.stringify(a.tags) < JSON.stringify(b.tags) ? -1 : 1);
const matches = (tags: Record<string, string>, wanted: Readonly<Record<string, string>> | undefined): boolean => Object.entries(wanted ?? {}).every(([k, v]) => tags[k] === v);

/** The reader for the configured target. */
export function openReader(config: Config): Reader {
  const bucket = (t: Timescale): string => bucketName(config.bucketPrefix, t);
  const timeoutMs = config.httpTimeoutSeconds * 1000;
  const target = config.target;
  if (target.kind === 'file') return fileReader(target.dataDir, bucket);
  if (target.kind === 'v2' && target.bucketLabel !== undefined) return victoriaReader(target, target.bucketLabel, bucket, timeoutMs);
  return influxQLReader(target, bucket, timeoutMs);
}

/** Reads the file store's partitions. */
export function fileReader(dataDir: string, bucket: (t: Timescale) => string): Reader {
  return {
    description: `file store ${dataDir}`,
    async read(q) {
      const name = bucket(q.timescale);
      const out: SeriesPoint[] = [];
      // Cheap prefilter: a line of another measurement is not decoded at all.
      const prefix = q.measurement.replace(/[, ]/g, (c) => `\\${c}`);
      for (const partition of await partitionsOf(dataDir, name, { start: q.start, end: q.end })) {
        (await partition.lines()).forEach((line, i) => {
          if (!line.startsWith(prefix) || (line[prefix.length] !== ',' && line[prefix.length] !== ' ')) return;
          const p = decodePoint(line, `${partition.file} line ${i + 1}`);
          const value = p.fields[q.field];
          if (p.measurement !== q.measurement || value === undefined || p.time < q.start || p.time >= q.end || !matches(p.tags, q.tags)) return;
          out.push({ time: p.time, value, tags: p.tags });
        });
      }
      return out.sort(byTime);
    },
  };
}

/** Reads InfluxDB 1.x, or 2.x/3.x through InfluxQL. */
export function influxQLReader(target: HttpTarget, bucket: (t: Timescale) => string, timeoutMs: number): Reader {
  return {
    description: `InfluxQL /query at ${new URL(target.url).host}`,
    async read(q, signal) {
      const where = [`time >= ${q.start}s`, `time < ${q.end}s`, ...Object.entries(q.tags ?? {}).map(([k, v]) => `${quoteIdent(k)} = ${quoteString(v)}`)].join(' AND ');
      const series = await influxQL(target, bucket(q.timescale), `SELECT ${quoteIdent(q.field)} FROM ${quoteIdent(q.measurement)} WHERE ${where} GROUP BY *`, { timeoutMs, signal });
      const out: SeriesPoint[] = [];
      for (const s of series) {
        const t = s.columns.indexOf('time');
        const v = s.columns.indexOf(q.field);
        const tags = Object.fromEntries(Object.entries(s.tags ?? {}).filter(([, value]) => value !== ''));
        for (const row of s.values ?? []) if (typeof row[v] === 'number') out.push({ time: Number(row[t]), value: row[v] as number, tags });
      }
      return out.sort(byTime);
    },
  };
}

/** Reads VictoriaMetrics through `/api/v1/export` (JSON lines, millisecond timestamps). */
export function victoriaReader(target: HttpTarget, label: string, bucket: (t: Timescale) => string, timeoutMs: number): Reader {
  const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return {
    description: `VictoriaMetrics /api/v1/export at ${new URL(target.url).host}`,
    async read(q, signal) {
      const { base, headers } = connection(target);
      const selectors = [`__name__="${escape(`${q.measurement}_${q.field}`)}"`, `${label}="${escape(bucket(q.timescale))}"`, ...Object.entries(q.tags ?? {}).map(([k, v]) => `${k}="${escape(v)}"`)];
      // end is inclusive there: one second less keeps [start, end).
      const params = new URLSearchParams({ 'match[]': `{${selectors.join(',')}}`, start: String(q.start), end: String(q.end - 1) });
      const stop = signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
      const response = await fetch(`${base}/api/v1/export?${params}`, { headers, signal: stop });
      const text = await readText(response, { source: 'VictoriaMetrics /api/v1/export' });
      if (!response.ok) throw new Error(`VictoriaMetrics /api/v1/export: HTTP ${response.status}: ${excerpt(text)}`);
      const out: SeriesPoint[] = [];
      for (const line of text.split('\n')) {
        if (line.trim() === '') continue;
        const row = JSON.parse(line) as { metric: Record<string, string>; values: number[]; timestamps: number[] };
        const tags = Object.fromEntries(Object.entries(row.metric).filter(([k]) => k !== '__name__' && k !== label));
        row.timestamps.forEach((ms, i) => {
          const time = Math.round(ms / 1000);
          if (time >= q.start && time < q.end) out.push({ time, value: row.values[i]!, tags });
        });
      }
      return out.sort(byTime);
    },
  };
}
