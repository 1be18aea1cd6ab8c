/**
 * A home weather station's receiver: `scripts/station.ts [--listen HOST:PORT]` stays up and
 * writes what the station posts, one batch a minute. See src/agents/station/README.md.
 */
import { stationAgent } from '../src/agents/station/index.ts';
import { runMain } from '../src/cli.ts';
import { runAgent } from '../src/run/pipeline.ts';
import { receiverArguments } from '../src/agents/station/arguments.ts';

await runMain('station', (c) => runAgent(stationAgent, { ...c, ...receiverArguments(c.argv, c.env) }));
