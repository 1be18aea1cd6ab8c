/**
 * The one entry runner every script calls (`await runMain('opower', (c) => runAgent(opower, c))`):
 * it hands the command the real argv and environment, wires SIGINT/SIGTERM to one abort signal,
 * is the one place that catches what no command expected (a bug: its stack is shown, with
 * secrets redacted) and the one place that sets the process's exit code.
 *
 * Commands parse their own arguments once and return the exit code: {@link EXIT}.
 */
import type { Env } from './config.ts';
import { Logger } from './log.ts';

/** Exit codes, for every command: 0 everything done, 1 something failed or was not written, 2 bad arguments or configuration. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** What a command gets. */
export interface CommandContext {
  /** Arguments after the script's name. */
  argv: readonly string[];
  env: Env;
  /** Aborted on SIGTERM, or on SIGINT (the second one with `graceful`): stop now. */
  signal: AbortSignal;
  /** Aborted on the first SIGINT or SIGTERM: start nothing new, finish what is in flight. */
  interrupt: AbortSignal;
}

/** A script's work: returns its exit code. */
export type Command = (context: CommandContext) => Promise<number>;

/** Options for {@link runMain}. */
export interface MainOptions {
  /**
   * What is in flight, e.g. `the chunks`: then the first Ctrl-C only interrupts (finish it,
   * start nothing new), the second aborts; SIGTERM always aborts. Without it the first signal aborts.
   */
  graceful?: string;
  argv?: readonly string[];
  env?: Env;
}

/** Run `command` as the process's main work and set `process.exitCode`; returns the code. */
export async function runMain(name: string, command: Command, options: MainOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const interrupt = new AbortController();
  const abort = new AbortController();
  const onSigint = (): void => {
    if (options.graceful !== undefined && !interrupt.signal.aborted) {
      process.stderr.write(`\n${name}: interrupted — finishing ${options.graceful} in flight (Ctrl-C again to abandon them)\n`);
      interrupt.abort();
      return;
    }
    interrupt.abort();
    abort.abort();
  };
  const onSigterm = (): void => {
    interrupt.abort();
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  // `… | head` closes stdout early: that is the reader being done, not an error to show. The
  // listener stays: the EPIPE of the last writes arrives after the command has returned.
  const onStdoutError = (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
    throw error;
  };
  process.stdout.on('error', onStdoutError);
  let code: number;
  try {
    code = await command({ argv: options.argv ?? process.argv.slice(2), env, signal: abort.signal, interrupt: interrupt.signal });
  } catch (error) {
    new Logger({ env }).error(`${name}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    code = EXIT.failed;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
  process.exitCode = code;
  return code;
}
