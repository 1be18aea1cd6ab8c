/**
 * Outdoor weather from Open-Meteo. See docs/agents/weather.md.
 */
import { weather } from '../src/agents/weather.ts';
import { runMain } from '../src/cli.ts';
import { runAgent } from '../src/run/pipeline.ts';

await runMain('weather', (c) => runAgent(weather, c));
