/**
 * The replay command line (scripts/replay.ts): send the spool, and with --store the whole file
 * store, to the configured InfluxDB.
 */
import { EXIT } from '../cli.ts';
import { parseArgs } from 'node:util';
import { type Env, loadConfig } from '../config.ts';
import { openSink } from '../database/index.ts';
import { replayStore } from '../database/replay.ts';
import { isComplete } from '../database/sink.ts';
import { ConfigError, messageOf } from '../errors.ts';
import { Logger } from '../log.ts';

const USAGE = `usage: npx tsx scripts/replay.ts [--store] [--store-dir DIR] [--verbose]

Replays the spool into the InfluxDB configured by INFLUX_URL (and INFLUX_API, INFLUX_TOKEN, …).
  --store          also send every bucket of the file store (HOMEFLUX_DATA_DIR, default ./data)
  --store-dir DIR  the file store to send (implies --store)`;

/** Run the replay command: `argv` without the script name; returns the exit code. */
export async function runReplay(argv: string[], env: Env, signal?: AbortSignal): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { store: { type: 'boolean' }, 'store-dir': { type: 'string' }, verbose: { type: 'boolean', short: 'v' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (error) {
    new Logger({ env }).error(`replay: ${messageOf(error)}\n${USAGE}`);
    return EXIT.usage;
  }
  const log = new Logger({ env, verbose: values.verbose });
  if (values.help) {
    log.info(USAGE);
    return EXIT.ok;
  }
  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log.error(`replay: ${error.message}`, 'configuration');
    return EXIT.usage;
  }
  if (config.target.kind === 'file') {
    log.error('replay: INFLUX_URL is not set; replay sends the spool or the file store to an InfluxDB', 'configuration');
    return EXIT.usage;
  }
  const sink = openSink(config, { log, signal, retry: { maxRetryMs: config.retrySeconds * 1000 }, timeoutMs: config.httpTimeoutSeconds * 1000 });
  const spooled = await sink.replay();
  log.info(`replay: ${spooled.written} spooled line(s) written to ${sink.description}${spooled.spooled ? `, ${spooled.spooled} still spooled` : ''}`);
  let failed = !isComplete(spooled);
  if (values.store || values['store-dir'] !== undefined) {
    const dir = values['store-dir'] ?? (env.HOMEFLUX_DATA_DIR || './data');
    const stored = await replayStore(dir, sink, (bucket, s) => log.info(`replay: ${bucket}: ${s.written} line(s) written${s.spooled ? `, ${s.spooled} spooled` : ''}${s.rejected ? `, ${s.rejected} rejected` : ''}`));
    failed ||= !isComplete(stored);
  }
  await sink.close();
  return failed ? EXIT.failed : EXIT.ok;
}

