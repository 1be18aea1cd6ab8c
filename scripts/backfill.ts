/**
 * One agent over a long range, resumable: `npx tsx scripts/backfill.ts <agent> --since …`. See docs/backfill.md.
 */
import { runMain } from '../src/cli.ts';
import { runBackfill } from '../src/run/backfill/index.ts';

// A live progress line on a terminal; plain lines in CI logs.
const live = process.stderr.isTTY === true && process.env.GITHUB_ACTIONS !== 'true' && process.env.CI === undefined;
await runMain('backfill', (c) => runBackfill({ ...c, progress: live ? 'live' : 'lines' }), { graceful: 'the chunks' });
