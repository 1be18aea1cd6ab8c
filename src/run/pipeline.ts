/**
 * The run pipeline every script uses (DESIGN.md "Run pipeline"): arguments → configuration →
 * window → collect (chunked, transient errors retried) → validate → rollups → replay the spool →
 * write → report. One place catches errors and picks the exit code: 0 everything written,
 * 1 anything spooled, rejected or failed, 2 bad arguments or configuration.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Agent, AgentLimits, AgentModule, CollectContext } from '../agents/agent.ts';
import { EXIT } from '../cli.ts';
import { type ExtraOptions, extraOf, parseRunArgs, type RunArgs, usage } from './args.ts';
import { type Config, type Env, loadConfig } from '../config.ts';
import { addSummary, emptySummary, isComplete, type Sink, type WriteSummary } from '../database/sink.ts';
import { AuthError, ConfigError, messageOf, SourceDataError, TransientError } from '../errors.ts';
import { Logger, type LogStreams } from '../log.ts';
import { bucketName, type DataRecord, validateRecord } from '../records.ts';
import { toLineProtocol } from '../lineprotocol.ts';
import { printReport, reportRows } from './summary.ts';
import { rollup } from '../rollup.ts';
import { alignWindow, chunkWindow, describeWindow, type LocalRules, nextPeriodStart, parseTimeArg, type TimeWindow } from '../window.ts';

export { EXIT };

/** How a script invokes the pipeline; tests pass everything explicitly. */
export interface RunOptions {
  argv: readonly string[];
  env: Env;
  streams?: LogStreams;
  /** Current time in Unix seconds (tests pin it). */
  now?: number;
  extra?: ExtraOptions;
  signal?: AbortSignal;
}

/** Everything a started run knows; handed to scripts with their own loop (watch, backfill). */
export interface RunContext<S = unknown> {
  module: AgentModule<S>;
  args: RunArgs;
  log: Logger;
  config: Config;
  settings: S;
  limits: AgentLimits;
  rules: LocalRules;
  dryRun: boolean;
  now: number;
  signal: AbortSignal;
  problems: string[];
}

/** Set up a run: parse arguments and configuration. Returns an exit code when it cannot start. */
export function startRun<S>(module: AgentModule<S>, options: RunOptions): RunContext<S> | number {
  const streams = options.streams;
  let args: RunArgs;
  try {
    args = parseRunArgs(options.argv, options.extra);
  } catch (error) {
    const err = streams?.err ?? ((line: string) => process.stderr.write(`${line}\n`));
    err(`${module.name}: ${messageOf(error)}`);
    err(usage(module.name, module.description, options.extra));
    return EXIT.usage;
  }
  const log = new Logger({ env: options.env, verbose: args.verbose || /^(true|1)$/i.test(options.env.HOMEFLUX_DEBUG ?? ''), streams });
  if (args.help) {
    log.info(usage(module.name, module.description, options.extra));
    return EXIT.ok;
  }
  try {
    const config = loadConfig(options.env);
    const settings = module.fromEnv(options.env, config, args.positionals);
    const limits = module.limits(settings, config);
    return {
      module,
      args,
      log,
      config,
      settings,
      limits,
      rules: { timezone: config.timezone, weekStart: config.weekStart },
      dryRun: args.dryRun || config.dryRun,
      now: options.now ?? config.now ?? Math.floor(Date.now() / 1000),
      signal: options.signal ?? new AbortController().signal,
      problems: [],
    };
  } catch (error) {
    if (error instanceof ConfigError) {
      log.error(`${module.name}: ${error.message}`, 'configuration');
      return EXIT.usage;
    }
    throw error;
  }
}

/**
 * The window to collect: `--since/--until`, else the agent's default window or lookback,
 * widened to the whole local periods its rollups aggregate.
 */
export function computeWindow(run: RunContext): TimeWindow {
  const { args, limits, rules, now } = run;
  const parse = (value: string, name: string): number => parseTimeArg(value, { now, timezone: rules.timezone, name });
  let window: TimeWindow;
  if (args.since === undefined && args.until === undefined && limits.defaultWindow) {
    window = limits.defaultWindow(now, rules);
  } else {
    const end = args.until !== undefined ? parse(args.until, '--until') : now;
    const start = args.since !== undefined ? parse(args.since, '--since') : end - limits.lookback;
    if (start >= end) throw new ConfigError(`--since must be before --until (got ${describeWindow({ start, end })})`, '--since');
    window = { start, end };
    for (const spec of limits.rollups) window = alignWindow(window, spec.to, rules);
  }
  return window;
}

/**
 * Collect a window chunk by chunk. Transient errors are retried; an authentication or
 * configuration error stops the agent; anything else is reported and the next chunk goes on.
 * What was collected before a failure is kept.
 */
export async function collectWindow(agent: Agent, window: TimeWindow, run: RunContext, onChunk?: (chunk: TimeWindow, records: DataRecord[]) => Promise<void>): Promise<{ records: DataRecord[]; fatal?: Error }> {
  const records: DataRecord[] = [];
  const context: CollectContext = { signal: run.signal, log: run.log, problem: (error) => reportProblem(run, `${agent.name}: ${messageOf(error)}`), now: run.now, dryRun: run.dryRun };
  for (const chunk of chunkWindow(window, run.limits.maxWindow, run.rules)) {
    if (run.signal.aborted) {
      reportProblem(run, `${agent.name}: interrupted before ${describeWindow(chunk)}`);
      break;
    }
    try {
      const got = await withRetries(() => agent.collect(chunk, context), run, `${agent.name} ${describeWindow(chunk)}`);
      run.log.debug(`${agent.name}: ${got.length} record(s) for ${describeWindow(chunk)}`);
      if (onChunk) await onChunk(chunk, got);
      else records.push(...got);
    } catch (error) {
      if (error instanceof AuthError || error instanceof ConfigError) {
        reportProblem(run, `${agent.name}: ${error.message}`);
        return { records, fatal: error };
      }
      reportProblem(run, `${agent.name}: ${describeWindow(chunk)}: ${messageOf(error)}`);
      // Not one of our error classes: the stack helps a bug report (shown with --verbose).
      if (!(error instanceof TransientError || error instanceof SourceDataError) && error instanceof Error) run.log.debug(error.stack ?? '');
    }
  }
  return { records };
}

const MAX_ATTEMPTS = 4;

async function withRetries<T>(fn: () => Promise<T>, run: RunContext, what: string): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof TransientError) || attempt >= MAX_ATTEMPTS || run.signal.aborted) throw error;
      const backoff = 1000 * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
      const wait = Math.min(120_000, error.retryAfter !== undefined ? error.retryAfter * 1000 : backoff);
      run.log.warn(`${what}: ${error.message}; retrying in ${Math.round(wait / 100) / 10} s (attempt ${attempt + 1} of ${MAX_ATTEMPTS})`);
      await delay(wait, undefined, { signal: run.signal }).catch(() => {});
    }
  }
}

/** Record a problem: logged now, listed in the summary, exit code 1. */
export function reportProblem(run: RunContext, message: string): void {
  run.problems.push(message);
  run.log.error(message);
}

/**
 * Validate records (invalid ones are reported by name, the rest kept) and add rollups.
 * Rollup periods the window covers only partly are left out, unless the window reaches the
 * present (the current day is rewritten as it fills up).
 */
export function prepareRecords(records: readonly DataRecord[], window: TimeWindow, run: RunContext, agentName: string): DataRecord[] {
  const valid: DataRecord[] = [];
  for (const record of records) {
    try {
      validateRecord(record, agentName);
      valid.push(record);
    } catch (error) {
      reportProblem(run, messageOf(error));
    }
  }
  const rolled = rollup(valid, run.limits.rollups, run.rules).filter((r) => {
    if (r.time < window.start) return false;
    const end = nextPeriodStart(r.time, r.timescale, run.rules);
    return end <= window.end || window.end >= run.now;
  });
  return [...valid, ...rolled];
}

/** Group records into line-protocol lines per bucket, in a stable order. */
export function linesByBucket(records: readonly DataRecord[], prefix: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const record of records) {
    const bucket = bucketName(prefix, record.timescale);
    let lines = out.get(bucket);
    if (!lines) out.set(bucket, (lines = []));
    lines.push(toLineProtocol(record));
  }
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** Write records to the sink, bucket by bucket. */
export async function writeRecords(sink: Sink, records: readonly DataRecord[], prefix: string): Promise<WriteSummary> {
  const summary = emptySummary();
  for (const [bucket, lines] of linesByBucket(records, prefix)) addSummary(summary, await sink.write(bucket, lines));
  return summary;
}

/**
 * Open the configured sink with the run's retry budget and timeouts. Loaded on demand: a
 * script reaches its source's first request without loading the database client.
 */
export async function openRunSink(run: RunContext): Promise<Sink> {
  const { openSink } = await import('../database/index.ts');
  return openSink(run.config, {
    log: run.log,
    signal: run.signal,
    retry: { maxRetryMs: run.config.retrySeconds * 1000 },
    timeoutMs: run.config.httpTimeoutSeconds * 1000,
  });
}

/** Replay the spool, then write, then report; returns the exit code. */
export async function finishRun(run: RunContext, records: readonly DataRecord[], agentName: string): Promise<number> {
  const rows = reportRows(records, (r) => bucketName(run.config.bucketPrefix, r.timescale));
  let summary = emptySummary();
  let replayed = emptySummary();
  const sinkDescription = run.config.target.kind === 'file' ? `file store ${run.config.target.dataDir}` : `${run.config.target.kind} ${new URL(run.config.target.url).host}`;
  if (run.dryRun) {
    for (const [bucket, lines] of linesByBucket(records, run.config.bucketPrefix)) for (const line of lines) run.log.debug(`${bucket}: ${line}`);
  } else {
    const sink = await openRunSink(run);
    try {
      replayed = await sink.replay();
      summary = await writeRecords(sink, records, run.config.bucketPrefix);
    } catch (error) {
      reportProblem(run, `${agentName}: writing to ${sink.description} failed: ${messageOf(error)}`);
    } finally {
      await sink.close();
    }
  }
  printReport(run.log, { agent: agentName, sink: sinkDescription, rows, summary, replayed, dryRun: run.dryRun, problems: run.problems });
  const failed = run.problems.length > 0 || !isComplete(summary, replayed);
  return failed ? EXIT.failed : EXIT.ok;
}

/** The whole pipeline for one agent module; returns the exit code. */
export async function runAgent<S>(module: AgentModule<S>, options: RunOptions): Promise<number> {
  const run = startRun(module, { ...options, extra: extraOf(module, options.extra) });
  if (typeof run === 'number') return run;
  if (module.sampling) {
    const { watchLoop, watchRequest } = await import('./watch.ts');
    const request = watchRequest(run as RunContext, module.sampling.defaultIntervalSeconds);
    if ('error' in request) {
      run.log.error(`${module.name}: ${request.error}`, 'arguments');
      return EXIT.usage;
    }
    if (request.watch) {
      const agent = module.create(run.settings, run.config);
      try {
        return await watchLoop(run as RunContext, agent, request.interval, options.now);
      } finally {
        await agent.close?.();
      }
    }
  }
  const collected = await collectRun(run);
  if (typeof collected === 'number') return collected;
  const code = await finishRun(run, collected.records, collected.agent);
  return collected.fatal instanceof ConfigError ? EXIT.usage : code;
}

/**
 * One agent's collection in a started run: the window, the agent, collect (in a log group),
 * close, validate and roll up. Returns the exit code when the window's arguments are bad.
 */
export async function collectRun<S>(run: RunContext<S>): Promise<{ records: DataRecord[]; fatal?: Error; agent: string } | number> {
  let window: TimeWindow;
  try {
    window = computeWindow(run);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    run.log.error(`${run.module.name}: ${error.message}`, 'arguments');
    return EXIT.usage;
  }
  const agent = run.module.create(run.settings, run.config);
  run.log.debug(`${agent.name}: collecting ${describeWindow(window)} (${run.rules.timezone})`);
  let collected: { records: DataRecord[]; fatal?: Error };
  try {
    collected = await run.log.group(`${agent.name}: collect`, () => collectWindow(agent, window, run));
  } finally {
    await agent.close?.();
  }
  return { records: prepareRecords(collected.records, window, run, agent.name), fatal: collected.fatal, agent: agent.name };
}
