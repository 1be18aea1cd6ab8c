/**
 * A self-contained HTML report with the panels of the Grafana dashboards, for people without
 * Grafana (and for the README's pictures). Reads the file store (HOMEFLUX_DATA_DIR) or, with
 * INFLUX_URL and INFLUX_API=v1, InfluxDB 1.x over InfluxQL. See docs/dashboards.md.
 *
 *   npx tsx scripts/report.ts --out report.html --days 30
 */
import { runReport } from '../dashboards/report/cli.ts';

process.exitCode = await runReport(process.argv.slice(2), process.env, { out: (l) => console.log(l), err: (l) => console.error(l) });
