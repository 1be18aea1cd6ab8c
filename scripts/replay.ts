/**
 * Send what is stored locally to the configured InfluxDB (INFLUX_URL …).
 *
 *   npx tsx scripts/replay.ts            replay the spool (HOMEFLUX_SPOOL_DIR)
 *   npx tsx scripts/replay.ts --store    also send the whole file store (HOMEFLUX_DATA_DIR)
 */
import { runReplay } from '../src/database/replay-cli.ts';

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
process.once('SIGTERM', () => controller.abort());
process.exitCode = await runReplay(process.argv.slice(2), process.env, controller.signal);
