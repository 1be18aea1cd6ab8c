import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demo } from '../../src/agents/demo/index.ts';
import { readBucketFile } from '../../src/database/file-store.ts';
import { countByMeasurement, readStore, readTree, runCaptured, tempHome } from '../../testing/helpers/run-agent.ts';

const NOW = Date.parse('2025-11-20T15:42:00Z') / 1000;

describe('demo agent on the file store', () => {
  it('writes 30 days: 720 hourly power and temperature lines, minute UPS samples, day and week rollups', async () => {
    const home = await tempHome('demo');
    const run = await runCaptured(demo, [], home.env, { now: NOW });
    expect(run.code).toBe(0);
    const files = await readStore(join(home.dir, 'data'));
    expect([...files.keys()]).toEqual(['home-day', 'home-hour', 'home-minute', 'home-week']);
    // Partitioned by UTC month: 2025-10-21 … 2025-11-19 spans two.
    expect([...(await readTree(join(home.dir, 'data'))).keys()].filter((f) => f.startsWith('home-hour'))).toEqual(['home-hour/2025-10.lp', 'home-hour/2025-11.lp']);
    const hour = countByMeasurement(files.get('home-hour')!);
    expect(hour.get('power')).toBe(720);
    expect(hour.get('temperature')).toBe(720);
    expect(hour.get('humidity')).toBe(720);
    expect(countByMeasurement(files.get('home-minute')!).get('ups')).toBe(30 * 1440);
    expect(countByMeasurement(files.get('home-day')!).get('power')).toBe(30);
    // 2025-10-21 … 2025-11-19: the whole weeks inside are those starting 10-27, 11-03, 11-10.
    expect(countByMeasurement(files.get('home-week')!).get('power')).toBe(3);
    expect(run.out.join('\n')).toMatch(/demo: wrote 720 power point\(s\) to home-hour, 2025-10-21T00:00Z … 2025-11-19T23:00Z/);
  });

  it('day totals equal the sum of their hours', async () => {
    const home = await tempHome('demo');
    await runCaptured(demo, ['--since', '2025-11-01', '--until', '2025-11-03'], home.env, { now: NOW });
    const hours = (await readBucketFile(join(home.dir, 'data'), 'home-hour')).filter((l) => l.startsWith('power,'));
    const days = (await readBucketFile(join(home.dir, 'data'), 'home-day')).filter((l) => l.startsWith('power,'));
    const value = (line: string): number => Number(/power_usage=([^ ,]+)/.exec(line)![1]);
    const time = (line: string): number => Number(line.split(' ').at(-1));
    const nov1 = Date.parse('2025-11-01T00:00:00Z') / 1000;
    const expected = hours.filter((l) => time(l) >= nov1 && time(l) < nov1 + 86400).reduce((sum, l) => sum + value(l), 0);
    expect(value(days.find((l) => time(l) === nov1)!)).toBeCloseTo(expected, 6);
  });

  it('a second run leaves every file byte-identical', async () => {
    const home = await tempHome('demo');
    await runCaptured(demo, [], home.env, { now: NOW });
    const first = await readTree(join(home.dir, 'data'));
    const again = await runCaptured(demo, [], home.env, { now: NOW + 3600 });
    expect(again.code).toBe(0);
    expect(await readTree(join(home.dir, 'data'))).toEqual(first);
  });

  it('follows the temperature: hot hours use more energy than mild ones', async () => {
    const home = await tempHome('demo');
    // July: hot afternoons and mild nights; only the hour bucket matters here.
    await runCaptured(demo, ['--since', '2024-07-01', '--until', '2024-08-01'], home.env, { now: NOW });
    const lines = await readBucketFile(join(home.dir, 'data'), 'home-hour');
    const byTime = new Map<string, { power?: number; temp?: number }>();
    for (const line of lines) {
      const m = /^(power|temperature),\S+ (?:power_usage|temperature)=([^ ]+) (\d+)$/.exec(line);
      if (!m) continue;
      const entry = byTime.get(m[3]!) ?? {};
      if (m[1] === 'power') entry.power = Number(m[2]);
      else entry.temp = Number(m[2]);
      byTime.set(m[3]!, entry);
    }
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const entries = [...byTime.values()];
    const hot = entries.filter((e) => e.temp! > 88).map((e) => e.power!);
    const mild = entries.filter((e) => e.temp! > 62 && e.temp! < 70).map((e) => e.power!);
    expect(hot.length).toBeGreaterThan(50);
    expect(mean(hot)).toBeGreaterThan(mean(mild) * 2);
  });

  it('--dry-run writes nothing and says what it would write', async () => {
    const home = await tempHome('demo');
    const run = await runCaptured(demo, ['--dry-run', '--since', '1d'], home.env, { now: NOW });
    expect(run.code).toBe(0);
    expect(run.out.join('\n')).toMatch(/would write \d+ power point/);
    expect((await readTree(join(home.dir, 'data'))).size).toBe(0);
  });

  it.each([
    [['--since', 'yesterday-ish'], /--since: expected a date/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
    [['--since', '2025-11-05', '--until', '2025-11-01'], /--since must be before --until/],
  ])('bad arguments %j exit 2 with a clear message', async (argv, message) => {
    const home = await tempHome('demo');
    const run = await runCaptured(demo, argv, home.env, { now: NOW });
    expect(run.code).toBe(2);
    expect(run.all).toMatch(message);
  });
});
