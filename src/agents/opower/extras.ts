/**
 * What the agent collects once per run beside the reads: every account's bills and the bill
 * forecast.
 */
import { DateTime } from 'luxon';
import { SourceDataError } from '../../errors.ts';
import { seriesKey } from '../../lineprotocol.ts';
import type { DataRecord, Timescale } from '../../records.ts';
import type { TimeWindow } from '../../window.ts';
import type { CollectContext } from '../agent.ts';
import { type OpowerClient, PortalServerError } from './client.ts';
import { BILL_FORECAST_QUERY, forecastRecords } from './forecast.ts';
import { type Meter, selectedEntities } from './meters.ts';
import type { MapContext, UtilityAccount } from './parse.ts';
import { billRecords } from './reads.ts';
import type { Utility } from './utilities.ts';

const API = '/ei/edge/apis';
// Bills are published days to weeks after a period closes: every run rewrites the bills that
// ended in the 62 days before its window, so a late bill is still picked up by hourly runs.
const BILL_REACH = 62 * 86400;

/** Places a record of a meter: timescale, location and path → the mapping context. */
export type ContextFor = (timescale: Timescale, location: string, path: string, meter?: Meter) => MapContext;

/**
 * Every account's bills (`aggregateType=bill`, no dates: the portal answers all it keeps),
 * from the cost endpoint, then the usage one where cost gives none; a 500 means "before the
 * account existed" (tronikos/opower) and is no problem.
 */
export async function fetchBills(meters: readonly Meter[], client: OpowerClient, context: CollectContext, ctxFor: ContextFor): Promise<DataRecord[]> {
  const all: DataRecord[] = [];
  for (const meter of meters) {
    const { uuid, meterType } = meter.account;
    const headers = selectedEntities(meter.account);
    const reach = { start: -Infinity, end: Infinity };
    const ask = async (path: string): Promise<DataRecord[]> => {
      try {
        const mapped = billRecords(await client.getJson(path, { aggregateType: 'bill' }, context.signal, headers), meterType, { ...ctxFor('bill', meter.location, path, meter), window: reach });
        for (const problem of mapped.problems) context.problem(problem);
        return mapped.records;
      } catch (error) {
        if (error instanceof PortalServerError) return [];
        if (error instanceof SourceDataError) {
          context.problem(error);
          return [];
        }
        throw error;
      }
    };
    let bills = await ask(`${API}/DataBrowser-v1/cws/cost/utilityAccount/${uuid}`);
    if (bills.length === 0) bills = await ask(`${API}/DataBrowser-v1/cws/utilities/${client.utility.code}/utilityAccounts/${uuid}/reads`);
    all.push(...bills);
  }
  return all;
}

/** The bills a window gets: those overlapping it or ended shortly before, each once per run (`sent` remembers). */
export function billsFor(bills: readonly DataRecord[], window: TimeWindow, sent: Set<string>): DataRecord[] {
  const out: DataRecord[] = [];
  for (const bill of bills) {
    const key = `${seriesKey(bill)}|${bill.time}`;
    if (sent.has(key) || bill.time >= window.end || (bill.fields.end as number) <= window.start - BILL_REACH) continue;
    sent.add(key);
    out.push(bill);
  }
  return out;
}

/** The bill forecast of each customer of the login; its absence is not an error (a debug line). */
export async function fetchForecast(meters: readonly Meter[], client: OpowerClient, utility: Utility, context: CollectContext, window: TimeWindow): Promise<DataRecord[]> {
  const name = `opower.${utility.id}`;
  const path = `${API}/dsm-graphql-v1/cws/graphql`;
  const out: DataRecord[] = [];
  const customers = [...new Map(meters.map((m) => [m.account.customerUuid, m.account])).values()];
  for (const account of customers) {
    let payload: unknown;
    try {
      payload = await client.postJson(path, { query: BILL_FORECAST_QUERY }, context.signal, selectedEntities(account));
    } catch (error) {
      if (context.signal.aborted) throw error;
      context.log.debug(`${name}: no bill forecast (${error instanceof Error ? error.message : String(error)})`);
      continue;
    }
    const place = (a: UtilityAccount): { location: string; tags: Record<string, string> } | undefined => {
      const meter = meters.find((m) => m.account.uuid === a.uuid);
      return meter && { location: meter.location, tags: meter.tags };
    };
    out.push(...forecastRecords(payload, meters.map((m) => m.account), place, { utility: utility.id, timezone: utility.timezone, window, path }));
  }
  if (out.length === 0) context.log.debug(`${name}: the portal offers no bill forecast for this login`);
  return out;
}

/** Local midnight of the utility's today, Unix seconds. */
export function todayStart(now: number, utility: Utility): number {
  return DateTime.fromSeconds(now, { zone: utility.timezone }).startOf('day').toSeconds();
}
