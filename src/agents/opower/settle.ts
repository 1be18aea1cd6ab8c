import { seriesKey } from '../../lineprotocol.ts';
import type { DataRecord } from '../../records.ts';
import type { Mapped } from './parse.ts';

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
