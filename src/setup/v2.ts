/**
 * InfluxDB 2.x / Cloud setup over the documented REST API: `GET /api/v2/orgs?org=` for the
 * organisation's ID, `GET /api/v2/buckets?orgID=&name=` to find a bucket, `POST /api/v2/buckets`
 * to create it, `PATCH /api/v2/buckets/{id}` to change its retention rules, and
 * `DELETE /api/v2/buckets/{id}` for `--delete-existing`, and `GET`/`POST /api/v2/dbrps` for the
 * database/retention-policy mapping through which the InfluxQL `/query` API (the reader, the
 * report, the migration) reaches the bucket. Token auth (`Authorization: Token …`).
 */
import { AuthError, ConfigError, excerpt } from '../errors.ts';
import { readText } from '../http.ts';
import type { BucketOutcome, WantedBucket } from './plan.ts';

/** Connection to an InfluxDB 2.x API. */
export interface V2Connection {
  url: string;
  token?: string;
  org?: string;
  timeoutMs: number;
}

/** A bucket as the API returns it (the fields used here). */
export interface ApiBucket {
  id: string;
  name: string;
  retentionRules?: Array<{ type: string; everySeconds?: number }>;
}

/** Retention seconds of a bucket (0 = forever: no rule, or an expire rule of 0 s). */
export function bucketRetention(bucket: ApiBucket): number {
  return bucket.retentionRules?.find((rule) => rule.type === 'expire')?.everySeconds ?? 0;
}

const rulesFor = (retention: number): ApiBucket['retentionRules'] => (retention === 0 ? [] : [{ type: 'expire', everySeconds: retention }]);

/** Calls the v2 API. */
export class V2Admin {
  constructor(private readonly connection: V2Connection) {}

  // `json` is undefined when the body is not JSON: a server without this API (1.x, VictoriaMetrics).
  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown; text: string }> {
    const { url, token, timeoutMs } = this.connection;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token !== undefined) headers.authorization = `Token ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
    const where = `${method} ${path.replace(/\?.*$/, '')}`;
    const text = await readText(response, { source: `InfluxDB ${where}` });
    if (response.status === 401 || response.status === 403) {
      throw new AuthError(`InfluxDB at ${new URL(url).host} refused the token for ${where} (HTTP ${response.status}); check INFLUX_TOKEN (it needs read and write access to buckets)`, response.status);
    }
    let json: unknown = undefined;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      /* left undefined; callers say what they expected */
    }
    return { status: response.status, json, text };
  }

  private fail(what: string, result: { status: number; json: unknown; text: string }): never {
    const message = result.json === undefined ? excerpt(result.text) : (result.json as { message?: string }).message;
    throw new Error(`${what}: HTTP ${result.status}${message ? `: ${message}` : ''}`);
  }

  /** The organisation's ID: `INFLUX_ORG` by name, or the only organisation the token sees. */
  async orgId(): Promise<string> {
    const name = this.connection.org;
    const result = await this.call('GET', name === undefined ? '/api/v2/orgs' : `/api/v2/orgs?org=${encodeURIComponent(name)}`);
    const json = result.json as { code?: string; orgs?: unknown } | undefined;
    if (json === undefined || (result.status === 404 && json.code !== 'not found') || (result.status === 200 && !Array.isArray(json.orgs))) {
      throw new ConfigError(
        `${new URL(this.connection.url).host} has no InfluxDB v2 /api/v2/orgs (HTTP ${result.status}): for InfluxDB 1.x set INFLUX_API=v1; VictoriaMetrics needs no setup (it accepts any bucket)`,
        'INFLUX_API',
      );
    }
    const orgs = result.status === 200 ? ((result.json as { orgs?: Array<{ id: string; name: string }> }).orgs ?? []) : [];
    if (name !== undefined) {
      const org = orgs.find((o) => o.name === name);
      if (!org) throw new ConfigError(`INFLUX_ORG names an organisation the server does not know (GET /api/v2/orgs answered ${result.status}); expected the organisation's name as shown in the InfluxDB UI`, 'INFLUX_ORG');
      return org.id;
    }
    if (result.status !== 200) this.fail('GET /api/v2/orgs', result);
    if (orgs.length !== 1) throw new ConfigError(`INFLUX_ORG is required: the token sees ${orgs.length} organisations`, 'INFLUX_ORG');
    return orgs[0]!.id;
  }

  /** The bucket named `name` in the organisation, if it exists. */
  async find(orgID: string, name: string): Promise<ApiBucket | undefined> {
    const result = await this.call('GET', `/api/v2/buckets?orgID=${encodeURIComponent(orgID)}&name=${encodeURIComponent(name)}`);
    if (result.status === 404) return undefined;
    if (result.status !== 200) this.fail(`GET /api/v2/buckets?name=${name}`, result);
    return ((result.json as { buckets?: ApiBucket[] } | undefined)?.buckets ?? []).find((b) => b.name === name);
  }

  /** Create a bucket; returns it. */
  async create(orgID: string, wanted: WantedBucket): Promise<ApiBucket> {
    const result = await this.call('POST', '/api/v2/buckets', { orgID, name: wanted.name, description: `homeflux ${wanted.timescale} records`, retentionRules: rulesFor(wanted.retention) });
    if (result.status !== 201) this.fail(`POST /api/v2/buckets (create ${wanted.name})`, result);
    return result.json as ApiBucket;
  }

  /**
   * Map the database name `bucket.name` (retention policy `autogen`) to the bucket, so InfluxQL
   * reaches it; true when a mapping was created, false when one existed.
   */
  async ensureMapping(orgID: string, bucket: ApiBucket, dryRun: boolean): Promise<boolean> {
    const found = await this.call('GET', `/api/v2/dbrps?orgID=${encodeURIComponent(orgID)}&db=${encodeURIComponent(bucket.name)}`);
    if (found.status !== 200) this.fail(`GET /api/v2/dbrps?db=${bucket.name}`, found);
    const mappings = (found.json as { content?: Array<{ bucketID?: string }> } | undefined)?.content ?? [];
    if (mappings.some((m) => m.bucketID === bucket.id)) return false;
    if (dryRun) return true;
    const result = await this.call('POST', '/api/v2/dbrps', { orgID, bucketID: bucket.id, database: bucket.name, retention_policy: 'autogen', default: true });
    if (result.status !== 201 && result.status !== 200) this.fail(`POST /api/v2/dbrps (${bucket.name})`, result);
    return true;
  }

  /** Change a bucket's retention. */
  async setRetention(bucket: ApiBucket, retention: number): Promise<void> {
    const result = await this.call('PATCH', `/api/v2/buckets/${encodeURIComponent(bucket.id)}`, { retentionRules: rulesFor(retention) });
    if (result.status !== 200) this.fail(`PATCH /api/v2/buckets/{id} (${bucket.name})`, result);
  }

  /** Delete a bucket and its data. */
  async remove(bucket: ApiBucket): Promise<void> {
    const result = await this.call('DELETE', `/api/v2/buckets/${encodeURIComponent(bucket.id)}`);
    if (result.status !== 204) this.fail(`DELETE /api/v2/buckets/{id} (${bucket.name})`, result);
  }
}

/** Bring one bucket to the wanted state (nothing changes with `dryRun`). */
export async function setupV2Bucket(admin: V2Admin, orgID: string, wanted: WantedBucket, options: { deleteExisting: boolean; dryRun: boolean }): Promise<BucketOutcome> {
  const existing = await admin.find(orgID, wanted.name);
  if (!existing || options.deleteExisting) {
    let mapping: BucketOutcome['mapping'];
    if (!options.dryRun) {
      if (existing) await admin.remove(existing);
      const bucket = await admin.create(orgID, wanted);
      if (await admin.ensureMapping(orgID, bucket, false)) mapping = 'created';
    } else mapping = 'created';
    return { name: wanted.name, action: existing ? 'recreated' : 'created', retention: wanted.retention, mapping };
  }
  const mapping: BucketOutcome['mapping'] = (await admin.ensureMapping(orgID, existing, options.dryRun)) ? 'created' : undefined;
  const current = bucketRetention(existing);
  if (current === wanted.retention) return { name: wanted.name, action: 'unchanged', retention: current, mapping };
  if (!options.dryRun) await admin.setRetention(existing, wanted.retention);
  return { name: wanted.name, action: 'updated', retention: wanted.retention, previous: current, mapping };
}
