/**
 * Import Green Button files: `npx tsx scripts/greenbutton.ts <file…>`. See src/agents/greenbutton/README.md.
 */
import { greenbutton } from '../src/agents/greenbutton/index.ts';
import { runMain } from '../src/cli.ts';
import { runAgent } from '../src/run/pipeline.ts';

await runMain('greenbutton', (c) => runAgent(greenbutton, c));
