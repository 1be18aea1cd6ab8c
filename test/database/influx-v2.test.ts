/**
 * The v2 write path (official client, token auth, gzip) against the fake InfluxDB 2.x API:
 * a missing bucket is a clear error pointing to scripts/setup.ts and nothing is lost; after
 * setup the same run writes every line, and the spool is replayed.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demo } from '../../src/agents/demo/index.ts';
import { runSetup } from '../../src/setup/index.ts';
import { type Influx2Api, startInflux2Api } from '../../testing/fakes/influx2-api.ts';
import { readStore, readTree, runCaptured, tempHome } from '../../testing/helpers/run-agent.ts';

const NOW = Date.parse('2025-11-20T15:42:00Z') / 1000;
const ARGS = ['--since', '2025-11-10', '--until', '2025-11-11'];
let api: Influx2Api;
beforeAll(async () => {
  api = await startInflux2Api({ token: 'v2-token-sentinel-91', orgs: ['home'] });
});
afterAll(async () => {
  await api.stop();
});

describe('InfluxDB 2.x write API', () => {
  it('missing buckets: exit 1 naming the bucket and scripts/setup.ts, everything spooled; after setup the spool is replayed', async () => {
    // Lines per bucket of the same run into the file store.
    const files = await tempHome('v2files');
    await runCaptured(demo, ARGS, files.env, { now: NOW });
    const expected = [...(await readStore(join(files.dir, 'data'))).entries()].map(([bucket, text]) => [bucket, text.split('\n').filter(Boolean).length] as const);
    const home = await tempHome('v2');
    const env = { ...home.env, INFLUX_URL: api.url, INFLUX_TOKEN: api.token, INFLUX_ORG: 'home' };

    const before = await runCaptured(demo, ARGS, env, { now: NOW });
    expect(before.code).toBe(1);
    expect(before.all).toMatch(/bucket "home-day" was not found \(bucket "home-day" not found\); create the buckets with "npx tsx scripts\/setup\.ts"/);
    expect(before.all).not.toContain(api.token);
    const spooled = [...(await readTree(join(home.dir, 'spool'))).values()].join('').split('\n').filter(Boolean).length;
    expect(spooled).toBe(expected.reduce((n, [, count]) => n + count, 0));

    const out: string[] = [];
    expect(await runSetup({ argv: [], env, streams: { out: (l) => out.push(l), err: (l) => out.push(l) } })).toBe(0);
    const after = await runCaptured(demo, ARGS, env, { now: NOW });
    expect(after.code, after.all).toBe(0);
    expect(after.all).toMatch(/replayed \d+ spooled line/);
    // The replay and the run both sent every line: the fake keeps duplicates, InfluxDB would overwrite.
    for (const [bucket, count] of expected) expect(new Set(api.written.get(bucket)).size, bucket).toBe(count);
    const writes = api.requests.filter((r) => r.path.startsWith('/api/v2/write'));
    expect(writes.every((r) => r.path.includes('org=home') && r.path.includes('precision=s'))).toBe(true);
  });

  it('a wrong token stops writing at once with a clear message', async () => {
    const home = await tempHome('v2');
    const run = await runCaptured(demo, ARGS, { ...home.env, INFLUX_URL: api.url, INFLUX_TOKEN: 'wrong-token-sentinel-77', INFLUX_ORG: 'home' }, { now: NOW });
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/InfluxDB v2 API at http:\/\/127\.0\.0\.1:\d+ refused the credentials \(HTTP 401: unauthorized access\); check INFLUX_TOKEN/);
    expect(run.all).not.toContain('wrong-token-sentinel-77');
    // One refused request per bucket at most, not a retry loop.
    expect(api.requests.filter((r) => r.status === 401).length).toBeLessThanOrEqual(2);
  });
});
