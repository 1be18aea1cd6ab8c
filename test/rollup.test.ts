import { describe, expect, it } from 'vitest';
import { powerRecord, temperatureRecord } from '../src/records.ts';
import { chain, rollup } from '../src/rollup.ts';
import { localIso, periods } from '../src/window.ts';

const at = (iso: string): number => Date.parse(iso) / 1000;

describe('rollup', () => {
  const rules = { timezone: 'America/Los_Angeles', weekStart: 'monday' as const };
  // One week around the fall-back day, hourly: 1 Wh in hour i of the week... i.e. value = index.
  const week = { start: at('2025-10-27T07:00:00Z'), end: at('2025-11-03T08:00:00Z') };
  const hourStarts = periods(week, 'hour', rules).map((h) => h.start);
  const base = { timescale: 'hour' as const, source: 'homeflux.test', location: 'meter' };
  const power = hourStarts.map((t, i) => powerRecord({ ...base, time: t }, { value: i + 1, unit: 'Wh' }));
  const temps = hourStarts.map((t, i) => temperatureRecord({ ...base, time: t }, { value: i % 2 === 0 ? 50 : 70, unit: 'F', units: 'imperial' }));

  it('sums hours into local days (25 hours on the fall-back day) and days into the week', () => {
    const out = rollup(power, chain('power', 'sum', 'hour'), rules);
    const days = out.filter((r) => r.timescale === 'day');
    expect(days).toHaveLength(7);
    const fallBack = days.find((d) => localIso(d.time, rules.timezone) === '2025-11-02T00:00:00-07:00')!;
    // Hours of 2025-11-02 are indexes 144..168 (6 days × 24 before it): values 145..169.
    const expected = Array.from({ length: 25 }, (_, k) => 145 + k).reduce((a, b) => a + b, 0);
    expect(fallBack.fields.power_usage).toBe(expected);
    const weekly = out.filter((r) => r.timescale === 'week');
    expect(weekly).toHaveLength(1);
    expect(weekly[0]!.fields.power_usage).toBe((169 * 170) / 2);
    expect(weekly[0]!.tags).toEqual(power[0]!.tags);
  });

  it('averages temperature', () => {
    const out = rollup(temps, chain('temperature', 'mean', 'hour', 'day'), rules);
    expect(out).toHaveLength(7);
    // 24 alternating hours average exactly 60; the 25-hour day has 13 of one and 12 of the other.
    expect(out.filter((r) => r.fields.temperature === 60)).toHaveLength(6);
    expect(out.find((r) => r.fields.temperature !== 60)!.fields.temperature).toBeCloseTo((13 * 50 + 12 * 70) / 25, 9);
  });

  it('keeps series apart by tags and ignores other measurements', () => {
    const other = power.map((r) => ({ ...r, tags: { ...r.tags, location: 'ups' } }));
    const out = rollup([...power, ...other, ...temps], chain('power', 'sum', 'hour', 'day'), rules);
    expect(out).toHaveLength(14);
    expect(new Set(out.map((r) => r.tags.location))).toEqual(new Set(['meter', 'ups']));
  });
});
