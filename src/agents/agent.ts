/**
 * The agent contract (DESIGN.md "Agents"): an agent turns a time window into records.
 * It does not write, schedule or print; the run pipeline (src/run/pipeline.ts) does all of that.
 */
import type { z } from 'zod';
import type { Config, Env } from '../config.ts';
import type { Logger } from '../log.ts';
import type { DataRecord } from '../records.ts';
import type { RollupSpec } from '../rollup.ts';
import type { LocalRules, TimeWindow } from '../window.ts';

/** What `collect` gets besides the window. */
export interface CollectContext {
  /** Aborted on SIGINT/SIGTERM or when the run gives up; pass it to fetch and sockets. */
  signal: AbortSignal;
  /** For debug detail and masking run-time secrets (session cookies, tokens). */
  log: Logger;
  /**
   * Report a problem that spoils part of the data but not the rest (a bad payload, one host
   * of several down). The run goes on and exits 1 at the end.
   */
  problem(error: Error): void;
  /**
   * The run's current time in Unix seconds (pinned by tests via `runAgent({now})`); agents that
   * must not return future points compare against it, never against the clock.
   */
  now: number;
  /**
   * `--dry-run` or `HOMEFLUX_DRY_RUN`: nothing may change anywhere — an agent's own state
   * files included (the pipeline already writes nothing).
   */
  dryRun: boolean;
}

/** A running agent. */
export interface Agent {
  /** Short name used in messages, e.g. `opower.gwp`. */
  readonly name: string;
  /** Records for the window. Throw the classes of src/errors.ts for whole-window failures. */
  collect(window: TimeWindow, context: CollectContext): Promise<DataRecord[]>;
  /** Release sockets, sessions. */
  close?(): Promise<void>;
}

/** How far an agent reaches and what the pipeline derives from its records. */
export interface AgentLimits {
  /** Largest window one `collect` call may cover: whole local days, or seconds. */
  maxWindow: { maxDays: number } | { maxSeconds: number };
  /** Default lookback in seconds (a skipped hourly run heals on the next one). */
  lookback: number;
  /** Rollups to compute from collected records; the window is widened to whole periods they need. */
  rollups: readonly RollupSpec[];
  /**
   * The window when neither `--since` nor `--until` is given, used as is (not widened);
   * default: the last `lookback` seconds widened to whole rollup periods.
   */
  defaultWindow?: (now: number, rules: LocalRules) => TimeWindow;
}

/** What an agent module exports: its settings, how to read them, how to build it, its limits. */
export interface AgentModule<S = unknown> {
  readonly name: string;
  /** One-line description for `--help`. */
  readonly description: string;
  /** zod schema of the agent's settings. */
  readonly settings: z.ZodType<S>;
  /**
   * Read settings from the environment (throws ConfigError naming the variable); `positionals`
   * are the command line's file names for a module that declares {@link positionals}.
   */
  fromEnv(env: Env, config: Config, positionals?: readonly string[]): S;
  /** The command line takes positionals (e.g. `<file…>`): their usage and help lines. */
  readonly positionals?: { usage: string; help: string[] };
  /**
   * The agent samples "now" (a UPS, a device page): `--since/--until` do not apply, and its
   * script takes `--watch [--interval D]` (src/run/watch.ts), `defaultIntervalSeconds` apart.
   */
  readonly sampling?: { defaultIntervalSeconds: number };
  /**
   * The variables without which the agent has nothing to do — each entry a list of names of
   * which any one will do. The hourly run (src/run/hourly.ts) skips an agent missing one, with
   * a notice naming what to set, instead of failing.
   */
  readonly requires?: readonly (readonly string[])[];
  /** Build the agent. */
  create(settings: S, config: Config): Agent;
  /** Limits; may depend on settings. */
  limits(settings: S, config: Config): AgentLimits;
}

/**
 * The limits of an agent that samples "now" (a UPS, MQTT devices, a station's uploads): the
 * window only carries the sample time (its end), and there are no pipeline rollups — they would
 * aggregate one run's records, and a day built from one hour would overwrite the real day; such
 * agents keep their hours, days and weeks in state files of their own.
 */
export function samplingLimits(): AgentLimits {
  return {
    maxWindow: { maxSeconds: 366 * 86400 },
    lookback: 60,
    rollups: [],
    defaultWindow: (now) => ({ start: now - 60, end: now }),
  };
}
