/**
 * Utility meter reads, cost, bills and weather from an Opower portal. See docs/agents/opower.md.
 */
import { opower } from '../src/agents/opower.ts';
import { runMain } from '../src/cli.ts';
import { runAgent } from '../src/run/pipeline.ts';

await runMain('opower', (c) => runAgent(opower, c));
