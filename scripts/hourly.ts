/**
 * Every configured agent once, in one process: what the hourly workflow runs. See
 * docs/github-actions.md.
 */
import { runMain } from '../src/cli.ts';
import { runHourly } from '../src/run/hourly.ts';

await runMain('hourly', (c) => runHourly(c));
