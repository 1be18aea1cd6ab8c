/**
 * bench/hourly-job: the hourly job as the runner does it, part by part — the install as
 * hourly.yml runs it (`npm ci --omit=dev --ignore-scripts`, from a warm npm cache as setup-node
 * restores it) into a fresh directory, then hourly.yml's collect command (`node --import tsx
 * scripts/hourly.ts`) with opower, weather and scrape against the local fakes: once with the
 * real InfluxDB 1.x up, once with the database down (nothing listening; the run spends its retry
 * budget, HOMEFLUX_RETRY_SECONDS = 60 by default, then spools). Wall time of each part.
 *
 * Targets: the run itself ≤ 15 s normally and ≤ 75 s with the database down, so that a normal
 * hourly job is one billed minute with the install.
 *
 * `npx tsx bench/hourly-job.ts`
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOpenMeteo } from '../testing/fakes/open-meteo.ts';
import { startOpowerPortal } from '../testing/fakes/opower-portal.ts';
import { startScrapeDevices } from '../testing/fakes/scrape-devices.ts';
import { freePort } from '../testing/helpers/ports.ts';
import { startInfluxV1 } from '../testing/helpers/servers.ts';
import type { BenchRow } from './table.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function timed(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ seconds: number; code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ seconds: (performance.now() - start) / 1000, code: code ?? -1, output }));
  });
}

/** Run the benchmark; returns its rows. */
export async function run(): Promise<BenchRow[]> {
  const work = await mkdtemp(join(tmpdir(), 'homeflux-bench-job-'));
  const influx = await startInfluxV1();
  const [meteo, portal, devices] = await Promise.all([startOpenMeteo(), startOpowerPortal({ username: 'bench@example.com', password: 'bench-password' }), startScrapeDevices()]);
  try {
    const install = async (dir: string): Promise<number> => {
      for (const f of ['package.json', 'package-lock.json']) await writeFile(join(dir, f), await readFile(join(ROOT, f)));
      const result = await timed('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, env: process.env });
      if (result.code !== 0) throw new Error(`npm ci failed:\n${result.output.slice(-2000)}`);
      return result.seconds;
    };
    // The first install warms the npm cache (setup-node restores ~/.npm on the runner); the
    // second, into a fresh directory, is the one timed.
    await install(await mkdtemp(join(work, 'warm-')));
    const job = await mkdtemp(join(work, 'job-'));
    const installSeconds = await install(job);
    for (const entry of ['scripts', 'src']) await symlink(join(ROOT, entry), join(job, entry));
    await writeFile(
      join(job, 'scrape.yaml'),
      `pages:\n  - { name: plug, url: "${devices.url}/status", format: json, location: fridge_plug, values: [{ name: power, path: "meters[0].power", unit: W, measurement: plug, field: power_w }] }\n  - { name: tasmota, url: "${devices.url}/cm?cmnd=Status%208", format: json, location: desk_plug, values: [{ name: power, path: StatusSNS.ENERGY.Power, unit: W, measurement: plug, field: power_w }] }\n`,
    );
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      INFLUX_API: 'v1',
      HOMEFLUX_TIMEZONE: 'America/Los_Angeles',
      HOMEFLUX_SPOOL_DIR: join(job, 'spool'),
      OPOWER_UTILITY: 'gwp',
      OPOWER_USERNAME: 'bench@example.com',
      OPOWER_PASSWORD: 'bench-password',
      OPOWER_BASE_URL: portal.url,
      WEATHER_LATITUDE: '34.14',
      WEATHER_LONGITUDE: '-118.25',
      WEATHER_BASE_URL: meteo.url,
      WEATHER_ARCHIVE_BASE_URL: meteo.url,
      SCRAPE_CONFIG: join(job, 'scrape.yaml'),
    };
    const collect = (url: string): ReturnType<typeof timed> => timed(process.execPath, ['--import', 'tsx', 'scripts/hourly.ts'], { cwd: job, env: { ...env, INFLUX_URL: url } });
    await collect(influx.url); // the first run of a runner also compiles nothing twice: warm as the second hour is
    const normal = await collect(influx.url);
    if (normal.code !== 0) throw new Error(`hourly.ts exited ${normal.code}:\n${normal.output.slice(-2000)}`);
    const down = await collect(`http://127.0.0.1:${await freePort()}`);
    if (down.code !== 1) throw new Error(`hourly.ts with the database down exited ${down.code}, expected 1:\n${down.output.slice(-2000)}`);
    return [
      { name: 'hourly job: npm ci --omit=dev --ignore-scripts (warm cache)', value: `${installSeconds.toFixed(1)} s` },
      { name: 'hourly job: scripts/hourly.ts (opower, weather, scrape)', value: `${normal.seconds.toFixed(1)} s`, target: '≤ 15 s', ok: normal.seconds <= 15 },
      { name: 'hourly job: the same with the database down', value: `${down.seconds.toFixed(1)} s (retry budget, then spooled)`, target: '≤ 75 s', ok: down.seconds <= 75 },
    ];
  } finally {
    await Promise.all([meteo.stop(), portal.stop(), devices.stop(), influx.stop()]);
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { printRows } = await import('./table.ts');
  printRows(await run());
}
