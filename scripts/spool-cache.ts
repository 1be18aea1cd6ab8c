/**
 * The hourly workflow's spool bookkeeping around actions/cache: `plan` before the restore,
 * `check` after it, `prune` after the save. See src/actions/spool-cache.ts.
 */
import { runMain } from '../src/cli.ts';
import { runSpoolCache } from '../src/actions/command.ts';

await runMain('spool-cache', (c) => runSpoolCache(c));
