/**
 * scripts/spool-cache.ts's steps on their own, against the fake GitHub API: what `prune` may
 * delete (never the only copy of a spool), what `plan` says without the API, and `check`.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSpool, planSpool, pruneSpool } from '../../src/actions/spool-cache.ts';
import { Logger } from '../../src/log.ts';
import { startFakeGitHub, type FakeGitHub } from '../../testing/fakes/github-api.ts';

let dir: string;
let github: FakeGitHub;
const lines: string[] = [];
const log = new Logger({ env: { GITHUB_ACTIONS: 'true' }, streams: { out: (l) => lines.push(l), err: (l) => lines.push(l) } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'homeflux-spool-cache-'));
  github = await startFakeGitHub({ root: join(dir, 'cache') });
});
afterAll(async () => {
  await github?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const env = (extra: Record<string, string>): Record<string, string> => ({ GITHUB_API_URL: github.url, GITHUB_REPOSITORY: github.repository, GH_TOKEN: 'ghs_x', GITHUB_REF: 'refs/heads/main', GITHUB_OUTPUT: join(dir, 'out'), HOMEFLUX_SPOOL_DIR: join(dir, 'spool'), ...extra });

describe('spool-cache', () => {
  it('prune keeps every entry when this run\'s save failed, and drops the superseded ones when it succeeded', async () => {
    const src = join(dir, 'src');
    await mkdir(join(src, 'home-hour'), { recursive: true });
    await writeFile(join(src, 'home-hour', 'a.lp'), 'm v=1 1\n');
    await github.save('homeflux-spool-1-1', 'refs/heads/main', src);
    await github.save('homeflux-spool-2-1', 'refs/heads/main', src);
    await mkdir(join(dir, 'spool', 'home-hour'), { recursive: true });
    await writeFile(join(dir, 'spool', 'home-hour', 'x.lp'), 'm v=2 2\n');
    expect(await pruneSpool(env({ SAVE_OUTCOME: 'failure', SAVE_KEY: 'homeflux-spool-3-1' }), log)).toEqual({ deleted: '0' });
    expect(lines.join('\n')).toMatch(/::warning title=spool not saved::spool: this run's spool was not saved; the older entries are kept/);
    expect(github.entries.map((e) => e.key)).toEqual(['homeflux-spool-1-1', 'homeflux-spool-2-1']);
    // Saved but not listed (the cache service lost it): still nothing deleted.
    expect(await pruneSpool(env({ SAVE_OUTCOME: 'success', SAVE_KEY: 'homeflux-spool-3-1' }), log)).toEqual({ deleted: '0' });
    await github.save('homeflux-spool-3-1', 'refs/heads/main', join(dir, 'spool'));
    expect(await pruneSpool(env({ SAVE_OUTCOME: 'success', SAVE_KEY: 'homeflux-spool-3-1' }), log)).toEqual({ deleted: '2' });
    expect(github.entries.map((e) => e.key)).toEqual(['homeflux-spool-3-1']);
  });

  it('plan without the API still carries the spool on the default branch and says it cannot check', async () => {
    lines.length = 0;
    const out = await planSpool(env({ GITHUB_API_URL: 'http://127.0.0.1:9', DEFAULT_BRANCH: 'main' }), log);
    expect(out).toEqual({ carry: 'true', private: 'false', expected: 'unknown', newest: '' });
    expect(lines.join('\n')).toMatch(/::warning title=spool check unavailable::spool: could not ask the GitHub API/);
    expect(await readFile(join(dir, 'out'), 'utf8')).toContain('expected=unknown\n');
  });

  it('check fails only when an entry was expected and none came back', async () => {
    expect(await checkSpool({ EXPECTED: 'true', MATCHED_KEY: 'homeflux-spool-3-1' }, log)).toEqual({ ok: 'true' });
    expect(await checkSpool({ EXPECTED: 'false', MATCHED_KEY: '' }, log)).toEqual({ ok: 'true' });
    expect(await checkSpool({ EXPECTED: 'unknown', MATCHED_KEY: '' }, log)).toEqual({ ok: 'true' });
    expect(await checkSpool({ EXPECTED: 'true', MATCHED_KEY: '', NEWEST_KEY: 'homeflux-spool-3-1' }, log)).toEqual({ ok: 'false' });
  });
});
