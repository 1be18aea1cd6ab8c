/**
 * Send the spool (and with --store the file store) to the configured InfluxDB.
 */
import { runMain } from '../src/cli.ts';
import { runReplay } from '../src/run/replay.ts';

await runMain('replay', (c) => runReplay([...c.argv], c.env, c.signal));
