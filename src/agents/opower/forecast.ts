/**
 * The bill forecast (`POST …/dsm-graphql-v1/cws/graphql`, query `billForecast`; shape as
 * tronikos/opower `async_get_forecast` reads it, fixture `bill-forecast-graphql.json`) →
 * one daily `bill_forecast` record per account, at local midnight of the forecast's date.
 * Portals without it answer an error or `billForecast: null`: that is not a problem.
 */
import { DateTime } from 'luxon';
import { billForecastRecord, type DataRecord } from '../../records.ts';
import { base, clean, isObj, type MapContext, normalizeUnit, parseInstant, type UtilityAccount } from './parse.ts';

/** The GraphQL query: the fields the public client reads, nothing more. */
export const BILL_FORECAST_QUERY = `query GetBillForecast {
  billingAccountsConnection(first: 100) {
    edges { node { billForecast {
      timeInterval
      currentDateTime
      segments {
        serviceAgreement { uuid }
        estimatedUsage { value, unit }
        estimatedUsageCharges { value }
        soFarUsage { value }
        soFarUsageCharges { value }
        priorYearUsage { value }
        priorYearUsageCharges { value }
      }
    } } }
  }
}`;

const get = (v: unknown, ...path: string[]): unknown => path.reduce<unknown>((o, k) => (isObj(o) ? o[k] : undefined), v);
const num = (v: unknown): number | undefined => {
  const value = get(v, 'value');
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
};

/** Where each account's forecast goes: its location and tags. */
export type PlaceOf = (account: UtilityAccount) => { location: string; tags: Record<string, string> } | undefined;

/**
 * Forecast records of one GraphQL answer for the accounts it names (segments of unknown
 * accounts are ignored). Electric usage is converted to Wh like `power`; other units are kept
 * and tagged. Returns [] for any answer without a usable forecast.
 */
export function forecastRecords(payload: unknown, accounts: readonly UtilityAccount[], place: PlaceOf, ctx: Omit<MapContext, 'location' | 'tags' | 'timescale'>): DataRecord[] {
  const edges = get(payload, 'data', 'billingAccountsConnection', 'edges');
  if (!Array.isArray(edges)) return [];
  const out: DataRecord[] = [];
  for (const edge of edges) {
    const forecast = get(edge, 'node', 'billForecast');
    const interval = get(forecast, 'timeInterval');
    if (typeof interval !== 'string' || !interval.includes('/')) continue;
    const [from, to] = interval.split('/', 2) as [string, string];
    const periodStart = parseInstant(from, ctx.timezone);
    const periodEnd = parseInstant(to, ctx.timezone);
    const current = get(forecast, 'currentDateTime');
    const asOf = typeof current === 'string' ? current : from;
    const day = DateTime.fromISO(asOf.slice(0, 10), { zone: ctx.timezone });
    if (periodStart === undefined || periodEnd === undefined || !day.isValid) continue;
    const time = Math.floor(day.toSeconds());
    if (time < ctx.window.start || time >= ctx.window.end) continue;
    const segments = get(forecast, 'segments');
    for (const segment of Array.isArray(segments) ? segments : []) {
      const account = accounts.find((a) => a.uuid === get(segment, 'serviceAgreement', 'uuid'));
      const where = account && place(account);
      if (!account || !where) continue;
      const named = get(segment, 'estimatedUsage', 'unit');
      const unit = typeof named === 'string' && named.trim() !== '' ? normalizeUnit(named) : account.meterType.toUpperCase() === 'ELEC' ? 'KWH' : undefined;
      if (unit === undefined || !/^[A-Z]+$/.test(unit)) continue;
      const scale = unit === 'KWH' ? 1000 : unit === 'MWH' ? 1e6 : 1;
      const usage = (v: number | undefined): number | undefined => (v === undefined ? undefined : clean(v * scale));
      const money = (v: number | undefined): number | undefined => (v === undefined ? undefined : clean(v));
      out.push(
        billForecastRecord(
          base({ ...ctx, location: where.location, tags: where.tags, timescale: 'day' }, time, 'day'),
          {
            usageToDate: usage(num(get(segment, 'soFarUsage'))),
            costToDate: money(num(get(segment, 'soFarUsageCharges'))),
            forecastUsage: usage(num(get(segment, 'estimatedUsage'))),
            forecastCost: money(num(get(segment, 'estimatedUsageCharges'))),
            typicalUsage: usage(num(get(segment, 'priorYearUsage'))),
            typicalCost: money(num(get(segment, 'priorYearUsageCharges'))),
            periodStart,
            periodEnd,
          },
          { usageUnit: scale === 1 ? unit : 'WH', currency: 'USD' },
        ),
      );
    }
  }
  return out;
}
