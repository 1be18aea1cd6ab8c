/**
 * UPS power through NUT: one sample, or `--watch` for a systemd service. See src/agents/nut/README.md.
 */
import { nut } from '../src/agents/nut/index.ts';
import { runMain } from '../src/cli.ts';
import { runAgent } from '../src/run/pipeline.ts';

await runMain('nut', (c) => runAgent(nut, c));
