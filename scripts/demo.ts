/**
 * Simulated home → the configured store (the file store ./data when INFLUX_URL is unset).
 * `npx tsx scripts/demo.ts [--since 90d] [--dry-run]`
 */
import { demo } from '../src/agents/demo.ts';
import { main } from '../src/run.ts';

await main(demo);
