/**
 * Weather-normalised use, always-on load and unusual days from the stored series:
 * `npx tsx scripts/insight.ts` writes the daily records; `--summary` / `--json` print what the
 * model says. See src/agents/insight/README.md.
 */
import { insight } from '../src/agents/insight/index.ts';
import { runMain } from '../src/cli.ts';
import { runInsightReport } from '../src/run/insight.ts';
import { runAgent } from '../src/run/pipeline.ts';

await runMain('insight', (c) => (c.argv.includes('--summary') || c.argv.includes('--json') ? runInsightReport(c) : runAgent(insight, c)));
