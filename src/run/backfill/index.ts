/**
 * Backfill: one agent over a long range, in work units (src/run/backfill/plan.ts) run a few at a
 * time, each collected, rolled up and written before the next starts, with a checkpoint of
 * finished units so an interrupted backfill resumes where it stopped.
 *
 * Built from the run pipeline's blocks (src/run/pipeline.ts) so that validation, rollups, the spool and
 * the report are the same as every hourly run's.
 */
import type { AgentModule } from '../../agents/agent.ts';
import { agentNames, loadAgent } from '../../agents/registry.ts';
import type { ExtraOptions } from '../args.ts';
import { type Env } from '../../config.ts';
import { addSummary, emptySummary, isComplete, type Sink } from '../../database/sink.ts';
import { ConfigError, messageOf } from '../../errors.ts';
import type { LogStreams } from '../../log.ts';
import { bucketName, type DataRecord } from '../../records.ts';
import { printReport, type ReportRow, reportRows } from '../summary.ts';
import { collectWindow, computeWindow, EXIT, openRunSink, prepareRecords, reportProblem, type RunContext, startRun, writeRecords } from '../pipeline.ts';
import { pool } from '../../pool.ts';
import { describeWindow, type TimeWindow } from '../../window.ts';
import { Checkpoint } from './checkpoint.ts';
import { planUnits, unitKey } from './plan.ts';
import { Progress, type ProgressMode } from './progress.ts';

/** Exit code after an interrupt (128 + SIGINT), as shells expect. */
export const EXIT_INTERRUPTED = 130;

/** Options for {@link runBackfill}. */
export interface BackfillOptions {
  /** `<agent> --since … [--until …] [--concurrency N] [--force] [--dry-run] [--verbose]`. */
  argv: readonly string[];
  env: Env;
  streams?: LogStreams;
  /** Progress display; default lines (tests), the script picks live on a terminal. */
  progress?: ProgressMode;
  /** Writes raw text for the live line (default stderr). */
  raw?: (text: string) => void;
  now?: number;
  /** Aborted: in-flight units are abandoned (not checkpointed), the run stops. */
  signal?: AbortSignal;
  /** Aborted: no new unit starts; units in flight finish and are checkpointed. */
  interrupt?: AbortSignal;
  /** Load an agent by name (default the registry). */
  load?: (name: string) => Promise<AgentModule>;
}

const EXTRA: ExtraOptions = {
  options: { concurrency: { type: 'string' }, force: { type: 'boolean' } },
  help: ['--concurrency N  work units in flight at once (default 2)', '--force         ignore the checkpoint and fetch every unit again'],
};

/** Usage text of the backfill script. */
export function backfillUsage(): string {
  return [
    'usage: npx tsx scripts/backfill.ts <agent> --since WHEN [--until WHEN] [--concurrency N] [--force] [--dry-run] [-v]',
    '',
    `Collect a long range for one agent (${agentNames().join(', ')}), written as it goes and resumable.`,
    '',
    'options:',
    '  --since WHEN       start: a date (2023-01-01), a local date-time, or a duration back from now (400d)',
    '  --until WHEN       end (default now); give dates for both to make an interrupted backfill resumable',
    ...EXTRA.help!.map((line) => `  ${line.replace(/^(--\S+(?: N)?)\s+/, (_m, name: string) => name.padEnd(19))}`),
    '  --dry-run          collect, write nothing',
    '  -v, --verbose      one line per request',
    '  -h, --help         this text',
    '',
    'Configuration comes from the environment, as for the agent’s own script; see docs/backfill.md.',
  ].join('\n');
}

interface State {
  run: RunContext;
  sink: Sink | undefined;
  checkpoint: Checkpoint;
  progress: Progress;
  summary: ReturnType<typeof emptySummary>;
  rows: Map<string, ReportRow>;
  /** Serialises writes and checkpoint updates: the file store rewrites whole files. */
  writing: Promise<unknown>;
  fatal?: Error;
  written: number;
  failed: number;
}

/** Run a backfill; returns the exit code (0 ok, 1 problems, 2 usage, 130 interrupted). */
export async function runBackfill(options: BackfillOptions): Promise<number> {
  const err = options.streams?.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const out = options.streams?.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const [name, ...rest] = options.argv;
  if (name === undefined || name.startsWith('-')) {
    if (name === '-h' || name === '--help') {
      out(backfillUsage());
      return EXIT.ok;
    }
    err('backfill: expected an agent name first');
    err(backfillUsage());
    return EXIT.usage;
  }
  let module: AgentModule;
  try {
    module = await (options.load ?? loadAgent)(name);
  } catch (error) {
    err(`backfill: ${messageOf(error)}`);
    return EXIT.usage;
  }

  // Messages printed while the live line is shown clear it first and redraw it after.
  const shown: { progress?: Progress } = {};
  const around = (write: (line: string) => void) => (line: string) => {
    shown.progress?.clear();
    write(line);
    shown.progress?.render();
  };
  const run = startRun(module, { argv: rest, env: options.env, streams: { out: around(out), err: around(err) }, now: options.now, extra: EXTRA, signal: options.signal });
  if (typeof run === 'number') return run;
  let window: TimeWindow;
  let concurrency: number;
  try {
    if (run.args.since === undefined) throw new ConfigError('--since is required: the start of the range to backfill (a date such as 2023-01-01, or a duration such as 400d)', '--since');
    window = computeWindow(run);
    concurrency = parseConcurrency(run.args.extra.concurrency);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    run.log.error(`backfill ${module.name}: ${error.message}`, 'arguments');
    return EXIT.usage;
  }

  const checkpoint = new Checkpoint({ agent: module.name, window, config: run.config, settings: run.settings });
  const units = planUnits(window, run.limits, run.rules);
  const force = run.args.extra.force === true;
  const skipped = force || run.dryRun ? 0 : await checkpoint.load();
  const todo = units.filter((unit) => force || run.dryRun || !checkpoint.has(unitKey(unit)));
  const label = `backfill ${module.name}`;
  run.log.info(
    `${label}: ${describeWindow(window)} (${run.rules.timezone}) in ${units.length} chunk(s)` +
      (todo.length < units.length ? `, ${units.length - todo.length} already done (checkpoint ${checkpoint.path})` : '') +
      `, ${Math.min(concurrency, Math.max(todo.length, 1))} at a time`,
  );
  if (skipped > 0 && todo.length === units.length) run.log.warn(`${label}: the checkpoint lists ${skipped} unit(s) that match none of this plan; fetching everything`);

  const progress = new Progress({ mode: options.progress ?? 'lines', label, total: todo.length, line: (text) => run.log.info(text), raw: options.raw ?? ((text) => process.stderr.write(text)) });
  shown.progress = progress;
  const agent = module.create(run.settings, run.config);
  const state: State = { run, sink: run.dryRun ? undefined : await openRunSink(run), checkpoint, progress, summary: emptySummary(), rows: new Map(), writing: Promise.resolve(), written: 0, failed: 0 };
  let replayed = emptySummary();
  try {
    if (state.sink) replayed = await state.sink.replay();
    const stopped = (): boolean => state.fatal !== undefined || options.interrupt?.aborted === true || run.signal.aborted;
    // Once stopped, the units not yet started are left for the next run (the checkpoint says so).
    await pool(todo, concurrency, async (unit) => {
      if (!stopped()) await runUnit(state, agent, unit);
    });
    await state.writing;
  } catch (error) {
    reportProblem(run, `${label}: ${messageOf(error)}`);
  } finally {
    progress.stop();
    await agent.close?.();
    await state.sink?.close();
  }

  const interrupted = (options.interrupt?.aborted === true || run.signal.aborted) && state.written + state.failed < todo.length;
  const complete = state.written === todo.length && run.problems.length === 0 && !run.dryRun;
  if (complete) await checkpoint.remove();
  const sinkDescription = run.config.target.kind === 'file' ? `file store ${run.config.target.dataDir}` : `${run.config.target.kind} ${new URL(run.config.target.url).host}`;
  printReport(run.log, { agent: label, sink: sinkDescription, rows: [...state.rows.values()], summary: state.summary, replayed, dryRun: run.dryRun, problems: run.problems });
  const left = todo.length - state.written;
  run.log.info(
    `${label}: ${state.written} of ${todo.length} chunk(s) ${run.dryRun ? 'collected' : 'written'} in this run` +
      (units.length > todo.length ? ` (${units.length - todo.length} done earlier)` : '') +
      (left > 0 && !run.dryRun ? `; ${left} left — run the same command again to resume (checkpoint ${checkpoint.path})` : ''),
  );
  if (interrupted) {
    run.log.warn(`${label}: interrupted`);
    return EXIT_INTERRUPTED;
  }
  if (state.fatal instanceof ConfigError) return EXIT.usage;
  const failed = run.problems.length > 0 || !isComplete(state.summary, replayed);
  return failed ? EXIT.failed : EXIT.ok;
}

/** Work units in flight when `--concurrency` is not given. */
const DEFAULT_CONCURRENCY = 2;

function parseConcurrency(value: unknown): number {
  if (value === undefined) return DEFAULT_CONCURRENCY;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new ConfigError(`--concurrency: expected a whole number from 1 to 16, got "${String(value)}"`, '--concurrency');
  return n;
}

// One unit: collect (requests in order), validate and roll up, write, checkpoint. The unit's
// own problem list decides whether it is checkpointed; problems are then added to the run's.
async function runUnit(state: State, agent: ReturnType<AgentModule['create']>, unit: TimeWindow): Promise<void> {
  const { run } = state;
  const unitRun: RunContext = { ...run, problems: [] };
  state.progress.start();
  let points = 0;
  let outcome = 'failed';
  try {
    const collected = await collectWindow(agent, unit, unitRun);
    if (collected.fatal) state.fatal ??= collected.fatal;
    const records = prepareRecords(collected.records, unit, unitRun, agent.name);
    points = records.length;
    mergeRows(state, records);
    if (!state.sink) {
      outcome = 'collected';
      if (unitRun.problems.length === 0) state.written++;
      else state.failed++;
      return;
    }
    const sink = state.sink;
    const write = state.writing.then(async () => {
      const summary = await writeRecords(sink, records, run.config.bucketPrefix);
      addSummary(state.summary, summary);
      const clean = unitRun.problems.length === 0 && isComplete(summary) && !collected.fatal;
      if (!clean) return false;
      // A unit reaching the present is fetched again by a resumed run: its data is still filling in.
      if (unit.end <= run.now) await state.checkpoint.add(unitKey(unit));
      return true;
    });
    state.writing = write.catch(() => undefined);
    const ok = await write;
    if (ok) {
      state.written++;
      outcome = 'written';
    } else {
      state.failed++;
      outcome = 'incomplete';
    }
  } catch (error) {
    state.failed++;
    reportProblem(unitRun, `${agent.name}: ${describeWindow(unit)}: ${messageOf(error)}`);
  } finally {
    run.problems.push(...unitRun.problems);
    state.progress.finish(unit, points, outcome);
  }
}

function mergeRows(state: State, records: readonly DataRecord[]): void {
  for (const row of reportRows(records, (r) => bucketName(state.run.config.bucketPrefix, r.timescale))) {
    const key = `${row.bucket}\u0000${row.measurement}`;
    const seen = state.rows.get(key);
    if (!seen) state.rows.set(key, row);
    else {
      seen.points += row.points;
      seen.first = Math.min(seen.first, row.first);
      seen.last = Math.max(seen.last, row.last);
    }
  }
}
