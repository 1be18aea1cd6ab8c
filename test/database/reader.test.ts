/**
 * src/database/reader.ts: the same demo series read back from the file store, a real
 * InfluxDB 1.x and a real VictoriaMetrics give the same points — and those are the points the
 * file store's own lines say, parsed here with a plain regex (independent of the reader).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { demo } from '../../src/agents/demo/index.ts';
import { loadConfig } from '../../src/config.ts';
import { readBucketFile } from '../../src/database/file-store.ts';
import { openReader, type SeriesQuery } from '../../src/database/reader.ts';
import { vmClient } from '../../testing/helpers/servers.ts';
import { runCaptured, tempHome } from '../../testing/helpers/run-agent.ts';

const NOW = Date.parse('2025-11-20T15:42:00Z') / 1000;
const START = Date.parse('2025-11-10T00:00:00Z') / 1000;
const END = Date.parse('2025-11-12T06:00:00Z') / 1000;

describe('reader', () => {
  it('reads one series the same from the file store, InfluxDB 1.x and VictoriaMetrics', async () => {
    const home = await tempHome('reader');
    const prefix = `rd${Date.now()}`;
    const base = { ...home.env, INFLUX_BUCKET_PREFIX: prefix };
    const targets = {
      file: base,
      v1: { ...base, INFLUX_URL: inject('influxV1Url'), INFLUX_API: 'v1' },
      vm: { ...base, INFLUX_URL: inject('vmUrl'), INFLUX_BUCKET_LABEL: 'bucket' },
    };
    for (const env of Object.values(targets)) {
      const run = await runCaptured(demo, ['--since', '2025-11-09', '--until', '2025-11-13'], env, { now: NOW });
      expect(run.code, run.all).toBe(0);
    }
    await vmClient(inject('vmUrl')).flush();

    // Expected: the file store's lines for power at demo_meter in [START, END), by regex.
    const expected = (await readBucketFile(home.env.HOMEFLUX_DATA_DIR, `${prefix}-hour`))
      .map((l) => /^power,data_source=homeflux,location=demo_meter,source=homeflux\.demo power_usage=([^ ,]+) (\d+)$/.exec(l))
      .flatMap((m) => (m ? [{ time: Number(m[2]), value: Number(m[1]) }] : []))
      .filter((p) => p.time >= START && p.time < END)
      .sort((a, b) => a.time - b.time);
    expect(expected).toHaveLength(54); // 2 days and 6 hours of hours

    const query: SeriesQuery = { measurement: 'power', field: 'power_usage', timescale: 'hour', start: START, end: END, tags: { location: 'demo_meter' } };
    for (const [name, env] of Object.entries(targets)) {
      const points = await openReader(loadConfig(env)).read(query);
      expect(points.map((p) => ({ time: p.time, value: p.value })), name).toEqual(expected);
      expect(points.every((p) => p.tags.location === 'demo_meter' && p.tags.source === 'homeflux.demo'), name).toBe(true);
    }
    // A tag filter that matches nothing reads nothing; another field of another measurement reads its own.
    for (const env of Object.values(targets)) {
      expect(await openReader(loadConfig(env)).read({ ...query, tags: { location: 'nowhere' } })).toEqual([]);
      const temps = await openReader(loadConfig(env)).read({ ...query, measurement: 'temperature', field: 'temperature', tags: {} });
      expect(temps).toHaveLength(54);
    }
  });

  it('reads only the month partitions a range overlaps', async () => {
    const home = await tempHome('reader-months');
    await runCaptured(demo, ['--since', '2025-10-25', '--until', '2025-11-05'], home.env, { now: NOW });
    // Spoil November: a read of October must not touch it, a read of November must fail on it.
    await writeFile(join(home.env.HOMEFLUX_DATA_DIR, 'home-hour', '2025-11.lp'), 'power,location=demo_meter not-line-protocol\n');
    const reader = openReader(loadConfig(home.env));
    const query = { measurement: 'power', field: 'power_usage', timescale: 'hour' as const };
    const oct = await reader.read({ ...query, start: Date.parse('2025-10-30T00:00:00Z') / 1000, end: Date.parse('2025-11-01T00:00:00Z') / 1000 });
    expect(oct).toHaveLength(48);
    await expect(reader.read({ ...query, start: Date.parse('2025-10-31T00:00:00Z') / 1000, end: Date.parse('2025-11-02T00:00:00Z') / 1000 })).rejects.toThrow(/home-hour\/2025-11\.lp line 1: expected a line-protocol line/);
  });
});
