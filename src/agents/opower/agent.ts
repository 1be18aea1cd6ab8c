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
import type { TimeWindow } from '../../window.ts';
import { pool } from '../../pool.ts';
import type { Agent, CollectContext } from '../agent.ts';
import { OpowerClient, PortalServerError } from './client.ts';
import { billsFor, type ContextFor, fetchBills, fetchForecast, todayStart } from './extras.ts';
import { dateSpans, loadMeters, type Meter } from './meters.ts';
import type { MapContext, Mapped } from './parse.ts';
import { settleRecords } from './settle.ts';
import { buildSeries, type Series } from './series.ts';
import { allowsQuarterHour, type QuarterHourMode, REQUEST_DAYS, resolutionOf, untilToday } from './resolution.ts';
import { sealedSession } from './session.ts';
import type { Utility } from './utilities.ts';
import { type DateSpan, describeDays, RECENT_DAYS, SpanWalk } from './walk.ts';

/** What the agent needs besides the shared config (see `opower.ts` for the env names). */
export interface OpowerAgentOptions {
  utility: Utility;
  username: string;
  password: string;
  accountUuid?: string;
  baseUrl?: string;
  /** The sealed session file and its key, for sign-ins that keep one between runs. */
  session?: { file: string; key: string };
  /** The utility's own sign-in site, for families that sign in there (`OPOWER_LOGIN_BASE_URL`). */
  loginBaseUrl?: string;
  /** Authenticator secret for sign-ins asking a one-time code (`OPOWER_TOTP_SECRET`). */
  totpSecret?: string;
  /** Requests in flight at most (1 = strictly sequential). */
  concurrency: number;
  /** Quarter-hour reads (`OPOWER_QUARTER_HOUR`); default `auto`: where the account's `readResolution` allows them. */
  quarterHour?: QuarterHourMode;
}

export { REQUEST_DAYS, dateSpans, settleRecords };
export type { DateSpan };
export { metersFor, selectedEntities } from './meters.ts';

/** Largest window handed to one `collect` call (one day request covers it). */
export const MAX_CHUNK_DAYS = REQUEST_DAYS.day;



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
      baseUrl: this.options.baseUrl,
      loginBaseUrl: this.options.loginBaseUrl,
      totpSecret: this.options.totpSecret,
      session: this.options.session && sealedSession(this.options.session.file, this.options.session.key, { dryRun: context.dryRun }),
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

    const series = buildSeries({ utility, window: wanted, meters, client, signal: context.signal, ctxFor, units: this.config.units, quarterHour: this.options.quarterHour ?? 'auto', walkFor: (key, label) => this.walkFor(key, label) });
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
    // Usage and cost jobs of a series share its span objects: a span answered usage when it is in here.
    const usageAnswered = new Set<DateSpan>();
    jobs.forEach((job, i) => {
      const outcome = outcomes[i]!;
      if (job.kind === 'usage') {
        if ('mapped' in outcome) {
          answers.push({ ...outcome.mapped, exact: true });
          if (outcome.mapped.records.length + (outcome.mapped.held ?? []).length > 0) usageAnswered.add(job.span);
        } else failedUsage.set(job.series, [...(failedUsage.get(job.series) ?? []), job.span]);
      }
    });
    const costRetry: { series: Series; span: DateSpan }[] = [];
    jobs.forEach((job, i) => {
      if (job.kind !== 'cost') return;
      const outcome = outcomes[i]!;
      if ('mapped' in outcome) {
        answers.push({ ...outcome.mapped, exact: true });
        if (outcome.mapped.records.length === 0 && (outcome.mapped.held ?? []).length === 0 && usageAnswered.has(job.span)) this.noteCost(job.series, 'answers no cost reads (cost only per bill)');
      } else if (usageAnswered.has(job.span)) this.noteCost(job.series, `answers HTTP 500 on the cost endpoint (${outcome.failed.body})`);
      else costRetry.push({ series: job.series, span: job.span });
    });

    // Second round: isolate the failing days of each series, newest span first, series in parallel.
    const isolated = await pool([...failedUsage.entries()], this.options.concurrency, async ([s, spans]) => {
      const good: DateSpan[] = [];
      let searched = false;
      for (const span of [...spans].sort((a, b) => b.first.toMillis() - a.first.toMillis())) {
        const inHistory = s.walk.inHistory(span, recentFrom);
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
    for (const walk of this.walks.values()) {
      if (walk.pending.size === 0) continue;
      const pending = [...walk.pending].sort();
      const line =
        walk.dataFrom === undefined
          ? `${walk.label}: no reads in the range asked; the portal answered HTTP 500 for every day (${describeDays(pending)}), as it does before an account's data starts`
          : `${walk.label} start at ${walk.dataFrom}: the portal answered HTTP 500 for the ${pending.length} earlier day(s) asked (${pending[0]} … ${pending[pending.length - 1]}), as it does before an account's data starts`;
      log.info(`${this.name}: data starts: ${line}`);
    }
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

  private async loadMeters(client: OpowerClient, signal: AbortSignal): Promise<Meter[]> {
    return (this.meters ??= await loadMeters(client, this.options.utility, this.options.accountUuid, signal));
  }

  /** Each chunk gets the bills (asked once per run) that overlap it or ended shortly before, once. */
  private async billsFor(meters: readonly Meter[], client: OpowerClient, context: CollectContext, window: TimeWindow, ctxFor: ContextFor): Promise<DataRecord[]> {
    this.bills ??= fetchBills(meters, client, context, ctxFor);
    return billsFor(await this.bills, window, this.billsSent);
  }

  /** The bill forecast, once per run, when the window reaches the utility's today. */
  private async forecast(meters: readonly Meter[], client: OpowerClient, context: CollectContext, window: TimeWindow, now: number): Promise<DataRecord[]> {
    if (this.forecastAsked || window.end <= todayStart(now, this.options.utility)) return [];
    this.forecastAsked = true;
    return fetchForecast(meters, client, this.options.utility, context, window);
  }
}
