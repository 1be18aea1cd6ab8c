/**
 * Move the original homeflux daemon's GWP points into the opower agent's series, then delete
 * them. `npx tsx scripts/migrate-original.ts [--dry-run]` — see docs/agents/opower.md.
 */
import { runMigrateOriginal } from '../src/migrate/original.ts';

process.exitCode = await runMigrateOriginal({ argv: process.argv.slice(2), env: process.env });
