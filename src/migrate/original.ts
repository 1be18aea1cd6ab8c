/**
 * `scripts/migrate-original.ts`: move the original Python homeflux's GWP points into the
 * series the opower agent writes, so that a user switching over counts nothing twice.
 *
 * The original (david2777/homeflux, `agents/gwp_opower.py`) wrote, with
 * `source=homeflux.gwp_opower`:
 * - `power.power_usage` (Wh) with no `location`, stamped at the read's **end**;
 * - `temperature.temperature` with `location=gwp_meter`, hourly at the read's time, daily at
 *   local midnight rewritten with the offset of the machine's clock at the time of the run
 *   (so an hour off for dates across a DST change from the run);
 * - weekly points from Flux tasks (`aggregateWindow(every: 1w)`: InfluxDB weeks, Thursday 00:00 UTC).
 *
 * homeflux writes `source=homeflux.opower.gwp`, `location=gwp_meter` (power) or `gwp`
 * (weather), stamped at the interval's **start**, and its own local weeks. This moves hour and
 * day points (power one hour / one local day earlier, daily temperature to the nearest local
 * midnight), replaces the original weeks by homeflux's week rollups of the moved days, checks
 * that counts and sums arrived, and only then deletes the original points. A second run finds
 * nothing to move. `--dry-run` shows what would change.
 */
import { EXIT } from '../cli.ts';
import { parseArgs } from 'node:util';
import { opower } from '../agents/opower/index.ts';
import { type Config, type Env, loadConfig } from '../config.ts';
import { connection, type HttpTarget, influxQL, quoteIdent, quoteString } from '../database/influxql.ts';
import { isComplete } from '../database/sink.ts';
import { AuthError, ConfigError, excerpt, messageOf } from '../errors.ts';
import { readText } from '../http.ts';
import { Logger, type LogStreams } from '../log.ts';
import { bucketName, type DataRecord, type Timescale } from '../records.ts';
import { toLineProtocol } from '../lineprotocol.ts';
import { rollup } from '../rollup.ts';
import { type LocalRules, periodStart } from '../window.ts';

/** The original's `source` tag. */
export const ORIGINAL_SOURCE = 'homeflux.gwp_opower';
const NEW_SOURCE = 'homeflux.opower.gwp';
const MEASUREMENTS = ['power', 'temperature'] as const;
const FIELD: Readonly<Record<(typeof MEASUREMENTS)[number], string>> = { power: 'power_usage', temperature: 'temperature' };

/** Options for {@link runMigrateOriginal}. */
export interface MigrateOptions {
  argv: readonly string[];
  env: Env;
  streams?: LogStreams;
}

const USAGE = [
  'usage: npx tsx scripts/migrate-original.ts [--dry-run]',
  '',
  'Move the original homeflux daemon\'s GWP points (source=homeflux.gwp_opower) into the series',
  'the opower agent writes (source=homeflux.opower.gwp, stamped at the interval start), replace',
  'its Flux-task weeks by homeflux weeks, check, then delete the original points.',
  'Works on InfluxDB 1.x (INFLUX_API=v1) and 2.x (InfluxQL /query through the DBRP mappings',
  'scripts/setup.ts creates, and /api/v2/delete). HOMEFLUX_TIMEZONE must be the utility\'s zone.',
  '',
  '  --dry-run   show what would change, change nothing',
  '  -h, --help  this text',
].join('\n');

/** One stored point as read back. */
interface StoredPoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number>;
  time: number;
}

type Http = HttpTarget;

/** Points of one measurement and source, tags and fields apart (`GROUP BY *`). */
async function readPoints(target: Http, db: string, measurement: string, source: string, timeoutMs: number): Promise<StoredPoint[]> {
  const series = await influxQL(target, db, `SELECT * FROM ${quoteIdent(measurement)} WHERE "source" = ${quoteString(source)} GROUP BY *`, { timeoutMs });
  const out: StoredPoint[] = [];
  for (const s of series) {
    const timeAt = s.columns.indexOf('time');
    for (const row of s.values ?? []) {
      const fields: Record<string, number> = {};
      s.columns.forEach((column, i) => {
        if (i !== timeAt && typeof row[i] === 'number') fields[column] = row[i] as number;
      });
      const tags = Object.fromEntries(Object.entries(s.tags ?? {}).filter(([, v]) => v !== ''));
      out.push({ measurement: s.name, tags, fields, time: Number(row[timeAt]) });
    }
  }
  return out;
}

/** Delete every point of a measurement and source from one bucket. */
async function deletePoints(target: Http, db: string, measurement: string, source: string, timeoutMs: number): Promise<void> {
  if (target.kind === 'v1') {
    await influxQL(target, db, `DELETE FROM ${quoteIdent(measurement)} WHERE "source" = ${quoteString(source)}`, { timeoutMs, method: 'POST' });
    return;
  }
  // InfluxDB 2.x: POST /api/v2/delete with a time range and a predicate (documented delete API).
  const params = new URLSearchParams({ bucket: db });
  if (target.org !== undefined) params.set('org', target.org);
  const { base, headers } = connection(target);
  const response = await fetch(`${base}/api/v2/delete?${params}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ start: '1970-01-01T00:00:00Z', stop: '2100-01-01T00:00:00Z', predicate: `_measurement="${measurement}" AND source="${source}"` }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await readText(response, { source: `InfluxDB /api/v2/delete on ${db}` });
  if (response.status === 401 || response.status === 403) throw new AuthError(`InfluxDB at ${new URL(target.url).host} refused the delete (HTTP ${response.status})`, response.status);
  if (response.status !== 204) throw new Error(`InfluxDB /api/v2/delete on ${db}: HTTP ${response.status}: ${excerpt(text)}`);
}

/** The original's point as homeflux writes it (see the module comment); undefined for weeks. */
export function convertPoint(point: StoredPoint, timescale: Timescale, rules: LocalRules): DataRecord | undefined {
  if (timescale !== 'hour' && timescale !== 'day') return undefined;
  const field = FIELD[point.measurement as 'power' | 'temperature'];
  const value = point.fields[field];
  if (field === undefined || value === undefined) return undefined;
  let time = point.time;
  if (point.measurement === 'power') time = timescale === 'hour' ? point.time - 3600 : periodStart(point.time - 1, 'day', rules);
  else if (timescale === 'day') time = periodStart(point.time + 12 * 3600, 'day', rules); // nearest local midnight
  const location = point.measurement === 'power' ? 'gwp_meter' : 'gwp';
  return { measurement: point.measurement, tags: { ...point.tags, data_source: 'homeflux', source: NEW_SOURCE, location }, fields: { [field]: value }, time, timescale };
}

/** What was found and done for one bucket and measurement. */
interface Step {
  bucket: string;
  measurement: string;
  found: number;
  sum: number;
  moved: DataRecord[];
}

/** Run the migration; returns the exit code (0 done or nothing to do, 1 a check or the database failed, 2 bad arguments or configuration). */
export async function runMigrateOriginal(options: MigrateOptions): Promise<number> {
  const log = new Logger({ env: options.env, streams: options.streams });
  let dryRun: boolean;
  try {
    const { values } = parseArgs({ args: [...options.argv], options: { 'dry-run': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
    if (values.help) {
      log.info(USAGE);
      return EXIT.ok;
    }
    dryRun = values['dry-run'] === true;
  } catch (error) {
    log.error(`migrate-original: ${messageOf(error).replace(/\. To specify a positional.*$/s, '')}`);
    log.info(USAGE);
    return EXIT.usage;
  }
  let config: Config;
  try {
    config = loadConfig(options.env);
    if (config.target.kind === 'file') throw new ConfigError('INFLUX_URL is not set: the original daemon wrote to an InfluxDB; point INFLUX_URL (and INFLUX_API, credentials) at it', 'INFLUX_URL');
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log.error(`migrate-original: ${error.message}`, 'configuration');
    return EXIT.usage;
  }
  dryRun ||= config.dryRun;
  const target = config.target as Http;
  const timeoutMs = config.httpTimeoutSeconds * 1000;
  const rules: LocalRules = { timezone: config.timezone, weekStart: config.weekStart };
  const bucket = (t: Timescale): string => bucketName(config.bucketPrefix, t);
  try {
    const steps: Step[] = [];
    for (const timescale of ['hour', 'day', 'week'] as const) {
      for (const measurement of MEASUREMENTS) {
        const found = await readPoints(target, bucket(timescale), measurement, ORIGINAL_SOURCE, timeoutMs);
        const moved = found.flatMap((p) => convertPoint(p, timescale, rules) ?? []);
        steps.push({ bucket: bucket(timescale), measurement, found: found.length, sum: found.reduce((s, p) => s + (p.fields[FIELD[measurement]] ?? 0), 0), moved });
      }
    }
    // The original's weeks are InfluxDB's (Thursday UTC): replaced by homeflux's weeks of the moved days.
    const specs = opower.limits({} as never, config).rollups.filter((r) => r.to === 'week' && (r.measurement === 'power' || r.measurement === 'temperature'));
    const weeks = rollup(steps.filter((s) => s.bucket === bucket('day')).flatMap((s) => s.moved), specs, rules).filter((r) => r.timescale === 'week');
    const total = steps.reduce((s, x) => s + x.found, 0);
    for (const s of steps) if (s.found > 0) log.info(`migrate-original: ${s.bucket} ${s.measurement}: ${s.found} point(s) of source=${ORIGINAL_SOURCE}${s.moved.length > 0 ? ` ${dryRun ? 'would move' : 'to move'} to source=${NEW_SOURCE} (${s.measurement === 'power' ? 'one interval earlier: start instead of end' : 'same instant, location gwp'})` : ` ${dryRun ? 'would be' : 'to be'} replaced by ${weeks.filter((w) => w.measurement === s.measurement).length} homeflux week(s)`}`);
    if (total === 0) {
      log.info(`migrate-original: no points of source=${ORIGINAL_SOURCE} in ${['hour', 'day', 'week'].map((t) => bucket(t as Timescale)).join(', ')}: nothing to do`);
      return EXIT.ok;
    }
    if (dryRun) {
      for (const s of steps) for (const r of s.moved.slice(0, 3)) log.debug(`${s.bucket}: ${toLineProtocol(r)}`);
      log.info(`migrate-original: dry run: ${total} point(s) would be moved or replaced; nothing was changed`);
      return EXIT.ok;
    }
    const { openSink } = await import('../database/index.ts');
    const sink = openSink(config, { log, signal: new AbortController().signal, retry: { maxRetryMs: config.retrySeconds * 1000 }, timeoutMs });
    try {
      const writes: Array<[string, DataRecord[]]> = [...steps.filter((s) => s.moved.length > 0).map((s) => [s.bucket, s.moved] as [string, DataRecord[]]), [bucket('week'), weeks]];
      for (const [name, records] of writes) {
        const summary = await sink.write(name, records.map(toLineProtocol));
        if (!isComplete(summary)) {
          log.error(`migrate-original: writing to ${name} did not complete (${summary.failure ?? `${summary.spooled} spooled, ${summary.rejected} rejected`}); nothing was deleted — run again when the database is back`);
          return EXIT.failed;
        }
      }
    } finally {
      await sink.close();
    }
    // Check before deleting: every moved point is there with the same value.
    for (const s of steps.filter((x) => x.moved.length > 0)) {
      const stored = await readPoints(target, s.bucket, s.measurement, NEW_SOURCE, timeoutMs);
      const at = new Map(stored.map((p) => [`${p.time}|${p.tags.account ?? ''}`, p.fields[FIELD[s.measurement as 'power']]]));
      const missing = s.moved.filter((r) => at.get(`${r.time}|${r.tags.account ?? ''}`) !== r.fields[FIELD[s.measurement as 'power']]);
      if (missing.length > 0) {
        log.error(`migrate-original: ${s.bucket} ${s.measurement}: ${missing.length} of ${s.moved.length} moved point(s) did not read back with their value (first at ${new Date(missing[0]!.time * 1000).toISOString()}); nothing was deleted`);
        return EXIT.failed;
      }
    }
    for (const s of steps) if (s.found > 0) await deletePoints(target, s.bucket, s.measurement, ORIGINAL_SOURCE, timeoutMs);
    for (const s of steps) if (s.found > 0) log.info(`migrate-original: ${s.bucket} ${s.measurement}: ${s.moved.length > 0 ? `moved ${s.moved.length}` : `replaced ${s.found} by homeflux weeks`}, deleted ${s.found} original point(s)`);
    log.info(`migrate-original: done: ${total} original point(s) moved or replaced, ${weeks.length} homeflux week(s) written`);
    return EXIT.ok;
  } catch (error) {
    log.error(`migrate-original: ${messageOf(error)}`);
    return EXIT.failed;
  }
}
