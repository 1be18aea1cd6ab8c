/**
 * Secrets never reach any output: stdout, stderr, the Actions step summary, the spool or the
 * rejected files — on success and on every failure path. Also: 401 stops writing at once.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { demo } from '../../src/agents/demo/index.ts';
import { type FaultProxy, startFaultProxy } from '../../testing/helpers/fault-proxy.ts';
import { readTree, runCaptured, tempHome } from '../../testing/helpers/run-agent.ts';
import { type InfluxV1Server, startInfluxV1 } from '../../testing/helpers/servers.ts';

const NOW = Date.parse('2025-11-20T15:42:00Z') / 1000;
const TOKEN = 'sentinel-token-7f3a9c';
const PASSWORD = 'sentinel-password-e21b';
const ARGS = ['--since', '2025-11-17', '--until', '2025-11-18'];

let secured: InfluxV1Server;
let proxy: FaultProxy;
beforeAll(async () => {
  secured = await startInfluxV1({ auth: { username: 'admin', password: 'right-password' } });
  proxy = await startFaultProxy(inject('influxV1Url'));
});
afterAll(async () => {
  await proxy.stop();
  await secured.stop();
});

/** Run with Actions annotations and a step summary; return everything the run left behind. */
async function runEverywhere(env: Record<string, string>): Promise<{ code: number; everything: string; all: string }> {
  const home = await tempHome('secrets');
  const summaryFile = join(await mkdtemp(join(tmpdir(), 'summary-')), 'summary.md');
  await writeFile(summaryFile, '');
  const run = await runCaptured(demo, ARGS, { ...home.env, GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summaryFile, HOMEFLUX_DEBUG: 'true', HOMEFLUX_RETRY_SECONDS: '0', ...env }, { now: NOW });
  const files = [...(await readTree(home.dir)).values()].join('\n');
  const summary = await readFile(summaryFile, 'utf8');
  return { code: run.code, all: run.all, everything: `${run.all}\n${summary}\n${files}` };
}

const expectNoSecrets = (text: string): void => {
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain(PASSWORD);
};

describe('secrets', () => {
  it('success to InfluxDB 1.x with credentials', async () => {
    const run = await runEverywhere({ INFLUX_URL: inject('influxV1Url'), INFLUX_API: 'v1', INFLUX_USERNAME: 'u', INFLUX_PASSWORD: PASSWORD, INFLUX_TOKEN: TOKEN });
    expect(run.code, run.all).toBe(0);
    expect(run.everything).toMatch(/\| home-hour \| power \| 168 \|/);
    expectNoSecrets(run.everything);
  });

  it('401: stops at once with a clear message, spools, exits 1', async () => {
    const started = Date.now();
    const run = await runEverywhere({ INFLUX_URL: secured.url, INFLUX_API: 'v1', INFLUX_USERNAME: 'admin', INFLUX_PASSWORD: PASSWORD });
    expect(run.code).toBe(1);
    // On Actions (runEverywhere sets GITHUB_ACTIONS) the host is masked as well.
    expect(run.all).toMatch(/InfluxDB v1 API at http:\/\/\*\*\* refused the credentials \(HTTP 401/);
    expect(run.all).toMatch(/spooled for the next run/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expectNoSecrets(run.everything);
  });

  it('database down, with a token and credentials inside INFLUX_URL', async () => {
    proxy.plan({ kind: 'down' });
    const url = new URL(proxy.url);
    url.username = 'admin';
    url.password = PASSWORD;
    const run = await runEverywhere({ INFLUX_URL: url.toString(), INFLUX_TOKEN: TOKEN, INFLUX_ORG: 'home' });
    proxy.clear();
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/is unavailable/);
    expectNoSecrets(run.everything);
  });

  it('server errors echoing the request back', async () => {
    proxy.plan({ kind: 'status', status: 500, times: 50, body: `{"error":"boom: token ${TOKEN} password ${PASSWORD}"}` });
    const run = await runEverywhere({ INFLUX_URL: proxy.url, INFLUX_API: 'v1', INFLUX_USERNAME: 'u', INFLUX_PASSWORD: PASSWORD, INFLUX_TOKEN: TOKEN });
    proxy.clear();
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/HTTP 500/);
    expectNoSecrets(run.everything);
  });

  it('a bad setting next to a secret', async () => {
    const run = await runEverywhere({ INFLUX_URL: 'not a url', INFLUX_PASSWORD: PASSWORD, INFLUX_TOKEN: TOKEN });
    expect(run.code).toBe(2);
    expect(run.all).toMatch(/INFLUX_URL is invalid: expected an http/);
    expectNoSecrets(run.everything);
  });
});
