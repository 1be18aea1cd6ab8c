/**
 * The Opower agent: a window → the utility's hourly and daily meter reads, cost and weather.
 *
 * The pipeline hands over chunks of up to 363 local days, one at a time; inside a chunk the
 * requests the portal allows (quarter hour ≤ 6 days, hour ≤ 26 days, day ≤ 363 days) run
 * through a small pool, at most `concurrency` (default 4) in flight — polite to the utility,
 * and several times faster than one request at a time on a backfill. No request reaches past
 * the utility's local today (see `untilToday`).
 */
import { DateTime } from 'luxon';
import { ConfigError, SourceDataError } from '../../errors.ts';
import type { Config } from '../../config.ts';
import type { DataRecord, Timescale } from '../../records.ts';
import type { TimeWindow } from '../../window.ts';
import type { Agent, CollectContext } from '../agent.ts';
import { OpowerClient } from './client.ts';
import { costRecords, type MapContext, type Mapped, parseAccounts, type UtilityAccount, usageRecords, weatherRecords } from './parse.ts';
import { type Aggregate, aggregatesFor, allowsQuarterHour, type QuarterHourMode, REQUEST_DAYS, resolutionOf, TIMESCALE_OF, untilToday } from './resolution.ts';
import { defaultBaseUrl, type Utility } from './utilities.ts';

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

/** Largest window handed to one `collect` call (one day request covers it). */
export const MAX_CHUNK_DAYS = REQUEST_DAYS.day;

const API = '/ei/edge/apis';

/** An account with the location and tags its records get. */
interface Meter {
  account: UtilityAccount;
  location: string;
  tags: Record<string, string>;
}

/** One request of a chunk. */
interface Task {
  path: string;
  query: Record<string, string>;
  map: (payload: unknown, ctx: MapContext) => Mapped;
  timescale: Timescale;
  meter?: Meter;
  location: string;
}

/** A span of local dates, both ends included (how the portal's `startDate/endDate` work). */
interface DateSpan {
  first: DateTime;
  last: DateTime;
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

/** Run `tasks` with at most `limit` in flight; results keep the tasks' order. Stops starting new ones after a failure. */
export async function pool<T, R>(tasks: readonly T[], limit: number, run: (task: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(tasks.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < tasks.length) {
      const index = next++;
      try {
        results[index] = await run(tasks[index]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker));
  if (failure) throw failure.error;
  return results;
}

/** The Opower agent for one utility login. */
export class OpowerAgent implements Agent {
  readonly name: string;
  /** The portal session, created by the first `collect` (it needs the run's logger). */
  client: OpowerClient | undefined;
  private meters: Meter[] | undefined;
  private warned = false;
  private quarterHourChecked = false;

  constructor(
    private readonly options: OpowerAgentOptions,
    private readonly config: Config,
  ) {
    this.name = `opower.${options.utility.id}`;
  }

  async collect(window: TimeWindow, context: CollectContext): Promise<DataRecord[]> {
    const { utility } = this.options;
    // Dates after the utility's today have no reads yet: don't ask for them.
    const wanted = untilToday(window, context.now ?? Math.floor(Date.now() / 1000), utility.timezone);
    if (wanted === undefined) return [];
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
    const tasks = this.tasks(wanted, meters);
    const mapped = await pool(tasks, this.options.concurrency, async (task): Promise<Mapped> => {
      try {
        const payload = await client.getJson(task.path, task.query, context.signal);
        return task.map(payload, { utility: utility.id, timezone: utility.timezone, timescale: task.timescale, location: task.location, tags: task.meter?.tags, window, path: task.path });
      } catch (error) {
        // A bad payload spoils one request, not the chunk: report it and keep the rest.
        if (error instanceof SourceDataError) return { records: [], problems: [error] };
        throw error;
      }
    });
    const records: DataRecord[] = [];
    for (const m of mapped) {
      for (const problem of m.problems) context.problem(problem);
      records.push(...m.records);
    }
    return records;
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

  private async loadMeters(client: OpowerClient, signal: AbortSignal): Promise<Meter[]> {
    if (this.meters) return this.meters;
    const { utility, accountUuid } = this.options;
    const path = `${API}/multi-account-v1/cws/${utility.code}/customers`;
    const payload = await client.getJson(path, { offset: '0', batchSize: '100', addressFilter: '' }, signal);
    let accounts = parseAccounts(payload, path);
    if (accountUuid !== undefined) {
      const found = accounts.filter((a) => a.uuid === accountUuid);
      if (found.length === 0) throw new ConfigError(`OPOWER_ACCOUNT_UUID names none of the ${accounts.length} account(s) of this ${utility.name} login`, 'OPOWER_ACCOUNT_UUID');
      accounts = found;
    }
    if (accounts.length === 0) throw new SourceDataError(`${path}: this ${utility.name} login has no utility accounts`);
    this.meters = metersFor(accounts, utility);
    return this.meters;
  }

  private tasks(window: TimeWindow, meters: readonly Meter[]): Task[] {
    const { utility } = this.options;
    const tz = utility.timezone;
    const units = this.config.units;
    const iso = (d: DateTime): string => d.toISO({ suppressMilliseconds: true })!;
    const dates = (span: DateSpan): Record<string, string> => ({ startDate: span.first.toISODate()!, endDate: span.last.toISODate()! });
    const tasks: Task[] = [];
    const perAggregate = (aggregate: Aggregate, add: (span: DateSpan, timescale: Timescale) => void): void => {
      for (const span of dateSpans(window, tz, REQUEST_DAYS[aggregate])) add(span, TIMESCALE_OF[aggregate]);
    };
    for (const meter of meters) {
      const { uuid, meterType, readResolution } = meter.account;
      for (const aggregate of aggregatesFor(readResolution, this.options.quarterHour ?? 'auto')) {
        perAggregate(aggregate, (span, timescale) => {
          tasks.push({
            path: `${API}/DataBrowser-v1/cws/utilities/${utility.code}/utilityAccounts/${uuid}/reads`,
            query: { aggregateType: aggregate, ...dates(span), includeEnhancedBilling: 'false', includeMultiRateBilling: 'false' },
            map: (payload, ctx) => usageRecords(payload, meterType, ctx),
            timescale,
            meter,
            location: meter.location,
          });
          // Cost stays hourly and daily: quarter-hour cost would add as many requests again for
          // money the hours already carry.
          if (aggregate === 'quarter_hour') return;
          // Cost takes instants with offsets, end exclusive: local midnight after the span.
          tasks.push({
            path: `${API}/DataBrowser-v1/cws/cost/utilityAccount/${uuid}`,
            query: { aggregateType: aggregate, startDate: iso(span.first), endDate: iso(span.last.plus({ days: 1 })) },
            map: (payload, ctx) => costRecords(payload, ctx),
            timescale,
            meter,
            location: meter.location,
          });
        });
      }
    }
    for (const [aggregate, kind] of [['hour', 'hourly'], ['day', 'daily']] as const) {
      perAggregate(aggregate, (span, timescale) => {
        tasks.push({
          path: `${API}/DataBrowser-v1/cws/weather/${kind}`,
          query: { ...dates(span), useCelsius: 'false' },
          map: (payload, ctx) => weatherRecords(payload, units, ctx),
          timescale,
          location: utility.id,
        });
      });
    }
    return tasks;
  }
}
