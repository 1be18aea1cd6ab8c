/**
 * scripts/migrate-original.ts: the original daemon's GWP points, written as it wrote them
 * (david2777/homeflux `gwp_opower.py`: power at the read's end without `location`, temperature
 * with `location=gwp_meter`, weeks from a Flux task at Thursday 00:00 UTC), are moved into the
 * opower agent's series on a real InfluxDB 1.x, and through the v2 delete API on the fake 2.x.
 */
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runMigrateOriginal } from '../src/migrate/original.ts';
import { type Influx2Api, parsePoint, startInflux2Api } from '../testing/fakes/influx2-api.ts';
import { influxV1Client } from '../testing/helpers/servers.ts';

const ZONE = 'America/Los_Angeles';
const OLD = 'homeflux.gwp_opower';
const NEW = 'homeflux.opower.gwp';

/** Local hour starts of 2025-11-01 … 2025-11-03 (the fall-back day has 25). */
const HOURS: number[] = [];
for (let t = DateTime.fromISO('2025-11-01', { zone: ZONE }).toSeconds(); t < DateTime.fromISO('2025-11-04', { zone: ZONE }).toSeconds(); t += 3600) HOURS.push(t);
const DATES = ['2025-11-01', '2025-11-02', '2025-11-03'];
const midnight = (d: string): number => DateTime.fromISO(d, { zone: ZONE }).toSeconds();
const wh = (i: number): number => 200 + ((i * 37) % 400);
const temp = (i: number): number => 50 + (i % 17);
const dayWh = (d: string): number => HOURS.map((t, i) => [t, wh(i)] as const).filter(([t]) => DateTime.fromSeconds(t, { zone: ZONE }).toISODate() === d).reduce((s, [, v]) => s + v, 0);

/** The original's lines, per bucket, as its daemon and Flux tasks wrote them. */
function originalLines(): Record<'hour' | 'day' | 'week', string[]> {
  const tags = `data_source=homeflux,source=${OLD}`;
  return {
    hour: [
      ...HOURS.map((t, i) => `power,${tags} power_usage=${wh(i)} ${t + 3600}`), // stamped at the read's end
      ...HOURS.map((t, i) => `temperature,data_source=homeflux,location=gwp_meter,source=${OLD} temperature=${temp(i)} ${t}`),
      // Not the original's: must be left alone.
      `power,data_source=homeflux,location=ups,source=homeflux.nut power_usage=5 ${HOURS[3]}`,
    ],
    day: [
      ...DATES.map((d) => `power,${tags} power_usage=${dayWh(d)} ${DateTime.fromISO(d, { zone: ZONE }).plus({ days: 1 }).toSeconds()}`),
      // Daily temperature at local midnight with the run's UTC offset: 2025-11-03 written with
      // -07:00 (a run before the change), an hour before the real local midnight (-08:00).
      `temperature,data_source=homeflux,location=gwp_meter,source=${OLD} temperature=61 ${midnight('2025-11-01')}`,
      `temperature,data_source=homeflux,location=gwp_meter,source=${OLD} temperature=59 ${midnight('2025-11-02')}`,
      `temperature,data_source=homeflux,location=gwp_meter,source=${OLD} temperature=57 ${Date.parse('2025-11-03T00:00:00-07:00') / 1000}`,
    ],
    // aggregateWindow(every: 1w) stamps the window's stop: Thursday 2025-11-06 00:00 UTC.
    week: [`power,${tags} power_usage=${DATES.reduce((s, d) => s + dayWh(d), 0)} ${Date.parse('2025-11-06T00:00:00Z') / 1000}`, `temperature,${tags},location=gwp_meter temperature=59 ${Date.parse('2025-11-06T00:00:00Z') / 1000}`],
  };
}

async function migrate(env: Record<string, string>, argv: string[] = []): Promise<{ code: number; all: string }> {
  const lines: string[] = [];
  const code = await runMigrateOriginal({ argv, env: { HOMEFLUX_TIMEZONE: ZONE, ...env }, streams: { out: (l) => lines.push(l), err: (l) => lines.push(l) } });
  return { code, all: lines.join('\n') };
}

/** What the migration must produce, worked out from the original lines by the rules in its docs. */
const expectedHourPower = HOURS.map((t, i) => [t, wh(i)]);
const expectedDayPower = DATES.map((d) => [midnight(d), dayWh(d)]);
const expectedDayTemp = [[midnight('2025-11-01'), 61], [midnight('2025-11-02'), 59], [midnight('2025-11-03'), 57]];
// homeflux weeks start Monday local: Sat 11-01 and Sun 11-02 are in the week of Mon 10-27, Mon 11-03 starts the next.
const expectedWeekPower = [[midnight('2025-10-27'), dayWh('2025-11-01') + dayWh('2025-11-02')], [midnight('2025-11-03'), dayWh('2025-11-03')]];

describe('migrate-original on InfluxDB 1.x', () => {
  const url = inject('influxV1Url');
  const prefix = `mig${Date.now()}`;
  const client = influxV1Client(url);
  const env = { INFLUX_URL: url, INFLUX_API: 'v1', INFLUX_BUCKET_PREFIX: prefix, HOMEFLUX_SPOOL_DIR: `/tmp/${prefix}-spool` };
  const rows = async (t: string, m: string, source: string): Promise<number[][]> => {
    const result = await client.query(`${prefix}-${t}`, `SELECT * FROM "${m}" WHERE "source" = '${source}'`);
    const s = result[0]?.series?.[0];
    if (!s) return [];
    const field = m === 'power' ? 'power_usage' : 'temperature';
    return s.values.map((row) => [Number(row[s.columns.indexOf('time')]), Number(row[s.columns.indexOf(field)])]).sort((a, b) => a[0]! - b[0]!);
  };

  beforeAll(async () => {
    const lines = originalLines();
    for (const t of ['hour', 'day', 'week'] as const) {
      await client.createDatabase(`${prefix}-${t}`);
      await client.write(`${prefix}-${t}`, lines[t].join('\n'));
    }
  });

  it('--dry-run says what would move and changes nothing', async () => {
    const run = await migrate(env, ['--dry-run']);
    expect(run.code, run.all).toBe(0);
    expect(run.all).toMatch(new RegExp(`${prefix}-hour power: ${HOURS.length} point\\(s\\) of source=${OLD} would move`));
    expect(run.all).toMatch(/nothing was changed/);
    expect(await rows('hour', 'power', OLD)).toHaveLength(HOURS.length);
    expect(await rows('hour', 'power', NEW)).toEqual([]);
  });

  it('moves every point, counts and sums equal, none left in the old series; a second run changes nothing', async () => {
    const before = await rows('hour', 'power', OLD);
    const run = await migrate(env);
    expect(run.code, run.all).toBe(0);
    const after = await rows('hour', 'power', NEW);
    expect(after).toHaveLength(before.length);
    expect(after.reduce((s, [, v]) => s + v!, 0)).toBe(before.reduce((s, [, v]) => s + v!, 0));
    expect(after).toEqual(expectedHourPower);
    expect(await rows('day', 'power', NEW)).toEqual(expectedDayPower);
    expect(await rows('hour', 'temperature', NEW)).toEqual(HOURS.map((t, i) => [t, temp(i)]));
    expect(await rows('day', 'temperature', NEW)).toEqual(expectedDayTemp);
    expect(await rows('week', 'power', NEW)).toEqual(expectedWeekPower);
    for (const t of ['hour', 'day', 'week']) for (const m of ['power', 'temperature']) expect(await rows(t, m, OLD), `${t} ${m}`).toEqual([]);
    // The new series carry the agent's tags: power at gwp_meter, weather at gwp.
    const tags = await client.query(`${prefix}-hour`, `SHOW TAG VALUES FROM "temperature" WITH KEY = "location"`);
    expect(tags[0]!.series![0]!.values.map((v) => v[1])).toEqual(['gwp']);
    expect(await rows('hour', 'power', 'homeflux.nut')).toEqual([[HOURS[3]!, 5]]);

    const again = await migrate(env);
    expect(again.code).toBe(0);
    expect(again.all).toMatch(/nothing to do/);
    expect(await rows('hour', 'power', NEW)).toEqual(expectedHourPower);
  });
});

describe('migrate-original on the InfluxDB 2.x API (fake: InfluxQL /query and /api/v2/delete)', () => {
  let api: Influx2Api;
  beforeAll(async () => {
    api = await startInflux2Api();
    const lines = originalLines();
    for (const t of ['hour', 'day', 'week'] as const) {
      const now = new Date().toISOString();
      api.buckets.set(`b-${t}`, { id: `b-${t}`, orgID: api.orgs[0]!.id, name: `home-${t}`, retentionRules: [], createdAt: now, updatedAt: now });
      // As scripts/setup.ts leaves it: the bucket's name mapped for InfluxQL.
      api.dbrps.push({ id: `m-${t}`, orgID: api.orgs[0]!.id, bucketID: `b-${t}`, database: `home-${t}`, retention_policy: 'autogen', default: true });
      api.written.set(`home-${t}`, [...lines[t]]);
    }
  });
  afterAll(async () => {
    await api?.stop();
  });

  it('moves the points and deletes the originals through the delete API', async () => {
    const run = await migrate({ INFLUX_URL: api.url, INFLUX_TOKEN: api.token, INFLUX_ORG: 'home', HOMEFLUX_SPOOL_DIR: `/tmp/mig-v2-${Date.now()}` });
    expect(run.code, run.all).toBe(0);
    const points = (t: string): NonNullable<ReturnType<typeof parsePoint>>[] => (api.written.get(`home-${t}`) ?? []).flatMap((l) => parsePoint(l) ?? []);
    expect(points('hour').filter((p) => p.tags.source === OLD)).toEqual([]);
    const power = points('hour').filter((p) => p.measurement === 'power' && p.tags.source === NEW).map((p) => [p.time, p.fields.power_usage]);
    expect(power.sort((a, b) => a[0]! - b[0]!)).toEqual(expectedHourPower);
    expect(points('week').filter((p) => p.tags.source === NEW && p.measurement === 'power').map((p) => [p.time, p.fields.power_usage])).toEqual(expectedWeekPower);
    const deletes = api.requests.filter((r) => r.path.startsWith('/api/v2/delete'));
    expect(deletes.length).toBe(6);
    expect(deletes.every((r) => r.status === 204)).toBe(true);
  });
});
