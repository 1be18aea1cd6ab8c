/**
 * Settings of the generated dashboards (and of the HTML report, which draws the same panels).
 *
 * They are fixed when the JSON is generated, because Grafana cannot take them from a variable:
 * threshold steps are numbers, units are unit ids, and InfluxQL's `tz()` clause is literal
 * text. The bucket prefix is the exception: it is also a dashboard variable
 * (`bucket_prefix`), so one generated file serves any prefix.
 */
import { IANAZone } from 'luxon';
import type { WeekStart } from '../../src/config.ts';
import type { Units } from '../../src/records.ts';

/** What the generator and the report need to know about the user's setup. */
export interface DashboardSettings {
  /** Daily energy (kWh/day) where the rate tiers start: below `yellow` green, from `red` red. */
  tiers: { yellow: number; red: number };
  /** Unit system the temperature series were written in (`HOMEFLUX_UNITS`). */
  units: Units;
  /** Default of the `bucket_prefix` dashboard variable (`INFLUX_BUCKET_PREFIX`). */
  bucketPrefix: string;
  /**
   * IANA zone for day and week boundaries (`tz()` in InfluxQL, `location` in Flux); undefined
   * groups by UTC days, which puts the right date on local-midnight records west of UTC only.
   */
  timezone?: string;
  /** First day of the week for weekly sums (`HOMEFLUX_WEEK_START`). */
  weekStart: WeekStart;
  /**
   * Regex on the `source` tag of `power` series that are not household energy: the NUT agent
   * writes each UPS's hourly energy as `power` too, and it must not be counted twice.
   */
  excludePowerSources: string;
}

/** The defaults the committed JSON files are generated with. */
export const DEFAULT_SETTINGS: DashboardSettings = {
  tiers: { yellow: 10, red: 20 },
  units: 'imperial',
  bucketPrefix: 'home',
  weekStart: 'monday',
  excludePowerSources: '^homeflux\\.nut',
};

const WEEK_STARTS: readonly WeekStart[] = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/**
 * Check settings; throws an Error naming the setting, what was expected and what was found.
 * Values end up inside query text, so anything that could break out of a string or regex
 * literal is refused rather than escaped.
 */
export function validateSettings(settings: DashboardSettings): DashboardSettings {
  const { tiers } = settings;
  if (!Number.isFinite(tiers.yellow) || !Number.isFinite(tiers.red) || tiers.yellow <= 0 || tiers.red <= tiers.yellow) {
    throw new Error(`dashboard settings: tiers: expected 0 < yellow < red (kWh/day), got yellow=${tiers.yellow}, red=${tiers.red}`);
  }
  if (settings.units !== 'imperial' && settings.units !== 'metric') {
    throw new Error(`dashboard settings: units: expected "imperial" or "metric", got "${String(settings.units)}"`);
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(settings.bucketPrefix)) {
    throw new Error(`dashboard settings: bucketPrefix: expected letters, digits, "_", "-" or ".", got "${settings.bucketPrefix}"`);
  }
  if (settings.timezone !== undefined && !IANAZone.isValidZone(settings.timezone)) {
    throw new Error(`dashboard settings: timezone: expected an IANA zone such as "America/Los_Angeles", got "${settings.timezone}"`);
  }
  if (!WEEK_STARTS.includes(settings.weekStart)) {
    throw new Error(`dashboard settings: weekStart: expected one of ${WEEK_STARTS.join(', ')}, got "${String(settings.weekStart)}"`);
  }
  if (/[/'"\n]/.test(settings.excludePowerSources)) {
    throw new Error(`dashboard settings: excludePowerSources: expected a regex without "/", quotes or newlines, got "${settings.excludePowerSources}"`);
  }
  try {
    new RegExp(settings.excludePowerSources);
  } catch (error) {
    throw new Error(`dashboard settings: excludePowerSources: expected a valid regex, got "${settings.excludePowerSources}" (${(error as Error).message})`);
  }
  return settings;
}

/** Grafana unit id and label of the temperature unit. */
export function temperatureUnit(units: Units): { grafana: 'fahrenheit' | 'celsius'; label: '°F' | '°C' } {
  return units === 'metric' ? { grafana: 'celsius', label: '°C' } : { grafana: 'fahrenheit', label: '°F' };
}
