/**
 * Carrying the spool between hourly runs in the Actions cache without ever losing it silently
 * (docs/github-actions.md, "What survives what"). The cache is best effort: a restore that
 * fails only warns, and a run that then saves its (empty or partial) spool as the newest entry
 * would hide the real one for good. So the workflow asks first what it should find:
 *
 * - `plan` (before restoring): is this run on the default branch (only those carry the spool:
 *   a dispatch from another branch would replay main's spool and save to its own scope), is the
 *   repository private (the spool artifact is uploaded only then), and does a spool entry exist;
 * - `check` (after restoring): an entry existed and none came back → an error annotation, and
 *   this run neither saves nor prunes, so the entry stays for the next run;
 * - `prune` (after saving): the entries the new one supersedes are deleted — or all of them when
 *   the spool is empty (nothing left to carry). Nothing is deleted unless the new entry is listed.
 *
 * Each writes `key=value` lines to `$GITHUB_OUTPUT` for the later steps' `if:`.
 */
import { appendFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Env } from '../config.ts';
import { messageOf } from '../errors.ts';
import type { Logger } from '../log.ts';
import { GitHubApi } from './github.ts';

/** Prefix of every spool cache key (`homeflux-spool-<run id>-<attempt>`). */
export const SPOOL_KEY_PREFIX = 'homeflux-spool-';

/** Step outputs. */
export type Outputs = Record<string, string>;

async function writeOutputs(env: Env, outputs: Outputs): Promise<void> {
  const file = env.GITHUB_OUTPUT;
  if (file) await appendFile(file, Object.entries(outputs).map(([k, v]) => `${k}=${v}\n`).join(''));
}

/** `plan`: carry, private, expected (and the newest key) as step outputs. */
export async function planSpool(env: Env, log: Logger): Promise<Outputs> {
  const ref = env.GITHUB_REF ?? '';
  let outputs: Outputs;
  try {
    const api = GitHubApi.fromEnv(env);
    const repo = await api.repositoryInfo();
    const defaultRef = `refs/heads/${repo.defaultBranch}`;
    const carry = ref === defaultRef;
    outputs = { carry: String(carry), private: String(repo.private), expected: 'false', newest: '' };
    if (carry) {
      const entries = await api.caches(SPOOL_KEY_PREFIX, defaultRef);
      outputs.expected = String(entries.length > 0);
      outputs.newest = entries[0]?.key ?? '';
      log.info(`spool: ${entries.length} cache entr${entries.length === 1 ? 'y' : 'ies'} on ${repo.defaultBranch}${entries[0] ? `, newest ${entries[0].key}` : ''}`);
    } else {
      log.notice(`this run is on ${ref || 'an unknown ref'}, not on ${defaultRef}: the spool is neither restored nor saved (only default-branch runs carry it); what this run cannot write is re-collected by the next hourly run`, 'spool not carried');
    }
  } catch (error) {
    // Without the API (no actions: read, an outage) the run still carries the spool, but cannot
    // tell a lost entry from none: say so instead of guessing.
    log.warn(`spool: could not ask the GitHub API which spool entries exist (${messageOf(error)}); a lost cache entry would go unnoticed in this run`, 'spool check unavailable');
    const fallback = env.DEFAULT_BRANCH ? ref === `refs/heads/${env.DEFAULT_BRANCH}` : true;
    outputs = { carry: String(fallback), private: 'false', expected: 'unknown', newest: '' };
  }
  await writeOutputs(env, outputs);
  return outputs;
}

/** `check`: `EXPECTED` (plan's output) and `MATCHED_KEY` (the restore's `cache-matched-key`) → ok. */
export async function checkSpool(env: Env, log: Logger): Promise<Outputs> {
  const expected = env.EXPECTED === 'true';
  const matched = (env.MATCHED_KEY ?? '').trim();
  let ok = true;
  if (expected && matched === '') {
    ok = false;
    log.error(
      `the spool cache entry${env.NEWEST_KEY ? ` ${env.NEWEST_KEY}` : ''} exists but was not restored (the cache service failed or evicted it): this run will not save or prune, so the entry stays for the next run; points this run cannot write are in the run's artifact (private repositories) and re-collected by later runs`,
      'spool not restored',
    );
  } else if (matched !== '') {
    log.info(`spool: restored ${matched}`);
  }
  const outputs = { ok: String(ok) };
  await writeOutputs(env, outputs);
  return outputs;
}

async function spoolHasPoints(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir, { recursive: true })).some((f) => f.endsWith('.lp') && !f.startsWith('rejected'));
  } catch {
    return false;
  }
}

/** `prune`: `SAVE_KEY` with `SAVE_OUTCOME` (the save step's; `success` when it saved) and `HOMEFLUX_SPOOL_DIR` → deleted entries. */
export async function pruneSpool(env: Env, log: Logger): Promise<Outputs> {
  const api = GitHubApi.fromEnv(env);
  const saved = env.SAVE_OUTCOME === 'success' ? (env.SAVE_KEY ?? '').trim() : '';
  const ref = env.GITHUB_REF ?? '';
  const entries = await api.caches(SPOOL_KEY_PREFIX, ref);
  const hasPoints = await spoolHasPoints(join(env.HOMEFLUX_SPOOL_DIR ?? 'spool'));
  let doomed: typeof entries;
  if (hasPoints) {
    if (saved === '' || !entries.some((e) => e.key === saved)) {
      log.warn(`spool: this run's spool was not saved${saved ? ` (${saved} is not listed)` : ''}; the older entries are kept`, 'spool not saved');
      await writeOutputs(env, { deleted: '0' });
      return { deleted: '0' };
    }
    doomed = entries.filter((e) => e.key !== saved);
  } else {
    // Everything was written: no entry has anything left to carry.
    doomed = entries;
  }
  for (const entry of doomed) await api.deleteCache(entry.id);
  if (doomed.length > 0) log.info(`spool: deleted ${doomed.length} superseded cache entr${doomed.length === 1 ? 'y' : 'ies'}`);
  const outputs = { deleted: String(doomed.length) };
  await writeOutputs(env, outputs);
  return outputs;
}
