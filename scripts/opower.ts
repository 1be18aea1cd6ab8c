/**
 * Utility meter reads, cost, bills and weather from an Opower portal. See src/agents/opower/README.md.
 */
import { opower } from '../src/agents/opower/index.ts';
import { runMain } from '../src/cli.ts';
import { runAgent } from '../src/run/pipeline.ts';

await runMain('opower', (c) => runAgent(opower, c));
