/**
 * The report page: one self-contained HTML file (uPlot's JS and CSS inlined, the data as
 * JSON), so it opens from disk, by mail or as a CI artifact without any server or network.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { ChartModel } from './charts.ts';

/** What the page says about itself. */
export interface ReportPage {
  charts: ChartModel[];
  /** Unix seconds of the range shown. */
  from: number;
  to: number;
  /** IANA zone the time axes are drawn in. */
  timezone: string;
  /** Where the data came from, without credentials (e.g. `file store ./data`). */
  source: string;
  /** When the page was made (ISO), shown in the footer. */
  generatedAt: string;
}

const require = createRequire(import.meta.url);

/** uPlot's minified IIFE bundle and stylesheet from node_modules. */
export async function uplotAssets(): Promise<{ js: string; css: string }> {
  const [js, css] = await Promise.all([
    readFile(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    readFile(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  ]);
  return { js, css };
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

// Inside <script>, "</script>" or "<!--" in the data would end or confuse the element.
const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c');

// Runs in the browser: draws every chart with uPlot and records what it drew in
// window.__homeflux (the report test reads it to find each chart's canvas and colours).
const CLIENT = String.raw`
(function () {
  var page = JSON.parse(document.getElementById('homeflux-data').textContent);
  var tz = page.timezone;
  var drawn = [];
  page.charts.forEach(function (chart) {
    var el = document.getElementById('chart-' + chart.key);
    if (chart.table) { drawn.push({ key: chart.key, series: [] }); return; }
    var withData = chart.series.filter(function (s) { return s.values.some(function (v) { return v !== null; }); });
    if (withData.length === 0) {
      el.innerHTML = '<p class="empty">No data in this range.</p>';
      drawn.push({ key: chart.key, series: [] });
      return;
    }
    var axes = [chart.xAxis ? { stroke: '#555', grid: { stroke: '#eee' }, label: chart.xAxis.label } : { stroke: '#555', grid: { stroke: '#eee' } }];
    var scales = { x: { time: !chart.xAxis } };
    // Energy axes start at zero (bars and sums read wrong otherwise); temperature axes fit the data.
    var fromZero = function () { return { auto: true, range: function (u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.05 : 1]; } }; };
    var energyAxis = function (axis) { return chart.series.some(function (s) { return s.axis === axis && (s.style === 'bars' || s.style === 'stacked' || s.style === 'step'); }); };
    if (chart.axes.left) { scales.left = energyAxis('left') ? fromZero() : { auto: true }; axes.push({ scale: 'left', label: chart.axes.left, stroke: '#555', grid: { stroke: '#eee' } }); }
    if (chart.axes.right) { scales.right = energyAxis('right') ? fromZero() : { auto: true }; axes.push({ scale: 'right', side: 1, label: chart.axes.right, stroke: '#555', grid: { show: false } }); }
    var series = [{}].concat(chart.series.map(function (s) {
      var out = { label: s.label, scale: s.axis, stroke: s.color, width: 2, points: { show: false } };
      if (s.style === 'bars' || s.style === 'stacked') { out.paths = uPlot.paths.bars({ size: [0.8, 40] }); out.fill = s.color; out.width = 0; }
      if (s.style === 'step') { out.paths = uPlot.paths.stepped({ align: 1 }); out.spanGaps = true; }
      if (s.style === 'line') { out.spanGaps = false; }
      if (s.style === 'points') { out.paths = function () { return null; }; out.width = 0; out.fill = s.color; out.points = { show: true, size: 5, width: 0, fill: s.color, stroke: s.color }; }
      return out;
    }));
    var width = Math.max(400, el.clientWidth);
    var plot = new uPlot({
      width: width,
      height: 300,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), tz); },
      scales: scales,
      axes: axes,
      series: series,
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
    }, [chart.x].concat(chart.series.map(function (s) { return s.values; })), el);
    drawn.push({ key: chart.key, series: withData.map(function (s) { return { label: s.label, color: s.color }; }), canvas: plot.ctx.canvas });
  });
  window.__homeflux = { charts: drawn, ready: true };
})();
`;

function tableHtml(table: NonNullable<ChartModel['table']>): string {
  if (table.rows.length === 0) return '<p class="empty">None in this range.</p>';
  const head = table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = table.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** The whole HTML document. */
export function renderReport(page: ReportPage, assets: { js: string; css: string }): string {
  const day = (t: number): string => new Date(t * 1000).toLocaleString('en-CA', { timeZone: page.timezone, dateStyle: 'short', timeStyle: 'short', hourCycle: 'h23' });
  const sections = page.charts
    .map(
      (chart) => `<section class="panel" id="panel-${escapeHtml(chart.key)}">
  <h2>${escapeHtml(chart.title)}</h2>
  <p class="description">${escapeHtml(chart.description)}</p>
  <div class="chart" id="chart-${escapeHtml(chart.key)}">${chart.table ? tableHtml(chart.table) : ''}</div>
</section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>homeflux report</title>
<style>${assets.css}</style>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0 auto; padding: 16px 24px; max-width: 1200px; color: #222; background: #fff; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  .meta { color: #666; margin: 0 0 16px; }
  .panel { border: 1px solid #ddd; border-radius: 6px; padding: 12px 16px; margin: 0 0 16px; }
  .panel h2 { font-size: 16px; margin: 0; }
  .description { color: #666; margin: 2px 0 8px; font-size: 12px; }
  .empty { color: #999; font-style: italic; }
  table { border-collapse: collapse; } td, th { padding: 2px 12px 2px 0; text-align: right; } th { color: #666; font-weight: normal; }
  footer { color: #999; font-size: 12px; }
</style>
</head>
<body>
<h1>homeflux report</h1>
<p class="meta">${escapeHtml(day(page.from))} – ${escapeHtml(day(page.to))} (${escapeHtml(page.timezone)}) · ${escapeHtml(page.source)}</p>
${sections}
<footer>Generated ${escapeHtml(page.generatedAt)} by scripts/report.ts — the panels of the homeflux Grafana dashboards.</footer>
<script>${assets.js}</script>
<script type="application/json" id="homeflux-data">${scriptJson({ timezone: page.timezone, charts: page.charts })}</script>
<script>${CLIENT}</script>
</body>
</html>
`;
}
