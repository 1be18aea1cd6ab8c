/**
 * `scripts/cost.ts --compare FILE…`: the stored usage priced under each tariff file, cheapest
 * first, beside the current plan (`COST_TARIFF`, else the first file). Nothing is written.
 * Default range: the last twelve whole local months.
 */
import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import { readTariff, readUsage } from '../agents/cost/index.ts';
import { EXIT } from '../cli.ts';
import { type Env, loadConfig } from '../config.ts';
import { openReader, type Reader } from '../database/reader.ts';
import { ConfigError, messageOf } from '../errors.ts';
import { priceUsage } from '../insight/tariff/engine.ts';
import type { Tariff } from '../insight/tariff/file.ts';
import type { LogStreams } from '../log.ts';
import { parseTimeArg } from '../window.ts';

/** One plan's result, as `--json` prints it. */
export interface PlanResult {
  name: string;
  file: string;
  total: number;
  periods: Array<{ start: string; end: string; energy_kwh: number; cost: number }>;
}

const USAGE = `usage: npx tsx scripts/cost.ts --compare FILE… [--since WHEN] [--until WHEN] [--json]

Prices the stored usage of COST_METER (or the only meter stored) under each tariff file and
prints each plan's cost per billing period and in total, cheapest first, with the difference to
the current plan (COST_TARIFF, else the first file). Default: the last twelve whole months.`;

const money = (x: number, currency: string): string => `${currency === 'USD' ? '$' : `${currency} `}${x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** Each plan's bills over `range` from the stored usage (the order of `tariffs`). */
export async function comparePlans(options: { reader: Reader; tariffs: readonly Tariff[]; meter?: string; range: { start: number; end: number }; timezone: string; signal?: AbortSignal }): Promise<PlanResult[]> {
  const results: PlanResult[] = [];
  const date = (t: number): string => DateTime.fromSeconds(t, { zone: options.timezone }).toISODate()!;
  for (const tariff of options.tariffs) {
    const usage = await readUsage(options.reader, tariff, options.meter, options.range, options.signal);
    const bills = priceUsage(tariff, usage.intervals, options.timezone, { range: options.range });
    results.push({
      name: tariff.name,
      file: tariff.file,
      total: Math.round(bills.reduce((s, b) => s + b.total, 0) * 100) / 100,
      periods: bills.map((b) => ({ start: date(b.start), end: date(b.end), energy_kwh: Math.round(b.energy * 1000) / 1000, cost: Math.round(b.total * 100) / 100 })),
    });
  }
  return results;
}

/**
 * The current plan against what the utility said: each computed bill beside the utility's own
 * `bill` for the same period (error in percent), and the utility's split of its cost (the
 * portal's `cost_component` reads, by tier / season / time-of-use label) over the range.
 */
async function reconcile(reader: Reader, current: PlanResult, range: { start: number; end: number }, timezone: string, currency: string): Promise<string[]> {
  const lines: string[] = [];
  const date = (t: number): string => DateTime.fromSeconds(t, { zone: timezone }).toISODate()!;
  const bills = (await reader.read({ measurement: 'bill', field: 'cost', timescale: 'bill', ...range })).filter((p) => p.tags.source !== 'homeflux.tariff');
  const byStart = new Map(bills.map((b) => [date(b.time), b.value]));
  const matched = current.periods.filter((p) => byStart.has(p.start));
  if (matched.length > 0) {
    lines.push(`\n${current.name} against the utility's bills:`);
    for (const p of matched) {
      const utility = byStart.get(p.start)!;
      lines.push(`  ${p.start} … ${p.end}  computed ${money(p.cost, currency).padStart(11)}  utility ${money(utility, currency).padStart(11)}  ${utility !== 0 ? `${(((p.cost - utility) / utility) * 100).toFixed(1)} %` : ''}`);
    }
  }
  const split = new Map<string, { energy: number; cost: number }>();
  // The portal answers hourly and daily reads of the same days: the hours when there are any, else the days.
  for (const timescale of ['hour', 'day'] as const) {
    if (split.size > 0) break;
    const [costs, energy] = await Promise.all(['cost', 'energy'].map((field) => reader.read({ measurement: 'cost_component', field, timescale, ...range })));
    const label = (tags: Record<string, string>): string => [tags.tier && `tier ${tags.tier}`, tags.season, tags.day_part].filter(Boolean).join(' ') || 'all';
    for (const p of costs!.filter((x) => x.tags.source?.startsWith('homeflux.opower'))) {
      const entry = split.get(label(p.tags)) ?? { energy: 0, cost: 0 };
      entry.cost += p.value;
      split.set(label(p.tags), entry);
    }
    for (const p of energy!.filter((x) => x.tags.source?.startsWith('homeflux.opower'))) {
      const entry = split.get(label(p.tags)) ?? { energy: 0, cost: 0 };
      entry.energy += p.value / 1000;
      split.set(label(p.tags), entry);
    }
  }
  if (split.size > 0) {
    lines.push(`\nthe utility's split of its cost over the range (its portal's readComponents; compare with \`cost_component\` of plan ${current.name}):`);
    for (const [label, v] of [...split].sort()) lines.push(`  ${label.padEnd(28)} ${v.energy.toFixed(1).padStart(9)} kWh  ${money(v.cost, currency).padStart(11)}`);
  }
  return lines;
}

/** Run the comparison; returns the exit code. */
export async function runCompare(options: { argv: readonly string[]; env: Env; streams?: LogStreams; now?: number; signal?: AbortSignal }): Promise<number> {
  const out = options.streams?.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = options.streams?.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  try {
    const { values, positionals } = parseArgs({ args: [...options.argv], allowPositionals: true, strict: true, options: { compare: { type: 'boolean' }, since: { type: 'string' }, until: { type: 'string' }, json: { type: 'boolean' } } });
    if (positionals.length === 0) throw new ConfigError('--compare: expected one or more tariff files', '--compare');
    const config = loadConfig(options.env);
    const now = options.now ?? config.now ?? Math.floor(Date.now() / 1000);
    const tz = config.timezone;
    const monthStart = DateTime.fromSeconds(now, { zone: tz }).startOf('month');
    const until = values.until === undefined ? monthStart.toSeconds() : parseTimeArg(values.until, { now, timezone: tz, name: '--until' });
    const since = values.since === undefined ? DateTime.fromSeconds(until, { zone: tz }).minus({ months: 12 }).toSeconds() : parseTimeArg(values.since, { now, timezone: tz, name: '--since' });
    if (since >= until) throw new ConfigError('--since/--until: expected the start before the end', '--since');
    const currentFile = options.env.COST_TARIFF?.trim();
    const files = currentFile && !positionals.includes(currentFile) ? [currentFile, ...positionals] : positionals;
    const tariffs: Tariff[] = files.map((f) => readTariff(f, tz));
    const currencies = new Set(tariffs.map((t) => t.currency));
    if (currencies.size > 1) throw new ConfigError(`--compare: the plans are in different currencies (${[...currencies].join(', ')})`, '--compare');
    const reader = openReader(config);
    const results = await comparePlans({ reader, tariffs, meter: options.env.COST_METER?.trim() || undefined, range: { start: since, end: until }, timezone: tz, signal: options.signal });
    const current = results.find((r) => r.file === (currentFile ?? files[0])) ?? results[0]!;
    const sorted = [...results].sort((a, b) => a.total - b.total);
    const currency = tariffs[0]!.currency;
    if (values.json) {
      out(JSON.stringify({ currency, plans: sorted }, null, 2));
      return EXIT.ok;
    }
    out(`plans for ${DateTime.fromSeconds(since, { zone: tz }).toISODate()} … ${DateTime.fromSeconds(until, { zone: tz }).toISODate()} (${tz}), cheapest first:`);
    const width = Math.max(...sorted.map((r) => r.name.length)) + 10;
    for (const r of sorted) {
      const diff = r.total - current.total;
      const label = r === current ? 'current plan' : `${diff < 0 ? '−' : '+'}${money(Math.abs(diff), currency)}${current.total !== 0 ? ` (${diff < 0 ? '−' : '+'}${Math.abs((diff / current.total) * 100).toFixed(1)} %)` : ''}`;
      out(`  ${`${r.name}`.padEnd(width)}${money(r.total, currency).padStart(12)}  ${label}`);
    }
    for (const r of sorted) {
      out(`\n${r.name} (${r.file}):`);
      for (const p of r.periods) out(`  ${p.start} … ${p.end}  ${p.energy_kwh.toFixed(1).padStart(9)} ${tariffs.find((t) => t.file === r.file)!.unit}  ${money(p.cost, currency).padStart(11)}`);
    }
    for (const line of await reconcile(reader, current, { start: since, end: until }, tz, currency)) out(line);
    return EXIT.ok;
  } catch (error) {
    err(`cost --compare: ${messageOf(error)}`);
    if (error instanceof ConfigError || (error instanceof TypeError && /option|argument/i.test(error.message))) {
      err(USAGE);
      return EXIT.usage;
    }
    return EXIT.failed;
  }
}
