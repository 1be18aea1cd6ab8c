/**
 * Backfill one agent over a long range, resumably.
 * `npx tsx scripts/backfill.ts <agent> --since 2023-01-01 [--until 2024-01-01] [--concurrency 2] [--force]`
 *
 * Ctrl-C (SIGINT) lets the units in flight finish and saves the checkpoint (exit 130); a second
 * Ctrl-C or SIGTERM abandons them at once. Run the same command again to resume. See docs/backfill.md.
 */
import { runBackfill } from '../src/backfill/index.ts';

const interrupt = new AbortController();
const abort = new AbortController();
const onSigint = (): void => {
  if (interrupt.signal.aborted) abort.abort();
  else {
    process.stderr.write('\nbackfill: interrupted — finishing the chunks in flight (Ctrl-C again to abandon them)\n');
    interrupt.abort();
  }
};
const onSigterm = (): void => {
  interrupt.abort();
  abort.abort();
};
process.on('SIGINT', onSigint);
process.on('SIGTERM', onSigterm);
const live = process.stderr.isTTY === true && process.env.GITHUB_ACTIONS !== 'true' && process.env.CI === undefined;
try {
  process.exitCode = await runBackfill({ argv: process.argv.slice(2), env: process.env, progress: live ? 'live' : 'lines', signal: abort.signal, interrupt: interrupt.signal });
} catch (error) {
  process.stderr.write(`backfill: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
} finally {
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigterm);
}
