/**
 * src/run/hourly.ts: every configured agent in one process against the fakes — the Opower
 * portal and Open-Meteo — into the file store, a real InfluxDB 1.x, and a database that is down.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readBucketFile } from '../src/database/file-store.ts';
import { runHourly } from '../src/run/hourly.ts';
import { type FakeOpenMeteo, startOpenMeteo } from '../testing/fakes/open-meteo.ts';
import { type OpowerPortal, startOpowerPortal } from '../testing/fakes/opower-portal.ts';
import { freePort } from '../testing/helpers/ports.ts';
import { influxV1Client } from '../testing/helpers/servers.ts';
import { readTree } from '../testing/helpers/run-agent.ts';

const NOW = Math.floor(Date.parse('2026-04-01T12:00:00Z') / 1000);
let portal: OpowerPortal;
let meteo: FakeOpenMeteo;

beforeAll(async () => {
  [portal, meteo] = await Promise.all([startOpowerPortal({ now: NOW, meteredUntil: NOW }), startOpenMeteo({ now: () => NOW })]);
});
afterAll(async () => {
  await Promise.all([portal?.stop(), meteo?.stop()]);
});

async function hourly(env: Record<string, string>, argv: string[] = []): Promise<{ code: number; all: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'homeflux-hourly-'));
  const lines: string[] = [];
  const code = await runHourly({
    argv,
    now: NOW,
    streams: { out: (l) => lines.push(l), err: (l) => lines.push(l) },
    env: {
      HOMEFLUX_DATA_DIR: join(dir, 'data'),
      HOMEFLUX_SPOOL_DIR: join(dir, 'spool'),
      HOMEFLUX_TIMEZONE: 'America/Los_Angeles',
      OPOWER_UTILITY: 'gwp',
      OPOWER_USERNAME: 'homeowner@example.com',
      OPOWER_PASSWORD: 'correct-horse-battery',
      OPOWER_BASE_URL: portal.url,
      WEATHER_LATITUDE: '34.14',
      WEATHER_LONGITUDE: '-118.25',
      WEATHER_BASE_URL: meteo.url,
      WEATHER_ARCHIVE_BASE_URL: meteo.url,
      ...env,
    },
  });
  return { code, all: lines.join('\n'), dir };
}

describe('hourly: every configured agent in one process', () => {
  it('runs opower and weather, skips scrape with a notice naming what to set, exit 0', async () => {
    const run = await hourly({});
    expect(run.code, run.all).toBe(0);
    expect(run.all).toMatch(/scrape: skipped — set SCRAPE_CONFIG/);
    const hour = await readBucketFile(join(run.dir, 'data'), 'home-hour');
    expect(hour.some((l) => l.startsWith('power,') && l.includes('source=homeflux.opower.gwp'))).toBe(true);
    expect(hour.some((l) => l.startsWith('temperature,') && l.includes('source=homeflux.open_meteo'))).toBe(true);
    expect(run.all).toMatch(/opower\.gwp: wrote \d+ power point\(s\) to home-hour/);
  });

  it('skips everything without settings (exit 0), and refuses --since', async () => {
    const none = await hourly({ OPOWER_USERNAME: '', OPOWER_PASSWORD: '', WEATHER_LATITUDE: '' });
    expect(none.code, none.all).toBe(0);
    expect(none.all).toMatch(/opower: skipped — set OPOWER_USERNAME or GWP_USER, OPOWER_PASSWORD or GWP_PASSWORD/);
    expect(none.all).toMatch(/weather: skipped — set WEATHER_LATITUDE/);
    expect(none.all).toMatch(/no agent is configured/);
    expect((await hourly({}, ['--since', '2d'])).code).toBe(2);
  });

  it('one agent failing does not stop the others; the exit code is the worst', async () => {
    const run = await hourly({ OPOWER_PASSWORD: 'wrong' });
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/refused: HTTP 401/);
    expect((await readBucketFile(join(run.dir, 'data'), 'home-hour')).some((l) => l.includes('source=homeflux.open_meteo'))).toBe(true);
  });

  it('writes both agents into a real InfluxDB 1.x through one connection', async () => {
    const prefix = `hourly${Date.now()}`;
    const run = await hourly({ INFLUX_URL: inject('influxV1Url'), INFLUX_API: 'v1', INFLUX_BUCKET_PREFIX: prefix });
    expect(run.code, run.all).toBe(0);
    const client = influxV1Client(inject('influxV1Url'));
    expect(await client.countField(`${prefix}-hour`, 'power', 'power_usage')).toBeGreaterThan(100);
    expect(await client.countField(`${prefix}-hour`, 'temperature', 'temperature')).toBeGreaterThan(100);
  });

  it('database down: one retry budget for all, every agent’s lines in the spool, exit 1', async () => {
    const run = await hourly({ INFLUX_URL: `http://127.0.0.1:${await freePort()}`, INFLUX_API: 'v1', HOMEFLUX_RETRY_SECONDS: '1' });
    expect(run.code).toBe(1);
    const spool = [...(await readTree(join(run.dir, 'spool'))).values()].join('');
    expect(spool).toMatch(/source=homeflux\.opower\.gwp/);
    expect(spool).toMatch(/source=homeflux\.open_meteo/);
  });
});
