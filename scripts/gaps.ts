/**
 * The gap audit: holes in every series an agent keeps at a fixed cadence, wherever they are
 * stored; `--repair` collects them again. See src/run/gaps.ts.
 */
import { runMain } from '../src/cli.ts';
import { runGaps } from '../src/run/gaps.ts';

await runMain('gaps', (c) => runGaps(c));
