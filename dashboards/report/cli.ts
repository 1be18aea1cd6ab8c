/**
 * The report command line (scripts/report.ts): arguments, configuration, exit codes.
 */
import { EXIT } from '../../src/cli.ts';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadConfig, type Env } from '../../src/config.ts';
import { openReader } from '../../src/database/reader.ts';
import { readTariff } from '../../src/agents/cost/index.ts';
import { messageOf } from '../../src/errors.ts';
import { Logger } from '../../src/log.ts';
import { parseTimeArg } from '../../src/window.ts';
import { buildReport, describeSource, type ReportSource } from './build.ts';
import { DEFAULT_SETTINGS } from '../src/settings.ts';

const HELP = `usage: npx tsx scripts/report.ts [options]

Write one self-contained HTML file with the homeflux dashboard panels (uPlot charts).
Reads wherever the agents write: the file store (HOMEFLUX_DATA_DIR, default ./data) when
INFLUX_URL is unset; InfluxDB 1.x (INFLUX_API=v1), or 2.x/3.x through their InfluxQL /query
API (run scripts/setup.ts once for the mappings); VictoriaMetrics when INFLUX_BUCKET_LABEL is set.

options:
  --out FILE         where to write (default report.html)
  --days N           the last N days (default 30)
  --since WHEN       start instead of --days: a date (2025-10-28), a date-time, or a duration (90d)
  --until WHEN       end of the range (default now)
  --tiers Y,R        daily rate-tier thresholds in kWh/day (default ${DEFAULT_SETTINGS.tiers.yellow},${DEFAULT_SETTINGS.tiers.red})
  --compare FILE     add a plan comparison: the range's use priced under this tariff file
                     (repeat for several; COST_TARIFF, if set, is the current plan)
  -h, --help         this text

Units, bucket prefix, time zone and week start come from HOMEFLUX_UNITS, INFLUX_BUCKET_PREFIX,
HOMEFLUX_TIMEZONE and HOMEFLUX_WEEK_START, as for the agents.`;

class UsageError extends Error {}

/** Run the report script; returns the exit code (0 written, 1 data error, 2 usage/config). */
export async function runReport(argv: string[], env: Env, rawIo: { out: (line: string) => void; err: (line: string) => void; now?: number }): Promise<number> {
  // Errors quote what fetch and the server said, which can include INFLUX_URL's user:password@
  // or an echoed Authorization header: every line gets the same redaction as the agents' logs.
  const redactor = new Logger({ env });
  const io = { now: rawIo.now, out: (line: string) => rawIo.out(redactor.redact(line)), err: (line: string) => rawIo.err(redactor.redact(line)) };
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        out: { type: 'string' },
        days: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        tiers: { type: 'string' },
        compare: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.out(HELP);
      return EXIT.ok;
    }
    const config = loadConfig(env);
    const now = io.now ?? Math.floor(Date.now() / 1000);
    const to = values.until === undefined ? now : parseTimeArg(values.until, { now, timezone: config.timezone, name: '--until' });
    if (values.days !== undefined && values.since !== undefined) throw new UsageError('--days and --since: expected one of them, got both');
    let from: number;
    if (values.since !== undefined) from = parseTimeArg(values.since, { now, timezone: config.timezone, name: '--since' });
    else {
      const days = values.days === undefined ? 30 : Number(values.days);
      if (!Number.isInteger(days) || days < 1) throw new UsageError(`--days: expected a whole number of days ≥ 1, got "${values.days}"`);
      from = to - days * 86400;
    }
    if (from >= to) throw new UsageError(`--since/--until: expected the start before the end, got ${new Date(from * 1000).toISOString()} … ${new Date(to * 1000).toISOString()}`);
    const tiers = { ...DEFAULT_SETTINGS.tiers };
    if (values.tiers !== undefined) {
      const parts = values.tiers.split(',').map(Number);
      if (parts.length !== 2 || parts.some((p) => !Number.isFinite(p))) throw new UsageError(`--tiers: expected YELLOW,RED in kWh/day such as 10,20, got "${values.tiers}"`);
      [tiers.yellow, tiers.red] = parts as [number, number];
    }
    const source: ReportSource = { kind: 'store', reader: openReader(config) };
    const settings = { ...DEFAULT_SETTINGS, tiers, units: config.units, bucketPrefix: config.bucketPrefix, timezone: config.timezone, weekStart: config.weekStart };
    // The current plan (COST_TARIFF) first, then the others to compare with it; a bad file is a usage error.
    const files = [...new Set([...(env.COST_TARIFF?.trim() ? [env.COST_TARIFF.trim()] : []), ...(values.compare ?? [])])];
    const plans = values.compare?.length ? { tariffs: files.map((f) => readTariff(f, config.timezone)), meter: env.COST_METER?.trim() || undefined } : undefined;
    let built;
    try {
      built = await buildReport({ source, settings, from, to, ...(plans ? { plans } : {}) });
    } catch (error) {
      io.err(`report: could not read ${describeSource(source)}: ${messageOf(error)}`);
      return EXIT.failed;
    }
    const out = values.out ?? 'report.html';
    await writeFile(out, built.html);
    for (const chart of built.charts) {
      const points = chart.series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0);
      io.out(`report: ${chart.title}: ${points} point(s) in ${chart.series.length} series`);
    }
    io.out(`report: wrote ${out} (${Math.round(built.html.length / 1024)} KiB) from ${describeSource(source)}`);
    return EXIT.ok;
  } catch (error) {
    io.err(`report: ${messageOf(error)}\n\n${HELP}`);
    return EXIT.usage;
  }
}

