/**
 * The Grafana dashboards: the committed files are what the generator writes; the JSON is
 * well-formed for Grafana (ids, grid, data source uids, thresholds); both flavours come from
 * the same definitions; and every InfluxQL panel query, with Grafana's macros expanded, runs
 * on the real InfluxDB 1.x loaded with the demo data and returns the demo's own numbers.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Dashboard, Panel, RowPanel, ThresholdsConfig } from '@grafana/schema';
import { DateTime } from 'luxon';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { demo, demoHourEnergyWh, demoTemperatureF } from '../src/agents/demo/index.ts';
import { cost } from '../src/agents/cost/index.ts';
import { insight } from '../src/agents/insight/index.ts';
import { DATASOURCES, FLAVOURS } from '../dashboards/src/grafana.ts';
import { DASHBOARDS, generateFiles } from '../dashboards/src/index.ts';
import { expandInfluxQL, grafanaInterval, toInfluxQL } from '../dashboards/src/query.ts';
import { allPanels } from '../dashboards/src/panels.ts';
import { DEFAULT_SETTINGS, type DashboardSettings } from '../dashboards/src/settings.ts';
import { type InfluxV1Result, influxV1Client } from '../testing/helpers/servers.ts';
import { runCaptured, tempHome } from '../testing/helpers/run-agent.ts';

const DIR = join(import.meta.dirname, '..', 'dashboards');
const TZ = 'America/Los_Angeles';
const SEED = 42;

type AnyPanel = Panel | RowPanel;
const loadJson = async (path: string): Promise<Dashboard> => JSON.parse(await readFile(join(DIR, path), 'utf8')) as Dashboard;
const timeseries = (d: Dashboard): Panel[] => (d.panels ?? []).filter((p: AnyPanel): p is Panel => p.type !== 'row');

describe('generated files', () => {
  it('are up to date with dashboards/src (run npx tsx scripts/dashboards.ts)', async () => {
    const files = generateFiles(DEFAULT_SETTINGS);
    for (const [path, content] of files) expect(await readFile(join(DIR, path), 'utf8'), path).toBe(content);
    for (const flavour of FLAVOURS) {
      const json = (await readdir(join(DIR, flavour))).filter((f) => f.endsWith('.json')).map((f) => `${flavour}/${f}`);
      expect(json.sort()).toEqual([...files.keys()].filter((p) => p.startsWith(`${flavour}/`)).sort());
    }
  });
});

describe.each(FLAVOURS)('%s dashboards', (flavour) => {
  const names = Object.keys(DASHBOARDS);

  it.each(names)('%s: unique panel ids, grid within 24 columns and without overlaps', async (name) => {
    const dashboard = await loadJson(`${flavour}/${name}.json`);
    const panels = dashboard.panels ?? [];
    expect(panels.length).toBeGreaterThan(2);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const panel of panels) {
      const g = panel.gridPos!;
      expect(Number.isInteger(g.x) && Number.isInteger(g.w) && g.x >= 0 && g.w >= 1 && g.x + g.w <= 24, `${panel.title} ${JSON.stringify(g)}`).toBe(true);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${panel.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it.each(names)('%s: data source uids are the provisioned ones', async (name) => {
    const yaml = parseYaml(await readFile(join(DIR, 'provisioning', 'datasources', `homeflux-${flavour}.yaml`), 'utf8')) as { datasources: Array<{ uid: string; type: string; jsonData: { version: string } }> };
    const provisioned = yaml.datasources.map((d) => d.uid);
    expect(yaml.datasources[0]!.jsonData.version).toBe(flavour === 'influxql' ? 'InfluxQL' : 'Flux');
    const dashboard = await loadJson(`${flavour}/${name}.json`);
    for (const panel of timeseries(dashboard)) {
      expect(provisioned).toContain(panel.datasource?.uid);
      for (const target of panel.targets ?? []) expect(provisioned).toContain((target.datasource as { uid: string }).uid);
    }
  });

  it.each(names)('%s: every threshold list starts at null and rises', async (name) => {
    const dashboard = await loadJson(`${flavour}/${name}.json`);
    let lists = 0;
    for (const panel of timeseries(dashboard)) {
      const configs = [panel.fieldConfig!.defaults.thresholds, ...panel.fieldConfig!.overrides.flatMap((o) => o.properties.filter((p) => p.id === 'thresholds').map((p) => p.value as ThresholdsConfig))];
      for (const config of configs) {
        lists++;
        const values = config!.steps.map((s) => s.value);
        expect(values[0], panel.title).toBeNull();
        const rest = values.slice(1) as number[];
        expect(rest).toEqual([...rest].sort((a, b) => a - b));
      }
    }
    expect(lists).toBeGreaterThan(0);
  });

  it('the dashboard provider points at this flavour in its own folder', async () => {
    const yaml = parseYaml(await readFile(join(DIR, 'provisioning', 'dashboards', 'homeflux.yaml'), 'utf8')) as { providers: Array<{ folder: string; options: { path: string } }> };
    const provider = yaml.providers.find((p) => p.options.path.endsWith(`/${flavour}`));
    expect(provider?.folder).toMatch(/^homeflux \(/);
  });
});

describe('both flavours from one definition', () => {
  it('differ only in data source and query text, and both query the same buckets and fields', async () => {
    for (const name of Object.keys(DASHBOARDS)) {
      const [ql, flux] = await Promise.all([loadJson(`influxql/${name}.json`), loadJson(`flux/${name}.json`)]);
      const strip = (d: Dashboard): string =>
        JSON.stringify(d)
          .replaceAll(DATASOURCES.influxql.uid, 'DS')
          .replaceAll(DATASOURCES.flux.uid, 'DS')
          .replace(/"query":"(?:[^"\\]|\\.)*"/g, '"query":"Q"')
          .replace(/"(rawQuery|resultFormat)":(true|"time_series"),/g, '')
          .replaceAll('influxql', 'F')
          .replaceAll('InfluxQL', 'F')
          .replaceAll('flux', 'F')
          .replaceAll('Flux', 'F');
      expect(strip(flux)).toBe(strip(ql));
      const queries = (d: Dashboard): string[] => timeseries(d).flatMap((p) => (p.targets ?? []).map((t) => String(t.query)));
      const fluxQueries = queries(flux);
      queries(ql).forEach((q, i) => {
        const [, bucket, measurement] = /FROM "([^"]+)".."([^"]+)"/.exec(q)!;
        const field = /\((?:"([^"]+)")\)/.exec(q)![1];
        expect(fluxQueries[i]).toContain(`from(bucket: "${bucket}")`);
        expect(fluxQueries[i]).toContain(`r._measurement == "${measurement}" and r._field == "${field}"`);
      });
    }
  });

  it('settings reach both flavours: units, tiers, prefix, timezone and week start', () => {
    const settings: DashboardSettings = { ...DEFAULT_SETTINGS, units: 'metric', tiers: { yellow: 12, red: 25 }, bucketPrefix: 'casa', timezone: 'Europe/Berlin', weekStart: 'sunday' };
    const files = generateFiles(settings);
    for (const flavour of FLAVOURS) {
      const text = files.get(`${flavour}/home-long-term.json`)!;
      expect(text).toContain('"celsius"');
      expect(text).not.toContain('"fahrenheit"');
      expect(text).toMatch(/"value": 12\b[\s\S]*"value": 25\b/);
      expect(text).toContain('"query": "casa"');
      expect(text).toContain(flavour === 'influxql' ? "tz('Europe/Berlin')" : 'timezone.location(name: \\"Europe/Berlin\\")');
      // The epoch was a Thursday: Sunday weeks are 3 days later.
      expect(text).toContain(flavour === 'influxql' ? 'time(1w, 3d)' : 'every: 1w, offset: 3d');
    }
    expect(() => generateFiles({ ...DEFAULT_SETTINGS, tiers: { yellow: 20, red: 10 } })).toThrow(/tiers: expected 0 < yellow < red .* got yellow=20, red=10/);
    expect(() => generateFiles({ ...DEFAULT_SETTINGS, timezone: 'Mars/Base' })).toThrow(/timezone: expected an IANA zone .* got "Mars\/Base"/);
  });
});

// ---------------------------------------------------------------------------------------
// InfluxQL on the real InfluxDB 1.x

const PREFIX = `dash${process.pid}`;
const NOW = DateTime.fromISO('2025-10-01T00:00', { zone: TZ }).toSeconds();
const NUT_HOUR = DateTime.fromISO('2025-09-28T14:00', { zone: TZ }).toSeconds();

interface Ran {
  panel: string;
  from: number;
  query: string;
  result: InfluxV1Result;
}

/** Start of a panel's range: its row's override, or the dashboard's default. */
function rangeStart(relative: string): number {
  const match = /^now-(\d+)([dM])$/.exec(relative);
  if (!match) throw new Error(`expected now-<n>d or now-<n>M, got ${relative}`);
  const n = Number(match[1]);
  return DateTime.fromSeconds(NOW, { zone: TZ }).minus(match[2] === 'd' ? { days: n } : { months: n }).toSeconds();
}

const hourSum = (from: number, to: number): number => {
  let wh = 0;
  for (let t = from; t < to; t += 3600) wh += demoHourEnergyWh(SEED, t, TZ);
  return wh;
};

describe('InfluxQL panel queries on the real InfluxDB 1.x with the demo data', () => {
  const v1 = influxV1Client(inject('influxV1Url'));
  const ran: Ran[] = [];
  let hours: number[] = [];

  beforeAll(async () => {
    const home = await tempHome('dashboards');
    const env = { ...home.env, HOMEFLUX_TIMEZONE: TZ, INFLUX_URL: v1.url, INFLUX_API: 'v1', INFLUX_BUCKET_PREFIX: PREFIX };
    const run = await runCaptured(demo, ['--since', '2025-08-25', '--until', '2025-10-01'], env, { now: NOW });
    expect(run.code, run.all).toBe(0);
    // The cost agent's bills and daily components, for the panels that draw them.
    const tariff = join(home.dir, 'flat.json');
    const flat = Array.from({ length: 12 }, () => new Array<number>(24).fill(0));
    const peak = Array.from({ length: 12 }, () => Array.from({ length: 24 }, (_, h) => (h >= 16 && h <= 20 ? 1 : 0)));
    await writeFile(tariff, JSON.stringify({ name: 'Peaky', energyratestructure: [[{ rate: 0.2 }], [{ rate: 0.5 }]], energytoulabels: ['off_peak', 'peak'], energyweekdayschedule: peak, energyweekendschedule: flat }));
    const priced = await runCaptured(cost, ['--since', '2025-09-01', '--until', '2025-10-01'], { ...env, COST_TARIFF: tariff }, { now: NOW });
    expect(priced.code, priced.all).toBe(0);
    // And the utility's own bill for September, as the opower agent stores it.
    const sepStart = DateTime.fromISO('2025-09-01', { zone: TZ }).toSeconds();
    await v1.write(`${PREFIX}-bill`, `bill,currency=USD,data_source=homeflux,location=gwp_meter,source=homeflux.opower.gwp cost=123.45,days=30,end=${DateTime.fromISO('2025-10-01', { zone: TZ }).toSeconds()} ${sepStart}`);
    // The insight agent's daily records, for the panels that draw them.
    const explained = await runCaptured(insight, ['--since', '2025-08-26', '--until', '2025-10-01'], env, { now: NOW });
    expect(explained.code, explained.all).toBe(0);
    // A NUT UPS: its hourly energy is `power` too (must stay out of household energy) and its
    // samples are `ups` (must show in UPS Hourly as a second series).
    await v1.write(`${PREFIX}-hour`, `power,data_source=homeflux,location=rack,source=homeflux.nut,ups=rack power_usage=100000,samples=60 ${NUT_HOUR}`);
    await v1.write(`${PREFIX}-minute`, [0, 60, 120].map((s) => `ups,data_source=homeflux,location=rack,source=homeflux.nut,ups=rack power_w=${70 + s / 60} ${NUT_HOUR + s}`).join('\n'));
    const raw = await v1.query(`${PREFIX}-hour`, `SELECT "power_usage" FROM "power" WHERE "source" = 'homeflux.demo'`);
    hours = raw[0]!.series![0]!.values.map((row) => row[0] as number);

    for (const name of Object.keys(DASHBOARDS)) {
      const dashboard = await loadJson(`influxql/${name}.json`);
      for (const panel of timeseries(dashboard)) {
        const from = rangeStart(panel.timeFrom ?? dashboard.time!.from);
        const interval = grafanaInterval(NOW - from, { minInterval: panel.interval });
        for (const target of panel.targets ?? []) {
          const query = expandInfluxQL(String(target.query), { from, to: NOW, interval, variables: { bucket_prefix: PREFIX } });
          expect(query).not.toContain('$');
          const results = await v1.query(`${PREFIX}-hour`, query);
          ran.push({ panel: `${name}/${panel.title}${panel.timeFrom ? ` (${panel.timeFrom})` : ''}/${target.refId}`, from, query, result: results[0]! });
        }
      }
    }
  });

  it('every query succeeds and returns non-empty series of the measurement it names', () => {
    // Home: 2 panels, 3 queries; Home Long Term: 8 panels, 12 queries; each in both rows.
    expect(ran.length).toBe(2 * (3 + 12));
    for (const { panel, query, result } of ran) {
      expect(result.error, `${panel}: ${query}`).toBeUndefined();
      const measurement = /\.\."([^"]+)"/.exec(query)![1];
      expect(result.series?.length, panel).toBeGreaterThan(0);
      for (const series of result.series!) {
        expect(series.name).toBe(measurement);
        expect(series.values.length, panel).toBeGreaterThan(0);
      }
    }
  });

  const points = (match: RegExp): Array<{ panel: string; tags: Record<string, string>; time: number; value: number }> =>
    ran
      .filter((r) => match.test(r.panel))
      .flatMap((r) => r.result.series!.flatMap((s) => s.values.map((row) => ({ panel: r.panel, tags: s.tags ?? {}, time: row[0] as number, value: row[1] as number }))));

  it('Home Power vs Temp Hourly: kWh = the demo hour Wh / 1000 (the NUT power stays out); temperature in °F', () => {
    const energy = points(/Home Power vs Temp Hourly.*\/A$/);
    expect(energy.length).toBeGreaterThan(7 * 24);
    for (const p of energy) expect(p.value).toBeCloseTo(demoHourEnergyWh(SEED, p.time, TZ) / 1000, 9);
    expect(energy.some((p) => p.time === NUT_HOUR)).toBe(true);
    for (const p of points(/Home Power vs Temp Hourly.*\/B$/)) expect(p.value).toBeCloseTo(demoTemperatureF(SEED, p.time, TZ), 1);
  });

  it('UPS Hourly: Wh per hour per location, from the demo and from a NUT UPS', () => {
    const ups = points(/UPS Hourly/);
    const demoUps = ups.filter((p) => p.tags.location === 'demo_ups');
    expect(demoUps.length).toBeGreaterThan(7 * 24);
    for (const p of demoUps) {
      expect(p.value).toBeGreaterThan(30);
      expect(p.value).toBeLessThan(50);
    }
    expect(ups.filter((p) => p.tags.location === 'rack').map((p) => [p.time, p.value])).toContainEqual([NUT_HOUR, 71]);
  });

  it('UPS Hourly equals the demo\'s own hourly `ups` rollup (mean watts over an hour = Wh)', async () => {
    const rollup = await v1.query(`${PREFIX}-hour`, `SELECT "power_w" FROM "ups"`);
    const byTime = new Map(rollup[0]!.series![0]!.values.map((row) => [row[0] as number, row[1] as number]));
    // The last hour of the range holds a single sample (the range ends at NOW inclusive).
    const demoUps = points(/UPS Hourly \(now-30d\)/).filter((p) => p.tags.location === 'demo_ups' && p.time + 3600 <= NOW);
    expect(demoUps.length).toBeGreaterThan(29 * 24);
    for (const p of demoUps) expect(p.value).toBeCloseTo(byTime.get(p.time)!, 6);
  });

  it('Daily Power: kWh of each local day (records at local midnight, grouped by UTC date west of UTC)', () => {
    const daily = points(/Daily Power/);
    expect(daily.length).toBeGreaterThan(30);
    for (const p of daily) {
      const day = DateTime.fromISO(DateTime.fromSeconds(p.time, { zone: 'UTC' }).toISODate()!, { zone: TZ });
      expect(p.value).toBeCloseTo(hourSum(day.toSeconds(), day.plus({ days: 1 }).toSeconds()) / 1000, 6);
      expect(p.value).toBeGreaterThan(5);
      expect(p.value).toBeLessThan(80);
    }
  });

  it('Weekly Power vs Temp: kWh of each local Monday week; temperature points are means of the hours they cover', () => {
    const weekly = points(/Weekly Power vs Temp.*\/A$/);
    expect(weekly.length).toBeGreaterThanOrEqual(4);
    for (const p of weekly) {
      const monday = DateTime.fromISO(DateTime.fromSeconds(p.time, { zone: 'UTC' }).toISODate()!, { zone: TZ });
      expect(monday.weekday).toBe(1);
      expect(p.value).toBeCloseTo(hourSum(monday.toSeconds(), monday.plus({ weeks: 1 }).toSeconds()) / 1000, 6);
    }
    for (const r of ran.filter((x) => /Weekly Power vs Temp.*\/B$/.test(x.panel))) {
      const [, n, unit] = /time\((\d+)([hd])\)/.exec(r.query)!;
      const step = Number(n) * (unit === 'h' ? 3600 : 86400);
      for (const [time, value] of r.result.series![0]!.values as Array<[number, number]>) {
        const covered = hours.filter((h) => h >= time && h < time + step && h >= r.from && h <= NOW);
        const mean = covered.reduce((s, h) => s + Math.round(demoTemperatureF(SEED, h, TZ) * 100) / 100, 0) / covered.length;
        expect(value).toBeCloseTo(mean, 6);
      }
    }
  });

  it('Daily Temperature (Mean): the mean of the local day\'s hourly temperatures', () => {
    for (const p of points(/Daily Temperature/)) {
      const day = DateTime.fromISO(DateTime.fromSeconds(p.time, { zone: 'UTC' }).toISODate()!, { zone: TZ });
      const temps: number[] = [];
      for (let t = day.toSeconds(); t < day.plus({ days: 1 }).toSeconds(); t += 3600) temps.push(Math.round(demoTemperatureF(SEED, t, TZ) * 100) / 100);
      expect(p.value).toBeCloseTo(temps.reduce((a, b) => a + b, 0) / temps.length, 6);
    }
  });

  it('Daily Use vs Expected and Degree Days: the insight agent\'s baseline records of each day, in kWh', async () => {
    const stored = new Map<string, number>();
    for (const field of ['expected', 'hdd', 'cdd']) {
      const rows = (await v1.query(`${PREFIX}-day`, `SELECT "${field}" FROM "baseline"`))[0]!.series![0]!.values as Array<[number, number]>;
      for (const [time, value] of rows) stored.set(`${field} ${DateTime.fromSeconds(time, { zone: TZ }).toISODate()}`, value);
    }
    const checked = { expected: 0, hdd: 0, cdd: 0 };
    for (const p of points(/Daily Use vs Expected.*\/B$|Degree Days/)) {
      const field = !p.panel.includes('Degree Days') ? 'expected' : p.panel.endsWith('/A') ? 'hdd' : 'cdd';
      // Days are grouped by UTC date west of UTC, as the Daily Power panel notes: the key is that date.
      const key = `${field} ${DateTime.fromSeconds(p.time, { zone: 'UTC' }).toISODate()}`;
      if (!stored.has(key)) continue;
      expect(p.value, `${p.panel} ${key}`).toBeCloseTo(field === 'expected' ? stored.get(key)! / 1000 : stored.get(key)!, 6);
      checked[field]++;
    }
    expect(checked.expected).toBeGreaterThan(20);
    expect(checked.hdd + checked.cdd).toBeGreaterThan(20);
  });

  it('Daily Cost by Tier and Period: the cost agent\'s day components, one series per plan, tier and period; Bills: its bill', async () => {
    const rows = (await v1.query(`${PREFIX}-day`, `SELECT "cost" FROM "cost_component" WHERE "source" = 'homeflux.tariff' GROUP BY "day_part"`))[0]!.series!;
    const stored = new Map<string, number>(rows.flatMap((s) => (s.values as Array<[number, number]>).map(([t, v]): [string, number] => [`${s.tags!.day_part} ${DateTime.fromSeconds(t, { zone: TZ }).toISODate()}`, v])));
    let checked = 0;
    for (const p of points(/Daily Cost by Tier and Period/)) {
      expect(p.tags).toMatchObject({ plan: 'peaky', tier: '1' });
      const key = `${p.tags.day_part} ${DateTime.fromSeconds(p.time, { zone: 'UTC' }).toISODate()}`;
      if (!stored.has(key)) continue;
      expect(p.value, key).toBeCloseTo(stored.get(key)!, 6);
      checked++;
    }
    expect(checked).toBeGreaterThan(40);
    // September's bill: off-peak and peak kWh of the demo's hours at 0.20 and 0.50.
    let expected = 0;
    const sep = { start: DateTime.fromISO('2025-09-01', { zone: TZ }), end: DateTime.fromISO('2025-10-01', { zone: TZ }) };
    for (let t = sep.start.toSeconds(); t < sep.end.toSeconds(); t += 3600) {
      const local = DateTime.fromSeconds(t, { zone: TZ });
      const weekday = local.weekday <= 5;
      expected += (demoHourEnergyWh(SEED, t, TZ) / 1000) * (weekday && local.hour >= 16 && local.hour <= 20 ? 0.5 : 0.2);
    }
    const billPoints = points(/Bills: Computed.*\/A$/).filter((p) => p.tags.plan === 'peaky');
    expect(billPoints.map((p) => p.value).some((v) => Math.abs(v - expected) < 0.01), `${expected} among ${billPoints.map((p) => p.value).join(', ')}`).toBe(true);
    expect(points(/Bills: Computed.*\/B$/).map((p) => p.value)).toContain(123.45);
  });

  it('with a timezone setting, days and weeks are stamped at local midnight (tz() clause)', async () => {
    const settings: DashboardSettings = { ...DEFAULT_SETTINGS, timezone: TZ };
    const [, , weekly, daily] = allPanels(settings);
    for (const [panel, unit] of [[daily!, 'days'], [weekly!, 'weeks']] as const) {
      const query = expandInfluxQL(toInfluxQL(panel.series[0]!.query, settings), { from: rangeStart('now-30d'), to: NOW, interval: '1h', variables: { bucket_prefix: PREFIX } });
      const values = (await v1.query(`${PREFIX}-day`, query))[0]!.series![0]!.values;
      expect(values.length).toBeGreaterThan(unit === 'days' ? 25 : 3);
      for (const [time, value] of values as Array<[number, number]>) {
        const start = DateTime.fromSeconds(time, { zone: TZ });
        expect(start.startOf('day').toSeconds()).toBe(time);
        if (unit === 'weeks') expect(start.weekday).toBe(1);
        expect(value).toBeCloseTo(hourSum(time, start.plus({ [unit]: 1 }).toSeconds()) / 1000, 6);
      }
    }
  });
});
