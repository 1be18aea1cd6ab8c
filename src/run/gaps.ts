/**
 * `scripts/gaps.ts`: the gap audit. For each agent, the series it keeps at a fixed cadence
 * (hourly energy and weather, minute UPS samples, daily insight), read back through the reader
 * from wherever they are stored; every hole listed (series, from, to, missing count), and with
 * `--repair` each agent's holes collected again through its backfill — then audited once more.
 * Exit 0 when no hole remains, 1 otherwise, 2 on bad arguments.
 */
import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import { EXIT } from '../cli.ts';
import { type Config, type Env, loadConfig } from '../config.ts';
import { openReader, type Reader } from '../database/reader.ts';
import { ConfigError, messageOf } from '../errors.ts';
import { findHoles, type Hole } from '../insight/gaps.ts';
import { Logger, type LogStreams } from '../log.ts';
import type { Timescale } from '../records.ts';
import { parseTimeArg } from '../window.ts';
import { runBackfill } from './backfill/index.ts';

/** A series an agent keeps at a fixed cadence, and the `source` its records carry. */
interface Expected {
  measurement: string;
  field: string;
  timescale: Exclude<Timescale, 'week' | 'bill'>;
  source: string;
}

/**
 * What each agent keeps at a cadence. Sampling agents (nut, scrape) and file imports
 * (greenbutton) are audited only for what a run always writes; scrape and greenbutton have no
 * fixed cadence and are left out.
 */
export const EXPECTED: Readonly<Record<string, readonly Expected[]>> = {
  demo: [
    { measurement: 'power', field: 'power_usage', timescale: 'hour', source: 'homeflux.demo' },
    { measurement: 'temperature', field: 'temperature', timescale: 'hour', source: 'homeflux.demo' },
    { measurement: 'ups', field: 'power_w', timescale: 'minute', source: 'homeflux.demo' },
  ],
  opower: [{ measurement: 'power', field: 'power_usage', timescale: 'hour', source: 'homeflux.opower' }],
  weather: [{ measurement: 'temperature', field: 'temperature', timescale: 'hour', source: 'homeflux.open_meteo' }],
  nut: [{ measurement: 'ups', field: 'power_w', timescale: 'minute', source: 'homeflux.nut' }],
  cost: [{ measurement: 'cost', field: 'cost', timescale: 'hour', source: 'homeflux.tariff' }],
  insight: [{ measurement: 'baseline', field: 'expected', timescale: 'day', source: 'homeflux.insight' }],
};

/** One series' holes. */
export interface SeriesHoles {
  agent: string;
  series: string;
  holes: Hole[];
}

const USAGE = `usage: npx tsx scripts/gaps.ts [--since WHEN] [--until WHEN] [--agents a,b] [--repair] [--json]

Lists the holes in every series an agent keeps at a fixed cadence (${Object.keys(EXPECTED).join(', ')}),
read back from the file store, InfluxDB or VictoriaMetrics. --repair collects each agent's holes
again through its backfill. Default range: the last 30 days, up to 2 days ago (data arrives late).
Exit 0 when no hole remains, 1 otherwise.`;

/** Audit `agents` over [start, end): each stored series' holes (a series with no point at all in range is one hole). */
export async function audit(reader: Reader, config: Config, agents: readonly string[], range: { start: number; end: number }, signal?: AbortSignal): Promise<SeriesHoles[]> {
  const out: SeriesHoles[] = [];
  for (const agent of agents) {
    for (const e of EXPECTED[agent] ?? []) {
      const points = (await reader.read({ measurement: e.measurement, field: e.field, timescale: e.timescale, ...range }, signal)).filter((p) => (p.tags.source ?? '').startsWith(e.source));
      const bySeries = new Map<string, number[]>();
      for (const p of points) {
        const key = `${e.measurement}.${e.field} ${e.timescale} location=${p.tags.location ?? ''}`;
        const times = bySeries.get(key) ?? [];
        times.push(p.time);
        bySeries.set(key, times);
      }
      for (const [series, times] of bySeries) {
        const holes = findHoles([...new Set(times)].sort((a, b) => a - b), { timescale: e.timescale, timezone: config.timezone, ...range, edges: { leading: true, trailing: true } });
        if (holes.length > 0) out.push({ agent, series, holes });
      }
    }
  }
  return out;
}

/** Run the gap audit; returns the exit code. */
export async function runGaps(options: { argv: readonly string[]; env: Env; streams?: LogStreams; now?: number; signal?: AbortSignal }): Promise<number> {
  const log = new Logger({ env: options.env, streams: options.streams });
  try {
    const { values } = parseArgs({ args: [...options.argv], strict: true, options: { since: { type: 'string' }, until: { type: 'string' }, agents: { type: 'string' }, repair: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
    if (values.help) {
      log.info(USAGE);
      return EXIT.ok;
    }
    const config = loadConfig(options.env);
    const now = options.now ?? config.now ?? Math.floor(Date.now() / 1000);
    const tz = config.timezone;
    const today = DateTime.fromSeconds(now, { zone: tz }).startOf('day');
    const end = values.until === undefined ? today.minus({ days: 2 }).toSeconds() : parseTimeArg(values.until, { now, timezone: tz, name: '--until' });
    const start = values.since === undefined ? today.minus({ days: 32 }).toSeconds() : parseTimeArg(values.since, { now, timezone: tz, name: '--since' });
    if (start >= end) throw new ConfigError('--since/--until: expected the start before the end', '--since');
    const agents = values.agents === undefined ? Object.keys(EXPECTED) : values.agents.split(',').map((a) => a.trim());
    for (const a of agents) if (!Object.hasOwn(EXPECTED, a)) throw new ConfigError(`--agents: "${a}" keeps no series at a fixed cadence; expected some of ${Object.keys(EXPECTED).join(', ')}`, '--agents');
    const reader = openReader(config);
    let found = await audit(reader, config, agents, { start, end }, options.signal);
    if (values.repair && found.length > 0) {
      for (const agent of [...new Set(found.map((f) => f.agent))]) {
        // Just the holes: overlapping ones (the same hour missing from several series) merged.
        const merged: Array<{ from: number; to: number }> = [];
        for (const h of found.filter((f) => f.agent === agent).flatMap((f) => f.holes).sort((a, b) => a.from - b.from)) {
          const last = merged[merged.length - 1];
          if (last && h.from <= last.to) last.to = Math.max(last.to, h.to);
          else merged.push({ from: h.from, to: h.to });
        }
        for (const { from, to } of merged) {
          log.info(`gaps: ${agent}: collecting ${new Date(from * 1000).toISOString()} … ${new Date(to * 1000).toISOString()} again`);
          const code = await runBackfill({ argv: [agent, '--since', new Date(from * 1000).toISOString(), '--until', new Date(to * 1000).toISOString(), '--force'], env: options.env, streams: options.streams, now, signal: options.signal });
          if (code !== EXIT.ok) log.warn(`gaps: ${agent}: the backfill exited ${code}`);
        }
      }
      found = await audit(reader, config, agents, { start, end }, options.signal);
    }
    const iso = (t: number): string => DateTime.fromSeconds(t, { zone: tz }).toISO({ suppressMilliseconds: true })!;
    if (values.json) {
      log.info(JSON.stringify({ from: iso(start), to: iso(end), series: found.map((f) => ({ agent: f.agent, series: f.series, holes: f.holes.map((h) => ({ from: iso(h.from), to: iso(h.to), missing: h.missing })) })) }, null, 2));
    } else {
      for (const f of found) for (const h of f.holes) log.info(`${f.agent}  ${f.series}  ${iso(h.from)} … ${iso(h.to)}  ${h.missing} missing`);
      const total = found.reduce((n, f) => n + f.holes.reduce((m, h) => m + h.missing, 0), 0);
      log.info(found.length === 0 ? `gaps: none in ${iso(start)} … ${iso(end)} (${reader.description})` : `gaps: ${total} point(s) missing in ${found.length} series (${reader.description})${values.repair ? ' after repair' : '; --repair collects them again'}`);
    }
    return found.length === 0 ? EXIT.ok : EXIT.failed;
  } catch (error) {
    log.error(`gaps: ${messageOf(error)}`);
    if (error instanceof ConfigError || (error instanceof TypeError && /option|argument/i.test(error.message))) {
      log.error(USAGE);
      return EXIT.usage;
    }
    return EXIT.failed;
  }
}
