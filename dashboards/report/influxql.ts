/**
 * Panel data for the HTML report from InfluxDB 1.x (or a 2.x/3.x v1-compatible `/query`): the
 * dashboards' own InfluxQL, with Grafana's macros expanded as Grafana would, so the report
 * and the InfluxQL dashboards read exactly the same numbers.
 */
import { excerpt } from '../../src/errors.ts';
import { type MacroValues, PREFIX_VARIABLE, type QuerySpec, expandInfluxQL, toInfluxQL } from '../src/query.ts';
import type { DashboardSettings } from '../src/settings.ts';
import type { Series } from './data.ts';

/** Where and how to query. */
export interface InfluxV1Source {
  url: string;
  username?: string;
  password?: string;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
}

interface V1Response {
  results?: Array<{ error?: string; series?: Array<{ name: string; tags?: Record<string, string>; columns: string[]; values: Array<Array<number | null>> }> }>;
  error?: string;
}

/** The URL without credentials, for messages. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Run one InfluxQL statement over `GET /query` (epoch seconds) and return its series. */
export async function queryInfluxV1(source: InfluxV1Source, db: string, query: string): Promise<Series[]> {
  const params = new URLSearchParams({ db, q: query, epoch: 's' });
  const headers: Record<string, string> = {};
  if (source.username !== undefined) headers.authorization = `Basic ${Buffer.from(`${source.username}:${source.password ?? ''}`).toString('base64')}`;
  const where = `InfluxDB ${safeUrl(source.url)} /query`;
  const response = await fetch(`${source.url}/query?${params}`, { headers, signal: AbortSignal.timeout(source.timeoutMs ?? 30_000) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${where}: expected HTTP 200, got ${response.status}: ${excerpt(text)}`);
  let body: V1Response;
  try {
    body = JSON.parse(text) as V1Response;
  } catch {
    throw new Error(`${where}: expected JSON, got: ${excerpt(text)}`);
  }
  const result = body.results?.[0];
  const error = body.error ?? result?.error;
  if (error !== undefined) throw new Error(`${where}: ${error} (query: ${query})`);
  return (result?.series ?? []).map((s) => {
    const points = s.values.filter((row) => typeof row[1] === 'number');
    return { name: s.columns[1] ?? s.name, tags: s.tags ?? {}, times: points.map((row) => row[0] as number), values: points.map((row) => row[1] as number) };
  });
}

/** Evaluate a panel query on InfluxDB 1.x: its InfluxQL with the macros expanded. */
export async function evaluateOnInflux(
  source: InfluxV1Source,
  spec: QuerySpec,
  options: { settings: DashboardSettings; from: number; to: number; interval: string },
): Promise<Series[]> {
  const values: MacroValues = { from: options.from, to: options.to, interval: options.interval, variables: { [PREFIX_VARIABLE]: options.settings.bucketPrefix } };
  const query = expandInfluxQL(toInfluxQL(spec, options.settings), values);
  // The query names its database; `db` only has to be accepted.
  return queryInfluxV1(source, `${options.settings.bucketPrefix}-${spec.timescale}`, query);
}
