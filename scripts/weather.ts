/**
 * Outdoor weather from Open-Meteo. See src/agents/weather/README.md.
 */
import { weather } from '../src/agents/weather/index.ts';
import { runMain } from '../src/cli.ts';
import { runAgent } from '../src/run/pipeline.ts';

await runMain('weather', (c) => runAgent(weather, c));
