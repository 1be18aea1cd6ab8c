/**
 * Opower utility portal (GWP, BWP, Clark, NIPSCO, Rhode Island Energy) → the configured store.
 * `OPOWER_UTILITY=gwp OPOWER_USERNAME=… OPOWER_PASSWORD=… npx tsx scripts/opower.ts [--since 30d] [--dry-run]`
 */
import { opower } from '../src/agents/opower.ts';
import { main } from '../src/run.ts';

await main(opower);
