/**
 * Device status pages (HTML/JSON) → the configured store, as declared in SCRAPE_CONFIG.
 * `SCRAPE_CONFIG=examples/scrape/shelly-plug.yaml npx tsx scripts/scrape.ts [--dry-run]`
 */
import { scrape } from '../src/agents/scrape.ts';
import { main } from '../src/run.ts';

await main(scrape);
