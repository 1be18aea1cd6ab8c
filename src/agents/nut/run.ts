/**
 * Running the nut agent: one sample per invocation (cron, a systemd timer, a self-hosted
 * runner), or `--watch`, a long-running sampler for a systemd service that writes each sample
 * as it goes and exits 0 on SIGTERM/SIGINT once the sample in progress is written.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { ExtraOptions } from '../../args.ts';
import { addSummary, emptySummary } from '../../database/sink.ts';
import { messageOf } from '../../errors.ts';
import { Logger } from '../../log.ts';
import { collectWindow, EXIT, finishRun, openRunSink, prepareRecords, type RunContext, type RunOptions, startRun, writeRecords } from '../../run.ts';
import { parseDuration } from '../../window.ts';
import { createNutAgent, nut } from '../nut.ts';
import type { NutSettings } from './settings.ts';

/** The nut script's own options. */
export const nutExtra: ExtraOptions = {
  options: {
    watch: { type: 'boolean' },
    interval: { type: 'string' },
  },
  help: [
    '--watch         keep sampling until SIGTERM/SIGINT, writing each sample (for a systemd service)',
    '--interval D    time between samples with --watch: 60s (default), 30s, 5m, …',
  ],
};

/** Default time between samples with `--watch`. */
export const DEFAULT_INTERVAL_SECONDS = 60;

/** Options for {@link runNut}; `signal` stops `--watch` (the script wires SIGTERM/SIGINT to it). */
export type NutRunOptions = Omit<RunOptions, 'extra'>;

/** Run the nut script: one sample, or the `--watch` loop. Returns the exit code. */
export async function runNut(options: NutRunOptions): Promise<number> {
  const run = startRun(nut, { ...options, extra: nutExtra });
  if (typeof run === 'number') return run;
  const usageError = (message: string): number => {
    run.log.error(`nut: ${message}`, 'arguments');
    return EXIT.usage;
  };
  if (run.args.since !== undefined || run.args.until !== undefined) {
    return usageError('--since/--until do not apply: nut samples the UPS now (the hourly energy is kept up to date as samples arrive)');
  }
  const watch = run.args.extra.watch === true;
  const intervalArg = run.args.extra.interval;
  if (intervalArg !== undefined && !watch) return usageError('--interval only applies with --watch');
  const interval = typeof intervalArg === 'string' ? parseDuration(intervalArg) : DEFAULT_INTERVAL_SECONDS;
  if (interval === undefined || interval < 1) return usageError(`--interval: expected a duration of at least 1s such as 60s or 5m, found "${String(intervalArg)}"`);
  return watch ? watchLoop(run, interval, options.now) : sampleOnce(run);
}

/** One sample through the whole pipeline (replay the spool, write, report). */
async function sampleOnce(run: RunContext<NutSettings>): Promise<number> {
  const agent = createNutAgent(run.settings, run.config);
  const window = { start: run.now - 60, end: run.now };
  const collected = await collectWindow(agent, window, run);
  return finishRun(run, prepareRecords(collected.records, window, run, agent.name), agent.name);
}

/**
 * Sample every `interval` seconds until `run.signal` aborts. Each sample is written at once
 * through a fresh sink (which replays the spool first, so a database outage heals by itself).
 * The stop signal interrupts only the wait: a sample in progress is finished (bounded by the
 * NUT timeouts) and written before exiting.
 */
async function watchLoop(run: RunContext<NutSettings>, interval: number, pinnedNow: number | undefined): Promise<number> {
  const stop = run.signal;
  // Writes must not be cut short by the stop signal: give the sink and sampler a signal of their own.
  const work: RunContext<NutSettings> = { ...run, signal: new AbortController().signal };
  const agent = createNutAgent(run.settings, run.config);
  const total = emptySummary();
  let samples = 0;
  let writeFailed = false;
  run.log.info(`nut: sampling ${run.settings.hosts.map((h) => h.name).join(', ')} every ${interval} s until SIGTERM/SIGINT`);
  // Tests pin `now` for the first sample; later samples follow the clock from there.
  const offset = pinnedNow === undefined ? 0 : pinnedNow - Math.floor(Date.now() / 1000);
  while (!stop.aborted) {
    const started = Date.now();
    const now = Math.floor(started / 1000) + offset;
    const window = { start: now - interval, end: now };
    work.problems = [];
    const collected = await collectWindow(agent, window, { ...work, now });
    const records = prepareRecords(collected.records, window, { ...work, now }, agent.name);
    samples++;
    if (run.dryRun) {
      run.log.info(`nut: sample at ${new Date(now * 1000).toISOString()}: would write ${records.length} point(s)`);
    } else if (records.length > 0) {
      const sink = await openRunSink(work);
      try {
        const replayed = await sink.replay();
        const summary = await writeRecords(sink, records, run.config.bucketPrefix);
        addSummary(total, replayed);
        addSummary(total, summary);
        writeFailed = summary.spooled + summary.rejected > 0 || summary.failure !== undefined;
        run.log.debug(`nut: wrote ${summary.written} line(s) to ${sink.description}${summary.spooled ? `, ${summary.spooled} spooled` : ''}`);
      } catch (error) {
        writeFailed = true;
        run.log.error(`nut: writing to ${sink.description} failed: ${messageOf(error)}`);
      } finally {
        await sink.close();
      }
    }
    const wait = Math.max(0, interval * 1000 - (Date.now() - started));
    await delay(wait, undefined, { signal: stop }).catch(() => {});
  }
  run.log.info(`nut: stopped after ${samples} sample(s); ${total.written} line(s) written${total.spooled ? `, ${total.spooled} spooled for the next run` : ''}`);
  // A service stopped on purpose exits 0 unless its last write could not be completed
  // (those lines are in the spool; the next start replays them).
  return writeFailed ? EXIT.failed : EXIT.ok;
}

/**
 * Entry point for `scripts/nut.ts`: real argv, environment, signals and exit code. SIGTERM and
 * SIGINT stop `--watch` after the sample in progress, and interrupt a single sample.
 */
export async function mainNut(): Promise<void> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    process.exitCode = await runNut({ argv: process.argv.slice(2), env: process.env, signal: controller.signal });
  } catch (error) {
    // A bug, not a reported condition: the stack helps a bug report; secrets are redacted.
    new Logger({ env: process.env }).error(`nut: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = EXIT.failed;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
