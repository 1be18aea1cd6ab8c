/**
 * bench/insight: one full CalTRACK model selection (the whole balance-point grid: intercept-only,
 * 21 heating-only, 21 cooling-only and 231 heating-and-cooling candidates) over 365 days, and over
 * three years of daily data (the fit uses the last 365; the days are prepared for all). Prints
 * wall time per selection and candidate fits per second. Target: one selection ≤ 200 ms.
 *
 * `npx tsx bench/insight.ts`
 */
import { fileURLToPath } from 'node:url';
import { type Day, fitDaily } from '../src/insight/caltrack.ts';
import type { BenchRow } from './table.ts';

const CANDIDATES = 1 + 21 + 21 + 231;

function days(n: number): Day[] {
  let seed = 42;
  const rnd = (): number => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 4294967296);
  return Array.from({ length: n }, (_, d) => {
    const t = 60 - 20 * Math.cos((2 * Math.PI * d) / 365.25) + 10 * (rnd() - 0.5);
    return { start: 1_700_000_000 + d * 86400, temperatureF: t, usage: 9 + 0.9 * Math.max(55 - t, 0) + 1.8 * Math.max(t - 74, 0) + 2 * (rnd() - 0.5) };
  });
}

/** Median milliseconds of one model selection over `data`. */
function time(data: Day[]): number {
  const ms: number[] = [];
  for (let i = 0; i < 12; i++) {
    const start = performance.now();
    fitDaily(data);
    if (i >= 2) ms.push(performance.now() - start);
  }
  return ms.sort((a, b) => a - b)[5]!;
}

/** Run the benchmark; returns its rows. */
export async function run(): Promise<BenchRow[]> {
  return [365, 3 * 365].map((n) => {
    const ms = time(days(n));
    return { name: `insight: full model selection, ${n} days`, value: `${ms.toFixed(1)} ms (${Math.round((CANDIDATES / ms) * 1000).toLocaleString('en-US')} candidate fits/s)`, target: '≤ 200 ms', ok: ms <= 200 };
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { printRows } = await import('./table.ts');
  printRows(await run());
}
