/**
 * Declarative device page scraping. See src/agents/scrape/README.md.
 */
import { scrape } from '../src/agents/scrape/index.ts';
import { runMain } from '../src/cli.ts';
import { runAgent } from '../src/run/pipeline.ts';

await runMain('scrape', (c) => runAgent(scrape, c));
