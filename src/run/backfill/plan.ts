/**
 * Splitting a backfill range into work units.
 *
 * A unit is what one worker collects, rolls up and writes before it forgets the records, so
 * memory stays flat for any range. Units are whole local periods of the coarsest rollup the
 * agent asks for (usually weeks): a weekly total computed from a unit then covers its whole
 * week, and no rollup period is ever split between two units (which would drop or halve it).
 * Within that rule a unit is as long as one request allows (e.g. 4 weeks for a 31-day limit),
 * so grouping costs no extra requests; when one period is longer than a request (a week with
 * a 1-day limit), the unit is that period and `collectWindow` fetches it in several requests.
 */
import type { AgentLimits } from '../../agents/agent.ts';
import { TIMESCALES, type Timescale } from '../../records.ts';
import { chunkWindow, type LocalRules, periods, type TimeWindow } from '../../window.ts';

/** The coarsest timescale any rollup produces, or undefined without rollups. */
export function coarsestRollup(limits: AgentLimits): Timescale | undefined {
  let best: Timescale | undefined;
  for (const spec of limits.rollups) if (best === undefined || TIMESCALES.indexOf(spec.to) > TIMESCALES.indexOf(best)) best = spec.to;
  return best;
}

/** Work units covering `window` in order, without gaps or overlaps. */
export function planUnits(window: TimeWindow, limits: AgentLimits, rules: LocalRules): TimeWindow[] {
  const timescale = coarsestRollup(limits);
  if (timescale === undefined) return chunkWindow(window, limits.maxWindow, rules);
  const fitsOneRequest = (candidate: TimeWindow): boolean => chunkWindow(candidate, limits.maxWindow, rules).length <= 1;
  const units: TimeWindow[] = [];
  let current: TimeWindow | undefined;
  for (const period of periods(window, timescale, rules)) {
    // computeWindow aligns the range to whole periods; clipping only matters for callers that don't.
    const piece = { start: Math.max(period.start, window.start), end: Math.min(period.end, window.end) };
    if (current && fitsOneRequest({ start: current.start, end: piece.end })) {
      current.end = piece.end;
    } else {
      if (current) units.push(current);
      current = { ...piece };
    }
  }
  if (current) units.push(current);
  return units;
}

/** A unit's identity in the checkpoint file. */
export function unitKey(unit: TimeWindow): string {
  return `${unit.start}-${unit.end}`;
}
