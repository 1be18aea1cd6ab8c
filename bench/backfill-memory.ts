/**
 * bench/backfill-memory: peak memory of `scripts/backfill.ts opower` over one, three and six
 * years of hourly and daily reads (fake portal) into the real InfluxDB 1.x. The backfill writes
 * as it goes, so memory is bounded by the units in flight (--concurrency 2, about a year each
 * for Opower), not by the range. Left alone, V8 grows its heap lazily and peak RSS rises with
 * any long run; so each range also runs with the old-space heap capped at 96 MiB: a backfill
 * whose live memory grew with the range would die there, and the capped peaks must be flat.
 *
 *   npx tsx bench/backfill-memory.ts
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOpowerPortal } from '../testing/fakes/opower-portal.ts';
import { influxV1Client, startInfluxV1 } from '../testing/helpers/servers.ts';
import { type BenchRow, printRows } from './table.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Measured {
  peakMiB: number;
  seconds: number;
  points: number;
}

async function backfill(since: string, until: string, options: { env: NodeJS.ProcessEnv; prefix: string; influxUrl: string; heapMiB?: number }): Promise<Measured> {
  const { env, prefix, influxUrl } = options;
  const dir = await mkdtemp(join(tmpdir(), 'bench-backfill-'));
  const timeFile = join(dir, 'time.txt');
  try {
    const started = performance.now();
    const code = await new Promise<number | null>((resolve, reject) => {
      // GNU time reports the child's peak resident set size in KiB.
      const heap = options.heapMiB ? [`--max-old-space-size=${options.heapMiB}`] : [];
      const child = spawn('/usr/bin/time', ['-f', '%M', '-o', timeFile, process.execPath, ...heap, '--import', 'tsx', 'scripts/backfill.ts', 'opower', '--since', since, '--until', until, '--concurrency', '2'], {
        cwd: ROOT,
        env: { ...env, INFLUX_BUCKET_PREFIX: prefix, HOMEFLUX_SPOOL_DIR: join(dir, 'spool'), HOMEFLUX_DATA_DIR: join(dir, 'data') },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      child.on('error', reject);
      child.on('exit', resolve);
    });
    const seconds = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`backfill ${since}…${until} exited ${code}`);
    const peakMiB = Number((await readFile(timeFile, 'utf8')).trim().split('\n').pop()) / 1024;
    return { peakMiB, seconds, points: await influxV1Client(influxUrl).countField(`${prefix}-hour`, 'power', 'power_usage') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Run the benchmark; returns its rows. */
export async function run(): Promise<BenchRow[]> {
  const portal = await startOpowerPortal({});
  const influx = await startInfluxV1();
  try {
    const env = {
      ...process.env,
      OPOWER_UTILITY: 'gwp',
      OPOWER_USERNAME: 'homeowner@example.com',
      OPOWER_PASSWORD: 'correct-horse-battery',
      OPOWER_BASE_URL: portal.url,
      HOMEFLUX_TIMEZONE: 'America/Los_Angeles',
      INFLUX_URL: influx.url,
      INFLUX_API: 'v1',
    };
    const rows: BenchRow[] = [];
    const capped: Measured[] = [];
    for (const [years, since] of [[1, '2025-01-01'], [3, '2023-01-01'], [6, '2020-01-01']] as const) {
      const label = `${years} year${years > 1 ? 's' : ''}`;
      if (years === 3) {
        const free = await backfill(since, '2026-01-01', { env, prefix: 'free', influxUrl: influx.url });
        rows.push({ name: `backfill memory: opower ${label}, default heap`, value: `peak RSS ${free.peakMiB.toFixed(0)} MiB, ${free.points.toLocaleString('en-US')} hourly points, ${free.seconds.toFixed(1)} s` });
      }
      const m = await backfill(since, '2026-01-01', { env, prefix: `y${years}`, influxUrl: influx.url, heapMiB: 96 });
      capped.push(m);
      rows.push({ name: `backfill memory: opower ${label}, heap capped at 96 MiB`, value: `peak RSS ${m.peakMiB.toFixed(0)} MiB, ${m.points.toLocaleString('en-US')} hourly points, ${m.seconds.toFixed(1)} s` });
    }
    const [, three, six] = capped;
    rows[rows.length - 1] = { ...rows[rows.length - 1]!, target: 'flat: 6 years ≤ 1.15 × 3 years', ok: six!.peakMiB <= three!.peakMiB * 1.15 };
    return rows;
  } finally {
    await portal.stop();
    await influx.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) printRows(await run());
