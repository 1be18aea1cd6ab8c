/**
 * Declarative device page scraping. See docs/agents/scrape.md.
 */
import { scrape } from '../src/agents/scrape.ts';
import { runMain } from '../src/cli.ts';
import { runAgent } from '../src/run/pipeline.ts';

await runMain('scrape', (c) => runAgent(scrape, c));
