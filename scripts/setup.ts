/**
 * Create the buckets (InfluxDB 2.x/Cloud) or databases (1.x) homeflux writes to, with their retention.
 * `npx tsx scripts/setup.ts [--dry-run] [--delete-existing]` — see docs/setup.md.
 */
import { runSetup } from '../src/setup/index.ts';

process.exitCode = await runSetup({ argv: process.argv.slice(2), env: process.env });
