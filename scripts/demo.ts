/**
 * A simulated home into the file store or InfluxDB. `npx tsx scripts/demo.ts [--since …]` — see README.md.
 */
import { demo } from '../src/agents/demo/index.ts';
import { runMain } from '../src/cli.ts';
import { runAgent } from '../src/run/pipeline.ts';

await runMain('demo', (c) => runAgent(demo, c));
