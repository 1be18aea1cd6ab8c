/**
 * scripts/setup.ts: InfluxDB 1.x databases and retention policies against the real `influxd`;
 * the v2 bucket API against testing/fakes/influx2-api.ts (no InfluxDB 2 server can be installed
 * here); VictoriaMetrics answered with a clear "nothing to set up".
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runSetup } from '../src/setup/index.ts';
import { parseRetention } from '../src/setup/plan.ts';
import { parseGoDuration } from '../src/setup/v1.ts';
import { startInflux2Api, type Influx2Api } from '../testing/fakes/influx2-api.ts';
import { influxV1Client } from '../testing/helpers/servers.ts';

const DAY = 86400;

async function setup(argv: string[], env: Record<string, string>): Promise<{ code: number; out: string[]; text: string }> {
  const out: string[] = [];
  const code = await runSetup({ argv, env, streams: { out: (l) => out.push(l), err: (l) => out.push(l) } });
  return { code, out, text: out.join('\n') };
}

describe('retention settings', () => {
  it('reads durations and "forever", refusing junk and less than an hour', () => {
    expect(parseRetention('90d', 'X')).toBe(90 * DAY);
    expect(parseRetention('52w', 'X')).toBe(52 * 7 * DAY);
    expect(parseRetention('forever', 'X')).toBe(0);
    expect(() => parseRetention('soon', 'HOMEFLUX_RETENTION_DAY')).toThrow('HOMEFLUX_RETENTION_DAY is invalid: expected a duration such as 90d');
    expect(() => parseRetention('30m', 'HOMEFLUX_RETENTION_MINUTE')).toThrow('expected at least 1h');
    expect(parseGoDuration('2160h0m0s')).toBe(90 * DAY);
    expect(parseGoDuration('0s')).toBe(0);
  });

  it('refuses to run without INFLUX_URL or with a bad retention, naming the variable', async () => {
    expect(await setup([], {})).toMatchObject({ code: 2, text: expect.stringContaining('INFLUX_URL is not set') });
    const bad = await setup([], { INFLUX_URL: 'http://127.0.0.1:1', HOMEFLUX_RETENTION_HOUR: 'lots' });
    expect(bad).toMatchObject({ code: 2, text: expect.stringContaining('HOMEFLUX_RETENTION_HOUR is invalid') });
    expect(await setup(['--bogus'], {})).toMatchObject({ code: 2, text: expect.stringContaining("Unknown option '--bogus'") });
  });
});

describe('InfluxDB 1.x (real influxd)', () => {
  const influx = influxV1Client(inject('influxV1Url'));
  const prefix = `setup_${process.pid}_${Date.now()}`;
  const env = { INFLUX_URL: influx.url, INFLUX_API: 'v1', INFLUX_BUCKET_PREFIX: prefix };
  const names = ['minute', 'hour', 'day', 'week', 'bill'].map((t) => `${prefix}-${t}`);

  const databases = async (): Promise<string[]> => {
    const [result] = await influx.query('', 'SHOW DATABASES');
    return (result?.series?.[0]?.values ?? []).map((row) => String(row[0])).filter((name) => name.startsWith(prefix));
  };
  const defaultPolicy = async (db: string): Promise<{ name: string; duration: string }> => {
    const [result] = await influx.query(db, `SHOW RETENTION POLICIES ON "${db}"`);
    const series = result!.series![0]!;
    const row = series.values.find((r) => r[series.columns.indexOf('default')] === true)!;
    return { name: String(row[0]), duration: String(row[series.columns.indexOf('duration')]) };
  };

  it('plans without changing anything in a dry run', async () => {
    const result = await setup(['--dry-run'], env);
    expect(result.code).toBe(0);
    expect(result.out.filter((l) => l.includes('would create'))).toHaveLength(5);
    expect(result.text).toContain(`${prefix}-minute: would create, retention 90d`);
    expect(await databases()).toEqual([]);
  });

  it('creates the five databases (bill with no expiry) with their retention, then changes nothing on a second run', async () => {
    const first = await setup([], env);
    expect(first.code, first.text).toBe(0);
    expect((await databases()).sort()).toEqual([...names].sort());
    expect(await defaultPolicy(`${prefix}-minute`)).toEqual({ name: 'autogen', duration: '2160h0m0s' });
    for (const t of ['hour', 'day', 'week', 'bill']) expect(await defaultPolicy(`${prefix}-${t}`)).toEqual({ name: 'autogen', duration: '0s' });

    const second = await setup([], env);
    expect(second.code).toBe(0);
    expect(second.out.filter((l) => l.endsWith('(unchanged)'))).toHaveLength(5);
  });

  it('alters the default policy of an existing database and keeps its data', async () => {
    await influx.write(`${prefix}-hour`, 'power,source=test power_usage=1 1400000000');
    const result = await setup([], { ...env, HOMEFLUX_RETENTION_HOUR: '520w' });
    expect(result.code, result.text).toBe(0);
    expect(result.text).toContain(`${prefix}-hour: changed retention forever → 520w`);
    expect(await defaultPolicy(`${prefix}-hour`)).toEqual({ name: 'autogen', duration: '87360h0m0s' });
    expect(await influx.countPoints(`${prefix}-hour`, 'power')).toBe(1);
  });

  it('deletes and recreates with --delete-existing', async () => {
    await influx.write(`${prefix}-day`, 'power,source=test power_usage=1 1400000000');
    const result = await setup(['--delete-existing'], env);
    expect(result.code, result.text).toBe(0);
    expect(result.out.filter((l) => l.includes('deleted and created again'))).toHaveLength(5);
    expect(await influx.countPoints(`${prefix}-day`, 'power')).toBe(0);
    expect(await defaultPolicy(`${prefix}-hour`)).toEqual({ name: 'autogen', duration: '0s' });
  });

  afterAll(async () => {
    for (const name of names) await influx.exec(`DROP DATABASE "${name}"`);
  });
});

describe('InfluxDB v2 bucket API (local fake)', () => {
  let api: Influx2Api;
  let env: Record<string, string>;
  beforeAll(async () => {
    api = await startInflux2Api({ token: 'op-token-123456', orgs: ['home', 'other'] });
    env = { INFLUX_URL: api.url, INFLUX_TOKEN: api.token, INFLUX_ORG: 'home' };
  });
  afterAll(async () => {
    await api?.stop();
  });
  const rules = (): Record<string, number> =>
    Object.fromEntries([...api.buckets.values()].map((b) => [b.name, b.retentionRules.find((r) => r.type === 'expire')?.everySeconds ?? 0]));

  it('speaks the documented API: 401 without the token, 422 for a duplicate name', async () => {
    expect((await fetch(`${api.url}/api/v2/buckets`)).status).toBe(401);
    const post = (): Promise<Response> =>
      fetch(`${api.url}/api/v2/buckets`, { method: 'POST', headers: { authorization: `Token ${api.token}` }, body: JSON.stringify({ orgID: api.orgs[1]!.id, name: 'dup', retentionRules: [] }) });
    expect((await post()).status).toBe(201);
    const again = await post();
    expect(again.status).toBe(422);
    expect(await again.json()).toMatchObject({ code: 'conflict' });
  });

  it('creates the buckets in the named organisation, idempotently', async () => {
    const first = await setup([], env);
    expect(first.code, first.text).toBe(0);
    expect(rules()).toMatchObject({ 'home-minute': 90 * DAY, 'home-hour': 0, 'home-day': 0, 'home-week': 0 });
    const homeBuckets = [...api.buckets.values()].filter((b) => b.orgID === api.orgs[0]!.id).map((b) => b.name);
    expect(homeBuckets.sort()).toEqual(['home-bill', 'home-day', 'home-hour', 'home-minute', 'home-week']);
    // Each bucket's name is mapped (database, retention policy autogen) for the InfluxQL API.
    const byId = new Map([...api.buckets.values()].map((b) => [b.id, b.name]));
    expect(api.dbrps.filter((m) => m.orgID === api.orgs[0]!.id).map((m) => [m.database, byId.get(m.bucketID), m.retention_policy, m.default]).sort()).toEqual(homeBuckets.sort().map((n) => [n, n, 'autogen', true]));
    expect(first.out.filter((l) => /; InfluxQL mapping created \(database "home-\w+", retention policy autogen\)$/.test(l))).toHaveLength(5);
    const before = api.requests.length;
    const second = await setup([], env);
    expect(second.out.filter((l) => l.endsWith('(unchanged)'))).toHaveLength(5);
    expect(api.requests.slice(before).every((r) => r.method === 'GET')).toBe(true);
  });

  it('changes retention with PATCH and recreates with --delete-existing', async () => {
    const changed = await setup([], { ...env, HOMEFLUX_RETENTION_MINUTE: '30d', HOMEFLUX_RETENTION_WEEK: 'forever' });
    expect(changed.text).toContain('home-minute: changed retention 90d → 30d');
    expect(rules()['home-minute']).toBe(30 * DAY);
    expect(api.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
    const ids = [...api.buckets.values()].map((b) => b.id);
    const recreated = await setup(['--delete-existing'], env);
    expect(recreated.code).toBe(0);
    expect(api.requests.filter((r) => r.method === 'DELETE' && r.status === 204)).toHaveLength(5);
    expect([...api.buckets.values()].filter((b) => ids.includes(b.id)).map((b) => b.name)).toEqual(['dup']);
    expect(rules()['home-minute']).toBe(90 * DAY);
    // Recreated buckets are mapped again; the old mappings went with the old buckets.
    expect(api.dbrps.filter((m) => m.database.startsWith('home-')).every((m) => api.buckets.has(m.bucketID))).toBe(true);
    expect(api.dbrps.filter((m) => m.database.startsWith('home-'))).toHaveLength(5);
  });

  it('plans without writing in a dry run', async () => {
    const before = api.requests.length;
    const result = await setup(['--dry-run'], { ...env, INFLUX_BUCKET_PREFIX: 'planned' });
    expect(result.out.filter((l) => l.includes('would create'))).toHaveLength(5);
    expect(api.requests.slice(before).every((r) => r.method === 'GET')).toBe(true);
  });

  it('fails with exit 1 on a wrong token, without printing it', async () => {
    const result = await setup([], { ...env, INFLUX_TOKEN: 'wrong-token-987654' });
    expect(result.code).toBe(1);
    expect(result.text).toContain('refused the token for GET /api/v2/orgs (HTTP 401)');
    expect(result.text).not.toContain('wrong-token-987654');
  });

  it('names INFLUX_ORG when it is unknown or needed', async () => {
    expect(await setup([], { ...env, INFLUX_ORG: 'nope' })).toMatchObject({ code: 2, text: expect.stringContaining('INFLUX_ORG names an organisation the server does not know') });
    const { INFLUX_ORG: _org, ...withoutOrg } = env;
    expect(await setup([], withoutOrg)).toMatchObject({ code: 2, text: expect.stringContaining('INFLUX_ORG is required: the token sees 2 organisations') });
  });
});

describe('VictoriaMetrics (real)', () => {
  it('explains that there is nothing to set up', async () => {
    const result = await setup([], { INFLUX_URL: inject('vmUrl'), INFLUX_TOKEN: 'x' });
    expect(result.code).toBe(2);
    expect(result.text).toContain('VictoriaMetrics needs no setup');
  });
});
