/**
 * Move the original homeflux daemon's GWP points into the opower agent's series. See src/agents/opower/README.md.
 */
import { runMain } from '../src/cli.ts';
import { runMigrateOriginal } from '../src/migrate/original.ts';

await runMain('migrate-original', (c) => runMigrateOriginal(c));
