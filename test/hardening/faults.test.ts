/**
 * Faults across the whole write path, against the real InfluxDB 1.x through the proxy:
 * the database dying mid-run, a process killed while writing or spooling, a server that
 * never answers, an unwritable spool. Every case ends with every point stored exactly once,
 * or with a clear error and a non-zero exit — never a silent drop.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { demo } from '../../src/agents/demo/index.ts';
import { Spool } from '../../src/database/spool.ts';
import { splitLine } from '../../src/lineprotocol.ts';
import { type FaultProxy, startFaultProxy } from '../../testing/helpers/fault-proxy.ts';
import { countByMeasurement, readStore, runCaptured, tempHome } from '../../testing/helpers/run-agent.ts';
import { influxV1Client } from '../../testing/helpers/servers.ts';

const NOW = Date.parse('2025-11-20T15:42:00Z') / 1000;
const v1 = influxV1Client(inject('influxV1Url'));
let proxy: FaultProxy;
beforeAll(async () => {
  proxy = await startFaultProxy(v1.url);
});
afterAll(async () => {
  await proxy.stop();
});

async function counts(prefix: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [bucket, measurement, field] of [
    ['minute', 'ups', 'power_w'],
    ['hour', 'power', 'power_usage'],
    ['hour', 'temperature', 'temperature'],
    ['day', 'power', 'power_usage'],
  ] as const) {
    out[`${bucket}/${measurement}`] = await v1.countField(`${prefix}-${bucket}`, measurement, field);
  }
  return out;
}

async function fileCounts(dataDir: string): Promise<Record<string, number>> {
  const files = await readStore(dataDir);
  const get = (bucket: string, m: string): number => countByMeasurement(files.get(`home-${bucket}`) ?? '').get(m) ?? 0;
  return { 'minute/ups': get('minute', 'ups'), 'hour/power': get('hour', 'power'), 'hour/temperature': get('hour', 'temperature'), 'day/power': get('day', 'power') };
}

const ARGS = ['--since', '2025-11-03', '--until', '2025-11-10'];

describe('database faults', () => {
  it('down from the middle of the run: the rest is spooled, the next run stores every point exactly once', async () => {
    const home = await tempHome('middle');
    await runCaptured(demo, ARGS, home.env, { now: NOW });
    const expected = await fileCounts(join(home.dir, 'data'));
    const env = { ...home.env, INFLUX_URL: proxy.url, INFLUX_API: 'v1', INFLUX_BUCKET_PREFIX: 'middle', HOMEFLUX_RETRY_SECONDS: '1' };
    // Let the first two writes through, then the database goes away.
    proxy.requests.length = 0;
    let down = false;
    const watcher = setInterval(() => {
      if (!down && proxy.requests.filter((r) => r.path.startsWith('/write?db=middle')).length >= 2) {
        proxy.plan({ kind: 'down' });
        down = true;
      }
    }, 1);
    const first = await runCaptured(demo, ARGS, env, { now: NOW });
    clearInterval(watcher);
    proxy.clear();
    expect(first.code).toBe(1);
    expect(first.all).toMatch(/spooled for the next run/);
    const partial = await counts('middle');
    expect(Object.values(partial).reduce((a, b) => a + b, 0)).toBeLessThan(Object.values(expected).reduce((a, b) => a + b, 0));

    const second = await runCaptured(demo, ARGS, env, { now: NOW });
    expect(second.code, second.all).toBe(0);
    expect(await counts('middle')).toEqual(expected);
    expect(await new Spool(join(home.dir, 'spool')).files()).toEqual([]);
  });

  it('a server that accepts and never answers is bounded by the request timeout and reported', async () => {
    const home = await tempHome('hang');
    proxy.plan({ kind: 'hang', times: 100 });
    const started = Date.now();
    const run = await runCaptured(demo, ['--since', '2025-11-03', '--until', '2025-11-04'], { ...home.env, INFLUX_URL: proxy.url, INFLUX_API: 'v1', HOMEFLUX_HTTP_TIMEOUT: '1', HOMEFLUX_RETRY_SECONDS: '2' }, { now: NOW });
    proxy.clear();
    expect(run.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(run.all).toMatch(/is unavailable \(Request timed out\)/);
    expect(run.all).toMatch(/spooled for the next run/);
  });

  it('an unwritable spool is a clear error and exit 1, not a silent drop', async () => {
    const home = await tempHome('nospool');
    const blocker = join(home.dir, 'a-file');
    await writeFile(blocker, 'not a directory');
    proxy.plan({ kind: 'down' });
    const run = await runCaptured(demo, ['--since', '2025-11-03', '--until', '2025-11-04'], { ...home.env, HOMEFLUX_SPOOL_DIR: join(blocker, 'spool'), INFLUX_URL: proxy.url, INFLUX_API: 'v1', HOMEFLUX_RETRY_SECONDS: '0' }, { now: NOW });
    proxy.clear();
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/writing to InfluxDB v1 API at .* failed: ENOTDIR/);
  });
});

describe('killed processes', () => {
  it('SIGKILL while spooling leaves only whole spool files; the next run replays them, nothing lost or doubled', async () => {
    const home = await tempHome('kill');
    const args = ['--since', '2025-10-06', '--until', '2025-11-10'];
    await runCaptured(demo, args, home.env, { now: NOW });
    const expected = await fileCounts(join(home.dir, 'data'));
    const env = { ...process.env, ...home.env, INFLUX_URL: proxy.url, INFLUX_API: 'v1', INFLUX_BUCKET_PREFIX: 'killed', HOMEFLUX_RETRY_SECONDS: '0' };
    proxy.plan({ kind: 'down' });
    const spool = new Spool(join(home.dir, 'spool'));
    // Kill it several times, at different moments of spooling: once the first bucket's file is
    // there, a moment later, and once a second bucket has spooled (each add merges a bucket's
    // spool into one new file and then removes the old ones, so a kill can fall in between).
    for (let attempt = 0; attempt < 3; attempt++) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', ...args], { env, stdio: 'ignore' });
      const deadline = Date.now() + 30_000;
      const buckets = async (): Promise<number> => new Set((await spool.files()).map((f) => f.bucket)).size;
      while ((await buckets()) < (attempt === 2 ? 2 : 1) && Date.now() < deadline) await delay(2);
      if (attempt === 1) await delay(15);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    proxy.clear();
    const files = await spool.files();
    expect(files.length).toBeGreaterThanOrEqual(1);
    for (const file of files) {
      for (const line of await spool.read(file)) expect(splitLine(line), `${file.path}: ${line}`).toBeDefined();
    }
    // The next run replays the spool, then writes its own collection: exact counts.
    const next = await runCaptured(demo, args, { ...home.env, INFLUX_URL: proxy.url, INFLUX_API: 'v1', INFLUX_BUCKET_PREFIX: 'killed' }, { now: NOW });
    expect(next.code, next.all).toBe(0);
    expect(next.all).toMatch(/replayed \d+ spooled line/);
    expect(await counts('killed')).toEqual(expected);
    expect(await spool.files()).toEqual([]);
  });

  it('SIGKILL while writing to the database: the next run stores every point exactly once', async () => {
    const home = await tempHome('killwrite');
    const args = ['--since', '2025-10-06', '--until', '2025-11-10'];
    await runCaptured(demo, args, home.env, { now: NOW });
    const expected = await fileCounts(join(home.dir, 'data'));
    const env = { ...process.env, ...home.env, INFLUX_URL: proxy.url, INFLUX_API: 'v1', INFLUX_BUCKET_PREFIX: 'killwrite' };
    proxy.requests.length = 0;
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', ...args], { env, stdio: 'ignore' });
    const deadline = Date.now() + 30_000;
    // Killed once its first batches are in: some points stored, most not.
    while (proxy.requests.filter((r) => r.path.startsWith('/write?db=killwrite') && r.status === 204).length < 3 && Date.now() < deadline) await delay(2);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const partial = await counts('killwrite');
    expect(Object.values(partial).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(partial).not.toEqual(expected);
    const next = await runCaptured(demo, args, { ...home.env, INFLUX_URL: proxy.url, INFLUX_API: 'v1', INFLUX_BUCKET_PREFIX: 'killwrite' }, { now: NOW });
    expect(next.code, next.all).toBe(0);
    expect(await counts('killwrite')).toEqual(expected);
  });
});
