/**
 * Holes in stored series: where a series that should have a point every minute, hour or local
 * day has none. Pure: times in, holes out.
 */
import { DateTime } from 'luxon';
import type { Timescale } from '../records.ts';

/** One hole: [from, to) with `missing` points absent. */
export interface Hole {
  from: number;
  to: number;
  missing: number;
}

/** The next expected point after `t` at `timescale`'s cadence (local days for `day`). */
export function nextExpected(t: number, timescale: Exclude<Timescale, 'week' | 'bill'>, timezone: string): number {
  if (timescale === 'minute') return t + 60;
  if (timescale === 'hour') return t + 3600;
  return DateTime.fromSeconds(t, { zone: timezone }).plus({ days: 1 }).toSeconds();
}

/**
 * Holes of a series whose points are at `times` (sorted), within [start, end): between
 * consecutive points, and from `start` to the first / from the last to `end` when `edges` says
 * those ends are expected to be covered.
 */
export function findHoles(times: readonly number[], options: { timescale: Exclude<Timescale, 'week' | 'bill'>; timezone: string; start: number; end: number; edges: { leading: boolean; trailing: boolean } }): Hole[] {
  const { timescale, timezone, start, end } = options;
  const holes: Hole[] = [];
  const inRange = times.filter((t) => t >= start && t < end);
  const count = (from: number, to: number): number => {
    let n = 0;
    for (let t = from; t < to; t = nextExpected(t, timescale, timezone)) n++;
    return n;
  };
  const add = (from: number, to: number): void => {
    if (to <= from) return;
    const missing = count(from, to);
    if (missing > 0) holes.push({ from, to, missing });
  };
  if (inRange.length === 0) {
    if (options.edges.leading && options.edges.trailing) add(start, end);
    return holes;
  }
  if (options.edges.leading) add(start, inRange[0]!);
  for (let i = 1; i < inRange.length; i++) add(nextExpected(inRange[i - 1]!, timescale, timezone), inRange[i]!);
  if (options.edges.trailing) add(nextExpected(inRange[inRange.length - 1]!, timescale, timezone), end);
  return holes;
}
