/**
 * Send what is stored locally to the configured InfluxDB (INFLUX_URL …).
 *
 *   npx tsx scripts/replay.ts            replay the spool (HOMEFLUX_SPOOL_DIR)
 *   npx tsx scripts/replay.ts --store    also send the whole file store (HOMEFLUX_DATA_DIR)
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { openSink } from '../src/database/index.ts';
import { replayStore } from '../src/database/replay.ts';
import { ConfigError, messageOf } from '../src/errors.ts';
import { Logger } from '../src/log.ts';

const USAGE = `usage: npx tsx scripts/replay.ts [--store] [--store-dir DIR] [--verbose]

Replays the spool into the InfluxDB configured by INFLUX_URL (and INFLUX_API, INFLUX_TOKEN, …).
  --store          also send every bucket of the file store (HOMEFLUX_DATA_DIR, default ./data)
  --store-dir DIR  the file store to send (implies --store)`;

async function replay(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ options: { store: { type: 'boolean' }, 'store-dir': { type: 'string' }, verbose: { type: 'boolean', short: 'v' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (error) {
    console.error(`replay: ${messageOf(error)}\n${USAGE}`);
    return 2;
  }
  const log = new Logger({ env: process.env, verbose: values.verbose });
  if (values.help) {
    log.info(USAGE);
    return 0;
  }
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log.error(`replay: ${error.message}`, 'configuration');
    return 2;
  }
  if (config.target.kind === 'file') {
    log.error('replay: INFLUX_URL is not set; replay sends the spool or the file store to an InfluxDB', 'configuration');
    return 2;
  }
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  const sink = openSink(config, { log, signal: controller.signal, retry: { maxRetryMs: config.retrySeconds * 1000 }, timeoutMs: config.httpTimeoutSeconds * 1000 });
  const spooled = await sink.replay();
  log.info(`replay: ${spooled.written} spooled line(s) written to ${sink.description}${spooled.spooled ? `, ${spooled.spooled} still spooled` : ''}`);
  let failed = spooled.spooled + spooled.rejected > 0 || spooled.failure !== undefined;
  if (values.store || values['store-dir'] !== undefined) {
    const dir = values['store-dir'] ?? (process.env.HOMEFLUX_DATA_DIR || './data');
    const stored = await replayStore(dir, sink, (bucket, s) => log.info(`replay: ${bucket}: ${s.written} line(s) written${s.spooled ? `, ${s.spooled} spooled` : ''}${s.rejected ? `, ${s.rejected} rejected` : ''}`));
    failed ||= stored.spooled + stored.rejected > 0 || stored.failure !== undefined;
  }
  await sink.close();
  return failed ? 1 : 0;
}

process.exitCode = await replay();
