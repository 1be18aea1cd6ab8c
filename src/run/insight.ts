/**
 * `scripts/insight.ts --summary` and `--json`: what the model says about the home, printed,
 * nothing written. The fit ends at the start of today (local), or at `--until`.
 */
import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import { readAndAnalyse } from '../agents/insight/index.ts';
import { insightFromEnv } from '../agents/insight/settings.ts';
import { EXIT } from '../cli.ts';
import { type Env, loadConfig } from '../config.ts';
import { openReader } from '../database/reader.ts';
import { ConfigError, messageOf } from '../errors.ts';
import type { Analysis } from '../insight/analysis.ts';
import type { LogStreams } from '../log.ts';
import { parseTimeArg } from '../window.ts';

const USAGE = `usage: npx tsx scripts/insight.ts --summary|--json [--until WHEN]

Fits the CalTRACK daily model to the 365 days before --until (default: today, local) of the
stored hourly power (INSIGHT_METER) and temperature (INSIGHT_WEATHER) and prints what it says.`;

/** The `--json` shape. */
export function insightJson(meter: string, unit: 'F' | 'C', a: Analysis, gasUnit?: string): Record<string, unknown> {
  const m = a.model;
  const last = a.days.filter((d) => d.alwaysOnW !== undefined).at(-1);
  // Electricity is stored in Wh and reported in kWh; gas in its own unit (the keys say which).
  const k = gasUnit ? gasUnit.toLowerCase() : 'kwh';
  const kwh = (v: number): number => (gasUnit ? Math.round(v * 1000) / 1000 : Math.round(v) / 1000);
  return {
    meter,
    model: m.type,
    temperature_unit: unit,
    usage_unit: gasUnit ?? 'kWh',
    [`baseload_${k}_per_day`]: kwh(m.intercept),
    heating: m.heating ? { balance_point: Math.round(m.heating.balance * 100) / 100, [`${k}_per_degree_day`]: kwh(m.heating.slope) } : null,
    cooling: m.cooling ? { balance_point: Math.round(m.cooling.balance * 100) / 100, [`${k}_per_degree_day`]: kwh(m.cooling.slope) } : null,
    r2_adj: Math.round(m.r2Adj * 1e4) / 1e4,
    cvrmse: Math.round(m.cvrmse * 1e4) / 1e4,
    nmbe: Math.round(m.nmbe * 1e6) / 1e6,
    days_used: m.daysUsed,
    days_missing: m.daysMissing,
    sufficient: m.sufficient,
    reasons: m.reasons,
    always_on_w: last && !gasUnit ? Math.round(last.alwaysOnW! * 10) / 10 : null,
    [`normalized_annual_${k}`]: kwh(a.normalizedAnnual),
    anomalies: a.days.filter((d) => d.anomaly).map((d) => ({ date: new Date(d.start * 1000).toISOString().slice(0, 10), [`actual_${k}`]: kwh(d.actual!), [`expected_${k}`]: kwh(d.expected!), sigmas: Math.round(d.anomaly!.sigmas * 10) / 10 })),
    ...(a.month ? { this_month: { from: a.month.from, to: a.month.to, [`actual_${k}`]: kwh(a.month.actual), [`weather_adjusted_last_year_${k}`]: kwh(a.month.expected), percent: Math.round(a.month.percent * 10) / 10 } } : {}),
    ...(a.year ? { this_year: { from: a.year.from, to: a.year.to, [`actual_${k}`]: kwh(a.year.actual), [`weather_adjusted_last_year_${k}`]: kwh(a.year.expected), percent: Math.round(a.year.percent * 10) / 10 } } : {}),
  };
}

/** Sentences a person reads. */
export function insightSummary(json: Record<string, unknown>): string[] {
  const j = json as { meter: string; model: string; temperature_unit: string; usage_unit: string; heating: Record<string, number> | null; cooling: Record<string, number> | null; r2_adj: number; cvrmse: number; days_used: number; sufficient: boolean; reasons: string[]; always_on_w: number | null; anomalies: unknown[]; this_month?: { percent: number }; this_year?: { percent: number } } & Record<string, unknown>;
  const u = `°${j.temperature_unit}`;
  const k = j.usage_unit.toLowerCase();
  const perDegree = (term: Record<string, number>): number => term[`${k}_per_degree_day`]!;
  const lines = [`${j.meter}: ${(j[`baseload_${k}_per_day`] as number).toFixed(1)} ${j.usage_unit} a day before heating and cooling.`];
  if (j.heating) lines.push(`Each degree below ${j.heating.balance_point!.toFixed(0)} ${u} adds ${perDegree(j.heating).toFixed(2)} ${j.usage_unit} (heating).`);
  if (j.cooling) lines.push(`Each degree above ${j.cooling.balance_point!.toFixed(0)} ${u} adds ${perDegree(j.cooling).toFixed(2)} ${j.usage_unit} (cooling).`);
  if (!j.heating && !j.cooling) lines.push('The weather explains none of it (intercept-only model).');
  if (j.always_on_w !== null) lines.push(`Always on: ${j.always_on_w.toFixed(0)} W.`);
  if (j.this_month) lines.push(`This month ${j.this_month.percent >= 0 ? 'was' : 'was'} ${Math.abs(j.this_month.percent).toFixed(0)} % ${j.this_month.percent >= 0 ? 'above' : 'below'} what last year's home would have used in this weather.`);
  if (j.this_year) lines.push(`This year so far: ${Math.abs(j.this_year.percent).toFixed(0)} % ${j.this_year.percent >= 0 ? 'above' : 'below'} last year, weather-adjusted.`);
  lines.push(`Fit: adjusted R² ${j.r2_adj.toFixed(2)}, CV(RMSE) ${(j.cvrmse * 100).toFixed(0)} %, ${j.days_used} days; ${j.anomalies.length} unusual day(s).${j.sufficient ? '' : ` Not sufficient: ${j.reasons.join('; ')}.`}`);
  return lines;
}

/** Run `--summary` / `--json`; returns the exit code. */
export async function runInsightReport(options: { argv: readonly string[]; env: Env; streams?: LogStreams; now?: number; signal?: AbortSignal }): Promise<number> {
  const out = options.streams?.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = options.streams?.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  try {
    const { values } = parseArgs({ args: [...options.argv], strict: true, options: { summary: { type: 'boolean' }, json: { type: 'boolean' }, until: { type: 'string' } } });
    const config = loadConfig(options.env);
    const settings = insightFromEnv(options.env);
    const now = options.now ?? config.now ?? Math.floor(Date.now() / 1000);
    const end = values.until === undefined ? DateTime.fromSeconds(now, { zone: config.timezone }).startOf('day').toSeconds() : parseTimeArg(values.until, { now, timezone: config.timezone, name: '--until' });
    const { analysis, meter, unit } = await readAndAnalyse(openReader(config), settings, config, { end, signal: options.signal });
    const json = insightJson(meter, config.units === 'metric' ? 'C' : 'F', analysis, settings.fuel === 'gas' ? (unit ?? 'THERM') : undefined);
    if (values.json) out(JSON.stringify(json, null, 2));
    else for (const line of insightSummary(json)) out(line);
    return EXIT.ok;
  } catch (error) {
    err(`insight: ${messageOf(error)}`);
    if (error instanceof ConfigError || (error instanceof TypeError && /option|argument/i.test(error.message))) {
      err(USAGE);
      return EXIT.usage;
    }
    return EXIT.failed;
  }
}
