/**
 * Generate the Grafana dashboards (InfluxQL and Flux) and provisioning from dashboards/src. `--check`: exit 1 when stale.
 */
import { generateDashboards } from '../dashboards/generate.ts';
import { runMain } from '../src/cli.ts';

await runMain('dashboards', (c) => generateDashboards([...c.argv]));
