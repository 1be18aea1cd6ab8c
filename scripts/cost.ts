/**
 * Stored usage priced under a tariff (COST_TARIFF): `npx tsx scripts/cost.ts [--since …]`
 * writes cost records; `--compare FILE…` prints which plan would have been cheapest. See
 * src/agents/cost/README.md.
 */
import { cost } from '../src/agents/cost/index.ts';
import { runMain } from '../src/cli.ts';
import { runCompare } from '../src/run/compare.ts';
import { runAgent } from '../src/run/pipeline.ts';

await runMain('cost', (c) => (c.argv.includes('--compare') ? runCompare(c) : runAgent(cost, c)));
