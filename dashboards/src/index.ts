/**
 * Everything `scripts/dashboards.ts` writes, as a map from path (relative to `dashboards/`)
 * to file content — the test compares it with the committed files.
 */
import type { Dashboard } from '@grafana/schema';
import { FLAVOURS, type Flavour } from './grafana.ts';
import { homeLongTermDashboard } from './home-long-term.ts';
import { homeDashboard } from './home.ts';
import { dashboardProvidersYaml, datasourceYaml } from './provisioning.ts';
import { type DashboardSettings, validateSettings } from './settings.ts';

/** The dashboards by file name (without `.json`). */
export const DASHBOARDS: Record<string, (flavour: Flavour, settings: DashboardSettings) => Dashboard> = {
  home: homeDashboard,
  'home-long-term': homeLongTermDashboard,
};

/** Every generated file: `influxql/*.json`, `flux/*.json` and `provisioning/**.yaml`. */
export function generateFiles(settings: DashboardSettings): Map<string, string> {
  validateSettings(settings);
  const files = new Map<string, string>();
  for (const flavour of FLAVOURS) {
    for (const [name, build] of Object.entries(DASHBOARDS)) files.set(`${flavour}/${name}.json`, `${JSON.stringify(build(flavour, settings), null, 2)}\n`);
    files.set(`provisioning/datasources/homeflux-${flavour}.yaml`, datasourceYaml(flavour, settings));
  }
  files.set('provisioning/dashboards/homeflux.yaml', dashboardProvidersYaml(FLAVOURS));
  return files;
}
