/**
 * src/insight/analysis.ts over planted hourly series: two years of a home whose weather
 * response is known, the second year using 10 % more — the weather-adjusted comparison with
 * last year finds the 10 % whatever this year's weather; anomalies are the planted odd days;
 * the always-on load is the week's low percentile. Expected values come from the planting.
 */
import { describe, expect, it } from 'vitest';
import { analyse } from '../../src/insight/analysis.ts';

const DAY = 86400;
const START = Date.UTC(2024, 0, 1) / 1000;

/** Hourly Wh and °F for `days` days: use/day = (10 + 0.8·HDD60 + 1.5·CDD72) kWh × factor(day). */
function plant(days: number, factor: (d: number) => number, odd: ReadonlySet<number> = new Set()): { usageWh: Map<number, number>; temperature: Map<number, number> } {
  const usageWh = new Map<number, number>();
  const temperature = new Map<number, number>();
  for (let d = 0; d < days; d++) {
    // A warmer second year: this year's weather is not last year's.
    const t = 61 - 19 * Math.cos((2 * Math.PI * d) / 365.25) + (d >= 366 ? 3 : 0) + 4 * Math.sin(d * 1.7);
    let kwh = (10 + 0.8 * Math.max(60 - t, 0) + 1.5 * Math.max(t - 72, 0)) * factor(d);
    if (odd.has(d)) kwh *= 2.5;
    for (let h = 0; h < 24; h++) {
      const time = START + d * DAY + h * 3600;
      // Night hours at 60 % of the day's mean: a visible always-on floor.
      usageWh.set(time, ((kwh * 1000) / 24) * (h < 6 ? 0.6 : 1.1333333333333333));
      temperature.set(time, t);
    }
  }
  return { usageWh, temperature };
}

describe('analysis', () => {
  it('finds 10 % more use this year than last year\'s home would have used in this year\'s weather', () => {
    const days = 731;
    const series = plant(days, (d) => (d >= 366 ? 1.1 : 1));
    const end = START + days * DAY;
    const a = analyse({ ...series, unit: 'F' }, { start: START, end, timezone: 'UTC', sigmaK: 3 });
    expect(a.year).toBeDefined();
    expect(a.month).toBeDefined();
    expect(a.year!.percent).toBeCloseTo(10, 0);
    expect(a.month!.percent).toBeCloseTo(10, 0);
    expect(a.year!.from).toBe('2025-01-01');
  });

  it('lists the planted odd days as anomalies, and only them', () => {
    const odd = new Set([100, 200, 300]);
    const a = analyse({ ...plant(400, () => 1, odd), unit: 'F' }, { start: START, end: START + 400 * DAY, timezone: 'UTC', sigmaK: 3 });
    const found = a.days.filter((d) => d.anomaly).map((d) => (d.start - START) / DAY);
    expect(found).toEqual([...odd].filter((d) => d >= 400 - 365));
  });

  it('the always-on load is the 2nd percentile of the week\'s hourly power', () => {
    const series = plant(30, () => 1);
    const a = analyse({ ...series, unit: 'F' }, { start: START, end: START + 30 * DAY, timezone: 'UTC', sigmaK: 3 });
    const day = a.days[20]!;
    const week = [...series.usageWh.entries()].filter(([t]) => t >= day.start - 6 * DAY && t < day.start + DAY).map(([, v]) => v).sort((x, y) => x - y);
    const pos = (week.length - 1) * 0.02;
    expect(day.alwaysOnW).toBeCloseTo(week[Math.floor(pos)]! + (week[Math.ceil(pos)]! - week[Math.floor(pos)]!) * (pos - Math.floor(pos)), 9);
  });
});
