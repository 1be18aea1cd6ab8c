/**
 * hourly.yml's `collect` job run here step by step, 33 simulated hours in a row, with the
 * Actions cache as directories and the GitHub API as a local fake (testing/fakes/github-api.ts):
 *
 * - runs 1–30: the database is down — every run fails, spools its whole lookback again, saves a
 *   new cache entry and deletes the one it superseded; the spool never holds a point twice;
 * - run 31: the database is back but the cache service loses the restore — an error
 *   annotation, the job fails, and the entry is neither replaced nor deleted;
 * - run 32: a dispatch from another branch — no restore, no save, the entry untouched;
 * - run 33: on main again — the entry is restored and replayed, the spool is empty, and every
 *   spool entry is gone.
 *
 * At the end InfluxDB holds one temperature point per hour from the first run's window to the
 * last run's hour, each the fake's value for that hour (its own formula, rounded as the real API
 * rounds), and no hour twice.
 */
import { mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fakeTemperatureC, startOpenMeteo, type FakeOpenMeteo } from '../../testing/fakes/open-meteo.ts';
import { fakeActions, startFakeGitHub, type FakeGitHub } from '../../testing/fakes/github-api.ts';
import { freePort } from '../../testing/helpers/ports.ts';
import { influxV1Client } from '../../testing/helpers/servers.ts';
import { type Job, runJob, workflowJob } from '../../testing/helpers/workflow.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HOUR = 3600;
const T0 = Date.parse('2026-10-05T10:17:00Z') / 1000;
const LAT = 34.14;
const LON = -118.25;

describe('hourly.yml collect job: the spool across 33 runs', () => {
  let job: Job;
  let cwd: string;
  let github: FakeGitHub;
  let meteo: FakeOpenMeteo;
  let clock = T0;
  const influx = influxV1Client(inject('influxV1Url'));
  const prefix = `spoolsim_${process.pid}`;
  let downUrl: string;

  beforeAll(async () => {
    job = await workflowJob(join(ROOT, '.github/workflows/hourly.yml'), 'collect');
    cwd = await mkdtemp(join(tmpdir(), 'homeflux-spoolsim-'));
    for (const entry of ['scripts', 'src', 'node_modules', 'package.json', 'tsconfig.json']) await symlink(join(ROOT, entry), join(cwd, entry));
    github = await startFakeGitHub({ root: join(cwd, '.cache-service') });
    meteo = await startOpenMeteo({ now: () => clock });
    downUrl = `http://127.0.0.1:${await freePort()}`; // nothing listens there: the database is down
  });
  afterAll(async () => {
    await Promise.all([github?.stop(), meteo?.stop()]);
    if (cwd) await rm(cwd, { recursive: true, force: true });
    for (const t of ['minute', 'hour', 'day', 'week', 'bill']) await influx.exec(`DROP DATABASE "${prefix}-${t}"`).catch(() => undefined);
  });

  let ref = 'refs/heads/main';

  /** One hourly run: a fresh runner (empty spool), the clock at T0 + n hours. */
  async function hourlyRun(n: number, options: { databaseUp: boolean; branch?: string }): Promise<{ failed: boolean; log: string }> {
    clock = T0 + n * HOUR;
    ref = `refs/heads/${options.branch ?? 'main'}`;
    await rm(join(cwd, 'spool'), { recursive: true, force: true });
    const context = {
      'secrets.INFLUX_URL': options.databaseUp ? influx.url : downUrl,
      'vars.INFLUX_API': 'v1',
      'vars.INFLUX_BUCKET_PREFIX': prefix,
      'vars.HOMEFLUX_TIMEZONE': 'UTC',
      'vars.WEATHER_LATITUDE': String(LAT),
      'vars.WEATHER_LONGITUDE': String(LON),
      'github.token': 'ghs_faketoken',
      'github.run_id': String(1000 + n),
      'github.run_attempt': '1',
      'github.event.repository.default_branch': 'main',
    };
    const extraEnv = {
      GITHUB_API_URL: github.url,
      GITHUB_REPOSITORY: github.repository,
      GITHUB_REF: ref,
      GITHUB_ACTIONS: 'true',
      HOMEFLUX_NOW: String(clock),
      HOMEFLUX_RETRY_SECONDS: '0',
      WEATHER_BASE_URL: meteo.url,
      WEATHER_ARCHIVE_BASE_URL: meteo.url,
    };
    // The install is tested on its own (workflows.test.ts); the workspace links node_modules.
    return runJob(job, { context, cwd, extraEnv, actions: fakeActions(github, () => ref), done: ['Install'] });
  }

  /** Every line of the newest spool entry, prefixed with its bucket (the folder). */
  async function newestEntryLines(): Promise<string[]> {
    const newest = [...github.entries].sort((a, b) => b.created - a.created)[0];
    if (!newest) return [];
    const lines: string[] = [];
    for (const f of await readdir(newest.dir, { recursive: true })) {
      if (f.endsWith('.lp') && !f.startsWith('rejected')) lines.push(...(await readFile(join(newest.dir, f), 'utf8')).split('\n').filter(Boolean).map((l) => `${f.split('/')[0]}/${l}`));
    }
    return lines;
  }

  it('loses nothing and doubles nothing through an outage, a lost restore and a dispatch from a branch', async () => {
    let lastSpoolSize = 0;
    for (let n = 1; n <= 30; n++) {
      const result = await hourlyRun(n, { databaseUp: false });
      expect(result.failed, `run ${n}\n${result.log}`).toBe(true);
      expect(github.entries.map((e) => e.key), `run ${n}\n${result.log}`).toEqual([`homeflux-spool-${1000 + n}-1`]);
      const lines = await newestEntryLines();
      const keys = lines.map((l) => `${l.slice(0, l.indexOf(' '))} ${l.slice(l.lastIndexOf(' ') + 1)}`);
      expect(new Set(keys).size, `run ${n}: a point twice in the spool`).toBe(keys.length);
      // Each run adds the new hour's points to what was spooled; nothing is dropped.
      expect(lines.length, `run ${n}`).toBeGreaterThanOrEqual(lastSpoolSize);
      lastSpoolSize = lines.length;
    }
    expect(await influx.countPoints(`${prefix}-hour`, 'temperature').catch(() => 0)).toBe(0);

    // Run 31: the database is back, but the restore comes back empty although the entry exists.
    github.failNextRestore();
    const lost = await hourlyRun(31, { databaseUp: true });
    expect(lost.failed).toBe(true);
    expect(lost.log).toMatch(/::error title=spool not restored::the spool cache entry homeflux-spool-1030-1 exists but was not restored/);
    expect(github.entries.map((e) => e.key)).toEqual(['homeflux-spool-1030-1']);

    // Run 32: a dispatch from another branch neither restores nor saves nor prunes.
    const requestsBefore = github.requests.length;
    const branch = await hourlyRun(32, { databaseUp: true, branch: 'feature' });
    expect(branch.failed, branch.log).toBe(false);
    expect(branch.log).toMatch(/::notice title=spool not carried::this run is on refs\/heads\/feature/);
    expect(branch.log).toMatch(/--- actions\/cache\/restore@v5 \(skipped\)/);
    expect(github.requests.slice(requestsBefore).filter((r) => r.includes('/actions/caches'))).toEqual([]);
    expect(github.entries.map((e) => e.key)).toEqual(['homeflux-spool-1030-1']);

    // Run 33: restored, replayed, nothing left to carry: no entry remains.
    const back = await hourlyRun(33, { databaseUp: true });
    expect(back.failed, back.log).toBe(false);
    expect(back.log).toMatch(/spool: restored homeflux-spool-1030-1/);
    expect(back.log).toMatch(/--- actions\/cache\/save@v5 \(skipped\)/);
    expect(github.entries).toEqual([]);

    // The database: one point per hour, each the fake's value, from the first window to the last hour.
    const rows = await influx.query(`${prefix}-hour`, `SELECT "temperature" FROM "temperature" GROUP BY *`);
    const series = rows[0]?.series ?? [];
    expect(series).toHaveLength(1);
    const times = series[0]!.values.map((v) => Number(v[0])); // epoch=s
    const values = series[0]!.values.map((v) => Number(v[1]));
    expect(new Set(times).size).toBe(times.length);
    const first = times[0]!;
    const last = times[times.length - 1]!;
    // The first run looked back at least two days; the last hour is the last run's hour.
    expect(first).toBeLessThanOrEqual(T0 + HOUR - 2 * 86400);
    expect(last).toBe(Math.floor((T0 + 33 * HOUR) / HOUR) * HOUR);
    expect(times.length, 'a gap').toBe((last - first) / HOUR + 1);
    times.forEach((t, i) => expect(values[i], new Date(t * 1000).toISOString()).toBeCloseTo(Math.round((fakeTemperatureC(t, LAT, LON) * 1.8 + 32) * 10) / 10, 6));
  }, 300_000);
});
