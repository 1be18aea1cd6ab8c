/**
 * `scripts/opower.ts --login`: sign in once at a terminal for a utility whose sign-in sends a
 * one-time code by e-mail or text (the Exelon group), and keep the session it gives — sealed
 * with HOMEFLUX_STATE_KEY — for the scheduled runs to refresh. Questions go to standard error
 * and answers come from standard input (a person typing, or a pipe). For every other utility it
 * signs in once and says so: a check of the credentials (and of OPOWER_TOTP_SECRET).
 *
 * A command beside the run pipeline, not part of the agent: it drives the agent's client and
 * sign-in directly and writes no records.
 */
import { createInterface } from 'node:readline';
import type { CommandContext } from '../cli.ts';
import { EXIT } from '../cli.ts';
import { ConfigError } from '../errors.ts';
import { Logger, type LogStreams } from '../log.ts';
import { OpowerClient } from '../agents/opower/client.ts';
import { sessionOf } from '../agents/opower/index.ts';
import { sealedSession } from '../agents/opower/session.ts';
import { opowerFromEnv } from '../agents/opower/settings.ts';
import { findUtility } from '../agents/opower/utilities.ts';

/** Streams of the command (tests pass their own). */
export interface LoginStreams {
  input: NodeJS.ReadableStream;
  /** Where questions are written. */
  prompt: (text: string) => void;
  /** Where the log lines go (default stdout/stderr). */
  log?: LogStreams;
}

/** Ask questions on `streams`, one answer per line; rejects when the input ends first. */
function asker(streams: LoginStreams): { ask: (question: string) => Promise<string>; close: () => void } {
  const lines = createInterface({ input: streams.input, terminal: false });
  const waiting: ((line: string | undefined) => void)[] = [];
  const ready: string[] = [];
  let closed = false;
  lines.on('line', (line) => (waiting.length > 0 ? waiting.shift()!(line) : ready.push(line)));
  lines.on('close', () => {
    closed = true;
    for (const resolve of waiting.splice(0)) resolve(undefined);
  });
  return {
    ask: async (question) => {
      streams.prompt(question);
      const line = ready.length > 0 ? ready.shift() : closed ? undefined : await new Promise<string | undefined>((resolve) => waiting.push(resolve));
      if (line === undefined) throw new ConfigError('--login: standard input ended before the answer was typed', 'stdin');
      return line;
    },
    close: () => lines.close(),
  };
}

/** Run the sign-in at the terminal and keep its session; returns the exit code. */
export async function loginCommand(context: CommandContext, streams: LoginStreams = { input: process.stdin, prompt: (text) => process.stderr.write(text) }): Promise<number> {
  const log = new Logger({ env: context.env, verbose: context.argv.includes('--verbose'), streams: streams.log });
  let settings;
  try {
    settings = opowerFromEnv(context.env);
  } catch (error) {
    log.error(`opower --login: ${(error as Error).message}`);
    return EXIT.usage;
  }
  const utility = findUtility(settings.utility)!;
  const kept = sessionOf(settings);
  if (utility.login.keepsSession && kept === undefined) {
    log.error('opower --login: HOMEFLUX_STATE_KEY is not set — it seals the kept session (at least 16 characters, e.g. `openssl rand -base64 32`; the same value as the scheduled runs\' secret)');
    return EXIT.usage;
  }
  const questions = asker(streams);
  const client = new OpowerClient({
    utility,
    baseUrl: settings.baseUrl,
    loginBaseUrl: settings.loginBaseUrl,
    username: settings.username,
    password: settings.password,
    totpSecret: settings.totpSecret,
    session: kept && sealedSession(kept.file, kept.key),
    ask: questions.ask,
    log,
    timeoutMs: 60_000,
  });
  try {
    await client.ready(context.signal);
  } catch (error) {
    log.error(`opower --login: ${(error as Error).message}`);
    return error instanceof ConfigError ? EXIT.usage : EXIT.failed;
  } finally {
    questions.close();
  }
  if (kept === undefined) {
    // Nothing to keep: the sign-in was a check of the credentials (and of OPOWER_TOTP_SECRET).
    log.info(`opower --login: signed in to ${utility.name} (${utility.login.kind}); nothing needs keeping — scheduled runs sign in by themselves`);
  } else {
    log.info(`opower --login: signed in to ${utility.name}; the session is kept, sealed, in ${kept.file} — scheduled runs refresh it (keep that file between runs, e.g. in an Actions cache)`);
  }
  return EXIT.ok;
}
