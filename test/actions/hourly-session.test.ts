/**
 * hourly.yml carries the Exelon group's kept sign-in from run to run: `--login` made it once and
 * it was committed as ciphertext (.homeflux/opower-session.sealed); each run restores the newest
 * from the Actions cache (the fake cache service), seeds from the committed file when there is
 * none, refreshes it while collecting and saves it anew. The fake identity provider honours each
 * refresh token once, so a run that picked up an older session than the newest would fail.
 */
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { UTILITIES } from '../../src/agents/opower/utilities.ts';
import { unseal } from '../../src/state-crypto.ts';
import { startExelonSite, type ExelonSite } from '../../testing/fakes/exelon-site.ts';
import { fakeActions, startFakeGitHub, type FakeGitHub } from '../../testing/fakes/github-api.ts';
import { startOpowerPortal, type OpowerPortal } from '../../testing/fakes/opower-portal.ts';
import { typeAtLogin } from '../../testing/fakes/signin-families.ts';
import { influxV1Client } from '../../testing/helpers/servers.ts';
import { type Job, runJob, workflowJob } from '../../testing/helpers/workflow.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const T0 = Date.parse('2026-04-01T16:17:00Z') / 1000;
const KEY = 'sntl-actions-state-key-0123456789';
const USER = 'ratepayer@example.com';
const PASSWORD = 'sntl-actions-exelon-pw';

describe('hourly.yml: the kept Opower session across runs', () => {
  let job: Job;
  let cwd: string;
  let github: FakeGitHub;
  let portal: OpowerPortal;
  let site: ExelonSite;
  const influx = influxV1Client(inject('influxV1Url'));
  const prefix = `sessionsim_${process.pid}`;

  beforeAll(async () => {
    job = await workflowJob(join(ROOT, '.github/workflows/hourly.yml'), 'collect');
    cwd = await mkdtemp(join(tmpdir(), 'homeflux-sessionsim-'));
    for (const entry of ['scripts', 'src', 'node_modules', 'package.json', 'tsconfig.json']) await symlink(join(ROOT, entry), join(cwd, entry));
    github = await startFakeGitHub({ root: join(cwd, '.cache-service') });
    portal = await startOpowerPortal({ code: 'bgec', timezone: 'America/New_York', now: T0, meteredUntil: T0 });
    const bge = UTILITIES.bge!;
    site = await startExelonSite({ portal, username: USER, password: PASSWORD, tenantName: 'euazurebge', clientId: bge.signin!.clientId!, mobileId: bge.signin!.mobileId!, mfa: 'email-only', singleUseRefresh: true });
  });
  afterAll(async () => {
    await Promise.all([github?.stop(), portal?.stop(), site?.stop()]);
    if (cwd) await rm(cwd, { recursive: true, force: true });
    for (const t of ['minute', 'hour', 'day', 'week', 'bill']) await influx.exec(`DROP DATABASE "${prefix}-${t}"`).catch(() => undefined);
  });

  async function hourlyRun(n: number): Promise<{ failed: boolean; log: string }> {
    // A fresh runner: only the checkout (with the committed seed) is there.
    await rm(join(cwd, 'session'), { recursive: true, force: true });
    await rm(join(cwd, 'spool'), { recursive: true, force: true });
    const context = {
      'secrets.INFLUX_URL': influx.url,
      'vars.INFLUX_API': 'v1',
      'vars.INFLUX_BUCKET_PREFIX': prefix,
      'vars.HOMEFLUX_TIMEZONE': 'America/New_York',
      'vars.OPOWER_UTILITY': 'bge',
      'secrets.OPOWER_USERNAME': USER,
      'secrets.OPOWER_PASSWORD': PASSWORD,
      'secrets.HOMEFLUX_STATE_KEY': KEY,
      'github.token': 'ghs_faketoken',
      'github.run_id': String(2000 + n),
      'github.run_attempt': '1',
      'github.event.repository.default_branch': 'main',
    };
    const extraEnv = { GITHUB_API_URL: github.url, GITHUB_REPOSITORY: github.repository, GITHUB_REF: 'refs/heads/main', GITHUB_ACTIONS: 'true', HOMEFLUX_NOW: String(T0 + n * 3600), HOMEFLUX_RETRY_SECONDS: '0', OPOWER_BASE_URL: portal.url, OPOWER_LOGIN_BASE_URL: site.url };
    return runJob(job, { context, cwd, extraEnv, actions: fakeActions(github, () => 'refs/heads/main'), done: ['Install'] });
  }

  it('seeds from the committed file once, then carries each refreshed session in the cache', async () => {
    // `--login` at the user's terminal, into the file they commit.
    await mkdir(join(cwd, '.homeflux'), { recursive: true });
    const seedFile = join(cwd, '.homeflux', 'opower-session.sealed');
    expect(await typeAtLogin(site, { OPOWER_UTILITY: 'bge', OPOWER_USERNAME: USER, OPOWER_PASSWORD: PASSWORD, OPOWER_BASE_URL: portal.url, OPOWER_LOGIN_BASE_URL: site.url, HOMEFLUX_STATE_KEY: KEY, OPOWER_SESSION_FILE: seedFile, HOMEFLUX_DATA_DIR: join(cwd, 'data') })).toBe(0);
    const seed = await readFile(seedFile, 'utf8');
    const tokens: string[] = [(unseal(seed, KEY, 'seed') as { refreshToken: string }).refreshToken];
    for (let n = 1; n <= 3; n++) {
      site.steps.length = 0;
      const run = await hourlyRun(n);
      expect(run.failed, run.log).toBe(false);
      // No password, no code: the kept session alone, refreshed once.
      expect(site.steps).toEqual(['refresh', 'Opower token']);
      const entries = github.entries.filter((e) => e.key.startsWith('homeflux-opower-session-'));
      expect(entries).toHaveLength(n);
      const newest = [...entries].sort((a, b) => b.created - a.created)[0]!;
      expect(newest.key).toMatch(new RegExp(`^homeflux-opower-session-[0-9a-f]{64}-${2000 + n}-1$`));
      const carried = await readFile(join(newest.dir, 'opower-session.sealed'), 'utf8');
      const token = (unseal(carried, KEY, 'cache') as { refreshToken: string }).refreshToken;
      expect(tokens).not.toContain(token);
      tokens.push(token);
      // `::add-mask::` lines carry a value to the runner, which hides it and never shows the line.
      const shown = run.log.split('\n').filter((line) => !line.startsWith('::add-mask::')).join('\n');
      for (const secret of [KEY, PASSWORD, ...site.issued]) expect(shown + carried).not.toContain(secret);
    }
    // The committed seed is never rewritten by a run.
    expect(await readFile(seedFile, 'utf8')).toBe(seed);
  });
});
