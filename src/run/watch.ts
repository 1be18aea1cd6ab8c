/**
 * Long-running mode (DESIGN.md "Long-running modes"): an agent that samples "now" (a UPS, a
 * device page; MQTT devices and a weather station next) declares `limits.sampling`, and its
 * script then takes `--watch [--interval D]` — one generic loop for a systemd service that
 * samples every interval, writes each sample as it goes through the same writer and spool, and
 * exits cleanly on SIGTERM/SIGINT after one last sample (what arrived since the previous one is
 * written, not dropped).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Agent } from '../agents/agent.ts';
import { addSummary, emptySummary, isComplete } from '../database/sink.ts';
import { messageOf } from '../errors.ts';
import { parseDuration } from '../window.ts';
import { collectWindow, EXIT, openRunSink, prepareRecords, type RunContext, writeRecords } from './pipeline.ts';

/** What `--watch` and `--interval` ask for: a loop with its interval, or one sample; or the reason they are refused. */
export function watchRequest(run: RunContext, defaultInterval: number): { watch: boolean; interval: number } | { error: string } {
  if (run.args.since !== undefined || run.args.until !== undefined) {
    return { error: `--since/--until do not apply: ${run.module.name} samples now (what depends on earlier samples is kept up to date as they arrive)` };
  }
  const watch = run.args.extra.watch === true;
  const arg = run.args.extra.interval;
  if (arg !== undefined && !watch) return { error: '--interval only applies with --watch' };
  const interval = typeof arg === 'string' ? parseDuration(arg) : defaultInterval;
  if (interval === undefined || interval < 1) return { error: `--interval: expected a duration of at least 1s such as 60s or 5m, found "${String(arg)}"` };
  return { watch, interval };
}

/**
 * Sample every `interval` seconds until `run.signal` aborts. Each sample is written at once
 * through a fresh sink (which replays the spool first, so a database outage heals by itself).
 * The stop signal interrupts only the wait, and one last sample follows; a sample in progress is finished and written
 * before exiting. `pinnedNow` (tests) fixes the first sample's time; later ones follow the clock.
 */
export async function watchLoop(run: RunContext, agent: Agent, interval: number, pinnedNow?: number): Promise<number> {
  const stop = run.signal;
  // Writes must not be cut short by the stop signal: give the sink and sampler a signal of their own.
  const work: RunContext = { ...run, signal: new AbortController().signal };
  const name = run.module.name;
  const total = emptySummary();
  let samples = 0;
  let writeFailed = false;
  run.log.info(`${name}: sampling every ${interval} s until SIGTERM/SIGINT`);
  const offset = pinnedNow === undefined ? 0 : pinnedNow - Math.floor(Date.now() / 1000);
  for (;;) {
    const started = Date.now();
    const now = Math.floor(started / 1000) + offset;
    const window = { start: now - interval, end: now };
    work.problems = [];
    const collected = await collectWindow(agent, window, { ...work, now });
    const records = prepareRecords(collected.records, window, { ...work, now }, agent.name);
    samples++;
    if (run.dryRun) {
      run.log.info(`${name}: sample at ${new Date(now * 1000).toISOString()}: would write ${records.length} point(s)`);
    } else if (records.length > 0) {
      const sink = await openRunSink(work);
      try {
        const replayed = await sink.replay();
        const summary = await writeRecords(sink, records, run.config.bucketPrefix);
        addSummary(total, replayed);
        addSummary(total, summary);
        writeFailed = !isComplete(summary);
        run.log.debug(`${name}: wrote ${summary.written} line(s) to ${sink.description}${summary.spooled ? `, ${summary.spooled} spooled` : ''}`);
      } catch (error) {
        writeFailed = true;
        run.log.error(`${name}: writing to ${sink.description} failed: ${messageOf(error)}`);
      } finally {
        await sink.close();
      }
    }
    if (stop.aborted) break;
    const wait = Math.max(0, interval * 1000 - (Date.now() - started));
    await delay(wait, undefined, { signal: stop }).catch(() => {});
    // Stopped during the wait: one last sample, so that what a receiving agent (MQTT messages,
    // station uploads) got since the previous sample is written before exiting.
  }
  run.log.info(`${name}: stopped after ${samples} sample(s); ${total.written} line(s) written${total.spooled ? `, ${total.spooled} spooled for the next run` : ''}`);
  // A service stopped on purpose exits 0 unless its last write could not be completed
  // (those lines are in the spool; the next start replays them).
  return writeFailed ? EXIT.failed : EXIT.ok;
}
