/**
 * Command-line arguments shared by every script (`node:util` parseArgs, strict).
 * Scripts may add options of their own (e.g. `--watch`) and positionals (file names).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { AgentModule } from '../agents/agent.ts';
import { ConfigError } from '../errors.ts';

/** Extra options a script declares, in parseArgs' format, with help lines. */
export interface ExtraOptions {
  options?: NonNullable<ParseArgsConfig['options']>;
  /** `--name VALUE  what it does` lines for --help. */
  help?: string[];
  /** Usage of positionals, e.g. `<file…>`; when absent positionals are refused. */
  positionals?: string;
}

/** Parsed arguments. */
export interface RunArgs {
  since?: string;
  until?: string;
  dryRun: boolean;
  verbose: boolean;
  help: boolean;
  /** Values of extra options. */
  extra: { [name: string]: string | boolean | (string | boolean)[] | undefined };
  positionals: string[];
}

const COMMON = {
  since: { type: 'string' },
  until: { type: 'string' },
  'dry-run': { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Usage text for a script. */
export function usage(script: string, description: string, extra: ExtraOptions = {}): string {
  const lines = [
    `usage: npx tsx scripts/${script}.ts [options]${extra.positionals ? ` ${extra.positionals}` : ''}`,
    '',
    description,
    '',
    'options:',
    '  --since WHEN    start of the window: a date (2025-10-28), a local date-time, or a duration back from now (5d, 36h)',
    '  --until WHEN    end of the window (default now)',
    '  --dry-run       collect and show what would be written, write nothing',
    '  -v, --verbose   more detail (also HOMEFLUX_DEBUG=true)',
    '  -h, --help      this text',
    ...(extra.help ?? []).map((line) => `  ${line}`),
    '',
    'Configuration comes from the environment; see README.md.',
  ];
  return lines.join('\n');
}

/** Parse argv; throws {@link ConfigError} (exit 2) on unknown or malformed arguments. */
export function parseRunArgs(argv: readonly string[], extra: ExtraOptions = {}): RunArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...COMMON, ...extra.options },
      strict: true,
      allowPositionals: extra.positionals !== undefined,
    });
  } catch (error) {
    throw new ConfigError((error as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
  const { since, until, 'dry-run': dryRun, verbose, help, ...rest } = parsed.values as { [name: string]: string | boolean | undefined };
  return {
    since: since as string | undefined,
    until: until as string | undefined,
    dryRun: dryRun === true,
    verbose: verbose === true,
    help: help === true,
    extra: rest,
    positionals: parsed.positionals,
  };
}

/** The options a sampling agent's script gets. */
export const WATCH_OPTIONS: ExtraOptions = {
  options: {
    watch: { type: 'boolean' },
    interval: { type: 'string' },
  },
  help: [
    '--watch         keep sampling until SIGTERM/SIGINT, writing each sample (for a systemd service)',
    '--interval D    time between samples with --watch: 60s (default), 30s, 5m, …',
  ],
};

/** The script's options: the caller's, the module's positionals, and `--watch`/`--interval` for sampling agents. */
export function extraOf(module: AgentModule<unknown>, extra: ExtraOptions = {}): ExtraOptions {
  const watch: ExtraOptions = module.sampling ? WATCH_OPTIONS : {};
  return {
    options: { ...watch.options, ...extra.options },
    help: [...(module.positionals?.help ?? []), ...(watch.help ?? []), ...(extra.help ?? [])],
    positionals: extra.positionals ?? module.positionals?.usage,
  };
}
