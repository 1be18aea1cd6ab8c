/**
 * The five panels of the original dashboards, described once: what each series reads
 * ({@link QuerySpec}) and how it is drawn. `grafana.ts` turns them into Grafana panels, the
 * HTML report into uPlot charts.
 */
import type { QuerySpec } from './query.ts';
import { type DashboardSettings, temperatureUnit } from './settings.ts';

/** How a series is drawn. */
/** How a series is drawn; `stacked` = bars stacked on the panel's other stacked series. */
export type SeriesStyle = 'bars' | 'stacked' | 'line' | 'step' | 'points';

/** How a series is coloured. */
export type SeriesColor =
  | { kind: 'fixed'; color: string }
  /** By the rate-tier thresholds (green, yellow, red). */
  | { kind: 'tiers' }
  /** By value on a blue–yellow–red scale (temperature). */
  | { kind: 'scale' }
  /** One colour per series of a grouped query (one per UPS). */
  | { kind: 'palette' };

/** One series of a panel. */
export interface SeriesSpec {
  query: QuerySpec;
  /** Legend name; for grouped queries the group tag's value is used instead. */
  label: string;
  style: SeriesStyle;
  color: SeriesColor;
  /** Grafana unit id (`kwatth`, `watth`, `fahrenheit`, `celsius`). */
  unit: string;
  /** Short unit for axis labels (`kWh`, `°F`). */
  unitLabel: string;
  axis: 'left' | 'right';
}

/** A panel: a title, a description, and its series. */
export interface PanelSpec {
  /** Stable key, used for ids in the report. */
  key: string;
  title: string;
  description: string;
  /** Lower bound of `$__interval` (Grafana's "min interval"). */
  minInterval?: string;
  series: SeriesSpec[];
}

/** Colours shared by Grafana and the report (Grafana's named colours, as hex for uPlot). */
export const COLORS = {
  energy: '#5794F2',
  temperature: '#FF9830',
  green: '#73BF69',
  yellow: '#FADE2A',
  red: '#F2495C',
} as const;

const WH_TO_KWH = 0.001;

function householdEnergy(refId: string, every: '1h' | '1d' | '1w', settings: DashboardSettings): QuerySpec {
  return {
    refId,
    alias: 'energy',
    timescale: every === '1h' ? 'hour' : every === '1d' ? 'day' : 'week',
    measurement: 'power',
    field: 'power_usage',
    aggregate: 'sum',
    every,
    scale: WH_TO_KWH,
    exclude: [{ tag: 'source', pattern: settings.excludePowerSources }],
  };
}

function temperature(refId: string, timescale: 'hour' | 'day', every: '1h' | '1d' | 'auto'): QuerySpec {
  return { refId, alias: 'temperature', timescale, measurement: 'temperature', field: 'temperature', aggregate: 'mean', every };
}

/** "Home Power vs Temp Hourly": hourly household kWh as bars, outdoor temperature as a line. */
export function homePowerVsTempHourly(settings: DashboardSettings): PanelSpec {
  const t = temperatureUnit(settings.units);
  return {
    key: 'home-power-vs-temp-hourly',
    title: 'Home Power vs Temp Hourly',
    description: `Household energy per hour (kWh, bars; UPS series excluded by source !~ /${settings.excludePowerSources}/) and the mean outdoor temperature (${t.label}, line, right axis).`,
    series: [
      { query: householdEnergy('A', '1h', settings), label: 'Energy', style: 'bars', color: { kind: 'fixed', color: COLORS.energy }, unit: 'kwatth', unitLabel: 'kWh', axis: 'left' },
      { query: temperature('B', 'hour', '1h'), label: 'Temperature', style: 'line', color: { kind: 'fixed', color: COLORS.temperature }, unit: t.grafana, unitLabel: t.label, axis: 'right' },
    ],
  };
}

/**
 * "UPS Hourly": each UPS's energy per hour (Wh). Both the demo and the NUT agent write `ups`
 * samples with `power_w` to the minute bucket; the mean of an hour's watts is that hour's Wh.
 */
export function upsHourly(): PanelSpec {
  return {
    key: 'ups-hourly',
    title: 'UPS Hourly',
    description: 'Energy drawn through each UPS per hour (Wh): the mean of the minute samples of ups.power_w over the hour, one series per location.',
    series: [
      {
        query: { refId: 'A', alias: 'energy', timescale: 'minute', measurement: 'ups', field: 'power_w', aggregate: 'mean', every: '1h', groupBy: ['location'] },
        label: 'UPS',
        style: 'line',
        color: { kind: 'palette' },
        unit: 'watth',
        unitLabel: 'Wh',
        axis: 'left',
      },
    ],
  };
}

/** "Weekly Power vs Temp": weekly kWh as a stepped line, hourly temperature as points coloured by value. */
export function weeklyPowerVsTemp(settings: DashboardSettings): PanelSpec {
  const t = temperatureUnit(settings.units);
  return {
    key: 'weekly-power-vs-temp',
    title: 'Weekly Power vs Temp',
    description: `Household energy per week (kWh, stepped line, weeks starting ${settings.weekStart}) and hourly outdoor temperature (${t.label}, points coloured by value, right axis; coarser than hourly when the range holds too many hours).`,
    minInterval: '1h',
    series: [
      { query: householdEnergy('A', '1w', settings), label: 'Energy', style: 'step', color: { kind: 'fixed', color: COLORS.energy }, unit: 'kwatth', unitLabel: 'kWh', axis: 'left' },
      { query: temperature('B', 'hour', 'auto'), label: 'Temperature', style: 'points', color: { kind: 'scale' }, unit: t.grafana, unitLabel: t.label, axis: 'right' },
    ],
  };
}

/** "Daily Power": daily kWh as bars coloured by the rate tiers. */
export function dailyPower(settings: DashboardSettings): PanelSpec {
  const { yellow, red } = settings.tiers;
  return {
    key: 'daily-power',
    title: 'Daily Power',
    description: `Household energy per day (kWh), coloured by rate tier: green below ${yellow}, yellow from ${yellow}, red from ${red} kWh/day.`,
    series: [{ query: householdEnergy('A', '1d', settings), label: 'Energy', style: 'bars', color: { kind: 'tiers' }, unit: 'kwatth', unitLabel: 'kWh', axis: 'left' }],
  };
}

/** "Daily Temperature (Mean)": the day bucket's mean temperature. */
export function dailyTemperatureMean(settings: DashboardSettings): PanelSpec {
  const t = temperatureUnit(settings.units);
  return {
    key: 'daily-temperature-mean',
    title: 'Daily Temperature (Mean)',
    description: `Mean outdoor temperature per day (${t.label}).`,
    series: [{ query: temperature('A', 'day', '1d'), label: 'Temperature', style: 'line', color: { kind: 'fixed', color: COLORS.temperature }, unit: t.grafana, unitLabel: t.label, axis: 'left' }],
  };
}

/** Every panel, in the order the report draws them. */
export function allPanels(settings: DashboardSettings): PanelSpec[] {
  return [homePowerVsTempHourly(settings), upsHourly(), weeklyPowerVsTemp(settings), dailyPower(settings), dailyTemperatureMean(settings)];
}

/** "Bills": each plan's computed bill (the cost agent) beside the utility's own, per billing period. */
export function bills(): PanelSpec {
  return {
    key: 'bills',
    title: 'Bills: Computed and the Utility\'s',
    description: 'Each billing period priced under your tariff file(s) (cost agent, one series per plan) beside the bill the utility reported, where it did.',
    series: [
      { query: { refId: 'A', alias: 'cost', timescale: 'bill', measurement: 'cost', field: 'cost', aggregate: 'sum', every: '1d', groupBy: ['plan'] }, label: 'Computed', style: 'bars', color: { kind: 'palette' }, unit: 'currencyUSD', unitLabel: '$', axis: 'left' },
      { query: { refId: 'B', alias: 'cost', timescale: 'bill', measurement: 'bill', field: 'cost', aggregate: 'sum', every: '1d' }, label: 'Utility bill', style: 'points', color: { kind: 'fixed', color: COLORS.red }, unit: 'currencyUSD', unitLabel: '$', axis: 'left' },
    ],
  };
}

/** "Daily Use vs Expected": the day's use beside what the weather-normalised model expects (insight agent). */
export function dailyUseVsExpected(settings: DashboardSettings): PanelSpec {
  return {
    key: 'daily-use-vs-expected',
    title: 'Daily Use vs Expected for the Weather',
    description: 'Household energy per day (kWh, bars) and what the CalTRACK model of the insight agent expects for that day\'s temperature (line): the gap is what the weather does not explain.',
    series: [
      { query: householdEnergy('A', '1d', settings), label: 'Used', style: 'bars', color: { kind: 'fixed', color: COLORS.energy }, unit: 'kwatth', unitLabel: 'kWh', axis: 'left' },
      { query: { refId: 'B', alias: 'expected', timescale: 'day', measurement: 'baseline', field: 'expected', aggregate: 'sum', every: '1d', scale: WH_TO_KWH }, label: 'Expected', style: 'line', color: { kind: 'fixed', color: COLORS.temperature }, unit: 'kwatth', unitLabel: 'kWh', axis: 'left' },
    ],
  };
}

/** "Always-On Load": the 2nd percentile of hourly power over the trailing week (insight agent). */
export function alwaysOnLoad(): PanelSpec {
  return {
    key: 'always-on',
    title: 'Always-On Load',
    description: 'The load that never switches off (W): the 2nd percentile of hourly mean power over the 7 days ending each day (insight agent).',
    series: [{ query: { refId: 'A', alias: 'power_w', timescale: 'day', measurement: 'always_on', field: 'power_w', aggregate: 'mean', every: '1d' }, label: 'Always on', style: 'line', color: { kind: 'fixed', color: COLORS.green }, unit: 'watt', unitLabel: 'W', axis: 'left' }],
  };
}

/** "Daily Cost by Tier and Period": the cost agent's daily energy charges, stacked by plan, tier and time-of-use period. */
export function dailyCostByTier(): PanelSpec {
  return {
    key: 'daily-cost-by-tier',
    title: 'Daily Cost by Tier and Period',
    description: 'Each day\'s energy charges under your tariff (cost agent, before taxes and fixed charges), stacked by plan, tier and time-of-use period — what the day cost and why. The utility\'s own split (opower) is left out.',
    series: [
      {
        query: { refId: 'A', alias: 'cost', timescale: 'day', measurement: 'cost_component', field: 'cost', aggregate: 'sum', every: '1d', exclude: [{ tag: 'source', pattern: '^homeflux\\.opower' }], groupBy: ['plan', 'tier', 'day_part'] },
        label: 'Cost',
        style: 'stacked',
        color: { kind: 'palette' },
        unit: 'currencyUSD',
        unitLabel: '$',
        axis: 'left',
      },
    ],
  };
}

/** "Degree Days": each day's heating and cooling degree days at the model's balance points (insight agent). */
export function degreeDays(settings: DashboardSettings): PanelSpec {
  const t = temperatureUnit(settings.units);
  return {
    key: 'degree-days',
    title: 'Degree Days',
    description: `Heating and cooling degree days per day (${t.label}·day) at the balance points of the insight agent's model: how hard the weather pushed the house each day.`,
    series: [
      { query: { refId: 'A', alias: 'hdd', timescale: 'day', measurement: 'baseline', field: 'hdd', aggregate: 'sum', every: '1d' }, label: 'Heating degree days', style: 'bars', color: { kind: 'fixed', color: COLORS.energy }, unit: 'none', unitLabel: `${t.label}·day`, axis: 'left' },
      { query: { refId: 'B', alias: 'cdd', timescale: 'day', measurement: 'baseline', field: 'cdd', aggregate: 'sum', every: '1d' }, label: 'Cooling degree days', style: 'bars', color: { kind: 'fixed', color: COLORS.red }, unit: 'none', unitLabel: `${t.label}·day`, axis: 'left' },
    ],
  };
}

/** The report's panels: the dashboards' and those of the derived agents. */
export function reportPanels(settings: DashboardSettings): PanelSpec[] {
  return [...allPanels(settings), bills(), dailyCostByTier(), dailyUseVsExpected(settings), degreeDays(settings), alwaysOnLoad()];
}
