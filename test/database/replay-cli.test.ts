/**
 * scripts/replay.ts as a user runs it: the file store of a demo run sent to the real
 * InfluxDB 1.x; without INFLUX_URL it refuses with exit 2.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { demo } from '../../src/agents/demo/index.ts';
import { influxV1Client } from '../../testing/helpers/servers.ts';
import { countByMeasurement, readStore, runCaptured, tempHome } from '../../testing/helpers/run-agent.ts';

const NOW = Date.parse('2025-11-20T15:42:00Z') / 1000;
const replay = (env: Record<string, string>, args: string[]): ReturnType<typeof spawnSync> =>
  spawnSync(process.execPath, ['--import', 'tsx', 'scripts/replay.ts', ...args], { cwd: join(import.meta.dirname, '..', '..'), env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });

describe('scripts/replay.ts', () => {
  it('--store sends the whole file store; running it again changes no count', async () => {
    const v1 = influxV1Client(inject('influxV1Url'));
    const home = await tempHome('replaycli');
    // The file store's files are the buckets: collect under the prefix the database will use.
    await runCaptured(demo, ['--since', '2025-11-10', '--until', '2025-11-12'], { ...home.env, INFLUX_BUCKET_PREFIX: 'replaycli' }, { now: NOW });
    const hourPower = countByMeasurement((await readStore(join(home.dir, 'data'))).get('replaycli-hour')!).get('power');
    const env = { ...home.env, INFLUX_URL: v1.url, INFLUX_API: 'v1' };
    for (let i = 0; i < 2; i++) {
      const run = replay(env, ['--store']);
      expect(run.status, String(run.stderr)).toBe(0);
      expect(String(run.stdout)).toMatch(/replay: replaycli-hour: \d+ line\(s\) written/);
      expect(await v1.countField('replaycli-hour', 'power', 'power_usage')).toBe(hourPower);
    }
  });

  it('refuses to run without INFLUX_URL (exit 2)', async () => {
    const home = await tempHome('replaycli');
    const run = replay({ ...home.env, INFLUX_URL: '' }, []);
    expect(run.status).toBe(2);
    expect(String(run.stderr)).toMatch(/INFLUX_URL is not set/);
  });
});
