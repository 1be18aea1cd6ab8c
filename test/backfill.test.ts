/**
 * scripts/backfill.ts: work units, resume after SIGINT, rollups across units, progress and
 * arguments. The resume test runs the real script as a child process with the demo agent
 * and the file store, interrupts it, runs it again and compares with one uninterrupted run
 * of the normal pipeline.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { demo } from '../src/agents/demo/index.ts';
import { loadAgent } from '../src/agents/registry.ts';
import { EXIT_INTERRUPTED, runBackfill } from '../src/run/backfill/index.ts';
import { planUnits } from '../src/run/backfill/plan.ts';
import { formatDuration, Progress } from '../src/run/backfill/progress.ts';
import { readBucketFile } from '../src/database/file-store.ts';
import { runAgent } from '../src/run/pipeline.ts';
import { chunkWindow, type LocalRules, nextPeriodStart, periods, periodStart } from '../src/window.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LA: LocalRules = { timezone: 'America/Los_Angeles', weekStart: 'monday' };
const BUCKETS = ['home-minute', 'home-hour', 'home-day', 'home-week'];
// 20 local weeks (five 4-week units of the demo's 31-day limit), across the spring DST change.
const SINCE = '2024-01-01';
const UNTIL = '2024-05-20';
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'homeflux-backfill-'));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

function envFor(dir: string): Record<string, string> {
  return { HOMEFLUX_DATA_DIR: join(dir, 'data'), HOMEFLUX_SPOOL_DIR: join(dir, 'spool'), HOMEFLUX_TIMEZONE: LA.timezone, PATH: process.env.PATH ?? '' };
}

async function bucketLines(dir: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const bucket of BUCKETS) out[bucket] = await readBucketFile(join(dir, 'data'), bucket);
  return out;
}

/** Windows the script fetched, from its `--verbose` debug lines (`demo: N record(s) for A → B`). */
function fetched(stderr: string): string[] {
  return [...stderr.matchAll(/demo: \d+ record\(s\) for (\S+ → \S+)/g)].map((m) => m[1]!);
}

interface Child {
  code: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
  kill: (signal: NodeJS.Signals) => void;
}

function spawnBackfill(env: Record<string, string>, args: string[]): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/backfill.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return {
    code: new Promise((resolve) => child.on('close', (code) => resolve(code))),
    stdout: () => stdout,
    stderr: () => stderr,
    kill: (signal) => child.kill(signal),
  };
}

async function checkpointDone(spool: string): Promise<string[]> {
  try {
    const names = await readdir(join(spool, '.backfill'));
    const file = names.find((n) => n.endsWith('.json'));
    if (!file) return [];
    return (JSON.parse(await readFile(join(spool, '.backfill', file), 'utf8')) as { done: string[] }).done;
  } catch {
    return [];
  }
}

describe('planUnits', () => {
  it('makes whole local weeks that each fit one request, covering the range without gaps', () => {
    const limits = demo.limits({ seed: 42, days: 30 }, {} as never);
    const window = { start: periodStart(Date.UTC(2024, 0, 3) / 1000, 'week', LA), end: periodStart(Date.UTC(2024, 11, 20) / 1000, 'week', LA) };
    const units = planUnits(window, limits, LA);
    expect(units[0]!.start).toBe(window.start);
    expect(units.at(-1)!.end).toBe(window.end);
    for (const [i, unit] of units.entries()) {
      expect(periodStart(unit.start, 'week', LA)).toBe(unit.start);
      expect(periodStart(unit.end, 'week', LA)).toBe(unit.end);
      expect(chunkWindow(unit, limits.maxWindow, LA)).toHaveLength(1);
      if (i > 0) expect(unit.start).toBe(units[i - 1]!.end);
    }
    // 31-day requests hold 4 weeks: grouping costs no request over plain chunking.
    expect(units.length).toBe(chunkWindow(window, { maxDays: 28 }, LA).length);
  });

  it('keeps a week whole when one request covers less than a week', () => {
    const limits = { ...demo.limits({ seed: 42, days: 30 }, {} as never), maxWindow: { maxDays: 2 } };
    const start = periodStart(Date.UTC(2024, 2, 6) / 1000, 'week', LA); // the week of the spring DST change
    const window = { start, end: nextPeriodStart(nextPeriodStart(start, 'week', LA), 'week', LA) };
    const units = planUnits(window, limits, LA);
    expect(units).toEqual(periods(window, 'week', LA));
    expect(units).toHaveLength(2);
    expect(units[0]!.end - units[0]!.start).toBe(7 * 86400 - 3600); // 23-hour Sunday
  });

  it('falls back to plain request chunks for agents without rollups', () => {
    const limits = { maxWindow: { maxSeconds: 3600 }, lookback: 3600, rollups: [] };
    expect(planUnits({ start: 0, end: 3 * 3600 + 5 }, limits, LA)).toEqual([
      { start: 0, end: 3600 },
      { start: 3600, end: 7200 },
      { start: 7200, end: 10800 },
      { start: 10800, end: 10805 },
    ]);
  });
});

describe('backfill resume', () => {
  it(
    'resumes after SIGINT without fetching finished chunks again and ends with the same data as one uninterrupted run',
    async () => {
      // Reference: the normal pipeline over the same range in one go.
      const reference = await tempDir();
      const refErr: string[] = [];
      const refCode = await runAgent(demo, { argv: ['--since', SINCE, '--until', UNTIL], env: envFor(reference), streams: { out: () => {}, err: (l) => refErr.push(l) } });
      expect(refErr).toEqual([]);
      expect(refCode).toBe(0);
      const expected = await bucketLines(reference);
      expect(expected['home-week']!.length).toBe(20 * 3);

      const dir = await tempDir();
      const env = envFor(dir);
      const args = ['demo', '--since', SINCE, '--until', UNTIL, '--concurrency', '1', '--verbose'];
      const first = spawnBackfill(env, args);
      // Interrupt once the checkpoint lists two finished chunks.
      await expect.poll(() => checkpointDone(env.HOMEFLUX_SPOOL_DIR!), { timeout: 90_000, interval: 50 }).toHaveLength(2);
      first.kill('SIGINT');
      expect(await first.code, first.stderr()).toBe(EXIT_INTERRUPTED);
      const doneAfterFirst = await checkpointDone(env.HOMEFLUX_SPOOL_DIR!);
      const firstFetched = fetched(first.stderr());
      // The chunk in flight at SIGINT was finished and checkpointed, and nothing else started.
      expect(doneAfterFirst.length).toBe(firstFetched.length);
      expect(doneAfterFirst.length).toBeGreaterThanOrEqual(2);
      expect(doneAfterFirst.length).toBeLessThan(5);
      expect(first.stderr()).toMatch(/finishing the chunks in flight/);
      expect(first.stdout()).toMatch(/left — run the same command again to resume/);

      const second = spawnBackfill(env, args);
      expect(await second.code, second.stderr()).toBe(0);
      const secondFetched = fetched(second.stderr());
      expect(second.stdout()).toMatch(new RegExp(`${doneAfterFirst.length} already done`));
      expect(secondFetched.length).toBe(5 - doneAfterFirst.length);
      expect(secondFetched.filter((w) => firstFetched.includes(w))).toEqual([]);
      // Completed: the checkpoint is gone, so the same command later starts afresh.
      expect(await checkpointDone(env.HOMEFLUX_SPOOL_DIR!)).toEqual([]);

      // Every point present once: the files equal the uninterrupted run's line for line, and
      // weekly and daily totals came out whole although the range was written in five units.
      const got = await bucketLines(dir);
      for (const bucket of BUCKETS) {
        expect(got[bucket]!.length, bucket).toBe(expected[bucket]!.length);
        expect(new Set(got[bucket]).size, bucket).toBe(got[bucket]!.length);
        expect(got[bucket], bucket).toEqual(expected[bucket]);
      }
    },
    240_000,
  );

  it('refetches everything with --force and leaves the data unchanged', async () => {
    const dir = await tempDir();
    const env = envFor(dir);
    const out: string[] = [];
    const argv = ['demo', '--since', '2024-03-04', '--until', '2024-03-18'];
    expect(await runBackfill({ argv, env, streams: { out: (l) => out.push(l), err: (l) => out.push(l) } })).toBe(0);
    const before = await bucketLines(dir);
    out.length = 0;
    expect(await runBackfill({ argv: [...argv, '--force', '--concurrency', '3'], env, streams: { out: (l) => out.push(l), err: (l) => out.push(l) } })).toBe(0);
    expect(out.filter((l) => / written, /.test(l))).toHaveLength(1);
    expect(await bucketLines(dir)).toEqual(before);
    expect(before['home-week']).toHaveLength(6);
  });

  it('stops starting units when interrupted in-process and checkpoints what finished', async () => {
    const dir = await tempDir();
    const env = envFor(dir);
    const interrupt = new AbortController();
    const out: string[] = [];
    const code = await runBackfill({
      argv: ['demo', '--since', '2024-01-01', '--until', '2024-03-25'],
      env,
      interrupt: interrupt.signal,
      streams: {
        out: (l) => {
          out.push(l);
          if (/chunk .* written/.test(l)) interrupt.abort();
        },
        err: (l) => out.push(l),
      },
    });
    expect(code).toBe(EXIT_INTERRUPTED);
    const done = await checkpointDone(env.HOMEFLUX_SPOOL_DIR!);
    // Two workers: the one that finished first and the one in flight at the interrupt.
    expect(done.length).toBe(out.filter((l) => /chunk .* written/.test(l)).length);
    expect(done.length).toBeLessThan(3);
  });
});

describe('backfill arguments and agents', () => {
  const run = async (argv: string[]): Promise<{ code: number; text: string }> => {
    const lines: string[] = [];
    const code = await runBackfill({ argv, env: envFor(await tempDir()), streams: { out: (l) => lines.push(l), err: (l) => lines.push(l) } });
    return { code, text: lines.join('\n') };
  };

  it('refuses a missing agent, an unknown agent, a missing --since and a bad --concurrency with exit 2', async () => {
    expect(await run([])).toMatchObject({ code: 2, text: expect.stringContaining('expected an agent name first') });
    expect(await run(['nosuch', '--since', '5d'])).toMatchObject({ code: 2, text: expect.stringContaining('unknown agent "nosuch": expected one of') });
    expect(await run(['demo'])).toMatchObject({ code: 2, text: expect.stringContaining('--since is required') });
    expect(await run(['demo', '--since', '5d', '--concurrency', '0'])).toMatchObject({ code: 2, text: expect.stringContaining('--concurrency: expected a whole number from 1 to 16, got "0"') });
    expect(await run(['demo', '--since', '5d', '--bogus'])).toMatchObject({ code: 2 });
  });

  it('prints usage with --help', async () => {
    expect(await run(['--help'])).toMatchObject({ code: 0, text: expect.stringContaining('usage: npx tsx scripts/backfill.ts <agent>') });
  });

  it('writes nothing and no checkpoint in a dry run', async () => {
    const dir = await tempDir();
    const lines: string[] = [];
    // 2024-03-10 is the 23-hour spring-forward day: 7 × 24 − 1 hours.
    const code = await runBackfill({ argv: ['demo', '--since', '2024-03-04', '--until', '2024-03-11', '--dry-run'], env: envFor(dir), streams: { out: (l) => lines.push(l), err: (l) => lines.push(l) } });
    expect(code).toBe(0);
    expect(lines.join('\n')).toContain('would write 167 power point(s) to home-hour');
    expect(await bucketLines(dir)).toEqual(Object.fromEntries(BUCKETS.map((b) => [b, []])));
    expect(await checkpointDone(join(dir, 'spool'))).toEqual([]);
  });

  it('loads every agent in the tree through the registry', async () => {
    for (const name of ['demo', 'weather', 'nut', 'opower', 'greenbutton']) {
      const module = await loadAgent(name);
      expect(module.name).toBe(name);
    }
  });
});

describe('progress', () => {
  it('shows chunks, points, rate and ETA', () => {
    let now = 0;
    const lines: string[] = [];
    const progress = new Progress({ mode: 'lines', label: 'backfill demo', total: 4, line: (l) => lines.push(l), clock: () => now });
    progress.start();
    now = 10_000;
    progress.finish({ start: 0, end: 3600 }, 50_000, 'written');
    expect(lines).toEqual(['backfill demo: chunk 1970-01-01T00:00:00Z → 1970-01-01T01:00:00Z written, 50,000 points · chunks 1/4 · 50,000 points · 5,000 points/s · ETA 0:30']);
    expect(formatDuration(3725)).toBe('1:02:05');
  });

  it('rewrites one terminal line in live mode', () => {
    const raw: string[] = [];
    const progress = new Progress({ mode: 'live', label: 'backfill demo', total: 1, line: () => {}, raw: (t) => raw.push(t), clock: () => 0 });
    progress.start();
    progress.finish({ start: 0, end: 60 }, 10, 'written');
    progress.stop();
    expect(raw.every((t) => t.startsWith('\r\x1b[2K') || t === '\n')).toBe(true);
    expect(raw.at(-2)).toContain('chunks 1/1 · 10 points');
    expect(raw.at(-1)).toBe('\n');
  });
});
