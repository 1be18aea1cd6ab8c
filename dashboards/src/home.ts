/**
 * The "Home" dashboard: hourly household energy against outdoor temperature, and each UPS's
 * hourly energy — over the time picker's range (7 days by default) and over the last 30 days.
 */
import type { Dashboard } from '@grafana/schema';
import { type DashboardDefinition, type Flavour, grafanaDashboard } from './grafana.ts';
import { homePowerVsTempHourly, upsHourly } from './panels.ts';
import type { DashboardSettings } from './settings.ts';

/** The flavour-independent definition of "Home". */
export function homeDefinition(settings: DashboardSettings): DashboardDefinition {
  return {
    uid: 'homeflux-home',
    title: 'Home',
    description: 'Hourly household energy vs outdoor temperature, and hourly UPS energy',
    from: 'now-7d',
    rows: [{ title: 'Time picker range (opens at the last 7 days)' }, { title: 'Last 30 days', timeFrom: 'now-30d' }],
    panels: [
      { spec: homePowerVsTempHourly(settings), w: 16, h: 9 },
      { spec: upsHourly(), w: 8, h: 9 },
    ],
  };
}

/** "Home" in one flavour. */
export function homeDashboard(flavour: Flavour, settings: DashboardSettings): Dashboard {
  return grafanaDashboard(homeDefinition(settings), flavour, settings);
}
