/**
 * Every Flux query of every generated dashboard passes InfluxData's own Flux checker
 * (`@influxdata/flux-lsp-node`, WebAssembly): `is_valid_flux` parses and does the semantic
 * check — a misspelled function, an unknown argument or an undefined name fails it. Grafana's
 * `v` record (`timeRangeStart`, `timeRangeStop`, `windowPeriod`) is defined in front of each
 * query, and template variables are interpolated as Grafana does (textually, before sending).
 */
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { is_valid_flux: isValidFlux } = require('@influxdata/flux-lsp-node') as { is_valid_flux: (script: string) => boolean };
const DIR = join(import.meta.dirname, '../dashboards/flux');
const GRAFANA_V = 'v = {timeRangeStart: -30d, timeRangeStop: now(), windowPeriod: 1h}\n';

interface Panel {
  title?: string;
  targets?: { query?: string }[];
  panels?: Panel[];
}
interface Dashboard {
  panels: Panel[];
  templating?: { list: { name: string; current?: { value?: string }; query?: string }[] };
}
const walk = (panels: readonly Panel[]): Panel[] => panels.flatMap((p) => [p, ...walk(p.panels ?? [])]);

async function queries(): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for (const file of (await readdir(DIR)).filter((f) => f.endsWith('.json')).sort()) {
    const dashboard = JSON.parse(await readFile(join(DIR, file), 'utf8')) as Dashboard;
    const vars = new Map((dashboard.templating?.list ?? []).map((v) => [v.name, v.current?.value ?? v.query ?? '']));
    for (const panel of walk(dashboard.panels)) {
      for (const [i, target] of (panel.targets ?? []).entries()) {
        if (!target.query) continue;
        const query = target.query.replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a?: string, b?: string) => vars.get((a ?? b)!) ?? m);
        out.push([`${file}: ${panel.title ?? '?'} #${i + 1}`, query]);
      }
    }
  }
  return out;
}

describe('Flux dashboards through the Flux checker', () => {
  it('the checker can fail: a misspelled function, an unknown argument, an undefined v', () => {
    expect(isValidFlux(`${GRAFANA_V}from(bucket: "home-hour") |> range(start: v.timeRangeStart)`)).toBe(true);
    expect(isValidFlux(`${GRAFANA_V}from(bucket: "home-hour") |> rnage(start: v.timeRangeStart)`)).toBe(false);
    expect(isValidFlux(`${GRAFANA_V}from(bucket: "home-hour") |> range(strat: v.timeRangeStart)`)).toBe(false);
    expect(isValidFlux('from(bucket: "home-hour") |> range(start: v.timeRangeStart)')).toBe(false);
  });

  it('every query of every dashboard is valid Flux', async () => {
    const all = await queries();
    expect(all.length).toBeGreaterThanOrEqual(14);
    const invalid = all.filter(([, q]) => !isValidFlux(GRAFANA_V + q)).map(([where]) => where);
    expect(invalid).toEqual([]);
    // No template variable is left uninterpolated.
    expect(all.filter(([, q]) => /\$\{?\w+/.test(q)).map(([w]) => w)).toEqual([]);
  });
});
