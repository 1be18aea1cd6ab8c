import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { weather } from '../../src/agents/weather/index.ts';
import { HOURLY_VARIABLES, type HourlyVariable, hourlyRecords, parseHourly } from '../../src/agents/weather/parse.ts';
import { planRequests } from '../../src/agents/weather/plan.ts';
import { SourceDataError } from '../../src/errors.ts';
import { readBucketFile } from '../../src/database/file-store.ts';
import { runAgent } from '../../src/run/pipeline.ts';
import { readTree } from '../../testing/helpers/run-agent.ts';
import { FAULTS, type FakeOpenMeteo, startOpenMeteo } from '../../testing/fakes/open-meteo.ts';

// A pinned clock shared by the fake and the run: 2025-06-18 (a Wednesday) 10:20 UTC.
const NOW = Date.UTC(2025, 5, 18, 10, 20) / 1000;
const HOUR = 3600;
const DAY = 86400;

let fake: FakeOpenMeteo;
const dirs: string[] = [];

beforeAll(async () => {
  fake = await startOpenMeteo({ now: () => NOW });
});
afterAll(async () => {
  await fake.stop();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
afterEach(() => fake.reset());

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'homeflux-weather-'));
  dirs.push(dir);
  return dir;
}

interface Run {
  code: number;
  out: string[];
  err: string[];
  dataDir: string;
}

async function run(argv: string[], env: Record<string, string> = {}, dir?: string): Promise<Run> {
  const base = dir ?? (await tempDir());
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAgent(weather, {
    argv,
    now: NOW,
    streams: { out: (l) => out.push(l), err: (l) => err.push(l) },
    env: {
      HOMEFLUX_DATA_DIR: join(base, 'data'),
      HOMEFLUX_SPOOL_DIR: join(base, 'spool'),
      HOMEFLUX_TIMEZONE: 'UTC',
      WEATHER_LATITUDE: '34.14',
      WEATHER_LONGITUDE: '-118.25',
      WEATHER_BASE_URL: fake.url,
      WEATHER_ARCHIVE_BASE_URL: fake.url,
      ...env,
    },
  });
  return { code, out, err, dataDir: join(base, 'data') };
}

interface Point {
  measurement: string;
  value: number;
  time: number;
  location: string;
}

async function points(dataDir: string, bucket: string): Promise<Point[]> {
  return (await readBucketFile(dataDir, bucket)).map((line) => {
    const match = /^(\w+),.*location=([^,]+).* \w+=([-\d.e]+) (\d+)$/.exec(line);
    if (!match) throw new Error(`unexpected line ${line}`);
    return { measurement: match[1]!, location: match[2]!, value: Number(match[3]), time: Number(match[4]) };
  });
}

const times = (list: Point[], measurement: string): number[] => list.filter((p) => p.measurement === measurement).map((p) => p.time);

/** Every hour from `first` to `last` exactly once. */
function expectEveryHour(got: number[], first: number, last: number): void {
  expect(got.length).toBe((last - first) / HOUR + 1);
  expect(got[0]).toBe(first);
  expect(got.at(-1)).toBe(last);
  for (let i = 1; i < got.length; i++) expect(got[i]! - got[i - 1]!).toBe(HOUR);
}

// Every partition file of the store with its bytes.
const snapshot = (dataDir: string): Promise<Map<string, string>> => readTree(dataDir);

const errors = (r: Run): string[] => r.err.filter((l) => l.startsWith('error:'));
const lastHour = Math.floor(NOW / HOUR) * HOUR;
const weekStart = (date: string, zone = 'UTC'): number => DateTime.fromISO(date, { zone }).startOf('week').toSeconds();

describe('weather: backfill and hourly runs against the fake Open-Meteo', () => {
  it('backfills three years with one point per hour per series, mostly from the archive, in a few requests', async () => {
    const first = await run(['--since', '2022-06-15']);
    expect(first.err).toEqual([]);
    expect(first.code).toBe(0);
    const hour = await points(first.dataDir, 'home-hour');
    const start = weekStart('2022-06-15');
    expectEveryHour(times(hour, 'temperature'), start, lastHour);
    expectEveryHour(times(hour, 'humidity'), start, lastHour);
    // Precipitation is stamped at the end of its hour: the current hour's is not over yet.
    expectEveryHour(times(hour, 'precipitation'), start, lastHour - HOUR);
    expect(hour.every((p) => p.location === 'home' && p.time <= NOW)).toBe(true);

    const archive = fake.requests.filter((r) => r.api === 'archive');
    const forecast = fake.requests.filter((r) => r.api === 'forecast');
    expect(fake.requests.every((r) => r.status === 200)).toBe(true);
    // One archive request per 366-day chunk; the forecast serves only the last ten days.
    expect(archive).toHaveLength(3);
    expect(forecast.length).toBeGreaterThanOrEqual(1);
    expect(archive.length + forecast.length).toBeLessThanOrEqual(5);
    for (const f of forecast) expect(f.params).toMatchObject({ forecast_days: '1', timezone: 'GMT', timeformat: 'unixtime' });
    expect(Math.max(...forecast.map((f) => Number(f.params.past_days)))).toBe(10);
    // Archive ranges join without a gap (chunks share a day: precipitation reaches one hour past
    // a chunk) and stop where the forecast's past_days begin.
    expect(archive[0]!.params.start_date).toBe('2022-06-13');
    for (let i = 1; i < archive.length; i++) {
      expect(DateTime.fromISO(archive[i]!.params.start_date!).diff(DateTime.fromISO(archive[i - 1]!.params.end_date!), 'days').days).toBeLessThanOrEqual(1);
    }
    expect(archive.at(-1)!.params.end_date).toBe('2025-06-07');

    const day = await points(first.dataDir, 'home-day');
    const week = await points(first.dataDir, 'home-week');
    expect(times(day, 'precipitation').length).toBe((Math.floor(NOW / DAY) * DAY - start) / DAY + 1);
    expect(times(week, 'temperature').length).toBe(Math.round((weekStart('2025-06-18') - start) / (7 * DAY)) + 1);

    const before = await snapshot(first.dataDir);
    const second = await run(['--since', '2022-06-15'], {}, join(first.dataDir, '..'));
    expect(second.code).toBe(0);
    expect(await snapshot(first.dataDir)).toEqual(before);
  });

  it('an hourly run reads only the forecast API, writes no future hour, and is idempotent', async () => {
    const first = await run([]);
    expect(first.code).toBe(0);
    expect(fake.requests.map((r) => r.api)).toEqual(['forecast']);
    const hour = await points(first.dataDir, 'home-hour');
    // Two days back widened to the whole week (Monday) for the week rollups.
    const start = weekStart('2025-06-16');
    expectEveryHour(times(hour, 'temperature'), start, lastHour);
    expectEveryHour(times(hour, 'precipitation'), start, lastHour - HOUR);
    const before = await snapshot(first.dataDir);
    const second = await run([], {}, join(first.dataDir, '..'));
    expect(second.code).toBe(0);
    expect(await snapshot(first.dataDir)).toEqual(before);
  });

  it('agrees between the archive and the forecast API on an overlapping hour, and writes the configured location', async () => {
    const old = await run(['--since', '2025-06-01', '--until', '2025-06-02'], { WEATHER_LOCATION: 'cabin' });
    const viaArchive = await points(old.dataDir, 'home-hour');
    expect(fake.requests.map((r) => r.api)).toEqual(['archive']);
    fake.reset();
    const recent = await run(['--since', '2025-06-01', '--until', '2025-06-02'], { WEATHER_LOCATION: 'cabin', WEATHER_FORECAST_PAST_DAYS: '92' });
    expect(fake.requests.map((r) => r.api)).toEqual(['forecast']);
    expect(await points(recent.dataDir, 'home-hour')).toEqual(viaArchive);
    expect(viaArchive.every((p) => p.location === 'cabin')).toBe(true);
  });

  it.each([
    ['spring forward', '2024-03-09', '2024-03-12', '2024-03-10', 23],
    ['fall back', '2024-11-02', '2024-11-05', '2024-11-03', 25],
  ])('DST %s in America/Los_Angeles: no gap, no duplicate, the day rolls up %s… %s hours', async (_name, since, until, dstDay, hours) => {
    const zone = 'America/Los_Angeles';
    const r = await run(['--since', since, '--until', until], { HOMEFLUX_TIMEZONE: zone });
    expect(r.code).toBe(0);
    const hour = await points(r.dataDir, 'home-hour');
    const start = weekStart(since, zone);
    const end = DateTime.fromSeconds(weekStart(until, zone), { zone }).plus({ weeks: 1 }).toSeconds();
    expectEveryHour(times(hour, 'temperature'), start, end - HOUR);
    expectEveryHour(times(hour, 'precipitation'), start, end - HOUR);
    const day = await points(r.dataDir, 'home-day');
    const dayStart = DateTime.fromISO(dstDay, { zone }).toSeconds();
    const dayEnd = DateTime.fromISO(dstDay, { zone }).plus({ days: 1 }).toSeconds();
    for (const [measurement, how] of [['temperature', 'mean'], ['humidity', 'mean'], ['precipitation', 'sum']] as const) {
      const inDay = hour.filter((p) => p.measurement === measurement && p.time >= dayStart && p.time < dayEnd).map((p) => p.value);
      expect(inDay).toHaveLength(hours);
      const sum = inDay.reduce((a, b) => a + b, 0);
      const rolled = day.find((p) => p.measurement === measurement && p.time === dayStart);
      expect(rolled?.value).toBeCloseTo(how === 'sum' ? sum : sum / hours, 6);
    }
  });

  it('asks for and stores the configured units: °F and inches, or °C and mm', async () => {
    const window = ['--since', '2025-06-10', '--until', '2025-06-11'];
    const imperial = await run(window, { HOMEFLUX_UNITS: 'imperial' });
    expect(fake.requests[0]!.params).toMatchObject({ temperature_unit: 'fahrenheit', precipitation_unit: 'inch' });
    fake.reset();
    const metric = await run(window, { HOMEFLUX_UNITS: 'metric' });
    expect(fake.requests[0]!.params).toMatchObject({ temperature_unit: 'celsius', precipitation_unit: 'mm' });
    const f = await points(imperial.dataDir, 'home-hour');
    const c = await points(metric.dataDir, 'home-hour');
    expect(f.map((p) => [p.measurement, p.time])).toEqual(c.map((p) => [p.measurement, p.time]));
    let wet = 0;
    f.forEach((p, i) => {
      const m = c[i]!.value;
      if (p.measurement === 'temperature') expect(Math.abs(p.value - (m * 1.8 + 32))).toBeLessThanOrEqual(0.15);
      if (p.measurement === 'humidity') expect(p.value).toBe(m);
      if (p.measurement === 'precipitation') {
        expect(Math.abs(p.value - m / 25.4)).toBeLessThanOrEqual(0.0025);
        if (m > 0) wet++;
      }
    });
    expect(wet).toBeGreaterThan(0);
  });
});

describe('weather: request planning', () => {
  const settings = { latitude: 1, longitude: 2, baseUrl: 'http://f', archiveBaseUrl: 'http://a', forecastPastDays: 10, units: 'metric' as const };
  it('splits a window at the forecast reach and never asks past now', () => {
    const plan = planRequests({ start: NOW - 30 * DAY, end: NOW + 5 * DAY }, NOW, settings);
    expect(plan.map((p) => [p.api, p.params.start_date, p.params.end_date, p.params.past_days])).toEqual([
      ['archive', '2025-05-19', '2025-06-07', undefined],
      ['forecast', undefined, undefined, '10'],
    ]);
    expect(planRequests({ start: NOW + HOUR, end: NOW + DAY }, NOW, settings)).toEqual([]);
    expect(planRequests({ start: NOW - DAY, end: NOW }, NOW, settings).map((p) => [p.api, p.params.past_days])).toEqual([['forecast', '1']]);
  });
});

describe('weather: errors give one clear line', () => {
  it.each([
    ['latitude out of range', { WEATHER_LATITUDE: '100' }, /WEATHER_LATITUDE is invalid: expected a latitude from -90 to 90/],
    ['longitude not a number', { WEATHER_LONGITUDE: 'west' }, /WEATHER_LONGITUDE is invalid/],
    ['latitude missing', { WEATHER_LATITUDE: '' }, /WEATHER_LATITUDE is required but not set/],
    ['past days beyond the API', { WEATHER_FORECAST_PAST_DAYS: '93' }, /WEATHER_FORECAST_PAST_DAYS is invalid: expected 5 to 92 days/],
  ])('%s → exit 2 before any request', async (_name, env, message) => {
    const r = await run([], env);
    expect(r.code).toBe(2);
    expect(errors(r)).toHaveLength(1);
    expect(errors(r)[0]).toMatch(message);
    expect(fake.requests).toEqual([]);
  });

  it('a 400 with a reason (a window before 1940) → the reason, exit 2', async () => {
    const r = await run(['--since', '1939-06-01', '--until', '1939-06-10']);
    expect(r.code).toBe(2);
    expect(errors(r)).toEqual([`error: weather: open-meteo archive API (/v1/archive) refused the request (HTTP 400): Parameter 'start_date' is out of allowed range from 1940-01-01 to 2025-06-18`]);
  });

  it('429 with Retry-After is waited for and retried', async () => {
    fake.fail({ ...FAULTS.rateLimited(1), times: 1 });
    const started = Date.now();
    const r = await run([]);
    expect(r.code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(fake.requests.map((q) => q.status)).toEqual([429, 200]);
    expect(r.err.filter((l) => l.startsWith('warning:'))).toEqual([expect.stringContaining('HTTP 429: Minutely API request limit exceeded')]);
  });

  it('a 500 once is retried; a timeout once is retried', async () => {
    fake.fail({ ...FAULTS.serverError(), times: 1 });
    fake.fail({ hang: true, times: 1 });
    const r = await run([], { HOMEFLUX_HTTP_TIMEOUT: '1' });
    expect(r.code).toBe(0);
    expect(fake.requests.map((q) => q.status)).toEqual([500, 0, 200]);
    expect(r.err.join('\n')).toMatch(/did not answer within 1 s/);
  });

  it('a 503 that persists → exit 1 after the retries, with one error line', async () => {
    fake.fail(FAULTS.unavailable(0));
    const r = await run([]);
    expect(r.code).toBe(1);
    expect(fake.requests).toHaveLength(4);
    expect(errors(r)).toHaveLength(1);
    expect(errors(r)[0]).toMatch(/open-meteo forecast API \(\/v1\/forecast\) answered HTTP 503/);
  });

  it.each([
    ['an HTML page', FAULTS.maintenancePage(), /forecast API \(\/v1\/forecast\) answered an HTML page with HTTP 200 where JSON was expected; received: <!DOCTYPE html> <html><head><title>Open-Meteo maintenance/],
    ['JSON of the wrong shape', FAULTS.wrongShape(), /forecast API \(\/v1\/forecast\): expected an hourly forecast object, but utc_offset_seconds: .*; received: \{"latitude":1/],
    ['a 404 page (wrong base URL)', { status: 404, contentType: 'text/html', body: '<html><body>404 Not Found</body></html>' }, /answered an HTML page with HTTP 404/],
  ])('%s → SourceDataError naming the API and path, exit 1', async (_name, fault, message) => {
    fake.fail(fault);
    const r = await run([]);
    expect(r.code).toBe(1);
    expect(fake.requests).toHaveLength(1);
    expect(errors(r)).toHaveLength(1);
    expect(errors(r)[0]).toMatch(message);
  });
});

describe('weather: parsing the real Open-Meteo payloads (test/fixtures/open-meteo)', () => {
  // ISO local times are read in the response's IANA zone: `utc_offset_seconds` is the offset at
  // request time (vinea's January archive says +09:30, Adelaide's winter offset), not the data's.
  const table: { file: string; variables: HourlyVariable[]; counts: [number, number, number]; first?: string; temperature?: number }[] = [
    { file: 'vinea_archive_adelaide_3d_hourly.json', variables: [...HOURLY_VARIABLES], counts: [72, 72, 72], first: '2025-01-09T13:30:00.000Z', temperature: 20.3 },
    { file: 'vinea_forecast_adelaide_3d_hourly.json', variables: [...HOURLY_VARIABLES], counts: [72, 72, 72], first: '2026-07-15T14:30:00.000Z', temperature: 6.5 },
    { file: 'goopenmeteo_forecast.json', variables: ['temperature_2m'], counts: [48, 0, 0], first: '2026-09-28T22:00:00.000Z', temperature: 12.8 },
    { file: 'frenck_historical_weather.json', variables: ['temperature_2m'], counts: [3, 0, 0], first: '1953-01-30T23:00:00.000Z', temperature: 5.8 },
    { file: 'frenck_historical_forecast.json', variables: ['temperature_2m'], counts: [3, 0, 0], first: '2023-12-31T23:00:00.000Z', temperature: 7.9 },
    // Beyond the model horizon every value is null: nothing is invented.
    { file: 'frenck_forecast_16_days.json', variables: ['temperature_2m'], counts: [0, 0, 0] },
  ];
  const origin = { api: 'forecast', path: '/v1/forecast' };
  const load = async (file: string): Promise<unknown> => JSON.parse(await readFile(join(import.meta.dirname, '../fixtures/open-meteo', file), 'utf8'));

  it.each(table)('$file', async ({ file, variables, counts, first, temperature }) => {
    const body = await load(file);
    const hourly = parseHourly(body, origin, variables);
    for (const units of ['metric', 'imperial'] as const) {
      const records = hourlyRecords(hourly, { source: 'homeflux.open_meteo', location: 'home', units, origin, keep: () => true });
      const of = (m: string) => records.filter((r) => r.measurement === m);
      expect([of('temperature').length, of('humidity').length, of('precipitation').length]).toEqual(counts);
      if (first === undefined || temperature === undefined) continue;
      const t = of('temperature')[0]!;
      expect(new Date(t.time * 1000).toISOString()).toBe(first);
      expect(t.fields.temperature).toBeCloseTo(units === 'metric' ? temperature : temperature * 1.8 + 32, 9);
      expect(t.tags).toEqual({ data_source: 'homeflux', source: 'homeflux.open_meteo', location: 'home' });
      // Precipitation is the preceding hour's sum: its record starts an hour before the stamp.
      if (counts[2] > 0) expect(of('precipitation')[0]!.time).toBe(t.time - 3600);
    }
  });

  it('a response without hourly data, or without a requested variable, is a SourceDataError naming the API', async () => {
    const minimal = await load('frenck_forecast_minimal.json');
    expect(() => parseHourly(minimal, origin)).toThrow(SourceDataError);
    expect(() => parseHourly(minimal, origin)).toThrow(/open-meteo forecast API \(\/v1\/forecast\): expected an hourly forecast object, but hourly_units/);
    const goo = await load('goopenmeteo_forecast.json');
    expect(() => parseHourly(goo, origin)).toThrow(/hourly\.relative_humidity_2m is missing; received: \{"latitude":45.6/);
  });
});
