/**
 * The hourly run (`scripts/hourly.ts`): every configured agent in one process — one start-up,
 * one replay of the spool, one database connection and so one retry budget shared by all, one
 * summary. Each agent's outcome is its own (a log group, annotations, its rows of the step
 * summary); an agent without its settings is skipped with a notice naming what to set; the exit
 * code is the worst of them (2 bad configuration, 1 something not written or failed, 0 all
 * written). The per-agent scripts stay for debugging and backfills.
 */
import type { AgentModule } from '../agents/agent.ts';
import { loadAgent } from '../agents/registry.ts';
import { type Config, type Env, loadConfig } from '../config.ts';
import { emptySummary, isComplete, type Sink, type WriteSummary } from '../database/sink.ts';
import { ConfigError, messageOf } from '../errors.ts';
import { Logger, type LogStreams } from '../log.ts';
import { parseRunArgs, type RunArgs } from './args.ts';
import { collectRun, EXIT, openRunSink, reportProblem, type RunContext, startRun, writeRecords } from './pipeline.ts';
import { printReport, reportRows } from './summary.ts';
import { bucketName } from '../records.ts';

/**
 * The agents an hourly run on GitHub's runners can reach (NUT and LAN pages run at home), in
 * order: the derived `cost` and `insight` last, since they read what the others have just written.
 */
export const HOURLY_AGENTS = ['opower', 'weather', 'scrape', 'cost', 'insight'] as const;

const USAGE = `usage: npx tsx scripts/hourly.ts [--agents a,b] [--dry-run] [--verbose]

Runs every configured agent (${HOURLY_AGENTS.join(', ')}) once, each over its own lookback, in
one process: one replay of the spool, one retry budget, one summary. An agent whose settings
are missing is skipped with a notice. Exit code: the worst of the agents'.`;

/** Options for {@link runHourly}. */
export interface HourlyOptions {
  argv: readonly string[];
  env: Env;
  streams?: LogStreams;
  /** Unix seconds (tests pin it). */
  now?: number;
  signal?: AbortSignal;
}

/** The names among `requires` none of which is set, for the skip notice; empty when the agent is configured. */
export function missingSettings(module: AgentModule<unknown>, env: Env): string[] {
  const set = (name: string): boolean => (env[name] ?? '').trim() !== '';
  return (module.requires ?? []).filter((anyOf) => !anyOf.some(set)).map((anyOf) => anyOf.join(' or '));
}

/** Run the hourly job; returns the exit code. */
export async function runHourly(options: HourlyOptions): Promise<number> {
  const log = new Logger({ env: options.env, streams: options.streams });
  let args: RunArgs;
  try {
    args = parseRunArgs(options.argv, { options: { agents: { type: 'string' } } });
  } catch (error) {
    log.error(`hourly: ${messageOf(error)}\n${USAGE}`);
    return EXIT.usage;
  }
  if (args.help) {
    log.info(USAGE);
    return EXIT.ok;
  }
  if (args.since !== undefined || args.until !== undefined) {
    log.error('hourly: --since/--until do not apply: each agent reads its own lookback (use scripts/backfill.ts for a range)', 'arguments');
    return EXIT.usage;
  }
  const wanted = typeof args.extra.agents === 'string' ? args.extra.agents.split(',').map((a) => a.trim()).filter(Boolean) : [...HOURLY_AGENTS];
  let config: Config;
  try {
    config = loadConfig(options.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log.error(`hourly: ${error.message}`, 'configuration');
    return EXIT.usage;
  }
  const dryRun = args.dryRun || config.dryRun;
  const flags = [...(args.dryRun ? ['--dry-run'] : []), ...(args.verbose ? ['--verbose'] : [])];
  const signal = options.signal ?? new AbortController().signal;
  const now = options.now ?? config.now ?? Math.floor(Date.now() / 1000);
  const codes: number[] = [];
  let sink: Sink | undefined;
  let replayed: WriteSummary = emptySummary();
  try {
    for (const name of wanted) {
      if (signal.aborted) break;
      let module: AgentModule;
      try {
        module = await loadAgent(name);
      } catch (error) {
        log.error(`hourly: ${messageOf(error)}`, 'configuration');
        codes.push(EXIT.usage);
        continue;
      }
      const missing = missingSettings(module, options.env);
      if (missing.length > 0) {
        log.notice(`${name}: skipped — set ${missing.join(', ')} (repository secrets or variables) to collect it`, `${name} skipped`);
        continue;
      }
      const run = startRun(module, { argv: flags, env: options.env, streams: options.streams, now, signal });
      if (typeof run === 'number') {
        codes.push(run);
        continue;
      }
      // One sink for all: the first agent to write opens it and replays the spool once.
      if (!dryRun && sink === undefined) {
        sink = await openRunSink(run);
        replayed = await sink.replay();
      }
      codes.push(await runOne(run, sink, replayed, dryRun));
      replayed = emptySummary(); // reported with the first agent that wrote
    }
  } finally {
    await sink?.close();
  }
  if (codes.length === 0) log.notice('hourly: no agent is configured: nothing to do', 'homeflux');
  // 0 all written < 1 something failed < 2 bad configuration: the worst is the largest.
  return Math.max(EXIT.ok, ...codes);
}

async function runOne(run: RunContext, sink: Sink | undefined, replayed: WriteSummary, dryRun: boolean): Promise<number> {
  const collected = await collectRun(run);
  if (typeof collected === 'number') return collected;
  const { records, agent } = collected;
  let summary = emptySummary();
  if (sink && !dryRun) {
    try {
      summary = await writeRecords(sink, records, run.config.bucketPrefix);
    } catch (error) {
      reportProblem(run, `${agent}: writing to ${sink.description} failed: ${messageOf(error)}`);
    }
  }
  const target = run.config.target;
  const where = target.kind === 'file' ? `file store ${target.dataDir}` : `${target.kind} ${new URL(target.url).host}`;
  printReport(run.log, { agent, sink: where, rows: reportRows(records, (r) => bucketName(run.config.bucketPrefix, r.timescale)), summary, replayed, dryRun, problems: run.problems });
  if (collected.fatal instanceof ConfigError) return EXIT.usage;
  return run.problems.length > 0 || !isComplete(summary, replayed) ? EXIT.failed : EXIT.ok;
}
