/**
 * What a year of hourly use and temperature says about a home: the CalTRACK daily model
 * (caltrack.ts), each day's expected use and residual, the always-on load, unusual days, and
 * weather-normalised comparisons with last year. Pure: hourly series in, figures out.
 */
import { DateTime } from 'luxon';
import { type DailyModel, type Day, daysFromHours, fitDaily, inCelsius, percentile, predict } from './caltrack.ts';

/** Hourly series keyed by the hour's start (Unix s): use in Wh, temperature in the store's unit. */
export interface HourlySeries {
  usageWh: ReadonlyMap<number, number>;
  temperature: ReadonlyMap<number, number>;
  /** The store's temperature unit: the fit runs in °F, figures are reported in this unit. */
  unit: 'F' | 'C';
  /**
   * Daily records (keyed by local midnight) for days the hours do not cover: a utility that
   * reads only daily, a portal's daily weather. Hours win where they suffice.
   */
  dailyWh?: ReadonlyMap<number, number>;
  dailyTemperature?: ReadonlyMap<number, number>;
}

/** One day's figures. */
export interface DayInsight {
  start: number;
  /** Wh; undefined when the day has no usage. */
  actual?: number;
  /** Wh, from the model and the day's temperature; undefined without temperature. */
  expected?: number;
  residual?: number;
  /** Degree days at the model's balance points, in the store's unit (0 without a term). */
  hdd?: number;
  cdd?: number;
  /** The always-on load: the 2nd percentile of hourly mean power over the 7 days ending here, W. */
  alwaysOnW?: number;
  /** |residual| > k σ of the baseline residuals. */
  anomaly?: { sigmas: number };
}

/** A weather-normalised comparison of a period with the same period last year. */
export interface Comparison {
  from: string;
  to: string;
  /** Wh used this time. */
  actual: number;
  /** Wh last year's model expects under this period's temperatures. */
  expected: number;
  /** (actual − expected) / expected × 100. */
  percent: number;
}

/** The result of {@link analyse}. */
export interface Analysis {
  /** The model in the store's unit (balance points, slopes per degree-day), use in Wh/day. */
  model: DailyModel;
  days: DayInsight[];
  /** Standard deviation of the baseline residuals, Wh/day. */
  sigma: number;
  /** The model's use over the baseline year's temperatures, Wh. */
  normalizedAnnual: number;
  month?: Comparison;
  year?: Comparison;
}

/** Local day starts from `from` to `to` (both local midnights), `to` included. */
export function dayStarts(from: number, to: number, timezone: string): number[] {
  const out: number[] = [];
  for (let d = DateTime.fromSeconds(from, { zone: timezone }).startOf('day'); d.toSeconds() <= to; d = d.plus({ days: 1 })) out.push(d.toSeconds());
  return out;
}

const toF = (v: number, unit: 'F' | 'C'): number => (unit === 'F' ? v : v * 1.8 + 32);

/**
 * Analyse the days from `start` (local midnight) to `end` (local midnight, exclusive): the
 * model fits the 365 days before `end`; anomalies use k = `sigmaK`.
 */
export function analyse(series: HourlySeries, options: { start: number; end: number; timezone: string; sigmaK: number; fuel?: 'electricity' | 'gas' }): Analysis {
  const { timezone } = options;
  const starts = dayStarts(options.start, options.end, timezone);
  const tempF = new Map([...series.temperature].map(([t, v]) => [t, toF(v, series.unit)]));
  const days: Day[] = daysFromHours({ usage: series.usageWh, temperature: tempF }, starts).map((d) => {
    const usage = d.usage ?? series.dailyWh?.get(d.start);
    const daily = series.dailyTemperature?.get(d.start);
    const temperatureF = d.temperatureF ?? (daily === undefined ? undefined : toF(daily, series.unit));
    return { start: d.start, ...(usage === undefined ? {} : { usage }), ...(temperatureF === undefined ? {} : { temperatureF }) };
  });
  const fitted = fitDaily(days, { fuel: options.fuel });
  const model = series.unit === 'F' ? fitted : inCelsius(fitted);
  // Residuals of the fit's own days give σ.
  const baselineStart = options.end - 365 * 86400;
  const residuals = days.filter((d) => d.start >= baselineStart && d.usage !== undefined && d.temperatureF !== undefined && d.usage !== 0).map((d) => d.usage! - predict(fitted, d.temperatureF!));
  const sigma = residuals.length > 1 ? Math.sqrt(residuals.reduce((s, r) => s + r * r, 0) / (residuals.length - 1)) : 0;
  const normalizedAnnual = days.filter((d) => d.start >= baselineStart && d.temperatureF !== undefined).reduce((s, d) => s + predict(fitted, d.temperatureF!), 0);
  // Hourly power (an hour's Wh is its mean W) by local day, for the always-on load.
  const hourly = [...series.usageWh.entries()].sort((a, b) => a[0] - b[0]);
  const insights: DayInsight[] = days.map((d, i) => {
    const out: DayInsight = { start: d.start };
    if (d.usage !== undefined) out.actual = d.usage;
    if (d.temperatureF !== undefined) {
      out.expected = predict(fitted, d.temperatureF);
      const t = d.temperatureF;
      out.hdd = fitted.heating ? Math.max(fitted.heating.balance - t, 0) / (series.unit === 'F' ? 1 : 1.8) : 0;
      out.cdd = fitted.cooling ? Math.max(t - fitted.cooling.balance, 0) / (series.unit === 'F' ? 1 : 1.8) : 0;
      if (out.actual !== undefined) {
        out.residual = out.actual - out.expected;
        if (sigma > 0 && Math.abs(out.residual) > options.sigmaK * sigma) out.anomaly = { sigmas: out.residual / sigma };
      }
    }
    const windowStart = starts[Math.max(0, i - 6)]!;
    const windowEnd = starts[i + 1]!;
    const week = hourly.filter(([t]) => t >= windowStart && t < windowEnd).map(([, wh]) => wh);
    if (week.length >= 24) out.alwaysOnW = percentile(week, 0.02);
    return out;
  });
  return { model, days: insights, sigma, normalizedAnnual, ...comparisons(days, fitted, options) };
}

/** This month and this year against last year, weather-adjusted: last year's model under this year's temperatures. */
function comparisons(days: readonly Day[], _current: DailyModel, options: { end: number; timezone: string; fuel?: 'electricity' | 'gas' }): { month?: Comparison; year?: Comparison } {
  const end = DateTime.fromSeconds(options.end, { zone: options.timezone });
  const out: { month?: Comparison; year?: Comparison } = {};
  for (const [key, from] of [
    ['month', end.minus({ days: 1 }).startOf('month')],
    ['year', end.minus({ days: 1 }).startOf('year')],
  ] as const) {
    // Last year's model: fitted on the 365 days before this period's counterpart a year ago ended.
    const lastYearEnd = end.minus({ years: 1 }).toSeconds();
    const previous = fitDaily(
      days.filter((d) => d.start < lastYearEnd),
      { fuel: options.fuel },
    );
    if (previous.daysUsed < 300) continue;
    const period = days.filter((d) => d.start >= from.toSeconds() && d.start < options.end && d.usage !== undefined && d.temperatureF !== undefined);
    if (period.length === 0) continue;
    const actual = period.reduce((s, d) => s + d.usage!, 0);
    const expected = period.reduce((s, d) => s + predict(previous, d.temperatureF!), 0);
    out[key] = { from: from.toISODate()!, to: end.toISODate()!, actual, expected, percent: ((actual - expected) / expected) * 100 };
  }
  return out;
}
