/**
 * MQTT devices (Shelly, Tasmota, Zigbee2MQTT): one listen window, or `--watch` for a systemd service. See src/agents/mqtt/README.md.
 */
import { mqttAgent } from '../src/agents/mqtt/index.ts';
import { runMain } from '../src/cli.ts';
import { runAgent } from '../src/run/pipeline.ts';

await runMain('mqtt', (c) => runAgent(mqttAgent, c));
