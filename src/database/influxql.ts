/**
 * InfluxQL over `/query`: InfluxDB 1.x, and 2.x/3.x through their InfluxQL compatibility API
 * (2.x maps a database name to a bucket with a DBRP mapping; `scripts/setup.ts` creates them).
 * Used by the reader and the migration of the original daemon's points.
 */
import type { Config } from '../config.ts';
import { AuthError, excerpt } from '../errors.ts';
import { readText } from '../http.ts';

/** A database target reached over HTTP. */
export type HttpTarget = Exclude<Config['target'], { kind: 'file' }>;

/** One result series: name, tags (with `GROUP BY *`), columns and rows. */
export interface QLSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values?: unknown[][];
}

/**
 * Base URL and auth headers. Credentials inside `INFLUX_URL` (`https://user:pass@host`) become a
 * Basic header, as the official client does with them: fetch refuses URLs that carry them.
 */
export function connection(target: HttpTarget): { base: string; headers: Record<string, string> } {
  const url = new URL(target.url);
  const headers: Record<string, string> = {};
  const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  if (url.username !== '') headers.authorization = basic(decodeURIComponent(url.username), decodeURIComponent(url.password));
  if (target.kind === 'v1' && target.username !== undefined) headers.authorization = basic(target.username, target.password ?? '');
  if (target.kind === 'v2' && target.token !== undefined) headers.authorization = `Token ${target.token}`;
  url.username = '';
  url.password = '';
  return { base: url.toString().replace(/\/+$/, ''), headers };
}

/** `"name"` with quotes escaped. */
export const quoteIdent = (name: string): string => `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
/** `'value'` with quotes escaped. */
export const quoteString = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * Run one InfluxQL statement on `db` (times as epoch seconds). GET for reads, POST for
 * statements that change data. A database (1.x) or mapping (2.x) that does not exist answers
 * no series. Throws AuthError on 401/403, Error with the server's message otherwise.
 */
export async function influxQL(target: HttpTarget, db: string, q: string, options: { timeoutMs: number; method?: 'GET' | 'POST'; signal?: AbortSignal }): Promise<QLSeries[]> {
  const { base, headers } = connection(target);
  const params = new URLSearchParams({ db, q, epoch: 's' });
  const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]) : AbortSignal.timeout(options.timeoutMs);
  const response =
    (options.method ?? 'GET') === 'GET'
      ? await fetch(`${base}/query?${params}`, { headers, signal })
      : await fetch(`${base}/query`, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: params, signal });
  const text = await readText(response, { source: `InfluxDB /query on ${db}` });
  if (response.status === 401 || response.status === 403) throw new AuthError(`InfluxDB at ${new URL(base).host} refused the credentials (HTTP ${response.status})`, response.status);
  let body: { results?: Array<{ series?: QLSeries[]; error?: string }>; error?: string; message?: string };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`InfluxDB /query on ${db}: expected JSON, got HTTP ${response.status}: ${excerpt(text)}`);
  }
  const error = body.error ?? body.results?.find((r) => r.error)?.error ?? (response.ok ? undefined : body.message);
  if (error && /database not found|no dbrp mapping|bucket .* not found/i.test(error)) return [];
  if (!response.ok || error) throw new Error(`InfluxDB /query on ${db} "${excerpt(q, 160)}": ${error ?? `HTTP ${response.status}`}`);
  return body.results?.[0]?.series ?? [];
}
