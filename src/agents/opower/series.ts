/**
 * The requests of one chunk, as series: the usage of each account and aggregate (with its cost
 * beside it), and the portal's hourly and daily weather — each a list of date spans and how to
 * ask for one (PROTOCOL.md "Usage and cost reads", "Portal weather").
 */
import type { DateTime } from 'luxon';
import type { Units } from '../../records.ts';
import type { TimeWindow } from '../../window.ts';
import type { OpowerClient } from './client.ts';
import type { ContextFor } from './extras.ts';
import { dateSpans, type Meter, selectedEntities } from './meters.ts';
import type { Mapped } from './parse.ts';
import { costRecords, usageRecords } from './reads.ts';
import { type Aggregate, aggregatesFor, type QuarterHourMode, REQUEST_DAYS, TIMESCALE_OF } from './resolution.ts';
import type { Utility } from './utilities.ts';
import type { DateSpan, SpanWalk } from './walk.ts';
import { weatherRecords } from './weather.ts';

const API = '/ei/edge/apis';
const AGGREGATE_WORD: Readonly<Record<Aggregate, string>> = { quarter_hour: 'quarter-hour', hour: 'hourly', day: 'daily' };

/** A series of span requests: usage of one account and aggregate, or one weather kind. */
export interface Series {
  walk: SpanWalk;
  aggregate: Aggregate;
  spans: DateSpan[];
  fetch: (span: DateSpan) => Promise<Mapped>;
  /** Cost of the same account and aggregate, asked span by span beside the usage. */
  cost?: (span: DateSpan) => Promise<Mapped>;
  meter?: Meter;
}

/** What {@link buildSeries} needs. */
export interface SeriesOptions {
  utility: Utility;
  window: TimeWindow;
  meters: readonly Meter[];
  client: OpowerClient;
  signal: AbortSignal;
  ctxFor: ContextFor;
  units: Units;
  quarterHour: QuarterHourMode;
  /** The walk of a series (kept by the agent across chunks), by key, labelled for messages. */
  walkFor: (key: string, label: string) => SpanWalk;
}

/** Every series of requests a chunk needs. */
export function buildSeries(o: SeriesOptions): Series[] {
  const { utility, window, meters, client, signal, ctxFor, units, walkFor } = o;
  const tz = utility.timezone;
  // Cost and hourly weather take instants with offsets: local midnight, end exclusive.
  const iso = (d: DateTime): string => d.toISO({ suppressMilliseconds: true })!;
  const dates = (span: DateSpan): Record<string, string> => ({ startDate: span.first.toISODate()!, endDate: span.last.toISODate()! });
  const instants = (span: DateSpan): Record<string, string> => ({ startDate: iso(span.first), endDate: iso(span.last.plus({ days: 1 })) });
  const out: Series[] = [];
  for (const meter of meters) {
    const { uuid, meterType, readResolution } = meter.account;
    const headers = selectedEntities(meter.account);
    const short = uuid.slice(0, 8);
    for (const aggregate of aggregatesFor(readResolution, o.quarterHour)) {
      const timescale = TIMESCALE_OF[aggregate];
      const readsPath = `${API}/DataBrowser-v1/cws/utilities/${client.utility.code}/utilityAccounts/${uuid}/reads`;
      const costPath = `${API}/DataBrowser-v1/cws/cost/utilityAccount/${uuid}`;
      out.push({
        walk: walkFor(`usage|${uuid}|${aggregate}`, `${AGGREGATE_WORD[aggregate]} usage of account ${short} (${meterType})`),
        aggregate,
        spans: dateSpans(window, tz, REQUEST_DAYS[aggregate]),
        meter,
        fetch: async (span) => ({ ...usageRecords(await client.getJson(readsPath, { aggregateType: aggregate, ...dates(span) }, signal, headers), meterType, ctxFor(timescale, meter.location, readsPath, meter)), stream: `usage|${uuid}|${aggregate}`, asked: timescale }),
        // Cost stays hourly and daily: quarter-hour cost would add as many requests again for
        // money the hours already carry.
        cost: aggregate === 'quarter_hour' ? undefined : async (span) => ({ ...costRecords(await client.getJson(costPath, { aggregateType: aggregate, ...instants(span) }, signal, headers), meterType, ctxFor(timescale, meter.location, costPath, meter)), stream: `cost|${uuid}|${aggregate}`, asked: timescale }),
      });
    }
  }
  // Weather is per login; it follows the first account's customer like the portal's own pages.
  const headers = selectedEntities(meters[0]?.account);
  for (const [aggregate, kind] of [['hour', 'hourly'], ['day', 'daily']] as const) {
    const path = `${API}/DataBrowser-v1/cws/weather/${kind}`;
    out.push({
      walk: walkFor(`weather|${kind}`, `${kind} weather`),
      aggregate,
      spans: dateSpans(window, tz, REQUEST_DAYS[aggregate]),
      // The original homeflux asks for hourly weather with local date-times, daily with dates.
      fetch: async (span) => ({ ...weatherRecords(await client.getJson(path, { ...(kind === 'hourly' ? instants(span) : dates(span)), useCelsius: 'false' }, signal, headers), units, ctxFor(TIMESCALE_OF[aggregate], utility.id, path)), stream: `weather|${kind}`, asked: TIMESCALE_OF[aggregate] }),
    });
  }
  return out;
}
