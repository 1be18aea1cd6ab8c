/**
 * scripts/gaps.ts: holes found where a day was taken out of the demo's series — in the file
 * store and in a real InfluxDB 1.x — named by series, range and count; `--repair` collects them
 * again through the backfill and the audit then finds none. Expected holes come from the day
 * removed (one local day = 24 hours here).
 */
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { demo } from '../src/agents/demo/index.ts';
import { readBucketFile } from '../src/database/file-store.ts';
import { findHoles } from '../src/insight/gaps.ts';
import { runGaps } from '../src/run/gaps.ts';
import { influxV1Client } from '../testing/helpers/servers.ts';
import { runCaptured, tempHome } from '../testing/helpers/run-agent.ts';

const TZ = 'America/Los_Angeles';
const NOW = DateTime.fromISO('2025-10-20T12:00', { zone: TZ }).toSeconds();
const DAY = { start: DateTime.fromISO('2025-10-07', { zone: TZ }).toSeconds(), end: DateTime.fromISO('2025-10-08', { zone: TZ }).toSeconds() };
const RANGE = ['--since', '2025-10-01', '--until', '2025-10-15'];

async function gaps(env: Record<string, string>, ...argv: string[]): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await runGaps({ argv, env, streams: { out: (l) => lines.push(l), err: (l) => lines.push(l) }, now: NOW });
  return { code, text: lines.join('\n') };
}

describe('findHoles', () => {
  it('counts the missing points between, before and after, local days through DST', () => {
    const h = 3600;
    expect(findHoles([0, h, 4 * h], { timescale: 'hour', timezone: 'UTC', start: 0, end: 6 * h, edges: { leading: true, trailing: true } })).toEqual([
      { from: 2 * h, to: 4 * h, missing: 2 },
      { from: 5 * h, to: 6 * h, missing: 1 },
    ]);
    // Local days around the fall-back day: 2025-11-02 is 25 hours long, still one missing day.
    const day = (d: string): number => DateTime.fromISO(d, { zone: TZ }).toSeconds();
    expect(findHoles([day('2025-11-01'), day('2025-11-03')], { timescale: 'day', timezone: TZ, start: day('2025-11-01'), end: day('2025-11-04'), edges: { leading: true, trailing: true } })).toEqual([{ from: day('2025-11-02'), to: day('2025-11-03'), missing: 1 }]);
  });
});

describe('scripts/gaps.ts', () => {
  let home: Awaited<ReturnType<typeof tempHome>>;
  let env: Record<string, string>;

  beforeAll(async () => {
    home = await tempHome('gaps');
    env = { ...home.env, HOMEFLUX_TIMEZONE: TZ };
    expect((await runCaptured(demo, RANGE, env, { now: NOW })).code).toBe(0);
    // Take 2025-10-07 (local) out of the hour bucket: October rewritten as one file without it.
    const dir = join(home.env.HOMEFLUX_DATA_DIR, 'home-hour');
    const october = (await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-hour')).filter((l) => {
      const t = Number(l.split(' ').pop());
      return t >= Date.UTC(2025, 9, 1) / 1000 && t < Date.UTC(2025, 10, 1) / 1000 && !(t >= DAY.start && t < DAY.end);
    });
    for (const f of await readdir(dir)) if (f.startsWith('2025-10')) await rm(join(dir, f));
    await writeFile(join(dir, '2025-10.lp'), `${october.join('\n')}\n`);
  });

  it('names each hole: series, range and count; exit 1', async () => {
    const { code, text } = await gaps(env, ...RANGE, '--agents', 'demo');
    expect(code).toBe(1);
    expect(text).toContain('demo  power.power_usage hour location=demo_meter  2025-10-07T00:00:00-07:00 … 2025-10-08T00:00:00-07:00  24 missing');
    expect(text).toContain('demo  temperature.temperature hour location=demo_home  2025-10-07T00:00:00-07:00 … 2025-10-08T00:00:00-07:00  24 missing');
    expect(text).not.toMatch(/ups\.power_w/);
    expect(text).toMatch(/gaps: 48 point\(s\) missing in 2 series/);
    const json = JSON.parse((await gaps(env, ...RANGE, '--agents', 'demo', '--json')).text) as { series: Array<{ series: string; holes: Array<{ missing: number }> }> };
    expect(json.series.map((s) => [s.series, s.holes.map((h) => h.missing)])).toEqual([
      ['power.power_usage hour location=demo_meter', [24]],
      ['temperature.temperature hour location=demo_home', [24]],
    ]);
  });

  it('--repair collects the holes again; then none remain, exit 0', async () => {
    const { code, text } = await gaps(env, ...RANGE, '--agents', 'demo', '--repair');
    expect(code, text).toBe(0);
    expect(text).toMatch(/gaps: demo: collecting .* again/);
    expect(text).toMatch(/gaps: none in 2025-10-01T00:00:00-07:00 … 2025-10-15T00:00:00-07:00/);
    const day = (await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-hour')).filter((l) => l.startsWith('power,') && Number(l.split(' ').pop()) >= DAY.start && Number(l.split(' ').pop()) < DAY.end);
    expect(day).toHaveLength(24);
  });

  it('finds the same hole in a real InfluxDB 1.x', async () => {
    const v1 = influxV1Client(inject('influxV1Url'));
    const prefix = `gaps${process.pid}_${Date.now()}`;
    const dbEnv = { ...env, INFLUX_URL: v1.url, INFLUX_API: 'v1', INFLUX_BUCKET_PREFIX: prefix };
    expect((await runCaptured(demo, RANGE, dbEnv, { now: NOW })).code).toBe(0);
    await v1.exec(`DELETE FROM "power" WHERE time >= ${DAY.start}s AND time < ${DAY.end}s`, `${prefix}-hour`);
    const left = await v1.query(`${prefix}-hour`, `SELECT count("power_usage") FROM "power" WHERE time >= ${DAY.start}s AND time < ${DAY.end}s`);
    expect(left[0]?.series ?? [], 'the day is deleted').toEqual([]);
    const { code, text } = await gaps(dbEnv, ...RANGE, '--agents', 'demo');
    expect(code, text).toBe(1);
    expect(text).toContain('demo  power.power_usage hour location=demo_meter  2025-10-07T00:00:00-07:00 … 2025-10-08T00:00:00-07:00  24 missing');
    expect(text).not.toMatch(/temperature\.temperature/);
  });

  it('refuses an agent without a cadence, exit 2', async () => {
    const { code, text } = await gaps(env, '--agents', 'greenbutton');
    expect(code).toBe(2);
    expect(text).toMatch(/--agents: "greenbutton" keeps no series at a fixed cadence/);
  });
});
