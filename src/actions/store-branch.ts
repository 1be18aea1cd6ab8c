/**
 * The file store kept on a branch of the repository (`HOMEFLUX_STORE_BRANCH`), for people who
 * fork homeflux without an InfluxDB reachable from the internet. Each hourly run checks the
 * branch out into `store/` (`pull`), lets the agents write `store/data/` as a normal partitioned
 * file store, then commits what changed and pushes (`push`): the file store rewrites only the
 * month files a run touched and leaves identical re-runs alone, so a commit holds only the
 * months that changed. Later `replay --store` from a clone fills a real database.
 *
 * A push that loses a race (someone pushed in between) is retried on top of the new tip: the
 * run's changed month files are merged point by point with the tip's (database/points.ts, the
 * file store's own semantics), so neither side's points are lost.
 *
 * Readings of a home are private: in a public repository the branch is refused unless
 * `HOMEFLUX_STORE_PUBLIC=true` says the owner wants them public.
 */
import { execFile } from 'node:child_process';
import { appendFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { DateTime } from 'luxon';
import { booleanString, type Env } from '../config.ts';
import { ConfigError, messageOf } from '../errors.ts';
import type { Logger } from '../log.ts';
import { PointSet } from '../database/points.ts';
import { GitHubApi } from './github.ts';

const run = promisify(execFile);

/** Where the branch is checked out, relative to the workspace (`HOMEFLUX_DATA_DIR` is its data/). */
export const STORE_DIR = 'store';

/** What the steps need to know. */
export interface StoreSettings {
  branch: string;
  /** The remote to fetch from and push to (default: this repository on GitHub). */
  remote: string;
  /** The checkout directory. */
  dir: string;
  /** `GH_TOKEN`, sent as an HTTP header to GitHub (never put in a URL or on disk). */
  token?: string;
}

/** Read the settings from the step's environment. */
export function storeSettings(env: Env): StoreSettings {
  const branch = env.HOMEFLUX_STORE_BRANCH?.trim() ?? '';
  if (branch === '' || !/^[A-Za-z0-9._/-]+$/.test(branch) || branch.startsWith('-') || branch.includes('..')) {
    throw new ConfigError(`HOMEFLUX_STORE_BRANCH: expected a branch name such as homeflux-data, got "${branch}"`, 'HOMEFLUX_STORE_BRANCH');
  }
  const server = env.GITHUB_SERVER_URL?.trim() || 'https://github.com';
  const remote = env.HOMEFLUX_STORE_REMOTE?.trim() || (env.GITHUB_REPOSITORY ? `${server}/${env.GITHUB_REPOSITORY}.git` : '');
  if (remote === '') throw new ConfigError('GITHUB_REPOSITORY is not set: cannot tell which repository holds the data branch', 'GITHUB_REPOSITORY');
  return { branch, remote, dir: env.HOMEFLUX_STORE_DIR?.trim() || STORE_DIR, token: env.GH_TOKEN?.trim() || undefined };
}

async function git(settings: StoreSettings, args: string[], options: { cwd?: string; allowFail?: boolean } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  // The token travels as a header of this one command, as actions/checkout sends it; never in
  // the remote URL (git prints URLs in its errors) and never in .git/config.
  const auth = settings.token && settings.remote.startsWith('https://') ? ['-c', `http.extraheader=AUTHORIZATION: basic ${Buffer.from(`x-access-token:${settings.token}`).toString('base64')}`] : [];
  try {
    const { stdout, stderr } = await run('git', [...auth, ...args], { cwd: options.cwd ?? settings.dir, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' }, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    if (options.allowFail) return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    throw new Error(`git ${args[0]} failed: ${(e.stderr ?? messageOf(error)).trim().split('\n').slice(-3).join(' ')}`);
  }
}

const IDENTITY = ['-c', 'user.name=homeflux', '-c', 'user.email=homeflux@users.noreply.github.com'];

/**
 * `pull`: refuse a public repository (unless allowed), then check the branch out into the
 * store directory — or start it, empty, when it does not exist yet. Outputs `report=true` once a
 * day (the run in the local 06:00 hour), for the daily report.
 */
export async function pullStore(env: Env, log: Logger, now: number): Promise<Record<string, string>> {
  const settings = storeSettings(env);
  const allowPublic = booleanString.safeParse(env.HOMEFLUX_STORE_PUBLIC ?? 'false').data === true;
  if (!allowPublic) {
    const info = await GitHubApi.fromEnv(env).repositoryInfo();
    if (!info.private) {
      throw new ConfigError(
        `refusing to keep the data on branch ${settings.branch}: this repository is public, so anyone could read your meter readings (when you are home, when you sleep). Make the repository private, use a database (INFLUX_URL), or set the variable HOMEFLUX_STORE_PUBLIC=true if you want them public`,
        'HOMEFLUX_STORE_PUBLIC',
      );
    }
  }
  await rm(settings.dir, { recursive: true, force: true });
  await mkdir(settings.dir, { recursive: true });
  await git(settings, ['init', '--quiet']);
  await git(settings, ['remote', 'add', 'origin', settings.remote]);
  const exists = (await git(settings, ['ls-remote', '--exit-code', '--heads', 'origin', settings.branch], { allowFail: true })).code === 0;
  if (exists) {
    // Only the tip: the history is the remote's, and a run needs just the current months.
    await git(settings, ['fetch', '--quiet', '--depth=1', 'origin', settings.branch]);
    await git(settings, ['checkout', '--quiet', '-B', settings.branch, 'FETCH_HEAD']);
    log.info(`store: checked out ${settings.branch} (${(await git(settings, ['rev-parse', '--short', 'HEAD'])).stdout.trim()})`);
  } else {
    await git(settings, ['checkout', '--quiet', '--orphan', settings.branch]);
    await writeFile(join(settings.dir, 'README.md'), README);
    log.notice(`store: branch ${settings.branch} does not exist yet; this run starts it`, 'data branch');
  }
  const timezone = env.HOMEFLUX_TIMEZONE?.trim() || 'UTC';
  const report = DateTime.fromSeconds(now, { zone: timezone }).hour === 6;
  const outputs = { report: String(report) };
  if (env.GITHUB_OUTPUT) await appendFile(env.GITHUB_OUTPUT, `report=${outputs.report}\n`);
  return outputs;
}

const README = `# homeflux data

This branch is homeflux's file store, written by the hourly workflow (HOMEFLUX_STORE_BRANCH):
\`data/<bucket>/<YYYY-MM>.lp\` in InfluxDB line protocol, one commit per run. To move it into
a database: clone this branch, then \`HOMEFLUX_DATA_DIR=<clone>/data INFLUX_URL=… npx tsx
scripts/replay.ts --store\`.
`;

/** The data files a commit would change: paths relative to the store directory. */
async function changedFiles(settings: StoreSettings): Promise<string[]> {
  const status = await git(settings, ['status', '--porcelain', '--untracked-files=all', '-z']);
  return status.stdout
    .split('\0')
    .filter((entry) => entry.length > 3)
    .map((entry) => entry.slice(3));
}

/**
 * `push`: commit the changed files (none: nothing to do) and push, retrying up to `tries`
 * times on top of a newer tip with the month files merged.
 */
export async function pushStore(env: Env, log: Logger, options: { tries?: number; now: number }): Promise<{ committed: boolean; files: string[] }> {
  const settings = storeSettings(env);
  const files = await changedFiles(settings);
  if (files.length === 0) {
    log.info(`store: nothing changed, nothing to commit`);
    return { committed: false, files };
  }
  const months = files.filter((f) => f.startsWith('data/'));
  const message = `homeflux ${new Date(options.now * 1000).toISOString().replace('.000', '')}: ${months.length} data file(s)`;
  // What this run wrote, kept to merge onto a newer tip if the push loses a race.
  const ours = new Map<string, string | undefined>();
  for (const f of files) ours.set(f, await readFile(join(settings.dir, f), 'utf8').catch(() => undefined));
  await git(settings, ['add', '--all']);
  await git(settings, [...IDENTITY, 'commit', '--quiet', '-m', message]);
  const tries = options.tries ?? 5;
  for (let attempt = 1; ; attempt++) {
    const pushed = await git(settings, ['push', '--quiet', 'origin', `HEAD:refs/heads/${settings.branch}`], { allowFail: true });
    if (pushed.code === 0) {
      log.info(`store: pushed ${files.length} file(s) to ${settings.branch}: ${files.join(', ')}`);
      return { committed: true, files };
    }
    if (attempt >= tries) throw new Error(`could not push ${settings.branch} after ${tries} tries: ${pushed.stderr.trim().split('\n').slice(-2).join(' ')}`);
    log.warn(`store: push ${attempt} refused (the branch moved); merging onto the new tip`);
    await git(settings, ['fetch', '--quiet', '--depth=1', 'origin', settings.branch]);
    await git(settings, ['reset', '--quiet', '--hard', 'FETCH_HEAD']);
    await mergeMonths(settings.dir, ours);
    await git(settings, ['add', '--all']);
    await git(settings, [...IDENTITY, 'commit', '--quiet', '--allow-empty', '-m', message]);
  }
}

/**
 * After a lost race: each month this run touched becomes one base file holding the tip's points
 * (base and segment files) and this run's, merged; the month's segment files go.
 */
async function mergeMonths(dir: string, ours: ReadonlyMap<string, string | undefined>): Promise<void> {
  const monthOf = (file: string): string | undefined => /^(data\/[^/]+\/\d{4}-\d{2})(\+\d+)?\.lp$/.exec(file)?.[1];
  for (const [file, text] of ours) if (text !== undefined && monthOf(file) === undefined) await writeFile(join(dir, file), text);
  const months = new Set([...ours.keys()].map(monthOf).filter((m): m is string => m !== undefined));
  for (const month of months) {
    const points = new PointSet();
    const folder = join(dir, dirname(month));
    const name = month.slice(month.lastIndexOf('/') + 1);
    const theirs = (await readdir(folder).catch(() => [] as string[])).filter((f) => f === `${name}.lp` || (f.startsWith(`${name}+`) && f.endsWith('.lp'))).sort();
    const add = (text: string, where: string): void => {
      for (const [i, line] of text.split('\n').entries()) if (line !== '') points.add(line, `${where} line ${i + 1}`);
    };
    for (const f of theirs) add(await readFile(join(folder, f), 'utf8'), `${dirname(month)}/${f} (remote)`);
    for (const [file, text] of ours) if (text !== undefined && monthOf(file) === month) add(text, file);
    for (const f of theirs) if (f !== `${name}.lp`) await rm(join(folder, f));
    await mkdir(folder, { recursive: true });
    await writeFile(join(dir, `${month}.lp`), points.text());
  }
}
