/**
 * Create the buckets (InfluxDB 2.x/Cloud) or databases (1.x) homeflux writes to. See docs/setup.md.
 */
import { runMain } from '../src/cli.ts';
import { runSetup } from '../src/setup/index.ts';

await runMain('setup', (c) => runSetup(c));
