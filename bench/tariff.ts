/**
 * bench/tariff: the tariff engine's speed — one year of hourly usage priced under each of ten
 * plans (flat, tiered, baseline, time-of-use with seasons, holidays, taxes, net metering), and
 * one year of quarter hours under one time-of-use plan. Prints intervals priced per second.
 * Target: ≥ 1,000,000 intervals/s.
 *
 * `npx tsx bench/tariff.ts`
 */
import { fileURLToPath } from 'node:url';
import { priceUsage, type UsageInterval } from '../src/insight/tariff/engine.ts';
import { parseTariff, type Tariff } from '../src/insight/tariff/file.ts';
import type { BenchRow } from './table.ts';

const TZ = 'America/Los_Angeles';
const START = Date.UTC(2025, 0, 1, 8) / 1000;

function usage(step: number): UsageInterval[] {
  const out: UsageInterval[] = [];
  for (let t = START, i = 0; t < START + 365 * 86400; t += step, i++) out.push({ start: t, end: t + step, energy: ((0.3 + 0.5 * Math.abs(Math.sin(i / 7))) * step) / 3600, exported: i % 24 > 10 && i % 24 < 15 ? (0.2 * step) / 3600 : 0 });
  return out;
}

function plans(): Tariff[] {
  const flat = (p: number): number[][] => Array.from({ length: 12 }, () => new Array<number>(24).fill(p));
  const tou = Array.from({ length: 12 }, (_, m) => Array.from({ length: 24 }, (_, h) => (m >= 5 && m <= 8 ? 2 : 0) + (h >= 16 && h <= 20 ? 1 : 0)));
  const baseline = { baselineKwhPerDay: [12, 12, 11, 10, 9, 9, 9, 9, 9, 10, 11, 12] };
  const records: Array<Record<string, unknown>> = [
    { energyratestructure: [[{ rate: 0.28 }]], energyweekdayschedule: flat(0), energyweekendschedule: flat(0) },
    { energyratestructure: [[{ max: 300, rate: 0.2 }, { max: 600, rate: 0.3 }, { rate: 0.4 }]], energyweekdayschedule: flat(0), energyweekendschedule: flat(0), fixedchargefirstmeter: 10, fixedchargeunits: '$/month' },
    { energyratestructure: [[{ max: 1, unit: 'baseline', rate: 0.31 }, { rate: 0.39 }]], energyweekdayschedule: flat(0), energyweekendschedule: flat(0), homeflux: baseline },
    { energyratestructure: [[{ rate: 0.3 }], [{ rate: 0.45 }], [{ rate: 0.35 }], [{ rate: 0.6 }]], energyweekdayschedule: tou, energyweekendschedule: tou },
    { energyratestructure: [[{ rate: 0.3 }], [{ rate: 0.45 }], [{ rate: 0.35 }], [{ rate: 0.6 }]], energyweekdayschedule: tou, energyweekendschedule: flat(0), homeflux: { holidays: ['2025-01-01', '2025-07-04', '2025-12-25'] } },
    { energyratestructure: [[{ max: 1, unit: 'baseline', rate: 0.26 }, { rate: 0.36 }], [{ max: 1, unit: 'baseline', rate: 0.3 }, { rate: 0.39 }], [{ max: 1, unit: 'baseline', rate: 0.31 }, { rate: 0.4 }], [{ max: 1, unit: 'baseline', rate: 0.41 }, { rate: 0.5 }]], energyweekdayschedule: tou, energyweekendschedule: tou, mincharge: 0.35, minchargeunits: '$/day', homeflux: baseline },
    { energyratestructure: [[{ rate: 0.25, sell: 0.05 }]], energyweekdayschedule: flat(0), energyweekendschedule: flat(0), homeflux: { netMetering: { netting: 'hour' } } },
    { energyratestructure: [[{ rate: 0.3, sell: 0.04 }], [{ rate: 0.5, sell: 0.04 }]], energyweekdayschedule: tou.map((m) => m.map((p) => p % 2)), energyweekendschedule: flat(0), homeflux: { netMetering: { netting: 'month' } } },
    { energyratestructure: [[{ rate: 0.22 }]], energyweekdayschedule: flat(0), energyweekendschedule: flat(0), fueladjustmentsmonthly: [0.01, 0.01, 0.02, 0.02, 0.02, 0.03, 0.03, 0.03, 0.02, 0.02, 0.01, 0.01], homeflux: { taxes: [{ name: 'uut', percent: 7 }, { name: 'state', percent: 0.3 }] } },
    { energyratestructure: [[{ rate: 0.2 }]], energyweekdayschedule: flat(0), energyweekendschedule: flat(0), homeflux: { billing: { cycleDay: 17 }, versions: [{ effective: '2025-07-01', energyratestructure: [[{ rate: 0.24 }]] }] } },
  ];
  return records.map((r, i) => parseTariff(JSON.stringify({ name: `plan ${i + 1}`, ...r }), `plan-${i + 1}.json`, TZ));
}

/** Intervals per second: the median of five passes, after one pass to warm the JIT up. */
function rate(intervals: UsageInterval[], tariffs: Tariff[]): number {
  const rates: number[] = [];
  for (let pass = 0; pass < 6; pass++) {
    const start = performance.now();
    for (const t of tariffs) priceUsage(t, intervals, TZ);
    if (pass > 0) rates.push((intervals.length * tariffs.length) / ((performance.now() - start) / 1000));
  }
  return rates.sort((a, b) => a - b)[2]!;
}

/** Run the benchmark; returns its rows. */
export async function run(): Promise<BenchRow[]> {
  const all = plans();
  const hourly = rate(usage(3600), all);
  const quarter = rate(usage(900), [all[5]!]);
  return [
    { name: 'tariff: 1 year hourly under 10 plans', value: `${Math.round(hourly).toLocaleString('en-US')} intervals/s`, target: '≥ 1,000,000/s', ok: hourly >= 1_000_000 },
    { name: 'tariff: 1 year of quarter hours, TOU + baseline tiers', value: `${Math.round(quarter).toLocaleString('en-US')} intervals/s`, target: '≥ 1,000,000/s', ok: quarter >= 1_000_000 },
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { printRows } = await import('./table.ts');
  printRows(await run());
}
