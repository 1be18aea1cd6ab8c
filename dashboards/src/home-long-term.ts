/**
 * The "Home Long Term" dashboard: weekly energy against hourly temperature, daily energy by
 * rate tier, the daily mean temperature, and the insight agent's daily use against what the
 * weather explains, degree days and always-on load — over the time picker's range (6 months by
 * default) and over the last 24 months.
 */
import type { Dashboard } from '@grafana/schema';
import { type DashboardDefinition, type Flavour, grafanaDashboard } from './grafana.ts';
import { alwaysOnLoad, bills, dailyCostByTier, dailyPower, dailyTemperatureMean, dailyUseVsExpected, degreeDays, weeklyPowerVsTemp } from './panels.ts';
import type { DashboardSettings } from './settings.ts';

/** The flavour-independent definition of "Home Long Term". */
export function homeLongTermDefinition(settings: DashboardSettings): DashboardDefinition {
  return {
    uid: 'homeflux-home-long-term',
    title: 'Home Long Term',
    description: 'Weekly and daily household energy with rate tiers, and outdoor temperature',
    from: 'now-6M',
    rows: [{ title: 'Time picker range (opens at the last 6 months)' }, { title: 'Last 24 months', timeFrom: 'now-24M' }],
    panels: [
      { spec: weeklyPowerVsTemp(settings), w: 24, h: 9 },
      { spec: dailyPower(settings), w: 12, h: 8 },
      { spec: dailyTemperatureMean(settings), w: 12, h: 8 },
      // The insight agent's view: what the weather explains, how hard it pushed, what never switches off.
      { spec: dailyUseVsExpected(settings), w: 12, h: 8 },
      { spec: degreeDays(settings), w: 12, h: 8 },
      { spec: alwaysOnLoad(), w: 24, h: 6 },
      // The cost agent's view: what each day cost and why, and each bill beside the utility's.
      { spec: dailyCostByTier(), w: 12, h: 8 },
      { spec: bills(), w: 12, h: 8 },
    ],
  };
}

/** "Home Long Term" in one flavour. */
export function homeLongTermDashboard(flavour: Flavour, settings: DashboardSettings): Dashboard {
  return grafanaDashboard(homeLongTermDefinition(settings), flavour, settings);
}
