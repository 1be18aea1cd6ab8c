/**
 * Run an agent module in-process through the real pipeline (src/run/pipeline.ts), capturing output,
 * with its data and spool directories in a fresh temp dir.
 */
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentModule } from '../../src/agents/agent.ts';
import type { ExtraOptions } from '../../src/run/args.ts';
import type { Env } from '../../src/config.ts';
import { readBucketFile, storedBuckets } from '../../src/database/file-store.ts';
import { runAgent } from '../../src/run/pipeline.ts';

/** What a run printed and returned. */
export interface CapturedRun {
  code: number;
  out: string[];
  err: string[];
  /** stdout and stderr together, for "never appears" checks. */
  all: string;
}

/** Run `module` with `argv` and `env`; stdout/stderr are captured, not printed. */
export async function runCaptured<S>(module: AgentModule<S>, argv: string[], env: Env, options: { now?: number; extra?: ExtraOptions; signal?: AbortSignal } = {}): Promise<CapturedRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAgent(module, { argv, env, streams: { out: (l) => out.push(l), err: (l) => err.push(l) }, ...options });
  return { code, out, err, all: [...out, ...err].join('\n') };
}

/** A temp dir with `data/` and `spool/` and the env that points homeflux at them. */
export async function tempHome(label = 'homeflux'): Promise<{ dir: string; env: { HOMEFLUX_DATA_DIR: string; HOMEFLUX_SPOOL_DIR: string; HOMEFLUX_TIMEZONE: string } }> {
  const dir = await mkdtemp(join(tmpdir(), `${label}-`));
  return { dir, env: { HOMEFLUX_DATA_DIR: join(dir, 'data'), HOMEFLUX_SPOOL_DIR: join(dir, 'spool'), HOMEFLUX_TIMEZONE: 'UTC' } };
}

/** Every file below `dir` with its content (empty when `dir` doesn't exist). */
export async function readTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let entries: string[];
  try {
    entries = await readdir(dir, { recursive: true });
  } catch {
    return out;
  }
  for (const entry of entries.sort()) {
    try {
      out.set(entry, await readFile(join(dir, entry), 'utf8'));
    } catch {
      /* a directory */
    }
  }
  return out;
}

/** Count lines per measurement in line-protocol text. */
export function countByMeasurement(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const measurement = /^((?:[^,\\ ]|\\.)+)/.exec(line)![1]!;
    counts.set(measurement, (counts.get(measurement) ?? 0) + 1);
  }
  return counts;
}

/** Each bucket of a file store with its lines (all month partitions, in time order), as text ending in a newline. */
export async function readStore(dataDir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const bucket of await storedBuckets(dataDir)) {
    const lines = await readBucketFile(dataDir, bucket);
    out.set(bucket, lines.length === 0 ? '' : `${lines.join('\n')}\n`);
  }
  return out;
}
