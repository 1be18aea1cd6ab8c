/**
 * The workflow helpers' command lines — `scripts/spool-cache.ts plan|check|prune` and
 * `scripts/store-branch.ts pull|push` — argument handling and exit codes.
 */
import { type CommandContext, EXIT } from '../cli.ts';
import { ConfigError, messageOf } from '../errors.ts';
import { Logger } from '../log.ts';
import { loadConfig } from '../config.ts';
import { checkSpool, planSpool, pruneSpool } from './spool-cache.ts';
import { pullStore, pushStore } from './store-branch.ts';

type Step = (env: CommandContext['env'], log: Logger) => Promise<unknown>;

async function runStep(command: string, steps: Record<string, Step>, context: Pick<CommandContext, 'argv' | 'env'>): Promise<number> {
  const log = new Logger({ env: context.env });
  const name = context.argv[0];
  if (context.argv.length !== 1 || name === undefined || !Object.hasOwn(steps, name)) {
    log.error(`${command}: expected one of ${Object.keys(steps).join(', ')}\nusage: node --import tsx scripts/${command}.ts ${Object.keys(steps).join('|')} (run by .github/workflows/hourly.yml)`, 'arguments');
    return EXIT.usage;
  }
  try {
    await steps[name]!(context.env, log);
    return EXIT.ok;
  } catch (error) {
    log.error(`${command} ${name}: ${messageOf(error)}`, command);
    return error instanceof ConfigError ? EXIT.usage : EXIT.failed;
  }
}

const clock = (env: CommandContext['env']): number => loadConfig(env).now ?? Math.floor(Date.now() / 1000);

/** One step of the spool bookkeeping around actions/cache. */
export function runSpoolCache(context: Pick<CommandContext, 'argv' | 'env'>): Promise<number> {
  return runStep('spool-cache', { plan: planSpool, check: checkSpool, prune: pruneSpool }, context);
}

/** One step of keeping the file store on a branch. */
export function runStoreBranch(context: Pick<CommandContext, 'argv' | 'env'>): Promise<number> {
  return runStep('store-branch', { pull: (env, log) => pullStore(env, log, clock(env)), push: (env, log) => pushStore(env, log, { now: clock(env) }) }, context);
}
