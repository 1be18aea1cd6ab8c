/**
 * The demo through the whole pipeline into the real InfluxDB 1.x and the real VictoriaMetrics:
 * counts per bucket equal the file store's, and a second run changes none.
 */
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { demo } from '../../src/agents/demo/index.ts';
import { influxV1Client, vmClient } from '../../testing/helpers/servers.ts';
import { countByMeasurement, readStore, runCaptured, tempHome } from '../../testing/helpers/run-agent.ts';

const NOW = Date.parse('2025-11-20T15:42:00Z') / 1000;
const FIELD: Record<string, string> = { power: 'power_usage', temperature: 'temperature', humidity: 'humidity', ups: 'power_w' };

/** Counts per `bucket/measurement` in a file store. */
async function fileCounts(dataDir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [bucket, text] of await readStore(dataDir)) {
    for (const [measurement, n] of countByMeasurement(text)) out[`${bucket}/${measurement}`] = n;
  }
  return out;
}

describe('demo into real databases', () => {
  it('InfluxDB 1.x (INFLUX_API=v1): counts per bucket equal the file store, a second run changes none', async () => {
    const v1 = influxV1Client(inject('influxV1Url'));
    const home = await tempHome('v1');
    expect((await runCaptured(demo, [], home.env, { now: NOW })).code).toBe(0);
    const expected = await fileCounts(join(home.dir, 'data'));

    const env = { ...home.env, INFLUX_URL: v1.url, INFLUX_API: 'v1', INFLUX_BUCKET_PREFIX: 'demo1' };
    const count = async (): Promise<Record<string, number>> => {
      const out: Record<string, number> = {};
      for (const key of Object.keys(expected)) {
        const [bucket, measurement] = key.split('/') as [string, string];
        const db = bucket.replace(/^home/, 'demo1');
        out[key] = await v1.countField(db, measurement, FIELD[measurement]!);
      }
      return out;
    };
    const first = await runCaptured(demo, [], env, { now: NOW });
    expect(first.code, first.all).toBe(0);
    expect(await count()).toEqual(expected);
    expect((await runCaptured(demo, [], env, { now: NOW })).code).toBe(0);
    expect(await count()).toEqual(expected);
    // The databases did not exist: the writer created them, as Telegraf does.
    const dbs = await v1.query('', 'SHOW DATABASES');
    expect(dbs[0]!.series![0]!.values.flat()).toEqual(expect.arrayContaining(['demo1-minute', 'demo1-hour', 'demo1-day', 'demo1-week']));
  });

  it('VictoriaMetrics (v2 API, INFLUX_BUCKET_LABEL): counts per bucket equal the file store, a second run changes none', async () => {
    const vm = vmClient(inject('vmUrl'));
    const home = await tempHome('vm');
    const args = ['--since', '2025-11-03', '--until', '2025-11-17'];
    expect((await runCaptured(demo, args, home.env, { now: NOW })).code).toBe(0);
    const expected = await fileCounts(join(home.dir, 'data'));

    const env = { ...home.env, INFLUX_URL: vm.url, INFLUX_TOKEN: 'unused-by-vm', INFLUX_ORG: 'home', INFLUX_BUCKET_PREFIX: 'vmdemo', INFLUX_BUCKET_LABEL: 'bucket' };
    // VictoriaMetrics keeps a duplicate sample unless deduplication is on, so count distinct
    // timestamps per series: what InfluxDB's overwrite semantics promise.
    const count = async (): Promise<{ distinct: Record<string, number>; samples: number }> => {
      const distinct: Record<string, number> = {};
      let samples = 0;
      for (const series of await vm.exportSeries('{bucket=~"vmdemo-.*"}')) {
        const measurement = Object.keys(FIELD).find((m) => series.metric.__name__ === `${m}_${FIELD[m]}`);
        samples += series.values.length;
        if (!measurement) continue;
        const key = `${series.metric.bucket!.replace(/^vmdemo/, 'home')}/${measurement}`;
        distinct[key] = (distinct[key] ?? 0) + new Set(series.timestamps).size;
      }
      return { distinct, samples };
    };
    const first = await runCaptured(demo, args, env, { now: NOW });
    expect(first.code, first.all).toBe(0);
    const afterFirst = await count();
    expect(afterFirst.distinct).toEqual(expected);
    expect((await runCaptured(demo, args, env, { now: NOW })).code).toBe(0);
    expect((await count()).distinct).toEqual(expected);
  });
});
