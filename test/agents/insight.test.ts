/**
 * The insight agent through the real pipeline on the demo home (whose use follows the
 * temperature): a heating-and-cooling model over a year, the always-on load checked against a
 * percentile computed here from the stored lines, residuals that are stored use minus expected,
 * the same model in °C from a metric store, and the meter choice.
 */
import { appendFile, cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { beforeAll, describe, expect, it } from 'vitest';
import { demo } from '../../src/agents/demo/index.ts';
import { insight } from '../../src/agents/insight/index.ts';
import { readBucketFile } from '../../src/database/file-store.ts';
import { runInsightReport } from '../../src/run/insight.ts';
import { runCaptured, tempHome } from '../../testing/helpers/run-agent.ts';

const TZ = 'America/Los_Angeles';
const NOW = DateTime.fromISO('2026-11-02T09:00', { zone: TZ }).toSeconds();
const homes: Record<'imperial' | 'metric', { env: Record<string, string>; dataDir: string }> = {} as never;

async function report(env: Record<string, string>, ...argv: string[]): Promise<{ code: number; text: string }> {
  const out: string[] = [];
  const code = await runInsightReport({ argv, env, streams: { out: (l) => out.push(l), err: (l) => out.push(l) }, now: NOW });
  return { code, text: out.join('\n') };
}

beforeAll(async () => {
  for (const units of ['imperial', 'metric'] as const) {
    const home = await tempHome(`insight-${units}`);
    const env = { ...home.env, HOMEFLUX_TIMEZONE: TZ, HOMEFLUX_UNITS: units };
    const run = await runCaptured(demo, ['--since', '2025-10-01', '--until', '2026-11-02'], env, { now: NOW });
    expect(run.code, run.all).toBe(0);
    homes[units] = { env, dataDir: home.env.HOMEFLUX_DATA_DIR };
  }
}, 120_000);

describe('insight agent on the demo home', () => {
  it('finds heating and cooling, a sufficient baseline and its always-on load', async () => {
    const { code, text } = await report(homes.imperial.env, '--json');
    expect(code, text).toBe(0);
    const j = JSON.parse(text) as { model: string; sufficient: boolean; days_used: number; heating: { balance_point: number }; cooling: { balance_point: number }; r2_adj: number; always_on_w: number; temperature_unit: string };
    expect(j.model).toBe('hdd_cdd');
    expect(j.sufficient).toBe(true);
    expect(j.days_used).toBe(365);
    expect(j.temperature_unit).toBe('F');
    expect(j.cooling.balance_point).toBeGreaterThanOrEqual(j.heating.balance_point);
    expect(j.r2_adj).toBeGreaterThan(0.8);
    // The always-on load of the last day: the 2nd percentile of the 7 days' hourly Wh, from the stored lines.
    const end = DateTime.fromSeconds(NOW, { zone: TZ }).startOf('day');
    const from = end.minus({ days: 7 }).toSeconds();
    const hours = (await readBucketFile(homes.imperial.dataDir, 'home-hour'))
      .map((l) => /^power,.*location=demo_meter.* power_usage=([\d.]+) (\d+)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null && Number(m[2]) >= from && Number(m[2]) < end.toSeconds())
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    expect(hours).toHaveLength(7 * 24 + 1); // 2026-11-01, the fall-back day, has 25 hours
    const pos = (hours.length - 1) * 0.02;
    const expected = hours[Math.floor(pos)]! + (hours[Math.ceil(pos)]! - hours[Math.floor(pos)]!) * (pos - Math.floor(pos));
    expect(j.always_on_w).toBeCloseTo(expected, 0);
    const summary = await report(homes.imperial.env, '--summary');
    expect(summary.text).toMatch(/^demo_meter: [\d.]+ kWh a day before heating and cooling\.\nEach degree below \d+ °F adds [\d.]+ kWh \(heating\)\.\nEach degree above \d+ °F adds [\d.]+ kWh \(cooling\)\./);
  });

  it('writes daily records whose residual is the stored use minus the expected', async () => {
    const run = await runCaptured(insight, ['--since', '2026-10-20', '--until', '2026-11-01'], homes.imperial.env, { now: NOW });
    expect(run.code, run.all).toBe(0);
    const day = (await readBucketFile(homes.imperial.dataDir, 'home-day')).filter((l) => l.includes('source=homeflux.insight'));
    const baseline = day.filter((l) => l.startsWith('baseline,'));
    expect(baseline).toHaveLength(12);
    expect(day.filter((l) => l.startsWith('always_on,'))).toHaveLength(12);
    expect(day.filter((l) => l.startsWith('model,'))).toHaveLength(1);
    const used = new Map((await readBucketFile(homes.imperial.dataDir, 'home-day')).flatMap((l) => {
      const m = /^power,.*source=homeflux\.demo power_usage=([\d.]+) (\d+)$/.exec(l);
      return m ? [[Number(m[2]), Number(m[1])] as const] : [];
    }));
    for (const line of baseline) {
      const t = Number(line.split(' ').pop());
      const expected = Number(/expected=([-\d.]+)/.exec(line)![1]);
      const residual = Number(/residual=([-\d.]+)/.exec(line)![1]);
      expect(residual, line).toBeCloseTo(used.get(t)! - expected, 0);
    }
  });

  it('a metric store gives the same model in °C', async () => {
    const f = JSON.parse((await report(homes.imperial.env, '--json')).text) as { model: string; heating: { balance_point: number; kwh_per_degree_day: number }; cooling: { balance_point: number; kwh_per_degree_day: number }; baseload_kwh_per_day: number };
    const c = JSON.parse((await report(homes.metric.env, '--json')).text) as typeof f & { temperature_unit: string };
    expect(c.temperature_unit).toBe('C');
    expect(c.model).toBe(f.model);
    expect(c.heating.balance_point).toBeCloseTo((f.heating.balance_point - 32) / 1.8, 1);
    expect(c.cooling.balance_point).toBeCloseTo((f.cooling.balance_point - 32) / 1.8, 1);
    expect(c.heating.kwh_per_degree_day).toBeCloseTo(f.heating.kwh_per_degree_day * 1.8, 2);
    expect(c.baseload_kwh_per_day).toBeCloseTo(f.baseload_kwh_per_day, 2);
  });

  it('from daily records alone (a utility that reads only daily) gives the same model', async () => {
    const daily = await tempHome('insight-daily');
    await cp(join(homes.imperial.dataDir, 'home-day'), join(daily.env.HOMEFLUX_DATA_DIR, 'home-day'), { recursive: true });
    const fromDays = JSON.parse((await report({ ...homes.imperial.env, HOMEFLUX_DATA_DIR: daily.env.HOMEFLUX_DATA_DIR }, '--json')).text) as { model: string; days_used: number; baseload_kwh_per_day: number; heating: { balance_point: number; kwh_per_degree_day: number } };
    const fromHours = JSON.parse((await report(homes.imperial.env, '--json')).text) as typeof fromDays;
    expect(fromDays.days_used).toBe(365);
    expect(fromDays.model).toBe(fromHours.model);
    expect(fromDays.heating.balance_point).toBe(fromHours.heating.balance_point);
    // The demo's day records are the sums and means of its hours (rounded to 3 decimals when stored).
    expect(fromDays.baseload_kwh_per_day).toBeCloseTo(fromHours.baseload_kwh_per_day, 1);
    expect(fromDays.heating.kwh_per_degree_day).toBeCloseTo(fromHours.heating.kwh_per_degree_day, 2);
  });

  it('gas (INSIGHT_FUEL=gas): daily therms against temperature, a heating-only model in the meter\'s unit', async () => {
    // Planted: 0.4 therm a day + 0.12 therm per °F·day below 60 °F, over 400 days of seasonal temperatures.
    const h = await tempHome('insight-gas');
    const dir = join(h.env.HOMEFLUX_DATA_DIR, 'home-day');
    await mkdir(dir, { recursive: true });
    const byMonth = new Map<string, string[]>();
    const end = DateTime.fromSeconds(NOW, { zone: TZ }).startOf('day');
    for (let d = 400; d >= 1; d--) {
      const day = end.minus({ days: d });
      const t = 60 - 18 * Math.cos((2 * Math.PI * day.ordinal) / 365.25) + 3 * Math.sin(d * 1.3);
      const therms = Math.round((0.4 + 0.12 * Math.max(60 - t, 0) + 0.05 * Math.cos(d * 2.1)) * 1000) / 1000;
      const month = day.toUTC().toFormat('yyyy-MM');
      const lines = byMonth.get(month) ?? [];
      lines.push(`gas,data_source=homeflux,location=gas_meter,source=homeflux.opower.gwp,unit=THERM gas_usage=${therms} ${day.toSeconds()}`, `temperature,data_source=homeflux,location=home,source=homeflux.open_meteo temperature=${Math.round(t * 100) / 100} ${day.toSeconds()}`);
      byMonth.set(month, lines);
    }
    for (const [month, lines] of byMonth) await writeFile(join(dir, `${month}.lp`), `${lines.join('\n')}\n`);
    const env = { ...h.env, HOMEFLUX_TIMEZONE: TZ, INSIGHT_FUEL: 'gas' };
    const { code, text } = await report(env, '--json');
    expect(code, text).toBe(0);
    const j = JSON.parse(text) as { model: string; usage_unit: string; baseload_therm_per_day: number; heating: { balance_point: number; therm_per_degree_day: number }; cooling: unknown; always_on_w: unknown; days_used: number };
    expect(j.usage_unit).toBe('THERM');
    expect(j.model).toBe('hdd');
    expect(j.cooling).toBeNull();
    expect(j.always_on_w).toBeNull();
    expect(j.days_used).toBe(365);
    expect(Math.abs(j.heating.balance_point - 60)).toBeLessThanOrEqual(3);
    expect(Math.abs(j.heating.therm_per_degree_day - 0.12)).toBeLessThanOrEqual(0.012);
    expect((await report(env, '--summary')).text).toMatch(/^gas_meter: [\d.]+ THERM a day before heating and cooling\.\nEach degree below \d+ °F adds [\d.]+ THERM \(heating\)\./);
  });

  it('with several meters and none chosen, names them and exits 2', async () => {
    const h = await tempHome('insight-meters');
    const env = { ...h.env, HOMEFLUX_TIMEZONE: TZ };
    await runCaptured(demo, ['--since', '2026-10-25', '--until', '2026-10-27'], env, { now: NOW });
    await appendFile(join(h.env.HOMEFLUX_DATA_DIR, 'home-hour', '2026-10.lp'), `power,data_source=homeflux,location=garage,source=homeflux.opower.gwp power_usage=100 ${DateTime.fromISO('2026-10-26T05:00', { zone: TZ }).toSeconds()}\n`);
    const { code, text } = await report(env, '--json');
    expect(code).toBe(2);
    expect(text).toMatch(/INSIGHT_METER: 2 locations have power in file store .* \(demo_meter, garage\); set INSIGHT_METER to the one to use/);
  });
});
