/**
 * InfluxDB 1.x setup over `/query` (InfluxQL): a database per bucket name whose default
 * retention policy has the wanted duration. The existing default policy (normally `autogen`)
 * is altered rather than a new one created: points already written by earlier runs live in
 * it, and a new default policy would hide them from Grafana's queries.
 */
import { AuthError, excerpt } from '../errors.ts';
import { readText } from '../http.ts';
import type { BucketOutcome, WantedBucket } from './plan.ts';

/** Connection to an InfluxDB 1.x. */
export interface V1Connection {
  url: string;
  username?: string;
  password?: string;
  timeoutMs: number;
}

interface Series {
  columns: string[];
  values?: unknown[][];
}

interface Policy {
  name: string;
  duration: number;
  isDefault: boolean;
}

const quote = (name: string): string => `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** Seconds of a Go duration as InfluxDB prints it (`2160h0m0s`, `0s`). */
export function parseGoDuration(text: string): number {
  let seconds = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(h|m|s|ms|µs|us|ns)/g)) {
    seconds += Number(n) * ({ h: 3600, m: 60, s: 1 }[unit as 'h' | 'm' | 's'] ?? 0);
  }
  return Math.round(seconds);
}

// InfluxDB's own defaults for the shard group duration of a retention; setting it explicitly
// keeps a shortened retention from being refused for an old, longer shard duration.
function shardDuration(retention: number): string {
  if (retention === 0 || retention > 180 * 86400) return '7d';
  if (retention >= 2 * 86400) return '1d';
  return '1h';
}

const durationLiteral = (retention: number): string => (retention === 0 ? 'INF' : `${retention}s`);

/** Runs InfluxQL statements. */
export class V1Admin {
  constructor(private readonly connection: V1Connection) {}

  /** POST a statement to `/query`; throws with the server's error. */
  async query(q: string): Promise<Series[]> {
    const { url, username, password, timeoutMs } = this.connection;
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (username !== undefined) headers.authorization = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
    const response = await fetch(`${url}/query`, { method: 'POST', headers, body: new URLSearchParams({ q }), signal: AbortSignal.timeout(timeoutMs) });
    const text = await readText(response, { source: `InfluxDB 1.x /query "${q}"` });
    if (response.status === 401 || response.status === 403) {
      throw new AuthError(`InfluxDB 1.x at ${new URL(url).host} refused the credentials (HTTP ${response.status}); check INFLUX_USERNAME and INFLUX_PASSWORD`, response.status);
    }
    let body: { results?: Array<{ series?: Series[]; error?: string }>; error?: string };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`InfluxDB 1.x /query "${q}": expected JSON, got HTTP ${response.status}: ${excerpt(text)}`);
    }
    const error = body.error ?? body.results?.find((r) => r.error)?.error;
    if (!response.ok || error) throw new Error(`InfluxDB 1.x /query "${q}": ${error ?? `HTTP ${response.status}`}`);
    return body.results?.[0]?.series ?? [];
  }

  /** Names of the existing databases. */
  async databases(): Promise<string[]> {
    const [series] = await this.query('SHOW DATABASES');
    return (series?.values ?? []).map((row) => String(row[0]));
  }

  /** Retention policies of a database. */
  async policies(database: string): Promise<Policy[]> {
    const [series] = await this.query(`SHOW RETENTION POLICIES ON ${quote(database)}`);
    if (!series) return [];
    const col = (name: string): number => series.columns.indexOf(name);
    return (series.values ?? []).map((row) => ({ name: String(row[col('name')]), duration: parseGoDuration(String(row[col('duration')])), isDefault: row[col('default')] === true }));
  }
}

/**
 * Bring one database to the wanted state. With `dryRun` nothing changes; the outcome says
 * what would have been done.
 */
export async function setupV1Bucket(admin: V1Admin, wanted: WantedBucket, options: { existing: Set<string>; deleteExisting: boolean; dryRun: boolean }): Promise<BucketOutcome> {
  const { name, retention } = wanted;
  const literal = `DURATION ${durationLiteral(retention)} REPLICATION 1 SHARD DURATION ${shardDuration(retention)}`;
  const exists = options.existing.has(name);
  if (!exists || options.deleteExisting) {
    if (!options.dryRun) {
      if (exists) await admin.query(`DROP DATABASE ${quote(name)}`);
      await admin.query(`CREATE DATABASE ${quote(name)} WITH ${literal} NAME "autogen"`);
    }
    return { name, action: exists ? 'recreated' : 'created', retention };
  }
  const policies = await admin.policies(name);
  const current = policies.find((p) => p.isDefault);
  if (current && current.duration === retention) return { name, action: 'unchanged', retention };
  if (!options.dryRun) {
    if (current) await admin.query(`ALTER RETENTION POLICY ${quote(current.name)} ON ${quote(name)} ${literal} DEFAULT`);
    else {
      const taken = policies.some((p) => p.name === 'autogen');
      await admin.query(`${taken ? 'ALTER' : 'CREATE'} RETENTION POLICY "autogen" ON ${quote(name)} ${literal} DEFAULT`);
    }
  }
  return { name, action: 'updated', retention, previous: current?.duration ?? 0 };
}
