/**
 * The Opower agent: a window → the utility's meter reads, cost, bills and weather.
 *
 * The pipeline hands over chunks of up to 363 local days, one at a time. Inside a chunk every
 * request the portal allows (quarter hour ≤ 6 days, hour ≤ 26 days, day ≤ 363 days, per
 * tronikos/opower) goes through one small pool, at most `concurrency` (default 4) in flight.
 * Then spans that answered HTTP 500 are isolated day by day (src/agents/opower/walk.ts), and
 * cost is asked again for the parts of them that answered. No request reaches past the
 * utility's local today (see `untilToday`).
 */
import { DateTime } from 'luxon';
import { ConfigError, SourceDataError } from '../../errors.ts';
import type { Config } from '../../config.ts';
import type { Logger } from '../../log.ts';
import { type DataRecord, type Timescale } from '../../records.ts';
import { seriesKey } from '../../lineprotocol.ts';
import type { TimeWindow } from '../../window.ts';
import { pool } from '../../pool.ts';
import type { Agent, CollectContext } from '../agent.ts';
import { OpowerClient, PortalServerError } from './client.ts';
import { BILL_FORECAST_QUERY, forecastRecords } from './forecast.ts';
import { type MapContext, type Mapped, parseCustomersPage, type UtilityAccount } from './parse.ts';
import { billRecords, costRecords, usageRecords } from './reads.ts';
import { type Aggregate, aggregatesFor, allowsQuarterHour, type QuarterHourMode, REQUEST_DAYS, resolutionOf, TIMESCALE_OF, untilToday } from './resolution.ts';
import { defaultBaseUrl, type Utility } from './utilities.ts';
import { type DateSpan, describeDays, RECENT_DAYS, SpanWalk } from './walk.ts';
import { weatherRecords } from './weather.ts';

/** What the agent needs besides the shared config (see `opower.ts` for the env names). */
export interface OpowerAgentOptions {
  utility: Utility;
  username: string;
  password: string;
  accountUuid?: string;
  baseUrl?: string;
  /** Requests in flight at most (1 = strictly sequential). */
  concurrency: number;
  /** Quarter-hour reads (`OPOWER_QUARTER_HOUR`); default `auto`: where the account's `readResolution` allows them. */
  quarterHour?: QuarterHourMode;
}

export { REQUEST_DAYS };
export type { DateSpan };

/** Largest window handed to one `collect` call (one day request covers it). */
export const MAX_CHUNK_DAYS = REQUEST_DAYS.day;

const API = '/ei/edge/apis';
// Bills are published days to weeks after a period closes: every run rewrites the bills that
// ended in the 62 days before its window, so a late bill is still picked up by hourly runs.
const BILL_REACH = 62 * 86400;

/** An account with the location and tags its records get. */
interface Meter {
  account: UtilityAccount;
  location: string;
  tags: Record<string, string>;
}

/** A series of span requests: usage of one account and aggregate, or one weather kind. */
interface Series {
  walk: SpanWalk;
  aggregate: Aggregate;
  spans: DateSpan[];
  fetch: (span: DateSpan) => Promise<Mapped>;
  /** Cost of the same account and aggregate, asked span by span beside the usage. */
  cost?: (span: DateSpan) => Promise<Mapped>;
  meter?: Meter;
}

/** Split the local dates a window touches into spans of at most `days`. */
export function dateSpans(window: TimeWindow, timezone: string, days: number): DateSpan[] {
  const first = DateTime.fromSeconds(window.start, { zone: timezone }).startOf('day');
  const last = DateTime.fromSeconds(window.end - 1, { zone: timezone }).startOf('day');
  const spans: DateSpan[] = [];
  for (let d = first; d <= last; d = d.plus({ days })) {
    const end = d.plus({ days: days - 1 });
    spans.push({ first: d, last: end < last ? end : last });
  }
  return spans;
}

/** Give each account a location and, when there are several, an `account` tag so no two share a series. */
export function metersFor(accounts: readonly UtilityAccount[], utility: Utility): Meter[] {
  const location = `${utility.id}_meter`;
  if (accounts.length === 1) return [{ account: accounts[0]!, location, tags: {} }];
  const shorts = accounts.map((a) => a.uuid.slice(0, 8));
  const unique = new Set(shorts).size === shorts.length;
  return accounts.map((account, i) => ({ account, location, tags: { account: unique ? shorts[i]! : account.uuid } }));
}

/** `Opower-Selected-Entities` for an account's customer (tronikos/opower `_get_headers`). */
export function selectedEntities(account: UtilityAccount | undefined): Record<string, string> {
  return account?.customerUuid ? { 'opower-selected-entities': JSON.stringify([`urn:opower:customer:uuid:${account.customerUuid}`]) } : {};
}

const AGGREGATE_WORD: Readonly<Record<Aggregate, string>> = { quarter_hour: 'quarter-hour', hour: 'hourly', day: 'daily' };

/** One outcome of a first-round request. */
type Outcome = { mapped: Mapped } | { failed: PortalServerError };

/** The Opower agent for one utility login. */
export class OpowerAgent implements Agent {
  readonly name: string;
  /** The portal session, created by the first `collect` (it needs the run's logger). */
  client: OpowerClient | undefined;
  private meters: Meter[] | undefined;
  private warned = false;
  private quarterHourChecked = false;
  private log: Logger | undefined;
  private readonly walks = new Map<string, SpanWalk>();
  /** Accounts whose cost endpoint answered 500 or no reads while usage answered: said once at the end. */
  private readonly costNotes = new Map<string, string>();
  private bills: Promise<DataRecord[]> | undefined;
  private readonly billsSent = new Set<string>();
  private forecastAsked = false;

  constructor(
    private readonly options: OpowerAgentOptions,
    private readonly config: Config,
  ) {
    this.name = `opower.${options.utility.id}`;
  }

  async collect(window: TimeWindow, context: CollectContext): Promise<DataRecord[]> {
    const { utility } = this.options;
    const now = context.now;
    // Dates after the utility's today have no reads yet: don't ask for them.
    const wanted = untilToday(window, now, utility.timezone);
    if (wanted === undefined) return [];
    this.log = context.log;
    // The logger arrives with the first collect; the client needs it to mask the session.
    const client = (this.client ??= new OpowerClient({
      utility,
      baseUrl: this.options.baseUrl ?? defaultBaseUrl(utility),
      username: this.options.username,
      password: this.options.password,
      log: context.log,
      timeoutMs: this.config.httpTimeoutSeconds * 1000,
    }));
    if (!this.warned && this.config.timezone !== utility.timezone) {
      this.warned = true;
      context.log.warn(`${this.name}: HOMEFLUX_TIMEZONE is ${this.config.timezone} but ${utility.name} reads days in ${utility.timezone}; daily records will not line up with local days (set HOMEFLUX_TIMEZONE=${utility.timezone})`);
    }
    const meters = await this.loadMeters(client, context.signal);
    this.checkQuarterHour(meters, context);
    const recentFrom = DateTime.fromSeconds(now, { zone: utility.timezone }).startOf('day').minus({ days: RECENT_DAYS }).toISODate()!;
    const ctxFor = (timescale: Timescale, location: string, path: string, meter?: Meter): MapContext => ({ utility: utility.id, timezone: utility.timezone, timescale, location, tags: meter?.tags, window: wanted, path });
    const mapSafely = async (run: () => Promise<Mapped>): Promise<Mapped> => {
      try {
        return await run();
      } catch (error) {
        // A bad payload spoils one request, not the chunk: report it and keep the rest.
        if (error instanceof SourceDataError) return { records: [], problems: [error] };
        throw error;
      }
    };

    const series = this.series(wanted, meters, client, context.signal, ctxFor);
    // First round: every span of every series, the cost beside each usage span, and the bills
    // and forecast — all through one pool, so `concurrency` bounds everything in flight.
    type Job = { series: Series; span: DateSpan; kind: 'usage' | 'cost' } | { kind: 'extra'; run: () => Promise<DataRecord[]> };
    const jobs: Job[] = series.flatMap((s) => s.spans.flatMap((span): Job[] => [{ series: s, span, kind: 'usage' }, ...(s.cost ? [{ series: s, span, kind: 'cost' as const }] : [])]));
    jobs.unshift({ kind: 'extra', run: () => this.billsFor(meters, client, context, wanted, ctxFor) }, { kind: 'extra', run: () => this.forecast(meters, client, context, wanted, now) });
    const extra: DataRecord[] = [];
    const outcomes = await pool(jobs, this.options.concurrency, async (job): Promise<Outcome> => {
      if (job.kind === 'extra') {
        extra.push(...(await job.run()));
        return { mapped: { records: [], problems: [] } };
      }
      try {
        const mapped = await mapSafely(() => (job.kind === 'usage' ? job.series.fetch(job.span) : job.series.cost!(job.span)));
        if (job.kind === 'usage') job.series.walk.saw(mapped);
        return { mapped };
      } catch (error) {
        if (error instanceof PortalServerError) return { failed: error };
        throw error;
      }
    });

    const answers: Mapped[] = [];
    const failedUsage = new Map<Series, DateSpan[]>();
    const usageAnswered = new Set<string>();
    const spanKey = (s: Series, span: DateSpan): string => `${s.walk.label}|${span.first.toISODate()}|${span.last.toISODate()}`;
    jobs.forEach((job, i) => {
      const outcome = outcomes[i]!;
      if (job.kind === 'usage') {
        if ('mapped' in outcome) {
          answers.push({ ...outcome.mapped, exact: true });
          if (outcome.mapped.records.length + (outcome.mapped.held ?? []).length > 0) usageAnswered.add(spanKey(job.series, job.span));
        } else failedUsage.set(job.series, [...(failedUsage.get(job.series) ?? []), job.span]);
      }
    });
    const costRetry: { series: Series; span: DateSpan }[] = [];
    jobs.forEach((job, i) => {
      if (job.kind !== 'cost') return;
      const outcome = outcomes[i]!;
      if ('mapped' in outcome) {
        answers.push({ ...outcome.mapped, exact: true });
        if (outcome.mapped.records.length === 0 && (outcome.mapped.held ?? []).length === 0 && usageAnswered.has(spanKey(job.series, job.span))) this.noteCost(job.series, 'answers no cost reads (cost only per bill)');
      } else if (usageAnswered.has(spanKey(job.series, job.span))) this.noteCost(job.series, `answers HTTP 500 on the cost endpoint (${outcome.failed.body})`);
      else costRetry.push({ series: job.series, span: job.span });
    });

    // Second round: isolate the failing days of each series, newest span first, series in parallel.
    const isolated = await pool([...failedUsage.entries()], this.options.concurrency, async ([s, spans]) => {
      const good: DateSpan[] = [];
      let searched = false;
      for (const span of [...spans].sort((a, b) => b.first.toMillis() - a.first.toMillis())) {
        const inHistory = (s.walk.dataFrom !== undefined && s.walk.dataFrom < span.first.toISODate()!) || span.last.toISODate()! >= recentFrom;
        if (!inHistory && searched) {
          s.walk.failedWhole(span);
          continue;
        }
        if (!inHistory) searched = true;
        const result = await s.walk.isolate(span, (part) => mapSafely(() => s.fetch(part)), recentFrom);
        answers.push(...result.answers);
        good.push(...result.good);
      }
      return { series: s, good };
    });
    // Cost again, for the parts of failed spans that answered usage.
    const costParts = isolated.flatMap(({ series: s, good }) => (s.cost && costRetry.some((c) => c.series === s) ? good.map((span) => ({ series: s, span })) : []));
    const costAnswers = await pool(costParts, this.options.concurrency, async ({ series: s, span }) => {
      try {
        return await mapSafely(() => s.cost!(span));
      } catch (error) {
        if (!(error instanceof PortalServerError)) throw error;
        this.noteCost(s, `answers HTTP 500 on the cost endpoint (${error.body})`);
        return undefined;
      }
    });
    for (const a of costAnswers) if (a) answers.push(a);

    for (const s of series) {
      const days = s.walk.settle(recentFrom);
      if (days.length > 0) context.problem(new SourceDataError(`${s.walk.label}: the portal answered HTTP 500 for ${describeDays(days)} even day by day; ${days.length === 1 ? 'that day was' : `those ${days.length} days were`} not stored (the days around them were)`));
    }
    for (const a of answers) for (const problem of a.problems) context.problem(problem);
    return [...settleRecords(answers), ...extra];
  }

  /** Say once, at the end of the run, where each account's data starts and which cost the portal does not give. */
  async close(): Promise<void> {
    const log = this.log;
    if (!log) return;
    const starts = new Map<string, string[]>();
    for (const walk of this.walks.values()) {
      if (walk.pending.size === 0) continue;
      const pending = [...walk.pending].sort();
      const line =
        walk.dataFrom === undefined
          ? `${walk.label}: no reads in the range asked; the portal answered HTTP 500 for every day (${describeDays(pending)}), as it does before an account's data starts`
          : `${walk.label} start at ${walk.dataFrom}: the portal answered HTTP 500 for the ${pending.length} earlier day(s) asked (${pending[0]} … ${pending[pending.length - 1]}), as it does before an account's data starts`;
      const list = starts.get(walk.dataFrom ?? '') ?? [];
      list.push(line);
      starts.set(walk.dataFrom ?? '', list);
    }
    for (const lines of starts.values()) for (const line of lines) log.info(`${this.name}: data starts: ${line}`);
    for (const [what, why] of this.costNotes) log.info(`${this.name}: ${what}: the portal ${why}; usage is stored without cost`);
  }

  private noteCost(s: Series, why: string): void {
    const what = s.walk.label.replace(/ usage of /, ' cost of ');
    if (!this.costNotes.has(what)) this.costNotes.set(what, why);
  }

  private walkFor(key: string, label: string): SpanWalk {
    let walk = this.walks.get(key);
    if (!walk) this.walks.set(key, (walk = new SpanWalk(label, this.options.utility.timezone)));
    return walk;
  }

  /** Say once which accounts get quarter-hour reads; with `OPOWER_QUARTER_HOUR=true`, a problem when none can. */
  private checkQuarterHour(meters: readonly Meter[], context: CollectContext): void {
    if (this.quarterHourChecked) return;
    this.quarterHourChecked = true;
    const mode = this.options.quarterHour ?? 'auto';
    if (mode === false) return;
    const able = meters.filter((m) => allowsQuarterHour(m.account.readResolution));
    for (const m of able) context.log.debug(`${this.name}: account ${m.account.uuid.slice(0, 8)} (${m.account.meterType}, readResolution ${resolutionOf(m.account.readResolution)}): quarter-hour reads go to the minute bucket`);
    if (mode === true && able.length === 0) {
      const found = meters.map((m) => `${m.account.meterType} ${resolutionOf(m.account.readResolution)}`).join(', ');
      context.problem(new ConfigError(`${this.name}: OPOWER_QUARTER_HOUR=true, but no account of this ${this.options.utility.name} login has quarter-hour reads: expected readResolution QUARTER_HOUR or FIVE_MINUTE, found ${found}; hourly and daily reads are still collected (set OPOWER_QUARTER_HOUR=auto to silence this)`, 'OPOWER_QUARTER_HOUR'));
    }
  }

  /** Every utility account of the login, page by page (`offset`, `batchSize`, `total`). */
  private async loadMeters(client: OpowerClient, signal: AbortSignal): Promise<Meter[]> {
    if (this.meters) return this.meters;
    const { utility, accountUuid } = this.options;
    const path = `${API}/multi-account-v1/cws/${utility.code}/customers`;
    const batchSize = 100;
    let accounts: UtilityAccount[] = [];
    for (let offset = 0, page = 0; page < 100; page++) {
      const got = parseCustomersPage(await client.getJson(path, { offset: String(offset), batchSize: String(batchSize), addressFilter: '' }, signal), path);
      accounts.push(...got.accounts);
      offset += got.count;
      if (got.count === 0 || got.total === undefined || offset >= got.total) break;
    }
    if (accountUuid !== undefined) {
      const found = accounts.filter((a) => a.uuid === accountUuid);
      if (found.length === 0) throw new ConfigError(`OPOWER_ACCOUNT_UUID names none of the ${accounts.length} account(s) of this ${utility.name} login`, 'OPOWER_ACCOUNT_UUID');
      accounts = found;
    }
    if (accounts.length === 0) throw new SourceDataError(`${path}: this ${utility.name} login has no utility accounts`);
    this.meters = metersFor(accounts, utility);
    return this.meters;
  }

  private series(window: TimeWindow, meters: readonly Meter[], client: OpowerClient, signal: AbortSignal, ctxFor: (timescale: Timescale, location: string, path: string, meter?: Meter) => MapContext): Series[] {
    const { utility } = this.options;
    const tz = utility.timezone;
    const units = this.config.units;
    // Cost and hourly weather take instants with offsets: local midnight, end exclusive.
    const iso = (d: DateTime): string => d.toISO({ suppressMilliseconds: true })!;
    const dates = (span: DateSpan): Record<string, string> => ({ startDate: span.first.toISODate()!, endDate: span.last.toISODate()! });
    const instants = (span: DateSpan): Record<string, string> => ({ startDate: iso(span.first), endDate: iso(span.last.plus({ days: 1 })) });
    const out: Series[] = [];
    for (const meter of meters) {
      const { uuid, meterType, readResolution } = meter.account;
      const headers = selectedEntities(meter.account);
      const short = uuid.slice(0, 8);
      for (const aggregate of aggregatesFor(readResolution, this.options.quarterHour ?? 'auto')) {
        const timescale = TIMESCALE_OF[aggregate];
        const readsPath = `${API}/DataBrowser-v1/cws/utilities/${utility.code}/utilityAccounts/${uuid}/reads`;
        const costPath = `${API}/DataBrowser-v1/cws/cost/utilityAccount/${uuid}`;
        out.push({
          walk: this.walkFor(`usage|${uuid}|${aggregate}`, `${AGGREGATE_WORD[aggregate]} usage of account ${short} (${meterType})`),
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
        walk: this.walkFor(`weather|${kind}`, `${kind} weather`),
        aggregate,
        spans: dateSpans(window, tz, REQUEST_DAYS[aggregate]),
        // The original homeflux asks for hourly weather with local date-times, daily with dates.
        fetch: async (span) => ({ ...weatherRecords(await client.getJson(path, { ...(kind === 'hourly' ? instants(span) : dates(span)), useCelsius: 'false' }, signal, headers), units, ctxFor(TIMESCALE_OF[aggregate], utility.id, path)), stream: `weather|${kind}`, asked: TIMESCALE_OF[aggregate] }),
      });
    }
    return out;
  }

  /**
   * Every account's bills (`aggregateType=bill`, no dates: the portal answers all it keeps),
   * asked once per run from the cost endpoint, then the usage one where cost gives none; a 500
   * means "before the account existed" (tronikos/opower) and is no problem. Each chunk gets
   * the bills that overlap it or ended shortly before, once.
   */
  private async billsFor(meters: readonly Meter[], client: OpowerClient, context: CollectContext, window: TimeWindow, ctxFor: (timescale: Timescale, location: string, path: string, meter?: Meter) => MapContext): Promise<DataRecord[]> {
    this.bills ??= (async () => {
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
        if (bills.length === 0) bills = await ask(`${API}/DataBrowser-v1/cws/utilities/${this.options.utility.code}/utilityAccounts/${uuid}/reads`);
        all.push(...bills);
      }
      return all;
    })();
    const bills = await this.bills;
    const out: DataRecord[] = [];
    for (const bill of bills) {
      const key = `${seriesKey(bill)}|${bill.time}`;
      if (this.billsSent.has(key) || bill.time >= window.end || (bill.fields.end as number) <= window.start - BILL_REACH) continue;
      this.billsSent.add(key);
      out.push(bill);
    }
    return out;
  }

  /** The bill forecast, once per run, when the window reaches the utility's today. Its absence is not an error. */
  private async forecast(meters: readonly Meter[], client: OpowerClient, context: CollectContext, window: TimeWindow, now: number): Promise<DataRecord[]> {
    const { utility } = this.options;
    const today = DateTime.fromSeconds(now, { zone: utility.timezone }).startOf('day').toSeconds();
    if (this.forecastAsked || window.end <= today) return [];
    this.forecastAsked = true;
    const path = `${API}/dsm-graphql-v1/cws/graphql`;
    const out: DataRecord[] = [];
    const customers = [...new Map(meters.map((m) => [m.account.customerUuid, m.account])).values()];
    for (const account of customers) {
      let payload: unknown;
      try {
        payload = await client.postJson(path, { query: BILL_FORECAST_QUERY }, context.signal, selectedEntities(account));
      } catch (error) {
        if (context.signal.aborted) throw error;
        context.log.debug(`${this.name}: no bill forecast (${error instanceof Error ? error.message : String(error)})`);
        continue;
      }
      const place = (a: UtilityAccount): { location: string; tags: Record<string, string> } | undefined => {
        const meter = meters.find((m) => m.account.uuid === a.uuid);
        return meter && { location: meter.location, tags: meter.tags };
      };
      out.push(...forecastRecords(payload, meters.map((m) => m.account), place, { utility: utility.id, timezone: utility.timezone, window, path }));
    }
    if (out.length === 0) context.log.debug(`${this.name}: the portal offers no bill forecast for this login`);
    return out;
  }
}

/**
 * The records of a chunk's answers, each point once. A portal may answer an hourly request
 * with daily reads or a quarter-hour one with hours, and isolating a failing span asks for
 * overlapping tails, so the same point can arrive twice; the first wins (identical values).
 * Trailing zero reads held back are kept only where a later read of the same stream exists:
 * metering had passed them, so they are real zeros.
 *
 * Series keys cost ~1.5 µs a record (a 3-year backfill has ~80,000), so they are computed only
 * where a collision is possible: first-round records of the timescale asked for are disjoint
 * by construction and pass straight through.
 */
export function settleRecords(answers: readonly Mapped[]): DataRecord[] {
  const out: DataRecord[] = [];
  const unsure: DataRecord[] = [];
  for (const a of answers) for (const r of a.records) (a.exact && r.timescale === a.asked ? out : unsure).push(r);
  const key = (r: DataRecord): string => `${r.timescale}|${seriesKey(r)}|${r.time}`;
  const kind = (r: DataRecord): string => `${r.timescale}|${r.measurement}`;
  if (unsure.length > 0) {
    const kinds = new Set(unsure.map(kind));
    const seen = new Set(out.filter((r) => kinds.has(kind(r))).map(key));
    for (const r of unsure) {
      const k = key(r);
      if (!seen.has(k)) {
        seen.add(k);
        out.push(r);
      }
    }
  }
  const held = answers.filter((a) => (a.held ?? []).length > 0);
  if (held.length === 0) return out;
  const latest = new Map<string, number>();
  for (const a of answers) {
    let max = -Infinity;
    for (const r of a.records) if (r.time > max) max = r.time;
    const stream = a.stream ?? '';
    if (max > (latest.get(stream) ?? -Infinity)) latest.set(stream, max);
  }
  const kinds = new Set(held.flatMap((a) => a.held!.map(kind)));
  const seen = new Set(out.filter((r) => kinds.has(kind(r))).map(key));
  for (const a of held) {
    for (const r of a.held!) {
      const k = key(r);
      if (!seen.has(k) && (latest.get(a.stream ?? '') ?? -Infinity) > r.time) {
        seen.add(k);
        out.push(r);
      }
    }
  }
  return out;
}
