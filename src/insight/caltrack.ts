/**
 * Weather-normalised daily usage the way energy-efficiency evaluators fit it: the CalTRACK 2.0
 * daily method (the methods behind OpenEEmeter), judged by ASHRAE Guideline 14's metrics. Pure.
 *
 * - Days break at local midnight. A day's usage needs ≥ 50 % of its hours (the missing ones are
 *   filled with the day's mean); its mean temperature needs ≥ 50 % of its hours after gaps of
 *   ≤ 6 hours are interpolated linearly. For electricity a zero day counts as missing, for gas not.
 * - Degree days per day: HDD_b = max(b − T̄, 0), CDD_b = max(T̄ − b, 0), in °F.
 * - Candidates by ordinary least squares: intercept-only, HDD-only and CDD-only at each balance
 *   point of the grid (30–90 °F, 3 °F apart), HDD+CDD for every pair with cooling ≥ heating.
 *   A degree-day term qualifies with ≥ 10 days of non-zero degree days and ≥ 20 degree days in
 *   total, and every coefficient (the intercept included) > 0. As OpenEEmeter's daily method
 *   does by default, a slope must also be significant (two-sided p < 0.1, `maxPValue`) — here
 *   Bonferroni-corrected over the candidates of its form, since the grid tries 21 or 231 of
 *   them and noise alone passes a flat 0.1 once in that many. The qualifying candidate with the
 *   highest adjusted R² wins; intercept-only has adjusted R² 0.
 * - Baseline sufficiency: the 365 days before the end, at most 37 of them missing.
 * - Metrics (Guideline 14, p = the model's parameters): CV(RMSE) = √(Σ(y − ŷ)² / (n − p)) / ȳ;
 *   NMBE = Σ(y − ŷ) / ((n − p) · ȳ).
 */
import { interpolate, pValue, solve } from './stats.ts';

export { interpolate, percentile, pValue, regularizedBeta } from './stats.ts';

/** One local day: its usage (or undefined when missing) and mean temperature in °F (or undefined). */
export interface Day {
  /** Local midnight, Unix seconds. */
  start: number;
  usage?: number;
  temperatureF?: number;
}

/** The model forms. */
export type ModelType = 'intercept_only' | 'hdd' | 'cdd' | 'hdd_cdd';

/** A fitted model: usage/day = intercept + heating.slope·HDD(heating.balance) + cooling.slope·CDD(cooling.balance). */
export interface DailyModel {
  type: ModelType;
  intercept: number;
  heating: { balance: number; slope: number } | null;
  cooling: { balance: number; slope: number } | null;
  r2: number;
  r2Adj: number;
  cvrmse: number;
  nmbe: number;
  /** Days the fit used (both usage and temperature present). */
  daysUsed: number;
  /** Days of the baseline window (365 before the end) without usage or temperature. */
  daysMissing: number;
  sufficient: boolean;
  reasons: string[];
}

/** Options of {@link fitDaily}. */
export interface FitOptions {
  /** Gas has no cooling models. */
  fuel?: 'electricity' | 'gas';
  /** Balance-point grid (°F). */
  grid?: { from: number; to: number; step: number };
  /** Largest p-value a slope may have (default 0.1; 1 turns the screen off, as CalTRACK 2.0 does). */
  maxPValue?: number;
}

const GRID = { from: 30, to: 90, step: 3 };
const MIN_DAYS = 10;
const MIN_DEGREE_DAYS = 20;

/** Predicted usage of one day under a model (°F). */
export function predict(model: Pick<DailyModel, 'intercept' | 'heating' | 'cooling'>, temperatureF: number): number {
  let y = model.intercept;
  if (model.heating) y += model.heating.slope * Math.max(model.heating.balance - temperatureF, 0);
  if (model.cooling) y += model.cooling.slope * Math.max(temperatureF - model.cooling.balance, 0);
  return y;
}

interface Candidate {
  type: ModelType;
  coef: number[];
  heating: number | undefined;
  cooling: number | undefined;
  sse: number;
  r2Adj: number;
}

/** Fit the CalTRACK daily model to `days` (sorted; the last day ends the baseline window). */
export function fitDaily(days: readonly Day[], options: FitOptions = {}): DailyModel {
  const fuel = options.fuel ?? 'electricity';
  const grid = options.grid ?? GRID;
  const end = days.length === 0 ? 0 : days[days.length - 1]!.start;
  const windowStart = end - 364 * 86400;
  const inWindow = days.filter((d) => d.start >= windowStart);
  const valid = (d: Day): boolean => d.usage !== undefined && d.temperatureF !== undefined && Number.isFinite(d.usage) && Number.isFinite(d.temperatureF) && !(fuel === 'electricity' && d.usage === 0);
  const used = inWindow.filter(valid);
  const daysMissing = 365 - used.length;
  const reasons: string[] = [];
  if (daysMissing > 37) reasons.push(`${daysMissing} of the 365 days before ${new Date(end * 1000).toISOString().slice(0, 10)} are missing (at most 37 may be)`);
  const y = used.map((d) => d.usage!);
  const t = used.map((d) => d.temperatureF!);
  const n = y.length;
  const mean = n === 0 ? 0 : y.reduce((s, v) => s + v, 0) / n;
  const sst = y.reduce((s, v) => s + (v - mean) ** 2, 0);
  const balances: number[] = [];
  for (let b = grid.from; b <= grid.to + 1e-9; b += grid.step) balances.push(b);
  const hdd = new Map(balances.map((b) => [b, t.map((x) => Math.max(b - x, 0))]));
  const cdd = new Map(balances.map((b) => [b, t.map((x) => Math.max(x - b, 0))]));
  const qualifies = (xs: number[]): boolean => xs.filter((x) => x > 0).length >= MIN_DAYS && xs.reduce((s, x) => s + x, 0) >= MIN_DEGREE_DAYS;
  const adj = (sse: number, p: number): number => (n - p - 1 > 0 && sst > 0 ? 1 - (sse / sst) * ((n - 1) / (n - p - 1)) : Number.NEGATIVE_INFINITY);

  let best: Candidate = { type: 'intercept_only', coef: [mean], heating: undefined, cooling: undefined, sse: sst, r2Adj: 0 };
  // The grid tries many balance points of each form; a slope that is significant at 0.1 once
  // in that many tries is what noise gives. Bonferroni over the form's candidates keeps the
  // screen at 0.1 for the form as a whole.
  const maxP = options.maxPValue ?? 0.1;
  const tries: Record<ModelType, number> = { intercept_only: 1, hdd: balances.length, cdd: balances.length, hdd_cdd: (balances.length * (balances.length + 1)) / 2 };
  const consider = (c: Candidate, pValues: number[]): void => {
    if (c.coef.every((v) => v > 0) && pValues.every((p) => p < maxP / tries[c.type]) && c.r2Adj > best.r2Adj) best = c;
  };
  // One degree-day term: closed-form simple regression.
  const single = (xs: number[]): { coef: number[]; sse: number; p: number[] } | undefined => {
    let sx = 0;
    let sxx = 0;
    let sxy = 0;
    let sy = 0;
    for (let i = 0; i < n; i++) {
      sx += xs[i]!;
      sxx += xs[i]! * xs[i]!;
      sxy += xs[i]! * y[i]!;
      sy += y[i]!;
    }
    const det = n * sxx - sx * sx;
    if (Math.abs(det) < 1e-12) return undefined;
    const slope = (n * sxy - sx * sy) / det;
    const intercept = (sy - slope * sx) / n;
    let sse = 0;
    for (let i = 0; i < n; i++) sse += (y[i]! - intercept - slope * xs[i]!) ** 2;
    // Var(slope) = σ² · n / det, σ² = SSE / (n − 2).
    const p = pValue(slope, Math.sqrt(((sse / (n - 2)) * n) / det), n - 2);
    return { coef: [intercept, slope], sse, p: [p] };
  };
  for (const b of balances) {
    const h = hdd.get(b)!;
    if (qualifies(h)) {
      const fit = single(h);
      if (fit) consider({ type: 'hdd', coef: fit.coef, heating: b, cooling: undefined, sse: fit.sse, r2Adj: adj(fit.sse, 1) }, fit.p);
    }
    if (fuel === 'gas') continue;
    const c = cdd.get(b)!;
    if (qualifies(c)) {
      const fit = single(c);
      if (fit) consider({ type: 'cdd', coef: fit.coef, heating: undefined, cooling: b, sse: fit.sse, r2Adj: adj(fit.sse, 1) }, fit.p);
    }
  }
  if (fuel !== 'gas') {
    for (const bh of balances) {
      const h = hdd.get(bh)!;
      if (!qualifies(h)) continue;
      for (const bc of balances) {
        if (bc < bh) continue;
        const c = cdd.get(bc)!;
        if (!qualifies(c)) continue;
        // Normal equations of y = a + b·h + c·c.
        let sh = 0;
        let sc = 0;
        let shh = 0;
        let scc = 0;
        let shc = 0;
        let sy = 0;
        let shy = 0;
        let scy = 0;
        for (let i = 0; i < n; i++) {
          const hi = h[i]!;
          const ci = c[i]!;
          sh += hi;
          sc += ci;
          shh += hi * hi;
          scc += ci * ci;
          shc += hi * ci;
          sy += y[i]!;
          shy += hi * y[i]!;
          scy += ci * y[i]!;
        }
        const xtx = [
          [n, sh, sc],
          [sh, shh, shc],
          [sc, shc, scc],
        ];
        const coef = solve(xtx, [sy, shy, scy]);
        if (!coef) continue;
        let sse = 0;
        for (let i = 0; i < n; i++) sse += (y[i]! - coef[0]! - coef[1]! * h[i]! - coef[2]! * c[i]!) ** 2;
        // Var(β_j) = σ² · (XᵀX)⁻¹_jj: the diagonal from two more solves.
        const sigma2 = sse / (n - 3);
        const inv1 = solve(xtx, [0, 1, 0]);
        const inv2 = solve(xtx, [0, 0, 1]);
        if (!inv1 || !inv2) continue;
        const pValues = [pValue(coef[1]!, Math.sqrt(sigma2 * inv1[1]!), n - 3), pValue(coef[2]!, Math.sqrt(sigma2 * inv2[2]!), n - 3)];
        consider({ type: 'hdd_cdd', coef, heating: bh, cooling: bc, sse, r2Adj: adj(sse, 2) }, pValues);
      }
    }
  }
  const p = best.coef.length;
  const dof = Math.max(n - p, 1);
  const residualSum = (() => {
    let s = 0;
    const m = modelOf(best);
    for (let i = 0; i < n; i++) s += y[i]! - predict(m, t[i]!);
    return s;
  })();
  const model = modelOf(best);
  return {
    ...model,
    type: best.type,
    r2: sst > 0 ? 1 - best.sse / sst : 0,
    r2Adj: best.type === 'intercept_only' ? 0 : best.r2Adj,
    cvrmse: mean !== 0 ? Math.sqrt(best.sse / dof) / mean : Number.NaN,
    nmbe: mean !== 0 ? residualSum / (dof * mean) : Number.NaN,
    daysUsed: n,
    daysMissing,
    sufficient: reasons.length === 0,
    reasons,
  };
}

function modelOf(c: Candidate): Pick<DailyModel, 'intercept' | 'heating' | 'cooling'> {
  const heating = c.heating === undefined ? null : { balance: c.heating, slope: c.coef[1]! };
  const cooling = c.cooling === undefined ? null : { balance: c.cooling, slope: c.coef[c.heating === undefined ? 1 : 2]! };
  return { intercept: c.coef[0]!, heating, cooling };
}

/**
 * Days from hourly series (local days of `timezone`): usage summed with missing hours filled by
 * the day's mean when ≥ 50 % are there; temperature the mean of the hours, gaps of ≤ 6 hours
 * interpolated linearly, when ≥ 50 % are there.
 */
export function daysFromHours(hours: { usage: ReadonlyMap<number, number>; temperature: ReadonlyMap<number, number> }, dayStarts: readonly number[]): Day[] {
  const out: Day[] = [];
  for (let i = 0; i < dayStarts.length - 1; i++) {
    const start = dayStarts[i]!;
    const end = dayStarts[i + 1]!;
    const slots = Math.round((end - start) / 3600);
    const u: number[] = [];
    const temps: Array<number | undefined> = [];
    for (let h = 0; h < slots; h++) {
      const t = start + h * 3600;
      const v = hours.usage.get(t);
      if (v !== undefined) u.push(v);
      temps.push(hours.temperature.get(t));
    }
    const day: Day = { start };
    if (u.length * 2 >= slots) day.usage = (u.reduce((s, v) => s + v, 0) / u.length) * slots;
    const filled = interpolate(temps, 6);
    const present = filled.filter((v): v is number => v !== undefined);
    if (present.length * 2 >= slots) day.temperatureF = present.reduce((s, v) => s + v, 0) / present.length;
    out.push(day);
  }
  return out;
}

/** A model fitted in °F expressed in °C: balance points converted, slopes per °C-day (× 1.8). */
export function inCelsius<M extends Pick<DailyModel, 'heating' | 'cooling'>>(model: M): M {
  const convert = (term: { balance: number; slope: number } | null): { balance: number; slope: number } | null => (term ? { balance: (term.balance - 32) / 1.8, slope: term.slope * 1.8 } : null);
  return { ...model, heating: convert(model.heating), cooling: convert(model.cooling) };
}
