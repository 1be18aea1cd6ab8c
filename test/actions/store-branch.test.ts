/**
 * hourly.yml's `store` job (no database: the file store kept on a branch), run here step by step
 * for 48 simulated hours against the fake Open-Meteo, with a local bare repository as the
 * GitHub remote and the fake GitHub API for the repository's visibility:
 *
 * - the branch ends up holding the same points as a file store written in one go (a backfill of
 *   the whole range with the clock at the last hour);
 * - every commit touches only month files whose points changed;
 * - `replay --store` from a clone of the branch fills the real InfluxDB 1.x with every point;
 * - a public repository is refused with a notice saying why, and nothing is pushed;
 * - a push that loses a race is merged onto the new tip, losing neither side's points.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readBucketFile, storedBuckets } from '../../src/database/file-store.ts';
import { startFakeGitHub, type FakeGitHub } from '../../testing/fakes/github-api.ts';
import { startOpenMeteo, type FakeOpenMeteo } from '../../testing/fakes/open-meteo.ts';
import { influxV1Client } from '../../testing/helpers/servers.ts';
import { type ActionHandler, type Job, runJob, workflowJob } from '../../testing/helpers/workflow.ts';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HOUR = 3600;
// 48 runs from the last day of October into November: the month boundary is crossed.
const T0 = Date.parse('2026-10-30T23:17:00Z') / 1000;
const RUNS = 48;
const BRANCH = 'homeflux-data';

const git = async (cwd: string, ...args: string[]): Promise<string> => (await exec('git', args, { cwd, maxBuffer: 64 << 20 })).stdout;

/** Every point of a file store, bucket by bucket: `bucket line`. */
async function storePoints(dataDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const bucket of await storedBuckets(dataDir)) for (const line of await readBucketFile(dataDir, bucket)) out.push(`${bucket} ${line}`);
  return out.sort();
}

describe('hourly.yml store job: the file store on a branch', () => {
  let job: Job;
  let cwd: string;
  let origin: string;
  let github: FakeGitHub;
  let meteo: FakeOpenMeteo;
  let clock = T0;
  const influx = influxV1Client(inject('influxV1Url'));
  const prefix = `storebranch_${process.pid}`;

  beforeAll(async () => {
    job = await workflowJob(join(ROOT, '.github/workflows/hourly.yml'), 'store');
    cwd = await mkdtemp(join(tmpdir(), 'homeflux-storebranch-'));
    for (const entry of ['scripts', 'src', 'node_modules', 'package.json', 'tsconfig.json', 'dashboards']) await symlink(join(ROOT, entry), join(cwd, entry));
    origin = join(cwd, '.origin.git');
    await exec('git', ['init', '--quiet', '--bare', origin]);
    github = await startFakeGitHub({ root: join(cwd, '.cache-service') });
    meteo = await startOpenMeteo({ now: () => clock });
  });
  afterAll(async () => {
    await Promise.all([github?.stop(), meteo?.stop()]);
    if (cwd) await rm(cwd, { recursive: true, force: true });
    for (const t of ['minute', 'hour', 'day', 'week', 'bill']) await influx.exec(`DROP DATABASE "${prefix}-${t}"`).catch(() => undefined);
  });

  const uploads: string[] = [];
  const actions: Record<string, ActionHandler> = {
    'actions/checkout': async () => ({}),
    'actions/setup-node': async () => ({}),
    'actions/upload-artifact': async (_step, inputs) => {
      uploads.push(inputs.name!);
      return {};
    },
  };

  const context = { 'vars.INFLUX_BUCKET_PREFIX': prefix, 'vars.HOMEFLUX_STORE_BRANCH': BRANCH, 'vars.HOMEFLUX_TIMEZONE': 'America/Los_Angeles', 'vars.WEATHER_LATITUDE': '34.14', 'vars.WEATHER_LONGITUDE': '-118.25', 'github.token': 'ghs_faketoken' };
  const env = (): Record<string, string> => ({
    GITHUB_API_URL: github.url,
    GITHUB_REPOSITORY: github.repository,
    HOMEFLUX_STORE_REMOTE: origin,
    HOMEFLUX_NOW: String(clock),
    WEATHER_BASE_URL: meteo.url,
    WEATHER_ARCHIVE_BASE_URL: meteo.url,
  });

  it('48 hourly runs leave a branch equal to a store written in one go, each commit touching only changed months', async () => {
    for (let n = 0; n < RUNS; n++) {
      clock = T0 + n * HOUR;
      const result = await runJob(job, { context, cwd, extraEnv: env(), actions, done: ['Install'] });
      expect(result.failed, `run ${n}\n${result.log}`).toBe(false);
    }
    // The local 06:00 run of each day uploaded the report: two days.
    expect(uploads.filter((u) => u.startsWith('homeflux-report-'))).toHaveLength(2);

    const clone = join(cwd, '.clone');
    await exec('git', ['clone', '--quiet', '--branch', BRANCH, origin, clone]);
    const commits = (await git(clone, 'rev-list', '--reverse', 'HEAD')).trim().split('\n');
    expect(commits.length).toBe(RUNS);

    // Every file a commit touches is a month whose points changed in that commit.
    const monthPoints = async (rev: string, month: string): Promise<string[]> => {
      const files = (await git(clone, 'ls-tree', '-r', '--name-only', rev).catch(() => '')).split('\n').filter((f) => f.startsWith(`${month}.lp`) || f.startsWith(`${month}+`));
      const lines: string[] = [];
      for (const f of files) lines.push(...(await git(clone, 'show', `${rev}:${f}`)).split('\n').filter(Boolean));
      return [...new Set(lines)].sort();
    };
    for (const [i, commit] of commits.entries()) {
      if (i === 0) continue;
      const touched = (await git(clone, 'diff', '--name-only', `${commits[i - 1]}`, commit)).trim().split('\n').filter(Boolean);
      expect(touched.length, `commit ${i}`).toBeGreaterThan(0);
      for (const file of touched) {
        expect(file, `commit ${i}`).toMatch(/^data\/[^/]+\/\d{4}-\d{2}(\+\d+)?\.lp$/);
        const month = file.replace(/(\+\d+)?\.lp$/, '');
        expect(await monthPoints(commit, month), `commit ${i} ${file}`).not.toEqual(await monthPoints(commits[i - 1]!, month));
      }
    }
    // Months of both October and November are there.
    const files = (await git(clone, 'ls-tree', '-r', '--name-only', 'HEAD')).split('\n');
    expect(files.some((f) => f.startsWith(`data/${prefix}-hour/2026-10`)) && files.some((f) => f.startsWith(`data/${prefix}-hour/2026-11`))).toBe(true);

    // The same points as one backfill of the whole range with the clock at the last hour.
    const branchPoints = await storePoints(join(clone, 'data'));
    const firstHour = Math.min(...branchPoints.filter((l) => l.startsWith(`${prefix}-hour `)).map((l) => Number(l.slice(l.lastIndexOf(' ') + 1))));
    const oneGo = join(cwd, '.one-go');
    await exec(process.execPath, ['--import', 'tsx', 'scripts/backfill.ts', 'weather', '--since', new Date(firstHour * 1000).toISOString(), '--until', new Date(clock * 1000).toISOString()], {
      cwd,
      env: { ...process.env, ...env(), HOMEFLUX_DATA_DIR: join(oneGo, 'data'), HOMEFLUX_SPOOL_DIR: join(oneGo, 'spool'), HOMEFLUX_TIMEZONE: 'America/Los_Angeles', WEATHER_LATITUDE: '34.14', WEATHER_LONGITUDE: '-118.25', INFLUX_URL: '', INFLUX_BUCKET_PREFIX: prefix },
    });
    const onceHour = (await storePoints(join(oneGo, 'data'))).filter((l) => l.startsWith(`${prefix}-hour `));
    expect(branchPoints.filter((l) => l.startsWith(`${prefix}-hour `))).toEqual(onceHour.filter((l) => Number(l.slice(l.lastIndexOf(' ') + 1)) >= firstHour));
    // Days and weeks the branch holds are the one-go store's (the one-go store, widened to whole weeks, may hold more).
    const once = new Set(await storePoints(join(oneGo, 'data')));
    for (const line of branchPoints.filter((l) => !l.startsWith(`${prefix}-hour `))) expect(once.has(line), line).toBe(true);

    // replay --store from the clone into InfluxDB 1.x: every point arrives.
    const replay = await exec(process.execPath, ['--import', 'tsx', 'scripts/replay.ts', '--store'], {
      cwd,
      env: { ...process.env, HOMEFLUX_DATA_DIR: join(clone, 'data'), HOMEFLUX_SPOOL_DIR: join(cwd, '.replay-spool'), INFLUX_URL: influx.url, INFLUX_API: 'v1' },
    });
    expect(replay.stdout + replay.stderr).not.toMatch(/error/i);
    for (const [bucket, measurement] of [['hour', 'temperature'], ['hour', 'humidity'], ['day', 'temperature'], ['week', 'temperature']] as const) {
      const expected = branchPoints.filter((l) => l.startsWith(`${prefix}-${bucket} ${measurement},`)).length;
      expect(expected, `${bucket} ${measurement}`).toBeGreaterThan(0);
      expect(await influx.countPoints(`${prefix}-${bucket}`, measurement), `${bucket} ${measurement}`).toBe(expected);
    }
  }, 400_000);

  it('a push that loses a race is merged onto the new tip: neither side loses a point', async () => {
    // Someone else pushes a point into the current month between our pull and our push.
    clock = T0 + RUNS * HOUR;
    const other = join(cwd, '.other');
    await exec('git', ['clone', '--quiet', '--branch', BRANCH, origin, other]);
    const month = new Date(clock * 1000).toISOString().slice(0, 7);
    const theirLine = `temperature,data_source=homeflux,location=elsewhere,source=homeflux.manual temperature=1 ${clock - 7 * 86400}`;
    const pullStep = job.steps.findIndex((s) => s.id === 'pull');
    // Run pull and collect, then let the other side push, then run the rest.
    const first: Job = { ...job, steps: job.steps.slice(0, pullStep + 2) };
    const rest: Job = { ...job, steps: job.steps.slice(pullStep + 2) };
    const a = await runJob(first, { context, cwd, extraEnv: env(), actions, done: ['Install'] });
    expect(a.failed, a.log).toBe(false);
    await writeFile(join(other, 'data', `${prefix}-hour`, `${month}+999999.lp`), `${theirLine}\n`);
    await git(other, 'add', '--all');
    await git(other, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'theirs');
    await git(other, 'push', '--quiet', 'origin', BRANCH);
    const b = await runJob({ ...rest, steps: [{ id: 'pull', run: 'true' }, ...rest.steps] }, { context, cwd, extraEnv: env(), actions, done: ['Install'] });
    expect(b.failed, b.log).toBe(false);
    expect(b.log).toMatch(/push 1 refused \(the branch moved\); merging onto the new tip/);
    const check = join(cwd, '.check');
    await exec('git', ['clone', '--quiet', '--branch', BRANCH, origin, check]);
    const hour = await readBucketFile(join(check, 'data'), `${prefix}-hour`);
    expect(hour).toContain(theirLine);
    // Ours too: the hour this run collected.
    expect(hour.some((l) => l.startsWith('temperature,') && l.endsWith(` ${Math.floor(clock / HOUR) * HOUR}`))).toBe(true);
  }, 120_000);

  it('refuses a public repository with a notice that says why, and pushes nothing', async () => {
    github.setPrivate(false);
    const before = await git(origin, 'rev-parse', `refs/heads/${BRANCH}`);
    clock = T0 + (RUNS + 1) * HOUR;
    const result = await runJob(job, { context, cwd, extraEnv: env(), actions, done: ['Install'] });
    expect(result.failed).toBe(true);
    expect(result.log).toMatch(/refusing to keep the data on branch homeflux-data: this repository is public, so anyone could read your meter readings/);
    expect(result.log).toMatch(/--- Collect \(skipped\)/);
    expect(await git(origin, 'rev-parse', `refs/heads/${BRANCH}`)).toBe(before);
    // Allowed on purpose: it runs.
    const allowed = await runJob(job, { context: { ...context, 'vars.HOMEFLUX_STORE_PUBLIC': 'true' }, cwd, extraEnv: env(), actions, done: ['Install'] });
    expect(allowed.failed, allowed.log).toBe(false);
    github.setPrivate(true);
  }, 120_000);
});
