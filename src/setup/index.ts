/**
 * `scripts/setup.ts`: create what the schema needs in the configured InfluxDB — buckets
 * (v2) or databases (v1) `<prefix>-minute|hour|day|week|bill` with their retention. Idempotent:
 * a second run changes nothing; `--delete-existing` drops and recreates them (their data is
 * lost); `--dry-run` prints the plan.
 */
import { EXIT } from '../cli.ts';
import { parseArgs } from 'node:util';
import { type Env, loadConfig } from '../config.ts';
import { AuthError, ConfigError, messageOf } from '../errors.ts';
import { Logger, type LogStreams } from '../log.ts';
import { TIMESCALES } from '../records.ts';
import { describeOutcome, formatRetention, retentionVariable, wantedBuckets, type BucketOutcome } from './plan.ts';
import { setupV1Bucket, V1Admin } from './v1.ts';
import { setupV2Bucket, V2Admin } from './v2.ts';

/** Options for {@link runSetup}. */
export interface SetupOptions {
  argv: readonly string[];
  env: Env;
  streams?: LogStreams;
}

/** Usage of the setup script. */
export const SETUP_USAGE = [
  'usage: npx tsx scripts/setup.ts [--dry-run] [--delete-existing]',
  '',
  'Create the buckets (InfluxDB 2.x/Cloud) or databases (InfluxDB 1.x) homeflux writes to,',
  '<INFLUX_BUCKET_PREFIX>-minute, -hour, -day, -week and -bill, with their retention.',
  '',
  'options:',
  '  --dry-run          show what would be done, change nothing',
  '  --delete-existing  delete the buckets first and create them again (their data is lost)',
  '  -h, --help         this text',
  '',
  `Retention: ${TIMESCALES.map((t) => retentionVariable(t)).join(', ')}`,
  '(a duration such as 90d or 52w, or "forever"); default 90d for minute, forever for the rest (bills included).',
  'Connection: INFLUX_URL, INFLUX_API (v2|v1), INFLUX_TOKEN, INFLUX_ORG, INFLUX_USERNAME, INFLUX_PASSWORD. See docs/setup.md.',
].join('\n');

/** Run setup; returns the exit code (0 done, 1 the server refused, 2 bad arguments or configuration). */
export async function runSetup(options: SetupOptions): Promise<number> {
  const log = new Logger({ env: options.env, streams: options.streams });
  let flags: { dryRun: boolean; deleteExisting: boolean };
  try {
    const { values } = parseArgs({ args: [...options.argv], options: { 'dry-run': { type: 'boolean' }, 'delete-existing': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
    if (values.help) {
      log.info(SETUP_USAGE);
      return EXIT.ok;
    }
    flags = { dryRun: values['dry-run'] === true, deleteExisting: values['delete-existing'] === true };
  } catch (error) {
    log.error(`setup: ${messageOf(error).replace(/\. To specify a positional.*$/s, '')}`);
    log.info(SETUP_USAGE);
    return EXIT.usage;
  }
  try {
    const config = loadConfig(options.env);
    const dryRun = flags.dryRun || config.dryRun;
    const wanted = wantedBuckets(config.bucketPrefix, options.env);
    const target = config.target;
    if (target.kind === 'file') throw new ConfigError('INFLUX_URL is not set: nothing to set up (the file store in HOMEFLUX_DATA_DIR needs none)', 'INFLUX_URL');
    const timeoutMs = config.httpTimeoutSeconds * 1000;
    const host = new URL(target.url).host;
    log.info(`setup: ${dryRun ? 'plan for' : 'setting up'} ${target.kind === 'v1' ? 'InfluxDB 1.x databases' : 'InfluxDB v2 buckets'} at ${host}: ${wanted.map((w) => `${w.name} (${formatRetention(w.retention)})`).join(', ')}`);
    if (flags.deleteExisting) log.warn(`setup: --delete-existing: existing buckets are deleted with their data${dryRun ? ' (dry run: nothing is deleted)' : ''}`);
    const outcomes: BucketOutcome[] = [];
    if (target.kind === 'v1') {
      const admin = new V1Admin({ url: target.url, username: target.username, password: target.password, timeoutMs });
      const existing = new Set(await admin.databases());
      for (const bucket of wanted) outcomes.push(await setupV1Bucket(admin, bucket, { existing, ...flags, dryRun }));
    } else {
      const admin = new V2Admin({ url: target.url, token: target.token, org: target.org, timeoutMs });
      const orgID = await admin.orgId();
      for (const bucket of wanted) outcomes.push(await setupV2Bucket(admin, orgID, bucket, { ...flags, dryRun }));
    }
    for (const outcome of outcomes) log.info(`setup: ${describeOutcome(outcome, dryRun)}`);
    log.summary(['### homeflux setup' + (dryRun ? ' (dry run)' : ''), '', ...outcomes.map((o) => `- ${describeOutcome(o, dryRun)}`), ''].join('\n'));
    return EXIT.ok;
  } catch (error) {
    if (error instanceof ConfigError) {
      log.error(`setup: ${error.message}`, 'configuration');
      return EXIT.usage;
    }
    log.error(`setup: ${messageOf(error)}`, error instanceof AuthError ? 'authentication' : undefined);
    return EXIT.failed;
  }
}
