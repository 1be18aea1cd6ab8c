/**
 * The cost agent through the real pipeline: the demo home's stored usage priced under a flat
 * tariff, checked against a bill worked out here from the stored lines themselves (kWh × rate +
 * customer charge, with the tax); the same from InfluxDB 1.x; the utility's bill beside the
 * computed one; missing hours; several meters; a malformed file; and `--compare`.
 */
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { cost } from '../../src/agents/cost/index.ts';
import { demo } from '../../src/agents/demo/index.ts';
import { readBucketFile } from '../../src/database/file-store.ts';
import { runCompare } from '../../src/run/compare.ts';
import { influxV1Client } from '../../testing/helpers/servers.ts';
import { readTree, runCaptured, tempHome } from '../../testing/helpers/run-agent.ts';

const TZ = 'America/Los_Angeles';
const NOW = DateTime.fromISO('2026-11-15T12:00', { zone: TZ }).toSeconds();
const OCT = { start: DateTime.fromISO('2026-10-01', { zone: TZ }).toSeconds(), end: DateTime.fromISO('2026-11-01', { zone: TZ }).toSeconds() };
const RATE = 0.28;
const FIXED = 10;
const TAX = 0.07;

let home: Awaited<ReturnType<typeof tempHome>>;
let tariffFile: string;
let octKwh: number;

/** The demo's stored hourly Wh in [start, end), by a plain regex on the file store's lines. */
async function storedKwh(dataDir: string, range: { start: number; end: number }): Promise<number> {
  let wh = 0;
  for (const line of await readBucketFile(dataDir, 'home-hour')) {
    const m = /^power,data_source=homeflux,location=demo_meter,source=homeflux\.demo power_usage=([\d.]+) (\d+)$/.exec(line);
    if (m && Number(m[2]) >= range.start && Number(m[2]) < range.end) wh += Number(m[1]);
  }
  return wh / 1000;
}

const flat = (p: number): number[][] => Array.from({ length: 12 }, () => new Array<number>(24).fill(p));

beforeAll(async () => {
  home = await tempHome('cost');
  Object.assign(home.env, { HOMEFLUX_TIMEZONE: TZ });
  const run = await runCaptured(demo, ['--since', '2026-09-01', '--until', '2026-11-15'], home.env, { now: NOW });
  expect(run.code, run.all).toBe(0);
  tariffFile = join(home.dir, 'flat.json');
  await writeFile(tariffFile, JSON.stringify({ name: 'Flat test', energyratestructure: [[{ rate: RATE }]], energyweekdayschedule: flat(0), energyweekendschedule: flat(0), fixedchargefirstmeter: FIXED, fixedchargeunits: '$/month', homeflux: { taxes: [{ name: 'uut', percent: TAX * 100 }] } }));
  octKwh = await storedKwh(home.env.HOMEFLUX_DATA_DIR, OCT);
  expect(octKwh).toBeGreaterThan(300);
});

/** `cost` and `cost_component` lines of the bill bucket starting at `start`. */
async function billLines(dataDir: string, start: number): Promise<{ bill: string; components: string[] }> {
  const lines = (await readBucketFile(dataDir, 'home-bill')).filter((l) => l.endsWith(` ${start}`));
  return { bill: lines.find((l) => l.startsWith('cost,'))!, components: lines.filter((l) => l.startsWith('cost_component,')) };
}
const field = (line: string, name: string): number => Number(new RegExp(`[ ,]${name}=([-\\d.e]+)`).exec(line)![1]);

describe('cost agent', () => {
  it('prices a month of stored usage: the bill, its components and its hours agree with a hand computation', async () => {
    const run = await runCaptured(cost, ['--since', '2026-10-01', '--until', '2026-11-01'], { ...home.env, COST_TARIFF: tariffFile }, { now: NOW });
    expect(run.code, run.all).toBe(0);
    const { bill, components } = await billLines(home.env.HOMEFLUX_DATA_DIR, OCT.start);
    // (kWh × 0.28 + 10) × 1.07
    expect(field(bill, 'cost')).toBeCloseTo((octKwh * RATE + FIXED) * (1 + TAX), 4);
    expect(bill).toMatch(/complete=true/);
    expect(bill).toMatch(/,plan=flat_test,/);
    expect(field(bill, 'days')).toBe(31);
    expect(components.map((l) => /kind=(\w+)/.exec(l)![1]).sort()).toEqual(['energy', 'fixed', 'tax']);
    expect(components.reduce((s, l) => s + field(l, 'cost'), 0)).toBeCloseTo(field(bill, 'cost'), 4);
    // Hours of October: each kWh × 0.28 with the tax on it.
    const hours = (await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-hour')).filter((l) => l.startsWith('cost,') && Number(l.split(' ').pop()) >= OCT.start && Number(l.split(' ').pop()) < OCT.end);
    expect(hours).toHaveLength(31 * 24); // DST ends on 2026-11-01, after October
    expect(hours.reduce((s, l) => s + field(l, 'cost'), 0)).toBeCloseTo(octKwh * RATE * (1 + TAX), 3);
    // Idempotent: a second run leaves the store as it was.
    const before = await readTree(home.env.HOMEFLUX_DATA_DIR);
    const again = await runCaptured(cost, ['--since', '2026-10-01', '--until', '2026-11-01'], { ...home.env, COST_TARIFF: tariffFile }, { now: NOW });
    expect(again.code).toBe(0);
    expect(await readTree(home.env.HOMEFLUX_DATA_DIR)).toEqual(before);
  });

  it('reads from InfluxDB 1.x and writes there the same bill', async () => {
    const influx = influxV1Client(inject('influxV1Url'));
    const prefix = `cost${process.pid}`;
    const env = { ...home.env, INFLUX_URL: influx.url, INFLUX_API: 'v1', INFLUX_BUCKET_PREFIX: prefix };
    expect((await runCaptured(demo, ['--since', '2026-09-25', '--until', '2026-11-05'], env, { now: NOW })).code).toBe(0);
    const run = await runCaptured(cost, ['--since', '2026-10-01', '--until', '2026-11-01'], { ...env, COST_TARIFF: tariffFile }, { now: NOW });
    expect(run.code, run.all).toBe(0);
    const rows = await influx.query(`${prefix}-bill`, `SELECT "cost" FROM "cost" WHERE time = ${OCT.start}s`);
    expect(Number(rows[0]!.series![0]!.values[0]![1])).toBeCloseTo((octKwh * RATE + FIXED) * (1 + TAX), 4);
  });

  it('puts the utility\'s own bill beside the computed one, with the error in percent', async () => {
    const h = await tempHome('cost-bill');
    const env = { ...h.env, HOMEFLUX_TIMEZONE: TZ, COST_TARIFF: tariffFile };
    await runCaptured(demo, ['--since', '2026-09-28', '--until', '2026-11-02'], env, { now: NOW });
    await mkdir(join(h.env.HOMEFLUX_DATA_DIR, 'home-bill'), { recursive: true });
    await writeFile(join(h.env.HOMEFLUX_DATA_DIR, 'home-bill', '2026-10.lp'), `bill,currency=USD,data_source=homeflux,location=gwp_meter,source=homeflux.opower.gwp cost=150,days=31,end=${OCT.end} ${OCT.start}\n`);
    const run = await runCaptured(cost, ['--since', '2026-10-01', '--until', '2026-11-01'], env, { now: NOW });
    expect(run.code, run.all).toBe(0);
    const { bill } = await billLines(h.env.HOMEFLUX_DATA_DIR, OCT.start);
    const computed = field(bill, 'cost');
    expect(field(bill, 'utility_cost')).toBe(150);
    expect(field(bill, 'error_percent')).toBeCloseTo(((computed - 150) / 150) * 100, 2);
  });

  it('marks a bill with missing hours incomplete and says so', async () => {
    const h = await tempHome('cost-gap');
    const env = { ...h.env, HOMEFLUX_TIMEZONE: TZ, COST_TARIFF: tariffFile };
    await runCaptured(demo, ['--since', '2026-09-28', '--until', '2026-11-02'], env, { now: NOW });
    // Take 2026-10-10 out of the store.
    const day = { start: DateTime.fromISO('2026-10-10', { zone: TZ }).toSeconds(), end: DateTime.fromISO('2026-10-11', { zone: TZ }).toSeconds() };
    const file = join(h.env.HOMEFLUX_DATA_DIR, 'home-hour', '2026-10.lp');
    const kept = (await readBucketFile(h.env.HOMEFLUX_DATA_DIR, 'home-hour')).filter((l) => {
      const t = Number(l.split(' ').pop());
      return !(l.startsWith('power,') && t >= day.start && t < day.end) && t >= Date.UTC(2026, 9, 1) / 1000 && t < Date.UTC(2026, 10, 1) / 1000;
    });
    await writeFile(file, `${kept.join('\n')}\n`);
    const run = await runCaptured(cost, ['--since', '2026-10-01', '--until', '2026-11-01'], env, { now: NOW });
    expect(run.all).toMatch(/cost: 24 hour\(s\) of usage missing in the bill from 2026-10-01: priced as far as it goes, marked complete=false/);
    const { bill } = await billLines(h.env.HOMEFLUX_DATA_DIR, OCT.start);
    expect(bill).toMatch(/complete=false/);
    expect(field(bill, 'missing_hours')).toBe(24);
  });

  it('with several meters stored and none chosen, names them and exits 2', async () => {
    const h = await tempHome('cost-meters');
    const env = { ...h.env, HOMEFLUX_TIMEZONE: TZ, COST_TARIFF: tariffFile };
    await runCaptured(demo, ['--since', '2026-10-01', '--until', '2026-10-03'], env, { now: NOW });
    await appendFile(join(h.env.HOMEFLUX_DATA_DIR, 'home-hour', '2026-10.lp'), `power,data_source=homeflux,location=garage,source=homeflux.opower.gwp power_usage=100 ${DateTime.fromISO('2026-10-02T05:00', { zone: TZ }).toSeconds()}\n`);
    const run = await runCaptured(cost, ['--since', '2026-10-01', '--until', '2026-10-03'], env, { now: NOW });
    expect(run.code).toBe(2);
    expect(run.all).toMatch(/COST_METER: 2 meters have power in file store .* \(demo_meter, garage\); set COST_METER to the one to price/);
    expect((await runCaptured(cost, ['--since', '2026-10-01', '--until', '2026-10-03'], { ...env, COST_METER: 'garage' }, { now: NOW })).code).toBe(0);
  });

  it('refuses a malformed tariff with exit 2 naming the file and the path, writing nothing', async () => {
    const h = await tempHome('cost-bad');
    const bad = join(h.dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ energyratestructure: [[{ rate: 0.1 }]], energyweekdayschedule: flat(0).slice(0, 6), energyweekendschedule: flat(0) }));
    const run = await runCaptured(cost, [], { ...h.env, COST_TARIFF: bad }, { now: NOW });
    expect(run.code).toBe(2);
    expect(run.all).toMatch(/tariff bad\.json: \(top level\)\.energyweekdayschedule: expected a 12 × 24 schedule/);
    expect(await readTree(h.env.HOMEFLUX_DATA_DIR)).toEqual(new Map());
  });
});

describe('cost --compare', () => {
  it('prices the last months under each plan, cheapest first; the flat plan as computed by hand', async () => {
    const tou = join(home.dir, 'tou.json');
    const schedule = Array.from({ length: 12 }, () => Array.from({ length: 24 }, (_, h) => (h >= 16 && h <= 20 ? 1 : 0)));
    await writeFile(tou, JSON.stringify({ name: 'Peaky', energyratestructure: [[{ rate: 0.2 }], [{ rate: 0.6 }]], energyweekdayschedule: schedule, energyweekendschedule: schedule }));
    const out: string[] = [];
    const code = await runCompare({ argv: ['--compare', tariffFile, tou, '--since', '2026-09-01', '--until', '2026-11-01', '--json'], env: { ...home.env, COST_TARIFF: tariffFile }, streams: { out: (l) => out.push(l), err: (l) => out.push(l) }, now: NOW });
    expect(code, out.join('\n')).toBe(0);
    const result = JSON.parse(out.join('\n')) as { currency: string; plans: Array<{ name: string; total: number; periods: Array<{ start: string; end: string; energy_kwh: number; cost: number }> }> };
    expect(result.currency).toBe('USD');
    expect(result.plans.map((p) => p.total)).toEqual([...result.plans.map((p) => p.total)].sort((a, b) => a - b));
    const flatPlan = result.plans.find((p) => p.name === 'Flat test')!;
    expect(flatPlan.periods.map((p) => p.start)).toEqual(['2026-09-01', '2026-10-01']);
    const SEP = { start: DateTime.fromISO('2026-09-01', { zone: TZ }).toSeconds(), end: OCT.start };
    const sepKwh = await storedKwh(home.env.HOMEFLUX_DATA_DIR, SEP);
    expect(flatPlan.periods[1]!.energy_kwh).toBeCloseTo(octKwh, 2);
    expect(flatPlan.total).toBeCloseTo(((sepKwh + octKwh) * RATE + 2 * FIXED) * (1 + TAX), 1);
    // The table form says which is current and by how much the other differs.
    const table: string[] = [];
    await runCompare({ argv: ['--compare', tou, '--since', '2026-09-01', '--until', '2026-11-01'], env: { ...home.env, COST_TARIFF: tariffFile }, streams: { out: (l) => table.push(l), err: (l) => table.push(l) }, now: NOW });
    expect(table.join('\n')).toMatch(/Flat test\s+\$[\d,.]+\s+current plan/);
    expect(table.join('\n')).toMatch(/Peaky\s+\$[\d,.]+\s+[+−]\$[\d,.]+ \([+−][\d.]+ %\)/);
    expect(await readFile(tariffFile, 'utf8')).toContain('Flat test');
  });

  it('puts the current plan beside the utility\'s bills and the utility\'s split of its cost', async () => {
    const h = await tempHome('cost-reconcile');
    const env = { ...h.env, HOMEFLUX_TIMEZONE: TZ, COST_TARIFF: tariffFile };
    await runCaptured(demo, ['--since', '2026-09-28', '--until', '2026-11-02'], env, { now: NOW });
    await mkdir(join(h.env.HOMEFLUX_DATA_DIR, 'home-bill'), { recursive: true });
    await writeFile(join(h.env.HOMEFLUX_DATA_DIR, 'home-bill', '2026-10.lp'), `bill,currency=USD,data_source=homeflux,location=demo_meter,source=homeflux.opower.gwp cost=150,days=31,end=${OCT.end} ${OCT.start}\n`);
    // Two of the portal's readComponents on two days of October (its daily reads).
    const day = (d: number): number => DateTime.fromISO(`2026-10-${String(d).padStart(2, '0')}`, { zone: TZ }).toSeconds();
    await appendFile(
      join(h.env.HOMEFLUX_DATA_DIR, 'home-day', '2026-10.lp'),
      [
        `cost_component,currency=USD,data_source=homeflux,day_part=on_peak,location=demo_meter,source=homeflux.opower.gwp,tier=1 cost=1.5,energy=5000 ${day(5)}`,
        `cost_component,currency=USD,data_source=homeflux,day_part=on_peak,location=demo_meter,source=homeflux.opower.gwp,tier=1 cost=2.5,energy=7000 ${day(6)}`,
        `cost_component,currency=USD,data_source=homeflux,day_part=off_peak,location=demo_meter,source=homeflux.opower.gwp,tier=1 cost=0.5,energy=4000 ${day(6)}`,
      ].join('\n') + '\n',
    );
    const out: string[] = [];
    const code = await runCompare({ argv: ['--compare', tariffFile, '--since', '2026-10-01', '--until', '2026-11-01'], env, streams: { out: (l) => out.push(l), err: (l) => out.push(l) }, now: NOW });
    expect(code, out.join('\n')).toBe(0);
    const text = out.join('\n');
    const kwh = await storedKwh(h.env.HOMEFLUX_DATA_DIR, OCT);
    const computed = Math.round((kwh * RATE + FIXED) * (1 + TAX) * 100) / 100;
    expect(text).toContain(`2026-10-01 … 2026-11-01  computed ${`$${computed.toFixed(2)}`.padStart(11)}  utility ${'$150.00'.padStart(11)}  ${(((computed - 150) / 150) * 100).toFixed(1)} %`);
    expect(text).toMatch(/tier 1 off_peak\s+4\.0 kWh\s+\$0\.50/);
    expect(text).toMatch(/tier 1 on_peak\s+12\.0 kWh\s+\$4\.00/);
  });
});

describe('cost agent billing by the stored bills', () => {
  it('prices each period of the utility\'s own bill records ("billing": "bills")', async () => {
    const h = await tempHome('cost-bills-cycle');
    const env = { ...h.env, HOMEFLUX_TIMEZONE: TZ };
    await runCaptured(demo, ['--since', '2026-09-28', '--until', '2026-11-02'], env, { now: NOW });
    // The utility billed 2026-10-06 … 2026-11-04 (29 days): the cost agent follows that period.
    const start = DateTime.fromISO('2026-10-06', { zone: TZ }).toSeconds();
    const end = DateTime.fromISO('2026-11-04', { zone: TZ }).toSeconds();
    await mkdir(join(h.env.HOMEFLUX_DATA_DIR, 'home-bill'), { recursive: true });
    await writeFile(join(h.env.HOMEFLUX_DATA_DIR, 'home-bill', '2026-10.lp'), `bill,currency=USD,data_source=homeflux,location=demo_meter,source=homeflux.opower.gwp cost=99,days=29,end=${end} ${start}\n`);
    const file = join(h.dir, 'by-bills.json');
    await writeFile(file, JSON.stringify({ name: 'By bills', energyratestructure: [[{ rate: RATE }]], energyweekdayschedule: flat(0), energyweekendschedule: flat(0), fixedchargefirstmeter: 0.5, fixedchargeunits: '$/day', homeflux: { billing: 'bills' } }));
    const run = await runCaptured(cost, ['--since', '2026-10-06', '--until', '2026-11-02'], { ...env, COST_TARIFF: file }, { now: NOW });
    expect(run.code, run.all).toBe(0);
    const { bill } = await billLines(h.env.HOMEFLUX_DATA_DIR, start);
    expect(field(bill, 'days')).toBe(29);
    expect(field(bill, 'end')).toBe(end);
    // The stored use from the 6th up to the last stored hour, at 0.28, plus 29 days × 0.50; hours after now are missing.
    const kwh = await storedKwh(h.env.HOMEFLUX_DATA_DIR, { start, end });
    expect(field(bill, 'cost')).toBeCloseTo(kwh * RATE + 29 * 0.5, 4);
    expect(bill).toMatch(/complete=false/);
    expect(field(bill, 'utility_cost')).toBe(99);
  });
});
