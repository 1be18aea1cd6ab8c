/**
 * Spans that answer HTTP 500, and where an account's data starts.
 *
 * A span of dates asked before the account's data starts answers 500 (HA issue 99674; the
 * public client stops walking back at the first span without reads), and a portal sometimes
 * answers 500 for one day it cannot serve. Either way one failing day must not cost the days
 * around it. For each series of requests (one account and aggregate, or one weather kind) a
 * {@link SpanWalk} keeps the oldest day that answered and the failing days, and isolates the
 * failing days of a span:
 *
 * 1. binary search for the longest tail of the span that answers (log₂ n requests) — the day
 *    just before it fails;
 * 2. ask for the rest before that day as one span; if it fails too, isolate again — unless no
 *    older day has answered and the days are not recent: then they are taken as before the data
 *    start, "pending", without more requests. A later answer older than a pending day shows it
 *    was not: it is then reported.
 *
 * Failing days with data older than them, or within {@link RECENT_DAYS} of now, are problems
 * (the run exits 1, naming them). Pending days are not: the agent says once where data starts.
 */
import { DateTime } from 'luxon';
import type { Mapped } from './parse.ts';
import { PortalServerError } from './client.ts';

/** A span of local dates, both ends included (how the portal's `startDate/endDate` work). */
export interface DateSpan {
  first: DateTime;
  last: DateTime;
}

/** Failing days this recent (before now) are always problems: no account's data starts there. */
export const RECENT_DAYS = 31;

/** Ask the portal for one span; throws {@link PortalServerError} when it answers 500. */
export type SpanFetch = (span: DateSpan) => Promise<Mapped>;

/** What isolating one failing span gave. */
export interface Isolated {
  /** Answers of the parts that answered. */
  answers: Mapped[];
  /** The parts that answered. */
  good: DateSpan[];
}

const daysOf = (span: DateSpan): DateTime[] => {
  const out: DateTime[] = [];
  for (let d = span.first; d <= span.last; d = d.plus({ days: 1 })) out.push(d);
  return out;
};
const iso = (d: DateTime): string => d.toISODate()!;

/** One series of date-span requests and what is known of its data. */
export class SpanWalk {
  /** Oldest local date (`YYYY-MM-DD`) that answered with reads, over every collect so far. */
  dataFrom: string | undefined;
  /** Days taken as before the data start (not reported as problems). */
  readonly pending = new Set<string>();
  /** Days already reported as problems. */
  private readonly reported = new Set<string>();
  /** Days that failed in the current collect, not yet classified. */
  private fresh = new Set<string>();

  constructor(
    /** Human label, e.g. `hourly usage of account 5f2b1c9e (ELEC)`. */
    readonly label: string,
    private readonly timezone: string,
  ) {}

  /** Note an answer: its oldest record moves {@link dataFrom} back. */
  saw(mapped: Mapped): void {
    let oldest = Infinity;
    for (const r of mapped.records) if (r.time < oldest) oldest = r.time;
    for (const r of mapped.held ?? []) if (r.time < oldest) oldest = r.time;
    if (oldest === Infinity) return;
    const day = DateTime.fromSeconds(oldest, { zone: this.timezone }).toISODate()!;
    if (this.dataFrom === undefined || day < this.dataFrom) this.dataFrom = day;
  }

  private olderDataThan(day: string): boolean {
    return this.dataFrom !== undefined && this.dataFrom < day;
  }

  /** Whether a span lies inside known history (older data answered) or is recent: then its failures are real. */
  inHistory(span: DateSpan, recentFrom: string): boolean {
    return this.olderDataThan(iso(span.first)) || iso(span.last) >= recentFrom;
  }

  /**
   * Isolate the failing days of `span`, which answered 500 as a whole (see the module
   * comment). `recentFrom` is the first local date counted as recent.
   */
  async isolate(span: DateSpan, fetch: SpanFetch, recentFrom: string): Promise<Isolated> {
    const out: Isolated = { answers: [], good: [] };
    const ask = async (part: DateSpan): Promise<boolean> => {
      try {
        const mapped = await fetch(part);
        this.saw(mapped);
        out.answers.push(mapped);
        out.good.push(part);
        return true;
      } catch (error) {
        if (!(error instanceof PortalServerError)) throw error;
        return false;
      }
    };
    for (let rest = span; ; ) {
      const days = daysOf(rest);
      // Invariant: days[lo..] fails as a span, days[hi..] answers (empty when hi = n).
      let lo = 0;
      let hi = days.length;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (await ask({ first: days[mid]!, last: rest.last })) hi = mid;
        else lo = mid;
      }
      this.fresh.add(iso(days[lo]!));
      if (lo === 0) break;
      const before: DateSpan = { first: days[0]!, last: days[lo - 1]! };
      if (await ask(before)) break;
      if (!this.inHistory(before, recentFrom)) {
        this.failedWhole(before);
        break;
      }
      rest = before;
    }
    return out;
  }

  /** Mark every day of a span that failed without being searched (see {@link isolate}). */
  failedWhole(span: DateSpan): void {
    for (const d of daysOf(span)) this.fresh.add(iso(d));
  }

  /**
   * Classify the failing days of this collect (and re-check pending ones against what answered
   * since): returns the days to report as problems now.
   */
  settle(recentFrom: string): string[] {
    const problems: string[] = [];
    for (const day of this.fresh) {
      if (this.olderDataThan(day) || day >= recentFrom) problems.push(day);
      else this.pending.add(day);
    }
    this.fresh = new Set();
    for (const day of [...this.pending]) {
      if (this.olderDataThan(day)) {
        this.pending.delete(day);
        problems.push(day);
      }
    }
    const fresh = problems.filter((d) => !this.reported.has(d)).sort();
    for (const d of fresh) this.reported.add(d);
    return fresh;
  }
}

/** `2025-11-06`, `2025-11-06 … 2025-11-09` and so on: consecutive dates as ranges. */
export function describeDays(days: readonly string[]): string {
  const sorted = [...new Set(days)].sort();
  const ranges: string[] = [];
  let start = sorted[0];
  let prev = sorted[0];
  const next = (d: string): string => DateTime.fromISO(d, { zone: 'UTC' }).plus({ days: 1 }).toISODate()!;
  for (const day of sorted.slice(1).concat([''])) {
    if (day !== '' && prev !== undefined && day === next(prev)) {
      prev = day;
      continue;
    }
    if (start !== undefined) ranges.push(start === prev ? start : `${start} … ${prev}`);
    start = day;
    prev = day;
  }
  return ranges.length > 6 ? `${ranges.slice(0, 3).join(', ')}, … (${ranges.length - 5} more ranges) …, ${ranges.slice(-2).join(', ')}` : ranges.join(', ');
}
