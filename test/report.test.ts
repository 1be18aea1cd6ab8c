/**
 * The HTML report: the same numbers from the file store as from InfluxDB 1.x (the dashboards'
 * InfluxQL), a self-contained page, and in headless Chromium every chart draws its series
 * (pixels of each series' colour on the canvas). The screenshot goes to a temp dir; with
 * UPDATE_SCREENSHOT=1 it replaces docs/report.png (the README's picture), so ordinary test
 * runs never dirty the tree.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cost } from '../src/agents/cost/index.ts';
import { demo } from '../src/agents/demo/index.ts';
import { insight } from '../src/agents/insight/index.ts';
import { buildReport, reportCharts, type ReportOptions, type ReportSource } from '../dashboards/report/build.ts';
import { loadConfig } from '../src/config.ts';
import { openReader } from '../src/database/reader.ts';
import type { ChartModel } from '../dashboards/report/charts.ts';
import { DEFAULT_SETTINGS } from '../dashboards/src/settings.ts';
import { runReport } from '../dashboards/report/cli.ts';
import { influxV1Client, vmClient } from '../testing/helpers/servers.ts';
import { runCaptured, tempHome } from '../testing/helpers/run-agent.ts';

const TZ = 'America/Los_Angeles';
const PREFIX = `report${process.pid}`;
const NOW = DateTime.fromISO('2025-10-01T00:00', { zone: TZ }).toSeconds();
const FROM = DateTime.fromISO('2025-09-01T00:00', { zone: TZ }).toSeconds();
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1' ? join(import.meta.dirname, '..', 'docs', 'report.png') : join(tmpdir(), `homeflux-report-${process.pid}.png`);

const settings: ReportOptions['settings'] = { ...DEFAULT_SETTINGS, timezone: TZ };
let home: Awaited<ReturnType<typeof tempHome>>;
const v1 = influxV1Client(inject('influxV1Url'));
const V1_ENV = { INFLUX_URL: v1.url, INFLUX_API: 'v1', INFLUX_BUCKET_PREFIX: PREFIX };
// VictoriaMetrics keeps every bucket in one store: a prefix of its own keeps this file's points apart.
const VM_ENV = { INFLUX_URL: inject('vmUrl'), INFLUX_BUCKET_LABEL: 'bucket', INFLUX_BUCKET_PREFIX: `${PREFIX}vm` };

beforeAll(async () => {
  home = await tempHome('report');
  const argv = ['--since', '2025-08-25', '--until', '2025-10-01'];
  const env = { ...home.env, HOMEFLUX_TIMEZONE: TZ };
  // The derived agents too, so the report's bills, expected use and always-on panels have data.
  const tariff = join(home.dir, 'flat.json');
  const flat = Array.from({ length: 12 }, () => new Array<number>(24).fill(0));
  await writeFile(tariff, JSON.stringify({ name: 'Flat', energyratestructure: [[{ rate: 0.3 }]], energyweekdayschedule: flat, energyweekendschedule: flat, fixedchargefirstmeter: 10, fixedchargeunits: '$/month' }));
  for (const target of [{}, V1_ENV, VM_ENV]) {
    const run = await runCaptured(demo, argv, { ...env, ...target }, { now: NOW });
    expect(run.code, run.all).toBe(0);
    if (target === VM_ENV) await vmClient(inject('vmUrl')).flush();
    const priced = await runCaptured(cost, ['--since', '2025-09-01', '--until', '2025-10-01'], { ...env, ...target, COST_TARIFF: tariff }, { now: NOW });
    expect(priced.code, priced.all).toBe(0);
    const explained = await runCaptured(insight, ['--since', '2025-09-01', '--until', '2025-10-01'], { ...env, ...target }, { now: NOW });
    expect(explained.code, explained.all).toBe(0);
  }
  await vmClient(inject('vmUrl')).flush();
}, 120_000);

const storeOf = (env: Record<string, string>): ReportSource => ({ kind: 'store', reader: openReader(loadConfig({ ...home.env, HOMEFLUX_TIMEZONE: TZ, ...env })) });

/** The little of a browser canvas the pixel check uses (the test compiles without DOM types). */
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}

const pointCount = (chart: ChartModel): number => chart.series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0);

describe('report data', () => {
  it('is the same from the file store, InfluxDB 1.x and VictoriaMetrics as InfluxDB computes with the dashboards\' InfluxQL', async () => {
    // The reference: InfluxDB itself running the dashboards' queries; the others are read back
    // raw through the reader and evaluated by the report.
    const fromInfluxQL = await reportCharts({ source: { kind: 'influxql', url: v1.url }, settings: { ...settings, bucketPrefix: PREFIX }, from: FROM, to: NOW });
    expect(fromInfluxQL.map((c) => c.key)).toEqual(['home-power-vs-temp-hourly', 'ups-hourly', 'weekly-power-vs-temp', 'daily-power', 'daily-temperature-mean', 'bills', 'daily-cost-by-tier', 'daily-use-vs-expected', 'degree-days', 'always-on']);
    for (const [name, env, prefix] of [['file store', {}, 'home'], ['InfluxDB 1.x', V1_ENV, PREFIX], ['VictoriaMetrics', VM_ENV, VM_ENV.INFLUX_BUCKET_PREFIX]] as const) {
      // The store adds the energy signature and the unusual days, which no dashboard query draws.
      const charts = await reportCharts({ source: storeOf(env), settings: { ...settings, bucketPrefix: prefix }, from: FROM, to: NOW });
      expect(charts.map((c) => c.key).slice(-2)).toEqual(['energy-signature', 'unusual-days']);
      expectSameCharts(charts.slice(0, -2), fromInfluxQL, name);
    }
  });

  function expectSameCharts(charts: ChartModel[], reference: ChartModel[], name: string): void {
    expect(charts.map((c) => c.key), name).toEqual(reference.map((c) => c.key));
    for (const [i, chart] of charts.entries()) {
      const other = reference[i]!;
      expect(pointCount(chart), chart.title).toBeGreaterThan(0);
      expect(chart.x, chart.title).toEqual(other.x);
      expect(chart.series.map((s) => s.label)).toEqual(other.series.map((s) => s.label));
      chart.series.forEach((s, j) =>
        s.values.forEach((v, k) => {
          const w = other.series[j]!.values[k];
          if (v === null || w === null || w === undefined) expect(w, `${chart.title} ${s.label} #${k}`).toBe(v);
          else expect(v, `${name}: ${chart.title} ${s.label} #${k}`).toBeCloseTo(w, 6);
        }),
      );
    }
  }

  it('daily bars are split by rate tier: each value lands in the series of its tier', async () => {
    const charts = await reportCharts({ source: storeOf({}), settings: { ...settings, tiers: { yellow: 20, red: 25 } }, from: FROM, to: NOW });
    const daily = charts.find((c) => c.key === 'daily-power')!;
    const [green, yellow, red] = daily.series;
    expect(daily.x.length).toBe(31);
    daily.x.forEach((_, i) => {
      const values = [green!.values[i], yellow!.values[i], red!.values[i]];
      expect(values.filter((v) => v !== null)).toHaveLength(1);
      const value = values.find((v) => v !== null)!;
      expect(values.indexOf(value)).toBe(value >= 25 ? 2 : value >= 20 ? 1 : 0);
    });
    // September of the demo home has days in all three of these tiers.
    for (const s of daily.series) expect(s.values.some((v) => v !== null), s.label).toBe(true);
  });
});

describe('scripts/report.ts', () => {
  it('writes one self-contained HTML file from the file store', async () => {
    const out = join(home.dir, 'report.html');
    const lines: string[] = [];
    const code = await runReport(['--out', out, '--since', '2025-09-01', '--until', '2025-10-01'], { ...home.env, HOMEFLUX_TIMEZONE: TZ }, { out: (l) => lines.push(l), err: (l) => lines.push(l), now: NOW });
    expect(code, lines.join('\n')).toBe(0);
    expect(lines.join('\n')).toMatch(/Daily Power: 31 point\(s\) in 3 series/);
    const html = await readFile(out, 'utf8');
    expect(html).toContain('uPlot');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|@import/);
    expect(html.match(/<section class="panel"/g)).toHaveLength(12);
  });

  it('adds a plan comparison with --compare: the current plan (COST_TARIFF) beside the others, cheapest first', async () => {
    const out = join(home.dir, 'plans.html');
    const dear = join(home.dir, 'dear.json');
    const flat = Array.from({ length: 12 }, () => new Array<number>(24).fill(0));
    await writeFile(dear, JSON.stringify({ name: 'Dear', energyratestructure: [[{ rate: 0.6 }]], energyweekdayschedule: flat, energyweekendschedule: flat }));
    const lines: string[] = [];
    const env = { ...home.env, HOMEFLUX_TIMEZONE: TZ, COST_TARIFF: join(home.dir, 'flat.json') };
    const code = await runReport(['--out', out, '--since', '2025-09-01', '--until', '2025-10-01', '--compare', dear], env, { out: (l) => lines.push(l), err: (l) => lines.push(l), now: NOW });
    expect(code, lines.join('\n')).toBe(0);
    const html = await readFile(out, 'utf8');
    const table = html.slice(html.indexOf('id="panel-plan-comparison"'));
    // Flat at 0.30/kWh + 10 a month is cheaper than 0.60/kWh for this home: it comes first, as the current plan.
    expect(table).toMatch(/<tr><td>Flat<\/td><td>\d<\/td><td>[\d,.]+<\/td><td>current plan<\/td><\/tr>\s*<tr><td>Dear<\/td>/);
    const bad = await runReport(['--out', out, '--compare', join(home.dir, 'missing.json')], env, { out: (l) => lines.push(l), err: (l) => lines.push(l), now: NOW });
    expect(bad).toBe(2);
  });

  it('refuses bad arguments with exit 2, and never prints a password', async () => {
    const run = async (argv: string[], env: Record<string, string>): Promise<{ code: number; text: string }> => {
      const lines: string[] = [];
      const code = await runReport(argv, { ...home.env, ...env }, { out: (l) => lines.push(l), err: (l) => lines.push(l), now: NOW });
      return { code, text: lines.join('\n') };
    };
    expect(await run(['--days', '0'], {})).toMatchObject({ code: 2, text: expect.stringMatching(/--days: expected a whole number of days ≥ 1, got "0"/) });
    expect(await run(['--days', '3', '--since', '5d'], {})).toMatchObject({ code: 2, text: expect.stringMatching(/got both/) });
    const down = await run(['--out', join(home.dir, 'never.html')], { INFLUX_URL: 'http://127.0.0.1:9', INFLUX_API: 'v1', INFLUX_USERNAME: 'me', INFLUX_PASSWORD: 'hunter2-secret' });
    expect(down.code).toBe(1);
    expect(down.text).toMatch(/could not read InfluxQL \/query at 127\.0\.0\.1:9/);
    expect(down.text).not.toContain('hunter2-secret');
    expect(existsSync(join(home.dir, 'never.html'))).toBe(false);
  });
});

describe('the report in headless Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: the report test needs Debian's Chromium — install it with: sudo apt-get install -y chromium`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('draws every chart: each series with data has pixels of its colour on the canvas; screenshot kept', async () => {
    const { html, charts } = await buildReport({ source: storeOf({}), settings, from: FROM, to: NOW, now: new Date(NOW * 1000), sourceLabel: 'demo home (scripts/demo.ts), file store' });
    const file = join(home.dir, 'chromium.html');
    await writeFile(file, html);
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('requestfailed', (request) => errors.push(`request ${request.url()}`));
    await page.goto(`file://${file}`);
    await page.waitForFunction(() => (globalThis as unknown as { __homeflux?: { ready: boolean } }).__homeflux?.ready === true, undefined, { timeout: 20_000 });
    const drawn = await page.evaluate(() => {
      const state = (globalThis as unknown as { __homeflux: { charts: Array<{ key: string; canvas?: PageCanvas; series: Array<{ label: string; color: string }> }> } }).__homeflux;
      return state.charts.map((chart) => {
        if (!chart.canvas) return { key: chart.key, series: [] as Array<{ label: string; pixels: number }> };
        const { width, height } = chart.canvas;
        const data = chart.canvas.getContext('2d')!.getImageData(0, 0, width, height).data;
        return {
          key: chart.key,
          series: chart.series.map((s) => {
            const [r, g, b] = [1, 3, 5].map((i) => parseInt(s.color.slice(i, i + 2), 16)) as [number, number, number];
            let pixels = 0;
            for (let i = 0; i < data.length; i += 4) {
              if (data[i + 3]! > 200 && Math.abs(data[i]! - r) + Math.abs(data[i + 1]! - g) + Math.abs(data[i + 2]! - b) < 30) pixels++;
            }
            return { label: s.label, pixels };
          }),
        };
      });
    });
    expect(errors).toEqual([]);
    expect(drawn.map((d) => d.key)).toEqual(charts.map((c) => c.key));
    for (const [i, chart] of drawn.entries()) {
      const withData = charts[i]!.series.filter((s) => s.values.some((v) => v !== null));
      expect(chart.series.map((s) => s.label), chart.key).toEqual(withData.map((s) => s.label));
      // A series of zeros (no heating degree days in September) has nothing to paint.
      const zeros = new Set(withData.filter((s) => s.values.every((v) => v === null || v === 0)).map((s) => s.label));
      for (const s of chart.series) if (!zeros.has(s.label)) expect(s.pixels, `${chart.key} ${s.label}`).toBeGreaterThan(10);
    }
    await mkdir(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const png = await readFile(SCREENSHOT);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    await page.close();
  });

  it('shows "No data" instead of an empty chart when a range holds nothing', async () => {
    const empty = DateTime.fromISO('2020-01-01', { zone: TZ }).toSeconds();
    const { html } = await buildReport({ source: storeOf({}), settings, from: empty, to: empty + 86400 });
    const file = join(home.dir, 'empty.html');
    await writeFile(file, html);
    const page = await browser.newPage();
    await page.goto(`file://${file}`);
    await page.waitForFunction(() => (globalThis as unknown as { __homeflux?: { ready: boolean } }).__homeflux?.ready === true);
    expect(await page.locator('.empty').count()).toBe(12);
    expect(await page.locator('canvas').count()).toBe(0);
    await page.close();
  });
});
